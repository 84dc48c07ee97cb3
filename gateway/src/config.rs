//! The gateway's configuration (`gateway:` section of the app config).

use patchbay_gateway_proto::route::Vendor;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    pub listen: SocketAddr,
    /// Vendor APIs served here, tried in order by path (Ozeki answers every path: put it last).
    pub profiles: Vec<Vendor>,
    /// Tenant for requests whose Host header maps to none (single-tenant vendor APIs).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Serve TLS with this certificate chain and key (PEM files).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Digest nonce lifetime; after it the challenge says `stale=true`.
    pub nonce_ttl_secs: u32,
    /// Hex of 32 bytes signing digest nonces. Gateways sharing it accept each other's nonces;
    /// empty = a random key per process.
    pub nonce_key: String,
    /// Failed logins from one address within `failure_window_secs` before it is banned.
    pub max_failures: u32,
    pub failure_window_secs: u32,
    pub ban_secs: u32,
    /// How long a verified secret (argon2 check) is remembered.
    pub cache_ttl_secs: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            nonce_ttl_secs: 300,
            nonce_key: String::new(),
            max_failures: 20,
            failure_window_secs: 60,
            ban_secs: 300,
            cache_ttl_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    /// Requests being processed at once above which new ones get the vendor's "busy" (503).
    pub max_in_flight: usize,
    /// Requests per second per API key / user (burst: twice that).
    pub requests_per_sec_per_key: u32,
    pub requests_per_sec_per_tenant: u32,
    /// Call attempts per second per tenant, and live calls per tenant.
    pub calls_per_sec_per_tenant: u32,
    pub max_calls_per_tenant: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_header_bytes: 16 << 10,
            max_in_flight: 4096,
            requests_per_sec_per_key: 200,
            requests_per_sec_per_tenant: 2000,
            calls_per_sec_per_tenant: 50,
            max_calls_per_tenant: 500,
        }
    }
}

/// The webhook deliverer (see `webhooks`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Notifications leased per claim.
    pub batch: u32,
    /// How long a gateway holds a claimed notification before another may deliver it.
    pub lease_secs: u32,
    /// Each attempt's time limit (connect, redirects, reply).
    pub timeout_ms: u64,
    /// Attempts before a notification becomes a dead letter.
    pub max_attempts: u32,
    /// Age after which a notification that still fails becomes a dead letter.
    pub max_age_secs: u32,
    /// The first retry's wait (doubling each time, up to `retry_max_ms`; jittered).
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Requests in flight to one destination (scheme, host, port) at once.
    pub per_destination: usize,
    /// Largest reply body read.
    pub max_response_bytes: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            batch: 256,
            lease_secs: 30,
            timeout_ms: 5_000,
            max_attempts: 8,
            max_age_secs: 86_400,
            retry_base_ms: 1_000,
            retry_max_ms: 300_000,
            per_destination: 16,
            max_response_bytes: 256 << 10,
        }
    }
}

impl WebhookConfig {
    fn validate(&self, errs: &mut Vec<String>) {
        if self.batch == 0 || self.per_destination == 0 || self.max_attempts == 0 {
            errs.push(
                "gateway.webhooks: batch, per_destination and max_attempts must be > 0".into(),
            );
        }
        if self.timeout_ms == 0 || self.timeout_ms + 1_000 >= u64::from(self.lease_secs) * 1000 {
            errs.push(
                "gateway.webhooks: timeout_ms must be > 0 and a second shorter than lease_secs"
                    .into(),
            );
        }
        if self.retry_base_ms == 0 || self.retry_base_ms > self.retry_max_ms {
            errs.push("gateway.webhooks: 0 < retry_base_ms <= retry_max_ms".into());
        }
    }
}

/// One B2BUA node of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct B2buaNode {
    /// Its `b2bua.node`: the calls whose ids name it are its.
    pub node: u8,
    /// Its control API, like `http://10.0.0.11:9181`.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    pub listeners: Vec<ListenerConfig>,
    /// `/metrics` and `/health`.
    pub admin_listen: SocketAddr,
    /// The B2BUA's control API (one node).
    pub b2bua_url: String,
    /// Several B2BUA nodes (a cluster): each one's number (`b2bua.node`) and control API.
    /// When set, `b2bua_url` is not used; every node takes the same `b2bua_token`.
    pub b2bua_nodes: Vec<B2buaNode>,
    /// The B2BUA's `control_token`, sent as a bearer token on every control-API request.
    /// Required to start; `patchbay` fills it from `<data_dir>/control_token` when empty.
    pub b2bua_token: String,
    /// Per-request timeout towards the B2BUA (connect: half of it).
    pub b2bua_timeout_ms: u64,
    /// Calls are created held and started once the reply with the call id is written; if that
    /// start never comes (the gateway died in between), the B2BUA starts them after this long.
    pub call_start_within_ms: u32,
    /// How often (ms) the store's event log is read for new events (event feeds, per-call
    /// event reads and the webhooks built from events see them within this time).
    pub events_poll_ms: u64,
    /// Worker threads of the HTTP service.
    pub threads: usize,
    /// Extra SIP headers API clients may put on calls (case-insensitive names).
    pub allowed_call_headers: Vec<String>,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub webhooks: WebhookConfig,
    /// The URL apps reach the Ozeki listener at (`http://pbx.example.com:7780`), for the
    /// `RecordURL` of recordings OzML asked for; empty: the first Ozeki listener's address.
    pub ozeki_public_url: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        let main = Vendor::PATH_BASED.to_vec();
        let l = |port: u16, profiles: Vec<Vendor>| ListenerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            profiles,
            tenant: Some("demo".into()),
            tls: None,
        };
        Self {
            listeners: vec![
                l(8080, main),
                l(7780, vec![Vendor::Ozeki]),
                l(6667, vec![Vendor::SipxCallController]),
            ],
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9180)),
            b2bua_url: "http://127.0.0.1:9181".into(),
            b2bua_nodes: Vec::new(),
            b2bua_token: String::new(),
            b2bua_timeout_ms: 800,
            call_start_within_ms: 2000,
            events_poll_ms: 50,
            threads: 2,
            allowed_call_headers: vec!["X-Crm-Id".into(), "X-Campaign".into()],
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            webhooks: WebhookConfig::default(),
            ozeki_public_url: String::new(),
        }
    }
}

