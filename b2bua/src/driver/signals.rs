//! What a leg's phone did ([`LegSignal`]), turned into the call core's leg events and media
//! changes; and transfers asked by phones (REFER), run as the core's bridge transfer with the
//! progress reported back to the phone in NOTIFYs.

use super::CmdError;
use super::Driver;
use crate::sip::uri_parts;
use crate::ua::LegSignal;
use patchbay_api::{ApiErrorKind, CallId, Event, EventKind, Side, TransferMethod};
use patchbay_proto::{Input, LegEvent, LegId};

// === impl Driver ===

impl Driver {
    pub(super) fn handle_signal(&mut self, leg: LegId, signal: LegSignal) {
        match signal {
            LegSignal::Ringing { .. } => self.feed(leg, LegEvent::Ringing),
            LegSignal::Answered { sdp } => self.on_answered(leg, sdp),
            LegSignal::Failed { status } => {
                self.invite_sent.remove(&leg);
                self.feed(leg, LegEvent::Failed { status });
            }
            LegSignal::Ended => {
                if self.inbound_legs.contains(&leg) || self.calls.leg(leg).is_some() {
                    self.feed(leg, LegEvent::Ended);
                }
            }
            LegSignal::Acked { sdp } => {
                let expected = self.delayed_offer.remove(&leg);
                match sdp {
                    Some(body) if !self.take_ack_answer(leg, &body) => self.end_unusable(leg),
                    None if expected => self.end_unusable(leg),
                    _ => {}
                }
            }
            LegSignal::Offer { sdp } => self.handle_reoffer(leg, sdp),
            LegSignal::OfferAnswered { sdp } => self.take_reinvite_answer(leg, sdp.as_deref()),
            LegSignal::OfferFailed { status } => {
                tracing::info!(?leg, status, "re-INVITE refused by the phone");
            }
            LegSignal::ReferResult { ok, status } => {
                self.feed(leg, LegEvent::ReferResult { ok, status })
            }
            LegSignal::Referred { target, replaces } => self.on_referred(leg, target, replaces),
        }
    }

    fn on_answered(&mut self, leg: LegId, sdp: Option<String>) {
        if let Some(t) = self.invite_sent.remove(&leg) {
            self.sh
                .metrics
                .invite_to_answer
                .observe(t.elapsed().as_secs_f64());
        }
        match self.usable_answer(leg, sdp.as_deref()) {
            Some(desc) => {
                if let Some(m) = self.leg_media.get(&leg) {
                    m.set_remote(desc.rtp);
                    m.set_audio_codecs(&desc.codecs);
                }
                self.leg_codecs.insert(leg, desc.codecs);
                self.feed(leg, LegEvent::Answered);
            }
            None => {
                // ACKed already; end the leg at once and fail it as 488.
                tracing::info!(?leg, "callee answer has no codec we can relay");
                let now = self.mono();
                if self.ua.bye(now, leg) {
                    self.count_sent("BYE");
                }
                self.feed(leg, LegEvent::Failed { status: 488 });
            }
        }
    }

    /// A phone whose answer (in an ACK) we cannot use: hang it up, end its call.
    fn end_unusable(&mut self, leg: LegId) {
        tracing::info!(
            ?leg,
            "the phone's answer in the ACK has no codec we offered"
        );
        let now = self.mono();
        if self.ua.bye(now, leg) {
            self.count_sent("BYE");
        }
        self.feed(leg, LegEvent::Ended);
    }

    pub(super) fn count_sent(&self, method: &str) {
        self.sh
            .metrics
            .sip_requests_sent
            .with_label_values(&[method])
            .inc();
    }

    /// A phone asks to transfer the party it talks to (blind transfer, RFC 3515): the other
    /// side is kept and bridged to the target on answer, this leg is released; NOTIFYs tell
    /// the phone how it went. With `Replaces` (attended transfer) see [`Driver::on_attended`].
    fn on_referred(&mut self, leg: LegId, target: String, replaces: Option<String>) {
        let refuse = |d: &mut Self, status: u16| {
            let now = d.mono();
            d.ua.notify_refer(now, leg, status, true);
        };
        if let Some(r) = replaces {
            return self.on_attended(leg, &r);
        }
        let (Some(call), Some(l)) = (self.calls.call_of(leg).cloned(), self.calls.leg(leg)) else {
            return refuse(self, 481);
        };
        let keep = match l.side {
            Side::A => Side::B,
            Side::B => Side::A,
        };
        let Some(tenant) = self.calls.info(&call).map(|i| i.tenant) else {
            return refuse(self, 481);
        };
        let (user, host) = uri_parts(&target);
        // Only this tenant's own users (as an extension at this PBX): outside URIs go through
        // the same policy as any dial, in the routing work.
        let own = self.sh.auth.realm_tenant(crate::sip::host_only(&host)) == Some(tenant.clone())
            || host.parse::<std::net::SocketAddr>().is_ok()
            || host.parse::<std::net::IpAddr>().is_ok();
        if user.is_empty() || !own {
            self.sh
                .metrics
                .destinations_refused
                .with_label_values(&["sip", "sip_domain"])
                .inc();
            return refuse(self, 403);
        }
        let targets = self.targets(&tenant, &user);
        if targets.is_empty() {
            return refuse(self, 480);
        }
        let input = Input::Transfer {
            call: call.clone(),
            target: user,
            targets,
            keep,
            method: TransferMethod::Bridge,
        };
        match self.calls.handle_input(super::now_ms(), input) {
            Ok(()) => {
                self.referrers.insert(call, leg);
            }
            Err(_) => refuse(self, 491),
        }
    }

