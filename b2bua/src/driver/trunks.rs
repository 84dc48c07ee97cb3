//! Trunks in the driver: registrations kept up from the trunk table, channels counted per
//! trunk (its `max_channels`), the INVITE of a leg out through a trunk, and a carrier's
//! INVITE to one of the tenant's inbound numbers (DIDs).

use super::Driver;
use super::invite_auth::Pending;
use crate::shared::{Authorized, Shared, TaskDone};
use crate::trunks::{TrunkEntry, TrunkTable};
use crate::ua::RegistrationSpec;
use patchbay_api::{CallerId, Trunk};
use patchbay_proto::{LegId, Target};
use patchbay_sip::Peer;
use patchbay_sip::core::types::headers::TypedHeader;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

type Key = (String, String);

/// The driver's trunk state.
#[derive(Debug, Default)]
pub(super) struct TrunkState {
    /// Registrations kept up for trunks: the user agent's index, the trunk as registered.
    regs: HashMap<Key, (usize, Trunk)>,
    /// Legs on trunks, and how many each trunk carries.
    legs: HashMap<LegId, Key>,
    busy: HashMap<Key, u32>,
}

/// How an INVITE out through a trunk is sent.
pub(super) struct TrunkInvite {
    pub(super) peer: Peer,
    pub(super) credentials: Option<(String, String)>,
    pub(super) caller_id: Option<CallerId>,
}

