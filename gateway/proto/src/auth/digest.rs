//! HTTP Digest (RFC 7616), MD5 and SHA-256, `qop=auth`.
//!
//! Nonces are stateless: `base64url(expiry_ms || salt || HMAC-SHA256(key, expiry_ms || salt)[..16])`,
//! so any gateway instance sharing the key verifies them and knows when they expire (then the
//! challenge says `stale=true`). Nonce-count replay is tracked by the caller (moka in the gateway),
//! keyed by [`DigestResponse::replay_key`].

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const MAC_LEN: usize = 16;
const NONCE_LEN: usize = 8 + 8 + MAC_LEN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
    Md5Sess,
    Sha256Sess,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "SHA-256" => Some(Algorithm::Sha256),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether the stored HA1 to use is the SHA-256 one.
    pub fn uses_sha256(self) -> bool {
        matches!(self, Algorithm::Sha256 | Algorithm::Sha256Sess)
    }

    fn hash(self, s: &str) -> String {
        use md5::Digest as _;
        if self.uses_sha256() {
            hex::encode(Sha256::digest(s.as_bytes()))
        } else {
            hex::encode(md5::Md5::digest(s.as_bytes()))
        }
    }
}

/// The server key that signs nonces.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    Valid,
    /// Ours, but expired: the client should retry with the fresh nonce (`stale=true`).
    Stale,
    /// Not ours (forged, truncated, another key).
    Invalid,
}

impl NonceKey {
    pub fn new(key: [u8; 32]) -> NonceKey {
        NonceKey(key)
    }

    fn mac(&self, data: &[u8]) -> [u8; MAC_LEN] {
        // HMAC accepts keys of any length: new_from_slice cannot fail here.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(data);
        let full = m.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// A link signature over `parts` (hex; domain-separated from nonces by a leading tag):
    /// unguessable without the key, checked by [`NonceKey::link_ok`] on any gateway sharing it.
    pub fn link_sig(&self, parts: &[&str]) -> String {
        hex::encode(self.link_mac(parts))
    }

    pub fn link_ok(&self, parts: &[&str], sig: &str) -> bool {
        let Ok(given) = hex::decode(sig) else {
            return false;
        };
        bool::from(self.link_mac(parts).as_slice().ct_eq(given.as_slice()))
    }

    fn link_mac(&self, parts: &[&str]) -> [u8; MAC_LEN] {
        let mut data = b"link".to_vec();
        for p in parts {
            data.push(0);
            data.extend_from_slice(p.as_bytes());
        }
        self.mac(&data)
    }

    /// A nonce valid until `expires_ms`; `salt` makes nonces issued in the same millisecond differ.
    pub fn issue(&self, expires_ms: u64, salt: [u8; 8]) -> String {
        let mut buf = [0u8; NONCE_LEN];
        buf[..8].copy_from_slice(&expires_ms.to_be_bytes());
        buf[8..16].copy_from_slice(&salt);
        let mac = self.mac(&buf[..16]);
        buf[16..].copy_from_slice(&mac);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
    }

    /// A nonce in sipXconfig's form, `base64(expiry_ms ":" 32 hex)` (its hex an MD5 of the
    /// expiry and a constant there; here the key's MAC of the expiry), valid until
    /// `expires_ms`. [`NonceKey::check`] accepts both forms.
    pub fn issue_sipx(&self, expires_ms: u64) -> String {
        let text = format!("{expires_ms}:{}", hex::encode(self.sipx_mac(expires_ms)));
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn sipx_mac(&self, expires_ms: u64) -> [u8; MAC_LEN] {
        let mut data = b"sipx".to_vec();
        data.extend_from_slice(&expires_ms.to_be_bytes());
        self.mac(&data)
    }

    fn check_sipx(&self, nonce: &str, now_ms: u64) -> NonceCheck {
        let Some(text) = base64::engine::general_purpose::STANDARD
            .decode(nonce)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return NonceCheck::Invalid;
        };
        let Some((exp, mac)) = text.split_once(':') else {
            return NonceCheck::Invalid;
        };
        let (Ok(exp), Ok(mac)) = (exp.parse::<u64>(), hex::decode(mac)) else {
            return NonceCheck::Invalid;
        };
        if !bool::from(self.sipx_mac(exp).as_slice().ct_eq(mac.as_slice())) {
            NonceCheck::Invalid
        } else if exp < now_ms {
            NonceCheck::Stale
        } else {
            NonceCheck::Valid
        }
    }

    pub fn check(&self, nonce: &str, now_ms: u64) -> NonceCheck {
        let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(nonce) else {
            return self.check_sipx(nonce, now_ms);
        };
        if raw.len() != NONCE_LEN {
            return self.check_sipx(nonce, now_ms);
        }
        let mac = self.mac(&raw[..16]);
        if !bool::from(mac.ct_eq(&raw[16..])) {
            return NonceCheck::Invalid;
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&raw[..8]);
        if u64::from_be_bytes(exp) < now_ms {
            NonceCheck::Stale
        } else {
            NonceCheck::Valid
        }
    }
}

/// `WWW-Authenticate` values for one realm: MD5 first (older clients take the first Digest
/// challenge and may not know SHA-256), then SHA-256.
pub fn challenges(realm: &str, nonce: &str, stale: bool) -> Vec<String> {
    let realm = realm.replace(['"', '\\'], "");
    let stale = if stale { ", stale=true" } else { "" };
    [Algorithm::Md5, Algorithm::Sha256]
        .iter()
        .map(|a| {
            format!(
                "Digest realm=\"{realm}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\"{stale}",
                a.name()
            )
        })
        .collect()
}

/// The client's `Authorization: Digest ...` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DigestResponse {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Option<String>,
    pub cnonce: Option<String>,
    pub nc: Option<String>,
    pub qop: Option<String>,
}

