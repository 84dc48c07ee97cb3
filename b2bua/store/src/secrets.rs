//! Secrets at rest: argon2id PHC strings for PINs and API secrets; SHA-256 for lookup keys.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// argon2id with the crate's defaults (19 MiB, 2 passes), as a PHC string.
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Hashing with a freshly generated salt and default params cannot fail; an empty hash
        // never verifies, so a failure here fails closed.
        .unwrap_or_default()
}

/// Whether `secret` matches the PHC string `hash`. Unparseable hashes never match.
pub fn verify_secret(hash: &str, secret: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Digest under which a per-user URL key (Taridium `key`) is stored and looked up.
pub fn url_key_digest(key: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash_secret("1234");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret(&h, "1234"));
        assert!(!verify_secret(&h, "1235"));
        assert!(!verify_secret("garbage", "1234"));
        assert!(!verify_secret("", ""));
    }
}
