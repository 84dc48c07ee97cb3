//! The user agent against scripted phones: messages in as text, what it sends parsed back.

use super::*;
use patchbay_sip::Transport;
use patchbay_sip::core::parse_message;

const SDP_A: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn phone() -> Peer {
    Peer::udp("127.0.0.1:5070".parse().unwrap())
}

fn ua() -> Ua {
    let udp = Local {
        sent_by: "127.0.0.1:5060".into(),
        transport: Transport::Udp,
    };
    let locals = Locals {
        udp,
        tcp: None,
        tls: None,
    };
    Ua::new(0, locals, 42, "Patchbay/test", Timers::default())
}

fn parse(text: &str) -> Message {
    let wire = text.trim_start().replace('\n', "\r\n");
    parse_message(wire.as_bytes()).expect("test message parses")
}

fn with_body(head: &str, body: &str) -> Message {
    let head = head.trim_start().replace('\n', "\r\n");
    let wire = format!(
        "{}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        head,
        body.len()
    );
    parse_message(wire.as_bytes()).expect("test message parses")
}

fn invite_head(branch: &str) -> String {
    format!(
        "INVITE sip:4007@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}
Max-Forwards: 70
From: <sip:4005@127.0.0.1>;tag=ph1
To: <sip:4007@127.0.0.1>
Call-ID: call-1@phone
CSeq: 1 INVITE
Contact: <sip:4005@127.0.0.1:5070>
"
    )
}

fn in_dialog(method: &str, branch: &str, cseq: u32, to_tag: &str, extra: &str) -> String {
    format!(
        "{method} sip:patchbay@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}
Max-Forwards: 70
From: <sip:4005@127.0.0.1>;tag=ph1
To: <sip:4007@127.0.0.1>;tag={to_tag}
Call-ID: call-1@phone
CSeq: {cseq} {method}
{extra}"
    )
}

/// Everything the UA sent, as parsed messages.
fn sent(ua: &mut Ua) -> Vec<Message> {
    std::iter::from_fn(|| ua.poll_transmit())
        .map(|t| parse_message(&t.bytes).expect("we send what we can parse"))
        .collect()
}

/// The last message the UA sent, which must be a request.
fn last_request(ua: &mut Ua) -> Request {
    match sent(ua).pop() {
        Some(Message::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

/// The methods of the requests among `msgs`.
fn methods(msgs: Vec<Message>) -> Vec<Method> {
    msgs.into_iter()
        .filter_map(|m| match m {
            Message::Request(r) => Some(r.method),
            Message::Response(_) => None,
        })
        .collect()
}

fn status(m: &Message) -> u16 {
    match m {
        Message::Response(r) => r.status.as_u16(),
        Message::Request(_) => 0,
    }
}

fn events(ua: &mut Ua) -> Vec<UaEvent> {
    std::iter::from_fn(|| ua.poll_event()).collect()
}

fn signals(ua: &mut Ua) -> Vec<LegSignal> {
    events(ua)
        .into_iter()
        .filter_map(|e| match e {
            UaEvent::Leg { signal, .. } => Some(signal),
            _ => None,
        })
        .collect()
}

/// An inbound call accepted as leg 1; returns the tag we answer with.
fn inbound_call(ua: &mut Ua, with_sdp: bool) -> String {
    let head = invite_head("z9hG4bKi1");
    let msg = if with_sdp {
        with_body(&head, SDP_A)
    } else {
        parse(&format!("{head}Content-Length: 0\n\n"))
    };
    ua.handle_message(0, msg, phone());
    let (tx, req) = match events(ua).pop() {
        Some(UaEvent::Invite { tx, req, .. }) => (tx, req),
        other => panic!("expected an INVITE event, got {other:?}"),
    };
    ua.accept_inbound(0, tx, LegId(1), &req, phone()).unwrap();
    assert!(ua.ring(0, LegId(1)));
    let out = sent(ua);
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), [180]);
    msg::to_tag(out[0].all_headers()).unwrap().to_string()
}

#[test]
fn inbound_call_answered_acked_and_hung_up_by_the_phone() {
    let mut ua = ua();
    let tag = inbound_call(&mut ua, true);
    assert!(ua.answer(10, LegId(1), SDP_A.into(), false));
    let out = sent(&mut ua);
    assert_eq!(status(&out[0]), 200);
    assert_eq!(msg::to_tag(out[0].all_headers()), Some(tag.as_str()));
    assert!(msg::header_text(out[0].all_headers(), "contact").is_some());
    assert_eq!(out[0].body().len(), SDP_A.len());
    let ack = in_dialog("ACK", "z9hG4bKa1", 1, &tag, "Content-Length: 0\n\n");
    ua.handle_message(20, parse(&ack), phone());
    assert_eq!(signals(&mut ua), [LegSignal::Acked { sdp: None }]);
    let bye = in_dialog("BYE", "z9hG4bKb1", 2, &tag, "Content-Length: 0\n\n");
    ua.handle_message(30, parse(&bye), phone());
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [200]);
    assert_eq!(signals(&mut ua), [LegSignal::Ended]);
    // No 2xx retransmissions after the ACK.
    ua.handle_timeout(5_000);
    assert!(sent(&mut ua).is_empty());
}

