//! A phone that did not agree on telephone-event (PCMA only) sends its keys as tones in the
//! audio: the engine hears them in-band (Goertzel) and the collection ends on `max_digits`.
use patchbay_api::{EventKind, MediaReason, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_sent_as_tones_are_heard_in_band() {
    let stack = Stack::start().await;
    let (call, phone, rtp) = app_call_captured(&stack, "uas_answer_no_dtmf.xml").await;
    let cmd = stack.command(&call.id, &collect(3, 3, "#")).await;
    let to = relay_addr(&stack.api, &call.id, Side::A).await;
    let mut stream = PhoneStream::default();
    let mut packets: Vec<Vec<u8>> = (0..5).map(|_| stream.audio(&[0; 160])).collect();
    packets.extend(stream.inband("159"));
    send_paced(&rtp.sock, to, &packets).await;
    let done = stack.done(&call.id, cmd, 10).await;
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
