//! Every cell of the state x action table with real SIPp phones: each ends with exactly one
//! terminal event and one CDR carrying the right cause. (The busy and no-answer cells turn
//! 4007's voicemail off: with it on, its mailbox takes the call, as `click_to_call_voicemail`
//! shows.)
use patchbay_api::{
    CallId, CallState, Cause, EndedBy, OriginateMode, Side, TransferMethod, TransferRequest,
};
use patchbay_store::Store as _;
use patchbay_tests::*;
use std::time::Duration;

async fn originate(stack: &Stack, to: &[&str], mode: OriginateMode) -> CallId {
    stack
        .api
        .originate(&click_to_call("4005", to, mode))
        .await
        .expect("originate accepted")
        .id
}

async fn ended(stack: &Stack, id: &CallId) -> (Cause, EndedBy, patchbay_api::Cdr) {
    let events = stack.events_until_end(id).await;
    let (cause, by) = assert_one_terminal(&events);
    let cdr = cdr(stack, id).await;
    assert_eq!(
        (cdr.cause, cdr.ended_by),
        (cause, by),
        "CDR agrees with the terminal event"
    );
    (cause, by, cdr)
}

/// 4007 takes no messages (an unanswered call to it ends) and rings 5 s (its ring time, not
/// the node's, is what an API call to it rings for).
async fn no_voicemail(stack: &Stack) {
    let mut st = stack
        .store
        .user_settings("demo", "4007")
        .await
        .unwrap()
        .unwrap();
    st.vm_on = false;
    st.ring_secs = 5;
    stack
        .store
        .set_user_settings("demo", "4007", &st)
        .await
        .unwrap();
}

fn answer(port: u16, rtp: u16) -> Sipp {
    Sipp::answering(port, 200, rtp)
}

fn reject(port: u16, scenario: &str) -> Sipp {
    Sipp::phone(scenario, port, &[])
}

fn rings(port: u16) -> Sipp {
    Sipp::phone("uas_ring_cancel.xml", port, &[])
}

