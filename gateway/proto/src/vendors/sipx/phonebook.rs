//! Phonebooks as sipXconfig shows them (vendor-apis.md 3.2-3.4): the user's entries (XML,
//! JSON, the 27-column CSV export, vCard), one entry, the paged list, and the admin's
//! phonebook list and 3-column CSV; and the entry documents clients POST and PUT.

use super::contact::{ADDRESS_FIELDS, ENTRY_FIELDS, is_address};
use super::rest::{Variant, looks_json};
use super::xstream::{X, to_json, to_xml, xml_escape};
use crate::vendors::native::EntryBody;
use crate::xml::{Node, parse_tree};
use crate::{Failure, Response};
use serde_json::{Map, Value};

/// One entry as the renderers take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub number: String,
    /// sipX's contact fields (see [`super::contact`]).
    pub contact: Map<String, Value>,
}

/// The contact fields as `<contact-information>`'s value, in sipX's order.
fn contact_x(c: &Map<String, Value>) -> X {
    let mut fields = Vec::new();
    for f in ENTRY_FIELDS {
        let Some(v) = c.get(f) else { continue };
        if is_address(f) {
            let a = v.as_object();
            let sub: Vec<(&str, X)> = ADDRESS_FIELDS
                .iter()
                .filter_map(|k| {
                    a.and_then(|a| a.get(*k))
                        .and_then(Value::as_str)
                        .map(|s| (*k, X::text(s)))
                })
                .collect();
            fields.push((f, X::obj(sub)));
        } else if let Some(s) = v.as_str() {
            fields.push((f, X::text(s)));
        }
    }
    X::obj(fields)
}

fn entry_x(e: &Entry, with_id: bool) -> X {
    let mut fields = Vec::new();
    if with_id {
        fields.push(("id", X::text(&e.id)));
    }
    fields.push(("first-name", X::text(&e.first_name)));
    fields.push(("last-name", X::text(&e.last_name)));
    fields.push(("number", X::text(&e.number)));
    fields.push(("contact-information", contact_x(&e.contact)));
    X::obj(fields)
}

fn xml_or_json(root: &str, doc: &X, v: Variant) -> Response {
    match v {
        Variant::Json => super::render_body("application/json", to_json(root, doc)),
        _ => super::render_body("text/xml", to_xml(root, doc)),
    }
}

/// `/my/phonebook`, `/my/search/phonebook`: every entry, each with its `id` (19.x).
pub fn render_entries(entries: &[Entry], v: Variant) -> Response {
    let doc = X::list("entry", entries.iter().map(|e| entry_x(e, true)).collect());
    xml_or_json("phonebook", &doc, v)
}

/// `/my/phonebook/entry/{id}`: one entry, without its id.
pub fn render_entry(e: &Entry, v: Variant) -> Response {
    xml_or_json("entry", &entry_x(e, false), v)
}

/// `/my/pagedphonebook`: a page of the filtered entries.
pub struct Page<'a> {
    pub size: usize,
    pub filtered: &'a [Entry],
    pub start: usize,
    pub end: usize,
    /// `n/a` without a private phonebook, else `true`.
    pub show_on_phone: &'a str,
}

pub fn render_page(p: &Page<'_>, v: Variant) -> Response {
    let doc = X::obj(vec![
        ("size", X::int(p.size)),
        ("filtered-size", X::int(p.filtered.len())),
        ("start-row", X::int(p.start)),
        ("end-row", X::int(p.end)),
        ("show-on-phone", X::text(p.show_on_phone)),
        (
            "entries",
            X::list(
                "entry",
                p.filtered[p.start..p.end]
                    .iter()
                    .map(|e| entry_x(e, true))
                    .collect(),
            ),
        ),
    ]);
    xml_or_json("phonebook", &doc, v)
}

/// sipX's CSV quoting (`SimpleCsvWriter`): every field quoted, `"` as `\"`.
fn csv_line(fields: &[&str]) -> String {
    let q: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"", f.replace('"', "\\\"")))
        .collect();
    format!("{}\n", q.join(","))
}

