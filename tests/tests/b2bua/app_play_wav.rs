//! An application call to a SIPp phone plays a known WAV (16 kHz, resampled and encoded to
//! the PCMA the phone chose): the audio the phone receives, decoded, matches the file; the
//! RTP stream is one talkspurt (one SSRC, sequence and timestamps continuous, marker on the
//! first packet); `play_finished` follows. A prompt that does not exist ends with `error`.
//! Hangup ends the call and leaves no engine leg behind.
use patchbay_api::{CallState, EventKind, MediaReason, OriginateRequest};
use patchbay_media::engine::audio::decode_wav;
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_call_plays_a_wav_the_phone_hears() {
    let stack = Stack::start().await;
    let wav_path = stack.dir.join("prompts/demo/greeting.wav");
    write_wav(&wav_path, 16_000, &test_signal(16_000, 1.0));
    let want = decode_wav(std::fs::read(&wav_path).unwrap()).unwrap();
    assert_eq!(want.len(), 8_000, "one second at 8 kHz");

    let p4007 = free_port();
    stack.register("4007", p4007).await;
    let rtp = RtpCapture::new().await;
    let phone = Sipp::answering(p4007, 200, rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let call = stack
        .api
        .originate(&OriginateRequest {
            tenant: "demo".into(),
            from: "IVR".into(),
            to: vec!["4007".into()],
            app: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(call.app);
    let answered = stack
        .wait_event(&call.id, 10, |k| matches!(k, EventKind::Answered { .. }))
        .await;
    assert_eq!(
        stack.api.call(&call.id).await.unwrap().state,
        CallState::Bridged
    );

    let cmd = stack
        .command(&call.id, &play(Some("greeting.wav"), None, false, false))
        .await;
    let done = stack.done(&call.id, cmd, 10).await;
    match &done.kind {
        EventKind::PlayFinished {
            reason, played_ms, ..
        } => assert_eq!((*reason, *played_ms), (MediaReason::Finished, 1_000)),
        _ => unreachable!(),
    }
    assert!(done.at_ms >= answered.at_ms + 950, "paced in real time");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let headers = rtp.headers();
    assert_eq!(headers.len(), 50, "1 s = 50 packets of 20 ms");
    assert!(
        headers
            .iter()
            .all(|h| h.pt == 8 && h.ssrc == headers[0].ssrc)
    );
    assert!(headers[0].marker && headers[1..].iter().all(|h| !h.marker));
    for w in headers.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
        assert_eq!(w[1].ts, w[0].ts.wrapping_add(160));
    }
    let got = rtp.audio();
    let (corr, offset) = best_correlation(&want, &got);
    assert!(corr > 0.95, "decoded audio matches the file: {corr:.3}");
    assert_eq!(offset, 0, "from the first sample");

    // A prompt that does not exist: an error, the call goes on.
    let cmd = stack
        .command(&call.id, &play(Some("missing.wav"), None, false, false))
        .await;
    let done = stack.done(&call.id, cmd, 5).await;
    assert!(
        matches!(&done.kind, EventKind::PlayFinished { reason: MediaReason::Error, error: Some(e), .. } if e.contains("missing.wav")),
        "{done:?}"
    );
    // Bad requests are refused before anything happens.
    let bad = stack
        .api
        .primitive(
            &call.id,
            &play(Some("../../etc/passwd"), None, false, false),
        )
        .await;
    assert!(bad.is_err(), "{bad:?}");

    stack.api.hangup(&call.id).await.unwrap();
    let events = stack.events_until_end(&call.id).await;
    assert_one_terminal(&events);
    assert_eq!(phone.wait(10).await, 0, "the phone got the BYE");
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(metric(&metrics, "patchbay_media_engine_legs"), Some(0.0));
    assert!(metric(&metrics, "patchbay_media_engine_packets_sent_total").unwrap() >= 50.0);
    stack.stop().await;
}
