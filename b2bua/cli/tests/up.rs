//! `patchbay up` as a real process: starts B2BUA and gateway, provisions the demo tenant (the
//! demo API key works through the gateway), serves /health and /metrics, and stops cleanly on
//! SIGTERM.
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
    http_get_with(addr, path, "")
}

fn http_get_with(addr: &str, path: &str, extra: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
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
    let (http, ozeki, gw_admin) = (free_port(), free_port(), free_port());
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("patchbay.yaml");
    std::fs::write(
        &cfg,
        format!(
            "gateway:\n  listeners:\n  - listen: 127.0.0.1:{http}\n    profiles: [native, taridium, promptcall]\n    tenant: demo\n  - listen: 127.0.0.1:{ozeki}\n    profiles: [ozeki]\n    tenant: demo\n  admin_listen: 127.0.0.1:{gw_admin}\n"
        ),
    )
    .unwrap();
    let (mut child, lines, text) = spawn_up(&cfg, &dir, sip, admin);
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
    // The control API needs the data dir's token (made on first start, owner-only).
    let token_file = dir.join("control_token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    let token = token.trim();
    assert_eq!(token.len(), 64, "{token}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let bearer = format!("Authorization: Bearer {token}\r\n");
    assert!(http_get(&addr, "/metrics").starts_with("HTTP/1.1 401"));
    assert!(http_get(&addr, "/v1/registrations").starts_with("HTTP/1.1 401"));
    let metrics = http_get_with(&addr, "/metrics", &bearer);
    assert!(metrics.contains("patchbay_b2bua_calls_active"), "{metrics}");
    assert!(
        metrics.contains("patchbay_b2bua_control_unauthorized_total{reason=\"missing\"} 2"),
        "{metrics}"
    );
    let regs = http_get_with(&addr, "/v1/registrations?tenant=demo", &bearer);
    assert!(regs.ends_with("[]"), "{regs}");
    // The system API key, printed once, creates tenants through the gateway.
    let system = printed_secret(&text).expect("the system key is printed on first start");
    // The gateway of the same process, with the demo API key (demo-key:demo-secret).
    let gw = format!("127.0.0.1:{http}");
    let me = http_get_with(
        &gw,
        "/api/v1/me",
        "Authorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=\r\n",
    );
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    assert!(me.contains("\"scheme\":\"api_key\""), "{me}");
    assert!(http_get(&gw, "/api/v1/me").starts_with("HTTP/1.1 401"));
    let tenants = http_get_with(&gw, "/api/v1/tenants", &basic("system", &system));
    assert!(tenants.starts_with("HTTP/1.1 200"), "{tenants}");
    assert!(tenants.contains("\"name\":\"demo\""), "{tenants}");
    let gw_metrics = http_get(&format!("127.0.0.1:{gw_admin}"), "/metrics");
    assert!(
        gw_metrics.contains("patchbay_gateway_requests_total"),
        "{gw_metrics}"
    );

    sigterm(&child);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit: {status:?}");
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");

    // Rotation: a new secret is printed; the old one stops working, the key is not made again.
    let out = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .arg("--config")
        .arg(&cfg)
        .args(["rotate-system-key", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{printed}");
    let rotated = printed_secret(&printed).expect("new secret printed");
    assert_ne!(rotated, system);
    let (mut child, _lines, text) = spawn_up(&cfg, &dir, sip, admin);
    assert!(!text.contains("system API key"), "made once: {text}");
    let me = |secret: &str| http_get_with(&gw, "/api/v1/me", &basic("system", secret));
    assert!(me(&rotated).starts_with("HTTP/1.1 200"), "{}", me(&rotated));
    assert!(me(&system).starts_with("HTTP/1.1 401"));
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    std::fs::remove_dir_all(&dir).ok();
}

/// The system key's secret as `patchbay` prints it.
fn printed_secret(text: &str) -> Option<String> {
    let (_, rest) = text.split_once("system API key system / ")?;
    rest.split_whitespace().next().map(str::to_string)
}

fn sigterm(child: &std::process::Child) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.unwrap().success());
}

type Lines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// `patchbay up` on `dir`; its output up to "ready".
fn spawn_up(
    cfg: &std::path::Path,
    dir: &std::path::Path,
    sip: u16,
    admin: u16,
) -> (std::process::Child, Lines, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .arg("--config")
        .arg(cfg)
        .args(["up", "--data-dir"])
        .arg(dir)
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
    (child, lines, printed.join("\n"))
}

fn basic(user: &str, secret: &str) -> String {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    format!("Authorization: Basic {b}\r\n")
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
