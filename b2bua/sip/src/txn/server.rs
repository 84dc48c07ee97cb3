//! Server transactions: INVITE (RFC 3261 17.2.1, RFC 6026 7.1) and non-INVITE (17.2.2), and
//! the matching of ACK and CANCEL (9.2, 17.2.3).

use super::{
    ServerKey, ServerTxId, TimerKind, TimerRef, Transactions, TxError, TxEvent, legacy_branch,
    sent_by,
};
use crate::msg::{self, MAGIC_COOKIE, encode_response, reason_for};
use crate::{Ms, Peer, Transmit};
use bytes::Bytes;
use rvoip_sip_core::types::headers::TypedHeader;
use rvoip_sip_core::types::sip_request::Request;
use rvoip_sip_core::types::sip_response::Response;
use rvoip_sip_core::{Method, StatusCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    /// No final response yet (non-INVITE `Trying`/`Proceeding`).
    Proceeding,
    /// INVITE answered 2xx: retransmitting it until the ACK, absorbing the INVITE until L.
    Accepted,
    /// Final non-2xx sent (INVITE: until the ACK or H; non-INVITE: until J).
    Completed,
    /// INVITE: the ACK of our non-2xx came; absorbing ACKs until I.
    Confirmed,
}

#[derive(Debug)]
pub(crate) struct ServerTx {
    key: ServerKey,
    pub(crate) peer: Peer,
    invite: bool,
    state: ServerState,
    /// Via values, From, To, Call-ID and CSeq of the request: the head of every response.
    template: Vec<TypedHeader>,
    /// The last response sent, sent again for a retransmitted request.
    last: Option<Bytes>,
    interval: Ms,
    retransmit_at: Option<Ms>,
    timeout_at: Option<Ms>,
    linger_at: Option<Ms>,
    /// The 2xx was acknowledged (ACKs after the first are absorbed).
    acked: bool,
    /// A reliable provisional waiting for its PRACK, when it was first sent, and the next
    /// retransmission.
    reliable: Option<(Bytes, Ms)>,
    reliable_interval: Ms,
    reliable_at: Option<Ms>,
    accepted_key: Option<(String, u32)>,
}

impl ServerTx {
    fn new(key: ServerKey, req: &Request, peer: Peer) -> Self {
        let invite = req.method == Method::Invite;
        // An INVITE's responses create the dialog: they carry its Record-Route (RFC 3261
        // 12.1.1), so a record-routing proxy stays on the path.
        let template = req
            .headers
            .iter()
            .filter(|h| {
                matches!(
                    h,
                    TypedHeader::Via(_)
                        | TypedHeader::From(_)
                        | TypedHeader::To(_)
                        | TypedHeader::CallId(_)
                        | TypedHeader::CSeq(_)
                ) || (invite && matches!(h, TypedHeader::RecordRoute(_)))
            })
            .cloned()
            .collect();
        Self {
            key,
            peer,
            invite: req.method == Method::Invite,
            state: ServerState::Proceeding,
            template,
            last: None,
            interval: 0,
            retransmit_at: None,
            timeout_at: None,
            linger_at: None,
            acked: false,
            reliable: None,
            reliable_interval: 0,
            reliable_at: None,
            accepted_key: None,
        }
    }

    pub(crate) fn is_final(&self) -> bool {
        self.state != ServerState::Proceeding
    }

    pub(crate) fn response(&self, status: u16, to_tag: Option<&str>) -> Response {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::ServerInternalError);
        let mut resp = Response::new(code);
        let reason = reason_for(status);
        if !reason.is_empty() {
            resp.reason = Some(reason.to_string());
        }
        resp.headers.reserve(self.template.len() + 4);
        for h in &self.template {
            match (h, to_tag) {
                (TypedHeader::To(to), Some(tag)) if to.0.tag().is_none() => {
                    let mut to = to.clone();
                    to.0.set_tag(tag);
                    resp.headers.push(TypedHeader::To(to));
                }
                _ => resp.headers.push(h.clone()),
            }
        }
        resp
    }
}

