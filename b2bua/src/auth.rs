//! SIP Digest for REGISTER and INVITE, one realm per tenant: challenges (MD5 first, for
//! SIPp and most deployed phones, then SHA-256 per RFC 8760), and verification with
//! rvoip-auth-core's RFC 7616 check against the HA1s in the store, with our own nonce lifetime
//! and nonce-count replay state.

use patchbay_store::Store;
use rvoip_auth_core::providers::DigestSecret;
use rvoip_auth_core::sip_digest::{DigestAlgorithm, DigestAuthenticator, DigestResponse};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// How long a nonce we issued is accepted.
const NONCE_TTL: Duration = Duration::from_secs(300);

/// Nonces we issued and nonce counts seen, bounded by moka (capacity and time to live).
///
/// (rvoip's built-in state kept at most 4,096 nonces and then handed the newest to every
/// client, whose `nc=00000001` looked like a replay: authentication failed at 300 calls/s.)
pub struct ReplayStore {
    nonces: moka::sync::Cache<String, SystemTime>,
    counts: moka::sync::Cache<(String, String, String), u32>,
}

/// Where a nonce stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    Active,
    Expired,
    Unknown,
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

    pub fn record_nonce(&self, nonce: &str, expires_at: SystemTime) {
        self.nonces.insert(nonce.to_string(), expires_at);
    }

    pub fn nonce_status(&self, nonce: &str, now: SystemTime) -> NonceStatus {
        match self.nonces.get(nonce) {
            Some(exp) if exp > now => NonceStatus::Active,
            Some(_) => NonceStatus::Expired,
            None => NonceStatus::Unknown,
        }
    }

    /// Accept `nc` for (user, nonce, cnonce) only if it is above every count seen before.
    pub fn accept_count(&self, user: &str, nonce: &str, cnonce: &str, nc: u32) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let key = (user.to_string(), nonce.to_string(), cnonce.to_string());
        let result = self.counts.entry(key).and_compute_with(|old| match old {
            Some(e) if *e.value() >= nc => Op::Nop,
            _ => Op::Put(nc),
        });
        matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        )
    }
}

/// One tenant's realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAuth {
    pub tenant: String,
    pub realm: String,
}

/// The outcome of a request's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Authorized {
        user: String,
    },
    /// No or wrong credentials (unknown user and wrong password look the same): challenge.
    /// `stale` when they were right for a nonce that expired (RFC 7616: retry silently).
    Challenge {
        stale: bool,
        bad: bool,
    },
}

/// All tenants' realms, by realm and by name. Tenants created while the B2BUA runs are picked
/// up by [`Auth::refresh`]: on demand by the registrar for a realm it does not know, and in
/// the background (the driver loop itself never waits on the store).
pub struct Auth {
    store: Arc<dyn Store>,
    replay: ReplayStore,
    maps: RwLock<TenantMaps>,
    /// When the tenant list was last read (reloads are throttled).
    loaded_at: Mutex<Instant>,
}

#[derive(Default)]
struct TenantMaps {
    by_realm: HashMap<String, Arc<TenantAuth>>,
    by_tenant: HashMap<String, Arc<TenantAuth>>,
}

impl Auth {
    pub fn new(store: Arc<dyn Store>, tenants: &[patchbay_store::Tenant]) -> Self {
        let a = Self {
            store,
            // Replay state outlives the nonce by a minute.
            replay: ReplayStore::new(1_000_000, NONCE_TTL + Duration::from_secs(60)),
            maps: RwLock::new(TenantMaps::default()),
            loaded_at: Mutex::new(Instant::now()),
        };
        a.add(tenants);
        a
    }

