//! A room's invite in the core: an application call with `conference` rings its party; on
//! answer the engine takes the leg and joins it to the room at once.
use crate::harness::H;
use patchbay_proto::api::{CallId, MediaOp, OriginateRequest};
use patchbay_proto::{Forwards, Input, LegAction, LegEvent, Target};

#[test]
fn the_invited_party_joins_the_room_on_answer() {
    let mut h = H::new();
    let req = OriginateRequest {
        tenant: "demo".into(),
        from: "710".into(),
        to: vec!["4007".into()],
        app: true,
        conference: Some("team".into()),
        ..Default::default()
    };
    h.input(Input::Originate {
        call: CallId("inv".into()),
        req,
        a: vec![Target::new("4007", "sip:4007@127.0.0.1:5072")],
        b: vec![],
        ring_timeout_ms: 20_000,
        forwards: Forwards::default(),
        no_target_status: 480,
    });
    let a = H::invites(&h.take())[0].0;
    assert!(h.calls.conference_members("demo", "team").is_empty());
    h.leg(a, LegEvent::Answered);
    let acts = h.take();
    assert!(acts.contains(&LegAction::Attach { leg: a }), "{acts:?}");
    assert!(
        acts.iter().any(|x| matches!(x,
            LegAction::Media { op: MediaOp::Conference(r), .. } if r.room == "team")),
        "{acts:?}"
    );
    assert_eq!(h.calls.conference_members("demo", "team").len(), 1);
}
