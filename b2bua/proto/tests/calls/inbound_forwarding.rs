//! Forwarding of an inbound call to a user: unconditional (decided before the core, announced
//! and carried as a Diversion), on busy, on no answer after the ring time, and when the user
//! is not registered; each forward is used once, so a busy forward target ends the call.
use crate::harness::H;
use patchbay_proto::api::{Cause, EventKind};
use patchbay_proto::{Forwards, LegAction, LegEvent, LegId, Target};

fn at(user: &str, port: u16) -> Vec<Target> {
    vec![Target::new(user, format!("sip:{user}@127.0.0.1:{port}"))]
}

fn diversions(actions: &[LegAction]) -> Vec<(String, Option<(String, &'static str)>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            LegAction::Invite {
                target, diversion, ..
            } => Some((target.party.clone(), diversion.clone())),
            _ => None,
        })
        .collect()
}

fn forwarded(h: &H) -> Vec<(String, String, String)> {
    h.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Forwarded { from, to, reason } => {
                Some((from.clone(), to.clone(), reason.clone()))
            }
            _ => None,
        })
        .collect()
}

fn first_invite(actions: &[LegAction]) -> LegId {
    H::invites(actions)[0].0
}

#[test]
fn an_unconditional_forward_rings_the_target_with_a_diversion() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4009".into(),
        diverted_from: Some("4007".into()),
        ..Forwards::default()
    };
    h.inbound_routed("c", at("4009", 5079), 404, forwards);
    let acts = h.take();
    assert_eq!(
        diversions(&acts),
        [(
            "4009".to_string(),
            Some(("4007".to_string(), "unconditional"))
        )]
    );
    assert_eq!(h.kinds()[..3], ["created", "forwarded", "dialing"]);
    assert_eq!(
        forwarded(&h),
        [("4007".into(), "4009".into(), "unconditional".into())]
    );
}

#[test]
fn busy_forwards_once_and_a_busy_target_ends_the_call() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        busy: Some(("4009".into(), at("4009", 5079))),
        no_answer: Some(("4011".into(), at("4011", 5080))),
        ..Forwards::default()
    };
    let a = h.inbound_routed("c", at("4007", 5072), 404, forwards);
    let b = first_invite(&h.take());
    h.leg(b, LegEvent::Failed { status: 486 });
    let acts = h.take();
    assert_eq!(
        diversions(&acts),
        [("4009".to_string(), Some(("4007".to_string(), "user-busy")))]
    );
    assert_eq!(
        forwarded(&h),
        [("4007".into(), "4009".into(), "user-busy".into())]
    );
    let b2 = first_invite(&acts);
    h.leg(b2, LegEvent::Failed { status: 486 });
    assert!(h.take().contains(&LegAction::Reject {
        leg: a,
        status: 486
    }));
    let (cause, _, _) = h.ended();
    assert_eq!(cause, Cause::Busy);
}

#[test]
fn no_answer_forwards_after_the_ring_time_and_the_target_answers() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        no_answer: Some(("4009".into(), at("4009", 5079))),
        ..Forwards::default()
    };
    let a = h.inbound_routed("c", at("4007", 5072), 404, forwards);
    let b = first_invite(&h.take());
    h.leg(b, LegEvent::Ringing);
    h.take();
    h.advance(20_000);
    let acts = h.take();
    assert!(acts.contains(&LegAction::Cancel { leg: b }));
    assert_eq!(
        diversions(&acts),
        [("4009".to_string(), Some(("4007".to_string(), "no-answer")))]
    );
    let b2 = first_invite(&acts);
    h.leg(b, LegEvent::Failed { status: 487 });
    h.leg(b2, LegEvent::Answered);
    assert!(h.take().contains(&LegAction::Answer { leg: a, peer: b2 }));
    assert_eq!(
        h.calls.info(&"c".into()).unwrap().connected.as_deref(),
        Some("4009")
    );
}

#[test]
fn an_unregistered_user_forwards_at_once_and_dnd_without_a_forward_is_busy() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        no_answer: Some(("4009".into(), at("4009", 5079))),
        ..Forwards::default()
    };
    h.inbound_routed("c", vec![], 480, forwards);
    assert_eq!(
        diversions(&h.take()),
        [("4009".to_string(), Some(("4007".to_string(), "no-answer")))]
    );
    let mut h = H::new();
    let a = h.inbound_routed(
        "d",
        vec![],
        486,
        Forwards {
            ring: "4007".into(),
            ..Forwards::default()
        },
    );
    assert!(h.take().contains(&LegAction::Reject {
        leg: a,
        status: 486
    }));
    h.ended();
}

#[test]
fn a_call_sequence_rings_its_steps_in_turn_before_the_no_answer_forward() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        sequence: [(at("4009", 5079), 10_000)].into(),
        no_answer: Some(("4011".into(), at("4011", 5080))),
        ..Forwards::default()
    };
    h.inbound_routed("c", at("4007", 5072), 404, forwards);
    let b = first_invite(&h.take());
    h.advance(20_000);
    let acts = h.take();
    assert!(acts.contains(&LegAction::Cancel { leg: b }));
    assert_eq!(
        diversions(&acts),
        [("4009".to_string(), Some(("4007".to_string(), "follow-me")))]
    );
    h.advance(9_999);
    assert!(h.take().is_empty(), "4009 rings its own 10 s");
    h.advance(1);
    let acts = h.take();
    assert_eq!(
        diversions(&acts),
        [("4011".to_string(), Some(("4007".to_string(), "no-answer")))]
    );
    assert_eq!(
        forwarded(&h)
            .iter()
            .map(|f| f.2.as_str())
            .collect::<Vec<_>>(),
        ["follow-me", "no-answer"]
    );
}

#[test]
fn a_ring_group_hunts_past_a_busy_member() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "600".into(),
        hunt: true,
        sequence: vec![(at("4009", 5079), 10_000)].into(),
        ..Forwards::default()
    };
    h.inbound_routed("c", at("4007", 5072), 480, forwards);
    let first = first_invite(&h.take());
    h.leg(first, LegEvent::Failed { status: 486 });
    let acts = h.take();
    assert_eq!(
        H::invites(&acts)
            .iter()
            .map(|i| i.2.clone())
            .collect::<Vec<_>>(),
        ["4009"],
        "the next member rings: {acts:?}"
    );
}
