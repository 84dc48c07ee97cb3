//! Socket side of the relay: port pool, per-leg sockets, forwarding tasks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::metrics::{JITTER_SAMPLE_EVERY, Jitter, LATENCY_SAMPLE_EVERY, RelayMetrics};

mod headers;

use headers::{Rewrite, SeqTracker};

/// Relay settings (part of the app config).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// Address the RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Address put into SDP (defaults to `bind_ip`).
    pub advertise_ip: Option<IpAddr>,
    /// First port of the range (an even number).
    pub port_min: u16,
    /// Last port of the range.
    pub port_max: u16,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            advertise_ip: None,
            port_min: 20000,
            port_max: 29999,
        }
    }
}

impl MediaConfig {
    pub fn validate(&self) -> Result<(), MediaError> {
        if !self.port_min.is_multiple_of(2)
            || self.port_min >= self.port_max
            || self.port_min < 1024
        {
            return Err(MediaError::Config(format!(
                "media port range {}-{} must start on an even port >= 1024 and hold at least one pair",
                self.port_min, self.port_max
            )));
        }
        if !self.bind_ip.is_ipv4() {
            return Err(MediaError::Config(
                "media.bind_ip: only IPv4 is supported".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("invalid media config: {0}")]
    Config(String),
    /// Every port pair of the range is taken.
    #[error("no free RTP port pair in the range")]
    PortsExhausted,
    #[error("socket error: {0}")]
    Socket(String),
}

#[derive(Debug)]
struct PortPool {
    free: std::collections::VecDeque<u16>,
    in_use: usize,
}

/// Allocates leg sockets from the port range and bridges legs.
#[derive(Debug, Clone)]
pub struct Relay {
    cfg: Arc<MediaConfig>,
    pool: Arc<Mutex<PortPool>>,
    metrics: Arc<RelayMetrics>,
}

/// Counters of one leg (what arrived from its phone, and what was sent to it).
#[derive(Debug, Default)]
pub struct LegStats {
    pub rtp_in: AtomicU64,
    pub rtp_in_bytes: AtomicU64,
    pub rtp_out: AtomicU64,
    pub rtp_out_bytes: AtomicU64,
    pub rtcp_in: AtomicU64,
    pub rtcp_out: AtomicU64,
    /// Packets from a source other than the latched peer.
    pub foreign_dropped: AtomicU64,
    /// Packets that could not be forwarded (no destination yet, or send error).
    pub undeliverable: AtomicU64,
    /// RTP packets missing by sequence number (expected - received).
    pub rtp_lost: AtomicU64,
}

/// Media end of one call leg: an RTP socket on an even port and RTCP on the next.
#[derive(Debug)]
pub struct LegMedia {
    pub(crate) rtp: UdpSocket,
    rtcp: UdpSocket,
    port: u16,
    advertise: SocketAddr,
    /// Where this leg's phone sends from / we send to (packed, 0 = unknown).
    peer_rtp: AtomicU64,
    peer_rtcp: AtomicU64,
    latched_rtp: AtomicBool,
    latched_rtcp: AtomicBool,
    /// The audio codec agreed for what this leg's phone sends: payload type << 32 | RTP clock
    /// rate (0 = not known; jitter then covers the static 8 kHz types only).
    audio: AtomicU64,
    /// The last RTP header sent to this leg's phone: SSRC << 32 | sequence << 16 (the low
    /// bits: 1 once anything was sent), and the timestamp. Whoever sends next (the relay, the
    /// engine) carries the phone's stream on from there.
    last_out: AtomicU64,
    last_out_ts: AtomicU32,
    /// Recordings (and mixes) copying what the phone sends; `tapped` says whether there are
    /// any, so that the forwarding loop takes no lock when there are none.
    taps: Mutex<Vec<crate::recording::Tap>>,
    tapped: AtomicBool,
    /// The engine speaks to this leg's phone now: the relay holds back what it would forward.
    engine_owned: AtomicBool,
    /// Bumped each time the engine hands the phone's stream back: the relay then carries the
    /// stream on (same SSRC, next sequence number and timestamp) by rewriting its packets.
    handbacks: AtomicU32,
    pub stats: LegStats,
    pool: Arc<Mutex<PortPool>>,
}

/// Forwarding between two legs; dropping it stops the relay.
#[derive(Debug)]
pub struct Bridge {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn pack(addr: SocketAddr) -> u64 {
    match addr {
        SocketAddr::V4(v4) => {
            (1 << 48) | (u64::from(u32::from(*v4.ip())) << 16) | u64::from(v4.port())
        }
        SocketAddr::V6(_) => 0,
    }
}

fn unpack(v: u64) -> Option<SocketAddr> {
    if v == 0 {
        return None;
    }
    let ip = Ipv4Addr::from(((v >> 16) & 0xffff_ffff) as u32);
    Some(SocketAddr::V4(SocketAddrV4::new(ip, (v & 0xffff) as u16)))
}

// === impl Relay ===

impl Relay {
    pub fn new(cfg: MediaConfig) -> Result<Self, MediaError> {
        cfg.validate()?;
        let free = (cfg.port_min..cfg.port_max).step_by(2).collect();
        Ok(Self {
            cfg: Arc::new(cfg),
            pool: Arc::new(Mutex::new(PortPool { free, in_use: 0 })),
            metrics: Arc::new(RelayMetrics::new()),
        })
    }

    /// Live counters and sampled histograms of every bridge of this relay.
    pub fn metrics(&self) -> &RelayMetrics {
        &self.metrics
    }

    pub fn config(&self) -> &MediaConfig {
        &self.cfg
    }

    /// Port pairs currently held by legs.
    pub fn legs_in_use(&self) -> usize {
        self.pool.lock().map(|p| p.in_use).unwrap_or(0)
    }

    /// Take a port pair and bind both sockets. Must run inside a tokio runtime.
    pub fn alloc_leg(&self) -> Result<Arc<LegMedia>, MediaError> {
        let bind_ip = self.cfg.bind_ip;
        let advertise_ip = self.cfg.advertise_ip.unwrap_or(bind_ip);
        // Ports another program holds are skipped (and put back at the end of the queue).
        let attempts = self.pool.lock().map(|p| p.free.len()).unwrap_or(0);
        for _ in 0..attempts {
            let port = {
                let Ok(mut p) = self.pool.lock() else { break };
                let Some(port) = p.free.pop_front() else {
                    break;
                };
                p.in_use += 1;
                port
            };
            match (bind(bind_ip, port), bind(bind_ip, port + 1)) {
                (Ok(rtp), Ok(rtcp)) => {
                    return Ok(Arc::new(LegMedia {
                        rtp,
                        rtcp,
                        port,
                        advertise: SocketAddr::new(advertise_ip, port),
                        peer_rtp: AtomicU64::new(0),
                        peer_rtcp: AtomicU64::new(0),
                        latched_rtp: AtomicBool::new(false),
                        latched_rtcp: AtomicBool::new(false),
                        audio: AtomicU64::new(0),
                        last_out: AtomicU64::new(0),
                        last_out_ts: AtomicU32::new(0),
                        taps: Mutex::new(Vec::new()),
                        tapped: AtomicBool::new(false),
                        engine_owned: AtomicBool::new(false),
                        handbacks: AtomicU32::new(0),
                        stats: LegStats::default(),
                        pool: self.pool.clone(),
                    }));
                }
                _ => {
                    if let Ok(mut p) = self.pool.lock() {
                        p.in_use -= 1;
                        p.free.push_back(port);
                    }
                }
            }
        }
        Err(MediaError::PortsExhausted)
    }

    /// Relay RTP and RTCP between `a` and `b` until the returned [`Bridge`] is dropped.
    pub fn bridge(&self, a: &Arc<LegMedia>, b: &Arc<LegMedia>) -> Bridge {
        let m = &self.metrics;
        let tasks = vec![
            tokio::spawn(forward(a.clone(), b.clone(), false, m.clone())),
            tokio::spawn(forward(b.clone(), a.clone(), false, m.clone())),
            tokio::spawn(forward(a.clone(), b.clone(), true, m.clone())),
            tokio::spawn(forward(b.clone(), a.clone(), true, m.clone())),
        ];
        Bridge { tasks }
    }
}

fn bind(ip: IpAddr, port: u16) -> Result<UdpSocket, MediaError> {
    let err = |e: std::io::Error| MediaError::Socket(e.to_string());
    let domain = if ip.is_ipv4() {
        socket2::Domain::IPV4
    } else {
        socket2::Domain::IPV6
    };
    let s = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))
        .map_err(err)?;
    // Bursts of a few hundred calls must not overflow the default ~200 KB buffer.
    let _ = s.set_recv_buffer_size(1 << 20);
    s.set_nonblocking(true).map_err(err)?;
    s.bind(&SocketAddr::new(ip, port).into()).map_err(err)?;
    let std: StdUdpSocket = s.into();
    UdpSocket::from_std(std).map_err(err)
}

// === impl LegMedia ===

impl LegMedia {
    /// Our RTP address for this leg, as put into SDP.
    pub fn local_rtp(&self) -> SocketAddr {
        self.advertise
    }

    /// The RTP address the phone announced in SDP; RTCP is assumed on the next port.
    /// Resets latching: the next packet from the phone fixes the peer again.
    pub fn set_remote(&self, rtp: SocketAddr) {
        let rtcp = SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1));
        self.peer_rtp.store(pack(rtp), Relaxed);
        self.peer_rtcp.store(pack(rtcp), Relaxed);
        self.latched_rtp.store(false, Relaxed);
        self.latched_rtcp.store(false, Relaxed);
    }

