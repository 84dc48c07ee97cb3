//! Secrets `patchbay` makes for itself: the control-API token of a data dir and the system API
//! key's secret.

use std::io::Write;
use std::path::Path;

/// 32 random bytes as hex (the thread RNG is a CSPRNG seeded from the OS).
pub(crate) fn random_token() -> String {
    (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// The token in `path`; with `create`, a new random one written there first when the file does
/// not exist (its directory made too). Safe against a second process doing the same: the file
/// appears whole (written aside, then hard-linked, which never replaces), and the loser reads
/// the winner's.
pub(crate) fn read_or_make_token(path: &Path, create: bool) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    for _ in 0..3 {
        match std::fs::read_to_string(path) {
            Ok(t) if t.trim().len() >= 16 => return Ok(t.trim().to_string()),
            Ok(_) => return Err(Error::new(ErrorKind::InvalidData, "token shorter than 16")),
            Err(e) if e.kind() == ErrorKind::NotFound && create => {}
            Err(e) => return Err(e),
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let aside = path.with_extension(format!("new-{}", std::process::id()));
        let _ = std::fs::remove_file(&aside);
        write_private(&aside, &random_token())?;
        let linked = std::fs::hard_link(&aside, path);
        let _ = std::fs::remove_file(&aside);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(Error::other("control token file keeps disappearing"))
}

/// Write `text` to a new file readable by its owner only.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

/// Id of the system API key `patchbay up` makes on first start.
pub(crate) const SYSTEM_KEY: &str = "system";

/// Make the system API key with a fresh secret (replacing any earlier one); returns the
/// secret, which is stored only hashed.
pub(crate) async fn make_system_key(
    store: &dyn patchbay_store::Store,
    tenant: &str,
) -> Result<String, patchbay_store::StoreError> {
    if let Some(old) = store.api_key(SYSTEM_KEY).await? {
        store.delete_api_key(&old.tenant, SYSTEM_KEY).await?;
    }
    let secret = random_token();
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    store
        .create_api_key(
            &patchbay_store::ApiKey {
                key_id: SYSTEM_KEY.into(),
                tenant: tenant.into(),
                roles: vec!["system".into()],
                label: "system (patchbay up)".into(),
                created_ms,
                secret_hash: String::new(),
            },
            &secret,
        )
        .await?;
    Ok(secret)
}
