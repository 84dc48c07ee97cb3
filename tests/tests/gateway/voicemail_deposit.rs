//! Voicemail end to end: 4007 (ring time 5 s) does not answer 4005's call; the B2BUA answers
//! it, 4005 hears the spoken greeting (decoded RTP, not silent), a beep, then says 3 s of a
//! known signal and hangs up. The message is in 4007's inbox (caller 4005, duration), its audio
//! downloads and correlates with what was said, 4007's phone gets a message-waiting NOTIFY,
//! and the message moves to `saved` and is deleted through the native API. Taridium's
//! `vm=0` then turns voicemail off: the next unanswered call is not taken.
use patchbay_api::EventKind;
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

const DEMO: (&str, &str) = ("demo-key", "demo-secret");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_call_leaves_a_message_the_user_can_read() {
    let stack = Stack::start().await;
    add_system_key(&stack).await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key(DEMO.0, DEMO.1, m, path);
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/users/4007").json(&json!({"ring_secs": 5})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let (p5, p7) = (free_port(), free_port());
    stack.register("4007", p7).await;
    let ringing = Sipp::phone("uas_ring_cancel.xml", p7, &[]);
    let rtp = RtpCapture::new().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        p5,
        "4007",
        rtp.port(),
        &["-set", "talk_ms", "12000"],
    );
    assert_eq!(ringing.wait(15).await, 0, "4007 rang and was cancelled");
    // 4007's phone now waits for the message-waiting NOTIFY.
    let mwi = Sipp::phone("uas_mwi.xml", p7, &[]);
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    assert!(call.app, "the B2BUA took the call");
    stack
        .wait_event(&call.id, 15, |k| {
            matches!(k, EventKind::ToneFinished { .. })
        })
        .await;
    assert!(rms(&rtp.audio()) > 300.0, "the greeting was heard");
    let said = test_signal_seeded(8_000, 3.0, 21);
    let relay = relay_addr(&stack.api, &call.id, patchbay_api::Side::A).await;
    send_paced(&rtp.sock, relay, &phone_packets(&said)).await;
    assert_eq!(
        caller.wait(20).await,
        0,
        "the caller hung up after speaking"
    );
    let events = stack.events_until_end(&call.id).await;
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::Forwarded { to, reason, .. } if to == "voicemail" && reason == "no-answer")));
    assert_eq!(
        mwi.wait(10).await,
        0,
        "4007's phone was told a message waits"
    );

    let r = gw
        .send(demo(
            M::GET,
            "/api/v1/tenants/demo/users/4007/voicemail?folder=inbox",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json().as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["caller"], "4005");
    assert!(
        list[0]["duration_ms"].as_u64().unwrap() >= 3_000,
        "{list:?}"
    );
    let id = list[0]["id"].as_str().unwrap().to_string();
    let wav = gw
        .as_key(
            "4007",
            "web-4007",
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
    assert!(corr > 0.9, "the message is what was said: {corr:.3}");
    // Another user may not read 4007's mailbox.
    let r = gw
        .send(gw.as_key(
            "4005",
            "web-4005",
            M::GET,
            "/api/v1/tenants/demo/users/4007/voicemail",
        ))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let path = format!("/api/v1/tenants/demo/users/4007/voicemail/{id}");
    let r = gw
        .send(
            gw.as_key("4007", "web-4007", M::PUT, &path)
                .json(&json!({"folder": "saved"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["folder"].as_str()),
        (200, Some("saved"))
    );
    let r = gw
        .send(demo(
            M::GET,
            "/api/v1/tenants/demo/users/4007/voicemail?folder=inbox",
        ))
        .await;
    assert_eq!(r.json(), json!([]));
    let r = gw.send(demo(M::DELETE, &path)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(gw.send(demo(M::GET, &path)).await.status, 404);

    // Taridium's vm=0: the next unanswered call finds no mailbox.
    let r = gw.get("/user/c/?key=DEMO07&vm=0").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (p5b, p7b) = (free_port(), free_port());
    stack.register("4007", p7b).await;
    let ringing = Sipp::phone("uas_ring_cancel.xml", p7b, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rtp2 = RtpPeer::new(false).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        p5b,
        "4007",
        rtp2.port(),
        &["-set", "talk_ms", "1000"],
    );
    assert_ne!(
        caller.wait(20).await,
        0,
        "not answered: the caller's scenario fails"
    );
    assert_eq!(ringing.wait(10).await, 0);
    let cdrs = stack.api.cdrs("demo", 1).await.unwrap();
    assert_eq!(
        (cdrs[0].to.as_str(), cdrs[0].answered_ms, cdrs[0].status),
        ("4007", None, Some(408))
    );
    gw.stop().await;
    stack.stop().await;
}