impl GatewayConfig {
    /// Every problem, one line each.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.listeners.is_empty() {
            errs.push("gateway.listeners must not be empty".into());
        }
        let mut ports = vec![self.admin_listen.port()];
        for (i, l) in self.listeners.iter().enumerate() {
            if l.profiles.is_empty() {
                errs.push(format!("gateway.listeners[{i}].profiles must not be empty"));
            }
            if l.listen.port() != 0 && ports.contains(&l.listen.port()) {
                errs.push(format!(
                    "gateway.listeners[{i}].listen: port {} used twice",
                    l.listen.port()
                ));
            }
            ports.push(l.listen.port());
            if let Some(t) = &l.tls {
                for (k, p) in [("cert", &t.cert), ("key", &t.key)] {
                    if !std::path::Path::new(p).is_file() {
                        errs.push(format!("gateway.listeners[{i}].tls.{k}: no file {p}"));
                    }
                }
            }
        }
        if !self.b2bua_url.starts_with("http://") && !self.b2bua_url.starts_with("https://") {
            errs.push("gateway.b2bua_url must be an http(s) URL".into());
        }
        // One socket per address (pingora would listen twice on one descriptor).
        let mut addrs = std::collections::HashSet::new();
        for a in self
            .listeners
            .iter()
            .map(|l| l.listen)
            .chain([self.admin_listen])
        {
            if a.port() != 0 && !addrs.insert(a) {
                errs.push(format!("gateway: {a} is given to two listeners"));
            }
        }
        let mut numbers = std::collections::HashSet::new();
        for n in &self.b2bua_nodes {
            if !n.url.starts_with("http://") && !n.url.starts_with("https://") {
                errs.push(format!(
                    "gateway.b2bua_nodes: node {}'s url must be http(s)",
                    n.node
                ));
            }
            if n.node > 99 || !numbers.insert(n.node) {
                errs.push(format!(
                    "gateway.b2bua_nodes: node {} is out of 0..=99 or listed twice",
                    n.node
                ));
            }
        }
        if !(10..=5_000).contains(&self.events_poll_ms) {
            errs.push("gateway.events_poll_ms must be 10..=5000".into());
        }
        if self.b2bua_timeout_ms < 50 {
            errs.push("gateway.b2bua_timeout_ms must be >= 50".into());
        }
        for h in &self.allowed_call_headers {
            if let Some(why) = patchbay_api::header_refusal(h, "") {
                errs.push(format!("gateway.allowed_call_headers: {why}"));
            }
        }
        if !(1..=10_000).contains(&self.call_start_within_ms) {
            errs.push("gateway.call_start_within_ms must be 1..=10000".into());
        }
        if self.threads == 0 {
            errs.push("gateway.threads must be >= 1".into());
        }
        if !self.ozeki_public_url.is_empty()
            && !patchbay_gateway_proto::vendors::native::url_ok(&self.ozeki_public_url)
        {
            errs.push("gateway.ozeki_public_url must be an http(s) URL (or empty)".into());
        }
        let a = &self.auth;
        if !a.nonce_key.is_empty()
            && (a.nonce_key.len() != 64 || hex::decode(&a.nonce_key).is_err())
        {
            errs.push("gateway.auth.nonce_key must be 64 hex digits (or empty)".into());
        }
        if a.nonce_ttl_secs == 0 || a.max_failures == 0 || a.failure_window_secs == 0 {
            errs.push(
                "gateway.auth: nonce_ttl_secs, max_failures, failure_window_secs must be > 0"
                    .into(),
            );
        }
        let l = &self.limits;
        if l.max_body_bytes < 1024 || l.max_header_bytes < 1024 || l.max_in_flight == 0 {
            errs.push(
                "gateway.limits: max_body_bytes and max_header_bytes >= 1024, max_in_flight > 0"
                    .into(),
            );
        }
        if l.requests_per_sec_per_key == 0
            || l.requests_per_sec_per_tenant == 0
            || l.calls_per_sec_per_tenant == 0
            || l.max_calls_per_tenant == 0
        {
            errs.push("gateway.limits: rates and call caps must be > 0".into());
        }
        self.webhooks.validate(&mut errs);
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_reserved_headers_cannot_be_allow_listed() {
        let mut c = GatewayConfig::default();
        assert_eq!(c.validate(), Vec::<String>::new());
        c.allowed_call_headers.push("Via".into());
        c.allowed_call_headers.push("Answer-Mode".into());
        let errs = c.validate();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("Via is reserved to the B2BUA"), "{errs:?}");
    }
}
