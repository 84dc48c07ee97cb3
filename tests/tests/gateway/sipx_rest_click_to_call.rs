//! sipXconfig's click-to-call as dialers send it: `PUT /sipxconfig/rest/my/call/4007` with
//! preemptive Basic (4005 and its web PIN) and a body of `+` (curl). 4005's SIPp phone rings
//! and answers, then 4007's; 4005's RTP reaches 4007 through the relay. Then `GET
//! /sipxconfig/rest/call/4007` (the alias, GET as the seed documents it) with curl's Digest
//! places the next call the same way.
use patchbay_api::{CallState, Side};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_my_call_rings_the_user_then_the_number() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (p5, p7) = (free_port(), free_port());
    stack.register("4005", p5).await;
    stack.register("4007", p7).await;

    for (args, path) in [
        (
            vec!["-X", "PUT", "-u", "4005:web-4005", "-d", "+"],
            "/sipxconfig/rest/my/call/4007",
        ),
        (
            vec!["--digest", "-u", "4005:web-4005"],
            "/sipxconfig/rest/call/4007",
        ),
    ] {
        let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
        let a = Sipp::answering(p5, 200, rtp5.port());
        let b = Sipp::answering(p7, 200, rtp7.port());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let url = format!("{}{path}", gw.base);
        let mut all = vec!["-sS", "-w", "%{http_code}"];
        all.extend(args);
        all.push(&url);
        let (code, out, err) = run_tool("curl", &all, 20).await;
        assert_eq!((code, out.as_str()), (0, "200"), "{path}: {err}");

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
        stack.api.hangup(&call.id).await.unwrap();
        assert_one_terminal(&stack.events_until_end(&call.id).await);
        assert_eq!(a.wait(15).await, 0, "4005 answered and hung up cleanly");
        assert_eq!(b.wait(15).await, 0, "4007 answered and hung up cleanly");
    }
    gw.stop().await;
    stack.stop().await;
}
