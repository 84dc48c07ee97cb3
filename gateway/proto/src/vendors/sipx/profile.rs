//! `/my/contact-information` (vendor-apis.md 3.4): a user's profile as sipX's `UserProfile`
//! (XStream, null fields omitted, addresses always present) and the document a PUT sends.

use super::contact::ADDRESS_FIELDS;
use super::rest::{Variant, looks_json};
use super::xstream::{X, to_json, to_xml};
use crate::xml::parse_tree;
use crate::{Failure, Response};
use serde_json::{Map, Value};

/// The profile's fields in `UserProfile`'s order (`firstName`/`lastName` come from the user).
pub const PROFILE_FIELDS: [&str; 36] = [
    "authAccountName",
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
    "useBranchAddress",
    "branchName",
    "manager",
    "salutation",
    "employeeId",
    "twiterName",
    "linkedinName",
    "facebookName",
    "xingName",
    "timestamp",
    "avatar",
    "enabled",
    "ldapManaged",
    "custom1",
    "custom2",
    "custom3",
    "firstName",
];

/// The fields a user may not change (the server keeps its own, as sipX does).
pub const SERVER_FIELDS: [&str; 6] = [
    "imId",
    "salutation",
    "manager",
    "employeeId",
    "enabled",
    "ldapManaged",
];

fn is_address(f: &str) -> bool {
    matches!(f, "homeAddress" | "officeAddress" | "branchAddress")
}

fn is_bool(f: &str) -> bool {
    matches!(f, "useBranchAddress" | "enabled" | "ldapManaged")
}

/// The document: stored fields in order, sipX's defaults for the rest.
pub fn render(profile: &Map<String, Value>, first: &str, last: &str, v: Variant) -> Response {
    let mut fields: Vec<(&str, X)> = Vec::new();
    for f in PROFILE_FIELDS {
        let stored = profile.get(f);
        let x = if is_address(f) {
            let a = stored.and_then(Value::as_object);
            X::obj(
                ADDRESS_FIELDS
                    .iter()
                    .filter_map(|k| {
                        a.and_then(|a| a.get(*k))
                            .and_then(Value::as_str)
                            .map(|s| (*k, X::text(s)))
                    })
                    .collect(),
            )
        } else if is_bool(f) {
            let default = f == "enabled";
            X::bool(stored.and_then(Value::as_bool).unwrap_or(default))
        } else if f == "timestamp" {
            X::int(stored.and_then(Value::as_u64).unwrap_or(0))
        } else if f == "firstName" {
            continue;
        } else {
            match (stored.and_then(Value::as_str), f) {
                (Some(s), _) => X::text(s),
                (None, "imDisplayName") => X::text(format!("{first} {last}").trim().to_string()),
                (None, "salutation") => X::text("None"),
                (None, _) => continue,
            }
        };
        fields.push((f, x));
    }
    fields.push(("firstName", X::text(first)));
    fields.push(("lastName", X::text(last)));
    let doc = X::obj(fields);
    match v {
        Variant::Json => {
            super::render_body("application/json", to_json("contact-information", &doc))
        }
        _ => super::render_body("text/xml", to_xml("contact-information", &doc)),
    }
}

/// A PUT: the profile fields it sets (the server's own left out) and the names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub fields: Map<String, Value>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

fn bad(reason: impl Into<String>) -> Failure {
    Failure::InvalidDocument(reason.into())
}

fn checked(f: &str, s: String) -> Result<String, Failure> {
    if s.len() > 255 || s.chars().any(char::is_control) {
        return Err(Failure::bad(
            "contact-information",
            format!("{f}: at most 255 bytes"),
        ));
    }
    Ok(s)
}

/// Read a PUT's `<contact-information>` (XML, or `{"contact-information": {...}}`).
pub fn parse(body: &[u8]) -> Result<ProfileUpdate, Failure> {
    let raw: Map<String, Value> = if looks_json(body) {
        let v: Value = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
        v.get("contact-information")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| bad("not a contact-information document"))?
    } else {
        let root = parse_tree(body, "contact information")
            .map_err(|_| bad("not a contact-information document"))?;
        let Some(ci) = root
            .children
            .first()
            .filter(|n| n.name == "contact-information")
        else {
            return Err(bad("not a contact-information document"));
        };
        ci.children
            .iter()
            .map(|c| {
                let v = if is_address(&c.name) {
                    Value::Object(
                        c.children
                            .iter()
                            .map(|a| (a.name.clone(), Value::String(a.text.clone())))
                            .collect(),
                    )
                } else {
                    Value::String(c.text.clone())
                };
                (c.name.clone(), v)
            })
            .collect()
    };
    let mut out = ProfileUpdate {
        fields: Map::new(),
        first_name: None,
        last_name: None,
    };
    for (k, v) in raw {
        let text = || match &v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match k.as_str() {
            "firstName" => out.first_name = text(),
            "lastName" => out.last_name = text(),
            f if SERVER_FIELDS.contains(&f) || f == "timestamp" => {}
            f if is_address(f) => {
                let Some(a) = v.as_object() else { continue };
                let mut addr = Map::new();
                for (ak, av) in a {
                    if !ADDRESS_FIELDS.contains(&ak.as_str()) {
                        return Err(bad(format!("no such field {ak}")));
                    }
                    if let Some(s) = av.as_str().filter(|s| !s.is_empty()) {
                        addr.insert(ak.clone(), Value::String(checked(f, s.to_string())?));
                    }
                }
                out.fields.insert(k.clone(), Value::Object(addr));
            }
            f if is_bool(f) => {
                let b = text().is_some_and(|t| t == "true");
                out.fields.insert(k.clone(), Value::Bool(b));
            }
            f if PROFILE_FIELDS.contains(&f) => {
                if let Some(s) = text().filter(|s| !s.is_empty()) {
                    let s = checked(f, s)?;
                    out.fields.insert(k.clone(), Value::String(s));
                }
            }
            // Fields sipX has but Patchbay keeps no record of (dates, aliases, avatars synced
            // from elsewhere) are refused rather than dropped.
            other => return Err(bad(format!("no such field {other}"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sipXconfig's contact-information-null-address-book fixture.
    #[test]
    fn no_profile_as_the_fixture() {
        let r = render(&Map::new(), "John", "Doe", Variant::Json);
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            "{\"contact-information\": {\n  \"homeAddress\": {},\n  \"officeAddress\": {},\n  \"branchAddress\": {},\n  \"imDisplayName\": \"John Doe\",\n  \"useBranchAddress\": false,\n  \"salutation\": \"None\",\n  \"timestamp\": 0,\n  \"enabled\": true,\n  \"ldapManaged\": false,\n  \"firstName\": \"John\",\n  \"lastName\": \"Doe\"\n}}"
        );
    }

    #[test]
    fn a_put_keeps_the_servers_fields() {
        let u = parse(b"<contact-information>\n  <jobTitle>Boss</jobTitle>\n  <homeAddress><city>NY</city></homeAddress>\n  <imId>x</imId>\n  <useBranchAddress>true</useBranchAddress>\n  <firstName>Jo</firstName>\n</contact-information>").unwrap();
        assert_eq!(u.first_name.as_deref(), Some("Jo"));
        assert!(!u.fields.contains_key("imId"));
        assert_eq!(u.fields["useBranchAddress"], Value::Bool(true));
        assert_eq!(u.fields["homeAddress"]["city"], "NY");
        assert!(
            parse(b"<contact-information><password>x</password></contact-information>").is_err()
        );
    }
}
