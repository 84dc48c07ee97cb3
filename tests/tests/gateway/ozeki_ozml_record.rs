//! OzML `Record` on an API extension (the "leave a message" sample): 4005 calls 9001; the
//! app's `IncomingCall` reply speaks a prompt, records 2 seconds, thanks the caller and ends
//! (the API extension hangs up: the phone gets BYE). The phone's words are in the WAV its
//! `RecordCompleted`'s `RecordURL` serves (decoded and correlated), and the
//! `OzML` metrics count the steps.
use patchbay_api::{CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leave_a_message() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let mut app = Receiver::on(free_port());
    app.start().await;
    gw.api_extension("9001", json!({"incoming_call_url": app.url("/incoming")}))
        .await;
    app.set_reply_for(
        "/incoming",
        &format!(
            "<Response><Speak>Please leave a message.</Speak>\
             <Record Duration=\"2\" FinishedUrl=\"{}\"/><Speak>Thank you.</Speak></Response>",
            app.url("/message")
        ),
    );
    let rtp5 = RtpCapture::new().await;
    let caller = Sipp::dial(&stack, "4005", "9001", rtp5.port());
    let call = stack.call_in_state(CallState::Bridged).await.id;
    stack
        .wait_event(&call, 15, |k| matches!(k, EventKind::PlayFinished { .. }))
        .await;
    // The gateway's interpreter starts the recording when it hears of the prompt's end:
    // speak once it runs.
    wait_recording(&stack).await;
    let said = test_signal_seeded(8_000, 1.0, 61);
    let relay = relay_addr(&stack.api, &call, Side::A).await;
    send_paced(&rtp5.sock, relay, &phone_packets(&said)).await;
    assert_eq!(caller.wait(20).await, 0, "the API extension hung up");
    let events = stack.events_until_end(&call).await;
    let plays = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PlayFinished { .. }))
        .count();
    assert_eq!(plays, 2, "the prompt and the thanks");

    let done = app.wait_for("/message", 1, 10).await;
    let done = done.first().expect("RecordCompleted");
    assert_eq!(done.field("CallId").as_deref(), Some(call.0.as_str()));
    let url = done.field("RecordURL").unwrap();
    let wav = gw.http.get(&url).send().await.unwrap();
    assert_eq!(wav.status(), 200, "{url}");
    let bytes = wav.bytes().await.unwrap();
    let mut rd = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(rd.spec().channels, 1);
    let samples: Vec<i16> = rd.samples::<i16>().map(Result::unwrap).collect();
    assert!(
        (15_000..=17_000).contains(&samples.len()),
        "2 s: {}",
        samples.len()
    );
    let (c, _) = best_correlation(&pcma(&said), &without_inserted_silence(&samples));
    assert!(c > 0.9, "the caller's words were recorded: {c}");
    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    assert!(metric(&m, "patchbay_gateway_ozml_steps_total{step=\"record\"}").unwrap_or(0.0) >= 1.0);
    assert!(metric(&m, "patchbay_gateway_ozml_steps_total{step=\"say\"}").unwrap_or(0.0) >= 2.0);
    gw.stop().await;
    stack.stop().await;
}
