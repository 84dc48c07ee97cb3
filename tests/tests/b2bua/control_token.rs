//! The B2BUA's control API is never open: every route but /health needs the bearer token from
//! config; a missing or wrong one gets 401 and is counted. /metrics opens only by config.
use patchbay_tests::*;

async fn status(url: &str, token: Option<&str>) -> u16 {
    let mut r = reqwest::Client::new().get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.expect("b2bua answers").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_needs_the_token() {
    let stack = Stack::start().await;
    let base = format!("http://{}", stack.cfg.admin_listen);
    assert_eq!(status(&format!("{base}/health"), None).await, 200);
    for path in [
        "/v1/calls",
        "/v1/registrations",
        "/v1/cdrs",
        "/v1/events",
        "/metrics",
    ] {
        let url = format!("{base}{path}");
        assert_eq!(status(&url, None).await, 401, "{path} without a token");
        assert_eq!(
            status(&url, Some("wrong-token-0123456789")).await,
            401,
            "{path}"
        );
        assert_eq!(
            status(&url, Some(CONTROL_TOKEN)).await,
            200,
            "{path} with it"
        );
    }
    // Originating is refused before any parsing or store access.
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/calls"))
        .json(&serde_json::json!({"tenant": "demo", "from": "4005", "to": ["4007"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let m = stack.b2bua_get("/metrics").await;
    let count = |reason: &str| {
        metric(
            &m,
            &format!("patchbay_b2bua_control_unauthorized_total{{reason=\"{reason}\"}}"),
        )
    };
    assert_eq!((count("missing"), count("wrong")), (Some(6.0), Some(5.0)));

    // Neither process starts without the token (no open control API by omission).
    let mut cfg = stack.cfg.clone();
    cfg.control_token = String::new();
    let e = patchbay_b2bua::start(cfg, stack.store.clone()).await.err();
    assert!(
        e.is_some_and(|e| e.to_string().contains("control_token is required")),
        "b2bua refuses to start"
    );
    let gcfg = patchbay_gateway::GatewayConfig::default(); // b2bua_token: empty
    assert!(gcfg.b2bua_token.is_empty());
    let e = patchbay_gateway::start(gcfg, stack.store.clone()).err();
    assert!(
        e.is_some_and(|e| e.to_string().contains("b2bua_token is required")),
        "gateway refuses to start"
    );
    let mut cfg = stack.cfg.clone();
    cfg.control_token = "short".into();
    assert!(
        patchbay_b2bua::start(cfg, stack.store.clone())
            .await
            .is_err()
    );
    stack.stop().await;

    // metrics_open: /metrics for a Prometheus without the token; the API stays closed.
    let stack = Stack::start_with(|c| c.metrics_open = true).await;
    let base = format!("http://{}", stack.cfg.admin_listen);
    assert_eq!(status(&format!("{base}/metrics"), None).await, 200);
    assert_eq!(status(&format!("{base}/v1/calls"), None).await, 401);
    stack.stop().await;
}
