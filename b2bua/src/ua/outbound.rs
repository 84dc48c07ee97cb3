//! Outbound legs (we are the UAC): the INVITE, its responses, CANCEL, and 2xx for legs we no
//! longer have.

use super::{LegPhase, LegSignal, Role, SipLeg, Ua, UaEvent, sdp_of};
use bytes::Bytes;
use patchbay_proto::LegId;
use patchbay_sip::core::types::address::Address;
use patchbay_sip::core::types::call_id::CallId;
use patchbay_sip::core::types::cseq::CSeq;
use patchbay_sip::core::types::from::From;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::max_forwards::MaxForwards;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::core::types::sip_response::Response;
use patchbay_sip::core::types::to::To;
use patchbay_sip::core::{Method, Uri};
use patchbay_sip::dialog::Dialog;
use patchbay_sip::txn::ClientTxId;
use patchbay_sip::{Ms, Peer, msg};
use rvoip_auth_core::sip_digest::{DigestAuthenticator, DigestClient};

/// An outbound INVITE.
#[derive(Debug, Clone)]
pub(crate) struct InviteSpec {
    /// Request-URI (a registered contact, or an outside URI).
    pub(crate) ruri: Uri,
    /// Where to send it.
    pub(crate) peer: Peer,
    /// Our From: `sip:{from_user}@{our address}`, with a display name.
    pub(crate) from_user: String,
    pub(crate) from_display: Option<String>,
    /// The To URI (the party called); the Request-URI when `None`.
    pub(crate) to: Option<Uri>,
    /// Extra headers (checked by the caller).
    pub(crate) headers: Vec<TypedHeader>,
    /// Our offer; `None` sends an offerless INVITE (the answer goes in our ACK).
    pub(crate) sdp: Option<String>,
    /// Digest credentials (user, password) answering a 401/407 once (a carrier trunk).
    pub(crate) credentials: Option<(String, String)>,
}

/// A request outside any dialog: new Call-ID, From tag and branch.
pub(super) fn new_request(
    ua: &mut Ua,
    method: Method,
    ruri: Uri,
    transport: patchbay_sip::Transport,
    from_user: &str,
    from_display: Option<&str>,
    to: Option<Uri>,
) -> Request {
    let mut req = Request::new(method.clone(), ruri.clone());
    let branch = ua.ids.branch();
    let local = ua.locals.get(transport).clone();
    req.headers.push(local.via(&branch));
    req.headers
        .push(TypedHeader::MaxForwards(MaxForwards::new(70)));
    let text = format!("sip:{from_user}@{}", local.sent_by);
    let from_uri: Uri = text
        .parse()
        .map(|u| keep_user_as_written(u, &text))
        .unwrap_or_else(|_| ruri.clone());
    let mut from = match from_display.filter(|d| !d.is_empty()) {
        Some(d) => Address::new_with_display_name(d, from_uri),
        None => Address::new(from_uri),
    };
    from.set_tag(ua.ids.tag());
    req.headers.push(TypedHeader::From(From(from)));
    let mut to_uri = to.unwrap_or(ruri);
    to_uri.parameters.clear();
    req.headers.push(TypedHeader::To(To(Address::new(to_uri))));
    req.headers
        .push(TypedHeader::CallId(CallId::new(ua.ids.call_id())));
    req.headers
        .push(TypedHeader::CSeq(CSeq::new(1, method.clone())));
    if matches!(
        method,
        Method::Invite | Method::Subscribe | Method::Refer | Method::Register
    ) {
        req.headers.push(local.contact(from_user));
    }
    req.headers.push(ua.ua_header());
    req
}

/// `uri` (parsed from `text`) rendered as written when its user holds a `+`: rvoip-sip-core
/// percent-escapes every user character outside RFC 3986's unreserved set, and `+` is one
/// RFC 3261's `user-unreserved` allows (E.164 numbers: `sip:+66812345678@...`, not
/// `sip:%2B66812345678@...`).
pub(crate) fn keep_user_as_written(mut uri: Uri, text: &str) -> Uri {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c);
    if uri
        .user
        .as_deref()
        .is_some_and(|u| u.contains('+') && u.chars().all(plain))
    {
        uri.raw_uri = Some(text.to_string());
    }
    uri
}

