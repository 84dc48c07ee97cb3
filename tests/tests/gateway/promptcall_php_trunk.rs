//! promptCall's click-to-call as its published PHP client class places it (php-cli + php-curl,
//! written here from the class's description): a JSON POST `{ext, tel}` to the bare
//! `/pbxws.php` it is configured with, `Authorization: Basic base64(account:key)`, `tel` the
//! country code `+66` glued to a local number with its leading zero (`+660812345678`), the
//! outcome read from `success`. 4005's SIPp phone rings and answers, then the call leaves
//! through the demo tenant's carrier trunk (SIPp, Digest) as `0812345678`; RTP from 4005
//! reaches the carrier and comes back. Wrong credentials: `success` false, nothing rings.
use patchbay_api::{CallState, Side};
use patchbay_tests::trunk::{carrier, set_up_carrier};
use patchbay_tests::*;
use std::time::Duration;

/// The client's request: `getCallUrl` + `basic_token` + `decodeResult`, as the class does it.
fn client(url: &str, account: &str, key: &str, local: &str) -> String {
    format!(
        r#"$country_code = '+66';
$params = array('ext' => '4005', 'tel' => $country_code . '{local}');
$token = base64_encode("{account}:{key}");
$ch = curl_init('{url}');
curl_setopt($ch, CURLOPT_POST, 1);
curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($params));
curl_setopt($ch, CURLOPT_HTTPHEADER, array('Authorization: Basic ' . $token, 'Content-Type: application/json'));
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$decode = json_decode(curl_exec($ch), true);
if (!$decode['success']) {{ print('failed: ' . $decode['msg']); }}
else {{ print('success: ' . $decode['msg']); }}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_php_client_calls_out_through_the_trunk() {
    let php = php();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let cport = free_port();
    set_up_carrier(&gw, cport).await;
    let p5 = free_port();
    stack.register("4005", p5).await;
    let url = format!("{}/pbxws.php", gw.base);

    // Wrong secret: the class reads `success` false and shows `msg`; nothing rings.
    let (code, out, err) = run_tool(
        &php,
        &["-r", &client(&url, "demo-key", "wrong", "0812345678")],
        20,
    )
    .await;
    assert_eq!(code, 0, "php: {out} {err}");
    assert!(out.starts_with("failed: "), "{out}");
    assert!(stack.api.list_calls().await.unwrap().is_empty());

    let (phone_rtp, carrier_rtp) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let phone = Sipp::answering(p5, 100, phone_rtp.port());
    let carrier = carrier(cport, carrier_rtp.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, out, err) = run_tool(
        &php,
        &["-r", &client(&url, "demo-key", "demo-secret", "0812345678")],
        20,
    )
    .await;
    assert_eq!(code, 0, "php: {out} {err}");
    assert!(out.starts_with("success: "), "{out}");
    let call = stack.call_in_state(CallState::Bridged).await;
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = phone_rtp.play_pcap(relay_a).await;
    assert_eq!(
        carrier_rtp.wait_received(sent).await,
        sent,
        "4005's RTP reached the carrier"
    );
    assert_eq!(phone_rtp.wait_received(sent).await, sent, "and came back");
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(phone.wait(10).await, 0);
    let (code, trace) = carrier.wait_messages(10).await;
    assert_eq!(code, 0, "the carrier accepted our credentials:\n{trace}");
    assert!(
        trace.contains("INVITE sip:0812345678@127.0.0.5"),
        "the dial plan's national number:\n{trace}"
    );
    let c = cdr(&stack, &call.id).await;
    assert_eq!(c.from, "4005");
    assert!(c.answered_ms.is_some(), "{c:?}");
}
