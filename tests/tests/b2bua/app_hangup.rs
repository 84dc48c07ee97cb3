//! The phone hangs up while a looped prompt plays, a collection waits, a tone sounds and the
//! leg is recorded: each primitive ends with its completion event (reason `hangup`; the
//! recording once its file is closed) before the call's one `ended`; no engine leg, relay
//! port, recording or endpoint task is left behind.
use patchbay_api::{
    Cause, EndedBy, EventKind, MediaOp, MediaReason, RecordRequest, Side, ToneName, ToneRequest,
};
use patchbay_tests::media::*;
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hangup_ends_every_primitive_with_its_event() {
    let stack = Stack::start().await;
    write_wav(
        &stack.dir.join("prompts/demo/music.wav"),
        8_000,
        &test_signal(8_000, 0.5),
    );
    let mp = free_port().to_string();
    let (call, phone) = app_call(
        &stack,
        "4007",
        "uas_answer_hangup.xml",
        &["-set", "talk_ms", "1500", "-mp", &mp],
    )
    .await;
    let ops = [
        play(Some("music.wav"), None, true, false),
        collect(4, 4, ""),
        MediaOp::Tone(ToneRequest {
            side: Side::A,
            tone: ToneName::Ringback,
            duration_ms: None,
            barge_in: false,
        }),
        MediaOp::Record(RecordRequest {
            side: Some(Side::A),
            ..Default::default()
        }),
    ];
    let mut commands = Vec::new();
    for op in &ops {
        commands.push(stack.command(&call.id, op).await);
    }
    let events = stack.events_until_end(&call.id).await;
    assert_eq!(assert_one_terminal(&events), (Cause::Normal, EndedBy::A));
    let n = events.len();
    let ends: Vec<(u64, MediaReason)> = events[n - 5..n - 1]
        .iter()
        .map(|e| match &e.kind {
            EventKind::PlayFinished {
                command, reason, ..
            }
            | EventKind::Digits {
                command, reason, ..
            }
            | EventKind::ToneFinished {
                command, reason, ..
            }
            | EventKind::RecordingReady {
                command, reason, ..
            } => (*command, *reason),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ends,
        commands
            .iter()
            .map(|c| (*c, MediaReason::Hangup))
            .collect::<Vec<_>>(),
        "one end each, before ended"
    );
    assert_eq!(phone.wait(10).await, 0);
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(metric(&metrics, "patchbay_media_engine_legs"), Some(0.0));
    assert_eq!(metric(&metrics, "patchbay_media_ports_in_use"), Some(0.0));
    assert_eq!(metric(&metrics, "patchbay_media_recordings"), Some(0.0));
    stack.stop().await;
}
