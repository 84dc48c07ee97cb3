//! `AddConfig` / `GetConfig` for SIP extensions (vendor-apis.md 5.3, p_4699): the
//! `ConfigXML` document Ozeki takes, parsed on the hardened XML reader, and the one
//! `GetConfig` answers (the password never leaves: an empty element).

use super::{OzekiRequest, render_body};
use crate::vendors::native::{ApiExtension, url_ok};
use crate::xml::{Node, parse_tree};
use crate::{Failure, Response};

/// A SIP extension as `<Config knownType="SIPExtensionInfo">` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipExtension {
    /// The extension number (`ID`).
    pub id: String,
    /// The name phones show (`Username`; default: the number).
    pub username: String,
    /// The SIP password phones register with.
    pub password: String,
}

/// The configuration types Patchbay keeps (`ExtensionType`): SIP extensions and API
/// extensions.
pub const TYPES: [&str; 2] = ["SIP", "API"];

/// What `AddConfig` creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionConfig {
    Sip(SipExtension),
    Api(ApiExtension),
}

/// `ExtensionType`, known (`701` names the type asked for).
pub fn extension_type(r: &OzekiRequest) -> Result<String, Failure> {
    let t = r
        .params
        .get_ci("ExtensionType")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Failure::bad("ExtensionType", r.command.clone()))?;
    TYPES
        .iter()
        .find(|k| k.eq_ignore_ascii_case(t))
        .map(|k| k.to_string())
        .ok_or_else(|| Failure::UnknownType(t.to_string()))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_digit())
}

/// The `<Config>` element of a `ConfigXML` of `known` type (`702` naming `kind` otherwise).
fn config_root(xml: &str, kind: &str, known: &str) -> Result<Node, Failure> {
    let invalid = || Failure::InvalidDocument(kind.into());
    let doc = parse_tree(xml.trim_start().as_bytes(), "ConfigXML").map_err(|_| invalid())?;
    let root = doc.children.into_iter().next().ok_or_else(invalid)?;
    if !root.name.eq_ignore_ascii_case("Config")
        || root
            .attr_ci("knownType")
            .is_some_and(|t| !t.eq_ignore_ascii_case(known))
    {
        return Err(invalid());
    }
    Ok(root)
}

fn field(root: &Node, name: &str) -> String {
    root.children
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.text.trim().to_string())
        .unwrap_or_default()
}

/// `ConfigXML` of `AddConfig` for `kind` (`SIP` or `API`).
pub fn parse_config(kind: &str, xml: &str) -> Result<ExtensionConfig, Failure> {
    if kind == "API" {
        parse_api_extension(xml).map(ExtensionConfig::Api)
    } else {
        parse_sip_extension(xml).map(ExtensionConfig::Sip)
    }
}

/// An API extension: `<Config knownType="APIExtensionInfo">` with `ID`, `IncomingCallUrl`
/// and `CallChangedUrl` (the URLs optional, http(s)); `702` otherwise.
pub fn parse_api_extension(xml: &str) -> Result<ApiExtension, Failure> {
    let invalid = || Failure::InvalidDocument("API".into());
    let root = config_root(xml, "API", "APIExtensionInfo")?;
    let number = field(&root, "ID");
    let url = |name: &str| -> Result<Option<String>, Failure> {
        match field(&root, name) {
            u if u.is_empty() => Ok(None),
            u if url_ok(&u) => Ok(Some(u)),
            _ => Err(invalid()),
        }
    };
    if !valid_id(&number) {
        return Err(invalid());
    }
    Ok(ApiExtension {
        incoming_call_url: url("IncomingCallUrl")?,
        call_changed_url: url("CallChangedUrl")?,
        number,
    })
}

/// `ConfigXML` of `AddConfig`: `702` for anything that is not a usable SIP extension (a
/// disabled one included: Patchbay has no disabled users), never a partial one.
pub fn parse_sip_extension(xml: &str) -> Result<SipExtension, Failure> {
    let invalid = || Failure::InvalidDocument("SIP".into());
    let root = config_root(xml, "SIP", "SIPExtensionInfo")?;
    let field = |name: &str| field(&root, name);
    let id = field("ID");
    let auth = field("AuthorizationName");
    let password = field("Password");
    let enabled = field("Enabled");
    let username = field("Username");
    if !valid_id(&id)
        || (!auth.is_empty() && auth != id)
        || password.len() < 4
        || password.len() > 128
        || password.chars().any(char::is_control)
        || !(enabled.is_empty() || enabled.eq_ignore_ascii_case("true"))
        || username.len() > 64
        || username
            .chars()
            .any(|c| c.is_control() || "\"<>".contains(c))
    {
        return Err(invalid());
    }
    Ok(SipExtension {
        username: if username.is_empty() {
            id.clone()
        } else {
            username
        },
        id,
        password,
    })
}

