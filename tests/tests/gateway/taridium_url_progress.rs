//! URL control's progress pages with curl, as a browser bookmark uses them: `progress=1`
//! places the call (4005's phone rings, then 4007's, which rings a second) and answers only
//! once both talk: a text page saying so, the call bridged when it arrives. `progress=2` to
//! a busy 4007 without voicemail: the graphic page says the call failed, and why; with its
//! voicemail on, that the call went to voicemail.
use patchbay_api::CallState;
use patchbay_tests::*;
use std::time::{Duration, Instant};

async fn page(gw: &Gw, query: &str) -> (String, String, Duration) {
    let url = format!("{}/user/c/?{query}", gw.base);
    let t = Instant::now();
    let (code, out, err) = run_tool("curl", &["-sS", "-w", "\n%{http_code}", &url], 60).await;
    assert_eq!(code, 0, "{err}");
    let (body, status) = out.rsplit_once('\n').unwrap_or((&out, ""));
    (status.to_string(), body.to_string(), t.elapsed())
}

/// The B2BUA's call that has not ended.
async fn live_call(stack: &Stack) -> Option<patchbay_api::CallInfo> {
    let calls = stack.api.list_calls().await.unwrap();
    calls.into_iter().find(|c| c.ended_ms.is_none())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_waits_for_the_call() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let rtp = RtpPeer::new(true).await;

    // 1. Text: the page comes once 4007 answered.
    let me = Sipp::answering(p5, 100, rtp.port());
    let them = Sipp::answering(p7, 1000, rtp.port());
    let (status, body, took) = page(&gw, "key=DEMO05&call=4007&progress=1").await;
    assert_eq!(status, "200");
    assert!(
        body.contains("<p>Calling 4007 ...</p>\n<p>OK: CALL PLACED</p>\n<p>Call connected.</p>"),
        "{body}"
    );
    assert!(
        took >= Duration::from_millis(1000),
        "it waited for 4007: {took:?}"
    );
    let call = live_call(&stack).await.expect("the call");
    assert_eq!(
        call.state,
        CallState::Bridged,
        "connected when the page came"
    );
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(me.wait(10).await, 0);
    assert_eq!(them.wait(10).await, 0);
    stack.events_until_end(&call.id).await;

    // 2. Graphic, 4007 busy (its voicemail off): the page says the call failed, and why.
    let (_, body, _) = page(&gw, "key=DEMO07&vm=0").await;
    assert_eq!(body, "OK: UPDATED VM SETTINGS");
    let me = Sipp::answering(p5, 100, rtp.port());
    let busy = Sipp::phone("uas_busy.xml", p7, &[]);
    let (status, body, _) = page(&gw, "key=DEMO05&call=4007&progress=2").await;
    assert_eq!(status, "200");
    assert!(body.contains("<div class=\"fill\">Failed</div>"), "{body}");
    assert!(
        body.contains("<p>OK: CALL PLACED</p>\n<p>Call ended before it connected: busy.</p>"),
        "{body}"
    );
    assert_eq!(busy.wait(10).await, 0);
    assert_eq!(me.wait(10).await, 0);

    // 3. Busy with voicemail on: the voicemail took the call.
    let (_, body, _) = page(&gw, "key=DEMO07&vm=1").await;
    assert_eq!(body, "OK: UPDATED VM SETTINGS");
    let me = Sipp::answering(p5, 100, rtp.port());
    let busy = Sipp::phone("uas_busy.xml", p7, &[]);
    let (_, body, _) = page(&gw, "key=DEMO05&call=4007&progress=2").await;
    assert!(
        body.contains("<div class=\"fill\">Voicemail</div>"),
        "{body}"
    );
    assert!(body.contains("<p>Call went to voicemail.</p>"), "{body}");
    assert_eq!(busy.wait(10).await, 0);
    let call = live_call(&stack)
        .await
        .expect("the call with the voicemail");
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(me.wait(10).await, 0);
}
