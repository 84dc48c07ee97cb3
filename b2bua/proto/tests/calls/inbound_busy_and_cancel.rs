//! Inbound call failures: callee busy, callee never answers, caller cancels while ringing.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy};
use patchbay_proto::{LegAction, LegEvent};

#[test]
fn callee_busy_gives_486_to_caller() {
    let mut h = H::new();
    let a = h.inbound("c", &["127.0.0.1:5072"]);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Failed { status: 486 });
    assert_eq!(
        h.take()[0],
        LegAction::Reject {
            leg: a,
            status: 486
        }
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by, cdr.billsec), (Cause::Busy, EndedBy::B, 0));
}

#[test]
fn no_answer_cancels_callee_and_gives_480() {
    let mut h = H::new();
    let a = h.inbound("c", &["127.0.0.1:5072"]);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Ringing);
    h.take();
    h.advance(19_999);
    assert!(h.take().is_empty());
    h.advance(1);
    let acts = h.take();
    assert_eq!(acts[0], LegAction::Cancel { leg: b });
    assert_eq!(
        acts[1],
        LegAction::Reject {
            leg: a,
            status: 480
        }
    );
    h.leg(b, LegEvent::Failed { status: 487 });
    let (cause, _, _) = h.ended();
    assert_eq!(cause, Cause::NoAnswer);
}

#[test]
fn caller_cancel_while_callee_rings() {
    let mut h = H::new();
    let a = h.inbound("c", &["127.0.0.1:5072"]);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Ringing);
    h.take();
    h.leg(a, LegEvent::Ended);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Cancel { leg: b },
            LegAction::Release {
                call: "c".to_string().into()
            }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Cancelled, EndedBy::A));
    // A 200 that crossed the CANCEL is hung up.
    h.leg(b, LegEvent::Answered);
    assert_eq!(h.take(), vec![LegAction::Bye { leg: b }]);
}
