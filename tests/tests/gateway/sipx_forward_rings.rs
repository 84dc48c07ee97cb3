//! `/my/forward` PUT changes who rings on the next inbound call: 4007 puts a call sequence
//! (XML sent as a form, with 4.2's `<position>`) ringing 4009 at the same time as itself;
//! 4005 calls 4007, 4007's phone only rings, 4009's answers. An empty sequence puts it back:
//! the next call rings 4007 alone. A short voicemail PIN is refused with sipX's text in the
//! status line.
use patchbay_api::CallState;
use patchbay_tests::*;
use std::time::Duration;

const SEQUENCE: &str = "<call-sequence>\n  <rings>\n    <ring>\n      <expiration>20</expiration>\n      <type>At the same time</type>\n      <enabled>true</enabled>\n      <number>4009</number>\n      <position>0</position>\n    </ring>\n  </rings>\n  <expiration>20</expiration>\n</call-sequence>\n";

async fn put_forward(gw: &Gw, body: &str) {
    let url = format!("{}/sipxconfig/rest/my/forward", gw.base);
    let (code, out, err) = run_tool(
        "curl",
        &[
            "-sS",
            "-w",
            "%{http_code}",
            "-X",
            "PUT",
            "-u",
            "4007:web-4007",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "--data-binary",
            body,
            &url,
        ],
        20,
    )
    .await;
    assert_eq!((code, out.as_str()), (0, "200"), "{err}");
}

/// 4005 calls 4007; who answered.
async fn call(stack: &Stack) -> String {
    let rtp5 = RtpPeer::new(false).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        stack,
        free_port(),
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "300"],
    );
    let c = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(caller.wait(20).await, 0);
    assert_one_terminal(&stack.events_until_end(&c.id).await);
    c.connected.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_call_sequence_rings_the_next_call() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p7, p9) = (free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;

    put_forward(&gw, SEQUENCE).await;
    let ringing = Sipp::phone("uas_ring_cancel.xml", p7, &[]);
    let r9 = RtpPeer::new(true).await;
    let answering = Sipp::answering(p9, 200, r9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        call(&stack).await,
        "4009",
        "4009 rang with 4007 and answered"
    );
    assert_eq!(ringing.wait(15).await, 0, "4007 rang and was cancelled");
    assert_eq!(answering.wait(15).await, 0);

    put_forward(
        &gw,
        "<call-sequence><rings/><expiration>20</expiration></call-sequence>",
    )
    .await;
    let r7 = RtpPeer::new(true).await;
    let own = Sipp::answering(p7, 200, r7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(call(&stack).await, "4007", "an empty sequence: 4007 alone");
    assert_eq!(own.wait(15).await, 0);

    // sipX's error texts travel in the status line.
    let url = format!("{}/sipxconfig/rest/my/voicemail/pin/12", gw.base);
    let (_, out, _) = run_tool(
        "curl",
        &[
            "-sS",
            "-i",
            "-X",
            "PUT",
            "-u",
            "4007:web-4007",
            "-d",
            "+",
            &url,
        ],
        20,
    )
    .await;
    assert!(
        out.starts_with("HTTP/1.1 400 Voicemail PIN must be at least 4 characters long\r\n"),
        "{out}"
    );
    gw.stop().await;
    stack.stop().await;
}
