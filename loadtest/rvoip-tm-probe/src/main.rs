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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rvoip_sip_core::builder::{SimpleRequestBuilder, SimpleResponseBuilder};
use rvoip_sip_core::{Message, Method, Request, Response, StatusCode};
use rvoip_sip_dialog::transaction::{TransactionEvent, TransactionKey, TransactionManager};

const SDP: &str = "v=0\r\n\
o=probe 1 1 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

// ----------------------------------------------------------------------------
// Counters and CPU sampling
// ----------------------------------------------------------------------------

#[derive(Default)]
struct Counters {
    invites: AtomicU64,        // INVITEs answered 200 (first time per call)
    invite_retrans: AtomicU64, // INVITE retransmissions seen (raw mode)
    acks: AtomicU64,           // ACKs for 2xx delivered to the TU
    byes: AtomicU64,           // BYEs answered 200 = calls completed
    errors: AtomicU64,         // send errors, timeouts, transport errors
    other: AtomicU64,          // other requests (answered 501 / ignored)
}

fn clk_tck() -> f64 {
    // sysconf(_SC_CLK_TCK) is 100 on Linux/x86_64 and aarch64.
    100.0
}

/// utime + stime of the whole process, in clock ticks.
fn proc_cpu_ticks() -> u64 {
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

fn proc_status_kb(key: &str) -> u64 {
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

fn proc_threads() -> u64 {
    proc_status_kb("Threads")
}

#[derive(Clone, Copy)]
struct Sample {
    t: Instant,
    ticks: u64,
    invites: u64,
    byes: u64,
}

fn start_sampler(c: Arc<Counters>, stop: Arc<AtomicBool>) -> Arc<Mutex<Vec<Sample>>> {
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

fn report(mode: &str, profile: &str, c: &Counters, samples: &[Sample], started: Instant, extra: &str) {
    let now_ticks = proc_cpu_ticks();
    let tck = clk_tck();
    let invites = c.invites.load(Ordering::Relaxed);
    let byes = c.byes.load(Ordering::Relaxed);
    let mut s = samples.to_vec();
    s.push(Sample { t: Instant::now(), ticks: now_ticks, invites, byes });

    // Load window: last sample with no INVITE yet .. first sample with all BYEs done.
    let i0 = s.iter().rposition(|x| x.invites == 0).unwrap_or(0);
    let i1 = s.iter().position(|x| x.byes == byes && x.invites == invites).unwrap_or(s.len() - 1);
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
        let a = s.iter().position(|x| x.t.duration_since(started) >= Duration::from_secs(1));
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

fn build_invite_ok(req: &Request, contact: &str, tag: &str) -> Response {
    let mut b = SimpleResponseBuilder::response_from_request(req, StatusCode::Ok, None);
    if let Some(to) = req.to() {
        let dn = to.address().display_name().unwrap_or_default().to_string();
        let uri = to.address().uri.to_string();
        b = b.to(&dn, &uri, Some(tag));
    }
    b.contact(contact, None)
        .content_type("application/sdp")
        .body(SDP)
        .build()
}

fn build_simple(req: &Request, status: StatusCode) -> Response {
    SimpleResponseBuilder::response_from_request(req, status, None).build()
}

fn call_id_of(req: &Request) -> String {
    req.call_id().map(|c| c.to_string()).unwrap_or_default()
}

struct CallState {
    #[allow(dead_code)]
    ok_bytes: Option<Vec<u8>>, // raw mode: cached 200 for INVITE retransmissions
    acked: bool,
}

// ----------------------------------------------------------------------------
// raw mode
// ----------------------------------------------------------------------------

async fn run_raw(addr: SocketAddr, c: Arc<Counters>) {
    let sock = tokio::net::UdpSocket::bind(addr).await.expect("bind");
    let contact = format!("sip:probe@{addr}");
    let mut calls: HashMap<String, CallState> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    let mut tag_seq: u64 = 0;
    loop {
        let (n, src) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(_) => continue,
        };
        let msg = match rvoip_sip_core::parse_message(&buf[..n]) {
            Ok(m) => m,
            Err(_) => {
                c.errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let req = match msg {
            Message::Request(r) => r,
            Message::Response(_) => continue,
        };
        let out: Option<Vec<u8>> = match req.method() {
            Method::Invite => {
                let cid = call_id_of(&req);
                if let Some(st) = calls.get(&cid) {
                    c.invite_retrans.fetch_add(1, Ordering::Relaxed);
                    st.ok_bytes.clone()
                } else {
                    tag_seq += 1;
                    let tag = format!("p{tag_seq:x}");
                    let resp = build_invite_ok(&req, &contact, &tag);
                    let bytes = Message::Response(resp).to_bytes();
                    calls.insert(cid, CallState { ok_bytes: Some(bytes.clone()), acked: false });
                    c.invites.fetch_add(1, Ordering::Relaxed);
                    Some(bytes)
                }
            }
            Method::Ack => {
                let cid = call_id_of(&req);
                if let Some(st) = calls.get_mut(&cid) {
                    if !st.acked {
                        st.acked = true;
                        st.ok_bytes = None;
                        c.acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None
            }
            Method::Bye => {
                let cid = call_id_of(&req);
                let resp = build_simple(&req, StatusCode::Ok);
                if calls.remove(&cid).is_some() {
                    c.byes.fetch_add(1, Ordering::Relaxed);
                }
                Some(Message::Response(resp).to_bytes())
            }
            _ => {
                c.other.fetch_add(1, Ordering::Relaxed);
                Some(Message::Response(build_simple(&req, StatusCode::NotImplemented)).to_bytes())
            }
        };
        if let Some(b) = out {
            if sock.send_to(&b, src).await.is_err() {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

// ----------------------------------------------------------------------------
// tm mode (UAS)
// ----------------------------------------------------------------------------

struct TmKnobs {
    profile: String,
    auto100: Option<bool>,
    parse_workers: Option<usize>,
    dispatch_workers: Option<usize>,
    cmd_cap: Option<usize>,
    capacity: usize,
}

async fn build_tm(
    addr: SocketAddr,
    k: &TmKnobs,
) -> (Arc<TransactionManager>, tokio::sync::mpsc::Receiver<TransactionEvent>) {
    match k.profile.as_str() {
        "default" => {
            let (udp, transport_rx) =
                rvoip_sip_transport::UdpTransport::bind(addr, Some(k.capacity)).await.expect("udp bind");
            let transport: Arc<dyn rvoip_sip_transport::Transport> = Arc::new(udp);
            let (mut tm, events) = TransactionManager::new(transport, transport_rx, Some(k.capacity))
                .await
                .expect("tm");
            if let Some(a) = k.auto100 {
                tm.set_auto_100_trying(a);
            }
            if let Some(cap) = k.cmd_cap {
                tm.set_transaction_command_channel_capacity(cap);
            }
            (Arc::new(tm), events)
        }
        "hp" | "manager" => {
            use rvoip_sip_dialog::transaction::transport::{TransportManager, TransportManagerConfig};
            let hp = k.profile == "hp";
            let cfg = TransportManagerConfig {
                enable_udp: true,
                enable_tcp: false,
                enable_ws: false,
                enable_tls: false,
                bind_addresses: vec![addr],
                default_channel_capacity: k.capacity,
                udp_recv_buffer_size: if hp { Some(8_388_608) } else { None },
                udp_send_buffer_size: if hp { Some(8_388_608) } else { None },
                udp_parse_workers: k.parse_workers.or(if hp { Some(4) } else { None }),
                udp_parse_queue_capacity: if hp { Some(k.capacity) } else { None },
                udp_parse_dispatch: if hp {
                    Some(rvoip_sip_transport::transport::udp::UdpParseDispatch::RoundRobin)
                } else {
                    None
                },
                ..Default::default()
            };
            let (mut tmgr, transport_rx) = TransportManager::new(cfg).await.expect("transport manager");
            tmgr.initialize().await.expect("transport init");
            let (mut tm, events) = TransactionManager::with_transport_manager_and_index_capacity_and_dispatch(
                tmgr,
                transport_rx,
                Some(k.capacity),
                Some(k.capacity),
                k.dispatch_workers.or(if hp { Some(2) } else { None }),
                None,
            )
            .await
            .expect("tm");
            tm.set_auto_100_trying(k.auto100.unwrap_or(!hp));
            tm.set_transaction_command_channel_capacity(k.cmd_cap.unwrap_or(if hp { 128 } else { 32 }));
            (Arc::new(tm), events)
        }
        p => panic!("unknown --profile {p} (default|manager|hp)"),
    }
}

fn ev_name(e: &TransactionEvent) -> &'static str {
    use TransactionEvent::*;
    match e {
        AckReceived { .. } => "AckReceived",
        CancelReceived { .. } => "CancelReceived",
        ProvisionalResponse { .. } => "ProvisionalResponse",
        SuccessResponse { .. } => "SuccessResponse",
        FailureResponse { .. } => "FailureResponse",
        ProvisionalResponseSent { .. } => "ProvisionalResponseSent",
        FinalResponseSent { .. } => "FinalResponseSent",
        TransactionTimeout { .. } => "TransactionTimeout",
        AckTimeout { .. } => "AckTimeout",
        TransportError { .. } => "TransportError",
        Error { .. } => "Error",
        StrayRequest { .. } => "StrayRequest",
        StrayResponse { .. } => "StrayResponse",
        StrayAck { .. } => "StrayAck",
        StrayCancel { .. } => "StrayCancel",
        TransactionTerminated { .. } => "TransactionTerminated",
        StateChanged { .. } => "StateChanged",
        TimerTriggered { .. } => "TimerTriggered",
        CancelRequest { .. } => "CancelRequest",
        AckRequest { .. } => "AckRequest",
        InviteRequest { .. } => "InviteRequest",
        NonInviteRequest { .. } => "NonInviteRequest",
        StrayAckRequest { .. } => "StrayAckRequest",
        _ => "Shutdown*",
    }
}

async fn run_tm(
    addr: SocketAddr,
    c: Arc<Counters>,
    k: TmKnobs,
    ev_hist: Arc<Mutex<HashMap<&'static str, u64>>>,
) {
    let (tm, mut events) = build_tm(addr, &k).await;
    eprintln!(
        "tm up on {addr}: profile={} cmd_cap={} threads={}",
        k.profile,
        tm.transaction_command_channel_capacity(),
        proc_threads()
    );
    let contact = format!("sip:probe@{addr}");
    let mut calls: HashMap<String, CallState> = HashMap::new();
    let mut tag_seq: u64 = 0;
    let mut local_hist: HashMap<&'static str, u64> = HashMap::new();
    let mut n = 0u64;
    while let Some(ev) = events.recv().await {
        *local_hist.entry(ev_name(&ev)).or_insert(0) += 1;
        n += 1;
        if n % 256 == 0 {
            let mut h = ev_hist.lock().unwrap();
            for (k, v) in local_hist.drain() {
                *h.entry(k).or_insert(0) += v;
            }
        }
        match ev {
            TransactionEvent::InviteRequest { transaction_id, request, .. } => {
                tag_seq += 1;
                let tag = format!("p{tag_seq:x}");
                let resp = build_invite_ok(&request, &contact, &tag);
                calls.insert(call_id_of(&request), CallState { ok_bytes: None, acked: false });
                match tm.send_response(&transaction_id, resp).await {
                    Ok(()) => {
                        c.invites.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("send 200/INVITE failed: {e}");
                    }
                }
            }
            TransactionEvent::NonInviteRequest { transaction_id, request, .. } => {
                let status = match request.method() {
                    Method::Bye => StatusCode::Ok,
                    Method::Cancel => StatusCode::Ok,
                    _ => StatusCode::NotImplemented,
                };
                let is_bye = request.method() == Method::Bye;
                if is_bye {
                    calls.remove(&call_id_of(&request));
                } else {
                    c.other.fetch_add(1, Ordering::Relaxed);
                }
                let resp = build_simple(&request, status);
                match tm.send_response(&transaction_id, resp).await {
                    Ok(()) => {
                        if is_bye {
                            c.byes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("send 200/{} failed: {e}", request.method());
                    }
                }
            }
            TransactionEvent::AckRequest { request, .. } | TransactionEvent::StrayAckRequest { request, .. } => {
                if let Some(st) = calls.get_mut(&call_id_of(&request)) {
                    if !st.acked {
                        st.acked = true;
                        c.acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            TransactionEvent::CancelRequest { transaction_id, request, .. } => {
                // CANCEL arrives as its own server transaction; answer 200 (the
                // INVITE would then need a 487 from the TU).
                let _ = tm.send_response(&transaction_id, build_simple(&request, StatusCode::Ok)).await;
                c.other.fetch_add(1, Ordering::Relaxed);
            }
            TransactionEvent::TransactionTimeout { .. }
            | TransactionEvent::AckTimeout { .. }
            | TransactionEvent::TransportError { .. }
            | TransactionEvent::Error { .. } => {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

// ----------------------------------------------------------------------------
// tm-uac mode: probe is the UAC through client transactions, toward `sipp -sn uas`
// ----------------------------------------------------------------------------

async fn run_tm_uac(
    addr: SocketAddr,
    target: SocketAddr,
    rate: u64,
    total: u64,
    c: Arc<Counters>,
    k: TmKnobs,
    ev_hist: Arc<Mutex<HashMap<&'static str, u64>>>,
) {
    let (tm, mut events) = build_tm(addr, &k).await;
    let local = addr.to_string();
    let tgt = target.to_string();
    // Call state by INVITE client tx id; BYE tx -> call.
    let inflight: Arc<Mutex<HashMap<TransactionKey, (String, String, String)>>> = Default::default();
    // generator
    {
        let tm = tm.clone();
        let inflight = inflight.clone();
        let local = local.clone();
        let tgt = tgt.clone();
        let c = c.clone();
        tokio::spawn(async move {
            let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
            let mut iv = tokio::time::interval(period);
            iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for i in 0..total {
                iv.tick().await;
                let call_id = format!("probe-{i}@{local}");
                let ftag = format!("f{i:x}");
                let branch = format!("z9hG4bK-pi{i:x}");
                let req = SimpleRequestBuilder::invite(&format!("sip:service@{tgt}"))
                    .unwrap()
                    .from("probe", &format!("sip:probe@{local}"), Some(&ftag))
                    .to("", &format!("sip:service@{tgt}"), None)
                    .call_id(&call_id)
                    .cseq(1)
                    .via(&local, "UDP", Some(&branch))
                    .max_forwards(70)
                    .contact(&format!("sip:probe@{local}"), None)
                    .content_type("application/sdp")
                    .body(SDP)
                    .build();
                match tm.create_invite_client_transaction(req, target).await {
                    Ok(tx) => {
                        inflight.lock().unwrap().insert(tx.clone(), (call_id, ftag, String::new()));
                        if tm.send_request(&tx).await.is_err() {
                            c.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("create INVITE ctx: {e}");
                    }
                }
            }
        });
    }
    let mut bye_seq = 0u64;
    let mut bye_tx: HashMap<TransactionKey, ()> = HashMap::new();
    while let Some(ev) = events.recv().await {
        *ev_hist.lock().unwrap().entry(ev_name(&ev)).or_insert(0) += 1;
        match ev {
            TransactionEvent::SuccessResponse { transaction_id, response, .. } => {
                if bye_tx.remove(&transaction_id).is_some() {
                    c.byes.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let Some((call_id, ftag, _)) = inflight.lock().unwrap().remove(&transaction_id) else {
                    continue;
                };
                c.invites.fetch_add(1, Ordering::Relaxed);
                // ACK for 2xx: TU's job.
                if let Err(e) = tm.send_ack_for_2xx(&transaction_id, &response).await {
                    c.errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("ack: {e}");
                    continue;
                }
                c.acks.fetch_add(1, Ordering::Relaxed);
                // BYE immediately (SIPp uas has no pause).
                bye_seq += 1;
                let to_tag = response.to().and_then(|t| t.tag().map(|s| s.to_string()));
                // SIPp uas Contact is its own address; target it directly.
                let remote = format!("sip:service@{tgt}");
                let bye = SimpleRequestBuilder::new(Method::Bye, &remote)
                    .unwrap()
                    .from("probe", &format!("sip:probe@{local}"), Some(&ftag))
                    .to("", &format!("sip:service@{tgt}"), to_tag.as_deref())
                    .call_id(&call_id)
                    .cseq(2)
                    .via(&local, "UDP", Some(&format!("z9hG4bK-pb{bye_seq:x}")))
                    .max_forwards(70)
                    .build();
                match tm.create_non_invite_client_transaction(bye, target).await {
                    Ok(tx) => {
                        bye_tx.insert(tx.clone(), ());
                        if tm.send_request(&tx).await.is_err() {
                            c.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("create BYE ctx: {e}");
                    }
                }
            }
            TransactionEvent::FailureResponse { transaction_id, .. } => {
                inflight.lock().unwrap().remove(&transaction_id);
                bye_tx.remove(&transaction_id);
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
            TransactionEvent::TransactionTimeout { .. }
            | TransactionEvent::TransportError { .. }
            | TransactionEvent::Error { .. } => {
                c.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

// ----------------------------------------------------------------------------

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
    let target: SocketAddr = arg(&args, "--target").unwrap_or_else(|| "127.0.0.1:5070".parse().unwrap());
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
    let profile_label = if mode == "raw" { "-".to_string() } else { knobs.profile.clone() };

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
                v.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(" ")
            );
        }
    }
    report(&mode, &profile_label, &counters, &s, started, &extra);
    // Don't wait for rvoip's background tasks to drain.
    std::process::exit(0);
}
