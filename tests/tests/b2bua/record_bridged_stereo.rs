//! A click-to-call placed with `record: true` is recorded from the bridge to the hangup, in
//! stereo: each phone sends its own known signal through the relay; after the API hangup,
//! `recording_ready` (reason `hangup`) comes before `ended`; the WAV downloaded through the
//! control API has phone A's audio on the left channel and B's on the right (each correlating
//! with what that phone sent, not with the other's), and lasts the answered time within
//! 100 ms. A byte range is served as 206; the index lists it for the call; deleting it removes
//! the file; nothing is left recording.
use patchbay_api::{CallState, EventKind, MediaReason, RecordLayout, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

fn channel(wav: &[u8], ch: usize) -> Vec<i16> {
    let rd = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    assert_eq!((rd.spec().channels, rd.spec().sample_rate), (2, 8_000));
    let all: Vec<i16> = rd.into_samples::<i16>().map(Result::unwrap).collect();
    all.into_iter().skip(ch).step_by(2).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_click_to_call_is_a_stereo_wav_of_both_phones() {
    let stack = Stack::start().await;
    let (call, _phones, rtp5, rtp7) = bridged_call_captured(&stack, true).await;
    let bridged = stack
        .wait_event(&call.id, 10, |k| matches!(k, EventKind::Bridged))
        .await;
    assert_eq!(
        stack.api.call(&call.id).await.unwrap().state,
        CallState::Bridged
    );
    let (relay_a, relay_b) = (
        relay_addr(&stack.api, &call.id, Side::A).await,
        relay_addr(&stack.api, &call.id, Side::B).await,
    );
    // Two different known signals, one per phone, sent at the same time.
    let sig_a = test_signal(8_000, 2.0);
    let sig_b: Vec<i16> = sig_a.iter().rev().map(|s| s / 2).collect();
    let (pa, pb) = (phone_packets(&sig_a), phone_packets(&sig_b));
    let (sa, sb) = (rtp5.sock.clone(), rtp7.sock.clone());
    tokio::join!(send_paced(&sa, relay_a, &pa), send_paced(&sb, relay_b, &pb));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!rtp7.audio().is_empty(), "B heard A through the relay");
    stack.api.hangup(&call.id).await.unwrap();

    let events = stack.events_until_end(&call.id).await;
    assert_one_terminal(&events);
    let n = events.len();
    let (recording, duration_ms, bytes) = match &events[n - 2].kind {
        EventKind::RecordingReady {
            recording,
            side: None,
            layout: RecordLayout::Stereo,
            reason: MediaReason::Hangup,
            duration_ms,
            bytes,
            error: None,
            ..
        } => (recording.clone(), *duration_ms, *bytes),
        other => panic!("recording_ready before ended, got {other:?}"),
    };
    let cdr = cdr(&stack, &call.id).await;
    let answered = cdr.ended_ms - cdr.answered_ms.unwrap();
    assert!(
        duration_ms.abs_diff(answered) <= 100,
        "recorded {duration_ms} ms of {answered} ms answered"
    );
    assert!(bridged.at_ms >= cdr.answered_ms.unwrap());

    // The index, the file, a range.
    let listed = stack
        .api
        .recordings("demo", Some(&call.id.0), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].id.as_str(),
            listed[0].bytes,
            listed[0].side.as_str()
        ),
        (recording.as_str(), bytes, "call")
    );
    let resp = stack
        .api
        .recording_file("demo", &recording, None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    let wav = resp.bytes().await.unwrap();
    assert_eq!(wav.len() as u64, bytes);
    let (left, right) = (channel(&wav, 0), channel(&wav, 1));
    let (want_a, want_b) = (pcma(&sig_a), pcma(&sig_b));
    let (ca, _) = best_correlation(&want_a, &without_inserted_silence(&left));
    let (cb, _) = best_correlation(&want_b, &without_inserted_silence(&right));
    assert!(ca > 0.9, "left channel is phone A: {ca:.3}");
    assert!(cb > 0.9, "right channel is phone B: {cb:.3}");
    let (cross, _) = best_correlation(&want_a, &right);
    assert!(cross < 0.3, "A is not on the right: {cross:.3}");

    let part = stack
        .api
        .recording_file("demo", &recording, Some("bytes=0-3"))
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-3/{bytes}").as_str()
    );
    assert_eq!(&part.bytes().await.unwrap()[..], b"RIFF");
    let outside = stack
        .api
        .recording_file("demo", &recording, Some(&format!("bytes={bytes}-")))
        .await
        .unwrap();
    assert_eq!(outside.status(), 416);
    // Another tenant does not see it.
    assert!(
        stack
            .api
            .recording_file("other", &recording, None)
            .await
            .is_err()
    );

    let path = stack.dir.join(format!("recordings/demo/{recording}.wav"));
    assert!(path.exists());
    stack
        .api
        .delete_recording("demo", &recording)
        .await
        .unwrap();
    assert!(!path.exists(), "the file went with the index entry");
    assert!(
        stack
            .api
            .recordings("demo", Some(&call.id.0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(metric(&metrics, "patchbay_media_recordings"), Some(0.0));
    assert!(metric(&metrics, "patchbay_media_recorded_seconds_total").unwrap() >= 2.0);
    stack.stop().await;
}
