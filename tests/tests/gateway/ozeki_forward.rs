//! Ozeki's `Forward` of a ringing call: 4005 (SIPp) calls 4007, whose phone rings; the app
//! forwards the call to 4009: 4007's phone is cancelled, 4009 rings and answers, and 4005's
//! audio reaches 4009. An answered call cannot be forwarded (303); an unknown call is 601.
use patchbay_api::{CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_a_ringing_call() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let g = &gw;
    let ozeki = |q: String| async move { g.ozeki(&q).await };
    let code = |body: &str| {
        let i = body.find("<Code>").expect("a code") + 6;
        body[i..i + 3].to_string()
    };
    let (p7, p9) = (free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let ringing = Sipp::phone("uas_ring_cancel.xml", p7, &[]);
    let rtp9 = RtpPeer::new(false).await;
    let phone9 = Sipp::answering(p9, 200, rtp9.port());
    let rtp5 = RtpCapture::new().await;
    let caller = Sipp::dial(&stack, "4005", "4007", rtp5.port());
    let call = stack.call_in_state(CallState::Ringing).await.id;
    stack
        .wait_event(&call, 10, |k| matches!(k, EventKind::Ringing { .. }))
        .await;
    let r = ozeki(format!("command=Forward&CallId={call}&Destination=4009")).await;
    assert_eq!(code(&r), "200", "{r}");
    assert_eq!(ringing.wait(10).await, 0, "4007's phone was cancelled");
    let ev = stack
        .wait_event(&call, 10, |k| matches!(k, EventKind::Forwarded { .. }))
        .await;
    assert!(
        matches!(&ev.kind, EventKind::Forwarded { from, to, reason }
            if from == "4007" && to == "4009" && reason == "deflection"),
        "{ev:?}"
    );
    stack
        .wait_event(&call, 10, |k| matches!(k, EventKind::Bridged))
        .await;
    let info = stack.api.call(&call).await.unwrap();
    assert_eq!(info.connected.as_deref(), Some("4009"));
    let relay = relay_addr(&stack.api, &call, Side::A).await;
    let packets = phone_packets(&test_signal_seeded(8_000, 1.0, 41));
    send_paced(&rtp5.sock, relay, &packets).await;
    assert!(
        rtp9.wait_received(packets.len() as u64).await >= packets.len() as u64,
        "4005's audio reached 4009"
    );
    // Answered: Forward no longer fits (303); an unknown call is 601.
    let r = ozeki(format!("command=Forward&CallId={call}&Destination=4007")).await;
    assert_eq!(code(&r), "303", "{r}");
    assert!(r.contains("<Message>Command 'Forward' cannot be used here</Message>"));
    let r = ozeki("command=Forward&CallId=nope&Destination=4007".into()).await;
    assert_eq!(code(&r), "601", "{r}");
    let r = ozeki(format!("command=Hangup&CallId={call}")).await;
    assert_eq!(code(&r), "200", "{r}");
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    stack.events_until_end(&call).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    gw.stop().await;
    stack.stop().await;
}