    /// Add tenants not known yet; how many were new.
    fn add(&self, tenants: &[patchbay_store::Tenant]) -> usize {
        let Ok(mut m) = self.maps.write() else {
            return 0;
        };
        let mut added = 0;
        for t in tenants {
            if m.by_tenant.contains_key(&t.name) {
                continue;
            }
            let a = Arc::new(TenantAuth {
                tenant: t.name.clone(),
                realm: t.realm.clone(),
            });
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

    /// `WWW-Authenticate` values for `realm` with a fresh nonce: MD5 first, then SHA-256.
    pub fn challenges(&self, realm: &str, stale: bool) -> Vec<String> {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let opaque = format!("{:016x}", rand::random::<u64>());
        self.replay
            .record_nonce(&nonce, SystemTime::now() + NONCE_TTL);
        [DigestAlgorithm::MD5, DigestAlgorithm::SHA256]
            .iter()
            .map(|alg| {
                let mut v = format!(
                    "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={alg}, qop=\"auth\", opaque=\"{opaque}\""
                );
                if stale {
                    v.push_str(", stale=true");
                }
                v
            })
            .collect()
    }

    /// Check a request's `Authorization` for tenant `ta`. The digest `uri` must name the
    /// request's own Request-URI, qop must be `auth`, the nonce ours and alive, the count new.
    pub async fn verify(
        &self,
        ta: &TenantAuth,
        authorization: Option<&str>,
        method: &str,
        ruri: &str,
    ) -> Result<Verdict, patchbay_store::StoreError> {
        let bad = Verdict::Challenge {
            stale: false,
            bad: true,
        };
        let Some(header) = authorization else {
            return Ok(Verdict::Challenge {
                stale: false,
                bad: false,
            });
        };
        let Ok(resp) = DigestAuthenticator::parse_authorization(header) else {
            return Ok(bad);
        };
        if resp.realm != ta.realm
            || !same_uri(&resp.uri, ruri)
            || resp.qop.as_deref() != Some("auth")
            || !matches!(
                resp.algorithm,
                DigestAlgorithm::MD5 | DigestAlgorithm::SHA256
            )
        {
            return Ok(bad);
        }
        let (Some(cnonce), Some(nc)) = (resp.cnonce.as_deref(), resp.nc.as_deref()) else {
            return Ok(bad);
        };
        let Ok(nc) = u32::from_str_radix(nc, 16) else {
            return Ok(bad);
        };
        let status = self.replay.nonce_status(&resp.nonce, SystemTime::now());
        let Some(creds) = self
            .store
            .sip_credentials(&ta.tenant, &resp.username)
            .await?
        else {
            return Ok(bad);
        };
        let ha1 = match resp.algorithm {
            DigestAlgorithm::SHA256 => creds.ha1_sha256,
            _ => creds.ha1_md5,
        };
        if !check(&ta.realm, &resp, method, ha1.clone())
            && !check_as_written(ta, &resp, method, ha1)
        {
            return Ok(bad);
        }
        // Right password, nonce not (or no longer) ours: after a restart, or one kept too long.
        // A fresh challenge with stale=true, and no failure counted against the source.
        if status != NonceStatus::Active {
            return Ok(Verdict::Challenge {
                stale: true,
                bad: false,
            });
        }
        if !self
            .replay
            .accept_count(&resp.username, &resp.nonce, cnonce, nc)
        {
            return Ok(bad);
        }
        Ok(Verdict::Authorized {
            user: resp.username,
        })
    }
}

/// The parser hands us the header re-rendered, its `uri` escaped (`sip:%2B66...`): the client
/// computed its response over the URI as it wrote it (`sip:+66...`).
fn check_as_written(ta: &TenantAuth, resp: &DigestResponse, method: &str, ha1: String) -> bool {
    let plain = percent_encoding::percent_decode_str(&resp.uri)
        .decode_utf8_lossy()
        .into_owned();
    if plain == resp.uri {
        return false;
    }
    let mut written = resp.clone();
    written.uri = plain;
    check(&ta.realm, &written, method, ha1)
}

fn check(realm: &str, resp: &DigestResponse, method: &str, ha1: String) -> bool {
    DigestAuthenticator::new(realm)
        .validate_response_with_secret(resp, method, &DigestSecret::Ha1(ha1))
        .unwrap_or(false)
}

/// Whether the digest `uri` names the Request-URI (as parsed URIs, else as text).
fn same_uri(digest_uri: &str, ruri: &str) -> bool {
    // Escaped and plain characters are the same (RFC 3261 19.1.4): rvoip renders the `+` of
    // `sip:+66...` as `%2B`, the phone's digest has it as written.
    let plain = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    if digest_uri.eq_ignore_ascii_case(ruri) || plain(digest_uri).eq_ignore_ascii_case(&plain(ruri))
    {
        return true;
    }
    match (
        digest_uri.parse::<rvoip_sip_core::Uri>(),
        ruri.parse::<rvoip_sip_core::Uri>(),
    ) {
        (Ok(a), Ok(b)) => a.to_string().eq_ignore_ascii_case(&b.to_string()),
        _ => false,
    }
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

#[cfg(test)]
mod tests;
