//! Delayed offer (RFC 3261 13.2.1): an authenticated SIPp phone calls 4007 with an INVITE
//! without SDP. The B2BUA answers 200 with its own offer (the relay's address, the codec the
//! callee chose), the phone answers in the ACK, and the relay sends to the RTP port the ACK
//! named: RTP flows both ways. The caller's BYE ends both legs.
use patchbay_api::{CallState, Cause, EndedBy, Side};
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offerless_invite_takes_the_answer_from_the_ack() {
    let stack = Stack::start().await;
    let (p4007, p4005) = (free_port(), free_port());
    stack.register("4007", p4007).await;
    let callee_rtp = RtpPeer::new(true).await;
    let caller_rtp = RtpPeer::new(false).await;
    let callee = Sipp::answering(p4007, 200, callee_rtp.port());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_offerless.xml",
        &stack,
        p4005,
        "4007",
        caller_rtp.port(),
        &["-set", "talk_ms", "3000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    // The ACK's answer is where the relay sends the caller's media.
    let mut remote = None;
    for _ in 0..40 {
        let media = stack.api.media(&call.id).await.unwrap();
        remote = media
            .iter()
            .find(|l| l.side == Side::A)
            .and_then(|l| l.remote_rtp.clone());
        if remote.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        remote,
        Some(format!("127.0.0.1:{}", caller_rtp.port())),
        "the relay took the caller's address from the ACK"
    );
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert_eq!(
        callee_rtp.wait_received(sent).await,
        sent,
        "caller -> callee"
    );
    assert_eq!(
        caller_rtp.wait_received(sent).await,
        sent,
        "the callee's echo reached the port the ACK named"
    );
    assert_eq!(
        caller.wait(20).await,
        0,
        "the 200 carried an offer; BYE answered"
    );
    assert_eq!(callee.wait(10).await, 0, "the callee got the mirrored BYE");
    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::A));
    stack.stop().await;
}
