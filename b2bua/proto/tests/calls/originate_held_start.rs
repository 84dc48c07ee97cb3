//! Deferred start: a 3PCC call created held rings nothing until `Start` or its start deadline;
//! hangup while held ends it without any SIP.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, OriginateMode, Side};
use patchbay_proto::{Input, LegAction};

#[test]
fn held_call_rings_only_on_start_and_start_is_idempotent() {
    let mut h = H::new();
    h.originate_held(
        "c",
        "4005",
        &["4007"],
        OriginateMode::CallerFirst,
        Some(1_000),
    );
    assert!(h.take().is_empty(), "nothing rings while held");
    assert_eq!(h.kinds(), ["created"]);
    h.advance(200);
    assert!(h.take().is_empty());
    h.input(Input::Start { call: "c".into() });
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 1, "A rings on start: {inv:?}");
    assert_eq!(inv[0].1, Side::A);
    // A second start and the (now stale) start deadline change nothing.
    h.input(Input::Start { call: "c".into() });
    h.advance(2_000);
    assert!(H::invites(&h.take()).is_empty());
    assert_eq!(h.kinds(), ["created", "dialing"]);
}

#[test]
fn held_call_starts_by_itself_at_the_deadline() {
    let mut h = H::new();
    h.originate_held(
        "c",
        "4005",
        &["4007", "4009"],
        OriginateMode::Simultaneous,
        Some(500),
    );
    h.advance(499);
    assert!(h.take().is_empty());
    h.advance(1);
    let inv = H::invites(&h.take());
    let sides: Vec<Side> = inv.iter().map(|i| i.1).collect();
    assert_eq!(
        sides,
        [Side::A, Side::B, Side::B],
        "simultaneous: A and both callees"
    );
}

#[test]
fn hangup_while_held_cancels_without_sip() {
    let mut h = H::new();
    h.originate_held(
        "c",
        "4005",
        &["4007"],
        OriginateMode::CallerFirst,
        Some(1_000),
    );
    h.input(Input::Hangup { call: "c".into() });
    assert_eq!(h.take(), vec![LegAction::Release { call: "c".into() }]);
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Cancelled, EndedBy::Api));
    h.advance(5_000);
    assert!(h.take().is_empty(), "the stale deadline does nothing");
    assert!(h.try_input(Input::Start { call: "c".into() }).is_err());
}
