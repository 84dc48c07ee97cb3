//! A two-party call becomes a three-way call: both legs of a bridged click-to-call (4005 and
//! 4007) join a room with an application call to 4009. Each phone hears the other two and
//! not itself; when the two bridged legs leave, the relay carries their streams on (4005 sees
//! one SSRC and every sequence number once, from the bridge through the room and back) and
//! they hear each other again.
use patchbay_api::{CallId, ConferenceRequest, EventKind, MediaOp, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

fn join(side: Side) -> MediaOp {
    MediaOp::Conference(ConferenceRequest {
        side,
        room: "r3".into(),
        muted: false,
        tones: false,
        record: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_call_and_an_application_call_meet_in_a_room() {
    let stack = Stack::start().await;
    let (call, _phones, rtp5, rtp7) = bridged_call_captured(&stack, false).await;
    let rtp9 = RtpCapture::new().await;
    let port9 = rtp9.port().to_string();
    let (app, _c) = app_call(
        &stack,
        "4009",
        "uas_answer.xml",
        &["-set", "rtpport", &port9],
    )
    .await;

    // The bridge carries a little of each side first.
    let (ra, rb) = (
        relay_addr(&stack.api, &call.id, Side::A).await,
        relay_addr(&stack.api, &call.id, Side::B).await,
    );
    let r9 = relay_addr(&stack.api, &app.id, Side::A).await;
    let warm = phone_packets(&test_signal_seeded(8_000, 0.4, 11));
    tokio::join!(
        send_paced(&rtp5.sock, ra, &warm),
        send_paced(&rtp7.sock, rb, &warm)
    );

    let mut joined: Vec<(CallId, u64)> = Vec::new();
    for (id, side) in [(&call.id, Side::A), (&call.id, Side::B), (&app.id, Side::A)] {
        let cmd = stack.command(id, &join(side)).await;
        joined.push((id.clone(), cmd));
    }
    let members = stack.api.conference("demo", "r3").await.unwrap();
    assert_eq!(members.len(), 3, "{members:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signals: Vec<Vec<i16>> = [1u32, 5, 7]
        .iter()
        .map(|seed| test_signal_seeded(8_000, 1.0, *seed))
        .collect();
    let caps = [&rtp5, &rtp7, &rtp9];
    let starts: Vec<usize> = caps.iter().map(|c| c.audio().len()).collect();
    let streams: Vec<Vec<Vec<u8>>> = signals.iter().map(|s| phone_packets(s)).collect();
    tokio::join!(
        send_paced(&rtp5.sock, ra, &streams[0]),
        send_paced(&rtp7.sock, rb, &streams[1]),
        send_paced(&rtp9.sock, r9, &streams[2]),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_each_hears_the_others(&caps, &starts, &signals);

    // The two bridged legs leave: the relay carries their streams on.
    for (id, cmd) in &joined[..2] {
        stack.api.stop_command(id, *cmd).await.unwrap();
    }
    for _ in 0..2 {
        stack
            .wait_event(&call.id, 5, |k| {
                matches!(k, EventKind::ConferenceLeft { .. })
            })
            .await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let back = test_signal_seeded(8_000, 1.0, 13);
    let start7 = rtp7.audio().len();
    send_paced(&rtp5.sock, ra, &phone_packets(&back)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (c, _) = best_correlation(&pcma(&back), &rtp7.audio()[start7..]);
    assert!(c > 0.9, "4007 hears 4005 through the relay again: {c:.3}");
    let headers = rtp7.headers();
    for w in headers.windows(2) {
        assert_eq!(w[1].ssrc, headers[0].ssrc, "one stream to 4007");
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "every sequence number once"
        );
    }

    stack.api.hangup(&app.id).await.unwrap();
    stack.api.hangup(&call.id).await.unwrap();
    for id in [&app.id, &call.id] {
        assert_one_terminal(&stack.events_until_end(id).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(&metrics, "patchbay_media_conference_members"),
        Some(0.0)
    );
    stack.stop().await;
}
