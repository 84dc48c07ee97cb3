//! Call queues (issue 14):
//! - `queue`: the whole stack (`patchbay up`, release build). `agents` users (a SIPp UAS that
//!   answers and holds every call) log in to a queue; a SIPp UAC places `agents + callers`
//!   calls to it: the first `agents` talk to an agent, the other `callers` wait hearing the
//!   hold music (a 1 s WAV under the data directory's `sounds/`, looped by the media engine).
//!   Over a steady window: packets the engine sent against 50/s per waiting caller, its late
//!   packets (its own count: sent > 10 ms after the slot), and the patchbay process's CPU per
//!   waiting caller; then the live-state query (`GET .../queues/{name}/calls`, on the
//!   B2BUA's control API and through the gateway's native API) for the full queue and for a
//!   small queue polled beside it.
//! - `queue-state`: the call core alone (sans-IO) holding `calls` live calls in queues of
//!   `size` callers: the cost of one queue's live state (what the control API's handler runs
//!   on the driver loop), which must not grow with the number of calls on the node.

use crate::cps::{Kill, free_port, percentile, register, scenario};
use crate::setup::{Up, metric, request, tone_wav, up_with};
use patchbay_proto::api::{AgentState, CallId, Queue, QueueStrategy};
use patchbay_proto::{Calls, Forwards, Input, QueueEntry, Service};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONTROL: &str = "Authorization: Bearer ";
const DEMO: &str = "Authorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=";

fn connect(addr: &str) -> TcpStream {
    let c = TcpStream::connect(addr).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    c
}

fn ok(r: (u16, String), what: &str) {
    assert!((200..300).contains(&r.0), "{what}: {} {}", r.0, r.1);
}

fn proc_cpu(pid: u32) -> f64 {
    crate::cpu_secs(&format!("/proc/{pid}/stat"))
}

