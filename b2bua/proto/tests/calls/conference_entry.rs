//! Dialling into a conference room in the core: the caller is answered and asked for the PIN;
//! a wrong PIN is asked again, three wrong ones say goodbye and end the call; a room without
//! a PIN lets the caller in at once (the `conference` primitive for the room).
use crate::harness::{H, collection, done, media};
use patchbay_proto::api::{CallId, ConferenceRoom, EndedBy, MediaOp};
use patchbay_proto::{Forwards, Input, LegAction, LegId, Service};

fn room(pin: Option<&str>) -> ConferenceRoom {
    ConferenceRoom {
        name: "sales".into(),
        extension: "700".into(),
        pin: pin.map(Into::into),
        moderator_pin: None,
        max_members: 0,
        owner: None,
        locked: false,
        record: true,
        description: None,
    }
}

fn dial(h: &mut H, pin: Option<&str>) -> LegId {
    let leg = h.calls.alloc_leg();
    h.input(Input::Inbound {
        call: CallId("c".into()),
        leg,
        tenant: "demo".into(),
        from: "4005".into(),
        to: "700".into(),
        targets: vec![],
        no_target_status: 0,
        ring_timeout_ms: 20_000,
        record: false,
        app: true,
        forwards: Forwards::default(),
        service: Some(Service::Room(Box::new(room(pin)))),
    });
    leg
}

#[test]
fn three_wrong_pins_say_goodbye() {
    let mut h = H::new();
    let a = dial(&mut h, Some("1234"));
    let acts = h.take();
    assert!(acts.contains(&LegAction::AnswerApp { leg: a }));
    let mut c = collection(&acts);
    for _ in 0..2 {
        done(&mut h, a, c, Some("1111"));
        c = collection(&h.take());
    }
    done(&mut h, a, c, Some("1111"));
    let bye = media(&h.take());
    assert!(
        matches!(&bye[0].1, MediaOp::Play(p) if p.text.as_deref() == Some("Wrong PIN. Goodbye."))
    );
    done(&mut h, a, bye[0].0, None);
    assert!(h.take().contains(&LegAction::Bye { leg: a }));
    assert_eq!(h.ended().1, EndedBy::System);
}

#[test]
fn a_room_without_a_pin_lets_the_caller_in() {
    let mut h = H::new();
    let a = dial(&mut h, None);
    let joining = media(&h.take());
    assert!(
        matches!(&joining[0].1, MediaOp::Play(p) if p.text.as_deref().is_some_and(|t| t.contains("joining")))
    );
    done(&mut h, a, joining[0].0, None);
    let join = media(&h.take());
    assert!(
        matches!(&join[0].1, MediaOp::Conference(r) if r.room == "sales" && r.record),
        "{join:?}"
    );
    assert_eq!(h.calls.conference_members("demo", "sales").len(), 1);
}
