//! A trunk set through the control API with `register: true` is registered at once at its
//! carrier (here another B2BUA as registrar, Digest answered with the trunk's credentials);
//! deleting the trunk stops the registration.
use patchbay_api::Trunk;
use patchbay_tests::*;
use std::time::Duration;

async fn registrations(stack: &Stack, want: usize) -> Vec<patchbay_api::TrunkRegistration> {
    let mut regs = Vec::new();
    for _ in 0..50 {
        regs = stack.api.trunk_registrations().await.unwrap();
        if regs.len() == want && regs.iter().all(|r| r.state != "registering") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    regs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_from_the_api_registers_and_stops_when_deleted() {
    let carrier = Stack::start().await;
    let at: std::net::SocketAddr = carrier.sip().parse().unwrap();
    let pbx = Stack::start().await;
    let trunk = Trunk {
        name: String::new(),
        host: at.ip().to_string(),
        port: at.port(),
        transport: Default::default(),
        username: Some("4009".into()),
        password: Some("demo-4009".into()),
        register: true,
        caller_id: None,
        max_channels: 0,
    };
    pbx.api.put_trunk("demo", "up", &trunk).await.unwrap();
    let regs = registrations(&pbx, 1).await;
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0].aor, format!("sip:4009@{}", at.ip()));
    assert_eq!(regs[0].state, "registered", "{regs:?}");
    let bound = carrier.api.registrations("demo").await.unwrap();
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert_eq!(bound[0].contact, format!("sip:4009@{}", pbx.sip()));

    // A trunk that does not validate is refused, the registration unchanged.
    let bad = Trunk {
        username: None,
        ..trunk.clone()
    };
    assert!(pbx.api.put_trunk("demo", "up", &bad).await.is_err());
    pbx.api.delete_trunk("demo", "up").await.unwrap();
    let regs = registrations(&pbx, 0).await;
    assert!(regs.is_empty(), "{regs:?}");
    pbx.stop().await;
    carrier.stop().await;
}
