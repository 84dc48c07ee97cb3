//! `kill -9` of a B2BUA node during 50 live calls (Kamailio at the edge, two nodes, two
//! gateways, PostgreSQL): the other node's calls go on with RTP both ways, a new call is
//! placed within 5 s, the dead node's calls end (one CDR each, cause `system`, `ended` in
//! the log, a BYE to both phones from the surviving node through the edge), no CDR or event
//! is missing, and each gateway's tenant feed resumes from the sequence it had reached.
use patchbay_api::{CallId, CallState, Cause, EndedBy, Event, Side};
use patchbay_store::Store;
use patchbay_tests::cluster::{Edge, Nodes, StoreKind, node_process};
use patchbay_tests::*;
use std::time::{Duration, Instant};

const KEY: (&str, &str) = ("demo-key", "demo-secret");
const CALLS: usize = 50;

async fn click_to_call(gw: &Gw) -> Reply {
    gw.send(
        gw.as_key(KEY.0, KEY.1, reqwest::Method::POST, "/api/v1/calls")
            .json(&serde_json::json!({"from": "4005", "to": ["4007"], "mode": "caller_first"})),
    )
    .await
}

/// The tenant feed through `gw` after `after`, every page.
async fn feed(gw: &Gw, mut after: u64) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        let r = gw
            .send(gw.as_key(
                KEY.0,
                KEY.1,
                reqwest::Method::GET,
                &format!("/api/v1/events?after={after}"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page: Vec<Event> = serde_json::from_str(&r.body).expect("events");
        let Some(last) = page.last() else {
            return all;
        };
        after = last.gseq;
        all.extend(page);
    }
}

/// A phone for every call of the test: answers each at once, RTP on `rtp` (the test's).
fn phone(port: u16, rtp: u16) -> Sipp {
    let (port, rtp) = (port.to_string(), rtp.to_string());
    let calls = u32::try_from(CALLS + 1).unwrap();
    Sipp::spawn_limits(
        "uas_answer.xml",
        "",
        calls,
        120,
        &["-p", &port, "-set", "ring_ms", "0", "-set", "rtpport", &rtp],
    )
}

/// Calls bridged on node `i`.
async fn bridged_on(nodes: &Nodes, i: usize) -> Vec<CallId> {
    nodes.apis[i]
        .list_calls()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.state == CallState::Bridged)
        .map(|c| c.id)
        .collect()
}

