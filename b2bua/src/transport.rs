//! The SIP transports, the only SIP I/O of the B2BUA: rvoip-sip-transport's UDP and TCP
//! listeners on `sip_listen` and, when a certificate is configured, TLS on `sip_tls_listen`.
//! They receive and parse in their own tasks; the driver reads their events and sends the
//! bytes the user agent produces. Over TCP and TLS a reply (and a later request to the same
//! phone) reuses the connection its request came on; when that is gone, a new connection goes
//! to the address.

use patchbay_sip::core::Message;
use patchbay_sip::{Peer, Transmit, Transport};
use rvoip_sip_transport::transport::TransportType;
use rvoip_sip_transport::{
    TcpTransport, TlsTransport, Transport as _, TransportAuthority, TransportEvent,
    TransportFlowId, TransportRoute, UdpTransport,
};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A parsed message and where it came from.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) msg: Message,
    pub(crate) peer: Peer,
}

/// A received message, if the event is one (parse errors never get here: rvoip drops
/// datagrams and stream frames it cannot parse).
pub(crate) fn incoming(ev: TransportEvent) -> Option<Incoming> {
    let TransportEvent::MessageReceived {
        message,
        source,
        transport_type,
        flow_id,
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
        peer: Peer::new(source, transport, flow_id.map(|f| f.as_u64())),
    })
}

/// The event streams of the listeners.
pub(crate) struct Receivers {
    pub(crate) udp: mpsc::Receiver<TransportEvent>,
    pub(crate) tcp: mpsc::Receiver<TransportEvent>,
    pub(crate) tls: Option<mpsc::Receiver<TransportEvent>>,
}

/// TLS listener settings (PEM files).
pub(crate) struct TlsSettings<'a> {
    pub(crate) listen: SocketAddr,
    pub(crate) cert: &'a Path,
    pub(crate) key: &'a Path,
}

/// The node's SIP sockets.
pub(crate) struct SipTransport {
    udp: UdpTransport,
    streams: Arc<Streams>,
    /// One sender task per TCP/TLS peer, so a peer that stops reading (or a connection that
    /// takes long to open) never holds up the driver loop or another peer.
    senders: std::collections::HashMap<(Transport, SocketAddr), mpsc::Sender<Transmit>>,
    local: SocketAddr,
    tls_local: Option<SocketAddr>,
}

struct Streams {
    tcp: TcpTransport,
    tls: Option<TlsTransport>,
}

/// Messages queued for one stream peer before further ones are dropped (the peer is not
/// reading; the transaction layer treats it as a lost message).
const STREAM_QUEUE: usize = 256;
/// Longest a write (or a connect) to one stream peer may take.
const STREAM_SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// A peer's sender task ends after this long without anything to send.
const STREAM_IDLE: Duration = Duration::from_secs(60);

impl SipTransport {
    /// Bind UDP and TCP on `addr` (TCP on the port UDP got), and TLS when asked.
    pub(crate) async fn bind(
        addr: SocketAddr,
        tls: Option<TlsSettings<'_>>,
    ) -> Result<(Self, Receivers), rvoip_sip_transport::Error> {
        let (udp, udp_rx) = UdpTransport::bind(addr, Some(16_384)).await?;
        let local = udp.local_addr()?;
        let (tcp, tcp_rx) = TcpTransport::bind(local, Some(4_096), None).await?;
        let (tls, tls_rx, tls_local) = match tls {
            Some(t) => {
                let (tls, rx) = TlsTransport::bind(t.listen, t.cert, t.key, None).await?;
                let a = tls.local_addr()?;
                (Some(tls), Some(rx), Some(a))
            }
            None => (None, None, None),
        };
        Ok((
            Self {
                udp,
                streams: Arc::new(Streams { tcp, tls }),
                senders: std::collections::HashMap::new(),
                local,
                tls_local,
            },
            Receivers {
                udp: udp_rx,
                tcp: tcp_rx,
                tls: tls_rx,
            },
        ))
    }

    /// UDP's (and TCP's) address.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_local
    }

    /// Send one message (a failed send is the transaction's business: it retransmits or
    /// times out).
    pub(crate) async fn send(&mut self, t: Transmit) {
        if t.peer.transport == Transport::Udp {
            if let Err(e) = self.udp.send_message_raw(t.bytes, t.peer.addr).await {
                tracing::debug!(error = %e, "SIP send failed");
            }
            return;
        }
        let key = (t.peer.transport, t.peer.addr);
        let t = match self.senders.get(&key) {
            None => t,
            Some(tx) => match tx.try_send(t) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::debug!(peer = %key.1, "SIP stream peer not reading: message dropped");
                    return;
                }
                // Its task ended (idle): a new one.
                Err(mpsc::error::TrySendError::Closed(t)) => t,
            },
        };
        if self.senders.len() >= 10_000 {
            self.senders.retain(|_, tx| !tx.is_closed());
        }
        let (tx, mut rx) = mpsc::channel::<Transmit>(STREAM_QUEUE);
        let streams = self.streams.clone();
        tokio::spawn(async move {
            while let Ok(Some(t)) = tokio::time::timeout(STREAM_IDLE, rx.recv()).await {
                let sent = match t.peer.transport {
                    Transport::Tcp => {
                        tokio::time::timeout(STREAM_SEND_TIMEOUT, stream_send(&streams.tcp, t))
                            .await
                    }
                    _ => match &streams.tls {
                        Some(tls) => {
                            tokio::time::timeout(STREAM_SEND_TIMEOUT, stream_send(tls, t)).await
                        }
                        None => Ok(Ok(())),
                    },
                };
                if !matches!(sent, Ok(Ok(()))) {
                    tracing::debug!("SIP stream send failed or timed out");
                }
            }
        });
        let _ = tx.try_send(t);
        self.senders.insert(key, tx);
    }

    pub(crate) async fn close(&self) {
        let _ = self.udp.close().await;
        let _ = self.streams.tcp.close().await;
        if let Some(t) = &self.streams.tls {
            let _ = t.close().await;
        }
    }
}

/// On the connection the peer used, else on a new one to its address.
async fn stream_send(
    tr: &impl rvoip_sip_transport::Transport,
    t: Transmit,
) -> Result<(), rvoip_sip_transport::Error> {
    let route = TransportRoute::new(t.peer.addr);
    if let Some(flow) = t
        .peer
        .flow
        .and_then(TransportFlowId::from_process_local_value)
        && tr
            .send_message_raw_via(t.bytes.clone(), route.clone().with_flow_id(flow))
            .await
            .is_ok()
    {
        return Ok(());
    }
    let authority = TransportAuthority::ip(t.peer.addr.ip());
    tr.send_message_raw_via(t.bytes, route.with_authority(authority))
        .await
}
