//! The rvoip boundary: the event pump that turns rvoip callbacks into one channel of
//! [`SipIn`] messages, and digest authentication against the store. Only this module and
//! `driver` name rvoip types.

use patchbay_store::Store;
use rvoip_sip::{
    CallHandler, CallHandlerDecision, CredentialAuthError, DigestAlgorithm, DigestSecret,
    DigestSecretProvider, Event, IncomingCall, IncomingRegister, SipAuthService, SipAuthSource,
    SipTransportSecurityContext,
};
use rvoip_sip_core::types::headers::HeaderAccess;
use rvoip_sip_core::types::headers::HeaderName;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// What the pump knows of an inbound INVITE.
#[derive(Debug)]
pub struct InviteFacts {
    pub id: rvoip_sip::CallId,
    pub from: String,
    pub to: String,
    pub ruri: String,
    pub authorization: Option<String>,
    pub transport: SipTransportSecurityContext,
    pub sdp: Option<String>,
    pub body: Vec<u8>,
}

pub enum SipIn {
    Event(Event),
    Invite(InviteFacts),
    Register(IncomingRegister),
    /// An INVITE whose credentials checked out (sent by the driver's auth task).
    Authorized {
        facts: InviteFacts,
        tenant: String,
        caller: String,
        /// The request URI when it names an outside domain on the tenant's allow-list (dialled
        /// as it is); `None` for this PBX (its user is looked up).
        outside: Option<String>,
    },
}

/// rvoip `CallHandler` that only forwards: all decisions happen in the driver loop.
pub struct Pump {
    pub tx: UnboundedSender<SipIn>,
    /// Backstop: rvoip answers 503 to an inbound call we never answered after this long.
    pub ring_max: Duration,
}

#[async_trait::async_trait]
impl CallHandler for Pump {
    async fn on_event(&self, ev: Event) {
        if !matches!(
            ev,
            Event::IncomingCall { .. } | Event::IncomingRegister { .. }
        ) {
            let _ = self.tx.send(SipIn::Event(ev));
        }
    }

    async fn on_incoming_call(&self, call: IncomingCall) -> CallHandlerDecision {
        let req = call.raw_request();
        let authorization = req.and_then(|r| r.raw_header_value(&HeaderName::Authorization));
        let facts = InviteFacts {
            id: call.call_id.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
            ruri: req.map(|r| r.uri().to_string()).unwrap_or_default(),
            authorization,
            transport: call.transport_security_context().clone(),
            sdp: call.sdp.clone(),
            body: req.map(|r| r.body().to_vec()).unwrap_or_default(),
        };
        let _ = self.tx.send(SipIn::Invite(facts));
        CallHandlerDecision::Defer(call.defer(self.ring_max))
    }

    async fn on_register_received(&self, r: IncomingRegister) {
        let _ = self.tx.send(SipIn::Register(r));
    }
}

/// HA1 lookups for one realm (= one tenant).
struct Ha1Provider {
    store: Arc<dyn Store>,
    tenant: String,
}

#[async_trait::async_trait]
impl DigestSecretProvider for Ha1Provider {
    async fn lookup_digest_secret(
        &self,
        username: &str,
        _realm: &str,
        algorithm: DigestAlgorithm,
    ) -> Result<Option<DigestSecret>, CredentialAuthError> {
        let creds = self
            .store
            .sip_credentials(&self.tenant, username)
            .await
            .map_err(|e| CredentialAuthError::Unavailable(e.to_string()))?;
        Ok(creds.map(|c| match algorithm {
            DigestAlgorithm::SHA256 | DigestAlgorithm::SHA256Sess => {
                DigestSecret::Ha1(c.ha1_sha256)
            }
            _ => DigestSecret::Ha1(c.ha1_md5),
        }))
    }
}

/// Digest nonce and nonce-count replay state, shared by every tenant's verifiers.
///
/// rvoip's built-in state keeps at most 4,096 nonces and, once full, hands the newest nonce to
/// every further client, whose `nc=00000001` then looks like a replay: after ~4,096 challenges in
/// the 300 s nonce lifetime all authentication failed (seen at 300 calls/s). This store is bounded
/// by moka (capacity and time to live) instead, and keeps counts per (user, nonce, cnonce).
pub struct ReplayStore {
    nonces: moka::sync::Cache<String, std::time::SystemTime>,
    counts: moka::sync::Cache<(String, String, String), u32>,
}

