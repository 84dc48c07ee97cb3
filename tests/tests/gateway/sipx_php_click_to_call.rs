//! sipX's click-to-call as the seed's PHP sample does it (php-cli + php-curl): `POST
//! /callcontroller/4005/4007?isForwardingAllowed=true` on the call controller's port with
//! curl Digest as 4005 and its web PIN. 4005's SIPp phone rings and answers, then 4007's;
//! 4005's RTP reaches 4007 through the relay; a GET on the same URL returns the call's
//! status lines (4005's INVITE responses, then the transfer's progress).
use patchbay_api::{CallState, Side};
use patchbay_tests::*;
use std::time::Duration;

/// The sample's request: curl with Digest, as the seed's PHP click-to-call page sends it.
fn php_sample(url: &str, post: bool) -> String {
    format!(
        r#"$ch = curl_init("{url}");
curl_setopt($ch, CURLOPT_HTTPAUTH, CURLAUTH_DIGEST);
curl_setopt($ch, CURLOPT_USERPWD, "4005:web-4005");
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
{post}
$result = curl_exec($ch);
print(curl_getinfo($ch, CURLINFO_HTTP_CODE) . "|" . $result);
curl_close($ch);"#,
        post = if post {
            "curl_setopt($ch, CURLOPT_POST, 1);"
        } else {
            ""
        }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_sample_rings_the_caller_then_the_callee() {
    let php = php();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;
    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let a = Sipp::answering(p5, 200, rtp5.port());
    let b = Sipp::answering(p7, 200, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let url = format!(
        "{}/callcontroller/4005/4007?isForwardingAllowed=true",
        gw.sipx_cc
    );
    let (code, out, err) = run_tool(&php, &["-r", &php_sample(&url, true)], 20).await;
    assert_eq!(code, 0, "php: {out} {err}");
    assert_eq!(out, "200|", "200 with an empty body");

    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.from, "4005");
    assert_eq!(call.connected.as_deref(), Some("4007"));
    let relay_a = relay_addr(&stack.api, &call.id, Side::A).await;
    let sent = rtp5.play_pcap(relay_a).await;
    assert_eq!(
        rtp7.wait_received(sent).await,
        sent,
        "4005's RTP reached 4007"
    );

    // The status of that call, by the same URL.
    let (code, out, err) = run_tool(&php, &["-r", &php_sample(&url, false)], 20).await;
    assert_eq!(code, 0, "php: {out} {err}");
    let doc = out.strip_prefix("200|").unwrap_or_else(|| panic!("{out}"));
    assert!(doc.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status-lines xmlns=\"http://www.sipfoundry.org/sipX/schema/xml/call-status-00-00\">\n<status>\n\t<timestamp>"
    ), "{doc}");
    let lines: Vec<(String, String)> = doc
        .split("<status>")
        .skip(1)
        .map(|s| {
            let field = |n: &str| {
                let (open, close) = (format!("<{n}>"), format!("</{n}>"));
                let i = s.find(&open).expect(n) + open.len();
                s[i..i + s[i..].find(&close).expect(n)].to_string()
            };
            assert_eq!(field("call-id"), format!("{}@demo", call.id.0));
            (field("method"), field("status-line"))
        })
        .collect();
    let want = [
        ("INVITE", "SIP/2.0 180 Ringing"),
        ("INVITE", "SIP/2.0 200 OK"),
        ("NOTIFY", "SIP/2.0 100 Trying"),
        ("NOTIFY", "SIP/2.0 180 Ringing"),
        ("NOTIFY", "SIP/2.0 200 OK"),
    ];
    assert_eq!(
        lines,
        want.map(|(m, l)| (m.to_string(), l.to_string())),
        "{doc}"
    );
    assert!(doc.ends_with("</status>\n</status-lines>\n"), "{doc}");

    stack.api.hangup(&call.id).await.unwrap();
    assert_one_terminal(&stack.events_until_end(&call.id).await);
    assert_eq!(a.wait(15).await, 0, "4005 answered and hung up cleanly");
    assert_eq!(b.wait(15).await, 0, "4007 answered and hung up cleanly");

    // A wrong PIN: 401 `pin mismatch` after the challenge.
    let wrong = php_sample(&url, true).replace("web-4005", "web-0000");
    let (_, out, _) = run_tool(&php, &["-r", &wrong], 20).await;
    assert_eq!(out, "401|pin mismatch");
    gw.stop().await;
    stack.stop().await;
}
