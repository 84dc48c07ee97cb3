//! A user's call sequence as sipXconfig shows it: `/my/forward` (XStream XML or JSON,
//! `<call-sequence>`) and `/my/callfwd` (Jackson JSON). Read by content whatever
//! `Content-Type` says; 4.2's `<position>` tolerated and ignored.

use super::rest::Variant;
use super::xstream::{X, to_json, to_xml};
use crate::vendors::native::valid_party;
use crate::xml::{Node, parse_tree};
use crate::{Failure, Response};
use patchbay_api::SequenceRing;
use serde_json::Value;

/// sipX's ring types.
pub const IF_NO_RESPONSE: &str = "If no response";
pub const AT_THE_SAME_TIME: &str = "At the same time";

/// A ring's time when a document leaves it out (sipX's `DEFAULT_EXPIRATION`).
const DEFAULT_EXPIRATION: u32 = 30;

/// The user's call sequence with its forwarding timer and whether it ends in voicemail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSequence {
    pub rings: Vec<SequenceRing>,
    /// How long the user's own phones ring first (sipX's call-forwarding timer).
    pub expiration: u32,
    pub with_voicemail: bool,
}

/// A call sequence sent to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSequence {
    pub rings: Vec<SequenceRing>,
    /// Absent in 4.2 documents: the timer stays.
    pub expiration: Option<u32>,
    /// `withVoicemail` / `withVM`: whether the sequence ends in the mailbox.
    pub with_voicemail: Option<bool>,
}

fn ty(r: &SequenceRing) -> &'static str {
    if r.parallel {
        AT_THE_SAME_TIME
    } else {
        IF_NO_RESPONSE
    }
}

/// `/my/forward` GET in the negotiated variant.
pub fn render_forward(cs: &CallSequence, v: Variant) -> Response {
    let rings = cs
        .rings
        .iter()
        .map(|r| {
            X::obj(vec![
                ("expiration", X::int(r.ring_secs)),
                ("type", X::text(ty(r))),
                ("enabled", X::bool(r.enabled)),
                ("number", X::text(&r.number)),
            ])
        })
        .collect();
    let doc = X::obj(vec![
        ("rings", X::list("ring", rings)),
        ("expiration", X::int(cs.expiration)),
        ("withVoicemail", X::bool(cs.with_voicemail)),
    ]);
    match v {
        Variant::Json => super::render_body("application/json", to_json("call-sequence", &doc)),
        _ => super::render_body("text/xml", to_xml("call-sequence", &doc)),
    }
}

/// `/my/callfwd` GET: Jackson's compact JSON, served as sipX serves it (`text/plain`).
pub fn render_callfwd(cs: &CallSequence) -> Response {
    let rings: Vec<Value> = cs
        .rings
        .iter()
        .map(|r| {
            serde_json::json!({
                "expiration": r.ring_secs,
                "type": ty(r),
                "enabled": r.enabled,
                "number": r.number,
                "scheduleId": null,
            })
        })
        .collect();
    // serde_json sorts object keys; Jackson writes bean order: build the text in order.
    let rings: Vec<String> = rings
        .iter()
        .map(|r| {
            format!(
                "{{\"expiration\":{},\"type\":{},\"enabled\":{},\"number\":{},\"scheduleId\":null}}",
                r["expiration"], r["type"], r["enabled"], r["number"]
            )
        })
        .collect();
    let body = format!(
        "{{\"rings\":[{}],\"withVM\":{},\"expiration\":{}}}",
        rings.join(","),
        cs.with_voicemail,
        cs.expiration
    );
    super::render_body("text/plain; charset=ISO-8859-1", body)
}

fn bad(reason: &str) -> Failure {
    Failure::InvalidDocument(reason.to_string())
}

