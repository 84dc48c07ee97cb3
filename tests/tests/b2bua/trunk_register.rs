//! Client REGISTER (a trunk): one B2BUA keeps a registration up at another (its registrar):
//! it answers the Digest challenge and is bound with its own address as contact; a second
//! registration with a wrong password ends `failed` with 401 instead of looping.
use patchbay_b2bua::config::RegistrationConfig;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_at_another_registrar_with_digest() {
    let registrar = Stack::start().await;
    let at: std::net::SocketAddr = registrar.sip().parse().unwrap();
    let aor = |u: &str| format!("sip:{u}@{at}");
    let (good, bad) = (
        RegistrationConfig {
            registrar: at,
            aor: aor("4009"),
            user: "4009".into(),
            password: "demo-4009".into(),
            expires: 600,
        },
        RegistrationConfig {
            registrar: at,
            aor: aor("4007"),
            user: "4007".into(),
            password: "wrong".into(),
            expires: 600,
        },
    );
    let trunk = Stack::start_with(move |c| c.registrations = vec![good, bad]).await;
    let mut regs = Vec::new();
    for _ in 0..50 {
        regs = trunk.api.trunk_registrations().await.unwrap();
        if regs.iter().all(|r| r.state != "registering") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(regs.len(), 2, "{regs:?}");
    assert_eq!(regs[0].aor, aor("4009"));
    assert_eq!(regs[0].state, "registered", "{regs:?}");
    assert!(
        regs[0].expires_in.is_some_and(|s| s > 500 && s <= 600),
        "{regs:?}"
    );
    assert_eq!(
        (regs[1].state.as_str(), regs[1].status),
        ("failed", Some(401)),
        "{regs:?}"
    );
    // The registrar holds the binding, pointing at the trunk's SIP address.
    let bound = registrar.api.registrations("demo").await.unwrap();
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert_eq!(bound[0].user, "4009");
    assert_eq!(bound[0].contact, format!("sip:4009@{}", trunk.sip()));
    trunk.stop().await;
    registrar.stop().await;
}
