use super::*;
use crate::{Peer, Timers, Transport};
use rvoip_sip_core::parse_message;

fn peer() -> Peer {
    Peer::udp("127.0.0.1:5070".parse().unwrap())
}

fn parse(text: &str) -> Message {
    let wire = text.trim_start().replace('\n', "\r\n");
    parse_message(wire.as_bytes()).expect("test message parses")
}

fn invite(branch: &str) -> Message {
    parse(&format!(
        "INVITE sip:4007@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}
Max-Forwards: 70
From: <sip:4005@127.0.0.1>;tag=a1
To: <sip:4007@127.0.0.1>
Call-ID: c1@test
CSeq: 1 INVITE
Contact: <sip:4005@127.0.0.1:5070>
Content-Length: 0

"
    ))
}

fn request(method: &str, branch: &str, cseq: u32, to_tag: &str) -> Message {
    parse(&format!(
        "{method} sip:4007@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}
Max-Forwards: 70
From: <sip:4005@127.0.0.1>;tag=a1
To: <sip:4007@127.0.0.1>{to_tag}
Call-ID: c1@test
CSeq: {cseq} {method}
Content-Length: 0

"
    ))
}

fn status_of(t: &Transmit) -> String {
    let text = String::from_utf8_lossy(&t.bytes);
    text.lines().next().unwrap_or("").to_string()
}

fn sent(txs: &mut Transactions) -> Vec<String> {
    std::iter::from_fn(|| txs.poll_transmit())
        .map(|t| status_of(&t))
        .collect()
}

fn events(txs: &mut Transactions) -> Vec<TxEvent> {
    std::iter::from_fn(|| txs.poll_event()).collect()
}

fn server_tx(ev: &[TxEvent]) -> ServerTxId {
    ev.iter()
        .find_map(|e| match e {
            TxEvent::Request { tx, .. } => Some(*tx),
            _ => None,
        })
        .expect("a request event")
}

#[test]
fn invite_answered_2xx_is_retransmitted_until_its_ack() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.handle_message(0, invite("z9hG4bK1"), peer());
    let tx = server_tx(&events(&mut txs));
    // Nothing before 200 ms, then our 100 Trying.
    txs.handle_timeout(190);
    assert!(sent(&mut txs).is_empty());
    txs.handle_timeout(210);
    assert_eq!(sent(&mut txs), ["SIP/2.0 100 Trying"]);
    let ok = txs.response(tx, 200, Some("b1")).unwrap();
    txs.respond(300, tx, ok).unwrap();
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    // The INVITE again: absorbed in Accepted (RFC 6026), no resend of anything.
    txs.handle_message(350, invite("z9hG4bK1"), peer());
    assert!(sent(&mut txs).is_empty());
    assert!(events(&mut txs).is_empty());
    // 2xx retransmissions at T1, then 2 T1 later.
    txs.handle_timeout(800);
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    txs.handle_timeout(1_790);
    assert!(sent(&mut txs).is_empty());
    txs.handle_timeout(1_800);
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    // The ACK (its own branch) stops them and reaches the user once.
    txs.handle_message(1_900, request("ACK", "z9hG4bK2", 1, ";tag=b1"), peer());
    let ev = events(&mut txs);
    assert!(matches!(ev.as_slice(), [TxEvent::Ack { invite: Some(i), .. }] if *i == tx));
    txs.handle_message(1_950, request("ACK", "z9hG4bK2", 1, ";tag=b1"), peer());
    assert!(events(&mut txs).is_empty());
    txs.handle_timeout(10_000);
    assert!(sent(&mut txs).is_empty());
    // Gone after 64 T1, with no timeout event (it was acknowledged).
    txs.handle_timeout(40_000);
    assert!(events(&mut txs).is_empty());
    assert_eq!(txs.len(), (0, 0));
}