fn field<'a>(c: &'a Map<String, Value>, name: &str) -> &'a str {
    c.get(name).and_then(Value::as_str).unwrap_or("")
}

fn addr<'a>(c: &'a Map<String, Value>, a: &str, name: &str) -> &'a str {
    c.get(a)
        .and_then(|v| v.get(name))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// What sipX's `StringRepresentation` does to text: ISO-8859-1, other characters `?`.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// The empty export: sipXconfig's servlet answer for `&error.phonebookEmpty`.
pub fn render_empty_export() -> Response {
    crate::response(
        500,
        &[("content-type", "application/json")],
        "{\"error\":\"The phonebook contains no entries\",\"type\":\"org.sipfoundry.sipxconfig.common.UserException\"} ",
    )
}

/// `/my/phonebook` as `text/plain`: the 27-column export (entries without names skipped).
pub fn render_csv_export(entries: &[Entry]) -> Response {
    let mut out = csv_line(&[
        "First Name",
        "Last Name",
        "Number",
        "Job Title",
        "Job Department",
        "Company Name",
        "Assistant Name",
        "Cell Phone Number",
        "Home Phone Number",
        "Assistant Phone Number",
        "Fax Number",
        "Im Id",
        "Alternate Im Id",
        "Location",
        "Home city",
        "Home country",
        "Home state",
        "Home street",
        "Home Zip/Postal code",
        "Office city",
        "Office country",
        "Office State",
        "Office Street",
        "Office Zip/Postal code",
        "Office designation",
        "Office Mail",
        "Alternate Office Mail",
    ]);
    for e in entries
        .iter()
        .filter(|e| !(e.first_name.is_empty() && e.last_name.is_empty()))
    {
        let c = &e.contact;
        out.push_str(&csv_line(&[
            &e.first_name,
            &e.last_name,
            &e.number,
            field(c, "jobTitle"),
            field(c, "jobDept"),
            field(c, "companyName"),
            field(c, "assistantName"),
            field(c, "cellPhoneNumber"),
            field(c, "homePhoneNumber"),
            field(c, "assistantPhoneNumber"),
            field(c, "faxNumber"),
            field(c, "imId"),
            field(c, "alternateImId"),
            field(c, "location"),
            addr(c, "homeAddress", "city"),
            addr(c, "homeAddress", "country"),
            addr(c, "homeAddress", "state"),
            addr(c, "homeAddress", "street"),
            addr(c, "homeAddress", "zip"),
            addr(c, "officeAddress", "city"),
            addr(c, "officeAddress", "country"),
            addr(c, "officeAddress", "state"),
            addr(c, "officeAddress", "street"),
            addr(c, "officeAddress", "zip"),
            addr(c, "officeAddress", "officeDesignation"),
            field(c, "emailAddress"),
            field(c, "alternateEmailAddress"),
        ]));
    }
    super::render_body("text/plain; charset=ISO-8859-1", latin1(&out))
}

/// `/my/phonebook` as `text/x-vcard` (sipX's `VcardWriter`, served as `text/plain`).
pub fn render_vcards(entries: &[Entry]) -> Response {
    let mut out = String::new();
    for e in entries
        .iter()
        .filter(|e| !(e.first_name.is_empty() && e.last_name.is_empty()))
    {
        let c = &e.contact;
        out.push_str("BEGIN:VCARD\nVERSION:3.0\n");
        out.push_str(&format!("FN:{} {}\n", e.first_name, e.last_name));
        out.push_str(&format!("N:{};{};;;\n", e.last_name, e.first_name));
        out.push_str(&format!("TEL;TYPE=WORK:{}\n", e.number));
        if !c.is_empty() {
            out.push_str(&format!("TEL;TYPE=HOME:{}\n", field(c, "homePhoneNumber")));
            out.push_str(&format!("TEL;TYPE=CELL:{}\n", field(c, "cellPhoneNumber")));
            out.push_str(&format!("TEL;TYPE=FAX:{}\n", field(c, "faxNumber")));
            out.push_str(&format!(
                "ADR;TYPE=WORK:{};;{};{};{};{};{}\n",
                addr(c, "officeAddress", "officeDesignation"),
                addr(c, "officeAddress", "street"),
                addr(c, "officeAddress", "city"),
                addr(c, "officeAddress", "state"),
                addr(c, "officeAddress", "zip"),
                addr(c, "officeAddress", "country"),
            ));
            out.push_str(&format!(
                "ADR;TYPE=HOME:;;{};{};{};{};{}\n",
                addr(c, "homeAddress", "street"),
                addr(c, "homeAddress", "city"),
                addr(c, "homeAddress", "state"),
                addr(c, "homeAddress", "zip"),
                addr(c, "homeAddress", "country"),
            ));
            out.push_str(&format!("EMAIL;TYPE=PREF:{}\n", field(c, "emailAddress")));
            out.push_str(&format!("EMAIL:{}\n", field(c, "alternateEmailAddress")));
            out.push_str(&format!(
                "ORG:{};{}\n",
                field(c, "companyName"),
                field(c, "jobDept")
            ));
            out.push_str(&format!("TITLE:{}\n", field(c, "jobTitle")));
        }
        out.push_str("END:VCARD\n\n");
    }
    super::render_body("text/plain; charset=ISO-8859-1", latin1(&out))
}

