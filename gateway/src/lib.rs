//! The Patchbay gateway: pingora listeners that answer each vendor API, one authentication layer
//! that turns every scheme into a [`Principal`](patchbay_gateway_proto::Principal), limits,
//! metrics, and the link to the B2BUA's control API.
//!
//! Vendor formats live in `patchbay-gateway-proto` (sans-IO); this crate does the I/O: store
//! lookups, argon2 checks, caches, B2BUA calls, sockets. It never touches SIP: it knows the B2BUA
//! only through `patchbay-api`'s `ControlClient`.
//!
//! Runtime note: the store and the B2BUA client are used from pingora's own tokio runtime. Their
//! connections may be registered with the runtime that created them (the caller of [`start`]),
//! which must outlive the gateway.

pub mod auth;
pub mod config;
mod cti;
mod events;
mod handlers;
pub mod limits;
pub mod metrics;
mod nodes;
mod ozeki;
mod service;
mod sipx;
pub mod webhooks;

pub use config::{
    AuthConfig, B2buaNode, GatewayConfig, LimitsConfig, ListenerConfig, TlsConfig, WebhookConfig,
};

use patchbay_api::client::ControlClient;
use patchbay_store::Store;
use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server, ShutdownSignal, ShutdownSignalWatch};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    #[error("config: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gateway did not start: {0}")]
    Start(String),
}

/// State shared by every request.
pub struct Gateway {
    pub(crate) cfg: Arc<GatewayConfig>,
    /// This gateway's name among the gateways on one store (a random id per start): the
    /// owner of the calls whose follow-up work it claimed (`Gateway::claim_call`).
    pub(crate) instance: String,
    pub(crate) store: Arc<dyn Store>,
    /// The B2BUA nodes (`nodes`): a call's commands go to its own.
    pub(crate) b2bua: Arc<nodes::B2bua>,
    /// Every node's call events, from the store (`events`).
    pub(crate) events: Arc<events::Events>,
    pub(crate) authn: auth::Authn,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) in_flight: Arc<limits::InFlight>,
    pub(crate) key_rate: limits::RateLimiter,
    pub(crate) tenant_rate: limits::RateLimiter,
    pub(crate) call_rate: limits::RateLimiter,
    pub(crate) webhooks: Arc<webhooks::Webhooks>,
    pub(crate) ozeki: ozeki::Ozeki,
    pub(crate) sipx: sipx::Sipx,
    pub(crate) cti: cti::Cti,
    /// Each tenant's Taridium IPPS settings (`handlers::ipps::settings`).
    pub(crate) ipps: moka::sync::Cache<
        String,
        Arc<patchbay_gateway_proto::vendors::taridium::ipps::IppsSettings>,
    >,
}

