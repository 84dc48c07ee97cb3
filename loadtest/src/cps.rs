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

/// Last row of a SIPp `-trace_stat` CSV: (successful, failed, avg setup ms).
fn sipp_totals(csv: &Path) -> (u64, u64, String) {
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
    (ok, failed, col("ResponseTimesetup(C)").to_string())
}

/// Start `patchbay --config cfg up` with its data in `dir`; returns once it printed "ready".
pub(crate) fn start_patchbay(patchbay: &str, cfg: &Path, dir: &Path) -> Kill {
    let mut pb = Kill(
        Command::new(patchbay)
            .args(["--config"])
            .arg(cfg)
            .args(["up", "--data-dir"])
            .arg(dir.join("data"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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

pub(crate) fn run(patchbay: &str, rates: &[u64], secs: u64) -> String {
    let mut o = String::new();
    let dir = std::env::temp_dir().join(format!("patchbay-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (sip, admin, uas_port) = (free_port(), free_port(), free_port());
    let cfg = dir.join("bench.yaml");
    std::fs::write(
        &cfg,
        format!(
            "b2bua:\n  sip_listen: 127.0.0.1:{sip}\n  admin_listen: 127.0.0.1:{admin}\n  max_setups_in_flight: 5000\n  auth_fail_limit: 1000000\n"
        ),
    )
    .expect("config");
    let pb = start_patchbay(patchbay, &cfg, &dir);
    let pid = pb.0.id();
    let target = format!("127.0.0.1:{sip}");
    register(&target, "4007", uas_port, &dir);
    let _uas = Kill(
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
    );
    std::thread::sleep(Duration::from_millis(500));
    outln!(
        o,
        "| offered CPS | calls | successful | failed | avg setup (ms) | B2BUA CPU s | calls per CPU s |"
    );
    outln!(o, "|---|---|---|---|---|---|---|");
    let stat = format!("/proc/{pid}/stat");
    for &rate in rates {
        let calls = rate * secs;
        let csv = dir.join(format!("uac_{rate}.csv"));
        let cpu0 = crate::cpu_secs(&stat);
        let _ = Command::new("sipp")
            .arg(&target)
            .arg("-sf")
            .arg(scenario("uac_bench.xml"))
            .args([
                "-s",
                "4007",
                "-i",
                "127.0.0.1",
                "-nostdin",
                "-au",
                "4005",
                "-ap",
                "demo-4005",
            ])
            .args(["-auth_uri", &format!("4007@{target}")])
            .args([
                "-r",
                &rate.to_string(),
                "-m",
                &calls.to_string(),
                "-l",
                &(rate * 4).to_string(),
                "-d",
                "1000",
            ])
            .args([
                "-timeout",
                &format!("{}s", secs + 30),
                "-max_socket",
                "65000",
            ])
            .args(["-trace_stat", "-stf"])
            .arg(&csv)
            .args(["-fd", "1"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let cpu = crate::cpu_secs(&stat) - cpu0;
        let (ok, failed, setup) = sipp_totals(&csv);
        let per_cpu = if cpu > 0.0 {
            (ok as f64 / cpu) as u64
        } else {
            0
        };
        outln!(
            o,
            "| {rate} | {calls} | {ok} | {failed} | {setup} | {cpu:.2} | {per_cpu} |"
        );
        std::thread::sleep(Duration::from_secs(3));
    }
    drop(pb);
    let _ = std::fs::remove_dir_all(&dir);
    o
}
