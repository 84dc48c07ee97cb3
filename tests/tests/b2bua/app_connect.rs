//! An IVR connects its caller to a user: 4005 calls application number 8000; the application
//! plays hold music (spoken text, looped) and asks the B2BUA to connect the caller to 4007
//! (`transfer`, keep A). 4007 rings and answers; the music stops (`play_finished`), the engine
//! lets the caller go, and RTP flows between 4005 and 4007 through the relay; the CDR says
//! the call went to 4007.
use patchbay_api::{CallState, EventKind, Side, TransferMethod, TransferRequest};
use patchbay_tests::media::*;
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_call_connects_its_caller_to_a_user() {
    let stack = Stack::start().await;
    stack
        .api
        .put_app_number("demo", "8000", "IVR")
        .await
        .unwrap();
    let p7 = free_port();
    stack.register("4007", p7).await;
    let (rtp7, rtp5) = (RtpPeer::new(true).await, RtpPeer::new(false).await);
    let callee = Sipp::answering(p7, 1_000, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "8000",
        rtp5.port(),
        &["-set", "talk_ms", "8000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    assert!(call.app);
    let music = stack
        .command(
            &call.id,
            &play(None, Some("Please hold, connecting you."), true, false),
        )
        .await;
    stack
        .api
        .transfer(
            &call.id,
            &TransferRequest {
                target: "4007".into(),
                keep: Side::A,
                method: TransferMethod::Bridge,
            },
        )
        .await
        .unwrap();
    stack
        .wait_event(&call.id, 15, |k| matches!(k, EventKind::Transferred { .. }))
        .await;
    let done = stack.done(&call.id, music, 5).await;
    assert!(
        matches!(done.kind, EventKind::PlayFinished { .. }),
        "{done:?}"
    );
    let info = stack.api.call(&call.id).await.unwrap();
    assert!(!info.app, "an ordinary bridged call now: {info:?}");
    let relay = relay_addr(&stack.api, &call.id, Side::A).await;
    // The music 4005 heard so far is counted: from here on, only 4007's echo arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let heard = rtp5.received();
    let sent = rtp5.play_pcap(relay).await;
    assert_eq!(
        rtp7.wait_received(sent).await,
        sent,
        "4005's RTP reached 4007"
    );
    assert_eq!(
        rtp5.wait_received(heard + sent).await,
        heard + sent,
        "and came back, and nothing else"
    );
    assert_eq!(caller.wait(20).await, 0);
    assert_eq!(callee.wait(10).await, 0);
    let cdr = cdr(&stack, &call.id).await;
    assert_eq!(cdr.transferred_to.as_deref(), Some("4007"), "{cdr:?}");
    stack.stop().await;
}
