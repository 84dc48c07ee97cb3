//! 3PCC from the control API, caller first (the call's id names the node that owns it): 4005
//! rings and answers, only then 4007 rings and
//! answers; RTP flows through the relay both ways; the API hangup sends BYE to both phones; the
//! CDR has billsec > 0.
use patchbay_api::{CallState, Cause, EndedBy, OriginateMode, Side};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_first_click_to_call() {
    let stack = Stack::start().await;
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let rtp5 = RtpPeer::new(false).await;
    let rtp7 = RtpPeer::new(true).await;
    let a = Sipp::phone(
        "uas_answer.xml",
        p5,
        &[
            "-set",
            "ring_ms",
            "500",
            "-set",
            "rtpport",
            &rtp5.port().to_string(),
        ],
    );
    let b = Sipp::phone(
        "uas_answer.xml",
        p7,
        &[
            "-set",
            "ring_ms",
            "300",
            "-set",
            "rtpport",
            &rtp7.port().to_string(),
        ],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let info = stack
        .api
        .originate(&click_to_call(
            "4005",
            &["4007"],
            OriginateMode::CallerFirst,
        ))
        .await
        .unwrap();
    assert_eq!(
        info.id.node(),
        Some(TEST_NODE),
        "the id names its node: {}",
        info.id
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.id, info.id);
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = rtp5.play_pcap(relay_a).await;
    assert_eq!(
        rtp7.wait_received(sent).await,
        sent,
        "4005's RTP reached 4007"
    );
    assert_eq!(
        rtp5.wait_received(sent).await,
        sent,
        "4007's echo reached 4005"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(a.wait(10).await, 0, "4005 got BYE");
    assert_eq!(b.wait(10).await, 0, "4007 got BYE");

    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::Api));
    let k = kinds(&events);
    assert_eq!(
        k,
        [
            "created",
            "dialing:a",
            "ringing:a",
            "answered:a",
            "dialing:b",
            "ringing:b",
            "answered:b",
            "bridged",
            "ended"
        ],
        "A rang and answered before B was dialled"
    );
    // The reply carried the id before any INVITE: "created" precedes "dialing".
    let cdr = cdr(&stack, &call.id).await;
    assert!(cdr.billsec >= 1, "{cdr:?}");
    assert_eq!(cdr.cause, Cause::Normal);
    stack.stop().await;
}
