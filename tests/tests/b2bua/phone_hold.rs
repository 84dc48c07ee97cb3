//! A phone's own hold key: 4005 calls 4007, then puts the call on hold with a re-INVITE
//! (`a=sendonly`) and resumes it (`a=sendrecv`). Each re-INVITE is answered with the relay's
//! address and the mirrored direction (checked by the caller's scenario), and passed on to 4007
//! as a re-INVITE with the same direction (checked by 4007's scenario). After the resume RTP
//! flows both ways through the relay.
use patchbay_api::{CallState, Cause, EndedBy, Side};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_holds_and_resumes_and_media_flows_after() {
    let stack = Stack::start().await;
    let (p4007, p4005) = (free_port(), free_port());
    stack.register("4007", p4007).await;
    let callee_rtp = RtpPeer::new(true).await;
    let caller_rtp = RtpPeer::new(false).await;
    let callee = Sipp::phone(
        "uas_hold.xml",
        p4007,
        &[
            "-set",
            "ring_ms",
            "100",
            "-set",
            "rtpport",
            &callee_rtp.port().to_string(),
        ],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_hold.xml",
        &stack,
        p4005,
        "4007",
        caller_rtp.port(),
        &["-set", "talk_ms", "4000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    // Hold at ~1 s after the answer, resume at ~2 s: play after the resume.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert_eq!(
        callee_rtp.wait_received(sent).await,
        sent,
        "caller -> callee after resume"
    );
    assert_eq!(
        caller_rtp.wait_received(sent).await,
        sent,
        "callee -> caller after resume"
    );
    assert_eq!(
        caller.wait(20).await,
        0,
        "hold and resume answered as expected"
    );
    assert_eq!(
        callee.wait(10).await,
        0,
        "4007 heard the hold and the resume"
    );
    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::A));
    stack.stop().await;
}
