//! OzML step latency (issue 15), the whole stack (`patchbay up`, release build): API
//! extension 9000 answers `calls` SIPp calls; its app (a local HTTP server here, answering at
//! once) replies to every `IncomingCall` and `GoTo` with a 100 ms prompt then a `GoTo` to
//! itself, so each call runs a step loop for `secs`. Measured: the gateway's own histogram
//! `patchbay_gateway_ozml_action_seconds` (an app's reply parsed -> its first media action
//! accepted by the B2BUA: the "notification reply -> media action" latency), and, from the
//! app's side, each loop's round trip minus the prompt (reply written -> the next `GoTo`
//! request read: parse, play start, 100 ms of audio, its end event, the next fetch).

use crate::cps::percentile;
use crate::setup::{Up, metrics_text, request, tone_wav, up_with};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEMO: &str = "Authorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=";

/// Per call: when its last reply was written.
type Replied = Arc<Mutex<std::collections::HashMap<String, Instant>>>;

fn serve(mut c: TcpStream, port: u16, replied: Replied, loops: Arc<Mutex<Vec<f64>>>) {
    let _ = c.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = match c.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        while let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..h]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() < h + 4 + len {
                break;
            }
            let now = Instant::now();
            let body = String::from_utf8_lossy(&buf[h + 4..h + 4 + len]).into_owned();
            buf.drain(..h + 4 + len);
            let call = body
                .split('&')
                .find_map(|kv| kv.strip_prefix("CallId="))
                .unwrap_or("")
                .to_string();
            if let Some(at) = replied.lock().expect("lock").get(&call) {
                loops
                    .lock()
                    .expect("lock")
                    .push((now - *at).as_secs_f64() * 1000.0 - 100.0);
            }
            let ozml = format!(
                "<Response><Play>beep.wav</Play><GoTo>http://127.0.0.1:{port}/next</GoTo></Response>"
            );
            let out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{ozml}",
                ozml.len()
            );
            if c.write_all(out.as_bytes()).is_err() {
                return;
            }
            replied.lock().expect("lock").insert(call, Instant::now());
        }
    }
}

/// The histogram's buckets: (upper bound in seconds, cumulative count), and the sum.
fn histogram(admin: &str, name: &str) -> (Vec<(f64, f64)>, f64, f64) {
    let text = metrics_text(admin).expect("gateway admin");
    let mut buckets = Vec::new();
    let (mut sum, mut count) = (0.0, 0.0);
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix(&format!("{name}_bucket{{le=\"")) {
            let (le, v) = rest.split_once("\"} ").expect("bucket line");
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le")
            };
            buckets.push((le, v.trim().parse().expect("count")));
        } else if let Some(v) = l.strip_prefix(&format!("{name}_sum ")) {
            sum = v.trim().parse().expect("sum");
        } else if let Some(v) = l.strip_prefix(&format!("{name}_count ")) {
            count = v.trim().parse().expect("count");
        }
    }
    (buckets, sum, count)
}

/// The smallest bucket bound holding quantile `q`.
fn quantile_bound(buckets: &[(f64, f64)], count: f64, q: f64) -> f64 {
    buckets
        .iter()
        .find(|(_, c)| *c >= count * q)
        .map_or(f64::NAN, |(le, _)| *le)
}

pub(crate) fn run(patchbay: &str, calls: u64, secs: u64) -> String {
    let mut o = String::new();
    let up: Up = up_with(patchbay, "  sip_source_rate: 0\n");
    // A 100 ms tone.
    tone_wav(&up.dir.join("data/sounds/beep.wav"), 800, &[880.0], 8_000.0);
    let app = TcpListener::bind("127.0.0.1:0").expect("app");
    let port = app.local_addr().expect("addr").port();
    let replied: Replied = Arc::default();
    let loops: Arc<Mutex<Vec<f64>>> = Arc::default();
    {
        let (replied, loops) = (replied.clone(), loops.clone());
        std::thread::spawn(move || {
            for c in app.incoming().flatten() {
                let (r, l) = (replied.clone(), loops.clone());
                std::thread::spawn(move || serve(c, port, r, l));
            }
        });
    }
    let mut gw = TcpStream::connect(&up.http).expect("gateway");
    let body = format!(r#"{{"incoming_call_url":"http://127.0.0.1:{port}/incoming"}}"#);
    let r = request(
        &mut gw,
        "PUT",
        "/api/v1/tenants/demo/api-extensions/9000",
        DEMO,
        &body,
    );
    assert_eq!(r.0, 200, "api extension: {}", r.1);
    // Every call lasts past the window (they start at 20/s).
    let hold_ms = (calls / 20 + secs + 10) * 1000;
    let mut uac = crate::cps::Kill(
        Command::new("sipp")
            .arg(&up.sip)
            .arg("-sf")
            .arg(crate::cps::scenario("uac_bench.xml"))
            .args(["-s", "9000", "-i", "127.0.0.1", "-nostdin"])
            .args(["-au", "4005", "-ap", "demo-4005"])
            .args(["-auth_uri", &format!("9000@{}", up.sip)])
            .args(["-r", "20", "-m", &calls.to_string()])
            .args(["-l", &(calls + 10).to_string(), "-d", &hold_ms.to_string()])
            .args(["-max_socket", "65000"])
            .current_dir(&up.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sipp uac"),
    );
    // Every call up and looping, then a steady window.
    std::thread::sleep(Duration::from_millis(calls * 50 + 2_000));
    let name = "patchbay_gateway_ozml_action_seconds";
    let (buckets0, sum0, count0) = histogram(&up.gw_admin, name);
    loops.lock().expect("lock").clear();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let window = t0.elapsed().as_secs_f64();
    let (buckets1, sum1, count1) = histogram(&up.gw_admin, name);
    // The window's own distribution.
    let buckets: Vec<(f64, f64)> = buckets1
        .iter()
        .zip(&buckets0)
        .map(|((le, c1), (_, c0))| (*le, c1 - c0))
        .collect();
    let mut rt = loops.lock().expect("lock").clone();
    rt.sort_by(f64::total_cmp);
    let _ = uac.0.kill();
    let steps = count1 - count0;
    let mean_ms = (sum1 - sum0) / steps.max(1.0) * 1000.0;
    use std::fmt::Write as _;
    let _ = writeln!(
        o,
        "OzML loop: {calls} calls to API extension 9000, each replying Play (100 ms) + GoTo; {secs} s window"
    );
    let _ = writeln!(
        o,
        "  steps (reply -> media action): {steps:.0} in {window:.1} s = {:.0}/s; mean {mean_ms:.3} ms; \
         p50 <= {:.2} ms, p99 <= {:.2} ms (histogram bucket bounds)",
        steps / window,
        quantile_bound(&buckets, steps, 0.5) * 1000.0,
        quantile_bound(&buckets, steps, 0.99) * 1000.0,
    );
    let _ = writeln!(
        o,
        "  loop round trip minus the 100 ms prompt (app side, {} loops): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        rt.len(),
        percentile(&rt, 0.5),
        percentile(&rt, 0.99),
        rt.last().copied().unwrap_or(f64::NAN)
    );
    o
}
