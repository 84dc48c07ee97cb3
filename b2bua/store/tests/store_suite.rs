//! The store suite: runs on SQLite and on PostgreSQL (PATCHBAY_TEST_POSTGRES_URL, required;
//! `make test` sets it).
use patchbay_api::{CallId, Cause, Cdr, EndedBy};
use patchbay_api::{
    DialRule, Did, GroupMember, GroupStrategy, RecordingPolicy, RingGroup, Trunk, TrunkTransport,
};
use patchbay_store::{
    ApiKey, AppNumber, JwtKey, PhonebookEntry, Recording, SqlStore, Store, Tenant, User,
    UserSettings, VoicemailRow, ha1, verify_secret,
};

#[path = "store_suite/cdr_search.rs"]
mod cdr_search;
#[path = "store_suite/events.rs"]
mod events;
#[path = "store_suite/journal.rs"]
mod journal;
#[path = "store_suite/nodes.rs"]
mod nodes;
#[path = "store_suite/outbox.rs"]
mod outbox;

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
        queue: None,
        account_codes: patchbay_api::AccountCodes {
            accountcode: "77".into(),
            acc_code2: "PROJ-7".into(),
            acc_code3: String::new(),
        },
    };
    store.insert_cdr(&cdr).await.unwrap();
    let mut second = cdr.clone();
    second.cause = patchbay_api::Cause::System;
    store.insert_cdr(&second).await.unwrap();
    // One CDR per call: the first written stays.
    assert_eq!(store.cdrs(tenant, 10).await.unwrap(), vec![cdr.clone()]);
    assert_eq!(store.cdr(&cdr.call.0).await.unwrap(), Some(cdr));
    accounts(store, tenant).await;
    outbox::outbox(store, tenant).await;
    cdr_search::cdr_search(store, tenant).await;
    nodes::node_starts(store).await;
    nodes::locations(store, tenant).await;
    nodes::claims(store, tenant).await;
    journal::journal(store, tenant).await;
    journal::request_keys(store, tenant).await;
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

