//! Forwarding settings that vendor and native APIs write now change where the next call
//! rings: Taridium URL control `fwdnr=4009` forwards 4007 unconditionally (4009's phone rings
//! with a Diversion naming 4007), `fwd=0` turns it off (4007 rings again); a loop set up
//! through the native API (4007 -> 4009 -> 4007) is cut (4009 rings, once); do-not-disturb
//! with a busy forward sends the call to 4009 at once; Brekeke's SOAP `setUserProperties`
//! with `phoneforward` forwards 4007 again.
use patchbay_api::{CallState, EventKind};
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

/// 4005 calls 4007; `rung` (4007 or 4009) answers: its INVITE's Diversion header (if any).
async fn call(stack: &Stack, rung: &str) -> Option<String> {
    let (p5, pr) = (free_port(), free_port());
    stack.register(rung, pr).await;
    let (rtp5, rtpr) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let phone = Sipp::answering(pr, 200, rtpr.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        stack,
        p5,
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "500"],
    );
    let c = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(c.connected.as_deref(), Some(rung), "{c:?}");
    assert_eq!(caller.wait(20).await, 0);
    let events = stack.events_until_end(&c.id).await;
    let forwards = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Forwarded { .. }))
        .count();
    assert!(
        forwards <= 1,
        "forwarded once at most: {:?}",
        kinds(&events)
    );
    let (code, trace) = phone.wait_messages(10).await;
    assert_eq!(code, 0);
    received_invite(&trace)
        .lines()
        .find_map(|l| l.strip_prefix("Diversion: "))
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_set_through_the_apis_moves_the_next_call() {
    let stack = Stack::start().await;
    add_system_key(&stack).await;
    let gw = stack.gateway(|_| {});
    let sip = stack.sip();

    let r = gw.get("/user/c/?key=DEMO07&fwdnr=4009").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        call(&stack, "4009").await.as_deref(),
        Some(format!("<sip:4007@{sip}>;reason=unconditional;counter=1").as_str())
    );
    let r = gw.get("/user/c/?key=DEMO07&fwd=0").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        call(&stack, "4007").await,
        None,
        "forwarding off: 4007 rings"
    );

    // A loop: 4007 -> 4009 -> 4007. It is cut: 4009 rings.
    let demo = |path: &str| gw.as_key("demo-key", "demo-secret", M::PUT, path);
    for (user, to) in [("4007", "4009"), ("4009", "4007")] {
        let r = gw
            .send(
                demo(&format!("/api/v1/tenants/demo/users/{user}"))
                    .json(&json!({"forward_to": to, "forward_on": true})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert!(call(&stack, "4009").await.is_some());

    // Do not disturb, with a busy forward.
    for (user, body) in [
        ("4009", json!({"forward_on": false})),
        (
            "4007",
            json!({"forward_on": false, "dnd": true, "forward_busy": "4009"}),
        ),
    ] {
        let r = gw
            .send(demo(&format!("/api/v1/tenants/demo/users/{user}")).json(&body))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = gw
        .send(gw.as_key(
            "demo-key",
            "demo-secret",
            M::GET,
            "/api/v1/tenants/demo/users/4007",
        ))
        .await;
    assert_eq!(
        (
            r.json()["settings"]["dnd"].as_bool(),
            r.json()["settings"]["forward_busy"].as_str()
        ),
        (Some(true), Some("4009"))
    );
    assert_eq!(
        call(&stack, "4009").await.as_deref(),
        Some(format!("<sip:4007@{sip}>;reason=user-busy;counter=1").as_str())
    );
    let r = gw
        .send(
            demo("/api/v1/tenants/demo/users/4007").json(&json!({"forward_busy": "not a number!"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Brekeke SOAP: phoneforward (DND off first).
    let r = gw
        .send(demo("/api/v1/tenants/demo/users/4007").json(&json!({"dnd": false})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let envelope = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://127.0.0.1/pbx/services/UserImpl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:setUserProperties><in0 xsi:type="xsd:string">4007</in0><in1 SOAP-ENC:arrayType="xsd:string[1]" xsi:type="ns1:ArrayOf_xsd_string"><item xsi:type="xsd:string">phoneforward</item></in1><in2 SOAP-ENC:arrayType="xsd:string[1]" xsi:type="ns1:ArrayOf_xsd_string"><item xsi:type="xsd:string">4009</item></in2></ns1:setUserProperties></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
    let r = gw
        .send(
            gw.http
                .post(format!("{}/pbx/services/UserImpl", gw.base))
                .header("content-type", "text/xml; charset=utf-8")
                .header("soapaction", "\"\"")
                .body(envelope),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("setUserPropertiesResponse"), "{}", r.body);
    assert_eq!(
        call(&stack, "4009").await.as_deref(),
        Some(format!("<sip:4007@{sip}>;reason=unconditional;counter=1").as_str())
    );
    gw.stop().await;
    stack.stop().await;
}