fn server_key(req: &Request, method: Method) -> ServerKey {
    let branch = match msg::branch(&req.headers) {
        Some(b) if b.starts_with(MAGIC_COOKIE) && b.len() > MAGIC_COOKIE.len() => b.to_string(),
        _ => legacy_branch(req),
    };
    ServerKey {
        branch,
        sent_by: sent_by(req),
        method,
    }
}

// === impl Transactions (server side) ===

impl Transactions {
    pub(super) fn handle_request(&mut self, now: Ms, req: Request, peer: Peer) {
        match req.method {
            Method::Ack => self.handle_ack(now, req, peer),
            Method::Cancel => self.handle_cancel(now, req, peer),
            _ => {
                let key = server_key(&req, req.method.clone());
                if let Some(&id) = self.server_keys.get(&key) {
                    self.stats.retransmissions_received += 1;
                    if let Some(tx) = self.servers.get(id.idx, id.epoch)
                        && tx.state != ServerState::Accepted
                        && let Some(last) = tx.last.clone()
                    {
                        self.transmits.push_back(Transmit { peer, bytes: last });
                    }
                    return;
                }
                let tx = ServerTx::new(key.clone(), &req, peer);
                let invite = tx.invite;
                let (idx, epoch) = self.servers.insert(tx);
                let id = ServerTxId { idx, epoch };
                self.server_keys.insert(key, id);
                if invite {
                    // 100 Trying if the user has not answered within 200 ms (17.2.1).
                    let at = now + 200;
                    if let Some(tx) = self.servers.get_mut(idx, epoch) {
                        tx.retransmit_at = Some(at);
                    }
                    self.timer(true, idx, epoch, TimerKind::Retransmit, at);
                }
                self.events
                    .push_back(TxEvent::Request { tx: id, req, peer });
            }
        }
    }

    fn handle_ack(&mut self, now: Ms, req: Request, peer: Peer) {
        let t4 = self.timers.t4;
        let key = server_key(&req, Method::Invite);
        if let Some(&id) = self.server_keys.get(&key)
            && let Some(tx) = self.servers.get_mut(id.idx, id.epoch)
        {
            match tx.state {
                ServerState::Completed => {
                    tx.state = ServerState::Confirmed;
                    tx.retransmit_at = None;
                    tx.timeout_at = None;
                    let at = if tx.peer.transport.is_reliable() {
                        now
                    } else {
                        now + t4
                    };
                    tx.linger_at = Some(at);
                    self.timer(true, id.idx, id.epoch, TimerKind::Linger, at);
                    return;
                }
                // A 2xx ACK reusing the INVITE's branch: handled below like any 2xx ACK.
                ServerState::Accepted => {}
                _ => {
                    self.stats.retransmissions_received += 1;
                    return;
                }
            }
        }
        let accepted = msg::call_id(&req.headers)
            .zip(msg::cseq(&req.headers))
            .and_then(|(c, (n, _))| self.accepted.get(&(c.to_string(), n)).copied());
        match accepted.and_then(|id| self.servers.get_mut(id.idx, id.epoch).map(|t| (id, t))) {
            Some((_, tx)) if tx.acked => self.stats.retransmissions_received += 1,
            Some((id, tx)) => {
                tx.acked = true;
                tx.retransmit_at = None;
                self.events.push_back(TxEvent::Ack {
                    req,
                    peer,
                    invite: Some(id),
                });
            }
            None => self.events.push_back(TxEvent::Ack {
                req,
                peer,
                invite: None,
            }),
        }
    }

    fn handle_cancel(&mut self, now: Ms, req: Request, peer: Peer) {
        let key = server_key(&req, Method::Cancel);
        if let Some(&id) = self.server_keys.get(&key) {
            self.stats.retransmissions_received += 1;
            if let Some(last) = self
                .servers
                .get(id.idx, id.epoch)
                .and_then(|t| t.last.clone())
            {
                self.transmits.push_back(Transmit { peer, bytes: last });
            }
            return;
        }
        let invite = self
            .server_keys
            .get(&server_key(&req, Method::Invite))
            .copied();
        let tx = ServerTx::new(key.clone(), &req, peer);
        let (idx, epoch) = self.servers.insert(tx);
        let id = ServerTxId { idx, epoch };
        self.server_keys.insert(key, id);
        let pending = invite.filter(|i| self.is_unanswered(*i));
        // A CANCEL that matches nothing gets 481 (9.2); the 200 goes without a To tag (the
        // INVITE's tag is the user's, chosen later).
        let status = if invite.is_some() { 200 } else { 481 };
        if let Some(resp) = self.response(id, status, None) {
            let _ = self.respond(now, id, resp);
        }
        if let Some(invite) = pending {
            self.events.push_back(TxEvent::Cancelled { invite });
        }
    }

