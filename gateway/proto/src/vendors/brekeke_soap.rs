//! Brekeke PBX Web Service: the Apache Axis 1.x `UserImpl` SOAP service (vendor-apis.md 1.2,
//! 1.3). SOAP 1.1, rpc/encoded, positional parameters `in0`, `in1`..., `String[]` as
//! `ArrayOf_xsd_string`, replies `<op>Response/<op>Return`, faults `soapenv:Server.userException`.
//! compat-specs/brekeke records every choice the research leaves open.
//!
//! The XML reader is hardened: a DOCTYPE is refused (so no entity can be declared, let alone
//! expanded), only the five predefined entities and character references are decoded, nesting
//! depth and element count are capped, and the body size is capped by the gateway before parsing.

use crate::auth::{Credentials, from_authorization};
use crate::xml::{Node, xml_error};
use crate::{Failure, Request, Response, response};
use patchbay_api::OriginateMode;
use std::fmt::Write as _;

pub use crate::xml::{MAX_DEPTH, MAX_ELEMENTS};
pub use properties::{Property, valid_extension};
pub use wsdl::{render_service_page, render_wsdl};

mod properties;
mod wsdl;

/// The hardened reader, naming SOAP in its refusals.
fn parse_tree(body: &[u8]) -> Result<Node, Failure> {
    crate::xml::parse_tree(body, "SOAP messages")
}

/// One `UserImpl` operation with its arguments (tenant of the `_mt` twins aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapOp {
    GetUserPropertyNames {
        user: String,
    },
    GetUserProperties {
        user: String,
        names: Vec<String>,
    },
    SetUserProperties {
        user: String,
        names: Vec<String>,
        values: Vec<String>,
    },
    GetUserProperty {
        user: String,
        name: String,
    },
    SetUserProperty {
        user: String,
        name: String,
        value: String,
    },
    /// `password` is `None` for the one-argument overload.
    CreateUser {
        user: String,
        password: Option<String>,
    },
    DeleteUser {
        user: String,
    },
    /// `type` `1` rings everyone at once, `2` the caller first.
    CallControl {
        user: String,
        from: String,
        to: Vec<String>,
        mode: OriginateMode,
    },
    /// `createTenant_mt(tenant)`: the tenant is in [`SoapRequest::tenant`].
    CreateTenant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapRequest {
    /// The operation's name as called (`callControl_mt`), for the reply's element names.
    pub name: String,
    /// The leading tenant argument of the `_mt` operations.
    pub tenant: Option<String>,
    pub op: SoapOp,
    /// Optional `Authorization` (the service is otherwise guarded by the IP pattern).
    pub credentials: Credentials,
}

/// What an operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapReturn {
    Void,
    Str(String),
    Array(Vec<String>),
}

/// One parameter of an rpc/encoded call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Nil,
    Str(String),
    Array(Vec<String>),
}

/// The value of a parameter element, following `href="#id"` to a `multiRef` in the Body.
fn arg_of(node: &Node, body: &Node, hops: usize) -> Result<Arg, Failure> {
    if let Some(href) = node.attr("href") {
        let id = href.trim_start_matches('#');
        let target = body
            .children
            .iter()
            .find(|c| c.attr("id") == Some(id))
            .ok_or_else(|| xml_error(format!("no element with id {id}")))?;
        if hops > 4 {
            return Err(xml_error("href chain too long"));
        }
        return arg_of(target, body, hops + 1);
    }
    if matches!(node.attr("nil"), Some("true" | "1")) {
        return Ok(Arg::Nil);
    }
    let is_array = node.attr("arrayType").is_some()
        || node
            .attr("type")
            .is_some_and(|t| t.ends_with("Array") || t.contains("ArrayOf"));
    if is_array || (!node.children.is_empty() && node.text.is_empty()) {
        let mut items = Vec::new();
        for c in &node.children {
            match arg_of(c, body, hops)? {
                Arg::Str(s) => items.push(s),
                Arg::Nil => items.push(String::new()),
                Arg::Array(_) => return Err(xml_error("nested arrays are not expected")),
            }
        }
        return Ok(Arg::Array(items));
    }
    Ok(Arg::Str(node.text.clone()))
}

