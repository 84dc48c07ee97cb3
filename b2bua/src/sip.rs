//! SIP URI helpers shared by the registrar, the driver and the destination policy.

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

/// `user` and `host[:port]` of a SIP URI, with or without display name and brackets.
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
        // Escaped and plain characters are the same user (RFC 3261 19.1.4): `%2B` is `+`.
        Some((u, h)) => {
            let u = u.split(':').next().unwrap_or(u);
            let user = percent_encoding::percent_decode_str(u)
                .decode_utf8()
                .map_or_else(|_| u.to_string(), |d| d.into_owned());
            (user, h.to_string())
        }
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

    #[test]
    fn parses_uris() {
        assert_eq!(
            uri_parts("\"A\" <sip:4005@127.0.0.1:5071;transport=udp>;tag=1"),
            ("4005".into(), "127.0.0.1:5071".into())
        );
        assert_eq!(uri_parts("sip:demo"), ("".into(), "demo".into()));
        assert_eq!(host_only("127.0.0.1:5060"), "127.0.0.1");
        assert_eq!(host_only("[::1]:5060"), "::1");
        let u = parse_sip_uri("sip:4007@Example.COM:5062").unwrap();
        assert_eq!(
            (u.user.as_str(), u.host.as_str(), u.port),
            ("4007", "example.com", Some(5062))
        );
        assert!(parse_sip_uri("sip:4007@example.com;maddr=10.0.0.1").is_none());
        assert!(parse_sip_uri("tel:+15551234").is_none());
    }
}
