//! Requests inside a leg's dialog, both ways: BYE, re-INVITE / UPDATE (hold, resume, codec
//! change, session refresh), REFER and its NOTIFYs, and the rest answered as RFC 3261 asks.

use super::{LegPhase, LegSignal, Role, Ua, sdp_of};
use bytes::Bytes;
use patchbay_proto::LegId;
use patchbay_sip::core::Method;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::core::types::sip_response::Response;
use patchbay_sip::dialog::{Dialog, DialogError};
use patchbay_sip::txn::{ClientTxId, ServerTxId};
use patchbay_sip::{Ms, Peer, msg};

impl Ua {
    pub(super) fn in_dialog_request(&mut self, now: Ms, tx: ServerTxId, req: Request, peer: Peer) {
        let key = match (msg::call_id(&req.headers), msg::to_tag(&req.headers)) {
            (Some(c), Some(t)) => (c.to_string(), t.to_string()),
            _ => return self.respond(now, tx, 400, Vec::new(), None),
        };
        let Some(&leg) = self.dialogs.get(&key) else {
            return self.respond(now, tx, 481, Vec::new(), None);
        };
        let Some(l) = self.legs.get_mut(&leg) else {
            return self.respond(now, tx, 481, Vec::new(), None);
        };
        if l.phase == LegPhase::Ended && req.method != Method::Bye {
            return self.respond(now, tx, 481, Vec::new(), None);
        }
        if let Some(d) = l.dialog.as_mut() {
            match d.take_request(&req) {
                Ok(()) => {}
                Err(DialogError::CSeqOrder { .. }) => {
                    return self.respond(now, tx, 500, Vec::new(), None);
                }
                Err(_) => return self.respond(now, tx, 400, Vec::new(), None),
            }
            // A phone that moved (NAT rebinding, re-registration) is followed.
            d.peer = peer;
            l.peer = peer;
        }
        match req.method {
            Method::Bye => {
                let was_live = l.phase != LegPhase::Ended;
                let early_invite = l.server_invite.filter(|_| l.phase == LegPhase::Early);
                l.phase = LegPhase::Ended;
                self.respond(now, tx, 200, Vec::new(), None);
                // A BYE in an early dialog: the INVITE gets its 487 too (RFC 3261 15.1.2).
                if let Some(invite) = early_invite
                    && self.txs.is_unanswered(invite)
                {
                    let tag = self.legs.get(&leg).map(|l| l.local_tag.clone());
                    if let Some(resp) = self.txs.response(invite, 487, tag.as_deref()) {
                        let _ = self.txs.respond(now, invite, resp);
                    }
                }
                if was_live {
                    self.signal(leg, LegSignal::Ended);
                }
            }
            Method::Invite | Method::Update => {
                if l.reinvite_out.is_some() && req.method == Method::Invite {
                    // Glare (RFC 3261 14.2): ours is pending.
                    return self.respond(now, tx, 491, Vec::new(), None);
                }
                if l.offer_in.is_some() {
                    let retry = msg::raw("Retry-After", "1");
                    return self.respond(now, tx, 500, vec![retry], None);
                }
                let sdp = sdp_of(&req.headers, &req.body);
                // A session refresh may change the interval (never below our minimum).
                if l.session.is_some()
                    && let Some(se) = super::session_expires(&req.headers)
                {
                    l.session = Some(se.max(super::MIN_SE));
                }
                l.offer_in = Some((tx, req.method.clone(), sdp.is_none()));
                l.txs_server.push(tx);
                self.server_txs.insert(tx, (leg, Role::Reinvite));
                if req.method == Method::Update && sdp.is_none() {
                    // A session refresh without an offer: a bodiless 200 here, nothing changes.
                    self.answer_offer(now, leg, Err(200));
                    return;
                }
                self.signal(leg, LegSignal::Offer { sdp });
            }
            Method::Refer => self.on_refer(now, tx, leg, &req),
            Method::Notify => {
                let refer = msg::header_text(&req.headers, "event")
                    .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("refer"));
                self.respond(now, tx, 200, Vec::new(), None);
                if refer && let Some(status) = sipfrag_status(&req.body) {
                    let refer_out = self.legs.get(&leg).is_some_and(|l| l.refer_out);
                    if status >= 200 && refer_out {
                        if let Some(l) = self.legs.get_mut(&leg) {
                            l.refer_out = false;
                        }
                        let ok = (200..300).contains(&status);
                        self.signal(leg, LegSignal::ReferResult { ok, status });
                    }
                }
            }
            Method::Prack => {
                let status = if self.take_prack(leg, &req) { 200 } else { 481 };
                self.respond(now, tx, status, Vec::new(), None)
            }
            // DTMF by SIP INFO, keep-alives: acknowledged.
            Method::Info | Method::Options | Method::Message => {
                self.respond(now, tx, 200, Vec::new(), None)
            }
            _ => {
                let allow = msg::raw("Allow", super::ALLOW);
                self.respond(now, tx, 501, vec![allow], None)
            }
        }
    }

    fn on_refer(&mut self, now: Ms, tx: ServerTxId, leg: LegId, req: &Request) {
        let Some(refer_to) = msg::header_text(&req.headers, "refer-to")
            .or_else(|| msg::header_text(&req.headers, "r"))
        else {
            return self.respond(now, tx, 400, Vec::new(), None);
        };
        let target = refer_to
            .trim()
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or("")
            .to_string();
        let (uri, headers) = match target.split_once('?') {
            Some((u, h)) => (u.to_string(), Some(h.to_string())),
            None => (target, None),
        };
        let replaces = headers.and_then(|h| {
            h.split('&').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.eq_ignore_ascii_case("replaces")
                    .then(|| percent_decode(v))
            })
        });
        self.respond(now, tx, 202, Vec::new(), None);
        // RFC 3515: the implicit subscription starts with a NOTIFY.
        self.notify_refer(now, leg, 100, false);
        self.signal(
            leg,
            LegSignal::Referred {
                target: uri,
                replaces,
            },
        );
    }

    /// The leg whose dialog is `call_id` with tags `tags` (a Replaces header's: local and
    /// remote, in either order).
    pub(crate) fn leg_by_dialog(&self, call_id: &str, tags: (&str, &str)) -> Option<LegId> {
        [(tags.0, tags.1), (tags.1, tags.0)]
            .into_iter()
            .find_map(|(local, remote)| {
                let leg = *self
                    .dialogs
                    .get(&(call_id.to_string(), local.to_string()))?;
                let d = self.legs.get(&leg)?.dialog.as_ref()?;
                (d.remote_tag == remote).then_some(leg)
            })
    }

    /// Report the progress of a transfer the phone asked for (REFER): a NOTIFY with a
    /// `message/sipfrag` status line; `done` ends the implicit subscription.
    pub(crate) fn notify_refer(&mut self, now: Ms, leg: LegId, status: u16, done: bool) {
        let state = if done {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let frag = format!("SIP/2.0 {status} {}\r\n", msg::reason_for(status));
        let headers = vec![
            msg::raw("Event", "refer"),
            msg::raw("Subscription-State", state),
        ];
        self.dialog_request(
            now,
            leg,
            Method::Notify,
            headers,
            Some(("message/sipfrag;version=2.0", Bytes::from(frag))),
            Role::Other,
        );
    }

    /// Answer the phone's re-INVITE / UPDATE: `Ok(sdp)` with 200 (for an offerless re-INVITE
    /// `sdp` is our offer, and the answer comes with the ACK), `Err(status)` to refuse it (or,
    /// `Err(200)`, to accept a bodiless session refresh).
    pub(crate) fn answer_offer(&mut self, now: Ms, leg: LegId, answer: Result<String, u16>) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let Some((tx, method, offerless)) = l.offer_in.take() else {
            return;
        };
        self.server_txs.remove(&tx);
        let offerless = method == Method::Invite && offerless;
        let tag = l.local_tag.clone();
        let (status, sdp) = match answer {
            Ok(sdp) => (200, Some(sdp)),
            Err(status) => (status, None),
        };
        let Some(mut resp) = self.txs.response(tx, status, Some(&tag)) else {
            return;
        };
        let session = self.legs.get(&leg).and_then(|l| l.session);
        if status < 300 {
            let t = self
                .legs
                .get(&leg)
                .map_or(patchbay_sip::Transport::Udp, |l| l.peer.transport);
            resp.headers.push(self.locals.get(t).contact("patchbay"));
            if let Some(secs) = session {
                // The refresh is answered with the interval, and the session lives on.
                resp.headers
                    .push(msg::raw("Session-Expires", format!("{secs};refresher=uac")));
                resp.headers.push(msg::raw("Require", "timer"));
                self.arm_session(now, leg, secs);
            }
            if method == Method::Invite
                && offerless
                && let Some(l) = self.legs.get_mut(&leg)
            {
                l.answer_in_ack = true;
            }
        }
        resp.headers.push(self.ua_header());
        if let Some(sdp) = sdp {
            msg::set_body(
                &mut resp.headers,
                &mut resp.body,
                "application/sdp",
                Bytes::from(sdp),
            );
        }
        let _ = self.txs.respond(now, tx, resp);
    }

    /// re-INVITE a leg with our SDP (hold, resume, new media address). `false` when one of
    /// ours is still pending or the leg has no dialog.
    pub(crate) fn reinvite(&mut self, now: Ms, leg: LegId, sdp: String) -> bool {
        if self
            .legs
            .get(&leg)
            .is_none_or(|l| l.reinvite_out.is_some() || l.phase != LegPhase::Confirmed)
        {
            return false;
        }
        let body = Some(("application/sdp", Bytes::from(sdp)));
        match self.dialog_request(now, leg, Method::Invite, Vec::new(), body, Role::Reinvite) {
            Some(tx) => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.reinvite_out = Some(tx);
                }
                true
            }
            None => false,
        }
    }

    /// BYE an answered leg.
    pub(crate) fn bye(&mut self, now: Ms, leg: LegId) -> bool {
        let live = self
            .legs
            .get(&leg)
            .is_some_and(|l| l.phase == LegPhase::Confirmed);
        if !live {
            return false;
        }
        let sent = self.dialog_request(now, leg, Method::Bye, Vec::new(), None, Role::Bye);
        if let Some(l) = self.legs.get_mut(&leg) {
            l.phase = LegPhase::Ended;
        }
        sent.is_some()
    }

    /// The dialogs of `legs` that are answered, written down (the live-call journal).
    pub(crate) fn saved_dialogs(&self, legs: &[LegId]) -> Vec<patchbay_sip::dialog::SavedDialog> {
        legs.iter()
            .filter_map(|leg| self.legs.get(leg))
            .filter(|l| l.phase == LegPhase::Confirmed)
            .filter_map(|l| l.dialog.as_ref().map(Dialog::save))
            .collect()
    }

    /// BYE a dialog another run of a node wrote down (the response is not waited for).
    pub(crate) fn bye_saved(&mut self, now: Ms, saved: &patchbay_sip::dialog::SavedDialog) -> bool {
        let Ok(mut d) = Dialog::restore(saved) else {
            return false;
        };
        let branch = self.ids.branch();
        let mut req = d.request(
            Method::Bye,
            self.locals.get(d.peer.transport),
            &branch,
            "patchbay",
        );
        req.headers.push(self.ua_header());
        match self.txs.send_request(now, req, d.peer) {
            Ok(tx) => {
                self.loose_txs.insert(tx, ());
                true
            }
            Err(_) => false,
        }
    }

    /// REFER the leg's phone to `uri` (it calls the target itself).
    pub(crate) fn refer(&mut self, now: Ms, leg: LegId, uri: &str) -> bool {
        let t = self
            .legs
            .get(&leg)
            .map_or(patchbay_sip::Transport::Udp, |l| l.peer.transport);
        let referred_by = format!("<sip:patchbay@{}>", self.locals.get(t).sent_by);
        let headers = vec![
            msg::raw("Refer-To", format!("<{uri}>")),
            msg::raw("Referred-By", referred_by),
        ];
        let sent = self.dialog_request(now, leg, Method::Refer, headers, None, Role::Refer);
        if sent.is_some()
            && let Some(l) = self.legs.get_mut(&leg)
        {
            l.refer_out = true;
        }
        sent.is_some()
    }

    pub(super) fn dialog_request(
        &mut self,
        now: Ms,
        leg: LegId,
        method: Method,
        headers: Vec<TypedHeader>,
        body: Option<(&str, Bytes)>,
        role: Role,
    ) -> Option<ClientTxId> {
        let branch = self.ids.branch();
        let ua = self.ua_header();
        let l = self.legs.get_mut(&leg)?;
        let d = l.dialog.as_mut()?;
        let mut req = d.request(
            method,
            self.locals.get(d.peer.transport),
            &branch,
            "patchbay",
        );
        req.headers.extend(headers);
        req.headers.push(ua);
        if let Some((ctype, data)) = body {
            msg::set_body(&mut req.headers, &mut req.body, ctype, data);
        }
        let peer = d.peer;
        let tx = self.txs.send_request(now, req, peer).ok()?;
        self.client_txs.insert(tx, (leg, role));
        if let Some(l) = self.legs.get_mut(&leg) {
            l.txs_client.push(tx);
        }
        Some(tx)
    }

    pub(super) fn reinvite_response(&mut self, leg: LegId, tx: ClientTxId, resp: Response) {
        let status = resp.status.as_u16();
        if status < 200 {
            return;
        }
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if l.reinvite_out != Some(tx) {
            // The 2xx again (our ACK was lost): the ACK again, nothing else.
            if (200..300).contains(&status)
                && let Some(ack) = l.reinvite_ack.clone()
            {
                let peer = l.peer;
                self.txs.send_raw(peer, ack);
            }
            return;
        }
        l.reinvite_out = None;
        if status >= 300 {
            self.signal(leg, LegSignal::OfferFailed { status });
            return;
        }
        let seq = self
            .txs
            .client_request(tx)
            .and_then(|r| msg::cseq(&r.headers).map(|c| c.0));
        let branch = self.ids.branch();
        if let (Some(d), Some(seq)) = (l.dialog.as_mut(), seq) {
            d.take_refresh_response(&resp);
            let ack = msg::encode_request(&d.ack(self.locals.get(d.peer.transport), &branch, seq));
            let peer = d.peer;
            l.reinvite_ack = Some(ack.clone());
            self.txs.send_raw(peer, ack);
        }
        let sdp = sdp_of(&resp.headers, &resp.body);
        self.signal(leg, LegSignal::OfferAnswered { sdp });
    }
}

/// The status code of a `message/sipfrag` body (`SIP/2.0 200 OK`).
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// `%XX` escapes of a URI header value (Replaces in a Refer-To).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
