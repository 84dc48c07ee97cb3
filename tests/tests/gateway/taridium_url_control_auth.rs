//! Taridium URL control's other two ways in: "generic" HTTP auth with the tenant's IPPS user
//! and password plus `user=<ext>` (a wrong password is `ERROR: AUTH FAILED`), and a user's
//! authorized client IP (`url_ip` through the native API) standing for its key; the switches
//! they flip are the user's real settings.
use patchbay_store::Store;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_auth_and_authorized_ip() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let admin = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/ipps").json(&json!({
            "enabled": true, "user": "board", "password": "wallboard-1"
        })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let url = |q: &str| format!("{}/user/c/?{q}", gw.base);
    let generic = |pw: &str, q: &str| {
        gw.http
            .get(url(q))
            .basic_auth("board", Some(pw.to_string()))
    };
    let r = gw.send(generic("wallboard-1", "user=4005&vm=0")).await;
    assert_eq!(r.body, "OK: UPDATED VM SETTINGS");
    let st = stack
        .store
        .user_settings("demo", "4005")
        .await
        .unwrap()
        .unwrap();
    assert!(!st.vm_on, "4005's voicemail is off");
    let r = gw.send(generic("nope-nope", "user=4005&vm=1")).await;
    assert_eq!(r.body, "ERROR: AUTH FAILED");
    let r = gw.send(generic("wallboard-1", "user=4099&vm=1")).await;
    assert_eq!(r.body, "ERROR: AUTH FAILED", "no such extension");

    // No key, no credentials: refused until 4007 authorizes this address.
    let r = gw.send(gw.http.get(url("follow=1"))).await;
    assert_eq!(r.body, "ERROR: AUTH FAILED");
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/users/4007").json(&json!({"url_ip": "127.0.0.1"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw.send(gw.http.get(url("vm=0"))).await;
    assert_eq!(r.body, "OK: UPDATED VM SETTINGS");
    let st = stack
        .store
        .user_settings("demo", "4007")
        .await
        .unwrap()
        .unwrap();
    assert!(!st.vm_on, "the authorized address acted as 4007");
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/users/4007").json(&json!({"url_ip": "not-an-ip"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/users/4007").json(&json!({"url_ip": ""})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw.send(gw.http.get(url("vm=1"))).await;
    assert_eq!(r.body, "ERROR: AUTH FAILED", "cleared");
    gw.stop().await;
    stack.stop().await;
}
