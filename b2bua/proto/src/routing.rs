//! Per-user call routing, decided before a call to a user enters the core: unconditional
//! forwarding followed from user to user (at most [`MAX_HOPS`]; a chain that comes back to a
//! user already passed stops at the last user before it, who then rings: a forwarding loop
//! never rings forever), and what the user finally rung wants on busy and on no answer.
//! Pure: the caller looks the users' settings up first.

/// Most unconditional forwards followed for one call.
pub const MAX_HOPS: usize = 5;

/// Why a call went elsewhere (RFC 5806 Diversion reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divert {
    Unconditional,
    Busy,
    NoAnswer,
    /// The next rings of a call sequence (follow-me).
    FollowMe,
}

impl Divert {
    /// The Diversion header's `reason` (and the `forwarded` event's).
    pub fn reason(self) -> &'static str {
        match self {
            Divert::Unconditional => "unconditional",
            Divert::Busy => "user-busy",
            Divert::NoAnswer => "no-answer",
            Divert::FollowMe => "follow-me",
        }
    }
}

/// A user's forwarding as the router reads it (forward targets are extensions, or outside
/// numbers when the tenant's dial plan routes them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserRoute {
    pub always: Option<String>,
    pub busy: Option<String>,
    pub no_answer: Option<String>,
    pub ring_secs: u32,
    pub dnd: bool,
    /// The user takes messages when no one answers.
    pub voicemail: bool,
    /// The user's call sequence (follow-me), when switched on.
    pub sequence: Vec<SequenceRing>,
    /// The voicemail greeting callers hear (sipX's: `standard`, `outofoffice`,
    /// `extendedabsence`, `none`; empty is `standard`).
    pub greeting: String,
}

pub use patchbay_api::SequenceRing;

/// A call sequence as steps: users that ring together, for how long. The first step is the
/// user's own phones (with the rings at the same time as them).
pub fn steps(own: &str, ring_secs: u32, sequence: &[SequenceRing]) -> Vec<(Vec<String>, u32)> {
    let mut steps: Vec<(Vec<String>, u32)> = vec![(vec![own.to_string()], ring_secs)];
    for r in sequence.iter().filter(|r| r.enabled) {
        match steps.last_mut() {
            Some((users, secs)) if r.parallel => {
                if !users.contains(&r.number) {
                    users.push(r.number.clone());
                }
                *secs = (*secs).max(r.ring_secs);
            }
            _ => steps.push((vec![r.number.clone()], r.ring_secs)),
        }
    }
    steps
}

/// Where a call to a user goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The user whose phones ring.
    pub ring: String,
    /// The user dialled, when unconditional forwarding moved the call (`ring` differs).
    pub diverted_from: Option<String>,
    /// Unconditional forwards followed.
    pub hops: usize,
    /// The chain came back to a user already passed (or ran past [`MAX_HOPS`]) and was cut.
    pub loop_cut: bool,
    /// `ring` is on do-not-disturb: busy handling applies at once.
    pub dnd: bool,
    /// Where the call goes if `ring` is busy / does not answer (users other than `ring`, or
    /// outside numbers).
    pub busy: Option<String>,
    pub no_answer: Option<String>,
    /// How long `ring`'s phones ring.
    pub ring_secs: u32,
    /// `ring` takes messages when the call finds no one, with this greeting.
    pub voicemail: bool,
    pub greeting: String,
    /// `ring`'s call sequence as steps (see [`steps`]); only the user's own phones when it has
    /// none. Users, and outside numbers the tenant's dial plan routes.
    pub steps: Vec<(Vec<String>, u32)>,
    /// `ring` is an outside number (unconditional forwarding to it): it rings alone, with no
    /// forwards or mailbox of its own.
    pub ring_outside: bool,
    /// How the outside numbers of the plan are dialled (filled by the caller of [`plan_with`],
    /// which knows the dial plan).
    pub outside: Vec<crate::Target>,
    /// A ring group: a busy step passes to the next like an unanswered one.
    pub hunt: bool,
}

/// The plan for a call to `callee` (a user); `route_of` answers for users (`None`: not a
/// user, so not a place a forward can lead).
pub fn plan(callee: &str, route_of: impl Fn(&str) -> Option<UserRoute>) -> Plan {
    plan_with(callee, route_of, |_| false)
}

