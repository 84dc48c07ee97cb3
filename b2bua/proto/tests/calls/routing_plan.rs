//! The routing plan of a call to a user: unconditional forwards followed (loops cut, at most
//! MAX_HOPS), and the busy / no-answer targets of the user finally rung.
use patchbay_proto::routing::{Divert, MAX_HOPS, UserRoute, plan};
use std::collections::HashMap;

fn users(list: &[(&str, Option<&str>)]) -> HashMap<String, UserRoute> {
    list.iter()
        .map(|(u, always)| {
            (
                u.to_string(),
                UserRoute {
                    always: always.map(str::to_string),
                    ring_secs: 20,
                    ..UserRoute::default()
                },
            )
        })
        .collect()
}

#[test]
fn unconditional_forwards_are_followed_and_loops_are_cut() {
    let u = users(&[
        ("4005", Some("4007")),
        ("4007", Some("4009")),
        ("4009", None),
    ]);
    let p = plan("4005", |n| u.get(n).cloned());
    assert_eq!((p.ring.as_str(), p.hops, p.loop_cut), ("4009", 2, false));
    assert_eq!(p.diverted_from.as_deref(), Some("4005"));
    // A -> B -> A: B rings (its forward back is cut).
    let u = users(&[("4005", Some("4007")), ("4007", Some("4005"))]);
    let p = plan("4005", |n| u.get(n).cloned());
    assert_eq!((p.ring.as_str(), p.loop_cut), ("4007", true));
    // To itself, or to a number that is no user: it rings as it is.
    let u = users(&[("4005", Some("4005")), ("4007", Some("0812345678"))]);
    assert_eq!(plan("4005", |n| u.get(n).cloned()).ring, "4005");
    let p = plan("4007", |n| u.get(n).cloned());
    assert_eq!((p.ring.as_str(), p.diverted_from), ("4007", None));
    // A long chain stops after MAX_HOPS.
    let names: Vec<String> = (0..10).map(|i| format!("50{i}")).collect();
    let chain: Vec<(&str, Option<&str>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), names.get(i + 1).map(String::as_str)))
        .collect();
    let u = users(&chain);
    let p = plan("500", |n| u.get(n).cloned());
    assert_eq!((p.hops, p.loop_cut), (MAX_HOPS, true));
}

#[test]
fn busy_and_no_answer_targets_are_the_rung_users() {
    let mut u = users(&[("4005", Some("4007")), ("4007", None), ("4009", None)]);
    u.get_mut("4007").unwrap().busy = Some("4009".into());
    u.get_mut("4007").unwrap().no_answer = Some("4007".into()); // itself: ignored
    u.get_mut("4007").unwrap().dnd = true;
    u.get_mut("4005").unwrap().busy = Some("4009".into()); // not the rung user's
    let p = plan("4005", |n| u.get(n).cloned());
    assert_eq!(p.busy.as_deref(), Some("4009"));
    assert_eq!(p.no_answer, None);
    assert!(p.dnd);
    assert_eq!(Divert::Busy.reason(), "user-busy");
}

#[test]
fn a_call_sequence_becomes_steps_of_users_ringing_together() {
    use patchbay_proto::routing::{SequenceRing, steps};
    let ring = |n: &str, secs, parallel, enabled| SequenceRing {
        number: n.into(),
        ring_secs: secs,
        parallel,
        enabled,
    };
    let seq = [
        ring("4009", 25, true, true),
        ring("4011", 10, false, true),
        ring("4013", 10, true, false),
        ring("4015", 5, true, true),
    ];
    assert_eq!(
        steps("4007", 20, &seq),
        [
            (vec!["4007".to_string(), "4009".to_string()], 25),
            (vec!["4011".to_string(), "4015".to_string()], 10),
        ]
    );
    let mut u = users(&[("4007", None), ("4009", None)]);
    u.get_mut("4007").unwrap().sequence =
        vec![ring("4009", 15, false, true), ring("555", 5, false, true)];
    let p = plan("4007", |n| u.get(n).cloned());
    assert_eq!(
        p.steps,
        [
            (vec!["4007".to_string()], 20),
            (vec!["4009".to_string()], 15)
        ],
        "numbers that are no user are left out"
    );
}

#[test]
fn outside_numbers_the_dial_plan_routes_are_forward_targets() {
    use patchbay_proto::routing::plan_with;
    let routed = |n: &str| n.starts_with("+66");
    // Unconditional to a mobile: it rings alone, diverted from the user, no mailbox.
    let mut u = users(&[("4005", Some("4007")), ("4007", Some("+66812345678"))]);
    u.get_mut("4007").unwrap().voicemail = true;
    let p = plan_with("4005", |n| u.get(n).cloned(), routed);
    assert_eq!(
        (p.ring.as_str(), p.ring_outside, p.hops, p.voicemail),
        ("+66812345678", true, 2, false)
    );
    assert_eq!(p.diverted_from.as_deref(), Some("4005"));
    assert_eq!(p.steps, [(vec!["+66812345678".to_string()], 20)]);
    // A number the dial plan does not route is no target.
    let u = users(&[("4007", Some("+15551234567"))]);
    let p = plan_with("4007", |n| u.get(n).cloned(), routed);
    assert_eq!((p.ring.as_str(), p.ring_outside), ("4007", false));
    // Busy / no answer / call sequence: numbers too.
    let mut u = users(&[("4007", None)]);
    let r = u.get_mut("4007").unwrap();
    r.busy = Some("+66811111111".into());
    r.no_answer = Some("+15550000000".into());
    r.sequence = vec![patchbay_proto::routing::SequenceRing {
        number: "+66822222222".into(),
        ring_secs: 15,
        parallel: false,
        enabled: true,
    }];
    let p = plan_with("4007", |n| u.get(n).cloned(), routed);
    assert_eq!(p.busy.as_deref(), Some("+66811111111"));
    assert_eq!(p.no_answer, None);
    assert_eq!(
        p.steps,
        [
            (vec!["4007".to_string()], 20),
            (vec!["+66822222222".to_string()], 15)
        ]
    );
}

#[test]
fn ring_groups_become_steps_then_their_fallback() {
    use patchbay_proto::api::{GroupMember, GroupStrategy, RingGroup};
    use patchbay_proto::routing::group_plan;
    let member = |ext: &str, ring_secs| GroupMember {
        ext: ext.into(),
        ring_secs,
    };
    let mut g = RingGroup {
        number: "600".into(),
        name: "Sales".into(),
        strategy: GroupStrategy::Hunt,
        members: vec![member("4007", 10), member("4009", 15)],
        fallback: Some("4011".into()),
        cti_url: None,
    };
    let p = group_plan(&g);
    assert_eq!(
        p.steps,
        [
            (vec!["4007".to_string()], 10),
            (vec!["4009".to_string()], 15)
        ]
    );
    assert_eq!((p.ring.as_str(), p.hunt, p.voicemail), ("600", true, false));
    assert_eq!((p.no_answer.as_deref(), p.ring_secs), (Some("4011"), 10));
    g.strategy = GroupStrategy::Simultaneous;
    let p = group_plan(&g);
    assert_eq!(
        p.steps,
        [(vec!["4007".to_string(), "4009".to_string()], 15)],
        "all at once, for the longest ring time"
    );
}
