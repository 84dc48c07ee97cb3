//! Ozeki's `RoutingInterception`: the demo tenant sets a route interception URL; before a
//! call from 4005 to 4007 rings, the app hears `RoutingInterception` (Ozeki's fields,
//! `LastCallState=Calling`). A reply without `Route` lets the call ring 4007; a reply
//! `<Route Destination="4009"/>` sends the next one to 4009, which answers while 4007's phone
//! never rings. With the app failing the call goes where it was going.
use patchbay_api::CallState;
use patchbay_tests::media::*;
use patchbay_tests::webhook::Receiver;
use patchbay_tests::*;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

async fn answered_by(stack: &Stack) -> (patchbay_api::CallId, Option<String>) {
    let c = stack.call_in_state(CallState::Bridged).await;
    (c.id, c.connected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_routes_a_call_before_it_rings() {
    let gw_admin = free_port();
    let stack = Stack::start_with(|c| {
        c.route_hook_url = format!("http://127.0.0.1:{gw_admin}/internal/v1/route");
    })
    .await;
    let gw = stack.gateway(|c| c.admin_listen = SocketAddr::from(([127, 0, 0, 1], gw_admin)));
    let mut app = Receiver::on(free_port());
    app.start().await;
    gw.ozeki_settings(json!({"routing_interception_url": app.url("/route")}))
        .await;
    // The hook itself needs the control token, and a well-formed question.
    let r = gw
        .send(
            gw.http
                .post(format!("{}/internal/v1/route", gw.admin))
                .body("{}"),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = gw
        .send(
            gw.http
                .post(format!("{}/internal/v1/route", gw.admin))
                .bearer_auth(CONTROL_TOKEN)
                .body("{}"),
        )
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, r#"{"error":"bad_request"}"#),
        "a question that is not a RouteQuery"
    );

    let (p7, p9) = (free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let rtp = RtpCapture::new().await;

    // No Route in the reply: 4007 rings and answers.
    app.set_reply_for("/route", "<Response></Response>");
    let phone7 = Sipp::answering(p7, 100, rtp.port());
    let caller = Sipp::dial(&stack, "4005", "4007", rtp.port());
    let (call, connected) = answered_by(&stack).await;
    assert_eq!(connected.as_deref(), Some("4007"));
    let asked = app.wait_for("/route", 1, 5).await;
    let h = asked.first().expect("RoutingInterception");
    assert_eq!(
        h.field_names(),
        [
            "NotificationName",
            "CallerID",
            "OriginalDialedNumber",
            "LastDialedNumber",
            "LastCalledExtension",
            "LastCallState",
            "CallerExtension"
        ]
    );
    assert_eq!(
        h.field("NotificationName").as_deref(),
        Some("RoutingInterception")
    );
    assert_eq!(h.field("CallerID").as_deref(), Some("4005"));
    assert_eq!(h.field("OriginalDialedNumber").as_deref(), Some("4007"));
    assert_eq!(h.field("LastCallState").as_deref(), Some("Calling"));
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    stack.events_until_end(&call).await;

    // Route to 4009: 4009 answers, 4007's phone never rings.
    app.set_reply_for(
        "/route",
        "<?xml version=\"1.0\"?><Response><Route Destination=\"4009\"/></Response>",
    );
    let phone7 = Sipp::answering(p7, 100, rtp.port());
    let phone9 = Sipp::answering(p9, 100, rtp.port());
    let caller = Sipp::dial(&stack, "4005", "4007", rtp.port());
    let (call, connected) = answered_by(&stack).await;
    assert_eq!(connected.as_deref(), Some("4009"));
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    assert_eq!(phone7.wait(1).await, -1, "4007 never rang");
    stack.events_until_end(&call).await;

    // The app failing (500): the call goes where it was going.
    app.set_status(500);
    let phone7 = Sipp::answering(p7, 100, rtp.port());
    let caller = Sipp::dial(&stack, "4005", "4007", rtp.port());
    let (call, connected) = answered_by(&stack).await;
    assert_eq!(connected.as_deref(), Some("4007"));
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    stack.events_until_end(&call).await;

    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    let n = |o: &str| {
        metric(
            &m,
            &format!("patchbay_gateway_ozeki_routing_total{{outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(
        (n("routed"), n("unchanged"), n("failed")),
        (Some(1.0), Some(1.0), Some(1.0))
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    gw.stop().await;
    stack.stop().await;
}
