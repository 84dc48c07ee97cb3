//! A user's routing plan made concrete for one call: the phones rung first (the first step
//! of its call sequence), its busy / no-answer forwards and later steps with their contacts,
//! its mailbox, its ring time. Shared by inbound calls and the callees of API calls.

use super::Driver;
use patchbay_proto::routing::Plan;
use patchbay_proto::{Forwards, Target, Voicemail};

/// What the plan means now.
pub(super) struct Routed {
    pub(super) targets: Vec<Target>,
    pub(super) forwards: Forwards,
    pub(super) ring_timeout_secs: u32,
    /// The status when no phone rings at once: 486 on do-not-disturb, else 480.
    pub(super) no_target_status: u16,
}

impl Driver {
    pub(super) fn routed(&self, tenant: &str, p: &Plan) -> Routed {
        // Outside numbers ring through their trunk; users at their phones.
        let contacts = |u: &String| match p.outside.iter().find(|t| t.party == *u) {
            Some(t) => vec![t.clone()],
            None => self.targets(tenant, u),
        };
        let targets = if p.dnd {
            Vec::new()
        } else {
            // The first step of a call sequence: the user's phones and those rung with them.
            p.steps
                .first()
                .map_or_else(|| vec![p.ring.clone()], |(users, _)| users.clone())
                .iter()
                .flat_map(contacts)
                .collect()
        };
        let forwards = Forwards {
            hunt: p.hunt,
            ring: p.ring.clone(),
            diverted_from: p.diverted_from.clone(),
            busy: p.busy.clone().map(|u| {
                let t = contacts(&u);
                (u, t)
            }),
            no_answer: p.no_answer.clone().map(|u| {
                let t = contacts(&u);
                (u, t)
            }),
            sequence: p
                .steps
                .iter()
                .skip(1)
                .map(|(users, secs)| {
                    let t = users.iter().flat_map(contacts).collect();
                    (t, u64::from((*secs).clamp(5, 600)) * 1000)
                })
                .collect(),
            voicemail: p.voicemail.then(|| Voicemail {
                mailbox: p.ring.clone(),
                greeting: (p.greeting != "none")
                    .then(|| format!("voicemail/{}/{}.wav", p.ring, greeting_name(&p.greeting))),
                greeting_text: patchbay_proto::routing::greeting_text(&p.greeting, &p.ring),
                max_ms: u64::from(self.sh.cfg.voicemail_max_secs) * 1000,
            }),
        };
        Routed {
            targets,
            forwards,
            ring_timeout_secs: p
                .steps
                .first()
                .map_or(p.ring_secs, |(_, s)| *s)
                .clamp(5, 600),
            no_target_status: if p.dnd { 486 } else { 480 },
        }
    }
}

/// The file name of a greeting: `standard` also for an unset one.
fn greeting_name(g: &str) -> &str {
    if g.is_empty() { "standard" } else { g }
}
