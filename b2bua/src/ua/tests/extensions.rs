//! RFC 3262 (reliable provisionals, PRACK) and RFC 4028 (session timers), both ways.

use super::*;

fn invite_with(extra: &str) -> Message {
    let head = format!("{}{extra}", invite_head("z9hG4bKx1"));
    with_body(&head, SDP_A)
}

fn accept(ua: &mut Ua, msg: Message) {
    ua.handle_message(0, msg, phone());
    let (tx, req) = match events(ua).pop() {
        Some(UaEvent::Invite { tx, req, .. }) => (tx, req),
        other => panic!("expected an INVITE event, got {other:?}"),
    };
    ua.accept_inbound(0, tx, LegId(1), &req, phone()).unwrap();
}

fn header_of(m: &Message, name: &str) -> Option<String> {
    msg::header_text(m.all_headers(), name)
}

#[test]
fn reliable_180_is_resent_until_its_prack() {
    let mut ua = ua();
    accept(&mut ua, invite_with("Require: 100rel\n"));
    assert!(ua.ring(10, LegId(1)));
    let out = sent(&mut ua);
    assert_eq!(status(&out[0]), 180);
    assert_eq!(header_of(&out[0], "rseq").as_deref(), Some("1"));
    let tag = msg::to_tag(out[0].all_headers()).unwrap().to_string();
    ua.handle_timeout(510);
    assert_eq!(
        sent(&mut ua).iter().map(status).collect::<Vec<_>>(),
        [180],
        "again at T1"
    );
    let prack = in_dialog(
        "PRACK",
        "z9hG4bKp1",
        2,
        &tag,
        "RAck: 1 1 INVITE\nContent-Length: 0\n\n",
    );
    ua.handle_message(600, parse(&prack), phone());
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [200]);
    ua.handle_timeout(5_000);
    assert!(sent(&mut ua).is_empty(), "no more 180s after the PRACK");
    assert!(ua.answer(5_100, LegId(1), SDP_A.into(), false));
    assert_eq!(sent(&mut ua).iter().map(status).collect::<Vec<_>>(), [200]);
}

#[test]
fn reliable_180_without_prack_ends_in_504() {
    let mut ua = ua();
    accept(&mut ua, invite_with("Require: 100rel\n"));
    ua.ring(0, LegId(1));
    let mut statuses = Vec::new();
    for t in (0..=33_000).step_by(10) {
        ua.handle_timeout(t);
        statuses.extend(sent(&mut ua).iter().map(status));
    }
    assert_eq!(statuses.last(), Some(&504), "{statuses:?}");
    assert!(signals(&mut ua).contains(&LegSignal::Ended));
}

#[test]
fn reliable_provisional_from_a_callee_gets_one_prack_and_the_dialog_goes_on() {
    let mut ua = ua();
    ua.invite(0, LegId(2), spec());
    let invite = last_request(&mut ua);
    let reliable = |ua: &mut Ua| {
        let mut resp = msg::response(&invite, 183, Some("cal1"));
        resp.headers
            .push(msg::raw("Contact", "<sip:4007@127.0.0.1:5072>"));
        resp.headers.push(msg::raw("Require", "100rel"));
        resp.headers.push(msg::raw("RSeq", "7"));
        ua.handle_message(
            10,
            parse_message(&msg::encode_response(&resp)).unwrap(),
            phone(),
        );
    };
    reliable(&mut ua);
    let prack = sent(&mut ua);
    let prack = match &prack[..] {
        [Message::Request(r)] if r.method == Method::Prack => r.clone(),
        other => panic!("expected one PRACK, got {other:?}"),
    };
    assert_eq!(
        msg::header_text(&prack.headers, "rack").as_deref(),
        Some("7 1 INVITE")
    );
    assert_eq!(msg::cseq(&prack.headers).map(|c| c.0), Some(2));
    reliable(&mut ua); // the same RSeq again: no second PRACK
    assert!(
        sent(&mut ua)
            .iter()
            .all(|m| !matches!(m, Message::Request(r) if r.method == Method::Prack))
    );
    ua.handle_message(20, answer_to(&invite, 200, "cal1", Some(SDP_A)), phone());
    let ack = sent(&mut ua);
    assert!(
        matches!(&ack[..], [Message::Request(r)] if r.method == Method::Ack && msg::cseq(&r.headers).map(|c| c.0) == Some(1))
    );
    assert!(ua.bye(30, LegId(2)));
    let bye = sent(&mut ua);
    assert!(
        matches!(&bye[..], [Message::Request(r)] if r.method == Method::Bye && msg::cseq(&r.headers).map(|c| c.0) == Some(3)),
        "the BYE's CSeq follows the PRACK's: {bye:?}"
    );
}

