//! The demo tenant: what `patchbay up` provisions and the end-to-end tests run against.

use crate::{ApiKey, JwtKey, Store, StoreError, Tenant, User};

/// Secret of [`DEMO_KEY`].
pub const DEMO_SECRET: &str = "demo-secret";

pub const DEMO_KEY: &str = "demo-key";

/// The demo tenant the vendor samples expect: users 4005, 4007, 4009, SIP password demo-<ext>,
/// web PIN web-<ext>, URL key DEMO<last two digits>; API key demo-key / demo-secret (admin);
/// JWT key id `demo`, HS256 secret `demo-jwt-secret`; Brekeke SOAP and 3PCC and Ozeki open to 127.0.0.1
/// (client IP pattern `^127\.0\.0\.1$`, as Brekeke's "Valid client IP Pattern").
pub async fn provision_demo(store: &dyn Store) -> Result<(), StoreError> {
    store
        .upsert_tenant(&Tenant {
            name: "demo".into(),
            realm: "demo".into(),
        })
        .await?;
    for ext in ["4005", "4007", "4009"] {
        let u = User {
            tenant: "demo".into(),
            ext: ext.into(),
            display_name: format!("Demo {ext}"),
        };
        store.upsert_user(&u, &format!("demo-{ext}")).await?;
        store
            .set_web_pin("demo", ext, Some(&format!("web-{ext}")))
            .await?;
        store
            .set_url_key("demo", ext, Some(&format!("DEMO{}", &ext[2..])))
            .await?;
    }
    if store.api_key(DEMO_KEY).await?.is_none() {
        store
            .create_api_key(
                &ApiKey {
                    key_id: DEMO_KEY.into(),
                    tenant: "demo".into(),
                    roles: vec!["admin".into(), "user".into()],
                    label: "demo".into(),
                    created_ms: 0,
                    secret_hash: String::new(),
                },
                DEMO_SECRET,
            )
            .await?;
    }
    // Ozeki's samples send no credentials: the demo's Ozeki API takes commands from this
    // machine only (office-user authentication off, as Ozeki ships).
    for scope in ["brekeke-soap", "brekeke-3pcc", "ozeki"] {
        store
            .set_ip_patterns("demo", scope, &[r"^127\.0\.0\.1$".to_string()])
            .await?;
    }
    store
        .upsert_jwt_key(&JwtKey {
            kid: "demo".into(),
            tenant: "demo".into(),
            alg: "HS256".into(),
            key_material: "demo-jwt-secret".into(),
        })
        .await?;
    // Taridium's IPPS pages for wallboards, without credentials (vendor-apis.md 2.1).
    store
        .put_config("demo", "ipps", "settings", r#"{"enabled":true}"#)
        .await?;
    // The demo tenant is for trying Patchbay on one machine: its webhooks may reach local
    // receivers (the gateway's `webhooks` policy object).
    store
        .put_config(
            "demo",
            "webhooks",
            "policy",
            r#"{"allow_private_webhooks":true}"#,
        )
        .await?;
    Ok(())
}
