//! Primitives on a bridged two-party call: while 4007 talks to 4005 through the relay, a
//! prompt is played to 4005 (side A) and a collection runs on 4007 (side B). 4005 hears the
//! prompt inside the stream it had (one SSRC, every sequence number once, in order: relay,
//! engine, relay again) and its decoded audio holds the prompt; 4007's keys come back as
//! `digits`; the call goes on bridged and ends with one terminal event.
use patchbay_api::{EventKind, MediaReason, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_and_a_collection_on_a_bridged_call() {
    let stack = Stack::start().await;
    let wav = stack.dir.join("prompts/demo/notice.wav");
    write_wav(&wav, 8_000, &test_signal(8_000, 1.0));
    let (call, _phones, rtp5, rtp7) = bridged_call_captured(&stack, false).await;
    let relay_b = relay_addr(&stack.api, &call.id, Side::B).await;
    // 4007 talks for 3 s (quiet noise), then keys 1 and 2: one continuous stream.
    let mut stream = PhoneStream::default();
    let quiet = test_signal_seeded(8_000, 3.0, 3);
    let mut packets: Vec<Vec<u8>> = quiet
        .chunks_exact(160)
        .map(|c| {
            let c: Vec<i16> = c.iter().map(|s| s / 8).collect();
            stream.audio(c.as_slice().try_into().unwrap())
        })
        .collect();
    packets.extend(stream.rfc4733("12"));
    let sock = rtp7.sock.clone();
    let talk = tokio::spawn(async move { send_paced(&sock, relay_b, &packets).await });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut op = play(Some("notice.wav"), None, false, false);
    if let patchbay_api::MediaOp::Play(p) = &mut op {
        p.side = Side::A;
    }
    let played = stack.command(&call.id, &op).await;
    let mut op = collect(2, 2, "");
    if let patchbay_api::MediaOp::Collect(c) = &mut op {
        c.side = Side::B;
        c.first_timeout_ms = 10_000;
    }
    let collecting = stack.command(&call.id, &op).await;
    let done = stack.done(&call.id, played, 10).await;
    assert!(matches!(
        done.kind,
        EventKind::PlayFinished {
            reason: MediaReason::Finished,
            played_ms: 1_000,
            side: Side::A,
            ..
        }
    ));
    let digits = stack.done(&call.id, collecting, 10).await;
    assert!(
        matches!(&digits.kind, EventKind::Digits { digits, side: Side::B, reason: MediaReason::MaxDigits, .. } if digits == "12"),
        "{digits:?}"
    );
    talk.await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let headers = rtp5.headers();
    assert!(
        headers.len() >= 150,
        "4005 got the call's audio: {}",
        headers.len()
    );
    for w in headers.windows(2) {
        assert_eq!(w[1].ssrc, headers[0].ssrc, "one stream");
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "every sequence number once"
        );
    }
    let (corr, _) = best_correlation(&test_signal(8_000, 1.0), &rtp5.audio());
    assert!(corr > 0.9, "4005 heard the prompt: {corr:.3}");
    let info = stack.api.call(&call.id).await.unwrap();
    assert_eq!(info.state, patchbay_api::CallState::Bridged);

    stack.api.hangup(&call.id).await.unwrap();
    let events = stack.events_until_end(&call.id).await;
    assert_one_terminal(&events);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(metric(&metrics, "patchbay_media_engine_legs"), Some(0.0));
    stack.stop().await;
}