async fn two_phones(stack: &Stack) -> (u16, u16) {
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    (p5, p7)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_a_rings() {
    let stack = Stack::start().await;
    let (p5, _p7) = two_phones(&stack).await;
    let a = rings(p5);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    stack.call_in_state(CallState::Ringing).await;
    stack.api.hangup(&id).await.unwrap();
    assert_eq!(a.wait(10).await, 0, "4005 saw CANCEL");
    let (cause, by, cdr) = ended(&stack, &id).await;
    assert_eq!(
        (cause, by, cdr.billsec),
        (Cause::Cancelled, EndedBy::Api, 0)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_b_rings() {
    let stack = Stack::start().await;
    let (p5, p7) = two_phones(&stack).await;
    let rtp = RtpPeer::new(false).await;
    let a = answer(p5, rtp.port());
    let b = rings(p7);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    stack.call_in_state(CallState::Connecting).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // B's 180 arrives
    stack.api.hangup(&id).await.unwrap();
    assert_eq!(a.wait(10).await, 0, "4005 got BYE");
    assert_eq!(b.wait(10).await, 0, "4007 saw CANCEL");
    let (cause, by, _) = ended(&stack, &id).await;
    assert_eq!((cause, by), (Cause::Cancelled, EndedBy::Api));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_busy() {
    let stack = Stack::start().await;
    no_voicemail(&stack).await;
    let (p5, p7) = two_phones(&stack).await;
    let rtp = RtpPeer::new(false).await;
    let a = answer(p5, rtp.port());
    let b = reject(p7, "uas_busy.xml");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    assert_eq!(b.wait(10).await, 0, "4007 answered busy and got its ACK");
    assert_eq!(a.wait(10).await, 0, "4005 got BYE");
    let (cause, by, cdr) = ended(&stack, &id).await;
    assert_eq!(
        (cause, by, cdr.status),
        (Cause::Busy, EndedBy::B, Some(486))
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_no_answer() {
    let stack = Stack::start_with(|c| c.ring_timeout_secs = 2).await;
    no_voicemail(&stack).await;
    let (p5, p7) = two_phones(&stack).await;
    let rtp = RtpPeer::new(false).await;
    let a = answer(p5, rtp.port());
    let b = rings(p7);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    assert_eq!(
        b.wait(15).await,
        0,
        "4007 was cancelled after the ring timeout"
    );
    assert_eq!(a.wait(10).await, 0, "4005 got BYE");
    let (cause, by, _) = ended(&stack, &id).await;
    assert_eq!((cause, by), (Cause::NoAnswer, EndedBy::B));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejects() {
    let stack = Stack::start().await;
    let (p5, _p7) = two_phones(&stack).await;
    let a = reject(p5, "uas_decline.xml");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    assert_eq!(a.wait(10).await, 0);
    let (cause, by, cdr) = ended(&stack, &id).await;
    assert_eq!(
        (cause, by, cdr.status),
        (Cause::Rejected, EndedBy::A, Some(603))
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_after_answer() {
    let stack = Stack::start().await;
    let (p5, p7) = two_phones(&stack).await;
    let p9 = free_port();
    stack.register("4009", p9).await;
    let (r5, r7, r9) = (
        RtpPeer::new(false).await,
        RtpPeer::new(true).await,
        RtpPeer::new(true).await,
    );
    let a = answer(p5, r5.port());
    let b = answer(p7, r7.port());
    let c = answer(p9, r9.port());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    stack.call_in_state(CallState::Bridged).await;
    stack
        .api
        .transfer(
            &id,
            &TransferRequest {
                target: "4009".into(),
                keep: Side::A,
                method: TransferMethod::Bridge,
            },
        )
        .await
        .unwrap();
    assert_eq!(b.wait(10).await, 0, "4007 was hung up once 4009 answered");
    // 4005 now talks to 4009 through the relay.
    let relay_a = relay_addr(&stack.api, &id, Side::A).await;
    let sent = r5.play_pcap(relay_a).await;
    assert_eq!(
        r9.wait_received(sent).await,
        sent,
        "4005's RTP reaches 4009"
    );
    assert_eq!(
        r5.wait_received(sent).await,
        sent,
        "4009's echo reaches 4005"
    );
    assert_eq!(r7.received(), 0, "nothing went to 4007 after the transfer");
    stack.api.hangup(&id).await.unwrap();
    assert_eq!(a.wait(10).await, 0);
    assert_eq!(c.wait(10).await, 0);
    let events = stack.events_until_end(&id).await;
    assert!(
        kinds(&events).contains(&"transferred".to_string()),
        "{events:?}"
    );
    let (cause, by, cdr) = ended(&stack, &id).await;
    assert_eq!(
        (cause, by, cdr.transferred_to.as_deref(), cdr.to.as_str()),
        (Cause::Normal, EndedBy::Api, Some("4009"), "4009")
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_fork_first_answer_wins() {
    let stack = Stack::start().await;
    let (p5, p7) = two_phones(&stack).await;
    let p9 = free_port();
    stack.register("4009", p9).await;
    let (r5, r9) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let a = answer(p5, r5.port());
    let slow = rings(p7);
    let fast = answer(p9, r9.port());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007", "4009"], OriginateMode::Simultaneous).await;
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.connected.as_deref(), Some("4009"));
    assert_eq!(slow.wait(10).await, 0, "the losing fork was cancelled");
    let relay_a = relay_addr(&stack.api, &id, Side::A).await;
    let sent = r5.play_pcap(relay_a).await;
    assert_eq!(r9.wait_received(sent).await, sent);
    stack.api.hangup(&id).await.unwrap();
    assert_eq!(a.wait(10).await, 0);
    assert_eq!(fast.wait(10).await, 0);
    let (cause, _, cdr) = ended(&stack, &id).await;
    assert_eq!((cause, cdr.to.as_str()), (Cause::Normal, "4009"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_transfer_after_answer() {
    let stack = Stack::start().await;
    let (p5, p7) = two_phones(&stack).await;
    let (r5, r7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    // 4005 is the kept party: it gets the REFER, accepts it and reports success.
    let a = Sipp::phone(
        "uas_refer.xml",
        p5,
        &[
            "-set",
            "ring_ms",
            "200",
            "-set",
            "rtpport",
            &r5.port().to_string(),
        ],
    );
    let b = answer(p7, r7.port());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    stack.call_in_state(CallState::Bridged).await;
    stack
        .api
        .transfer(
            &id,
            &TransferRequest {
                target: "4009".into(),
                keep: Side::A,
                method: TransferMethod::Refer,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        a.wait(15).await,
        0,
        "4005 got REFER, sent NOTIFY 200, then BYE"
    );
    assert_eq!(b.wait(10).await, 0, "4007 got BYE");
    let events = stack.events_until_end(&id).await;
    assert!(
        kinds(&events).contains(&"transferred".to_string()),
        "{events:?}"
    );
    let (cause, by, cdr) = ended(&stack, &id).await;
    assert_eq!(
        (cause, by, cdr.transferred_to.as_deref()),
        (Cause::Transferred, EndedBy::A, Some("4009"))
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_unhold_after_answer() {
    let stack = Stack::start().await;
    let (p5, p7) = two_phones(&stack).await;
    let (r5, r7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let phone = |p: u16, r: u16| {
        Sipp::phone(
            "uas_hold.xml",
            p,
            &["-set", "ring_ms", "200", "-set", "rtpport", &r.to_string()],
        )
    };
    let (a, b) = (phone(p5, r5.port()), phone(p7, r7.port()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    stack.call_in_state(CallState::Bridged).await;
    stack.api.hold(&id, true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    stack.api.hold(&id, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Media still flows after unhold.
    let relay_a = relay_addr(&stack.api, &id, Side::A).await;
    let sent = r5.play_pcap(relay_a).await;
    assert_eq!(r7.wait_received(sent).await, sent);
    stack.api.hangup(&id).await.unwrap();
    assert_eq!(
        a.wait(10).await,
        0,
        "4005 saw sendonly, then sendrecv, then BYE"
    );
    assert_eq!(
        b.wait(10).await,
        0,
        "4007 saw sendonly, then sendrecv, then BYE"
    );
    let events = stack.events_until_end(&id).await;
    let k = kinds(&events);
    assert!(
        k.ends_with(&[
            "bridged".into(),
            "held".into(),
            "resumed".into(),
            "ended".into()
        ]),
        "{k:?}"
    );
    let (cause, _, _) = ended(&stack, &id).await;
    assert_eq!(cause, Cause::Normal);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hangs_up_live_calls() {
    let stack = Stack::start().await;
    let (p5, p7) = two_phones(&stack).await;
    let (r5, r7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let a = answer(p5, r5.port());
    let b = answer(p7, r7.port());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = originate(&stack, &["4007"], OriginateMode::CallerFirst).await;
    stack.call_in_state(CallState::Bridged).await;
    let store = stack.store.clone();
    stack.stop().await;
    assert_eq!(a.wait(10).await, 0, "4005 got BYE at shutdown");
    assert_eq!(b.wait(10).await, 0, "4007 got BYE at shutdown");
    let cdr = patchbay_store::Store::cdr(store.as_ref(), &id.0)
        .await
        .unwrap()
        .expect("CDR written before stop returned");
    assert_eq!((cdr.cause, cdr.ended_by), (Cause::System, EndedBy::System));
}
