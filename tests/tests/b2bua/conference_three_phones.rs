//! Three application calls to three SIPp phones join one conference room: each phone sends
//! its own signal at the same time, and each receives the other two's audio mixed (decoded,
//! correlating with their sum) and not its own. The room lists its three members; a member
//! that leaves (`stop`) gets `conference_left` and is served by the engine again (a beep
//! reaches it); hangups end the rest with `conference_left` (hangup) and the room is gone.
use patchbay_api::{
    CallId, ConferenceRequest, EventKind, MediaOp, MediaReason, Side, ToneName, ToneRequest,
};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

fn conference(room: &str) -> MediaOp {
    MediaOp::Conference(ConferenceRequest {
        side: Side::A,
        room: room.into(),
        muted: false,
        tones: false,
        record: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_phones_in_a_room_each_hear_the_others_not_themselves() {
    let stack = Stack::start().await;
    let mut members: Vec<(CallId, Sipp, RtpCapture, u64)> = Vec::new();
    for user in ["4005", "4007", "4009"] {
        let rtp = RtpCapture::new().await;
        let port = rtp.port().to_string();
        let (call, phone) =
            app_call(&stack, user, "uas_answer.xml", &["-set", "rtpport", &port]).await;
        let cmd = stack.command(&call.id, &conference("r1")).await;
        stack
            .wait_event(
                &call.id,
                5,
                |k| matches!(k, EventKind::ConferenceJoined { command, .. } if *command == cmd),
            )
            .await;
        members.push((call.id, phone, rtp, cmd));
    }
    let listed = stack.api.conference("demo", "r1").await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(
        stack
            .api
            .conference("other", "r1")
            .await
            .unwrap()
            .is_empty()
    );

    let signals: Vec<Vec<i16>> = [1u32, 5, 7]
        .iter()
        .map(|seed| test_signal_seeded(8_000, 1.0, *seed))
        .collect();
    let mut relays = Vec::new();
    for (id, _, _, _) in &members {
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

    // 4005 leaves: conference_left (stopped), and the engine serves it again.
    let (id0, cmd0) = (members[0].0.clone(), members[0].3);
    stack.api.stop_command(&id0, cmd0).await.unwrap();
    let left = stack
        .wait_event(&id0, 5, |k| matches!(k, EventKind::ConferenceLeft { .. }))
        .await;
    assert!(matches!(
        left.kind,
        EventKind::ConferenceLeft {
            reason: MediaReason::Stopped,
            ..
        }
    ));
    assert_eq!(stack.api.conference("demo", "r1").await.unwrap().len(), 2);
    let beep = stack
        .command(
            &id0,
            &MediaOp::Tone(ToneRequest {
                side: Side::A,
                tone: ToneName::Beep,
                duration_ms: None,
                barge_in: false,
            }),
        )
        .await;
    stack.done(&id0, beep, 5).await;
    let headers = members[0].2.headers();
    for w in headers.windows(2) {
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "one stream across engine -> room -> engine"
        );
        assert_eq!(w[1].ssrc, w[0].ssrc);
    }

    for (id, phone, _, _) in members {
        stack.api.hangup(&id).await.unwrap();
        let events = stack.events_until_end(&id).await;
        assert_one_terminal(&events);
        if id != id0 {
            assert!(matches!(
                events[events.len() - 2].kind,
                EventKind::ConferenceLeft {
                    reason: MediaReason::Hangup,
                    ..
                }
            ));
        }
        assert_eq!(phone.wait(10).await, 0);
    }
    assert!(stack.api.conference("demo", "r1").await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(&metrics, "patchbay_media_conference_members"),
        Some(0.0)
    );
    assert_eq!(metric(&metrics, "patchbay_media_ports_in_use"), Some(0.0));
    stack.stop().await;
}
