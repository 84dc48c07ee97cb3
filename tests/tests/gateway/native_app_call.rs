//! The native API's application call: `POST /api/v1/calls` with `"app": true` rings a SIPp
//! phone and holds the answered call in the media engine; `/play` speaks into it, `/collect`
//! gathers the RFC 4733 keys the phone sends, the events come through the gateway's event
//! feed; the call joins a conference room (listed, muted, left at hangup); another tenant can
//! neither see nor drive the call nor see the room; bad requests get the API's 400.
use patchbay_api::Side;
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::{Value, json};
use std::time::Duration;

const DEMO: (&str, &str) = ("demo-key", "demo-secret");

/// Events of `id` through the gateway until one of `ty` (its JSON).
async fn wait_for(gw: &Gw, id: &str, ty: &str) -> (Value, Vec<Value>) {
    wait_until(gw, id, |e| e["type"] == ty).await
}

/// Events of `id` through the gateway until one that `pick` accepts.
async fn wait_until(gw: &Gw, id: &str, pick: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
    let mut after = 0;
    let mut all = Vec::new();
    for _ in 0..40 {
        let r = gw
            .send(gw.as_key(
                DEMO.0,
                DEMO.1,
                M::GET,
                &format!("/api/v1/calls/{id}/events?after={after}&wait_ms=500"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        for e in r.json().as_array().unwrap() {
            after = e["seq"].as_u64().unwrap();
            all.push(e.clone());
            if pick(e) {
                return (e.clone(), all);
            }
        }
    }
    panic!("no such event: {all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_call_through_the_native_api() {
    let stack = Stack::start().await;
    add_system_key(&stack).await;
    let gw = stack.gateway(|_| {});
    let p4007 = free_port();
    stack.register("4007", p4007).await;
    let rtp = RtpCapture::new().await;
    let phone = Sipp::answering(p4007, 200, rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let demo = |m, path: &str| gw.as_key(DEMO.0, DEMO.1, m, path);

    // An application call has a caller id, not a calling party.
    let r = gw
        .send(
            demo(M::POST, "/api/v1/calls")
                .json(&json!({"to": "4007", "app": true, "from": "not a number"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = gw
        .send(
            demo(M::POST, "/api/v1/calls")
                .json(&json!({"to": "4007", "app": true, "from": "+15550100"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let call = r.json();
    let id = call["id"].as_str().unwrap().to_string();
    assert_eq!(call["app"], true);
    wait_for(&gw, &id, "answered").await;

    let r = gw
        .send(
            demo(M::POST, &format!("/api/v1/calls/{id}/play"))
                .json(&json!({"text": "Enter your code", "barge_in": true})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let play = r.json()["command"].as_u64().unwrap();
    let r = gw
        .send(demo(M::POST, &format!("/api/v1/calls/{id}/collect")).json(&json!({"max_digits": 6})))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let collect = r.json()["command"].as_u64().unwrap();
    // Refused before anything happens: two sources, a bad key, an unknown command.
    for (verb, body) in [
        ("play", json!({"text": "x", "file": "y.wav"})),
        ("dtmf", json!({"digits": "12x"})),
        ("collect", json!({"max_digits": 0})),
    ] {
        let r = gw
            .send(demo(M::POST, &format!("/api/v1/calls/{id}/{verb}")).json(&body))
            .await;
        assert_eq!(r.status, 400, "{verb}: {}", r.body);
    }
    let r = gw
        .send(demo(M::POST, &format!("/api/v1/calls/{id}/stop")).json(&json!({"command": 999_999})))
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Another tenant cannot drive it.
    let (key, secret) = gw.onboard("acme").await;
    let r = gw
        .send(
            gw.as_key(&key, &secret, M::POST, &format!("/api/v1/calls/{id}/play"))
                .json(&json!({"text": "hi"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let to = relay_addr(&stack.api, &call_id(&id), Side::A).await;
    send_paced(&rtp.sock, to, &PhoneStream::default().rfc4733("42#")).await;
    let (digits, all) = wait_for(&gw, &id, "digits").await;
    assert_eq!(digits["command"].as_u64(), Some(collect));
    assert_eq!(
        (digits["digits"].as_str(), digits["reason"].as_str()),
        (Some("42"), Some("terminator"))
    );
    let played = all
        .iter()
        .find(|e| e["type"] == "play_finished")
        .expect("the prompt ended");
    assert_eq!(played["command"].as_u64(), Some(play));
    assert!(["barge_in", "finished"].contains(&played["reason"].as_str().unwrap()));
    let keys: Vec<&str> = all
        .iter()
        .filter(|e| e["type"] == "dtmf")
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["4", "2", "#"]);
    assert!(rms(&rtp.audio()) > 300.0, "the prompt was heard");

    // Hold music: a looped prompt until stopped (a play with repeat).
    write_wav(
        &stack.dir.join("prompts/demo/music.wav"),
        8_000,
        &test_signal(8_000, 0.2),
    );
    let r = gw
        .send(demo(M::POST, &format!("/api/v1/calls/{id}/hold_music")).json(&json!({})))
        .await;
    assert_eq!(r.status, 400, "a source is needed: {}", r.body);
    let r = gw
        .send(
            demo(M::POST, &format!("/api/v1/calls/{id}/hold_music"))
                .json(&json!({"file": "music.wav"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let music = r.json()["command"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let r = gw
        .send(demo(M::POST, &format!("/api/v1/calls/{id}/stop")).json(&json!({"command": music})))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let (ended, _) = wait_until(&gw, &id, |e| {
        e["type"] == "play_finished" && e["command"].as_u64() == Some(music)
    })
    .await;
    assert_eq!(ended["reason"], "stopped");
    assert!(
        ended["played_ms"].as_u64().unwrap() >= 600,
        "looped past its 200 ms: {ended}"
    );

    // A conference room: join, listed to the tenant's admin (not to another tenant), muted.
    let r = gw
        .send(
            demo(M::POST, &format!("/api/v1/calls/{id}/conference")).json(&json!({"room": "team"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for(&gw, &id, "conference_joined").await;
    let r = gw.send(demo(M::GET, "/api/v1/conferences/team")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let members = r.json()["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 1, "{}", r.body);
    assert_eq!(
        (members[0]["party"].as_str(), members[0]["muted"].as_bool()),
        (Some("4007"), Some(false))
    );
    let r = gw
        .send(gw.as_key(&key, &secret, M::GET, "/api/v1/conferences/team"))
        .await;
    assert_eq!(r.json()["members"], json!([]), "{}", r.body);
    let r = gw
        .send(demo(M::POST, &format!("/api/v1/calls/{id}/mute")).json(&json!({"muted": true})))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = gw.send(demo(M::GET, "/api/v1/conferences/team")).await;
    assert_eq!(r.json()["members"][0]["muted"], true, "{}", r.body);
    let r = gw
        .send(
            demo(M::POST, &format!("/api/v1/calls/{id}/conference"))
                .json(&json!({"room": "no room!"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    let r = gw
        .send(demo(M::DELETE, &format!("/api/v1/calls/{id}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, all) = wait_for(&gw, &id, "ended").await;
    assert!(
        all.iter()
            .any(|e| e["type"] == "conference_left" && e["reason"] == "hangup")
    );
    assert_eq!(phone.wait(10).await, 0);
    gw.stop().await;
    stack.stop().await;
}

fn call_id(id: &str) -> patchbay_api::CallId {
    patchbay_api::CallId(id.to_string())
}