/// RTP through call `id` on node 0, A to B and B to A: how many of `n` arrived each way.
async fn rtp_both_ways(
    nodes: &Nodes,
    id: &CallId,
    r5: &RtpPeer,
    r7: &RtpPeer,
    n: u16,
) -> (u64, u64) {
    let to_a = relay_addr(&nodes.apis[0], id, Side::A).await;
    let to_b = relay_addr(&nodes.apis[0], id, Side::B).await;
    let (b0, a0) = (r7.received(), r5.received());
    for k in 0..n {
        let mut pkt = vec![0x80, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        pkt[2..4].copy_from_slice(&k.to_be_bytes());
        pkt.extend([0xd5; 160]);
        r5.sock.send_to(&pkt, to_a).await.unwrap();
        r7.sock.send_to(&pkt, to_b).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    (r7.received() - b0, r5.received() - a0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_a_node_during_fifty_live_calls() {
    let tune = |c: &mut patchbay_b2bua::B2buaConfig| c.node_dead_after_ms = 3_000;
    let mut nodes = Nodes::start_with(1, StoreKind::Postgres, tune).await;
    let doomed = nodes
        .spawn_node("cluster_kill_node::node_child", tune)
        .await;
    let edge = Edge::start(&nodes.sip());
    let (p5, p7) = (free_port(), free_port());
    edge.register("4005", p5).await;
    edge.register("4007", p7).await;
    let (r5, r7) = (RtpPeer::new(false).await, RtpPeer::new(false).await);
    let (a, b) = (phone(p5, r5.port()), phone(p7, r7.port()));
    let gws = [nodes.gateway(|_| {}), nodes.gateway(|_| {})];
    tokio::time::sleep(Duration::from_millis(600)).await;

    // 50 calls, in turn through each gateway: the nodes take them in turn.
    let mut ids = Vec::new();
    for k in 0..CALLS {
        let r = click_to_call(&gws[k % 2]).await;
        assert_eq!(r.status, 201, "call {k}: {}", r.body);
        ids.push(CallId(r.json()["id"].as_str().unwrap().to_string()));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let (survivors, doomed_calls) = loop {
        let (one, two) = (bridged_on(&nodes, 0).await, bridged_on(&nodes, 1).await);
        if one.len() + two.len() == CALLS {
            break (one, two);
        }
        assert!(
            Instant::now() < deadline,
            "{} + {} of {CALLS} calls bridged",
            one.len(),
            two.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Spread over both (in turn, but for a call a gateway placed before it saw a node up).
    assert!(
        survivors.len() >= 20 && doomed_calls.len() >= 20,
        "{} on node 1, {} on node 2",
        survivors.len(),
        doomed_calls.len()
    );
    assert!(doomed_calls.iter().all(|id| id.node() == Some(2)));
    // Where each gateway's feed stands before the kill.
    let mut cursors = Vec::new();
    for gw in &gws {
        cursors.push(feed(gw, 0).await.last().map_or(0, |e| e.gseq));
    }

    // kill -9 the second node.
    doomed.kill9().await;
    let killed = Instant::now();
    let killed_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;

    // A new call within 5 s (on the surviving node).
    let new_id = loop {
        let r = click_to_call(&gws[0]).await;
        if r.status == 201 {
            break CallId(r.json()["id"].as_str().unwrap().to_string());
        }
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "no call placed within 5 s of the kill: {} {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("first call after the kill placed in {:?}", killed.elapsed());
    assert_eq!(new_id.node(), Some(1));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bridged_on(&nodes, 0).await.contains(&new_id) {
        assert!(Instant::now() < deadline, "the new call bridged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The surviving node's calls go on, RTP both ways.
    for id in survivors.iter().take(3) {
        let (ab, ba) = rtp_both_ways(&nodes, id, &r5, &r7, 20).await;
        assert!(ab >= 18 && ba >= 18, "{id}: {ab} A->B, {ba} B->A of 20");
    }

    // The dead node's calls end: one CDR each, cause system, ended when it was last alive.
    let deadline = Instant::now() + Duration::from_secs(20);
    for id in &doomed_calls {
        let cdr = loop {
            if let Some(c) = nodes.store.cdr(&id.0).await.unwrap() {
                break c;
            }
            assert!(
                Instant::now() < deadline,
                "{id}: no CDR 20 s after the kill"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(
            (cdr.cause, cdr.ended_by),
            (Cause::System, EndedBy::System),
            "{id}"
        );
        let answered = cdr.answered_ms.expect("answered");
        assert!(
            cdr.ended_ms >= answered && cdr.ended_ms <= killed_ms + 1_500,
            "{id}: ended {} (answered {answered}, killed {killed_ms})",
            cdr.ended_ms
        );
    }
    eprintln!(
        "the dead node's calls ended {:?} after the kill",
        killed.elapsed()
    );

    // The rest hang up through the API; every phone call got its BYE (the dead node's from
    // the survivor, through the edge): both SIPp phones complete all their calls.
    let mut rest = survivors.clone();
    rest.push(new_id.clone());
    for id in &rest {
        nodes.apis[0].hangup(id).await.unwrap();
    }
    assert_eq!(a.wait(30).await, 0, "4005: every call answered and hung up");
    assert_eq!(b.wait(30).await, 0, "4007: every call answered and hung up");

    // No CDR and no event missing; each feed resumes where it stood.
    let mut all_ids = ids.clone();
    all_ids.push(new_id);
    for id in &all_ids {
        let deadline = Instant::now() + Duration::from_secs(10);
        while nodes.store.cdr(&id.0).await.unwrap().is_none() {
            assert!(Instant::now() < deadline, "{id}: no CDR");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for (gw, cursor) in gws.iter().zip(cursors) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let whole = loop {
            let whole = feed(gw, 0).await;
            let ended = all_ids
                .iter()
                .filter(|id| whole.iter().any(|e| &e.call == *id && e.kind.is_terminal()))
                .count();
            if ended == all_ids.len() {
                break whole;
            }
            assert!(
                Instant::now() < deadline,
                "feed: {ended} of {} ended",
                all_ids.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        for id in &all_ids {
            let seqs: Vec<u64> = whole
                .iter()
                .filter(|e| &e.call == id)
                .map(|e| e.seq)
                .collect();
            let n = seqs.len() as u64;
            assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "{id}: every event once");
            let terminals = whole
                .iter()
                .filter(|e| &e.call == id && e.kind.is_terminal())
                .count();
            assert_eq!(terminals, 1, "{id}: one end");
        }
        let resumed = feed(gw, cursor).await;
        let suffix: Vec<&Event> = whole.iter().filter(|e| e.gseq > cursor).collect();
        assert_eq!(
            resumed.iter().collect::<Vec<_>>(),
            suffix,
            "resumed from {cursor}"
        );
        assert!(
            doomed_calls.iter().all(|id| resumed
                .iter()
                .any(|e| &e.call == id && e.kind.is_terminal())),
            "the dead node's ends are in the resumed feed"
        );
    }
    for gw in gws {
        gw.stop().await;
    }
    drop(edge);
    nodes.finish().await;
}

/// The second node's process (run by the test above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a node process of kill_a_node_during_fifty_live_calls"]
async fn node_child() {
    node_process().await;
}
