//! A tenant created through Brekeke's `createTenant_mt` (by a system-role key) gets a user via
//! `createUser_mt`, and that user's phone can REGISTER in the new tenant's realm at once, with
//! no B2BUA restart (the registrar reads the tenant list again on an unknown realm).
use patchbay_store::Store;
use patchbay_tests::*;

fn envelope(op: &str, args: &[&str]) -> String {
    let params: String = args
        .iter()
        .enumerate()
        .map(|(i, a)| format!("<in{i} xsi:type=\"xsd:string\">{a}</in{i}>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns1=\"urn:x\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><SOAP-ENV:Body><ns1:{op}>{params}</ns1:{op}></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_tenant_registers_without_restart() {
    let stack = Stack::start().await;
    stack
        .store
        .create_api_key(
            &patchbay_store::ApiKey {
                key_id: "sys-key".into(),
                tenant: "demo".into(),
                roles: vec!["system".into()],
                label: "test".into(),
                created_ms: 0,
                secret_hash: String::new(),
            },
            "sys-secret",
        )
        .await
        .expect("system key");
    let gw = stack.gateway(|_| {});
    let soap = |op: &str, args: &[&str]| {
        gw.http
            .post(format!("{}/pbx/services/UserImpl", gw.base))
            .basic_auth("sys-key", Some("sys-secret"))
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", "\"\"")
            .body(envelope(op, args))
    };
    // Before: the realm is unknown, so the REGISTER lands in the default tenant and fails.
    let port = free_port();
    assert_ne!(
        stack.try_register_in("acme", "5001", "pw-5001", port).await,
        0,
        "no such tenant yet"
    );
    let r = gw.send(soap("createTenant_mt", &["acme"])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(soap("createUser_mt", &["acme", "5001", "pw-5001"]))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Right away (the registrar's reload is throttled to once a second: wait that out once).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        stack.try_register_in("acme", "5001", "pw-5001", port).await,
        0,
        "5001@acme registers in the new tenant"
    );
    // The binding is in the new tenant, not the default one.
    let regs: serde_json::Value =
        serde_json::from_str(&stack.b2bua_get("/v1/registrations").await).expect("json");
    let text = regs.to_string();
    assert!(text.contains("acme") && text.contains("5001"), "{text}");
    // A wrong password in the new realm is refused.
    assert_ne!(stack.try_register_in("acme", "5001", "nope", port).await, 0);
    gw.stop().await;
    stack.stop().await;
}
