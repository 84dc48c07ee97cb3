use super::*;
use crate::msg::encode_request;
use rvoip_sip_core::{Message, parse_message};

fn parse(text: &str) -> Message {
    let wire = text.trim_start().replace('\n', "\r\n");
    parse_message(wire.as_bytes()).expect("test message parses")
}

fn req(text: &str) -> Request {
    match parse(text) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

fn resp(text: &str) -> Response {
    match parse(text) {
        Message::Response(r) => r,
        Message::Request(_) => panic!("not a response"),
    }
}

fn local() -> Local {
    Local {
        sent_by: "127.0.0.1:5060".into(),
        transport: Transport::Udp,
    }
}

fn peer() -> Peer {
    Peer::udp("127.0.0.1:5070".parse().unwrap())
}

const INVITE: &str = "INVITE sip:4007@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1
Max-Forwards: 70
Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
From: \"Alice\" <sip:4005@127.0.0.1>;tag=a1
To: <sip:4007@127.0.0.1>
Call-ID: c1@test
CSeq: 7 INVITE
Contact: <sip:4005@10.0.0.5:5070>
Content-Length: 0

";

#[test]
fn uas_dialog_sends_bye_to_the_callers_contact_through_its_route_set() {
    let invite = req(INVITE);
    let mut d = Dialog::from_uas(&invite, "b9", peer()).unwrap();
    assert_eq!(d.remote_tag, "a1");
    assert_eq!(d.remote_seq, Some(7));
    let bye = d.request(Method::Bye, &local(), "z9hG4bKx", "pbx");
    let text = String::from_utf8(encode_request(&bye).to_vec()).unwrap();
    assert!(
        text.starts_with("BYE sip:4005@10.0.0.5:5070 SIP/2.0\r\n"),
        "{text}"
    );
    assert!(
        text.contains("From: <sip:4007@127.0.0.1>;tag=b9\r\n"),
        "{text}"
    );
    assert!(
        text.contains("To: Alice <sip:4005@127.0.0.1>;tag=a1\r\n"),
        "{text}"
    );
    assert!(text.contains("CSeq: 1 BYE\r\n"), "{text}");
    assert!(text.contains("Call-ID: c1@test\r\n"), "{text}");
    assert!(text.contains("p1.example.com"), "{text}");
    assert!(text.contains("branch=z9hG4bKx"), "{text}");
    assert!(text.ends_with("Content-Length: 0\r\n\r\n"), "{text}");
    // The peer's next request must carry a higher CSeq.
    let stale = req(&INVITE.replace(
        "To: <sip:4007@127.0.0.1>",
        "To: <sip:4007@127.0.0.1>;tag=b9",
    ));
    assert_eq!(
        d.take_request(&stale),
        Err(DialogError::CSeqOrder { got: 7, last: 7 })
    );
    let reinvite = req(&INVITE
        .replace("CSeq: 7", "CSeq: 8")
        .replace("10.0.0.5:5070", "10.0.0.6:5072"));
    d.take_request(&reinvite).unwrap();
    assert_eq!(d.remote_target.to_string(), "sip:4005@10.0.0.6:5072");
}

#[test]
fn uac_dialog_acks_with_the_invite_cseq_and_reverses_the_route_set() {
    let invite = req(INVITE);
    let ok = resp(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1
Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
From: \"Alice\" <sip:4005@127.0.0.1>;tag=a1
To: <sip:4007@127.0.0.1>;tag=b2
Call-ID: c1@test
CSeq: 7 INVITE
Contact: <sip:4007@10.0.0.7:5090>
Content-Length: 0

",
    );
    let mut d = Dialog::from_uac(&invite, &ok, peer()).unwrap();
    assert_eq!(d.local_tag, "a1");
    assert_eq!(d.remote_tag, "b2");
    let ack = d.ack(&local(), "z9hG4bKack", 7);
    let text = String::from_utf8(encode_request(&ack).to_vec()).unwrap();
    assert!(
        text.starts_with("ACK sip:4007@10.0.0.7:5090 SIP/2.0\r\n"),
        "{text}"
    );
    assert!(text.contains("CSeq: 7 ACK\r\n"), "{text}");
    let p2 = text.find("p2.example.com").unwrap();
    let p1 = text.find("p1.example.com").unwrap();
    assert!(
        p2 < p1,
        "UAC route set is the Record-Route reversed: {text}"
    );
    let reinvite = d.request(Method::Invite, &local(), "z9hG4bKr", "pbx");
    let text = String::from_utf8(encode_request(&reinvite).to_vec()).unwrap();
    assert!(text.contains("CSeq: 8 INVITE\r\n"), "{text}");
    assert!(
        text.contains("Contact: <sip:pbx@127.0.0.1:5060>\r\n"),
        "{text}"
    );
    // No To tag in the answer: no dialog.
    let untagged = resp(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1
From: <sip:4005@127.0.0.1>;tag=a1
To: <sip:4007@127.0.0.1>
Call-ID: c1@test
CSeq: 7 INVITE
Content-Length: 0

",
    );
    assert_eq!(
        Dialog::from_uac(&invite, &untagged, peer()).err(),
        Some(DialogError::Missing("To tag"))
    );
}

#[test]
fn a_saved_dialog_ends_the_call_from_another_process() {
    let invite = req(INVITE);
    let mut d = Dialog::from_uas(&invite, "b9", peer()).unwrap();
    let text = serde_json::to_string(&d.save()).unwrap();
    let mut back = Dialog::restore(&serde_json::from_str(&text).unwrap()).unwrap();
    let bye = |d: &mut Dialog| {
        String::from_utf8(
            encode_request(&d.request(Method::Bye, &local(), "z9hG4bKx", "pbx")).to_vec(),
        )
        .unwrap()
    };
    let (original, restored) = (bye(&mut d), bye(&mut back));
    // The same request but for its CSeq, stepped past what the dead node could have sent.
    assert_eq!(original.replace("CSeq: 1 BYE", "CSeq: 1001 BYE"), restored);
    assert!(
        restored.contains("Route: <sip:p1.example.com;lr>"),
        "{restored}"
    );
    assert_eq!(back.peer, peer());
}
