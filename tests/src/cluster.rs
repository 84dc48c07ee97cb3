//! Several B2BUA nodes on one store behind the SIP edge (Kamailio with the repository's
//! `b2bua/kamailio/patchbay.cfg`): each node on a loopback address of its own (127.0.0.11,
//! .12 ...), as the dispatcher tells nodes apart by address.

use crate::{CONTROL_TOKEN, NEXT_DIR, NEXT_RTP_BLOCK, free_port};
use patchbay_api::client::ControlClient;
use patchbay_b2bua::{B2buaConfig, Running};
use patchbay_store::SqlStore;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdp};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A node's configuration on `ip` with free ports, its own RTP range, node number `node`,
/// prompts, sounds and recordings under `dir` (shared by the nodes of a cluster).
pub fn b2bua_config(dir: &Path, ip: [u8; 4], node: u8) -> B2buaConfig {
    let block = NEXT_RTP_BLOCK.fetch_add(1, Ordering::Relaxed);
    let mut cfg = B2buaConfig {
        sip_listen: SocketAddr::from((ip, free_port())),
        // A fixed port, so a restarted B2BUA is found again at the same address.
        admin_listen: SocketAddr::from(([127, 0, 0, 1], free_port())),
        control_token: CONTROL_TOKEN.into(),
        // Not the default: every test's call ids carry a node number of their own.
        node,
        ..B2buaConfig::default()
    };
    cfg.media.bind_ip = IpAddr::from(ip);
    cfg.media.port_min = 30000 + block * 200;
    cfg.media.port_max = cfg.media.port_min + 199;
    cfg.ring_timeout_secs = 10;
    cfg.prompts_dir = dir.join("prompts");
    cfg.sounds_dir = dir.join("sounds");
    cfg.recordings_dir = dir.join("recordings");
    cfg
}

/// Kamailio running the repository's edge configuration, dispatching to `nodes`.
pub struct Edge {
    child: std::process::Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
}

