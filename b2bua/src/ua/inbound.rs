//! Inbound legs (we are the UAS of the phone's INVITE): accept, ring, answer, reject; the
//! CANCEL and the ACK.

use super::{LegPhase, LegSignal, Role, SipLeg, Ua, UaEvent, sdp_of};
use bytes::Bytes;
use patchbay_proto::LegId;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::dialog::Dialog;
use patchbay_sip::txn::ServerTxId;
use patchbay_sip::{Ms, Peer, msg};

/// Why an inbound INVITE could not become a leg.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AcceptError {
    #[error("the INVITE's transaction has ended")]
    Gone,
    #[error("malformed INVITE: {0}")]
    Malformed(String),
}

impl Ua {
    /// Make the INVITE of `tx` the inbound leg `leg` (nothing is sent yet). A malformed one
    /// is answered 400 here.
    pub(crate) fn accept_inbound(
        &mut self,
        now: Ms,
        tx: ServerTxId,
        leg: LegId,
        req: &Request,
        peer: Peer,
    ) -> Result<(), AcceptError> {
        if !self.txs.is_unanswered(tx) {
            return Err(AcceptError::Gone);
        }
        let tag = self.ids.tag();
        let dialog = match Dialog::from_uas(req, &tag, peer) {
            Ok(d) => d,
            Err(e) => {
                self.respond(now, tx, 400, Vec::new(), None);
                return Err(AcceptError::Malformed(e.to_string()));
            }
        };
        self.dialogs
            .insert((dialog.call_id.clone(), tag.clone()), leg);
        self.server_txs.insert(tx, (leg, Role::Invite));
        let mut l = SipLeg::new(peer, tag);
        l.server_invite = Some(tx);
        l.dialog = Some(dialog);
        l.rel_required = msg::lists(&req.headers, "require", "100rel");
        // RFC 4028: a session interval the phone will refresh (only if it supports timers).
        if msg::lists(&req.headers, "supported", "timer") {
            l.session = super::session_expires(&req.headers).map(|s| s.max(super::MIN_SE));
        }
        self.legs.insert(leg, l);
        Ok(())
    }

    /// A response on an inbound leg's INVITE: our tag, our Contact, and `body` as SDP.
    fn leg_response(
        &mut self,
        now: Ms,
        leg: LegId,
        status: u16,
        headers: Vec<TypedHeader>,
        sdp: Option<String>,
    ) -> bool {
        let Some(l) = self.legs.get(&leg) else {
            return false;
        };
        let Some(tx) = l.server_invite else {
            return false;
        };
        let Some(mut resp) = self.txs.response(tx, status, Some(&l.local_tag)) else {
            return false;
        };
        if status < 300 {
            resp.headers
                .push(self.locals.get(l.peer.transport).contact("patchbay"));
        }
        resp.headers.extend(headers);
        resp.headers.push(self.ua_header());
        if let Some(sdp) = sdp {
            msg::set_body(
                &mut resp.headers,
                &mut resp.body,
                "application/sdp",
                Bytes::from(sdp),
            );
        }
        self.txs.respond(now, tx, resp).is_ok()
    }

    /// 180 Ringing (no SDP) on an inbound leg; reliably (RFC 3262) when the INVITE requires
    /// it, and not again while the last one waits for its PRACK.
    pub(crate) fn ring(&mut self, now: Ms, leg: LegId) -> bool {
        let Some(l) = self.legs.get_mut(&leg) else {
            return false;
        };
        if !l.rel_required {
            return self.leg_response(now, leg, 180, Vec::new(), None);
        }
        let Some(tx) = l.server_invite else {
            return false;
        };
        if self.txs.awaits_prack(tx) {
            return false;
        }
        l.rseq += 1;
        let headers = vec![
            msg::raw("Require", "100rel"),
            msg::raw("RSeq", l.rseq.to_string()),
        ];
        let tag = l.local_tag.clone();
        let contact = self.locals.get(l.peer.transport).contact("patchbay");
        let Some(mut resp) = self.txs.response(tx, 180, Some(&tag)) else {
            return false;
        };
        resp.headers.push(contact);
        resp.headers.extend(headers);
        resp.headers.push(self.ua_header());
        self.txs.respond_reliable(now, tx, resp).is_ok()
    }