#[test]
fn session_timer_agreed_refreshed_and_expired() {
    let mut ua = ua();
    accept(
        &mut ua,
        invite_with("Supported: timer\nSession-Expires: 120\n"),
    );
    assert!(ua.answer(0, LegId(1), SDP_A.into(), false));
    let out = sent(&mut ua);
    assert_eq!(
        header_of(&out[0], "session-expires").as_deref(),
        Some("120;refresher=uac")
    );
    assert!(header_of(&out[0], "require").is_some_and(|r| r.contains("timer")));
    let tag = msg::to_tag(out[0].all_headers()).unwrap().to_string();
    ua.handle_message(
        10,
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
    // The phone refreshes at 60 s: the session lives on past 120 s.
    let refresh = in_dialog(
        "UPDATE",
        "z9hG4bKu1",
        2,
        &tag,
        "Session-Expires: 120;refresher=uac\nContent-Length: 0\n\n",
    );
    ua.handle_message(60_000, parse(&refresh), phone());
    assert!(
        signals(&mut ua).is_empty(),
        "a bodiless UPDATE is answered by the user agent"
    );
    let out = sent(&mut ua);
    assert_eq!(status(&out[0]), 200);
    assert!(out[0].body().is_empty());
    assert_eq!(
        header_of(&out[0], "session-expires").as_deref(),
        Some("120;refresher=uac")
    );
    ua.handle_timeout(130_000);
    assert!(sent(&mut ua).is_empty(), "refreshed: no BYE at 130 s");
    // No refresh after that: BYE when the session expires.
    ua.handle_timeout(180_001);
    let bye = sent(&mut ua);
    assert!(
        matches!(&bye[..], [Message::Request(r)] if r.method == Method::Bye),
        "{bye:?}"
    );
    assert_eq!(signals(&mut ua), [LegSignal::Ended]);
}

#[test]
fn too_short_session_interval_gets_422() {
    let mut ua = ua();
    ua.handle_message(
        0,
        invite_with("Supported: timer\nSession-Expires: 30\n"),
        phone(),
    );
    let out = sent(&mut ua);
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), [422]);
    assert_eq!(header_of(&out[0], "min-se").as_deref(), Some("90"));
    assert!(events(&mut ua).is_empty());
    // An extension we do not have: 420 naming it.
    ua.handle_message(0, invite_with("Require: foo, 100rel\n"), phone());
    let out = sent(&mut ua);
    assert_eq!(out.iter().map(status).collect::<Vec<_>>(), [420]);
    assert_eq!(header_of(&out[0], "unsupported").as_deref(), Some("foo"));
}

#[test]
fn a_retransmitted_2xx_to_our_reinvite_is_acked_again_not_byed() {
    let mut ua = ua();
    ua.invite(0, LegId(2), spec());
    let invite = last_request(&mut ua);
    ua.handle_message(10, answer_to(&invite, 200, "cal1", Some(SDP_A)), phone());
    sent(&mut ua);
    events(&mut ua);
    assert!(ua.reinvite(20, LegId(2), SDP_A.into()));
    let reinvite = last_request(&mut ua);
    ua.handle_message(30, answer_to(&reinvite, 200, "cal1", Some(SDP_A)), phone());
    assert_eq!(methods(sent(&mut ua)), [Method::Ack]);
    assert_eq!(
        signals(&mut ua),
        [LegSignal::OfferAnswered {
            sdp: Some(SDP_A.into())
        }]
    );
    // The same 2xx again (our ACK was lost): the ACK again, never a BYE.
    ua.handle_message(600, answer_to(&reinvite, 200, "cal1", Some(SDP_A)), phone());
    assert_eq!(methods(sent(&mut ua)), [Method::Ack]);
    assert!(signals(&mut ua).is_empty());
}

#[test]
fn released_legs_leave_no_transaction_entries() {
    let mut ua = ua();
    accept(&mut ua, invite_with(""));
    ua.ring(0, LegId(1));
    ua.reject(10, LegId(1), 486, Vec::new());
    ua.invite(20, LegId(2), spec());
    ua.cancel(30, LegId(2));
    ua.release(LegId(1));
    ua.release(LegId(2));
    assert!(ua.server_txs.is_empty(), "{:?}", ua.server_txs);
    assert!(ua.client_txs.is_empty(), "{:?}", ua.client_txs);
    assert!(ua.dialogs.is_empty());
}
