//! Call rate through the B2BUA: SIPp UAC -> patchbay -> SIPp UAS.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) fn free_port() -> u16 {
    loop {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let p = u.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

pub(crate) fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sipp")
        .join(name)
}

pub(crate) struct Kill(pub(crate) Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Last row of a SIPp `-trace_stat` CSV: (successful, failed, retransmissions SIPp had to
/// send).
pub(crate) fn sipp_totals(csv: &Path) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(csv).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(';').collect();
    let last: Vec<&str> = text.lines().last().unwrap_or("").split(';').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| last.get(i))
            .copied()
            .unwrap_or("")
    };
    let ok = col("SuccessfulCall(C)").parse().unwrap_or(0);
    let failed = col("FailedCall(C)").parse().unwrap_or(0);
    (ok, failed, col("Retransmissions(C)").parse().unwrap_or(0))
}

/// Start `patchbay --config cfg up` with its data in `dir`; returns once it printed "ready".
pub(crate) fn start_patchbay(patchbay: &str, cfg: &Path, dir: &Path) -> Kill {
    start_as(
        patchbay,
        cfg,
        "up",
        &dir.join("data"),
        &dir.join("patchbay.log"),
    )
}

/// Start `patchbay --config cfg <mode>` (`up`, `b2bua`, `gateway`) with its data in `data`
/// and its log in `log`; returns once it printed "ready".
pub(crate) fn start_as(patchbay: &str, cfg: &Path, mode: &str, data: &Path, log: &Path) -> Kill {
    let mut pb = Kill(
        Command::new(patchbay)
            .args(["--config"])
            .arg(cfg)
            .args([mode, "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            // Its log, for a run that needs explaining.
            .stderr(std::fs::File::create(log).map_or_else(|_| Stdio::null(), Stdio::from))
            .spawn()
            .expect("patchbay binary (cargo build --release -p patchbay)"),
    );
    let out = pb.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if line.contains("ready") {
            break;
        }
    }
    // Keep draining its stdout so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    pb
}

/// REGISTER demo user `user` (password demo-<user>) with its contact on `contact_port`.
pub(crate) fn register(target: &str, user: &str, contact_port: u16, dir: &Path) {
    let reg = Command::new("sipp")
        .arg(target)
        .arg("-sf")
        .arg(scenario("register.xml"))
        .args([
            "-i",
            "127.0.0.1",
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "10s",
            "-au",
            user,
            "-ap",
            &format!("demo-{user}"),
        ])
        .args([
            "-auth_uri",
            target,
            "-set",
            "user",
            user,
            "-set",
            "domain",
            target,
            "-set",
            "contact_port",
            &contact_port.to_string(),
        ])
        .args(["-set", "expires", "3600"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("sipp");
    assert!(reg.success(), "registration of {user} failed");
}

/// Set-up times (ms) of every call of the SIPp runs under `dir` (`-trace_rtt` files).
fn setup_times(dir: &Path) -> Vec<f64> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for f in rd.flatten() {
        if !f.file_name().to_string_lossy().ends_with("_rtt.csv") {
            continue;
        }
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        for line in text.lines().skip(1) {
            if let Some(v) = line.split(';').nth(1).and_then(|v| v.trim().parse().ok()) {
                out.push(v);
            }
        }
    }
    out
}

/// The `p` quantile of sorted samples (NaN when none).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Callees of the SIPp pairs (the demo tenant's users; every caller authenticates as 4005).
const CALLEES: [&str; 3] = ["4007", "4009", "4005"];

/// Calls per second through the B2BUA: `pairs` SIPp callers (authenticated INVITE, 1 s calls,
/// media anchored in the relay) each calling its own SIPp callee, at `rate` in total.
/// `extra`: more `b2bua:` config lines (e.g. `sip_source_rate: 0`, which a binary older than
/// that key would refuse).
pub(crate) fn run(patchbay: &str, rates: &[u64], secs: u64, pairs: usize, extra: &str) -> String {
    let dir = std::env::temp_dir().join(format!("patchbay-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (sip, admin) = (free_port(), free_port());
    let cfg = dir.join("bench.yaml");
    std::fs::write(
        &cfg,
        format!(
            "b2bua:\n  sip_listen: 127.0.0.1:{sip}\n  admin_listen: 127.0.0.1:{admin}\n  metrics_open: true\n  max_setups_in_flight: 5000\n  auth_fail_limit: 1000000\n{extra}"
        ),
    )
    .expect("config");
    let pb = start_patchbay(patchbay, &cfg, &dir);
    let target = format!("127.0.0.1:{sip}");
    let pairs: Vec<(&str, &str)> = CALLEES[..pairs.clamp(1, CALLEES.len())]
        .iter()
        .map(|c| (target.as_str(), *c))
        .collect();
    let o = measure(
        &dir,
        &[(pb.0.id(), format!("127.0.0.1:{admin}"))],
        &pairs,
        rates,
        secs,
    );
    drop(pb);
    let _ = std::fs::remove_dir_all(&dir);
    o
}

/// The call-rate runs: each of `pairs` (a B2BUA's SIP address, a callee registered there to
/// a SIPp UAS of its own) gets a SIPp UAC and its share of each rate; `nodes` are the B2BUA
/// processes (pid, admin listener) whose CPU and counters count.
pub(crate) fn measure(
    dir: &Path,
    nodes: &[(u32, String)],
    pairs: &[(&str, &str)],
    rates: &[u64],
    secs: u64,
) -> String {
    let mut o = String::new();
    let dir = dir.to_path_buf();
    let mut uases = Vec::new();
    for (target, callee) in pairs {
        let uas_port = free_port();
        register(target, callee, uas_port, &dir);
        uases.push(Kill(
            Command::new("sipp")
                .arg("-sf")
                .arg(scenario("uas_bench.xml"))
                .args([
                    "-i",
                    "127.0.0.1",
                    "-p",
                    &uas_port.to_string(),
                    "-nostdin",
                    "-max_socket",
                    "65000",
                ])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sipp uas"),
        ));
    }
    std::thread::sleep(Duration::from_millis(500));
    outln!(
        o,
        "| offered CPS | SIPp pairs | calls | successful | failed | SIPp retransmissions | B2BUA retransmissions sent / absorbed | setup p50 / p99 (ms) | B2BUA CPU s | calls per CPU s |"
    );
    outln!(o, "|---|---|---|---|---|---|---|---|---|---|");
    let our_retrans = |d: &str| {
        nodes
            .iter()
            .map(|(_, admin)| {
                crate::setup::metric(
                    admin,
                    &format!("patchbay_b2bua_sip_retransmissions_total{{direction=\"{d}\"}} "),
                )
            })
            .sum::<Option<f64>>()
    };
    let cpu_all = || {
        nodes
            .iter()
            .map(|(pid, _)| crate::cpu_secs(&format!("/proc/{pid}/stat")))
            .sum::<f64>()
    };
    for &rate in rates {
        let calls = rate * secs;
        let cpu0 = cpu_all();
        let (sent0, absorbed0) = (our_retrans("sent"), our_retrans("received"));
        let run_dir = dir.join(format!("rate_{rate}"));
        let mut uacs = Vec::new();
        let n = pairs.len() as u64;
        for (i, (target, callee)) in pairs.iter().enumerate() {
            let share = rate / n + u64::from((i as u64) < rate % n);
            let sub = run_dir.join(format!("uac_{i}"));
            std::fs::create_dir_all(&sub).expect("dir");
            let child = Command::new("sipp")
                .arg(target)
                .arg("-sf")
                .arg(scenario("uac_bench.xml"))
                .args([
                    "-s",
                    callee,
                    "-i",
                    "127.0.0.1",
                    "-nostdin",
                    "-au",
                    "4005",
                    "-ap",
                    "demo-4005",
                ])
                .args(["-auth_uri", &format!("{callee}@{target}")])
                .args([
                    "-r",
                    &share.to_string(),
                    "-m",
                    &(share * secs).to_string(),
                    "-l",
                    &(share * 4).to_string(),
                    "-d",
                    "1000",
                ])
                .args([
                    "-timeout",
                    &format!("{}s", secs + 30),
                    "-max_socket",
                    "65000",
                ])
                .args(["-trace_stat", "-stf", "stat.csv", "-fd", "1"])
                .args(["-trace_rtt", "-rtt_freq", "1"])
                .current_dir(&sub)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sipp uac");
            uacs.push((sub, child));
        }
        let (mut ok, mut failed, mut retrans, mut times) = (0, 0, 0, Vec::new());
        for (sub, mut child) in uacs {
            let _ = child.wait();
            let (o, f, r) = sipp_totals(&sub.join("stat.csv"));
            ok += o;
            failed += f;
            retrans += r;
            times.extend(setup_times(&sub));
        }
        let cpu = cpu_all() - cpu0;
        // (Counted by the binaries that have the series; the harness waits for the housekeeping
        // tick that updates them.)
        std::thread::sleep(Duration::from_millis(1100));
        let ours = match (
            sent0,
            our_retrans("sent"),
            absorbed0,
            our_retrans("received"),
        ) {
            (Some(s0), Some(s1), Some(a0), Some(a1)) => format!("{} / {}", s1 - s0, a1 - a0),
            _ => "n/a".to_string(),
        };
        times.sort_by(|a, b| a.total_cmp(b));
        let per_cpu = if cpu > 0.0 {
            (ok as f64 / cpu) as u64
        } else {
            0
        };
        outln!(
            o,
            "| {rate} | {} | {calls} | {ok} | {failed} | {retrans} | {ours} | {:.1} / {:.1} | {cpu:.2} | {per_cpu} |",
            pairs.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
        std::thread::sleep(Duration::from_secs(3));
    }
    drop(uases);
    o
}
