//! `/api/v1/tenants/{tenant}/webhooks`: the tenant's dead letters (notifications given up),
//! replaying one, and the tenant's webhook policy (operators only may change it).

use super::settings::{SettingOp, json};
use crate::Failure;

/// A webhook operation of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOp {
    Dead,
    Replay(String),
    GetPolicy,
    /// `allow_private_webhooks`.
    PutPolicy(bool),
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyBody {
    allow_private_webhooks: bool,
}

/// A notification id as the gateway makes them (`wh-` and hex).
fn id_ok(s: &str) -> bool {
    s.len() <= 64 && s.starts_with("wh-") && s[3..].bytes().all(|c| c.is_ascii_hexdigit())
}

pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let op = match (method, segs) {
        ("GET", ["webhooks", "dead"]) => WebhookOp::Dead,
        ("POST", ["webhooks", "dead", id, "replay"]) => {
            if !id_ok(id) {
                return Err(Failure::bad("id", "a notification id (wh-...)"));
            }
            WebhookOp::Replay(id.to_string())
        }
        ("GET", ["webhooks", "policy"]) => WebhookOp::GetPolicy,
        ("PUT", ["webhooks", "policy"]) => {
            let b: PolicyBody = json(body)?;
            WebhookOp::PutPolicy(b.allow_private_webhooks)
        }
        (_, ["webhooks", ..]) => return Err(Failure::MethodNotAllowed),
        _ => return super::ozeki::parse(method, segs, body),
    };
    Ok(Some(SettingOp::Webhooks(op)))
}