/// The extension `GetConfig` asks for (`ID`).
pub fn config_id(r: &OzekiRequest) -> Result<String, Failure> {
    r.params
        .get_ci("ID")
        .map(str::trim)
        .filter(|i| valid_id(i))
        .map(str::to_string)
        .ok_or_else(|| Failure::bad("ID", r.command.clone()))
}

/// `GetConfig`'s answer for an API extension.
pub fn render_api_extension(e: &ApiExtension) -> Response {
    let esc = |s: &str| quick_xml::escape::partial_escape(s).into_owned();
    let url = |name: &str, u: &Option<String>| match u {
        Some(u) => format!("    <{name}>{}</{name}>\r\n", esc(u)),
        None => format!("    <{name} />\r\n"),
    };
    let config = format!(
        "  <Config knownType=\"APIExtensionInfo\">\r\n    <ID>{}</ID>\r\n{}{}  </Config>\r\n",
        esc(&e.number),
        url("IncomingCallUrl", &e.incoming_call_url),
        url("CallChangedUrl", &e.call_changed_url),
    );
    render_body(&config)
}

/// `GetConfig`'s answer: `200` and the extension's `<Config>` (no password).
pub fn render_sip_extension(e: &SipExtension) -> Response {
    let esc = |s: &str| quick_xml::escape::partial_escape(s).into_owned();
    let config = format!(
        "  <Config knownType=\"SIPExtensionInfo\">\r\n    <AuthorizationName>{id}</AuthorizationName>\r\n    <Password />\r\n    <Username>{}</Username>\r\n    <Enabled>true</Enabled>\r\n    <ID>{id}</ID>\r\n    <UserID>{id}</UserID>\r\n  </Config>\r\n",
        esc(&e.username),
        id = esc(&e.id),
    );
    render_body(&config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sip_extension_or_702() {
        let e = parse_sip_extension(
            "<Config knownType=\"SIPExtensionInfo\"><AuthorizationName>1000</AuthorizationName>\
             <Password>s3cret</Password><Username>Front desk</Username><Enabled>true</Enabled>\
             <ID>1000</ID><UserID>1</UserID></Config>",
        )
        .unwrap();
        assert_eq!(
            (e.id.as_str(), e.username.as_str(), e.password.as_str()),
            ("1000", "Front desk", "s3cret")
        );
        for bad in [
            "<Config><ID>1000</ID><Password>x</Password></Config>",
            "<Config><ID>10a0</ID><Password>s3cret</Password></Config>",
            "<Config><ID>1000</ID><AuthorizationName>2000</AuthorizationName><Password>s3cret</Password></Config>",
            "<Config><ID>1000</ID><Password>s3cret</Password><Enabled>false</Enabled></Config>",
            "<Config knownType=\"Other\"><ID>1000</ID><Password>s3cret</Password></Config>",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><Config><ID>1000</ID></Config>",
            "not xml",
        ] {
            assert_eq!(
                parse_sip_extension(bad),
                Err(Failure::InvalidDocument("SIP".into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_api_extension_or_702() {
        let e = parse_api_extension(
            "<Config knownType=\"APIExtensionInfo\"><ID>9000</ID>\
             <IncomingCallUrl>http://app/ivr</IncomingCallUrl></Config>",
        )
        .unwrap();
        assert_eq!(
            (
                e.number.as_str(),
                e.incoming_call_url.as_deref(),
                e.call_changed_url
            ),
            ("9000", Some("http://app/ivr"), None)
        );
        for bad in [
            "<Config><ID>9000</ID><IncomingCallUrl>ftp://x</IncomingCallUrl></Config>",
            "<Config><ID></ID></Config>",
            "<Config knownType=\"SIPExtensionInfo\"><ID>9000</ID></Config>",
        ] {
            assert_eq!(
                parse_api_extension(bad),
                Err(Failure::InvalidDocument("API".into())),
                "{bad}"
            );
        }
    }
}