    /// The peer RTP address in use (announced, or latched).
    pub fn remote_rtp(&self) -> Option<SocketAddr> {
        unpack(self.peer_rtp.load(Relaxed))
    }

    /// Tell the relay which codec this leg's phone sends (the first audio codec of the agreed
    /// list, telephone-event skipped), so jitter is estimated on its clock.
    pub fn set_audio_codecs(&self, codecs: &[crate::sdp::Codec]) {
        let audio = codecs.iter().find_map(|c| {
            let mut parts = c.rtpmap.split('/');
            let name = parts.next().unwrap_or("");
            if name.eq_ignore_ascii_case("telephone-event") {
                return None;
            }
            let rate = parts
                .next()
                .and_then(|r| r.parse::<u32>().ok())
                .or_else(|| Jitter::static_clock(c.pt))?;
            Some((u64::from(c.pt) << 32) | u64::from(rate))
        });
        self.audio.store(audio.unwrap_or(0), Relaxed);
    }

    pub fn is_latched(&self) -> bool {
        self.latched_rtp.load(Relaxed)
    }

    /// Latching for a reader of the RTP socket other than the relay: whether a packet from
    /// `from` is the phone's (the first source is taken as the phone's when none is latched).
    pub(crate) fn accept_from(&self, from: SocketAddr) -> bool {
        let from = pack(from);
        if self.latched_rtp.load(Relaxed) {
            if self.peer_rtp.load(Relaxed) != from {
                self.stats.foreign_dropped.fetch_add(1, Relaxed);
                return false;
            }
        } else if from != 0 {
            self.peer_rtp.store(from, Relaxed);
            self.latched_rtp.store(true, Relaxed);
        }
        true
    }

