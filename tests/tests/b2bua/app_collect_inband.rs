//! A phone that did not agree on telephone-event (PCMA only) sends its keys as tones in the
//! audio: the engine hears them in-band (Goertzel) and the collection ends on `max_digits`.
use patchbay_api::{CollectRequest, EventKind, MediaOp, MediaReason, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_sent_as_tones_are_heard_in_band() {
    let stack = Stack::start().await;
    let rtp = RtpCapture::new().await;
    let port = rtp.port().to_string();
    let (call, phone) = app_call(
        &stack,
        "4007",
        "uas_answer_no_dtmf.xml",
        &["-set", "rtpport", &port],
    )
    .await;
    let collect = stack
        .api
        .primitive(
            &call.id,
            &MediaOp::Collect(CollectRequest {
                side: Side::A,
                min_digits: 3,
                max_digits: 3,
                terminators: "#".into(),
                first_timeout_ms: 5_000,
                inter_timeout_ms: 3_000,
            }),
        )
        .await
        .unwrap()
        .command;
    let to = relay_addr(&stack.api, &call.id, Side::A).await;
    let mut stream = PhoneStream::default();
    let mut packets: Vec<Vec<u8>> = (0..5).map(|_| stream.audio(&[0; 160])).collect();
    packets.extend(stream.inband("159"));
    send_paced(&rtp.sock, to, &packets).await;
    let done = stack
        .wait_event(
            &call.id,
            10,
            |k| matches!(k, EventKind::Digits { command, .. } if *command == collect),
        )
        .await;
    match &done.kind {
        EventKind::Digits {
            digits, reason, ok, ..
        } => assert_eq!(
            (digits.as_str(), *reason, *ok),
            ("159", MediaReason::MaxDigits, true)
        ),
        _ => unreachable!(),
    }
    stack.api.hangup(&call.id).await.unwrap();
    let events = stack.events_until_end(&call.id).await;
    let keys: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dtmf { key, .. } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["1", "5", "9"]);
    assert_eq!(phone.wait(10).await, 0);
    stack.stop().await;
}