#[test]
fn unacknowledged_2xx_ends_in_a_server_timeout() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.handle_message(0, invite("z9hG4bK1"), peer());
    let tx = server_tx(&events(&mut txs));
    let ok = txs.response(tx, 200, Some("b1")).unwrap();
    txs.respond(0, tx, ok).unwrap();
    let mut resent = 0;
    for t in (0..=32_000).step_by(10) {
        txs.handle_timeout(t);
        resent += sent(&mut txs).len();
    }
    // 0.5, 1.5, 3.5, 7.5, 11.5 ... (interval capped at T2 = 4 s): 1 + 10 resends by 32 s.
    assert_eq!(resent, 1 + 10);
    assert!(matches!(events(&mut txs).as_slice(), [TxEvent::ServerTimeout { tx: t }] if *t == tx));
}

#[test]
fn non_2xx_final_waits_for_the_ack_with_the_invite_branch() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.handle_message(0, invite("z9hG4bK1"), peer());
    let tx = server_tx(&events(&mut txs));
    let busy = txs.response(tx, 486, Some("b1")).unwrap();
    txs.respond(10, tx, busy).unwrap();
    assert_eq!(sent(&mut txs), ["SIP/2.0 486 Busy Here"]);
    txs.handle_timeout(510);
    assert_eq!(sent(&mut txs), ["SIP/2.0 486 Busy Here"]);
    // A retransmitted INVITE gets the 486 again.
    txs.handle_message(600, invite("z9hG4bK1"), peer());
    assert_eq!(sent(&mut txs), ["SIP/2.0 486 Busy Here"]);
    txs.handle_message(700, request("ACK", "z9hG4bK1", 1, ";tag=b1"), peer());
    assert!(
        events(&mut txs).is_empty(),
        "the ACK of a non-2xx stays in the transaction"
    );
    txs.handle_timeout(5_000);
    assert!(sent(&mut txs).is_empty());
    txs.handle_timeout(5_710);
    assert_eq!(txs.len(), (0, 0));
    assert!(
        txs.respond(
            6_000,
            tx,
            txs.response(tx, 200, None).unwrap_or_else(|| {
                crate::msg::response(
                    &Request::new(Method::Invite, "sip:x@y".parse().unwrap()),
                    200,
                    None,
                )
            })
        )
        .is_err()
    );
}

#[test]
fn cancel_gets_200_and_the_user_answers_the_invite_487() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.handle_message(0, invite("z9hG4bK1"), peer());
    let tx = server_tx(&events(&mut txs));
    let ringing = txs.response(tx, 180, Some("b1")).unwrap();
    txs.respond(0, tx, ringing).unwrap();
    sent(&mut txs);
    txs.handle_message(100, request("CANCEL", "z9hG4bK1", 1, ""), peer());
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    assert!(
        matches!(events(&mut txs).as_slice(), [TxEvent::Cancelled { invite }] if *invite == tx)
    );
    // Retransmitted CANCEL: the 200 again, no second event.
    txs.handle_message(150, request("CANCEL", "z9hG4bK1", 1, ""), peer());
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    assert!(events(&mut txs).is_empty());
    let terminated = txs.response(tx, 487, Some("b1")).unwrap();
    txs.respond(160, tx, terminated).unwrap();
    assert_eq!(sent(&mut txs), ["SIP/2.0 487 Request Terminated"]);
    // A CANCEL matching nothing: 481.
    txs.handle_message(200, request("CANCEL", "z9hG4bK9", 1, ""), peer());
    assert_eq!(
        sent(&mut txs),
        ["SIP/2.0 481 Call/Transaction Does Not Exist"]
    );
    assert!(events(&mut txs).is_empty());
}

#[test]
fn non_invite_retransmission_gets_the_last_response() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.handle_message(0, request("BYE", "z9hG4bK5", 2, ";tag=b1"), peer());
    let tx = server_tx(&events(&mut txs));
    txs.handle_timeout(300);
    assert!(
        sent(&mut txs).is_empty(),
        "no 100 Trying for non-INVITE requests"
    );
    let ok = txs.response(tx, 200, None).unwrap();
    txs.respond(300, tx, ok).unwrap();
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    txs.handle_message(800, request("BYE", "z9hG4bK5", 2, ";tag=b1"), peer());
    assert_eq!(sent(&mut txs), ["SIP/2.0 200 OK"]);
    assert!(events(&mut txs).is_empty());
    txs.handle_timeout(32_300);
    assert_eq!(txs.len(), (0, 0));
}

