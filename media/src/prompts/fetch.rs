//! Prompts at HTTP(S) URLs: fetched off the packet loop with a time limit and a size cap
//! (the caller decodes and caches them). Destinations are checked before anything is sent
//! ([`patchbay_api::client::outbound`]: public addresses only unless the operator allows
//! private ones, the checked address pinned, every redirect checked again).

pub use patchbay_api::client::outbound::{FetchError, allowed};
use patchbay_api::client::outbound::{Outbound, send};
use std::time::Duration;

/// Largest prompt body accepted from a URL (10 minutes of 8 kHz 16-bit mono is 9.6 MB).
pub const MAX_URL_BYTES: usize = 16 << 20;
/// The whole fetch (connect, redirects, body) must finish within this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The body at `url` (a WAV, decoded by the caller).
pub async fn fetch(url: &str, allow_private: bool) -> Result<Vec<u8>, FetchError> {
    let answer = send(Outbound {
        method: reqwest::Method::GET,
        url: url.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
        timeout: FETCH_TIMEOUT,
        max_body: MAX_URL_BYTES,
        allow_private,
    })
    .await?;
    if !(200..300).contains(&answer.status) {
        return Err(FetchError::Status(answer.status));
    }
    Ok(answer.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

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
            "::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "2002:c0a8:101::1",
            "fec0::1",
            "240.0.0.1",
            "192.0.0.8",
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