impl Driver {
    /// A new trunk table: start, restart (changed) or stop registrations to match it.
    pub(super) fn trunks_loaded(&mut self, table: Arc<TrunkTable>) {
        let now = self.mono();
        let mut keep: HashMap<Key, ()> = HashMap::new();
        for e in table.entries() {
            let t = &e.trunk;
            let (Some(user), Some(password), Some(addr), true) =
                (&t.username, &t.password, e.addr, t.register)
            else {
                continue;
            };
            let key = e.key();
            keep.insert(key.clone(), ());
            if self.trunk.regs.get(&key).is_some_and(|(_, old)| old == t) {
                continue;
            }
            if let Some((i, _)) = self.trunk.regs.remove(&key) {
                self.ua.stop_registration(i);
            }
            let Ok(aor) = format!("sip:{user}@{}", t.host).parse() else {
                continue;
            };
            let i = self.ua.add_registration(
                now,
                RegistrationSpec {
                    aor,
                    registrar: Peer::new(addr, e.transport(), None),
                    user: user.clone(),
                    password: password.clone(),
                    expires: 3600,
                },
            );
            self.trunk.regs.insert(key, (i, t.clone()));
        }
        let gone: Vec<Key> = self
            .trunk
            .regs
            .keys()
            .filter(|k| !keep.contains_key(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some((i, _)) = self.trunk.regs.remove(&k) {
                self.ua.stop_registration(i);
            }
        }
        self.step();
    }

    /// Take one of the trunk's channels for `leg`; `false` when it is full.
    pub(super) fn trunk_claim(&mut self, leg: LegId, e: &TrunkEntry, direction: &str) -> bool {
        let key = e.key();
        let busy = self.trunk.busy.entry(key.clone()).or_default();
        if e.trunk.max_channels > 0 && *busy >= e.trunk.max_channels {
            self.sh
                .metrics
                .trunk_calls
                .with_label_values(&[direction, "full"])
                .inc();
            return false;
        }
        *busy += 1;
        self.trunk.legs.insert(leg, key);
        self.sh.metrics.trunk_channels.inc();
        self.sh
            .metrics
            .trunk_calls
            .with_label_values(&[direction, "placed"])
            .inc();
        true
    }

    /// A leg is gone: its trunk channel is free.
    pub(super) fn trunk_release(&mut self, leg: LegId) {
        if let Some(key) = self.trunk.legs.remove(&leg) {
            if let Some(b) = self.trunk.busy.get_mut(&key) {
                *b = b.saturating_sub(1);
                if *b == 0 {
                    self.trunk.busy.remove(&key);
                }
            }
            self.sh.metrics.trunk_channels.dec();
        }
    }

    /// Where and how leg `leg`'s INVITE to `target` (through its trunk) goes: `Err(status)`
    /// when it cannot (the trunk is gone or does not resolve: 503; full: 503).
    pub(super) fn trunk_invite(
        &mut self,
        tenant: &str,
        leg: LegId,
        target: &Target,
    ) -> Result<Option<TrunkInvite>, u16> {
        let Some(name) = &target.trunk else {
            return Ok(None);
        };
        let table = self.sh.trunks.read().map(|t| t.clone()).unwrap_or_default();
        let Some(e) = table.get(tenant, name) else {
            return Err(503);
        };
        let Some(addr) = e.addr else {
            return Err(503);
        };
        if !self.trunk_claim(leg, e, "out") {
            return Err(503);
        }
        let t = &e.trunk;
        Ok(Some(TrunkInvite {
            peer: Peer::new(addr, e.transport(), None),
            credentials: t.username.clone().zip(t.password.clone()),
            caller_id: t.caller_id.as_deref().and_then(CallerId::parse),
        }))
    }

    /// A carrier's INVITE (its source is a trunk's address): find the DID's destination off
    /// the loop, then on as an inbound call of the trunk's tenant, without a Digest challenge.
    pub(super) fn handle_trunk_invite(&mut self, e: TrunkEntry, p: Pending) {
        let (sh, done) = (self.sh.clone(), self.tasks.clone());
        tokio::spawn(authorize_trunk_call(sh, done, e, p));
    }
}

async fn authorize_trunk_call(
    sh: Arc<Shared>,
    done: mpsc::UnboundedSender<TaskDone>,
    e: TrunkEntry,
    p: Pending,
) {
    let respond = |status| {
        let _ = done.send(TaskDone::Respond {
            tx: p.tx,
            method: "INVITE",
            status,
            headers: Vec::new(),
        });
    };
    let tenant = e.tenant.clone();
    let number = p.req.uri.user.clone().unwrap_or_default();
    let dest = match crate::trunks::did_destination(sh.store.as_ref(), &tenant, &number).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            sh.metrics
                .trunk_calls
                .with_label_values(&["in", "no_did"])
                .inc();
            return respond(404);
        }
        Err(_) => return respond(503),
    };
    let caller = p
        .req
        .headers
        .iter()
        .find_map(|h| match h {
            TypedHeader::From(f) => f.0.uri.user.clone(),
            _ => None,
        })
        .unwrap_or_else(|| "anonymous".into());
    // The tenant's route hook (its CTI control) may send it elsewhere before it rings, show
    // the callee another caller ID, record it, set account codes.
    let call = sh.new_call_id();
    let q = patchbay_api::RouteQuery {
        tenant: tenant.clone(),
        caller: caller.clone(),
        dialed: dest.clone(),
        state: "calling".into(),
        call: call.0.clone(),
        caller_name: super::invite_auth::from_display(&p.req),
        channel: super::channels::channel_name(&caller, Some(&e.trunk.name)),
        direction: "inbound".into(),
        did: Some(number.clone()),
    };
    let hooked = crate::route_hook::route(&sh, q).await;
    let dest = hooked.number.clone();
    let service =
        match super::services::service_for(&sh, &mut Vec::new(), &tenant, None, &dest).await {
            Ok(s) => s,
            Err(_) => return respond(503),
        };
    let app = match sh.is_app_number(&tenant, &dest).await {
        Some(a) => a || service.is_some(),
        None => return respond(503),
    };
    let plan = if app {
        None
    } else {
        match crate::routing::plan_for(&sh, &tenant, &dest).await {
            Ok(p) => p,
            Err(_) => return respond(503),
        }
    };
    let record = match hooked.record {
        Some(r) => r,
        None => sh.recording_policy(&tenant).await.record_calls,
    };
    let _ = done.send(TaskDone::Authorized(Box::new(Authorized {
        tx: p.tx,
        req: p.req,
        peer: p.peer,
        tenant,
        caller,
        outside: None,
        callee_known: app || plan.is_some(),
        record,
        app,
        plan,
        callee: Some(dest),
        from_trunk: Some(e),
        caller_id: hooked.caller_id,
        service,
        call,
        hooked: hooked.hooked,
    })));
}