    /// The header of the last RTP packet sent to the phone (`None` before the first).
    pub fn last_sent(&self) -> Option<crate::engine::rtp::Header> {
        let v = self.last_out.load(Relaxed);
        (v & 1 == 1).then(|| crate::engine::rtp::Header {
            pt: 0,
            marker: false,
            ssrc: (v >> 32) as u32,
            seq: (v >> 16) as u16,
            ts: self.last_out_ts.load(Relaxed),
        })
    }

    /// The engine takes the phone's stream (the relay stops forwarding to it).
    pub(crate) fn take_over(&self) {
        self.engine_owned.store(true, Relaxed);
    }

    /// The engine gives the phone's stream back to the relay, which carries it on.
    pub(crate) fn hand_back(&self) {
        if self.engine_owned.swap(false, Relaxed) {
            self.handbacks.fetch_add(1, Relaxed);
        }
    }

    /// Copy every RTP packet from the phone to `tap` from now on.
    pub(crate) fn add_tap(&self, tap: crate::recording::Tap) {
        if let Ok(mut t) = self.taps.lock() {
            t.push(tap);
            self.tapped.store(true, Relaxed);
        }
    }

    /// Stop copying to tap `id`.
    pub(crate) fn remove_tap(&self, id: u64) {
        if let Ok(mut t) = self.taps.lock() {
            t.retain(|x| x.id != id);
            self.tapped.store(!t.is_empty(), Relaxed);
        }
    }