impl ReplayStore {
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            nonces: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            counts: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        }
    }

    fn accept(&self, key: (String, String, String), nc: u32) -> bool {
        use moka::ops::compute::Op;
        let result = self.counts.entry(key).and_compute_with(|old| match old {
            Some(e) if *e.value() >= nc => Op::Nop,
            _ => Op::Put(nc),
        });
        matches!(
            result,
            moka::ops::compute::CompResult::Inserted(_)
                | moka::ops::compute::CompResult::ReplacedWith(_)
        )
    }
}

#[async_trait::async_trait]
impl rvoip_sip::DigestReplayStore for ReplayStore {
    async fn record_nonce(
        &self,
        nonce: &str,
        expires_at: std::time::SystemTime,
    ) -> Result<(), CredentialAuthError> {
        self.nonces.insert(nonce.to_string(), expires_at);
        Ok(())
    }

    async fn nonce_status(
        &self,
        nonce: &str,
        now: std::time::SystemTime,
    ) -> Result<rvoip_sip::DigestNonceStatus, CredentialAuthError> {
        Ok(match self.nonces.get(nonce) {
            Some(exp) if exp > now => rvoip_sip::DigestNonceStatus::Active,
            Some(_) => rvoip_sip::DigestNonceStatus::Expired,
            None => rvoip_sip::DigestNonceStatus::Unknown,
        })
    }

    async fn accept_nonce_count(
        &self,
        username: &str,
        nonce: &str,
        nc: u32,
    ) -> Result<bool, CredentialAuthError> {
        Ok(self.accept((username.to_string(), nonce.to_string(), String::new()), nc))
    }

    async fn admit_nonce(
        &self,
        proposed: &str,
        expires_at: std::time::SystemTime,
    ) -> Result<String, CredentialAuthError> {
        self.nonces.insert(proposed.to_string(), expires_at);
        Ok(proposed.to_string())
    }

    async fn accept_client_nonce_count(
        &self,
        username: &str,
        nonce: &str,
        cnonce: &str,
        nc: u32,
        now: std::time::SystemTime,
    ) -> Result<bool, CredentialAuthError> {
        if self.nonces.get(nonce).is_none_or(|exp| exp <= now) {
            return Ok(false);
        }
        Ok(self.accept(
            (username.to_string(), nonce.to_string(), cnonce.to_string()),
            nc,
        ))
    }
}

/// Digest verifiers of one tenant: MD5 and SHA-256 (one rvoip service each).
pub struct TenantAuth {
    pub tenant: String,
    pub realm: String,
    pub md5: SipAuthService,
    pub sha256: SipAuthService,
}

impl TenantAuth {
    pub fn new(store: Arc<dyn Store>, replay: Arc<ReplayStore>, tenant: &str, realm: &str) -> Self {
        let p: Arc<dyn DigestSecretProvider> = Arc::new(Ha1Provider {
            store,
            tenant: tenant.into(),
        });
        Self {
            tenant: tenant.into(),
            realm: realm.into(),
            md5: SipAuthService::new()
                .with_digest_replay_store(replay.clone())
                .with_digest_provider(realm, p.clone()),
            sha256: SipAuthService::new()
                .with_digest_replay_store(replay)
                .with_digest_provider(realm, p)
                .with_digest_provider_algorithm(DigestAlgorithm::SHA256),
        }
    }

    /// The service matching the algorithm a client answered with.
    pub fn service_for(&self, authorization: Option<&str>) -> &SipAuthService {
        match authorization.and_then(|a| digest_param(a, "algorithm")) {
            Some(alg) if alg.eq_ignore_ascii_case("SHA-256") => &self.sha256,
            _ => &self.md5,
        }
    }

    /// Challenge header values: MD5 first (SIPp and most deployed phones read only the first
    /// one), then SHA-256 (RFC 8760).
    pub async fn challenges(&self) -> Vec<String> {
        let mut out = Vec::new();
        for svc in [&self.md5, &self.sha256] {
            if let Ok(ch) = svc.challenges_async(SipAuthSource::Origin).await {
                out.extend(ch.into_iter().map(|c| c.value));
            }
        }
        out
    }
}

