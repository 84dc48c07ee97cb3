//! The SIP edge: Kamailio (the repository's `b2bua/kamailio/patchbay.cfg`) in front of two
//! B2BUA nodes sharing one store (SQLite, the embedded default; the gateway-side cluster test
//! runs on PostgreSQL). Phones register through it (each REGISTER lands on one node;
//! every node knows every phone within its sync interval, with the Path through the edge); a
//! phone's call through the edge lands on a node and reaches its callee through the edge
//! (record-routed, RTP relayed by that node, the API's hangup BYEs both through the edge);
//! 3PCC from each node's API rings phones registered through either; once a node stops, calls
//! through the edge are taken by the other within 5 s.
use patchbay_api::client::ControlClient;
use patchbay_api::{CallInfo, OriginateMode, Side};
use patchbay_store::Nodes as _;
use patchbay_tests::cluster::{Edge, Nodes, StoreKind};
use patchbay_tests::*;
use std::time::{Duration, Instant};

async fn registered_on_every_node(nodes: &Nodes, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for api in &nodes.apis {
        loop {
            let regs = api.registrations("demo").await.unwrap();
            if regs.len() == n {
                break;
            }
            assert!(Instant::now() < deadline, "a node sees {regs:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn hang_up(api: &ControlClient, call: &CallInfo) {
    api.hangup(&call.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_kamailio() {
    let mut nodes = Nodes::start(2, StoreKind::Sqlite).await;
    let edge = Edge::start(&nodes.sip());
    let (p5, p7, p9) = (free_port(), free_port(), free_port());
    for (user, port) in [("4005", p5), ("4007", p7), ("4009", p9)] {
        edge.register(user, port).await;
    }
    registered_on_every_node(&nodes, 3).await;
    let edge_port = edge.addr.port().to_string();
    let stored = nodes.store.bindings_after(0, None).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|b| b.path.len() == 1 && b.path[0].contains(&edge_port)),
        "each registration's Path names the edge: {stored:?}"
    );

    // A phone's call through the edge.
    let rtp5 = RtpPeer::new(false).await;
    let rtp7 = RtpPeer::new(true).await;
    let callee = Sipp::answering(p7, 300, rtp7.port());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let caller = edge.dial("4005", "4007", rtp5.port());
    let (owner, call) = nodes.bridged(Duration::from_secs(10)).await;
    assert_eq!(
        call.id.node(),
        Some(owner as u8 + 1),
        "the id names its node"
    );
    let relay = relay_addr(&nodes.apis[owner], &call.id, Side::A).await;
    assert_eq!(
        relay.ip(),
        nodes.cfgs[owner].media.bind_ip,
        "media on the owner"
    );
    let sent = rtp5.play_pcap(relay).await;
    assert_eq!(
        rtp7.wait_received(sent).await,
        sent,
        "4005's RTP reached 4007"
    );
    assert_eq!(
        rtp5.wait_received(sent).await,
        sent,
        "4007's echo reached 4005"
    );
    hang_up(&nodes.apis[owner], &call).await;
    assert_eq!(caller.wait(10).await, 0, "4005 got BYE through the edge");
    let (code, messages) = callee.wait_messages(10).await;
    assert_eq!(code, 0, "4007 got BYE");
    let invite = received_invite(&messages);
    let top_via = invite
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("via:"))
        .unwrap_or_default();
    assert!(
        top_via.contains(&format!("127.0.0.1:{edge_port}")),
        "4007's INVITE came through the edge: {invite}"
    );
    assert!(
        invite.to_ascii_lowercase().contains("record-route:"),
        "record-routed: {invite}"
    );

    // 3PCC from each node's API: both phones rung through the edge, whoever took their
    // REGISTER.
    for (i, api) in nodes.apis.iter().enumerate() {
        let a = Sipp::answering(p7, 200, free_port());
        let b = Sipp::answering(p9, 200, free_port());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let info = api
            .originate(&click_to_call(
                "4007",
                &["4009"],
                OriginateMode::CallerFirst,
            ))
            .await
            .unwrap();
        assert_eq!(info.id.node(), Some(i as u8 + 1));
        let (owner, call) = nodes.bridged(Duration::from_secs(10)).await;
        assert_eq!((owner, &call.id), (i, &info.id));
        hang_up(api, &call).await;
        assert_eq!(a.wait(10).await, 0, "4007 answered node {}'s call", i + 1);
        assert_eq!(b.wait(10).await, 0, "4009 answered node {}'s call", i + 1);
    }

    // Node 1 stops: calls through the edge go to node 2 within 5 s, whatever their Call-ID.
    nodes.stop(0).await;
    let stopped = Instant::now();
    for n in 0..3 {
        let rtp = RtpPeer::new(true).await;
        let callee = Sipp::answering(p7, 100, rtp.port());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let caller = edge.dial("4005", "4007", free_port());
        let (owner, call) = nodes.bridged(Duration::from_secs(8)).await;
        assert_eq!(owner, 1, "node 2 took call {n}");
        if n == 0 {
            let took = stopped.elapsed();
            eprintln!("first call after the stop bridged in {took:?}");
            assert!(
                took < Duration::from_secs(5),
                "first call after the stop took {took:?}"
            );
        }
        hang_up(&nodes.apis[1], &call).await;
        assert_eq!(caller.wait(10).await, 0, "call {n}: 4005 got BYE");
        assert_eq!(callee.wait(10).await, 0, "call {n}: 4007 got BYE");
    }
    drop(edge);
    nodes.finish().await;
}
