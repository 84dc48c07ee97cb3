//! Voicemail's wiring: a message the core reports is indexed in the store (its audio is the
//! recording), then the mailbox's phones are told how many messages wait (SIP NOTIFY,
//! `message-summary`, RFC 3842), each registered phone once.

use super::{Driver, TaskDone};
use patchbay_api::{SipMessageMethod, SipMessageRequest};
use patchbay_proto::VoicemailMessage;

// === impl Driver ===

impl Driver {
    pub(super) fn voicemail_left(&mut self, m: VoicemailMessage) {
        self.sh.metrics.voicemail_messages.inc();
        let (store, tasks) = (self.sh.store.clone(), self.tasks.clone());
        tokio::spawn(async move {
            let row = patchbay_store::VoicemailRow {
                id: m.recording.clone(),
                tenant: m.tenant.clone(),
                mailbox: m.mailbox.clone(),
                folder: "inbox".into(),
                caller: m.from,
                created_ms: m.at_ms,
                duration_ms: m.duration_ms,
                recording: m.recording,
            };
            // One retry, as for CDRs.
            if store.insert_voicemail(&row).await.is_err()
                && let Err(e) = store.insert_voicemail(&row).await
            {
                tracing::warn!(mailbox = %m.mailbox, error = %e, "voicemail not indexed");
                return;
            }
            let waiting = store
                .voicemails(&m.tenant, &m.mailbox, Some("inbox"))
                .await
                .map_or(1, |v| v.len());
            let _ = tasks.send(TaskDone::Mwi {
                tenant: m.tenant,
                mailbox: m.mailbox,
                waiting,
            });
        });
    }

    /// Tell `mailbox`'s registered phones that `waiting` messages wait (none registered: no
    /// one to tell).
    pub(super) fn notify_mwi(&mut self, tenant: String, mailbox: String, waiting: usize) {
        let req = SipMessageRequest {
            tenant,
            to: mailbox.clone(),
            method: SipMessageMethod::Notify,
            content_type: "application/simple-message-summary".into(),
            body: format!(
                "Messages-Waiting: {}\r\nMessage-Account: sip:{mailbox}@{}\r\nVoice-Message: {waiting}/0\r\n",
                if waiting > 0 { "yes" } else { "no" },
                self.sip_host
            ),
            headers: vec![
                ("Event".into(), "message-summary".into()),
                ("Subscription-State".into(), "active".into()),
            ],
        };
        if let Err(e) = self.send_messages(req) {
            tracing::debug!(mailbox, error = %e.message, "no phone told of its voicemail");
        }
    }
}