/// Operation name and positional arguments of the envelope's rpc call.
fn parse_call(body: &[u8]) -> Result<(String, Vec<Arg>), Failure> {
    let root = parse_tree(body)?;
    let env = root
        .children
        .first()
        .filter(|n| n.name == "Envelope")
        .ok_or_else(|| xml_error("no SOAP Envelope"))?;
    let soap_body = env
        .children
        .iter()
        .find(|n| n.name == "Body")
        .ok_or_else(|| xml_error("no SOAP Body"))?;
    // The call is the first Body child that is not a multiRef target.
    let call = soap_body
        .children
        .iter()
        .find(|n| n.attr("id").is_none() && n.attr("root") != Some("0"))
        .ok_or_else(|| Failure::NotImplemented(String::new()))?;
    let args = call
        .children
        .iter()
        .map(|p| arg_of(p, soap_body, 0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((call.name.clone(), args))
}

fn string(args: &[Arg], i: usize, field: &str) -> Result<String, Failure> {
    match args.get(i) {
        Some(Arg::Str(s)) => Ok(s.trim().to_string()),
        Some(Arg::Nil) | None => Err(Failure::bad(field, "required")),
        Some(Arg::Array(_)) => Err(Failure::bad(field, "a string is expected")),
    }
}

fn array(args: &[Arg], i: usize, field: &str) -> Result<Vec<String>, Failure> {
    match args.get(i) {
        Some(Arg::Array(v)) => Ok(v.iter().map(|s| s.trim().to_string()).collect()),
        // A lone string where an array is declared: clients of loosely typed languages do it.
        Some(Arg::Str(s)) => Ok(vec![s.trim().to_string()]),
        Some(Arg::Nil) | None => Err(Failure::bad(field, "required")),
    }
}

fn exactly(args: &[Arg], n: usize, op: &str) -> Result<(), Failure> {
    if args.len() == n {
        Ok(())
    } else {
        Err(Failure::bad(
            op,
            format!("{} arguments given, {n} expected", args.len()),
        ))
    }
}

/// `POST /pbx/services/UserImpl`: the rpc call in the envelope.
pub fn parse_request(req: &Request) -> Result<SoapRequest, Failure> {
    let credentials = from_authorization(req);
    let (name, all) = parse_call(req.body())?;
    let (base, tenant, args) = match name.strip_suffix("_mt") {
        Some(base) => {
            let t = string(&all, 0, "tenant")?;
            (base, Some(t), &all[1..])
        }
        None => (name.as_str(), None, &all[..]),
    };
    let op = match base {
        "getUserPropertyNames" => {
            exactly(args, 1, base)?;
            SoapOp::GetUserPropertyNames {
                user: string(args, 0, "user")?,
            }
        }
        "getUserProperties" => {
            exactly(args, 2, base)?;
            SoapOp::GetUserProperties {
                user: string(args, 0, "user")?,
                names: array(args, 1, "names")?,
            }
        }
        "setUserProperties" => {
            exactly(args, 3, base)?;
            let names = array(args, 1, "names")?;
            let values = array(args, 2, "values")?;
            if names.len() != values.len() {
                return Err(Failure::bad("values", "as many values as names expected"));
            }
            SoapOp::SetUserProperties {
                user: string(args, 0, "user")?,
                names,
                values,
            }
        }
        "getUserProperty" => {
            exactly(args, 2, base)?;
            SoapOp::GetUserProperty {
                user: string(args, 0, "user")?,
                name: string(args, 1, "name")?,
            }
        }
        "setUserProperty" => {
            exactly(args, 3, base)?;
            SoapOp::SetUserProperty {
                user: string(args, 0, "user")?,
                name: string(args, 1, "name")?,
                // An empty value clears the property.
                value: match args.get(2) {
                    Some(Arg::Nil) => String::new(),
                    _ => string(args, 2, "value")?,
                },
            }
        }
        "createUser" => match args.len() {
            1 => SoapOp::CreateUser {
                user: string(args, 0, "user")?,
                password: None,
            },
            2 => SoapOp::CreateUser {
                user: string(args, 0, "user")?,
                password: Some(string(args, 1, "password")?),
            },
            n => {
                return Err(Failure::bad(
                    base,
                    format!("{n} arguments given, 1 or 2 expected"),
                ));
            }
        },
        "deleteUser" => {
            exactly(args, 1, base)?;
            SoapOp::DeleteUser {
                user: string(args, 0, "user")?,
            }
        }
        "callControl" => {
            exactly(args, 4, base)?;
            let mode = match string(args, 3, "type")?.as_str() {
                "1" => OriginateMode::Simultaneous,
                "2" => OriginateMode::CallerFirst,
                _ => return Err(Failure::bad("type", "1 or 2 expected")),
            };
            let to: Vec<String> = array(args, 2, "to")?
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            if to.is_empty() {
                return Err(Failure::bad("to", "at least one callee is required"));
            }
            SoapOp::CallControl {
                user: string(args, 0, "user")?,
                from: string(args, 1, "from")?,
                to,
                mode,
            }
        }
        "createTenant" if tenant.is_some() => {
            exactly(args, 0, &name)?;
            SoapOp::CreateTenant
        }
        _ => return Err(Failure::NotImplemented(name)),
    };
    Ok(SoapRequest {
        name,
        tenant,
        op,
        credentials,
    })
}

const ENVELOPE_OPEN: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
    r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
);
const ENVELOPE_CLOSE: &str = "</soapenv:Body></soapenv:Envelope>";
const XML: &str = "text/xml; charset=utf-8";

/// For attribute values.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// For text content (quotes stay as they are, as Axis writes them).
fn text(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::partial_escape(s)
}

/// The reply to `name` in Axis' rpc/encoded form; `ns` is the service URL.
pub fn render_return(ns: &str, name: &str, ret: &SoapReturn) -> Response {
    let mut b = String::with_capacity(512);
    b.push_str(ENVELOPE_OPEN);
    let _ = write!(
        b,
        r#"<ns1:{name}Response soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="{}">"#,
        esc(ns)
    );
    match ret {
        SoapReturn::Void => {}
        SoapReturn::Str(s) => {
            let _ = write!(
                b,
                r#"<{name}Return xsi:type="xsd:string">{}</{name}Return>"#,
                text(s)
            );
        }
        SoapReturn::Array(items) => {
            let _ = write!(
                b,
                r#"<{name}Return soapenc:arrayType="xsd:string[{}]" xsi:type="soapenc:Array" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">"#,
                items.len()
            );
            for i in items {
                let _ = write!(b, r#"<item xsi:type="xsd:string">{}</item>"#, text(i));
            }
            let _ = write!(b, "</{name}Return>");
        }
    }
    let _ = write!(b, "</ns1:{name}Response>");
    b.push_str(ENVELOPE_CLOSE);
    response(200, &[("content-type", XML)], b)
}

fn fault(code: &str, string: &str) -> Response {
    let mut b = String::with_capacity(512);
    b.push_str(ENVELOPE_OPEN);
    let _ = write!(
        b,
        "<soapenv:Fault><faultcode>{code}</faultcode><faultstring>{}</faultstring>\
         <detail><ns1:hostname xmlns:ns1=\"http://xml.apache.org/axis/\">patchbay</ns1:hostname>\
         </detail></soapenv:Fault>",
        text(string)
    );
    b.push_str(ENVELOPE_CLOSE);
    response(500, &[("content-type", XML)], b)
}

/// Every failure as an Axis SOAP fault, HTTP 500 (Axis answers exceptions that way; the service
/// sends no challenge: credentials are optional, the IP pattern is the default).
pub fn render_error(f: &Failure) -> Response {
    const USER: &str = "soapenv:Server.userException";
    match f {
        Failure::AuthRequired { .. } | Failure::AuthFailed { .. } => {
            fault(USER, "java.lang.Exception: authentication failed")
        }
        Failure::AddressForbidden | Failure::Forbidden => {
            fault(USER, "java.lang.Exception: permission denied")
        }
        Failure::NotImplemented(op) if op.is_empty() => {
            fault("soapenv:Client", "No SOAP operation in the Body")
        }
        Failure::NotImplemented(op) => {
            fault("soapenv:Client", &format!("No such operation '{op}'"))
        }
        Failure::BadRequest { field, reason } if field == "xml" => {
            fault(USER, &format!("org.xml.sax.SAXParseException: {reason}"))
        }
        Failure::BadRequest { field, reason } => fault(
            USER,
            &format!("java.lang.IllegalArgumentException: {field}: {reason}"),
        ),
        Failure::TooLarge => fault(USER, "java.io.IOException: request too large"),
        Failure::MethodNotAllowed => fault(
            "soapenv:Client",
            "only POST (SOAP) and GET ?wsdl are supported",
        ),
        // Never the B2BUA's address or the store's error text.
        Failure::Unavailable(_) | Failure::Overloaded => {
            fault(USER, "java.lang.Exception: PBX unavailable")
        }
        Failure::Internal(_) => fault(USER, "java.lang.Exception: internal error"),
        other => fault(USER, &format!("java.lang.Exception: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: &str) -> Request {
        http::Request::builder()
            .method("POST")
            .uri("/pbx/services/UserImpl")
            .header("content-type", "text/xml; charset=utf-8")
            .body(bytes::Bytes::from(body.to_string()))
            .unwrap()
    }

    /// What PHP SoapClient sends for the seed sample.
    const PHP_CALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="http://127.0.0.1:8080/pbx/services/UserImpl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ns2="http://127.0.0.1:8080/pbx/services/UserImpl" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:callControl><in0 xsi:type="xsd:string">4005</in0><in1 xsi:type="xsd:string">4005</in1><in2 SOAP-ENC:arrayType="xsd:string[1]" xsi:type="ns2:ArrayOf_xsd_string"><item xsi:type="xsd:string">4007</item></in2><in3 xsi:type="xsd:string">2</in3></ns1:callControl></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;

    #[test]
    fn php_call_control_parses() {
        let r = parse_request(&post(PHP_CALL)).unwrap();
        assert_eq!(r.name, "callControl");
        assert_eq!(
            r.op,
            SoapOp::CallControl {
                user: "4005".into(),
                from: "4005".into(),
                to: vec!["4007".into()],
                mode: OriginateMode::CallerFirst
            }
        );
    }

    #[test]
    fn mt_literal_untyped_and_multiref_forms() {
        let body = r##"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:callControl_mt xmlns:m="urn:x"><a>t1</a><b>4005</b><c>4005</c><d href="#id0"/><e>1</e></m:callControl_mt>
<multiRef id="id0" soapenc:root="0" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"><item>4007</item><item>4009</item></multiRef>
</s:Body></s:Envelope>"##;
        let r = parse_request(&post(body)).unwrap();
        assert_eq!(r.tenant.as_deref(), Some("t1"));
        assert_eq!(
            r.op,
            SoapOp::CallControl {
                user: "4005".into(),
                from: "4005".into(),
                to: vec!["4007".into(), "4009".into()],
                mode: OriginateMode::Simultaneous
            }
        );
    }

    #[test]
    fn hostile_xml_is_refused_without_expansion() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><getUserProperty><in0>&x;</in0><in1>name</in1></getUserProperty></s:Body></s:Envelope>"#;
        assert_eq!(
            parse_request(&post(xxe)).unwrap_err(),
            Failure::bad("xml", "DOCTYPE is not allowed in SOAP messages")
        );
        // Without a DTD an entity reference is simply unknown.
        let bare = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><getUserProperty><in0>&lol9;</in0><in1>n</in1></getUserProperty></s:Body></s:Envelope>"#;
        assert!(matches!(
            parse_request(&post(bare)),
            Err(Failure::BadRequest { field, .. }) if field == "xml"
        ));
        let deep = format!(
            "<s:Envelope xmlns:s=\"x\"><s:Body>{}{}</s:Body></s:Envelope>",
            "<a>".repeat(100),
            "</a>".repeat(100)
        );
        assert_eq!(
            parse_request(&post(&deep)).unwrap_err(),
            Failure::bad("xml", "elements nested too deeply")
        );
    }

    #[test]
    fn reply_and_fault_bytes() {
        let r = render_return(
            "http://h/pbx/services/UserImpl",
            "callControl",
            &SoapReturn::Str("17".into()),
        );
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#,
                r#"<ns1:callControlResponse soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="http://h/pbx/services/UserImpl"><callControlReturn xsi:type="xsd:string">17</callControlReturn></ns1:callControlResponse>"#,
                r#"</soapenv:Body></soapenv:Envelope>"#
            )
        );
        let f = render_error(&Failure::NotImplemented("fooBar".into()));
        assert_eq!(f.status(), 500);
        assert!(
            std::str::from_utf8(f.body())
                .unwrap()
                .contains("<faultcode>soapenv:Client</faultcode><faultstring>No such operation 'fooBar'</faultstring>")
        );
    }

    #[test]
    fn wsdl_lists_every_operation_and_numbers_overloads() {
        let w = render_wsdl("http://h:1/pbx/services/UserImpl");
        let s = std::str::from_utf8(w.body()).unwrap();
        for op in [
            "getUserPropertyNames",
            "getUserProperties",
            "setUserProperties",
            "getUserProperty",
            "setUserProperty",
            "deleteUser",
            "callControl",
            "callControl_mt",
            "createTenant_mt",
        ] {
            assert!(
                s.contains(&format!("<wsdl:operation name=\"{op}\"")),
                "{op}"
            );
        }
        assert!(s.contains("name=\"createUserRequest1\""));
        assert!(s.contains("name=\"createUser_mtRequest1\""));
        assert!(s.contains(r#"<wsdlsoap:address location="http://h:1/pbx/services/UserImpl"/>"#));
        assert!(parse_tree(w.body()).is_ok(), "well-formed");
    }
}
