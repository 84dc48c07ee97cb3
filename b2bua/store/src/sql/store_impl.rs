//! [`Store`] for [`SqlStore`]: each method in one place, most delegating to the concern's
//! module (`users`, `tenant_config`, `records`, `routing`).

use super::SqlStore;
use crate::{
    ApiKey, AppNumber, CdrQuery, JwtKey, PhonebookEntry, Recording, SipCredentials, Store,
    StoreError, Tenant, User, UserSettings, VoicemailRow, WebCredentials, ha1,
};
use patchbay_api::{Cdr, DialRule, Did, RecordingPolicy, RingGroup, Trunk};
use sqlx::Row;

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn upsert_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tenants (name, realm) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET realm = excluded.realm",
        )
        .bind(&t.name)
        .bind(&t.realm)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn tenant(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT name, realm FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(Tenant {
                name: r.try_get("name")?,
                realm: r.try_get("realm")?,
            }),
            None => None,
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query("SELECT name, realm FROM tenants ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Tenant {
                    name: r.try_get("name")?,
                    realm: r.try_get("realm")?,
                })
            })
            .collect()
    }

    async fn upsert_user(&self, u: &User, sip_password: &str) -> Result<(), StoreError> {
        let tenant = self
            .tenant(&u.tenant)
            .await?
            .ok_or_else(|| StoreError::UnknownTenant(u.tenant.clone()))?;
        let (md5, sha256) = ha1(&u.ext, &tenant.realm, sip_password);
        sqlx::query(
            "INSERT INTO users (tenant, ext, display_name, ha1_md5, ha1_sha256) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, ext) DO UPDATE SET display_name = excluded.display_name,
                ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256",
        )
        .bind(&u.tenant)
        .bind(&u.ext)
        .bind(&u.display_name)
        .bind(md5)
        .bind(sha256)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_user(&self, tenant: &str, ext: &str) -> Result<bool, StoreError> {
        self.remove_user(tenant, ext).await
    }

    async fn user(&self, tenant: &str, ext: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT tenant, ext, display_name FROM users WHERE tenant = $1 AND ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(User {
                tenant: r.try_get("tenant")?,
                ext: r.try_get("ext")?,
                display_name: r.try_get("display_name")?,
            }),
            None => None,
        })
    }

    async fn sip_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<SipCredentials>, StoreError> {
        let row = sqlx::query(
            "SELECT t.realm AS realm, u.ha1_md5 AS ha1_md5, u.ha1_sha256 AS ha1_sha256
             FROM users u JOIN tenants t ON t.name = u.tenant WHERE u.tenant = $1 AND u.ext = $2",
        )
        .bind(tenant)
        .bind(ext)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(SipCredentials {
                realm: r.try_get("realm")?,
                ha1_md5: r.try_get("ha1_md5")?,
                ha1_sha256: r.try_get("ha1_sha256")?,
            }),
            None => None,
        })
    }

    async fn insert_cdr(&self, c: &Cdr) -> Result<(), StoreError> {
        self.put_cdr(c).await
    }

    async fn cdrs(&self, tenant: &str, limit: u32) -> Result<Vec<Cdr>, StoreError> {
        self.get_cdrs(tenant, limit).await
    }

    async fn cdr(&self, call: &str) -> Result<Option<Cdr>, StoreError> {
        self.get_cdr(call).await
    }

    async fn tenant_by_realm(&self, realm: &str) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT name, realm FROM tenants WHERE realm = $1 ORDER BY name")
            .bind(realm)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Tenant {
                name: r.try_get("name")?,
                realm: r.try_get("realm")?,
            })
        })
        .transpose()
    }

    async fn delete_tenant(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in [
            "users",
            "api_keys",
            "ip_patterns",
            "jwt_keys",
            "phonebook",
            "tenant_hosts",
            "sip_domains",
            "app_numbers",
            "recording_policy",
            "trunks",
            "dialplans",
            "dids",
            "ring_groups",
            "tenant_configs",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant = $1"))
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        let r = sqlx::query("DELETE FROM tenants WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_tenant_host(&self, host: &str, tenant: &str) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        // Never moves a name another tenant holds (checked in the statement: no race).
        let r = sqlx::query(
            "INSERT INTO tenant_hosts (host, tenant) VALUES ($1, $2)
             ON CONFLICT (host) DO UPDATE SET tenant = excluded.tenant
             WHERE tenant_hosts.tenant = excluded.tenant",
        )
        .bind(host.to_ascii_lowercase())
        .bind(tenant)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::Taken(format!("host {host}")));
        }
        Ok(())
    }

    async fn tenant_for_host(&self, host: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT tenant FROM tenant_hosts WHERE host = $1")
            .bind(host.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("tenant")).transpose()?)
    }

    async fn users(&self, tenant: &str) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, ext, display_name FROM users WHERE tenant = $1 ORDER BY ext",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(User {
                    tenant: r.try_get("tenant")?,
                    ext: r.try_get("ext")?,
                    display_name: r.try_get("display_name")?,
                })
            })
            .collect()
    }

    async fn set_web_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.put_web_pin(tenant, ext, pin).await
    }

    async fn web_credentials(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<WebCredentials>, StoreError> {
        self.get_web_credentials(tenant, ext).await
    }

    async fn set_display_name(
        &self,
        tenant: &str,
        ext: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.put_display_name(tenant, ext, name).await
    }

    async fn set_vm_pin(
        &self,
        tenant: &str,
        ext: &str,
        pin: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.put_vm_pin(tenant, ext, pin).await
    }

    async fn set_url_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.put_url_key(tenant, ext, key).await
    }

    async fn user_by_url_key(&self, key: &str) -> Result<Option<User>, StoreError> {
        self.get_user_by_url_key(key).await
    }

    async fn user_settings(
        &self,
        tenant: &str,
        ext: &str,
    ) -> Result<Option<UserSettings>, StoreError> {
        self.get_user_settings(tenant, ext).await
    }

    async fn set_user_settings(
        &self,
        tenant: &str,
        ext: &str,
        st: &UserSettings,
    ) -> Result<bool, StoreError> {
        self.put_user_settings(tenant, ext, st).await
    }

    async fn create_api_key(&self, key: &ApiKey, secret: &str) -> Result<(), StoreError> {
        self.put_api_key(key, secret).await
    }

    async fn api_key(&self, key_id: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get_api_key(key_id).await
    }

    async fn api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError> {
        self.get_api_keys(tenant).await
    }

    async fn delete_api_key(&self, tenant: &str, key_id: &str) -> Result<bool, StoreError> {
        self.remove_api_key(tenant, key_id).await
    }

    async fn set_ip_patterns(
        &self,
        tenant: &str,
        scope: &str,
        patterns: &[String],
    ) -> Result<(), StoreError> {
        self.put_ip_patterns(tenant, scope, patterns).await
    }

    async fn ip_patterns(&self, tenant: &str, scope: &str) -> Result<Vec<String>, StoreError> {
        self.get_ip_patterns(tenant, scope).await
    }

    async fn upsert_jwt_key(&self, k: &JwtKey) -> Result<(), StoreError> {
        self.put_jwt_key(k).await
    }

    async fn jwt_key(&self, kid: &str) -> Result<Option<JwtKey>, StoreError> {
        self.get_jwt_key(kid).await
    }

    async fn search_cdrs(&self, q: &CdrQuery) -> Result<Vec<Cdr>, StoreError> {
        self.find_cdrs(q).await
    }

    async fn upsert_phonebook_entry(&self, e: &PhonebookEntry) -> Result<(), StoreError> {
        self.put_phonebook_entry(e).await
    }

    async fn phonebook(
        &self,
        tenant: &str,
        owner: &str,
        book: &str,
    ) -> Result<Vec<PhonebookEntry>, StoreError> {
        self.get_phonebook(tenant, owner, book).await
    }

    async fn phonebook_entry(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<PhonebookEntry>, StoreError> {
        self.get_phonebook_entry(tenant, id).await
    }

    async fn delete_phonebook_entry(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        self.remove_phonebook_entry(tenant, id).await
    }

    async fn delete_phonebook(
        &self,
        tenant: &str,
        owner: &str,
        book: &str,
    ) -> Result<u64, StoreError> {
        self.remove_phonebook(tenant, owner, book).await
    }

    async fn user_roles(&self, tenant: &str, ext: &str) -> Result<Vec<String>, StoreError> {
        self.get_user_roles(tenant, ext).await
    }

    async fn set_user_roles(
        &self,
        tenant: &str,
        ext: &str,
        roles: &[String],
    ) -> Result<bool, StoreError> {
        self.put_user_roles(tenant, ext, roles).await
    }

    async fn user_profile(&self, tenant: &str, ext: &str) -> Result<Option<String>, StoreError> {
        self.get_user_profile(tenant, ext).await
    }

    async fn set_user_profile(
        &self,
        tenant: &str,
        ext: &str,
        profile: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.put_user_profile(tenant, ext, profile).await
    }

    async fn set_private_key(
        &self,
        tenant: &str,
        ext: &str,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.put_private_key(tenant, ext, key).await
    }

    async fn user_by_private_key(&self, key: &str) -> Result<Option<User>, StoreError> {
        self.get_user_by_private_key(key).await
    }

    async fn insert_recording(&self, rec: &Recording) -> Result<(), StoreError> {
        self.put_recording(rec).await
    }

    async fn recordings(
        &self,
        tenant: &str,
        call: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError> {
        self.get_recordings(tenant, call, limit).await
    }

    async fn recording(&self, tenant: &str, id: &str) -> Result<Option<Recording>, StoreError> {
        self.get_recording(tenant, id).await
    }

    async fn delete_recording(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Recording>, StoreError> {
        self.remove_recording(tenant, id).await
    }

    async fn expired_recordings(
        &self,
        now_ms: u64,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError> {
        self.get_expired_recordings(now_ms, limit).await
    }

    async fn recording_policy(&self, tenant: &str) -> Result<RecordingPolicy, StoreError> {
        self.get_recording_policy(tenant).await
    }

    async fn set_recording_policy(
        &self,
        tenant: &str,
        policy: &RecordingPolicy,
    ) -> Result<(), StoreError> {
        self.put_recording_policy(tenant, policy).await
    }

    async fn set_allowed_sip_domains(
        &self,
        tenant: &str,
        domains: &[String],
    ) -> Result<(), StoreError> {
        self.put_allowed_sip_domains(tenant, domains).await
    }

    async fn allowed_sip_domains(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.get_allowed_sip_domains(tenant).await
    }

    async fn tenant_hosts(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        self.get_tenant_hosts(tenant).await
    }

    async fn delete_tenant_host(&self, tenant: &str, host: &str) -> Result<bool, StoreError> {
        self.remove_tenant_host(tenant, host).await
    }

    async fn jwt_keys(&self, tenant: &str) -> Result<Vec<JwtKey>, StoreError> {
        self.get_jwt_keys(tenant).await
    }

    async fn delete_jwt_key(&self, tenant: &str, kid: &str) -> Result<bool, StoreError> {
        self.remove_jwt_key(tenant, kid).await
    }

    async fn insert_voicemail(&self, m: &VoicemailRow) -> Result<(), StoreError> {
        self.put_voicemail(m).await
    }

    async fn voicemails(
        &self,
        tenant: &str,
        mailbox: &str,
        folder: Option<&str>,
    ) -> Result<Vec<VoicemailRow>, StoreError> {
        self.get_voicemails(tenant, mailbox, folder).await
    }

    async fn voicemail(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<Option<VoicemailRow>, StoreError> {
        self.get_voicemail(tenant, mailbox, id).await
    }

    async fn set_voicemail_folder(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
        folder: &str,
    ) -> Result<bool, StoreError> {
        self.put_voicemail_folder(tenant, mailbox, id, folder).await
    }

    async fn delete_voicemail(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<Option<VoicemailRow>, StoreError> {
        self.remove_voicemail(tenant, mailbox, id).await
    }

    async fn vm_pin_hash(&self, tenant: &str, ext: &str) -> Result<Option<String>, StoreError> {
        self.get_vm_pin_hash(tenant, ext).await
    }

    async fn put_app_number(&self, n: &AppNumber) -> Result<(), StoreError> {
        self.put_app_number_row(n).await
    }

    async fn app_numbers(&self, tenant: &str) -> Result<Vec<AppNumber>, StoreError> {
        self.get_app_numbers(tenant).await
    }

    async fn delete_app_number(&self, tenant: &str, number: &str) -> Result<bool, StoreError> {
        self.remove_app_number(tenant, number).await
    }

    async fn put_trunk(&self, tenant: &str, t: &Trunk) -> Result<(), StoreError> {
        self.put_trunk_row(tenant, t).await
    }

    async fn trunks(&self, tenant: Option<&str>) -> Result<Vec<(String, Trunk)>, StoreError> {
        self.get_trunks(tenant).await
    }

    async fn delete_trunk(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        self.remove_trunk(tenant, name).await
    }

    async fn set_dialplan(&self, tenant: &str, rules: &[DialRule]) -> Result<(), StoreError> {
        self.put_dialplan(tenant, rules).await
    }

    async fn dialplan(&self, tenant: &str) -> Result<Vec<DialRule>, StoreError> {
        self.get_dialplan(tenant).await
    }

    async fn put_did(&self, tenant: &str, d: &Did) -> Result<(), StoreError> {
        self.put_did_row(tenant, d).await
    }

    async fn dids(&self, tenant: &str, number: Option<&str>) -> Result<Vec<Did>, StoreError> {
        self.get_dids(tenant, number).await
    }

    async fn delete_did(&self, tenant: &str, number: &str) -> Result<bool, StoreError> {
        self.remove_did(tenant, number).await
    }

    async fn put_ring_group(&self, tenant: &str, g: &RingGroup) -> Result<(), StoreError> {
        self.put_group_row(tenant, g).await
    }

    async fn ring_groups(&self, tenant: &str) -> Result<Vec<RingGroup>, StoreError> {
        self.get_groups(tenant).await
    }

    async fn delete_ring_group(&self, tenant: &str, number: &str) -> Result<bool, StoreError> {
        self.remove_group(tenant, number).await
    }

    async fn put_config(
        &self,
        tenant: &str,
        kind: &str,
        name: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        self.put_config_row(tenant, kind, name, body).await
    }

    async fn configs(&self, tenant: &str, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.get_configs(tenant, kind).await
    }

    async fn delete_config(
        &self,
        tenant: &str,
        kind: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.remove_config(tenant, kind, name).await
    }
}
