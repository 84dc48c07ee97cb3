//! SIP over TLS for phones: the B2BUA listens on `sip_tls_listen` with a certificate; a phone
//! (a small Python client: SIPp here has no TLS) checks the certificate, gets OPTIONS answered,
//! REGISTERs with Digest, and is called over that same TLS connection by a UDP caller; it
//! answers, and the caller's BYE reaches it over TLS.
use patchbay_api::CallState;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_over_tls_registers_and_is_called() {
    let dir = std::env::temp_dir().join(format!("patchbay-sip-tls-{}", std::process::id()));
    let (cert, key) = self_signed_cert(&dir).await;
    let tls_port = free_port();
    let (c2, k2) = (cert.clone(), key.clone());
    let stack = Stack::start_with(move |c| {
        c.sip_tls_listen = Some(([127, 0, 0, 1], tls_port).into());
        c.sip_tls_cert = Some(c2);
        c.sip_tls_key = Some(k2);
    })
    .await;
    let callee_rtp = RtpPeer::new(false).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/sip_tls_phone.py");
    let python = tool(
        "PATCHBAY_TEST_PYTHON3",
        "python3",
        &["-c", "import ssl"],
        "apt-get install python3",
    );
    let phone = tokio::process::Command::new(python)
        .args([
            script,
            &format!("127.0.0.1:{tls_port}"),
            cert.to_str().unwrap(),
            "4007",
            "demo-4007",
            &callee_rtp.port().to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3");
    // Registered (over TLS) before anyone calls.
    let mut registered = false;
    for _ in 0..100 {
        let regs = stack.api.registrations("demo").await.unwrap();
        if regs.iter().any(|r| r.transport == "tls") {
            registered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(registered, "the TLS phone registered");
    let caller_rtp = RtpPeer::new(false).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "4007",
        caller_rtp.port(),
        &["-set", "talk_ms", "1000"],
    );
    stack.call_in_state(CallState::Bridged).await;
    assert_eq!(
        caller.wait(20).await,
        0,
        "the UDP caller reached the TLS phone and hung up"
    );
    let out = tokio::time::timeout(Duration::from_secs(20), phone.wait_with_output())
        .await
        .expect("the TLS phone finished")
        .expect("output");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "TLS phone: {stdout} {stderr}");
    assert!(stdout.contains("call done"), "{stdout}");
    stack.stop().await;
    std::fs::remove_dir_all(&dir).ok();
}
