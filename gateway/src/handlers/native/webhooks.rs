//! `/api/v1/tenants/{tenant}/webhooks`: dead letters (listed, replayed) and the policy.
//! Tenant admins see and replay their dead letters; letting a tenant's webhooks reach private
//! addresses is the operator's (system role): it would let a tenant's URLs probe the
//! operator's own network.

use super::super::db;
use crate::Gateway;
use crate::webhooks::{POLICY_KIND, POLICY_NAME, WebhookPolicy};
use patchbay_gateway_proto::vendors::native::{WebhookOp, render_json};
use patchbay_gateway_proto::{Failure, Principal, Response, Role};
use serde_json::json;

pub(super) async fn run(
    gw: &Gateway,
    p: &Principal,
    tenant: &str,
    op: WebhookOp,
) -> Result<Response, Failure> {
    let s = &gw.store;
    Ok(match op {
        WebhookOp::Dead => {
            let dead = s.dead_webhooks(tenant, 200).await.map_err(db)?;
            let list: Vec<_> = dead
                .iter()
                .map(|w| {
                    json!({
                        "id": w.new.id, "vendor": w.new.vendor, "kind": w.new.kind,
                        "key": w.new.key, "url": w.new.url, "attempts": w.attempts,
                        "last_error": w.last_error, "created_ms": w.new.created_ms,
                    })
                })
                .collect();
            render_json(200, &list)
        }
        WebhookOp::Replay(id) => {
            let now = crate::auth::now_ms();
            if !s.replay_webhook(tenant, &id, now).await.map_err(db)? {
                return Err(Failure::NotFound(format!("dead letter {id}")));
            }
            gw.webhooks.poke();
            render_json(200, &json!({"replayed": id}))
        }
        WebhookOp::GetPolicy => {
            let allow = gw.webhooks.allow_private(tenant).await.map_err(db)?;
            render_json(
                200,
                &WebhookPolicy {
                    allow_private_webhooks: allow,
                },
            )
        }
        WebhookOp::PutPolicy(allow) => {
            if !p.roles.contains(&Role::System) {
                return Err(Failure::Forbidden);
            }
            let policy = WebhookPolicy {
                allow_private_webhooks: allow,
            };
            let body = serde_json::to_string(&policy).unwrap_or_default();
            s.put_config(tenant, POLICY_KIND, POLICY_NAME, &body)
                .await
                .map_err(db)?;
            gw.webhooks.policy_changed(tenant);
            render_json(200, &policy)
        }
    })
}
