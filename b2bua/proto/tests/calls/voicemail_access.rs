//! Listening to voicemail by phone in the core: the caller of the voicemail number is answered
//! and asked for its PIN; a wrong PIN is asked again, the right one (checked by the driver)
//! announces the new messages and plays each, with 7 to delete and 9 to save; then offers to
//! record a greeting (declined here: goodbye and the call ends; taken in the second test: the
//! recording becomes the chosen greeting).
use crate::harness::{H, collection, done, media};
use patchbay_proto::api::{MediaOp, MediaReason};
use patchbay_proto::{Input, LegAction, MailboxAction, RecordingDone};

#[test]
fn a_user_logs_in_hears_its_messages_and_saves_and_deletes_them() {
    let mut h = H::new();
    let a = h.voicemail_access("vm");
    let acts = h.take();
    assert!(acts.contains(&LegAction::AnswerApp { leg: a }));
    done(&mut h, a, collection(&acts), Some("1111"));
    assert!(
        matches!(&h.mailbox[..], [MailboxAction::Login { mailbox, pin, .. }] if mailbox == "4005" && pin == "1111")
    );
    h.input(Input::VoicemailLogin {
        call: "vm".into(),
        ok: false,
        messages: vec![],
    });
    let acts = h.take();
    done(&mut h, a, collection(&acts), Some("4242"));
    h.input(Input::VoicemailLogin {
        call: "vm".into(),
        ok: true,
        messages: vec![("m1".into(), "r1".into()), ("m2".into(), "r2".into())],
    });
    let announce = media(&h.take());
    assert!(
        matches!(&announce[0].1, MediaOp::Play(p) if p.text.as_deref() == Some("You have 2 new messages."))
    );
    done(&mut h, a, announce[0].0, None);
    for (rec, key, folder) in [("r1", "7", "deleted"), ("r2", "9", "saved")] {
        let played = media(&h.take());
        assert!(matches!(&played[0].1, MediaOp::Play(p) if p.recording.as_deref() == Some(rec)));
        done(&mut h, a, played[0].0, None);
        let menu = h.take();
        done(&mut h, a, collection(&menu), Some(key));
        assert!(
            matches!(h.mailbox.last(), Some(MailboxAction::Move { folder: f, .. }) if *f == folder)
        );
    }
    // No key for the options: goodbye.
    let options = h.take();
    done(&mut h, a, collection(&options), None);
    let bye = media(&h.take());
    assert!(
        matches!(&bye[0].1, MediaOp::Play(p) if p.text.as_deref().is_some_and(|t| t.contains("Goodbye")))
    );
    done(&mut h, a, bye[0].0, None);
    assert!(h.take().contains(&LegAction::Bye { leg: a }));
    h.ended();
}

#[test]
fn a_user_records_its_out_of_office_greeting_by_phone() {
    let mut h = H::new();
    let a = h.voicemail_access("vm");
    let acts = h.take();
    done(&mut h, a, collection(&acts), Some("4242"));
    h.input(Input::VoicemailLogin {
        call: "vm".into(),
        ok: true,
        messages: vec![],
    });
    let announce = media(&h.take());
    done(&mut h, a, announce[0].0, None);
    let options = h.take();
    assert!(media(&options).iter().any(|(_, op)| matches!(op,
        MediaOp::Play(p) if p.text.as_deref().is_some_and(|t| t.contains("press 3")))));
    done(&mut h, a, collection(&options), Some("3"));
    let choose = h.take();
    done(&mut h, a, collection(&choose), Some("2"));
    let prompt = media(&h.take());
    done(&mut h, a, prompt[0].0, None);
    let beep = media(&h.take());
    assert!(matches!(beep[0].1, MediaOp::Tone(_)));
    done(&mut h, a, beep[0].0, None);
    let command = match &h.take()[..] {
        [LegAction::Record { command, legs, .. }] => {
            assert_eq!(legs, &vec![a]);
            *command
        }
        other => panic!("{other:?}"),
    };
    h.input(Input::RecordingDone {
        call: "vm".into(),
        command,
        done: RecordingDone {
            reason: MediaReason::Terminator,
            duration_ms: 2_000,
            bytes: 32_044,
            key: Some('#'),
            error: None,
        },
    });
    assert!(
        matches!(h.mailbox.last(), Some(MailboxAction::Greeting { mailbox, greeting, .. })
            if mailbox == "4005" && *greeting == "outofoffice"),
        "{:?}",
        h.mailbox
    );
    let saved = media(&h.take());
    assert!(matches!(&saved[0].1,
        MediaOp::Play(p) if p.text.as_deref().is_some_and(|t| t.contains("greeting is saved"))));
    done(&mut h, a, saved[0].0, None);
    assert!(h.take().contains(&LegAction::Bye { leg: a }));
}
