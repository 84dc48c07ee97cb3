//! The Grafana dashboard (loadtest/grafana/patchbay.json) against a live Prometheus: Prometheus
//! scrapes the running gateway and B2BUA, click-to-call requests through four vendor APIs become
//! real SIPp calls with RTP through the relay, an application call hears a beep from the media
//! engine and is recorded, then every PromQL expression of the dashboard
//! must return data (at least one finite sample). A metric the dashboard uses that disappears,
//! or is renamed, fails this test.
use patchbay_tests::*;
use std::time::Duration;

/// Every `targets[].expr` of the dashboard, rows' nested panels included.
fn dashboard_exprs() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../loadtest/grafana/patchbay.json"
    );
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard")).expect("json");
    fn walk(panels: &serde_json::Value, out: &mut Vec<String>) {
        for p in panels.as_array().into_iter().flatten() {
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(e) = t["expr"].as_str() {
                    out.push(e.to_string());
                }
            }
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&d["panels"], &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_data() {
    let exprs = dashboard_exprs();
    assert!(
        exprs.len() >= 20,
        "the dashboard has its queries: {exprs:?}"
    );
    let (prog, _) = prometheus();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let admin = gw.admin.trim_start_matches("http://").to_string();
    let prom = Prometheus::start(
        &prog,
        &[
            ("gateway", admin),
            ("b2bua", stack.cfg.admin_listen.to_string()),
        ],
    )
    .await;
    let _phones = LoadPhones::start(&stack, 1500, 120).await;
    prom.wait_scraped(2, 2).await;

    // Click-to-call through four vendor APIs: each becomes a real call that 4007 hangs up.
    let r = gw
        .send(
            gw.http
                .post(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .json(&serde_json::json!({"from": "4005", "to": ["4007"], "mode": "caller_first"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = gw.get("/pbx/3pcc?to=4007&from=4005&type=2").await;
    assert!(r.body.starts_with("succeeded: "), "{}", r.body);
    let r = gw.get("/user/c/?key=DEMO05&call=4007").await;
    assert_eq!(r.body, "OK: CALL PLACED");
    let r = gw
        .get("/pbxws.php/dial?ext=4005&tel=4007&token=ZGVtby1rZXk6ZGVtby1zZWNyZXQ=")
        .await;
    assert!(r.body.contains("\"success\":true"), "{}", r.body);
    // An application call: a beep from the media engine, for its panels.
    let demo = |m: reqwest::Method, path: &str| {
        gw.http
            .request(m, format!("{}{path}", gw.base))
            .basic_auth("demo-key", Some("demo-secret"))
    };
    let r = gw
        .send(
            demo(reqwest::Method::POST, "/api/v1/calls")
                .json(&serde_json::json!({"to": ["4007"], "app": true})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let app = r.json()["id"].as_str().unwrap().to_string();
    let mut after = 0;
    'answer: for _ in 0..20 {
        let path = format!("/api/v1/calls/{app}/events?after={after}&wait_ms=500");
        for e in gw
            .send(demo(reqwest::Method::GET, &path))
            .await
            .json()
            .as_array()
            .unwrap()
        {
            after = e["seq"].as_u64().unwrap();
            if e["type"] == "answered" {
                break 'answer;
            }
        }
    }
    let r = gw
        .send(
            demo(reqwest::Method::POST, &format!("/api/v1/calls/{app}/tone"))
                .json(&serde_json::json!({"tone": "beep"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // And a recording of it, for the recording panels.
    let r = gw
        .send(
            demo(
                reqwest::Method::POST,
                &format!("/api/v1/calls/{app}/record"),
            )
            .json(&serde_json::json!({"max_ms": 500})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    // An Ozeki Call whose OzML is spoken, for the OzML panel.
    let r = gw
        .send(gw.http.get(format!(
            "{}/?command=Call&Dialed=4007&ResponseOzML=%3CResponse%3E%3CSpeak%3EHello%3C%2FSpeak%3E%3C%2FResponse%3E",
            gw.ozeki
        )))
        .await;
    assert!(r.body.contains("<Code>200</Code>"), "{}", r.body);
    // A sipX click-to-call and its status, for the sipX panel.
    let cc = |m: reqwest::Method| {
        gw.http
            .request(m, format!("{}/callcontroller/4005/4007", gw.sipx_cc))
            .basic_auth("4005", Some("web-4005"))
    };
    let r = gw.send(cc(reqwest::Method::POST).body("+")).await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let r = gw.send(cc(reqwest::Method::GET)).await;
    assert!(r.body.contains("<status-lines"), "{}", r.body);
    // An authentication failure, for the auth-failure panel.
    let r = gw.get_basic("/api/v1/me", "demo-key", "wrong").await;
    assert_eq!(r.status, 401);
    // A refused destination and a control-API request without the token, for their panels.
    let r = gw
        .send(
            gw.http
                .post(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .json(&serde_json::json!({"from": "4005", "to": ["sip:x@127.0.0.9"]})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = reqwest::get(format!("http://{}/v1/calls", stack.cfg.admin_listen))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // The seven calls really happen and end normally (4007 hangs up after 1.5 s of RTP).
    let mut ended = 0.0;
    for _ in 0..100 {
        ended = normal_calls_ended(&stack).await;
        if ended >= 7.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if ended != 7.0 {
        let m = stack.b2bua_get("/metrics").await;
        panic!("seven calls ended normally, not {ended}:\n{m}");
    }
    // Two more scrapes after the calls, so every rate() sees the traffic.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let mut missing = Vec::new();
    for e in &exprs {
        // Grafana's interval variable, as the dashboard would resolve it over this short test.
        let q = e.replace("$__rate_interval", "1m");
        let result = prom.query(&q).await;
        let finite = result.iter().any(|r| {
            r["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(f64::is_finite)
        });
        if !finite {
            missing.push(format!("{q} -> {result:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "dashboard queries without data:\n{}",
        missing.join("\n")
    );
    gw.stop().await;
    stack.stop().await;
}
