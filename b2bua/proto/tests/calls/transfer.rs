//! Blind transfer after answer, both ways: the B2BUA re-bridges to the target, or REFERs.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, OriginateMode, Side, TransferMethod};
use patchbay_proto::{Input, LegAction, LegEvent, Target};

fn bridged() -> (H, patchbay_proto::LegId, patchbay_proto::LegId) {
    let mut h = H::new();
    h.originate("c", "4005", &["4007"], OriginateMode::CallerFirst);
    let a = H::invites(&h.take())[0].0;
    h.leg(a, LegEvent::Answered);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Answered);
    h.take();
    (h, a, b)
}

fn transfer(h: &mut H, method: TransferMethod) {
    h.input(Input::Transfer {
        call: "c".into(),
        target: "4009".into(),
        targets: vec![Target::new("4009", "sip:4009@127.0.0.1:5073")],
        keep: Side::A,
        method,
    });
}

#[test]
fn bridge_transfer_calls_target_then_drops_old_leg() {
    let (mut h, a, b) = bridged();
    h.advance(2_000);
    transfer(&mut h, TransferMethod::Bridge);
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 1);
    let c = inv[0].0;
    h.leg(c, LegEvent::Ringing);
    h.leg(c, LegEvent::Answered);
    assert_eq!(
        h.take(),
        vec![LegAction::Bye { leg: b }, LegAction::Bridge { a, b: c }]
    );
    h.leg(b, LegEvent::Ended); // the BYE's own echo does not end the call
    assert!(h.take().is_empty());
    h.advance(3_000);
    h.leg(c, LegEvent::Ended);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::B));
    assert_eq!(cdr.transferred_to.as_deref(), Some("4009"));
    assert_eq!(cdr.billsec, 5);
    assert!(h.kinds().contains(&"transferred"));
}

#[test]
fn bridge_transfer_to_busy_target_keeps_the_call() {
    let (mut h, _a, _b) = bridged();
    transfer(&mut h, TransferMethod::Bridge);
    let c = H::invites(&h.take())[0].0;
    h.leg(c, LegEvent::Failed { status: 486 });
    assert!(h.take().is_empty());
    assert!(h.kinds().contains(&"transfer_failed"));
    assert_eq!(h.calls.len(), 1);
    h.input(Input::Hangup { call: "c".into() });
    h.ended();
}

#[test]
fn refer_transfer_ends_the_call_as_transferred() {
    let (mut h, a, b) = bridged();
    transfer(&mut h, TransferMethod::Refer);
    assert_eq!(
        h.take(),
        vec![LegAction::Refer {
            leg: a,
            uri: "sip:4009@127.0.0.1:5073".into()
        }]
    );
    h.leg(
        a,
        LegEvent::ReferResult {
            ok: true,
            status: 200,
        },
    );
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Bye { leg: b },
            LegAction::Release { call: "c".into() }
        ]
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by), (Cause::Transferred, EndedBy::A));
    assert_eq!(cdr.transferred_to.as_deref(), Some("4009"));
}
