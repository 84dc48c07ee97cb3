//! A queue caller in the core: answered, hold music (ringback without a file), every free
//! agent rings at once; the first to answer is bridged, the others are cancelled; the live
//! state says waiting, then connected with the agent; the CDR names the queue.
use crate::harness::{H, queue};
use patchbay_proto::api::{MediaOp, QueueCallStatus, QueueStrategy};
use patchbay_proto::{LegAction, LegEvent};

#[test]
fn every_free_agent_rings_and_the_first_takes_the_caller() {
    let mut h = H::new();
    let q = queue(QueueStrategy::Ringall, &["4007", "4009"]);
    let a = h.call_queue("c1", "4005", &q);
    let acts = h.take();
    assert!(acts.contains(&LegAction::AnswerApp { leg: a }), "{acts:?}");
    assert!(
        crate::harness::media(&acts)
            .iter()
            .any(|(_, op)| matches!(op, MediaOp::Tone(_))),
        "ringback while waiting: {acts:?}"
    );
    let live = h.calls.queue_calls(h.now, "demo", "sales");
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].status, QueueCallStatus::Waiting);
    assert_eq!(live[0].position, Some(1));
    assert_eq!(live[0].caller_id, "4005");

    let offers = h.answer_offers(&["4007", "4009"]);
    assert_eq!(offers[0].1, ["4007", "4009"]);
    let invites = H::invites(&h.take());
    let parties: Vec<&str> = invites.iter().map(|i| i.2.as_str()).collect();
    assert_eq!(parties, ["4007", "4009"]);

    h.advance(4_000);
    h.leg(invites[1].0, LegEvent::Answered);
    let acts = h.take();
    assert!(
        acts.contains(&LegAction::Cancel { leg: invites[0].0 }),
        "{acts:?}"
    );
    assert!(acts.contains(&LegAction::Detach { leg: a }), "{acts:?}");
    assert!(
        acts.contains(&LegAction::Bridge { a, b: invites[1].0 }),
        "{acts:?}"
    );
    let live = h.calls.queue_calls(h.now + 3_000, "demo", "sales");
    assert_eq!(live[0].status, QueueCallStatus::Connected);
    assert_eq!(live[0].agent.as_deref(), Some("4009"));
    assert_eq!(live[0].waited, 4, "waited until answered");

    h.leg(a, LegEvent::Ended);
    let (_, _, cdr) = h.ended();
    assert_eq!(cdr.queue.as_deref(), Some("sales"));
    assert_eq!(cdr.to, "4009");
    assert_eq!(cdr.transferred_to, None, "an agent's answer is no transfer");
    assert!(h.calls.queue_calls(h.now, "demo", "sales").is_empty());
    let kinds = h.kinds();
    assert!(kinds.contains(&"queue_entered") && kinds.contains(&"queue_left"));
    assert!(!kinds.contains(&"transferred"), "{kinds:?}");
}
