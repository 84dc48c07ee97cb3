//! sipX's conference resources on a real room: room `team` (extension 710) belongs to 4005;
//! 4005 dials in; `GET /my/conference/team/invite&4007` (curl, as 4005) makes the room call
//! 4007, which answers and is in; `/my/conferencedetails/team` lists both members with
//! sipX's fields; the two hear each other; `kick&<its id>` ends 4007's call. 4007 (not the owner)
//! is refused with sipX's text.
use patchbay_api::{CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_room_invites_lists_and_kicks() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                M::PUT,
                "/api/v1/tenants/demo/conferences/team",
            )
            .json(&json!({"extension": "710", "owner": "4005", "description": "Team"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rest = format!("{}/sipxconfig/rest/my", gw.base);
    let get = |user: &'static str, path: String| {
        let pin = format!("web-{user}");
        gw.http
            .get(format!("{rest}{path}"))
            .basic_auth(user, Some(pin))
    };

    let rtp5 = RtpCapture::new().await;
    let _p5 = Sipp::dial(&stack, "4005", "710", rtp5.port());
    let c5 = stack.call_in_state(CallState::Bridged).await.id;
    stack
        .wait_event(&c5, 15, |k| matches!(k, EventKind::ConferenceJoined { .. }))
        .await;

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
    let url = format!("{rest}/conference/team/invite&4007");
    let (code, out, err) = run_tool("curl", &["-sS", "-u", "4005:web-4005", &url], 20).await;
    assert_eq!(
        (code, out.as_str()),
        (0, "<command-response>Invitation sent</command-response>"),
        "{err}"
    );
    let mut members = Vec::new();
    for _ in 0..100 {
        members = stack.api.conference("demo", "team").await.unwrap();
        if members.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        members.len(),
        2,
        "4007 answered the room's call: {members:?}"
    );
    let c7 = members.iter().find(|m| m.call != c5).unwrap().call.clone();

    let r = gw.send(get("4005", "/conferencedetails/team".into())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.starts_with(&format!(
            "<conference>\n  <extension>710</extension>\n  <description>Team</description>\n  <locked>false</locked>\n  <members>\n    <member>\n      <id>{}</id>\n      <name>4005</name>",
            c5.0
        )) && r.body.contains(&format!("<id>{}</id>\n      <name>4007</name>", c7.0)),
        "{}",
        r.body
    );

    // The two hear each other.
    let signals = vec![
        test_signal_seeded(8_000, 1.0, 41),
        test_signal_seeded(8_000, 1.0, 43),
    ];
    let relays = [
        relay_addr(&stack.api, &c5, Side::A).await,
        relay_addr(&stack.api, &c7, Side::A).await,
    ];
    let starts = vec![rtp5.audio().len(), rtp7.audio().len()];
    let (s5, s7) = (phone_packets(&signals[0]), phone_packets(&signals[1]));
    tokio::join!(
        send_paced(&rtp5.sock, relays[0], &s5),
        send_paced(&rtp7.sock, relays[1], &s7),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_each_hears_the_others(&[&rtp5, &rtp7], &starts, &signals);

    // Not the owner: sipX's 403.
    let r = gw.send(get("4007", "/conference/team/kick&1".into())).await;
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains("User is not owner of this conference"),
        "{}",
        r.body
    );

    // Members by the id `conferencedetails` gave them.
    let r = gw
        .send(get("4005", format!("/conference/team/kick&{}", c7.0)))
        .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, format!("OK kick {}", c7.0).as_str())
    );
    let (code, trace) = p7.wait_messages(10).await;
    assert_eq!(code, 0, "4007 was sent BYE:\n{trace}");
    assert!(
        received_invite(&trace).contains("<sip:710@"),
        "the invite showed the room's extension"
    );
    stack.api.hangup(&c5).await.unwrap();
    gw.stop().await;
    stack.stop().await;
}
