//! `/api/v1/tenants/{tenant}/ipps` and `/cti`: a tenant's Taridium IPPS settings (wallboard
//! pages) and CTI settings (the CRM's URLs). Parsing and validation only.

use super::settings::{SettingOp, json};
use crate::Failure;
use serde::{Deserialize, Serialize};

/// The settings as the native API takes them (the password in clear, kept hashed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IppsBody {
    #[serde(default)]
    pub enabled: bool,
    /// HTTP Basic credentials the pages then require (both or neither).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub require_ssl: bool,
    #[serde(default)]
    pub domestic_number_max_len: Option<u8>,
    /// ISO 3166 alpha-2 (`CH`, `TH`).
    #[serde(default)]
    pub default_country: Option<String>,
    #[serde(default)]
    pub context: Option<String>,
}

pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let op = match (method, segs) {
        ("GET", ["ipps"]) => SettingOp::GetIpps,
        ("PUT", ["ipps"]) => {
            let mut b: IppsBody = json(body)?;
            if b.user.is_some() != b.password.is_some() {
                return Err(Failure::bad("password", "user and password together"));
            }
            if b.user
                .as_ref()
                .is_some_and(|u| u.is_empty() || u.len() > 64 || u.contains(':'))
                || b.password
                    .as_ref()
                    .is_some_and(|p| p.len() < 8 || p.len() > 128)
            {
                return Err(Failure::bad(
                    "user",
                    "a user of 1-64 characters (no ':'), a password of 8-128",
                ));
            }
            if let Some(c) = &b.default_country {
                let up = c.to_ascii_uppercase();
                if isocountry::CountryCode::for_alpha2(&up).is_err() {
                    return Err(Failure::bad("default_country", "an ISO 3166 alpha-2 code"));
                }
                b.default_country = Some(up);
            }
            if b.domestic_number_max_len.is_some_and(|n| n > 15) {
                return Err(Failure::bad("domestic_number_max_len", "0-15"));
            }
            // Patchbay has one dial plan per tenant: the generic-auth calls' context can only
            // be the vendor's default, `inside` (anything else would be taken and ignored).
            if b.context.as_ref().is_some_and(|c| c != "inside") {
                return Err(Failure::bad(
                    "context",
                    "inside (the tenant's one dial plan; Patchbay has no other contexts)",
                ));
            }
            SettingOp::PutIpps(Box::new(b))
        }
        (_, ["ipps"]) => return Err(Failure::MethodNotAllowed),
        ("GET", ["cti"]) => SettingOp::GetCti,
        ("PUT", ["cti"]) => {
            let s: crate::vendors::taridium::cti::CtiSettings = json(body)?;
            s.check().map_err(|(field, why)| Failure::bad(field, why))?;
            SettingOp::PutCti(Box::new(s))
        }
        ("DELETE", ["cti"]) => SettingOp::DeleteCti,
        (_, ["cti"]) => return Err(Failure::MethodNotAllowed),
        _ => return Ok(None),
    };
    Ok(Some(op))
}
