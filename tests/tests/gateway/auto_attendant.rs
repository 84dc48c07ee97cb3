//! Auto-attendants (native admin API): 4005 calls 800 and presses 1: 4007 rings, answers and
//! is connected (RTP both ways); 4005 calls again and presses nothing: the timeout
//! destination, 4009, rings and answers; presses 9: it waits in the queue `sales` (its live
//! state shows it); with the tenant's special mode on (the `night`
//! attendant), a call to 800 hears the night menu instead, whose timeout says goodbye.
use patchbay_api::{CallId, CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

fn dial(stack: &Stack, rtp: &RtpCapture) -> Sipp {
    Sipp::dial(stack, "4005", "800", rtp.port())
}

async fn answered_call(stack: &Stack) -> CallId {
    for _ in 0..100 {
        let calls = stack.api.list_calls().await.unwrap();
        if let Some(c) = calls
            .into_iter()
            .find(|c| c.from == "4005" && c.state == CallState::Bridged)
        {
            return c.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the attendant did not answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_timeouts_and_special_mode_route_callers() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    for (id, body) in [
        (
            "main",
            json!({"number": "800", "prompt": {"text": "For sales press 1."},
                   "menu": {"1": "4007", "9": "600"}, "timeout_secs": 2,
                   "timeout_destination": "4009"}),
        ),
        (
            "night",
            json!({"number": "801", "prompt": {"text": "We are closed."}, "timeout_secs": 1}),
        ),
    ] {
        let r = gw
            .send(
                demo(
                    M::PUT,
                    &format!("/api/v1/tenants/demo/auto-attendants/{id}"),
                )
                .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // Key 1: 4007.
    let p7 = free_port();
    stack.register("4007", p7).await;
    let rtp7 = RtpPeer::new(true).await;
    let phone7 = Sipp::answering(p7, 300, rtp7.port());
    let rtp5 = RtpCapture::new().await;
    let caller = dial(&stack, &rtp5);
    let call = answered_call(&stack).await;
    let relay = relay_addr(&stack.api, &call, Side::A).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut keys = PhoneStream::default();
    send_paced(&rtp5.sock, relay, &keys.rfc4733("1")).await;
    stack
        .wait_event(&call, 15, |k| matches!(k, EventKind::Transferred { .. }))
        .await;
    let said = test_signal_seeded(8_000, 1.0, 61);
    let packets = phone_packets(&said);
    send_paced(&rtp5.sock, relay, &packets).await;
    assert!(
        rtp7.wait_received(packets.len() as u64).await >= packets.len() as u64,
        "4005's audio reached 4007"
    );
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    stack.events_until_end(&call).await;

    // No key: the timeout destination, 4009.
    let p9 = free_port();
    stack.register("4009", p9).await;
    let rtp9 = RtpPeer::new(true).await;
    let phone9 = Sipp::answering(p9, 300, rtp9.port());
    let caller = dial(&stack, &rtp5);
    let call = answered_call(&stack).await;
    let ev = stack
        .wait_event(&call, 20, |k| matches!(k, EventKind::Transferred { .. }))
        .await;
    assert!(
        matches!(&ev.kind, EventKind::Transferred { target } if target == "4009"),
        "{ev:?}"
    );
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    stack.events_until_end(&call).await;

    // Key 9: the queue (nobody logged in: the caller waits).
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/queues/sales")
                .json(&json!({"number": "600", "agents": ["4009"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let caller = dial(&stack, &rtp5);
    let call = answered_call(&stack).await;
    let relay = relay_addr(&stack.api, &call, Side::A).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_paced(&rtp5.sock, relay, &keys.rfc4733("9")).await;
    stack
        .wait_event(&call, 15, |k| matches!(k, EventKind::QueueEntered { .. }))
        .await;
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/queues/sales/calls"))
        .await;
    assert_eq!(r.json()[0]["status"], "waiting", "{}", r.body);
    assert_eq!(r.json()[0]["call"], call.0.as_str(), "{}", r.body);
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    stack.events_until_end(&call).await;

    // Special mode: the night attendant answers 800; its timeout says goodbye.
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/auto-attendants/special-mode")
                .json(&json!({"enabled": true, "attendant": "night"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let caller = dial(&stack, &rtp5);
    let call = answered_call(&stack).await;
    assert_eq!(caller.wait(30).await, 0, "goodbye: the B2BUA hung up");
    let events = stack.events_until_end(&call).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::TransferStarted { .. })),
        "the night menu sends nobody anywhere"
    );
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_attendant_routes_total{outcome=\"connect\"}"
        ),
        Some(2.0),
        "key 1 and the timeout connected"
    );
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_attendant_routes_total{outcome=\"queue\"}"
        ),
        Some(1.0)
    );
    gw.stop().await;
    stack.stop().await;
}
