//! `patchbay`: one binary for the whole stack and for each process alone.
//!
//! - `patchbay up`: the embedded stack (B2BUA on SQLite, demo tenant provisioned).
//! - `patchbay b2bua`: the B2BUA alone (hosted mode: point `store_url` at PostgreSQL).
//! - `patchbay gateway`: the HTTP gateway alone (hosted mode: several behind a balancer, all
//!   pointing at the same store and `gateway.b2bua_url`).
//!
//! Config: `--config FILE` (YAML, every key documented in `patchbay.example.yaml`; unknown keys
//! are an error naming the key), then `PATCHBAY_*` environment overrides, then validation.

mod config;
mod secret;

use clap::{Parser, Subcommand};
use config::AppConfig;
use patchbay_store::Store as _;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "patchbay",
    version,
    about = "PBX-migration gateway: vendor APIs in front of a real B2BUA"
)]
struct Cli {
    /// YAML config file (defaults apply to every key it leaves out).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the embedded SQLite store and recordings live.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the whole stack on the embedded store with the demo tenant.
    Up,
    /// Run the B2BUA process alone.
    B2bua,
    /// Run the HTTP gateway alone.
    Gateway,
    /// Print the effective config as YAML and exit.
    Config,
    /// Replace the system API key's secret and print the new one (the old stops working).
    RotateSystemKey,
}

