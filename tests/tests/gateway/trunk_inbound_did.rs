//! A call in from a carrier trunk: the carrier (SIPp on 127.0.0.5, the trunk's address) sends
//! an INVITE to the DID `+6621234500` without credentials; the B2BUA knows the trunk by its
//! address, finds the DID's user (4007), rings its phone, which answers; RTP flows both ways;
//! the CDR says who called whom. A second call while the first is up finds the trunk's one
//! channel taken: 503. An INVITE to a number that is no DID gets 404.
use patchbay_api::{CallState, Side};
use patchbay_tests::trunk::{CARRIER_IP, set_up_carrier};
use patchbay_tests::*;
use std::time::Duration;

fn carrier_call(stack: &Stack, did: &str, rtp: u16, scenario: &str) -> Sipp {
    Sipp::spawn(
        scenario,
        &stack.sip(),
        &[
            "-i",
            CARRIER_IP,
            "-mi",
            "127.0.0.1",
            "-s",
            did,
            "-p",
            &free_port().to_string(),
            "-set",
            "caller",
            "+66899999999",
            "-set",
            "rtpport",
            &rtp.to_string(),
            "-set",
            "talk_ms",
            "3000",
        ],
    )
}

/// An offerless INVITE from the carrier's address to `number`; the final response.
fn raw_invite(stack: &Stack, number: &str, call_id: &str) -> String {
    let sock = std::net::UdpSocket::bind((CARRIER_IP, 0)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let me = sock.local_addr().unwrap();
    let sip = stack.sip();
    let invite = format!(
        "INVITE sip:{number}@{sip} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+66899999999@carrier.test>;tag=c1\r\n\
         To: <sip:{number}@{sip}>\r\n\
         Call-ID: {call_id}@carrier.test\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:+66899999999@{me}>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    sip_exchange(&sock, &sip, &invite)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_did_call_from_the_carrier_reaches_its_user() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    set_up_carrier(&gw, free_port()).await;
    let p7 = free_port();
    stack.register("4007", p7).await;
    let phone_rtp = RtpPeer::new(true).await;
    let carrier_rtp = RtpPeer::new(false).await;
    let phone = Sipp::answering(p7, 200, phone_rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let carrier = carrier_call(
        &stack,
        "+6621234500",
        carrier_rtp.port(),
        "uac_carrier_call.xml",
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(
        (call.from.as_str(), call.connected.as_deref()),
        ("+66899999999", Some("4007"))
    );
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = carrier_rtp.play_pcap(relay_a).await;
    assert_eq!(
        phone_rtp.wait_received(sent).await,
        sent,
        "RTP reached 4007"
    );
    assert_eq!(carrier_rtp.wait_received(sent).await, sent, "and came back");
    // The trunk carries one call at a time.
    let reply = raw_invite(&stack, "+6621234500", "second-1");
    assert!(reply.starts_with("SIP/2.0 503"), "{reply}");
    assert_eq!(carrier.wait(20).await, 0, "the carrier's call passed");
    let (code, trace) = phone.wait_messages(10).await;
    assert_eq!(code, 0, "{trace}");
    assert!(
        received_invite(&trace).contains("sip:+66899999999@"),
        "4007 sees the outside caller:\n{trace}"
    );
    let cdr = cdr(&stack, &call.id).await;
    assert_eq!(
        (cdr.from.as_str(), cdr.to.as_str()),
        ("+66899999999", "4007"),
        "{cdr:?}"
    );

    // A number nobody has: 404.
    let reply = raw_invite(&stack, "+6621239999", "nodid-1");
    assert!(reply.starts_with("SIP/2.0 404"), "{reply}");
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_trunk_calls_total{direction=\"in\",result=\"placed\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_trunk_calls_total{direction=\"in\",result=\"full\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_trunk_calls_total{direction=\"in\",result=\"no_did\"}"
        ),
        Some(1.0)
    );
    gw.stop().await;
    stack.stop().await;
}