impl Edge {
    /// Start it on 127.0.0.1 (a free port) and wait until it answers OPTIONS.
    pub fn start(nodes: &[SocketAddr]) -> Edge {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("patchbay-edge-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("run")).expect("edge dir");
        let list: String = nodes.iter().map(|a| format!("1 sip:{a}\n")).collect();
        std::fs::write(dir.join("dispatcher.list"), list).expect("dispatcher list");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let cfg = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../b2bua/kamailio/patchbay.cfg");
        let log = std::fs::File::create(dir.join("kamailio.log")).expect("edge log");
        let child = std::process::Command::new("kamailio")
            .arg("-f")
            .arg(&cfg)
            .arg("-l")
            .arg(format!("udp:{addr}"))
            .arg("-A")
            .arg(format!("DS_LIST=\"{}\"", dir.join("dispatcher.list").display()))
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .arg("-Y")
            .arg(dir.join("run"))
            .arg("-P")
            .arg(dir.join("kamailio.pid"))
            .arg("-w")
            .arg(&dir)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("kamailio is missing: install it with `apt-get install kamailio` (or run `make test`)");
        let edge = Edge { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !edge.answers_options() {
            assert!(
                Instant::now() < deadline,
                "Kamailio did not start; its log:\n{}",
                edge.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        edge
    }

    fn answers_options(&self) -> bool {
        let sock = StdUdp::bind("127.0.0.1:0").expect("udp");
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        let port = sock.local_addr().expect("addr").port();
        let a = self.addr;
        let msg = format!(
            "OPTIONS sip:{a} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{port}\r\n\
             From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:{a}>\r\nCall-ID: probe-{port}\r\n\
             CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        let _ = sock.send_to(msg.as_bytes(), a);
        let mut buf = [0u8; 2048];
        matches!(sock.recv(&mut buf), Ok(n) if buf[..n].starts_with(b"SIP/2.0 200"))
    }

    /// REGISTER demo user `user` through the edge from `port`, its contact (one socket, as a
    /// phone has: the edge's Path says where it received the REGISTER from).
    pub async fn register(&self, user: &str, port: u16) {
        let (edge, pw, from) = (
            self.addr.to_string(),
            format!("demo-{user}"),
            port.to_string(),
        );
        let code = crate::Sipp::register_via(&edge, &edge, user, &pw, port, &["-p", &from]).await;
        assert_eq!(code, 0, "{user} registered through the edge");
    }

    /// `user` dialling `number` through the edge (stays until BYE), RTP on `rtp`.
    pub fn dial(&self, user: &str, number: &str, rtp: u16) -> crate::Sipp {
        crate::Sipp::dial_via(&self.addr.to_string(), user, number, rtp)
    }

    /// What Kamailio logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kamailio.log")).unwrap_or_default()
    }
}

impl Drop for Edge {
    /// SIGTERM: the main process stops its children (a SIGKILL would leave them running).
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a cluster's store lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file in the cluster's directory.
    Sqlite,
    /// A database of its own on the tests' PostgreSQL server (`PATCHBAY_TEST_POSTGRES_URL`,
    /// required: hosted mode is what a cluster runs on), dropped by [`Nodes::finish`].
    Postgres,
}

/// A fresh database on the tests' PostgreSQL server with the demo tenant; its name. Databases
/// earlier runs of this binary left (a test that failed before it finished) are dropped.
pub(crate) async fn postgres_store() -> (Arc<SqlStore>, String) {
    use sqlx::{Connection, Executor};
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL").expect(
        "PATCHBAY_TEST_POSTGRES_URL is not set: the cluster test runs on PostgreSQL \
         (`make test` installs Debian's postgresql, starts it and sets the URL)",
    );
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("postgres");
    let pid = std::process::id();
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'pb_cluster_%'")
            .fetch_all(&mut admin)
            .await
            .expect("databases");
    for (name,) in stale {
        let owner_alive = name
            .split('_')
            .nth(2)
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| p == pid || std::path::Path::new(&format!("/proc/{p}")).exists());
        if !owner_alive {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
                .await;
        }
    }
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let name = format!("pb_cluster_{pid}_{n}");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    let store = Arc::new(
        SqlStore::connect(&format!("{base}/{name}"))
            .await
            .expect("store"),
    );
    patchbay_store::demo::provision_demo(store.as_ref())
        .await
        .expect("demo tenant");
    (store, name)
}

/// Drop a database [`postgres_store`] made (its connections are closed by force).
pub async fn drop_database(name: &str) {
    use sqlx::{Connection, Executor};
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL").unwrap_or_default();
    if let Ok(mut admin) = sqlx::PgConnection::connect(&url).await {
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
    }
}

/// B2BUA nodes in this process, on one store (the demo tenant), each on 127.0.0.1x.
pub struct Nodes {
    pub store: Arc<SqlStore>,
    /// The PostgreSQL database, when the store is one.
    database: Option<String>,
    pub dir: PathBuf,
    pub cfgs: Vec<B2buaConfig>,
    pub running: Vec<Option<Running>>,
    pub apis: Vec<ControlClient>,
}

impl Nodes {
    /// `count` nodes numbered 1.., on 127.0.0.11.., taking requests from the edge on
    /// 127.0.0.1 as its phones', on a store of `kind`.
    pub async fn start(count: u8, kind: StoreKind) -> Nodes {
        Self::start_with(count, kind, |_| {}).await
    }

    /// Like [`Nodes::start`], each node's configuration adjusted by `tune`.
    pub async fn start_with(count: u8, kind: StoreKind, tune: impl Fn(&mut B2buaConfig)) -> Nodes {
        let (dir, store, database) = crate::demo_store("nodes").await;
        let (store, database) = match (kind, database) {
            (StoreKind::Postgres, None) => {
                let (pg, name) = postgres_store().await;
                (pg, Some(name))
            }
            (_, database) => (store, database),
        };
        let mut nodes = Nodes {
            store,
            database,
            dir,
            cfgs: Vec::new(),
            running: Vec::new(),
            apis: Vec::new(),
        };
        for i in 1..=count {
            let mut cfg = b2bua_config(&nodes.dir, [127, 0, 0, 10 + i], i);
            cfg.edge_proxies = vec![IpAddr::from([127, 0, 0, 1])];
            tune(&mut cfg);
            let running = patchbay_b2bua::start(cfg.clone(), nodes.store.clone())
                .await
                .expect("node starts");
            nodes.apis.push(
                ControlClient::new(
                    format!("http://{}", running.admin),
                    CONTROL_TOKEN,
                    Duration::from_secs(5),
                )
                .expect("client"),
            );
            nodes.cfgs.push(cfg);
            nodes.running.push(Some(running));
        }
        nodes
    }

    /// The next node (numbered after the others, on its own 127.0.0.1x) in a process of its
    /// own, so that `kill -9` reaches it alone: the test binary run again as `child_test`, an
    /// ignored test calling [`node_process`]. Returns once its control API answers.
    pub async fn spawn_node(
        &mut self,
        child_test: &str,
        tune: impl Fn(&mut B2buaConfig),
    ) -> NodeProcess {
        let i = u8::try_from(self.cfgs.len() + 1).expect("a few nodes");
        let mut cfg = b2bua_config(&self.dir, [127, 0, 0, 10 + i], i);
        cfg.edge_proxies = vec![IpAddr::from([127, 0, 0, 1])];
        tune(&mut cfg);
        let url = match &self.database {
            Some(name) => {
                let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL").unwrap_or_default();
                let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
                format!("{base}/{name}")
            }
            None => format!("sqlite://{}?mode=rwc", self.dir.join("pb.db").display()),
        };
        let child = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                child_test,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(
                "PATCHBAY_NODE_CONFIG",
                serde_json::to_string(&cfg).expect("config"),
            )
            .env("PATCHBAY_NODE_STORE", url)
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node process");
        let api = ControlClient::new(
            format!("http://{}", cfg.admin_listen),
            CONTROL_TOKEN,
            Duration::from_secs(5),
        )
        .expect("client");
        let deadline = Instant::now() + Duration::from_secs(30);
        while api.list_calls().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "node {i} did not start within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.apis.push(api);
        self.cfgs.push(cfg);
        self.running.push(None);
        NodeProcess { child }
    }

    /// Every node's SIP address (the dispatcher's list).
    pub fn sip(&self) -> Vec<SocketAddr> {
        self.cfgs.iter().map(|c| c.sip_listen).collect()
    }

    /// A gateway in front of every node (`b2bua_nodes`).
    pub fn gateway(&self, tune: impl FnOnce(&mut patchbay_gateway::GatewayConfig)) -> crate::Gw {
        let nodes = self
            .cfgs
            .iter()
            .map(|c| patchbay_gateway::B2buaNode {
                node: c.node,
                url: format!("http://{}", c.admin_listen),
            })
            .collect();
        crate::start_gateway(self.store.clone(), |cfg| {
            cfg.b2bua_nodes = nodes;
            tune(cfg);
        })
    }

    /// The one bridged call on any running node, and the node's index.
    pub async fn bridged(&self, within: Duration) -> (usize, patchbay_api::CallInfo) {
        let deadline = Instant::now() + within;
        loop {
            for (i, api) in self.apis.iter().enumerate() {
                if self.running[i].is_none() {
                    continue;
                }
                if let Some(c) = api
                    .list_calls()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .find(|c| c.state == patchbay_api::CallState::Bridged)
                {
                    return (i, c);
                }
            }
            assert!(Instant::now() < deadline, "no call bridged on any node");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stop every node still running; drop the PostgreSQL database.
    pub async fn finish(mut self) {
        for i in 0..self.running.len() {
            self.stop(i).await;
        }
        if let Some(name) = self.database.take() {
            drop_database(&name).await;
        }
    }

    /// Stop node `i` (0-based): its listeners close.
    pub async fn stop(&mut self, i: usize) {
        if let Some(r) = self.running[i].take() {
            r.stop().await;
        }
    }
}

/// A node in a process of its own ([`Nodes::spawn_node`]); killed when dropped.
pub struct NodeProcess {
    child: tokio::process::Child,
}

impl NodeProcess {
    /// `kill -9`: no chance to end its calls or flush anything.
    pub async fn kill9(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The body of a node process ([`Nodes::spawn_node`]): a B2BUA on the configuration and store
/// the parent gave, until killed (or 120 s, so that it never outlives a test for long). Does
/// nothing when run by hand.
pub async fn node_process() {
    let (Ok(cfg), Ok(url)) = (
        std::env::var("PATCHBAY_NODE_CONFIG"),
        std::env::var("PATCHBAY_NODE_STORE"),
    ) else {
        return;
    };
    let cfg: B2buaConfig = serde_json::from_str(&cfg).expect("node config");
    let store = Arc::new(SqlStore::connect(&url).await.expect("store"));
    let running = patchbay_b2bua::start(cfg, store)
        .await
        .expect("node starts");
    tokio::time::sleep(Duration::from_secs(120)).await;
    running.stop().await;
}

impl Drop for Nodes {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
