//! Client transactions: INVITE (RFC 3261 17.1.1, RFC 6026 7.2) and non-INVITE (17.1.2).

use super::{ClientKey, ClientTxId, TimerKind, TimerRef, Transactions, TxError, TxEvent};
use crate::msg::{self, encode_request};
use crate::{Ms, Peer, Transmit};
use bytes::Bytes;
use rvoip_sip_core::Method;
use rvoip_sip_core::types::cseq::CSeq;
use rvoip_sip_core::types::headers::TypedHeader;
use rvoip_sip_core::types::sip_request::Request;
use rvoip_sip_core::types::sip_response::Response;
use rvoip_sip_core::types::via::Via;

/// How long an INVITE may stay in `Proceeding` (ringing, no final response) before its
/// transaction ends with a timeout, like a proxy's timer C (RFC 3261 16.6, "> 3 minutes"):
/// 11 minutes, past the longest ring time the B2BUA allows (600 s), so it only ends
/// transactions whose peer went silent.
pub(crate) const PROCEEDING_GUARD_MS: Ms = 660_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientState {
    /// INVITE sent, nothing heard (timers A, B) / non-INVITE `Trying` (E, F).
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// INVITE answered 2xx: further 2xx go to the user until timer M.
    Accepted,
    /// Final non-2xx (INVITE: ACK sent, absorbing retransmissions until D) / non-INVITE
    /// final (until K).
    Completed,
}

#[derive(Debug)]
pub(crate) struct ClientTx {
    pub(crate) key: ClientKey,
    pub(crate) request: Request,
    pub(crate) state: ClientState,
    bytes: Bytes,
    pub(crate) peer: Peer,
    invite: bool,
    /// Current retransmission interval.
    interval: Ms,
    retransmit_at: Option<Ms>,
    timeout_at: Option<Ms>,
    linger_at: Option<Ms>,
    /// The ACK of a non-2xx final response, sent again for each retransmission of it.
    ack: Option<Bytes>,
    /// CANCEL asked before any provisional arrived (sent on the first one, RFC 3261 9.1).
    cancel_pending: bool,
}

impl ClientTx {
    pub(crate) fn new(key: ClientKey, request: Request, bytes: Bytes, peer: Peer) -> Self {
        let invite = request.method == Method::Invite;
        Self {
            key,
            request,
            state: ClientState::Calling,
            bytes,
            peer,
            invite,
            interval: 0,
            retransmit_at: None,
            timeout_at: None,
            linger_at: None,
            ack: None,
            cancel_pending: false,
        }
    }
}

/// The ACK for a non-2xx final response (RFC 3261 17.1.1.3): the request's Request-URI,
/// Call-ID, From, top Via and Route headers, the response's To, CSeq number with ACK.
fn ack_for(req: &Request, resp: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, req.uri.clone());
    if let Some(v) = msg::top_via(&req.headers) {
        ack.headers.push(TypedHeader::Via(Via(vec![v.clone()])));
    }
    for h in &req.headers {
        match h {
            TypedHeader::MaxForwards(_) | TypedHeader::From(_) | TypedHeader::CallId(_) => {
                ack.headers.push(h.clone())
            }
            _ => {}
        }
    }
    if let Some(to) = resp
        .headers
        .iter()
        .find(|h| matches!(h, TypedHeader::To(_)))
    {
        ack.headers.push(to.clone());
    }
    let seq = msg::cseq(&req.headers).map(|c| c.0).unwrap_or(1);
    ack.headers
        .push(TypedHeader::CSeq(CSeq::new(seq, Method::Ack)));
    for h in &req.headers {
        if matches!(h, TypedHeader::Route(_)) {
            ack.headers.push(h.clone());
        }
    }
    ack
}

