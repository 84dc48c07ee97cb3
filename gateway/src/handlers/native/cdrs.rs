//! `GET /api/v1/cdrs`: the tenant's CDRs for billing (admins: every call; users: the calls
//! they were a party of), searched in the store, each with its recordings, in pages linked
//! by `Link: <...>; rel="next"`.

use super::super::db;
use crate::Gateway;
use patchbay_gateway_proto::vendors::native::CdrSearch;
use patchbay_gateway_proto::vendors::native::cdrs::{self, next_link};
use patchbay_gateway_proto::{Failure, Principal, Response, Role};
use patchbay_store::CdrQuery;

pub(super) async fn search(gw: &Gateway, p: &Principal, s: CdrSearch) -> Result<Response, Failure> {
    let party = match (&p.user, p.has(Role::Admin)) {
        // A user reads its own calls only.
        (Some(u), false) => match &s.party {
            Some(other) if other != u => return Err(Failure::Forbidden),
            _ => Some(u.clone()),
        },
        _ => s.party.clone(),
    };
    let (answered, causes) = match s.disposition {
        Some(d) => {
            let (a, c) = d.query();
            (Some(a), c.iter().map(|c| c.to_string()).collect())
        }
        None => (None, Vec::new()),
    };
    let found = gw
        .store
        .search_cdrs(&CdrQuery {
            tenant: p.tenant.clone(),
            from_ms: s.from_ms,
            to_ms: s.to_ms,
            party,
            direction: s.direction.clone(),
            answered,
            causes,
            after: s.after.clone(),
            oldest_first: false,
            limit: s.limit,
        })
        .await
        .map_err(db)?;
    let mut rows = Vec::with_capacity(found.len());
    for c in found {
        let recs = gw
            .store
            .recordings(&p.tenant, Some(&c.call.0), 20)
            .await
            .map_err(db)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        rows.push((c, recs));
    }
    let next = (rows.len() == s.limit as usize)
        .then(|| rows.last().map(|(c, _)| next_link(&s, &cdrs::cursor(c))))
        .flatten();
    Ok(cdrs::render(&rows, s.csv, next))
}
