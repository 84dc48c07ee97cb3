//! The webhook outbox with two deliverers on one store, as two gateways would be: 30
//! notifications of three calls are queued while the receiver is down; the first deliverer
//! tries, fails, and is killed mid-way (its leases held); the receiver comes back and a second
//! deliverer delivers every notification, in order per call, a repeat only right after the
//! same one (an attempt whose result was lost). A notification to a destination the tenant
//! may not reach (a private address; acme has no private webhooks) becomes a dead letter at
//! once; replayed, it is refused again.
use patchbay_gateway::WebhookConfig;
use patchbay_gateway::webhooks::{Deliverer, Notification, Webhooks};
use patchbay_store::{Outbox, Store, Tenant};
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use std::sync::Arc;
use std::time::Duration;

fn hooks(stack: &Stack) -> Arc<Webhooks> {
    let cfg = WebhookConfig {
        lease_secs: 2,
        timeout_ms: 500,
        retry_base_ms: 100,
        retry_max_ms: 400,
        max_attempts: 100,
        ..WebhookConfig::default()
    };
    Arc::new(Webhooks::new(
        stack.store.clone(),
        cfg,
        patchbay_gateway::metrics::Metrics::new(),
    ))
}

fn note(tenant: &str, call: usize, n: usize, url: &str) -> Notification {
    Notification {
        tenant: tenant.into(),
        vendor: "ozeki",
        kind: "CallChanged",
        key: format!("call-{call}"),
        url: url.into(),
        content_type: "application/x-www-form-urlencoded".into(),
        headers: vec![("Cache-Control".into(), "no-cache".into())],
        body: format!("NotificationName=CallChanged&CallId=call-{call}&n={n}"),
    }
}

fn run(
    d: &Arc<Deliverer>,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::watch::Sender<bool>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    (tokio::spawn(d.clone().run(rx)), tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_survive_a_dead_deliverer_and_arrive_in_order() {
    let stack = Stack::start().await;
    let mut receiver = Receiver::on(free_port());
    let url = receiver.url("/ozeki");

    let first = hooks(&stack);
    for n in 0..10 {
        for call in 0..3 {
            first.enqueue(note("demo", call, n, &url)).await.unwrap();
        }
    }
    let d1 = Arc::new(Deliverer::new(first.clone()));
    let (task, _stop) = run(&d1);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let attempts = first
        .metrics
        .webhook_attempts
        .with_label_values(&["ozeki"])
        .get();
    assert!(
        attempts >= 3,
        "it tried while the receiver was down: {attempts}"
    );
    task.abort(); // killed: what it held comes back when its leases run out
    assert_eq!(
        stack.store.webhook_backlog().await.unwrap().0,
        30,
        "nothing lost"
    );

    receiver.start().await;
    let second = hooks(&stack);
    let d2 = Arc::new(Deliverer::new(second.clone()));
    let (task, stop) = run(&d2);
    for _ in 0..100 {
        if stack.store.webhook_backlog().await.unwrap().0 == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stack.store.webhook_backlog().await.unwrap().0,
        0,
        "all delivered"
    );
    let got = receiver.hooks();
    for call in 0..3 {
        let key = format!("call-{call}");
        let seen: Vec<usize> = got
            .iter()
            .filter(|h| h.field("CallId").as_deref() == Some(key.as_str()))
            .map(|h| h.field("n").unwrap().parse().unwrap())
            .collect();
        let mut distinct = seen.clone();
        distinct.dedup();
        assert_eq!(
            distinct,
            (0..10).collect::<Vec<_>>(),
            "{key} in order: {seen:?}"
        );
    }
    assert!(got.iter().all(|h| h.method == "POST" && h.path == "/ozeki"));
    assert_eq!(got[0].header("Cache-Control"), Some("no-cache"));
    assert_eq!(
        got[0].header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );

    // A tenant without private webhooks: refused, a dead letter at once; replay: again.
    stack
        .store
        .upsert_tenant(&Tenant {
            name: "acme".into(),
            realm: "acme.example".into(),
        })
        .await
        .unwrap();
    second.enqueue(note("acme", 9, 0, &url)).await.unwrap();
    let mut dead = Vec::new();
    for _ in 0..50 {
        dead = stack.store.dead_webhooks("acme", 10).await.unwrap();
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 1);
    let why = dead[0].last_error.clone().unwrap_or_default();
    assert!(why.contains("127.0.0.1 is not a public address"), "{why}");
    let id = dead[0].new.id.clone();
    assert!(stack.store.replay_webhook("acme", &id, 0).await.unwrap());
    second.poke();
    for _ in 0..50 {
        if stack.store.dead_webhooks("acme", 10).await.unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dead = stack.store.dead_webhooks("acme", 10).await.unwrap();
    assert_eq!(dead.len(), 1, "refused again");
    assert!(
        !receiver
            .hooks()
            .iter()
            .any(|h| h.field("CallId").as_deref() == Some("call-9")),
        "nothing reached the private address for acme"
    );
    let m = &second.metrics;
    assert_eq!(
        m.webhook_deliveries
            .with_label_values(&["ozeki", "CallChanged", "refused"])
            .get(),
        2
    );
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    stack.stop().await;
}
