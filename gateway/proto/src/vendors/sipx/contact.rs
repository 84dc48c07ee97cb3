//! Contact information as sipX keeps it: a phonebook entry's `AddressBookEntry` fields and a
//! user's profile, as a JSON object under sipX's field names (what the store holds).

use crate::Failure;
use serde_json::{Map, Value};

/// A phonebook entry's contact fields, in XStream's order (vendor-apis.md 3.4).
pub const ENTRY_FIELDS: [&str; 19] = [
    "jobTitle",
    "jobDept",
    "companyName",
    "assistantName",
    "location",
    "homeAddress",
    "officeAddress",
    "branchAddress",
    "cellPhoneNumber",
    "homePhoneNumber",
    "assistantPhoneNumber",
    "faxNumber",
    "didNumber",
    "imId",
    "imDisplayName",
    "alternateImId",
    "emailAddress",
    "alternateEmailAddress",
    "avatar",
];

/// An address's fields, in order.
pub const ADDRESS_FIELDS: [&str; 6] = [
    "street",
    "city",
    "country",
    "state",
    "zip",
    "officeDesignation",
];

/// Whether `name` is an address (an object of [`ADDRESS_FIELDS`]).
pub fn is_address(name: &str) -> bool {
    matches!(name, "homeAddress" | "officeAddress" | "branchAddress")
}

/// Longest value kept.
const MAX_VALUE: usize = 255;

/// Keep the known fields of `v` (strings, addresses as objects of strings); anything else
/// is refused with the field's name. Renderers put them in sipX's order.
pub fn clean(v: &Map<String, Value>, fields: &[&str]) -> Result<Map<String, Value>, Failure> {
    for k in v.keys() {
        if !fields.contains(&k.as_str()) {
            return Err(Failure::bad("contact", format!("unknown field {k}")));
        }
    }
    let mut out = Map::new();
    for f in fields {
        let Some(x) = v.get(*f) else { continue };
        if x.is_null() {
            continue;
        }
        if is_address(f) {
            let Some(a) = x.as_object() else {
                return Err(Failure::bad("contact", format!("{f}: an object")));
            };
            let mut addr = Map::new();
            for k in a.keys() {
                if !ADDRESS_FIELDS.contains(&k.as_str()) {
                    return Err(Failure::bad("contact", format!("{f}: unknown field {k}")));
                }
            }
            for af in ADDRESS_FIELDS {
                if let Some(s) = a.get(af).and_then(text) {
                    addr.insert(af.to_string(), Value::String(short(f, s)?));
                }
            }
            out.insert(f.to_string(), Value::Object(addr));
        } else {
            let Some(s) = text(x) else {
                return Err(Failure::bad("contact", format!("{f}: a string")));
            };
            out.insert(f.to_string(), Value::String(short(f, s)?));
        }
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn short(f: &str, s: String) -> Result<String, Failure> {
    if s.len() > MAX_VALUE || s.chars().any(char::is_control) {
        return Err(Failure::bad(
            "contact",
            format!("{f}: at most {MAX_VALUE} bytes, no control characters"),
        ));
    }
    Ok(s)
}

/// sipX's e-mail check (`UserPhonebookEntryResource`).
pub fn email_ok(s: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^([a-zA-Z0-9_.\-+])+@(([a-zA-Z0-9\-])+\.)+[a-zA-Z0-9]{2,4}$")
            .unwrap_or_else(|_| unreachable!("a valid pattern"))
    })
    .is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_in_order() {
        let v: Map<String, Value> = serde_json::from_str(
            r#"{"emailAddress":"a@b.org","jobTitle":"CEO","homeAddress":{"zip":1234,"city":"X"}}"#,
        )
        .unwrap();
        let c = clean(&v, &ENTRY_FIELDS).unwrap();
        assert_eq!(
            Value::Object(c),
            serde_json::json!({"jobTitle":"CEO","homeAddress":{"city":"X","zip":"1234"},"emailAddress":"a@b.org"})
        );
        let bad: Map<String, Value> = serde_json::from_str(r#"{"password":"x"}"#).unwrap();
        assert!(clean(&bad, &ENTRY_FIELDS).is_err());
        assert!(email_ok("john.doe@example.com") && !email_ok("nope@"));
    }
}
