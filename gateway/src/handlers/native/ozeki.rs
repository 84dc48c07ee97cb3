//! `/api/v1/tenants/{tenant}/ozeki` and `/api-extensions`: a tenant's Ozeki HTTP API settings
//! and its API extensions (tenant admins). An API extension is also a B2BUA application
//! number (label `ozeki`), so calls to it reach the feed as `incoming`.

use super::super::db;
use crate::Gateway;
use crate::ozeki::{EXTENSION_KIND, SETTINGS_KIND, SETTINGS_NAME};
use patchbay_gateway_proto::vendors::native::{ApiExtension, OzekiOp, render_json};
use patchbay_gateway_proto::{Failure, Response};
use serde_json::json;

pub(super) async fn run(gw: &Gateway, tenant: &str, op: OzekiOp) -> Result<Response, Failure> {
    let s = &gw.store;
    Ok(match op {
        OzekiOp::GetSettings => {
            let v = gw.ozeki.settings(tenant).await.map_err(db)?;
            render_json(200, &*v)
        }
        OzekiOp::PutSettings(v) => {
            let body = serde_json::to_string(&v).unwrap_or_default();
            s.put_config(tenant, SETTINGS_KIND, SETTINGS_NAME, &body)
                .await
                .map_err(db)?;
            gw.ozeki.changed(tenant);
            // The B2BUA asks the gateway's route hook for this tenant's calls only when on.
            crate::cti::sync_route_hook(gw, tenant).await.map_err(db)?;
            render_json(200, &v)
        }
        OzekiOp::ListExtensions => {
            let list: Vec<ApiExtension> =
                super::super::configs_as(gw, tenant, EXTENSION_KIND).await?;
            render_json(200, &list)
        }
        OzekiOp::GetExtension(n) => {
            let e = gw
                .ozeki
                .extension(tenant, &n)
                .await
                .map_err(db)?
                .ok_or_else(|| Failure::NotFound(format!("API extension {n}")))?;
            render_json(200, &*e)
        }
        OzekiOp::PutExtension(e) => {
            gw.put_api_extension(tenant, &e).await?;
            render_json(200, &e)
        }
        OzekiOp::DeleteExtension(n) => {
            if !s
                .delete_config(tenant, EXTENSION_KIND, &n)
                .await
                .map_err(db)?
            {
                return Err(Failure::NotFound(format!("API extension {n}")));
            }
            gw.b2bua
                .delete_app_number(tenant, &n)
                .await
                .map_err(|err| gw.b2bua_failure("app_numbers", err))?;
            gw.ozeki.changed(tenant);
            render_json(200, &json!({"deleted": n}))
        }
    })
}
