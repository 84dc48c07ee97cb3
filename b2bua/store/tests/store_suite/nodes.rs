//! The store's cluster state: node starts, the shared location service.

use patchbay_store::{BindingChange, Store, StoredBinding};

/// Node starts: the base moves past every earlier one of the node, never backwards; nodes
/// are apart. Node numbers unique to this run (the PostgreSQL database is shared by runs).
pub(crate) async fn node_starts(store: &dyn Store) {
    let node = u8::try_from(std::process::id() % 90).unwrap() + 5;
    let now = 4_000_000_000 + u64::from(std::process::id());
    let first = store.claim_node_start(node, now).await.unwrap();
    assert!(first >= now);
    let again = store.claim_node_start(node, now).await.unwrap();
    assert_eq!(again, first + 1, "a restart within the same second");
    let earlier = store.claim_node_start(node, now - 10).await.unwrap();
    assert_eq!(earlier, first + 2, "a clock that went back");
    let later = store.claim_node_start(node, first + 100).await.unwrap();
    assert_eq!(later, first + 100);
    let other = store.claim_node_start(node + 1, now).await.unwrap();
    assert!(other >= now, "another node's own");
    // Nodes starting together on one store: every claim succeeds (no "database is locked"),
    // each its own second.
    let n2 = node + 2;
    let (a, b, c, d) = tokio::join!(
        store.claim_node_start(n2, now),
        store.claim_node_start(n2, now),
        store.claim_node_start(n2, now),
        store.claim_node_start(n2, now),
    );
    let mut got = vec![a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 4, "distinct starts: {got:?}");
}

/// Contacts: saved, refreshed (keeping their place), removed (a row expired, seen by replicas
/// reading what was written after the last row they saw), cleared, purged; another node's rows
/// only, when asked.
pub(crate) async fn locations(store: &dyn Store, tenant: &str) {
    let t0 = 5_000_000_000_000u64 + u64::from(std::process::id()) * 1000;
    let b = |contact: &str, at: u64, expires: u64| StoredBinding {
        tenant: tenant.to_string(),
        user: "4007".into(),
        contact: contact.into(),
        source: "127.0.0.1:5071".into(),
        transport: "udp".into(),
        path: vec!["<sip:127.0.0.1:5060;lr>".into()],
        registered_ms: at,
        expires_ms: expires,
        updated_ms: at,
        seq: 0,
        node: 0,
    };
    // This run's rows written after `seq` (the database may hold other runs').
    let after = |seq: u64, except: Option<u8>| async move {
        store
            .bindings_after(seq, except)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.tenant == tenant)
            .collect::<Vec<StoredBinding>>()
    };
    let save = |node: u8, changes: Vec<BindingChange>| async move {
        store.save_bindings(node, &changes).await.unwrap();
    };
    let start = store
        .bindings_after(0, None)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .max()
        .unwrap_or(0);
    save(1, vec![BindingChange::Save(b("sip:a@x", t0, t0 + 60_000))]).await;
    save(
        2,
        vec![BindingChange::Save(b("sip:b@x", t0 + 10, t0 + 60_000))],
    )
    .await;
    let all = after(start, None).await;
    assert_eq!(all.len(), 2);
    assert!(all[0].seq < all[1].seq, "in the order written");
    assert_eq!(
        (all[0].node, all[0].path.clone(), all[0].source.clone()),
        (
            1,
            vec!["<sip:127.0.0.1:5060;lr>".to_string()],
            "127.0.0.1:5071".to_string()
        ),
        "fields kept"
    );
    let others = after(start, Some(1)).await;
    assert_eq!(others.len(), 1, "node 1 reads node 2's rows only");
    assert_eq!(others[0].contact, "sip:b@x");
    let mark = all[1].seq;
    // A refresh keeps the first registration time; only rows written since are read.
    let mut refresh = b("sip:a@x", t0 + 20, t0 + 120_000);
    refresh.path.clear();
    save(1, vec![BindingChange::Save(refresh)]).await;
    let since = after(mark, None).await;
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].registered_ms, t0, "a refresh keeps its place");
    assert!(since[0].path.is_empty());
    let mark = since[0].seq;
    // Removed: the row stays, expired, so replicas see it go.
    save(2, vec![BindingChange::Save(b("sip:b@x", t0 + 30, t0 + 30))]).await;
    let since = after(mark, None).await;
    assert_eq!(since.len(), 1);
    assert!(since[0].expires_ms <= since[0].updated_ms);
    let mark = since[0].seq;
    // Registered again after it expired: a new place.
    save(
        2,
        vec![BindingChange::Save(b("sip:b@x", t0 + 40, t0 + 60_000))],
    )
    .await;
    let since = after(mark, None).await;
    assert_eq!(since[0].registered_ms, t0 + 40);
    let mark = since[0].seq;
    save(
        1,
        vec![
            BindingChange::Save(b("sip:c@x", t0 + 45, t0 + 60_000)),
            BindingChange::Clear {
                tenant: tenant.into(),
                user: "4007".into(),
                now_ms: t0 + 50,
            },
        ],
    )
    .await;
    let cleared = after(mark, None).await;
    assert_eq!(cleared.len(), 3, "one batch, in order: saved, then cleared");
    assert!(cleared.iter().all(|r| r.expires_ms <= t0 + 50));
    assert!(store.purge_bindings(t0 + 51).await.unwrap() >= 3);
    assert!(after(start, None).await.is_empty());
}

/// Call claims: one gateway at a time; the holder renews; another takes over once it ran out.
pub(crate) async fn claims(store: &dyn Store, tenant: &str) {
    let call = format!("{tenant}-claimed");
    let t0 = 7_000_000_000_000u64;
    assert!(
        store
            .claim_call(&call, "gw-a", t0, t0 + 60_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_call(&call, "gw-b", t0 + 1, t0 + 60_001)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_call(&call, "gw-a", t0 + 2, t0 + 60_002)
            .await
            .unwrap(),
        "renewed"
    );
    assert!(
        !store
            .claim_call(&call, "gw-b", t0 + 60_001, t0 + 120_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_call(&call, "gw-b", t0 + 60_003, t0 + 120_003)
            .await
            .unwrap(),
        "taken over once it ran out"
    );
    assert!(
        !store
            .claim_call(&call, "gw-a", t0 + 60_004, t0 + 120_004)
            .await
            .unwrap()
    );
    assert!(store.purge_claims(t0 + 120_004).await.unwrap() >= 1);
    assert!(
        store
            .claim_call(&call, "gw-a", t0 + 60_005, t0 + 60_006)
            .await
            .unwrap()
    );
    store.purge_claims(t0 + 60_007).await.unwrap();
}
