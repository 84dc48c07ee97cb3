//! Limits answer in the vendor's form: oversized bodies (413 native, Ozeki code 300), request
//! rate per key (429 + Retry-After), the in-flight guard (503), unknown paths and methods.
use patchbay_tests::*;
use std::io::Write;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_in_vendor_form() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|c| {
        c.limits.max_body_bytes = 1024;
        c.limits.requests_per_sec_per_key = 1;
        c.limits.max_in_flight = 1;
    });
    let big = "x".repeat(2048);

    // Oversized body: native 413, Ozeki its own document (HTTP 200, code 300).
    let r = gw
        .send(
            gw.http
                .post(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .body(big.clone()),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.body,
        r#"{"error":"too_large","message":"request too large"}"#
    );
    let r = gw
        .send(
            gw.http
                .post(format!("{}/", gw.ozeki))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(big),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        "<?xml version=\"1.0\"?>\r\n<Response xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n  <Code>300</Code>\r\n  <Message>Error occured during parsing message: 'request too large'</Message>\r\n</Response>"
    );

    // Unknown path and method.
    let me = || {
        gw.send(
            gw.http
                .get(format!("{}/api/v1/me", gw.base))
                .basic_auth("demo-key", Some("demo-secret")),
        )
    };
    let r = gw
        .send(
            gw.http
                .patch(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret")),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (405, Some("method_not_allowed"))
    );

    // Rate per key: 1/s with a burst of 2 (the 405 above took one token).
    let _ = me().await;
    let r = me().await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.json()["error"], "rate_limited");
    assert!(r.header("retry-after").parse::<u32>().unwrap() >= 1);

    // In-flight guard: a request stalled mid-body holds the only slot.
    let addr = gw.base.trim_start_matches("http://").to_string();
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stalled,
        "POST /api/v1/calls HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{"
    )
    .unwrap();
    // Wait (on the admin listener, which the guard does not cover) until the gateway has read
    // the stalled head and holds the slot; a busy machine may take a moment.
    let mut holding = false;
    for _ in 0..100 {
        let m = gw
            .send(gw.http.get(format!("{}/metrics", gw.admin)))
            .await
            .body;
        if m.contains("patchbay_gateway_requests_in_flight 1\n") {
            holding = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(holding, "the stalled request holds the only slot");
    let r = gw.get("/api/v1/me").await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "overloaded");
    assert_eq!(r.header("retry-after"), "1");
    drop(stalled);
    let mut status = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = gw.get("/api/v1/me").await.status;
        if status == 401 {
            break;
        }
    }
    assert_eq!(status, 401, "slot freed");

    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    for reason in ["size", "rate", "in_flight"] {
        let series = format!("patchbay_gateway_rejected_total{{reason=\"{reason}\"}}");
        assert!(metric(&m, &series).unwrap_or(0.0) >= 1.0, "{reason}: {m}");
    }
    gw.stop().await;
    stack.stop().await;
}
