//! The live-call journal: entries written with the events, removed with the CDR; a run gone
//! (restarted, or silent too long) leaves orphans, each ended once (CDR, `ended` event).

use patchbay_api::{CallId, Cause, Cdr, EndedBy, Event, EventKind};
use patchbay_store::{LiveCall, LogEntry, Orphan, Store};

fn cdr(call: &CallId, tenant: &str, cause: Cause) -> Cdr {
    Cdr {
        call: call.clone(),
        tenant: tenant.into(),
        from: "4005".into(),
        to: "4007".into(),
        direction: "originate".into(),
        created_ms: 1_000,
        ringing_ms: None,
        answered_ms: Some(2_000),
        ended_ms: 9_000,
        duration_s: 8,
        billsec: 7,
        cause,
        ended_by: EndedBy::System,
        status: None,
        transferred_to: None,
        queue: None,
        account_codes: Default::default(),
    }
}

fn created(call: &CallId, tenant: &str) -> LogEntry {
    LogEntry::Event {
        tenant: tenant.into(),
        event: Event {
            call: call.clone(),
            seq: 1,
            gseq: 0,
            at_ms: 1_000,
            kind: EventKind::Created {
                tenant: tenant.into(),
                from: "4005".into(),
                to: vec!["4007".into()],
            },
        },
    }
}

/// This run's orphans among all the store holds (PostgreSQL is shared by runs).
async fn mine(store: &dyn Store, node: u8, silent_before: u64) -> Vec<Orphan> {
    let mut all = store.orphaned_calls(silent_before, 10_000).await.unwrap();
    all.retain(|o| o.node == node);
    all
}

pub(crate) async fn journal(store: &dyn Store, tenant: &str) {
    let pid = std::process::id();
    let node = u8::try_from(100 + pid % 100).unwrap();
    let now = 6_000_000_000_000u64 + u64::from(pid) * 1000;
    let start = store.claim_node_start(node, now / 1000).await.unwrap();
    store.node_alive(node, start, now).await.unwrap();
    let id = |k: u32| CallId(format!("j{pid}-{start}-{k}"));
    let live = |k: u32, body: &str| {
        LogEntry::Live(LiveCall {
            call: id(k),
            tenant: tenant.into(),
            start,
            body: body.into(),
        })
    };
    // Three calls journalled with their events; the second rewritten; the third ends.
    store
        .append_log(
            node,
            &[
                created(&id(1), tenant),
                live(1, "one"),
                created(&id(2), tenant),
                live(2, "two"),
                created(&id(3), tenant),
                live(3, "three"),
            ],
        )
        .await
        .unwrap();
    store
        .append_log(
            node,
            &[
                live(2, "two again"),
                LogEntry::Cdr(cdr(&id(3), tenant, Cause::Normal)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        store.cdr(&id(3).0).await.unwrap().unwrap().cause,
        Cause::Normal
    );
    // Alive: nothing orphaned.
    assert!(mine(store, node, now - 10_000).await.is_empty());
    // Silent since `now`: its two live calls, with when it was last seen.
    let orphans = mine(store, node, now + 1).await;
    let got: Vec<(&str, &str, u64)> = orphans
        .iter()
        .map(|o| (o.live.call.0.as_str(), o.live.body.as_str(), o.alive_ms))
        .collect();
    assert_eq!(
        got,
        [
            (id(1).0.as_str(), "one", now),
            (id(2).0.as_str(), "two again", now)
        ]
    );
    // Ended once: CDR and `ended` (next gseq) in one go; a second node finds it gone.
    let before = store.last_event_gseq().await.unwrap();
    let ended = Event {
        call: id(1),
        seq: 2,
        gseq: 0,
        at_ms: now,
        kind: EventKind::Ended {
            cause: Cause::System,
            by: EndedBy::System,
            status: None,
        },
    };
    let c1 = cdr(&id(1), tenant, Cause::System);
    assert!(
        store
            .end_orphan(node, &orphans[0], &c1, Some((tenant.into(), ended.clone())))
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_orphan(node, &orphans[0], &c1, Some((tenant.into(), ended)))
            .await
            .unwrap()
    );
    assert_eq!(store.cdr(&id(1).0).await.unwrap(), Some(c1));
    let events = store.call_events(&id(1), 0).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[1].kind.is_terminal());
    assert!(events[1].gseq > before);
    // A restart of the node: its earlier run's calls are orphans at once, however alive.
    let restarted = store.claim_node_start(node, now / 1000).await.unwrap();
    store.node_alive(node, restarted, now + 5).await.unwrap();
    let orphans = mine(store, node, 0).await;
    assert_eq!(orphans.len(), 1);
    assert_eq!(orphans[0].live.call, id(2));
    assert_eq!(
        orphans[0].alive_ms, now,
        "the earlier run's last sign of life"
    );
    let c2 = cdr(&id(2), tenant, Cause::System);
    assert!(
        store
            .end_orphan(node, &orphans[0], &c2, None)
            .await
            .unwrap()
    );
    assert!(mine(store, node, u64::MAX / 2).await.is_empty());
}

/// Idempotency keys: the first claim names the call; a repeat gets it; a key whose call was
/// never made moves to a new one once; purged by age.
pub(crate) async fn request_keys(store: &dyn Store, tenant: &str) {
    let pid = std::process::id();
    let key = format!("key-{pid}-{}", store.last_event_gseq().await.unwrap());
    let (one, two, three) = (
        CallId(format!("rk{pid}-1")),
        CallId(format!("rk{pid}-2")),
        CallId(format!("rk{pid}-3")),
    );
    let now = 7_000_000_000_000u64;
    assert_eq!(
        store
            .claim_request_key(tenant, &key, &one, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .claim_request_key(tenant, &key, &two, now + 5)
            .await
            .unwrap(),
        Some((one.clone(), now))
    );
    assert_eq!(
        store
            .claim_request_key("other", &key, &two, now)
            .await
            .unwrap(),
        None,
        "keys are the tenant's"
    );
    assert!(
        store
            .retake_request_key(tenant, &key, &one, &three, now + 9)
            .await
            .unwrap()
    );
    assert!(
        !store
            .retake_request_key(tenant, &key, &one, &two, now + 9)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .claim_request_key(tenant, &key, &two, now + 10)
            .await
            .unwrap(),
        Some((three, now + 9))
    );
    store.release_request_key(tenant, &key, &one).await.unwrap();
    assert!(
        store
            .claim_request_key(tenant, &key, &one, now + 10)
            .await
            .unwrap()
            .is_some(),
        "released only by the call it names"
    );
    assert!(store.purge_request_keys(now + 10).await.unwrap() >= 2);
    assert_eq!(
        store
            .claim_request_key(tenant, &key, &two, now + 11)
            .await
            .unwrap(),
        None
    );
    store.purge_request_keys(now + 12).await.unwrap();
}
