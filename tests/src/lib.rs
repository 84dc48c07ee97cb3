//! Test harness: start the B2BUA on free ports with the demo tenant (this file), drive SIPp
//! phones and own their RTP sockets (`phones`), start gateways (`gateway`), walk compat-specs
//! (`compat`), find and run external tools (`tools`, `prometheus`), load phones (`load`);
//! audio checks, webhook receivers, carriers and clusters in the public modules.
#![allow(unreachable_pub)]

pub mod cluster;
mod compat;
mod gateway;
mod load;
pub mod media;
mod phones;
mod prometheus;
mod tools;
pub mod trunk;
pub mod webhook;

pub use compat::*;
pub use gateway::*;
pub use load::*;
pub use phones::*;
pub use prometheus::*;
pub use tools::*;

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

/// The control-API token of every test stack.
pub const CONTROL_TOKEN: &str = "e2e-control-token-0123456789";

pub(crate) static NEXT_RTP_BLOCK: AtomicU16 = AtomicU16::new(0);
pub(crate) static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

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

/// Local relay address of one side of a live call.
pub async fn relay_addr(api: &ControlClient, id: &CallId, side: patchbay_api::Side) -> SocketAddr {
    let legs = api.media(id).await.expect("media");
    let leg = legs
        .iter()
        .find(|l| l.side == side)
        .expect("leg of that side");
    leg.local_rtp.parse().expect("addr")
}

/// The B2BUA's node number in the tests' stacks (`b2bua.node`).
pub const TEST_NODE: u8 = 7;

/// The CDR of a call, once written.
pub async fn cdr(stack: &Stack, id: &CallId) -> patchbay_api::Cdr {
    for _ in 0..50 {
        if let Ok(Some(c)) = stack.store.cdr(&id.0).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no CDR for {id}");
}
