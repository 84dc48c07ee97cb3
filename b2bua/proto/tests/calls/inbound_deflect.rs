//! The API forwards a call that still rings its callee (Ozeki's `Forward`): the ringing phone
//! is cancelled, the new party rings with a Diversion (`deflection`) and answers; its
//! cancelled leg's 487 changes nothing. A call already answered cannot be deflected.
use crate::harness::H;
use patchbay_proto::api::{CallId, CallState, EventKind};
use patchbay_proto::{CallError, Input, LegAction, LegEvent, Target};

fn deflect(h: &mut H) -> Result<(), CallError> {
    h.try_input(Input::Deflect {
        call: CallId("c".into()),
        to: "4009".into(),
        targets: vec![Target::new("4009", "sip:4009@127.0.0.1:5079")],
    })
}

#[test]
fn a_ringing_call_rings_someone_else_instead() {
    let mut h = H::new();
    h.inbound("c", &["127.0.0.1:5072"]);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Ringing);
    deflect(&mut h).unwrap();
    let acts = h.take();
    assert!(
        acts.iter()
            .any(|a| matches!(a, LegAction::Cancel { leg } if *leg == b)),
        "{acts:?}"
    );
    let invites: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            LegAction::Invite {
                leg,
                target,
                diversion,
                ..
            } => Some((*leg, target.party.clone(), diversion.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(invites.len(), 1, "{acts:?}");
    let (c, party, diversion) = invites[0].clone();
    assert_eq!(party, "4009");
    assert_eq!(diversion, Some(("4007".to_string(), "deflection")));
    assert!(h.events.iter().any(|e| matches!(
        &e.kind,
        EventKind::Forwarded { from, to, reason }
            if from == "4007" && to == "4009" && reason == "deflection"
    )));
    // The cancelled phone's 487 comes back: nothing ends.
    h.leg(b, LegEvent::Failed { status: 487 });
    assert!(!h.kinds().contains(&"ended"), "{:?}", h.kinds());
    h.leg(c, LegEvent::Ringing);
    h.leg(c, LegEvent::Answered);
    let info = h.calls.info(&CallId("c".into())).unwrap();
    assert_eq!(
        (info.state, info.connected.as_deref()),
        (CallState::Bridged, Some("4009"))
    );
    // Answered: no more deflecting.
    assert!(matches!(
        deflect(&mut h),
        Err(CallError::InvalidState { .. })
    ));
}
