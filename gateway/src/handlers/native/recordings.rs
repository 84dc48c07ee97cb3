//! `/api/v1/recordings`: the principal's tenant's recordings, through the B2BUA's control API
//! (which reads the index and serves the files with `Range`). Admins see every recording of
//! the tenant; a user only those of calls it was a party of (by the call's CDR).

use super::super::{Reply, db};
use crate::Gateway;
use patchbay_gateway_proto::vendors::native::{RecordingOp, render_json};
use patchbay_gateway_proto::{Failure, Principal, Role};
use serde_json::json;
use std::collections::HashMap;

/// Whether a non-admin user may see the recordings of `call` (it is a party of its CDR).
async fn party_of(gw: &Gateway, p: &Principal, call: &str) -> Result<bool, Failure> {
    let Some(u) = p.user.as_deref().filter(|_| !p.has(Role::Admin)) else {
        return Ok(true);
    };
    Ok(match gw.store.cdr(call).await.map_err(db)? {
        Some(c) => c.tenant == p.tenant && (c.from == u || c.to == u),
        None => false,
    })
}

pub(super) async fn run(gw: &Gateway, p: &Principal, op: RecordingOp) -> Result<Reply, Failure> {
    let fail = |op: &'static str| move |e| gw.b2bua_failure(op, e);
    match op {
        RecordingOp::List { call, limit } => {
            let all = gw
                .b2bua
                .recordings(&p.tenant, call.as_deref(), limit)
                .await
                .map_err(fail("recordings"))?;
            let mut allowed: HashMap<String, bool> = HashMap::new();
            let mut mine = Vec::with_capacity(all.len());
            for r in all {
                let ok = match allowed.get(&r.call.0) {
                    Some(ok) => *ok,
                    None => {
                        let ok = party_of(gw, p, &r.call.0).await?;
                        allowed.insert(r.call.0.clone(), ok);
                        ok
                    }
                };
                if ok {
                    mine.push(r);
                }
            }
            Ok(Reply::Full(render_json(200, &mine)))
        }
        RecordingOp::Get { id, range } => {
            let rec = visible(gw, p, &id).await?;
            let resp = gw
                .b2bua
                .recording_file(&p.tenant, &rec, range.as_deref())
                .await
                .map_err(fail("recording"))?;
            Ok(Reply::Download(resp))
        }
        RecordingOp::Delete { id } => {
            if !p.has(Role::Admin) {
                return Err(Failure::Forbidden);
            }
            visible(gw, p, &id).await?;
            gw.b2bua
                .delete_recording(&p.tenant, &id)
                .await
                .map_err(fail("recording_delete"))?;
            Ok(Reply::Full(render_json(200, &json!({"deleted": id}))))
        }
    }
}

/// The recording's id if the principal may see it (else not found, as for another tenant's).
async fn visible(gw: &Gateway, p: &Principal, id: &str) -> Result<String, Failure> {
    let not_found = || Failure::NotFound(format!("recording {id}"));
    let call = id.rsplit_once("-r").map(|(c, _)| c).ok_or_else(not_found)?;
    if !party_of(gw, p, call).await? {
        return Err(not_found());
    }
    Ok(id.to_string())
}
