//! Counters, /proc sampling and the report.
#![allow(unused_imports)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rvoip_sip_core::builder::{SimpleRequestBuilder, SimpleResponseBuilder};
use rvoip_sip_core::{Message, Method, Request, Response, StatusCode};
use rvoip_sip_dialog::transaction::{TransactionEvent, TransactionKey, TransactionManager};

// ----------------------------------------------------------------------------
// Counters and CPU sampling
// ----------------------------------------------------------------------------

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) invites: AtomicU64, // INVITEs answered 200 (first time per call)
    pub(crate) invite_retrans: AtomicU64, // INVITE retransmissions seen (raw mode)
    pub(crate) acks: AtomicU64,    // ACKs for 2xx delivered to the TU
    pub(crate) byes: AtomicU64,    // BYEs answered 200 = calls completed
    pub(crate) errors: AtomicU64,  // send errors, timeouts, transport errors
    pub(crate) other: AtomicU64,   // other requests (answered 501 / ignored)
}

pub(crate) fn clk_tck() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on Linux/x86_64 and aarch64.
    100.0
}

/// utime + stime of the whole process, in clock ticks.
pub(crate) fn proc_cpu_ticks() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // comm may contain spaces; fields after the closing paren.
    let rest = match s.rfind(')') {
        Some(i) => &s[i + 2..],
        None => return 0,
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // after ')' : state(0) ppid(1) ... utime is field 14 overall => index 11 here, stime 12
    let ut: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let st: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ut + st
}

pub(crate) fn proc_status_kb(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in s.lines() {
        if let Some(v) = line.strip_prefix(key) {
            return v
                .trim_start_matches(':')
                .split_whitespace()
                .next()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
        }
    }
    0
}

pub(crate) fn proc_threads() -> u64 {
    proc_status_kb("Threads")
}

#[derive(Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) t: Instant,
    pub(crate) ticks: u64,
    pub(crate) invites: u64,
    pub(crate) byes: u64,
}

pub(crate) fn start_sampler(c: Arc<Counters>, stop: Arc<AtomicBool>) -> Arc<Mutex<Vec<Sample>>> {
    let samples = Arc::new(Mutex::new(Vec::with_capacity(4096)));
    let s2 = samples.clone();
    std::thread::Builder::new()
        .name("cpu-sampler".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let s = Sample {
                    t: Instant::now(),
                    ticks: proc_cpu_ticks(),
                    invites: c.invites.load(Ordering::Relaxed),
                    byes: c.byes.load(Ordering::Relaxed),
                };
                s2.lock().unwrap().push(s);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .unwrap();
    samples
}

pub(crate) fn report(
    mode: &str,
    profile: &str,
    c: &Counters,
    samples: &[Sample],
    started: Instant,
    extra: &str,
) {
    let now_ticks = proc_cpu_ticks();
    let tck = clk_tck();
    let invites = c.invites.load(Ordering::Relaxed);
    let byes = c.byes.load(Ordering::Relaxed);
    let mut s = samples.to_vec();
    s.push(Sample {
        t: Instant::now(),
        ticks: now_ticks,
        invites,
        byes,
    });

    // Load window: last sample with no INVITE yet .. first sample with all BYEs done.
    let i0 = s.iter().rposition(|x| x.invites == 0).unwrap_or(0);
    let i1 = s
        .iter()
        .position(|x| x.byes == byes && x.invites == invites)
        .unwrap_or(s.len() - 1);
    let (w_cpu, w_secs) = if i1 > i0 {
        (
            (s[i1].ticks - s[i0].ticks) as f64 / tck,
            s[i1].t.duration_since(s[i0].t).as_secs_f64(),
        )
    } else {
        (0.0, 0.0)
    };
    // Idle burn before load (skip the first second of start-up).
    let idle = {
        let a = s
            .iter()
            .position(|x| x.t.duration_since(started) >= Duration::from_secs(1));
        match a {
            Some(a) if i0 > a + 5 => {
                let d = s[i0].t.duration_since(s[a].t).as_secs_f64();
                ((s[i0].ticks - s[a].ticks) as f64 / tck) / d
            }
            _ => f64::NAN,
        }
    };
    let total_cpu = now_ticks as f64 / tck;
    // From just before the first INVITE to exit: includes deferred work (Timer J/K/L/M
    // retirement, cleanup workers) when the run is stopped >= 35 s after the last BYE.
    let drain_secs = s.last().unwrap().t.duration_since(s[i1].t).as_secs_f64();
    let incl_cpu = (now_ticks - s[i0].ticks) as f64 / tck;
    let calls = byes.max(1) as f64;
    println!("==== rvoip-tm-probe result ====");
    println!("mode={mode} profile={profile}");
    println!(
        "calls_answered(invite 200)={invites} calls_completed(bye 200)={byes} acks={} invite_retrans={} errors={} other={}",
        c.acks.load(Ordering::Relaxed),
        c.invite_retrans.load(Ordering::Relaxed),
        c.errors.load(Ordering::Relaxed),
        c.other.load(Ordering::Relaxed)
    );
    println!(
        "load_window_secs={w_secs:.2} load_window_cpu_secs={w_cpu:.2} cpu_ms_per_call={:.3} avg_cores_busy={:.3}",
        w_cpu * 1000.0 / calls,
        if w_secs > 0.0 { w_cpu / w_secs } else { 0.0 }
    );
    println!(
        "after_last_bye_secs={drain_secs:.1} cpu_secs_incl_drain={incl_cpu:.2} cpu_ms_per_call_incl_drain={:.3}",
        incl_cpu * 1000.0 / calls
    );
    println!(
        "total_process_cpu_secs={total_cpu:.2} total_cpu_ms_per_call={:.3} idle_cpu_cores_before_load={idle:.4}",
        total_cpu * 1000.0 / calls
    );
    println!(
        "VmHWM_kB={} VmRSS_kB={} threads={}",
        proc_status_kb("VmHWM"),
        proc_status_kb("VmRSS"),
        proc_threads()
    );
    if !extra.is_empty() {
        println!("{extra}");
    }
}

// ----------------------------------------------------------------------------
// Message building (shared by tm and raw, so the difference is the transaction layer)
// ----------------------------------------------------------------------------
