//! A call out through a carrier trunk (trunk, dial plan and DID set through the native admin
//! API): 4005 dials `+660812345678` (promptCall's form: the national number with its leading
//! zero after the country code); the dial plan rewrites it to `0812345678` and sends it to the
//! SIPp carrier, which challenges the INVITE; the B2BUA answers with the trunk's Digest
//! credentials (SIPp verifies them), shows the trunk's caller ID, and RTP flows both ways.
//! Then `112` (a refusing rule) gets 403 and `+15551234567` (no rule) 404, and the carrier
//! receives nothing for either.
use patchbay_api::{CallState, Side};
use patchbay_tests::trunk::{CARRIER_IP, carrier, set_up_carrier};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_leaves_through_the_trunk_with_digest_and_rtp() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let cport = free_port();
    set_up_carrier(&gw, cport).await;

    let carrier_rtp = RtpPeer::new(true).await;
    let caller_rtp = RtpPeer::new(false).await;
    let carrier = carrier(cport, carrier_rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "+660812345678",
        caller_rtp.port(),
        &["-set", "talk_ms", "3000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert_eq!(
        carrier_rtp.wait_received(sent).await,
        sent,
        "RTP reached the carrier"
    );
    assert_eq!(caller_rtp.wait_received(sent).await, sent, "and came back");
    assert_eq!(caller.wait(20).await, 0, "the caller's scenario passed");
    let (code, trace) = carrier.wait_messages(10).await;
    assert_eq!(code, 0, "the carrier accepted our credentials:\n{trace}");
    assert!(
        trace.contains("INVITE sip:0812345678@127.0.0.5"),
        "the dial plan's rewrite:\n{trace}"
    );
    assert!(trace.contains("Authorization: Digest"), "{trace}");
    assert!(
        trace.contains("<sip:+6621234567@"),
        "the trunk's caller ID:\n{trace}"
    );
    let cdr = cdr(&stack, &call.id).await;
    assert_eq!(
        (cdr.from.as_str(), cdr.answered_ms.is_some()),
        ("4005", true),
        "{cdr:?}"
    );

    // Refused by a rule, and routed by none: nothing reaches the carrier.
    let listen = std::net::UdpSocket::bind((CARRIER_IP, cport)).expect("carrier address");
    listen.set_nonblocking(true).unwrap();
    for (number, status) in [("112", "403"), ("+15551234567", "404")] {
        let p = offer_call(
            &stack,
            "uac_offer_refused.xml",
            ("4005", "demo-4005"),
            number,
            &stack.sip(),
            free_port(),
            free_port(),
            "8 101",
        );
        let (code, trace) = p.wait_messages(15).await;
        assert_eq!(code, 0, "{number} refused:\n{trace}");
        assert!(
            trace.contains(&format!("SIP/2.0 {status}")),
            "{number}:\n{trace}"
        );
    }
    let mut buf = [0u8; 2048];
    assert!(
        listen.recv_from(&mut buf).is_err(),
        "nothing was sent to the carrier"
    );
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_trunk_calls_total{direction=\"out\",result=\"placed\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_destinations_refused_total{origin=\"sip\",reason=\"dialplan\"}"
        ),
        Some(1.0)
    );
    gw.stop().await;
    stack.stop().await;
}
