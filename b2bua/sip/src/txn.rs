//! RFC 3261 section 17 transactions, with RFC 6026's `Accepted` state for INVITEs answered 2xx,
//! for every peer of the node at once.
//!
//! Client transactions are created by [`Transactions::send_request`], server transactions by
//! the requests that arrive. The transaction user (the B2BUA) sees [`TxEvent`]s and answers
//! with [`Transactions::respond`]; everything RFC 3261 puts in the transaction layer happens
//! here: retransmissions over UDP (timers A, E, G and the 2xx of an `Accepted` INVITE until
//! its ACK), absorbing retransmitted requests (and answering them with the last response),
//! the ACK to a non-2xx final response, 100 Trying when the user has not answered an INVITE
//! within 200 ms, matching CANCEL to its INVITE (200 to the CANCEL; the user sends the 487),
//! and the wait states that absorb stragglers (D, I, J, K, L, M).
//!
//! Every timer is an entry on one [`TimerWheel`]; a transaction records the deadline of each
//! of its three timer kinds (retransmit, timeout, linger) and an entry that fires with any
//! other deadline is stale and ignored.

mod client;
mod server;
mod slab;

use crate::msg::{self, MAGIC_COOKIE};
use crate::timer::TimerWheel;
use crate::{Ms, Peer, Timers, Transmit};
use client::{ClientState, ClientTx};
use rvoip_sip_core::types::sip_request::Request;
use rvoip_sip_core::types::sip_response::Response;
use rvoip_sip_core::{Message, Method};
use server::ServerTx;
use slab::Slab;
use std::collections::{HashMap, VecDeque};

/// A client transaction (a request we sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxId {
    idx: u32,
    epoch: u32,
}

/// A server transaction (a request we received).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxId {
    idx: u32,
    epoch: u32,
}

/// What the transaction user must know.
#[derive(Debug)]
pub enum TxEvent {
    /// A new request (not an ACK, not a CANCEL matching an INVITE): answer it with
    /// [`Transactions::respond`].
    Request {
        tx: ServerTxId,
        req: Request,
        peer: Peer,
    },
    /// An ACK that belongs to no transaction of ours: the ACK for a 2xx (`invite` is the
    /// INVITE transaction that sent it, when still known). Delivered once per 2xx.
    Ack {
        req: Request,
        peer: Peer,
        invite: Option<ServerTxId>,
    },
    /// The INVITE transaction `invite` was cancelled (the CANCEL got its 200 here); the user
    /// answers the INVITE 487 unless it already sent a final response.
    Cancelled { invite: ServerTxId },
    /// A response to one of our requests: every provisional, the final one, and for an INVITE
    /// every further 2xx (a retransmission, or another fork's answer), which the user ACKs.
    Response { tx: ClientTxId, resp: Response },
    /// No final response came (timer B or F): the user treats it as a 408.
    ClientTimeout { tx: ClientTxId },
    /// Our final response to an INVITE was never acknowledged (timer H, or L for a 2xx): for
    /// a 2xx the user ends the dialog with BYE (RFC 3261 13.3.1.4).
    ServerTimeout { tx: ServerTxId },
    /// A response that matches none of our transactions (for a 2xx to an INVITE, the user
    /// may ACK it and end that dialog).
    StrayResponse { resp: Response, peer: Peer },
    /// A reliable provisional response got no PRACK within 64 T1 (RFC 3262 3): the user
    /// rejects the INVITE with a 5xx.
    ProvisionalTimeout { tx: ServerTxId },
}

/// Misuse by the transaction user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    #[error("the transaction has ended")]
    Gone,
    #[error("the transaction already sent its final response")]
    AlreadyFinal,
    #[error("a request without a top Via branch")]
    NoBranch,
}

/// Counters for the metrics of the driver.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TxStats {
    /// Requests and responses we sent again on a timer.
    pub retransmissions_sent: u64,
    /// Requests and responses that arrived again and were absorbed.
    pub retransmissions_received: u64,
    /// Client transactions that ended without a final response (B, F).
    pub timeouts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerKind {
    Retransmit,
    Timeout,
    Linger,
    /// A reliable provisional response (RFC 3262) again, until its PRACK.
    Reliable,
}

#[derive(Debug, Clone, Copy)]
struct TimerRef {
    server: bool,
    idx: u32,
    epoch: u32,
    kind: TimerKind,
    due: Ms,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    branch: String,
    method: Method,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ServerKey {
    branch: String,
    sent_by: String,
    method: Method,
}

/// Every transaction of the node. See the crate docs for the drive contract.
#[derive(Debug)]
pub struct Transactions {
    timers: Timers,
    clients: Slab<ClientTx>,
    servers: Slab<ServerTx>,
    client_keys: HashMap<ClientKey, ClientTxId>,
    server_keys: HashMap<ServerKey, ServerTxId>,
    /// INVITE server transactions in `Accepted`, by Call-ID and CSeq number: the ACK for a
    /// 2xx carries a branch of its own.
    accepted: HashMap<(String, u32), ServerTxId>,
    wheel: TimerWheel<TimerRef>,
    fired: Vec<TimerRef>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TxEvent>,
    stats: TxStats,
}

// === impl Transactions ===

impl Transactions {
    pub fn new(now: Ms, timers: Timers) -> Self {
        Self {
            timers,
            clients: Slab::default(),
            servers: Slab::default(),
            client_keys: HashMap::new(),
            server_keys: HashMap::new(),
            accepted: HashMap::new(),
            wheel: TimerWheel::new(now),
            fired: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: TxStats::default(),
        }
    }

