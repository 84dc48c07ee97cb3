//! Every cell of the state x action table documented on the crate, for 3PCC calls.
//! Each case ends with exactly one terminal event and one CDR (checked by `H::ended`).
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, OriginateMode, Side, TransferMethod};
use patchbay_proto::{CallError, Input, LegAction, LegEvent, Target};

fn a_ringing() -> (H, patchbay_proto::LegId) {
    let mut h = H::new();
    h.originate("c", "4005", &["4007"], OriginateMode::CallerFirst);
    let a = H::invites(&h.take())[0].0;
    h.leg(a, LegEvent::Ringing);
    (h, a)
}

fn b_ringing() -> (H, patchbay_proto::LegId, patchbay_proto::LegId) {
    let (mut h, a) = a_ringing();
    h.leg(a, LegEvent::Answered);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Ringing);
    (h, a, b)
}

#[test]
fn cancel_while_a_rings() {
    let (mut h, a) = a_ringing();
    h.input(Input::Hangup { call: "c".into() });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Cancel { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    assert_eq!(h.ended().0, Cause::Cancelled);
    assert_eq!(h.ended().1, EndedBy::Api);
}

#[test]
fn cancel_while_b_rings() {
    let (mut h, a, b) = b_ringing();
    h.input(Input::Hangup { call: "c".into() });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Cancel { leg: b },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Cancelled, EndedBy::Api));
}

#[test]
fn a_rejects() {
    let (mut h, a) = a_ringing();
    h.leg(a, LegEvent::Failed { status: 603 });
    assert_eq!(h.take(), vec![LegAction::Release { call: "c".into() }]);
    let (cause, by, cdr) = h.ended();
    assert_eq!(
        (cause, by, cdr.status),
        (Cause::Rejected, EndedBy::A, Some(603))
    );
}

#[test]
fn a_no_answer() {
    let (mut h, a) = a_ringing();
    h.advance(20_000);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Cancel { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    assert_eq!(h.ended().0, Cause::NoAnswer);
}

#[test]
fn b_busy() {
    let (mut h, a, b) = b_ringing();
    h.leg(b, LegEvent::Failed { status: 486 });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    assert_eq!(h.ended().0, Cause::Busy);
}

#[test]
fn b_no_answer() {
    let (mut h, a, b) = b_ringing();
    h.advance(20_000);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Cancel { leg: b },
            LegAction::Bye { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::NoAnswer, EndedBy::B));
}

#[test]
fn a_hangs_up_while_b_rings() {
    let (mut h, _a, b) = b_ringing();
    let a = h.calls.list()[0].clone();
    assert_eq!(a.state, patchbay_proto::api::CallState::Connecting);
    let a_leg = h.calls.leg(patchbay_proto::LegId(1)).map(|l| l.id).unwrap();
    h.leg(a_leg, LegEvent::Ended);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Cancel { leg: b },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Cancelled, EndedBy::A));
}

#[test]
fn hangup_after_answer() {
    let (mut h, a, b) = b_ringing();
    h.leg(b, LegEvent::Answered);
    h.take();
    h.leg(b, LegEvent::Ended);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::B));
}

#[test]
fn transfer_hold_and_hangup_are_refused_in_the_wrong_state() {
    let (mut h, _a) = a_ringing();
    let t = vec![Target::new("4009", "sip:4009@x")];
    let r = h.try_input(Input::Transfer {
        call: "c".into(),
        target: "4009".into(),
        targets: t,
        keep: Side::A,
        method: TransferMethod::Bridge,
    });
    assert!(matches!(r, Err(CallError::InvalidState { .. })));
    assert!(matches!(
        h.try_input(Input::Hold {
            call: "c".into(),
            on: true
        }),
        Err(CallError::InvalidState { .. })
    ));
    h.input(Input::Hangup { call: "c".into() });
    assert!(matches!(
        h.try_input(Input::Hangup { call: "c".into() }),
        Err(CallError::UnknownCall(_))
    ));
    h.ended();
}

#[test]
fn hold_and_unhold_reinvite_both_legs() {
    let (mut h, a, b) = b_ringing();
    h.leg(b, LegEvent::Answered);
    h.take();
    h.input(Input::Hold {
        call: "c".into(),
        on: true,
    });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Hold { leg: a, on: true },
            LegAction::Hold { leg: b, on: true }
        ]
    );
    h.input(Input::Hold {
        call: "c".into(),
        on: false,
    });
    assert_eq!(
        h.take(),
        vec![
            LegAction::Hold { leg: a, on: false },
            LegAction::Hold { leg: b, on: false }
        ]
    );
    h.input(Input::Hangup { call: "c".into() });
    h.ended();
}

#[test]
fn shutdown_ends_every_call_once() {
    let (mut h, a, b) = b_ringing();
    h.shutdown();
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Cancel { leg: b },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::System, EndedBy::System));
}
