//! Ozeki's `Call` as the vendor's click-to-call and reminder samples send it: `POST /` with
//! `Command=Call&Dialed=4007&CallerDisplayName=...&Url=...`, no credentials and no
//! `ApiExtension`: 4007 rings showing the display name, answers, the app hears
//! `CallConnected` and its OzML (no XML declaration) is spoken to 4007 (every sample reaches
//! the phone), then the call ends; the tenant's `CallChanged` URL hears each state once. A
//! call to a user with no phone is refused (`402`); a busy one is placed and `ErrorUrl` hears
//! why it failed; an answered call whose app replies with broken XML is hung up and
//! `ErrorUrl` hears that; a program that only `GoTo`s itself is cut off.
use patchbay_tests::media::*;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_speaks_the_connected_ozml() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let mut app = Receiver::on(free_port());
    app.start().await;
    gw.ozeki_settings(json!({"call_changed_url": app.url("/changed")}))
        .await;
    app.set_reply_for(
        "/connected",
        "<Response><Speak>Hello. This is a reminder of your appointment tomorrow at nine.</Speak></Response>",
    );

    let p7 = free_port();
    stack.register("4007", p7).await;
    let rtp7 = RtpCapture::new().await;
    let phone7 = Sipp::answering(p7, 300, rtp7.port());
    let r = gw
        .send(
            gw.http
                .post(format!("{}/", gw.ozeki))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "Command=Call&Dialed=4007&CallerDisplayName=Dental+Clinic&Url={}&ErrorUrl={}",
                    app.url("/connected"),
                    app.url("/error")
                )),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Code>200</Code>"), "{}", r.body);

    let connected = app.wait_for("/connected", 1, 15).await;
    let connected = connected.first().expect("CallConnected");
    assert_eq!(
        connected.field("NotificationName").as_deref(),
        Some("CallConnected")
    );
    assert_eq!(connected.field("Dialed").as_deref(), Some("4007"));
    assert_eq!(
        connected.field("CallerDisplayName").as_deref(),
        Some("Dental Clinic")
    );
    let id = connected.field("CallId").unwrap();
    // Spoken to its end, then the API extension hangs up.
    let (code, messages) = phone7.wait_messages(30).await;
    assert_eq!(code, 0);
    let invite = received_invite(&messages);
    assert!(invite.contains("Dental Clinic"), "{invite}");
    let events = stack
        .events_until_end(&patchbay_api::CallId(id.clone()))
        .await;
    let played = events
        .iter()
        .find_map(|e| match &e.kind {
            patchbay_api::EventKind::PlayFinished { played_ms, .. } => Some(*played_ms),
            _ => None,
        })
        .expect("the OzML was spoken");
    assert!(played > 2_000, "a sentence: {played} ms");
    let audio = rtp7.audio();
    assert!(
        audio.len() as u64 >= played * 8,
        "every sample reached the phone: {} of {}",
        audio.len(),
        played * 8
    );
    assert!(rms(&audio) > 500.0, "speech, not silence");
    let states: Vec<String> = app
        .wait_for("/changed", 4, 10)
        .await
        .iter()
        .filter(|h| h.field("CallId").as_deref() == Some(id.as_str()))
        .map(|h| h.field("CallState").unwrap_or_default())
        .collect();
    assert_eq!(states, ["Ringing", "Answered", "InCall", "Completed"]);

    // 4009 has no phone: refused at once, 402 with the result state.
    let call_4009 = || {
        gw.send(gw.http.get(format!(
            "{}/?Command=Call&Dialed=4009&Url={}&ErrorUrl={}",
            gw.ozeki,
            app.url("/connected"),
            app.url("/error")
        )))
    };
    let r = call_4009().await;
    assert!(
        r.body.contains(
            "<Code>402</Code>\r\n  <Message>Call connect to '4009' failed with result state 'NotFound'</Message>"
        ),
        "{}",
        r.body
    );
    // 4009's phone is busy: the call is placed (200), then ErrorUrl hears why.
    let p9 = free_port();
    stack.register("4009", p9).await;
    let busy = Sipp::phone("uas_busy.xml", p9, &[]);
    let r = call_4009().await;
    assert!(r.body.contains("<Code>200</Code>"), "{}", r.body);
    let err = app.wait_for("/error", 1, 10).await;
    let err = err.first().expect("the error notification");
    assert_eq!(err.field("NotificationName").as_deref(), Some("Error"));
    assert_eq!(
        err.field("ErrorMessage").as_deref(),
        Some("Call connect to '4009' failed with result state 'Busy'")
    );
    assert_eq!(busy.wait(10).await, 0);

    // A reply that is not OzML: the call is hung up and ErrorUrl hears why.
    app.set_reply_for("/broken", "<Response><Speak>Hello");
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    let r = gw
        .send(gw.http.get(format!(
            "{}/?Command=Call&Dialed=4007&Url={}&ErrorUrl={}",
            gw.ozeki,
            app.url("/broken"),
            app.url("/broken-error")
        )))
        .await;
    assert!(r.body.contains("<Code>200</Code>"), "{}", r.body);
    assert_eq!(phone7.wait(15).await, 0, "answered, then hung up");
    let err = app.wait_for("/broken-error", 1, 10).await;
    let msg = err
        .first()
        .and_then(|h| h.field("ErrorMessage"))
        .unwrap_or_default();
    assert!(msg.contains("is not OzML"), "{msg}");

    // A program that only fetches itself (GoTo loop) is cut off after 20 fetches: hung up.
    let looping = format!("<Response><GoTo>{}</GoTo></Response>", app.url("/loop"));
    app.set_reply_for("/loop", &looping);
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    let r = gw
        .send(gw.http.get(format!(
            "{}/?Command=Call&Dialed=4007&Url={}",
            gw.ozeki,
            app.url("/loop")
        )))
        .await;
    assert!(r.body.contains("<Code>200</Code>"), "{}", r.body);
    assert_eq!(phone7.wait(15).await, 0, "answered, then hung up");
    let loops = app.hooks().iter().filter(|h| h.path == "/loop").count();
    assert_eq!(loops, 21, "CallConnected and 20 GoTo fetches");
    gw.stop().await;
    stack.stop().await;
}
