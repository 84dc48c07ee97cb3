//! `/api/v1/tenants/{tenant}/ozeki` (the tenant's Ozeki HTTP API settings) and
//! `/api/v1/tenants/{tenant}/api-extensions[/{number}]` (Ozeki API extensions: numbers whose
//! calls an app drives over HTTP with OzML). Parsing and validation only.

use super::settings::{SettingOp, json};
use crate::Failure;
use serde::{Deserialize, Serialize};

/// A tenant's Ozeki HTTP API settings (`tenant_configs` kind `ozeki`, name `settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OzekiSettings {
    /// Every command must carry `Username` and `Password` (an extension and its web PIN).
    /// Off (Ozeki's default): the address lists alone decide, and an empty allow list
    /// refuses every address.
    #[serde(default)]
    pub office_user_auth: bool,
    /// Where `CallChanged` goes for calls placed without an API extension (Ozeki's HTTP API
    /// "third-party call control URL").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_changed_url: Option<String>,
    /// Asked where an inbound call to the tenant's numbers goes before it rings
    /// (`RoutingInterception`; the OzML reply's `Route` sends it there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_interception_url: Option<String>,
}

/// An API extension: calls to `number` POST `IncomingCall` to `incoming_call_url` and run the
/// OzML reply; its calls' state changes POST `CallChanged` to `call_changed_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiExtension {
    #[serde(default)]
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoming_call_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_changed_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OzekiOp {
    GetSettings,
    PutSettings(OzekiSettings),
    ListExtensions,
    GetExtension(String),
    PutExtension(ApiExtension),
    DeleteExtension(String),
}

/// An `http(s)://host...` URL of at most 2,048 bytes.
pub fn url_ok(u: &str) -> bool {
    u.len() <= 2048
        && u.parse::<http::Uri>().is_ok_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some()
        })
}

fn urls_ok(urls: &[(&str, &Option<String>)]) -> Result<(), Failure> {
    for (name, u) in urls {
        if let Some(u) = u
            && !url_ok(u)
        {
            return Err(Failure::bad(*name, "an http(s) URL"));
        }
    }
    Ok(())
}

fn number_ok(n: &str) -> Result<String, Failure> {
    if patchbay_api::app_number_ok(n) {
        Ok(n.to_string())
    } else {
        Err(Failure::bad("number", "1-32 digits, * or #"))
    }
}

pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let op = match (method, segs) {
        ("GET", ["ozeki"]) => OzekiOp::GetSettings,
        ("PUT", ["ozeki"]) => {
            let s: OzekiSettings = json(body)?;
            urls_ok(&[
                ("call_changed_url", &s.call_changed_url),
                ("routing_interception_url", &s.routing_interception_url),
            ])?;
            OzekiOp::PutSettings(s)
        }
        ("GET", ["api-extensions"]) => OzekiOp::ListExtensions,
        ("GET", ["api-extensions", n]) => OzekiOp::GetExtension(number_ok(n)?),
        ("PUT", ["api-extensions", n]) => {
            let mut e: ApiExtension = json(body)?;
            let n = number_ok(n)?;
            if !e.number.is_empty() && e.number != n {
                return Err(Failure::bad("number", "the body's number is the path's"));
            }
            e.number = n;
            urls_ok(&[
                ("incoming_call_url", &e.incoming_call_url),
                ("call_changed_url", &e.call_changed_url),
            ])?;
            OzekiOp::PutExtension(e)
        }
        ("DELETE", ["api-extensions", n]) => OzekiOp::DeleteExtension(number_ok(n)?),
        (_, ["ozeki" | "api-extensions", ..]) => return Err(Failure::MethodNotAllowed),
        _ => return super::phonebooks::parse(method, segs, body),
    };
    Ok(Some(SettingOp::Ozeki(op)))
}
