//! compat-specs/*/cases/*.phones.*: the success replies, pinned with 4005 and 4007 registered
//! (answering SIPp phones): Brekeke `succeeded: <id>` and `callControlReturn`, Taridium
//! `OK: CALL PLACED` and its `progress=1` page once the call connected, promptCall's success JSON, the native 201, Ozeki's `Call` (its
//! `ResponseOzML` spoken to 4007, then the API extension hangs up). Ids and timestamps are pinned
//! by shape (`{id}`, `{ms}`). Each call really happens: every one ends normally.
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_replies_with_phones_registered() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let _phones = LoadPhones::start(&stack, 500, 60).await;
    let mut calls = 0;
    for (vendor, base) in [
        ("brekeke", &gw.base),
        ("taridium", &gw.base),
        ("promptcall", &gw.base),
        ("native", &gw.base),
        ("ozeki", &gw.ozeki),
    ] {
        calls += walk_compat_cases_with_phones(vendor, base).await;
    }
    assert_eq!(calls, 7, "success cases");
    // Each reply stood for a real call: 4005 answered, 4007 answered and hung up.
    let mut ended = 0.0;
    for _ in 0..100 {
        ended = normal_calls_ended(&stack).await;
        if ended >= 7.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ended, 7.0, "every placed call ended normally");
    gw.stop().await;
    stack.stop().await;
}

#[test]
fn placeholders_pin_the_shape() {
    assert!(body_matches(
        "succeeded: {id}",
        "succeeded: 1795910565000001"
    ));
    assert!(!body_matches("succeeded: {id}", "succeeded: "));
    assert!(!body_matches("succeeded: {id}", "succeeded: 17x"));
    assert!(!body_matches("succeeded: {id}", "failed: 17"));
    assert!(body_matches(
        r#"{"id":"{id}","created_ms":{ms}}"#,
        r#"{"id":"12","created_ms":34}"#
    ));
    assert!(!body_matches(r#"{"id":"{id}"}"#, r#"{"id":"12"} "#));
}
