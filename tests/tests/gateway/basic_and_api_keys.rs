//! Native API with HTTP Basic: API key + secret and extension + web PIN; missing credentials get
//! every challenge; unknown key/user and wrong secret get the same reply.
use patchbay_tests::*;

/// A 401 reply with the digest nonces blanked (they are fresh on every challenge).
fn masked(r: &Reply) -> (u16, String, Vec<String>) {
    let re = |s: &str| {
        let mut out = s.to_string();
        if let Some(i) = out.find("nonce=\"") {
            let j = out[i + 7..].find('"').map_or(out.len(), |j| i + 7 + j);
            out.replace_range(i + 7..j, "N");
        }
        out
    };
    (
        r.status,
        r.body.clone(),
        r.all("www-authenticate").iter().map(|v| re(v)).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_api_keys_and_web_pins() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let me = |u: &str, p: &str| {
        gw.http
            .get(format!("{}/api/v1/me", gw.base))
            .basic_auth(u, Some(p))
    };

    // Missing credentials: 401 with Digest MD5 + SHA-256, Basic and Bearer challenges.
    let none = gw.get("/api/v1/me").await;
    assert_eq!(none.status, 401);
    let ch = none.all("www-authenticate");
    assert!(
        ch[0].starts_with("Digest realm=\"demo\", qop=\"auth\", algorithm=MD5, nonce="),
        "{ch:?}"
    );
    assert!(ch[1].contains("algorithm=SHA-256"));
    assert_eq!(
        &ch[2..],
        ["Basic realm=\"demo\"", "Bearer realm=\"patchbay\""]
    );
    assert_eq!(none.json()["error"], "auth_required");

    // API key + secret.
    let ok = gw.send(me("demo-key", "demo-secret")).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["scheme"], "api_key");
    assert_eq!(ok.json()["tenant"], "demo");
    let wrong = gw.send(me("demo-key", "nope")).await;
    let unknown = gw.send(me("no-such-key", "nope")).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(masked(&wrong), masked(&unknown), "no enumeration of keys");

    // Extension + web PIN (tenant from the listener).
    let user = gw.send(me("4005", "web-4005")).await;
    assert_eq!(user.status, 200, "{}", user.body);
    assert_eq!(
        (user.json()["user"].as_str(), user.json()["scheme"].as_str()),
        (Some("4005"), Some("basic"))
    );
    let wrong = gw.send(me("4005", "web-4007")).await;
    let unknown = gw.send(me("4099", "web-4005")).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(masked(&wrong), masked(&unknown), "no enumeration of users");
    assert_eq!(
        masked(&wrong),
        masked(&gw.send(me("demo-key", "nope")).await)
    );

    // Garbage in the header fails like a wrong password; unknown paths are 404.
    let junk = gw
        .send(
            gw.http
                .get(format!("{}/api/v1/me", gw.base))
                .header("authorization", "Basic !!!"),
        )
        .await;
    assert_eq!(junk.status, 401);
    assert_eq!(gw.get("/nowhere").await.status, 404);

    // Roles: a user cannot list API keys; the admin key can.
    let keys = format!("{}/api/v1/tenants/demo/api-keys", gw.base);
    let r = gw
        .send(gw.http.get(&keys).basic_auth("4005", Some("web-4005")))
        .await;
    assert_eq!(r.status, 403);
    let r = gw
        .send(
            gw.http
                .get(&keys)
                .basic_auth("demo-key", Some("demo-secret")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("argon2"), "hashes never leave the gateway");

    // Failures are counted by scheme and reason.
    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    for series in [
        "patchbay_gateway_auth_failures_total{reason=\"bad_secret\",scheme=\"api_key\"}",
        "patchbay_gateway_auth_failures_total{reason=\"unknown_user\",scheme=\"basic\"}",
    ] {
        assert!(metric(&m, series).unwrap_or(0.0) >= 1.0, "{series}: {m}");
    }
    gw.stop().await;
    stack.stop().await;
}
