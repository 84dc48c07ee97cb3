//! Vendor credential forms, each answered in the vendor's own error form: promptCall tokens (Basic
//! header, ?token=, JSON token), Ozeki Username/Password (off on the demo tenant, on where
//! a tenant turns it on) and its address list (CIDR and regex, hit and miss), Taridium's per-user URL key.
use patchbay_store::{Store, Tenant, User};
use patchbay_tests::*;

const TOKEN: &str = "ZGVtby1rZXk6ZGVtby1zZWNyZXQ="; // base64("demo-key:demo-secret")

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_credential_forms() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});

    // promptCall: three token forms all authenticate (the dial then fails: 4005 not registered).
    let authed = r#"{"success":false,"msg":"Dial failed: 4005 is not registered"}"#;
    let r = gw
        .get(&format!("/pbxws.php/dial?tel=4007&ext=4005&token={TOKEN}"))
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, authed));
    let r = gw
        .send(
            gw.http
                .get(format!("{}/pbxws.php/dial?tel=4007&ext=4005", gw.base))
                .header("authorization", format!("Basic {TOKEN}")),
        )
        .await;
    assert_eq!(r.body, authed);
    let r = gw
        .send(
            gw.http
                .post(format!("{}/pbxws.php/dial", gw.base))
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"ext":"4005","tel":"4007","token":"{TOKEN}"}}"#
                )),
        )
        .await;
    assert_eq!(r.body, authed);
    let bad = gw
        .get("/pbxws.php/dial?tel=4007&ext=4005&token=ZGVtby1rZXk6bm9wZQ==")
        .await;
    let unknown = gw
        .get("/pbxws.php/dial?tel=4007&ext=4005&token=bm9wZTpub3Bl")
        .await;
    assert_eq!(bad.body, r#"{"success":false,"msg":"Invalid token"}"#);
    assert_eq!((bad.status, &bad.body), (unknown.status, &unknown.body));
    let none = gw.get("/pbxws.php/dial?tel=4007&ext=4005").await;
    assert_eq!(none.body, r#"{"success":false,"msg":"Token required"}"#);

    // Ozeki: always HTTP 200, outcome in <Code>.
    let oz = |q: &str, host: Option<&str>| {
        let mut b = gw.http.get(format!("{}/?{q}", gw.ozeki));
        if let Some(h) = host {
            b = b.header("host", h);
        }
        gw.send(b)
    };
    let code = |r: &Reply| {
        assert_eq!(r.status, 200);
        assert_eq!(r.header("server"), "Microsoft-HTTPAPI/2.0");
        let i = r.body.find("<Code>").unwrap() + 6;
        r.body[i..i + 3].to_string()
    };
    // The demo tenant: office-user authentication off, 127.0.0.1 on its allowed list (the
    // vendor's samples send no credentials); credentials sent anyway must be right.
    assert_eq!(code(&oz("command=Nope", None).await), "301");
    let wrong = oz("command=Nope&Username=4005&Password=x", None).await;
    let unknown = oz("command=Nope&username=4099&password=x", None).await;
    assert_eq!(code(&wrong), "305");
    assert_eq!(wrong.body, unknown.body);
    let ok = oz("command=Nope&Username=4005&Password=web-4005", None).await;
    assert_eq!(
        code(&ok),
        "301",
        "authenticated: the command itself is unknown"
    );

    // Ozeki address lists, per tenant (tenants picked by Host header): miss and hit.
    for (tenant, host, pattern) in [
        ("aclmiss", "miss.example", "10.0.0.0/8"),
        ("aclhit", "hit.example", r"^127\.0\.0\.1$"),
    ] {
        let s = &stack.store;
        s.upsert_tenant(&Tenant {
            name: tenant.into(),
            realm: tenant.into(),
        })
        .await
        .unwrap();
        let u = User {
            tenant: tenant.into(),
            ext: "100".into(),
            display_name: "x".into(),
        };
        s.upsert_user(&u, "sip-100").await.unwrap();
        s.set_web_pin(tenant, "100", Some("pin-100")).await.unwrap();
        s.set_tenant_host(host, tenant).await.unwrap();
        s.set_ip_patterns(tenant, "ozeki", &[pattern.to_string()])
            .await
            .unwrap();
        s.put_config(tenant, "ozeki", "settings", r#"{"office_user_auth":true}"#)
            .await
            .unwrap();
    }
    // Office-user authentication on: credentials required (304), checked (305).
    assert_eq!(code(&oz("command=Nope", Some("hit.example")).await), "304");
    let wrong = oz("command=Nope&Username=100&Password=x", Some("hit.example")).await;
    assert_eq!(code(&wrong), "305");
    let q = "command=Nope&Username=100&Password=pin-100";
    let miss = oz(q, Some("miss.example")).await;
    assert_eq!(code(&miss), "307", "{}", miss.body);
    assert!(
        miss.body
            .contains("<Message>Use API from this address is forbidden</Message>")
    );
    assert_eq!(code(&oz(q, Some("hit.example:7780")).await), "301");

    // Taridium URL control: per-user key.
    let r = gw.get("/user/c/?key=DEMO05&vm=0").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "OK: UPDATED VM SETTINGS")
    );
    let st = stack
        .store
        .user_settings("demo", "4005")
        .await
        .unwrap()
        .unwrap();
    assert!(!st.vm_on, "the setting really changed");
    let r = gw.get("/user/c/?key=DEMO05&fwdnr=5550000").await;
    assert_eq!(r.body, "OK: UPDATED FORWARDING SETTINGS");
    let st = stack
        .store
        .user_settings("demo", "4005")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (st.forward_to.as_deref(), st.forward_on),
        (Some("5550000"), true)
    );
    assert_eq!(
        gw.get("/user/c/?key=XXXXXX&vm=1").await.body,
        "ERROR: AUTH FAILED"
    );
    assert_eq!(gw.get("/user/c/?vm=1").await.body, "ERROR: AUTH FAILED");
    gw.stop().await;
    stack.stop().await;
}
