//! An `Idempotency-Key` whose first request is still being served (the store names a call not
//! made yet) gets the native API's 409, byte for byte, and no call; a key whose call never
//! appeared within the grace is not taken over before it (the same answer again).
use patchbay_api::CallId;
use patchbay_store::RequestKeys;
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_still_in_the_making_gets_409() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Another request claimed the key for the call it is about to make.
    let making = CallId::compose(1_700_000_000, TEST_NODE, 99);
    let claimed = stack
        .store
        .claim_request_key("demo", "order-409", &making, now)
        .await
        .unwrap();
    assert_eq!(claimed, None);
    for _ in 0..2 {
        let r = gw
            .send(
                gw.as_key(
                    "demo-key",
                    "demo-secret",
                    reqwest::Method::POST,
                    "/api/v1/calls",
                )
                .header("idempotency-key", "order-409")
                .json(&serde_json::json!({"from": "4005", "to": ["4007"]})),
            )
            .await;
        assert_eq!(r.status, 409);
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(
            r.body,
            r#"{"error":"conflict","message":"conflict: a request with this key is still being served; repeat it later"}"#
        );
    }
    assert!(
        stack.api.list_calls().await.unwrap().is_empty(),
        "no call made"
    );
    gw.stop().await;
    stack.stop().await;
}
