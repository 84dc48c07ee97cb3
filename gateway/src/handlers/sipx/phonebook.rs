//! sipXconfig's phonebooks: the user's (`/my/phonebook`, `/my/phonebook/entry/{id}`,
//! `/my/search/phonebook`, `/my/pagedphonebook`) and the admin's (`/phonebook`,
//! `/phonebook/{name}`, `POST /phone`). A user sees its private book and every shared book
//! that names it, one of its ring groups, or everyone.

use super::Rest;
use crate::handlers::native::phonebooks::{BOOK_KIND, PHONE_KIND, book, new_entry};
use crate::handlers::{Ctx, Reply, db};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::query::Params;
use patchbay_gateway_proto::vendors::native::{Phone, PhonebookBody, serial_of};
use patchbay_gateway_proto::vendors::sipx::phonebook::{self as pb, Entry, Page};
use patchbay_gateway_proto::vendors::sipx::render_ok;
use patchbay_gateway_proto::vendors::sipx::rest::{self, Variant, no_body};
use patchbay_store::PhonebookEntry;

/// Most entries of one user's private phonebook.
const MAX_PRIVATE_ENTRIES: usize = 10_000;

fn entry(e: &PhonebookEntry) -> Entry {
    Entry {
        id: e.id.clone(),
        first_name: e.first_name.clone(),
        last_name: e.last_name.clone(),
        number: e.number.clone(),
        contact: serde_json::from_str(&e.contact).unwrap_or_default(),
    }
}

fn negotiate(cx: &Rest<'_>, offered: &[Variant]) -> Result<Variant, Failure> {
    rest::negotiate(cx.req, offered).ok_or_else(|| Failure::NotAcceptable(String::new()))
}

/// The shared books `user` sees.
async fn shared_books(cx: &Rest<'_>) -> Result<Vec<String>, Failure> {
    let s = &cx.gw.store;
    let groups = s.ring_groups(cx.tenant()).await.map_err(db)?;
    let mine: Vec<&str> = groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m.ext == cx.user()))
        .map(|g| g.number.as_str())
        .collect();
    Ok(s.configs(cx.tenant(), BOOK_KIND)
        .await
        .map_err(db)?
        .into_iter()
        .filter_map(|(name, body)| {
            let b: PhonebookBody = serde_json::from_str(&body).ok()?;
            let sees = b.everyone
                || b.users.iter().any(|u| u == cx.user())
                || b.groups.iter().any(|g| mine.contains(&g.as_str()));
            sees.then_some(name)
        })
        .collect())
}

/// Every entry the user sees, ordered and without duplicates as sipX's `TreeSet` keeps them
/// (last name, first name, number).
async fn visible(cx: &Rest<'_>) -> Result<Vec<PhonebookEntry>, Failure> {
    let s = &cx.gw.store;
    let mut all = s.phonebook(cx.tenant(), cx.user(), "").await.map_err(db)?;
    for b in shared_books(cx).await? {
        all.extend(s.phonebook(cx.tenant(), "", &b).await.map_err(db)?);
    }
    all.sort_by(|a, b| {
        (&a.last_name, &a.first_name, &a.number).cmp(&(&b.last_name, &b.first_name, &b.number))
    });
    all.dedup_by(|a, b| {
        (&a.last_name, &a.first_name, &a.number) == (&b.last_name, &b.first_name, &b.number)
    });
    Ok(all)
}

