//! Which vendor API a request belongs to: by listener (its list of profiles) and path.

use serde::{Deserialize, Serialize};

/// One vendor API profile a listener can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    /// Patchbay's own JSON API under `/api/v1`.
    Native,
    /// Brekeke `/pbx/...` but the SOAP services (`/pbx/3pcc`).
    Brekeke,
    /// Brekeke's SOAP web service, `/pbx/services/...` (`UserImpl`).
    BrekekeSoap,
    /// Taridium `/ipps/...` and `/user/c/`.
    Taridium,
    /// sipXconfig REST `/sipxconfig/rest/...`.
    Sipx,
    /// sipXcallController `/callcontroller/...`.
    SipxCallController,
    /// promptCall `/pbxws.php/<action>`.
    Promptcall,
    /// Ozeki HTTP API: every path of its own listener (`/?command=...`, `/command=...`).
    Ozeki,
}

impl Vendor {
    /// The APIs told apart by path, served together on the main listener (Ozeki, which
    /// answers every path, needs a listener of its own).
    pub const PATH_BASED: [Vendor; 7] = [
        Vendor::Native,
        Vendor::BrekekeSoap,
        Vendor::Brekeke,
        Vendor::Taridium,
        Vendor::Sipx,
        Vendor::SipxCallController,
        Vendor::Promptcall,
    ];

    /// Bounded metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Native => "native",
            Vendor::Brekeke => "brekeke",
            Vendor::BrekekeSoap => "brekeke_soap",
            Vendor::Taridium => "taridium",
            Vendor::Sipx => "sipx",
            Vendor::SipxCallController => "sipx_callcontroller",
            Vendor::Promptcall => "promptcall",
            Vendor::Ozeki => "ozeki",
        }
    }

    /// Whether `path` belongs to this API.
    pub fn serves(self, path: &str) -> bool {
        let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
        match self {
            Vendor::Native => under("/api/v1"),
            Vendor::Brekeke => path.starts_with("/pbx/") && !path.starts_with("/pbx/services/"),
            Vendor::BrekekeSoap => path.starts_with("/pbx/services/"),
            Vendor::Taridium => path.starts_with("/ipps/") || under("/user/c"),
            Vendor::Sipx => path.starts_with("/sipxconfig/rest/"),
            Vendor::SipxCallController => path.starts_with("/callcontroller/"),
            Vendor::Promptcall => under("/pbxws.php"),
            Vendor::Ozeki => true,
        }
    }
}

/// The first profile of the listener that serves `path`.
pub fn route(profiles: &[Vendor], path: &str) -> Option<Vendor> {
    profiles.iter().copied().find(|v| v.serves(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_prefix_then_ozeki_catch_all() {
        let main = Vendor::PATH_BASED;
        assert_eq!(route(&main, "/api/v1/calls"), Some(Vendor::Native));
        assert_eq!(route(&main, "/api/v10"), None);
        assert_eq!(route(&main, "/pbx/3pcc"), Some(Vendor::Brekeke));
        assert_eq!(
            route(&main, "/pbx/services/UserImpl"),
            Some(Vendor::BrekekeSoap)
        );
        assert_eq!(route(&main, "/user/c/"), Some(Vendor::Taridium));
        assert_eq!(
            route(&main, "/ipps/channelinfo.php"),
            Some(Vendor::Taridium)
        );
        assert_eq!(route(&main, "/pbxws.php/dial"), Some(Vendor::Promptcall));
        assert_eq!(route(&main, "/"), None);
        assert_eq!(
            route(&[Vendor::Ozeki], "/command=Call"),
            Some(Vendor::Ozeki)
        );
    }
}
