//! The SIP transports: rvoip-sip-transport's UDP listener (it receives and parses datagrams
//! in its own tasks) and a send path for the bytes the user agent produces. The only I/O of
//! SIP in the B2BUA.

use patchbay_sip::core::Message;
use patchbay_sip::{Peer, Transmit, Transport};
use rvoip_sip_transport::transport::TransportType;
use rvoip_sip_transport::{Transport as _, TransportEvent, UdpTransport};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A parsed message and where it came from.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) msg: Message,
    pub(crate) peer: Peer,
}

/// A received message, if the event is one (parse errors never get here: rvoip drops
/// datagrams it cannot parse).
pub(crate) fn incoming(ev: TransportEvent) -> Option<Incoming> {
    let TransportEvent::MessageReceived {
        message,
        source,
        transport_type,
        ..
    } = ev
    else {
        return None;
    };
    let transport = match transport_type {
        TransportType::Tcp => Transport::Tcp,
        TransportType::Tls | TransportType::Wss => Transport::Tls,
        _ => Transport::Udp,
    };
    Some(Incoming {
        msg: message,
        peer: Peer {
            addr: source,
            transport,
        },
    })
}

/// The node's SIP sockets.
pub(crate) struct SipTransport {
    udp: Arc<UdpTransport>,
    local: SocketAddr,
}

impl SipTransport {
    /// Bind UDP on `addr`; rvoip's transport events (parsed messages) arrive on the returned
    /// channel: read them with [`incoming`].
    pub(crate) async fn bind(
        addr: SocketAddr,
    ) -> Result<(Self, mpsc::Receiver<TransportEvent>), rvoip_sip_transport::Error> {
        let (udp, events) = UdpTransport::bind(addr, Some(16_384)).await?;
        let local = udp.local_addr()?;
        Ok((
            Self {
                udp: Arc::new(udp),
                local,
            },
            events,
        ))
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Send one message (a failed send is the transaction's business: it retransmits or
    /// times out).
    pub(crate) async fn send(&self, t: Transmit) {
        if let Err(e) = self.udp.send_message_raw(t.bytes, t.peer.addr).await {
            tracing::debug!(peer = %t.peer.addr, error = %e, "SIP send failed");
        }
    }

    pub(crate) async fn close(&self) {
        let _ = self.udp.close().await;
    }
}
