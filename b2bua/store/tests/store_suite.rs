//! The store suite: runs on SQLite always, and on PostgreSQL when PATCHBAY_TEST_POSTGRES_URL is set
//! (.ci/run sets it).
use patchbay_api::{CallId, Cause, Cdr, EndedBy};
use patchbay_store::{SqlStore, Store, Tenant, User, ha1};

async fn suite(store: &dyn Store, tenant: &str) {
    store
        .upsert_tenant(&Tenant {
            name: tenant.into(),
            realm: format!("{tenant}.example"),
        })
        .await
        .unwrap();
    let u = User {
        tenant: tenant.into(),
        ext: "4005".into(),
        display_name: "Alice".into(),
    };
    store.upsert_user(&u, "demo-4005").await.unwrap();
    let c = store
        .sip_credentials(tenant, "4005")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.ha1_md5.clone(), c.ha1_sha256.clone()),
        ha1("4005", &format!("{tenant}.example"), "demo-4005")
    );
    assert_eq!(store.user(tenant, "4005").await.unwrap(), Some(u.clone()));
    assert!(
        store
            .sip_credentials(tenant, "4099")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .upsert_user(
                &User {
                    tenant: "nope".into(),
                    ..u.clone()
                },
                "x"
            )
            .await
            .is_err()
    );
    let cdr = Cdr {
        call: CallId(format!("{tenant}-c1")),
        tenant: tenant.into(),
        from: "4005".into(),
        to: "4007".into(),
        direction: "originate".into(),
        created_ms: 1000,
        ringing_ms: Some(1500),
        answered_ms: Some(2000),
        ended_ms: 9000,
        duration_s: 8,
        billsec: 7,
        cause: Cause::NoAnswer,
        ended_by: EndedBy::Api,
        status: Some(408),
        transferred_to: None,
    };
    store.insert_cdr(&cdr).await.unwrap();
    assert!(store.insert_cdr(&cdr).await.is_err(), "one CDR per call");
    assert_eq!(store.cdrs(tenant, 10).await.unwrap(), vec![cdr.clone()]);
    assert_eq!(store.cdr(&cdr.call.0).await.unwrap(), Some(cdr));
    assert!(store.delete_user(tenant, "4005").await.unwrap());
    assert!(!store.delete_user(tenant, "4005").await.unwrap());
    assert!(
        store
            .sip_credentials(tenant, "4005")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn store_suite_sqlite() {
    let dir = std::env::temp_dir().join(format!("patchbay-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    suite(&store, "t1").await;
    // Migrations are idempotent on reopen.
    drop(store);
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(store.tenants().await.unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn store_suite_postgres() {
    let Ok(url) = std::env::var("PATCHBAY_TEST_POSTGRES_URL") else {
        eprintln!("PATCHBAY_TEST_POSTGRES_URL not set: PostgreSQL run skipped");
        return;
    };
    let store = SqlStore::connect(&url).await.unwrap();
    let tenant = format!("pg{}", std::process::id());
    suite(&store, &tenant).await;
}
