//! A 3PCC request's extra headers go on every INVITE of the call; intercom (`auto_answer`) only
//! on the caller's.
use crate::harness::H;
use patchbay_proto::api::{CallId, OriginateMode, OriginateRequest, Side};
use patchbay_proto::{Input, LegAction, LegEvent, Target};

type Headers = Vec<(String, String)>;

/// (side, headers, auto_answer) of each INVITE.
fn invites(acts: &[LegAction]) -> Vec<(Side, Headers, bool)> {
    acts.iter()
        .filter_map(|a| match a {
            LegAction::Invite {
                side,
                headers,
                auto_answer,
                ..
            } => Some((*side, headers.clone(), *auto_answer)),
            _ => None,
        })
        .collect()
}

#[test]
fn headers_on_every_leg_auto_answer_on_the_caller_only() {
    let mut h = H::new();
    let crm = vec![("X-Crm-Id".to_string(), "42".to_string())];
    let req = OriginateRequest {
        tenant: "demo".into(),
        from: "4005".into(),
        to: vec!["4007".into(), "4009".into()],
        mode: OriginateMode::CallerFirst,
        headers: crm.clone(),
        auto_answer: true,
        ..OriginateRequest::default()
    };
    h.input(Input::Originate {
        call: CallId("c".into()),
        req,
        a: vec![
            Target::new("4005", "sip:4005@127.0.0.1:5071"),
            Target::new("4005", "sip:4005@127.0.0.1:5073"),
        ],
        b: vec![
            Target::new("4007", "sip:4007@127.0.0.1:5072"),
            Target::new("4009", "sip:4009@127.0.0.1:5074"),
        ],
        ring_timeout_ms: 20_000,
        forwards: patchbay_proto::Forwards::default(),
        no_target_status: 480,
    });
    let acts = h.take();
    assert_eq!(
        invites(&acts),
        vec![(Side::A, crm.clone(), true), (Side::A, crm.clone(), true)],
        "both of the caller's phones are paged"
    );
    let a = H::invites(&acts)[0].0;
    h.leg(a, LegEvent::Answered);
    let acts = h.take();
    assert_eq!(
        invites(&acts),
        vec![(Side::B, crm.clone(), false), (Side::B, crm, false)],
        "callees ring normally, with the request's headers"
    );
}

#[test]
fn plain_calls_carry_nothing_extra() {
    let mut h = H::new();
    h.originate("c", "4005", &["4007"], OriginateMode::Simultaneous);
    assert_eq!(
        invites(&h.take()),
        vec![(Side::A, vec![], false), (Side::B, vec![], false)]
    );
}
