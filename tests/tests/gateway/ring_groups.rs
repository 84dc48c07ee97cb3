//! Ring groups (native admin API): a hunt group rings 4007 for its 5 s, then 4009, which
//! answers (4007 is cancelled when its time is up, before 4009 rings); a simultaneous group
//! rings both at once and the first to answer wins (the other is cancelled).
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

/// When the phone's trace shows its first INVITE arriving (seconds of the day).
fn invite_at(trace: &str) -> f64 {
    let mut stamp = None;
    for line in trace.lines() {
        if let Some(rest) = line.strip_prefix("----------------------------------------------- ") {
            stamp = rest.split(' ').nth(1).map(str::to_string);
        } else if line.starts_with("INVITE sip:") {
            let t = stamp.expect("a timestamp before the INVITE");
            let mut parts = t.split(':').map(|p| p.parse::<f64>().unwrap());
            let (h, m, s) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            return h * 3600.0 + m * 60.0 + s;
        }
    }
    panic!("no INVITE in:\n{trace}");
}

async fn group_call(stack: &Stack, gw: &Gw, number: &str, body: serde_json::Value) -> (f64, f64) {
    let r = gw
        .send(
            gw.as_key(
                "demo-key",
                "demo-secret",
                M::PUT,
                &format!("/api/v1/tenants/demo/groups/{number}"),
            )
            .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (p7, p9) = (free_port(), free_port());
    stack.register("4007", p7).await;
    stack.register("4009", p9).await;
    let rtp9 = RtpPeer::new(true).await;
    let rtp5 = RtpPeer::new(false).await;
    let ringing = Sipp::phone("uas_ring_cancel.xml", p7, &[]);
    let answering = Sipp::answering(p9, 500, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        stack,
        free_port(),
        number,
        rtp5.port(),
        &["-set", "talk_ms", "1000"],
    );
    let (c7, t7) = ringing.wait_messages(20).await;
    assert_eq!(c7, 0, "4007 rang and was cancelled:\n{t7}");
    assert_eq!(caller.wait(20).await, 0, "the caller was connected");
    let (c9, t9) = answering.wait_messages(20).await;
    assert_eq!(c9, 0, "4009 answered:\n{t9}");
    (invite_at(&t7), invite_at(&t9))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hunt_and_simultaneous_groups_ring_their_members() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let (t7, t9) = group_call(
        &stack,
        &gw,
        "600",
        json!({"name": "Sales", "strategy": "hunt",
               "members": [{"ext": "4007", "ring_secs": 5}, {"ext": "4009", "ring_secs": 10}]}),
    )
    .await;
    let gap = t9 - t7;
    assert!(
        (4.5..7.0).contains(&gap),
        "4009 rang 5 s after 4007: {gap:.2} s"
    );

    let (t7, t9) = group_call(
        &stack,
        &gw,
        "601",
        json!({"strategy": "simultaneous",
               "members": [{"ext": "4007", "ring_secs": 10}, {"ext": "4009", "ring_secs": 10}]}),
    )
    .await;
    assert!((t9 - t7).abs() < 1.0, "both rang at once: {:.2} s", t9 - t7);

    // A group's number may not be a user's; its members must be users.
    let put = |number: &str, body: serde_json::Value| {
        gw.as_key(
            "demo-key",
            "demo-secret",
            M::PUT,
            &format!("/api/v1/tenants/demo/groups/{number}"),
        )
        .json(&body)
    };
    let one = json!({"strategy": "hunt", "members": [{"ext": "4007"}]});
    assert_eq!(gw.send(put("4009", one)).await.status, 409);
    let r = gw
        .send(put(
            "602",
            json!({"strategy": "hunt", "members": [{"ext": "9999"}]}),
        ))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    gw.stop().await;
    stack.stop().await;
}
