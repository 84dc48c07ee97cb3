//! Listening to voicemail by phone: 4005 leaves 4007 a message (4007 has no phone registered:
//! straight to the mailbox; 4005 hears the greeting 4007 recorded for the one it chose,
//! `outofoffice`, not its `standard` one); 4007 dials *97, types a wrong PIN (asked again),
//! then its PIN (set through the native API), hears "one new message" and the message itself (decoded, it
//! correlates with what 4005 said), presses 9 to save it, and is said goodbye; the message is
//! then in `saved`, not in the inbox.
use patchbay_api::{EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

const DEMO: (&str, &str) = ("demo-key", "demo-secret");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_listens_to_its_voicemail_with_its_pin() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key(DEMO.0, DEMO.1, m, path);
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/users/4007").json(
            &json!({"vm_pin": "4242", "voicemail": {"enabled": true, "greeting": "outofoffice"}}),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["voicemail"]["greeting"],
        "outofoffice",
        "{}",
        r.body
    );

    // 4005 leaves a message, after 4007's own greeting (the one it chose).
    let greeting = test_signal(8_000, 1.0);
    let dir = stack.dir.join("prompts/demo/voicemail/4007");
    write_wav(&dir.join("outofoffice.wav"), 8_000, &greeting);
    write_wav(
        &dir.join("standard.wav"),
        8_000,
        &test_signal_seeded(8_000, 1.0, 77),
    );
    let rtp5 = RtpCapture::new().await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "4007",
        rtp5.port(),
        // Hangs up before 5 s of silence after its words would end the message first.
        &["-set", "talk_ms", "5000"],
    );
    let left = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    stack
        .wait_event(&left.id, 15, |k| {
            matches!(k, EventKind::ToneFinished { .. })
        })
        .await;
    let (g, _) = best_correlation(&pcma(&greeting), &rtp5.audio());
    assert!(g > 0.9, "4005 heard 4007's recorded greeting: {g:.3}");
    let said = test_signal_seeded(8_000, 1.5, 31);
    let relay = relay_addr(&stack.api, &left.id, Side::A).await;
    send_paced(&rtp5.sock, relay, &phone_packets(&said)).await;
    assert_eq!(caller.wait(20).await, 0);
    stack.events_until_end(&left.id).await;

    // 4007 dials *97.
    let rtp7 = RtpCapture::new().await;
    let listener = Sipp::dial(&stack, "4007", "*97", rtp7.port());
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    assert_eq!(call.from, "4007");
    let relay = relay_addr(&stack.api, &call.id, Side::A).await;
    let mut keys = PhoneStream::default();
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_paced(&rtp7.sock, relay, &keys.rfc4733("1111#")).await;
    // Asked again: the second PIN prompt is a new collection.
    stack
        .wait_event(
            &call.id,
            10,
            |k| matches!(k, EventKind::Digits { digits, .. } if digits == "1111"),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_paced(&rtp7.sock, relay, &keys.rfc4733("4242#")).await;
    let before = rtp7.audio().len();
    // The announcement, then the message: the second prompt to end after the PIN.
    prompts_after_pin(&stack, &call.id, 2, "no message played").await;
    let heard = rtp7.audio()[before..].to_vec();
    let (corr, _) = best_correlation(&pcma(&said), &heard);
    assert!(corr > 0.9, "4007 heard 4005's message: {corr:.3}");
    // Then the menu prompt: "9" once it has played, into the key collection that follows
    // (a key sent while the prompt is still being synthesized could be lost under load).
    prompts_after_pin(&stack, &call.id, 3, "no menu prompt").await;
    send_paced(&rtp7.sock, relay, &keys.rfc4733("9")).await;
    assert_eq!(listener.wait(30).await, 0, "goodbye: the B2BUA hung up");
    let events = stack.events_until_end(&call.id).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Digits { digits, .. } if digits == "9"))
    );

    // The B2BUA moves the message off its loop (a store write): wait for it, bounded.
    let mut r = None;
    for _ in 0..50 {
        let got = gw
            .send(demo(
                M::GET,
                "/api/v1/tenants/demo/users/4007/voicemail?folder=saved",
            ))
            .await;
        let done = got.json().as_array().is_some_and(|a| !a.is_empty());
        r = Some(got);
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = r.expect("asked");
    assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(r.json()[0]["caller"], "4005");
    let r = gw
        .send(demo(
            M::GET,
            "/api/v1/tenants/demo/users/4007/voicemail?folder=inbox",
        ))
        .await;
    assert_eq!(r.json(), json!([]));
    gw.stop().await;
    stack.stop().await;
}

/// Wait (30 s at most) until `n` prompts have finished playing after the PIN was typed.
async fn prompts_after_pin(stack: &Stack, call: &patchbay_api::CallId, n: usize, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let evs = stack
            .api
            .events(call, 0, Duration::from_millis(500))
            .await
            .unwrap();
        let pin = evs
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Digits { digits, .. } if digits == "4242"));
        let played = pin.map_or(0, |i| {
            evs[i..]
                .iter()
                .filter(|e| matches!(e.kind, EventKind::PlayFinished { .. }))
                .count()
        });
        if played >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {:?}",
            kinds(&evs)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