impl DigestResponse {
    /// Parse the part after `Digest `. Needs username, realm, nonce, uri and response.
    pub fn parse(s: &str) -> Option<DigestResponse> {
        let mut d = DigestResponse::default();
        for (k, v) in auth_params(s)? {
            match k.to_ascii_lowercase().as_str() {
                "username" => d.username = v,
                "realm" => d.realm = v,
                "nonce" => d.nonce = v,
                "uri" => d.uri = v,
                "response" => d.response = v.to_ascii_lowercase(),
                "algorithm" => d.algorithm = Some(v),
                "cnonce" => d.cnonce = Some(v),
                "nc" => d.nc = Some(v),
                "qop" => d.qop = Some(v),
                _ => {}
            }
        }
        let required = [&d.username, &d.realm, &d.nonce, &d.uri, &d.response];
        if required.iter().any(|v| v.is_empty()) {
            return None;
        }
        Some(d)
    }

    pub fn algorithm(&self) -> Option<Algorithm> {
        match &self.algorithm {
            None => Some(Algorithm::Md5),
            Some(a) => Algorithm::parse(a),
        }
    }

    /// The nonce count as a number (`qop=auth` requires it).
    pub fn nc_value(&self) -> Option<u32> {
        u32::from_str_radix(self.nc.as_deref()?, 16).ok()
    }

    /// Key under which the last accepted nonce count is remembered.
    pub fn replay_key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}",
            self.nonce,
            self.cnonce.as_deref().unwrap_or(""),
            self.username
        )
    }

    /// Whether the response proves knowledge of the password behind `ha1` (the HA1 of the
    /// algorithm the client used). Only `qop=auth` is accepted.
    pub fn verify(&self, method: &str, ha1: &str) -> bool {
        let Some(alg) = self.algorithm() else {
            return false;
        };
        let (Some(cnonce), Some(nc), Some(qop)) = (&self.cnonce, &self.nc, &self.qop) else {
            return false;
        };
        if !qop.eq_ignore_ascii_case("auth") {
            return false;
        }
        let ha1 = match alg {
            Algorithm::Md5Sess | Algorithm::Sha256Sess => {
                alg.hash(&format!("{ha1}:{}:{cnonce}", self.nonce))
            }
            _ => ha1.to_string(),
        };
        let ha2 = alg.hash(&format!("{method}:{}", self.uri));
        let want = alg.hash(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", self.nonce));
        bool::from(want.as_bytes().ct_eq(self.response.as_bytes()))
    }
}

