//! Attended transfer: 4005 talks to 4007 (call `c1`), puts it on hold and calls 4009 (`c2`),
//! then transfers (REFER with Replaces): both of 4005's legs get BYE, 4007 and 4009 are
//! bridged in `c1`, `c2` ends `transferred` at once; each call's CDR names who it went to.
//! A join that is not two answered calls of one phone is refused.
use crate::harness::H;
use patchbay_proto::api::{Cause, EventKind};
use patchbay_proto::{Forwards, Input, LegAction, LegEvent, LegId, Target};

/// 4005 calls `to` in call `id`, which answers: (4005's leg, the callee's leg).
fn answered(h: &mut H, id: &str, to: &str, port: u16) -> (LegId, LegId) {
    let target = vec![Target::new(to, format!("sip:{to}@127.0.0.1:{port}"))];
    let a = h.inbound_routed(id, target, 480, Forwards::default());
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Answered);
    h.take();
    (a, b)
}

#[test]
fn the_phone_leaves_and_its_two_parties_talk() {
    let mut h = H::new();
    let (a1, y) = answered(&mut h, "c1", "4007", 5072);
    let (a2, z) = answered(&mut h, "c2", "4009", 5079);
    h.input(Input::Join {
        call: "c1".into(),
        leg: a1,
        other: "c2".into(),
        replaced: a2,
    });
    let acts = h.take();
    assert!(acts.contains(&LegAction::Bye { leg: a1 }), "{acts:?}");
    assert!(acts.contains(&LegAction::Bye { leg: a2 }), "{acts:?}");
    assert!(acts.contains(&LegAction::Bridge { a: z, b: y }), "{acts:?}");
    assert!(
        acts.contains(&LegAction::Release { call: "c2".into() }),
        "{acts:?}"
    );
    assert_eq!(acts.len(), 4, "nothing else: {acts:?}");
    assert_eq!(h.cdrs.len(), 1, "the consultation call ended");
    assert_eq!(h.cdrs[0].cause, Cause::Transferred);
    assert_eq!(h.cdrs[0].transferred_to.as_deref(), Some("4007"));
    // The phone's BYEs are answered: nothing more happens.
    h.leg(a1, LegEvent::Ended);
    h.leg(a2, LegEvent::Ended);
    assert!(h.take().is_empty());
    assert_eq!(h.cdrs.len(), 1);
    // 4009 hangs up: c1 ends, normally, transferred to 4009.
    h.leg(z, LegEvent::Ended);
    assert!(h.take().contains(&LegAction::Bye { leg: y }));
    assert_eq!(h.cdrs.len(), 2);
    assert_eq!(h.cdrs[1].cause, Cause::Normal);
    assert_eq!(h.cdrs[1].transferred_to.as_deref(), Some("4009"));
    assert!(h.events.iter().any(|e| e.call.0 == "c1"
        && matches!(&e.kind, EventKind::Transferred { target } if target == "4009")));
}

#[test]
fn only_two_answered_calls_of_one_phone_join() {
    let mut h = H::new();
    let (a1, y) = answered(&mut h, "c1", "4007", 5072);
    let target = vec![Target::new("4009", "sip:4009@127.0.0.1:5079")];
    let a2 = h.inbound_routed("c2", target, 480, Forwards::default());
    h.take();
    let join = |leg, replaced| Input::Join {
        call: "c1".into(),
        leg,
        other: "c2".into(),
        replaced,
    };
    assert!(h.try_input(join(a1, a2)).is_err(), "c2 still rings");
    assert!(h.try_input(join(y, a2)).is_err());
    assert!(
        h.try_input(Input::Join {
            call: "c1".into(),
            leg: a1,
            other: "c1".into(),
            replaced: a1,
        })
        .is_err()
    );
    assert!(h.take().is_empty());
    assert!(h.cdrs.is_empty());
}
