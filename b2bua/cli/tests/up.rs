//! `patchbay up` as a real process: starts, provisions the demo tenant, serves /health and
//! /metrics, and stops cleanly on SIGTERM.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn up_runs_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("patchbay-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (sip, admin) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(["up", "--data-dir"])
        .arg(&dir)
        .env("PATCHBAY_SIP_LISTEN", format!("127.0.0.1:{sip}"))
        .env("PATCHBAY_B2BUA_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let start = Instant::now();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push(line.clone());
        if line.contains("ready") || start.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    let text = printed.join("\n");
    assert!(
        text.contains(&format!("SIP        127.0.0.1:{sip}")),
        "{text}"
    );
    assert!(text.contains("demo tenant"), "{text}");
    assert!(
        dir.join("patchbay.db").exists(),
        "SQLite store in the data dir"
    );
    let addr = format!("127.0.0.1:{admin}");
    assert!(http_get(&addr, "/health").ends_with("ok\n"));
    let metrics = http_get(&addr, "/metrics");
    assert!(metrics.contains("patchbay_b2bua_calls_active"), "{metrics}");
    let regs = http_get(&addr, "/v1/registrations?tenant=demo");
    assert!(regs.ends_with("[]"), "{regs}");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit: {status:?}");
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_config_key_is_named() {
    let dir = std::env::temp_dir().join(format!("patchbay-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "b2bua:\n  ring_timout_secs: 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .arg("--config")
        .arg(&file)
        .arg("up")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ring_timout_secs"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
