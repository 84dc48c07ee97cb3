//! Ozeki's `Record` on a live call: 4005 calls 4007 (SIPp phones, real RTP); the app starts a
//! recording with a `FinishedURL`; both phones talk; the call is hung up; the app
//! hears `RecordCompleted` with a `RecordURL` that serves the WAV: 4005 on the left, 4007
//! on the right (decoded and correlated). A `RecordURL` with a wrong key is a 404; `Format=mp3` is a 302.
use patchbay_api::{CallState, Side};
use patchbay_tests::media::*;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_then_download_the_record_url() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let mut app = Receiver::on(free_port());
    app.start().await;
    let g = &gw;
    let ozeki = |q: String| async move { g.ozeki(&q).await };
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let (rtp5, rtp7) = (RtpCapture::new().await, RtpCapture::new().await);
    let phone5 = Sipp::answering(p5, 100, rtp5.port());
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                reqwest::Method::POST,
                "/api/v1/calls",
            )
            .json(&serde_json::json!({"from": "4005", "to": "4007"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = stack.call_in_state(CallState::Bridged).await.id;

    let r = ozeki(format!("command=Record&CallId={id}&Format=mp3")).await;
    assert!(
        r.contains("Missing or invalid parameter 'Format' for command 'Record'"),
        "{r}"
    );
    let r = ozeki(format!(
        "command=Record&CallId={id}&Format=wav&FinishedURL={}",
        app.url("/recorded")
    ))
    .await;
    assert!(r.contains("<Code>200</Code>"), "{r}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (said5, said7) = (
        test_signal_seeded(8_000, 1.0, 51),
        test_signal_seeded(8_000, 1.0, 52),
    );
    let to_7 = relay_addr(&stack.api, &id, Side::A).await;
    let to_5 = relay_addr(&stack.api, &id, Side::B).await;
    let (p5, p7) = (phone_packets(&said5), phone_packets(&said7));
    tokio::join!(
        send_paced(&rtp5.sock, to_7, &p5),
        send_paced(&rtp7.sock, to_5, &p7)
    );
    // The last packets reach the recording before the hangup (as a phone's words do).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = ozeki(format!("command=Hangup&CallId={id}")).await;
    assert!(r.contains("<Code>200</Code>"), "{r}");
    assert_eq!(phone5.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);

    let done = app.wait_for("/recorded", 1, 10).await;
    let done = done.first().expect("RecordCompleted");
    assert_eq!(
        done.field("NotificationName").as_deref(),
        Some("RecordCompleted")
    );
    assert_eq!(done.field("CallId").as_deref(), Some(id.0.as_str()));
    let url = done.field("RecordURL").expect("RecordURL");
    assert!(
        url.starts_with(&format!("{}/HttpRecordings/", gw.ozeki)),
        "{url}"
    );
    let wav = gw.http.get(&url).send().await.unwrap();
    assert_eq!(wav.status(), 200);
    assert_eq!(wav.headers()["content-type"], "audio/wav");
    let bytes = wav.bytes().await.unwrap();
    let mut rd = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let spec = rd.spec();
    let samples: Vec<i16> = rd.samples::<i16>().map(Result::unwrap).collect();
    let ch = usize::from(spec.channels).max(1);
    let channel = |c: usize| -> Vec<i16> { samples.iter().skip(c).step_by(ch).copied().collect() };
    assert_eq!((spec.channels, spec.sample_rate), (2, 8_000), "stereo");
    let heard5 = best_correlation(&pcma(&said5), &without_inserted_silence(&channel(0))).0;
    let heard7 = best_correlation(&pcma(&said7), &without_inserted_silence(&channel(1))).0;
    assert!(heard5 > 0.9 && heard7 > 0.9, "{heard5} {heard7}");

    // The link is its own credential: another key is a 404.
    let last = if url.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &url[..url.len() - 1]);
    let r = gw.http.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), 404);
    gw.stop().await;
    stack.stop().await;
}
