//! The callee's codec choice never hangs a call. SIPp's built-in `uas` (whose canned answer is
//! always PCMU) is 4007; callers offering PCMA first and PCMU first both get through: the
//! callee is offered every codec the caller offered, and the caller is answered with the one
//! the callee chose (no transcoding). A callee answering a codec it was not offered gets ACK
//! and BYE at once, and its caller gets 488 with a CDR that says why.
use patchbay_api::{CallState, Cause, EndedBy, Side};
use patchbay_store::Store as _;
use patchbay_tests::*;
use std::time::{Duration, Instant};

/// The `m=audio` line of the SDP in the first message of `kind` in a SIPp trace.
fn m_line(trace: &str, first_line: &str) -> String {
    let start = trace
        .find(first_line)
        .unwrap_or_else(|| panic!("no {first_line} in:\n{trace}"));
    trace[start..]
        .lines()
        .find(|l| l.trim_start().starts_with("m=audio"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| panic!("no SDP after {first_line}:\n{trace}"))
}

fn caller(stack: &Stack, scenario: &str, port: u16, rtp: u16, fmt: &str) -> Sipp {
    offer_call(
        stack,
        scenario,
        ("4005", "demo-4005"),
        "4007",
        &stack.sip(),
        port,
        rtp,
        fmt,
    )
}

async fn builtin_uas_answers(fmt: &str) {
    let stack = Stack::start().await;
    let (p4007, p4005, echo) = (free_port(), free_port(), free_port());
    stack.register("4007", p4007).await;
    // SIPp's own uas: 180, 200 with `m=audio <echo> RTP/AVP 0`, echoes RTP on its media port.
    let callee = Sipp::phone("sn:uas", p4007, &["-rtp_echo", "-mp", &echo.to_string()]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller_rtp = RtpPeer::new(false).await;
    let phone = caller(&stack, "uac_offer.xml", p4005, caller_rtp.port(), fmt);
    let call = stack.call_in_state(CallState::Bridged).await;
    // Media flows through the relay to SIPp's echo and back.
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert!(
        caller_rtp.wait_received(sent).await > sent / 2,
        "echo came back through the relay"
    );
    let (code, caller_trace) = phone.wait_messages(20).await;
    assert_eq!(code, 0, "caller answered and hung up:\n{caller_trace}");
    let (code, callee_trace) = callee.wait_messages(10).await;
    assert_eq!(code, 0, "callee answered and got BYE:\n{callee_trace}");
    // The callee was offered everything the caller could use, in the caller's order ...
    let offered = m_line(&callee_trace, "INVITE sip:");
    assert!(offered.ends_with(&format!("RTP/AVP {fmt}")), "{offered}");
    // ... and the caller was answered with the callee's choice: PCMU (the canned answer
    // has no telephone-event).
    let answered = m_line(&caller_trace, "SIP/2.0 200 OK");
    assert!(answered.ends_with("RTP/AVP 0"), "{answered}");
    // The 180 committed to no codec.
    let ringing = caller_trace
        .split("SIP/2.0 180")
        .nth(1)
        .map(|r| r.split("\n\n").next().unwrap_or(r).to_ascii_lowercase())
        .expect("caller got 180");
    assert!(ringing.contains("content-length: 0"), "{ringing}");
    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::A));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcma_first_caller_gets_the_callees_pcmu() {
    builtin_uas_answers("8 0 101").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcmu_first_caller_gets_pcmu() {
    builtin_uas_answers("0 8 101").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callee_answering_an_unoffered_codec_ends_at_once() {
    let stack = Stack::start().await;
    let (p4007, p4005) = (free_port(), free_port());
    stack.register("4007", p4007).await;
    let callee_rtp = RtpPeer::new(false).await;
    let callee = Sipp::phone(
        "uas_wrong_codec.xml",
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let phone = caller(&stack, "uac_offer_refused.xml", p4005, free_port(), "0 101");
    let (code, caller_trace) = phone.wait_messages(20).await;
    assert_eq!(code, 0, "caller got 488:\n{caller_trace}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "refused at once, not after a ring timeout: {:?}",
        started.elapsed()
    );
    // The callee's scenario ends only after ACK and BYE for its 200.
    let (code, callee_trace) = callee.wait_messages(10).await;
    assert_eq!(code, 0, "callee got ACK and BYE:\n{callee_trace}");
    assert!(callee_trace.contains("BYE sip:"), "{callee_trace}");
    let calls = stack.api.list_calls().await.unwrap();
    assert!(calls.is_empty(), "nothing left ringing: {calls:?}");
    let mut cdrs = Vec::new();
    for _ in 0..50 {
        cdrs = stack.store.cdrs("demo", 10).await.unwrap();
        if !cdrs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cdr = cdrs.first().expect("a CDR");
    assert_eq!(
        (cdr.cause, cdr.status, cdr.direction.as_str()),
        (Cause::IncompatibleMedia, Some(488), "inbound")
    );
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_calls_ended_total{cause=\"incompatible_media\"}"
        ),
        Some(1.0)
    );
    stack.stop().await;
}
