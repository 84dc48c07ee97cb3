//! Caller ID on calls placed through the APIs: Taridium's `cid=John Doe <5551234>` is what
//! the called phone (4007) shows (the first leg, 4005's own phone, shows the number dialled);
//! the native API's `"caller_id": "anonymous"` sends an anonymous From with `Privacy: id`; a
//! malformed caller ID is refused before anything rings.
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

/// 4005 then 4007 answer; the INVITEs each phone got (4005's, 4007's).
async fn invites(stack: &Stack, place: impl std::future::Future<Output = ()>) -> (String, String) {
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let r7 = RtpPeer::new(true).await;
    let mp = free_port().to_string();
    let a = Sipp::phone(
        "uas_answer_hangup.xml",
        p5,
        &[
            "-set", "ring_ms", "200", "-set", "talk_ms", "800", "-mp", &mp,
        ],
    );
    let b = Sipp::answering(p7, 200, r7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    place.await;
    let (ca, ta) = a.wait_messages(15).await;
    let (cb, tb) = b.wait_messages(15).await;
    assert_eq!((ca, cb), (0, 0), "{ta}\n{tb}");
    (received_invite(&ta), received_invite(&tb))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_called_phone_shows_the_caller_id_asked_for() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (a, b) = invites(&stack, async {
        let r = gw
            .get("/user/c/?key=DEMO05&call=4007&cid=John%20Doe%20%3C5551234%3E")
            .await;
        assert_eq!(r.body, "OK: CALL PLACED");
    })
    .await;
    assert!(
        a.contains("From: 4007 <sip:4007@"),
        "4005 sees the number it calls:\n{a}"
    );
    assert!(
        b.contains("From: \"John Doe\" <sip:5551234@")
            || b.contains("From: John Doe <sip:5551234@"),
        "{b}"
    );

    let (_, b) = invites(&stack, async {
        let r = gw
            .send(
                gw.as_key("demo-key", "demo-secret", M::POST, "/api/v1/calls")
                    .json(&json!({"from": "4005", "to": "4007", "caller_id": "anonymous"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    })
    .await;
    assert!(b.contains("<sip:anonymous@"), "{b}");
    assert!(b.contains("Privacy: id"), "{b}");

    let r = gw.get("/user/c/?key=DEMO05&call=4007&cid=%3Cbad").await;
    assert_ne!(r.body, "OK: CALL PLACED", "{}", r.body);
    let r = gw
        .send(
            gw.as_key("demo-key", "demo-secret", M::POST, "/api/v1/calls")
                .json(&json!({"from": "4005", "to": "4007", "caller_id": "12 34"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    gw.stop().await;
    stack.stop().await;
}
