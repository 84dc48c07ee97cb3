//! The user agent of the B2BUA, sans-IO: it owns the node's SIP transactions
//! ([`patchbay_sip::txn`]) and one dialog per call leg, turns what phones send into
//! [`UaEvent`]s for the driver, and what the call core decides (ring, answer, cancel, BYE,
//! re-INVITE, REFER) into SIP. No sockets, no clock, no store: the driver feeds it parsed
//! messages and the time, and sends its transmits.
//!
//! SDP is opaque here (a body with `application/sdp`): the driver's media wiring chooses
//! codecs and addresses.
//!
//! Where RFC 3261 gives the user agent core a duty, it is done here, not left to the driver:
//! 2xx ACKs (and again for each retransmitted 2xx), 481 for requests in no dialog, 500 for
//! CSeq out of order, 491 for a re-INVITE while one of ours is pending, 487 for a cancelled
//! INVITE, ACK + BYE for a 2xx that arrives for a leg we no longer have.

mod inbound;
mod indialog;
mod outbound;
mod register;

use bytes::Bytes;
use patchbay_proto::LegId;
use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::types::sip_request::Request;
use patchbay_sip::core::{Message, Method};
use patchbay_sip::dialog::{Dialog, Local};
use patchbay_sip::txn::{ClientTxId, ServerTxId, Transactions, TxEvent};
use patchbay_sip::{Ms, Peer, Timers, Transmit, msg};
use std::collections::{HashMap, VecDeque};

pub(crate) use outbound::{InviteSpec, keep_user_as_written};
pub(crate) use register::{RegState, RegistrationSpec};

/// What the driver must act on.
#[derive(Debug)]
pub(crate) enum UaEvent {
    /// A new INVITE outside any dialog: authenticate it, then [`Ua::accept_inbound`] or
    /// [`Ua::respond`] with an error.
    Invite {
        tx: ServerTxId,
        req: Request,
        peer: Peer,
    },
    /// A REGISTER: answer with [`Ua::respond`].
    Register {
        tx: ServerTxId,
        req: Request,
        peer: Peer,
    },
    /// Another request outside any dialog (MESSAGE, NOTIFY, SUBSCRIBE, INFO...); OPTIONS is
    /// answered here.
    Request { tx: ServerTxId, req: Request },
    /// An INVITE not yet accepted was cancelled (its 487 is sent): its authentication result
    /// will find the transaction answered.
    InviteCancelled,
    /// Something happened on a leg.
    Leg { leg: LegId, signal: LegSignal },
    /// A request we sent outside any dialog (MESSAGE, NOTIFY, REGISTER) got its final answer
    /// (`status` 408 on timeout).
    OutOfDialogResult { tx: ClientTxId, status: u16 },
}

/// What a leg's phone did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LegSignal {
    /// 180/183 on an outbound leg.
    Ringing { status: u16 },
    /// 2xx on an outbound leg (ACKed already, unless it carried an offer: see
    /// [`Ua::ack_with_answer`]); `sdp` is its body.
    Answered { sdp: Option<String> },
    /// Final non-2xx on an outbound leg, or no answer at all (408).
    Failed { status: u16 },
    /// The phone hung up (BYE, CANCEL of an inbound leg), or never acknowledged our 2xx.
    Ended,
    /// The ACK of an inbound leg's 2xx; `sdp` when we made the offer in the 2xx.
    Acked { sdp: Option<String> },
    /// A re-INVITE or UPDATE from the phone: answer with [`Ua::answer_offer`]. `sdp` is
    /// `None` for an offerless re-INVITE (we offer in the 2xx, the answer comes with the ACK).
    Offer { sdp: Option<String> },
    /// The 2xx to our re-INVITE (`sdp`: the phone's answer).
    OfferAnswered { sdp: Option<String> },
    /// Our re-INVITE failed (491, 488 ... or timeout).
    OfferFailed { status: u16 },
    /// The progress of a REFER we sent (the NOTIFY's sipfrag, or the REFER's own failure).
    ReferResult { ok: bool, status: u16 },
    /// The phone asks us to transfer (REFER; answered 202). `replaces` for attended transfer.
    Referred {
        target: String,
        replaces: Option<String>,
    },
}