/// `name=value` pairs separated by commas; values are tokens or quoted strings.
fn auth_params(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t' || b[*i] == b',') {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= b.len() {
            return Some(out);
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return None;
        }
        let name = s[start..i].trim().to_string();
        i += 1;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut closed = false;
            while i < b.len() {
                match b[i] {
                    b'\\' if i + 1 < b.len() => {
                        // The escaped character, whole (a byte of a UTF-8 character is not
                        // one; found by the auth_headers fuzz target).
                        let ch = s[i + 1..].chars().next()?;
                        value.push(ch);
                        i += 1 + ch.len_utf8();
                    }
                    b'"' => {
                        i += 1;
                        closed = true;
                        break;
                    }
                    _ => {
                        // Copy one whole UTF-8 character.
                        let ch = s[i..].chars().next()?;
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            if !closed {
                return None;
            }
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value = s[vs..i].trim().to_string();
        }
        if name.is_empty() {
            return None;
        }
        out.push((name, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_valid_stale_invalid() {
        let k = NonceKey::new([7; 32]);
        let n = k.issue(10_000, [1; 8]);
        assert_eq!(k.check(&n, 9_999), NonceCheck::Valid);
        assert_eq!(k.check(&n, 10_001), NonceCheck::Stale);
        assert_eq!(NonceKey::new([8; 32]).check(&n, 0), NonceCheck::Invalid);
        assert_eq!(k.check("AAAA", 0), NonceCheck::Invalid);
        let mut forged = n.clone().into_bytes();
        forged[3] ^= 1;
        assert_ne!(
            k.check(std::str::from_utf8(&forged).unwrap(), 0),
            NonceCheck::Valid
        );
    }

    #[test]
    fn sipx_form_nonces() {
        use base64::Engine as _;
        let k = NonceKey::new([7; 32]);
        let n = k.issue_sipx(10_000);
        let text = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&n)
                .unwrap(),
        )
        .unwrap();
        let (exp, mac) = text.split_once(':').unwrap();
        assert_eq!((exp, mac.len()), ("10000", 32), "{text}");
        assert_eq!(k.check(&n, 9_999), NonceCheck::Valid);
        assert_eq!(k.check(&n, 10_001), NonceCheck::Stale);
        assert_eq!(NonceKey::new([8; 32]).check(&n, 0), NonceCheck::Invalid);
        let forged = base64::engine::general_purpose::STANDARD.encode(format!("99999:{mac}"));
        assert_eq!(k.check(&forged, 0), NonceCheck::Invalid);
    }

    /// RFC 7616 section 3.9.1 example (SHA-256 and MD5, Mufasa / Circle of Life).
    #[test]
    fn rfc7616_examples() {
        let base = r#"username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let ha1 = |alg: Algorithm| alg.hash("Mufasa:http-auth@example.org:Circle of Life");
        let md5 = DigestResponse::parse(&format!(
            r#"{base}, algorithm=MD5, response="8ca523f5e9506fed4657c9700eebdbec""#
        ))
        .unwrap();
        assert!(md5.verify("GET", &ha1(Algorithm::Md5)));
        assert!(!md5.verify("POST", &ha1(Algorithm::Md5)));
        let sha = DigestResponse::parse(&format!(
            r#"{base}, algorithm=SHA-256, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#
        ))
        .unwrap();
        assert!(sha.verify("GET", &ha1(Algorithm::Sha256)));
        assert_eq!(sha.nc_value(), Some(1));
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(DigestResponse::parse("").is_none());
        assert!(DigestResponse::parse(r#"username="a"#).is_none());
        assert!(DigestResponse::parse("username").is_none());
        // An escaped multi-byte character (once a panic: the escape took one byte of it).
        let params = auth_params("username=\"J\\\u{e9}r\u{f4}me\", realm=\"x\"").unwrap();
        assert_eq!(params[0], ("username".into(), "J\u{e9}r\u{f4}me".into()));
        assert!(auth_params("a=\"\\\u{e9}").is_none(), "unclosed");
    }
}