    /// A PRACK on an inbound leg: it acknowledges our reliable 180 if its RAck names it.
    pub(super) fn take_prack(&mut self, leg: LegId, req: &Request) -> bool {
        let Some(l) = self.legs.get(&leg) else {
            return false;
        };
        let (Some(tx), Some(rack)) = (l.server_invite, msg::header_text(&req.headers, "rack"))
        else {
            return false;
        };
        let mut parts = rack.split_whitespace();
        let rseq: Option<u32> = parts.next().and_then(|n| n.parse().ok());
        if rseq != Some(l.rseq) || !self.txs.awaits_prack(tx) {
            return false;
        }
        self.txs.provisional_acked(tx);
        true
    }

    /// 200 OK with our SDP on an inbound leg. When the INVITE had no offer, `sdp` is our
    /// offer and the phone's answer comes with the ACK ([`LegSignal::Acked`]).
    pub(crate) fn answer(&mut self, now: Ms, leg: LegId, sdp: String, is_offer: bool) -> bool {
        let mut headers = vec![
            msg::raw("Allow", super::ALLOW),
            msg::raw("Supported", msg::SUPPORTED.join(", ")),
        ];
        let session = self.legs.get(&leg).and_then(|l| l.session);
        if let Some(secs) = session {
            headers.push(msg::raw("Session-Expires", format!("{secs};refresher=uac")));
            headers.push(msg::raw("Require", "timer"));
        }
        let ok = self.leg_response(now, leg, 200, headers, Some(sdp));
        if ok && let Some(l) = self.legs.get_mut(&leg) {
            l.phase = LegPhase::Confirmed;
            l.answer_in_ack = is_offer;
        }
        if ok && let Some(secs) = session {
            self.arm_session(now, leg, secs);
        }
        ok
    }

    /// A final error on an inbound leg not answered yet.
    pub(crate) fn reject(
        &mut self,
        now: Ms,
        leg: LegId,
        status: u16,
        headers: Vec<TypedHeader>,
    ) -> bool {
        let ok = self.leg_response(now, leg, status, headers, None);
        if ok && let Some(l) = self.legs.get_mut(&leg) {
            l.phase = LegPhase::Ended;
        }
        ok
    }

    pub(super) fn on_cancelled(&mut self, now: Ms, invite: ServerTxId) {
        match self.server_txs.get(&invite).copied() {
            Some((leg, Role::Invite)) => {
                if self.reject(now, leg, 487, Vec::new()) {
                    self.signal(leg, LegSignal::Ended);
                }
            }
            Some(_) => {}
            None => {
                // Not a leg yet (authentication in flight): 487 here, the driver forgets it.
                self.respond(now, invite, 487, Vec::new(), None);
                self.events.push_back(UaEvent::InviteCancelled);
            }
        }
    }

    pub(super) fn on_ack(
        &mut self,
        _now: Ms,
        req: Request,
        _peer: Peer,
        _invite: Option<ServerTxId>,
    ) {
        let key = match (msg::call_id(&req.headers), msg::to_tag(&req.headers)) {
            (Some(c), Some(t)) => (c.to_string(), t.to_string()),
            _ => return,
        };
        let Some(&leg) = self.dialogs.get(&key) else {
            return; // an ACK for a dialog we no longer have
        };
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let sdp = if l.answer_in_ack {
            l.answer_in_ack = false;
            sdp_of(&req.headers, &req.body)
        } else {
            None
        };
        self.signal(leg, LegSignal::Acked { sdp });
    }
}
