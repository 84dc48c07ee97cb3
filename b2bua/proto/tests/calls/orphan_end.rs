//! A bridged call's node dies: the journal's CDR draft, the events the store holds and the
//! node's last sign of life give the call's one CDR (cause `system`, billed to the crash)
//! and its `ended` event, numbered after the last stored one; a call whose `ended` was
//! stored before the crash keeps that end.
use crate::harness::H;
use patchbay_proto::api::{Cause, EndedBy, EventKind, Side};
use patchbay_proto::orphan::end_of_orphan;
use patchbay_proto::{LegEvent, LegId};

fn bridged() -> (H, LegId) {
    let mut h = H::new();
    h.inbound("c1", &["127.0.0.1:5072"]);
    let b = H::invites(&h.take())[0].0;
    h.advance(2_000);
    h.leg(b, LegEvent::Ringing);
    h.advance(1_000);
    h.leg(b, LegEvent::Answered);
    h.take();
    (h, b)
}

#[test]
fn a_dead_nodes_call_ends_when_the_node_was_last_alive() {
    let (h, _) = bridged();
    let created = h.now - 3_000;
    // Journalled at answer; the node was last seen 10 s later.
    let draft = h.calls.cdr_draft(&"c1".into(), h.now).expect("live call");
    assert_eq!(draft.cause, Cause::System);
    let (cdr, ended) = end_of_orphan(draft, &h.events, h.now + 10_000);
    assert_eq!(cdr.to, "4007");
    assert_eq!(cdr.direction, "inbound");
    assert_eq!(cdr.answered_ms, Some(created + 3_000));
    assert_eq!(cdr.ringing_ms, Some(created + 2_000));
    assert_eq!((cdr.duration_s, cdr.billsec), (13, 10));
    assert_eq!((cdr.cause, cdr.ended_by), (Cause::System, EndedBy::System));
    let ended = ended.expect("the log has no end yet");
    assert_eq!(ended.seq, h.events.len() as u64 + 1);
    assert_eq!(ended.at_ms, cdr.ended_ms);
    assert!(matches!(
        ended.kind,
        EventKind::Ended {
            cause: Cause::System,
            by: EndedBy::System,
            status: None
        }
    ));
    // The core still holds it: the draft did not end it.
    assert_eq!(h.calls.list().len(), 1);
    let _ = h
        .calls
        .answered_leg(&"c1".into(), Side::B)
        .expect("still bridged");
}

#[test]
fn an_end_already_in_the_log_is_kept() {
    let (mut h, b) = bridged();
    let draft = h.calls.cdr_draft(&"c1".into(), h.now).expect("live call");
    h.advance(4_000);
    // The phone hung up; the node stored `ended` and died before its CDR.
    h.leg(b, LegEvent::Ended);
    let (cdr, ended) = end_of_orphan(draft, &h.events, h.now + 30_000);
    assert!(ended.is_none());
    assert_eq!((cdr.cause, cdr.ended_by), (Cause::Normal, EndedBy::B));
    assert_eq!((cdr.ended_ms, cdr.billsec), (h.now, 4));
    assert_eq!(cdr, h.cdrs[0], "the CDR the node would have written");
}
