//! Ozeki's commands on a live call (4005 calls 4007 through the native API; SIPp phones):
//! `ListActiveCalls` lists it `InCall`, `Hold` / `Unhold` re-INVITE (and the list says
//! `Hold`), `Speak` is heard by the callee, `SendDTMF` sends keys to the caller,
//! `BlindTransfer` with the callee as transferor connects the caller to 4009, `Hangup` ends it;
//! then the same `Hangup` is `601`, a missing `CallId` is `302`. Every reply is Ozeki's
//! document, byte for byte.
use patchbay_api::{CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

const HEAD: &str = "<?xml version=\"1.0\"?>\r\n<Response xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\r\n";

fn doc(code: u16, message: &str) -> String {
    format!("{HEAD}  <Code>{code}</Code>\r\n  <Message>{message}</Message>\r\n</Response>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_act_on_a_live_call() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let ozeki = |q: String| {
        let url = format!("{}/?{q}&Username=4005&Password=web-4005", gw.ozeki);
        let gw = &gw;
        async move {
            let r = gw.send(gw.http.get(url)).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.header("server"), "Microsoft-HTTPAPI/2.0");
            r.body
        }
    };
    let (p5, p7, p9) = (free_port(), free_port(), free_port());
    for (u, p) in [("4005", p5), ("4007", p7), ("4009", p9)] {
        stack.register(u, p).await;
    }
    let rtp5 = RtpCapture::new().await;
    let rtp7 = RtpCapture::new().await;
    let rtp9 = RtpPeer::new(false).await;
    // 4005 and 4007 take the hold and unhold re-INVITEs (and check their directions).
    let holding = |port: u16, rtp: u16| {
        let (ring, rtp) = ("200".to_string(), rtp.to_string());
        Sipp::phone(
            "uas_hold.xml",
            port,
            &["-set", "ring_ms", &ring, "-set", "rtpport", &rtp],
        )
    };
    let phone5 = holding(p5, rtp5.port());
    let phone7 = holding(p7, rtp7.port());
    let phone9 = Sipp::answering(p9, 200, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                reqwest::Method::POST,
                "/api/v1/calls",
            )
            .json(&serde_json::json!({"from": "4005", "to": "4007"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = stack.call_in_state(CallState::Bridged).await.id;
    let c = &id.0;

    let list = ozeki("command=ListActiveCalls".into()).await;
    let call = format!(
        "  <ActiveCalls>\r\n    <CallInfo>\r\n      <CallState>InCall</CallState>\r\n      <CallId>{c}</CallId>\r\n      <Source>4005</Source>\r\n      <CallerId>4005</CallerId>\r\n      <Destination>4007</Destination>\r\n      <StartTime>"
    );
    assert!(
        list.starts_with(&format!(
            "{HEAD}  <Code>200</Code>\r\n  <Message>Command successfully executed</Message>\r\n{call}"
        )),
        "{list}"
    );
    assert!(
        list.ends_with("</TalkDuration>\r\n    </CallInfo>\r\n  </ActiveCalls>\r\n</Response>")
    );
    let ok = doc(200, "Command successfully executed");

    assert_eq!(ozeki(format!("command=Hold&CallId={c}")).await, ok);
    stack
        .wait_event(&id, 10, |k| matches!(k, EventKind::Held))
        .await;
    let list = ozeki("command=listactivecalls".into()).await;
    assert!(list.contains("<CallState>Hold</CallState>"), "{list}");
    assert_eq!(ozeki(format!("command=Unhold&callid={c}")).await, ok);
    stack
        .wait_event(&id, 10, |k| matches!(k, EventKind::Resumed))
        .await;

    let heard = rtp7.audio().len();
    assert_eq!(
        ozeki(format!(
            "command=Speak&CallId={c}&Party=callee&Text=Hello+there"
        ))
        .await,
        ok
    );
    stack
        .wait_event(&id, 20, |k| {
            matches!(k, EventKind::PlayFinished { side: Side::B, .. })
        })
        .await;
    assert!(rms(&rtp7.audio()[heard..]) > 300.0, "4007 heard the speech");
    assert_eq!(
        ozeki(format!(
            "command=SendDTMF&CallId={c}&Party=caller&Digits=12"
        ))
        .await,
        ok
    );
    stack
        .wait_event(&id, 10, |k| {
            matches!(k, EventKind::DtmfSent { side: Side::A, .. })
        })
        .await;

    // The callee hands the caller over to 4009.
    assert_eq!(
        ozeki(format!(
            "command=BlindTransfer&CallId={c}&TransferorParty=callee&Target=4009"
        ))
        .await,
        ok
    );
    let ev = stack
        .wait_event(&id, 15, |k| matches!(k, EventKind::Transferred { .. }))
        .await;
    assert!(matches!(&ev.kind, EventKind::Transferred { target } if target == "4009"));
    assert_eq!(phone7.wait(10).await, 0, "4007 was sent BYE");

    assert_eq!(ozeki(format!("command=Hangup&CallId={c}")).await, ok);
    stack.events_until_end(&id).await;
    assert_eq!(phone5.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    assert_eq!(
        ozeki(format!("command=Hangup&CallId={c}")).await,
        doc(601, &format!("Call not found with ID '{c}'"))
    );
    assert_eq!(
        ozeki("command=Hangup".into()).await,
        doc(
            302,
            "Missing or invalid parameter 'CallId' for command 'Hangup'"
        )
    );
    assert_eq!(
        ozeki("command=ListActiveCalls".into()).await,
        format!(
            "{HEAD}  <Code>200</Code>\r\n  <Message>Command successfully executed</Message>\r\n  <ActiveCalls />\r\n</Response>"
        )
    );
    gw.stop().await;
    stack.stop().await;
}
