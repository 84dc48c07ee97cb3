//! sipX: the call controller (`/callcontroller/...` on its own port, and through
//! sipXconfig's redirector). sipXconfig's REST resources come next (issue 16).

pub(crate) mod callcontroller;

use super::{Ctx, Reply};
use crate::Gateway;
use patchbay_gateway_proto::{Failure, Request};

pub(crate) async fn handle(_gw: &Gateway, ctx: &mut Ctx, req: &Request) -> Result<Reply, Failure> {
    ctx.endpoint = "rest";
    Err(Failure::NotImplemented(req.uri().path().to_string()))
}

/// A party as the B2BUA names it: the user part of an address in the PBX's domain (`realm`),
/// otherwise a SIP URI.
pub(crate) fn party(value: &str, realm: &str) -> String {
    let v = value.trim();
    let v = v
        .strip_prefix("sip:")
        .or_else(|| v.strip_prefix("sips:"))
        .unwrap_or(v);
    match v.split_once('@') {
        None => v.to_string(),
        Some((user, domain)) if domain.eq_ignore_ascii_case(realm) => user.to_string(),
        Some(_) => format!("sip:{v}"),
    }
}
