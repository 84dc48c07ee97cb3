//! compat-specs/brekeke/cases: every Brekeke request/response pair, walked in order against the
//! running gateway (demo tenant, no phones registered, so calls fail in the vendor's form).
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brekeke_cases_answer_byte_for_byte() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let n = walk_compat_cases("brekeke", &gw.base).await;
    assert!(n >= 30, "{n} cases");
    gw.stop().await;
    stack.stop().await;
}
