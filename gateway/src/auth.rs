//! The I/O half of authentication: secrets from the store, argon2 checks off the request
//! threads, moka caches of verified secrets and nonce counts, failure bans. The checks themselves
//! are `patchbay_gateway_proto::auth`.

use crate::limits::FailureBans;
use crate::metrics::Metrics;
use moka::sync::Cache;
use patchbay_gateway_proto::auth::{
    DigestResponse, IpPattern, NonceCheck, NonceKey, basic, digest, jwt,
};
use patchbay_gateway_proto::{Failure, Principal, Role, Scheme};
use patchbay_store::{Store, verify_secret};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Why a verification did not yield a principal.
#[derive(Debug)]
enum Miss {
    /// Wrong or unknown credentials: the metric's reason.
    Refused(&'static str),
    /// The store could not be read.
    Internal(String),
}

/// Where a request comes from and which tenant its Host/listener names.
#[derive(Debug, Clone)]
pub struct Origin {
    pub ip: IpAddr,
    pub tenant: Option<String>,
}

#[derive(Debug)]
pub struct Authn {
    store: Arc<dyn Store>,
    metrics: Metrics,
    nonce_key: NonceKey,
    nonce_ttl_ms: u64,
    /// Credentials verified lately (by a hash of them). A miss is verified once however many
    /// requests bring the same credentials at that moment (a client's connections all miss
    /// together when the entry runs out: one argon2 run, not one each).
    verified: moka::future::Cache<[u8; 32], Principal>,
    nc_seen: Cache<String, Arc<std::sync::atomic::AtomicU32>>,
    ip_lists: Cache<(String, String), Arc<Option<Vec<IpPattern>>>>,
    hosts: Cache<String, Option<String>>,
    realms: Cache<String, Option<String>>,
    bans: FailureBans,
    /// Verified against when a key or user is unknown, so that costs as much as a wrong secret.
    dummy_hash: String,
}

fn cache_key(parts: &[&str]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().into()
}

impl Authn {
    pub fn new(store: Arc<dyn Store>, metrics: Metrics, cfg: &crate::config::AuthConfig) -> Self {
        let key: [u8; 32] = match hex::decode(&cfg.nonce_key) {
            Ok(v) if v.len() == 32 => v.try_into().unwrap_or([0; 32]),
            _ => rand::random(),
        };
        let ttl = Duration::from_secs(u64::from(cfg.cache_ttl_secs.max(1)));
        Self {
            store,
            metrics,
            nonce_key: NonceKey::new(key),
            nonce_ttl_ms: u64::from(cfg.nonce_ttl_secs) * 1000,
            verified: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
            nc_seen: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(Duration::from_secs(u64::from(cfg.nonce_ttl_secs) + 60))
                .build(),
            ip_lists: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(5))
                .build(),
            hosts: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            realms: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            bans: FailureBans::new(cfg.max_failures, cfg.failure_window_secs, cfg.ban_secs),
            dummy_hash: patchbay_store::hash_secret("patchbay-no-such-secret"),
        }
    }

    /// Forget cached verifications (after PINs, keys or allow-lists change through this gateway;
    /// other gateways notice within `cache_ttl_secs`).
    pub fn invalidate(&self) {
        self.verified.invalidate_all();
        self.ip_lists.invalidate_all();
        self.hosts.invalidate_all();
        self.realms.invalidate_all();
    }

    pub fn check_ban(&self, ip: IpAddr) -> Result<(), Failure> {
        match self.bans.banned(ip, Instant::now()) {
            Some(retry_after_secs) => {
                self.metrics.rejected.with_label_values(&["banned"]).inc();
                Err(Failure::Banned { retry_after_secs })
            }
            None => Ok(()),
        }
    }

    /// Count a failed login and return the (deliberately uninformative) failure.
    fn fail(&self, ip: IpAddr, scheme: Scheme, reason: &str, challenges: Vec<String>) -> Failure {
        self.metrics
            .auth_failures
            .with_label_values(&[scheme.as_str(), reason])
            .inc();
        self.bans.record(ip, Instant::now());
        Failure::AuthFailed { challenges }
    }

    /// `secret` against an argon2 `hash` a tenant setting keeps (Taridium's IPPS password);
    /// a right one is cached (with the hash, so a new password is checked afresh).
    pub async fn hashed_secret_ok(&self, scope: &str, hash: &str, secret: &str) -> bool {
        let ck = cache_key(&["hashed", scope, hash, secret]);
        let checked = self
            .verified
            .try_get_with(ck, async {
                if !self.argon2(Some(hash.to_string()), secret).await {
                    return Err(());
                }
                Ok(Principal {
                    tenant: String::new(),
                    user: None,
                    key: None,
                    roles: Vec::new(),
                    scheme: Scheme::Basic,
                })
            })
            .await;
        checked.is_ok()
    }