/// mimalloc: glibc malloc's arena locks were futex contention between the gateway's threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PATCHBAY_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = match AppConfig::load(
        cli.config.as_deref(),
        cli.data_dir.as_deref(),
        &config::ProcessEnv,
    ) {
        Ok(c) => c,
        Err(errs) => {
            for e in errs {
                eprintln!("patchbay: config: {e}");
            }
            std::process::exit(2);
        }
    };
    if let Cmd::Config = cli.cmd {
        print!("{}", serde_yaml::to_string(&cfg).unwrap_or_default());
        return;
    }
    let mut cfg = cfg;
    // The control API is never open: B2BUA and gateway of one data dir share its token.
    let (b2bua, gateway) = match cli.cmd {
        Cmd::Up => (true, true),
        Cmd::B2bua => (true, false),
        Cmd::Gateway => (false, true),
        _ => (false, false),
    };
    if cfg.b2bua.recordings_dir.as_os_str().is_empty() {
        cfg.b2bua.recordings_dir = cfg.data_dir.join("recordings");
    }
    if cfg.b2bua.prompts_dir.as_os_str().is_empty() {
        cfg.b2bua.prompts_dir = cfg.data_dir.join("prompts");
    }
    if cfg.b2bua.sounds_dir == std::path::Path::new("sounds") {
        cfg.b2bua.sounds_dir = cfg.data_dir.join("sounds");
    }
    // `up` runs both: the B2BUA's route hook is its gateway's (admin listener).
    if b2bua && gateway && cfg.b2bua.route_hook_url.is_empty() {
        cfg.b2bua.route_hook_url = format!("http://{}/internal/v1/route", cfg.gateway.admin_listen);
    }
    if let Err(e) = cfg.fill_control_token(b2bua, gateway, b2bua) {
        eprintln!("patchbay: config: {e}");
        std::process::exit(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("patchbay: cannot start runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Cmd::RotateSystemKey = cli.cmd {
        match rt.block_on(rotate_system_key(&cfg)) {
            Ok(secret) => println!(
                "patchbay: system API key {} / {secret} (printed once; stored hashed)",
                secret::SYSTEM_KEY
            ),
            Err(e) => {
                eprintln!("patchbay: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let demo = matches!(cli.cmd, Cmd::Up) || cfg.demo;
    let parts = match cli.cmd {
        Cmd::Up => Parts {
            b2bua: true,
            gateway: true,
        },
        Cmd::B2bua => Parts {
            b2bua: true,
            gateway: false,
        },
        _ => Parts {
            b2bua: false,
            gateway: true,
        },
    };
    if let Err(e) = rt.block_on(run(cfg, demo, parts)) {
        eprintln!("patchbay: {e}");
        std::process::exit(1);
    }
}

struct Parts {
    b2bua: bool,
    gateway: bool,
}

async fn run(
    mut cfg: AppConfig,
    demo: bool,
    parts: Parts,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&cfg.data_dir)?;
    let url = cfg.store_url();
    let store = Arc::new(patchbay_store::SqlStore::connect(&url).await?);
    if demo {
        patchbay_store::demo::provision_demo(store.as_ref()).await?;
    }
    println!("patchbay: store      {}", redact(&url));
    // The operator's credential for tenants and their first admin keys: made once.
    if parts.b2bua && parts.gateway && store.api_key(secret::SYSTEM_KEY).await?.is_none() {
        let secret = secret::make_system_key(store.as_ref(), &cfg.b2bua.default_tenant).await?;
        println!(
            "patchbay: system API key {} / {secret} (printed once, stored hashed; \
             `patchbay rotate-system-key` makes a new one)",
            secret::SYSTEM_KEY
        );
    }
    let b2bua = if parts.b2bua {
        let b = patchbay_b2bua::start(cfg.b2bua.clone(), store.clone()).await?;
        println!("patchbay: SIP        {} (UDP and TCP)", b.sip);
        println!(
            "patchbay: B2BUA API  http://{}/v1 (metrics: /metrics, health: /health)",
            b.admin
        );
        println!(
            "patchbay: RTP relay  {}:{}-{}",
            cfg.b2bua.media.bind_ip, cfg.b2bua.media.port_min, cfg.b2bua.media.port_max
        );
        // The gateway of the same process talks to this B2BUA.
        cfg.gateway.b2bua_url = format!("http://{}", b.admin);
        Some(b)
    } else {
        None
    };
    let gateway = if parts.gateway {
        let gcfg = cfg.gateway.clone();
        // Its own pool: the gateway runs on pingora's runtime, whose connections die with it
        // at stop, while the B2BUA still writes its last CDRs.
        let st: Arc<dyn patchbay_store::Store> = Arc::new(store.reopen().await?);
        let g = tokio::task::spawn_blocking(move || patchbay_gateway::start(gcfg, st)).await??;
        for (l, addr) in cfg.gateway.listeners.iter().zip(&g.listeners) {
            let names: Vec<&str> = l.profiles.iter().map(|p| p.as_str()).collect();
            let scheme = if l.tls.is_some() { "https" } else { "http" };
            println!(
                "patchbay: HTTP       {scheme}://{addr} ({})",
                names.join(", ")
            );
        }
        println!(
            "patchbay: gateway    http://{} (metrics: /metrics, health: /health); B2BUA at {}",
            g.admin, cfg.gateway.b2bua_url
        );
        Some(g)
    } else {
        None
    };
    if demo {
        println!(
            "patchbay: demo tenant 'demo' (realm demo): users 4005, 4007, 4009, SIP password demo-<ext>, web PIN web-<ext>"
        );
        println!(
            "patchbay: demo API key {} / demo-secret (e.g. curl -u {}:demo-secret http://127.0.0.1:8080/api/v1/me)",
            patchbay_store::demo::DEMO_KEY,
            patchbay_store::demo::DEMO_KEY
        );
    }
    println!("patchbay: ready (Ctrl-C or SIGTERM to stop)");
    wait_for_signal().await;
    println!("patchbay: stopping");
    if let Some(g) = gateway {
        let _ = tokio::task::spawn_blocking(move || g.stop()).await;
    }
    if let Some(b) = b2bua {
        b.stop().await;
    }
    println!("patchbay: stopped");
    Ok(())
}

async fn rotate_system_key(cfg: &AppConfig) -> Result<String, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&cfg.data_dir)?;
    let store = patchbay_store::SqlStore::connect(&cfg.store_url()).await?;
    Ok(secret::make_system_key(&store, &cfg.b2bua.default_tenant).await?)
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