    /// An RTP packet from the phone, for the taps (if any).
    #[inline]
    pub(crate) fn tap(&self, pkt: &[u8]) {
        if self.tapped.load(Relaxed)
            && let Ok(t) = self.taps.lock()
        {
            for tap in t.iter() {
                tap.send(pkt);
            }
        }
    }

    /// Note the header of an RTP packet just sent to the phone (`pkt` starts with it).
    pub(crate) fn note_sent(&self, pkt: &[u8]) {
        if pkt.len() >= 12 {
            let ssrc = u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]);
            let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
            let ts = u32::from_be_bytes([pkt[4], pkt[5], pkt[6], pkt[7]]);
            self.last_out_ts.store(ts, Relaxed);
            self.last_out.store(
                (u64::from(ssrc) << 32) | (u64::from(seq) << 16) | 1,
                Relaxed,
            );
        }
    }
}

impl Drop for LegMedia {
    fn drop(&mut self) {
        if let Ok(mut p) = self.pool.lock() {
            p.in_use -= 1;
            p.free.push_back(self.port);
        }
    }
}

/// Receive on `src`'s socket (from `src`'s phone), send out of `dst`'s socket to `dst`'s phone.
async fn forward(src: Arc<LegMedia>, dst: Arc<LegMedia>, rtcp: bool, m: Arc<RelayMetrics>) {
    let (sock_in, peer_in, latched) = if rtcp {
        (&src.rtcp, &src.peer_rtcp, &src.latched_rtcp)
    } else {
        (&src.rtp, &src.peer_rtp, &src.latched_rtp)
    };
    let (sock_out, peer_out) = if rtcp {
        (&dst.rtcp, &dst.peer_rtcp)
    } else {
        (&dst.rtp, &dst.peer_rtp)
    };
    let mut buf = [0u8; 2048];
    let mut seq = SeqTracker::default();
    let mut lost_reported = 0u64;
    let mut jitter = Jitter::default();
    let origin = std::time::Instant::now();
    let mut rtp_seen = 0u64;
    let mut received = 0u64;
    // Once the engine spoke to dst's phone, what the relay sends it continues that stream.
    let mut seen_handbacks = dst.handbacks.load(Relaxed);
    let mut rewrite: Option<Rewrite> = None;
    loop {
        let (n, from) = match sock_in.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP port-unreachable from an earlier send surfaces here on Linux: ignore it.
            Err(_) => continue,
        };
        received += 1;
        let got = (!rtcp && received % LATENCY_SAMPLE_EVERY == 1).then(std::time::Instant::now);
        let from = pack(from);
        if latched.load(Relaxed) {
            if peer_in.load(Relaxed) != from {
                src.stats.foreign_dropped.fetch_add(1, Relaxed);
                m.foreign.inc();
                continue;
            }
        } else if from != 0 {
            peer_in.store(from, Relaxed);
            latched.store(true, Relaxed);
        }
        if rtcp {
            src.stats.rtcp_in.fetch_add(1, Relaxed);
        } else {
            src.stats.rtp_in.fetch_add(1, Relaxed);
            src.stats.rtp_in_bytes.fetch_add(n as u64, Relaxed);
            src.tap(&buf[..n]);
            if n >= 12 && buf[0] >> 6 == 2 {
                let lost = seq.push(u16::from_be_bytes([buf[2], buf[3]]));
                src.stats.rtp_lost.store(lost, Relaxed);
                if lost > lost_reported {
                    m.rtp_lost.inc_by(lost - lost_reported);
                    lost_reported = lost;
                }
                rtp_seen += 1;
                let pt = buf[1] & 0x7f;
                let audio = src.audio.load(Relaxed);
                let clock = if audio == 0 {
                    Jitter::static_clock(pt)
                } else {
                    (u64::from(pt) == audio >> 32).then_some(audio as u32)
                };
                if let Some(clock) = clock {
                    let ts = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
                    jitter.push(origin.elapsed().as_secs_f64(), ts, clock);
                    if rtp_seen.is_multiple_of(JITTER_SAMPLE_EVERY) {
                        m.jitter.observe(jitter.seconds());
                    }
                }
            }
        }
        if !rtcp {
            if dst.engine_owned.load(Relaxed) {
                continue; // the engine is speaking to dst's phone
            }
            let h = dst.handbacks.load(Relaxed);
            if h != seen_handbacks {
                seen_handbacks = h;
                rewrite = dst
                    .last_sent()
                    .and_then(|last| Rewrite::after(last, &buf[..n]));
            }
            if let Some(r) = &rewrite {
                r.apply(&mut buf[..n]);
            }
        }
        let Some(to) = unpack(peer_out.load(Relaxed)) else {
            src.stats.undeliverable.fetch_add(1, Relaxed);
            m.undeliverable.inc();
            continue;
        };
        match sock_out.send_to(&buf[..n], to).await {
            Ok(_) if rtcp => {
                dst.stats.rtcp_out.fetch_add(1, Relaxed);
                m.relayed(true, n);
            }
            Ok(_) => {
                dst.note_sent(&buf[..n]);
                dst.stats.rtp_out.fetch_add(1, Relaxed);
                dst.stats.rtp_out_bytes.fetch_add(n as u64, Relaxed);
                m.relayed(false, n);
                if let Some(t) = got {
                    m.latency.observe(t.elapsed().as_secs_f64());
                }
            }
            Err(_) => {
                src.stats.undeliverable.fetch_add(1, Relaxed);
                m.undeliverable.inc();
            }
        }
    }
}