#[test]
fn offerless_invite_gets_our_offer_and_the_answer_comes_in_the_ack() {
    let mut ua = ua();
    let tag = inbound_call(&mut ua, false);
    assert!(ua.answer(10, LegId(1), SDP_A.into(), true));
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [200]);
    let ack = with_body(&in_dialog("ACK", "z9hG4bKa1", 1, &tag, ""), SDP_A);
    ua.handle_message(20, ack, phone());
    assert_eq!(
        signals(&mut ua),
        [LegSignal::Acked {
            sdp: Some(SDP_A.into())
        }]
    );
}

#[test]
fn phone_hold_by_reinvite_and_glare_with_ours() {
    let mut ua = ua();
    let tag = inbound_call(&mut ua, true);
    ua.answer(10, LegId(1), SDP_A.into(), false);
    sent(&mut ua);
    ua.handle_message(
        20,
        parse(&in_dialog(
            "ACK",
            "z9hG4bKa1",
            1,
            &tag,
            "Content-Length: 0\n\n",
        )),
        phone(),
    );
    events(&mut ua);
    let hold_sdp = SDP_A.replace(
        "a=rtpmap:0 PCMU/8000\r\n",
        "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n",
    );
    let reinvite = in_dialog(
        "INVITE",
        "z9hG4bKr1",
        2,
        &tag,
        "Contact: <sip:4005@127.0.0.1:5070>\n",
    );
    ua.handle_message(30, with_body(&reinvite, &hold_sdp), phone());
    assert_eq!(
        signals(&mut ua),
        [LegSignal::Offer {
            sdp: Some(hold_sdp.clone())
        }]
    );
    ua.answer_offer(
        31,
        LegId(1),
        Ok(SDP_A.replace("PCMU/8000\r\n", "PCMU/8000\r\na=recvonly\r\n")),
    );
    let out = sent(&mut ua);
    assert_eq!(status(&out[0]), 200);
    assert!(String::from_utf8_lossy(out[0].body()).contains("a=recvonly"));
    ua.handle_message(
        40,
        parse(&in_dialog(
            "ACK",
            "z9hG4bKa2",
            2,
            &tag,
            "Content-Length: 0\n\n",
        )),
        phone(),
    );
    assert_eq!(signals(&mut ua), [LegSignal::Acked { sdp: None }]);
    // Ours pending, theirs arrives: 491.
    assert!(ua.reinvite(50, LegId(1), SDP_A.into()));
    let ours = sent(&mut ua);
    assert!(matches!(&ours[0], Message::Request(r) if r.method == Method::Invite));
    ua.handle_message(
        55,
        with_body(&in_dialog("INVITE", "z9hG4bKr2", 3, &tag, ""), SDP_A),
        phone(),
    );
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [491]);
    // An old CSeq: 500.
    ua.handle_message(
        56,
        with_body(&in_dialog("INVITE", "z9hG4bKr3", 2, &tag, ""), SDP_A),
        phone(),
    );
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [500]);
}

