//! The Patchbay B2BUA process: SIP registrar and back-to-back user agent on rvoip, driving the
//! sans-IO call core (`patchbay-proto`) and the RTP relay (`patchbay-media`), with a JSON
//! control API for the gateway (`patchbay-api`).
//!
//! Only this crate talks to rvoip: its SIP parser and message types through `patchbay-sip`
//! (transactions and dialogs, sans-IO) and `ua` (the user agent, sans-IO), its UDP transport
//! in `transport`, its digest check in `auth`. See ARCHITECTURE.md.

mod api;
pub mod auth;
pub mod config;
mod driver;
mod event_store;
pub mod events;
pub mod location;
mod location_sync;
pub mod metrics;
mod orphans;
pub mod policy;
pub mod ratelimit;
mod registrar;
mod retention;
mod route_hook;
mod routing;
mod shared;
pub mod sip;
mod transport;
mod trunks;
mod ua;

pub use config::B2buaConfig;

use driver::Driver;
use patchbay_media::Relay;
use patchbay_store::Store;
use shared::Shared;
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
    /// The TLS listener's address, when configured.
    pub sip_tls: Option<SocketAddr>,
    pub admin: SocketAddr,
    shutdown: watch::Sender<bool>,
    driver: tokio::task::JoinHandle<()>,
    admin_task: tokio::task::JoinHandle<()>,
    retention: tokio::task::JoinHandle<()>,
    trunk_sync: tokio::task::JoinHandle<()>,
    location_sync: tokio::task::JoinHandle<()>,
    location_writer: tokio::task::JoinHandle<()>,
    event_writer: tokio::task::JoinHandle<()>,
    event_flush: watch::Sender<bool>,
    orphans: tokio::task::JoinHandle<()>,
}

impl Running {
    /// End every call (BYE/CANCEL), then stop the SIP transport and the admin listener.
    pub async fn stop(self) {
        self.orphans.abort();
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.driver).await;
        // The calls' last events (those the stop ended) reach the store before we go.
        let _ = self.event_flush.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.event_writer).await;
        self.admin_task.abort();
        self.retention.abort();
        self.trunk_sync.abort();
        self.location_sync.abort();
        self.location_writer.abort();
    }
}

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
    // The base of this run's call ids: its start second, past any earlier run's.
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let id_base = store.claim_node_start(cfg.node, now_secs).await?;
    // Alive before the first call is journalled (a run never seen alive is a dead one).
    store
        .node_alive(cfg.node, id_base, driver::now_ms())
        .await?;
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let (location_writes, location_rx) = mpsc::unbounded_channel();
    let sh = Arc::new(Shared {
        route_hook: route_hook::RouteHook::new(&cfg),
        id_base,
        calls_named: std::sync::atomic::AtomicU64::new(0),
        cfg: cfg.clone(),
        store: store.clone(),
        auth: auth::Auth::new(store.clone(), &tenants),
        location: Mutex::new(location::Location::default()),
        location_writes,
        failures: Mutex::new(ratelimit::AuthFailures::new(
            cfg.auth_fail_limit,
            u64::from(cfg.auth_fail_window_secs) * 1000,
        )),
        source_rate: Mutex::new(ratelimit::SourceRate::new(
            cfg.sip_source_rate,
            cfg.sip_source_burst,
        )),
        log: events::EventLog::with_sink(event_tx),
        metrics: metrics::Metrics::new(),
        policies: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(10))
            .build(),
        app_numbers: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(10))
            .build(),
        dialplans: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(10))
            .build(),
        groups: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(10))
            .build(),
        rooms: moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(std::time::Duration::from_secs(10))
            .build(),
        trunks: std::sync::RwLock::default(),
        trunk_sync: tokio::sync::Notify::new(),
    });
    // Every registration the store holds (other nodes', and this node's before a restart).
    let last = location_sync::pull(&sh, 0, None).await?;
    relay
        .metrics()
        .register(&sh.metrics.registry)
        .map_err(|e| B2buaError::Config(e.to_string()))?;
    let engine_metrics = patchbay_media::endpoint::EngineMetrics::new();
    engine_metrics
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
    let tls = match (&cfg.sip_tls_listen, &cfg.sip_tls_cert, &cfg.sip_tls_key) {
        (Some(listen), Some(cert), Some(key)) => Some(transport::TlsSettings {
            listen: *listen,
            cert,
            key,
        }),
        _ => None,
    };
    let (transport, sip_rx) = transport::SipTransport::bind(cfg.sip_listen, tls)
        .await
        .map_err(|e| B2buaError::Sip(e.to_string()))?;
    let sip_tls = transport.tls_addr();
    let sip = transport.local_addr();
    let (cmd_tx, cmd_rx) = mpsc::channel(1024);
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (task_tx, task_rx) = mpsc::unbounded_channel();
    let orphans = tokio::spawn(orphans::watch(sh.clone(), task_tx.clone()));
    let trunk_sync = tokio::spawn(trunks::sync(sh.clone(), task_tx.clone()));
    let driver = Driver::new(sh.clone(), transport, relay, task_tx, engine_metrics);
    let driver = tokio::spawn(async move {
        driver.run(sip_rx, task_rx, cmd_rx, shutdown_rx).await;
    });
    let retention = tokio::spawn(retention::sweeper(sh.clone()));
    let location_sync = tokio::spawn(location_sync::follow(sh.clone(), last));
    let location_writer = tokio::spawn(location_sync::writer(store.clone(), cfg.node, location_rx));
    let (event_flush, flush_rx) = watch::channel(false);
    let event_writer = tokio::spawn(event_store::writer(
        store.clone(),
        cfg.node,
        sh.metrics.clone(),
        event_rx,
        flush_rx,
    ));
    let app = api::router(api::AppState { cmd: cmd_tx, sh });
    let admin_task = tokio::spawn(async move {
        let _ = axum::serve(admin_listener, app).await;
    });
    Ok(Running {
        sip,
        sip_tls,
        admin,
        shutdown,
        driver,
        admin_task,
        retention,
        trunk_sync,
        location_sync,
        location_writer,
        event_writer,
        event_flush,
        orphans,
    })
}
