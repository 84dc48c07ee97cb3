//! A burst of 200 click-to-calls (20 clients, each request with an `Idempotency-Key`, a
//! request that gets no answer repeated with its key) while the gateway restarts in the
//! middle: every request ends with its call, and every call exists exactly once (200 calls,
//! 200 CDRs, one per key); a key repeated later gets the same call again.
use patchbay_store::Store;
use patchbay_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const KEY: (&str, &str) = ("demo-key", "demo-secret");
const CALLS: usize = 200;
const CLIENTS: usize = 20;

/// POST /api/v1/calls with `key` until a 201: its call id, and how many tries it took.
async fn place(http: &reqwest::Client, base: &str, key: &str) -> (String, u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tries = 0;
    loop {
        tries += 1;
        let r = http
            .post(format!("{base}/api/v1/calls"))
            .basic_auth(KEY.0, Some(KEY.1))
            .header("idempotency-key", key)
            .json(&serde_json::json!({"from": "4005", "to": ["4007"], "mode": "caller_first"}))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if let Ok(r) = r {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            if status == 201 {
                let v: serde_json::Value = serde_json::from_str(&body).expect("call JSON");
                return (v["id"].as_str().expect("id").to_string(), tries);
            }
            // Only "not now" answers are repeated: a gateway going away, a key in progress.
            assert!([409, 502, 503].contains(&status), "{key}: {status} {body}");
        }
        assert!(Instant::now() < deadline, "{key}: no call within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_restart_during_a_burst_of_calls() {
    let stack = Stack::start().await;
    let p5 = free_port();
    stack.register("4005", p5).await;
    // The caller's phone declines every call (each call is made, and ends at once).
    let calls = u32::try_from(CALLS + 1).unwrap();
    let phone = Sipp::spawn_limits("uas_busy.xml", "", calls, 120, &["-p", &p5.to_string()]);
    let listen = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let tune = |cfg: &mut patchbay_gateway::GatewayConfig| {
        cfg.listeners[0].listen = listen;
        cfg.limits.calls_per_sec_per_tenant = 10_000;
        cfg.limits.requests_per_sec_per_key = 10_000;
        cfg.limits.requests_per_sec_per_tenant = 10_000;
        cfg.limits.max_calls_per_tenant = 10_000;
    };
    let gw = stack.gateway(tune);
    let base = gw.base.clone();
    let started_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;

    let next = Arc::new(AtomicUsize::new(0));
    let placed = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::new();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (next, placed, http, base) = (next.clone(), placed.clone(), http.clone(), base.clone());
        clients.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= CALLS {
                    return mine;
                }
                let key = format!("burst-{started_ms}-{k}");
                let (id, tries) = place(&http, &base, &key).await;
                placed.fetch_add(1, Ordering::Relaxed);
                mine.push((key, id, tries));
            }
        }));
    }
    // A third of the way in, the gateway restarts on the same address.
    while placed.load(Ordering::Relaxed) < CALLS / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gw.stop().await;
    let at_restart = placed.load(Ordering::Relaxed);
    let gw = stack.gateway(tune);
    let mut by_key: BTreeMap<String, String> = BTreeMap::new();
    let mut repeated = 0;
    for c in clients {
        for (key, id, tries) in c.await.expect("client") {
            repeated += usize::from(tries > 1);
            assert!(by_key.insert(key, id).is_none());
        }
    }
    eprintln!("restarted after {at_restart} calls; {repeated} requests repeated");
    assert!(at_restart < CALLS, "the restart came during the burst");
    assert!(
        repeated > 0,
        "some requests met the restart and were repeated"
    );
    assert_eq!(by_key.len(), CALLS);
    let ids: BTreeSet<&String> = by_key.values().collect();
    assert_eq!(ids.len(), CALLS, "one call per key");

    // Every call made exists once: the tenant's CDRs since the burst are exactly those calls.
    let deadline = Instant::now() + Duration::from_secs(30);
    let cdrs = loop {
        let cdrs: Vec<patchbay_api::Cdr> = stack
            .store
            .cdrs("demo", 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.created_ms >= started_ms)
            .collect();
        if cdrs.len() >= CALLS {
            break cdrs;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {CALLS} calls ended",
            cdrs.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let made: BTreeSet<&String> = cdrs.iter().map(|c| &c.call.0).collect();
    assert_eq!(made.len(), cdrs.len(), "one CDR per call");
    let extra: Vec<&&String> = made.difference(&ids).collect();
    assert!(
        made == ids,
        "the calls made are the calls the keys name, no more: {} made, extra {extra:?}",
        made.len()
    );
    // Each call reached the phone (declined), or found the node short of media ports in
    // the burst (503): made either way, and ended.
    let causes: BTreeMap<String, usize> = cdrs.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(format!("{:?} {:?}", c.cause, c.status))
            .or_default() += 1;
        m
    });
    eprintln!("ends: {causes:?}");
    assert!(
        cdrs.iter().all(|c| matches!(
            (c.cause, c.status),
            (patchbay_api::Cause::Busy, Some(486)) | (patchbay_api::Cause::Failed, Some(503))
        )),
        "{causes:?}"
    );

    // A key repeated after its call ended gets that call again, and no new one.
    let (key, id) = by_key.iter().next().unwrap();
    let (again, _) = place(&gw.http, &gw.base, key).await;
    assert_eq!(&again, id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = stack.store.cdrs("demo", 10_000).await.unwrap();
    assert_eq!(
        after.iter().filter(|c| c.created_ms >= started_ms).count(),
        CALLS
    );
    drop(phone);
    gw.stop().await;
    stack.stop().await;
}