/// Which request of a leg a transaction carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Invite,
    Reinvite,
    Bye,
    Refer,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegPhase {
    /// Inbound: INVITE received, no final response. Outbound: INVITE sent, no 2xx.
    Early,
    /// 2xx sent (inbound, waiting for or past the ACK) or received (outbound).
    Confirmed,
    /// BYE sent or received, or failed: in-dialog requests get 481.
    Ended,
}

#[derive(Debug)]
struct SipLeg {
    phase: LegPhase,
    /// The initial INVITE's transaction (server for inbound legs, client for outbound).
    server_invite: Option<ServerTxId>,
    client_invite: Option<ClientTxId>,
    /// Inbound: made at accept with our tag. Outbound: from the first 1xx/2xx with a tag.
    dialog: Option<Dialog>,
    local_tag: String,
    peer: Peer,
    /// Outbound: our ACK for the 2xx, sent again for each retransmission of it.
    ack: Option<Bytes>,
    /// Inbound: the 2xx carried our offer (offerless INVITE or re-INVITE): the ACK has the
    /// answer.
    answer_in_ack: bool,
    /// A re-INVITE / UPDATE of the phone being answered.
    /// (transaction, INVITE or UPDATE, offerless).
    offer_in: Option<(ServerTxId, Method, bool)>,
    /// Our re-INVITE in flight.
    reinvite_out: Option<ClientTxId>,
    /// Our REFER in flight or awaiting NOTIFYs.
    refer_out: bool,
    /// Inbound: the INVITE requires reliable provisionals (RFC 3262); the last RSeq sent.
    rel_required: bool,
    rseq: u32,
    /// Outbound: the last RSeq we PRACKed.
    rseq_in: Option<u32>,
    /// Inbound: the session interval agreed (RFC 4028, the phone refreshes), and when the
    /// session expires without a refresh.
    session: Option<u32>,
    session_deadline: Option<Ms>,
    /// Transactions of the leg besides its INVITE (dropped from the maps on release).
    txs_client: Vec<ClientTxId>,
    txs_server: Vec<ServerTxId>,
    /// Our ACK to the 2xx of our last re-INVITE, sent again for each retransmission of it.
    reinvite_ack: Option<Bytes>,
    /// Outbound to a carrier: Digest credentials, and whether a challenge was answered.
    credentials: Option<(String, String)>,
    auth_answered: bool,
}

impl SipLeg {
    fn new(peer: Peer, local_tag: String) -> Self {
        Self {
            phase: LegPhase::Early,
            server_invite: None,
            client_invite: None,
            dialog: None,
            local_tag,
            peer,
            ack: None,
            answer_in_ack: false,
            offer_in: None,
            reinvite_out: None,
            refer_out: false,
            rel_required: false,
            rseq: 0,
            rseq_in: None,
            session: None,
            session_deadline: None,
            txs_client: Vec::new(),
            txs_server: Vec::new(),
            reinvite_ack: None,
            credentials: None,
            auth_answered: false,
        }
    }
}

/// The smallest session interval we take (RFC 4028 Min-SE default).
pub(crate) const MIN_SE: u32 = 90;

/// `Session-Expires` (or `x`) of a message: its delta-seconds.
fn session_expires(headers: &[TypedHeader]) -> Option<u32> {
    msg::header_text(headers, "session-expires")
        .or_else(|| msg::header_text(headers, "x"))
        .and_then(|v| v.split(';').next().and_then(|n| n.trim().parse().ok()))
}

/// Our Via and Contact for each transport we listen on.
#[derive(Debug, Clone)]
pub(crate) struct Locals {
    pub(crate) udp: Local,
    pub(crate) tcp: Option<Local>,
    pub(crate) tls: Option<Local>,
}

impl Locals {
    pub(crate) fn get(&self, t: patchbay_sip::Transport) -> &Local {
        use patchbay_sip::Transport as T;
        match t {
            T::Udp => &self.udp,
            T::Tcp => self.tcp.as_ref().unwrap_or(&self.udp),
            T::Tls => self.tls.as_ref().unwrap_or(&self.udp),
        }
    }
}

/// Tags, branches and Call-IDs: unique per node run (seed) and per message (counter).
#[derive(Debug)]
struct Ids {
    seed: u64,
    next: u64,
    host: String,
}

