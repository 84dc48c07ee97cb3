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

/// Who sent a request: `peer`, or, when `peer` is one of our edge proxies, the address the
/// proxy received it from: the second Via's `received` and `rport` (RFC 3261 18.2.1, RFC 3581),
/// else its sent-by. A proxy that left no Via of the sender's is taken as the sender.
pub fn origin(
    headers: &[rvoip_sip_core::types::headers::TypedHeader],
    peer: std::net::SocketAddr,
    edges: &[std::net::IpAddr],
) -> std::net::SocketAddr {
    use rvoip_sip_core::types::headers::TypedHeader;
    if !edges.contains(&peer.ip()) {
        return peer;
    }
    let Some(v) = headers
        .iter()
        .filter_map(|h| match h {
            TypedHeader::Via(v) => Some(v.0.iter()),
            _ => None,
        })
        .flatten()
        .nth(1)
    else {
        return peer;
    };
    let ip = v.received().and_then(|r| r.parse().ok()).or_else(|| {
        v.sent_by_host
            .to_string()
            .trim_matches(['[', ']'])
            .parse()
            .ok()
    });
    let port = v
        .params
        .iter()
        .find_map(|p| match p {
            rvoip_sip_core::types::param::Param::Rport(Some(p)) => Some(*p),
            _ => None,
        })
        .or(v.sent_by_port)
        .unwrap_or(5060);
    ip.map_or(peer, |ip| std::net::SocketAddr::new(ip, port))
}

/// A REGISTER's Path (RFC 3327): each value as written in a Route header, in order.
pub fn path_of(headers: &[rvoip_sip_core::types::headers::TypedHeader]) -> Vec<String> {
    use rvoip_sip_core::types::headers::TypedHeader;
    headers
        .iter()
        .filter_map(|h| match h {
            TypedHeader::Path(p) => Some(p.0.iter().map(|e| e.0.to_string())),
            _ => None,
        })
        .flatten()
        .collect()
}

#[cfg(test)]
mod edge_tests {
    use super::*;
    use rvoip_sip_core::types::sip_request::Request;

    fn request(text: &str) -> Request {
        match rvoip_sip_core::parse_message(text.replace('\n', "\r\n").as_bytes()).unwrap() {
            rvoip_sip_core::Message::Request(r) => r,
            _ => panic!("a request"),
        }
    }

    const REGISTER: &str = "REGISTER sip:demo.local SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKedge
Via: SIP/2.0/UDP 10.0.0.5:5071;received=198.51.100.7;rport=40000;branch=z9hG4bKphone
Path: <sip:127.0.0.1:5060;lr;received=sip:198.51.100.7:40000>
From: <sip:4005@demo.local>;tag=1
To: <sip:4005@demo.local>
Call-ID: c1
CSeq: 1 REGISTER
Contact: <sip:4005@10.0.0.5:5071>
Content-Length: 0

";

    #[test]
    fn an_edge_proxys_request_is_the_phones() {
        let req = request(REGISTER);
        let edge: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let ip = edge.ip();
        assert_eq!(
            origin(&req.headers, edge, &[ip]),
            "198.51.100.7:40000".parse().unwrap()
        );
        assert_eq!(
            origin(&req.headers, edge, &[]),
            edge,
            "not an edge: the peer"
        );
        let path = path_of(&req.headers);
        assert_eq!(path.len(), 1);
        assert!(path[0].starts_with("<sip:127.0.0.1:5060;lr"), "{path:?}");
        assert!(
            path[0].contains("received=sip:198.51.100.7:40000"),
            "{path:?}"
        );
    }
}
