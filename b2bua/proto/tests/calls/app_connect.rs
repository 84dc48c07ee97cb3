//! An application call connects its caller to a party (an IVR's "transfer to sales"): the
//! party is called while the engine keeps serving the caller (its hold music goes on); on
//! answer the engine lets go (its primitives reported stopped, `Detach`) and the relay
//! bridges them; the call is an ordinary bridged call from then on. A failed attempt leaves
//! the caller with the application.
use crate::harness::H;
use patchbay_proto::api::{EventKind, MediaOp, PlayRequest, Side, TransferMethod};
use patchbay_proto::{Input, LegAction, LegEvent, Target};

fn transfer(
    h: &mut H,
    method: TransferMethod,
    keep: Side,
) -> Result<(), patchbay_proto::CallError> {
    h.try_input(Input::Transfer {
        call: "app".into(),
        target: "4007".into(),
        targets: vec![Target::new("4007", "sip:4007@127.0.0.1:5072")],
        keep,
        method,
    })
}

fn hold_music(h: &mut H) -> u64 {
    let command = h.calls.alloc_command();
    h.input(Input::Media {
        call: "app".into(),
        command,
        op: MediaOp::Play(PlayRequest {
            side: Side::A,
            file: Some("hold.wav".into()),
            url: None,
            text: None,
            recording: None,
            voice: None,
            repeat: true,
            barge_in: false,
        }),
    });
    command
}

#[test]
fn the_caller_leaves_the_engine_for_the_party_who_answers() {
    let mut h = H::new();
    let a = h.inbound_app("app");
    let music = hold_music(&mut h);
    h.take();
    // Refused: a REFER, or keeping the (absent) side B.
    assert!(transfer(&mut h, TransferMethod::Refer, Side::A).is_err());
    assert!(transfer(&mut h, TransferMethod::Bridge, Side::B).is_err());
    transfer(&mut h, TransferMethod::Bridge, Side::A).unwrap();
    let acts = h.take();
    let b = H::invites(&acts)[0].0;
    assert!(
        !acts
            .iter()
            .any(|x| matches!(x, LegAction::MediaStop { .. })),
        "music goes on"
    );
    // First try: 4007 does not answer; the caller stays with the application.
    h.leg(b, LegEvent::Failed { status: 480 });
    assert!(h.take().is_empty());
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::TransferFailed { .. }))
    );
    transfer(&mut h, TransferMethod::Bridge, Side::A).unwrap();
    let b = H::invites(&h.take())[0].0;
    h.leg(b, LegEvent::Answered);
    let acts = h.take();
    let at = |want: &LegAction| acts.iter().position(|x| x == want).expect("{want:?}");
    let stop = at(&LegAction::MediaStop {
        leg: a,
        command: music,
    });
    let detach = at(&LegAction::Detach { leg: a });
    let bridge = at(&LegAction::Bridge { a, b });
    assert!(stop < detach && detach < bridge, "{acts:?}");
    assert!(h.events.iter().any(|e| matches!(&e.kind,
        EventKind::PlayFinished { command, .. } if *command == music)));
    assert!(
        h.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Transferred { .. }))
    );
    // An ordinary call now: 4007 hangs up, the caller gets BYE.
    h.leg(b, LegEvent::Ended);
    assert!(h.take().contains(&LegAction::Bye { leg: a }));
    assert_eq!(h.cdrs.len(), 1);
    assert_eq!(h.cdrs[0].transferred_to.as_deref(), Some("4007"));
}
