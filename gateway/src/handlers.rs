//! Per-vendor request handling: parse with the vendor's translator, authenticate, run the
//! operation against the store or the B2BUA, render with the translator.

pub(crate) mod brekeke;
pub(crate) mod internal;
pub(crate) mod ipps;
pub(crate) mod native;
pub(crate) mod ozeki;
pub(crate) mod promptcall;
pub(crate) mod sipx;
pub(crate) mod taridium;

use crate::Gateway;
use crate::auth::Origin;
use patchbay_api::client::ClientError;
use patchbay_api::{ApiErrorKind, CallId};
use patchbay_gateway_proto::{Failure, Principal, Response};

/// A store error as a failure (an unknown tenant is "not found").
pub(crate) fn db(e: patchbay_store::StoreError) -> Failure {
    match e {
        patchbay_store::StoreError::UnknownTenant(t) => Failure::NotFound(format!("tenant {t}")),
        patchbay_store::StoreError::Taken(what) => {
            Failure::Conflict(format!("{what} belongs to another tenant"))
        }
        other => Failure::Internal(other.to_string()),
    }
}

/// One of a tenant's config documents (`tenant_configs`) by kind and name.
pub(crate) async fn config(
    gw: &crate::Gateway,
    tenant: &str,
    kind: &str,
    name: &str,
) -> Result<Option<String>, Failure> {
    Ok(gw
        .store
        .configs(tenant, kind)
        .await
        .map_err(db)?
        .into_iter()
        .find_map(|(n, b)| (n == name).then_some(b)))
}

/// A tenant's config documents of `kind` read as `T` (unreadable ones left out).
pub(crate) async fn configs_as<T: serde::de::DeserializeOwned>(
    gw: &crate::Gateway,
    tenant: &str,
    kind: &str,
) -> Result<Vec<T>, Failure> {
    Ok(gw
        .store
        .configs(tenant, kind)
        .await
        .map_err(db)?
        .into_iter()
        .filter_map(|(_, b)| serde_json::from_str(&b).ok())
        .collect())
}

/// `bytes` random bytes as lowercase hex (generated secrets).
pub(crate) fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// What a handler produced.
pub(crate) enum Reply {
    Full(Response),
    /// A server-sent event stream of one call, from `seq > after`.
    Events {
        call: CallId,
        after: u64,
    },
    /// The tenant's server-sent event stream (every call), from `gseq > after`.
    TenantEvents {
        tenant: String,
        after: u64,
    },
    /// A file from the B2BUA (a recording), passed on as it streams in: status and the
    /// headers a download needs.
    Download(reqwest::Response),
    /// The same, served with the vendor's `Content-Type` instead of the file's.
    DownloadAs(reqwest::Response, &'static str),
}

/// Per-request facts handlers need.
pub(crate) struct Ctx {
    pub(crate) origin: Origin,
    /// Bounded operation name for metrics, set by the handler.
    pub(crate) endpoint: &'static str,
    /// A call created held by this request: started once the reply is written.
    pub(crate) start_call: Option<CallId>,
    /// The request came over TLS (URLs the gateway hands out say `https`).
    pub(crate) tls: bool,
}

impl Gateway {
    /// Per-key and per-tenant request rates.
    pub(crate) fn rate_limit(&self, p: &Principal) -> Result<(), Failure> {
        let r = self
            .key_rate
            .check(&p.rate_key())
            .and_then(|_| self.tenant_rate.check(&p.tenant));
        r.map_err(|retry_after_secs| {
            self.metrics.rejected.with_label_values(&["rate"]).inc();
            Failure::RateLimited { retry_after_secs }
        })
    }

    /// As [`Gateway::b2bua_failure`], but the B2BUA's 400 (a check that needs its state)
    /// names `field` the way the gateway's own checks do.
    pub(crate) fn b2bua_bad(&self, op: &str, field: &'static str, e: ClientError) -> Failure {
        match e {
            ClientError::Api {
                kind: ApiErrorKind::BadRequest,
                message,
            } => Failure::bad(field, message),
            e => self.b2bua_failure(op, e),
        }
    }

    /// The event log could not be read: unavailable (logged, counted as the B2BUA side of the
    /// request, which is what clients see).
    pub(crate) fn store_failure(&self, op: &str, e: patchbay_store::StoreError) -> Failure {
        tracing::warn!(op, error = %e, "event log unreadable");
        self.metrics
            .b2bua_errors
            .with_label_values(&[op, "unavailable"])
            .inc();
        Failure::Unavailable(e.to_string())
    }

