//! Ozeki HTTP API: address list, then office-user credentials, then the command.

use super::{Ctx, Reply};
use crate::Gateway;
use patchbay_gateway_proto::auth::Credentials;
use patchbay_gateway_proto::vendors::ozeki;
use patchbay_gateway_proto::{Failure, Request, Scheme};

pub(crate) async fn handle(gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "auth";
    let ip = ctx.origin.ip;
    gw.authn.check_ban(ip)?;
    let r = ozeki::parse_request(req)?;
    let Some(tenant) = ctx.origin.tenant.clone() else {
        return Err(Failure::AddressForbidden);
    };
    if gw.authn.ip_allowed(&tenant, "ozeki", ip).await? == Some(false) {
        return Err(Failure::AddressForbidden);
    }
    let p = match &r.credentials {
        Credentials::None => return Err(gw.authn.missing("vendor_params", vec![])),
        Credentials::Params { user, password } => {
            gw.authn
                .web_user(ip, &tenant, user, password, Scheme::VendorParams, vec![])
                .await?
        }
        _ => return Err(Failure::AuthFailed { challenges: vec![] }),
    };
    gw.rate_limit(&p)?;
    ctx.endpoint = "command";
    // The Ozeki commands arrive with their own issue; until then every command is answered as
    // the vendor answers one it does not know.
    Err(Failure::NotImplemented(r.command))
}