    /// Send a response in a server transaction. A 2xx to an INVITE is retransmitted until its
    /// ACK arrives (UDP); any other final response until its ACK (INVITE) or once (non-INVITE).
    pub fn respond(&mut self, now: Ms, tx: ServerTxId, resp: Response) -> Result<(), TxError> {
        let (t1, accepted_map) = (self.timers.t1, &mut self.accepted);
        let t = self
            .servers
            .get_mut(tx.idx, tx.epoch)
            .ok_or(TxError::Gone)?;
        if t.state != ServerState::Proceeding {
            return Err(TxError::AlreadyFinal);
        }
        let status = resp.status.as_u16();
        let bytes = encode_response(&resp);
        self.transmits.push_back(Transmit {
            peer: t.peer,
            bytes: bytes.clone(),
        });
        t.last = Some(bytes);
        if status >= 200 {
            t.reliable = None;
            t.reliable_at = None;
        }
        if status < 200 {
            if t.invite {
                t.retransmit_at = None; // no 100 Trying of ours any more
            }
            return Ok(());
        }
        let reliable = t.peer.transport.is_reliable();
        let mut arm: Vec<(TimerKind, Ms)> = Vec::with_capacity(2);
        if t.invite && status < 300 {
            t.state = ServerState::Accepted;
            let key = msg::call_id(&resp.headers)
                .zip(msg::cseq(&resp.headers))
                .map(|(c, (n, _))| (c.to_string(), n));
            if let Some(k) = key {
                accepted_map.insert(k.clone(), tx);
                t.accepted_key = Some(k);
            }
            t.retransmit_at = None;
            if !reliable {
                t.interval = t1;
                arm.push((TimerKind::Retransmit, now + t1));
            }
            arm.push((TimerKind::Linger, now + 64 * t1));
        } else if t.invite {
            t.state = ServerState::Completed;
            t.retransmit_at = None;
            if !reliable {
                t.interval = t1;
                arm.push((TimerKind::Retransmit, now + t1));
            }
            arm.push((TimerKind::Timeout, now + 64 * t1));
        } else {
            t.state = ServerState::Completed;
            t.retransmit_at = None;
            arm.push((
                TimerKind::Linger,
                if reliable { now } else { now + 64 * t1 },
            ));
        }
        for (kind, at) in arm {
            match kind {
                TimerKind::Retransmit => t.retransmit_at = Some(at),
                TimerKind::Timeout => t.timeout_at = Some(at),
                TimerKind::Linger => t.linger_at = Some(at),
                TimerKind::Reliable => t.reliable_at = Some(at),
            }
            self.wheel.insert(
                at,
                TimerRef {
                    server: true,
                    idx: tx.idx,
                    epoch: tx.epoch,
                    kind,
                    due: at,
                },
            );
        }
        Ok(())
    }

    /// Send a provisional response reliably (RFC 3262): again at T1, 2 T1, 4 T1 ... until
    /// [`Transactions::provisional_acked`] or a final response; no PRACK within 64 T1 gives
    /// [`TxEvent::ProvisionalTimeout`].
    pub fn respond_reliable(
        &mut self,
        now: Ms,
        tx: ServerTxId,
        resp: Response,
    ) -> Result<(), TxError> {
        let t1 = self.timers.t1;
        self.respond(now, tx, resp)?;
        let t = self
            .servers
            .get_mut(tx.idx, tx.epoch)
            .ok_or(TxError::Gone)?;
        let bytes = t.last.clone().unwrap_or_default();
        t.reliable = Some((bytes, now));
        t.reliable_interval = t1;
        // Over TCP/TLS nothing is sent again; the timer still bounds the wait for the PRACK.
        let at = if t.peer.transport.is_reliable() {
            now + 64 * t1
        } else {
            now + t1
        };
        t.reliable_at = Some(at);
        self.timer(true, tx.idx, tx.epoch, TimerKind::Reliable, at);
        Ok(())
    }

