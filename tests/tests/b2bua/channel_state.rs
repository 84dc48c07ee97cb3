//! Channel state, as a wallboard polls it: while 4005's call rings 4007, `SIP/4005` is `ring`
//! and `SIP/4007` `ringing`, both carrying 4005's caller ID and one unique id each; answered,
//! both are `up`; `SIP/4009` stays `down`; after the hangup both are `down` again.
use patchbay_api::{Channel, ChannelState};
use patchbay_tests::*;
use std::time::Duration;

async fn poll(stack: &Stack) -> Vec<Channel> {
    stack
        .api
        .channels("demo", Some(&["SIP/4005", "SIP/4007", "SIP/4009"]))
        .await
        .unwrap()
}

async fn until(stack: &Stack, want: [ChannelState; 3]) -> Vec<Channel> {
    let mut last = Vec::new();
    for _ in 0..100 {
        last = poll(stack).await;
        if last.iter().map(|c| c.state).collect::<Vec<_>>() == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never {want:?}: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_follow_a_call() {
    use ChannelState::*;
    let stack = Stack::start().await;
    let p7 = free_port();
    stack.register("4007", p7).await;
    let (rtp7, rtp5) = (RtpPeer::new(true).await, RtpPeer::new(false).await);
    let callee = Sipp::answering(p7, 2_000, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "1500"],
    );
    let ringing = until(&stack, [Ring, Ringing, Down]).await;
    assert!(
        ringing[..2].iter().all(|c| c.clid_num == "4005"),
        "{ringing:?}"
    );
    assert_ne!(ringing[0].unique_id, ringing[1].unique_id);
    assert!(ringing[2].unique_id.is_empty());
    let up = until(&stack, [Up, Up, Down]).await;
    assert_eq!(up[0].call, up[1].call);
    assert_eq!(caller.wait(20).await, 0);
    assert_eq!(callee.wait(10).await, 0);
    until(&stack, [Down, Down, Down]).await;
    // Without names: every live channel of the tenant (none now).
    assert!(stack.api.channels("demo", None).await.unwrap().is_empty());
    stack.stop().await;
}
