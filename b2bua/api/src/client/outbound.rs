//! HTTP requests to destinations a tenant names (prompt URLs, webhooks), checked before
//! anything is sent: the host is resolved through the system resolver (`/etc/hosts`
//! included) and every address must be public (no loopback, private, link-local (cloud
//! metadata), shared (CGNAT), multicast or unspecified address) unless private destinations
//! are allowed; the connection goes to an address that was checked (the resolver is the
//! check: no second resolution to rebind), and IP-literal hosts are checked before. Redirects
//! (up to [`MAX_REDIRECTS`], http(s) only) are checked the same way (303, and 301/302 after a
//! POST, continue as GET, as browsers do; 307/308 repeat the request). Connections are pooled
//! per policy. The whole exchange has a time limit and the body a size cap.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub const MAX_REDIRECTS: usize = 3;

/// Why a request was not made, or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("not an http(s) URL")]
    Url,
    #[error("{0} resolves to no address")]
    Unresolved(String),
    #[error("{0} is not a public address (private destinations are not allowed)")]
    Refused(IpAddr),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error("more than {MAX_REDIRECTS} redirects")]
    Redirects,
    #[error("{0}")]
    Http(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// Whether a request may go to `ip`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    if allow_private {
        return !ip.is_unspecified() && !ip.is_multicast();
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let o = v6.octets();
            let v4 = |i: usize| IpAddr::from([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            // IPv4 inside IPv6: mapped, compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and
            // 64:ff9b:1::/48), 6to4 (2002::/16): the IPv4 address decides.
            if v6.to_ipv4_mapped().is_some() || (s[..6] == [0; 6] && !v6.is_loopback()) {
                return !v6.is_unspecified() && allowed(v4(12), false);
            }
            if s[0] == 0x64 && s[1] == 0xff9b {
                return allowed(v4(12), false);
            }
            if s[0] == 0x2002 {
                return allowed(v4(2), false);
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0)
        }
    }
}

/// A request to make.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// `GET` or `POST`.
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// For the whole exchange: connect, redirects, body.
    pub timeout: Duration,
    /// Largest body read.
    pub max_body: usize,
    pub allow_private: bool,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// A destination refused by the resolver (found again in reqwest's error chain).
#[derive(Debug, thiserror::Error)]
#[error("{0} is not a public address")]
struct Refusal(IpAddr);

/// Resolves through the system resolver and refuses names with any address not allowed: the
/// connection goes to an address checked here (no second resolution).
struct Checking {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Checking {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow_private) = (name.as_str().to_string(), self.allow_private);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), allow_private)) {
                return Err(Box::new(Refusal(bad.ip())) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// An IP-literal host (which no resolver sees) that is not allowed.
fn literal_refused(url: &reqwest::Url, allow_private: bool) -> Option<IpAddr> {
    let host = url.host_str()?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (!allowed(ip, allow_private)).then_some(ip)
}

/// The shared client of each policy: pooled connections, checked resolution, checked
/// redirects (only http(s), IP literals checked, at most [`MAX_REDIRECTS`]).
pub fn client(allow_private: bool) -> reqwest::Client {
    static CLIENTS: std::sync::OnceLock<[reqwest::Client; 2]> = std::sync::OnceLock::new();
    let make = |allow_private: bool| {
        let policy = reqwest::redirect::Policy::custom(move |a| {
            if a.previous().len() > MAX_REDIRECTS {
                a.error(FetchError::Redirects)
            } else if !matches!(a.url().scheme(), "http" | "https") {
                a.error(FetchError::Url)
            } else if let Some(ip) = literal_refused(a.url(), allow_private) {
                a.error(Refusal(ip))
            } else {
                a.follow()
            }
        });
        reqwest::Client::builder()
            // A proxy from the environment would resolve the names we check: none.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(Checking { allow_private }))
            .redirect(policy)
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_default()
    };
    CLIENTS.get_or_init(|| [make(false), make(true)])[usize::from(allow_private)].clone()
}

/// What went wrong, from reqwest's error chain.
fn failure(e: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refusal>() {
            return FetchError::Refused(r.0);
        }
        if let Some(f) = s.downcast_ref::<FetchError>() {
            return f.clone();
        }
        source = s.source();
    }
    FetchError::Http(e.to_string())
}

/// Make the request (checked as the module says); any final status is an answer.
pub async fn send(req: Outbound) -> Result<Answer, FetchError> {
    let limit = req.timeout;
    tokio::time::timeout(limit, send_inner(req))
        .await
        .map_err(|_| FetchError::Timeout(limit))?
}

async fn send_inner(req: Outbound) -> Result<Answer, FetchError> {
    let url = reqwest::Url::parse(&req.url).map_err(|_| FetchError::Url)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(FetchError::Url);
    }
    if let Some(ip) = literal_refused(&url, req.allow_private) {
        return Err(FetchError::Refused(ip));
    }
    let mut r = client(req.allow_private).request(req.method.clone(), url);
    for (k, v) in &req.headers {
        r = r.header(k.as_str(), v.as_str());
    }
    if req.method != reqwest::Method::GET {
        r = r.body(req.body);
    }
    let mut resp = r.send().await.map_err(failure)?;
    if resp
        .content_length()
        .is_some_and(|n| n > req.max_body as u64)
    {
        return Err(FetchError::TooLarge(req.max_body));
    }
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failure)? {
        if out.len() + chunk.len() > req.max_body {
            return Err(FetchError::TooLarge(req.max_body));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        content_type,
        body: out,
    })
}
