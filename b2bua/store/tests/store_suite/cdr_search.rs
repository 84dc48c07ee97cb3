//! CDR search: time range by the call's start, party, direction, answered, causes, and
//! cursor pages in both orders.
use patchbay_api::{CallId, Cause, Cdr, EndedBy};
use patchbay_store::{CdrQuery, Store};

fn cdr(tenant: &str, n: u64, from: &str, to: &str, answered: bool, cause: Cause) -> Cdr {
    Cdr {
        call: CallId(format!("{tenant}-s{n:02}")),
        tenant: tenant.into(),
        from: from.into(),
        to: to.into(),
        direction: if n.is_multiple_of(2) {
            "inbound"
        } else {
            "originate"
        }
        .into(),
        created_ms: 10_000 + n * 1000,
        ringing_ms: None,
        answered_ms: answered.then_some(10_500 + n * 1000),
        ended_ms: 20_000 + n * 1000,
        duration_s: 10,
        billsec: if answered { 9 } else { 0 },
        cause,
        ended_by: EndedBy::A,
        status: None,
        transferred_to: None,
        queue: None,
        account_codes: Default::default(),
    }
}

pub(crate) async fn cdr_search(store: &dyn Store, tenant: &str) {
    for n in 1..=6 {
        let (from, to) = if n <= 3 {
            ("4005", "4007")
        } else {
            ("4009", "4005")
        };
        let cause = if n == 6 { Cause::Busy } else { Cause::Normal };
        store
            .insert_cdr(&cdr(tenant, n, from, to, n != 6, cause))
            .await
            .unwrap();
    }
    let q = |f: &dyn Fn(&mut CdrQuery)| {
        let mut q = CdrQuery {
            tenant: tenant.into(),
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let ids = |v: Vec<Cdr>| -> Vec<String> { v.into_iter().map(|c| c.call.0).collect() };
    let id = |n: u64| format!("{tenant}-s{n:02}");
    // Newest first by start; a range of starts.
    let all = store.search_cdrs(&q(&|_| {})).await.unwrap();
    assert!(all.len() >= 6);
    let r = ids(store
        .search_cdrs(&q(&|q| {
            q.from_ms = Some(12_000);
            q.to_ms = Some(15_000);
        }))
        .await
        .unwrap());
    assert_eq!(r, [id(4), id(3), id(2)]);
    let r = ids(store
        .search_cdrs(&q(&|q| {
            q.party = Some("4009".into());
            q.oldest_first = true;
        }))
        .await
        .unwrap());
    assert_eq!(r, [id(4), id(5), id(6)]);
    let r = ids(store
        .search_cdrs(&q(&|q| {
            q.answered = Some(false);
            q.causes = vec!["busy".into()];
            q.from_ms = Some(11_000);
        }))
        .await
        .unwrap());
    assert_eq!(r, [id(6)]);
    let r = ids(store
        .search_cdrs(&q(&|q| {
            q.direction = Some("inbound".into());
            q.from_ms = Some(11_000);
            q.to_ms = Some(17_000);
        }))
        .await
        .unwrap());
    assert_eq!(r, [id(6), id(4), id(2)]);
    // Pages of two, oldest first, from a cursor.
    let page = |after: Option<(u64, String)>| {
        q(&|q| {
            q.from_ms = Some(11_000);
            q.to_ms = Some(17_000);
            q.oldest_first = true;
            q.limit = 2;
            q.after = after.clone();
        })
    };
    let p1 = store.search_cdrs(&page(None)).await.unwrap();
    let last = p1.last().map(|c| (c.created_ms, c.call.0.clone()));
    let p2 = store.search_cdrs(&page(last)).await.unwrap();
    assert_eq!(ids(p1), [id(1), id(2)]);
    assert_eq!(ids(p2), [id(3), id(4)]);
    // Another tenant sees none of them.
    let other = store
        .search_cdrs(&CdrQuery {
            tenant: "nobody".into(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other.is_empty());
}
