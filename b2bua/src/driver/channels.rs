//! Call legs as channels (`SIP/<ext>`, `SIP/<trunk>`), indexed by tenant and name so a
//! wallboard's poll for a few channels costs a few hash probes, whatever the number of calls.

use super::Driver;
use patchbay_api::{Channel, ChannelState};
use patchbay_proto::LegId;
use patchbay_proto::LegState;
use std::collections::HashMap;

type Key = (String, String);

#[derive(Debug, Default)]
pub(super) struct Channels {
    by_name: HashMap<Key, Vec<LegId>>,
    of_leg: HashMap<LegId, Key>,
}

impl Channels {
    pub(super) fn open(&mut self, tenant: &str, name: String, leg: LegId) {
        let key = (tenant.to_string(), name);
        self.by_name.entry(key.clone()).or_default().push(leg);
        self.of_leg.insert(leg, key);
    }

    /// The legs on channel `name` of `tenant`.
    pub(super) fn legs(&self, tenant: &str, name: &str) -> &[LegId] {
        self.by_name
            .get(&(tenant.to_string(), name.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    pub(super) fn close(&mut self, leg: LegId) {
        let Some(key) = self.of_leg.remove(&leg) else {
            return;
        };
        if let Some(legs) = self.by_name.get_mut(&key) {
            legs.retain(|l| *l != leg);
            if legs.is_empty() {
                self.by_name.remove(&key);
            }
        }
    }
}

/// The channel name of a leg to or from `party`, or on `trunk`.
pub(super) fn channel_name(party: &str, trunk: Option<&str>) -> String {
    format!("SIP/{}", trunk.unwrap_or(party))
}

impl Driver {
    /// The tenant's channels named `names` (a `down` one for each with no live leg), or every
    /// live channel of the tenant.
    pub(super) fn channels(&self, tenant: &str, names: Option<Vec<String>>) -> Vec<Channel> {
        let keys: Vec<(String, Vec<LegId>)> = match names {
            Some(names) => names
                .into_iter()
                .map(|n| {
                    let legs = self
                        .channel_index
                        .by_name
                        .get(&(tenant.to_string(), n.clone()))
                        .cloned()
                        .unwrap_or_default();
                    (n, legs)
                })
                .collect(),
            None => {
                let mut v: Vec<_> = self
                    .channel_index
                    .by_name
                    .iter()
                    .filter(|((t, _), _)| t == tenant)
                    .map(|((_, n), legs)| (n.clone(), legs.clone()))
                    .collect();
                v.sort();
                v
            }
        };
        let mut out = Vec::new();
        for (name, legs) in keys {
            let live: Vec<Channel> = legs
                .iter()
                .filter_map(|l| self.channel_of(&name, *l))
                .collect();
            if live.is_empty() {
                out.push(Channel::down(&name));
            } else {
                out.extend(live);
            }
        }
        out
    }

    fn channel_of(&self, name: &str, leg: LegId) -> Option<Channel> {
        let l = self.calls.leg(leg)?;
        let call = self.calls.call_of(leg)?.clone();
        let state = match l.state {
            LegState::Answered => ChannelState::Up,
            LegState::Inviting | LegState::Ringing if l.inbound => ChannelState::Ring,
            LegState::Inviting | LegState::Ringing => ChannelState::Ringing,
            LegState::Cancelling | LegState::Ended => return None,
        };
        let info = self.calls.info(&call)?;
        let (clid_num, clid_name) = match self.caller_ids.get(&call) {
            Some(patchbay_api::CallerId::Shown { number, name }) => (
                number.clone(),
                name.clone().unwrap_or_else(|| number.clone()),
            ),
            Some(patchbay_api::CallerId::Anonymous) => ("anonymous".into(), "Anonymous".into()),
            None => (info.from.clone(), info.from),
        };
        Some(Channel {
            name: name.to_string(),
            state,
            clid_num,
            clid_name,
            account_code: self
                .hooked
                .get(&call)
                .map(|h| h.account_codes.accountcode.clone())
                .unwrap_or_default(),
            unique_id: format!("{}.{}", call, leg.0),
            call: Some(call),
        })
    }
}
