//! What the gateway keeps per user beside SIP credentials: web PIN, display name, voicemail
//! PIN, URL key, call handling settings (the `Store` methods delegate here).

use super::SqlStore;
use crate::{StoreError, User, UserSettings, WebCredentials, ha1, hash_secret, url_key_digest};
use sqlx::Row;

// === impl SqlStore ===

impl SqlStore {
    pub(super) async fn put_web_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError> {
        let realm = self.require_tenant(tenant).await?.realm;
        let (hash, md5, sha256) = match pin {
            Some(pin) => {
                let (m, s) = ha1(ext, &realm, pin);
                (Some(hash_secret(pin)), Some(m), Some(s))
            }
            None => (None, None, None),
        };
        let r = sqlx::query(
            "UPDATE users SET web_pin_hash = $1, web_ha1_md5 = $2, web_ha1_sha256 = $3
             WHERE tenant = $4 AND ext = $5",
        )
        .bind(hash)
        .bind(md5)
        .bind(sha256)
        .bind(tenant)
        .bind(ext)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_web_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<WebCredentials>, StoreError> {
        let row = sqlx::query(
            "SELECT t.realm AS realm, u.web_pin_hash AS h, u.web_ha1_md5 AS m, u.web_ha1_sha256 AS s
             FROM users u JOIN tenants t ON t.name = u.tenant WHERE u.tenant = $1 AND u.ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let (h, m, s): (Option<String>, Option<String>, Option<String>) =
            (r.try_get("h")?, r.try_get("m")?, r.try_get("s")?);
        Ok(match (h, m, s) {
            (Some(pin_hash), Some(ha1_md5), Some(ha1_sha256)) => Some(WebCredentials {
                realm: r.try_get("realm")?,
                pin_hash,
                ha1_md5,
                ha1_sha256,
            }),
            _ => None,
        })
    }

    pub(super) async fn put_display_name(
        &self,
        tenant: &str,
        ext: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET display_name = $1 WHERE tenant = $2 AND ext = $3")
            .bind(name)
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_vm_pin_hash(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT vm_pin_hash FROM users WHERE tenant = $1 AND ext = $2")
            .bind(tenant)
            .bind(ext)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<Option<String>, _>("vm_pin_hash")?,
            None => None,
        })
    }

    pub(super) async fn put_vm_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET vm_pin_hash = $1 WHERE tenant = $2 AND ext = $3")
            .bind(pin.map(hash_secret))
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn put_url_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET url_key_sha256 = $1 WHERE tenant = $2 AND ext = $3")
            .bind(key.map(url_key_digest))
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_user_by_url_key(&self, key: &str) -> Result<Option<User>, StoreError> {
        self.user_where("url_key_sha256", url_key_digest(key)).await
    }

    pub(super) async fn get_user_roles(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Vec<String>, StoreError> {
        let row = sqlx::query("SELECT roles FROM users WHERE tenant = $1 AND ext = $2")
            .bind(tenant)
            .bind(ext)
            .fetch_optional(&self.pool)
            .await?;
        let roles: String = match row {
            Some(r) => r.try_get("roles")?,
            None => String::new(),
        };
        Ok(roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect())
    }

    pub(super) async fn put_user_roles(
        &self,
        tenant: &str,
        ext: &str,
        roles: &[String],
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET roles = $1 WHERE tenant = $2 AND ext = $3")
            .bind(roles.join(","))
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_user_profile(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT profile FROM users WHERE tenant = $1 AND ext = $2")
            .bind(tenant)
            .bind(ext)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(r.try_get("profile")?),
            None => Ok(None),
        }
    }

    pub(super) async fn put_user_profile(
        &self,
        tenant: &str,
        ext: &str,
        profile: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE users SET profile = $1 WHERE tenant = $2 AND ext = $3")
            .bind(profile)
            .bind(tenant)
            .bind(ext)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn put_private_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r =
            sqlx::query("UPDATE users SET private_key_sha256 = $1 WHERE tenant = $2 AND ext = $3")
                .bind(key.map(url_key_digest))
                .bind(tenant)
                .bind(ext)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_user_by_private_key(
        &self,
        key: &str,
    ) -> Result<Option<User>, StoreError> {
        self.user_where("private_key_sha256", url_key_digest(key))
            .await
    }

    /// The user whose `column` (one of the key digests) is `digest`.
    async fn user_where(
        &self,
        column: &'static str,
        digest: String,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT tenant, ext, display_name FROM users WHERE {column} = $1");
        let row = sqlx::query(&sql)
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(User {
                tenant: r.try_get("tenant")?,
                ext: r.try_get("ext")?,
                display_name: r.try_get("display_name")?,
            })
        })
        .transpose()
    }

    /// Delete a user and its private phonebook.
    pub(super) async fn remove_user(&self, tenant: &str, ext: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query("DELETE FROM users WHERE tenant = $1 AND ext = $2")
            .bind(tenant)
            .bind(ext)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM phonebook WHERE tenant = $1 AND owner = $2")
            .bind(tenant)
            .bind(ext)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn get_user_settings(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<UserSettings>, StoreError> {
        let row = sqlx::query(
            "SELECT forward_to, forward_on, followme_on, vm_on, ring_secs, forward_busy,
                forward_no_answer, dnd, call_sequence, caller_id, vm_greeting
             FROM users WHERE tenant = $1 AND ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(UserSettings {
                forward_to: r.try_get("forward_to")?,
                forward_on: r.try_get::<i64, _>("forward_on")? != 0,
                followme_on: r.try_get::<i64, _>("followme_on")? != 0,
                vm_on: r.try_get::<i64, _>("vm_on")? != 0,
                ring_secs: u32::try_from(r.try_get::<i64, _>("ring_secs")?).unwrap_or(30),
                forward_busy: r.try_get("forward_busy")?,
                forward_no_answer: r.try_get("forward_no_answer")?,
                dnd: r.try_get::<i64, _>("dnd")? != 0,
                call_sequence: match r.try_get::<Option<String>, _>("call_sequence")? {
                    Some(j) => serde_json::from_str(&j).map_err(|_| StoreError::Corrupt {
                        column: "call_sequence",
                        value: j,
                    })?,
                    None => Vec::new(),
                },
                caller_id: r.try_get("caller_id")?,
                vm_greeting: r.try_get("vm_greeting")?,
            })
        })
        .transpose()
    }

    pub(super) async fn put_user_settings(
        &self,
        tenant: &str,
        ext: &str,
        st: &UserSettings,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE users SET forward_to = $1, forward_on = $2, followme_on = $3, vm_on = $4,
                ring_secs = $5, forward_busy = $8, forward_no_answer = $9, dnd = $10,
                call_sequence = $11, caller_id = $12, vm_greeting = $13
             WHERE tenant = $6 AND ext = $7",
        )
        .bind(st.forward_to.clone())
        .bind(i64::from(st.forward_on))
        .bind(i64::from(st.followme_on))
        .bind(i64::from(st.vm_on))
        .bind(i64::from(st.ring_secs))
        .bind(tenant)
        .bind(ext)
        .bind(st.forward_busy.clone())
        .bind(st.forward_no_answer.clone())
        .bind(i64::from(st.dnd))
        .bind(serde_json::to_string(&st.call_sequence).unwrap_or_else(|_| "[]".into()))
        .bind(st.caller_id.clone())
        .bind(st.vm_greeting.clone())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }
}
