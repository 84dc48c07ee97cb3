//! The webhook outbox: claims take each key's earliest pending notification only, leases keep
//! others off until they expire, attempts of a lost lease are ignored, dead letters replay.

use patchbay_store::{Attempt, NewWebhook, Store};

fn note(tenant: &str, id: &str, key: &str, seq: i64) -> NewWebhook {
    NewWebhook {
        id: format!("{tenant}-{id}"),
        seq,
        tenant: tenant.into(),
        vendor: "ozeki".into(),
        kind: "CallChanged".into(),
        key: format!("{tenant}-{key}"),
        url: "http://127.0.0.1:9/hook".into(),
        content_type: "application/x-www-form-urlencoded".into(),
        headers: vec![("Cache-Control".into(), "no-cache".into())],
        body: format!("NotificationName=CallChanged&n={id}"),
        created_ms: 1_000 + seq as u64,
    }
}

pub(crate) async fn outbox(store: &dyn Store, tenant: &str) {
    let ids = |v: &[patchbay_store::Webhook]| -> Vec<String> {
        v.iter()
            .map(|w| {
                w.new
                    .id
                    .trim_start_matches(&format!("{tenant}-"))
                    .to_string()
            })
            .collect()
    };
    let (before, _) = store.webhook_backlog().await.unwrap();
    for (id, key, seq) in [("a1", "A", 1), ("a2", "A", 2), ("b1", "B", 3)] {
        store
            .enqueue_webhook(&note(tenant, id, key, seq))
            .await
            .unwrap();
    }
    let (n, oldest) = store.webhook_backlog().await.unwrap();
    assert_eq!(n, before + 3);
    assert!(oldest.is_some_and(|o| o <= 1_001));
    // Only tenant's own rows matter below (other runs may have left some behind).
    let mine = |v: Vec<patchbay_store::Webhook>| -> Vec<patchbay_store::Webhook> {
        v.into_iter().filter(|w| w.new.tenant == tenant).collect()
    };
    let now = 10_000;
    let x = mine(
        store
            .claim_webhooks("x", now, now + 30_000, 100)
            .await
            .unwrap(),
    );
    assert_eq!(ids(&x), ["a1", "b1"], "a2 waits for a1");
    assert_eq!(
        x[0].new.headers,
        [("Cache-Control".to_string(), "no-cache".to_string())]
    );
    let y = mine(
        store
            .claim_webhooks("y", now, now + 30_000, 100)
            .await
            .unwrap(),
    );
    assert!(y.is_empty(), "leased to x");

    let a1 = format!("{tenant}-a1");
    let b1 = format!("{tenant}-b1");
    let retry = Attempt::Retry {
        next_ms: now + 5_000,
        error: "HTTP status 503".into(),
    };
    store
        .webhook_attempts(
            "x",
            &[(a1.clone(), Attempt::Delivered), (b1.clone(), retry)],
        )
        .await
        .unwrap();
    let y = mine(
        store
            .claim_webhooks("y", now + 1, now + 1_000, 100)
            .await
            .unwrap(),
    );
    assert_eq!(ids(&y), ["a2"], "a1 delivered; b1 not due yet");
    // y stalls: its lease runs out and z takes a2 again, with b1 now due.
    let later = now + 6_000;
    let z = mine(
        store
            .claim_webhooks("z", later, later + 30_000, 100)
            .await
            .unwrap(),
    );
    assert_eq!(ids(&z), ["a2", "b1"]);
    assert_eq!(z[1].attempts, 1);
    assert_eq!(z[1].last_error.as_deref(), Some("HTTP status 503"));
    // y's late report changes nothing.
    let a2 = format!("{tenant}-a2");
    store
        .webhook_attempts("y", &[(a2.clone(), Attempt::Delivered)])
        .await
        .unwrap();
    let dead = Attempt::Dead {
        error: "too many attempts".into(),
    };
    store
        .webhook_attempts("z", &[(a2, Attempt::Delivered), (b1.clone(), dead)])
        .await
        .unwrap();
    let d = store.dead_webhooks(tenant, 10).await.unwrap();
    assert_eq!(ids(&d), ["b1"]);
    assert_eq!(d[0].state, "dead");
    assert!(!store.replay_webhook("other", &b1, later).await.unwrap());
    assert!(store.replay_webhook(tenant, &b1, later).await.unwrap());
    assert!(store.dead_webhooks(tenant, 10).await.unwrap().is_empty());
    let w = mine(
        store
            .claim_webhooks("w", later, later + 30_000, 100)
            .await
            .unwrap(),
    );
    assert_eq!(ids(&w), ["b1"]);
    assert_eq!(w[0].attempts, 0, "replayed from zero");
    store
        .webhook_attempts("w", &[(b1, Attempt::Delivered)])
        .await
        .unwrap();
    assert_eq!(store.webhook_backlog().await.unwrap().0, before);
}
