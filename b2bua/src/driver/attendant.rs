//! Auto-attendants in the driver: a caller's choice ([`Output::Route`](patchbay_proto::Output))
//! (or a queue's overflow) is resolved off the loop (the store and caches: attendants, rooms,
//! queues, users' and groups' routing, the dial plan), then made concrete on the loop (contacts) and handed back to the
//! core as [`Input::Routed`].

use super::{Driver, TaskDone, now_ms};
use crate::shared::Shared;
use patchbay_api::{AutoAttendant, CallId, ConferenceRoom};
use patchbay_proto::routing::Plan;
use patchbay_proto::{Input, RouteOutcome, Target};
use std::sync::Arc;

/// What a destination is, as read from the store.
#[derive(Debug)]
pub(crate) enum Resolved {
    /// A user's or a group's plan (the number as the target's name).
    Plan(String, Box<Plan>),
    /// A user's mailbox (its plan, for the mailbox's greeting).
    Mailbox(Box<Plan>),
    Attendant(Box<AutoAttendant>),
    Room(Box<ConferenceRoom>),
    Queue(Box<patchbay_proto::QueueEntry>),
    /// Out through a trunk.
    Outside(Target),
    Nothing,
}

/// The tenant's attendants (`attendant` objects), and its special mode.
pub(crate) async fn attendants(
    sh: &Shared,
    tenant: &str,
) -> Result<(Vec<AutoAttendant>, patchbay_api::SpecialMode), patchbay_store::StoreError> {
    let all = sh
        .store
        .configs(tenant, "attendant")
        .await?
        .into_iter()
        .filter_map(|(_, body)| serde_json::from_str(&body).ok())
        .collect();
    let mode = sh
        .store
        .configs(tenant, "attendant-special")
        .await?
        .into_iter()
        .find_map(|(_, body)| serde_json::from_str(&body).ok())
        .unwrap_or_default();
    Ok((all, mode))
}

/// The attendant a call to `number` hears: the special mode's while it is on.
pub(crate) async fn attendant_for(
    sh: &Shared,
    tenant: &str,
    number: &str,
) -> Result<Option<AutoAttendant>, patchbay_store::StoreError> {
    let (all, mode) = attendants(sh, tenant).await?;
    let Some(called) = all.iter().find(|a| a.number == number) else {
        return Ok(None);
    };
    let special = mode
        .enabled
        .then_some(mode.attendant.as_ref())
        .flatten()
        .and_then(|id| all.iter().find(|a| a.id == *id));
    Ok(Some(special.unwrap_or(called).clone()))
}

async fn resolve(
    sh: &Shared,
    tenant: &str,
    destination: &str,
) -> Result<Resolved, patchbay_store::StoreError> {
    if let Some(ext) = destination.strip_prefix("voicemail:") {
        return Ok(match crate::routing::plan_for(sh, tenant, ext).await? {
            Some(p) if p.voicemail => Resolved::Mailbox(Box::new(p)),
            _ => Resolved::Nothing,
        });
    }
    if let Some(a) = attendant_for(sh, tenant, destination).await? {
        return Ok(Resolved::Attendant(Box::new(a)));
    }
    if let Some(r) = sh
        .conference_rooms(tenant)
        .await?
        .iter()
        .find(|r| r.extension == destination)
    {
        return Ok(Resolved::Room(Box::new(r.clone())));
    }
    if let Some(e) = super::queues::entry_for(sh, tenant, destination).await? {
        return Ok(Resolved::Queue(Box::new(e)));
    }
    if let Some(p) = crate::routing::plan_for(sh, tenant, destination).await? {
        return Ok(Resolved::Plan(destination.to_string(), Box::new(p)));
    }
    Ok(
        match crate::trunks::route_outside(sh, tenant, destination).await? {
            crate::trunks::Outside::Trunk { trunk, uri } => {
                Resolved::Outside(Target::via_trunk(destination, uri, &trunk))
            }
            _ => Resolved::Nothing,
        },
    )
}

impl Driver {
    /// An attendant caller chose `destination`: resolve it in a task.
    pub(super) fn route_destination(&mut self, call: CallId, destination: String) {
        let Some(tenant) = self.calls.info(&call).map(|i| i.tenant) else {
            return;
        };
        let (sh, done): (Arc<Shared>, _) = (self.sh.clone(), self.tasks.clone());
        tokio::spawn(async move {
            let resolved = resolve(&sh, &tenant, &destination)
                .await
                .unwrap_or(Resolved::Nothing);
            let _ = done.send(TaskDone::Routed { call, resolved });
        });
    }

    /// The destination read: make it concrete and tell the core.
    pub(super) fn route_resolved(&mut self, call: CallId, resolved: Resolved) {
        let Some(tenant) = self.calls.info(&call).map(|i| i.tenant) else {
            return;
        };
        let outcome = match resolved {
            Resolved::Plan(name, p) => {
                let r = self.routed(&tenant, &p);
                match (r.targets.is_empty(), r.forwards.voicemail) {
                    (false, _) => RouteOutcome::Connect {
                        target: name,
                        targets: r.targets,
                    },
                    // Nobody's phone to ring: the user's mailbox, if it has one.
                    (true, Some(vm)) => RouteOutcome::Voicemail(vm),
                    (true, None) => RouteOutcome::Unavailable,
                }
            }
            Resolved::Mailbox(p) => match self.routed(&tenant, &p).forwards.voicemail {
                Some(vm) => RouteOutcome::Voicemail(vm),
                None => RouteOutcome::Unavailable,
            },
            Resolved::Attendant(a) => RouteOutcome::Attendant(*a),
            Resolved::Room(r) => RouteOutcome::Room(*r),
            Resolved::Queue(e) => RouteOutcome::Queue(e),
            Resolved::Outside(t) => RouteOutcome::Connect {
                target: t.party.clone(),
                targets: vec![t],
            },
            Resolved::Nothing => RouteOutcome::Unavailable,
        };
        let label = match &outcome {
            RouteOutcome::Connect { .. } => "connect",
            RouteOutcome::Voicemail(_) => "voicemail",
            RouteOutcome::Room(_) => "room",
            RouteOutcome::Attendant(_) => "attendant",
            RouteOutcome::Queue(_) => "queue",
            RouteOutcome::Unavailable => "unavailable",
        };
        self.sh
            .metrics
            .attendant_routes
            .with_label_values(&[label])
            .inc();
        let _ = self
            .calls
            .handle_input(now_ms(), Input::Routed { call, outcome });
        self.step();
    }
}
