//! The store's cluster state: node starts, the shared location service.

use patchbay_store::{Store, StoredBinding};

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
}

/// Contacts: saved, refreshed (keeping their place), removed (a row expired, seen by replicas
/// reading changes), cleared, purged.
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
    };
    let mine = |rows: Vec<StoredBinding>| -> Vec<StoredBinding> {
        rows.into_iter().filter(|r| r.tenant == tenant).collect()
    };
    store
        .save_binding(&b("sip:a@x", t0, t0 + 60_000))
        .await
        .unwrap();
    store
        .save_binding(&b("sip:b@x", t0 + 10, t0 + 60_000))
        .await
        .unwrap();
    let all = mine(store.bindings_since(t0).await.unwrap());
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0],
        b("sip:a@x", t0, t0 + 60_000),
        "paths and fields kept"
    );
    // A refresh keeps the first registration time; only rows written since are read.
    let mut refresh = b("sip:a@x", t0 + 20, t0 + 120_000);
    refresh.path.clear();
    store.save_binding(&refresh).await.unwrap();
    let since = mine(store.bindings_since(t0 + 20).await.unwrap());
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].registered_ms, t0, "a refresh keeps its place");
    assert!(since[0].path.is_empty());
    // Removed: the row stays, expired, so replicas see it go.
    store
        .save_binding(&b("sip:b@x", t0 + 30, t0 + 30))
        .await
        .unwrap();
    let since = mine(store.bindings_since(t0 + 30).await.unwrap());
    assert_eq!(since.len(), 1);
    assert!(since[0].expires_ms <= since[0].updated_ms);
    // Registered again after it expired: a new place.
    store
        .save_binding(&b("sip:b@x", t0 + 40, t0 + 60_000))
        .await
        .unwrap();
    let b_row = mine(store.bindings_since(t0 + 40).await.unwrap());
    assert_eq!(b_row[0].registered_ms, t0 + 40);
    store.clear_bindings(tenant, "4007", t0 + 50).await.unwrap();
    let cleared = mine(store.bindings_since(t0 + 50).await.unwrap());
    assert_eq!(cleared.len(), 2);
    assert!(cleared.iter().all(|r| r.expires_ms <= t0 + 50));
    assert!(store.purge_bindings(t0 + 51).await.unwrap() >= 2);
    assert!(mine(store.bindings_since(t0).await.unwrap()).is_empty());
}