impl Ids {
    fn next(&mut self) -> u64 {
        self.next += 1;
        // Spread the counter so ids do not look sequential on the wire.
        self.seed ^ self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn tag(&mut self) -> String {
        format!("{:x}", self.next())
    }
    fn branch(&mut self) -> String {
        format!("{}{:x}", msg::MAGIC_COOKIE, self.next())
    }
    fn call_id(&mut self) -> String {
        format!("{:x}@{}", self.next(), self.host)
    }
}

/// The user agent. See the module docs.
#[derive(Debug)]
pub(crate) struct Ua {
    txs: Transactions,
    locals: Locals,
    ids: Ids,
    user_agent: String,
    legs: HashMap<LegId, SipLeg>,
    /// (Call-ID, our tag) -> leg.
    dialogs: HashMap<(String, String), LegId>,
    server_txs: HashMap<ServerTxId, (LegId, Role)>,
    client_txs: HashMap<ClientTxId, (LegId, Role)>,
    /// Requests we sent outside any dialog.
    loose_txs: HashMap<ClientTxId, ()>,
    /// Session-timer deadlines (stale entries are dropped when due).
    sessions: std::collections::BTreeSet<(Ms, LegId)>,
    /// Registrations we keep up at registrars (trunks), and their REGISTERs in flight.
    regs: Vec<register::ClientReg>,
    reg_txs: HashMap<ClientTxId, usize>,
    events: VecDeque<UaEvent>,
}

// === impl Ua ===

impl Ua {
    /// `seed` makes this run's tags and Call-IDs differ from any other run's.
    pub(crate) fn new(
        now: Ms,
        locals: Locals,
        seed: u64,
        user_agent: &str,
        timers: Timers,
    ) -> Self {
        let host = locals.udp.sent_by.clone();
        Self {
            txs: Transactions::new(now, timers),
            locals,
            ids: Ids {
                seed,
                next: 0,
                host,
            },
            user_agent: user_agent.to_string(),
            legs: HashMap::new(),
            dialogs: HashMap::new(),
            server_txs: HashMap::new(),
            client_txs: HashMap::new(),
            loose_txs: HashMap::new(),
            sessions: std::collections::BTreeSet::new(),
            regs: Vec::new(),
            reg_txs: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    pub(crate) fn poll_event(&mut self) -> Option<UaEvent> {
        self.events.pop_front()
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        self.txs.poll_transmit()
    }

    pub(crate) fn poll_timeout(&self) -> Option<Ms> {
        let session = self.sessions.first().map(|(t, _)| *t);
        [self.txs.poll_timeout(), session, self.reg_next()]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn handle_timeout(&mut self, now: Ms) {
        self.txs.handle_timeout(now);
        self.pump(now);
        self.reg_timers(now);
        while let Some(&(due, leg)) = self.sessions.first() {
            if due > now {
                break;
            }
            self.sessions.pop_first();
            let expired = self
                .legs
                .get(&leg)
                .is_some_and(|l| l.session_deadline == Some(due) && l.phase == LegPhase::Confirmed);
            if expired {
                // No refresh within the session interval (RFC 4028 10): the session is gone.
                self.bye(now, leg);
                self.signal(leg, LegSignal::Ended);
            }
        }
    }

    /// (Re)start a leg's session timer after a 2xx that agreed on `secs`.
    fn arm_session(&mut self, now: Ms, leg: LegId, secs: u32) {
        if let Some(l) = self.legs.get_mut(&leg) {
            let due = now + u64::from(secs) * 1000;
            l.session = Some(secs);
            l.session_deadline = Some(due);
            self.sessions.insert((due, leg));
        }
    }

    /// Legs and live transactions (client, server), for gauges.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let (c, s) = self.txs.len();
        (self.legs.len(), c, s)
    }

    /// Whether a server transaction still waits for its final response.
    pub(crate) fn is_unanswered(&self, tx: ServerTxId) -> bool {
        self.txs.is_unanswered(tx)
    }

    pub(crate) fn tx_stats(&self) -> patchbay_sip::txn::TxStats {
        self.txs.stats()
    }

    /// Feed one received message. A request that fails RFC 3261's basic checks is refused
    /// (400, 416) without any transaction state; an ACK like that is dropped.
    pub(crate) fn handle_message(&mut self, now: Ms, msg: Message, peer: Peer) {
        if let Message::Request(req) = &msg {
            if let Err(why) = msg::validate_request(req) {
                if req.method != Method::Ack {
                    let headers = why.headers(req);
                    self.respond_stateless(req, peer, why.status(), headers);
                }
                return;
            }
            // A request in no dialog of ours (and no retransmission of one we answered), or a
            // CANCEL matching nothing: 481 without creating any state (RFC 3261 12.2.2, 9.2).
            let orphan = match req.method {
                Method::Ack => false,
                Method::Cancel => !self.txs.knows(req),
                _ => {
                    msg::to_tag(&req.headers).is_some_and(|tag| {
                        let key = (
                            msg::call_id(&req.headers).unwrap_or("").to_string(),
                            tag.to_string(),
                        );
                        !self.dialogs.contains_key(&key)
                    }) && !self.txs.knows(req)
                }
            };
            if orphan {
                self.respond_stateless(req, peer, 481, Vec::new());
                return;
            }
        }
        self.txs.handle_message(now, msg, peer);
        self.pump(now);
    }

    /// Forget a leg (its call ended). Later requests in its dialog get 481; a late 2xx to its
    /// INVITE gets ACK and BYE.
    pub(crate) fn release(&mut self, leg: LegId) {
        let Some(l) = self.legs.remove(&leg) else {
            return;
        };
        if let Some(d) = &l.dialog {
            self.dialogs
                .remove(&(d.call_id.clone(), d.local_tag.clone()));
        }
        // (A late 2xx to the INVITE still gets ACK and BYE: the transaction layer keeps it.)
        for tx in l.client_invite.iter().chain(&l.txs_client) {
            self.client_txs.remove(tx);
        }
        for tx in l.server_invite.iter().chain(&l.txs_server) {
            self.server_txs.remove(tx);
        }
    }

    /// Answer a request outside any leg (REGISTER, a challenge or refusal of an INVITE,
    /// MESSAGE...). `headers` are added as they are; `body` is (content type, bytes).
    pub(crate) fn respond(
        &mut self,
        now: Ms,
        tx: ServerTxId,
        status: u16,
        headers: Vec<TypedHeader>,
        body: Option<(&str, Bytes)>,
    ) {
        let tag = (status > 100).then(|| self.ids.tag());
        let Some(mut resp) = self.txs.response(tx, status, tag.as_deref()) else {
            return;
        };
        resp.headers.extend(headers);
        resp.headers.push(self.ua_header());
        if let Some((ctype, data)) = body {
            msg::set_body(&mut resp.headers, &mut resp.body, ctype, data);
        }
        let _ = self.txs.respond(now, tx, resp);
        self.pump(now);
    }

    /// Answer a request without creating any transaction (refusals of banned sources).
    pub(crate) fn respond_stateless(
        &mut self,
        req: &Request,
        peer: Peer,
        status: u16,
        headers: Vec<TypedHeader>,
    ) {
        let tag = self.ids.tag();
        let mut resp = msg::response(req, status, Some(&tag));
        resp.headers.extend(headers);
        resp.headers.push(self.ua_header());
        self.txs.send_raw(peer, msg::encode_response(&resp));
    }

    fn ua_header(&self) -> TypedHeader {
        msg::raw("User-Agent", self.user_agent.clone())
    }

    /// Turn transaction events into leg signals until none is left.
    fn pump(&mut self, now: Ms) {
        while let Some(ev) = self.txs.poll_event() {
            match ev {
                TxEvent::Request { tx, req, peer } => self.on_request(now, tx, req, peer),
                TxEvent::Ack { req, peer, invite } => self.on_ack(now, req, peer, invite),
                TxEvent::Cancelled { invite } => self.on_cancelled(now, invite),
                TxEvent::Response { tx, resp } => self.on_response(now, tx, resp),
                TxEvent::ClientTimeout { tx } => self.on_client_timeout(now, tx),
                TxEvent::ServerTimeout { tx } => self.on_server_timeout(now, tx),
                TxEvent::StrayResponse { resp, peer } => self.on_stray(now, resp, peer),
                TxEvent::ProvisionalTimeout { tx } => {
                    // No PRACK for our reliable 180 (RFC 3262 3): the INVITE is refused.
                    if let Some(&(leg, Role::Invite)) = self.server_txs.get(&tx)
                        && self.reject(now, leg, 504, Vec::new())
                    {
                        self.signal(leg, LegSignal::Ended);
                    }
                }
            }
        }
    }

    fn on_request(&mut self, now: Ms, tx: ServerTxId, req: Request, peer: Peer) {
        if msg::to_tag(&req.headers).is_some() {
            self.in_dialog_request(now, tx, req, peer);
            return;
        }
        match req.method {
            Method::Invite => {
                if session_expires(&req.headers).is_some_and(|s| s < MIN_SE) {
                    let min = msg::raw("Min-SE", MIN_SE.to_string());
                    return self.respond(now, tx, 422, vec![min], None);
                }
                self.events.push_back(UaEvent::Invite { tx, req, peer })
            }
            Method::Register => self.events.push_back(UaEvent::Register { tx, req, peer }),
            Method::Options => {
                let allow = msg::raw("Allow", ALLOW);
                let accept = msg::raw("Accept", "application/sdp");
                self.respond(now, tx, 200, vec![allow, accept], None);
            }
            Method::Bye | Method::Refer | Method::Update | Method::Prack => {
                self.respond(now, tx, 481, Vec::new(), None);
            }
            _ => self.events.push_back(UaEvent::Request { tx, req }),
        }
    }

    fn on_client_timeout(&mut self, now: Ms, tx: ClientTxId) {
        if let Some(i) = self.reg_txs.remove(&tx) {
            self.reg_response(now, i, None);
            return;
        }
        if self.loose_txs.remove(&tx).is_some() {
            self.events
                .push_back(UaEvent::OutOfDialogResult { tx, status: 408 });
            return;
        }
        let Some((leg, role)) = self.client_txs.remove(&tx) else {
            return;
        };
        match role {
            Role::Invite => self.outbound_failed(leg, 408),
            Role::Reinvite => {
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.reinvite_out = None;
                }
                self.signal(leg, LegSignal::OfferFailed { status: 408 });
                // A dialog whose peer does not answer a re-INVITE is gone (RFC 3261 14.1).
                self.bye(now, leg);
                self.signal(leg, LegSignal::Ended);
            }
            Role::Refer => self.signal(
                leg,
                LegSignal::ReferResult {
                    ok: false,
                    status: 408,
                },
            ),
            Role::Bye | Role::Other => {}
        }
    }

    fn on_server_timeout(&mut self, now: Ms, tx: ServerTxId) {
        // Our 2xx to an INVITE was never acknowledged: the dialog is ended with BYE (RFC
        // 3261 13.3.1.4) and the leg is gone.
        if let Some((leg, Role::Invite)) = self.server_txs.remove(&tx)
            && self
                .legs
                .get(&leg)
                .is_some_and(|l| l.phase == LegPhase::Confirmed)
        {
            self.bye(now, leg);
            self.signal(leg, LegSignal::Ended);
        }
    }

    fn signal(&mut self, leg: LegId, signal: LegSignal) {
        self.events.push_back(UaEvent::Leg { leg, signal });
    }

    /// Send a request outside any dialog (MESSAGE, NOTIFY for message waiting, OPTIONS).
    pub(crate) fn send_out_of_dialog(
        &mut self,
        now: Ms,
        method: Method,
        uri: patchbay_sip::core::Uri,
        peer: Peer,
        out: OutOfDialog<'_>,
    ) -> Option<ClientTxId> {
        let mut req =
            outbound::new_request(self, method, uri, peer.transport, out.from_user, None, None);
        req.headers.extend(out.headers);
        if let Some((ctype, data)) = out.body {
            msg::set_body(&mut req.headers, &mut req.body, ctype, data);
        }
        let tx = self.txs.send_request(now, req, peer).ok()?;
        self.loose_txs.insert(tx, ());
        Some(tx)
    }
}

/// What an out-of-dialog request carries besides its target: extra headers, a body (content
/// type, bytes), and the From user.
pub(crate) struct OutOfDialog<'a> {
    pub headers: Vec<TypedHeader>,
    pub body: Option<(&'a str, Bytes)>,
    pub from_user: &'a str,
}

/// Methods we take (Allow in OPTIONS answers and our Contacts' dialogs).
pub(crate) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE, PRACK, MESSAGE, INFO";

/// Methods we take outside any dialog (new calls, registrations, keep-alives).
pub(crate) const ALLOW_OUTSIDE: &str = "INVITE, ACK, CANCEL, OPTIONS, REGISTER";

/// The body of a message as SDP, if it has one.
fn sdp_of(headers: &[TypedHeader], body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let ctype = msg::header_text(headers, "content-type").unwrap_or_default();
    if !ctype.is_empty() && !ctype.to_ascii_lowercase().contains("application/sdp") {
        return None;
    }
    Some(String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests;
