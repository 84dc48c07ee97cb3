//! Repeated failures from one address ban it for a while, even with right credentials.
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_ban_the_address() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|c| {
        c.auth.max_failures = 3;
        c.auth.ban_secs = 60;
    });
    let me = |p: &str| {
        gw.http
            .get(format!("{}/api/v1/me", gw.base))
            .basic_auth("demo-key", Some(p))
    };
    for _ in 0..3 {
        assert_eq!(gw.send(me("wrong")).await.status, 401);
    }
    let r = gw.send(me("demo-secret")).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.json()["error"], "banned");
    assert!(r.header("retry-after").parse::<u32>().unwrap() > 0);
    // Vendor forms too: Taridium says AUTH FAILED.
    let t = gw.get("/user/c/?key=DEMO05&vm=1").await;
    assert_eq!(t.body, "ERROR: AUTH FAILED");
    gw.stop().await;
    stack.stop().await;
}
