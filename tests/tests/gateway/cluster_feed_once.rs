//! Two gateways on one store follow the same event log: a call's follow-up work is done by
//! one of them. The demo tenant's Ozeki `CallChanged` URL hears each state of a call once
//! (not once per gateway), whichever gateway placed it, and its post-call CTI GET comes once.
//! The settings are written through one gateway each; the other sees them once its cache's
//! 10 s have passed (as documented), so the calls wait that long.
use patchbay_api::CallState;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_notification_once_with_two_gateways() {
    let stack = Stack::start().await;
    let gws = [stack.gateway(|_| {}), stack.gateway(|_| {})];
    let mut app = Receiver::on(free_port());
    app.start().await;
    gws[0]
        .ozeki_settings(json!({"call_changed_url": app.url("/changed")}))
        .await;
    let cti = gws[1]
        .send(
            gws[1]
                .as_key(
                    "demo-key",
                    "demo-secret",
                    M::PUT,
                    "/api/v1/tenants/demo/cti",
                )
                .json(&json!({"enabled": true,
                    "post_call_url": app.url("/post?id=%%uniqueid%%&billsec=%%billsec%%")})),
        )
        .await;
    assert_eq!(cti.status, 200, "{}", cti.body);
    tokio::time::sleep(Duration::from_millis(10_500)).await;
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let mut ids = Vec::new();
    for gw in &gws {
        let a = Sipp::answering(p5, 100, free_port());
        let b = Sipp::answering(p7, 100, free_port());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = gw
            .send(
                gw.as_key("demo-key", "demo-secret", M::POST, "/api/v1/calls")
                    .json(&json!({"from": "4005", "to": "4007"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let call = stack.call_in_state(CallState::Bridged).await.id;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stack.api.hangup(&call).await.unwrap();
        assert_eq!(a.wait(10).await, 0);
        assert_eq!(b.wait(10).await, 0);
        stack.events_until_end(&call).await;
        ids.push(call);
    }
    // Both calls' post-call GETs, then a moment for any duplicate to arrive.
    app.wait_for("/post", 2, 20).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hooks = app.hooks();
    for id in &ids {
        let states: Vec<String> = hooks
            .iter()
            .filter(|h| h.route() == "/changed" && h.field("CallId").as_deref() == Some(&id.0))
            .filter_map(|h| h.field("CallState"))
            .collect();
        assert!(!states.is_empty(), "{id}: notified");
        let mut unique = states.clone();
        unique.dedup();
        assert_eq!(states, unique, "{id}: each state once: {states:?}");
        assert_eq!(
            states.iter().filter(|s| *s == "Completed").count(),
            1,
            "{id}: {states:?}"
        );
        let posts = hooks
            .iter()
            .filter(|h| h.route() == "/post" && h.param("id").as_deref() == Some(&id.0))
            .count();
        assert_eq!(posts, 1, "{id}: one post-call GET");
    }
    for gw in gws {
        gw.stop().await;
    }
    stack.stop().await;
}
