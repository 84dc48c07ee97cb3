//! rvoip-tm-probe: how much CPU does rvoip 0.4.0's SIP transaction layer cost per call?
//!
//! A UAS on 127.0.0.1 that answers SIPp's built-in `uac` scenario
//! (INVITE -> 200 OK with SDP, ACK, BYE -> 200 OK) in one of these modes:
//!
//! * `tm`  — rvoip-sip-transport UDP + rvoip-sip-dialog `TransactionManager`
//!           (server transactions created by the manager, TU consumes the
//!           `TransactionEvent` stream and calls `send_response`, like
//!           rvoip-sip-proxy does).
//!           `--profile default`: `UdpTransport::bind` + `TransactionManager::new`.
//!           `--profile hp`: `TransportManager` + the knobs of rvoip-sip's
//!           `signaling-only-server-high-performance` recipe (8 MiB socket
//!           buffers, 4 UDP parse workers round-robin, 2 transaction dispatch
//!           workers, command channel 128, auto 100 Trying off).
//! * `raw` — tokio `UdpSocket`, `rvoip_sip_core::parse_message`, responses built with
//!           `SimpleResponseBuilder::response_from_request`, a `HashMap` keyed by Call-ID.
//! * `tm-uac` — the probe is the UAC (client INVITE + ACK + client BYE through the
//!           TransactionManager) toward `sipp -sn uas`.
//!
//! On SIGINT or after `--seconds N` it prints calls, process CPU (utime+stime from
//! /proc/self/stat), CPU ms per call over the load window, and VmHWM.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SDP: &str = "v=0\r\n\
o=probe 1 1 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

mod measure;
mod raw;
mod tm;

use measure::*;
use raw::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tm::*;

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "rvoip-tm-probe --mode tm|raw|tm-uac [--port 5090] [--seconds N]\n\
             \x20 [--profile default|manager|hp] [--auto100 true|false] [--parse-workers N]\n\
             \x20 [--dispatch-workers N] [--cmd-cap N] [--capacity N] [--worker-threads N]\n\
             \x20 tm-uac: [--target 127.0.0.1:5070] [--rate CPS] [--calls N]"
        );
        return;
    }
    let mode: String = arg(&args, "--mode").unwrap_or_else(|| "tm".into());
    let port: u16 = arg(&args, "--port").unwrap_or(5090);
    let seconds: Option<u64> = arg(&args, "--seconds");
    let worker_threads: Option<usize> = arg(&args, "--worker-threads");
    let knobs = TmKnobs {
        profile: arg(&args, "--profile").unwrap_or_else(|| "default".into()),
        auto100: arg(&args, "--auto100"),
        parse_workers: arg(&args, "--parse-workers"),
        dispatch_workers: arg(&args, "--dispatch-workers"),
        cmd_cap: arg(&args, "--cmd-cap"),
        capacity: arg(&args, "--capacity").unwrap_or(10_000),
    };
    let target: SocketAddr =
        arg(&args, "--target").unwrap_or_else(|| "127.0.0.1:5070".parse().unwrap());
    let rate: u64 = arg(&args, "--rate").unwrap_or(500);
    let total: u64 = arg(&args, "--calls").unwrap_or(5000);

    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = worker_threads {
        rt.worker_threads(n);
    }
    let rt = rt.build().unwrap();

    let started = Instant::now();
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let samples = start_sampler(counters.clone(), stop.clone());
    let ev_hist: Arc<Mutex<HashMap<&'static str, u64>>> = Default::default();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let profile_label = if mode == "raw" {
        "-".to_string()
    } else {
        knobs.profile.clone()
    };

    rt.block_on(async {
        let c = counters.clone();
        let work = async {
            match mode.as_str() {
                "raw" => run_raw(addr, c).await,
                "tm" => run_tm(addr, c, knobs, ev_hist.clone()).await,
                "tm-uac" => run_tm_uac(addr, target, rate, total, c, knobs, ev_hist.clone()).await,
                m => panic!("unknown --mode {m}"),
            }
        };
        let deadline = async {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = work => {},
            _ = tokio::signal::ctrl_c() => {},
            _ = deadline => {},
        }
    });
    stop.store(true, Ordering::Relaxed);
    let s = samples.lock().unwrap().clone();
    let mut extra = String::new();
    {
        let h = ev_hist.lock().unwrap();
        if !h.is_empty() {
            let mut v: Vec<_> = h.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1));
            extra = format!(
                "tu_events(approx, flushed every 256): {}",
                v.iter()
                    .map(|(k, n)| format!("{k}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
    report(&mode, &profile_label, &counters, &s, started, &extra);
    // Don't wait for rvoip's background tasks to drain.
    std::process::exit(0);
}
