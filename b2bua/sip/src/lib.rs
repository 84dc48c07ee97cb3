//! Sans-IO SIP for the Patchbay B2BUA: RFC 3261 transactions (with RFC 6026's `Accepted`
//! state) on one timer wheel, dialogs, and the message helpers they share, on rvoip-sip-core's
//! parser and message types.
//!
//! It does no I/O: no sockets, no clock, no RNG. Parsed messages come in with the [`Peer`] they
//! came from and the time; bytes to send come out as [`Transmit`]s; timers are polled. The
//! B2BUA's driver owns one [`txn::Transactions`] and runs it from its loop, so a transaction
//! costs a map entry and a few timer-wheel slots, never a task or a channel.
//!
//! # Drive contract
//! 1. Feed every received message to [`txn::Transactions::handle_message`], every send of the
//!    transaction user through its `send_*`/`respond` methods.
//! 2. Drain [`txn::Transactions::poll_transmit`] (to the transport) and
//!    [`txn::Transactions::poll_event`] (to the transaction user) until `None`.
//! 3. Call [`txn::Transactions::handle_timeout`] at [`txn::Transactions::poll_timeout`].
//!
//! What it refuses: it never answers a request by itself except where RFC 3261 puts that in
//! the transaction layer (retransmitted responses, 100 Trying after 200 ms, 200 to a CANCEL
//! that matches an INVITE, 481 to one that does not).

pub mod dialog;
pub mod msg;
pub mod timer;
pub mod txn;

pub use rvoip_sip_core as core;

use bytes::Bytes;
use std::net::SocketAddr;

/// Milliseconds on the driver's monotonic clock, always passed in.
pub type Ms = u64;

/// How a message travels. Reliable transports have no retransmissions and no wait states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The Via / URI `transport` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

/// The other end of a message: where it came from, or where to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// For TCP and TLS: the connection a message came on (the transport's process-local flow
    /// id), which replies and later requests to the same phone reuse while it is open.
    pub flow: Option<u64>,
}

impl Peer {
    pub fn udp(addr: SocketAddr) -> Self {
        Self {
            addr,
            transport: Transport::Udp,
            flow: None,
        }
    }

    pub fn new(addr: SocketAddr, transport: Transport, flow: Option<u64>) -> Self {
        Self {
            addr,
            transport,
            flow,
        }
    }
}

/// Bytes to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub peer: Peer,
    pub bytes: Bytes,
}

/// RFC 3261 timer values (17.1.1.1): T1 the round-trip estimate, T2 the cap on non-INVITE and
/// 2xx retransmission intervals, T4 the time a message lingers in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: Ms,
    pub t2: Ms,
    pub t4: Ms,
}

impl Default for Timers {
    fn default() -> Self {
        Self {
            t1: 500,
            t2: 4_000,
            t4: 5_000,
        }
    }
}