/// Admin `GET /phonebook`: the phonebooks' names (dom4j, one line).
pub fn render_books(names: &[String]) -> Response {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    if names.is_empty() {
        s.push_str("<phonebooks/>");
    } else {
        s.push_str("<phonebooks>");
        for n in names {
            s.push_str(&format!("<phonebook name=\"{}\"/>", xml_escape(n)));
        }
        s.push_str("</phonebooks>");
    }
    super::render_body("text/xml", s)
}

/// Admin `GET /phonebook/{name}`: CSV (the first variant) or XML, first and last name and
/// number only.
pub fn render_book(entries: &[Entry], v: Variant) -> Response {
    if v == Variant::Xml {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        if entries.is_empty() {
            s.push_str("<phonebook/>");
        } else {
            s.push_str("<phonebook>");
            for e in entries {
                s.push_str("<entry>");
                for (tag, val) in [
                    ("first-name", &e.first_name),
                    ("last-name", &e.last_name),
                    ("number", &e.number),
                ] {
                    if val.is_empty() {
                        s.push_str(&format!("<{tag}/>"));
                    } else {
                        s.push_str(&format!("<{tag}>{}</{tag}>", xml_escape(val)));
                    }
                }
                s.push_str("</entry>");
            }
            s.push_str("</phonebook>");
        }
        return super::render_body("text/xml", s);
    }
    let mut out = csv_line(&["First name", "Last name", "Number"]);
    for e in entries {
        out.push_str(&csv_line(&[&e.first_name, &e.last_name, &e.number]));
    }
    super::render_body("text/comma-separated-values", out)
}

/// sipX's checks of an entry (`UserPhonebookEntryResource`), with its texts; the store's
/// limits on top.
pub fn validate_entry(e: &mut EntryBody) -> Result<(), Failure> {
    let null = || Failure::bad("entry", "First Name / Last Name / Number cannot be Null");
    if [&e.first_name, &e.last_name, &e.number]
        .iter()
        .any(|v| v.trim().is_empty())
    {
        return Err(null());
    }
    crate::vendors::native::check_entry(e).map_err(|f| match f {
        Failure::BadRequest { field, reason } if field == "contact" => {
            Failure::bad("entry", reason)
        }
        Failure::BadRequest { field, .. } => {
            Failure::bad("entry", format!("{field}: at most 255 bytes"))
        }
        other => other,
    })
}

fn bad(reason: impl Into<String>) -> Failure {
    Failure::InvalidDocument(reason.into())
}

fn text_of(n: &Node, name: &str) -> String {
    n.children
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.text.clone())
        .unwrap_or_default()
}

