//! Call set-up through the whole stack (`patchbay up`, release build):
//! - `invite`: API -> INVITE latency. The harness is phone 4005 itself (a UDP socket registered
//!   through SIPp): it sends `POST /api/v1/calls` over a keep-alive connection and stamps the
//!   moment the INVITE for 4005 arrives, then answers 486 so the call ends at once.
//! - `memory`: resident memory per concurrent call. A SIPp UAS registered as 4007 answers and
//!   holds every call; a SIPp UAC places `calls` authenticated calls (media anchored in the relay)
//!   that stay up; RSS of the patchbay process before and with all calls up.

use crate::cps::{Kill, free_port, percentile, register, scenario, start_patchbay};
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Up {
    pub(crate) dir: PathBuf,
    pub(crate) sip: String,
    pub(crate) http: String,
    pub(crate) admin: String,
    /// The gateway's `/metrics` (its Ozeki listener is there too).
    pub(crate) gw_admin: String,
    pub(crate) pb: Kill,
    /// Every B2BUA process (pid, admin listener): `pb` alone, or a cluster's nodes.
    pub(crate) nodes: Vec<(u32, String)>,
    /// Every node's own SIP address (`sip` may be the edge in front of them).
    pub(crate) sips: Vec<String>,
    /// A cluster's other processes (its further nodes, the SIP edge), killed with it.
    pub(crate) others: Vec<Kill>,
}

impl Up {
    /// The live calls of every node.
    pub(crate) fn live_calls(&self) -> u64 {
        self.nodes.iter().map(|(_, a)| active_calls(a)).sum()
    }

