//! Recordings in the core: a call originated with `record` is recorded whole (stereo, legs A
//! then B) from the bridge, once; a `record` of one leg is mono; a hangup stops recordings and
//! the call's `ended` event and CDR wait for them (recording_ready first); a recording that
//! never reports ends with `error` after the closing deadline, or at once when the node stops.
use crate::harness::H;
use patchbay_proto::api::{
    Cause, EndedBy, EventKind, MediaOp, MediaReason, OriginateMode, OriginateRequest, RecordLayout,
    RecordRequest, Side,
};
use patchbay_proto::{CallError, Input, LegAction, LegEvent, RecordingDone, Target};

fn originate_recorded(h: &mut H) {
    let req = OriginateRequest {
        tenant: "demo".into(),
        from: "4005".into(),
        to: vec!["4007".into()],
        mode: OriginateMode::CallerFirst,
        record: true,
        ..Default::default()
    };
    h.input(Input::Originate {
        call: "c1".into(),
        req,
        a: vec![Target::new("4005", "sip:4005@127.0.0.1:5071")],
        b: vec![Target::new("4007", "sip:4007@127.0.0.1:5072")],
        ring_timeout_ms: 20_000,
        forwards: patchbay_proto::Forwards::default(),
        no_target_status: 480,
    });
}

/// The recorded call, both sides answered: its legs A and B.
fn answered_recorded_call(h: &mut H) -> (patchbay_proto::LegId, patchbay_proto::LegId) {
    originate_recorded(h);
    let a = H::invites(&h.take())[0].0;
    h.leg(a, LegEvent::Answered);
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Answered);
    (a, b)
}

fn done(h: &mut H, command: u64, reason: MediaReason, ms: u64) {
    h.input(Input::RecordingDone {
        call: "c1".into(),
        command,
        done: RecordingDone {
            reason,
            duration_ms: ms,
            bytes: 44 + ms * 32,
            key: None,
            error: None,
        },
    });
}

#[test]
fn a_recorded_call_is_recorded_from_the_bridge_and_ends_after_its_recordings() {
    let mut h = H::new();
    let (a, b) = answered_recorded_call(&mut h);
    let acts = h.take();
    let whole = match &acts[..] {
        [
            LegAction::Bridge { .. },
            LegAction::Record {
                command,
                recording,
                legs,
                layout: RecordLayout::Stereo,
                ..
            },
        ] => {
            assert_eq!(legs, &vec![a, b], "A left, B right");
            assert_eq!(recording, &format!("c1-r{command}"));
            *command
        }
        other => panic!("{other:?}"),
    };
    // One leg, mono; refused on a side without a leg is not possible here, but a stereo
    // recording of one side is refused at the edge (RecordRequest::refusal).
    let one = h.calls.alloc_command();
    h.input(Input::Media {
        call: "c1".into(),
        command: one,
        op: MediaOp::Record(RecordRequest {
            side: Some(Side::B),
            max_ms: Some(10_000),
            ..Default::default()
        }),
    });
    assert!(matches!(
        &h.take()[..],
        [LegAction::Record { legs, layout: RecordLayout::Mono, .. }] if legs == &vec![b]
    ));
    // The one-leg recording reaches its limit while the call goes on.
    done(&mut h, one, MediaReason::MaxLength, 10_000);
    assert!(matches!(
        h.events.last().unwrap().kind,
        EventKind::RecordingReady {
            side: Some(Side::B),
            reason: MediaReason::MaxLength,
            duration_ms: 10_000,
            ..
        }
    ));
    assert_eq!(
        h.try_input(Input::MediaStop {
            call: "c1".into(),
            command: one
        }),
        Err(CallError::UnknownCommand(one))
    );

    h.now += 30_000;
    h.leg(a, LegEvent::Ended);
    let acts = h.take();
    assert!(acts.contains(&LegAction::Bye { leg: b }));
    assert!(acts.contains(&LegAction::RecordStop { command: whole }));
    assert!(
        !acts.iter().any(|x| matches!(x, LegAction::Release { .. })),
        "held until the recording closed"
    );
    assert!(h.cdrs.is_empty() && !h.events.iter().any(|e| e.kind.is_terminal()));
    assert!(h.calls.is_empty(), "no longer a live call");

    h.now += 40;
    done(&mut h, whole, MediaReason::Hangup, 30_000);
    assert_eq!(
        h.kinds()[h.kinds().len() - 2..],
        ["recording_ready", "ended"]
    );
    let (cause, by, cdr) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::A));
    assert_eq!(cdr.ended_ms, h.now - 40, "the CDR ends when the call did");
    assert!(matches!(h.take().last(), Some(LegAction::Release { .. })));
    // A late report changes nothing.
    done(&mut h, whole, MediaReason::Hangup, 30_000);
    assert_eq!(h.cdrs.len(), 1);
}

#[test]
fn a_recording_that_never_closes_ends_with_an_error_after_the_deadline() {
    let mut h = H::new();
    answered_recorded_call(&mut h);
    h.input(Input::Hangup { call: "c1".into() });
    assert!(h.cdrs.is_empty());
    h.advance(4_999);
    assert!(h.cdrs.is_empty());
    h.advance(1);
    let last = &h.events[h.events.len() - 2];
    assert!(
        matches!(
            &last.kind,
            EventKind::RecordingReady {
                reason: MediaReason::Error,
                error: Some(_),
                ..
            }
        ),
        "{last:?}"
    );
    let (cause, by, _) = h.ended();
    assert_eq!((cause, by), (Cause::Normal, EndedBy::Api));
}

#[test]
fn a_node_stopping_ends_its_closing_calls_without_losing_their_cdrs() {
    let mut h = H::new();
    answered_recorded_call(&mut h);
    h.shutdown();
    assert_eq!(h.calls.closing(), 1);
    assert!(h.cdrs.is_empty());
    h.calls.close_all_now(h.now);
    while let Some(o) = h.calls.poll_output() {
        match o {
            patchbay_proto::Output::Event(e) => h.events.push(e),
            patchbay_proto::Output::Cdr(c) => h.cdrs.push(c),
            patchbay_proto::Output::Leg(a) => h.actions.push(a),
            patchbay_proto::Output::Mailbox(m) => h.mailbox.push(m),
            patchbay_proto::Output::Route { call, destination } => {
                h.routes.push((call, destination))
            }
            patchbay_proto::Output::QueueOffer { call, agents, .. } => {
                h.offers.push((call, agents))
            }
        }
    }
    assert_eq!(h.calls.closing(), 0);
    let k = h.kinds();
    assert_eq!(k[k.len() - 2..], ["recording_ready", "ended"]);
    let (_, by, _) = h.ended();
    assert_eq!(by, EndedBy::System);
}
