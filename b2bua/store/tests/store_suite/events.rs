//! The durable event log: one sequence over concurrent appends from several nodes, readers
//! resuming from any gseq, a call's events by its own sequence, purge by age.

use patchbay_api::{CallId, Event, EventKind};
use patchbay_store::Store;
use std::sync::Arc;

fn ev(call: &str, seq: u64, at_ms: u64) -> Event {
    Event {
        call: CallId(call.into()),
        seq,
        gseq: 0,
        at_ms,
        kind: EventKind::Dialing {
            side: patchbay_api::Side::A,
            party: "4005".into(),
        },
    }
}

pub(crate) async fn events(store: Arc<dyn Store>, tenant: &str) {
    let t0 = 6_000_000_000_000u64 + u64::from(std::process::id()) * 1000;
    let before = store.last_event_gseq().await.unwrap();
    // Two nodes append at once, 20 batches of 5 each.
    let mut tasks = Vec::new();
    for node in [1u8, 2] {
        let (store, tenant) = (store.clone(), tenant.to_string());
        tasks.push(tokio::spawn(async move {
            for b in 0..20u64 {
                let batch: Vec<(String, Event)> = (1..=5)
                    .map(|k| {
                        let call = format!("{tenant}-n{node}");
                        (tenant.clone(), ev(&call, b * 5 + k, t0 + b))
                    })
                    .collect();
                store.append_events(node, &batch).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mine: Vec<Event> = store
        .events_after(before, Some(tenant), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, e)| {
            assert_eq!(t, tenant);
            e
        })
        .collect();
    assert_eq!(mine.len(), 200);
    assert!(
        mine.windows(2).all(|w| w[0].gseq < w[1].gseq),
        "in gseq order"
    );
    for node in [1, 2] {
        let call = CallId(format!("{tenant}-n{node}"));
        let seqs: Vec<u64> = mine
            .iter()
            .filter(|e| e.call == call)
            .map(|e| e.seq)
            .collect();
        assert_eq!(
            seqs,
            (1..=100).collect::<Vec<_>>(),
            "a node's events keep their order"
        );
        let tail = store.call_events(&call, 95).await.unwrap();
        assert_eq!(
            tail.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [96, 97, 98, 99, 100]
        );
        assert!(tail[0].gseq > 0, "read back with their gseq");
    }
    // Resume from the middle: exactly what follows.
    let mid = mine[99].gseq;
    let rest = store.events_after(mid, Some(tenant), 1000).await.unwrap();
    assert_eq!(rest.len(), 100);
    assert_eq!(rest[0].1.gseq, mine[100].gseq);
    let page = store.events_after(before, Some(tenant), 7).await.unwrap();
    assert_eq!(page.len(), 7);
    assert!(
        store
            .events_after(before, Some("no-such-tenant"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.last_event_gseq().await.unwrap() >= mine[199].gseq);
    assert!(store.first_event_since(t0 + 19).await.unwrap().is_some());
    // Purge by age: the oldest batches go.
    assert!(store.purge_events(t0 + 10).await.unwrap() >= 100);
    let left = store
        .events_after(before, Some(tenant), 1000)
        .await
        .unwrap();
    assert_eq!(left.len(), 100);
    assert!(left.iter().all(|(_, e)| e.at_ms >= t0 + 10));
    store.purge_events(t0 + 1000).await.unwrap();
}
