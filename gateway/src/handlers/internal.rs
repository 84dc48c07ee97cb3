//! The gateway's internal API on its admin listener, for the B2BUA (the control token as
//! bearer): `POST /internal/v1/route`, the route hook (Taridium's CTI control, Ozeki's route
//! interception).

use crate::Gateway;
use patchbay_api::RouteQuery;
use patchbay_gateway_proto::Request;

/// `(status, JSON body)`.
pub(crate) async fn route(gw: &Gateway, req: &Request) -> (u16, String) {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if gw.cfg.b2bua_token.is_empty()
        || !patchbay_gateway_proto::auth::same_secret(token, &gw.cfg.b2bua_token)
    {
        return (401, r#"{"error":"unauthorized"}"#.into());
    }
    if req.method() != http::Method::POST {
        return (405, r#"{"error":"method_not_allowed"}"#.into());
    }
    let Ok(q) = serde_json::from_slice::<RouteQuery>(req.body()) else {
        return (400, r#"{"error":"bad_request"}"#.into());
    };
    // Taridium's CTI first; Ozeki's route interception where CTI did not route the call.
    let mut d = gw.cti_route(&q).await.unwrap_or_default();
    if d.route.is_none() {
        d.merge(gw.ozeki_route(&q).await);
    }
    (
        200,
        serde_json::to_string(&d).unwrap_or_else(|_| "{}".into()),
    )
}
