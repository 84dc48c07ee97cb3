//! Agents' availability in a queue: a logged-out or paused agent is not offered and takes
//! callers once available; an agent the driver cannot ring (no phone, in another call) is
//! left out for a while; an agent rests for the wrap-up time after a queue call.
use crate::harness::{H, queue};
use patchbay_proto::api::{AgentState, QueueStrategy};
use patchbay_proto::{Input, LegEvent};

#[test]
fn paused_agents_are_not_rung_until_available() {
    let mut h = H::new();
    let mut q = queue(QueueStrategy::Ringall, &["a", "b"]);
    q.states.insert("a".into(), AgentState::Paused);
    q.states.remove("b"); // logged out
    h.call_queue("c1", "4005", &q);
    assert!(h.offers.is_empty(), "nobody to offer");
    h.input(Input::QueueAgent {
        tenant: "demo".into(),
        queue: "sales".into(),
        agent: "b".into(),
        state: AgentState::Available,
    });
    let offers = h.answer_offers(&["a", "b"]);
    assert_eq!(offers[0].1, ["b"]);
    assert_eq!(H::invites(&h.take())[0].2, "b");
}

#[test]
fn an_agent_that_cannot_ring_is_left_out_for_a_while() {
    let mut h = H::new();
    let q = queue(QueueStrategy::Linear, &["a", "b"]);
    h.call_queue("c1", "4005", &q);
    h.answer_offers(&["b"]); // a is in another call
    assert_eq!(H::invites(&h.take())[0].2, "b");
    h.call_queue("c2", "4006", &q);
    assert!(h.offers.is_empty(), "a left out, b ringing");
    h.advance(3_000);
    let offers = h.answer_offers(&["a"]);
    assert_eq!(offers[0], ("c2".into(), vec!["a".to_string()]));
    assert_eq!(H::invites(&h.take())[0].2, "a");
}

#[test]
fn an_agent_rests_for_the_wrapup_time() {
    let mut h = H::new();
    let mut q = queue(QueueStrategy::Linear, &["a"]);
    q.queue.wrapup_secs = 10;
    let c1 = h.call_queue("c1", "4005", &q);
    h.answer_offers(&["a"]);
    let leg = H::invites(&h.take())[0].0;
    h.leg(leg, LegEvent::Answered);
    h.leg(c1, LegEvent::Ended);
    h.call_queue("c2", "4006", &q);
    assert!(h.offers.is_empty(), "a wraps up");
    h.advance(9_000);
    assert!(h.offers.is_empty());
    h.advance(1_000);
    assert_eq!(h.answer_offers(&["a"])[0].1, ["a"]);
}

#[test]
fn an_agent_taken_off_the_queue_keeps_its_call_and_is_not_rung_again() {
    let mut h = H::new();
    let q = queue(QueueStrategy::Linear, &["a", "b"]);
    let c1 = h.call_queue("c1", "4005", &q);
    h.answer_offers(&["a", "b"]);
    let leg = H::invites(&h.take())[0].0;
    h.leg(leg, LegEvent::Answered);
    let mut changed = q.clone();
    changed.queue.agents = vec!["b".into()];
    h.input(Input::QueueChanged {
        tenant: "demo".into(),
        name: "sales".into(),
        entry: Some(Box::new(changed)),
    });
    let live = h.calls.queue_calls(h.now, "demo", "sales");
    assert_eq!(live[0].agent.as_deref(), Some("a"), "still talking");
    h.leg(c1, LegEvent::Ended);
    let mut now_b = q.clone();
    now_b.queue.agents = vec!["b".into()];
    h.call_queue("c2", "4006", &now_b);
    let offers = h.answer_offers(&["a", "b"]);
    assert_eq!(offers[0].1, ["b"], "a is off the queue");
}

#[test]
fn an_agent_of_two_queues_rings_for_one_caller_at_a_time() {
    let mut h = H::new();
    let sales = queue(QueueStrategy::Ringall, &["a", "b"]);
    let mut support = queue(QueueStrategy::Ringall, &["a"]);
    support.queue.name = "support".into();
    support.queue.number = "601".into();
    h.call_queue("c1", "4005", &sales);
    h.call_queue("c2", "4006", &support);
    let offers = std::mem::take(&mut h.offers);
    assert_eq!(offers.len(), 1, "a is offered in sales: {offers:?}");
    assert_eq!(offers[0].1, ["a", "b"]);
}

#[test]
fn a_connected_call_transferred_away_frees_its_agent() {
    let mut h = H::new();
    let q = queue(QueueStrategy::Linear, &["a"]);
    h.call_queue("c1", "4005", &q);
    h.answer_offers(&["a"]);
    let leg = H::invites(&h.take())[0].0;
    h.leg(leg, LegEvent::Answered);
    // The agent hands the caller on to 4009.
    h.input(Input::Transfer {
        call: "c1".into(),
        target: "4009".into(),
        targets: vec![patchbay_proto::Target::new(
            "4009",
            "sip:4009@127.0.0.1:5072",
        )],
        keep: patchbay_proto::api::Side::A,
        method: patchbay_proto::api::TransferMethod::Bridge,
    });
    let t = H::invites(&h.take())[0].0;
    h.leg(t, LegEvent::Answered);
    assert!(h.calls.queue_calls(h.now, "demo", "sales").is_empty());
    h.call_queue("c2", "4006", &q);
    assert_eq!(
        h.answer_offers(&["a"])[0].1,
        ["a"],
        "a takes the next caller"
    );
}
