use super::*;
use patchbay_store::{SqlStore, Tenant, User};
use rvoip_auth_core::sip_digest::{DigestChallenge, DigestClient};

#[test]
fn replay_store_rejects_reused_counts_per_client() {
    let r = ReplayStore::new(100, Duration::from_secs(60));
    let now = SystemTime::now();
    r.record_nonce("n1", now + Duration::from_secs(30));
    assert_eq!(r.nonce_status("n1", now), NonceStatus::Active);
    assert_eq!(r.nonce_status("n2", now), NonceStatus::Unknown);
    assert_eq!(
        r.nonce_status("n1", now + Duration::from_secs(31)),
        NonceStatus::Expired
    );
    assert!(r.accept_count("4005", "n1", "c1", 1));
    assert!(!r.accept_count("4005", "n1", "c1", 1), "replay");
    assert!(r.accept_count("4005", "n1", "c1", 2));
    assert!(r.accept_count("4007", "n1", "c2", 1), "another client");
}

#[test]
fn parses_digest_params() {
    let h = r#"Digest username="4005",realm="demo", nonce="a,b", uri="sip:4007@127.0.0.1:5060", algorithm=MD5"#;
    assert_eq!(digest_param(h, "realm").as_deref(), Some("demo"));
    assert_eq!(digest_param(h, "nonce").as_deref(), Some("a,b"));
    assert_eq!(digest_param(h, "algorithm").as_deref(), Some("MD5"));
}

async fn store() -> (Arc<dyn Store>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "patchbay-auth-{}-{:x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let t = Tenant {
        name: "acme".into(),
        realm: "acme.test".into(),
    };
    store.upsert_tenant(&t).await.unwrap();
    let u = User {
        tenant: "acme".into(),
        ext: "4005".into(),
        display_name: "A".into(),
    };
    store.upsert_user(&u, "secret").await.unwrap();
    (Arc::new(store), dir)
}

/// The Authorization a phone would send for `challenge` (rvoip-auth-core's client side).
fn answer(challenge: &str, password: &str, uri: &str, nc: u32) -> String {
    let c: DigestChallenge = DigestAuthenticator::parse_challenge(challenge).unwrap();
    let computed =
        DigestClient::compute_response_with_state("4005", password, &c, "INVITE", uri, nc, None)
            .unwrap();
    DigestClient::format_authorization_with_state("4005", &c, uri, &computed)
}

#[tokio::test]
async fn verifies_md5_and_sha256_and_refuses_replays_wrong_uris_and_passwords() {
    let (store, dir) = store().await;
    let auth = Auth::new(store.clone(), &store.tenants().await.unwrap());
    let ta = auth.pick(None, "acme.test", "demo").unwrap();
    let uri = "sip:4007@acme.test";
    let ch = auth.challenges("acme.test", false);
    assert_eq!(ch.len(), 2);
    assert!(ch[0].contains("algorithm=MD5") && ch[1].contains("algorithm=SHA-256"));
    for c in &ch {
        let good = answer(c, "secret", uri, 1);
        assert_eq!(
            auth.verify(&ta, Some(&good), "INVITE", uri).await.unwrap(),
            Verdict::Authorized {
                user: "4005".into()
            },
            "{c}"
        );
        // The same count again is a replay.
        assert!(matches!(
            auth.verify(&ta, Some(&good), "INVITE", uri).await.unwrap(),
            Verdict::Challenge { bad: true, .. }
        ));
    }
    let wrong = answer(&ch[0], "guess", uri, 2);
    assert!(matches!(
        auth.verify(&ta, Some(&wrong), "INVITE", uri).await.unwrap(),
        Verdict::Challenge { bad: true, .. }
    ));
    let elsewhere = answer(&ch[0], "secret", "sip:4009@acme.test", 3);
    assert!(matches!(
        auth.verify(&ta, Some(&elsewhere), "INVITE", uri)
            .await
            .unwrap(),
        Verdict::Challenge { bad: true, .. }
    ));
    // An E.164 Request-URI: the phone's digest has `+`, rvoip's rendering `%2B`: the same.
    let e164 = answer(&ch[0], "secret", "sip:+66812345678@acme.test", 4);
    assert_eq!(
        auth.verify(&ta, Some(&e164), "INVITE", "sip:%2B66812345678@acme.test")
            .await
            .unwrap(),
        Verdict::Authorized {
            user: "4005".into()
        }
    );
    // A nonce we never issued (a restart, or a client keeping one): with the right password,
    // a stale challenge and no failure counted; with a wrong one, a failure.
    let unknown = answer(&ch[0].replace("nonce=\"", "nonce=\"f"), "secret", uri, 1);
    assert_eq!(
        auth.verify(&ta, Some(&unknown), "INVITE", uri)
            .await
            .unwrap(),
        Verdict::Challenge {
            stale: true,
            bad: false
        }
    );
    let forged = answer(&ch[0].replace("nonce=\"", "nonce=\"f"), "guess", uri, 1);
    assert!(matches!(
        auth.verify(&ta, Some(&forged), "INVITE", uri)
            .await
            .unwrap(),
        Verdict::Challenge { bad: true, .. }
    ));
    assert_eq!(
        auth.verify(&ta, None, "INVITE", uri).await.unwrap(),
        Verdict::Challenge {
            stale: false,
            bad: false
        }
    );
    std::fs::remove_dir_all(&dir).ok();
}
