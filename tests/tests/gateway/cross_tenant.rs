//! Tenants are walled off. The operator's system key onboards a second tenant through the API
//! alone (tenant, admin key, users, settings); that tenant's key cannot list, read, hang up or
//! transfer the first tenant's calls, nor read its users, settings or CDRs, nor call its users
//! (by API or from a phone), nor take its Host names or JWT key ids.
use patchbay_api::CallId;
use patchbay_tests::*;
use std::time::Duration;
use tokio::net::UdpSocket;

async fn silent(sock: &UdpSocket, ms: u64) -> bool {
    let mut buf = vec![0u8; 65536];
    tokio::time::timeout(Duration::from_millis(ms), sock.recv_from(&mut buf))
        .await
        .is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_reach_each_other() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    add_system_key(&stack).await;
    use reqwest::Method as M;
    let sys = |m, path: &str| gw.as_key(SYSTEM_KEY.0, SYSTEM_KEY.1, m, path);
    // Onboarding through the API alone.
    let (acme_key, acme_secret) = gw.onboard("acme").await;
    let acme = |m, path: &str| gw.as_key(&acme_key, &acme_secret, m, path);
    let demo = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    for ext in ["5001", "4007"] {
        let r = gw
            .send(
                // No voicemail: an unanswered call to acme's 4007 gets 480 below.
                acme(M::PUT, &format!("/api/v1/tenants/acme/users/{ext}")).json(
                    &serde_json::json!({"sip_password": format!("pw-{ext}"), "vm_on": false}),
                ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = gw
        .send(sys(M::PUT, "/api/v1/tenants/demo/hosts/pbx.demo.example"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A live call of demo: 4005's phone (a silent socket) rings.
    let phone4005 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone4007 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stack
        .register("4005", phone4005.local_addr().unwrap().port())
        .await;
    stack
        .register("4007", phone4007.local_addr().unwrap().port())
        .await;
    let r = gw
        .send(
            demo(M::POST, "/api/v1/calls")
                .json(&serde_json::json!({"from": "4005", "to": ["4007"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert!(!silent(&phone4005, 3000).await, "demo's call rings 4005");

    // acme's admin key sees none of it.
    let r = gw.send(acme(M::GET, "/api/v1/calls")).await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"));
    for (m, path) in [
        (M::GET, format!("/api/v1/calls/{id}")),
        (M::GET, format!("/api/v1/calls/{id}/events")),
        (M::DELETE, format!("/api/v1/calls/{id}")),
    ] {
        let r = gw.send(acme(m, &path)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
    let r = gw
        .send(
            acme(M::POST, &format!("/api/v1/calls/{id}/transfer"))
                .json(&serde_json::json!({"target": "5001"})),
        )
        .await;
    assert_eq!(r.status, 404, "transfer: {}", r.body);
    for path in [
        "/api/v1/tenants/demo/users",
        "/api/v1/tenants/demo/users/4005",
        "/api/v1/tenants/demo/api-keys",
        "/api/v1/tenants/demo/sip-domains",
        "/api/v1/tenants/demo/ip-patterns/brekeke-3pcc",
        "/api/v1/tenants/demo/hosts",
        "/api/v1/tenants/demo/jwt-keys",
    ] {
        let r = gw.send(acme(M::GET, path)).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    // Global names stay with their tenant: Host names are the operator's to map, and not even
    // the operator moves one from a tenant to another by mistake.
    let r = gw
        .send(acme(M::PUT, "/api/v1/tenants/acme/hosts/pbx.acme.example"))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = gw
        .send(sys(M::PUT, "/api/v1/tenants/acme/hosts/pbx.demo.example"))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = gw
        .send(
            acme(M::PUT, "/api/v1/tenants/acme/jwt-keys/demo")
                .json(&serde_json::json!({"alg": "HS256", "key": "0123456789abcdef-acme"})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // The call is still demo's, untouched; demo's key ends it.
    assert_eq!(
        stack.api.call(&CallId(id.clone())).await.unwrap().tenant,
        "demo"
    );
    let r = gw
        .send(demo(M::DELETE, &format!("/api/v1/calls/{id}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ended = stack.events_until_end(&CallId(id.clone())).await;
    assert_one_terminal(&ended);

    // CDRs: demo has one, acme reads only its own (none).
    let mut demo_cdrs = serde_json::Value::Null;
    for _ in 0..50 {
        demo_cdrs = gw.send(demo(M::GET, "/api/v1/cdrs")).await.json();
        if demo_cdrs.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(demo_cdrs[0]["call"], id.as_str(), "{demo_cdrs}");
    let r = gw.send(acme(M::GET, "/api/v1/cdrs")).await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"));

    // acme cannot call demo's users: its "4007" is its own; demo's realm is refused.
    let p5001 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port5001 = p5001.local_addr().unwrap().port();
    // (The B2BUA reads new tenants at most once a second: wait that out once.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        stack
            .try_register_in("acme", "5001", "pw-5001", port5001)
            .await,
        0
    );
    let r = gw
        .send(
            acme(M::POST, "/api/v1/calls")
                .json(&serde_json::json!({"from": "5001", "to": ["sip:4007@demo"]})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"], "destination_refused");
    let r = gw
        .send(
            acme(M::POST, "/api/v1/calls")
                .json(&serde_json::json!({"from": "5001", "to": ["4007"]})),
        )
        .await;
    assert_eq!(
        r.status, 404,
        "acme's own 4007 is not registered: {}",
        r.body
    );
    // From a phone: acme's 5001 dials 4007 in its own realm (acme's 4007, not registered: 480)
    // and in demo's (its credentials fail there: 401 again); demo's 4007 never rings.
    for (domain, want) in [("acme", "SIP/2.0 480"), ("demo", "SIP/2.0 401")] {
        let phone = offer_call(
            &stack,
            "uac_offer_refused.xml",
            ("5001", "pw-5001"),
            "4007",
            domain,
            free_port(),
            free_port(),
            "0 101",
        );
        let (code, trace) = phone.wait_messages(20).await;
        assert_eq!(code, 0, "refused:\n{trace}");
        // The last response the phone got (the first 401 is the challenge).
        let last = trace
            .rfind("SIP/2.0 ")
            .map(|i| &trace[i..i + 11])
            .unwrap_or("");
        assert_eq!(last, want, "{domain}:\n{trace}");
    }
    assert!(silent(&phone4007, 500).await, "demo's 4007 never rang");
    // acme's 5001 cannot register under demo's realm.
    assert_ne!(
        stack
            .try_register_in("demo", "5001", "pw-5001", port5001)
            .await,
        0
    );
    let regs = stack.api.registrations("demo").await.unwrap();
    assert!(regs.iter().all(|r| r.user != "5001"), "{regs:?}");
    let m = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(
            &m,
            "patchbay_b2bua_destinations_refused_total{origin=\"api\",reason=\"foreign_tenant\"}"
        ),
        Some(1.0)
    );
    gw.stop().await;
    stack.stop().await;
}