fn ring_of(
    number: Option<String>,
    expiration: Option<String>,
    kind: Option<String>,
    enabled: Option<String>,
) -> Result<SequenceRing, Failure> {
    let number = number.map(|n| n.trim().to_string()).unwrap_or_default();
    if !valid_party(&number) {
        return Err(Failure::bad("number", format!("Invalid number {number}")));
    }
    let ring_secs = match expiration.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_EXPIRATION,
        Some(e) => e
            .parse::<u32>()
            .map_err(|_| bad(&format!("expiration: {e}")))?
            .clamp(5, 600),
    };
    let parallel = match kind.as_deref().map(str::trim) {
        None | Some("") | Some(IF_NO_RESPONSE) => false,
        Some(AT_THE_SAME_TIME) => true,
        Some(other) => return Err(bad(&format!("type: {other}"))),
    };
    let enabled = match enabled.as_deref().map(str::trim) {
        None | Some("") | Some("true") => true,
        Some("false") => false,
        Some(other) => return Err(bad(&format!("enabled: {other}"))),
    };
    Ok(SequenceRing {
        number,
        ring_secs,
        parallel,
        enabled,
    })
}

/// A PUT's document, XML or JSON (by content).
pub fn parse_forward(body: &[u8]) -> Result<NewSequence, Failure> {
    let seq = if super::rest::looks_json(body) {
        parse_json(body)?
    } else {
        parse_xml(body)?
    };
    if seq.rings.len() > 10 {
        return Err(Failure::bad("rings", "at most 10 rings"));
    }
    Ok(seq)
}

fn child_text(n: &Node, name: &str) -> Option<String> {
    n.children
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.text.clone())
}

fn parse_xml(body: &[u8]) -> Result<NewSequence, Failure> {
    let root =
        parse_tree(body, "call sequences").map_err(|_| bad("not a call-sequence document"))?;
    let Some(cs) = root.children.first().filter(|c| c.name == "call-sequence") else {
        return Err(bad("not a call-sequence document"));
    };
    let mut rings = Vec::new();
    for part in &cs.children {
        match part.name.as_str() {
            "rings" => {
                for r in &part.children {
                    if r.name != "ring" {
                        return Err(bad(&format!("no such field {}", r.name)));
                    }
                    for f in &r.children {
                        if !matches!(
                            f.name.as_str(),
                            "expiration" | "type" | "enabled" | "number" | "position" | "id"
                        ) {
                            return Err(bad(&format!("no such field {}", f.name)));
                        }
                    }
                    rings.push(ring_of(
                        child_text(r, "number"),
                        child_text(r, "expiration"),
                        child_text(r, "type"),
                        child_text(r, "enabled"),
                    )?);
                }
            }
            "expiration" | "withVoicemail" => {}
            other => return Err(bad(&format!("no such field {other}"))),
        }
    }
    let expiration = match child_text(cs, "expiration") {
        Some(e) => Some(
            e.trim()
                .parse::<u32>()
                .map_err(|_| bad(&format!("expiration: {e}")))?,
        ),
        None => None,
    };
    let with_voicemail = match child_text(cs, "withVoicemail").as_deref().map(str::trim) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return Err(bad(&format!("withVoicemail: {other}"))),
    };
    Ok(NewSequence {
        rings,
        expiration,
        with_voicemail,
    })
}

fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_json(body: &[u8]) -> Result<NewSequence, Failure> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let cs = v
        .get("call-sequence")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("not a call-sequence document"))?;
    // XStream's arrays, Jettison's `{"ring": [...]}` or a single ring object.
    let rings_v = cs.get("rings").cloned().unwrap_or(Value::Array(vec![]));
    let rings_v = match rings_v {
        Value::Object(mut o) if o.contains_key("ring") => o.remove("ring").unwrap_or(Value::Null),
        other => other,
    };
    let list = match rings_v {
        Value::Array(a) => a,
        Value::Object(o) => vec![Value::Object(o)],
        Value::Null => vec![],
        _ => return Err(bad("rings")),
    };
    let mut rings = Vec::new();
    for r in &list {
        let Some(o) = r.as_object() else {
            return Err(bad("ring"));
        };
        for k in o.keys() {
            if !matches!(
                k.as_str(),
                "expiration" | "type" | "enabled" | "number" | "position" | "id"
            ) {
                return Err(bad(&format!("no such field {k}")));
            }
        }
        rings.push(ring_of(
            scalar(o.get("number")),
            scalar(o.get("expiration")),
            scalar(o.get("type")),
            scalar(o.get("enabled")),
        )?);
    }
    let expiration = match scalar(cs.get("expiration")) {
        Some(e) => Some(e.trim().parse::<u32>().map_err(|_| bad("expiration"))?),
        None => None,
    };
    Ok(NewSequence {
        rings,
        expiration,
        with_voicemail: cs.get("withVoicemail").and_then(Value::as_bool),
    })
}

