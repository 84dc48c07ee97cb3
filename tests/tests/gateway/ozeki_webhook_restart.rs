//! Webhook durability across a gateway restart: the demo tenant's `CallChanged` URL is down;
//! three Ozeki `Call`s ring 4007, are answered and end, so their notifications wait in the
//! outbox, retried; the gateway stops; the receiver comes up and a new gateway starts on the
//! same store: every notification arrives, each call's in order (Ringing, Answered, InCall,
//! Completed), a repeat only right after the same one (an attempt whose answer was lost).
use patchbay_store::Outbox;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_survive_a_gateway_restart() {
    let stack = Stack::start().await;
    let tune = |c: &mut patchbay_gateway::GatewayConfig| {
        c.webhooks.retry_base_ms = 100;
        c.webhooks.retry_max_ms = 400;
        c.webhooks.timeout_ms = 500;
        c.webhooks.lease_secs = 2;
    };
    let gw = stack.gateway(tune);
    let mut app = Receiver::on(free_port());
    gw.ozeki_settings(json!({"call_changed_url": app.url("/changed")}))
        .await;
    let _phones = LoadPhones::start(&stack, 300, 60).await;
    for _ in 0..3 {
        let r = gw
            .send(gw.http.get(format!(
                "{}/?command=Call&Dialed=4007&ResponseOzML=%3CResponse%3E%3CDelay%3E5%3C%2FDelay%3E%3C%2FResponse%3E",
                gw.ozeki
            )))
            .await;
        assert!(r.body.contains("<Code>200</Code>"), "{}", r.body);
    }
    // The three calls end (4007 hangs up); their notifications wait for the receiver.
    let mut ended = 0.0;
    for _ in 0..100 {
        ended = normal_calls_ended(&stack).await;
        if ended >= 3.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ended, 3.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pending = stack.store.webhook_backlog().await.unwrap();
    assert_eq!(
        pending.0, 12,
        "four notifications per call are queued: {pending:?}"
    );
    gw.stop().await;

    app.start().await;
    let gw = stack.gateway(tune);
    let mut by_call: HashMap<String, Vec<String>> = HashMap::new();
    for _ in 0..200 {
        by_call.clear();
        for h in app.hooks() {
            by_call
                .entry(h.field("CallId").unwrap_or_default())
                .or_default()
                .push(h.field("CallState").unwrap_or_default());
        }
        if stack.store.webhook_backlog().await.unwrap().0 == 0 && by_call.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(by_call.len(), 3, "{by_call:?}");
    for (call, mut states) in by_call {
        states.dedup();
        assert_eq!(
            states,
            ["Ringing", "Answered", "InCall", "Completed"],
            "call {call}"
        );
    }
    gw.stop().await;
    stack.stop().await;
}
