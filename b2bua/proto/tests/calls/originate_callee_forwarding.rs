//! An API call to one user follows the user's routing, as an inbound call does: the caller's
//! phone rings first; the callee's phones ring; on no answer its no-answer forward rings
//! (Diversion, `forwarded`); a callee with no phone but a mailbox has the answered caller
//! leave a message (the caller's leg is not answered again: the engine attaches to it). With
//! the caller not answered yet, nothing goes to a mailbox.
use crate::harness::H;
use patchbay_proto::api::{
    CallId, EndedBy, EventKind, MediaOp, OriginateMode, OriginateRequest, Side,
};
use patchbay_proto::{Forwards, Input, LegAction, LegEvent, Target, Voicemail};

fn at(user: &str, port: u16) -> Vec<Target> {
    vec![Target::new(user, format!("sip:{user}@127.0.0.1:{port}"))]
}

fn originate(h: &mut H, b: Vec<Target>, forwards: Forwards, mode: OriginateMode) {
    let req = OriginateRequest {
        tenant: "demo".into(),
        from: "4005".into(),
        to: vec!["4007".into()],
        mode,
        ..Default::default()
    };
    h.input(Input::Originate {
        call: CallId("c".into()),
        req,
        a: at("4005", 5071),
        b,
        ring_timeout_ms: 20_000,
        forwards,
        no_target_status: 480,
    });
}

fn mailbox() -> Option<Voicemail> {
    Some(Voicemail {
        mailbox: "4007".into(),
        greeting: None,
        greeting_text: Some("leave a message".into()),
        max_ms: 60_000,
    })
}

#[test]
fn no_answer_rings_the_callees_forward_with_a_diversion() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        no_answer: Some(("4009".into(), at("4009", 5079))),
        ..Forwards::default()
    };
    originate(
        &mut h,
        at("4007", 5072),
        forwards,
        OriginateMode::CallerFirst,
    );
    let a = H::invites(&h.take())[0].0;
    h.leg(a, LegEvent::Answered);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Failed { status: 408 });
    let acts = h.take();
    let invited: Vec<_> = acts
        .iter()
        .filter_map(|x| match x {
            LegAction::Invite {
                side,
                target,
                diversion,
                ..
            } => Some((*side, target.party.clone(), diversion.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        invited,
        [(
            Side::B,
            "4009".to_string(),
            Some(("4007".to_string(), "no-answer"))
        )]
    );
    assert!(h.events.iter().any(|e| matches!(&e.kind,
        EventKind::Forwarded { from, to, .. } if from == "4007" && to == "4009")));
    let c = H::invites(&acts)[0].0;
    h.leg(c, LegEvent::Answered);
    assert!(
        h.take()
            .iter()
            .any(|x| matches!(x, LegAction::Bridge { .. }))
    );
}

#[test]
fn a_callee_without_phones_takes_a_message_from_the_answered_caller() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        voicemail: mailbox(),
        ..Forwards::default()
    };
    // Simultaneous mode: with nothing to ring for 4007, the call waits for the caller.
    originate(&mut h, vec![], forwards, OriginateMode::Simultaneous);
    let acts = h.take();
    assert_eq!(
        H::invites(&acts).len(),
        1,
        "only the caller rings: {acts:?}"
    );
    let a = H::invites(&acts)[0].0;
    h.leg(a, LegEvent::Answered);
    let acts = h.take();
    assert!(!acts.contains(&LegAction::AnswerApp { leg: a }), "{acts:?}");
    assert!(acts.contains(&LegAction::Attach { leg: a }), "{acts:?}");
    assert!(acts.iter().any(|x| matches!(x,
        LegAction::Media { op: MediaOp::Play(p), .. } if p.text.as_deref() == Some("leave a message"))));
    assert!(h.events.iter().any(|e| matches!(&e.kind,
        EventKind::Forwarded { to, .. } if to == "voicemail")));
}

#[test]
fn without_an_answered_caller_a_busy_callee_ends_the_call() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        voicemail: mailbox(),
        ..Forwards::default()
    };
    originate(
        &mut h,
        at("4007", 5072),
        forwards,
        OriginateMode::Simultaneous,
    );
    let invites = H::invites(&h.take());
    let b = invites.iter().find(|i| i.1 == Side::B).unwrap().0;
    h.leg(b, LegEvent::Failed { status: 486 });
    let acts = h.take();
    assert!(
        acts.iter().any(|x| matches!(x, LegAction::Cancel { .. })),
        "{acts:?}"
    );
    assert_eq!(h.cdrs.len(), 1);
    assert_eq!(h.cdrs[0].ended_by, EndedBy::B);
}
