//! 4005 calls 4007 (two registered contacts): both ring, one answers, the other is cancelled,
//! the caller is answered and bridged; 4007 hangs up and the caller gets BYE.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, Side};
use patchbay_proto::{LegAction, LegEvent};

#[test]
fn inbound_call_forks_to_contacts_and_bridges() {
    let mut h = H::new();
    let a = h.inbound("c1", &["127.0.0.1:5072", "127.0.0.1:5073"]);
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 2);
    assert!(inv.iter().all(|(_, side, _)| *side == Side::B));
    let (b1, b2) = (inv[0].0, inv[1].0);
    h.leg(b1, LegEvent::Ringing);
    h.leg(b2, LegEvent::Ringing);
    assert_eq!(h.take(), vec![LegAction::Ring { leg: a }], "ringback once");
    h.advance(3_000);
    h.leg(b2, LegEvent::Answered);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Cancel { leg: b1 },
            LegAction::Answer { leg: a, peer: b2 },
            LegAction::Bridge { a, b: b2 }
        ]
    );
    h.leg(b1, LegEvent::Failed { status: 487 });
    assert!(h.take().is_empty());
    h.advance(5_000);
    h.leg(b2, LegEvent::Ended);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Bye { leg: a },
            LegAction::Release {
                call: "c1".to_string().into()
            }
        ]
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::B));
    assert_eq!(cdr.billsec, 5);
    assert_eq!(cdr.duration_s, 8);
    assert_eq!(cdr.to, "4007");
    assert_eq!(
        h.kinds(),
        [
            "created", "dialing", "ringing", "answered", "bridged", "ended"
        ]
    );
}

#[test]
fn inbound_to_unregistered_user_is_404() {
    let mut h = H::new();
    let a = h.inbound("c2", &[]);
    assert_eq!(
        h.take(),
        vec![
            LegAction::Reject {
                leg: a,
                status: 404
            },
            LegAction::Release {
                call: "c2".to_string().into()
            }
        ]
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::NotFound, EndedBy::System));
}
