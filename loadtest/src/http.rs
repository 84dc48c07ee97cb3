//! Gateway vs bare hyper and bare pingora: the same authenticated GET, the same load generator,
//! one run.

use bytes::Bytes;
use http_body_util::Full;
use patchbay_gateway::GatewayConfig;
use patchbay_store::{ApiKey, SqlStore, Store, Tenant};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str =
    r#"{"tenant":"bench","user":null,"key":"bench-key","roles":["user"],"scheme":"api_key"}"#;
// base64("bench-key:bench-secret")
const AUTH: &str = "YmVuY2gta2V5OmJlbmNoLXNlY3JldA==";

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A bare hyper 1 server on its own two-thread runtime answering every request with BODY.
fn start_hyper() -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-hyper")
        .enable_all()
        .build()
        .expect("runtime");
    let addr = free_addr();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::bind(addr).await.expect("bind");
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|_req| async {
                    let mut r =
                        hyper::Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
                    r.headers_mut().insert(
                        "content-type",
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, std::convert::Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    (addr, rt)
}

/// A bare pingora server (the gateway's framework, two threads, the same `HttpServerApp`
/// path the gateway takes) answering every request with BODY: the framework's own cost.
struct BarePingora;

#[async_trait::async_trait]
impl pingora::apps::HttpServerApp for BarePingora {
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: pingora::protocols::http::ServerSession,
        _shutdown: &pingora::server::ShutdownWatch,
    ) -> Option<pingora::apps::ReusedHttpStream> {
        if !matches!(session.read_request().await, Ok(true)) {
            return None;
        }
        session.set_keepalive(Some(60));
        let mut h = pingora::http::ResponseHeader::build(200, Some(2)).ok()?;
        h.append_header("content-type", "application/json").ok()?;
        h.append_header("content-length", BODY.len()).ok()?;
        session.write_response_header(Box::new(h)).await.ok()?;
        session
            .write_response_body(Bytes::from_static(BODY.as_bytes()), true)
            .await
            .ok()?;
        let settings = pingora::apps::HttpPersistentSettings::for_session(&session);
        let reused = session.finish().await.ok()??;
        Some(pingora::apps::ReusedHttpStream::from_reusable_stream(
            reused, settings,
        ))
    }
}

fn start_pingora() -> SocketAddr {
    let addr = free_addr();
    let conf = pingora::server::configuration::ServerConf {
        threads: 2,
        ..Default::default()
    };
    let mut server = pingora::server::Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut svc =
        pingora::services::listening::Service::new("bench-pingora".to_string(), BarePingora);
    svc.add_tcp(&addr.to_string());
    server.add_service(svc);
    std::thread::spawn(move || server.run_forever());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    addr
}

/// One keep-alive connection sending GETs back to back until `until`; latencies in µs.
async fn conn_loop(addr: SocketAddr, until: Instant) -> (u64, u64, Vec<u32>) {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return (0, 1, vec![]);
    };
    let _ = s.set_nodelay(true);
    let req = format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {AUTH}\r\n\r\n"
    );
    let (mut ok, mut bad, mut lat) = (0u64, 0u64, Vec::new());
    let mut buf = vec![0u8; 8192];
    while Instant::now() < until {
        let t = Instant::now();
        if s.write_all(req.as_bytes()).await.is_err() {
            bad += 1;
            break;
        }
        // Read head, then Content-Length bytes of body.
        let mut have = 0;
        let (head_end, len) = loop {
            let Ok(n) = s.read(&mut buf[have..]).await else {
                return (ok, bad + 1, lat);
            };
            if n == 0 {
                return (ok, bad + 1, lat);
            }
            have += n;
            if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (i + 4, len);
            }
        };
        while have < head_end + len {
            match s.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return (ok, bad + 1, lat),
                Ok(n) => have += n,
            }
        }
        if buf.starts_with(b"HTTP/1.1 200") {
            ok += 1;
        } else {
            bad += 1;
        }
        lat.push(t.elapsed().as_micros() as u32);
    }
    (ok, bad, lat)
}

/// utime + stime of this process's threads whose name starts with `prefix`, in seconds.
fn threads_cpu(prefix: &str) -> f64 {
    let mut total = 0.0;
    if let Ok(rd) = std::fs::read_dir("/proc/self/task") {
        for t in rd.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.starts_with(prefix) {
                total += crate::cpu_secs(&t.path().join("stat").to_string_lossy());
            }
        }
    }
    total
}

struct Round {
    rps: f64,
    requests: u64,
    p50_us: u32,
    p99_us: u32,
    errors: u64,
}