    /// A failed login of a form the caller checked itself (sipX's private keys, conference
    /// PINs): counted and held against the address like a wrong password.
    pub fn refuse(
        &self,
        ip: IpAddr,
        scheme: Scheme,
        reason: &str,
        challenges: Vec<String>,
    ) -> Failure {
        self.fail(ip, scheme, reason, challenges)
    }

    /// A user the request names does not exist, and the vendor says so (sipXcallController):
    /// counted and held against the address like a wrong password.
    pub fn unknown_user(&self, ip: IpAddr, scheme: Scheme, user: &str) -> Failure {
        self.fail(ip, scheme, "unknown_user", Vec::new());
        Failure::UnknownUser(user.to_string())
    }

    /// Count a request that brought no credentials.
    pub fn missing(&self, scheme: &str, challenges: Vec<String>) -> Failure {
        self.metrics
            .auth_failures
            .with_label_values(&[scheme, "missing"])
            .inc();
        Failure::AuthRequired { challenges }
    }

    fn internal(&self, e: impl std::fmt::Display) -> Failure {
        Failure::Internal(e.to_string())
    }

    /// Tenant named by a Host header (without port), else the listener's.
    pub async fn tenant_for(&self, host: Option<&str>, listener: Option<&str>) -> Option<String> {
        if let Some(h) = host {
            let h = h.rsplit_once(':').map_or(h, |(n, p)| {
                if p.chars().all(|c| c.is_ascii_digit()) {
                    n
                } else {
                    h
                }
            });
            let lower;
            let h = if h.bytes().any(|b| b.is_ascii_uppercase()) {
                lower = h.to_ascii_lowercase();
                lower.as_str()
            } else {
                h
            };
            let found = match self.hosts.get(h) {
                Some(v) => v,
                None => {
                    let v = self.store.tenant_for_host(h).await.ok().flatten();
                    self.hosts.insert(h.to_string(), v.clone());
                    v
                }
            };
            if found.is_some() {
                return found;
            }
        }
        listener.map(str::to_string)
    }

    pub async fn realm_of(&self, tenant: &str) -> String {
        if let Some(r) = self.realms.get(tenant) {
            return r.unwrap_or_else(|| "patchbay".into());
        }
        let r = self
            .store
            .tenant(tenant)
            .await
            .ok()
            .flatten()
            .map(|t| t.realm);
        self.realms.insert(tenant.to_string(), r.clone());
        r.unwrap_or_else(|| "patchbay".into())
    }

    /// Digest (MD5, SHA-256) challenges with a fresh nonce.
    pub fn digest_challenges(&self, realm: &str, stale: bool) -> Vec<String> {
        let nonce = self
            .nonce_key
            .issue(now_ms() + self.nonce_ttl_ms, rand::random());
        digest::challenges(realm, &nonce, stale)
    }

    /// sipXconfig's Digest challenge (vendor-apis.md 3.1): its nonce form, valid 10 s, no
    /// `algorithm` (MD5).
    pub fn sipx_challenge(&self, realm: &str, stale: bool) -> String {
        let nonce = self.nonce_key.issue_sipx(now_ms() + 10_000);
        let stale = if stale { ", stale=\"true\"" } else { "" };
        format!(
            "Digest realm=\"{}\", qop=\"auth\", nonce=\"{nonce}\"{stale}",
            realm.replace(['"', '\\'], "")
        )
    }

    /// The native API's challenges: Digest, Basic and Bearer.
    pub async fn native_challenges(&self, tenant: Option<&str>, stale: bool) -> Vec<String> {
        let realm = match tenant {
            Some(t) => self.realm_of(t).await,
            None => "patchbay".to_string(),
        };
        let mut c = self.digest_challenges(&realm, stale);
        c.push(basic::challenge(&realm));
        c.push("Bearer realm=\"patchbay\"".to_string());
        c
    }

