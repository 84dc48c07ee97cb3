//! A click-to-call to a colleague who is away goes to the colleague's mailbox, as a call from
//! a phone does: Taridium's URL control places 4005 -> 4007 (no phone registered, voicemail
//! on); 4005's phone rings and answers, hears 4007's greeting (decoded RTP, not silent) and
//! the beep, says 3 s of a known signal, and the B2BUA ends the call after the silence. The
//! message is in 4007's inbox from 4005 and holds what was said.
use patchbay_api::EventKind;
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_callee_of_a_click_to_call_takes_a_message() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let p5 = free_port();
    stack.register("4005", p5).await;
    let rtp = RtpCapture::new().await;
    let phone = Sipp::answering(p5, 200, rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = gw.get("/user/c/?key=DEMO05&call=4007").await;
    assert_eq!(r.body, "OK: CALL PLACED");
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    let fwd = stack
        .wait_event(&call.id, 15, |k| matches!(k, EventKind::Forwarded { .. }))
        .await;
    assert!(
        matches!(&fwd.kind, EventKind::Forwarded { from, to, .. } if from == "4007" && to == "voicemail"),
        "{fwd:?}"
    );
    stack
        .wait_event(&call.id, 20, |k| {
            matches!(k, EventKind::ToneFinished { .. })
        })
        .await;
    assert!(rms(&rtp.audio()) > 300.0, "4005 heard the greeting");
    let said = test_signal_seeded(8_000, 3.0, 41);
    let relay = relay_addr(&stack.api, &call.id, patchbay_api::Side::A).await;
    send_paced(&rtp.sock, relay, &phone_packets(&said)).await;
    assert_eq!(
        phone.wait(20).await,
        0,
        "4005 was sent BYE after the message"
    );
    let r = gw
        .send(gw.as_key(
            "demo-key",
            "demo-secret",
            M::GET,
            "/api/v1/tenants/demo/users/4007/voicemail?folder=inbox",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json().as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["caller"], "4005");
    let id = list[0]["id"].as_str().unwrap().to_string();
    let wav = gw
        .as_key(
            "demo-key",
            "demo-secret",
            M::GET,
            &format!("/api/v1/tenants/demo/users/4007/voicemail/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status(), 200);
    let bytes = wav.bytes().await.unwrap();
    let rd = hound::WavReader::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let samples: Vec<i16> = rd.into_samples::<i16>().map(Result::unwrap).collect();
    let (corr, _) = best_correlation(&pcma(&said), &without_inserted_silence(&samples));
    assert!(corr > 0.9, "the message is what 4005 said: {corr:.3}");
    gw.stop().await;
    stack.stop().await;
}
