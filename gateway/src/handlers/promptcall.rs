//! promptCall `/pbxws.php/<action>`: API key + secret as a token, then the action.

use super::{Ctx, Reply};
use crate::Gateway;
use patchbay_api::{OriginateMode, OriginateRequest};
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::promptcall::{self, PromptcallOp};
use patchbay_gateway_proto::{Failure, Request};

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
            let info = gw
                .originate(
                    ctx,
                    OriginateRequest {
                        tenant: p.tenant.clone(),
                        from: ext,
                        to: vec![tel],
                        mode: OriginateMode::CallerFirst,
                        ..Default::default()
                    },
                )
                .await?;
            Ok(Reply::Full(promptcall::render_dialed(&info.id.0)))
        }
        PromptcallOp::Other(a) => {
            ctx.endpoint = "other";
            Err(Failure::NotImplemented(a))
        }
    }
}
