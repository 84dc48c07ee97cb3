//! A call nobody takes goes to the mailbox: the B2BUA answers the caller, plays the spoken
//! default greeting, a beep, records the caller, and the recording becomes a message (also
//! when the caller hangs up while recording); a live call then ends. A busy forward comes
//! before the mailbox; the mailbox takes the call when the forward target is busy too.
use crate::harness::H;
use patchbay_proto::api::{EndedBy, MediaOp, MediaReason};
use patchbay_proto::{
    Forwards, Input, LegAction, LegEvent, LegId, MediaEvent, RecordingDone, Target, Voicemail,
};

fn vm() -> Voicemail {
    Voicemail {
        mailbox: "4007".into(),
        greeting: None,
        greeting_text: patchbay_proto::routing::greeting_text("standard", "4007"),
        max_ms: 60_000,
    }
}

fn done(h: &mut H, leg: LegId, command: u64) {
    h.input(Input::MediaEvent {
        leg,
        event: MediaEvent::Done {
            command,
            reason: MediaReason::Finished,
            played_ms: 1_000,
            digits: None,
            ok: false,
            key: None,
            error: None,
        },
    });
}

/// The one media command in `acts`.
fn media(acts: &[LegAction]) -> (u64, MediaOp) {
    acts.iter()
        .find_map(|a| match a {
            LegAction::Media { command, op, .. } => Some((*command, op.clone())),
            _ => None,
        })
        .expect("a media command")
}

fn recorded(h: &mut H, command: u64, reason: MediaReason) {
    h.input(Input::RecordingDone {
        call: "c".into(),
        command,
        done: RecordingDone {
            reason,
            duration_ms: 3_000,
            bytes: 48_044,
            key: None,
            error: None,
        },
    });
}

/// Greeting and beep done: the recording's command.
fn through_the_greeting(h: &mut H, a: LegId) -> u64 {
    let acts = h.take();
    assert!(acts.contains(&LegAction::AnswerApp { leg: a }));
    assert!(acts.contains(&LegAction::Attach { leg: a }));
    let (greeting, op) = media(&acts);
    assert!(
        matches!(&op, MediaOp::Play(p) if p.text.as_deref().is_some_and(|t| t.contains("4 0 0 7")))
    );
    done(h, a, greeting);
    let (beep, op) = media(&h.take());
    assert!(matches!(op, MediaOp::Tone(_)));
    done(h, a, beep);
    match &h.take()[..] {
        [LegAction::Record { command, legs, .. }] => {
            assert_eq!(legs, &vec![a]);
            *command
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unanswered_call_leaves_a_message_and_ends() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        voicemail: Some(vm()),
        ..Forwards::default()
    };
    let a = h.inbound_routed("c", vec![], 480, forwards);
    let rec = through_the_greeting(&mut h, a);
    recorded(&mut h, rec, MediaReason::Silence);
    assert_eq!(h.voicemails.len(), 1);
    let m = &h.voicemails[0];
    assert_eq!(
        (m.mailbox.as_str(), m.from.as_str(), m.duration_ms),
        ("4007", "4005", 3_000)
    );
    assert_eq!(m.recording, format!("c-r{rec}"));
    assert!(h.take().contains(&LegAction::Bye { leg: a }));
    let (_, by, _) = h.ended();
    assert_eq!(by, EndedBy::System);
    let k = h.kinds();
    assert!(k.contains(&"forwarded") && k.contains(&"recording_ready"));
}

#[test]
fn a_caller_hanging_up_while_recording_still_leaves_the_message() {
    let mut h = H::new();
    let forwards = Forwards {
        ring: "4007".into(),
        busy: Some((
            "4009".into(),
            vec![Target::new("4009", "sip:4009@127.0.0.1:5079")],
        )),
        voicemail: Some(vm()),
        ..Forwards::default()
    };
    let a = h.inbound_routed(
        "c",
        vec![Target::new("4007", "sip:4007@127.0.0.1:5072")],
        404,
        forwards,
    );
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Failed { status: 486 });
    let b2 = H::invites(&h.take())[0].0;
    h.leg(b2, LegEvent::Failed { status: 486 });
    let rec = through_the_greeting(&mut h, a);
    h.leg(a, LegEvent::Ended);
    assert!(h.cdrs.is_empty(), "closing: the recording first");
    recorded(&mut h, rec, MediaReason::Hangup);
    assert_eq!(h.voicemails.len(), 1);
    let (_, by, _) = h.ended();
    assert_eq!(by, EndedBy::A);
}
