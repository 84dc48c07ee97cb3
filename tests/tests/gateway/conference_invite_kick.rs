//! Running a dial-in room (native admin API): 4005 dials room `team` (extension 710, no PIN)
//! and is in; the room invites 4007 (it rings, shows the room's extension, answers and is in
//! the room: the two hear each other, and the member list shows both talking, then quiet);
//! the room is locked and 4009 dialling in is told so and hung up; 4007 is kicked (its call
//! ends) and the room lists 4005 alone.
use patchbay_api::{CallId, CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

fn dial(stack: &Stack, user: &str, rtp: &RtpCapture) -> Sipp {
    Sipp::dial(stack, user, "710", rtp.port())
}

async fn call_of(stack: &Stack, pick: impl Fn(&patchbay_api::CallInfo) -> bool) -> CallId {
    for _ in 0..100 {
        let calls = stack.api.list_calls().await.unwrap();
        if let Some(c) = calls.into_iter().find(|c| pick(c)) {
            return c.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no such call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_invites_locks_and_kicks() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let put = |locked: bool| {
        demo(M::PUT, "/api/v1/tenants/demo/conferences/team")
            .json(&json!({"extension": "710", "locked": locked}))
    };
    assert_eq!(gw.send(put(false)).await.status, 200);

    let rtp5 = RtpCapture::new().await;
    let p5 = dial(&stack, "4005", &rtp5);
    let c5 = call_of(&stack, |c| {
        c.from == "4005" && c.state == CallState::Bridged
    })
    .await;
    stack
        .wait_event(&c5, 15, |k| matches!(k, EventKind::ConferenceJoined { .. }))
        .await;

    // Invite 4007: the room calls it; on answer it is in.
    let p7port = free_port();
    stack.register("4007", p7port).await;
    let rtp7 = RtpCapture::new().await;
    let p7 = Sipp::phone(
        "uas_answer.xml",
        p7port,
        &[
            "-set",
            "ring_ms",
            "300",
            "-set",
            "rtpport",
            &rtp7.port().to_string(),
        ],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = gw
        .send(
            demo(M::POST, "/api/v1/tenants/demo/conferences/team/invite")
                .json(&json!({"to": "4007"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c7 = CallId(r.json()["id"].as_str().unwrap().to_string());
    stack
        .wait_event(&c7, 15, |k| matches!(k, EventKind::ConferenceJoined { .. }))
        .await;
    let members = stack.api.conference("demo", "team").await.unwrap();
    assert_eq!(members.len(), 2, "{members:?}");

    // The two hear each other.
    let signals = vec![
        test_signal_seeded(8_000, 1.0, 23),
        test_signal_seeded(8_000, 1.0, 29),
    ];
    let relays = [
        relay_addr(&stack.api, &c5, Side::A).await,
        relay_addr(&stack.api, &c7, Side::A).await,
    ];
    let starts = vec![rtp5.audio().len(), rtp7.audio().len()];
    let (s5, s7) = (phone_packets(&signals[0]), phone_packets(&signals[1]));
    let members_path = "/api/v1/tenants/demo/conferences/team/members";
    let energies = |body: serde_json::Value| -> Vec<u64> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|m| m["energy"].as_u64().unwrap())
            .collect()
    };
    let (_, _, talking) = tokio::join!(
        send_paced(&rtp5.sock, relays[0], &s5),
        send_paced(&rtp7.sock, relays[1], &s7),
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            gw.send(demo(M::GET, members_path)).await
        },
    );
    assert!(
        energies(talking.json()).iter().all(|e| *e > 300),
        "both talk: {}",
        talking.body
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_each_hears_the_others(&[&rtp5, &rtp7], &starts, &signals);
    let quiet = gw.send(demo(M::GET, members_path)).await;
    assert!(
        energies(quiet.json()).iter().all(|e| *e < 100),
        "silent again: {}",
        quiet.body
    );

    // Locked: 4009 is told and hung up.
    assert_eq!(gw.send(put(true)).await.status, 200);
    let rtp9 = RtpCapture::new().await;
    let p9 = dial(&stack, "4009", &rtp9);
    assert_eq!(p9.wait(30).await, 0, "4009 was sent BYE");
    assert_eq!(stack.api.conference("demo", "team").await.unwrap().len(), 2);

    // Kick 4007: its call ends.
    let r = gw
        .send(demo(
            M::DELETE,
            &format!("/api/v1/tenants/demo/conferences/team/members/{c7}"),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (code, trace) = p7.wait_messages(10).await;
    assert_eq!(code, 0, "4007 was sent BYE:\n{trace}");
    assert!(
        received_invite(&trace).contains("<sip:710@"),
        "the invite showed the room's extension"
    );
    let members = stack.api.conference("demo", "team").await.unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    let r = gw
        .send(demo(
            M::DELETE,
            &format!("/api/v1/tenants/demo/conferences/team/members/{c7}"),
        ))
        .await;
    assert_eq!(r.status, 404, "no longer a member: {}", r.body);
    stack.api.hangup(&c5).await.unwrap();
    assert_eq!(p5.wait(10).await, 0);
    gw.stop().await;
    stack.stop().await;
}
