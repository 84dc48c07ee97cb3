//! Forwarding on busy and on no answer, with SIPp phones: 4007 forwards busy calls and
//! unanswered ones (after its ring time, 5 s) to 4009. 4005 calls 4007 twice: 4007's phone
//! answers busy, then only rings; each time 4009's phone is rung next, with 4005's caller ID
//! and a Diversion header naming 4007 and the reason, and the call is bridged to 4009.
use patchbay_api::{CallState, EventKind};
use patchbay_store::Store;
use patchbay_tests::*;
use std::time::Duration;

async fn call_4007(stack: &Stack, first_scenario: &str, reason: &str) {
    let (p5, p7, p9) = (free_port(), free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let (rtp5, rtp9) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let first = Sipp::phone(first_scenario, p7, &[]);
    let target = Sipp::answering(p9, 200, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let caller = Sipp::caller(
        "uac_call.xml",
        stack,
        p5,
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "1000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    let waited = started.elapsed();
    assert_eq!(call.connected.as_deref(), Some("4009"), "{call:?}");
    if reason == "no-answer" {
        assert!(
            waited >= Duration::from_secs(5),
            "4007 rang its 5 s first: {waited:?}"
        );
    }
    assert_eq!(caller.wait(20).await, 0);
    let events = stack.events_until_end(&call.id).await;
    let (code, trace) = target.wait_messages(10).await;
    assert_eq!(code, 0);
    let invite = received_invite(&trace);
    assert!(invite.contains("From: 4005 <sip:4005@"), "{invite}");
    assert!(
        invite.contains(&format!(
            "Diversion: <sip:4007@{}>;reason={reason};counter=1",
            stack.sip()
        )),
        "{invite}"
    );
    let _ = first.wait(10).await;
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::Forwarded { from, to, reason: r } if from == "4007" && to == "4009" && r == reason)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_and_unanswered_calls_go_to_the_forward_target() {
    let stack = Stack::start().await;
    let mut st = stack
        .store
        .user_settings("demo", "4007")
        .await
        .unwrap()
        .unwrap();
    st.forward_busy = Some("4009".into());
    st.forward_no_answer = Some("4009".into());
    st.ring_secs = 5;
    stack
        .store
        .set_user_settings("demo", "4007", &st)
        .await
        .unwrap();
    call_4007(&stack, "uas_busy.xml", "user-busy").await;
    call_4007(&stack, "uas_ring_cancel.xml", "no-answer").await;
    stack.stop().await;
}
