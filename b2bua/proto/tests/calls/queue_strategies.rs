//! Who rings for a queue caller, per strategy: round robin goes on after the agent rung
//! last, longest idle picks the agent whose last call ended longest ago, linear always the
//! first free; an agent who does not answer is followed by the next.
use crate::harness::{H, queue};
use patchbay_proto::api::QueueStrategy;
use patchbay_proto::{LegEvent, LegId};

/// `id` calls the queue; the agents in `reachable` can ring: the agent rung and its leg.
fn ring(
    h: &mut H,
    id: &str,
    q: &patchbay_proto::QueueEntry,
    reachable: &[&str],
) -> (LegId, String, LegId) {
    let a = h.call_queue(id, "4005", q);
    h.answer_offers(reachable);
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 1, "one agent at a time: {inv:?}");
    (a, inv[0].2.clone(), inv[0].0)
}

#[test]
fn round_robin_rotates() {
    let mut h = H::new();
    let q = queue(QueueStrategy::Roundrobin, &["a", "b", "c"]);
    let all = ["a", "b", "c"];
    let mut rung = Vec::new();
    for i in 0..4 {
        let (caller, agent, leg) = ring(&mut h, &format!("c{i}"), &q, &all);
        h.leg(leg, LegEvent::Answered);
        h.leg(caller, LegEvent::Ended);
        rung.push(agent);
    }
    assert_eq!(rung, ["a", "b", "c", "a"]);
}

#[test]
fn longest_idle_picks_the_agent_idle_longest() {
    let mut h = H::new();
    let q = queue(QueueStrategy::LongestIdle, &["a", "b"]);
    let (c1, a1, l1) = ring(&mut h, "c1", &q, &["a", "b"]);
    h.leg(l1, LegEvent::Answered);
    let (c2, a2, l2) = ring(&mut h, "c2", &q, &["a", "b"]);
    h.leg(l2, LegEvent::Answered);
    assert_eq!(
        (a1.as_str(), a2.as_str()),
        ("a", "b"),
        "never called: list order"
    );
    h.advance(1_000);
    h.leg(c2, LegEvent::Ended); // b idle since now
    h.advance(1_000);
    h.leg(c1, LegEvent::Ended); // a idle since a second later
    let (_, a3, _) = ring(&mut h, "c3", &q, &["a", "b"]);
    assert_eq!(a3, "b");
}

#[test]
fn linear_rings_the_first_then_the_next_when_it_does_not_answer() {
    let mut h = H::new();
    let q = queue(QueueStrategy::Linear, &["a", "b"]);
    let (_caller, agent, leg) = ring(&mut h, "c1", &q, &["a", "b"]);
    assert_eq!(agent, "a");
    h.advance(15_000); // a's ring time passes
    h.answer_offers(&["a", "b"]);
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0].2, "b", "the next after no answer");
    assert_ne!(inv[0].0, leg);
    h.leg(inv[0].0, LegEvent::Failed { status: 486 });
    // Every agent was rung for this caller: the next round after a pause.
    h.answer_offers(&["a", "b"]);
    assert!(H::invites(&h.take()).is_empty());
    h.advance(3_000);
    h.answer_offers(&["a", "b"]);
    let inv = H::invites(&h.take());
    assert_eq!(inv[0].2, "a", "a new round");
}
