//! Click-to-call into a conference room with `confpin`: room `team` (extension 710, PIN 555);
//! `POST /callcontroller/4005/710?confpin=555` rings 4005, which answers and is in the room;
//! the status document reports 4005's INVITE responses, then the transfer into the bridge.
//! A wrong PIN places nothing and the status says the bridge refused (403).
use patchbay_api::EventKind;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confpin_puts_the_caller_in_the_room() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                M::PUT,
                "/api/v1/tenants/demo/conferences/team",
            )
            .json(&json!({"extension": "710", "pin": "555"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p5 = free_port();
    stack.register("4005", p5).await;
    let rtp5 = RtpPeer::new(true).await;
    let phone = Sipp::answering(p5, 200, rtp5.port());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let cc = |query: &str| {
        gw.http
            .request(
                M::POST,
                format!("{}/callcontroller/4005/710?{query}", gw.sipx_cc),
            )
            .basic_auth("4005", Some("web-4005"))
    };
    // Built from the call's events in the store's event log: asked until it shows `lines`
    // status lines (bounded).
    let gwr = &gw;
    let status = |lines: usize| async move {
        let gw = gwr;
        let mut body = String::new();
        for _ in 0..50 {
            body = gw
                .send(
                    gw.http
                        .get(format!("{}/callcontroller/4005/710", gw.sipx_cc))
                        .basic_auth("4005", Some("web-4005")),
                )
                .await
                .body;
            if body.matches("<status-line>").count() >= lines {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        body
    };
    let r = gw.send(cc("confpin=555")).await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let call = stack.call_in_state(patchbay_api::CallState::Bridged).await;
    stack
        .wait_event(&call.id, 15, |k| {
            matches!(k, EventKind::ConferenceJoined { .. })
        })
        .await;
    let members = stack.api.conference("demo", "team").await.unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0].party, "4005");
    let doc = status(4).await;
    let lines: Vec<&str> = doc
        .split("<status-line>")
        .skip(1)
        .map(|s| &s[..s.find('<').unwrap()])
        .collect();
    assert_eq!(
        lines,
        [
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK",
            "SIP/2.0 100 Trying",
            "SIP/2.0 200 OK"
        ],
        "{doc}"
    );
    stack.api.hangup(&call.id).await.unwrap();
    assert_one_terminal(&stack.events_until_end(&call.id).await);
    assert_eq!(phone.wait(15).await, 0);

    // A wrong PIN: nothing rings, the status says why.
    let r = gw.send(cc("confpin=000")).await;
    assert_eq!(r.status, 200);
    let doc = status(1).await;
    assert!(
        doc.contains("<method>INVITE</method>\n\t<status-line>SIP/2.0 403 Forbidden</status-line>"),
        "{doc}"
    );
    assert!(
        stack
            .api
            .list_calls()
            .await
            .unwrap()
            .iter()
            .all(|c| c.ended_ms.is_some())
    );
    gw.stop().await;
    stack.stop().await;
}