/// All tenants' verifiers, by realm and by name. Tenants created while the B2BUA runs (Brekeke
/// `createTenant_mt`, the native admin API) are picked up by [`Auth::refresh`]: on demand by the
/// registrar when a REGISTER names a realm it does not know, and periodically in the background
/// (the driver loop itself never waits on the store).
pub struct Auth {
    store: Arc<dyn Store>,
    replay: Arc<ReplayStore>,
    maps: RwLock<TenantMaps>,
    /// When the tenant list was last read (reloads are throttled: unknown realms are cheap to
    /// send, a store read is not).
    loaded_at: Mutex<Instant>,
}

#[derive(Default)]
struct TenantMaps {
    by_realm: HashMap<String, Arc<TenantAuth>>,
    by_tenant: HashMap<String, Arc<TenantAuth>>,
}

impl Auth {
    pub fn new(store: Arc<dyn Store>, tenants: &[patchbay_store::Tenant]) -> Self {
        // Nonces live 300 s in rvoip; keep replay state a minute longer.
        let replay = Arc::new(ReplayStore::new(1_000_000, Duration::from_secs(360)));
        let a = Self {
            store,
            replay,
            maps: RwLock::new(TenantMaps::default()),
            loaded_at: Mutex::new(Instant::now()),
        };
        a.add(tenants);
        a
    }

    /// Add verifiers for tenants not known yet; how many were new.
    fn add(&self, tenants: &[patchbay_store::Tenant]) -> usize {
        let Ok(mut m) = self.maps.write() else {
            return 0;
        };
        let mut added = 0;
        for t in tenants {
            if m.by_tenant.contains_key(&t.name) {
                continue;
            }
            let a = Arc::new(TenantAuth::new(
                self.store.clone(),
                self.replay.clone(),
                &t.name,
                &t.realm,
            ));
            m.by_realm.insert(t.realm.clone(), a.clone());
            m.by_tenant.insert(t.name.clone(), a);
            added += 1;
        }
        added
    }

    /// Read the tenant list again if the last read is older than `min_gap`; how many tenants
    /// were new.
    pub async fn refresh(&self, min_gap: Duration) -> usize {
        {
            let Ok(mut at) = self.loaded_at.lock() else {
                return 0;
            };
            if at.elapsed() < min_gap {
                return 0;
            }
            *at = Instant::now();
        }
        match self.store.tenants().await {
            Ok(ts) => self.add(&ts),
            Err(e) => {
                tracing::warn!(error = %e, "reloading tenants failed");
                0
            }
        }
    }

    pub fn has_tenant(&self, name: &str) -> bool {
        self.maps
            .read()
            .is_ok_and(|m| m.by_tenant.contains_key(name))
    }

    /// The tenant whose realm is `realm`.
    pub fn realm_tenant(&self, realm: &str) -> Option<String> {
        let m = self.maps.read().ok()?;
        m.by_realm.get(realm).map(|t| t.tenant.clone())
    }

    pub fn knows_realm(&self, realm: &str) -> bool {
        self.maps
            .read()
            .is_ok_and(|m| m.by_realm.contains_key(realm))
    }

    /// The tenant for a request: the realm the client answered, else the tenant whose realm is
    /// the request's domain, else the default.
    pub fn pick(
        &self,
        authorization: Option<&str>,
        domain: &str,
        default: &str,
    ) -> Option<Arc<TenantAuth>> {
        let m = self.maps.read().ok()?;
        if let Some(realm) = authorization.and_then(|a| digest_param(a, "realm")) {
            return m.by_realm.get(&realm).cloned();
        }
        m.by_realm
            .get(domain)
            .or_else(|| m.by_tenant.get(default))
            .cloned()
    }
}

/// Stage further `WWW-Authenticate` values and our User-Agent on a challenge builder
/// (`None` if rvoip's header policy refuses one).
pub(crate) fn stage_challenges<B: rvoip_sip::SipRequestOptions>(
    mut b: B,
    extra: &[String],
) -> Option<B> {
    for value in extra {
        b = b
            .with_raw_header(HeaderName::WwwAuthenticate, value.clone())
            .ok()?;
    }
    b.with_raw_header(HeaderName::UserAgent, crate::driver::USER_AGENT)
        .ok()
}

