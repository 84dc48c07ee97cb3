//! Taridium's IPPS wallboard page under load (issue 17): `patchbay up` (release), a SIPp UAS
//! registered as 4007 holding every call, a SIPp UAC placing `calls` calls 4005 -> 4007 that
//! stay up, and one more call 4009 -> 4007: the wallboard's channel. Then `pollers`
//! wallboards (one keep-alive connection each, starts spread over the interval) each GET
//! `/ipps/channelinfo.php?channel=SIP/4009,SIP/4003&useid=1` every `interval_ms` for `secs`:
//! the page's latency as the wallboard sees it (through the gateway and the B2BUA's channel
//! index), p50/p99/max, and the two processes' CPU per page. The channels asked for are a
//! wallboard's: one with a live call, one idle; the page's cost must not grow with the calls
//! on the node (compare a run with `--calls 0`).

use crate::cps::{Kill, free_port, percentile, register};
use crate::setup::{Up, up_with};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAGE: &str = "/ipps/channelinfo.php?channel=SIP/4009,SIP/4003&useid=1";

fn uac(up: &Up, user: &str, rate: u64, calls: u64, hold_ms: u64) -> Kill {
    let csv = up.dir.join(format!("uac-{user}.csv"));
    crate::setup::uac_spawn_to(up, &up.sips[0], user, (rate, calls), hold_ms, &csv)
}

/// One wallboard: polls the page every `interval` from `start` until `end`; the latencies
/// (ms) and whether every page had the live channel `up`.
async fn wallboard(
    addr: String,
    start: tokio::time::Instant,
    interval: Duration,
    end: tokio::time::Instant,
) -> (Vec<f64>, bool) {
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("gateway");
    s.set_nodelay(true).ok();
    let req = format!("GET {PAGE} HTTP/1.1\r\nHost: pbx\r\n\r\n");
    let (mut times, mut ok) = (Vec::new(), true);
    let mut next = start;
    let mut buf = vec![0u8; 4096];
    while next < end {
        tokio::time::sleep_until(next).await;
        next += interval;
        let t = Instant::now();
        s.write_all(req.as_bytes()).await.expect("write");
        let mut got = Vec::new();
        loop {
            let n = s.read(&mut buf).await.expect("read");
            assert!(n > 0, "the gateway closed the connection");
            got.extend_from_slice(&buf[..n]);
            if let Some(h) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..h]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if got.len() >= h + 4 + len {
                    let body = String::from_utf8_lossy(&got[h + 4..h + 4 + len]);
                    let good = head.starts_with("http/1.1 200") && body.contains("SIP/4009,up,");
                    if !good && ok {
                        eprintln!("a wallboard got: {head}\n{body}");
                    }
                    ok &= good;
                    break;
                }
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (times, ok)
}

/// `cluster`: that many nodes behind the SIP edge on the PostgreSQL server given (see
/// `crate::cluster`) instead of `patchbay up` alone.
pub(crate) fn run(
    patchbay: &str,
    calls: u64,
    pollers: usize,
    (interval_ms, secs): (u64, u64),
    cluster: Option<(u8, &str)>,
) -> String {
    let mut o = String::new();
    // Every call's two legs hold a relay port pair each (RTP and RTCP sockets).
    let up = match cluster {
        Some((nodes, server)) => crate::cluster::up(patchbay, nodes, server, (20000, 59998), ""),
        None => up_with(
            patchbay,
            "  media:\n    port_min: 20000\n    port_max: 59998\n",
        ),
    };
    let pid = up.pb.0.id();
    let uas_port = free_port();
    register(&up.sips[0], "4007", uas_port, &up.dir);
    let _uas = crate::setup::uas_holding(&up.dir, uas_port);
    // (Every node of a cluster learns the registration from the store.)
    std::thread::sleep(Duration::from_millis(1500));
    let rate = 200;
    // Up well past the measurement (waiting for the calls, warm-up, window).
    let hold_ms = (2 * calls / rate + secs + 90) * 1000;
    // The calls shared by the nodes (each node's SIP address directly).
    let n = up.sips.len() as u64;
    let _many: Vec<Kill> = up
        .sips
        .iter()
        .enumerate()
        .filter(|_| calls > 0)
        .map(|(i, sip)| {
            let csv = up.dir.join(format!("uac-many-{i}.csv"));
            crate::setup::uac_spawn_to(&up, sip, "4005", (rate / n, calls / n), hold_ms, &csv)
        })
        .collect();
    let _one = uac(&up, "4009", 1, 1, hold_ms);
    // Until every call is up, or the count stops growing once they all had their time.
    let live = up.wait_calls_up(calls + 1, calls, rate);
    std::thread::sleep(Duration::from_secs(2));
    let pids: Vec<u32> = up.nodes.iter().map(|(p, _)| *p).collect();
    let cpu = move || {
        pids.iter()
            .map(|p| crate::cpu_secs(&format!("/proc/{p}/stat")))
            .sum::<f64>()
    };
    let cpu_then = cpu.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (times, all_ok, cpu_s) = rt.block_on(async {
        let interval = Duration::from_millis(interval_ms);
        let t0 = tokio::time::Instant::now() + Duration::from_millis(500);
        // Warm-up: the first round (connections opening) is not measured.
        let measured_from = t0 + interval;
        let end = measured_from + Duration::from_secs(secs);
        let before = std::sync::Arc::new(std::sync::Mutex::new(None::<f64>));
        let b = before.clone();
        let marker = tokio::spawn(async move {
            tokio::time::sleep_until(measured_from).await;
            *b.lock().unwrap() = Some(cpu_then());
        });
        let tasks: Vec<_> = (0..pollers)
            .map(|i| {
                let start = t0 + interval * (i as u32) / (pollers as u32);
                tokio::spawn(wallboard(up.http.clone(), start, interval, end))
            })
            .collect();
        let (mut all, mut ok) = (Vec::new(), true);
        for t in tasks {
            let (times, good) = t.await.expect("wallboard");
            // Each wallboard's first poll falls in the warm-up round.
            all.extend(times.into_iter().skip(1));
            ok &= good;
        }
        marker.await.ok();
        let spent = cpu() - before.lock().unwrap().unwrap_or(0.0);
        (all, ok, spent)
    });
    if !all_ok && let Some(m) = crate::setup::metrics_text(&up.admin) {
        for l in m
            .lines()
            .filter(|l| l.starts_with("patchbay_b2bua_calls_ended_total"))
        {
            eprintln!("{l}");
        }
        eprintln!(
            "open fds: {:?}",
            std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count())
        );
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    outln!(
        o,
        "| live calls | wallboards | every (s) | pages | all right | p50 (ms) | p99 (ms) | max (ms) | patchbay CPU ms per page |"
    );
    outln!(o, "|---|---|---|---|---|---|---|---|---|");
    outln!(
        o,
        "| {live} | {pollers} | {:.0} | {n} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
        interval_ms as f64 / 1000.0,
        if all_ok { "yes" } else { "NO" },
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0.0),
        cpu_s * 1000.0 / n.max(1) as f64
    );
    match cluster {
        Some((_, server)) => crate::cluster::down(up, server),
        None => {
            drop(up.pb);
            let _ = std::fs::remove_dir_all(&up.dir);
        }
    }
    o
}
