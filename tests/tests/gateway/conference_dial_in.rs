//! A dial-in conference room (native admin API: extension 700, PIN 1234, moderator PIN 9999,
//! 3 members at most): 4005, 4007 and 4009 dial 700 and type a PIN by DTMF (4009 the
//! moderator's, and is listed as the moderator; those already in hear a join tone); each
//! then hears the two others (decoded, correlated) and not itself; the
//! room lists them. A fourth caller with the right PIN finds the room full and is sent BYE.
//! The room is recorded: once the last member left, its WAV (listed with call `room-sales`)
//! holds each member's voice.
use patchbay_api::{CallId, CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

/// `user` dials 700 and types `pin` once answered: its call and phone.
async fn dial_in(stack: &Stack, user: &str, pin: &str, rtp: &RtpCapture) -> (CallId, Sipp) {
    let phone = Sipp::dial(stack, user, "700", rtp.port());
    let mut call = None;
    for _ in 0..100 {
        let calls = stack.api.list_calls().await.unwrap();
        call = calls
            .into_iter()
            .find(|c| c.from == user && c.state == CallState::Bridged);
        if call.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let call = call.unwrap_or_else(|| panic!("{user}'s call was not answered"));
    let relay = relay_addr(&stack.api, &call.id, Side::A).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut keys = PhoneStream::default();
    send_paced(&rtp.sock, relay, &keys.rfc4733(&format!("{pin}#"))).await;
    (call.id, phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_callers_join_a_room_with_its_pin_and_a_fourth_finds_it_full() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/conferences/sales").json(&json!({
                "extension": "700", "pin": "1234", "moderator_pin": "9999", "max_members": 3,
                "owner": "4005", "record": true
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/users/4011")
                .json(&json!({"sip_password": "demo-4011"})),
        )
        .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.body);

    let mut members: Vec<(CallId, Sipp, RtpCapture)> = Vec::new();
    for (user, pin) in [("4005", "1234"), ("4007", "1234"), ("4009", "9999")] {
        let rtp = RtpCapture::new().await;
        let heard_before = members.first().map(|m| m.2.audio().len());
        let (id, phone) = dial_in(&stack, user, pin, &rtp).await;
        stack
            .wait_event(&id, 20, |k| matches!(k, EventKind::ConferenceJoined { .. }))
            .await;
        // Those already in hear the join tone (nobody speaks yet: the only sound).
        if let Some(before) = heard_before {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let peak = members[0].2.audio()[before..]
                .iter()
                .map(|s| s.unsigned_abs())
                .max()
                .unwrap_or(0);
            assert!(peak > 2_000, "4005 heard {user} join: peak {peak}");
        }
        members.push((id, phone, rtp));
    }
    let r = gw
        .send(demo(
            M::GET,
            "/api/v1/tenants/demo/conferences/sales/members",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.json().as_array().unwrap().clone();
    assert_eq!(listed.len(), 3, "{}", r.body);
    let moderators: Vec<_> = listed.iter().filter(|m| m["moderator"] == true).collect();
    assert_eq!(moderators.len(), 1, "{}", r.body);
    assert_eq!(moderators[0]["party"], "4009", "{}", r.body);

    let signals: Vec<Vec<i16>> = [3u32, 11, 17]
        .iter()
        .map(|seed| test_signal_seeded(8_000, 1.0, *seed))
        .collect();
    let mut relays = Vec::new();
    for (id, _, _) in &members {
        relays.push(relay_addr(&stack.api, id, Side::A).await);
    }
    let starts: Vec<usize> = members.iter().map(|m| m.2.audio().len()).collect();
    let streams: Vec<Vec<Vec<u8>>> = signals.iter().map(|s| phone_packets(s)).collect();
    let socks: Vec<_> = members.iter().map(|m| m.2.sock.clone()).collect();
    tokio::join!(
        send_paced(&socks[0], relays[0], &streams[0]),
        send_paced(&socks[1], relays[1], &streams[1]),
        send_paced(&socks[2], relays[2], &streams[2]),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caps: Vec<&RtpCapture> = members.iter().map(|m| &m.2).collect();
    assert_each_hears_the_others(&caps, &starts, &signals);

    // The room is full: the fourth caller hears so and is sent BYE.
    let rtp = RtpCapture::new().await;
    let (id, phone) = dial_in(&stack, "4011", "1234", &rtp).await;
    assert_eq!(phone.wait(30).await, 0, "4011 was sent BYE");
    let events = stack.events_until_end(&id).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ConferenceJoined { .. }))
    );
    assert_eq!(
        stack.api.conference("demo", "sales").await.unwrap().len(),
        3
    );
    for (id, phone, _) in members {
        stack.api.hangup(&id).await.unwrap();
        assert_eq!(phone.wait(10).await, 0);
    }

    // The room's recording: everyone's voice in one WAV.
    let mut listed = serde_json::Value::Null;
    for _ in 0..50 {
        let r = gw
            .send(demo(M::GET, "/api/v1/recordings?call=room-sales"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        listed = r.json();
        if listed.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rid = listed[0]["id"]
        .as_str()
        .expect("the room's recording")
        .to_string();
    let r = demo(M::GET, &format!("/api/v1/recordings/{rid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let wav = hound::WavReader::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let mix: Vec<i16> = wav.into_samples::<i16>().map(Result::unwrap).collect();
    for (i, s) in signals.iter().enumerate() {
        let (c, _) = best_correlation(&s[2_000..6_000], &mix);
        assert!(
            c > 0.4,
            "member {i}'s voice is in the recording (correlation {c:.2})"
        );
    }
    gw.stop().await;
    stack.stop().await;
}
