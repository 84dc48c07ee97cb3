//! HTTP client for the control API (pooled connections, bounded timeouts).

use crate::{
    ApiErrorBody, ApiErrorKind, CallId, CallInfo, Cdr, Event, MediaLeg, OriginateRequest,
    Registration, SipMessageRequest, SipMessageResult, TransferRequest, TrunkRegistration,
};
use std::time::Duration;

mod admin;
pub mod outbound;
mod queues;

/// Error of a control-API call, as seen by the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The B2BUA answered with an error.
    #[error("b2bua refused: {kind:?}: {message}")]
    Api { kind: ApiErrorKind, message: String },
    /// The B2BUA could not be reached or did not answer in time.
    #[error("b2bua unavailable: {0}")]
    Unavailable(String),
    /// The B2BUA answered something this client cannot read.
    #[error("bad reply from b2bua: {0}")]
    BadReply(String),
}

impl ClientError {
    pub fn kind(&self) -> ApiErrorKind {
        match self {
            ClientError::Api { kind, .. } => *kind,
            ClientError::Unavailable(_) | ClientError::BadReply(_) => ApiErrorKind::Unavailable,
        }
    }
}

/// Client of one B2BUA's control API. Cheap to clone (shares the connection pool).
#[derive(Clone, Debug)]
pub struct ControlClient {
    base: String,
    http: reqwest::Client,
}

