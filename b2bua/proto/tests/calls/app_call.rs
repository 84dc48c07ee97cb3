//! An application call: its party rings as side A and, on answer, is attached to the media
//! engine; primitives become media actions and end with exactly one completion event each,
//! also when the call ends first (reason `hangup`, before `ended`).
use crate::harness::H;
use patchbay_proto::api::{
    CallState, Cause, CollectRequest, EndedBy, EventKind, MediaOp, MediaReason, PlayRequest, Side,
    TransferMethod,
};
use patchbay_proto::{CallError, Input, LegAction, LegEvent, MediaEvent};

fn play(text: &str) -> MediaOp {
    MediaOp::Play(PlayRequest {
        side: Side::A,
        file: None,
        url: None,
        text: Some(text.into()),
        recording: None,
        voice: None,
        repeat: false,
        barge_in: true,
    })
}

fn collect() -> MediaOp {
    MediaOp::Collect(CollectRequest {
        side: Side::A,
        min_digits: 1,
        max_digits: 4,
        terminators: "#".into(),
        first_timeout_ms: 5_000,
        inter_timeout_ms: 3_000,
    })
}

fn media(h: &mut H, op: MediaOp) -> Result<u64, CallError> {
    let command = h.calls.alloc_command();
    h.try_input(Input::Media {
        call: "app".into(),
        command,
        op,
    })
    .map(|()| command)
}

#[test]
fn an_application_call_is_attached_on_answer_and_its_primitives_end_once() {
    let mut h = H::new();
    h.originate_app("app", "4007");
    let inv = H::invites(&h.take());
    assert_eq!(inv.len(), 1);
    let (leg, side, party) = inv[0].clone();
    assert_eq!((side, party.as_str()), (Side::A, "4007"));
    // Nothing can be played before the answer.
    assert!(matches!(
        media(&mut h, play("hi")),
        Err(CallError::InvalidState { .. })
    ));
    h.leg(leg, LegEvent::Ringing);
    h.leg(leg, LegEvent::Answered);
    assert_eq!(h.take(), [LegAction::Attach { leg }]);
    let info = h.calls.info(&"app".into()).unwrap();
    assert!(info.app && info.state == CallState::Bridged && info.answered_ms.is_some());
    assert_eq!(h.calls.setups_in_flight(), 0);

    let p = media(&mut h, play("press a key")).unwrap();
    let c = media(&mut h, collect()).unwrap();
    assert_ne!(p, c);
    let acts = h.take();
    assert!(matches!(&acts[..], [
        LegAction::Media { leg: l1, command: c1, op: MediaOp::Play(_), .. },
        LegAction::Media { leg: l2, command: c2, op: MediaOp::Collect(_), .. },
    ] if *l1 == leg && *l2 == leg && *c1 == p && *c2 == c));
    // Side B has no leg in an application call; transfer waits for call routing.
    let mut on_b = collect();
    if let MediaOp::Collect(r) = &mut on_b {
        r.side = Side::B;
    }
    assert!(media(&mut h, on_b).is_err());
    assert!(
        h.try_input(Input::Transfer {
            call: "app".into(),
            target: "4009".into(),
            targets: vec![],
            keep: Side::A,
            method: TransferMethod::Bridge,
        })
        .is_err()
    );

    // The phone presses 5 during the prompt: a dtmf event, the prompt barged in.
    h.input(Input::MediaEvent {
        leg,
        event: MediaEvent::Key('5'),
    });
    let done = |command, reason, key| MediaEvent::Done {
        command,
        reason,
        played_ms: 700,
        digits: None,
        ok: false,
        key,
        error: None,
    };
    h.input(Input::MediaEvent {
        leg,
        event: done(p, MediaReason::BargeIn, Some('5')),
    });
    // A duplicate report changes nothing.
    h.input(Input::MediaEvent {
        leg,
        event: done(p, MediaReason::BargeIn, Some('5')),
    });
    let n = h.events.len();
    assert!(matches!(&h.events[n - 2].kind, EventKind::Dtmf { side: Side::A, key } if key == "5"));
    assert!(matches!(&h.events[n - 1].kind, EventKind::PlayFinished {
        command, reason: MediaReason::BargeIn, played_ms: 700, key: Some(k), ..
    } if *command == p && k == "5"));

    // Stop: only for a running command.
    h.input(Input::MediaStop {
        call: "app".into(),
        command: c,
    });
    assert_eq!(h.take(), [LegAction::MediaStop { leg, command: c }]);
    assert_eq!(
        h.try_input(Input::MediaStop {
            call: "app".into(),
            command: p,
        }),
        Err(CallError::UnknownCommand(p))
    );

    // A tone still plays when the phone hangs up: it ends with `hangup`, then the call.
    let t = media(
        &mut h,
        MediaOp::Tone(patchbay_proto::api::ToneRequest {
            side: Side::A,
            tone: patchbay_proto::api::ToneName::Ringback,
            duration_ms: None,
            barge_in: false,
        }),
    )
    .unwrap();
    h.now += 5_000;
    h.leg(leg, LegEvent::Ended);
    let tail: Vec<&EventKind> = h
        .events
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(|e| &e.kind)
        .collect();
    assert!(
        matches!(tail[0], EventKind::Digits { command, reason: MediaReason::Hangup, .. } if *command == c)
    );
    assert!(
        matches!(tail[1], EventKind::ToneFinished { command, reason: MediaReason::Hangup, .. } if *command == t)
    );
    assert!(matches!(tail[2], EventKind::Ended { .. }));
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::A));
    assert_eq!((cdr.to.as_str(), cdr.billsec), ("4007", 5));
    // A late report of the ended call is dropped.
    h.input(Input::MediaEvent {
        leg,
        event: done(c, MediaReason::Stopped, None),
    });
    assert!(h.events.last().unwrap().kind.is_terminal());
}

#[test]
fn media_on_a_bridged_two_party_call_goes_to_its_legs() {
    let mut h = H::new();
    let a = h.inbound("app", &["127.0.0.1:5072"]);
    let inv = H::invites(&h.take());
    h.leg(inv[0].0, LegEvent::Answered);
    h.take();
    let c = media(&mut h, play("x")).unwrap();
    assert!(
        matches!(&h.take()[..], [LegAction::Media { leg, command, .. }] if *leg == a && *command == c)
    );
    let room = MediaOp::Conference(patchbay_proto::api::ConferenceRequest {
        side: Side::B,
        room: "r".into(),
        muted: false,
        tones: false,
        record: false,
    });
    let r = media(&mut h, room).unwrap();
    assert!(
        matches!(&h.take()[..], [LegAction::Media { leg, command, .. }] if *leg == inv[0].0 && *command == r)
    );
}
