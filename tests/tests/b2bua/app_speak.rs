//! Text spoken by espeak-ng into an application call: the phone receives non-silent audio
//! of a plausible length for the sentence, paced at 20 ms; the same text again comes from
//! the render cache.
use patchbay_api::{EventKind, MediaReason};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_is_spoken_into_the_call() {
    let stack = Stack::start().await;
    let (call, phone, rtp) = app_call_captured(&stack, "uas_answer.xml").await;
    let sentence = "Welcome to Patchbay. Press one for sales, or two for support.";
    let mut lengths = Vec::new();
    for _ in 0..2 {
        let cmd = stack
            .command(&call.id, &play(None, Some(sentence), false, false))
            .await;
        let done = stack.done(&call.id, cmd, 20).await;
        match done.kind {
            EventKind::PlayFinished {
                reason, played_ms, ..
            } => {
                assert_eq!(reason, MediaReason::Finished);
                lengths.push(played_ms);
            }
            _ => unreachable!(),
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // About 11 words: some 3 to 6 seconds of speech, the same twice.
    assert!((2_500..=7_000).contains(&lengths[0]), "{lengths:?}");
    assert_eq!(lengths[0], lengths[1], "the same rendering");
    let audio = rtp.audio();
    assert_eq!(
        audio.len() as u64,
        2 * lengths[0] * 8,
        "every sample reached the phone"
    );
    assert!(rms(&audio) > 500.0, "speech, not silence: {}", rms(&audio));
    stack.api.hangup(&call.id).await.unwrap();
    stack.events_until_end(&call.id).await;
    assert_eq!(phone.wait(10).await, 0);
    stack.stop().await;
}
