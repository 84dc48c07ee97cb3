//! `/pbx/3pcc` with `phone` and `page`: 4005 has two phones registered; `phone=2&page=true`
//! rings only the second, whose INVITE asks it to answer by itself (Call-Info answer-after=0,
//! Alert-Info alert-autoanswer); the callee's INVITE does not. The first phone gets nothing.
//! A phone index the caller has not registered, or outside 1..4, is refused in Brekeke's form.
use patchbay_api::{CallId, CallState, Side};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_rings_the_chosen_phone_with_auto_answer() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p5a, p5b, p7) = (free_port(), free_port(), free_port());
    // Phone 1 of 4005 is a socket that only listens: it must not be rung.
    let phone1 = tokio::net::UdpSocket::bind(("127.0.0.1", p5a))
        .await
        .unwrap();
    stack.register("4005", p5a).await;
    stack.register("4005", p5b).await;
    stack.register("4007", p7).await;

    // Refusals first, while no phone listens: nothing may ring.
    for (q, want) in [
        ("phone=5", "failed: invalid phone: 1 to 4"),
        ("phone=x", "failed: invalid phone: 1 to 4"),
        (
            "phone=3",
            "failed: not found: 4005 has no phone 3 registered",
        ),
    ] {
        let r = gw
            .get(&format!("/pbx/3pcc?to=4007&from=4005&type=2&{q}"))
            .await;
        assert_eq!((r.status, r.body.as_str()), (200, want), "{q}");
    }
    assert!(stack.api.list_calls().await.unwrap().is_empty());

    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let a = Sipp::answering(p5b, 100, rtp5.port());
    let b = Sipp::answering(p7, 100, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let host = gw.base.trim_start_matches("http://").to_string();
    let url = format!("http://{host}/pbx/3pcc?to=4007&from=4005&type=2&phone=2&page=true");
    let (code, out, err) = run_tool("curl", &["-sS", &url], 20).await;
    assert_eq!(code, 0, "curl: {err}");
    let id = CallId(
        out.strip_prefix("succeeded: ")
            .unwrap_or_else(|| panic!("succeeded: <ID>, got {out:?}"))
            .to_string(),
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    assert_eq!(call.id, id);
    let relay_a = relay_addr(&stack.api, &id, Side::A).await;
    let sent = rtp5.play_pcap(relay_a).await;
    assert_eq!(rtp7.wait_received(sent).await, sent, "RTP 4005 -> 4007");
    stack.api.hangup(&id).await.unwrap();
    assert_one_terminal(&stack.events_until_end(&id).await);

    let (code, trace) = a.wait_messages(15).await;
    assert_eq!(code, 0, "phone 2 of 4005 answered and hung up");
    let invite = received_invite(&trace);
    assert!(invite.contains(";answer-after=0"), "{invite}");
    assert!(invite.contains("info=alert-autoanswer"), "{invite}");
    let (code, trace) = b.wait_messages(15).await;
    assert_eq!(code, 0, "4007 answered and hung up");
    let invite = received_invite(&trace);
    assert!(
        !invite.contains("answer-after") && !invite.contains("alert-autoanswer"),
        "the callee is not paged: {invite}"
    );
    let mut buf = [0u8; 2048];
    assert!(
        phone1.try_recv(&mut buf).is_err(),
        "phone 1 of 4005 was not rung"
    );
    gw.stop().await;
    stack.stop().await;
}