impl Ua {
    /// Send the INVITE of outbound leg `leg`. `false` if it could not be sent.
    pub(crate) fn invite(&mut self, now: Ms, leg: LegId, spec: InviteSpec) -> bool {
        let mut req = new_request(
            self,
            Method::Invite,
            spec.ruri,
            spec.peer.transport,
            &spec.from_user,
            spec.from_display.as_deref(),
            spec.to,
        );
        req.headers.push(msg::raw("Allow", super::ALLOW));
        req.headers.extend(spec.headers);
        if let Some(sdp) = spec.sdp {
            msg::set_body(
                &mut req.headers,
                &mut req.body,
                "application/sdp",
                Bytes::from(sdp),
            );
        }
        let local_tag = msg::from_tag(&req.headers).unwrap_or("").to_string();
        let Ok(tx) = self.txs.send_request(now, req, spec.peer) else {
            return false;
        };
        self.client_txs.insert(tx, (leg, Role::Invite));
        let mut l = SipLeg::new(spec.peer, local_tag);
        l.client_invite = Some(tx);
        l.credentials = spec.credentials;
        self.legs.insert(leg, l);
        true
    }

    /// CANCEL an outbound leg's INVITE (sent once a provisional came).
    pub(crate) fn cancel(&mut self, now: Ms, leg: LegId) {
        if let Some(tx) = self.legs.get(&leg).and_then(|l| l.client_invite) {
            let _ = self.txs.cancel(now, tx);
        }
    }

