//! Events out of the driver: each call event counted where it feeds a metric, a callee's
//! `ringing` given the call's CTI pop-up URL, then appended to the event log.

use super::Driver;
use patchbay_api::Event;

impl Driver {
    pub(super) fn publish(&mut self, mut ev: Event) {
        self.on_transfer_event(&ev);
        if let patchbay_api::EventKind::Ringing {
            side: patchbay_api::Side::B,
            popup_url,
            ..
        } = &mut ev.kind
        {
            *popup_url = self.hooked.get(&ev.call).and_then(|h| h.popup_url.clone());
        }
        if let patchbay_api::EventKind::QueueLeft {
            outcome, waited_ms, ..
        } = &ev.kind
        {
            let m = &self.sh.metrics;
            m.queue_outcomes
                .with_label_values(&[outcome.as_str()])
                .inc();
            if outcome == "connected" {
                m.queue_wait.observe(*waited_ms as f64 / 1000.0);
            }
        }
        if let patchbay_api::EventKind::Forwarded { to, reason, .. } = &ev.kind {
            let to = if to == "voicemail" {
                "voicemail"
            } else {
                "user"
            };
            self.sh
                .metrics
                .calls_forwarded
                .with_label_values(&[reason.as_str(), to])
                .inc();
        }
        let info = self.calls.info(&ev.call);
        let journal = super::journal::changes_end(&ev.kind).then(|| (ev.call.clone(), ev.at_ms));
        self.sh.log.push(ev, info);
        if let Some((call, at_ms)) = journal {
            self.journal(&call, at_ms);
        }
    }
}

pub(super) fn cause_label(c: patchbay_api::Cause) -> &'static str {
    use patchbay_api::Cause::*;
    match c {
        Normal => "normal",
        Busy => "busy",
        NoAnswer => "no_answer",
        Rejected => "rejected",
        Cancelled => "cancelled",
        Transferred => "transferred",
        NotFound => "not_found",
        Failed => "failed",
        IncompatibleMedia => "incompatible_media",
        System => "system",
    }
}