/// The CANCEL of an INVITE (RFC 3261 9.1): same Request-URI, Call-ID, From, To, top Via
/// (same branch), Route headers, CSeq number with CANCEL.
fn cancel_for(req: &Request) -> Request {
    let mut c = Request::new(Method::Cancel, req.uri.clone());
    if let Some(v) = msg::top_via(&req.headers) {
        c.headers.push(TypedHeader::Via(Via(vec![v.clone()])));
    }
    for h in &req.headers {
        match h {
            TypedHeader::MaxForwards(_)
            | TypedHeader::From(_)
            | TypedHeader::To(_)
            | TypedHeader::CallId(_)
            | TypedHeader::Route(_) => c.headers.push(h.clone()),
            _ => {}
        }
    }
    let seq = msg::cseq(&req.headers).map(|c| c.0).unwrap_or(1);
    c.headers
        .push(TypedHeader::CSeq(CSeq::new(seq, Method::Cancel)));
    c
}

// === impl Transactions (client side) ===

impl Transactions {
    pub(super) fn client_start(&mut self, now: Ms, id: ClientTxId) {
        let t1 = self.timers.t1;
        let Some(tx) = self.clients.get_mut(id.idx, id.epoch) else {
            return;
        };
        let reliable = tx.peer.transport.is_reliable();
        let timeout = now + 64 * t1;
        tx.timeout_at = Some(timeout);
        let retransmit = (!reliable).then(|| {
            tx.interval = t1;
            now + t1
        });
        tx.retransmit_at = retransmit;
        self.timer(false, id.idx, id.epoch, TimerKind::Timeout, timeout);
        if let Some(at) = retransmit {
            self.timer(false, id.idx, id.epoch, TimerKind::Retransmit, at);
        }
    }

    /// CANCEL a pending INVITE. Sent at once when a provisional response came, else on the
    /// first one (RFC 3261 9.1). A final response already received makes it a no-op.
    pub fn cancel(&mut self, now: Ms, tx: ClientTxId) -> Result<(), TxError> {
        let t = self
            .clients
            .get_mut(tx.idx, tx.epoch)
            .ok_or(TxError::Gone)?;
        match t.state {
            ClientState::Calling => {
                t.cancel_pending = true;
                Ok(())
            }
            ClientState::Proceeding => {
                let cancel = cancel_for(&t.request);
                let peer = t.peer;
                self.send_request(now, cancel, peer)?;
                self.cancel_deadline(now, tx);
                Ok(())
            }
            ClientState::Accepted | ClientState::Completed => Err(TxError::AlreadyFinal),
        }
    }

    /// A cancelled INVITE that gets no final response ends 64 T1 after the CANCEL (RFC
    /// 3261 9.1).
    fn cancel_deadline(&mut self, now: Ms, id: ClientTxId) {
        let at = now + 64 * self.timers.t1;
        if let Some(t) = self.clients.get_mut(id.idx, id.epoch)
            && t.timeout_at.is_none_or(|d| d > at)
        {
            t.timeout_at = Some(at);
            self.timer(false, id.idx, id.epoch, TimerKind::Timeout, at);
        }
    }