/// `/my/phonebook`: GET (XML, JSON, the CSV export as `text/plain`, vCard), POST entries to
/// the private book, DELETE the private book.
pub(super) async fn mine(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "phonebook";
    let s = &cx.gw.store;
    match cx.method {
        "GET" => {
            let v = negotiate(
                cx,
                &[Variant::Xml, Variant::Json, Variant::Text, Variant::VCard],
            )?;
            let entries: Vec<Entry> = visible(cx).await?.iter().map(entry).collect();
            Ok(Reply::Full(match v {
                Variant::Text | Variant::VCard if entries.is_empty() => pb::render_empty_export(),
                Variant::Text => pb::render_csv_export(&entries),
                Variant::VCard => pb::render_vcards(&entries),
                v => pb::render_entries(&entries, v),
            }))
        }
        "POST" => {
            if no_body(cx.req.body()) {
                return Ok(Reply::Full(render_ok()));
            }
            let mut list = pb::parse_entries(cx.req.body())?;
            for e in &mut list {
                pb::validate_entry(e)?;
            }
            // Entries the user sees already are not stored twice (sync scripts post their
            // whole list again and again).
            let mut seen: Vec<(String, String, String)> = visible(cx)
                .await?
                .into_iter()
                .map(|e| (e.last_name, e.first_name, e.number))
                .collect();
            let own = s
                .phonebook(cx.tenant(), cx.user(), "")
                .await
                .map_err(db)?
                .len();
            let fresh: Vec<_> = list
                .into_iter()
                .filter(|e| {
                    let k = (e.last_name.clone(), e.first_name.clone(), e.number.clone());
                    let new = !seen.contains(&k);
                    seen.push(k);
                    new
                })
                .collect();
            if own + fresh.len() > MAX_PRIVATE_ENTRIES {
                return Err(Failure::bad(
                    "phonebook",
                    format!("A private phonebook holds at most {MAX_PRIVATE_ENTRIES} entries"),
                ));
            }
            for e in fresh {
                let row = new_entry(cx.tenant(), cx.user(), "", e);
                s.upsert_phonebook_entry(&row).await.map_err(db)?;
            }
            Ok(Reply::Full(render_ok()))
        }
        "DELETE" => {
            s.delete_phonebook(cx.tenant(), cx.user(), "")
                .await
                .map_err(db)?;
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// `/my/phonebook/entry/{id}`: one entry of the private book.
pub(super) async fn one(cx: &Rest<'_>, ctx: &mut Ctx, id: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "phonebook_entry";
    let s = &cx.gw.store;
    let owned = s
        .phonebook_entry(cx.tenant(), id)
        .await
        .map_err(db)?
        .filter(|e| e.owner == cx.user() && e.book.is_empty());
    match cx.method {
        "GET" => {
            let v = negotiate(cx, &[Variant::Xml, Variant::Json])?;
            let e = owned.ok_or_else(|| Failure::NotFound(String::new()))?;
            Ok(Reply::Full(pb::render_entry(&entry(&e), v)))
        }
        "POST" | "PUT" => {
            if cx.method == "PUT" && owned.is_none() {
                return Err(Failure::NotFound(String::new()));
            }
            let mut e = pb::parse_entry(cx.req.body())?;
            pb::validate_entry(&mut e)?;
            let keep = owned.as_ref().filter(|_| cx.method == "PUT");
            let dup = visible(cx).await?.into_iter().any(|v| {
                keep.is_none_or(|k| k.id != v.id)
                    && (
                        v.last_name.as_str(),
                        v.first_name.as_str(),
                        v.number.as_str(),
                    ) == (
                        e.last_name.as_str(),
                        e.first_name.as_str(),
                        e.number.as_str(),
                    )
            });
            if dup {
                return Err(Failure::AlreadyExists("entry".into()));
            }
            if keep.is_none()
                && s.phonebook(cx.tenant(), cx.user(), "")
                    .await
                    .map_err(db)?
                    .len()
                    >= MAX_PRIVATE_ENTRIES
            {
                return Err(Failure::bad(
                    "phonebook",
                    format!("A private phonebook holds at most {MAX_PRIVATE_ENTRIES} entries"),
                ));
            }
            let mut row = new_entry(cx.tenant(), cx.user(), "", e);
            if let Some(k) = keep {
                row.id = k.id.clone();
                row.created_ms = k.created_ms;
            }
            s.upsert_phonebook_entry(&row).await.map_err(db)?;
            Ok(Reply::Full(render_ok()))
        }
        "DELETE" => {
            // Not the user's: nothing to do, as sipX.
            if owned.is_some() {
                s.delete_phonebook_entry(cx.tenant(), id)
                    .await
                    .map_err(db)?;
            }
            Ok(Reply::Full(render_ok()))
        }
        _ => Err(Failure::MethodNotAllowed),
    }
}

/// Case-insensitive substring of first name, last name, number or e-mail address.
fn matches(e: &Entry, q: &str) -> bool {
    let q = q.to_lowercase();
    let mail = e
        .contact
        .get("emailAddress")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    [e.first_name.as_str(), &e.last_name, &e.number, mail]
        .iter()
        .any(|f| f.to_lowercase().contains(&q))
}

/// `/my/search/phonebook?query=`.
pub(super) async fn search(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "phonebook_search";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx, &[Variant::Xml, Variant::Json])?;
    let q = Params::from_query(cx.req)
        .get("query")
        .unwrap_or("")
        .to_string();
    let found: Vec<Entry> = visible(cx)
        .await?
        .iter()
        .map(entry)
        .filter(|e| matches(e, &q))
        .collect();
    Ok(Reply::Full(pb::render_entries(&found, v)))
}

/// `/my/pagedphonebook?start=&end=[&filter=]`.
pub(super) async fn paged(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "phonebook_paged";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx, &[Variant::Xml, Variant::Json])?;
    let p = Params::from_query(cx.req);
    let num = |k: &str, d: usize| -> Result<usize, Failure> {
        match p.get(k) {
            None | Some("") => Ok(d),
            Some(x) => x
                .trim()
                .parse()
                .map_err(|_| Failure::bad(k, patchbay_gateway_proto::vendors::sipx::BAD_REQUEST)),
        }
    };
    let all = visible(cx).await?;
    let private = all.iter().any(|e| e.owner == cx.user());
    let entries: Vec<Entry> = all.iter().map(entry).collect();
    let filter = p.get("filter").unwrap_or("");
    let filtered: Vec<Entry> = entries
        .iter()
        .filter(|e| filter.is_empty() || matches(e, filter))
        .cloned()
        .collect();
    let end = num("end", 100)?.min(filtered.len());
    let start = num("start", 0)?.min(end);
    Ok(Reply::Full(pb::render_page(
        &Page {
            size: entries.len(),
            filtered: &filtered,
            start,
            end,
            show_on_phone: if private { "true" } else { "n/a" },
        },
        v,
    )))
}

/// Admin `GET /phonebook`: the shared books.
pub(super) async fn books(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "phonebooks";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    negotiate(cx, &[Variant::Xml])?;
    let names: Vec<String> = cx
        .gw
        .store
        .configs(cx.tenant(), BOOK_KIND)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    Ok(Reply::Full(pb::render_books(&names)))
}

/// Admin `GET /phonebook/{name}`: CSV unless XML is asked for.
pub(super) async fn shared(cx: &Rest<'_>, ctx: &mut Ctx, name: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "phonebook_shared";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    let v = negotiate(cx, &[Variant::Csv, Variant::Xml])?;
    if book(cx.gw, cx.tenant(), name).await?.is_none() {
        return Err(Failure::NotFound(String::new()));
    }
    let entries: Vec<Entry> = cx
        .gw
        .store
        .phonebook(cx.tenant(), "", name)
        .await
        .map_err(db)?
        .iter()
        .map(entry)
        .collect();
    Ok(Reply::Full(pb::render_book(&entries, v)))
}

/// Admin `POST /phone`: records the phones; a bad serial or model is skipped (and logged),
/// as sipX does.
pub(super) async fn phones(cx: &Rest<'_>, ctx: &mut Ctx) -> Result<Reply, Failure> {
    ctx.endpoint = "phones";
    if cx.method != "POST" {
        return Err(Failure::MethodNotAllowed);
    }
    let mut known: Vec<String> = cx
        .gw
        .store
        .configs(cx.tenant(), PHONE_KIND)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for [serial, model, description, version] in pb::parse_phones(cx.req.body())? {
        let Some(serial) = serial_of(&serial).filter(|_| !model.trim().is_empty()) else {
            tracing::info!(tenant = cx.tenant(), serial, model, "sipX phone skipped");
            continue;
        };
        if known.contains(&serial) {
            tracing::info!(
                tenant = cx.tenant(),
                serial,
                "sipX phone known already: skipped"
            );
            continue;
        }
        let p = Phone {
            serial: serial.clone(),
            model: model.trim().chars().take(64).collect(),
            description: description.chars().take(255).collect(),
            version: Some(version).filter(|v| !v.is_empty()),
            user: None,
        };
        let body = serde_json::to_string(&p).unwrap_or_default();
        known.push(serial.clone());
        cx.gw
            .store
            .put_config(cx.tenant(), PHONE_KIND, &serial, &body)
            .await
            .map_err(db)?;
    }
    Ok(Reply::Full(render_ok()))
}
