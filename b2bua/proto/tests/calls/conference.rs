//! A conference in the core: an application call's leg joins a room (`conference_joined` at
//! once, the join as a media action), is listed as a member, is muted, cannot play while in
//! the room, leaves by `stop` (`conference_left` stopped, once the mixer let it go) and, in
//! again, leaves by hangup (`conference_left` hangup before `ended`).
use crate::harness::H;
use patchbay_proto::api::{ConferenceRequest, EventKind, MediaOp, MediaReason, PlayRequest, Side};
use patchbay_proto::{CallError, Input, LegAction, LegEvent, MediaEvent};

fn join(h: &mut H, room: &str) -> Result<u64, CallError> {
    let command = h.calls.alloc_command();
    h.try_input(Input::Media {
        call: "app".into(),
        command,
        op: MediaOp::Conference(ConferenceRequest {
            side: Side::A,
            room: room.into(),
            muted: false,
            tones: false,
            record: false,
        }),
    })
    .map(|()| command)
}

#[test]
fn a_leg_joins_is_muted_and_leaves_a_room() {
    let mut h = H::new();
    h.originate_app("app", "4007");
    let leg = H::invites(&h.take())[0].0;
    h.leg(leg, LegEvent::Answered);
    h.take();
    let c = join(&mut h, "sales").unwrap();
    assert!(
        matches!(&h.take()[..], [LegAction::Media { leg: l, command, op: MediaOp::Conference(_), .. }] if *l == leg && *command == c)
    );
    assert!(matches!(
        &h.events.last().unwrap().kind,
        EventKind::ConferenceJoined { command, room, .. } if *command == c && room == "sales"
    ));
    let members = h.calls.conference_members("demo", "sales");
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].party.as_str(), members[0].muted),
        ("4007", false)
    );
    assert!(h.calls.conference_members("other", "sales").is_empty());
    // In the room, the leg hears only the room; a second room is refused too.
    let play = h.try_input(Input::Media {
        call: "app".into(),
        command: 99,
        op: MediaOp::Play(PlayRequest {
            side: Side::A,
            file: Some("x.wav".into()),
            url: None,
            text: None,
            recording: None,
            voice: None,
            repeat: false,
            barge_in: false,
        }),
    });
    assert!(matches!(
        play,
        Err(CallError::InvalidState {
            state: "in a conference",
            ..
        })
    ));
    assert!(join(&mut h, "other").is_err());
    h.input(Input::ConferenceMute {
        call: "app".into(),
        side: Side::A,
        muted: true,
    });
    assert_eq!(h.take(), [LegAction::ConferenceMute { leg, muted: true }]);
    assert!(h.calls.conference_members("demo", "sales")[0].muted);

    h.input(Input::MediaStop {
        call: "app".into(),
        command: c,
    });
    assert_eq!(h.take(), [LegAction::MediaStop { leg, command: c }]);
    h.input(Input::MediaEvent {
        leg,
        event: MediaEvent::Done {
            command: c,
            reason: MediaReason::Stopped,
            played_ms: 0,
            digits: None,
            ok: false,
            key: None,
            error: None,
        },
    });
    assert!(matches!(
        &h.events.last().unwrap().kind,
        EventKind::ConferenceLeft { reason: MediaReason::Stopped, room, .. } if room == "sales"
    ));
    assert!(h.calls.conference_members("demo", "sales").is_empty());
    assert!(
        h.try_input(Input::ConferenceMute {
            call: "app".into(),
            side: Side::A,
            muted: false
        })
        .is_err()
    );

    join(&mut h, "sales").unwrap();
    h.leg(leg, LegEvent::Ended);
    let k = h.kinds();
    assert_eq!(k[k.len() - 2..], ["conference_left", "ended"]);
    h.ended();
}
