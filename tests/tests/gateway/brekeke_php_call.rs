//! The seed's PHP sample, unchanged but for the host, run by php-cli + php-soap against the
//! gateway: `callControl("4005","4005",array("4007"),"2")` prints an id, SIPp 4005 rings and
//! answers, then 4007; 4005's RTP reaches 4007 through the relay. Then the same over
//! `/pbx/3pcc` with curl, and from an address outside the tenant's pattern: refused.
use patchbay_api::{CallId, CallState, Side};
use patchbay_store::{Store, Tenant};
use patchbay_tests::*;
use std::time::Duration;

fn phones(p5: u16, p7: u16, rtp5: &RtpPeer, rtp7: &RtpPeer) -> (Sipp, Sipp) {
    (
        Sipp::answering(p5, 200, rtp5.port()),
        Sipp::answering(p7, 200, rtp7.port()),
    )
}

/// Bridged, RTP 4005 -> relay -> 4007, then hang up through the control API.
async fn call_carries_rtp(stack: &Stack, id: &CallId, rtp5: &RtpPeer, rtp7: &RtpPeer) {
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(&call.id, id);
    let relay_a = relay_addr(&stack.api, id, Side::A).await;
    let sent = rtp5.play_pcap(relay_a).await;
    assert_eq!(
        rtp7.wait_received(sent).await,
        sent,
        "4005's RTP reached 4007"
    );
    stack.api.hangup(id).await.unwrap();
    let events = stack.events_until_end(id).await;
    assert_one_terminal(&events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_soapclient_call_control_and_3pcc() {
    let php = php();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let host = gw.base.trim_start_matches("http://").to_string();
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;

    // 1. SOAP, the vendor's own PHP sample.
    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let (a, b) = phones(p5, p7, &rtp5, &rtp7);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sample = format!(
        r#"$client = new SoapClient("http://{host}/pbx/services/UserImpl?wsdl"); print($client->callControl("4005","4005",array("4007"),"2"));"#
    );
    let (code, out, err) = run_tool(
        &php,
        &["-d", "soap.wsdl_cache_enabled=0", "-r", &sample],
        20,
    )
    .await;
    assert_eq!(code, 0, "php: {out} {err}");
    assert!(
        !out.is_empty() && out.bytes().all(|b| b.is_ascii_digit()),
        "the sample prints the call id: {out:?}"
    );
    call_carries_rtp(&stack, &CallId(out.clone()), &rtp5, &rtp7).await;
    assert_eq!(a.wait(15).await, 0, "4005 answered and hung up cleanly");
    assert_eq!(b.wait(15).await, 0, "4007 answered and hung up cleanly");

    // 2. HTTP 3PCC with curl, as the vendor documents it.
    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let (a, b) = phones(p5, p7, &rtp5, &rtp7);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = format!("http://{host}/pbx/3pcc?to=4007&from=4005&type=2");
    let (code, out, err) = run_tool("curl", &["-sS", &url], 20).await;
    assert_eq!(code, 0, "curl: {err}");
    let id = out
        .strip_prefix("succeeded: ")
        .unwrap_or_else(|| panic!("succeeded: <ID>, got {out:?}"));
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{out:?}");
    call_carries_rtp(&stack, &CallId(id.to_string()), &rtp5, &rtp7).await;
    assert_eq!(a.wait(15).await, 0);
    assert_eq!(b.wait(15).await, 0);

    // 3. A tenant whose 3PCC pattern does not cover 127.0.0.1, picked by Host header.
    stack
        .store
        .upsert_tenant(&Tenant {
            name: "far".into(),
            realm: "far".into(),
        })
        .await
        .unwrap();
    stack
        .store
        .set_tenant_host("far.example", "far")
        .await
        .unwrap();
    stack
        .store
        .set_ip_patterns("far", "brekeke-3pcc", &[r"^10\.1\.".to_string()])
        .await
        .unwrap();
    let (code, out, _) = run_tool(
        "curl",
        &[
            "-sS",
            "-w",
            " %{http_code}",
            "-H",
            "Host: far.example",
            &url,
        ],
        20,
    )
    .await;
    assert_eq!((code, out.as_str()), (0, "failed: forbidden 403"));
    // The SOAP service of that tenant has no pattern at all: nobody without credentials.
    let (code, out, _) = run_tool(
        &php,
        &[
            "-d",
            "soap.wsdl_cache_enabled=0",
            "-r",
            &format!(
                r#"$c = new SoapClient("http://{host}/pbx/services/UserImpl?wsdl"); try {{ $c->getUserProperty_mt("far","100","name"); }} catch (SoapFault $f) {{ print($f->faultcode . "|" . $f->faultstring); }}"#
            ),
        ],
        20,
    )
    .await;
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "soapenv:Server.userException|java.lang.Exception: permission denied"
        )
    );
    assert!(
        stack.api.list_calls().await.unwrap().is_empty(),
        "no call was placed"
    );
    gw.stop().await;
    stack.stop().await;
}