/// An `<entry>` element (or its JSON object) as the native entry body.
fn entry_from_xml(e: &Node) -> Result<EntryBody, Failure> {
    let mut contact = Map::new();
    for c in &e.children {
        match c.name.as_str() {
            "first-name" | "last-name" | "number" | "id" | "internalId" | "timestamp" => {}
            "contact-information" => {
                for f in &c.children {
                    if is_address(&f.name) {
                        let mut a = Map::new();
                        for x in &f.children {
                            a.insert(x.name.clone(), Value::String(x.text.clone()));
                        }
                        contact.insert(f.name.clone(), Value::Object(a));
                    } else {
                        contact.insert(f.name.clone(), Value::String(f.text.clone()));
                    }
                }
            }
            other => return Err(bad(format!("no such field {other}"))),
        }
    }
    Ok(EntryBody {
        first_name: text_of(e, "first-name"),
        last_name: text_of(e, "last-name"),
        number: text_of(e, "number"),
        contact,
    })
}

fn entry_from_json(o: &Map<String, Value>) -> Result<EntryBody, Failure> {
    let s = |k: &str| match o.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    for k in o.keys() {
        if !matches!(
            k.as_str(),
            "first-name"
                | "last-name"
                | "number"
                | "id"
                | "internalId"
                | "timestamp"
                | "contact-information"
        ) {
            return Err(bad(format!("no such field {k}")));
        }
    }
    let contact = match o.get("contact-information") {
        Some(Value::Object(c)) => c.clone(),
        Some(Value::Null) | None => Map::new(),
        Some(Value::String(s)) if s.is_empty() => Map::new(),
        Some(_) => return Err(bad("contact-information")),
    };
    Ok(EntryBody {
        first_name: s("first-name"),
        last_name: s("last-name"),
        number: s("number"),
        contact,
    })
}

fn json_root(body: &[u8], root: &str) -> Result<Value, Failure> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    v.get(root)
        .cloned()
        .ok_or_else(|| bad(format!("not a {root} document")))
}

/// `POST /my/phonebook`: `<phonebook><entry>...</entry>...</phonebook>`, or JSON as Jettison
/// (`{"phonebook":{"entry":[...]}}`) or XStream (`{"phonebook":[...]}`) writes it.
pub fn parse_entries(body: &[u8]) -> Result<Vec<EntryBody>, Failure> {
    if looks_json(body) {
        let v = json_root(body, "phonebook")?;
        let v = match v {
            Value::Object(mut o) if o.contains_key("entry") => {
                o.remove("entry").unwrap_or(Value::Null)
            }
            other => other,
        };
        let list = match v {
            Value::Array(a) => a,
            Value::Object(o) => vec![Value::Object(o)],
            Value::Null => vec![],
            Value::String(s) if s.is_empty() => vec![],
            _ => return Err(bad("phonebook")),
        };
        return list
            .iter()
            .map(|e| {
                e.as_object()
                    .ok_or_else(|| bad("entry"))
                    .and_then(entry_from_json)
            })
            .collect();
    }
    let root = parse_tree(body, "phonebooks").map_err(|_| bad("not a phonebook document"))?;
    let Some(pb) = root.children.first().filter(|n| n.name == "phonebook") else {
        return Err(bad("not a phonebook document"));
    };
    pb.children
        .iter()
        .map(|e| {
            if e.name == "entry" {
                entry_from_xml(e)
            } else {
                Err(bad(format!("no such field {}", e.name)))
            }
        })
        .collect()
}

/// `/my/phonebook/entry/{id}` POST / PUT: `<entry>...</entry>` or `{"entry": {...}}`.
pub fn parse_entry(body: &[u8]) -> Result<EntryBody, Failure> {
    if looks_json(body) {
        let v = json_root(body, "entry")?;
        let o = v.as_object().ok_or_else(|| bad("entry"))?;
        return entry_from_json(o);
    }
    let root = parse_tree(body, "phonebook entries").map_err(|_| bad("not an entry document"))?;
    let Some(e) = root.children.first().filter(|n| n.name == "entry") else {
        return Err(bad("not an entry document"));
    };
    entry_from_xml(e)
}