/// A relay on ports `port_min`.. (ten pairs), for the crate's tests.
#[cfg(test)]
pub(crate) fn test_relay(port_min: u16) -> Relay {
    Relay::new(MediaConfig {
        port_min,
        port_max: port_min + 10,
        ..Default::default()
    })
    .expect("relay")
}

/// A phone's RTP socket for `leg` (announced as its remote address), for the crate's tests.
#[cfg(test)]
pub(crate) fn test_phone(leg: &LegMedia) -> StdUdpSocket {
    let phone = StdUdpSocket::bind("127.0.0.1:0").expect("phone socket");
    leg.set_remote(phone.local_addr().expect("addr"));
    phone
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn relays_with_latching_and_frees_ports() {
        let relay = Relay::new(MediaConfig {
            port_min: 41000,
            port_max: 41010,
            ..Default::default()
        })
        .unwrap();
        let (a, b) = (relay.alloc_leg().unwrap(), relay.alloc_leg().unwrap());
        assert_eq!(relay.legs_in_use(), 2);
        let pa = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        let pb = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        let intruder = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&pa, &pb] {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        }
        b.set_remote(pb.local_addr().unwrap());
        let bridge = relay.bridge(&a, &b);
        // Phone A sends first (a never announced its address: latching finds it).
        let rtp = [0x80u8, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xd5];
        pa.send_to(&rtp, a.local_rtp()).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = pb.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&rtp[..], b.local_rtp()));
        pb.send_to(&rtp, b.local_rtp()).unwrap();
        let (n, from) = pa.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&rtp[..], a.local_rtp()));
        // Once latched, another source is ignored.
        intruder.send_to(&rtp, a.local_rtp()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(a.stats.foreign_dropped.load(Relaxed), 1);
        assert_eq!(b.stats.rtp_out.load(Relaxed), 1);
        assert_eq!(relay.metrics().rtp_packets(), 2);
        assert_eq!(relay.metrics().foreign.get(), 1);
        drop(bridge);
        drop((a, b));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(relay.legs_in_use(), 0);
    }
}
