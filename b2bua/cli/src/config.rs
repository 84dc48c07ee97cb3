//! The application config: each crate's Config, plus where data lives.

use patchbay_b2bua::B2buaConfig;
use patchbay_gateway::GatewayConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AppConfig {
    /// Directory for the embedded SQLite store.
    pub(crate) data_dir: PathBuf,
    /// Store URL; empty = `sqlite://<data_dir>/patchbay.db`. `postgres://...` for hosted mode.
    pub(crate) store_url: String,
    /// Provision the demo tenant at start (always on for `patchbay up`).
    pub(crate) demo: bool,
    pub(crate) b2bua: B2buaConfig,
    pub(crate) gateway: GatewayConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            store_url: String::new(),
            demo: false,
            b2bua: B2buaConfig::default(),
            gateway: GatewayConfig::default(),
        }
    }
}

/// Environment access, so tests can use a map.
pub(crate) trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl AppConfig {
    /// File (if any) -> `--data-dir` -> env overrides -> validate. Returns every problem.
    pub(crate) fn load(
        file: Option<&Path>,
        data_dir: Option<&Path>,
        env: &dyn Env,
    ) -> Result<Self, Vec<String>> {
        let mut cfg = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| vec![format!("{}: {e}", p.display())])?;
                Self::parse(&text).map_err(|e| vec![format!("{}: {e}", p.display())])?
            }
            None => Self::default(),
        };
        if let Some(d) = data_dir {
            cfg.data_dir = d.to_path_buf();
        }
        let mut errs = Vec::new();
        if let Some(v) = env.var("PATCHBAY_STORE_URL") {
            cfg.store_url = v;
        }
        if let Some(v) = env.var("PATCHBAY_SIP_LISTEN") {
            match v.parse() {
                Ok(a) => cfg.b2bua.sip_listen = a,
                Err(_) => errs.push(format!("PATCHBAY_SIP_LISTEN: not an address: {v}")),
            }
        }
        if let Some(v) = env.var("PATCHBAY_B2BUA_ADMIN_LISTEN") {
            match v.parse() {
                Ok(a) => cfg.b2bua.admin_listen = a,
                Err(_) => errs.push(format!("PATCHBAY_B2BUA_ADMIN_LISTEN: not an address: {v}")),
            }
        }
        if let Some(v) = env.var("PATCHBAY_CONTROL_TOKEN") {
            cfg.b2bua.control_token = v.clone();
            cfg.gateway.b2bua_token = v;
        }
        if let Some(v) = env.var("PATCHBAY_B2BUA_URL") {
            cfg.gateway.b2bua_url = v;
        }
        if let Some(v) = env.var("PATCHBAY_GATEWAY_ADMIN_LISTEN") {
            match v.parse() {
                Ok(a) => cfg.gateway.admin_listen = a,
                Err(_) => errs.push(format!(
                    "PATCHBAY_GATEWAY_ADMIN_LISTEN: not an address: {v}"
                )),
            }
        }
        errs.extend(cfg.b2bua.validate());
        errs.extend(cfg.gateway.validate());
        if !(cfg.store_url.is_empty()
            || cfg.store_url.starts_with("sqlite:")
            || cfg.store_url.starts_with("postgres"))
        {
            errs.push("store_url must be sqlite:... or postgres://...".into());
        }
        if errs.is_empty() { Ok(cfg) } else { Err(errs) }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text)
    }

    /// Fill the control tokens a command needs (`b2bua`: the B2BUA's, `gateway`: the
    /// gateway's). A token set on one side serves the other; else both come from
    /// `<data_dir>/control_token`, which `create` makes (random, mode 0600) when missing.
    pub(crate) fn fill_control_token(
        &mut self,
        b2bua: bool,
        gateway: bool,
        create: bool,
    ) -> Result<(), String> {
        let (b, g) = (&mut self.b2bua.control_token, &mut self.gateway.b2bua_token);
        if b.is_empty() && !g.is_empty() {
            *b = g.clone();
        } else if g.is_empty() && !b.is_empty() {
            *g = b.clone();
        }
        if !((b2bua && b.is_empty()) || (gateway && g.is_empty())) {
            return Ok(());
        }
        let path = self.data_dir.join("control_token");
        let token = crate::secret::read_or_make_token(&path, create).map_err(|e| {
            format!(
                "no control token ({}: {e}): set b2bua.control_token / gateway.b2bua_token or \
                 PATCHBAY_CONTROL_TOKEN, or start the B2BUA with this data dir first",
                path.display()
            )
        })?;
        *b = token.clone();
        *g = token;
        Ok(())
    }

    pub(crate) fn store_url(&self) -> String {
        if self.store_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("patchbay.db").display()
            )
        } else {
            self.store_url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Env for HashMap<&str, &str> {
        fn var(&self, key: &str) -> Option<String> {
            self.get(key).map(|s| s.to_string())
        }
    }

    #[test]
    fn example_file_is_the_defaults() {
        let text = include_str!("../../../patchbay.example.yaml");
        assert_eq!(AppConfig::parse(text).unwrap(), AppConfig::default());
    }

    #[test]
    fn unknown_key_is_named() {
        let e = AppConfig::parse("b2bua:\n  sip_lisen: 127.0.0.1:5060\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sip_lisen"), "{e}");
    }

    #[test]
    fn env_overrides_and_every_error_reported() {
        let env = HashMap::from([
            ("PATCHBAY_SIP_LISTEN", "nope"),
            ("PATCHBAY_STORE_URL", "mysql://x"),
        ]);
        let errs = AppConfig::load(None, None, &env).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        let env = HashMap::from([("PATCHBAY_SIP_LISTEN", "127.0.0.1:5999")]);
        let cfg = AppConfig::load(None, Some(Path::new("/tmp/x")), &env).unwrap();
        assert_eq!(cfg.b2bua.sip_listen.port(), 5999);
        assert_eq!(cfg.store_url(), "sqlite:///tmp/x/patchbay.db?mode=rwc");
        let mut bad = AppConfig::parse("b2bua:\n  node: 100\n").unwrap();
        bad.b2bua.control_token = "t".into();
        assert!(
            bad.b2bua
                .validate()
                .iter()
                .any(|e| e.contains("b2bua.node must be 0..=99")),
            "a cluster has at most 100 nodes"
        );
    }

    #[test]
    fn control_token_from_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("pb-token-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // `up` on a data dir that does not exist yet: made, with the token.
        let mut up = AppConfig {
            data_dir: dir.join("data"),
            ..AppConfig::default()
        };
        up.fill_control_token(true, true, true).unwrap();
        let t = up.b2bua.control_token.clone();
        assert_eq!((t.len(), &up.gateway.b2bua_token), (64, &t));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("data/control_token"))
            .unwrap()
            .permissions();
        assert_eq!(mode.mode() & 0o777, 0o600);
        // A gateway of the same data dir reads it; it never makes one.
        let mut gw = AppConfig {
            data_dir: dir.join("data"),
            ..AppConfig::default()
        };
        gw.fill_control_token(false, true, false).unwrap();
        assert_eq!(gw.gateway.b2bua_token, t);
        let mut lone = AppConfig {
            data_dir: dir.join("nowhere"),
            ..AppConfig::default()
        };
        assert!(lone.fill_control_token(false, true, false).is_err());
        // A token set on one side serves the other; no file is needed.
        lone.gateway.b2bua_token = "configured-token-0123456789".into();
        lone.fill_control_token(true, true, false).unwrap();
        assert_eq!(lone.b2bua.control_token, "configured-token-0123456789");
        assert!(!dir.join("nowhere").exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
