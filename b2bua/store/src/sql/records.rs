//! Records calls leave behind: CDRs, phonebook entries, the recordings index and the
//! tenant's recording policy (the `Store` methods of the same names delegate here).

use super::{SqlStore, from_json_str, ms, to_json_str};
use crate::{CdrQuery, PhonebookEntry, Recording, StoreError, VoicemailRow};
use patchbay_api::{CallId, Cdr, RecordingPolicy};
use sqlx::Row;
use sqlx::any::AnyRow;

fn phonebook_entry_of(r: AnyRow) -> Result<PhonebookEntry, StoreError> {
    Ok(PhonebookEntry {
        tenant: r.try_get("tenant")?,
        id: r.try_get("id")?,
        owner: r.try_get("owner")?,
        book: r.try_get("book")?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        number: r.try_get("number")?,
        contact: r.try_get("contact")?,
        created_ms: ms(r.try_get("created_ms")?),
    })
}

/// The INSERT of a CDR (a second one for the same call is ignored: the owner and a node
/// ending its orphaned calls may both write one).
pub(super) fn insert_cdr(
    c: &Cdr,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    let opt = |v: Option<u64>| v.map(|x| x as i64);
    sqlx::query(
        "INSERT INTO cdrs (call_id, tenant, from_party, to_party, direction, created_ms, ringing_ms,
            answered_ms, ended_ms, duration_s, billsec, cause, ended_by, status, transferred_to, queue,
            accountcode, acc_code2, acc_code3)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19)
         ON CONFLICT (call_id) DO NOTHING",
    )
    .bind(&c.call.0)
    .bind(&c.tenant)
    .bind(&c.from)
    .bind(&c.to)
    .bind(&c.direction)
    .bind(c.created_ms as i64)
    .bind(opt(c.ringing_ms))
    .bind(opt(c.answered_ms))
    .bind(c.ended_ms as i64)
    .bind(c.duration_s as i64)
    .bind(c.billsec as i64)
    .bind(to_json_str(&c.cause))
    .bind(to_json_str(&c.ended_by))
    .bind(c.status.map(i64::from))
    .bind(c.transferred_to.clone())
    .bind(c.queue.clone())
    .bind(&c.account_codes.accountcode)
    .bind(&c.account_codes.acc_code2)
    .bind(&c.account_codes.acc_code3)
}

fn cdr_of(row: AnyRow) -> Result<Cdr, StoreError> {
    Ok(Cdr {
        call: CallId(row.try_get("call_id")?),
        tenant: row.try_get("tenant")?,
        from: row.try_get("from_party")?,
        to: row.try_get("to_party")?,
        direction: row.try_get("direction")?,
        created_ms: ms(row.try_get("created_ms")?),
        ringing_ms: row.try_get::<Option<i64>, _>("ringing_ms")?.map(ms),
        answered_ms: row.try_get::<Option<i64>, _>("answered_ms")?.map(ms),
        ended_ms: ms(row.try_get("ended_ms")?),
        duration_s: ms(row.try_get("duration_s")?),
        billsec: ms(row.try_get("billsec")?),
        cause: from_json_str("cause", row.try_get("cause")?)?,
        ended_by: from_json_str("ended_by", row.try_get("ended_by")?)?,
        status: row
            .try_get::<Option<i64>, _>("status")?
            .and_then(|s| u16::try_from(s).ok()),
        transferred_to: row.try_get("transferred_to")?,
        queue: row.try_get("queue")?,
        account_codes: patchbay_api::AccountCodes {
            accountcode: row.try_get("accountcode")?,
            acc_code2: row.try_get("acc_code2")?,
            acc_code3: row.try_get("acc_code3")?,
        },
    })
}

fn recording_of(r: AnyRow) -> Result<Recording, StoreError> {
    Ok(Recording {
        id: r.try_get("id")?,
        call_id: r.try_get("call_id")?,
        tenant: r.try_get("tenant")?,
        side: r.try_get("side")?,
        layout: r.try_get("layout")?,
        path: r.try_get("path")?,
        started_ms: ms(r.try_get("started_ms")?),
        duration_ms: ms(r.try_get("duration_ms")?),
        bytes: ms(r.try_get("bytes")?),
    })
}

fn voicemail_of(r: AnyRow) -> Result<VoicemailRow, StoreError> {
    Ok(VoicemailRow {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant")?,
        mailbox: r.try_get("mailbox")?,
        folder: r.try_get("folder")?,
        caller: r.try_get("caller")?,
        created_ms: ms(r.try_get("created_ms")?),
        duration_ms: ms(r.try_get("duration_ms")?),
        recording: r.try_get("recording")?,
    })
}

// === impl SqlStore ===

impl SqlStore {
    pub(super) async fn put_cdr(&self, c: &Cdr) -> Result<(), StoreError> {
        insert_cdr(c).execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn get_cdrs(&self, tenant: &str, limit: u32) -> Result<Vec<Cdr>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM cdrs WHERE tenant = $1 ORDER BY ended_ms DESC LIMIT $2")
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(cdr_of).collect()
    }