    /// Transfer events of calls a phone asked to transfer become NOTIFYs to that phone.
    pub(super) fn on_transfer_event(&mut self, ev: &Event) {
        let Some(&leg) = self.referrers.get(&ev.call) else {
            return;
        };
        let (status, done) = match &ev.kind {
            EventKind::Transferred { .. } => (200, true),
            EventKind::TransferFailed { status, .. } => (*status, true),
            EventKind::Ended { .. } => (487, true),
            _ => return,
        };
        self.referrers.remove(&ev.call);
        let now = self.mono();
        self.ua.notify_refer(now, leg, status, done);
    }

    /// Attended transfer (RFC 5589 7): the phone's REFER on one call names, in Replaces, its
    /// dialog of another call through us; the two far parties are joined (no transcoding:
    /// their codecs must agree, else 488) and the phone's legs are released (the NOTIFY goes
    /// out before their BYEs: the driver's loop sends the core's actions after this).
    fn on_attended(&mut self, leg: LegId, replaces: &str) {
        let status = match self.join_for(leg, replaces) {
            Ok(()) => 200,
            Err(s) => s,
        };
        let now = self.mono();
        self.ua.notify_refer(now, leg, status, true);
    }

    fn join_for(&mut self, leg: LegId, replaces: &str) -> Result<(), u16> {
        let mut parts = replaces.split(';');
        let call_id = parts.next().unwrap_or("").trim();
        let tag = |name: &str| {
            replaces.split(';').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let (Some(to_tag), Some(from_tag)) = (tag("to-tag"), tag("from-tag")) else {
            return Err(400);
        };
        let replaced = self
            .ua
            .leg_by_dialog(call_id, (&to_tag, &from_tag))
            .ok_or(481u16)?;
        self.join_legs(leg, replaced)
    }

    /// The API's attended transfer: the transferor's answered legs by side.
    pub(super) fn join_sides(
        &mut self,
        id: &CallId,
        req: &patchbay_api::JoinRequest,
    ) -> Result<(), CmdError> {
        let missing = |call: &CallId| {
            CmdError::new(
                ApiErrorKind::InvalidState,
                format!("call {call} has no answered party on that side"),
            )
        };
        for c in [id, &req.other] {
            if self.calls.info(c).is_none() {
                return Err(self.cmd_error(c, patchbay_proto::CallError::UnknownCall(c.clone())));
            }
        }
        let leg = self
            .calls
            .answered_leg(id, req.side)
            .ok_or_else(|| missing(id))?;
        let replaced = self
            .calls
            .answered_leg(&req.other, req.other_side)
            .ok_or_else(|| missing(&req.other))?;
        self.join_legs(leg, replaced).map_err(|status| match status {
            488 => CmdError::new(ApiErrorKind::BadRequest, "the parties have no codec in common"),
            _ => CmdError::new(
                ApiErrorKind::InvalidState,
                "the calls cannot be joined (both must be answered, of one tenant, not applications)",
            ),
        })
    }

    /// Bridge the parties `leg` and `replaced` (one transferor's two legs) talk to.
    fn join_legs(&mut self, leg: LegId, replaced: LegId) -> Result<(), u16> {
        let call = self.calls.call_of(leg).cloned().ok_or(481u16)?;
        let other = self.calls.call_of(replaced).cloned().ok_or(481u16)?;
        let (y, z) = (
            self.calls.partner(leg).ok_or(481u16)?,
            self.calls.partner(replaced).ok_or(481u16)?,
        );
        let codec = |d: &Self, l: LegId| {
            d.leg_codecs
                .get(&l)
                .and_then(|c| c.first())
                .map(|c| c.rtpmap.to_ascii_lowercase())
        };
        if codec(self, y) != codec(self, z) {
            return Err(488);
        }
        let input = Input::Join {
            call: call.clone(),
            leg,
            other: other.clone(),
            replaced,
        };
        self.calls
            .handle_input(super::now_ms(), input)
            .map_err(|_| 491u16)?;
        // The far party of the other call is now this call's: its leg moves, and the other
        // call's relay stops before this call's new bridge starts.
        if let Some(legs) = self.call_legs.get_mut(&other) {
            legs.retain(|l| *l != z);
        }
        self.map_leg(&call, z);
        self.bridges.remove(&other);
        Ok(())
    }
}
