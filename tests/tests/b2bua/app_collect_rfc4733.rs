//! A phone presses keys during a prompt, as RFC 4733 telephone-events inside one continuous
//! RTP stream (audio, then each key's event packets with the end packet three times, audio
//! again): every key is reported once and in order, the prompt is barged in by the first, and
//! the collection returns the digits before the terminator.
use patchbay_api::{EventKind, MediaReason, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_pressed_during_a_prompt_are_collected_once_each_in_order() {
    let stack = Stack::start().await;
    write_wav(
        &stack.dir.join("prompts/menu.wav"),
        8_000,
        &test_signal(8_000, 5.0),
    );
    let (call, phone, rtp) = app_call_captured(&stack, "uas_answer.xml").await;
    let play = stack
        .command(&call.id, &play(Some("menu.wav"), None, false, true))
        .await;
    let collect = stack.command(&call.id, &collect(1, 8, "#")).await;
    // Let the prompt start, then press 1 2 3 #.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let to = relay_addr(&stack.api, &call.id, Side::A).await;
    let packets = PhoneStream::default().rfc4733("123#");
    send_paced(&rtp.sock, to, &packets).await;

    let digits = stack.done(&call.id, collect, 10).await;
    stack.api.hangup(&call.id).await.unwrap();
    let events = stack.events_until_end(&call.id).await;
    let keys: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dtmf { side: Side::A, key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["1", "2", "3", "#"], "each key once, in order");
    let played = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::PlayFinished {
                command,
                reason,
                key,
                played_ms,
                ..
            } if *command == play => Some((*reason, key.clone(), *played_ms)),
            _ => None,
        })
        .expect("play_finished");
    assert_eq!(
        (played.0, played.1.as_deref()),
        (MediaReason::BargeIn, Some("1"))
    );
    assert!(played.2 > 300 && played.2 < 2_000, "{played:?}");
    match &digits.kind {
        EventKind::Digits {
            digits,
            reason,
            ok,
            key,
            ..
        } => assert_eq!(
            (digits.as_str(), *reason, *ok, key.as_deref()),
            ("123", MediaReason::Terminator, true, Some("#"))
        ),
        _ => unreachable!(),
    }
    assert_eq!(phone.wait(10).await, 0);
    stack.stop().await;
}
