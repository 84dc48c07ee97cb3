//! With the B2BUA down, call requests fail within 1 s in each vendor's form; once it is back,
//! calls work again through the same gateway.
use patchbay_api::CallState;
use patchbay_tests::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b2bua_down_then_back() {
    let mut stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let call = || {
        gw.send(
            gw.http
                .post(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .json(&serde_json::json!({"from": "4005", "to": "4007"})),
        )
    };
    stack.kill_b2bua().await;
    let t = Instant::now();
    let r = call().await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "unavailable");
    let t = Instant::now();
    let r = gw
        .get("/pbxws.php/dial?ext=4005&tel=4007&token=ZGVtby1rZXk6ZGVtby1zZWNyZXQ=")
        .await;
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(r.body, r#"{"success":false,"msg":"PBX unavailable"}"#);
    let r = gw.get("/user/c/?key=DEMO05&call=4007").await;
    assert_eq!(r.body, "ERROR: FAILED PLACING CALL");
    let t = Instant::now();
    let r = gw.get("/pbx/3pcc?to=4007&from=4005&type=2").await;
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(
        (r.status, r.body.as_str()),
        (503, "failed: PBX unavailable")
    );
    let soap = concat!(
        r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><callControl>"#,
        r#"<in0>4005</in0><in1>4005</in1><in2><item>4007</item></in2><in3>2</in3>"#,
        r#"</callControl></e:Body></e:Envelope>"#
    );
    let r = gw
        .send(
            gw.http
                .post(format!("{}/pbx/services/UserImpl", gw.base))
                .header("content-type", "text/xml; charset=utf-8")
                .body(soap),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.body,
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#,
            r#"<soapenv:Fault><faultcode>soapenv:Server.userException</faultcode><faultstring>java.lang.Exception: PBX unavailable</faultstring>"#,
            r#"<detail><ns1:hostname xmlns:ns1="http://xml.apache.org/axis/">patchbay</ns1:hostname></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#
        )
    );

    stack.restart_b2bua().await;
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(false).await);
    let phone = |port, rtp: &RtpPeer| Sipp::answering(port, 200, rtp.port());
    let a = phone(p5, &rtp5);
    let b = phone(p7, &rtp7);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = call().await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(c.id.0, r.json()["id"].as_str().unwrap());
    stack.api.hangup(&c.id).await.unwrap();
    assert_eq!(a.wait(10).await, 0, "phone scenario passed");
    assert_eq!(b.wait(10).await, 0, "phone scenario passed");
    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    // Counted under the op that met the dead B2BUA (the tenant's live-call check lists first).
    let unavailable: f64 = ["list", "originate"]
        .iter()
        .filter_map(|op| {
            metric(
                &m,
                &format!("patchbay_gateway_b2bua_errors_total{{kind=\"unavailable\",op=\"{op}\"}}"),
            )
        })
        .sum();
    assert!(unavailable >= 1.0, "{m}");
    gw.stop().await;
    stack.stop().await;
}
