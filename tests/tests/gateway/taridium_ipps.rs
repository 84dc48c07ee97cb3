//! Taridium's IPPS pages on live state, as a wallboard polls them (curl): during a SIPp call
//! 4005 -> 4007, `channelinfo.php?channel=SIP/4005,SIP/4007&useid=1` shows both channels `up`
//! with the caller id and the call's ids; after the hangup both are `down`. A caller (4005)
//! waits in queue `MC` (agent 4009 logged out): `queueactive.php?queue_name=MC,XX&res_cc=1`
//! lists it `WAITING` with its country (the tenant's, a domestic number); once 4009 logs in
//! and answers it is `CONNECTED` with the seconds waited and `SIP/4009`. Then the tenant's
//! IPPS settings ask for credentials: none or wrong ones get `ERROR: AUTHENTICATION FAILED`,
//! the right ones the page; require-SSL over plain HTTP gets `ERROR: SSL QUERY REQUIRED`.
use patchbay_api::CallState;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::Duration;

async fn page(gw: &Gw, query: &str, auth: &[&str]) -> (String, String) {
    let url = format!("{}/ipps/{query}", gw.base);
    let mut args = vec!["-sS", "-w", "\n%{http_code}"];
    args.extend_from_slice(auth);
    args.push(&url);
    let (code, out, err) = run_tool("curl", &args, 20).await;
    assert_eq!(code, 0, "{err}");
    let (body, status) = out.rsplit_once('\n').unwrap_or((&out, ""));
    (status.to_string(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallboards_see_channels_and_queues() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let admin = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let (p5, p7, p9) = (free_port(), free_port(), free_port());
    for (u, p) in [("4005", p5), ("4007", p7), ("4009", p9)] {
        stack.register(u, p).await;
    }

    // 1. A call's two channels.
    let channels = "channelinfo.php?channel=SIP/4005,SIP/4007&useid=1";
    let (rtp5, rtp7) = (RtpPeer::new(false).await, RtpPeer::new(true).await);
    let callee = Sipp::answering(p7, 100, rtp7.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caller = Sipp::caller(
        "uac_call.xml",
        &stack,
        free_port(),
        "4007",
        rtp5.port(),
        &["-set", "talk_ms", "2000"],
    );
    let call = stack.call_in_state(CallState::Bridged).await;
    let (status, body) = page(&gw, channels, &[]).await;
    assert_eq!(status, "200");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    let a: Vec<&str> = lines[0].split(',').collect();
    let b: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(&a[..4], ["SIP/4005", "up", "4005", "4005"], "{body}");
    assert_eq!(&b[..4], ["SIP/4007", "up", "4005", "4005"], "{body}");
    assert!(
        a[5].starts_with(&call.id.0) && b[5].starts_with(&call.id.0),
        "both channels carry the call's id: {body}"
    );
    assert_eq!(caller.wait(20).await, 0);
    assert_eq!(callee.wait(10).await, 0);
    stack.events_until_end(&call.id).await;
    let (_, body) = page(&gw, channels, &[]).await;
    assert_eq!(body, "SIP/4005,down,,,,\nSIP/4007,down,,,,\n");

    // 2. A queue: waiting, then connected.
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/queues/MC").json(&json!({
                "number": "760", "agents": ["4009"], "ring_secs": 10
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/ipps")
                .json(&json!({"enabled": true, "default_country": "CH"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let queue = "queueactive.php?queue_name=MC,XX&res_cc=1";
    let (_, body) = page(&gw, queue, &[]).await;
    assert_eq!(body, "", "nobody waits yet");
    let rtpq = RtpPeer::new(false).await;
    let waiting = Sipp::dial(&stack, "4005", "760", rtpq.port());
    let qcall = stack.call_in_state(CallState::Bridged).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, body) = page(&gw, queue, &[]).await;
    let f: Vec<&str> = body.trim_end().split(',').collect();
    assert_eq!(f.len(), 7, "{body}");
    assert!(f[0].starts_with(&qcall.id.0), "{body}");
    assert_eq!(
        (f[1], f[2], f[3], f[6]),
        ("4005", "Switzerland", "WAITING", ""),
        "{body}"
    );
    assert_eq!(f[4].len(), 8, "hh:mm:ss: {body}");

    let rtp9 = RtpPeer::new(true).await;
    let agent = Sipp::answering(p9, 100, rtp9.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/queues/MC/agents/4009")
                .json(&json!({"state": "available"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut connected = String::new();
    for _ in 0..100 {
        let (_, body) = page(&gw, queue, &[]).await;
        if body.contains(",CONNECTED,") {
            connected = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let f: Vec<&str> = connected.trim_end().split(',').collect();
    assert_eq!((f[3], f[6]), ("CONNECTED", "SIP/4009"), "{connected}");
    assert!(
        f[5].parse::<u64>().unwrap() >= 1,
        "waited seconds: {connected}"
    );
    stack.api.hangup(&qcall.id).await.unwrap();
    stack.events_until_end(&qcall.id).await;
    let _ = waiting.wait(10).await;
    assert_eq!(agent.wait(10).await, 0);

    // 3. Credentials, then SSL.
    let r = gw
        .send(admin(M::PUT, "/api/v1/tenants/demo/ipps").json(&json!({
            "enabled": true, "user": "board", "password": "wallboard-1"
        })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["has_password"], true);
    assert!(!r.body.contains("wallboard-1"), "{}", r.body);
    let (status, body) = page(&gw, channels, &[]).await;
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("401", "ERROR: AUTHENTICATION FAILED")
    );
    let (status, body) = page(&gw, channels, &["-u", "board:wrong-pass"]).await;
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("401", "ERROR: AUTHENTICATION FAILED")
    );
    let (status, body) = page(&gw, channels, &["-u", "board:wallboard-1"]).await;
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("200", "SIP/4005,down,,,,\nSIP/4007,down,,,,\n")
    );
    let r = gw
        .send(
            admin(M::PUT, "/api/v1/tenants/demo/ipps")
                .json(&json!({"enabled": true, "require_ssl": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, body) = page(&gw, channels, &[]).await;
    assert_eq!(body, "ERROR: SSL QUERY REQUIRED");
    gw.stop().await;
    stack.stop().await;
}
