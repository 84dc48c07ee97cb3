//! SIPp registers as 4007 (digest) and answers; SIPp authenticated as 4005 calls 4007 through the
//! B2BUA. The caller's RTP (SIPp's g711a.pcap) reaches 4007 through the relay and 4007's echo
//! comes back to the caller. The caller hangs up: one terminal event, one CDR.
use patchbay_api::{CallState, Cause, EndedBy, Side};
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_call_relays_rtp_both_ways() {
    let stack = Stack::start().await;
    let (p4007, p4005) = (free_port(), free_port());
    stack.register("4007", p4007).await;
    let regs = stack.api.registrations("demo").await.unwrap();
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].contact, format!("sip:4007@127.0.0.1:{p4007}"));

    let callee_rtp = RtpPeer::new(true).await;
    let caller_rtp = RtpPeer::new(false).await;
    let callee = Sipp::phone(
        "uas_answer.xml",
        p4007,
        &[
            "-set",
            "ring_ms",
            "200",
            "-set",
            "rtpport",
            &callee_rtp.port().to_string(),
        ],
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        p4005,
        "4007",
        caller_rtp.port(),
        &["-set", "talk_ms", "3000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(
        (call.from.as_str(), call.connected.as_deref()),
        ("4005", Some("4007"))
    );
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert_eq!(sent, 236, "g711a.pcap holds 236 RTP packets");
    assert_eq!(
        callee_rtp.wait_received(sent).await,
        sent,
        "every packet reached 4007"
    );
    assert_eq!(
        caller_rtp.wait_received(sent).await,
        sent,
        "every echo came back to 4005"
    );
    let media = stack.api.media(&call.id).await.unwrap();
    assert!(
        media.iter().all(|l| l.latched && l.rtp_lost == 0),
        "{media:?}"
    );

    assert_eq!(
        caller.wait(20).await,
        0,
        "caller scenario passed (hung up with BYE)"
    );
    assert_eq!(callee.wait(10).await, 0, "callee got the mirrored BYE");
    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::A));
    let cdr = cdr(&stack, &call.id).await;
    assert_eq!(
        (cdr.from.as_str(), cdr.to.as_str(), cdr.direction.as_str()),
        ("4005", "4007", "inbound")
    );
    assert!(cdr.billsec >= 1 && cdr.answered_ms.is_some(), "{cdr:?}");
    stack.stop().await;
}
