//! Forwarding to a mobile through the carrier trunk: 4007 forwards every call to
//! `+66812345678` (Taridium URL control `fwd=1&fwdnr=...`); 4005 calls 4007; the call leaves
//! through the trunk (dial plan rewrite `0812345678`, the trunk's Digest) with 4005 as the
//! caller and a Diversion header naming 4007; the carrier answers and RTP flows.
use patchbay_api::{CallState, Side};
use patchbay_tests::trunk::{carrier, set_up_carrier};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_to_a_mobile_leaves_through_the_trunk() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let cport = free_port();
    set_up_carrier(&gw, cport).await;
    let r = gw
        .get("/user/c/?key=DEMO07&fwd=1&fwdnr=%2B66812345678")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with("OK"), "{}", r.body);

    let carrier_rtp = RtpPeer::new(true).await;
    let caller_rtp = RtpPeer::new(false).await;
    let carrier = carrier(cport, carrier_rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "4007",
        caller_rtp.port(),
        &["-set", "talk_ms", "3000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert_eq!(
        carrier_rtp.wait_received(sent).await,
        sent,
        "RTP reached the mobile"
    );
    assert_eq!(caller_rtp.wait_received(sent).await, sent, "and came back");
    assert_eq!(caller.wait(20).await, 0);
    let (code, trace) = carrier.wait_messages(10).await;
    assert_eq!(code, 0, "{trace}");
    let invite = trace
        .split("INVITE sip:")
        .last()
        .expect("an INVITE")
        .to_string();
    assert!(invite.starts_with("0812345678@127.0.0.5"), "{invite}");
    assert!(
        invite.contains("<sip:4005@"),
        "the forwarded call shows its caller:\n{invite}"
    );
    assert!(
        invite.contains("Diversion: <sip:4007@"),
        "and who forwarded it:\n{invite}"
    );
    gw.stop().await;
    stack.stop().await;
}
