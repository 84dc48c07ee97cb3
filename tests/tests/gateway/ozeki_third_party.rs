//! OzML in the reply to a `CallChanged` (third-party call control): the demo tenant's
//! `CallChanged` URL answers every notification with `<Speak Party="callee">`; 4005 calls
//! 4007 through the native API; once the call is `InCall` the reply is spoken to 4007 (its
//! phone receives the speech). The replies to `Ringing` (a call that cannot be spoken to yet)
//! and `Completed` (gone) fail as steps, counted.
use patchbay_api::{CallState, EventKind};
use patchbay_tests::media::*;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callchanged_reply_speaks_to_the_callee() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let mut app = Receiver::on(free_port());
    app.start().await;
    gw.ozeki_settings(json!({"call_changed_url": app.url("/changed")}))
        .await;
    app.set_reply_for(
        "/changed",
        "<Response><Speak Party=\"callee\">This call may be recorded.</Speak></Response>",
    );
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let (rtp5, rtp7) = (RtpCapture::new().await, RtpCapture::new().await);
    let phone5 = Sipp::answering(p5, 100, rtp5.port());
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    let r = gw
        .send(
            gw.as_key("demo-key", "demo-secret", M::POST, "/api/v1/calls")
                .json(&json!({"from": "4005", "to": "4007"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let call = stack.call_in_state(CallState::Bridged).await.id;
    let ev = stack
        .wait_event(&call, 15, |k| matches!(k, EventKind::PlayFinished { .. }))
        .await;
    let played = match ev.kind {
        EventKind::PlayFinished { played_ms, .. } => played_ms,
        _ => 0,
    };
    assert!(played > 1_000, "the sentence was spoken: {played} ms");
    assert!(rms(&rtp7.audio()) > 300.0, "4007 heard it");
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(phone5.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    stack.events_until_end(&call).await;
    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    assert!(
        metric(&m, "patchbay_gateway_ozml_steps_total{step=\"command\"}").unwrap_or(0.0) >= 2.0,
        "{m}"
    );
    gw.stop().await;
    stack.stop().await;
}
