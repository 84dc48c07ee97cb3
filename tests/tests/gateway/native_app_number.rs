//! Application numbers through the native API: a tenant admin makes 8000 an application
//! number (a user's extension cannot be one); a phone (SIPp 4005) dials 8000 and the B2BUA
//! answers it itself; the tenant's event feed (long poll, and the SSE stream, resumable from
//! `Last-Event-ID`) carries `incoming` with the call; the client beeps into the call and the
//! phone hears it; another tenant's feed shows nothing of it.
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::{Value, json};
use std::time::Duration;

const DEMO: (&str, &str) = ("demo-key", "demo-secret");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_an_application_number_reaches_the_tenant_feed() {
    let stack = Stack::start().await;
    add_system_key(&stack).await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key(DEMO.0, DEMO.1, m, path);
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/app-numbers/8000").json(&json!({"label": "IVR"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/app-numbers"))
        .await;
    assert_eq!(r.json(), json!([{"number": "8000", "label": "IVR"}]));
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/app-numbers/4005"))
        .await;
    assert_eq!(r.status, 409, "a user's extension: {}", r.body);
    let r = gw
        .send(demo(M::PUT, "/api/v1/tenants/demo/app-numbers/80a"))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Where the feed stands before the call.
    let r = gw.send(demo(M::GET, "/api/v1/events?after=0")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let start = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["gseq"].as_u64().unwrap())
        .max()
        .unwrap_or(0);

    let rtp = RtpCapture::new().await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "8000",
        rtp.port(),
        &["-set", "talk_ms", "2500"],
    );
    // The tenant's feed: `incoming` names the call.
    let mut after = start;
    let mut incoming: Option<Value> = None;
    for _ in 0..20 {
        let r = gw
            .send(demo(
                M::GET,
                &format!("/api/v1/events?after={after}&wait_ms=500"),
            ))
            .await;
        for e in r.json().as_array().unwrap() {
            after = e["gseq"].as_u64().unwrap();
            if e["type"] == "incoming" {
                incoming = Some(e.clone());
            }
        }
        if incoming.is_some() {
            break;
        }
    }
    let incoming = incoming.expect("an incoming event on the tenant feed");
    assert_eq!(
        (
            incoming["from"].as_str(),
            incoming["number"].as_str(),
            incoming["tenant"].as_str()
        ),
        (Some("4005"), Some("8000"), Some("demo"))
    );
    let id = incoming["call"].as_str().unwrap().to_string();
    let r = gw.send(demo(M::GET, &format!("/api/v1/calls/{id}"))).await;
    assert_eq!(
        (r.json()["app"].as_bool(), r.json()["state"].as_str()),
        (Some(true), Some("bridged"))
    );
    let r = gw
        .send(demo(M::POST, &format!("/api/v1/calls/{id}/tone")).json(&json!({"tone": "beep"})))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);

    // The SSE stream resumes after the incoming event (Last-Event-ID = its gseq).
    let gseq = incoming["gseq"].as_u64().unwrap();
    let mut stream = gw
        .http
        .get(format!("{}/api/v1/events/stream", gw.base))
        .basic_auth(DEMO.0, Some(DEMO.1))
        .header("last-event-id", gseq.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains("event: tone_finished") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await {
            Ok(Ok(Some(c))) => text.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    assert!(text.contains("event: tone_finished"), "{text}");
    assert!(
        !text.contains("event: incoming"),
        "resumed after it: {text}"
    );
    let first_id: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(first_id > gseq);
    drop(stream);
    assert!(rms(&rtp.audio()) > 300.0, "the phone heard the beep");

    // Another tenant's feed shows nothing of it; users do not read the tenant feed.
    let (key, secret) = gw.onboard("acme").await;
    let r = gw
        .send(gw.as_key(
            &key,
            &secret,
            M::GET,
            &format!("/api/v1/events?after={start}"),
        ))
        .await;
    assert_eq!(r.json(), json!([]), "{}", r.body);
    let r = gw
        .send(gw.as_key("4005", "web-4005", M::GET, "/api/v1/events"))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    assert_eq!(
        caller.wait(20).await,
        0,
        "the caller was answered and hung up"
    );
    let r = gw
        .send(demo(M::DELETE, "/api/v1/tenants/demo/app-numbers/8000"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/app-numbers"))
        .await;
    assert_eq!(r.json(), json!([]));
    gw.stop().await;
    stack.stop().await;
}
