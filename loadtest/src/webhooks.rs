//! Webhook delivery from one gateway (issue 15): the gateway's outbox engine in-process on a
//! two-thread runtime (as pingora gives it), the store a SQLite file (or PostgreSQL with
//! `--store URL`), a hyper receiver on its own runtime answering 200 to every POST.
//! `notifications` are queued (from `producers` tasks at once, spread over `keys` calls), then
//! the time until the outbox is empty and the receiver counted them all gives notifications
//! delivered per second; the process's CPU over both phases.

use patchbay_gateway::WebhookConfig;
use patchbay_gateway::webhooks::{Deliverer, Notification, Webhooks};
use patchbay_store::{Outbox, SqlStore};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A hyper receiver counting POSTs, on its own runtime.
fn receiver(count: Arc<AtomicU64>) -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-receiver")
        .enable_all()
        .build()
        .expect("runtime");
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.set_nonblocking(true).expect("nonblocking");
    let addr = l.local_addr().expect("addr");
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(l).expect("listener");
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let count = count.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
                    count.fetch_add(1, Relaxed);
                    async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from_static(b"")),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    (addr, rt)
}

fn own_cpu() -> f64 {
    crate::cpu_secs("/proc/self/stat")
}

pub(crate) fn run(
    notifications: u64,
    keys: u64,
    producers: u64,
    store_url: Option<&str>,
) -> String {
    let mut o = String::new();
    let dir = std::env::temp_dir().join(format!("patchbay-bench-webhooks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = store_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("pb.db").display()));
    let count = Arc::new(AtomicU64::new(0));
    let (addr, _receiver_rt) = receiver(count.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-gateway")
        .enable_all()
        .build()
        .expect("runtime");
    let row = rt.block_on(async {
        let store = Arc::new(SqlStore::connect(&url).await.expect("store"));
        patchbay_store::demo::provision_demo(store.as_ref())
            .await
            .expect("demo");
        let hooks = Arc::new(Webhooks::new(
            store.clone(),
            WebhookConfig::default(),
            patchbay_gateway::metrics::Metrics::new(),
        ));
        let target = format!("http://{addr}/ozeki");
        let (cpu0, t0) = (own_cpu(), Instant::now());
        let mut tasks = Vec::new();
        for p in 0..producers {
            let (hooks, target) = (hooks.clone(), target.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = p;
                while i < notifications {
                    let key = format!("call-{}", i % keys);
                    let n = Notification {
                        tenant: "demo".into(),
                        vendor: "ozeki",
                        kind: "CallChanged",
                        key: key.clone(),
                        url: target.clone(),
                        content_type: "application/x-www-form-urlencoded".into(),
                        headers: vec![("Cache-Control".into(), "no-cache".into())],
                        body: format!(
                            "NotificationName=CallChanged&CallId={key}&CallState=InCall&n={i}"
                        ),
                    };
                    hooks.enqueue(n).await.expect("enqueued");
                    i += producers;
                }
            }));
        }
        for t in tasks {
            t.await.expect("producer");
        }
        let queued_s = t0.elapsed().as_secs_f64();
        let queue_cpu = own_cpu() - cpu0;
        let (cpu1, t1) = (own_cpu(), Instant::now());
        let d = Arc::new(Deliverer::new(hooks.clone()));
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(d.run(stop));
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            let (left, _) = store.webhook_backlog().await.expect("backlog");
            if left == 0 && count.load(Relaxed) >= notifications {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let deliver_s = t1.elapsed().as_secs_f64();
        let deliver_cpu = own_cpu() - cpu1;
        let _ = stop_tx.send(true);
        let _ = task.await;
        let got = count.load(Relaxed);
        (queued_s, queue_cpu, deliver_s, deliver_cpu, got)
    });
    let (queued_s, queue_cpu, deliver_s, deliver_cpu, got) = row;
    let store = if store_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    outln!(
        o,
        "| store | notifications | calls (keys) | queued/s | queue CPU s | delivered | delivered/s | deliver CPU s (incl. receiver) |"
    );
    outln!(o, "|---|---|---|---|---|---|---|---|");
    outln!(
        o,
        "| {store} | {notifications} | {keys} | {:.0} | {queue_cpu:.2} | {got} | {:.0} | {deliver_cpu:.2} |",
        notifications as f64 / queued_s,
        got as f64 / deliver_s
    );
    let _ = std::fs::remove_dir_all(&dir);
    o
}