    pub(super) fn handle_response(&mut self, now: Ms, resp: Response, peer: Peer) {
        let key = match (msg::branch(&resp.headers), msg::cseq(&resp.headers)) {
            (Some(b), Some((_, m))) => super::ClientKey {
                branch: b.to_string(),
                method: m.clone(),
            },
            _ => return, // not a response to anything we could have sent
        };
        let Some(&id) = self.client_keys.get(&key) else {
            self.events.push_back(TxEvent::StrayResponse { resp, peer });
            return;
        };
        let status = resp.status.as_u16();
        let (t1, t4) = (self.timers.t1, self.timers.t4);
        let Some(tx) = self.clients.get_mut(id.idx, id.epoch) else {
            return;
        };
        let reliable = tx.peer.transport.is_reliable();
        match (tx.state, status) {
            (ClientState::Calling | ClientState::Proceeding, 100..=199) => {
                let first = tx.state == ClientState::Calling;
                tx.state = ClientState::Proceeding;
                let mut guard = None;
                if tx.invite {
                    // No more retransmissions, no timer B (the user runs its own no-answer);
                    // a guard like a proxy's timer C ends a transaction whose peer went
                    // silent after ringing.
                    tx.retransmit_at = None;
                    if first {
                        let at = now + PROCEEDING_GUARD_MS;
                        tx.timeout_at = Some(at);
                        guard = Some(at);
                    }
                }
                // (Non-INVITE: timer E goes on, at T2 from its next firing; F stays.)
                let cancel = (first && tx.cancel_pending).then(|| {
                    tx.cancel_pending = false;
                    (cancel_for(&tx.request), tx.peer)
                });
                self.events.push_back(TxEvent::Response { tx: id, resp });
                if let Some(at) = guard {
                    self.timer(false, id.idx, id.epoch, TimerKind::Timeout, at);
                }
                if let Some((c, p)) = cancel {
                    let _ = self.send_request(now, c, p);
                    self.cancel_deadline(now, id);
                }
            }
            (ClientState::Calling | ClientState::Proceeding, _) if tx.invite && status < 300 => {
                tx.state = ClientState::Accepted;
                tx.retransmit_at = None;
                tx.timeout_at = None;
                let linger = now + 64 * t1;
                tx.linger_at = Some(linger);
                self.timer(false, id.idx, id.epoch, TimerKind::Linger, linger);
                self.events.push_back(TxEvent::Response { tx: id, resp });
            }
            (ClientState::Calling | ClientState::Proceeding, _) => {
                tx.state = ClientState::Completed;
                tx.retransmit_at = None;
                tx.timeout_at = None;
                let linger = if reliable {
                    now
                } else if tx.invite {
                    now + 32_000.max(64 * t1)
                } else {
                    now + t4
                };
                if tx.invite {
                    let ack = encode_request(&ack_for(&tx.request, &resp));
                    self.transmits.push_back(Transmit {
                        peer: tx.peer,
                        bytes: ack.clone(),
                    });
                    tx.ack = Some(ack);
                }
                tx.linger_at = Some(linger);
                self.timer(false, id.idx, id.epoch, TimerKind::Linger, linger);
                self.events.push_back(TxEvent::Response { tx: id, resp });
            }
            (ClientState::Accepted, 200..=299) => {
                // A retransmitted 2xx or another fork's: the user ACKs it.
                self.stats.retransmissions_received += 1;
                self.events.push_back(TxEvent::Response { tx: id, resp });
            }
            (ClientState::Completed, 300..) => {
                self.stats.retransmissions_received += 1;
                if let Some(ack) = tx.ack.clone() {
                    self.transmits.push_back(Transmit {
                        peer: tx.peer,
                        bytes: ack,
                    });
                }
            }
            _ => self.stats.retransmissions_received += 1,
        }
    }

    pub(super) fn client_timer(&mut self, now: Ms, t: TimerRef) {
        let (t2, id) = (
            self.timers.t2,
            ClientTxId {
                idx: t.idx,
                epoch: t.epoch,
            },
        );
        let Some(tx) = self.clients.get_mut(t.idx, t.epoch) else {
            return;
        };
        match t.kind {
            TimerKind::Retransmit if tx.retransmit_at == Some(t.due) => {
                self.stats.retransmissions_sent += 1;
                self.transmits.push_back(Transmit {
                    peer: tx.peer,
                    bytes: tx.bytes.clone(),
                });
                // A doubles without bound (B ends it); E doubles up to T2, and is T2 once a
                // provisional came.
                tx.interval = if tx.invite {
                    tx.interval * 2
                } else if tx.state == ClientState::Proceeding {
                    t2
                } else {
                    (tx.interval * 2).min(t2)
                };
                let at = now + tx.interval;
                tx.retransmit_at = Some(at);
                self.timer(false, t.idx, t.epoch, TimerKind::Retransmit, at);
            }
            TimerKind::Timeout if tx.timeout_at == Some(t.due) => {
                self.stats.timeouts += 1;
                self.remove_client(id);
                self.events.push_back(TxEvent::ClientTimeout { tx: id });
            }
            TimerKind::Linger if tx.linger_at == Some(t.due) => self.remove_client(id),
            _ => {}
        }
    }

    fn remove_client(&mut self, id: ClientTxId) {
        if let Some(tx) = self.clients.remove(id.idx, id.epoch) {
            self.client_keys.remove(&tx.key);
        }
    }
}
