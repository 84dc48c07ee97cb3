//! HTTP Basic and promptCall tokens: base64("id:secret").

use base64::Engine as _;

#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

/// The part after `Basic `.
pub fn parse_basic(b64: &str) -> Option<BasicCredentials> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (user, password) = s.split_once(':')?;
    Some(BasicCredentials {
        user: user.to_string(),
        password: password.to_string(),
    })
}

/// A promptCall `token`: the same base64("key:secret") as its Basic header. A raw `key:secret`
/// is accepted too (the vendor page is ambiguous; see compat-specs/promptcall).
pub fn parse_token(token: &str) -> Option<BasicCredentials> {
    parse_basic(token).or_else(|| {
        let (user, password) = token.split_once(':')?;
        Some(BasicCredentials {
            user: user.to_string(),
            password: password.to_string(),
        })
    })
}

/// `Basic realm="..."` challenge value.
pub fn challenge(realm: &str) -> String {
    format!("Basic realm=\"{}\"", realm.replace(['"', '\\'], ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_round_trip() {
        let c = parse_basic("ZGVtby1rZXk6ZGVtby1zZWNyZXQ=").unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_str()),
            ("demo-key", "demo-secret")
        );
        assert!(parse_basic("not base64!").is_none());
        assert!(parse_basic("bm9jb2xvbg==").is_none()); // "nocolon"
        assert_eq!(parse_token("a:b:c").unwrap().password, "b:c");
        assert!(!format!("{c:?}").contains("demo-secret"));
    }
}
