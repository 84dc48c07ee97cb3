//! The media engine per core: concurrent prompt playbacks, concurrent recordings, conference
//! mixing, each on a one-thread tokio runtime (thread `engine`) whose CPU is measured.
//!
//! - `play`: N legs each looping a prompt (one engine endpoint per leg, 50 packets/s each, to
//!   one sink socket); late packets are the engine's own count (sent > 10 ms after the slot).
//! - `record`: N legs bridged by the relay (its own thread) to N dummy legs, a sender thread
//!   pacing 50 packets/s into each; N recordings (mono WAV) tap them on the engine thread;
//!   every file must come out as long as it ran (within 100 ms).
//! - `mix`: rooms of M members (phones paced at 50 packets/s each); CPU per member.

use patchbay_media::conference::{Member, Room};
use patchbay_media::endpoint::{Endpoint, EngineMetrics};
use patchbay_media::engine::g711::Law;
use patchbay_media::engine::leg::Command;
use patchbay_media::engine::record::{Layout, Limits};
use patchbay_media::recording::{self, RecordingSpec};
use patchbay_media::{LegMedia, MediaConfig, Relay};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn thread_cpu(name: &str) -> f64 {
    let mut total = 0.0;
    if let Ok(rd) = std::fs::read_dir("/proc/self/task") {
        for t in rd.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim() == name {
                total += crate::cpu_secs(&t.path().join("stat").to_string_lossy());
            }
        }
    }
    total
}

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

fn relay(port_min: u16, legs: usize) -> Relay {
    Relay::new(MediaConfig {
        port_min,
        port_max: port_min + 2 * legs as u16 + 10,
        ..Default::default()
    })
    .expect("relay")
}

/// A socket that counts what it receives until `stop`.
fn sink(stop: Arc<AtomicBool>) -> (SocketAddr, Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(50))).ok();
    let addr = s.local_addr().expect("addr");
    let n = Arc::new(AtomicU64::new(0));
    let count = n.clone();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            if s.recv(&mut buf).is_ok() {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    (addr, n, t)
}

