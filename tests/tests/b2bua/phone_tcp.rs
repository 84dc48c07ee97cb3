//! SIP over TCP: 4007 registers over TCP and answers over TCP (SIPp `-t t1`); 4005 calls it
//! over TCP. The B2BUA answers each request on the connection it came on and reaches 4007
//! over TCP (its registration's transport); the call is set up, relayed and hung up.
use patchbay_api::{CallState, Cause, EndedBy, Side};
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_over_tcp_register_call_and_hang_up() {
    let stack = Stack::start().await;
    let (p4007, p4005) = (free_port(), free_port());
    let sip = stack.sip();
    let reg = Sipp::spawn(
        "register.xml",
        &sip,
        &[
            "-t",
            "t1",
            "-au",
            "4007",
            "-ap",
            "demo-4007",
            "-auth_uri",
            &sip,
            "-set",
            "user",
            "4007",
            "-set",
            "domain",
            &sip,
            "-set",
            "contact_port",
            &p4007.to_string(),
            "-set",
            "expires",
            "300",
        ],
    );
    assert_eq!(reg.wait(15).await, 0, "REGISTER over TCP");
    let regs = stack.api.registrations("demo").await.unwrap();
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].transport, "tcp", "{regs:?}");
    let callee_rtp = RtpPeer::new(true).await;
    let caller_rtp = RtpPeer::new(false).await;
    let callee = Sipp::phone(
        "uas_answer.xml",
        p4007,
        &[
            "-t",
            "t1",
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
        &["-t", "t1", "-set", "talk_ms", "2000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = caller_rtp.play_pcap(relay_a).await;
    assert_eq!(
        callee_rtp.wait_received(sent).await,
        sent,
        "caller -> callee"
    );
    assert_eq!(caller.wait(20).await, 0, "the TCP caller's call and BYE");
    assert_eq!(
        callee.wait(10).await,
        0,
        "the TCP callee answered and got BYE"
    );
    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::A));
    stack.stop().await;
}