#[test]
fn refer_from_a_phone_is_accepted_notified_and_surfaced() {
    let mut ua = ua();
    let tag = inbound_call(&mut ua, true);
    ua.answer(10, LegId(1), SDP_A.into(), false);
    sent(&mut ua);
    let refer = in_dialog(
        "REFER",
        "z9hG4bKf1",
        2,
        &tag,
        "Refer-To: <sip:4009@127.0.0.1?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>\nContent-Length: 0\n\n",
    );
    ua.handle_message(20, parse(&refer), phone());
    let out = sent(&mut ua);
    assert_eq!(status(&out[0]), 202);
    let notify = match &out[1] {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected the NOTIFY"),
    };
    assert_eq!(notify.method, Method::Notify);
    assert!(String::from_utf8_lossy(&notify.body).starts_with("SIP/2.0 100 Trying"));
    assert_eq!(
        signals(&mut ua),
        [LegSignal::Referred {
            target: "sip:4009@127.0.0.1".into(),
            replaces: Some("abc@host;to-tag=1;from-tag=2".into())
        }]
    );
}

#[test]
fn cancel_before_and_after_accept() {
    let mut ua = ua();
    // Before: the driver is still authenticating it.
    let head = invite_head("z9hG4bKc1");
    ua.handle_message(0, with_body(&head, SDP_A), phone());
    let tx = match events(&mut ua).pop() {
        Some(UaEvent::Invite { tx, .. }) => tx,
        other => panic!("{other:?}"),
    };
    let cancel = head
        .replacen("INVITE sip", "CANCEL sip", 1)
        .replace("1 INVITE", "1 CANCEL");
    ua.handle_message(5, parse(&format!("{cancel}Content-Length: 0\n\n")), phone());
    assert_eq!(
        sent(&mut ua).iter().map(status).collect::<Vec<_>>(),
        [200, 487]
    );
    let _ = tx;
    assert!(matches!(
        events(&mut ua).as_slice(),
        [UaEvent::InviteCancelled]
    ));
    // After: the leg ends.
    let mut ua2 = self::ua();
    inbound_call(&mut ua2, true);
    let head = invite_head("z9hG4bKi1");
    let cancel = head
        .replacen("INVITE sip", "CANCEL sip", 1)
        .replace("1 INVITE", "1 CANCEL");
    ua2.handle_message(5, parse(&format!("{cancel}Content-Length: 0\n\n")), phone());
    assert_eq!(
        sent(&mut ua2).iter().map(status).collect::<Vec<_>>(),
        [200, 487]
    );
    assert_eq!(signals(&mut ua2), [LegSignal::Ended]);
}

#[test]
fn options_answered_and_requests_in_no_dialog_get_481() {
    let mut ua = ua();
    let options = "OPTIONS sip:127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKo1
Max-Forwards: 70
From: <sip:4005@127.0.0.1>;tag=ph1
To: <sip:127.0.0.1>
Call-ID: ka@phone
CSeq: 1 OPTIONS
Content-Length: 0

";
    ua.handle_message(0, parse(options), phone());
    let out = sent(&mut ua);
    assert_eq!(status(&out[0]), 200);
    assert!(msg::header_text(out[0].all_headers(), "allow").is_some_and(|a| a.contains("REFER")));
    ua.handle_message(
        1,
        parse(&in_dialog(
            "BYE",
            "z9hG4bKx",
            2,
            "nope",
            "Content-Length: 0\n\n",
        )),
        phone(),
    );
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [481]);
    assert!(events(&mut ua).is_empty());
}