fn outbound_invite(branch: &str) -> Request {
    match invite(branch) {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn response(status: u16, reason: &str, branch: &str, method: &str, to_tag: &str) -> Message {
    parse(&format!(
        "SIP/2.0 {status} {reason}
Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}
From: <sip:4005@127.0.0.1>;tag=a1
To: <sip:4007@127.0.0.1>{to_tag}
Call-ID: c1@test
CSeq: 1 {method}
Content-Length: 0

"
    ))
}

#[test]
fn client_invite_retransmits_until_a_provisional_and_reports_every_2xx() {
    let mut txs = Transactions::new(0, Timers::default());
    let tx = txs
        .send_request(0, outbound_invite("z9hG4bKc1"), peer())
        .unwrap();
    assert_eq!(sent(&mut txs), ["INVITE sip:4007@127.0.0.1 SIP/2.0"]);
    txs.handle_timeout(500);
    txs.handle_timeout(1_500);
    assert_eq!(sent(&mut txs).len(), 2, "timer A at T1, then 2 T1");
    txs.handle_message(
        1_600,
        response(180, "Ringing", "z9hG4bKc1", "INVITE", ";tag=b1"),
        peer(),
    );
    assert!(matches!(
        events(&mut txs).as_slice(),
        [TxEvent::Response { .. }]
    ));
    txs.handle_timeout(3_600);
    assert!(sent(&mut txs).is_empty());
    assert!(txs.is_pending(tx));
    txs.handle_message(
        4_000,
        response(200, "OK", "z9hG4bKc1", "INVITE", ";tag=b1"),
        peer(),
    );
    txs.handle_message(
        4_500,
        response(200, "OK", "z9hG4bKc1", "INVITE", ";tag=b1"),
        peer(),
    );
    let ev = events(&mut txs);
    assert_eq!(
        ev.len(),
        2,
        "the retransmitted 2xx reaches the user, who ACKs it"
    );
    assert!(sent(&mut txs).is_empty(), "the ACK of a 2xx is the user's");
    assert!(!txs.is_pending(tx));
    txs.handle_timeout(40_000);
    assert_eq!(txs.len(), (0, 0));
}

#[test]
fn client_invite_acks_a_failure_itself_and_again_for_its_retransmission() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.send_request(0, outbound_invite("z9hG4bKc1"), peer())
        .unwrap();
    sent(&mut txs);
    txs.handle_message(
        100,
        response(486, "Busy Here", "z9hG4bKc1", "INVITE", ";tag=b1"),
        peer(),
    );
    let acks: Vec<Transmit> = std::iter::from_fn(|| txs.poll_transmit()).collect();
    assert_eq!(acks.len(), 1);
    let ack = String::from_utf8_lossy(&acks[0].bytes).to_string();
    assert!(
        ack.starts_with("ACK sip:4007@127.0.0.1 SIP/2.0\r\n"),
        "{ack}"
    );
    assert!(ack.contains("branch=z9hG4bKc1"), "{ack}");
    assert!(ack.contains("tag=b1"), "{ack}");
    assert!(ack.contains("CSeq: 1 ACK"), "{ack}");
    assert_eq!(events(&mut txs).len(), 1);
    txs.handle_message(
        600,
        response(486, "Busy Here", "z9hG4bKc1", "INVITE", ";tag=b1"),
        peer(),
    );
    assert_eq!(sent(&mut txs), ["ACK sip:4007@127.0.0.1 SIP/2.0"]);
    assert!(events(&mut txs).is_empty());
}

