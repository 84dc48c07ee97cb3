//! 3PCC simultaneous with two callees: all ring at once, first callee to answer wins.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, OriginateMode, Side};
use patchbay_proto::{Input, LegAction, LegEvent};

#[test]
fn simultaneous_rings_everyone_and_first_callee_wins() {
    let mut h = H::new();
    h.originate("c", "4005", &["4007", "4009"], OriginateMode::Simultaneous);
    let inv = H::invites(&h.take());
    assert_eq!(
        inv.iter().map(|i| i.1).collect::<Vec<_>>(),
        [Side::A, Side::B, Side::B]
    );
    let (a, b7, b9) = (inv[0].0, inv[1].0, inv[2].0);
    h.leg(b9, LegEvent::Answered);
    assert_eq!(
        h.take(),
        vec![LegAction::Cancel { leg: b7 }],
        "loser cancelled, A still rings"
    );
    h.leg(a, LegEvent::Answered);
    assert_eq!(h.take(), vec![LegAction::Bridge { a, b: b9 }]);
    h.leg(a, LegEvent::Ended);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: b9 },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!(
        (cause, by, cdr.to.as_str()),
        (Cause::Normal, EndedBy::A, "4009")
    );
}

#[test]
fn originate_with_no_callee_is_refused() {
    let mut h = H::new();
    let req = patchbay_proto::api::OriginateRequest {
        tenant: "demo".into(),
        from: "4005".into(),
        to: vec![],
        mode: OriginateMode::Simultaneous,
        ..Default::default()
    };
    let r = h.try_input(Input::Originate {
        call: "c".into(),
        req,
        a: vec![],
        b: vec![],
        ring_timeout_ms: 1,
        forwards: patchbay_proto::Forwards::default(),
        no_target_status: 480,
    });
    assert!(r.is_err());
    assert!(h.events.is_empty());
}

#[test]
fn unregistered_party_ends_as_not_found() {
    let mut h = H::new();
    let req = patchbay_proto::api::OriginateRequest {
        tenant: "demo".into(),
        from: "4005".into(),
        to: vec!["4099".into()],
        mode: OriginateMode::CallerFirst,
        ..Default::default()
    };
    h.input(Input::Originate {
        call: "c".into(),
        req,
        a: vec![],
        b: vec![],
        ring_timeout_ms: 1,
        forwards: patchbay_proto::Forwards::default(),
        no_target_status: 480,
    });
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::NotFound, EndedBy::System));
}
