//! RTP relay throughput: packets per second at 0 loss, and relay CPU per packet.

use patchbay_media::{MediaConfig, Relay};
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn relay_thread_cpu() -> f64 {
    let mut total = 0.0;
    if let Ok(rd) = std::fs::read_dir("/proc/self/task") {
        for t in rd.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim() == "relay" {
                total += crate::cpu_secs(&t.path().join("stat").to_string_lossy());
            }
        }
    }
    total
}

/// The relay on its own one-thread runtime (thread `relay`), ports from `port_min`.
fn relay_on_own_thread(port_min: u16, ports: u16) -> (tokio::runtime::Runtime, Relay) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("relay")
        .enable_all()
        .build()
        .expect("runtime");
    let relay = Relay::new(MediaConfig {
        port_min,
        port_max: port_min + ports,
        ..Default::default()
    })
    .expect("relay");
    (rt, relay)
}

pub(crate) fn run(pairs: usize, rates: &[u64], secs: u64) -> String {
    let mut o = String::new();
    let (rt, relay) = relay_on_own_thread(42000, 4 * pairs as u16 + 10);
    let mut senders = Vec::new();
    let mut sinks = Vec::new();
    let mut bridges = Vec::new();
    let mut legs = Vec::new();
    for _ in 0..pairs {
        let (a, b) = rt.block_on(async {
            (
                relay.alloc_leg().expect("leg"),
                relay.alloc_leg().expect("leg"),
            )
        });
        let pa = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let pb = UdpSocket::bind("127.0.0.1:0").expect("bind");
        pb.set_nonblocking(true).expect("nonblocking");
        a.set_remote(pa.local_addr().expect("addr"));
        b.set_remote(pb.local_addr().expect("addr"));
        let _guard = rt.enter();
        bridges.push(relay.bridge(&a, &b));
        senders.push((pa, a.local_rtp()));
        sinks.push(pb);
        legs.push((a, b));
    }
    let received = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let rx = {
        let (received, stop) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                let mut got = false;
                for s in &sinks {
                    while let Ok(_n) = s.recv(&mut buf) {
                        received.fetch_add(1, Ordering::Relaxed);
                        got = true;
                    }
                }
                if !got {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        })
    };
    outln!(
        o,
        "| offered pps | sent | received | lost | loss % | relay CPU s | relay pps per core |"
    );
    outln!(o, "|---|---|---|---|---|---|---|");
    let mut pkt = [0u8; 172];
    pkt[0] = 0x80;
    pkt[1] = 8;
    let mut seq: u16 = 0;
    for &rate in rates {
        let before_rx = received.load(Ordering::Relaxed);
        let cpu0 = relay_thread_cpu();
        let start = Instant::now();
        let mut sent: u64 = 0;
        let total = rate * secs;
        let mut i = 0usize;
        while sent < total {
            // Pace in 1 ms slices.
            let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
            while sent < due {
                let (s, dest) = &senders[i % senders.len()];
                pkt[2..4].copy_from_slice(&seq.to_be_bytes());
                if s.send_to(&pkt, dest).is_ok() {
                    sent += 1;
                }
                i += 1;
                if i.is_multiple_of(senders.len()) {
                    seq = seq.wrapping_add(1);
                }
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        std::thread::sleep(Duration::from_millis(500));
        let cpu = relay_thread_cpu() - cpu0;
        let got = received.load(Ordering::Relaxed) - before_rx;
        let lost = sent.saturating_sub(got);
        let per_core = if cpu > 0.0 {
            (got as f64 / cpu) as u64
        } else {
            0
        };
        outln!(
            o,
            "| {rate} | {sent} | {got} | {lost} | {:.3} | {cpu:.2} | {per_core} |",
            lost as f64 * 100.0 / sent.max(1) as f64
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = rx.join();
    drop(bridges);
    drop(legs);
    o
}

/// Send `packets` timestamped RTP packets at `pps` through one bridged pair, and the same
/// straight from socket to socket; print both one-way latency distributions and the difference.
pub(crate) fn latency(packets: u64, pps: u64) -> String {
    let mut o = String::new();
    let (rt, relay) = relay_on_own_thread(43000, 10);
    let (a, b) = rt.block_on(async {
        (
            relay.alloc_leg().expect("leg"),
            relay.alloc_leg().expect("leg"),
        )
    });
    let pa = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let pb = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let direct = UdpSocket::bind("127.0.0.1:0").expect("bind");
    a.set_remote(pa.local_addr().expect("addr"));
    b.set_remote(pb.local_addr().expect("addr"));
    let bridge = {
        let _g = rt.enter();
        relay.bridge(&a, &b)
    };
    let origin = Instant::now();
    let run = |dest: std::net::SocketAddr, sink: &UdpSocket| -> Vec<f64> {
        sink.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut lat = Vec::with_capacity(packets as usize);
        let mut pkt = [0u8; 172];
        pkt[0] = 0x80;
        pkt[1] = 8;
        let mut buf = [0u8; 2048];
        let gap = Duration::from_secs_f64(1.0 / pps as f64);
        for i in 0..packets {
            pkt[2..4].copy_from_slice(&(i as u16).to_be_bytes());
            pkt[4..8].copy_from_slice(&((i * 160) as u32).to_be_bytes());
            let sent = origin.elapsed().as_nanos() as u64;
            pkt[12..20].copy_from_slice(&sent.to_be_bytes());
            pa.send_to(&pkt, dest).expect("send");
            if let Ok(n) = sink.recv(&mut buf)
                && n >= 20
            {
                let t = u64::from_be_bytes(buf[12..20].try_into().expect("8 bytes"));
                let now = origin.elapsed().as_nanos() as u64;
                lat.push(now.saturating_sub(t) as f64 / 1000.0);
            }
            std::thread::sleep(gap);
        }
        lat.sort_by(f64::total_cmp);
        lat
    };
    let via_relay = run(a.local_rtp(), &pb);
    let straight = run(direct.local_addr().expect("addr"), &direct);
    let pct = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    outln!(
        o,
        "| path | packets received | p50 (us) | p99 (us) | max (us) |"
    );
    outln!(o, "|---|---|---|---|---|");
    for (name, v) in [
        ("socket to socket", &straight),
        ("through the relay", &via_relay),
    ] {
        outln!(
            o,
            "| {name} | {} | {:.1} | {:.1} | {:.1} |",
            v.len(),
            pct(v, 0.5),
            pct(v, 0.99),
            v[v.len() - 1]
        );
    }
    outln!(
        o,
        "\nrelay-added latency: p50 {:.1} us, p99 {:.1} us; the relay's own sampled histogram (receive returned -> send returned) counted {} packets",
        pct(&via_relay, 0.5) - pct(&straight, 0.5),
        pct(&via_relay, 0.99) - pct(&straight, 0.99),
        relay.metrics().rtp_packets()
    );
    drop(bridge);
    o
}