/// Gateway-side records; user 4005 exists.
async fn accounts(store: &dyn Store, tenant: &str) {
    let realm = format!("{tenant}.example");
    assert_eq!(
        store.tenant_by_realm(&realm).await.unwrap().map(|t| t.name),
        Some(tenant.to_string())
    );
    // Web PIN: argon2 for Basic, HA1 of the tenant realm for Digest; none until set.
    assert!(
        store
            .web_credentials(tenant, "4005")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .set_web_pin(tenant, "4005", Some("1234"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_web_pin(tenant, "4099", Some("1234"))
            .await
            .unwrap()
    );
    let w = store
        .web_credentials(tenant, "4005")
        .await
        .unwrap()
        .unwrap();
    assert!(verify_secret(&w.pin_hash, "1234") && !verify_secret(&w.pin_hash, "1235"));
    assert_eq!((w.ha1_md5, w.ha1_sha256), ha1("4005", &realm, "1234"));
    assert!(
        store
            .set_vm_pin(tenant, "4005", Some("9999"))
            .await
            .unwrap()
    );
    let h = store.vm_pin_hash(tenant, "4005").await.unwrap().unwrap();
    assert!(verify_secret(&h, "9999") && !verify_secret(&h, "1234"));
    assert_eq!(store.vm_pin_hash(tenant, "nobody").await.unwrap(), None);
    // Rename without touching the SIP secret.
    assert!(
        store
            .set_display_name(tenant, "4005", "Front desk")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user(tenant, "4005")
            .await
            .unwrap()
            .unwrap()
            .display_name,
        "Front desk"
    );
    assert!(!store.set_display_name(tenant, "4099", "x").await.unwrap());
    // URL key: looked up by digest.
    let key = format!("K{}", &tenant[..tenant.len().min(5)]).to_uppercase();
    assert!(store.set_url_key(tenant, "4005", Some(&key)).await.unwrap());
    assert_eq!(
        store.user_by_url_key(&key).await.unwrap().map(|u| u.ext),
        Some("4005".to_string())
    );
    assert!(store.user_by_url_key("NOPE00").await.unwrap().is_none());
    // Settings default, then round-trip.
    let st = store.user_settings(tenant, "4005").await.unwrap().unwrap();
    assert_eq!(st, UserSettings::default());
    let st = UserSettings {
        forward_to: Some("5550000".into()),
        forward_on: true,
        followme_on: true,
        vm_on: false,
        ring_secs: 20,
        forward_busy: Some("4009".into()),
        forward_no_answer: Some("4011".into()),
        dnd: true,
        call_sequence: vec![patchbay_api::SequenceRing {
            number: "4009".into(),
            ring_secs: 15,
            parallel: false,
            enabled: true,
        }],
        caller_id: Some("+6621234501".into()),
        vm_greeting: "outofoffice".into(),
    };
    assert!(store.set_user_settings(tenant, "4005", &st).await.unwrap());
    assert_eq!(store.user_settings(tenant, "4005").await.unwrap(), Some(st));
    assert_eq!(store.users(tenant).await.unwrap().len(), 1);
    // Hosts.
    let host = format!("{tenant}.PBX.example");
    store.set_tenant_host(&host, tenant).await.unwrap();
    assert_eq!(
        store.tenant_for_host(&host.to_lowercase()).await.unwrap(),
        Some(tenant.to_string())
    );
    assert!(store.set_tenant_host("x.example", "nope").await.is_err());
    // A Host name (and below, a JWT key id) never moves to another tenant.
    let other = format!("{tenant}-other");
    store
        .upsert_tenant(&Tenant {
            name: other.clone(),
            realm: other.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(
        store.set_tenant_host(&host, &other).await,
        Err(patchbay_store::StoreError::Taken(_))
    ));
    store.set_tenant_host(&host, tenant).await.unwrap();
    // API keys: secret hashed, roles kept.
    let k = ApiKey {
        key_id: format!("{tenant}-key"),
        tenant: tenant.into(),
        roles: vec!["admin".into(), "user".into()],
        label: "crm".into(),
        created_ms: 5,
        secret_hash: String::new(),
    };
    store.create_api_key(&k, "s3cret").await.unwrap();
    let got = store.api_key(&k.key_id).await.unwrap().unwrap();
    assert!(verify_secret(&got.secret_hash, "s3cret"));
    assert_eq!(
        (got.roles.clone(), got.label.clone()),
        (k.roles.clone(), k.label.clone())
    );
    assert_eq!(store.api_keys(tenant).await.unwrap().len(), 1);
    assert!(store.delete_api_key(tenant, &k.key_id).await.unwrap());
    assert!(store.api_key(&k.key_id).await.unwrap().is_none());
    // IP patterns: replaced as a set per scope.
    let pats = vec!["10.0.0.0/8".to_string(), r"^127\.0\.0\.\d+$".to_string()];
    store.set_ip_patterns(tenant, "ozeki", &pats).await.unwrap();
    store.set_ip_patterns(tenant, "ozeki", &pats).await.unwrap();
    let mut got = store.ip_patterns(tenant, "ozeki").await.unwrap();
    got.sort();
    let mut want = pats.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(
        store
            .ip_patterns(tenant, "brekeke-3pcc")
            .await
            .unwrap()
            .is_empty()
    );
    // JWT keys.
    let jk = JwtKey {
        kid: format!("{tenant}-kid"),
        tenant: tenant.into(),
        alg: "HS256".into(),
        key_material: "c2VjcmV0".into(),
    };
    store.upsert_jwt_key(&jk).await.unwrap();
    store.upsert_jwt_key(&jk).await.unwrap();
    let theirs = JwtKey {
        tenant: other.clone(),
        ..jk.clone()
    };
    assert!(matches!(
        store.upsert_jwt_key(&theirs).await,
        Err(patchbay_store::StoreError::Taken(_))
    ));
    assert_eq!(store.jwt_key(&jk.kid).await.unwrap(), Some(jk));
    // Phonebook: a private entry and a shared book's.
    let e = PhonebookEntry {
        tenant: tenant.into(),
        id: "e1".into(),
        owner: "4005".into(),
        book: String::new(),
        first_name: "Bob".into(),
        last_name: "Smith".into(),
        number: "4007".into(),
        contact: r#"{"jobTitle":"CEO"}"#.into(),
        created_ms: 5,
    };
    let shared = PhonebookEntry {
        id: "e2".into(),
        owner: String::new(),
        book: "sales".into(),
        ..e.clone()
    };
    store.upsert_phonebook_entry(&e).await.unwrap();
    store.upsert_phonebook_entry(&shared).await.unwrap();
    assert_eq!(
        store.phonebook(tenant, "4005", "").await.unwrap(),
        vec![e.clone()]
    );
    assert_eq!(
        store.phonebook_entry(tenant, "e2").await.unwrap(),
        Some(shared.clone())
    );
    assert!(store.phonebook(tenant, "", "").await.unwrap().is_empty());
    assert!(store.delete_phonebook_entry(tenant, "e1").await.unwrap());
    assert_eq!(
        store.delete_phonebook(tenant, "", "sales").await.unwrap(),
        1
    );
    assert!(store.phonebook_entry(tenant, "e2").await.unwrap().is_none());
    // A user's roles, contact information and private key.
    assert!(store.user_roles(tenant, "4005").await.unwrap().is_empty());
    assert!(
        store
            .set_user_roles(tenant, "4005", &["admin".to_string()])
            .await
            .unwrap()
    );
    assert_eq!(store.user_roles(tenant, "4005").await.unwrap(), ["admin"]);
    assert!(
        store
            .set_user_profile(tenant, "4005", Some(r#"{"jobTitle":"CTO"}"#))
            .await
            .unwrap()
    );
    assert_eq!(
        store.user_profile(tenant, "4005").await.unwrap().as_deref(),
        Some(r#"{"jobTitle":"CTO"}"#)
    );
    let key = format!("{tenant}0123456789abcdef0123456789abcdef");
    assert!(
        store
            .set_private_key(tenant, "4005", Some(&key))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user_by_private_key(&key)
            .await
            .unwrap()
            .map(|u| u.ext),
        Some("4005".to_string())
    );
    assert!(store.user_by_private_key("nope").await.unwrap().is_none());
    // Voicemail messages.
    let m = |id: &str, at: u64| VoicemailRow {
        id: format!("{tenant}-{id}"),
        tenant: tenant.into(),
        mailbox: "4007".into(),
        folder: "inbox".into(),
        caller: "4005".into(),
        created_ms: at,
        duration_ms: 3_000,
        recording: format!("{tenant}-{id}"),
    };
    let (m1, m2) = (m("v1", 1), m("v2", 2));
    store.insert_voicemail(&m1).await.unwrap();
    store.insert_voicemail(&m2).await.unwrap();
    assert_eq!(
        store
            .voicemails(tenant, "4007", Some("inbox"))
            .await
            .unwrap(),
        vec![m2.clone(), m1.clone()]
    );
    assert!(
        store
            .set_voicemail_folder(tenant, "4007", &m1.id, "saved")
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .voicemails(tenant, "4007", Some("saved"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.voicemails(tenant, "4007", None).await.unwrap().len(),
        2
    );
    assert!(
        store
            .voicemails(tenant, "4009", None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .delete_voicemail(tenant, "4007", &m2.id)
            .await
            .unwrap(),
        Some(m2)
    );
    assert!(
        store
            .voicemail(tenant, "4007", &m2_id(tenant))
            .await
            .unwrap()
            .is_none()
    );
    // Application numbers.
    let n = AppNumber {
        tenant: tenant.into(),
        number: "8000".into(),
        label: "IVR".into(),
    };
    store.put_app_number(&n).await.unwrap();
    store
        .put_app_number(&AppNumber {
            label: "main IVR".into(),
            ..n.clone()
        })
        .await
        .unwrap();
    let listed = store.app_numbers(tenant).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].label, "main IVR");
    assert!(store.app_numbers("other").await.unwrap().is_empty());
    assert!(store.delete_app_number(tenant, "8000").await.unwrap());
    assert!(!store.delete_app_number(tenant, "8000").await.unwrap());
    assert!(
        store
            .put_app_number(&AppNumber {
                tenant: "no-such".into(),
                ..n
            })
            .await
            .is_err()
    );
    // Recordings index and policy.
    // Ids are global (the PostgreSQL database outlives a run): prefixed by the tenant.
    let rec = |id: &str, call: &str, started_ms: u64| Recording {
        id: format!("{tenant}-{id}"),
        call_id: format!("{tenant}-{call}"),
        tenant: tenant.into(),
        side: "call".into(),
        layout: "stereo".into(),
        path: format!("/data/rec/{tenant}-{id}.wav"),
        started_ms,
        duration_ms: 2000,
        bytes: 64044,
    };
    let day = 86_400_000;
    let (old, new) = (rec("c1-r1", "c1", 10), rec("c2-r2", "c2", 10 * day));
    store.insert_recording(&old).await.unwrap();
    store.insert_recording(&new).await.unwrap();
    assert_eq!(
        store.recordings(tenant, None, 5).await.unwrap(),
        vec![new.clone(), old.clone()],
        "newest first"
    );
    assert_eq!(
        store
            .recordings(tenant, Some(&old.call_id), 5)
            .await
            .unwrap(),
        vec![old.clone()]
    );
    assert_eq!(
        store.recording(tenant, &old.id).await.unwrap(),
        Some(old.clone())
    );
    assert_eq!(
        store.recording("other", &old.id).await.unwrap(),
        None,
        "tenant-scoped"
    );
    assert_eq!(
        store.recording_policy(tenant).await.unwrap(),
        RecordingPolicy::default()
    );
    // Expiry is across tenants (the sweep's view): look at this tenant's entries only.
    let expired_here = |v: Vec<Recording>| -> Vec<Recording> {
        v.into_iter().filter(|r| r.tenant == tenant).collect()
    };
    assert!(
        expired_here(store.expired_recordings(11 * day, 1_000).await.unwrap()).is_empty(),
        "kept by default"
    );
    let policy = RecordingPolicy {
        record_calls: true,
        retention_days: 5,
    };
    store.set_recording_policy(tenant, &policy).await.unwrap();
    assert_eq!(store.recording_policy(tenant).await.unwrap(), policy);
    assert_eq!(
        expired_here(store.expired_recordings(11 * day, 1_000).await.unwrap()),
        vec![old.clone()],
        "older than 5 days at day 11"
    );
    assert_eq!(
        store.delete_recording(tenant, &old.id).await.unwrap(),
        Some(old.clone())
    );
    assert_eq!(store.delete_recording(tenant, &old.id).await.unwrap(), None);
    assert!(
        store
            .delete_recording(tenant, &new.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .set_recording_policy("no-such", &policy)
            .await
            .is_err()
    );
    routing(store, tenant).await;
}

/// Trunks, the dial plan, inbound numbers.
async fn routing(store: &dyn Store, tenant: &str) {
    let mut t = Trunk {
        name: "carrier".into(),
        host: "sip.carrier.example".into(),
        port: 5080,
        transport: TrunkTransport::Tcp,
        username: Some("acct".into()),
        password: Some("s3cret".into()),
        register: true,
        caller_id: Some("+6621234567".into()),
        max_channels: 4,
    };
    store.put_trunk(tenant, &t).await.unwrap();
    t.max_channels = 2;
    store.put_trunk(tenant, &t).await.unwrap();
    let spare = Trunk {
        name: "backup".into(),
        username: None,
        password: None,
        caller_id: None,
        register: false,
        ..t.clone()
    };
    store.put_trunk(tenant, &spare).await.unwrap();
    assert_eq!(
        store.trunks(Some(tenant)).await.unwrap(),
        vec![
            (tenant.to_string(), spare.clone()),
            (tenant.to_string(), t.clone())
        ]
    );
    let all = store.trunks(None).await.unwrap();
    assert_eq!(all.iter().filter(|(tn, _)| tn == tenant).count(), 2);
    assert!(store.delete_trunk(tenant, "backup").await.unwrap());
    assert!(!store.delete_trunk(tenant, "backup").await.unwrap());
    assert!(store.put_trunk("no-such", &t).await.is_err());

    assert!(store.dialplan(tenant).await.unwrap().is_empty());
    let rules = vec![
        DialRule {
            pattern: "112".into(),
            strip: 0,
            prepend: String::new(),
            trunk: None,
            refuse: true,
        },
        DialRule {
            pattern: "+66X.".into(),
            strip: 3,
            prepend: "0".into(),
            trunk: Some("carrier".into()),
            refuse: false,
        },
    ];
    store.set_dialplan(tenant, &rules).await.unwrap();
    assert_eq!(store.dialplan(tenant).await.unwrap(), rules);
    store.set_dialplan(tenant, &rules[1..]).await.unwrap();
    assert_eq!(store.dialplan(tenant).await.unwrap(), rules[1..].to_vec());

    let did = Did {
        number: "+6621234500".into(),
        destination: "4005".into(),
        cti_url: Some("http://crm/did?n=%%calleridnumber%%".into()),
    };
    store.put_did(tenant, &did).await.unwrap();
    store
        .put_did(
            tenant,
            &Did {
                destination: "4007".into(),
                ..did.clone()
            },
        )
        .await
        .unwrap();
    let found = store.dids(tenant, Some(&did.number)).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].destination, "4007");
    assert_eq!(found[0].cti_url, did.cti_url);
    assert!(store.dids(tenant, Some("+1")).await.unwrap().is_empty());
    assert_eq!(store.dids(tenant, None).await.unwrap().len(), 1);
    assert!(store.delete_did(tenant, &did.number).await.unwrap());
    assert!(store.dids(tenant, None).await.unwrap().is_empty());

    let group = RingGroup {
        number: "600".into(),
        name: "Sales".into(),
        strategy: GroupStrategy::Hunt,
        members: vec![GroupMember {
            ext: "4005".into(),
            ring_secs: 10,
        }],
        fallback: Some("4007".into()),
        cti_url: None,
    };
    store.put_ring_group(tenant, &group).await.unwrap();
    let mut second = group.clone();
    second.strategy = GroupStrategy::Simultaneous;
    store.put_ring_group(tenant, &second).await.unwrap();
    assert_eq!(store.ring_groups(tenant).await.unwrap(), vec![second]);
    assert!(store.ring_groups("other").await.unwrap().is_empty());
    assert!(store.put_ring_group("no-such", &group).await.is_err());
    assert!(store.delete_ring_group(tenant, "600").await.unwrap());
    assert!(!store.delete_ring_group(tenant, "600").await.unwrap());

    store
        .put_config(tenant, "conference", "sales", r#"{"extension":"700"}"#)
        .await
        .unwrap();
    store
        .put_config(tenant, "conference", "sales", r#"{"extension":"701"}"#)
        .await
        .unwrap();
    assert_eq!(
        store.configs(tenant, "conference").await.unwrap(),
        vec![("sales".to_string(), r#"{"extension":"701"}"#.to_string())]
    );
    assert!(store.configs(tenant, "queue").await.unwrap().is_empty());
    assert!(
        store
            .put_config("no-such", "conference", "x", "{}")
            .await
            .is_err()
    );
    assert!(
        store
            .delete_config(tenant, "conference", "sales")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_config(tenant, "conference", "sales")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn store_suite_sqlite() {
    let dir = std::env::temp_dir().join(format!("patchbay-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    suite(&store, "t1").await;
    events::events(std::sync::Arc::new(store.clone()), "t1").await;
    // Migrations are idempotent on reopen.
    drop(store);
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(store.tenants().await.unwrap().len(), 2);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn store_suite_postgres() {
    // Hosted mode runs on PostgreSQL: this suite never passes without it. `make test` installs
    // and starts a local server and sets the URL.
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL").expect(
        "PATCHBAY_TEST_POSTGRES_URL is not set: the store suite needs a PostgreSQL server \
         (`make test` installs Debian's postgresql, starts it and sets the URL)",
    );
    let store = SqlStore::connect(&url).await.unwrap();
    let tenant = format!("pg{}", std::process::id());
    suite(&store, &tenant).await;
    events::events(std::sync::Arc::new(store.clone()), &tenant).await;
}

fn m2_id(tenant: &str) -> String {
    format!("{tenant}-v2")
}