/// Paces one 172-byte PCMA packet every 20 ms to each of `dests` (staggered) until `stop`.
fn pacer(dests: Vec<SocketAddr>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut pkt = [0xd5u8; 172];
        pkt[..12].copy_from_slice(&[0x80, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let start = Instant::now();
        let (mut sent, mut seq, mut ts) = (0u64, 0u16, 0u32);
        let n = dests.len() as u64;
        while !stop.load(Ordering::Relaxed) {
            let due = (start.elapsed().as_secs_f64() * 50.0 * n as f64) as u64;
            while sent < due {
                let i = (sent % n) as usize;
                if i == 0 {
                    seq = seq.wrapping_add(1);
                    ts = ts.wrapping_add(160);
                }
                pkt[2..4].copy_from_slice(&seq.to_be_bytes());
                pkt[4..8].copy_from_slice(&ts.to_be_bytes());
                let _ = s.send_to(&pkt, dests[i]);
                sent += 1;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    })
}

pub(crate) fn play(counts: &[u64], secs: u64) -> String {
    let mut o = String::new();
    outln!(
        o,
        "| playbacks | packets sent | expected | late | late % | engine CPU s | playbacks per engine core |"
    );
    outln!(o, "|---|---|---|---|---|---|---|");
    let prompt: Arc<[i16]> = (0..8_000)
        .map(|i| ((i as f32 * 0.2).sin() * 8_000.0) as i16)
        .collect::<Vec<_>>()
        .into();
    for &n in counts {
        let n = n as usize;
        let rt = runtime("engine");
        let relay = relay(43000, n);
        let stop = Arc::new(AtomicBool::new(false));
        let (to, received, rx) = sink(stop.clone());
        let m = EngineMetrics::new();
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        rt.spawn(async move { while events.recv().await.is_some() {} });
        let eps: Vec<Endpoint> = rt.block_on(async {
            (0..n)
                .map(|i| {
                    let leg = relay.alloc_leg().expect("leg");
                    leg.set_remote(to);
                    let ep =
                        Endpoint::start(leg, Law::A, None, i as u64, tx.clone(), m.clone(), false);
                    ep.command(Command::Play {
                        id: 1,
                        samples: prompt.clone(),
                        repeat: true,
                        barge_in: false,
                    });
                    ep
                })
                .collect()
        });
        std::thread::sleep(Duration::from_secs(1));
        let (p0, l0, c0) = (m.packets_sent(), m.late_packets(), thread_cpu("engine"));
        std::thread::sleep(Duration::from_secs(secs));
        let (p1, l1, c1) = (m.packets_sent(), m.late_packets(), thread_cpu("engine"));
        drop(eps);
        stop.store(true, Ordering::Relaxed);
        let _ = rx.join();
        let _ = received.load(Ordering::Relaxed);
        let (sent, late, cpu) = (p1 - p0, l1 - l0, c1 - c0);
        let expected = n as u64 * 50 * secs;
        let per_core = if cpu > 0.0 {
            (n as f64 * secs as f64 / cpu) as u64
        } else {
            0
        };
        outln!(
            o,
            "| {n} | {sent} | {expected} | {late} | {:.3} | {cpu:.2} | {per_core} |",
            late as f64 * 100.0 / sent.max(1) as f64
        );
        drop(rt);
    }
    o
}

pub(crate) fn record(counts: &[u64], secs: u64) -> String {
    let mut o = String::new();
    outln!(
        o,
        "| recordings | files within 100 ms of the time recorded | engine CPU s | relay CPU s | recordings per engine core |"
    );
    outln!(o, "|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("patchbay-bench-rec-{}", std::process::id()));
    for &n in counts {
        let n = n as usize;
        let (relay_rt, engine_rt) = (runtime("relay"), runtime("engine"));
        let relay = relay(44000, 2 * n);
        let stop = Arc::new(AtomicBool::new(false));
        let (to, _received, rx) = sink(stop.clone());
        let mut legs: Vec<Arc<LegMedia>> = Vec::new();
        let mut bridges = Vec::new();
        for _ in 0..n {
            let (a, b) = relay_rt.block_on(async {
                (
                    relay.alloc_leg().expect("leg"),
                    relay.alloc_leg().expect("leg"),
                )
            });
            b.set_remote(to);
            let _g = relay_rt.enter();
            bridges.push(relay.bridge(&a, &b));
            legs.push(a);
        }
        let dests: Vec<SocketAddr> = legs.iter().map(|l| l.local_rtp()).collect();
        let pace_stop = Arc::new(AtomicBool::new(false));
        let pace = pacer(dests, pace_stop.clone());
        std::thread::sleep(Duration::from_millis(300));
        let m = EngineMetrics::new();
        let started = Instant::now();
        let (c0, r0) = (thread_cpu("engine"), thread_cpu("relay"));
        let recs: Vec<_> = engine_rt.block_on(async {
            legs.iter()
                .enumerate()
                .map(|(i, leg)| {
                    recording::start(
                        RecordingSpec {
                            path: dir.join(format!("{n}-{i}.wav")),
                            layout: Layout::Mono,
                            limits: Limits::default(),
                            legs: vec![(leg.clone(), None)],
                        },
                        m.clone(),
                    )
                })
                .collect()
        });
        std::thread::sleep(Duration::from_secs(secs));
        let (c1, r1) = (thread_cpu("engine"), thread_cpu("relay"));
        let ran = started.elapsed().as_millis() as u64;
        let outcomes: Vec<_> = engine_rt.block_on(async {
            let mut out = Vec::new();
            for (mut h, t) in recs {
                h.stop();
                out.push(t.await.expect("recording task"));
            }
            out
        });
        pace_stop.store(true, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        let _ = (pace.join(), rx.join());
        let good = outcomes
            .iter()
            .filter(|x| x.duration_ms.abs_diff(ran) <= 100 && x.bytes > 44)
            .count();
        let cpu = c1 - c0;
        let per_core = if cpu > 0.0 {
            (n as f64 * secs as f64 / cpu) as u64
        } else {
            0
        };
        outln!(
            o,
            "| {n} | {good} of {n} | {cpu:.2} | {:.2} | {per_core} |",
            r1 - r0
        );
        drop(bridges);
        let _ = std::fs::remove_dir_all(&dir);
    }
    o
}

pub(crate) fn mix(rooms: usize, sizes: &[u64], secs: u64) -> String {
    let mut o = String::new();
    outln!(
        o,
        "| rooms x members | members | engine CPU s | CPU per member (us per 20 ms frame) | members per engine core |"
    );
    outln!(o, "|---|---|---|---|---|");
    for &size in sizes {
        let size = size as usize;
        let n = rooms * size;
        let rt = runtime("engine");
        let relay = relay(45000, n);
        let stop = Arc::new(AtomicBool::new(false));
        let (to, _received, rx) = sink(stop.clone());
        let m = EngineMetrics::new();
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        rt.spawn(async move { while events.recv().await.is_some() {} });
        let (handles, dests) = rt.block_on(async {
            let mut handles = Vec::new();
            let mut dests = Vec::new();
            for r in 0..rooms {
                let room = Room::start(tx.clone(), m.clone());
                for k in 0..size {
                    let leg = relay.alloc_leg().expect("leg");
                    leg.set_remote(to);
                    dests.push(leg.local_rtp());
                    room.join(Member {
                        leg,
                        law: Law::A,
                        te_pt: None,
                        tag: (r * size + k) as u64,
                        command: 1,
                        muted: false,
                        bridged: false,
                        tones: false,
                    });
                }
                handles.push(room);
            }
            (handles, dests)
        });
        let pace_stop = Arc::new(AtomicBool::new(false));
        let pace = pacer(dests, pace_stop.clone());
        std::thread::sleep(Duration::from_secs(1));
        let c0 = thread_cpu("engine");
        std::thread::sleep(Duration::from_secs(secs));
        let cpu = thread_cpu("engine") - c0;
        pace_stop.store(true, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        let _ = (pace.join(), rx.join());
        drop(handles);
        let frames = n as f64 * 50.0 * secs as f64;
        outln!(
            o,
            "| {rooms} x {size} | {n} | {cpu:.2} | {:.1} | {} |",
            cpu * 1e6 / frames,
            if cpu > 0.0 {
                (n as f64 * secs as f64 / cpu) as u64
            } else {
                0
            }
        );
        drop(rt);
    }
    o
}