/// [`plan`], where forwards may also lead to outside numbers (`outside`: the tenant's dial
/// plan routes it). Unconditional forwarding to one ends the chain there.
pub fn plan_with(
    callee: &str,
    route_of: impl Fn(&str) -> Option<UserRoute>,
    outside: impl Fn(&str) -> bool,
) -> Plan {
    let mut ring = callee.to_string();
    let mut route = route_of(callee).unwrap_or_default();
    let mut passed = vec![ring.clone()];
    let mut loop_cut = false;
    while let Some(next) = route.always.clone().filter(|n| *n != ring) {
        let Some(next_route) = route_of(&next) else {
            if outside(&next) {
                return Plan {
                    diverted_from: Some(callee.to_string()),
                    hops: passed.len(),
                    loop_cut,
                    dnd: false,
                    busy: None,
                    no_answer: None,
                    ring_secs: route.ring_secs,
                    voicemail: false,
                    greeting: String::new(),
                    steps: steps(&next, route.ring_secs, &[]),
                    ring: next,
                    ring_outside: true,
                    outside: Vec::new(),
                    hunt: false,
                };
            }
            break; // neither a user nor a number the dial plan routes: nowhere to go
        };
        if passed.contains(&next) || passed.len() > MAX_HOPS {
            loop_cut = true;
            break;
        }
        passed.push(next.clone());
        ring = next;
        route = next_route;
    }
    let reachable = |n: &str| route_of(n).is_some() || outside(n);
    let other_user = |t: &Option<String>| t.clone().filter(|n| *n != ring && reachable(n));
    Plan {
        diverted_from: (ring != callee).then(|| callee.to_string()),
        hops: passed.len() - 1,
        loop_cut,
        dnd: route.dnd,
        busy: other_user(&route.busy),
        no_answer: other_user(&route.no_answer),
        ring_secs: route.ring_secs,
        voicemail: route.voicemail,
        greeting: route.greeting.clone(),
        steps: {
            let users: Vec<SequenceRing> = route
                .sequence
                .iter()
                .filter(|r| reachable(&r.number))
                .cloned()
                .collect();
            steps(&ring, route.ring_secs, &users)
        },
        ring,
        ring_outside: false,
        outside: Vec::new(),
        hunt: false,
    }
}

/// The plan of a call to ring group `g`: its members as call-sequence steps (all at once for
/// as long as the longest, or one after another for each's time), then its fallback; a
/// busy member is passed over ([`Plan::hunt`]). No mailbox of its own.
pub fn group_plan(g: &patchbay_api::RingGroup) -> Plan {
    let steps: Vec<(Vec<String>, u32)> = match g.strategy {
        patchbay_api::GroupStrategy::Simultaneous => vec![(
            g.members.iter().map(|m| m.ext.clone()).collect(),
            g.members.iter().map(|m| m.ring_secs).max().unwrap_or(20),
        )],
        patchbay_api::GroupStrategy::Hunt => g
            .members
            .iter()
            .map(|m| (vec![m.ext.clone()], m.ring_secs))
            .collect(),
    };
    Plan {
        ring: g.number.clone(),
        diverted_from: None,
        hops: 0,
        loop_cut: false,
        dnd: false,
        busy: None,
        no_answer: g.fallback.clone(),
        ring_secs: steps.first().map_or(20, |(_, s)| *s),
        voicemail: false,
        greeting: String::new(),
        steps,
        ring_outside: false,
        outside: Vec::new(),
        hunt: true,
    }
}

/// The greeting spoken when the user recorded none (`None` for `none`: the beep alone).
pub fn greeting_text(greeting: &str, mailbox: &str) -> Option<String> {
    let spelled: Vec<String> = mailbox.chars().map(String::from).collect();
    let who = format!("The person at extension {}", spelled.join(" "));
    let why = match greeting {
        "none" => return None,
        "outofoffice" => "is out of the office",
        "extendedabsence" => "is away for an extended period",
        _ => "is not available",
    };
    Some(format!(
        "{who} {why}. Please leave a message after the tone."
    ))
}