    /// Claim call `call`'s follow-up work (Ozeki's notifications and sessions, post-call CTI)
    /// for this gateway: with several gateways on one store each follows every event, and
    /// exactly one must act on a call. The first to ask gets it (for a day); a store that
    /// cannot say counts as granted (a duplicate notification beats a lost one).
    pub(crate) async fn claim_call(&self, call: &patchbay_api::CallId) -> bool {
        let now = crate::auth::now_ms();
        self.store
            .claim_call(&call.0, &self.instance, now, now + 86_400_000)
            .await
            .unwrap_or(true)
    }

    /// Map a control-API error to a failure (and count it).
    pub(crate) fn b2bua_failure(&self, op: &str, e: ClientError) -> Failure {
        let kind = match &e {
            ClientError::Unavailable(_) | ClientError::BadReply(_) => "unavailable",
            ClientError::Api { kind, .. } => match kind {
                ApiErrorKind::BadRequest => "bad_request",
                ApiErrorKind::NotFound => "not_found",
                ApiErrorKind::InvalidState => "invalid_state",
                ApiErrorKind::Overloaded => "overloaded",
                ApiErrorKind::Forbidden => "forbidden",
                ApiErrorKind::Unauthorized => "unauthorized",
                _ => "unavailable",
            },
            _ => "other",
        };
        self.metrics
            .b2bua_errors
            .with_label_values(&[op, kind])
            .inc();
        match e {
            ClientError::Api { kind, message } => match kind {
                ApiErrorKind::BadRequest => Failure::bad("call", message),
                ApiErrorKind::NotFound => Failure::NotFound(message),
                ApiErrorKind::InvalidState => Failure::Conflict(message),
                ApiErrorKind::Overloaded => Failure::Overloaded,
                ApiErrorKind::Forbidden => Failure::DestinationRefused(message),
                _ => Failure::Unavailable(message),
            },
            other => Failure::Unavailable(other.to_string()),
        }
    }

    /// Per-tenant call-attempt rate and live-call cap, then originate *held*: the call id goes
    /// into `ctx.start_call` and the call starts after the reply is written (see
    /// [`crate::service`]), so the client has the id before the first INVITE leaves.
    pub(crate) async fn originate(
        &self,
        ctx: &mut Ctx,
        req: patchbay_api::OriginateRequest,
    ) -> Result<patchbay_api::CallInfo, Failure> {
        let info = self.originate_held(req).await?;
        // (A repeated idempotency key gets the call the first request made: started already,
        // unless that request's gateway went away before starting it.)
        if info.state == patchbay_api::CallState::Created {
            ctx.start_call = Some(info.id.clone());
        }
        Ok(info)
    }

    /// The checks and the held call of [`Gateway::originate`]; the caller starts it.
    pub(crate) async fn originate_held(
        &self,
        mut req: patchbay_api::OriginateRequest,
    ) -> Result<patchbay_api::CallInfo, Failure> {
        req.start_within_ms = Some(self.cfg.call_start_within_ms);
        if let Err(retry_after_secs) = self.call_rate.check(&req.tenant) {
            self.metrics
                .rejected
                .with_label_values(&["call_rate"])
                .inc();
            return Err(Failure::RateLimited { retry_after_secs });
        }
        let calls = self
            .b2bua
            .list_calls()
            .await
            .map_err(|e| self.b2bua_failure("list", e))?;
        let live = calls
            .iter()
            .filter(|c| c.tenant == req.tenant && c.ended_ms.is_none())
            .count();
        if live >= self.cfg.limits.max_calls_per_tenant as usize {
            self.metrics
                .rejected
                .with_label_values(&["tenant_calls"])
                .inc();
            return Err(Failure::RateLimited {
                retry_after_secs: 1,
            });
        }
        let info = self
            .b2bua
            .originate(&req)
            .await
            .map_err(|e| self.b2bua_failure("originate", e))?;
        Ok(info)
    }

    /// Start a call created held (after its reply went out). A failure only delays the call
    /// until the B2BUA's start deadline.
    pub(crate) async fn start_call(&self, id: &CallId) {
        if let Err(e) = self.b2bua.start(id).await {
            let f = self.b2bua_failure("start", e);
            tracing::warn!(call = %id, error = ?f, "starting a held call failed");
        }
    }
}