fn load(loadgen: &tokio::runtime::Runtime, addr: SocketAddr, conns: usize, secs: u64) -> Round {
    loadgen.block_on(async {
        let until = Instant::now() + Duration::from_secs(secs);
        let start = Instant::now();
        let tasks: Vec<_> = (0..conns)
            .map(|_| tokio::spawn(conn_loop(addr, until)))
            .collect();
        let (mut ok, mut bad, mut lat) = (0, 0, Vec::new());
        for t in tasks {
            if let Ok((o, b, l)) = t.await {
                ok += o;
                bad += b;
                lat.extend(l);
            }
        }
        let el = start.elapsed().as_secs_f64();
        lat.sort_unstable();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        Round {
            rps: ok as f64 / el,
            requests: ok,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            errors: bad,
        }
    })
}

pub(crate) fn run(conns: usize, secs: u64, rounds: u32) -> String {
    let mut o = String::new();
    let setup = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("patchbay-bench-http-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("b.db").display());
    let store: Arc<dyn Store> = setup.block_on(async {
        let s = SqlStore::connect(&url).await.expect("store");
        s.upsert_tenant(&Tenant {
            name: "bench".into(),
            realm: "bench".into(),
        })
        .await
        .expect("tenant");
        let key = ApiKey {
            key_id: "bench-key".into(),
            tenant: "bench".into(),
            roles: vec!["user".into()],
            label: "bench".into(),
            created_ms: 0,
            secret_hash: String::new(),
        };
        s.create_api_key(&key, "bench-secret").await.expect("key");
        Arc::new(s)
    });
    let mut cfg = GatewayConfig::default();
    cfg.listeners.truncate(1);
    cfg.listeners[0].listen = free_addr();
    cfg.admin_listen = free_addr();
    cfg.threads = 2;
    // No B2BUA behind this gateway (GET /api/v1/me never reaches it), but a token is required.
    cfg.b2bua_token = "bench-unused-control-token".into();
    cfg.limits.requests_per_sec_per_key = 10_000_000;
    cfg.limits.requests_per_sec_per_tenant = 10_000_000;
    let gw = patchbay_gateway::start(cfg, store).expect("gateway");
    let gw_addr = gw.listeners[0];
    let (hyper_addr, _hyper_rt) = start_hyper();
    let pingora_addr = start_pingora();
    let loadgen = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The server's own threads: hyper's runtime, and pingora's service runtimes (named after
    // the service, cut to 15 bytes by the kernel).
    let servers = [
        ("bare hyper", hyper_addr, "bench-hyper"),
        ("bare pingora", pingora_addr, "bench-pingora"),
        ("gateway", gw_addr, "patchbay-gatewa"),
    ];
    // Warm up all three (the gateway's first request pays the argon2 check, then it is cached).
    for (_, addr, _) in servers {
        load(&loadgen, addr, 4, 1);
    }
    outln!(
        o,
        "| round | server | req/s | p50 (ms) | p99 (ms) | errors | server CPU us/req |"
    );
    outln!(o, "|---|---|---|---|---|---|---|");
    // Per server: req/s summed over rounds, CPU seconds, requests.
    let mut sums = [(0.0f64, 0.0f64, 0u64); 3];
    for i in 1..=rounds {
        for (k, (name, addr, threads)) in servers.iter().enumerate() {
            let cpu0 = threads_cpu(threads);
            let r = load(&loadgen, *addr, conns, secs);
            let cpu = threads_cpu(threads) - cpu0;
            sums[k].0 += r.rps;
            sums[k].1 += cpu;
            sums[k].2 += r.requests;
            outln!(
                o,
                "| {i} | {name} | {:.0} | {:.2} | {:.2} | {} | {:.1} |",
                r.rps,
                f64::from(r.p50_us) / 1000.0,
                f64::from(r.p99_us) / 1000.0,
                r.errors,
                cpu * 1e6 / r.requests.max(1) as f64
            );
        }
    }
    let per = |k: usize| sums[k].1 * 1e6 / sums[k].2.max(1) as f64;
    let (h, p, g) = (0, 1, 2);
    outln!(
        o,
        "\ngateway / bare hyper req/s over {rounds} rounds: {:.2}; server CPU per request: gateway {:.1} us, hyper {:.1} us (efficiency ratio {:.2})",
        sums[g].0 / sums[h].0,
        per(g),
        per(h),
        per(h) / per(g)
    );
    outln!(
        o,
        "bare pingora / bare hyper req/s: {:.2} (CPU {:.1} us, efficiency ratio {:.2}); gateway / bare pingora req/s: {:.2} (efficiency ratio {:.2})",
        sums[p].0 / sums[h].0,
        per(p),
        per(h) / per(p),
        sums[g].0 / sums[p].0,
        per(p) / per(g)
    );
    gw.stop();
    let _ = std::fs::remove_dir_all(&dir);
    o
}
