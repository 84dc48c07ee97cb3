//! A user records its out-of-office greeting by phone: 4007 dials *97, types its PIN, hears
//! it has no new messages, presses 3 (record a greeting), 2 (out of office), hears the beep,
//! says 2 s of a known signal and presses `#`. The B2BUA says it is saved and hangs up; the
//! greeting file is what 4007 said, and the recording it came from is gone from the index.
use patchbay_api::{Event, EventKind, Side};
use patchbay_store::Store as _;
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

/// Poll `id`'s events until `done` holds for them.
async fn until(stack: &Stack, id: &patchbay_api::CallId, done: impl Fn(&[Event]) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let evs = stack
            .api
            .events(id, 0, Duration::from_millis(300))
            .await
            .unwrap();
        if done(&evs) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{:?}", kinds(&evs));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Events after the first one `pick` matches.
fn after(evs: &[Event], pick: impl Fn(&EventKind) -> bool) -> &[Event] {
    evs.iter()
        .position(|e| pick(&e.kind))
        .map_or(&[][..], |i| &evs[i + 1..])
}

fn digits(d: &'static str) -> impl Fn(&EventKind) -> bool {
    move |k| matches!(k, EventKind::Digits { digits, .. } if digits == d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_records_its_greeting_by_phone() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                M::PUT,
                "/api/v1/tenants/demo/users/4007",
            )
            .json(&json!({"vm_pin": "4242"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rtp = RtpCapture::new().await;
    let listener = Sipp::dial(&stack, "4007", "*97", rtp.port());
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    let relay = relay_addr(&stack.api, &call.id, Side::A).await;
    let mut keys = PhoneStream::default();
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_paced(&rtp.sock, relay, &keys.rfc4733("4242#")).await;
    // "You have no new messages." ends; the options collection runs with its prompt.
    until(&stack, &call.id, |evs| {
        after(evs, digits("4242"))
            .iter()
            .any(|e| matches!(e.kind, EventKind::PlayFinished { .. }))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_paced(&rtp.sock, relay, &keys.rfc4733("3")).await;
    until(&stack, &call.id, |evs| {
        evs.iter().any(|e| digits("3")(&e.kind))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_paced(&rtp.sock, relay, &keys.rfc4733("2")).await;
    // The prompt, then the beep: then 4007 speaks.
    until(&stack, &call.id, |evs| {
        after(evs, digits("2"))
            .iter()
            .any(|e| matches!(e.kind, EventKind::ToneFinished { .. }))
    })
    .await;
    let said = test_signal_seeded(8_000, 2.0, 53);
    send_paced(&rtp.sock, relay, &phone_packets(&said)).await;
    send_paced(&rtp.sock, relay, &keys.rfc4733("#")).await;
    assert_eq!(
        listener.wait(30).await,
        0,
        "saved, goodbye: the B2BUA hung up"
    );
    let events = stack.events_until_end(&call.id).await;
    let recording = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RecordingReady { recording, .. } => Some(recording.clone()),
            _ => None,
        })
        .expect("the greeting was recorded");

    let path = stack
        .dir
        .join("prompts/demo/voicemail/4007/outofoffice.wav");
    let mut kept = None;
    for _ in 0..50 {
        if let Ok(rd) = hound::WavReader::open(&path) {
            kept = Some(
                rd.into_samples::<i16>()
                    .map(Result::unwrap)
                    .collect::<Vec<_>>(),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = kept.expect("the greeting file is in place");
    let (corr, _) = best_correlation(&pcma(&said), &without_inserted_silence(&kept));
    assert!(corr > 0.9, "the greeting is what 4007 said: {corr:.3}");
    let mut gone = false;
    for _ in 0..50 {
        gone = stack
            .store
            .recording("demo", &recording)
            .await
            .unwrap()
            .is_none();
        if gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the recording became the greeting");
    gw.stop().await;
    stack.stop().await;
}