    /// Wait until at least `want` calls are live, or the count stops growing once `calls`
    /// placed at `rate` had their time; the live calls then.
    pub(crate) fn wait_calls_up(&self, want: u64, calls: u64, rate: u64) -> u64 {
        let placed_by = Instant::now() + Duration::from_secs(calls / rate.max(1) + 2);
        let (mut last, mut since) = (0, Instant::now());
        loop {
            let live = self.live_calls();
            if live != last {
                (last, since) = (live, Instant::now());
            }
            if live >= want
                || (Instant::now() > placed_by && since.elapsed() > Duration::from_secs(5))
            {
                return live;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn up(patchbay: &str) -> Up {
    up_with(patchbay, "")
}

/// `patchbay up` with `extra` lines (indented) in the B2BUA's config.
pub(crate) fn up_with(patchbay: &str, extra: &str) -> Up {
    let dir = std::env::temp_dir().join(format!("patchbay-bench-setup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (sip, admin, http, gw_admin) = (free_port(), free_port(), free_port(), free_port());
    let ozeki = free_port();
    let cfg = dir.join("bench.yaml");
    std::fs::write(
        &cfg,
        format!(
            "b2bua:\n  sip_listen: 127.0.0.1:{sip}\n  admin_listen: 127.0.0.1:{admin}\n  max_setups_in_flight: 5000\n  auth_fail_limit: 1000000\n  metrics_open: true\n{extra}\
             gateway:\n  listeners:\n  - listen: 127.0.0.1:{http}\n    profiles: [native, taridium]\n    tenant: demo\n  - listen: 127.0.0.1:{ozeki}\n    profiles: [ozeki]\n    tenant: demo\n  admin_listen: 127.0.0.1:{gw_admin}\n  b2bua_url: http://127.0.0.1:{admin}\n  limits:\n    calls_per_sec_per_tenant: 100000\n    max_calls_per_tenant: 100000\n    requests_per_sec_per_key: 100000\n    requests_per_sec_per_tenant: 100000\n"
        ),
    )
    .expect("config");
    let pb = start_patchbay(patchbay, &cfg, &dir);
    Up {
        dir,
        sip: format!("127.0.0.1:{sip}"),
        http: format!("127.0.0.1:{http}"),
        admin: format!("127.0.0.1:{admin}"),
        gw_admin: format!("127.0.0.1:{gw_admin}"),
        nodes: vec![(pb.0.id(), format!("127.0.0.1:{admin}"))],
        sips: vec![format!("127.0.0.1:{sip}")],
        others: Vec::new(),
        pb,
    }
}

/// One HTTP/1.1 request on a keep-alive connection (`auth`: an `Authorization` header line):
/// the status and the body.
pub(crate) fn request(
    conn: &mut TcpStream,
    method: &str,
    path: &str,
    auth: &str,
    body: &str,
) -> (u16, String) {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).expect("send");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = conn.read(&mut chunk).expect("read");
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
        let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..h]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        if buf.len() >= h + 4 + len {
            let status = head[9..12].parse().unwrap_or(0);
            return (
                status,
                String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).into_owned(),
            );
        }
    }
}

/// One `POST /api/v1/calls` (demo-key) on a keep-alive connection.
fn post_call(conn: &mut TcpStream) -> (u16, String) {
    let body = r#"{"from":"4005","to":["4007"],"mode":"caller_first"}"#;
    // demo-key:demo-secret
    let auth = "Authorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=";
    request(conn, "POST", "/api/v1/calls", auth, body)
}

/// A final response to an INVITE: the request's Via, From, To (+tag), Call-ID and CSeq.
fn response(invite: &str, status: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for l in invite.lines() {
        let name = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                out.push_str(l);
                out.push_str("\r\n");
            }
            "to" | "t" => {
                out.push_str(l);
                out.push_str(";tag=bench486\r\n");
            }
            _ => {}
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

pub(crate) fn invite_latency(patchbay: &str, calls: usize, gap_ms: u64) -> String {
    let mut o = String::new();
    let up = up(patchbay);
    let phone = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = phone.local_addr().expect("addr").port();
    register(&up.sip, "4005", port, &up.dir);
    // The callee must be registered for the call to be accepted; 4005 answers busy, so it is
    // never rung.
    let callee = UdpSocket::bind("127.0.0.1:0").expect("bind");
    register(
        &up.sip,
        "4007",
        callee.local_addr().expect("addr").port(),
        &up.dir,
    );
    phone
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut conn = TcpStream::connect(&up.http).expect("gateway");
    conn.set_nodelay(true).expect("nodelay");
    let mut to_invite = Vec::with_capacity(calls);
    let mut to_reply = Vec::with_capacity(calls);
    let mut buf = [0u8; 8192];
    for i in 0..calls + 20 {
        let t0 = Instant::now();
        let (status, reply) = post_call(&mut conn);
        let replied = t0.elapsed();
        assert_eq!(status, 201, "call accepted: {reply}");
        // Wait for the INVITE (skip ACKs and retransmissions of earlier calls).
        let invite_at = loop {
            let (n, from) = phone.recv_from(&mut buf).expect("INVITE arrives");
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if msg.starts_with("INVITE ") {
                let at = t0.elapsed();
                let _ = phone.send_to(response(&msg, "486 Busy Here").as_bytes(), from);
                break at;
            }
        };
        // The first 20 warm up caches and connection pools.
        if i >= 20 {
            to_invite.push(invite_at.as_secs_f64() * 1000.0);
            to_reply.push(replied.as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(gap_ms));
    }
    to_invite.sort_by(f64::total_cmp);
    to_reply.sort_by(f64::total_cmp);
    outln!(
        o,
        "| calls | 201 received p50 (ms) | p99 | INVITE at phone p50 (ms) | p99 | max |"
    );
    outln!(o, "|---|---|---|---|---|---|");
    outln!(
        o,
        "| {calls} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        percentile(&to_reply, 0.5),
        percentile(&to_reply, 0.99),
        percentile(&to_invite, 0.5),
        percentile(&to_invite, 0.99),
        to_invite.last().copied().unwrap_or(f64::NAN)
    );
    drop(up.pb);
    let _ = std::fs::remove_dir_all(&up.dir);
    o
}

pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The B2BUA's `patchbay_b2bua_calls_active` gauge, from its admin listener.
pub(crate) fn active_calls(admin: &str) -> u64 {
    metric(admin, "patchbay_b2bua_calls_active ").map_or(0, |v| v as u64)
}

/// One sample of the B2BUA's `/metrics` (open, `metrics_open`) by its line prefix (name and
/// labels, then a space); `None` when the binary has no such series.
pub(crate) fn metric(admin: &str, prefix: &str) -> Option<f64> {
    metrics_text(admin)?
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// A `/metrics` page (B2BUA or gateway admin listener).
pub(crate) fn metrics_text(admin: &str) -> Option<String> {
    let mut c = TcpStream::connect(admin).ok()?;
    let _ = write!(
        c,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = c.read_to_string(&mut text);
    Some(text)
}

/// A mono 8 kHz WAV of `samples` samples: the sum of sines at `freqs`, scaled by `amp`.
pub(crate) fn tone_wav(path: &Path, samples: u32, freqs: &[f32], amp: f32) {
    std::fs::create_dir_all(path.parent().expect("dir")).expect("sounds dir");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for i in 0..samples {
        let t = i as f32 / 8_000.0;
        let s: f32 = freqs
            .iter()
            .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
            .sum();
        w.write_sample((s * amp) as i16).expect("sample");
    }
    w.finalize().expect("wav");
}

/// A SIPp UAS on `port` answering and holding every call until its BYE (`uas_bench.xml`).
pub(crate) fn uas_holding(dir: &Path, port: u16) -> Kill {
    Kill(
        Command::new("sipp")
            .arg("-sf")
            .arg(scenario("uas_bench.xml"))
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-nostdin", "-max_socket", "65000"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp uas"),
    )
}

pub(crate) fn memory(patchbay: &str, calls: u64, rate: u64) -> String {
    let mut o = String::new();
    let up = up(patchbay);
    let pid = up.pb.0.id();
    let uas_port = free_port();
    register(&up.sip, "4007", uas_port, &up.dir);
    let _uas = crate::setup::uas_holding(&up.dir, uas_port);
    std::thread::sleep(Duration::from_millis(500));
    // Warm up: one round of short calls so pools, caches and allocator arenas exist.
    uac(&up, rate, rate * 2, 1000, &up.dir.join("warm.csv"));
    std::thread::sleep(Duration::from_secs(3));
    let before = rss_kib(pid);
    // Hold `calls` calls up for long enough to read RSS at the plateau.
    let hold_ms = (calls / rate + 15) * 1000;
    let csv = up.dir.join("hold.csv");
    let child = uac_spawn(&up, "4005", rate, calls, hold_ms, &csv);
    std::thread::sleep(Duration::from_millis(calls * 1000 / rate + 5000));
    let with_calls = rss_kib(pid);
    let live = active_calls(&up.admin);
    drop(child);
    let per_call = (with_calls.saturating_sub(before)) as f64 / live.max(1) as f64;
    outln!(
        o,
        "| calls placed | calls up (B2BUA gauge) | RSS before (KiB) | RSS with calls up (KiB) | KiB per call |"
    );
    outln!(o, "|---|---|---|---|---|");
    outln!(
        o,
        "| {calls} | {live} | {before} | {with_calls} | {per_call:.1} |"
    );
    drop(up.pb);
    let _ = std::fs::remove_dir_all(&up.dir);
    o
}

/// SIPp calling 4007 as demo user `user` (digest), `calls` calls at `rate`, each held
/// `hold_ms`; SIPp's statistics to `csv`.
fn uac_cmd(up: &Up, user: &str, rate: u64, calls: u64, hold_ms: u64, csv: &Path) -> Command {
    uac_cmd_to(up, &up.sip, user, (rate, calls), hold_ms, csv)
}

/// [`uac_cmd`] to `target` (a node of a cluster).
fn uac_cmd_to(
    up: &Up,
    target: &str,
    user: &str,
    (rate, calls): (u64, u64),
    hold_ms: u64,
    csv: &Path,
) -> Command {
    let mut c = Command::new("sipp");
    c.arg(target)
        .arg("-sf")
        .arg(scenario("uac_bench.xml"))
        .args(["-s", "4007", "-i", "127.0.0.1", "-nostdin"])
        .args(["-au", user, "-ap", &format!("demo-{user}")])
        .args(["-auth_uri", &format!("4007@{target}")])
        .args(["-r", &rate.to_string(), "-m", &calls.to_string()])
        .args(["-l", &(calls + 10).to_string(), "-d", &hold_ms.to_string()])
        .args(["-max_socket", "65000", "-trace_stat", "-stf"])
        .arg(csv)
        .current_dir(&up.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn uac(up: &Up, rate: u64, calls: u64, hold_ms: u64, csv: &Path) {
    let _ = uac_cmd(up, "4005", rate, calls, hold_ms, csv).status();
}

/// [`uac_cmd_to`] started (killed on drop).
pub(crate) fn uac_spawn_to(
    up: &Up,
    target: &str,
    user: &str,
    rate_calls: (u64, u64),
    hold_ms: u64,
    csv: &Path,
) -> Kill {
    Kill(
        uac_cmd_to(up, target, user, rate_calls, hold_ms, csv)
            .spawn()
            .expect("sipp uac"),
    )
}

/// [`uac_cmd`] started (killed on drop).
pub(crate) fn uac_spawn(
    up: &Up,
    user: &str,
    rate: u64,
    calls: u64,
    hold_ms: u64,
    csv: &Path,
) -> Kill {
    Kill(
        uac_cmd(up, user, rate, calls, hold_ms, csv)
            .spawn()
            .expect("sipp uac"),
    )
}
