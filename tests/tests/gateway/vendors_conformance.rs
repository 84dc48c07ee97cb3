//! compat-specs/{taridium,promptcall,ozeki,native,sipx}/cases: every request/response pair, walked in
//! order against the running gateway (demo tenant, no phones registered, so calls fail in the
//! vendor's form). Ozeki's office-user authentication cases reach the tenant `office` (Host
//! `office.example`), which turned it on.
use patchbay_store::{Store, Tenant};
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_cases_answer_byte_for_byte() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|c| {
        // The cases include failed logins; none of them may ban 127.0.0.1 for the next ones.
        c.auth.max_failures = 1_000;
    });
    let s = &stack.store;
    s.upsert_tenant(&Tenant {
        name: "office".into(),
        realm: "office".into(),
    })
    .await
    .unwrap();
    s.set_tenant_host("office.example", "office").await.unwrap();
    s.put_config(
        "office",
        "ozeki",
        "settings",
        r#"{"office_user_auth":true}"#,
    )
    .await
    .unwrap();
    for (vendor, base, min) in [
        ("taridium", &gw.base, 23),
        ("promptcall", &gw.base, 20),
        ("ozeki", &gw.ozeki, 8),
        ("native", &gw.base, 14),
        ("sipx", &gw.base, 100),
    ] {
        let n = walk_compat_cases(vendor, base).await;
        assert!(n >= min, "{vendor}: {n} cases");
    }
    gw.stop().await;
    stack.stop().await;
}
