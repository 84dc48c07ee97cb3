//! `/api/v1/tenants/{tenant}/phonebooks` (shared phonebooks: who sees them, their entries)
//! and `/phones` (phones as sipX records them), for tenant admins. A book's settings are the
//! tenant config `phonebook`/<name>; its entries are the store's phonebook rows of that
//! book; phones are the tenant config `phone`/<serial>.

use super::super::{config, db};
use crate::Gateway;
use crate::auth::now_ms;
use patchbay_gateway_proto::vendors::native::{
    EntryBody, Phone, PhonebookBody, PhonebookOp, render_json,
};
use patchbay_gateway_proto::{Failure, Response};
use patchbay_store::PhonebookEntry;
use serde_json::json;

/// `tenant_configs` kinds.
pub(crate) const BOOK_KIND: &str = "phonebook";
pub(crate) const PHONE_KIND: &str = "phone";

/// A new entry id: 16 random digits (sipX's ids are numbers; a clash is one in 10^15, and
/// the store never lets one book's entry overwrite another's).
pub(crate) fn entry_id() -> String {
    (1_000_000_000_000_000 + rand::random::<u64>() % 9_000_000_000_000_000).to_string()
}

/// A book's settings, if it exists.
pub(crate) async fn book(
    gw: &Gateway,
    tenant: &str,
    name: &str,
) -> Result<Option<PhonebookBody>, Failure> {
    Ok(config(gw, tenant, BOOK_KIND, name)
        .await?
        .and_then(|b| serde_json::from_str(&b).ok()))
}

pub(crate) fn entry_json(e: &PhonebookEntry) -> serde_json::Value {
    json!({
        "id": e.id,
        "first_name": e.first_name,
        "last_name": e.last_name,
        "number": e.number,
        "contact": serde_json::from_str::<serde_json::Value>(&e.contact).unwrap_or(json!({})),
    })
}

pub(super) async fn run(gw: &Gateway, tenant: &str, op: PhonebookOp) -> Result<Response, Failure> {
    let s = &gw.store;
    Ok(match op {
        PhonebookOp::List => {
            let mut out = Vec::new();
            for (name, body) in s.configs(tenant, BOOK_KIND).await.map_err(db)? {
                let b: PhonebookBody = serde_json::from_str(&body).unwrap_or_default();
                let n = s.phonebook(tenant, "", &name).await.map_err(db)?.len();
                out.push(json!({"name": name, "users": b.users, "groups": b.groups,
                    "everyone": b.everyone, "entries": n}));
            }
            render_json(200, &out)
        }
        PhonebookOp::Get(name) => {
            let b = book(gw, tenant, &name)
                .await?
                .ok_or_else(|| Failure::NotFound(format!("phonebook {name}")))?;
            let entries: Vec<_> = s
                .phonebook(tenant, "", &name)
                .await
                .map_err(db)?
                .iter()
                .map(entry_json)
                .collect();
            render_json(
                200,
                &json!({"name": name, "users": b.users, "groups": b.groups,
                    "everyone": b.everyone, "entries": entries}),
            )
        }
        PhonebookOp::Put(name, b) => {
            let body = serde_json::to_string(&b).unwrap_or_default();
            s.put_config(tenant, BOOK_KIND, &name, &body)
                .await
                .map_err(db)?;
            render_json(
                200,
                &json!({"name": name, "users": b.users, "groups": b.groups,
                "everyone": b.everyone}),
            )
        }
        PhonebookOp::Delete(name) => {
            if !s
                .delete_config(tenant, BOOK_KIND, &name)
                .await
                .map_err(db)?
            {
                return Err(Failure::NotFound(format!("phonebook {name}")));
            }
            s.delete_phonebook(tenant, "", &name).await.map_err(db)?;
            render_json(200, &json!({"deleted": name}))
        }
        PhonebookOp::AddEntry(name, e) => {
            if book(gw, tenant, &name).await?.is_none() {
                return Err(Failure::NotFound(format!("phonebook {name}")));
            }
            let row = new_entry(tenant, "", &name, e);
            s.upsert_phonebook_entry(&row).await.map_err(db)?;
            render_json(201, &entry_json(&row))
        }
        PhonebookOp::DeleteEntry(name, id) => {
            let e = s.phonebook_entry(tenant, &id).await.map_err(db)?;
            if !e.is_some_and(|e| e.owner.is_empty() && e.book == name) {
                return Err(Failure::NotFound(format!("entry {id}")));
            }
            s.delete_phonebook_entry(tenant, &id).await.map_err(db)?;
            render_json(200, &json!({"deleted": id}))
        }
        PhonebookOp::ListPhones => {
            let list: Vec<Phone> = super::super::configs_as(gw, tenant, PHONE_KIND).await?;
            render_json(200, &list)
        }
        PhonebookOp::GetPhone(serial) => {
            let p: Phone = config(gw, tenant, PHONE_KIND, &serial)
                .await?
                .and_then(|b| serde_json::from_str(&b).ok())
                .ok_or_else(|| Failure::NotFound(format!("phone {serial}")))?;
            render_json(200, &p)
        }
        PhonebookOp::PutPhone(p) => {
            if let Some(u) = &p.user
                && s.user(tenant, u).await.map_err(db)?.is_none()
            {
                return Err(Failure::bad("user", format!("no user {u}")));
            }
            let body = serde_json::to_string(&p).unwrap_or_default();
            s.put_config(tenant, PHONE_KIND, &p.serial, &body)
                .await
                .map_err(db)?;
            render_json(200, &p)
        }
        PhonebookOp::DeletePhone(serial) => {
            if !s
                .delete_config(tenant, PHONE_KIND, &serial)
                .await
                .map_err(db)?
            {
                return Err(Failure::NotFound(format!("phone {serial}")));
            }
            render_json(200, &json!({"deleted": serial}))
        }
    })
}

/// A new entry of a book (`owner` for a private one, `book` for a shared one).
pub(crate) fn new_entry(tenant: &str, owner: &str, book: &str, e: EntryBody) -> PhonebookEntry {
    PhonebookEntry {
        tenant: tenant.to_string(),
        id: entry_id(),
        owner: owner.to_string(),
        book: book.to_string(),
        first_name: e.first_name,
        last_name: e.last_name,
        number: e.number,
        contact: serde_json::Value::Object(e.contact).to_string(),
        created_ms: now_ms(),
    }
}
