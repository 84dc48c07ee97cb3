//! Toll fraud and request forgery: no API client can make the B2BUA call where its tenant may
//! not. An outside `sip:` URI (a loopback socket standing in for someone else's SIP server) and
//! a number no dial plan routes are refused by every vendor API in its own error form, before
//! any INVITE: neither the target socket nor the caller's phone receives anything. Allowing the
//! domain through the admin API makes the same request reach the socket (so the test can fail).
use patchbay_tests::*;
use std::time::Duration;
use tokio::net::UdpSocket;

/// Whatever `sock` receives within `ms`.
async fn received(sock: &UdpSocket, ms: u64) -> Option<String> {
    let mut buf = vec![0u8; 65536];
    match tokio::time::timeout(Duration::from_millis(ms), sock.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

fn soap_call_control(to: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:x" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:callControl><in0 xsi:type="xsd:string">4005</in0><in1 xsi:type="xsd:string">4005</in1><in2 SOAP-ENC:arrayType="xsd:string[1]" xsi:type="ns1:ArrayOf_xsd_string"><item xsi:type="xsd:string">{to}</item></in2><in3 xsi:type="xsd:string">2</in3></ns1:callControl></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_destinations_are_refused_by_every_api() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    // Someone else's SIP server, and 4005's phone: both only listen.
    let outside = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stack
        .register("4005", phone.local_addr().unwrap().port())
        .await;
    let uri = format!("sip:bob@{}", outside.local_addr().unwrap());
    let enc: String = uri.replace(':', "%3A").replace('@', "%40");
    let token = "ZGVtby1rZXk6ZGVtby1zZWNyZXQ="; // demo-key:demo-secret

    // Native API.
    let r = gw
        .send(
            gw.http
                .post(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .json(&serde_json::json!({"from": "4005", "to": [uri]})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"], "destination_refused", "{}", r.body);
    // Brekeke /pbx/3pcc.
    let r = gw
        .get(&format!("/pbx/3pcc?from=4005&to={enc}&type=2"))
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.starts_with("failed: not allowed: sip:bob@"),
        "{}",
        r.body
    );
    // Brekeke SOAP callControl.
    let r = gw
        .send(
            gw.http
                .post(format!("{}/pbx/services/UserImpl", gw.base))
                .header("content-type", "text/xml; charset=utf-8")
                .header("soapaction", "\"\"")
                .body(soap_call_control(&uri)),
        )
        .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        r.body
            .contains("<faultstring>java.lang.Exception: destination not allowed: sip:bob@"),
        "{}",
        r.body
    );
    // promptCall dial, to the URI and to an outside number.
    let r = gw
        .get(&format!("/pbxws.php/dial?ext=4005&tel={enc}&token={token}"))
        .await;
    assert_eq!(
        r.body,
        r#"{"success":false,"msg":"Dial failed: destination not allowed"}"#
    );
    let r = gw
        .get(&format!(
            "/pbxws.php/dial?ext=4005&tel=004915551234&token={token}"
        ))
        .await;
    assert!(r.body.starts_with(r#"{"success":false"#), "{}", r.body);
    // Taridium URL control: numbers only; one no dial plan routes.
    let r = gw.get("/user/c/?key=DEMO05&call=004915551234").await;
    assert_eq!(r.body, "ERROR: FAILED PLACING CALL");

    // Nothing was sent anywhere, and each refusal was counted.
    assert_eq!(
        received(&outside, 1000).await,
        None,
        "no INVITE to the outside"
    );
    assert_eq!(received(&phone, 10).await, None, "4005 was not rung");
    let m = stack.b2bua_get("/metrics").await;
    let refused = |reason: &str| {
        metric(
            &m,
            &format!(
                "patchbay_b2bua_destinations_refused_total{{origin=\"api\",reason=\"{reason}\"}}"
            ),
        )
    };
    assert_eq!(refused("sip_domain"), Some(4.0));
    assert_eq!(refused("no_route"), Some(2.0));
    assert!(stack.api.list_calls().await.unwrap().is_empty());

    // The tenant's admin allows the domain: the same request now really calls it.
    let r = gw
        .send(
            gw.http
                .put(format!("{}/api/v1/tenants/demo/sip-domains", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .json(&serde_json::json!({"domains": ["127.0.0.1"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            gw.http
                .post(format!("{}/api/v1/calls", gw.base))
                .basic_auth("demo-key", Some("demo-secret"))
                .json(&serde_json::json!({"from": "4005", "to": [uri], "mode": "simultaneous"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let invite = received(&outside, 5000)
        .await
        .expect("the allowed domain is called");
    assert!(
        invite.starts_with(&format!("INVITE {uri} SIP/2.0")),
        "{invite}"
    );
    let id = r.json()["id"].as_str().unwrap().to_string();
    let _ = stack.api.hangup(&patchbay_api::CallId(id)).await;
    // The allowed name hidden in a user part, or a maddr, does not carry a call elsewhere:
    // the host the SIP stack would dial is what is checked.
    let elsewhere = UdpSocket::bind("127.0.0.3:0").await.unwrap();
    let port = elsewhere.local_addr().unwrap().port();
    for (uri, status) in [
        (format!("sip:127.0.0.1;x@127.0.0.3:{port}"), 403),
        (format!("sip:127.0.0.1?x@127.0.0.3:{port}"), 403),
        (format!("sip:bob@127.0.0.1:{port};maddr=127.0.0.3"), 400),
    ] {
        let r = gw
            .send(
                gw.http
                    .post(format!("{}/api/v1/calls", gw.base))
                    .basic_auth("demo-key", Some("demo-secret"))
                    .json(
                        &serde_json::json!({"from": "4005", "to": [uri], "mode": "simultaneous"}),
                    ),
            )
            .await;
        assert_eq!(r.status, status, "{uri}: {}", r.body);
    }
    assert_eq!(
        received(&elsewhere, 1000).await,
        None,
        "nothing reached 127.0.0.3"
    );
    gw.stop().await;
    stack.stop().await;
}
