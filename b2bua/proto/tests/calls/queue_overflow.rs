//! A queue's limits: after the max wait the caller leaves for the overflow destination (the
//! agent ringing for it stops); a full queue sends newcomers there at once; with no overflow
//! the caller hears goodbye. Position announcements interrupt the music.
use crate::harness::{H, done, media, queue};
use patchbay_proto::api::{MediaOp, QueueStrategy};
use patchbay_proto::{Input, LegAction, RouteOutcome};

#[test]
fn max_wait_overflows_and_stops_the_ringing_agent() {
    let mut h = H::new();
    let mut q = queue(QueueStrategy::Ringall, &["a"]);
    q.queue.max_wait_secs = 30;
    q.queue.overflow = Some("voicemail:4007".into());
    h.call_queue("c1", "4005", &q);
    h.answer_offers(&["a"]);
    let agent = H::invites(&h.take())[0].0;
    h.advance(29_999);
    assert!(h.routes.is_empty());
    h.advance(1);
    let acts = h.take();
    assert!(acts.contains(&LegAction::Cancel { leg: agent }), "{acts:?}");
    assert_eq!(h.routes, [("c1".into(), "voicemail:4007".to_string())]);
    assert!(h.calls.queue_calls(h.now, "demo", "sales").is_empty());
    // The agent's late 487 changes nothing.
    h.leg(agent, patchbay_proto::LegEvent::Failed { status: 487 });
    assert!(h.offers.is_empty());
}

#[test]
fn a_full_queue_overflows_at_once_and_no_overflow_says_goodbye() {
    let mut h = H::new();
    let mut q = queue(QueueStrategy::Ringall, &["a"]);
    q.queue.max_callers = 1;
    q.queue.overflow = Some("4009".into());
    h.call_queue("c1", "4005", &q);
    h.call_queue("c2", "4006", &q);
    assert_eq!(h.routes, [("c2".into(), "4009".to_string())]);
    h.input(Input::Routed {
        call: "c2".into(),
        outcome: RouteOutcome::Unavailable,
    });
    let bye = media(&h.take());
    let (cmd, op) = bye.last().expect("goodbye").clone();
    assert!(matches!(op, MediaOp::Play(p) if p.text.as_deref()
        == Some("Nobody is available to take your call. Goodbye.")));
    let leg = h.calls.queue_calls(h.now, "demo", "sales");
    assert_eq!(leg.len(), 1, "c1 still waits");
    let c2_leg = patchbay_proto::LegId(2);
    done(&mut h, c2_leg, cmd, None);
    assert!(h.cdrs.iter().any(|c| c.call.0 == "c2"), "c2 ended");
}

#[test]
fn the_position_is_announced_between_the_music() {
    let mut h = H::new();
    let mut q = queue(QueueStrategy::Ringall, &["a"]);
    q.states.clear();
    q.queue.announce_secs = 20;
    h.call_queue("c1", "4005", &q);
    let a2 = h.call_queue("c2", "4006", &q);
    h.take();
    h.advance(20_000);
    let acts = h.take();
    assert!(
        acts.iter()
            .any(|a| matches!(a, LegAction::MediaStop { leg, .. } if *leg == a2))
    );
    let said: Vec<String> = media(&acts)
        .into_iter()
        .filter_map(|(_, op)| match op {
            MediaOp::Play(p) => p.text,
            _ => None,
        })
        .collect();
    assert!(
        said.contains(&"You are caller number 2. Please hold.".to_string()),
        "{said:?}"
    );
    assert_eq!(
        media(&acts)
            .iter()
            .filter(|(_, op)| matches!(op, MediaOp::Tone(_)))
            .count(),
        2,
        "the music again for both"
    );
}

#[test]
fn an_offer_answered_after_the_caller_overflowed_changes_nothing() {
    let mut h = H::new();
    let mut q = queue(QueueStrategy::Ringall, &["a"]);
    q.queue.max_wait_secs = 30;
    q.queue.overflow = Some("4009".into());
    h.call_queue("c1", "4005", &q);
    assert_eq!(h.offers.len(), 1, "offered, not answered yet");
    h.advance(30_000);
    assert_eq!(h.routes, [("c1".into(), "4009".to_string())]);
    // The driver's answer to the old offer comes now: nobody rings.
    h.answer_offers(&["a"]);
    assert!(H::invites(&h.take()).is_empty());
    h.input(Input::Routed {
        call: "c1".into(),
        outcome: RouteOutcome::Unavailable,
    });
    let said = media(&h.take());
    assert!(
        said.iter().any(|(_, op)| matches!(op, MediaOp::Play(p)
            if p.text.as_deref() == Some("Nobody is available to take your call. Goodbye."))),
        "the overflow goes on: {said:?}"
    );
}
