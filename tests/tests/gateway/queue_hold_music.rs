//! A call queue (native admin API): 4005 calls the queue's number 600 and waits, hearing the
//! hold music (a WAV under the data directory's `sounds/`, found again in the decoded RTP
//! 4005 receives, looped); the live state shows it waiting. Agent 4007 logs in with `*45`
//! (the B2BUA says so and hangs up); its phone rings once that call is over and answers; the
//! caller is bridged (its audio reaches 4007); the live state shows it connected to 4007
//! with the seconds waited; the CDR names the queue. 4007 logs out with `*46`; its
//! call-centre call (`queue` on a call) is tagged with the queue, and nobody else's may be.
use patchbay_api::{CallState, EventKind, Side};
use patchbay_tests::media::*;
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_waits_with_music_until_an_agent_logs_in_and_answers() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let demo = |m, path: &str| gw.as_key("demo-key", "demo-secret", m, path);
    let music = test_signal(8_000, 2.0);
    std::fs::create_dir_all(stack.dir.join("sounds")).unwrap();
    write_wav(&stack.dir.join("sounds/hold.wav"), 8_000, &music);
    let r = gw
        .send(
            demo(M::PUT, "/api/v1/tenants/demo/queues/sales").json(&json!({
                "number": "600", "agents": ["4007", "4009"], "hold_music": "hold.wav",
                "ring_secs": 10
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let live = || async {
        let r = gw
            .send(demo(M::GET, "/api/v1/tenants/demo/queues/sales/calls"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json().as_array().cloned().unwrap_or_default()
    };
    assert!(live().await.is_empty());

    // 4005 waits, hearing the music.
    let rtp5 = RtpCapture::new().await;
    let caller = Sipp::dial(&stack, "4005", "600", rtp5.port());
    let call = stack.call_in_state(CallState::Bridged).await.id;
    let waiting = live().await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let w = &waiting[0];
    assert_eq!(
        (
            w["status"].as_str(),
            w["caller_id"].as_str(),
            w["position"].as_u64()
        ),
        (Some("waiting"), Some("4005"), Some(1)),
        "{w}"
    );
    assert!(w["unique_id"].as_str().unwrap().starts_with(&call.0));
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let heard = rtp5.audio();
    assert!(
        rms(&heard) > 1_000.0,
        "music, not silence: rms {}",
        rms(&heard)
    );
    let (c, _) = best_correlation(&music[4_000..8_000], &heard);
    assert!(
        c > 0.9,
        "the hold music is what 4005 hears (correlation {c:.2})"
    );
    let (c, _) = best_correlation(&music[..4_000], &heard[music.len()..]);
    assert!(c > 0.9, "and it loops (correlation {c:.2})");

    // 4007 logs in; its phone rings when its own call is over, and answers.
    let p7 = free_port();
    stack.register("4007", p7).await;
    let rtp7 = RtpPeer::new(false).await;
    let phone7 = Sipp::answering(p7, 300, rtp7.port());
    let rtpx = RtpCapture::new().await;
    let login = Sipp::dial(&stack, "4007", "*45", rtpx.port());
    assert_eq!(login.wait(30).await, 0, "the B2BUA confirmed and hung up");
    assert!(rms(&rtpx.audio()) > 500.0, "the confirmation was spoken");
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/queues/sales/agents"))
        .await;
    assert_eq!(
        r.json(),
        json!([{"agent": "4007", "state": "available"}, {"agent": "4009", "state": "logged_out"}])
    );
    let ev = stack
        .wait_event(&call, 20, |k| matches!(k, EventKind::QueueLeft { .. }))
        .await;
    assert!(
        matches!(&ev.kind, EventKind::QueueLeft { outcome, agent: Some(a), waited_ms, .. }
            if outcome == "connected" && a == "4007" && *waited_ms >= 3_000),
        "{ev:?}"
    );
    let relay = relay_addr(&stack.api, &call, Side::A).await;
    let said = phone_packets(&test_signal_seeded(8_000, 1.0, 5));
    send_paced(&rtp5.sock, relay, &said).await;
    assert!(
        rtp7.wait_received(said.len() as u64).await >= said.len() as u64,
        "4005's audio reached the agent"
    );
    let connected = live().await;
    let c = &connected[0];
    assert_eq!(
        (c["status"].as_str(), c["agent"].as_str()),
        (Some("connected"), Some("4007")),
        "{c}"
    );
    assert!(c["waited"].as_u64().unwrap() >= 3, "{c}");
    assert_eq!(c["position"], Value::Null);
    stack.api.hangup(&call).await.unwrap();
    assert_eq!(caller.wait(10).await, 0);
    assert_eq!(phone7.wait(10).await, 0);
    let c = cdr(&stack, &call).await;
    assert_eq!((c.queue.as_deref(), c.to.as_str()), (Some("sales"), "4007"));
    assert!(live().await.is_empty());

    // 4007 logs out.
    let logout = Sipp::dial(&stack, "4007", "*46", rtpx.port());
    assert_eq!(logout.wait(30).await, 0);
    let r = gw
        .send(demo(M::GET, "/api/v1/tenants/demo/queues/sales/agents"))
        .await;
    assert_eq!(r.json()[0], json!({"agent": "4007", "state": "logged_out"}));

    // 4007's call-centre call to 4009 names the queue; 4005 is no agent of it.
    let r = gw
        .send(
            demo(M::POST, "/api/v1/calls")
                .json(&json!({"from": "4005", "to": "4009", "queue": "sales"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let p9 = free_port();
    stack.register("4009", p9).await;
    let rtp9 = RtpPeer::new(false).await;
    let phone7 = Sipp::answering(p7, 300, rtp7.port());
    let phone9 = Sipp::answering(p9, 300, rtp9.port());
    let r = gw
        .send(
            demo(M::POST, "/api/v1/calls")
                .json(&json!({"from": "4007", "to": "4009", "queue": "sales"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = patchbay_api::CallId(r.json()["id"].as_str().unwrap().to_string());
    stack
        .wait_event(&id, 15, |k| matches!(k, EventKind::Bridged))
        .await;
    stack.api.hangup(&id).await.unwrap();
    assert_eq!(phone7.wait(10).await, 0);
    assert_eq!(phone9.wait(10).await, 0);
    assert_eq!(cdr(&stack, &id).await.queue.as_deref(), Some("sales"));

    let metrics = stack.b2bua_get("/metrics").await;
    for (series, want) in [
        (
            "patchbay_b2bua_queue_outcomes_total{outcome=\"connected\"}",
            1.0,
        ),
        (
            "patchbay_b2bua_queue_agent_changes_total{state=\"available\",via=\"phone\"}",
            1.0,
        ),
        (
            "patchbay_b2bua_queue_agent_changes_total{state=\"logged_out\",via=\"phone\"}",
            1.0,
        ),
        ("patchbay_b2bua_queue_wait_seconds_count", 1.0),
    ] {
        assert_eq!(metric(&metrics, series), Some(want), "{series}");
    }
    gw.stop().await;
    stack.stop().await;
}
