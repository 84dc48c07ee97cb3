//! Per-user routing of inbound calls, the I/O half: the callee's settings and those of the
//! users its unconditional forwards lead to are read from the store (in the INVITE's auth
//! task, never on the driver loop), then `patchbay_proto::routing::plan` decides.

use patchbay_proto::routing::{MAX_HOPS, Plan, UserRoute, plan, plan_with};
use patchbay_store::{StoreError, UserSettings};
use std::collections::HashMap;

fn route(st: &UserSettings) -> UserRoute {
    UserRoute {
        greeting: st.vm_greeting.clone(),
        always: st.forward_on.then(|| st.forward_to.clone()).flatten(),
        busy: st.forward_busy.clone(),
        no_answer: st.forward_no_answer.clone(),
        ring_secs: st.ring_secs,
        dnd: st.dnd,
        voicemail: st.vm_on,
        sequence: if st.followme_on {
            st.call_sequence.clone()
        } else {
            Vec::new()
        },
    }
}

/// The plan of a call to `callee` of `tenant`; `None` if the callee is no user. Forward
/// targets that are no user go out through the tenant's dial plan when it routes them (their
/// targets in [`Plan::outside`]); others are ignored.
pub(crate) async fn plan_for(
    sh: &crate::shared::Shared,
    tenant: &str,
    callee: &str,
) -> Result<Option<Plan>, StoreError> {
    let store = sh.store.as_ref();
    let mut routes: HashMap<String, Option<UserRoute>> = HashMap::new();
    let mut next = Some(callee.to_string());
    // The unconditional chain (one more than it may follow, to see the cut), then the
    // rung user's busy and no-answer targets.
    for _ in 0..=MAX_HOPS + 1 {
        let Some(user) = next.take() else { break };
        if routes.contains_key(&user) {
            break;
        }
        let r = store.user_settings(tenant, &user).await?.map(|s| route(&s));
        next = r.as_ref().and_then(|r| r.always.clone());
        routes.insert(user, r);
    }
    if routes.get(callee).is_none_or(Option::is_none) {
        // Not a user: a ring group, perhaps.
        let Some(g) = sh.ring_group(tenant, callee).await? else {
            return Ok(None);
        };
        let mut p = patchbay_proto::routing::group_plan(&g);
        if let Some(f) = p.no_answer.clone()
            && store.user_settings(tenant, &f).await?.is_none()
        {
            // A fallback that is no user goes out through the dial plan, or nowhere.
            match crate::trunks::route_outside(sh, tenant, &f).await? {
                crate::trunks::Outside::Trunk { trunk, uri } => {
                    p.outside = vec![patchbay_proto::Target::via_trunk(f, uri, &trunk)];
                }
                _ => p.no_answer = None,
            }
        }
        return Ok(Some(p));
    }
    let first = plan(callee, |u| routes.get(u).cloned().flatten());
    let targets: Vec<String> = routes
        .get(&first.ring)
        .cloned()
        .flatten()
        .map(|r| {
            [r.busy, r.no_answer]
                .into_iter()
                .flatten()
                .chain(r.sequence.into_iter().map(|s| s.number))
                .collect()
        })
        .unwrap_or_default();
    for t in targets {
        if let std::collections::hash_map::Entry::Vacant(slot) = routes.entry(t) {
            let r = store
                .user_settings(tenant, slot.key())
                .await?
                .map(|s| route(&s));
            slot.insert(r);
        }
    }
    // Names that are no user: outside numbers, if the dial plan sends them somewhere.
    let mut outside = Vec::new();
    for (name, r) in &routes {
        if r.is_some() || name == callee {
            continue;
        }
        if let crate::trunks::Outside::Trunk { trunk, uri } =
            crate::trunks::route_outside(sh, tenant, name).await?
        {
            outside.push(patchbay_proto::Target::via_trunk(name.clone(), uri, &trunk));
        }
    }
    let mut p = plan_with(
        callee,
        |u| routes.get(u).cloned().flatten(),
        |n| outside.iter().any(|t| t.party == n),
    );
    p.outside = outside;
    Ok(Some(p))
}
