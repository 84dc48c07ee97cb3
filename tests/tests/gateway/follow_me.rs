//! Follow-me: 4007's call sequence (set through the native API: after its own phones ring
//! 5 s, 4009 for 10 s) is switched on by Taridium URL control `follow=1`. 4005 calls 4007:
//! 4007's phone rings, then 4009's, which answers; its INVITE carries a Diversion with reason
//! `follow-me`. With `follow=0` the sequence is off again.
use patchbay_api::{CallState, EventKind};
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_me_rings_the_sequence_after_the_users_phones() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                M::PUT,
                "/api/v1/tenants/demo/users/4007",
            )
            .json(&json!({"ring_secs": 5, "vm_on": false,
                              "call_sequence": [{"number": "4009", "ring_secs": 10}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                M::PUT,
                "/api/v1/tenants/demo/users/4007",
            )
            .json(&json!({"call_sequence": [{"number": "4009", "ring_secs": 1}]})),
        )
        .await;
    assert_eq!(r.status, 400, "ring_secs below 5: {}", r.body);
    let r = gw.get("/user/c/?key=DEMO07&follow=1").await;
    assert_eq!(r.body, "OK: UPDATED FOLLOWME SETTINGS");

    let (p5, p7, p9) = (free_port(), free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let (rtp5, rtp9) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let own = Sipp::phone("uas_ring_cancel.xml", p7, &[]);
    let next = Sipp::answering(p9, 200, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        p5,
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "500"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "4007 rang its 5 s first"
    );
    assert_eq!(call.connected.as_deref(), Some("4009"));
    assert_eq!(caller.wait(20).await, 0);
    assert_eq!(own.wait(10).await, 0, "4007's phone rang and was cancelled");
    let (code, trace) = next.wait_messages(10).await;
    assert_eq!(code, 0);
    let invite = received_invite(&trace);
    assert!(invite.contains("reason=follow-me"), "{invite}");
    let events = stack.events_until_end(&call.id).await;
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::Forwarded { reason, to, .. } if reason == "follow-me" && to == "4009")));
    let r = gw.get("/user/c/?key=DEMO07&follow=0").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = patchbay_store::Store::user_settings(stack.store.as_ref(), "demo", "4007")
        .await
        .unwrap()
        .unwrap();
    assert!(!st.followme_on && st.call_sequence.len() == 1);
    gw.stop().await;
    stack.stop().await;
}
