//! A phone calls an application number: the core answers the inbound leg itself
//! (`AnswerApp`), attaches it to the engine, and the call is connected at once with
//! `created`, `incoming`, `answered`; primitives run on it; the caller's BYE ends it.
use crate::harness::H;
use patchbay_proto::api::{
    CallState, Cause, EndedBy, EventKind, MediaOp, Side, ToneName, ToneRequest,
};
use patchbay_proto::{Input, LegAction, LegEvent};

#[test]
fn an_application_number_answers_and_the_call_is_driven_like_any_application_call() {
    let mut h = H::new();
    let leg = h.inbound_app("in1");
    assert_eq!(
        h.take(),
        [LegAction::AnswerApp { leg }, LegAction::Attach { leg }]
    );
    assert_eq!(h.kinds(), ["created", "incoming", "answered"]);
    assert!(matches!(
        &h.events[1].kind,
        EventKind::Incoming { tenant, from, number } if tenant == "demo" && from == "4005" && number == "8000"
    ));
    let info = h.calls.info(&"in1".into()).unwrap();
    assert!(info.app && info.state == CallState::Bridged);
    assert_eq!(h.calls.setups_in_flight(), 0);
    let command = h.calls.alloc_command();
    h.input(Input::Media {
        call: "in1".into(),
        command,
        op: MediaOp::Tone(ToneRequest {
            side: Side::A,
            tone: ToneName::Beep,
            duration_ms: None,
            barge_in: false,
        }),
    });
    assert!(matches!(&h.take()[..], [LegAction::Media { leg: l, .. }] if *l == leg));
    h.leg(leg, LegEvent::Ended);
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::A));
    assert_eq!(
        (cdr.direction.as_str(), cdr.to.as_str()),
        ("inbound", "8000")
    );
}