    /// Live client and server transactions.
    pub fn len(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }

    pub fn is_empty(&self) -> bool {
        self.clients.len() == 0 && self.servers.len() == 0
    }

    pub fn stats(&self) -> TxStats {
        self.stats
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<TxEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Ms> {
        self.wheel.next_wake()
    }

    /// Send bytes outside any transaction (the ACK for a 2xx, stateless replies).
    pub fn send_raw(&mut self, peer: Peer, bytes: bytes::Bytes) {
        self.transmits.push_back(Transmit { peer, bytes });
    }

    /// Send a request in a new client transaction. The request's top Via must carry a branch
    /// that starts with the RFC 3261 magic cookie and is unique to this request.
    pub fn send_request(
        &mut self,
        now: Ms,
        req: Request,
        peer: Peer,
    ) -> Result<ClientTxId, TxError> {
        let branch = msg::branch(&req.headers)
            .filter(|b| b.starts_with(MAGIC_COOKIE))
            .ok_or(TxError::NoBranch)?
            .to_string();
        let key = ClientKey {
            branch,
            method: req.method.clone(),
        };
        let bytes = msg::encode_request(&req);
        self.transmits.push_back(Transmit {
            peer,
            bytes: bytes.clone(),
        });
        let tx = ClientTx::new(key.clone(), req, bytes, peer);
        let (idx, epoch) = self.clients.insert(tx);
        let id = ClientTxId { idx, epoch };
        self.client_keys.insert(key, id);
        self.client_start(now, id);
        Ok(id)
    }

    /// The request of a client transaction (to build an ACK for its 2xx, or a retry).
    pub fn client_request(&self, tx: ClientTxId) -> Option<&Request> {
        self.clients.get(tx.idx, tx.epoch).map(|t| &t.request)
    }

    /// Where a client transaction's request went.
    pub fn client_peer(&self, tx: ClientTxId) -> Option<Peer> {
        self.clients.get(tx.idx, tx.epoch).map(|t| t.peer)
    }

    /// Whether an INVITE client transaction may still be cancelled (no final response yet).
    pub fn is_pending(&self, tx: ClientTxId) -> bool {
        self.clients
            .get(tx.idx, tx.epoch)
            .is_some_and(|t| matches!(t.state, ClientState::Calling | ClientState::Proceeding))
    }

    /// A response to the request of a server transaction: its Via, From, To (with `to_tag`
    /// when it had none), Call-ID and CSeq.
    pub fn response(&self, tx: ServerTxId, status: u16, to_tag: Option<&str>) -> Option<Response> {
        let t = self.servers.get(tx.idx, tx.epoch)?;
        Some(t.response(status, to_tag))
    }

    /// Where a server transaction's responses go.
    pub fn server_peer(&self, tx: ServerTxId) -> Option<Peer> {
        self.servers.get(tx.idx, tx.epoch).map(|t| t.peer)
    }

    /// Whether a server transaction still waits for its final response.
    pub fn is_unanswered(&self, tx: ServerTxId) -> bool {
        self.servers
            .get(tx.idx, tx.epoch)
            .is_some_and(|t| !t.is_final())
    }

    fn timer(&mut self, server: bool, idx: u32, epoch: u32, kind: TimerKind, due: Ms) {
        self.wheel.insert(
            due,
            TimerRef {
                server,
                idx,
                epoch,
                kind,
                due,
            },
        );
    }

    /// Feed one received message.
    pub fn handle_message(&mut self, now: Ms, msg: Message, peer: Peer) {
        match msg {
            Message::Request(req) => self.handle_request(now, req, peer),
            Message::Response(resp) => self.handle_response(now, resp, peer),
        }
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Ms) {
        let mut fired = std::mem::take(&mut self.fired);
        self.wheel.expire(now, &mut fired);
        for t in fired.drain(..) {
            if t.server {
                self.server_timer(now, t);
            } else {
                self.client_timer(now, t);
            }
        }
        self.fired = fired;
    }
}

/// The key of a request that carries no RFC 3261 branch (RFC 2543 peers): the fields that
/// identify its transaction, joined.
fn legacy_branch(req: &Request) -> String {
    let via = msg::top_via(&req.headers)
        .map(|v| v.to_string())
        .unwrap_or_default();
    format!(
        "{}|{}|{}|{}|{}",
        req.uri,
        msg::call_id(&req.headers).unwrap_or(""),
        msg::from_tag(&req.headers).unwrap_or(""),
        msg::cseq(&req.headers).map(|c| c.0).unwrap_or(0),
        via
    )
}

fn sent_by(req: &Request) -> String {
    match msg::top_via(&req.headers) {
        Some(v) => match v.sent_by_port {
            Some(p) => format!("{}:{}", v.sent_by_host, p),
            None => v.sent_by_host.to_string(),
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