    /// The ACK for a 2xx that carried an offer (our INVITE had none): `sdp` is our answer.
    pub(crate) fn ack_with_answer(&mut self, leg: LegId, sdp: Option<String>) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let (Some(d), Some(tx)) = (l.dialog.as_ref(), l.client_invite) else {
            return;
        };
        let seq = self
            .txs
            .client_request(tx)
            .and_then(|r| msg::cseq(&r.headers).map(|c| c.0))
            .unwrap_or(d.local_seq);
        let branch = self.ids.branch();
        let mut ack = d.ack(self.locals.get(d.peer.transport), &branch, seq);
        if let Some(sdp) = sdp {
            msg::set_body(
                &mut ack.headers,
                &mut ack.body,
                "application/sdp",
                Bytes::from(sdp),
            );
        }
        let bytes = msg::encode_request(&ack);
        l.ack = Some(bytes.clone());
        let peer = l.peer;
        self.txs.send_raw(peer, bytes);
    }

    pub(super) fn on_response(&mut self, now: Ms, tx: ClientTxId, resp: Response) {
        let status = resp.status.as_u16();
        if let Some(&i) = self.reg_txs.get(&tx) {
            if status >= 200 {
                self.reg_txs.remove(&tx);
                self.reg_response(now, i, Some(&resp));
            }
            return;
        }
        if self.loose_txs.contains_key(&tx) {
            if status >= 200 {
                self.loose_txs.remove(&tx);
                self.events
                    .push_back(UaEvent::OutOfDialogResult { tx, status });
            }
            return;
        }
        let Some(&(leg, role)) = self.client_txs.get(&tx) else {
            // (CANCELs and BYEs of released legs end here too: only an INVITE's 2xx needs us.)
            let invite = matches!(msg::cseq(&resp.headers), Some((_, Method::Invite)));
            if invite && (200..300).contains(&status) {
                self.ack_and_bye(now, tx, &resp);
            }
            return;
        };
        // (INVITE and re-INVITE entries stay: a retransmitted 2xx is ACKed again. They go
        // with the leg.)
        if status >= 200 && !matches!(role, Role::Invite | Role::Reinvite) {
            self.client_txs.remove(&tx);
        }
        match role {
            Role::Invite => self.invite_response(now, tx, leg, resp),
            Role::Reinvite => self.reinvite_response(leg, tx, resp),
            Role::Refer if status >= 300 => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.refer_out = false;
                }
                self.signal(leg, LegSignal::ReferResult { ok: false, status });
            }
            Role::Refer | Role::Bye | Role::Other => {}
        }
    }

    fn invite_response(&mut self, now: Ms, tx: ClientTxId, leg: LegId, resp: Response) {
        let status = resp.status.as_u16();
        let Some(l) = self.legs.get_mut(&leg) else {
            if (200..300).contains(&status) {
                self.ack_and_bye(now, tx, &resp);
            }
            return;
        };
        match status {
            100 => {}
            101..=199 => {
                let rseq =
                    msg::header_text(&resp.headers, "rseq").and_then(|v| v.trim().parse().ok());
                if let Some(rseq) = rseq
                    && msg::lists(&resp.headers, "require", "100rel")
                {
                    self.prack(now, tx, leg, &resp, rseq);
                }
                if matches!(status, 180 | 183) {
                    self.signal(leg, LegSignal::Ringing { status });
                }
            }
            200..=299 => {
                if let Some(ack) = l.ack.clone() {
                    // Retransmitted 2xx (our ACK was lost), or a second fork's answer.
                    let same = l
                        .dialog
                        .as_ref()
                        .is_some_and(|d| Some(d.remote_tag.as_str()) == msg::to_tag(&resp.headers));
                    if same {
                        let peer = l.peer;
                        self.txs.send_raw(peer, ack);
                    } else {
                        self.ack_and_bye(now, tx, &resp);
                    }
                    return;
                }
                if l.phase == LegPhase::Confirmed {
                    return; // a 2xx with an offer whose answer the driver has not given yet
                }
                let Some(req) = self.txs.client_request(tx) else {
                    return;
                };
                let offerless = req.body.is_empty();
                // The early dialog of a PRACKed provisional carries on (its CSeq counts).
                let early = l
                    .dialog
                    .take()
                    .filter(|d| Some(d.remote_tag.as_str()) == msg::to_tag(&resp.headers));
                let dialog = match early {
                    Some(mut d) => {
                        d.confirm_uac(&resp);
                        d
                    }
                    None => match Dialog::from_uac(req, &resp, l.peer) {
                        Ok(d) => d,
                        Err(_) => {
                            // No To tag: nothing to ACK into; treat as a failure.
                            l.phase = LegPhase::Ended;
                            self.signal(leg, LegSignal::Failed { status: 502 });
                            return;
                        }
                    },
                };
                self.dialogs
                    .insert((dialog.call_id.clone(), dialog.local_tag.clone()), leg);
                l.dialog = Some(dialog);
                l.phase = LegPhase::Confirmed;
                let sdp = sdp_of(&resp.headers, &resp.body);
                if !offerless {
                    self.ack_with_answer(leg, None);
                }
                self.signal(leg, LegSignal::Answered { sdp });
            }
            401 | 407 if l.credentials.is_some() && !l.auth_answered => {
                self.client_txs.remove(&tx);
                if !self.invite_with_credentials(now, tx, leg, &resp) {
                    self.outbound_failed(leg, status);
                }
            }
            _ => {
                self.client_txs.remove(&tx);
                l.phase = LegPhase::Ended;
                self.outbound_failed(leg, status);
            }
        }
    }

    /// Answer the Digest challenge of our INVITE (once): the same request with a new branch,
    /// the next CSeq and `Authorization` / `Proxy-Authorization` (RFC 3261 22.2).
    fn invite_with_credentials(
        &mut self,
        now: Ms,
        tx: ClientTxId,
        leg: LegId,
        resp: &Response,
    ) -> bool {
        let proxy = resp.status.as_u16() == 407;
        let name = if proxy {
            "proxy-authenticate"
        } else {
            "www-authenticate"
        };
        let Some(challenge) = msg::header_text(&resp.headers, name)
            .and_then(|h| DigestAuthenticator::parse_challenge_details(&h).ok())
        else {
            return false;
        };
        let (Some(req), Some(l)) = (self.txs.client_request(tx), self.legs.get(&leg)) else {
            return false;
        };
        let Some((user, password)) = l.credentials.clone() else {
            return false;
        };
        let peer = l.peer;
        let mut req = req.clone();
        let uri = req.uri.to_string();
        let Ok(c) = DigestClient::compute_response_with_state(
            &user,
            &password,
            &challenge.challenge,
            "INVITE",
            &uri,
            1,
            None,
        ) else {
            return false;
        };
        let value =
            DigestClient::format_authorization_with_state(&user, &challenge.challenge, &uri, &c);
        let via = self.locals.get(peer.transport).via(&self.ids.branch());
        for h in req.headers.iter_mut() {
            match h {
                TypedHeader::Via(_) => *h = via.clone(),
                TypedHeader::CSeq(c) => *c = CSeq::new(c.seq + 1, Method::Invite),
                _ => {}
            }
        }
        req.headers.push(msg::raw(
            if proxy {
                "Proxy-Authorization"
            } else {
                "Authorization"
            },
            value,
        ));
        let Ok(new) = self.txs.send_request(now, req, peer) else {
            return false;
        };
        self.client_txs.insert(new, (leg, Role::Invite));
        if let Some(l) = self.legs.get_mut(&leg) {
            l.client_invite = Some(new);
            l.auth_answered = true;
        }
        true
    }

    /// PRACK a reliable provisional (RFC 3262 4), once per RSeq, in its early dialog.
    fn prack(&mut self, now: Ms, tx: ClientTxId, leg: LegId, resp: &Response, rseq: u32) {
        let Some(req) = self.txs.client_request(tx) else {
            return;
        };
        let Some(invite_seq) = msg::cseq(&req.headers).map(|c| c.0) else {
            return;
        };
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if l.rseq_in.is_some_and(|last| rseq <= last) {
            return; // a retransmission: our PRACK's answer will stop it
        }
        if l.dialog.is_none() {
            match Dialog::from_uac(req, resp, l.peer) {
                Ok(d) => {
                    self.dialogs
                        .insert((d.call_id.clone(), d.local_tag.clone()), leg);
                    l.dialog = Some(d);
                }
                Err(_) => return,
            }
        }
        l.rseq_in = Some(rseq);
        let rack = msg::raw("RAck", format!("{rseq} {invite_seq} INVITE"));
        self.dialog_request(now, leg, Method::Prack, vec![rack], None, Role::Other);
    }

    pub(super) fn outbound_failed(&mut self, leg: LegId, status: u16) {
        if let Some(l) = self.legs.get_mut(&leg) {
            l.phase = LegPhase::Ended;
        }
        self.signal(leg, LegSignal::Failed { status });
    }

    /// A 2xx for a leg we no longer want: ACK it and end that dialog.
    fn ack_and_bye(&mut self, now: Ms, tx: ClientTxId, resp: &Response) {
        let Some(req) = self.txs.client_request(tx) else {
            return;
        };
        let peer = match self.client_txs.get(&tx).and_then(|(l, _)| self.legs.get(l)) {
            Some(l) => l.peer,
            None => match self.stray_peer(tx) {
                Some(p) => p,
                None => return,
            },
        };
        let Ok(mut d) = Dialog::from_uac(req, resp, peer) else {
            return;
        };
        let seq = msg::cseq(&req.headers).map(|c| c.0).unwrap_or(1);
        let branch = self.ids.branch();
        let ack = d.ack(self.locals.get(peer.transport), &branch, seq);
        self.txs.send_raw(peer, msg::encode_request(&ack));
        let branch = self.ids.branch();
        let mut bye = d.request(
            Method::Bye,
            self.locals.get(peer.transport),
            &branch,
            "patchbay",
        );
        bye.headers.push(self.ua_header());
        let _ = self.txs.send_request(now, bye, peer);
    }

    fn stray_peer(&self, tx: ClientTxId) -> Option<Peer> {
        self.txs.client_peer(tx)
    }

    /// A 2xx matching no transaction (ours ended): nothing to ACK it with safely but its own
    /// fields; ignored. (RFC 6026 keeps our INVITE transactions for 32 s after a 2xx, so
    /// retransmissions find them.)
    pub(super) fn on_stray(&mut self, _now: Ms, _resp: Response, _peer: Peer) {}
}
