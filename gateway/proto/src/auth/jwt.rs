//! JWT bearer tokens signed with a tenant's key (HS256, RS256, ES256).
//!
//! The key is found by the token's `kid`; the tenant is the key's tenant (a `tenant` claim, if
//! present, must agree). Expiry is checked here against the `now_secs` the caller passes in, not
//! by jsonwebtoken against the system clock.

use crate::{Principal, Role, Scheme};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Leeway for clock skew between token issuer and gateway.
pub const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    #[error("token has no kid")]
    NoKid,
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("bad key material")]
    Key,
    #[error("signature does not verify")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token names another tenant")]
    Tenant,
}

impl JwtError {
    /// Bounded metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            JwtError::NoKid => "no_kid",
            JwtError::Malformed => "malformed",
            JwtError::Algorithm => "algorithm",
            JwtError::Key => "key",
            JwtError::Signature => "signature",
            JwtError::Expired => "expired",
            JwtError::NotYetValid => "not_yet_valid",
            JwtError::Tenant => "tenant",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: u64,
    nbf: Option<u64>,
    tenant: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    /// Extension the token acts as, if any.
    user: Option<String>,
}

/// The `kid` of a token, to look its key up.
pub fn kid(token: &str) -> Result<String, JwtError> {
    jsonwebtoken::decode_header(token)
        .map_err(|_| JwtError::Malformed)?
        .kid
        .ok_or(JwtError::NoKid)
}

/// Whether a tenant key can verify tokens: a known `alg`, a PEM public key for RS256 / ES256,
/// an HS256 secret of at least 16 bytes.
pub fn check_key(alg: &str, material: &str) -> Result<(), JwtError> {
    if alg == "HS256" && material.len() < 16 {
        return Err(JwtError::Key);
    }
    decoding_key(alg, material).map(|_| ())
}

fn decoding_key(alg: &str, material: &str) -> Result<(Algorithm, DecodingKey), JwtError> {
    Ok(match alg {
        "HS256" => (
            Algorithm::HS256,
            DecodingKey::from_secret(material.as_bytes()),
        ),
        "RS256" => (
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(material.as_bytes()).map_err(|_| JwtError::Key)?,
        ),
        "ES256" => (
            Algorithm::ES256,
            DecodingKey::from_ec_pem(material.as_bytes()).map_err(|_| JwtError::Key)?,
        ),
        _ => return Err(JwtError::Algorithm),
    })
}

/// Verify `token` with the tenant key (`alg`, `material` as stored) and build the principal.
/// `exp` is required.
pub fn verify(
    token: &str,
    tenant: &str,
    alg: &str,
    material: &str,
    now_secs: u64,
) -> Result<Principal, JwtError> {
    let (alg, key) = decoding_key(alg, material)?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::InvalidSignature => JwtError::Signature,
            K::InvalidAlgorithm => JwtError::Algorithm,
            _ => JwtError::Malformed,
        }
    })?;
    let c = data.claims;
    if c.exp + LEEWAY_SECS < now_secs {
        return Err(JwtError::Expired);
    }
    if c.nbf.is_some_and(|nbf| nbf > now_secs + LEEWAY_SECS) {
        return Err(JwtError::NotYetValid);
    }
    if c.tenant.as_deref().is_some_and(|t| t != tenant) {
        return Err(JwtError::Tenant);
    }
    let mut roles: Vec<Role> = c.roles.iter().filter_map(|r| Role::parse(r)).collect();
    // A token cannot grant more than its tenant owns: `system` is for API keys only.
    roles.retain(|r| *r != Role::System);
    if roles.is_empty() {
        roles.push(Role::User);
    }
    Ok(Principal {
        tenant: tenant.to_string(),
        user: c.user,
        key: c.sub,
        roles,
        scheme: Scheme::Jwt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    fn token(secret: &str, exp: u64, kid: &str) -> String {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.into());
        let claims = serde_json::json!({"sub": "crm", "exp": exp, "roles": ["admin", "system"]});
        encode(&h, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    #[test]
    fn hs256_ok_expired_wrong_key() {
        let t = token("s3", 1_000, "k1");
        assert_eq!(kid(&t).unwrap(), "k1");
        let p = verify(&t, "demo", "HS256", "s3", 900).unwrap();
        assert_eq!(
            (p.tenant.as_str(), p.roles.clone()),
            ("demo", vec![Role::Admin])
        );
        assert_eq!(
            verify(&t, "demo", "HS256", "s3", 2_000),
            Err(JwtError::Expired)
        );
        assert_eq!(
            verify(&t, "demo", "HS256", "nope", 900),
            Err(JwtError::Signature)
        );
        assert_eq!(verify(&t, "demo", "RS256", "x", 900), Err(JwtError::Key));
        assert_eq!(
            verify("a.b.c", "demo", "HS256", "s3", 0),
            Err(JwtError::Malformed)
        );
    }
}
