//! Queue strategies with SIPp agents (native admin API; the caller is 4011). Ring all: 4005
//! and 4009 ring at once, 4009 answers, 4005 is cancelled. Round robin: three callers go to
//! 4007, 4009, 4007. Longest idle (the same queue changed live): the caller goes to the agent
//! whose last call ended longest ago. Linear with 4007 paused: 4009 takes the caller. A queue
//! with nobody logged in overflows to 4007 after its max wait.
use patchbay_api::{CallId, CallState, EventKind};
use patchbay_tests::*;
use reqwest::Method as M;
use serde_json::json;
use std::time::{Duration, Instant};

struct T<'a> {
    stack: &'a Stack,
    gw: &'a Gw,
}

impl T<'_> {
    async fn admin(&self, m: M, path: &str, body: serde_json::Value) {
        let req = self
            .gw
            .as_key(
                "demo-key",
                "demo-secret",
                m,
                &format!("/api/v1/tenants/demo/{path}"),
            )
            .json(&body);
        let r = self.gw.send(req).await;
        assert!(r.status == 200 || r.status == 201, "{path}: {}", r.body);
    }

    /// 4011 calls `number`: the call (answered by the queue) and its phone.
    async fn call(&self, number: &str) -> (CallId, Sipp) {
        let before: Vec<CallId> = self
            .stack
            .api
            .list_calls()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        let phone = Sipp::dial(self.stack, "4011", number, free_port());
        for _ in 0..100 {
            if let Some(c) = self
                .stack
                .api
                .list_calls()
                .await
                .unwrap()
                .into_iter()
                .find(|c| {
                    c.from == "4011" && c.state == CallState::Bridged && !before.contains(&c.id)
                })
            {
                return (c.id, phone);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the queue did not answer 4011");
    }

    /// The agent that took `call`.
    async fn agent(&self, call: &CallId) -> String {
        let ev = self
            .stack
            .wait_event(call, 20, |k| matches!(k, EventKind::QueueLeft { .. }))
            .await;
        match ev.kind {
            EventKind::QueueLeft {
                outcome,
                agent: Some(a),
                ..
            } if outcome == "connected" => a,
            other => panic!("{other:?}"),
        }
    }

    async fn hang_up(&self, call: &CallId, phone: Sipp) {
        self.stack.api.hangup(call).await.unwrap();
        assert_eq!(phone.wait(10).await, 0);
        self.stack.events_until_end(call).await;
    }

    /// Take one call of `number`: who answered it.
    async fn one(&self, number: &str) -> String {
        let (call, phone) = self.call(number).await;
        let agent = self.agent(&call).await;
        self.hang_up(&call, phone).await;
        agent
    }
}

/// A phone of `user` answering `calls` calls.
async fn agent_phone(stack: &Stack, user: &str, calls: u32) -> (Sipp, RtpPeer) {
    let port = free_port();
    stack.register(user, port).await;
    let rtp = RtpPeer::new(false).await;
    let (p, r) = (port.to_string(), rtp.port().to_string());
    let args = ["-p", &p, "-set", "ring_ms", "200", "-set", "rtpport", &r];
    (
        Sipp::spawn_limits("uas_answer.xml", "", calls, 90, &args),
        rtp,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_strategy_rings_the_right_agents() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let t = T {
        stack: &stack,
        gw: &gw,
    };
    t.admin(M::PUT, "users/4011", json!({"sip_password": "demo-4011"}))
        .await;
    let (phone9, _rtp9) = agent_phone(&stack, "4009", 4).await;
    let (phone7, _rtp7) = agent_phone(&stack, "4007", 5).await;

    // Ring all: 4005 rings and is cancelled when 4009 answers.
    let p5 = free_port();
    stack.register("4005", p5).await;
    let ringing5 = Sipp::phone("uas_ring_cancel.xml", p5, &[]);
    t.admin(
        M::PUT,
        "queues/all",
        json!({"number": "601", "agents": ["4005", "4009"]}),
    )
    .await;
    for a in ["4005", "4009"] {
        t.admin(
            M::PUT,
            &format!("queues/all/agents/{a}"),
            json!({"state": "available"}),
        )
        .await;
    }
    assert_eq!(t.one("601").await, "4009");
    let (code, trace) = ringing5.wait_messages(10).await;
    assert_eq!(code, 0, "4005 rang and was cancelled:\n{trace}");

    // Round robin.
    let rr = json!({"number": "600", "strategy": "roundrobin", "agents": ["4007", "4009"]});
    t.admin(M::PUT, "queues/sales", rr).await;
    for a in ["4007", "4009"] {
        t.admin(
            M::PUT,
            &format!("queues/sales/agents/{a}"),
            json!({"state": "available"}),
        )
        .await;
    }
    let mut took = Vec::new();
    for _ in 0..3 {
        took.push(t.one("600").await);
    }
    assert_eq!(took, ["4007", "4009", "4007"]);

    // Longest idle: 4009 (idle since the second call) before 4007 (the third).
    let li = json!({"number": "600", "strategy": "longest_idle", "agents": ["4007", "4009"]});
    t.admin(M::PUT, "queues/sales", li).await;
    let (c4, ph4) = t.call("600").await;
    assert_eq!(t.agent(&c4).await, "4009");
    let (c5, ph5) = t.call("600").await;
    assert_eq!(t.agent(&c5).await, "4007", "the only free agent");
    t.hang_up(&c5, ph5).await; // 4007 idle first...
    tokio::time::sleep(Duration::from_millis(200)).await;
    t.hang_up(&c4, ph4).await; // ...4009 after
    assert_eq!(
        t.one("600").await,
        "4007",
        "idle longest now (round robin says 4009)"
    );

    // Linear, 4007 paused: 4009.
    let lin = json!({"number": "600", "strategy": "linear", "agents": ["4007", "4009"]});
    t.admin(M::PUT, "queues/sales", lin).await;
    t.admin(
        M::PUT,
        "queues/sales/agents/4007",
        json!({"state": "paused"}),
    )
    .await;
    assert_eq!(t.one("600").await, "4009");

    // Nobody logged in: after the max wait, the overflow destination.
    let ov = json!({"number": "602", "agents": ["4005"], "max_wait_secs": 2, "overflow": "4007"});
    t.admin(M::PUT, "queues/ov", ov).await;
    let start = Instant::now();
    let (call, phone) = t.call("602").await;
    let ev = stack
        .wait_event(&call, 20, |k| matches!(k, EventKind::Transferred { .. }))
        .await;
    assert!(matches!(&ev.kind, EventKind::Transferred { target } if target == "4007"));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    t.hang_up(&call, phone).await;
    let c = cdr(&stack, &call).await;
    assert_eq!((c.queue.as_deref(), c.to.as_str()), (Some("ov"), "4007"));

    assert_eq!(phone7.wait(20).await, 0, "4007 answered five calls");
    assert_eq!(phone9.wait(20).await, 0, "4009 answered four calls");
    let metrics = stack.b2bua_get("/metrics").await;
    assert_eq!(
        metric(
            &metrics,
            "patchbay_b2bua_queue_outcomes_total{outcome=\"overflow\"}"
        ),
        Some(1.0)
    );
    gw.stop().await;
    stack.stop().await;
}