/// A started gateway. [`RunningGateway::stop`] ends it (blocking; call it off the async threads).
pub struct RunningGateway {
    /// Actual listen address of each configured listener, in config order.
    pub listeners: Vec<SocketAddr>,
    pub admin: SocketAddr,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningGateway {
    pub fn stop(mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The webhook deliverer as a pingora background service (stops with the server).
struct DeliverService(Arc<webhooks::Deliverer>);

#[async_trait::async_trait]
impl pingora::services::background::BackgroundService for DeliverService {
    async fn start(&self, shutdown: pingora::server::ShutdownWatch) {
        self.0.clone().run(shutdown).await;
    }
}

/// The event log's follower as a pingora background service (stops with the server).
struct EventsService(Arc<events::Events>);

#[async_trait::async_trait]
impl pingora::services::background::BackgroundService for EventsService {
    async fn start(&self, mut shutdown: pingora::server::ShutdownWatch) {
        tokio::select! {
            () = self.0.clone().follow() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The B2BUA nodes' health checks as a pingora background service.
struct HealthService(Arc<nodes::B2bua>);

#[async_trait::async_trait]
impl pingora::services::background::BackgroundService for HealthService {
    async fn start(&self, mut shutdown: pingora::server::ShutdownWatch) {
        tokio::select! {
            () = self.0.clone().watch() => {}
            _ = shutdown.changed() => {}
        }
    }
}

struct StopSignal(Arc<tokio::sync::Notify>);

#[async_trait::async_trait]
impl ShutdownSignalWatch for StopSignal {
    async fn recv(&self) -> ShutdownSignal {
        self.0.notified().await;
        ShutdownSignal::FastShutdown
    }
}

/// Port 0 means "any free port": pingora cannot report what it bound, so pick one here. Also
/// proves the address is free before pingora (which exits the process on bind errors) tries.
/// The reservation is held (in `held`) until every address is picked: two listeners given the
/// same free port would make pingora listen twice on one socket (its second listener adopts
/// the first one's descriptor, and the two close it twice on shutdown).
fn reserve(addr: SocketAddr, held: &mut Vec<TcpListener>) -> Result<SocketAddr, GatewayError> {
    let l = TcpListener::bind(addr).map_err(|source| GatewayError::Listen { addr, source })?;
    let got = l
        .local_addr()
        .map_err(|source| GatewayError::Listen { addr, source })?;
    held.push(l);
    Ok(got)
}

/// Start the gateway on its own threads. Returns once every listener accepts connections.
pub fn start(cfg: GatewayConfig, store: Arc<dyn Store>) -> Result<RunningGateway, GatewayError> {
    let errs = cfg.validate();
    if !errs.is_empty() {
        return Err(GatewayError::Config(errs.join("; ")));
    }
    if cfg.b2bua_token.is_empty() {
        return Err(GatewayError::Config(
            "gateway.b2bua_token is required (the B2BUA's control_token)".into(),
        ));
    }
    let metrics = metrics::Metrics::new();
    let timeout = Duration::from_millis(cfg.b2bua_timeout_ms);
    let client = |url: &str| {
        ControlClient::new(url, &cfg.b2bua_token, timeout)
            .map_err(|e| GatewayError::Config(e.to_string()))
    };
    let mut nodes = Vec::new();
    if cfg.b2bua_nodes.is_empty() {
        nodes.push((None, client(&cfg.b2bua_url)?));
    }
    for n in &cfg.b2bua_nodes {
        nodes.push((Some(n.node), client(&n.url)?));
    }
    let b2bua = Arc::new(nodes::B2bua::new(nodes, metrics.b2bua_node_up.clone()));
    let mut listeners = Vec::new();
    let mut roles = Vec::new();
    let mut held = Vec::new();
    for l in &cfg.listeners {
        let addr = reserve(l.listen, &mut held)?;
        listeners.push(addr);
        roles.push((
            addr.port(),
            service::Role::Api {
                profiles: l.profiles.clone(),
                tenant: l.tenant.clone(),
            },
        ));
    }
    let admin = reserve(cfg.admin_listen, &mut held)?;
    // Free for pingora to bind.
    drop(held);
    roles.push((admin.port(), service::Role::Admin));
    let hooks = Arc::new(webhooks::Webhooks::new(
        store.clone(),
        cfg.webhooks.clone(),
        metrics.clone(),
    ));
    let events = Arc::new(events::Events::new(
        store.clone(),
        Duration::from_millis(cfg.events_poll_ms),
    ));
    let gw = Arc::new(Gateway {
        events: events.clone(),
        webhooks: hooks.clone(),
        ozeki: ozeki::Ozeki::new(store.clone(), ozeki::public_base(&cfg, &listeners)),
        sipx: sipx::Sipx::new(metrics.sipx_cc_calls.clone()),
        cti: cti::Cti::new(store.clone()),
        ipps: moka::sync::Cache::builder()
            .max_capacity(10_000)
            .time_to_live(Duration::from_secs(10))
            .build(),
        authn: auth::Authn::new(store.clone(), metrics.clone(), &cfg.auth),
        key_rate: limits::RateLimiter::new(cfg.limits.requests_per_sec_per_key),
        tenant_rate: limits::RateLimiter::new(cfg.limits.requests_per_sec_per_tenant),
        call_rate: limits::RateLimiter::new(cfg.limits.calls_per_sec_per_tenant),
        in_flight: Arc::new(limits::InFlight::default()),
        cfg: Arc::new(cfg.clone()),
        instance: handlers::random_hex(16),
        store,
        b2bua,
        metrics,
    });

    let conf = ServerConf {
        threads: cfg.threads,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut svc = pingora::services::listening::Service::new(
        "patchbay-gateway".to_string(),
        service::HttpService {
            gw: gw.clone(),
            roles,
        },
    );
    for (l, addr) in cfg.listeners.iter().zip(&listeners) {
        let a = addr.to_string();
        match &l.tls {
            Some(t) => svc
                .add_tls(&a, &t.cert, &t.key)
                .map_err(|e| GatewayError::Config(format!("tls on {a}: {e}")))?,
            None => svc.add_tcp(&a),
        }
    }
    svc.add_tcp(&admin.to_string());
    server.add_service(svc);
    server.add_service(pingora::services::background::background_service(
        "webhooks",
        DeliverService(Arc::new(webhooks::Deliverer::new(hooks))),
    ));
    server.add_service(pingora::services::background::background_service(
        "events",
        EventsService(events),
    ));
    server.add_service(pingora::services::background::background_service(
        "b2bua-health",
        HealthService(gw.b2bua.clone()),
    ));
    server.add_service(pingora::services::background::background_service(
        "ozeki",
        ozeki::FeedService(gw),
    ));
    let stop = Arc::new(tokio::sync::Notify::new());
    let sig = StopSignal(stop.clone());
    let thread = std::thread::Builder::new()
        .name("patchbay-gateway".into())
        .spawn(move || {
            server.run(RunArgs {
                shutdown_signal: Box::new(sig),
            })
        })
        .map_err(|e| GatewayError::Start(e.to_string()))?;
    let running = RunningGateway {
        listeners,
        admin,
        stop,
        thread: Some(thread),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let addrs: Vec<SocketAddr> = running
        .listeners
        .iter()
        .copied()
        .chain([running.admin])
        .collect();
    for a in &addrs {
        while TcpStream::connect_timeout(a, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                running.stop();
                return Err(GatewayError::Start(format!("{a} not accepting")));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    Ok(running)
}
