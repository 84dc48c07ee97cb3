//! promptCall `/pbxws.php/<action>`: API key + secret as a token, then the action: `dial`,
//! `dialqm` (an agent's call), `cdrapi` (Asterisk's CDR columns from the store's CDRs),
//! `recapi` (a call's recording as bytes).

use super::{Ctx, Reply, db};
use crate::Gateway;
use patchbay_api::{OriginateMode, OriginateRequest};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::promptcall::cdr::{self, RecordingRef};
use patchbay_gateway_proto::vendors::promptcall::{self, PromptcallOp};
use patchbay_gateway_proto::{Failure, Principal, Request};
use patchbay_store::CdrQuery;

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "auth";
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let r = promptcall::parse_request(req)?;
    let p = match &r.credentials {
        Credentials::Token(t) => gw.authn.api_key(ip, &t.user, &t.password, vec![]).await?,
        Credentials::None => return Err(gw.authn.missing("api_key", vec![])),
        _ => return Err(Failure::AuthFailed { challenges: vec![] }),
    };
    gw.rate_limit(&p)?;
    match r.op {
        PromptcallOp::Dial { ext, tel } => {
            ctx.endpoint = "dial";
            dial(gw, ctx, &p, ext, tel, None).await
        }
        PromptcallOp::DialQm { agent, tel } => {
            ctx.endpoint = "dialqm";
            // The agent's queue (the first by name that has it) tags the call.
            let mut queues = gw
                .b2bua
                .queues(&p.tenant)
                .await
                .map_err(|e| gw.b2bua_failure("queues", e))?;
            queues.sort_by(|a, b| a.name.cmp(&b.name));
            let queue = queues
                .into_iter()
                .find(|q| q.agents.contains(&agent))
                .map(|q| q.name)
                .ok_or_else(|| Failure::NotFound(format!("{agent} is no agent")))?;
            dial(gw, ctx, &p, agent, tel, Some(queue)).await
        }
        PromptcallOp::Cdrs {
            num,
            start_ms,
            end_ms,
        } => {
            ctx.endpoint = "cdrapi";
            let cdrs = gw
                .store
                .search_cdrs(&CdrQuery {
                    tenant: p.tenant.clone(),
                    from_ms: start_ms,
                    to_ms: end_ms,
                    oldest_first: true,
                    limit: num,
                    ..Default::default()
                })
                .await
                .map_err(db)?;
            let mut rows = Vec::with_capacity(cdrs.len());
            for c in &cdrs {
                let rec = gw
                    .store
                    .recordings(&p.tenant, Some(&c.call.0), 1)
                    .await
                    .map_err(db)?;
                rows.push(cdr::asterisk(c, rec.first().map(|r| r.id.as_str())));
            }
            Ok(Reply::Full(cdr::render_cdrs(&rows)))
        }
        PromptcallOp::Recording(r) => {
            ctx.endpoint = "recapi";
            let id = recording_of(gw, &p.tenant, r)
                .await?
                .ok_or_else(|| Failure::NotFound("recording".into()))?;
            let resp = gw
                .b2bua
                .recording_file(&p.tenant, &id, None)
                .await
                .map_err(|e| match gw.b2bua_failure("recordings", e) {
                    Failure::NotFound(_) => Failure::NotFound("recording".into()),
                    other => other,
                })?;
            Ok(Reply::DownloadAs(resp, "application/octet-stream"))
        }
        PromptcallOp::Other(a) => {
            ctx.endpoint = "other";
            Err(Failure::NotImplemented(a))
        }
    }
}

/// Ring `from` (its own ring time), then `tel`; an agent's call names its queue.
async fn dial(
    gw: &Gateway,
    ctx: &mut Ctx,
    p: &Principal,
    from: String,
    tel: String,
    queue: Option<String>,
) -> Result<Reply, Failure> {
    let ring = gw
        .store
        .user_settings(&p.tenant, &from)
        .await
        .map_err(db)?
        .map(|s| s.ring_secs);
    let info = gw
        .originate(
            ctx,
            OriginateRequest {
                tenant: p.tenant.clone(),
                from,
                to: vec![tel],
                mode: OriginateMode::CallerFirst,
                ring_timeout_secs: ring,
                queue,
                ..Default::default()
            },
        )
        .await?;
    Ok(Reply::Full(promptcall::render_dialed(&info.id.0)))
}

/// The recording a `recapi` request names (of the tenant), if any.
async fn recording_of(
    gw: &Gateway,
    tenant: &str,
    r: RecordingRef,
) -> Result<Option<String>, Failure> {
    let s = &gw.store;
    let of_call = |call: String| async move {
        Ok::<_, Failure>(
            s.recordings(tenant, Some(&call), 1)
                .await
                .map_err(db)?
                .into_iter()
                .next()
                .map(|r| r.id),
        )
    };
    match r {
        RecordingRef::File(f) => {
            let id = f.strip_suffix(".wav").unwrap_or(&f);
            Ok(s.recording(tenant, id).await.map_err(db)?.map(|r| r.id))
        }
        RecordingRef::Call(call) => of_call(call).await,
        RecordingRef::Parties { src, dst, at_ms } => {
            // `calldate` has whole seconds: the call started within that second.
            let cdrs = s
                .search_cdrs(&CdrQuery {
                    tenant: tenant.to_string(),
                    from_ms: Some(at_ms),
                    to_ms: Some(at_ms + 1000),
                    party: Some(src.clone()),
                    oldest_first: true,
                    limit: 100,
                    ..Default::default()
                })
                .await
                .map_err(db)?;
            match cdrs.into_iter().find(|c| c.from == src && c.to == dst) {
                Some(c) => of_call(c.call.0).await,
                None => Ok(None),
            }
        }
    }
}
