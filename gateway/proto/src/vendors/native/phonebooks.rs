//! `/api/v1/tenants/{tenant}/phonebooks[/{name}[/entries[/{id}]]]` (shared phonebooks: who
//! sees them and their entries) and `/api/v1/tenants/{tenant}/phones[/{serial}]` (phones as
//! sipX records them). What sipX's REST API reads but cannot create itself. Parsing and
//! validation only.

use super::settings::{SettingOp, json};
use crate::Failure;
use crate::vendors::sipx::contact;
use serde::{Deserialize, Serialize};

/// Who sees a shared phonebook (`tenant_configs` kind `phonebook`, named by the book).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhonebookBody {
    /// Users (extensions) who see it.
    #[serde(default)]
    pub users: Vec<String>,
    /// Ring groups (numbers) whose members see it.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Every user of the tenant sees it.
    #[serde(default)]
    pub everyone: bool,
}

/// A phonebook entry as the native API takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    pub first_name: String,
    pub last_name: String,
    pub number: String,
    /// sipX's contact fields (`jobTitle`, `companyName`, `cellPhoneNumber`, `emailAddress`,
    /// `homeAddress: {street, city, country, state, zip, officeDesignation}` ...).
    #[serde(default)]
    pub contact: serde_json::Map<String, serde_json::Value>,
}

/// A phone (`tenant_configs` kind `phone`, named by its serial number).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phone {
    #[serde(default)]
    pub serial: String,
    pub model: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The user whose phone it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhonebookOp {
    List,
    Get(String),
    Put(String, PhonebookBody),
    Delete(String),
    AddEntry(String, EntryBody),
    DeleteEntry(String, String),
    ListPhones,
    GetPhone(String),
    PutPhone(Phone),
    DeletePhone(String),
}

/// A phonebook name: 1-64 of letters, digits, `-`, `_`, `.`.
pub fn book_name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A phone serial number (its MAC address, as sipX has it): 12 hex digits once `:` and `-`
/// are dropped; lower-cased.
pub fn serial_of(s: &str) -> Option<String> {
    let s: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    (s.len() == 12 && s.chars().all(|c| c.is_ascii_hexdigit())).then_some(s)
}

fn name(n: &str) -> Result<String, Failure> {
    if book_name_ok(n) {
        Ok(n.to_string())
    } else {
        Err(Failure::bad("name", "1-64 letters, digits, - _ ."))
    }
}

/// A phonebook entry's checks (the REST API's too): names and number present and short,
/// contact fields known, e-mail addresses as sipX checks them.
pub fn check_entry(e: &mut EntryBody) -> Result<(), Failure> {
    for (f, v) in [
        ("first_name", &e.first_name),
        ("last_name", &e.last_name),
        ("number", &e.number),
    ] {
        if v.trim().is_empty() || v.len() > 255 || v.chars().any(char::is_control) {
            return Err(Failure::bad(f, "required, at most 255 bytes"));
        }
    }
    e.contact = contact::clean(&e.contact, &contact::ENTRY_FIELDS)?;
    for f in ["emailAddress", "alternateEmailAddress"] {
        if let Some(m) = e.contact.get(f).and_then(|v| v.as_str())
            && !contact::email_ok(m)
        {
            return Err(Failure::bad("contact", "Invalid Email Address"));
        }
    }
    Ok(())
}

pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let op = match (method, segs) {
        ("GET", ["phonebooks"]) => PhonebookOp::List,
        ("GET", ["phonebooks", n]) => PhonebookOp::Get(name(n)?),
        ("PUT", ["phonebooks", n]) => {
            let b: PhonebookBody = json(body)?;
            if b.users.len() + b.groups.len() > 10_000 {
                return Err(Failure::bad("users", "at most 10000 users and groups"));
            }
            PhonebookOp::Put(name(n)?, b)
        }
        ("DELETE", ["phonebooks", n]) => PhonebookOp::Delete(name(n)?),
        ("POST", ["phonebooks", n, "entries"]) => {
            let mut e: EntryBody = json(body)?;
            check_entry(&mut e)?;
            PhonebookOp::AddEntry(name(n)?, e)
        }
        ("DELETE", ["phonebooks", n, "entries", id]) => {
            PhonebookOp::DeleteEntry(name(n)?, id.to_string())
        }
        ("GET", ["phones"]) => PhonebookOp::ListPhones,
        ("GET", ["phones", s]) => PhonebookOp::GetPhone(
            serial_of(s).ok_or_else(|| Failure::bad("serial", "12 hex digits"))?,
        ),
        ("PUT", ["phones", s]) => {
            let mut p: Phone = json(body)?;
            let serial = serial_of(s).ok_or_else(|| Failure::bad("serial", "12 hex digits"))?;
            if !p.serial.is_empty() && serial_of(&p.serial).as_deref() != Some(&serial) {
                return Err(Failure::bad("serial", "the body's serial is the path's"));
            }
            if p.model.trim().is_empty() || p.model.len() > 64 || p.description.len() > 255 {
                return Err(Failure::bad("model", "required, at most 64 bytes"));
            }
            p.serial = serial;
            PhonebookOp::PutPhone(p)
        }
        ("DELETE", ["phones", s]) => PhonebookOp::DeletePhone(
            serial_of(s).ok_or_else(|| Failure::bad("serial", "12 hex digits"))?,
        ),
        (_, ["phonebooks" | "phones", ..]) => return Err(Failure::MethodNotAllowed),
        _ => return super::ipps::parse(method, segs, body),
    };
    Ok(Some(SettingOp::Phonebooks(op)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phonebooks_and_phones() {
        let p = |m, segs: &[&str], body: &str| parse(m, segs, body.as_bytes());
        assert!(matches!(
            p("PUT", &["phonebooks", "sales"], r#"{"users":["4005"]}"#),
            Ok(Some(SettingOp::Phonebooks(PhonebookOp::Put(..))))
        ));
        assert!(p("PUT", &["phonebooks", "a b"], "{}").is_err());
        assert!(matches!(
            p(
                "POST",
                &["phonebooks", "sales", "entries"],
                r#"{"first_name":"Ann","last_name":"Lee","number":"4009","contact":{"emailAddress":"ann@x.org"}}"#
            ),
            Ok(Some(SettingOp::Phonebooks(PhonebookOp::AddEntry(..))))
        ));
        assert_eq!(
            p(
                "POST",
                &["phonebooks", "sales", "entries"],
                r#"{"first_name":"Ann","last_name":"Lee","number":"4009","contact":{"emailAddress":"ann"}}"#
            ),
            Err(Failure::bad("contact", "Invalid Email Address"))
        );
        assert!(matches!(
            p("PUT", &["phones", "00:04:F2:AB:CD:EF"], r#"{"model":"polycom"}"#),
            Ok(Some(SettingOp::Phonebooks(PhonebookOp::PutPhone(Phone { ref serial, .. })))) if serial == "0004f2abcdef"
        ));
        assert!(p("PUT", &["phones", "xyz"], r#"{"model":"m"}"#).is_err());
        assert_eq!(p("POST", &["phones"], ""), Err(Failure::MethodNotAllowed));
    }
}
