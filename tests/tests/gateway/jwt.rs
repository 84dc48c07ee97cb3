//! JWT bearer tokens with the tenant's HS256 key: valid, expired, wrong key, unknown kid.
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use patchbay_tests::*;

fn token(secret: &str, kid: &str, exp_from_now: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(kid.into());
    let claims = serde_json::json!({"sub": "crm-1", "exp": now + exp_from_now, "roles": ["user"]});
    encode(&h, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_valid_expired_wrong_key() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let me = |t: String| gw.send(gw.http.get(format!("{}/api/v1/me", gw.base)).bearer_auth(t));

    let ok = me(token("demo-jwt-secret", "demo", 300)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["scheme"], "jwt");
    assert_eq!(ok.json()["key"], "crm-1");
    let expired = me(token("demo-jwt-secret", "demo", -120)).await;
    let wrong_key = me(token("another-secret", "demo", 300)).await;
    let unknown_kid = me(token("demo-jwt-secret", "nope", 300)).await;
    for r in [&expired, &wrong_key, &unknown_kid] {
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"], "auth_failed");
    }
    assert_eq!(me("not.a.jwt".into()).await.status, 401);
    let m = gw
        .send(gw.http.get(format!("{}/metrics", gw.admin)))
        .await
        .body;
    for reason in ["expired", "signature", "unknown_kid"] {
        assert!(
            m.contains(&format!("reason=\"{reason}\",scheme=\"jwt\"")),
            "{reason}: {m}"
        );
    }
    gw.stop().await;
    stack.stop().await;
}
