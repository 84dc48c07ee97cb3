//! A collection asked right after a prompt whose speech takes a while to render (TTS under
//! load: here a text-to-speech program that takes 2 s) starts when the prompt has played, not
//! when it was asked: a key pressed just after the prompt is collected, though the collection's
//! first-digit timeout (1.5 s) is shorter than the render.
use patchbay_api::{EventKind, MediaOp, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_waits_for_the_prompt_still_rendering() {
    let slow = std::env::temp_dir().join(format!("patchbay-slow-tts-{}.sh", std::process::id()));
    std::fs::write(&slow, "#!/bin/sh\nsleep 2\nexec espeak-ng \"$@\"\n").expect("script");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&slow)
        .status()
        .expect("chmod");
    let program = slow.display().to_string();
    let stack = Stack::start_with(|c| c.tts_program = program).await;
    let (call, phone, rtp) = app_call_captured(&stack, "uas_answer.xml").await;
    let play = stack
        .command(&call.id, &play(None, Some("Press a key."), false, false))
        .await;
    let mut ask = collect(1, 1, "");
    if let MediaOp::Collect(c) = &mut ask {
        c.first_timeout_ms = 1_500;
    }
    let collect = stack.command(&call.id, &ask).await;
    stack.done(&call.id, play, 15).await;
    let to = relay_addr(&stack.api, &call.id, Side::A).await;
    send_paced(&rtp.sock, to, &PhoneStream::default().rfc4733("5")).await;
    let digits = stack.done(&call.id, collect, 10).await;
    match &digits.kind {
        EventKind::Digits { digits, ok, .. } => {
            assert_eq!((digits.as_str(), *ok), ("5", true), "{:?}", digits)
        }
        _ => unreachable!(),
    }
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(phone.wait(10).await, 0);
    stack.stop().await;
    let _ = std::fs::remove_file(&slow);
}
