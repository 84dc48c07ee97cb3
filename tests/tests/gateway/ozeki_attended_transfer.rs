//! Ozeki's `AttendedTransfer`: 4005 (two phones) talks to 4007 (call 1) and to
//! 4009 (call 2); the app transfers call 1 to call 2's party: 4005's phones are hung up, 4007
//! and 4009 talk (RTP through the relay both ways), call 2 ends `transferred`. Two calls that
//! share no party cannot be joined (303).
use patchbay_api::{CallId, CallState, Cause, OriginateRequest};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

async fn bridged(stack: &Stack, from_phone: u8, to: &str) -> CallId {
    let info = stack
        .api
        .originate(&OriginateRequest {
            tenant: "demo".into(),
            from: "4005".into(),
            to: vec![to.into()],
            from_phone: Some(from_phone),
            ..OriginateRequest::default()
        })
        .await
        .unwrap();
    for _ in 0..200 {
        if stack.api.call(&info.id).await.unwrap().state == CallState::Bridged {
            return info.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("call to {to} not answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attended_transfer_joins_the_other_parties() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let g = &gw;
    let ozeki = |q: String| async move { g.ozeki(&q).await };
    let code = |body: &str| {
        let i = body.find("<Code>").expect("a code") + 6;
        body[i..i + 3].to_string()
    };
    let (p5a, p5b, p7, p9) = (free_port(), free_port(), free_port(), free_port());
    for (user, port) in [("4005", p5a), ("4005", p5b), ("4007", p7), ("4009", p9)] {
        stack.register(user, port).await;
    }
    let (r5a, r5b) = (RtpPeer::new(false).await, RtpPeer::new(false).await);
    let (rtp7, rtp9) = (RtpPeer::new(false).await, RtpPeer::new(false).await);
    let phone5a = Sipp::answering(p5a, 100, r5a.port());
    let phone5b = Sipp::answering(p5b, 100, r5b.port());
    let phone7 = Sipp::answering(p7, 100, rtp7.port());
    let phone9 = Sipp::answering(p9, 100, rtp9.port());
    let call1 = bridged(&stack, 1, "4007").await;
    let call2 = bridged(&stack, 2, "4009").await;

    // Calls sharing no party: 303.
    let r = ozeki(format!(
        "command=AttendedTransfer&TransferredCallId={call1}&TargetCallId={call1}"
    ))
    .await;
    assert_eq!(code(&r), "303", "{r}");
    let r = ozeki(format!(
        "command=AttendedTransfer&TransferredCallId={call1}&TargetCallId=nope"
    ))
    .await;
    assert_eq!(code(&r), "601", "{r}");
    let r = ozeki(format!(
        "command=AttendedTransfer&TransferredCallId={call1}"
    ))
    .await;
    assert!(
        r.contains("Missing or invalid parameter 'TargetCallId' for command 'AttendedTransfer'"),
        "{r}"
    );

    let r = ozeki(format!(
        "command=attendedtransfer&transferredcallid={call1}&targetcallid={call2}"
    ))
    .await;
    assert_eq!(code(&r), "200", "{r}");
    assert_eq!(phone5a.wait(10).await, 0, "4005's first phone hung up");
    assert_eq!(phone5b.wait(10).await, 0, "4005's second phone hung up");
    let ev2 = stack.events_until_end(&call2).await;
    assert_eq!(assert_one_terminal(&ev2).0, Cause::Transferred);
    // 4007 and 4009 talk, both ways.
    let info = stack.api.call(&call1).await.unwrap();
    assert_eq!(info.state, CallState::Bridged);
    // Where each phone sends (the transferor's ended leg may still be listed).
    let media = stack.api.media(&call1).await.unwrap();
    let relay_of = |party: &str| -> std::net::SocketAddr {
        media
            .iter()
            .find(|m| m.party == party)
            .unwrap_or_else(|| panic!("{party}'s leg: {media:?}"))
            .local_rtp
            .parse()
            .unwrap()
    };
    let (to9, to7) = (relay_of("4007"), relay_of("4009"));
    let packets = phone_packets(&test_signal_seeded(8_000, 1.0, 43));
    let n = packets.len() as u64;
    send_paced(&rtp7.sock, to9, &packets).await;
    assert!(rtp9.wait_received(n).await >= n, "4007 heard by 4009");
    send_paced(&rtp9.sock, to7, &packets).await;
    assert!(rtp7.wait_received(n).await >= n, "4009 heard by 4007");
    let r = ozeki(format!("command=Hangup&CallId={call1}")).await;
    assert_eq!(code(&r), "200", "{r}");
    assert_eq!(phone7.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    stack.events_until_end(&call1).await;
    gw.stop().await;
    stack.stop().await;
}
