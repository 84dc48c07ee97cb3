//! An auto-attendant in the core: answered, its prompt and one key; key 1 routes to 4007
//! (resolved by the driver) and connects the caller when 4007 answers; no key routes to the
//! timeout destination; invalid keys are said so (three: the timeout destination); a
//! destination that does not answer is "not available", then the menu again.
use crate::harness::{H, collection, done, media};
use patchbay_proto::api::{AttendantPrompt, AutoAttendant, CallId, MediaOp};
use patchbay_proto::{Forwards, Input, LegAction, LegEvent, LegId, RouteOutcome, Service, Target};

fn menu() -> AutoAttendant {
    AutoAttendant {
        id: "main".into(),
        name: "Main".into(),
        number: "800".into(),
        prompt: AttendantPrompt {
            file: None,
            url: None,
            text: Some("For sales press 1.".into()),
        },
        menu: [("1".to_string(), "4007".to_string())].into(),
        timeout_secs: 5,
        timeout_destination: Some("4009".into()),
        cti_url: None,
    }
}

fn dial(h: &mut H) -> LegId {
    let leg = h.calls.alloc_leg();
    h.input(Input::Inbound {
        call: CallId("aa".into()),
        leg,
        tenant: "demo".into(),
        from: "4005".into(),
        to: "800".into(),
        targets: vec![],
        no_target_status: 0,
        ring_timeout_ms: 20_000,
        record: false,
        app: true,
        forwards: Forwards::default(),
        service: Some(Service::Attendant(Box::new(menu()))),
    });
    leg
}

fn connect(h: &mut H, to: &str) {
    h.input(Input::Routed {
        call: "aa".into(),
        outcome: RouteOutcome::Connect {
            target: to.into(),
            targets: vec![Target::new(to, format!("sip:{to}@127.0.0.1:5072"))],
        },
    });
}

#[test]
fn a_key_routes_and_connects_the_caller() {
    let mut h = H::new();
    let a = dial(&mut h);
    let acts = h.take();
    assert!(acts.contains(&LegAction::AnswerApp { leg: a }));
    assert!(media(&acts).iter().any(|(_, op)| matches!(op,
        MediaOp::Play(p) if p.text.as_deref() == Some("For sales press 1."))));
    done(&mut h, a, collection(&acts), Some("1"));
    assert_eq!(h.routes, [("aa".into(), "4007".to_string())]);
    connect(&mut h, "4007");
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Answered);
    let acts = h.take();
    assert!(acts.contains(&LegAction::Detach { leg: a }), "{acts:?}");
    assert!(acts.contains(&LegAction::Bridge { a, b }), "{acts:?}");
}

#[test]
fn no_key_goes_to_the_timeout_destination_and_invalid_keys_are_said_so() {
    let mut h = H::new();
    let a = dial(&mut h);
    let acts = h.take();
    done(&mut h, a, collection(&acts), None);
    assert_eq!(h.routes.last().map(|r| r.1.as_str()), Some("4009"));

    let mut h = H::new();
    let a = dial(&mut h);
    let mut acts = h.take();
    for _ in 0..2 {
        done(&mut h, a, collection(&acts), Some("5"));
        let sorry = media(&h.take());
        assert!(matches!(&sorry[0].1,
            MediaOp::Play(p) if p.text.as_deref() == Some("That is not a valid choice.")));
        done(&mut h, a, sorry[0].0, None);
        acts = h.take();
    }
    done(&mut h, a, collection(&acts), Some("5"));
    assert_eq!(
        h.routes.last().map(|r| r.1.as_str()),
        Some("4009"),
        "third invalid key"
    );
}

#[test]
fn a_destination_that_does_not_answer_is_not_available() {
    let mut h = H::new();
    let a = dial(&mut h);
    let acts = h.take();
    done(&mut h, a, collection(&acts), Some("1"));
    connect(&mut h, "4007");
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Failed { status: 480 });
    let sorry = media(&h.take());
    assert!(matches!(&sorry[0].1,
        MediaOp::Play(p) if p.text.as_deref() == Some("The person you called is not available.")));
    done(&mut h, a, sorry[0].0, None);
    let again = h.take();
    assert!(
        media(&again)
            .iter()
            .any(|(_, op)| matches!(op, MediaOp::Collect(_))),
        "the menu again"
    );
    h.input(Input::Routed {
        call: "aa".into(),
        outcome: RouteOutcome::Unavailable,
    });
    assert!(h.take().is_empty(), "not routing now: ignored");
}
