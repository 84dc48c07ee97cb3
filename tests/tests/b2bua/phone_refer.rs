//! A phone's transfer key: 4005 calls 4007, then REFERs the call to 4009. The B2BUA answers
//! 202, reports progress in NOTIFYs (100, then 200 once 4009 answered), keeps 4007, calls 4009
//! and bridges them, and releases 4005 with BYE. The call core sees it as a transfer
//! (`transfer_started`, `transferred`). OPTIONS to the B2BUA is answered 200.
use patchbay_api::{CallState, Cause, EndedBy, EventKind};
use patchbay_tests::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refer_from_a_phone_transfers_the_other_party() {
    let stack = Stack::start().await;
    let (p4007, p4009, p4005) = (free_port(), free_port(), free_port());
    stack.register("4007", p4007).await;
    stack.register("4009", p4009).await;
    let rtp7 = RtpPeer::new(true).await;
    let rtp9 = RtpPeer::new(true).await;
    let rtp5 = RtpPeer::new(false).await;
    let b = Sipp::answering(p4007, 100, rtp7.port());
    let c = Sipp::answering(p4009, 300, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = Sipp::caller(
        "uac_refer.xml",
        &stack,
        p4005,
        "4007",
        rtp5.port(),
        &["-set", "target", "4009"],
    );
    assert_eq!(a.wait(20).await, 0, "202, NOTIFY 100, NOTIFY 200, then BYE");
    let call = stack.call_in_state(CallState::Bridged).await;
    // 4009 took 4005's place on side A; 4007 (side B) is still connected.
    assert_eq!(call.connected.as_deref(), Some("4007"));
    let media = stack.api.media(&call.id).await.unwrap();
    let parties: Vec<&str> = media.iter().map(|l| l.party.as_str()).collect();
    assert!(
        parties.contains(&"4009") && parties.contains(&"4007"),
        "{media:?}"
    );
    // OPTIONS (a keep-alive) is answered.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let port = sock.local_addr().unwrap().port();
    let options = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKopt1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=o1\r\nTo: <sip:{sip}>\r\n\
         Call-ID: options-1@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        sip = stack.sip()
    );
    let r = sip_exchange(&sock, &stack.sip(), &options);
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
    assert!(r.contains("REFER"), "Allow lists REFER: {r}");
    stack.api.hangup(&call.id).await.unwrap();
    assert_eq!(
        b.wait(10).await,
        0,
        "4007 stayed in the call until the hangup"
    );
    assert_eq!(c.wait(10).await, 0, "4009 answered and got BYE");
    let events = stack.events_until_end(&call.id).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::TransferStarted { target } if target == "4009")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Transferred { target } if target == "4009")),
        "{events:?}"
    );
    let (cause, by) = assert_one_terminal(&events);
    assert_eq!((cause, by), (Cause::Normal, EndedBy::Api));
    stack.stop().await;
}