/// `n` queries of `path`: p50, p99 and max in ms, and the body's size.
fn poll(addr: &str, path: &str, auth: &str, n: usize) -> (f64, f64, f64, usize) {
    let mut conn = connect(addr);
    let mut times = Vec::with_capacity(n);
    let mut size = 0;
    for i in 0..n + 50 {
        let t0 = Instant::now();
        let (status, body) = request(&mut conn, "GET", path, auth, "");
        let dt = t0.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(status, 200, "{path}: {body}");
        size = body.len();
        if i >= 50 {
            times.push(dt);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    times.sort_by(f64::total_cmp);
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(f64::NAN),
        size,
    )
}

fn uac(up: &Up, number: &str, rate: u64, calls: u64, hold_ms: u64) -> Kill {
    Kill(
        Command::new("sipp")
            .arg(&up.sip)
            .arg("-sf")
            .arg(scenario("uac_bench.xml"))
            .args(["-s", number, "-i", "127.0.0.1", "-nostdin"])
            .args(["-au", "4005", "-ap", "demo-4005"])
            .args(["-auth_uri", &format!("{number}@{}", up.sip)])
            .args(["-r", &rate.to_string(), "-m", &calls.to_string()])
            .args(["-l", &(calls + 10).to_string(), "-d", &hold_ms.to_string()])
            .args(["-max_socket", "65000"])
            .current_dir(&up.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp uac"),
    )
}

pub(crate) fn run(patchbay: &str, callers: u64, agents: u64, secs: u64) -> String {
    let mut o = String::new();
    let up = up_with(patchbay, "  sip_source_rate: 0\n");
    let pid = up.pb.0.id();
    let token = std::fs::read_to_string(up.dir.join("data/control_token")).expect("token");
    let control = format!("{CONTROL}{}", token.trim());
    // A 1 s two-tone chord: real audio for the hold music.
    tone_wav(
        &up.dir.join("data/sounds/hold.wav"),
        8_000,
        &[440.0, 554.0],
        6_000.0,
    );
    let mut gw = connect(&up.http);

    // Agents: users 5001.., one SIPp UAS answering and holding all their calls.
    let uas_port = free_port();
    let _uas = crate::setup::uas_holding(&up.dir, uas_port);
    let names: Vec<String> = (0..agents).map(|i| format!("{}", 5001 + i)).collect();
    for a in &names {
        let body = format!(r#"{{"sip_password":"demo-{a}"}}"#);
        let r = request(
            &mut gw,
            "PUT",
            &format!("/api/v1/tenants/demo/users/{a}"),
            DEMO,
            &body,
        );
        ok(r, "user");
        register(&up.sip, a, uas_port, &up.dir);
    }
    let agents_json: Vec<String> = names.iter().map(|a| format!("\"{a}\"")).collect();
    let q = format!(
        r#"{{"number":"600","strategy":"roundrobin","agents":[{}],"hold_music":"hold.wav"}}"#,
        agents_json.join(",")
    );
    ok(
        request(
            &mut gw,
            "PUT",
            "/api/v1/tenants/demo/queues/bench",
            DEMO,
            &q,
        ),
        "queue",
    );
    // A small queue beside it, polled like a wallboard's (its callers wait: nobody logs in).
    let small = r#"{"number":"601","agents":["4009"],"hold_music":"hold.wav"}"#;
    ok(
        request(
            &mut gw,
            "PUT",
            "/api/v1/tenants/demo/queues/small",
            DEMO,
            small,
        ),
        "queue",
    );
    for a in &names {
        let path = format!("/api/v1/tenants/demo/queues/bench/agents/{a}");
        ok(
            request(&mut gw, "PUT", &path, DEMO, r#"{"state":"available"}"#),
            "agent",
        );
    }

    let total = callers + agents;
    let rate = 100;
    let hold_ms = (total / rate + secs + 60) * 1000;
    let _small_uac = uac(&up, "601", 10, 10, hold_ms);
    let _uac = uac(&up, "600", rate, total, hold_ms);
    let waiting = "patchbay_b2bua_queue_callers{status=\"waiting\"} ";
    let connected = "patchbay_b2bua_queue_callers{status=\"connected\"} ";
    let deadline = Instant::now() + Duration::from_secs(total / rate + 30);
    while Instant::now() < deadline {
        let w = metric(&up.admin, waiting).unwrap_or(0.0) as u64;
        let c = metric(&up.admin, connected).unwrap_or(0.0) as u64;
        if w >= callers + 10 && c >= agents {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(2));
    let w0 = metric(&up.admin, waiting).unwrap_or(0.0) as u64;
    let c0 = metric(&up.admin, connected).unwrap_or(0.0) as u64;
    let sent = "patchbay_media_engine_packets_sent_total ";
    let late = "patchbay_media_engine_late_packets_total ";
    let (s0, l0, cpu0, t0) = (
        metric(&up.admin, sent).unwrap_or(0.0),
        metric(&up.admin, late).unwrap_or(0.0),
        proc_cpu(pid),
        Instant::now(),
    );
    std::thread::sleep(Duration::from_secs(secs));
    let (s1, l1, cpu1, dt) = (
        metric(&up.admin, sent).unwrap_or(0.0),
        metric(&up.admin, late).unwrap_or(0.0),
        proc_cpu(pid),
        t0.elapsed().as_secs_f64(),
    );
    let w1 = metric(&up.admin, waiting).unwrap_or(0.0) as u64;
    let expected = w0 as f64 * 50.0 * dt;
    let (sent_n, late_n, cpu) = (s1 - s0, l1 - l0, cpu1 - cpu0);
    outln!(
        o,
        "| waiting (hold music) | connected to agents | window (s) | packets sent | expected (50/s each) | late | late % | patchbay CPU s | CPU % of a core | CPU ms per waiting caller-second |"
    );
    outln!(o, "|---|---|---|---|---|---|---|---|---|---|");
    outln!(
        o,
        "| {w0}{} | {c0} | {dt:.1} | {sent_n:.0} | {expected:.0} | {late_n:.0} | {:.3} | {cpu:.2} | {:.0} | {:.3} |",
        if w1 == w0 {
            String::new()
        } else {
            format!(" (then {w1})")
        },
        100.0 * late_n / sent_n.max(1.0),
        100.0 * cpu / dt,
        1000.0 * cpu / dt / w0.max(1) as f64,
    );
    outln!(o, "");
    outln!(
        o,
        "| live-state query ({w0} waiting, {c0} connected on the node) | calls in the queue | body bytes | p50 (ms) | p99 (ms) | max (ms) |"
    );
    outln!(o, "|---|---|---|---|---|---|");
    for (label, addr, base, auth) in [
        ("control API", &up.admin, "/v1", control.as_str()),
        ("native API (gateway)", &up.http, "/api/v1", DEMO),
    ] {
        for (queue, n) in [("small", 10), ("bench", w0 + c0 - 10)] {
            let path = format!("{base}/tenants/demo/queues/{queue}/calls");
            let (p50, p99, max, size) = poll(addr, &path, auth, 500);
            outln!(
                o,
                "| {label} `{queue}` | {n} | {size} | {p50:.3} | {p99:.3} | {max:.3} |"
            );
        }
    }
    drop(up.pb);
    let _ = std::fs::remove_dir_all(&up.dir);
    o
}

/// The core with `calls` live queue callers in queues of `size`: one queue's live state.
pub(crate) fn state(calls: usize, size: usize, rounds: usize) -> String {
    let mut o = String::new();
    let mut core = Calls::new();
    let queues = calls.div_ceil(size);
    let now = 1_800_000_000_000;
    for q in 0..queues {
        let entry = QueueEntry {
            tenant: "demo".into(),
            queue: Queue {
                name: format!("q{q}"),
                number: format!("{}", 6000 + q),
                strategy: QueueStrategy::Ringall,
                agents: vec!["4007".into()],
                ring_secs: 15,
                wrapup_secs: 0,
                hold_music: None,
                announce_secs: 0,
                max_wait_secs: 0,
                overflow: None,
                max_callers: 0,
                cti_url: None,
            },
            states: [("4007".to_string(), AgentState::LoggedOut)].into(),
        };
        for i in 0..size.min(calls - q * size) {
            let leg = core.alloc_leg();
            let input = Input::Inbound {
                call: CallId(format!("c{q}-{i}")),
                leg,
                tenant: "demo".into(),
                from: format!("{}", 100_000 + i),
                to: entry.queue.number.clone(),
                targets: vec![],
                no_target_status: 0,
                ring_timeout_ms: 30_000,
                record: false,
                app: true,
                forwards: Forwards::default(),
                service: Some(Service::Queue(Box::new(entry.clone()))),
            };
            core.handle_input(now, input).expect("caller enters");
            while core.poll_output().is_some() {}
        }
    }
    assert_eq!(core.len(), calls);
    let mut times = Vec::with_capacity(rounds);
    let mut n = 0;
    for r in 0..rounds {
        let name = format!("q{}", r % queues);
        let t0 = Instant::now();
        let live = core.queue_calls(now + 5_000, "demo", &name);
        let body = serde_json::to_vec(&live).expect("json");
        times.push(t0.elapsed().as_secs_f64() * 1e6);
        n = live.len();
        std::hint::black_box(body);
    }
    times.sort_by(f64::total_cmp);
    outln!(
        o,
        "| live calls in the core | queues | callers per queue | rounds | p50 (us) | p99 (us) | max (us) |"
    );
    outln!(o, "|---|---|---|---|---|---|---|");
    outln!(
        o,
        "| {calls} | {queues} | {n} | {rounds} | {:.1} | {:.1} | {:.1} |",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(f64::NAN)
    );
    o
}
