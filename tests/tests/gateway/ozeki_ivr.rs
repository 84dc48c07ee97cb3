//! Ozeki's HTTP IVR sample, reproduced with a local app: 9000 is an API extension; a SIPp
//! phone (4005) calls it; the app's `IncomingCall` reply asks `UserInput` for 4 digits with a
//! spoken prompt; the phone sends 1 2 3 4 as RFC 4733 events; the digits are POSTed as
//! `DtmfDigits` to `enteredUrl`; that reply `GoTo`s another URL whose OzML (no XML
//! declaration, served as text/html) speaks a balance and offers `Input key="2"` with
//! `<BlindTransfer>4007</BlindTransfer>`; the phone presses 2 and 4007 rings, answers and
//! hears 4005. The extension's `CallChanged` notifications arrive in order.
use patchbay_api::{CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::webhook::{Hook, Receiver};
use patchbay_tests::*;
use serde_json::json;
use std::time::Duration;

async fn hook(app: &Receiver, path: &str, secs: u64) -> Hook {
    let got = app.wait_for(path, 1, secs).await;
    got.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no request to {path}: {:?}", app.hooks()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_ivr_then_balance_then_transfer() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let mut app = Receiver::on(free_port());
    app.start().await;
    gw.api_extension(
        "9000",
        json!({
            "incoming_call_url": app.url("/incoming"),
            "call_changed_url": app.url("/changed"),
        }),
    )
    .await;
    app.set_reply_for(
        "/incoming",
        &format!(
            "\n<?xml version=\"1.0\"?>\n<Response><UserInput Digits=\"4\" Timeout=\"8\" enteredUrl=\"{}\">\
             <InitialCommands><Speak>Please enter your PIN.</Speak></InitialCommands>\
             </UserInput></Response>",
            app.url("/pin")
        ),
    );
    app.set_reply_for(
        "/pin",
        &format!("<Response><GoTo>{}</GoTo></Response>", app.url("/balance")),
    );
    app.set_reply_for(
        "/balance",
        "<response><userinput timeout='8'><initialcommands>\
         <speak>Your balance is forty two dollars. Press 2 for an agent.</speak>\
         </initialcommands><inputs><input key='2'><BlindTransfer>4007</BlindTransfer></input>\
         </inputs></userinput></response>",
    );

    let p7 = free_port();
    stack.register("4007", p7).await;
    let rtp7 = RtpPeer::new(true).await;
    let phone7 = Sipp::answering(p7, 300, rtp7.port());
    let rtp5 = RtpCapture::new().await;
    let caller = Sipp::dial(&stack, "4005", "9000", rtp5.port());
    let mut call = None;
    for _ in 0..100 {
        let calls = stack.api.list_calls().await.unwrap();
        call = calls
            .into_iter()
            .find(|c| c.from == "4005" && c.state == CallState::Bridged)
            .map(|c| c.id);
        if call.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let call = call.expect("the API extension answered");

    // IncomingCall: a form POST, NotificationName first, Ozeki's cache headers.
    let incoming = hook(&app, "/incoming", 10).await;
    assert_eq!(incoming.method, "POST");
    assert_eq!(
        incoming.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(incoming.header("cache-control"), Some("no-store,no-cache"));
    assert_eq!(incoming.header("pragma"), Some("no-cache"));
    assert_eq!(incoming.field_names()[0], "NotificationName");
    assert_eq!(
        incoming.field("NotificationName").as_deref(),
        Some("IncomingCall")
    );
    assert_eq!(incoming.field("CallId").as_deref(), Some(call.0.as_str()));
    assert_eq!(incoming.field("Caller").as_deref(), Some("4005"));
    assert_eq!(incoming.field("ApiExtension").as_deref(), Some("9000"));

    // The PIN prompt plays to its end; then the phone keys 1234.
    let relay = relay_addr(&stack.api, &call, Side::A).await;
    stack
        .wait_event(&call, 15, |k| matches!(k, EventKind::PlayFinished { .. }))
        .await;
    assert!(rms(&rtp5.audio()) > 300.0, "the phone heard the prompt");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut keys = PhoneStream::default();
    send_paced(&rtp5.sock, relay, &keys.rfc4733("1234")).await;
    let pin = hook(&app, "/pin", 15).await;
    assert_eq!(
        pin.field("NotificationName").as_deref(),
        Some("DtmfEntered")
    );
    assert_eq!(pin.field("DtmfDigits").as_deref(), Some("1234"));
    assert_eq!(pin.field("CallId").as_deref(), Some(call.0.as_str()));
    let goto = hook(&app, "/balance", 10).await;
    assert_eq!(goto.field("NotificationName").as_deref(), Some("GoTo"));

    // The balance plays; the phone presses 2: 4007 rings and answers.
    let played = |k: &EventKind| matches!(k, EventKind::PlayFinished { .. });
    let mut seen = 0;
    for _ in 0..150 {
        let evs = stack.api.events(&call, 0, Duration::ZERO).await.unwrap();
        seen = evs.iter().filter(|e| played(&e.kind)).count();
        if seen >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 2, "the balance was spoken to its end");
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_paced(&rtp5.sock, relay, &keys.rfc4733("2")).await;
    let ev = stack
        .wait_event(&call, 15, |k| matches!(k, EventKind::Transferred { .. }))
        .await;
    assert!(
        matches!(&ev.kind, EventKind::Transferred { target } if target == "4007"),
        "{ev:?}"
    );
    let said = test_signal_seeded(8_000, 1.0, 29);
    let packets = phone_packets(&said);
    send_paced(&rtp5.sock, relay, &packets).await;
    assert!(
        rtp7.wait_received(packets.len() as u64).await >= packets.len() as u64,
        "4005's audio reached 4007"
    );
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    stack.events_until_end(&call).await;

    // CallChanged, in order, each change once.
    let mut states = Vec::new();
    for _ in 0..100 {
        states = app
            .hooks()
            .iter()
            .filter(|h| h.path == "/changed")
            .map(|h| h.field("CallState").unwrap_or_default())
            .collect::<Vec<_>>();
        if states.last().is_some_and(|s| s == "Completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        states,
        ["Answered", "InCall", "Transferred", "Completed"],
        "{:?}",
        app.hooks()
    );
    let changed = app
        .hooks()
        .into_iter()
        .find(|h| h.path == "/changed")
        .unwrap();
    assert_eq!(changed.field("CallId").as_deref(), Some(call.0.as_str()));
    assert_eq!(changed.field("ApiExtension").as_deref(), Some("9000"));
    gw.stop().await;
    stack.stop().await;
}