/// `/my/callfwd` PUT (Jackson: unknown properties ignored): rings, timer, voicemail.
pub fn parse_callfwd(body: &[u8]) -> Result<NewSequence, Failure> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let o = v.as_object().ok_or_else(|| bad("an object"))?;
    let mut rings = Vec::new();
    if let Some(list) = o.get("rings").and_then(Value::as_array) {
        for r in list {
            rings.push(ring_of(
                scalar(r.get("number")),
                scalar(r.get("expiration")),
                scalar(r.get("type")),
                scalar(r.get("enabled")),
            )?);
        }
    }
    if rings.len() > 10 {
        return Err(Failure::bad("rings", "at most 10 rings"));
    }
    let expiration = match scalar(o.get("expiration")) {
        Some(e) => Some(e.trim().parse::<u32>().map_err(|_| bad("expiration"))?),
        None => None,
    };
    Ok(NewSequence {
        rings,
        expiration,
        with_voicemail: o.get("withVM").and_then(Value::as_bool),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML_42: &str = "<call-sequence>\n  <rings>\n    <ring>\n      <expiration>25</expiration>\n      <type>If no response</type>\n      <enabled>true</enabled>\n      <number>200</number>\n      <position>0</position>\n    </ring>\n  </rings>\n</call-sequence>";

    #[test]
    fn both_versions_and_both_forms_read() {
        let s = parse_forward(XML_42.as_bytes()).unwrap();
        assert_eq!(s.expiration, None);
        assert_eq!(
            s.rings,
            vec![SequenceRing {
                number: "200".into(),
                ring_secs: 25,
                parallel: false,
                enabled: true
            }]
        );
        let json = r#"{"call-sequence": {"rings": [{"expiration": 26, "type": "At the same time", "enabled": true, "number": "201"}], "expiration": 27}}"#;
        let s = parse_forward(json.as_bytes()).unwrap();
        assert_eq!((s.expiration, s.rings[0].parallel), (Some(27), true));
        let jettison = r#"{"call-sequence":{"rings":{"ring":{"expiration":"26","number":"201"}}}}"#;
        assert_eq!(parse_forward(jettison.as_bytes()).unwrap().rings.len(), 1);
        assert!(matches!(
            parse_forward(b"<call-sequence><rings><ring><number>1</number><x/></ring></rings></call-sequence>"),
            Err(Failure::InvalidDocument(_))
        ));
        let s = parse_callfwd(br#"{"rings":[{"number":"200","type":"If no response","enabled":true,"expiration":30,"scheduleId":null}],"withVM":true,"expiration":20,"other":1}"#).unwrap();
        assert_eq!(
            (s.expiration, s.with_voicemail, s.rings.len()),
            (Some(20), Some(true), 1)
        );
    }

    #[test]
    fn callfwd_in_bean_order() {
        let cs = CallSequence {
            rings: vec![SequenceRing {
                number: "200".into(),
                ring_secs: 30,
                parallel: false,
                enabled: true,
            }],
            expiration: 27,
            with_voicemail: false,
        };
        let r = render_callfwd(&cs);
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            r#"{"rings":[{"expiration":30,"type":"If no response","enabled":true,"number":"200","scheduleId":null}],"withVM":false,"expiration":27}"#
        );
    }
}