    pub(super) async fn get_cdr(&self, call: &str) -> Result<Option<Cdr>, StoreError> {
        let row = sqlx::query("SELECT * FROM cdrs WHERE call_id = $1")
            .bind(call)
            .fetch_optional(&self.pool)
            .await?;
        row.map(cdr_of).transpose()
    }

    pub(super) async fn find_cdrs(&self, q: &CdrQuery) -> Result<Vec<Cdr>, StoreError> {
        enum Arg {
            S(String),
            I(i64),
        }
        let mut sql = String::from("SELECT * FROM cdrs WHERE tenant = $1");
        let mut args = vec![Arg::S(q.tenant.clone())];
        let mut push = |sql: &mut String, clause: &str, a: Vec<Arg>| {
            let mut c = clause.to_string();
            for v in a {
                args.push(v);
                c = c.replacen('?', &format!("${}", args.len()), 1);
            }
            sql.push_str(&c);
        };
        let i = |v: u64| Arg::I(i64::try_from(v).unwrap_or(i64::MAX));
        if let Some(f) = q.from_ms {
            push(&mut sql, " AND created_ms >= ?", vec![i(f)]);
        }
        if let Some(t) = q.to_ms {
            push(&mut sql, " AND created_ms < ?", vec![i(t)]);
        }
        if let Some(p) = &q.party {
            push(
                &mut sql,
                " AND (from_party = ? OR to_party = ?)",
                vec![Arg::S(p.clone()), Arg::S(p.clone())],
            );
        }
        if let Some(d) = &q.direction {
            push(&mut sql, " AND direction = ?", vec![Arg::S(d.clone())]);
        }
        match q.answered {
            Some(true) => sql.push_str(" AND answered_ms IS NOT NULL"),
            Some(false) => sql.push_str(" AND answered_ms IS NULL"),
            None => {}
        }
        if !q.causes.is_empty() {
            let marks = vec!["?"; q.causes.len()].join(", ");
            let clause = format!(" AND cause IN ({marks})");
            push(
                &mut sql,
                &clause,
                q.causes.iter().map(|c| Arg::S(c.clone())).collect(),
            );
        }
        let (cmp, order) = if q.oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some((at, id)) = &q.after {
            let clause =
                format!(" AND (created_ms {cmp} ? OR (created_ms = ? AND call_id {cmp} ?))");
            push(&mut sql, &clause, vec![i(*at), i(*at), Arg::S(id.clone())]);
        }
        sql.push_str(&format!(
            " ORDER BY created_ms {order}, call_id {order} LIMIT {}",
            q.limit.clamp(1, 10_000)
        ));
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                Arg::S(s) => query.bind(s),
                Arg::I(n) => query.bind(n),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.into_iter().map(cdr_of).collect()
    }

    pub(super) async fn put_phonebook_entry(&self, e: &PhonebookEntry) -> Result<(), StoreError> {
        self.require_tenant(&e.tenant).await?;
        sqlx::query(
            "INSERT INTO phonebook (tenant, id, owner, book, first_name, last_name, number,
                contact, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (tenant, id) DO UPDATE SET first_name = excluded.first_name,
                last_name = excluded.last_name, number = excluded.number,
                contact = excluded.contact
             WHERE phonebook.owner = excluded.owner AND phonebook.book = excluded.book",
        )
        .bind(&e.tenant)
        .bind(&e.id)
        .bind(&e.owner)
        .bind(&e.book)
        .bind(&e.first_name)
        .bind(&e.last_name)
        .bind(&e.number)
        .bind(&e.contact)
        .bind(e.created_ms as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_phonebook(
        &self,
        tenant: &str,
        owner: &str,
        book: &str,
    ) -> Result<Vec<PhonebookEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT tenant, id, owner, book, first_name, last_name, number, contact, created_ms
             FROM phonebook WHERE tenant = $1 AND owner = $2 AND book = $3
             ORDER BY created_ms, id",
        )
        .bind(tenant)
        .bind(owner)
        .bind(book)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(phonebook_entry_of).collect()
    }

