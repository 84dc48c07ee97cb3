//! The Patchbay B2BUA process: SIP registrar and back-to-back user agent on rvoip, driving the
//! sans-IO call core (`patchbay-proto`) and the RTP relay (`patchbay-media`), with a JSON
//! control API for the gateway (`patchbay-api`).
//!
//! Only this crate talks to rvoip (in `sip`, `driver` and `registrar`). See ARCHITECTURE.md.

mod api;
pub mod config;
mod driver;
pub mod events;
pub mod location;
pub mod metrics;
pub mod policy;
pub mod ratelimit;
mod registrar;
pub mod sip;
mod ua;

pub use config::B2buaConfig;

use driver::{Driver, Shared};
use patchbay_media::Relay;
use patchbay_store::Store;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Why the B2BUA could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum B2buaError {
    #[error("invalid config: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] patchbay_store::StoreError),
    #[error("SIP stack: {0}")]
    Sip(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started B2BUA. Stop it with [`Running::stop`].
pub struct Running {
    pub sip: SocketAddr,
    pub admin: SocketAddr,
    shutdown: watch::Sender<bool>,
    driver: tokio::task::JoinHandle<()>,
    admin_task: tokio::task::JoinHandle<()>,
    coordinator: Arc<rvoip_sip::UnifiedCoordinator>,
}

impl Running {
    /// End every call (BYE/CANCEL), then stop the SIP stack and the admin listener.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.driver).await;
        // Give the BYEs a moment on the wire before the transport goes away.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = tokio::time::timeout(
            Duration::from_secs(3),
            self.coordinator
                .shutdown_gracefully(Some(Duration::from_secs(2))),
        )
        .await;
        self.admin_task.abort();
    }
}

/// rvoip's state table with Patchbay's change (`sip_states.yaml`), in a file for as long as
/// the SIP stack takes to load it.
struct StateTableFile {
    path: std::path::PathBuf,
}

impl StateTableFile {
    /// A new file (never an existing one or a link planted there: `create_new`), owner-only.
    fn write() -> Result<Self, B2buaError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let err = |p: &std::path::Path, e: std::io::Error| {
            B2buaError::Sip(format!("{}: {e}", p.display()))
        };
        let mut attempts = 0;
        let (path, mut file) = loop {
            attempts += 1;
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = std::env::temp_dir().join(format!(
                "patchbay-sip-states-{}-{n}-{nanos:08x}.yaml",
                std::process::id()
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 => {
                    continue;
                }
                Err(e) => return Err(err(&path, e)),
            }
        };
        let f = Self { path };
        file.write_all(SIP_STATES.as_bytes())
            .map_err(|e| err(&f.path, e))?;
        drop(file);
        // rvoip falls back to its own table, silently, on any error: check with its loader.
        let table = rvoip_sip::state_table::YamlTableLoader::load_from_file(&f.path)
            .map_err(|e| B2buaError::Sip(format!("SIP state table: {e}")))?;
        table
            .validate()
            .map_err(|e| B2buaError::Sip(format!("SIP state table: {}", e.join("; "))))?;
        Ok(f)
    }
}

impl Drop for StateTableFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

const SIP_STATES: &str = include_str!("sip_states.yaml");

/// Start the B2BUA on `cfg` with `store` (already migrated, tenants provisioned).
pub async fn start(cfg: B2buaConfig, store: Arc<dyn Store>) -> Result<Running, B2buaError> {
    let errs = cfg.validate();
    if !errs.is_empty() {
        return Err(B2buaError::Config(errs.join("; ")));
    }
    if cfg.control_token.is_empty() {
        return Err(B2buaError::Config(
            "b2bua.control_token is required (the control API is never open)".into(),
        ));
    }
    let cfg = Arc::new(cfg);
    let tenants = store.tenants().await?;
    let relay = Relay::new(cfg.media.clone()).map_err(|e| B2buaError::Config(e.to_string()))?;
    let sh = Arc::new(Shared {
        cfg: cfg.clone(),
        store: store.clone(),
        auth: sip::Auth::new(store.clone(), &tenants),
        location: Mutex::new(location::Location::default()),
        failures: Mutex::new(ratelimit::AuthFailures::new(
            cfg.auth_fail_limit,
            u64::from(cfg.auth_fail_window_secs) * 1000,
        )),
        log: events::EventLog::default(),
        metrics: metrics::Metrics::new(),
    });
    relay
        .metrics()
        .register(&sh.metrics.registry)
        .map_err(|e| B2buaError::Config(e.to_string()))?;

    let admin_listener = tokio::net::TcpListener::bind(cfg.admin_listen)
        .await
        .map_err(|source| B2buaError::Listen {
            addr: cfg.admin_listen,
            source,
        })?;
    let admin = admin_listener
        .local_addr()
        .map_err(|source| B2buaError::Listen {
            addr: cfg.admin_listen,
            source,
        })?;

    let mut sip_cfg = rvoip_sip::Config::on("patchbay", cfg.sip_listen.ip(), cfg.sip_listen.port())
        .with_signaling_only_media(9)
        .with_auto_180_ringing(false)
        .with_fast_auto_accept_incoming_calls(false);
    let states = StateTableFile::write()?;
    sip_cfg.state_table_path = Some(states.path.display().to_string());
    let (sip_tx, sip_rx) = mpsc::unbounded_channel();
    let sip_tx_loop = sip_tx.clone();
    let pump = sip::Pump {
        tx: sip_tx,
        ring_max: Duration::from_secs(u64::from(cfg.ring_timeout_secs) + 30),
    };
    let peer = rvoip_sip::CallbackPeer::new(pump, sip_cfg)
        .await
        .map_err(|e| B2buaError::Sip(e.to_string()))?;
    drop(states);
    let coordinator = peer.coordinator().clone();
    tokio::spawn(async move {
        let _ = peer.run().await;
    });

    let (cmd_tx, cmd_rx) = mpsc::channel(1024);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (cdr_tx, cdr_rx) = mpsc::unbounded_channel();
    let cdr_writer = tokio::spawn(driver::cdr_writer(sh.clone(), cdr_rx));
    let driver = Driver::new(coordinator.clone(), sh.clone(), relay, sip_tx_loop, cdr_tx);
    let driver = tokio::spawn(async move {
        driver.run(sip_rx, cmd_rx, shutdown_rx).await;
        // The driver dropped its CDR sender: wait until the last CDR is stored.
        let _ = cdr_writer.await;
    });
    let app = api::router(api::AppState { cmd: cmd_tx, sh });
    let admin_task = tokio::spawn(async move {
        let _ = axum::serve(admin_listener, app).await;
    });
    Ok(Running {
        sip: cfg.sip_listen,
        admin,
        shutdown,
        driver,
        admin_task,
        coordinator,
    })
}