    /// The PRACK of the reliable provisional of `tx` arrived: stop sending it.
    pub fn provisional_acked(&mut self, tx: ServerTxId) {
        if let Some(t) = self.servers.get_mut(tx.idx, tx.epoch) {
            t.reliable = None;
            t.reliable_at = None;
        }
    }

    /// Whether a request belongs to a transaction we have (a retransmission, the ACK of one
    /// of our INVITE responses), or a CANCEL to an INVITE we have: what the user may answer
    /// statelessly otherwise.
    pub fn knows(&self, req: &Request) -> bool {
        let own = server_key(req, req.method.clone());
        if self.server_keys.contains_key(&own) {
            return true;
        }
        match req.method {
            Method::Cancel | Method::Ack => self
                .server_keys
                .contains_key(&server_key(req, Method::Invite)),
            _ => false,
        }
    }

    /// Whether `tx` has a reliable provisional waiting for its PRACK.
    pub fn awaits_prack(&self, tx: ServerTxId) -> bool {
        self.servers
            .get(tx.idx, tx.epoch)
            .is_some_and(|t| t.reliable.is_some())
    }

    pub(super) fn server_timer(&mut self, now: Ms, t: TimerRef) {
        let (t2, id) = (
            self.timers.t2,
            ServerTxId {
                idx: t.idx,
                epoch: t.epoch,
            },
        );
        let Some(tx) = self.servers.get_mut(t.idx, t.epoch) else {
            return;
        };
        match t.kind {
            TimerKind::Retransmit if tx.retransmit_at == Some(t.due) => {
                if tx.state == ServerState::Proceeding {
                    // The user has not answered the INVITE within 200 ms.
                    let trying = encode_response(&tx.response(100, None));
                    self.transmits.push_back(Transmit {
                        peer: tx.peer,
                        bytes: trying.clone(),
                    });
                    tx.last = Some(trying);
                    tx.retransmit_at = None;
                    return;
                }
                let Some(last) = tx.last.clone() else { return };
                self.stats.retransmissions_sent += 1;
                self.transmits.push_back(Transmit {
                    peer: tx.peer,
                    bytes: last,
                });
                tx.interval = (tx.interval * 2).min(t2);
                let at = now + tx.interval;
                tx.retransmit_at = Some(at);
                self.timer(true, t.idx, t.epoch, TimerKind::Retransmit, at);
            }
            TimerKind::Reliable if tx.reliable_at == Some(t.due) => {
                let t1 = self.timers.t1;
                let Some((bytes, started)) = tx.reliable.clone() else {
                    return;
                };
                if now >= started + 64 * t1 {
                    tx.reliable = None;
                    tx.reliable_at = None;
                    self.events
                        .push_back(TxEvent::ProvisionalTimeout { tx: id });
                    return;
                }
                self.stats.retransmissions_sent += 1;
                self.transmits.push_back(Transmit {
                    peer: tx.peer,
                    bytes,
                });
                tx.reliable_interval *= 2;
                let at = (now + tx.reliable_interval).min(started + 64 * t1);
                tx.reliable_at = Some(at);
                self.timer(true, t.idx, t.epoch, TimerKind::Reliable, at);
            }
            TimerKind::Timeout if tx.timeout_at == Some(t.due) => {
                // Timer H: our non-2xx final response was never acknowledged.
                self.remove_server(id);
                self.events.push_back(TxEvent::ServerTimeout { tx: id });
            }
            TimerKind::Linger if tx.linger_at == Some(t.due) => {
                let unacked = tx.state == ServerState::Accepted && !tx.acked;
                self.remove_server(id);
                if unacked {
                    self.events.push_back(TxEvent::ServerTimeout { tx: id });
                }
            }
            _ => {}
        }
    }

    fn remove_server(&mut self, id: ServerTxId) {
        if let Some(tx) = self.servers.remove(id.idx, id.epoch) {
            self.server_keys.remove(&tx.key);
            if let Some(k) = tx.accepted_key {
                self.accepted.remove(&k);
            }
        }
    }
}