    pub(super) async fn get_phonebook_entry(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<PhonebookEntry>, StoreError> {
        let row = sqlx::query(
            "SELECT tenant, id, owner, book, first_name, last_name, number, contact, created_ms
             FROM phonebook WHERE tenant = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(phonebook_entry_of).transpose()
    }

    pub(super) async fn remove_phonebook_entry(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM phonebook WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn remove_phonebook(
        &self,
        tenant: &str,
        owner: &str,
        book: &str,
    ) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM phonebook WHERE tenant = $1 AND owner = $2 AND book = $3")
            .bind(tenant)
            .bind(owner)
            .bind(book)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    pub(super) async fn put_recording(&self, r: &Recording) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO recordings (id, call_id, tenant, side, layout, path, started_ms,
                duration_ms, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&r.id)
        .bind(&r.call_id)
        .bind(&r.tenant)
        .bind(&r.side)
        .bind(&r.layout)
        .bind(&r.path)
        .bind(r.started_ms as i64)
        .bind(r.duration_ms as i64)
        .bind(r.bytes as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_recordings(
        &self,
        tenant: &str,
        call: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError> {
        let rows = match call {
            Some(c) => {
                sqlx::query(
                    "SELECT * FROM recordings WHERE tenant = $1 AND call_id = $2
                     ORDER BY started_ms DESC, id DESC LIMIT $3",
                )
                .bind(tenant)
                .bind(c)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT * FROM recordings WHERE tenant = $1
                     ORDER BY started_ms DESC, id DESC LIMIT $2",
                )
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(recording_of).collect()
    }

    pub(super) async fn get_recording(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Recording>, StoreError> {
        let row = sqlx::query("SELECT * FROM recordings WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(recording_of).transpose()
    }

    pub(super) async fn remove_recording(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Recording>, StoreError> {
        let Some(rec) = self.get_recording(tenant, id).await? else {
            return Ok(None);
        };
        let r = sqlx::query("DELETE FROM recordings WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok((r.rows_affected() > 0).then_some(rec))
    }

    /// Recordings older than their tenant's retention (tenants with one), oldest first.
    pub(super) async fn get_expired_recordings(
        &self,
        now_ms: u64,
        limit: u32,
    ) -> Result<Vec<Recording>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.* FROM recordings r JOIN recording_policy p ON p.tenant = r.tenant
             WHERE p.retention_days > 0 AND r.started_ms < $1 - p.retention_days * 86400000
             ORDER BY r.started_ms LIMIT $2",
        )
        .bind(now_ms as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(recording_of).collect()
    }

    pub(super) async fn get_recording_policy(
        &self,
        tenant: &str,
    ) -> Result<RecordingPolicy, StoreError> {
        let row = sqlx::query(
            "SELECT record_calls, retention_days FROM recording_policy WHERE tenant = $1",
        )
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(RecordingPolicy::default());
        };
        Ok(RecordingPolicy {
            record_calls: r.try_get::<i64, _>("record_calls")? != 0,
            retention_days: u32::try_from(r.try_get::<i64, _>("retention_days")?).unwrap_or(0),
        })
    }

    pub(super) async fn put_recording_policy(
        &self,
        tenant: &str,
        p: &RecordingPolicy,
    ) -> Result<(), StoreError> {
        self.require_tenant(tenant).await?;
        sqlx::query(
            "INSERT INTO recording_policy (tenant, record_calls, retention_days) VALUES ($1, $2, $3)
             ON CONFLICT (tenant) DO UPDATE SET record_calls = excluded.record_calls,
                retention_days = excluded.retention_days",
        )
        .bind(tenant)
        .bind(i64::from(p.record_calls))
        .bind(i64::from(p.retention_days))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn put_voicemail(&self, m: &VoicemailRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO voicemail (id, tenant, mailbox, folder, caller, created_ms, duration_ms,
                recording) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&m.id)
        .bind(&m.tenant)
        .bind(&m.mailbox)
        .bind(&m.folder)
        .bind(&m.caller)
        .bind(m.created_ms as i64)
        .bind(m.duration_ms as i64)
        .bind(&m.recording)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn get_voicemails(
        &self,
        tenant: &str,
        mailbox: &str,
        folder: Option<&str>,
    ) -> Result<Vec<VoicemailRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM voicemail WHERE tenant = $1 AND mailbox = $2
                AND ($3 = '' OR folder = $3) ORDER BY created_ms DESC, id DESC",
        )
        .bind(tenant)
        .bind(mailbox)
        .bind(folder.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(voicemail_of).collect()
    }

    pub(super) async fn get_voicemail(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<Option<VoicemailRow>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM voicemail WHERE tenant = $1 AND mailbox = $2 AND id = $3")
                .bind(tenant)
                .bind(mailbox)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(voicemail_of).transpose()
    }

    pub(super) async fn put_voicemail_folder(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
        folder: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE voicemail SET folder = $4 WHERE tenant = $1 AND mailbox = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(mailbox)
        .bind(id)
        .bind(folder)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub(super) async fn remove_voicemail(
        &self,
        tenant: &str,
        mailbox: &str,
        id: &str,
    ) -> Result<Option<VoicemailRow>, StoreError> {
        let Some(m) = self.get_voicemail(tenant, mailbox, id).await? else {
            return Ok(None);
        };
        let r = sqlx::query("DELETE FROM voicemail WHERE tenant = $1 AND mailbox = $2 AND id = $3")
            .bind(tenant)
            .bind(mailbox)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok((r.rows_affected() > 0).then_some(m))
    }
}
