//! Two gateways in front of two B2BUA nodes (Kamailio at the SIP edge, one PostgreSQL store, a
//! database of the test's own): click-to-call
//! through either gateway lands on both nodes in turn, and each call is driven (read, hung up)
//! through the other gateway, which finds its node by the call's id; the tenant's event feed,
//! read through either gateway, holds every node's calls in one order; once a node stops, new
//! calls go to the other within 5 s.
use patchbay_api::CallState;
use patchbay_tests::cluster::{Edge, Nodes, StoreKind};
use patchbay_tests::*;
use std::time::{Duration, Instant};

const KEY: (&str, &str) = ("demo-key", "demo-secret");

async fn click_to_call(gw: &Gw, from: &str, to: &str) -> Reply {
    gw.send(
        gw.as_key(KEY.0, KEY.1, reqwest::Method::POST, "/api/v1/calls")
            .json(&serde_json::json!({"from": from, "to": [to], "mode": "caller_first"})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_two_nodes() {
    let mut nodes = Nodes::start(2, StoreKind::Postgres).await;
    let edge = Edge::start(&nodes.sip());
    let (p5, p7) = (free_port(), free_port());
    edge.register("4005", p5).await;
    edge.register("4007", p7).await;
    let gws = [nodes.gateway(|_| {}), nodes.gateway(|_| {})];
    tokio::time::sleep(Duration::from_millis(600)).await;

    // Four calls, two through each gateway: the nodes take them in turn.
    let mut ids = Vec::new();
    for k in 0..4 {
        let (via, other) = (&gws[k / 2], &gws[1 - k / 2]);
        let a = Sipp::answering(p5, 100, free_port());
        let b = Sipp::answering(p7, 100, free_port());
        tokio::time::sleep(Duration::from_millis(150)).await;
        let r = click_to_call(via, "4005", "4007").await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = patchbay_api::CallId(r.json()["id"].as_str().unwrap().to_string());
        let (owner, call) = nodes.bridged(Duration::from_secs(10)).await;
        assert_eq!(call.id, id);
        assert_eq!(id.node(), Some(owner as u8 + 1));
        // Read and hang up through the other gateway.
        let path = format!("/api/v1/calls/{id}");
        let got = other
            .send(other.as_key(KEY.0, KEY.1, reqwest::Method::GET, &path))
            .await;
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.json()["state"], "bridged");
        let listed = other
            .send(other.as_key(KEY.0, KEY.1, reqwest::Method::GET, "/api/v1/calls"))
            .await;
        assert!(
            listed.body.contains(&id.0),
            "listed from every node: {}",
            listed.body
        );
        let bye = other
            .send(other.as_key(KEY.0, KEY.1, reqwest::Method::DELETE, &path))
            .await;
        assert_eq!(bye.status, 200, "{}", bye.body);
        assert_eq!(a.wait(10).await, 0, "call {k}: 4005 got BYE");
        assert_eq!(b.wait(10).await, 0, "call {k}: 4007 got BYE");
        ids.push((id, owner));
    }
    let owners: Vec<usize> = ids.iter().map(|(_, o)| *o).collect();
    assert_eq!(
        owners,
        [0, 1, 0, 1],
        "each gateway spreads its calls over both nodes"
    );

    // The tenant's feed through either gateway: every call of both nodes, one order, complete.
    for gw in &gws {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let r = gw
                .send(gw.as_key(KEY.0, KEY.1, reqwest::Method::GET, "/api/v1/events?after=0"))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let evs: Vec<patchbay_api::Event> = serde_json::from_str(&r.body).unwrap();
            let ended = ids
                .iter()
                .filter(|(id, _)| evs.iter().any(|e| &e.call == id && e.kind.is_terminal()))
                .count();
            if ended == ids.len() {
                assert!(evs.windows(2).all(|w| w[0].gseq < w[1].gseq), "one order");
                for (id, _) in &ids {
                    let seqs: Vec<u64> = evs
                        .iter()
                        .filter(|e| &e.call == id)
                        .map(|e| e.seq)
                        .collect();
                    let n = seqs.len() as u64;
                    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "{id}: every event");
                }
                break;
            }
            assert!(
                Instant::now() < deadline,
                "feed: {} of 4 calls ended",
                ended
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Node 1 stops: within 5 s, calls through either gateway go to node 2.
    nodes.stop(0).await;
    let stopped = Instant::now();
    let a = Sipp::answering(p5, 100, free_port());
    let b = Sipp::answering(p7, 100, free_port());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let id = loop {
        let r = click_to_call(&gws[0], "4005", "4007").await;
        if r.status == 201 {
            break r.json()["id"].as_str().unwrap().to_string();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "no call placed within 5 s of the stop: {} {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "first call after the stop placed in {:?}",
        stopped.elapsed()
    );
    let (owner, call) = nodes.bridged(Duration::from_secs(10)).await;
    assert_eq!((owner, call.id.0.as_str()), (1, id.as_str()));
    assert_eq!(call.state, CallState::Bridged);
    nodes.apis[1].hangup(&call.id).await.unwrap();
    assert_eq!(a.wait(10).await, 0);
    assert_eq!(b.wait(10).await, 0);
    for gw in gws {
        gw.stop().await;
    }
    drop(edge);
    nodes.finish().await;
}