    async fn argon2(&self, hash: Option<String>, secret: &str) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        let secret = secret.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_secret(&hash, &secret))
            .await
            .unwrap_or(false);
        known && ok
    }

    /// API key + secret (Basic header, promptCall token).
    pub async fn api_key(
        &self,
        ip: IpAddr,
        id: &str,
        secret: &str,
        challenges: Vec<String>,
    ) -> Result<Principal, Failure> {
        let ck = cache_key(&["key", id, secret]);
        let checked = self
            .verified
            .try_get_with(ck, async {
                let key = self
                    .store
                    .api_key(id)
                    .await
                    .map_err(|e| Miss::Internal(e.to_string()))?;
                let ok = self
                    .argon2(key.as_ref().map(|k| k.secret_hash.clone()), secret)
                    .await;
                match key {
                    Some(k) if ok => Ok(Principal {
                        tenant: k.tenant,
                        user: None,
                        key: Some(k.key_id),
                        roles: k.roles.iter().filter_map(|r| Role::parse(r)).collect(),
                        scheme: Scheme::ApiKey,
                    }),
                    Some(_) => Err(Miss::Refused("bad_secret")),
                    None => Err(Miss::Refused("unknown_key")),
                }
            })
            .await;
        checked.map_err(|m| self.missed(&m, ip, Scheme::ApiKey, challenges))
    }

    /// The failure of a verification that did not pass (counted for this request).
    fn missed(&self, m: &Miss, ip: IpAddr, scheme: Scheme, challenges: Vec<String>) -> Failure {
        match m {
            Miss::Refused(reason) => self.fail(ip, scheme, reason, challenges),
            Miss::Internal(e) => self.internal(e),
        }
    }

    /// An extension and its web PIN (Basic, Ozeki parameters).
    pub async fn web_user(
        &self,
        ip: IpAddr,
        tenant: &str,
        ext: &str,
        pin: &str,
        scheme: Scheme,
        challenges: Vec<String>,
    ) -> Result<Principal, Failure> {
        let ck = cache_key(&["user", tenant, ext, pin]);
        let checked = self
            .verified
            .try_get_with(ck, async {
                let creds = self
                    .store
                    .web_credentials(tenant, ext)
                    .await
                    .map_err(|e| Miss::Internal(e.to_string()))?;
                let known = creds.is_some();
                if self.argon2(creds.map(|c| c.pin_hash), pin).await {
                    return Ok(Principal {
                        tenant: tenant.to_string(),
                        user: Some(ext.to_string()),
                        key: None,
                        roles: vec![Role::User],
                        scheme,
                    });
                }
                Err(Miss::Refused(if known {
                    "bad_secret"
                } else {
                    "unknown_user"
                }))
            })
            .await;
        checked.map_err(|m| self.missed(&m, ip, scheme, challenges))
    }

    /// HTTP Digest: realm names the tenant, username the extension, secret its web PIN.
    pub async fn digest(
        &self,
        ip: IpAddr,
        d: &DigestResponse,
        method: &str,
        request_uri: &str,
    ) -> Result<Principal, Failure> {
        let tenant = self
            .store
            .tenant_by_realm(&d.realm)
            .await
            .map_err(|e| self.internal(e))?;
        let realm = tenant
            .as_ref()
            .map_or("patchbay".to_string(), |t| t.realm.clone());
        match self.nonce_key.check(&d.nonce, now_ms()) {
            NonceCheck::Valid => {}
            NonceCheck::Stale => {
                // Not a wrong password: tell the client to retry with a fresh nonce.
                self.metrics
                    .auth_failures
                    .with_label_values(&["digest", "stale_nonce"])
                    .inc();
                return Err(Failure::AuthFailed {
                    challenges: self.digest_challenges(&realm, true),
                });
            }
            NonceCheck::Invalid => {
                return Err(self.fail(
                    ip,
                    Scheme::Digest,
                    "bad_nonce",
                    self.digest_challenges(&realm, false),
                ));
            }
        }
        let challenges = || self.digest_challenges(&realm, false);
        if d.uri != request_uri {
            return Err(self.fail(ip, Scheme::Digest, "uri_mismatch", challenges()));
        }
        let Some(alg) = d.algorithm() else {
            return Err(self.fail(ip, Scheme::Digest, "algorithm", challenges()));
        };
        let Some(tenant) = tenant else {
            return Err(self.fail(ip, Scheme::Digest, "unknown_user", challenges()));
        };
        let creds = self
            .store
            .web_credentials(&tenant.name, &d.username)
            .await
            .map_err(|e| self.internal(e))?;
        let Some(creds) = creds else {
            return Err(self.fail(ip, Scheme::Digest, "unknown_user", challenges()));
        };
        let ha1 = if alg.uses_sha256() {
            &creds.ha1_sha256
        } else {
            &creds.ha1_md5
        };
        if !d.verify(method, ha1) {
            return Err(self.fail(ip, Scheme::Digest, "bad_secret", challenges()));
        }
        // Replay: each (nonce, cnonce) must count up.
        let nc = d.nc_value().unwrap_or(0);
        let rk = d.replay_key();
        let last = self
            .nc_seen
            .get_with(rk, || Arc::new(std::sync::atomic::AtomicU32::new(0)));
        if last.fetch_max(nc, std::sync::atomic::Ordering::AcqRel) >= nc {
            return Err(self.fail(ip, Scheme::Digest, "replay", challenges()));
        }
        Ok(Principal {
            tenant: tenant.name,
            user: Some(d.username.clone()),
            key: None,
            roles: vec![Role::User],
            scheme: Scheme::Digest,
        })
    }

    pub async fn jwt(
        &self,
        ip: IpAddr,
        token: &str,
        challenges: Vec<String>,
    ) -> Result<Principal, Failure> {
        let kid = match jwt::kid(token) {
            Ok(k) => k,
            Err(e) => return Err(self.fail(ip, Scheme::Jwt, e.label(), challenges)),
        };
        let key = self
            .store
            .jwt_key(&kid)
            .await
            .map_err(|e| self.internal(e))?;
        let Some(key) = key else {
            return Err(self.fail(ip, Scheme::Jwt, "unknown_kid", challenges));
        };
        jwt::verify(
            token,
            &key.tenant,
            &key.alg,
            &key.key_material,
            now_ms() / 1000,
        )
        .map_err(|e| self.fail(ip, Scheme::Jwt, e.label(), challenges))
    }

    /// Taridium per-user URL key.
    pub async fn url_key(&self, ip: IpAddr, key: &str) -> Result<Principal, Failure> {
        let ck = cache_key(&["urlkey", key]);
        if let Some(p) = self.verified.get(&ck).await {
            return Ok(p);
        }
        let user = self
            .store
            .user_by_url_key(key)
            .await
            .map_err(|e| self.internal(e))?;
        match user {
            Some(u) => {
                let p = Principal {
                    tenant: u.tenant,
                    user: Some(u.ext),
                    key: None,
                    roles: vec![Role::User],
                    scheme: Scheme::UrlKey,
                };
                self.verified.insert(ck, p.clone()).await;
                Ok(p)
            }
            None => Err(self.fail(ip, Scheme::UrlKey, "unknown_key", vec![])),
        }
    }

    /// `None` when the tenant has no list for `scope`, else whether `ip` is on it. Unparseable
    /// patterns match nothing (a list of only bad patterns refuses everyone).
    /// A signature for a link that is its own credential (an Ozeki `RecordURL`).
    pub fn link_sig(&self, parts: &[&str]) -> String {
        self.nonce_key.link_sig(parts)
    }

    pub fn link_ok(&self, parts: &[&str], sig: &str) -> bool {
        self.nonce_key.link_ok(parts, sig)
    }

    pub async fn ip_allowed(
        &self,
        tenant: &str,
        scope: &str,
        ip: IpAddr,
    ) -> Result<Option<bool>, Failure> {
        let ok = self.ip_listed(tenant, scope, ip).await?;
        if ok == Some(false) {
            self.metrics
                .auth_failures
                .with_label_values(&["ip_allow_list", "not_listed"])
                .inc();
        }
        Ok(ok)
    }

    /// Whether `ip` is on the tenant's list of `scope` (`None`: the list is empty).
    pub async fn ip_listed(
        &self,
        tenant: &str,
        scope: &str,
        ip: IpAddr,
    ) -> Result<Option<bool>, Failure> {
        let k = (tenant.to_string(), scope.to_string());
        let list = match self.ip_lists.get(&k) {
            Some(l) => l,
            None => {
                let raw = self
                    .store
                    .ip_patterns(tenant, scope)
                    .await
                    .map_err(|e| self.internal(e))?;
                let l = Arc::new(if raw.is_empty() {
                    None
                } else {
                    Some(
                        raw.iter()
                            .filter_map(|p| IpPattern::parse(p).ok())
                            .collect(),
                    )
                });
                self.ip_lists.insert(k, l.clone());
                l
            }
        };
        let Some(patterns) = list.as_ref() else {
            return Ok(None);
        };
        Ok(Some(patchbay_gateway_proto::auth::ip::allowed(
            patterns, ip,
        )))
    }
}
