//! Onboarding a customer needs no SQL: through the native admin API a tenant's admin sets its
//! Host names, JWT keys, Brekeke client IP patterns, Ozeki address list and outside SIP
//! domains, and each takes effect on the next request.
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use patchbay_tests::*;
use reqwest::Method as M;

fn token(secret: &str, kid: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(kid.into());
    let claims = serde_json::json!({"sub": "crm", "exp": now + 300, "roles": ["user"]});
    encode(&h, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_sets_up_a_tenant() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    add_system_key(&stack).await;
    let req = |key: &str, secret: &str, m: M, path: &str| gw.as_key(key, secret, m, path);
    let (k, s) = gw.onboard("acme").await;
    let acme = |m: M, path: &str| req(&k, &s, m, path);
    let demo = |m: M, path: &str| req("demo-key", "demo-secret", m, path);
    let r = gw
        .send(
            acme(M::PUT, "/api/v1/tenants/acme/users/5001")
                .json(&serde_json::json!({"sip_password": "pw-5001", "web_pin": "web-5001"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Host names (the operator's): an extension's Basic credentials name the Host's tenant.
    let me_at = |host: &'static str| {
        gw.send(
            gw.http
                .get(format!("{}/api/v1/me", gw.base))
                .header("host", host)
                .basic_auth("5001", Some("web-5001")),
        )
    };
    assert_eq!(
        me_at("pbx.acme.example").await.status,
        401,
        "not mapped yet"
    );
    let sys = |m: M, path: &str| req(SYSTEM_KEY.0, SYSTEM_KEY.1, m, path);
    let r = gw
        .send(acme(M::PUT, "/api/v1/tenants/acme/hosts/PBX.acme.example"))
        .await;
    assert_eq!(r.status, 403, "Host names are the operator's: {}", r.body);
    let r = gw
        .send(sys(M::PUT, "/api/v1/tenants/acme/hosts/PBX.acme.example"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = me_at("pbx.acme.example").await;
    assert_eq!(
        (r.status, r.json()["tenant"].as_str()),
        (200, Some("acme")),
        "{}",
        r.body
    );
    let r = gw.send(acme(M::GET, "/api/v1/tenants/acme/hosts")).await;
    assert_eq!(r.body, r#"{"hosts":["pbx.acme.example"]}"#);
    let r = gw
        .send(sys(
            M::DELETE,
            "/api/v1/tenants/acme/hosts/pbx.acme.example",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(me_at("pbx.acme.example").await.status, 401);

    // JWT keys: tokens signed with the key act for the tenant; the secret is never listed.
    let me_jwt = |t: String| gw.send(gw.http.get(format!("{}/api/v1/me", gw.base)).bearer_auth(t));
    let secret = "acme-jwt-secret-0123456789";
    let r = gw
        .send(
            acme(M::PUT, "/api/v1/tenants/acme/jwt-keys/acme-k1")
                .json(&serde_json::json!({"alg": "HS256", "key": secret})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = me_jwt(token(secret, "acme-k1")).await;
    assert_eq!(
        (r.status, r.json()["tenant"].as_str()),
        (200, Some("acme")),
        "{}",
        r.body
    );
    let r = gw.send(acme(M::GET, "/api/v1/tenants/acme/jwt-keys")).await;
    assert_eq!(
        r.body,
        r#"[{"alg":"HS256","kid":"acme-k1","public_key":null,"tenant":"acme"}]"#
    );
    let r = gw
        .send(
            acme(M::PUT, "/api/v1/tenants/acme/jwt-keys/acme-k2")
                .json(&serde_json::json!({"alg": "RS256", "key": "not a PEM"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = gw
        .send(acme(M::DELETE, "/api/v1/tenants/acme/jwt-keys/acme-k1"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(me_jwt(token(secret, "acme-k1")).await.status, 401);

    // Brekeke's client IP pattern: 127.0.0.1 off the list is refused, back on it is let in.
    let set = |scope: &'static str, patterns: serde_json::Value| {
        gw.send(
            demo(M::PUT, &format!("/api/v1/tenants/demo/ip-patterns/{scope}"))
                .json(&serde_json::json!({ "patterns": patterns })),
        )
    };
    assert_eq!(
        set("brekeke-3pcc", serde_json::json!(["10.0.0.0/8"]))
            .await
            .status,
        200
    );
    let r = gw.get("/pbx/3pcc?to=4007&from=4005&type=2").await;
    assert_eq!((r.status, r.body.as_str()), (403, "failed: forbidden"));
    assert_eq!(
        set("brekeke-3pcc", serde_json::json!(["127.0.0.1/32"]))
            .await
            .status,
        200
    );
    let r = gw.get("/pbx/3pcc?to=4007&from=4005&type=2").await;
    assert_eq!(r.body, "failed: not found: 4005 is not registered");
    let r = gw
        .send(demo(
            M::GET,
            "/api/v1/tenants/demo/ip-patterns/brekeke-3pcc",
        ))
        .await;
    assert_eq!(
        r.body,
        r#"{"patterns":["127.0.0.1/32"],"scope":"brekeke-3pcc"}"#
    );
    assert_eq!(
        set("brekeke-3pcc", serde_json::json!(["(unclosed"]))
            .await
            .status,
        400
    );
    // Ozeki's address list.
    let ozeki = || {
        gw.send(gw.http.get(format!(
            "{}/?command=Nope&Username=4005&Password=web-4005",
            gw.ozeki
        )))
    };
    assert!(
        ozeki().await.body.contains("<Code>301</Code>"),
        "the demo's list lets 127.0.0.1 in"
    );
    assert_eq!(
        set("ozeki", serde_json::json!(["192.0.2.0/24"]))
            .await
            .status,
        200
    );
    let r = ozeki().await;
    assert!(r.body.contains("<Code>307</Code>"), "{}", r.body);
    assert_eq!(
        set("ozeki", serde_json::json!(["127.0.0.0/8"]))
            .await
            .status,
        200
    );
    assert!(ozeki().await.body.contains("<Code>301</Code>"));
    // Ozeki's denied list wins over the allowed one.
    assert_eq!(
        set("ozeki-deny", serde_json::json!(["127.0.0.1/32"]))
            .await
            .status,
        200
    );
    let r = ozeki().await;
    assert!(r.body.contains("<Code>307</Code>"), "{}", r.body);
    assert_eq!(set("ozeki-deny", serde_json::json!([])).await.status, 200);
    assert!(ozeki().await.body.contains("<Code>301</Code>"));

    // Outside SIP domains (their effect: destinations_refused).
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/sip-domains")
                .json(&serde_json::json!({"domains": ["Carrier.Example"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/sip-domains"))
        .await;
    assert_eq!(r.body, r#"{"domains":["carrier.example"]}"#);
    // A tenant admin cannot touch another tenant's settings; unknown tenants are not found.
    let r = gw
        .send(acme(M::GET, "/api/v1/tenants/demo/sip-domains"))
        .await;
    assert_eq!(r.status, 403);
    let r = gw
        .send(req(
            "system",
            "system-secret",
            M::GET,
            "/api/v1/tenants/nope/hosts",
        ))
        .await;
    assert_eq!(r.status, 404);
    // The webhook policy: the operator turns private destinations off (acme's admin may not).
    let policy = "/api/v1/tenants/demo/webhooks/policy";
    let off = serde_json::json!({"allow_private_webhooks": false});
    let r = gw
        .send(req("system", "system-secret", M::PUT, policy).json(&off))
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"allow_private_webhooks":false}"#)
    );
    let r = gw.send(demo(M::GET, policy)).await;
    assert_eq!(
        r.body, r#"{"allow_private_webhooks":false}"#,
        "read at once"
    );
    let r = gw.send(acme(M::PUT, policy).json(&off)).await;
    assert_eq!(r.status, 403);
    gw.stop().await;
    stack.stop().await;
}
