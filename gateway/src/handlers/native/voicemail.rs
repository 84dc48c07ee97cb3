//! `/api/v1/tenants/{tenant}/users/{ext}/voicemail`: a user's messages, for the user itself
//! and the tenant's admins. The index is in the store; the audio is a recording, served by
//! the B2BUA (with `Range`).

use super::super::{Reply, db};
use crate::Gateway;
use patchbay_gateway_proto::vendors::native::{VoicemailOp, render_json};
use patchbay_gateway_proto::{Failure, Principal};
use serde_json::json;

fn message_json(m: &patchbay_store::VoicemailRow) -> serde_json::Value {
    json!({"id": m.id, "folder": m.folder, "caller": m.caller, "created_ms": m.created_ms,
           "duration_ms": m.duration_ms})
}

pub(super) async fn run(
    gw: &Gateway,
    p: &Principal,
    tenant: &str,
    ext: &str,
    op: VoicemailOp,
) -> Result<Reply, Failure> {
    let own = p.tenant == tenant && p.user.as_deref() == Some(ext);
    if !own && !p.administers(tenant) {
        return Err(Failure::Forbidden);
    }
    let s = &gw.store;
    let found = |m: Option<patchbay_store::VoicemailRow>, id: &str| {
        m.ok_or_else(|| Failure::NotFound(format!("message {id}")))
    };
    Ok(match op {
        VoicemailOp::List { folder } => {
            let v = s
                .voicemails(tenant, ext, folder.as_deref())
                .await
                .map_err(db)?;
            Reply::Full(render_json(
                200,
                &v.iter().map(message_json).collect::<Vec<_>>(),
            ))
        }
        VoicemailOp::Get { id, range } => {
            let m = found(s.voicemail(tenant, ext, &id).await.map_err(db)?, &id)?;
            let resp = gw
                .b2bua
                .recording_file(tenant, &m.recording, range.as_deref())
                .await
                .map_err(|e| gw.b2bua_failure("voicemail", e))?;
            Reply::Download(resp)
        }
        VoicemailOp::Move { id, folder } => {
            if !s
                .set_voicemail_folder(tenant, ext, &id, &folder)
                .await
                .map_err(db)?
            {
                return Err(Failure::NotFound(format!("message {id}")));
            }
            let m = found(s.voicemail(tenant, ext, &id).await.map_err(db)?, &id)?;
            Reply::Full(render_json(200, &message_json(&m)))
        }
        VoicemailOp::Delete { id } => {
            let m = found(s.delete_voicemail(tenant, ext, &id).await.map_err(db)?, &id)?;
            // The audio goes with it (already gone is fine: retention may have taken it).
            if let Err(e) = gw.b2bua.delete_recording(tenant, &m.recording).await {
                tracing::info!(id, error = %e, "voicemail audio not deleted");
            }
            Reply::Full(render_json(200, &json!({"deleted": id})))
        }
    })
}
