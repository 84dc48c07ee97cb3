//! Who a request acts for, whatever scheme proved it.

use serde::Serialize;

/// How the principal was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// HTTP Basic with an extension and its web PIN.
    Basic,
    /// HTTP Digest (RFC 7616) with an extension and its web PIN.
    Digest,
    /// An API key and secret (Basic header, `?token=` or JSON `token`).
    ApiKey,
    /// A JWT bearer token signed with one of the tenant's keys.
    Jwt,
    /// Vendor request parameters (Ozeki `Username`/`Password`).
    VendorParams,
    /// A short per-user key in the URL (Taridium `key`).
    UrlKey,
    /// The client address matched the tenant's allow-list for the API.
    IpAllowList,
}

impl Scheme {
    /// Bounded label value for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Basic => "basic",
            Scheme::Digest => "digest",
            Scheme::ApiKey => "api_key",
            Scheme::Jwt => "jwt",
            Scheme::VendorParams => "vendor_params",
            Scheme::UrlKey => "url_key",
            Scheme::IpAllowList => "ip_allow_list",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages tenants.
    System,
    /// Manages its own tenant's users and keys.
    Admin,
    /// Places and controls calls, reads its own data.
    User,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// One authenticated party of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub tenant: String,
    /// The extension when the credentials belong to a user; `None` for API keys and allow-lists.
    pub user: Option<String>,
    /// API key id or JWT subject, when there is one (for per-key rate limits).
    pub key: Option<String>,
    pub roles: Vec<Role>,
    pub scheme: Scheme,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.roles.contains(&Role::System)
    }

    /// Whether this principal may manage `tenant`.
    pub fn administers(&self, tenant: &str) -> bool {
        self.roles.contains(&Role::System) || (self.tenant == tenant && self.has(Role::Admin))
    }

    /// Key for per-caller rate limits.
    pub fn rate_key(&self) -> String {
        match (&self.key, &self.user) {
            (Some(k), _) => format!("k:{k}"),
            (None, Some(u)) => format!("u:{}:{u}", self.tenant),
            (None, None) => format!("t:{}", self.tenant),
        }
    }
}
