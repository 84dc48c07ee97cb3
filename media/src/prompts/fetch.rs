//! Prompts at HTTP(S) URLs: fetched off the packet loop with a time limit and a size cap
//! (the caller decodes and caches them).
//!
//! Destinations are checked before anything is sent: the host is resolved through the system
//! resolver (`/etc/hosts` included) and every address must be public (no loopback, private,
//! link-local (cloud metadata), shared (CGNAT), multicast or unspecified address) unless the
//! operator allows private destinations; the request then goes to the address that was
//! checked (no second resolution to rebind). Redirects are followed by hand, up to
//! [`MAX_REDIRECTS`], each one checked the same way.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Largest prompt body accepted from a URL (10 minutes of 8 kHz 16-bit mono is 9.6 MB).
pub const MAX_URL_BYTES: usize = 16 << 20;
/// The whole fetch (connect, redirects, body) must finish within this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_REDIRECTS: usize = 3;

/// Why a URL was not fetched.
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
    #[error("larger than {MAX_URL_BYTES} bytes")]
    TooLarge,
    #[error("more than {MAX_REDIRECTS} redirects")]
    Redirects,
    #[error("{0}")]
    Http(String),
    #[error("no answer within {FETCH_TIMEOUT:?}")]
    Timeout,
}

/// Whether a prompt may be fetched from `ip`.
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
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return allowed(IpAddr::V4(v4), false);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// The body at `url` (a WAV, decoded by the caller).
pub async fn fetch(url: &str, allow_private: bool) -> Result<Vec<u8>, FetchError> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch_inner(url, allow_private))
        .await
        .map_err(|_| FetchError::Timeout)?
}

async fn fetch_inner(url: &str, allow_private: bool) -> Result<Vec<u8>, FetchError> {
    let mut url = reqwest::Url::parse(url).map_err(|_| FetchError::Url)?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Url);
        }
        let host = url.host_str().ok_or(FetchError::Url)?.to_string();
        let port = url.port_or_known_default().ok_or(FetchError::Url)?;
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|_| FetchError::Unresolved(host.clone()))?
            .collect();
        let first = *addrs
            .first()
            .ok_or_else(|| FetchError::Unresolved(host.clone()))?;
        if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), allow_private)) {
            return Err(FetchError::Refused(bad.ip()));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&bare, first)
            .build()
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let mut resp = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let status = resp.status();
        if status.is_redirection() {
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or(FetchError::Status(status.as_u16()))?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_URL_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError::Http(e.to_string()))?
        {
            if body.len() + chunk.len() > MAX_URL_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(body);
    }
    Err(FetchError::Redirects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_unless_private_ones_are_allowed() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!allowed(ip, false), "{private}");
        }
        for public in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            assert!(allowed(public.parse().unwrap(), false), "{public}");
        }
        assert!(allowed("127.0.0.1".parse().unwrap(), true));
        assert!(!allowed("0.0.0.0".parse().unwrap(), true));
    }

    #[tokio::test]
    async fn a_private_destination_is_refused_before_anything_is_sent() {
        assert_eq!(
            fetch("http://127.0.0.1:9/x.wav", false).await,
            Err(FetchError::Refused("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            fetch("ftp://example.com/x", false).await,
            Err(FetchError::Url)
        );
        assert_eq!(fetch("not a url", true).await, Err(FetchError::Url));
    }
}