#[test]
fn client_timeout_and_cancel_before_any_provisional() {
    let mut txs = Transactions::new(0, Timers::default());
    let tx = txs
        .send_request(0, outbound_invite("z9hG4bKc1"), peer())
        .unwrap();
    sent(&mut txs);
    txs.cancel(100, tx).unwrap();
    assert!(
        sent(&mut txs).is_empty(),
        "CANCEL waits for a provisional (RFC 3261 9.1)"
    );
    txs.handle_message(
        200,
        response(180, "Ringing", "z9hG4bKc1", "INVITE", ";tag=b1"),
        peer(),
    );
    assert_eq!(sent(&mut txs), ["CANCEL sip:4007@127.0.0.1 SIP/2.0"]);
    // A second INVITE nobody answers: timer B.
    let tx2 = txs
        .send_request(0, outbound_invite("z9hG4bKc2"), peer())
        .unwrap();
    for t in (0..=32_000).step_by(100) {
        txs.handle_timeout(t);
    }
    let ev = events(&mut txs);
    assert!(
        ev.iter()
            .any(|e| matches!(e, TxEvent::ClientTimeout { tx } if *tx == tx2))
    );
}

#[test]
fn reliable_transports_never_retransmit() {
    let mut txs = Transactions::new(0, Timers::default());
    let tcp = Peer::new("127.0.0.1:5070".parse().unwrap(), Transport::Tcp, Some(1));
    txs.send_request(0, outbound_invite("z9hG4bKc1"), tcp)
        .unwrap();
    sent(&mut txs);
    for t in (0..=10_000).step_by(100) {
        txs.handle_timeout(t);
    }
    assert!(sent(&mut txs).is_empty());
}

#[test]
fn responses_to_nothing_are_stray() {
    let mut txs = Transactions::new(0, Timers::default());
    txs.handle_message(
        0,
        response(200, "OK", "z9hG4bKzz", "INVITE", ";tag=b1"),
        peer(),
    );
    assert!(matches!(
        events(&mut txs).as_slice(),
        [TxEvent::StrayResponse { .. }]
    ));
    assert!(
        txs.send_request(
            0,
            Request::new(Method::Options, "sip:x@y".parse().unwrap()),
            peer()
        )
        .is_err(),
        "a request without a branch is refused"
    );
}

#[test]
fn a_cancelled_invite_without_a_final_response_ends_64_t1_after_the_cancel() {
    let mut txs = Transactions::new(0, Timers::default());
    let tx = txs
        .send_request(0, outbound_invite("z9hG4bKc7"), peer())
        .unwrap();
    txs.handle_message(
        100,
        response(180, "Ringing", "z9hG4bKc7", "INVITE", ";tag=b1"),
        peer(),
    );
    events(&mut txs);
    txs.cancel(1_000, tx).unwrap();
    for t in (1_000..33_000).step_by(100) {
        txs.handle_timeout(t);
    }
    assert!(
        !events(&mut txs)
            .iter()
            .any(|e| matches!(e, TxEvent::ClientTimeout { tx: t } if *t == tx)),
        "not before 64 T1"
    );
    txs.handle_timeout(33_010);
    assert!(
        events(&mut txs)
            .iter()
            .any(|e| matches!(e, TxEvent::ClientTimeout { tx: t } if *t == tx))
    );
    // A ringing INVITE nobody cancels ends after the proceeding guard (11 min).
    let tx2 = txs
        .send_request(40_000, outbound_invite("z9hG4bKc8"), peer())
        .unwrap();
    txs.handle_message(
        40_100,
        response(180, "Ringing", "z9hG4bKc8", "INVITE", ";tag=b2"),
        peer(),
    );
    events(&mut txs);
    txs.handle_timeout(40_100 + 659_000);
    assert!(events(&mut txs).is_empty());
    txs.handle_timeout(40_100 + 660_010);
    assert!(
        events(&mut txs)
            .iter()
            .any(|e| matches!(e, TxEvent::ClientTimeout { tx: t } if *t == tx2))
    );
}