/// A parameter of a Digest credentials header (quoted or not).
pub fn digest_param(header: &str, name: &str) -> Option<String> {
    let rest = header.trim_start();
    let rest = rest.strip_prefix("Digest").unwrap_or(rest);
    for part in split_params(rest) {
        let (k, v) = part.split_once('=')?;
        if k.trim().eq_ignore_ascii_case(name) {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// `user` and `host[:port]` of a SIP URI, with or without display name and brackets.
/// A SIP URI as rvoip reads it: the reading any INVITE to it would be sent by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    pub user: String,
    /// Lower case; IPv6 without brackets.
    pub host: String,
    pub port: Option<u16>,
    /// rvoip's own rendering: what is dialled, so what was checked is what is sent.
    pub canonical: String,
}

/// Parse a `sip:` / `sips:` URI with rvoip's parser. `None` for anything else, and for URIs
/// that would route somewhere other than their host (`maddr`, URI headers).
pub fn parse_sip_uri(s: &str) -> Option<SipUri> {
    use rvoip_sip_core::types::uri::{Host, Scheme, Uri};
    let uri: Uri = s.trim().parse().ok()?;
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips)
        || uri.raw_uri.is_some()
        || !uri.headers.is_empty()
    {
        return None;
    }
    let canonical = uri.to_string();
    if canonical.to_ascii_lowercase().contains(";maddr") {
        return None;
    }
    let host = match &uri.host {
        Host::Domain(d) => d.to_ascii_lowercase(),
        Host::Address(ip) => ip.to_string(),
    };
    Some(SipUri {
        user: uri.user.clone().unwrap_or_default(),
        host,
        port: uri.port,
        canonical,
    })
}

pub fn uri_parts(uri: &str) -> (String, String) {
    let s = uri.trim();
    let s = match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    let s = s
        .strip_prefix("sips:")
        .or_else(|| s.strip_prefix("sip:"))
        .unwrap_or(s);
    let s = s.split(';').next().unwrap_or(s);
    let s = s.split('?').next().unwrap_or(s);
    match s.split_once('@') {
        Some((u, h)) => (u.split(':').next().unwrap_or(u).to_string(), h.to_string()),
        None => (String::new(), s.to_string()),
    }
}

/// Host part without port.
pub fn host_only(hostport: &str) -> &str {
    if hostport.starts_with('[') {
        return hostport
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or(hostport);
    }
    hostport.split(':').next().unwrap_or(hostport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replay_store_rejects_reused_counts_per_client() {
        use rvoip_sip::DigestReplayStore as _;
        let r = ReplayStore::new(100, Duration::from_secs(60));
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        let now = std::time::SystemTime::now();
        assert_eq!(r.admit_nonce("n1", later).await.unwrap(), "n1");
        assert!(
            r.accept_client_nonce_count("4005", "n1", "c1", 1, now)
                .await
                .unwrap()
        );
        assert!(
            !r.accept_client_nonce_count("4005", "n1", "c1", 1, now)
                .await
                .unwrap(),
            "replay"
        );
        assert!(
            r.accept_client_nonce_count("4005", "n1", "c1", 2, now)
                .await
                .unwrap()
        );
        assert!(
            r.accept_client_nonce_count("4007", "n1", "c2", 1, now)
                .await
                .unwrap(),
            "another client"
        );
        assert!(
            !r.accept_client_nonce_count("4005", "unknown", "c1", 1, now)
                .await
                .unwrap()
        );
    }

    #[test]
    fn parses_digest_params_and_uris() {
        let h = r#"Digest username="4005",realm="demo", nonce="a,b", uri="sip:4007@127.0.0.1:5060", algorithm=MD5"#;
        assert_eq!(digest_param(h, "realm").as_deref(), Some("demo"));
        assert_eq!(digest_param(h, "nonce").as_deref(), Some("a,b"));
        assert_eq!(digest_param(h, "algorithm").as_deref(), Some("MD5"));
        assert_eq!(
            uri_parts("\"A\" <sip:4005@127.0.0.1:5071;transport=udp>;tag=1"),
            ("4005".into(), "127.0.0.1:5071".into())
        );
        assert_eq!(uri_parts("sip:demo"), ("".into(), "demo".into()));
        assert_eq!(host_only("127.0.0.1:5060"), "127.0.0.1");
    }
}
