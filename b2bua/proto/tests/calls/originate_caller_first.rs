//! 3PCC caller-first: A rings, answers; then B rings, answers; bridged; API hangup BYEs both.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, OriginateMode, Side};
use patchbay_proto::{LegAction, LegEvent};

#[test]
fn caller_first_rings_a_then_b_and_hangup_byes_both() {
    let mut h = H::new();
    h.originate("c", "4005", &["4007"], OriginateMode::CallerFirst);
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 1, "only A rings first");
    assert_eq!(h.calls.setups_in_flight(), 1);
    let a = inv[0].0;
    assert_eq!(inv[0].1, Side::A);
    h.leg(a, LegEvent::Ringing);
    h.advance(2_000);
    h.leg(a, LegEvent::Answered);
    let acts = h.take();
    let inv = H::invites(&acts);
    assert_eq!(inv.len(), 1);
    let b = inv[0].0;
    assert!(
        matches!(acts[0], LegAction::Invite { peer: Some(p), .. } if p == a),
        "B offered A's media"
    );
    h.leg(b, LegEvent::Ringing);
    h.advance(1_000);
    h.leg(b, LegEvent::Answered);
    assert_eq!(h.take(), vec![LegAction::Bridge { a, b }]);
    assert_eq!(
        h.calls.setups_in_flight(),
        0,
        "a bridged call is no longer a set-up"
    );
    h.advance(4_000);
    h.input(patchbay_proto::Input::Hangup { call: "c".into() });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Bye { leg: b },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!(
        (cause, by, cdr.billsec, cdr.direction.as_str()),
        (Cause::Normal, EndedBy::Api, 4, "originate")
    );
    assert_eq!(
        h.kinds(),
        [
            "created", "dialing", "ringing", "answered", "dialing", "ringing", "answered",
            "bridged", "ended"
        ]
    );
}

#[test]
fn caller_first_b_busy_hangs_up_a() {
    let mut h = H::new();
    h.originate("c", "4005", &["4007"], OriginateMode::CallerFirst);
    let a = H::invites(&h.take())[0].0;
    h.leg(a, LegEvent::Answered);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Failed { status: 486 });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Busy, EndedBy::B));
}