/// Admin `POST /phone`: `(serialNumber, model, description, version)` of each `<phone>`.
pub fn parse_phones(body: &[u8]) -> Result<Vec<[String; 4]>, Failure> {
    let root = parse_tree(body, "phones").map_err(|_| bad("not a phones document"))?;
    let Some(ps) = root.children.first().filter(|n| n.name == "phones") else {
        return Err(bad("not a phones document"));
    };
    ps.children
        .iter()
        .map(|p| {
            if p.name != "phone" {
                return Err(bad(format!("no such field {}", p.name)));
            }
            for f in &p.children {
                if !matches!(
                    f.name.as_str(),
                    "serialNumber" | "model" | "description" | "version"
                ) {
                    return Err(bad(format!("no such field {}", f.name)));
                }
            }
            Ok([
                text_of(p, "serialNumber"),
                text_of(p, "model"),
                text_of(p, "description"),
                text_of(p, "version"),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            id: "7".into(),
            first_name: "name".into(),
            last_name: "lastName".into(),
            number: "200".into(),
            contact: serde_json::from_str(
                r#"{"officeAddress":{"zip":"1234"},"companyName":"company","jobTitle":"title","homeAddress":{"street":"street"}}"#,
            )
            .unwrap(),
        }
    }

    /// sipXconfig's fixtures user-phonebook-entry.rest.test.xml / .json.
    #[test]
    fn one_entry_as_the_fixtures() {
        let xml = render_entry(&entry(), Variant::Xml);
        assert_eq!(
            std::str::from_utf8(xml.body()).unwrap(),
            "<entry>\n  <first-name>name</first-name>\n  <last-name>lastName</last-name>\n  <number>200</number>\n  <contact-information>\n    <jobTitle>title</jobTitle>\n    <companyName>company</companyName>\n    <homeAddress>\n      <street>street</street>\n    </homeAddress>\n    <officeAddress>\n      <zip>1234</zip>\n    </officeAddress>\n  </contact-information>\n</entry>"
        );
        let json = render_entry(&entry(), Variant::Json);
        assert_eq!(
            std::str::from_utf8(json.body()).unwrap(),
            "{\"entry\": {\n  \"first-name\": \"name\",\n  \"last-name\": \"lastName\",\n  \"number\": \"200\",\n  \"contact-information\": {\n    \"jobTitle\": \"title\",\n    \"companyName\": \"company\",\n    \"homeAddress\": {\n      \"street\": \"street\"\n    },\n    \"officeAddress\": {\n      \"zip\": \"1234\"\n    }\n  }\n}}"
        );
        let back = parse_entry(xml.body()).unwrap();
        assert_eq!(back.contact, entry().contact);
        let back = parse_entry(json.body()).unwrap();
        assert_eq!(back.first_name, "name");
    }

    #[test]
    fn exports() {
        let csv = render_csv_export(&[entry()]);
        let text = std::str::from_utf8(csv.body()).unwrap();
        assert!(text.starts_with("\"First Name\",\"Last Name\",\"Number\",\"Job Title\""));
        assert!(text.ends_with("\"name\",\"lastName\",\"200\",\"title\",\"\",\"company\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"street\",\"\",\"\",\"\",\"\",\"\",\"1234\",\"\",\"\",\"\"\n"), "{text}");
        let v = render_vcards(&[entry()]);
        let text = std::str::from_utf8(v.body()).unwrap();
        assert!(text.starts_with(
            "BEGIN:VCARD\nVERSION:3.0\nFN:name lastName\nN:lastName;name;;;\nTEL;TYPE=WORK:200\n"
        ));
        assert!(text.contains("\nADR;TYPE=WORK:;;;;;1234;\nADR;TYPE=HOME:;;street;;;;\n"));
        assert!(text.ends_with("ORG:company;\nTITLE:title\nEND:VCARD\n\n"));
        let list = parse_entries(
            br#"{"phonebook":{"entry":{"first-name":"a","last-name":"b","number":"1"}}}"#,
        )
        .unwrap();
        assert_eq!(list.len(), 1);
        assert!(parse_entries(b"<phonebook><entry><x/></entry></phonebook>").is_err());
        assert_eq!(
            std::str::from_utf8(render_books(&["sales".into(), "R&D".into()]).body()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><phonebooks><phonebook name=\"sales\"/><phonebook name=\"R&amp;D\"/></phonebooks>"
        );
    }
}