impl ControlClient {
    /// `base` like `http://127.0.0.1:9181`; every request carries `token` as a bearer token
    /// (the B2BUA's `control_token`). Requests time out after `timeout` (connect after
    /// `timeout` / 2), so a dead B2BUA fails fast.
    pub fn new(
        base: impl Into<String>,
        token: &str,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientError::BadReply("control token is not a header value".into()))?;
        auth.set_sensitive(true);
        let headers =
            reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, auth)]);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(timeout / 2)
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Unavailable(e.to_string()))?;
        Ok(Self {
            base: base.into().trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether the node answers `/health` with a success.
    pub async fn health(&self) -> bool {
        self.http
            .get(self.url("/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    pub async fn originate(&self, req: &OriginateRequest) -> Result<CallInfo, ClientError> {
        self.send(self.http.post(self.url("/v1/calls")).json(req))
            .await
    }

    pub async fn list_calls(&self) -> Result<Vec<CallInfo>, ClientError> {
        self.send(self.http.get(self.url("/v1/calls"))).await
    }

    pub async fn call(&self, id: &CallId) -> Result<CallInfo, ClientError> {
        self.send(self.http.get(self.url(&format!("/v1/calls/{id}"))))
            .await
    }

    /// Start a call originated with `start_within_ms` (no-op once it started).
    pub async fn start(&self, id: &CallId) -> Result<(), ClientError> {
        self.send_empty(self.http.post(self.url(&format!("/v1/calls/{id}/start"))))
            .await
    }

    pub async fn hangup(&self, id: &CallId) -> Result<(), ClientError> {
        self.send_empty(self.http.delete(self.url(&format!("/v1/calls/{id}"))))
            .await
    }

    pub async fn transfer(&self, id: &CallId, req: &TransferRequest) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .post(self.url(&format!("/v1/calls/{id}/transfer")))
                .json(req),
        )
        .await
    }

    /// Forward a call still ringing its callee to `target` (see [`crate::ForwardRequest`]).
    pub async fn forward(&self, id: &CallId, target: &str) -> Result<(), ClientError> {
        let req = crate::ForwardRequest {
            target: target.to_string(),
        };
        self.send_empty(
            self.http
                .post(self.url(&format!("/v1/calls/{id}/forward")))
                .json(&req),
        )
        .await
    }

    /// Join two calls' parties (an attended transfer by the API, see [`crate::JoinRequest`]).
    pub async fn join(&self, id: &CallId, req: &crate::JoinRequest) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .post(self.url(&format!("/v1/calls/{id}/join")))
                .json(req),
        )
        .await
    }

    pub async fn hold(&self, id: &CallId, on: bool) -> Result<(), ClientError> {
        let verb = if on { "hold" } else { "unhold" };
        self.send_empty(self.http.post(self.url(&format!("/v1/calls/{id}/{verb}"))))
            .await
    }

    /// Run a media primitive on a call; its command id (the end comes as an event).
    pub async fn primitive(
        &self,
        id: &CallId,
        op: &crate::MediaOp,
    ) -> Result<crate::CommandAccepted, ClientError> {
        use crate::MediaOp;
        let (verb, body) = match op {
            MediaOp::Play(r) => ("play", serde_json::to_value(r)),
            MediaOp::Collect(r) => ("collect", serde_json::to_value(r)),
            MediaOp::Dtmf(r) => ("dtmf", serde_json::to_value(r)),
            MediaOp::Tone(r) => ("tone", serde_json::to_value(r)),
            MediaOp::Record(r) => ("record", serde_json::to_value(r)),
            MediaOp::Conference(r) => ("conference", serde_json::to_value(r)),
        };
        let body = body.unwrap_or_default();
        self.send(
            self.http
                .post(self.url(&format!("/v1/calls/{id}/{verb}")))
                .json(&body),
        )
        .await
    }

    /// Stop a media primitive still running.
    pub async fn stop_command(&self, id: &CallId, command: u64) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .post(self.url(&format!("/v1/calls/{id}/stop")))
                .json(&crate::StopRequest { command }),
        )
        .await
    }

    pub async fn media(&self, id: &CallId) -> Result<Vec<MediaLeg>, ClientError> {
        self.send(self.http.get(self.url(&format!("/v1/calls/{id}/media"))))
            .await
    }

    /// Events of one call with `seq > after`, waiting up to `wait` for the first one.
    pub async fn events(
        &self,
        id: &CallId,
        after: u64,
        wait: Duration,
    ) -> Result<Vec<Event>, ClientError> {
        let url = format!(
            "/v1/calls/{id}/events?after={after}&wait_ms={}",
            wait.as_millis()
        );
        self.send(
            self.http
                .get(self.url(&url))
                .timeout(wait + Duration::from_secs(2)),
        )
        .await
    }

    /// Events of every call with `gseq > after`, waiting up to `wait`.
    pub async fn all_events(&self, after: u64, wait: Duration) -> Result<Vec<Event>, ClientError> {
        let url = format!("/v1/events?after={after}&wait_ms={}", wait.as_millis());
        self.send(
            self.http
                .get(self.url(&url))
                .timeout(wait + Duration::from_secs(2)),
        )
        .await
    }

    /// One tenant's events of every call, in global order (`gseq > after`), long-polling.
    pub async fn tenant_events(
        &self,
        tenant: &str,
        after: u64,
        wait: Duration,
    ) -> Result<Vec<Event>, ClientError> {
        let url = format!("/v1/events?after={after}&wait_ms={}", wait.as_millis());
        self.send(
            self.http
                .get(self.url(&url))
                .query(&[("tenant", tenant)])
                .timeout(wait + Duration::from_secs(2)),
        )
        .await
    }

    pub async fn app_numbers(&self, tenant: &str) -> Result<Vec<crate::AppNumber>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/app-numbers"))),
        )
        .await
    }

    pub async fn put_app_number(
        &self,
        tenant: &str,
        number: &str,
        label: &str,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/app-numbers/{number}")))
                .json(&serde_json::json!({ "label": label })),
        )
        .await
    }

    pub async fn delete_app_number(&self, tenant: &str, number: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/app-numbers/{number}"))),
        )
        .await
    }

    pub async fn registrations(&self, tenant: &str) -> Result<Vec<Registration>, ClientError> {
        self.send(
            self.http
                .get(self.url("/v1/registrations"))
                .query(&[("tenant", tenant)]),
        )
        .await
    }

    /// A tenant's channels by name (`None`: every live one).
    pub async fn channels(
        &self,
        tenant: &str,
        names: Option<&[&str]>,
    ) -> Result<Vec<crate::Channel>, ClientError> {
        let mut q = vec![("tenant", tenant.to_string())];
        if let Some(n) = names {
            q.push(("names", n.join(",")));
        }
        self.send(self.http.get(self.url("/v1/channels")).query(&q))
            .await
    }

    pub async fn trunk_registrations(&self) -> Result<Vec<TrunkRegistration>, ClientError> {
        self.send(self.http.get(self.url("/v1/trunk-registrations")))
            .await
    }

    /// Send a MESSAGE or NOTIFY to every registered phone of a user; what each answered.
    pub async fn sip_message(
        &self,
        req: &SipMessageRequest,
    ) -> Result<Vec<SipMessageResult>, ClientError> {
        self.send(
            self.http
                .post(self.url("/v1/sip/messages"))
                .json(req)
                .timeout(Duration::from_secs(40)),
        )
        .await
    }

    pub async fn cdrs(&self, tenant: &str, limit: u32) -> Result<Vec<Cdr>, ClientError> {
        let limit = limit.to_string();
        self.send(
            self.http
                .get(self.url("/v1/cdrs"))
                .query(&[("tenant", tenant), ("limit", &limit)]),
        )
        .await
    }

    /// Mute or unmute a leg in its conference.
    pub async fn mute(&self, id: &CallId, req: &crate::MuteRequest) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .post(self.url(&format!("/v1/calls/{id}/mute")))
                .json(req),
        )
        .await
    }

    /// The members of a tenant's conference room (empty: no such room now).
    pub async fn conference(
        &self,
        tenant: &str,
        room: &str,
    ) -> Result<Vec<crate::ConferenceMember>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/conferences/{room}")))
                .query(&[("tenant", tenant)]),
        )
        .await
    }

    /// Finished recordings of a tenant (of one call if given), newest first.
    pub async fn recordings(
        &self,
        tenant: &str,
        call: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::Recording>, ClientError> {
        let limit = limit.to_string();
        let mut q = vec![("tenant", tenant), ("limit", limit.as_str())];
        if let Some(c) = call {
            q.push(("call", c));
        }
        self.send(self.http.get(self.url("/v1/recordings")).query(&q))
            .await
    }

    /// A recording's WAV (the whole file, or the `Range` asked for): the response as it came
    /// (200 or 206 with its `Content-Range`; 416 for a range outside the file).
    pub async fn recording_file(
        &self,
        tenant: &str,
        id: &str,
        range: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut req = self
            .http
            .get(self.url(&format!("/v1/recordings/{id}")))
            .query(&[("tenant", tenant)]);
        if let Some(r) = range {
            req = req.header(reqwest::header::RANGE, r);
        }
        let resp = req.send().await.map_err(unreachable)?;
        if resp.status().as_u16() == 416 {
            return Ok(resp);
        }
        Self::checked_response(resp).await
    }

    pub async fn delete_recording(&self, tenant: &str, id: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/recordings/{id}")))
                .query(&[("tenant", tenant)]),
        )
        .await
    }

    pub async fn recording_policy(
        &self,
        tenant: &str,
    ) -> Result<crate::RecordingPolicy, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/recording"))),
        )
        .await
    }

    pub async fn set_recording_policy(
        &self,
        tenant: &str,
        policy: &crate::RecordingPolicy,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/recording")))
                .json(policy),
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let resp = Self::checked(req).await?;
        resp.json()
            .await
            .map_err(|e| ClientError::BadReply(e.to_string()))
    }

    async fn send_empty(&self, req: reqwest::RequestBuilder) -> Result<(), ClientError> {
        Self::checked(req).await.map(|_| ())
    }

    async fn checked(req: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let resp = req.send().await.map_err(unreachable)?;
        Self::checked_response(resp).await
    }

    async fn checked_response(resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        match resp.json::<ApiErrorBody>().await {
            Ok(body) => Err(ClientError::Api {
                kind: body.error,
                message: body.message,
            }),
            Err(_) => Err(ClientError::BadReply(format!(
                "status {status} without error body"
            ))),
        }
    }
}

/// A request that got no answer, with the cause's chain (a timeout, a refused connection, a
/// connection closed under the request: reqwest's own message names only the URL).
fn unreachable(e: reqwest::Error) -> ClientError {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    ClientError::Unavailable(text)
}