/// A phone's answer to our INVITE.
fn answer_to(req: &Request, status: u16, tag: &str, sdp: Option<&str>) -> Message {
    let mut resp = msg::response(req, status, Some(tag));
    resp.headers
        .push(msg::raw("Contact", "<sip:4007@127.0.0.1:5072>"));
    if let Some(s) = sdp {
        msg::set_body(
            &mut resp.headers,
            &mut resp.body,
            "application/sdp",
            bytes::Bytes::from(s.to_string()),
        );
    }
    parse_message(&msg::encode_response(&resp)).unwrap()
}

fn spec() -> InviteSpec {
    InviteSpec {
        ruri: "sip:4007@127.0.0.1:5072".parse().unwrap(),
        peer: Peer::udp("127.0.0.1:5072".parse().unwrap()),
        from_user: "4005".into(),
        from_display: Some("4005".into()),
        to: None,
        headers: vec![msg::raw("X-Campaign", "7")],
        sdp: Some(SDP_A.into()),
        credentials: None,
    }
}

#[test]
fn a_carrier_challenge_is_answered_once_with_digest() {
    let mut ua = ua();
    let mut sp = spec();
    sp.credentials = Some(("acct".into(), "s3cret".into()));
    assert!(ua.invite(0, LegId(2), sp));
    let invite = last_request(&mut ua);
    let challenge = |req: &Request, status| {
        let mut resp = msg::response(req, status, Some("c1"));
        let name = if status == 407 {
            "Proxy-Authenticate"
        } else {
            "WWW-Authenticate"
        };
        resp.headers.push(msg::raw(
            name,
            r#"Digest realm="carrier", nonce="n1", algorithm=MD5, qop="auth""#,
        ));
        parse_message(&msg::encode_response(&resp)).unwrap()
    };
    ua.handle_message(10, challenge(&invite, 407), phone());
    let out = sent(&mut ua);
    // The 407 is ACKed by its transaction; the INVITE goes again, authorized, next CSeq.
    let again = out
        .iter()
        .find_map(|m| match m {
            Message::Request(r) if r.method == Method::Invite => Some(r.clone()),
            _ => None,
        })
        .expect("INVITE again");
    assert!(signals(&mut ua).is_empty(), "no failure yet");
    assert_eq!(msg::cseq(&again.headers).map(|c| c.0), Some(2));
    assert_eq!(
        msg::header_text(&again.headers, "call-id"),
        msg::header_text(&invite.headers, "call-id")
    );
    assert_ne!(
        msg::header_text(&again.headers, "via"),
        msg::header_text(&invite.headers, "via")
    );
    let auth = msg::header_text(&again.headers, "proxy-authorization").expect("answered");
    assert!(auth.contains(r#"username="acct""#) && auth.contains(r#"realm="carrier""#));
    // A second challenge means the credentials are wrong: the leg fails.
    ua.handle_message(20, challenge(&again, 407), phone());
    assert_eq!(signals(&mut ua), [LegSignal::Failed { status: 407 }]);
    // Without credentials a challenge fails the leg at once.
    let mut ua = self::ua();
    ua.invite(0, LegId(3), spec());
    let invite = last_request(&mut ua);
    ua.handle_message(10, challenge(&invite, 401), phone());
    assert_eq!(signals(&mut ua), [LegSignal::Failed { status: 401 }]);
}

#[test]
fn outbound_leg_rings_answers_is_acked_and_byed_at_its_contact() {
    let mut ua = ua();
    assert!(ua.invite(0, LegId(2), spec()));
    let invite = last_request(&mut ua);
    assert_eq!(
        msg::header_text(&invite.headers, "x-campaign").as_deref(),
        Some("7")
    );
    ua.handle_message(10, answer_to(&invite, 180, "cal1", None), phone());
    assert_eq!(signals(&mut ua), [LegSignal::Ringing { status: 180 }]);
    ua.handle_message(20, answer_to(&invite, 200, "cal1", Some(SDP_A)), phone());
    assert_eq!(
        signals(&mut ua),
        [LegSignal::Answered {
            sdp: Some(SDP_A.into())
        }]
    );
    let ack = sent(&mut ua);
    assert!(
        matches!(&ack[..], [Message::Request(r)] if r.method == Method::Ack && r.uri.to_string() == "sip:4007@127.0.0.1:5072")
    );
    // The 2xx again (our ACK was lost): ACKed again, no new signal.
    ua.handle_message(520, answer_to(&invite, 200, "cal1", Some(SDP_A)), phone());
    assert!(matches!(&sent(&mut ua)[..], [Message::Request(r)] if r.method == Method::Ack));
    assert!(signals(&mut ua).is_empty());
    assert!(ua.bye(600, LegId(2)));
    let bye = sent(&mut ua);
    assert!(
        matches!(&bye[..], [Message::Request(r)] if r.method == Method::Bye && r.uri.to_string() == "sip:4007@127.0.0.1:5072")
    );
}

#[test]
fn late_answer_after_release_gets_ack_and_bye() {
    let mut ua = ua();
    ua.invite(0, LegId(2), spec());
    let invite = last_request(&mut ua);
    ua.handle_message(10, answer_to(&invite, 180, "cal1", None), phone());
    ua.cancel(11, LegId(2));
    ua.release(LegId(2));
    events(&mut ua);
    sent(&mut ua);
    ua.handle_message(20, answer_to(&invite, 200, "cal1", Some(SDP_A)), phone());
    assert_eq!(methods(sent(&mut ua)), [Method::Ack, Method::Bye]);
}

#[test]
fn busy_callee_fails_the_leg() {
    let mut ua = ua();
    ua.invite(0, LegId(2), spec());
    let invite = last_request(&mut ua);
    ua.handle_message(10, answer_to(&invite, 486, "cal1", None), phone());
    assert_eq!(signals(&mut ua), [LegSignal::Failed { status: 486 }]);
    // The transaction ACKed the 486 itself.
    assert!(matches!(&sent(&mut ua)[..], [Message::Request(r)] if r.method == Method::Ack));
}

#[test]
fn cancelled_leg_acks_only_the_487() {
    let mut ua = ua();
    ua.invite(0, LegId(2), spec());
    let invite = last_request(&mut ua);
    ua.handle_message(10, answer_to(&invite, 180, "cal1", None), phone());
    events(&mut ua);
    ua.cancel(20, LegId(2));
    let cancel = match sent(&mut ua).pop() {
        Some(Message::Request(r)) if r.method == Method::Cancel => r,
        other => panic!("expected CANCEL, got {other:?}"),
    };
    // The CANCEL's own 200: nothing to ACK (a bug once answered it with ACK and BYE).
    ua.handle_message(30, answer_to(&cancel, 200, "cal1", None), phone());
    assert!(sent(&mut ua).is_empty());
    assert!(events(&mut ua).is_empty());
    ua.handle_message(40, answer_to(&invite, 487, "cal1", None), phone());
    assert!(matches!(&sent(&mut ua)[..], [Message::Request(r)] if r.method == Method::Ack));
    assert_eq!(signals(&mut ua), [LegSignal::Failed { status: 487 }]);
}

#[test]
fn invalid_requests_are_refused_without_a_transaction() {
    let mut ua = ua();
    // CSeq method differs from the request's: 400, and nothing reaches the driver.
    let bad =
        in_dialog("BYE", "z9hG4bKv1", 2, "x", "Content-Length: 0\n\n").replace("2 BYE", "2 INVITE");
    ua.handle_message(0, parse(&bad), phone());
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [400]);
    assert!(events(&mut ua).is_empty());
    assert_eq!(ua.counts(), (0, 0, 0));
}

mod extensions;
