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

pub(crate) fn run(pairs: usize, rates: &[u64], secs: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("relay")
        .enable_all()
        .build()
        .expect("runtime");
    let relay = Relay::new(MediaConfig {
        port_min: 42000,
        port_max: 42000 + 4 * pairs as u16 + 10,
        ..Default::default()
    })
    .expect("relay");
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
    println!(
        "| offered pps | sent | received | lost | loss % | relay CPU s | relay pps per core |"
    );
    println!("|---|---|---|---|---|---|---|");
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
                if i % senders.len() == 0 {
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
        println!(
            "| {rate} | {sent} | {got} | {lost} | {:.3} | {cpu:.2} | {per_core} |",
            lost as f64 * 100.0 / sent.max(1) as f64
        );
    }
    stop.store(true, Ordering::Relaxed);
    let _ = rx.join();
    drop(bridges);
    drop(legs);
}
