//! sipXconfig's representations as XStream writes them: XML through `PrettyPrintWriter`
//! (two-space indent, no declaration, empty elements as `<name/>`) and JSON through
//! `JsonHierarchicalStreamDriver` (`{"root": {` ... `}}`, two-space indent, `"name": value`,
//! strings always quoted). Neither ends with a newline (the vendor's fixtures).

/// A value of a representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum X {
    /// A string (quoted in JSON).
    Text(String),
    /// A number or boolean (bare in JSON).
    Bare(String),
    /// Named fields in order (an empty one is `<name/>` / `{}`).
    Obj(Vec<(String, X)>),
    /// Items, each written as an element named `item` in XML (a JSON array).
    List { item: String, items: Vec<X> },
}

impl X {
    pub fn text(s: impl Into<String>) -> X {
        X::Text(s.into())
    }

    pub fn int(n: impl std::fmt::Display) -> X {
        X::Bare(n.to_string())
    }

    pub fn bool(b: bool) -> X {
        X::Bare(b.to_string())
    }

    pub fn obj(fields: Vec<(&str, X)>) -> X {
        X::Obj(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    pub fn list(item: &str, items: Vec<X>) -> X {
        X::List {
            item: item.to_string(),
            items,
        }
    }
}

/// XStream's XML text escaping (`PrettyPrintWriter`).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xd;"),
            c => out.push(c),
        }
    }
    out
}

/// The document `<root>...</root>`.
pub fn to_xml(root: &str, v: &X) -> String {
    let mut out = String::new();
    xml_node(&mut out, root, v, 0);
    out
}

fn xml_node(out: &mut String, name: &str, v: &X, depth: usize) {
    let pad = "  ".repeat(depth);
    match v {
        X::Text(s) | X::Bare(s) => {
            out.push_str(&format!("{pad}<{name}>{}</{name}>", xml_escape(s)));
        }
        X::Obj(fields) if fields.is_empty() => out.push_str(&format!("{pad}<{name}/>")),
        X::List { items, .. } if items.is_empty() => out.push_str(&format!("{pad}<{name}/>")),
        X::Obj(fields) => {
            out.push_str(&format!("{pad}<{name}>"));
            for (k, f) in fields {
                out.push('\n');
                xml_node(out, k, f, depth + 1);
            }
            out.push_str(&format!("\n{pad}</{name}>"));
        }
        X::List { item, items } => {
            out.push_str(&format!("{pad}<{name}>"));
            for i in items {
                out.push('\n');
                xml_node(out, item, i, depth + 1);
            }
            out.push_str(&format!("\n{pad}</{name}>"));
        }
    }
}

/// The document `{"root": ...}`.
pub fn to_json(root: &str, v: &X) -> String {
    let mut out = format!("{{{}: ", quote(root));
    json_value(&mut out, v, 0);
    out.push('}');
    out
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn json_value(out: &mut String, v: &X, depth: usize) {
    let pad = "  ".repeat(depth);
    let inner = "  ".repeat(depth + 1);
    match v {
        X::Text(s) => out.push_str(&quote(s)),
        X::Bare(s) => out.push_str(s),
        X::Obj(fields) if fields.is_empty() => out.push_str("{}"),
        X::List { items, .. } if items.is_empty() => out.push_str("[]"),
        X::Obj(fields) => {
            out.push('{');
            for (i, (k, f)) in fields.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&format!("{inner}{}: ", quote(k)));
                json_value(out, f, depth + 1);
            }
            out.push_str(&format!("\n{pad}}}"));
        }
        X::List { items, .. } => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&inner);
                json_value(out, item, depth + 1);
            }
            out.push_str(&format!("\n{pad}]"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(exp: u32, ty: &str, n: &str) -> X {
        X::obj(vec![
            ("expiration", X::int(exp)),
            ("type", X::text(ty)),
            ("enabled", X::bool(true)),
            ("number", X::text(n)),
        ])
    }

    /// sipXconfig's own fixtures (call-sequence.rest.test.xml / .json), first two rings.
    #[test]
    fn call_sequence_as_the_fixtures() {
        let doc = X::obj(vec![
            (
                "rings",
                X::list(
                    "ring",
                    vec![
                        ring(25, "If no response", "200"),
                        ring(26, "At the same time", "201"),
                    ],
                ),
            ),
            ("expiration", X::int(27)),
            ("withVoicemail", X::bool(false)),
        ]);
        assert_eq!(
            to_xml("call-sequence", &doc),
            "<call-sequence>\n  <rings>\n    <ring>\n      <expiration>25</expiration>\n      <type>If no response</type>\n      <enabled>true</enabled>\n      <number>200</number>\n    </ring>\n    <ring>\n      <expiration>26</expiration>\n      <type>At the same time</type>\n      <enabled>true</enabled>\n      <number>201</number>\n    </ring>\n  </rings>\n  <expiration>27</expiration>\n  <withVoicemail>false</withVoicemail>\n</call-sequence>"
        );
        assert_eq!(
            to_json("call-sequence", &doc),
            "{\"call-sequence\": {\n  \"rings\": [\n    {\n      \"expiration\": 25,\n      \"type\": \"If no response\",\n      \"enabled\": true,\n      \"number\": \"200\"\n    },\n    {\n      \"expiration\": 26,\n      \"type\": \"At the same time\",\n      \"enabled\": true,\n      \"number\": \"201\"\n    }\n  ],\n  \"expiration\": 27,\n  \"withVoicemail\": false\n}}"
        );
    }

    #[test]
    fn root_lists_and_empty_values() {
        let entry = X::obj(vec![
            ("first-name", X::text("A&B")),
            ("contact-information", X::obj(vec![])),
        ]);
        let list = X::list("entry", vec![entry]);
        assert_eq!(
            to_json("phonebook", &list),
            "{\"phonebook\": [\n  {\n    \"first-name\": \"A&B\",\n    \"contact-information\": {}\n  }\n]}"
        );
        assert_eq!(
            to_xml("phonebook", &list),
            "<phonebook>\n  <entry>\n    <first-name>A&amp;B</first-name>\n    <contact-information/>\n  </entry>\n</phonebook>"
        );
        assert_eq!(
            to_xml("phonebook", &X::list("entry", vec![])),
            "<phonebook/>"
        );
        assert_eq!(
            to_json("phonebook", &X::list("entry", vec![])),
            "{\"phonebook\": []}"
        );
    }
}
