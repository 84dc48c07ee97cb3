//! The B2BUA's configuration (`b2bua:` section of the app config).

use patchbay_media::MediaConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct B2buaConfig {
    /// SIP listen address (UDP and TCP on the same port).
    pub sip_listen: SocketAddr,
    /// SIP over TLS for phones (RFC 3261 26.2; 5061 by convention), with `sip_tls_cert` and
    /// `sip_tls_key` (PEM files). Off unless all three are set.
    pub sip_tls_listen: Option<SocketAddr>,
    pub sip_tls_cert: Option<std::path::PathBuf>,
    pub sip_tls_key: Option<std::path::PathBuf>,
    /// Control API, /metrics and /health.
    pub admin_listen: SocketAddr,
    /// Bearer token every control-API request must carry (all routes but `/health`, and
    /// `/metrics` unless `metrics_open`). Required to start; `patchbay` fills it from
    /// `<data_dir>/control_token` (made on first start) when left empty here.
    pub control_token: String,
    /// Serve `/metrics` without the token (a Prometheus that cannot send one).
    pub metrics_open: bool,
    /// Tenant for requests whose domain names no tenant (the embedded default serves one).
    pub default_tenant: String,
    /// Seconds a party may ring before it counts as no answer.
    pub ring_timeout_secs: u32,
    /// Calls being set up (not yet bridged) above which new INVITEs get 503 and originate
    /// requests fail fast with `overloaded`.
    pub max_setups_in_flight: usize,
    /// Retry-After seconds on 503.
    pub retry_after_secs: u32,
    /// Registration expiry bounds (seconds).
    pub min_expires_secs: u32,
    pub max_expires_secs: u32,
    /// Failed digest attempts per source address within `auth_fail_window_secs` before that
    /// address is answered 403 without a challenge for the rest of the window.
    pub auth_fail_limit: u32,
    pub auth_fail_window_secs: u32,
    /// New SIP requests (outside any dialog: INVITE, REGISTER, OPTIONS ...) a second per
    /// source address, and the burst above that; requests over it are dropped before any
    /// transaction state and counted. 0 switches it off (e.g. behind a SIP edge proxy, where
    /// every request comes from one address and the proxy rate-limits).
    pub sip_source_rate: u32,
    pub sip_source_burst: u32,
    /// Registrations this node keeps up at other registrars (carrier trunks): each REGISTERs
    /// `aor` at `registrar` with Digest credentials and refreshes it before it expires.
    pub registrations: Vec<RegistrationConfig>,
    /// Ended calls stay readable (detail and events) for this long.
    pub ended_call_retention_secs: u32,
    pub media: MediaConfig,
    /// Sounds played by name when no prompt has the name (hold music): `<sounds_dir>/<tenant>/
    /// <name>`, else `<sounds_dir>/<name>` (`patchbay` sets `<data dir>/sounds`).
    pub sounds_dir: std::path::PathBuf,
    /// Directories whose WAV files the APIs may name by absolute path (a music library on
    /// the node). Nothing else can be named by path.
    pub audio_dirs: Vec<std::path::PathBuf>,
    /// Prompts played by name: `<prompts_dir>/<tenant>/<name>`, else `<prompts_dir>/<name>`.
    /// `patchbay` makes it `<data_dir>/prompts` when left empty (else `./prompts`).
    pub prompts_dir: std::path::PathBuf,
    /// The espeak-ng program that speaks text prompts.
    pub tts_program: String,
    /// Samples (8 kHz) kept of decoded prompt files, and as many of rendered speech
    /// (28,800,000 = an hour = 57.6 MB each).
    pub prompt_cache_samples: u64,
    /// Recordings are written to `<recordings_dir>/<tenant>/<id>.wav` (in a cluster: a path
    /// every node can read). `patchbay` makes it `<data_dir>/recordings` when left empty (else
    /// `./recordings`).
    pub recordings_dir: std::path::PathBuf,
    /// Seconds between two retention sweeps (recordings older than their tenant's
    /// `retention_days` are deleted).
    pub retention_sweep_secs: u32,
    /// Let `play` URLs name private addresses (loopback, LAN, link-local): off by default, so
    /// that an API client cannot make the B2BUA reach into the operator's network.
    pub url_prompts_allow_private: bool,
    /// Longest voicemail message.
    pub voicemail_max_secs: u32,
    /// The number a user dials to listen to its voicemail (with its VM PIN).
    pub voicemail_number: String,
    /// Feature codes a queue agent dials to log in to (be available in), log out of, and
    /// pause in every queue it is an agent of.
    pub queue_login_number: String,
    pub queue_logout_number: String,
    pub queue_pause_number: String,
    /// Seconds between two reloads of the tenants' trunks from the store (a change through
    /// this node's API applies at once; through another node's, within this time).
    pub trunk_sync_secs: u32,
    /// The route hook (the gateway's `/internal/v1/route`), asked where an inbound call to a
    /// tenant's number goes before it rings, for tenants that turned it on (Ozeki's route
    /// interception); empty: never asked. `patchbay up` fills it with its gateway's.
    pub route_hook_url: String,
    /// How long a call waits for the hook's answer before it goes where it was going.
    pub route_hook_timeout_ms: u64,
    /// This node's number in a cluster (0-99): the two digits after the start time in every
    /// call id it makes, so that ids are unique across nodes and name the node that owns the
    /// call (`CallId::node`).
    pub node: u8,
    /// SIP edge proxies in front of the nodes (Kamailio): requests from these addresses are
    /// attributed to the phone the proxy received them from (its Via, RFC 3261 18.2.1's
    /// `received`/`rport`) for source rate limits, bans, trunk matching and registrations.
    pub edge_proxies: Vec<std::net::IpAddr>,
    /// Milliseconds between two reads of the location rows other nodes wrote (a phone
    /// registered through another node is reachable from this one within this time).
    pub location_sync_ms: u64,
    /// Seconds of call events the store's durable log keeps (feeds resume within them).
    pub event_retention_secs: u32,
    /// A node that has not said it is alive (every second) for this long is dead: any other
    /// node ends its calls (one CDR each, cause `system`, a BYE to every phone it can reach).
    /// Longer than any stall a live node can have, or its calls are ended under it.
    pub node_dead_after_ms: u64,
}

impl Default for B2buaConfig {
    fn default() -> Self {
        Self {
            sip_listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            sip_tls_listen: None,
            sip_tls_cert: None,
            sip_tls_key: None,
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9181)),
            control_token: String::new(),
            metrics_open: false,
            default_tenant: "demo".into(),
            ring_timeout_secs: 30,
            max_setups_in_flight: 400,
            retry_after_secs: 5,
            min_expires_secs: 60,
            max_expires_secs: 3600,
            auth_fail_limit: 20,
            auth_fail_window_secs: 60,
            ended_call_retention_secs: 600,
            sip_source_rate: 200,
            sip_source_burst: 400,
            registrations: Vec::new(),
            media: MediaConfig::default(),
            prompts_dir: std::path::PathBuf::new(),
            sounds_dir: std::path::PathBuf::from("sounds"),
            audio_dirs: Vec::new(),
            tts_program: "espeak-ng".into(),
            prompt_cache_samples: 28_800_000,
            recordings_dir: std::path::PathBuf::new(),
            retention_sweep_secs: 600,
            url_prompts_allow_private: false,
            voicemail_max_secs: 120,
            voicemail_number: "*97".into(),
            queue_login_number: "*45".into(),
            queue_logout_number: "*46".into(),
            queue_pause_number: "*47".into(),
            trunk_sync_secs: 10,
            route_hook_url: String::new(),
            route_hook_timeout_ms: 1500,
            node: 0,
            edge_proxies: Vec::new(),
            location_sync_ms: 500,
            event_retention_secs: 86_400,
            node_dead_after_ms: 10_000,
        }
    }
}

/// One registration at another registrar. The password is kept as given (Digest needs it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// The registrar's address (an IP address and port: names are not resolved yet).
    pub registrar: SocketAddr,
    /// The address of record, `sip:user@domain`.
    pub aor: String,
    pub user: String,
    pub password: String,
    /// Seconds asked for (the registrar may grant less; refreshed at 80 %).
    #[serde(default = "default_reg_expires")]
    pub expires: u32,
}

fn default_reg_expires() -> u32 {
    3600
}

impl B2buaConfig {
    /// Every problem, one line each.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.default_tenant.is_empty() {
            errs.push("b2bua.default_tenant must not be empty".into());
        }
        let hook = &self.route_hook_url;
        let hook_ok =
            hook.is_empty() || hook.starts_with("http://") || hook.starts_with("https://");
        if !hook_ok {
            errs.push("b2bua.route_hook_url must be an http(s) URL (or empty)".into());
        }
        if self.event_retention_secs < 600 {
            errs.push("b2bua.event_retention_secs must be >= 600".into());
        }
        if !(3_000..=3_600_000).contains(&self.node_dead_after_ms) {
            errs.push("b2bua.node_dead_after_ms must be 3000..=3600000".into());
        }
        if !(50..=60_000).contains(&self.location_sync_ms) {
            errs.push("b2bua.location_sync_ms must be 50..=60000".into());
        }
        if self.node > 99 {
            errs.push("b2bua.node must be 0..=99".into());
        }
        if !(100..=10_000).contains(&self.route_hook_timeout_ms) {
            errs.push("b2bua.route_hook_timeout_ms must be 100..=10000".into());
        }
        if !self.control_token.is_empty()
            && (self.control_token.len() < 16 || !self.control_token.is_ascii())
        {
            errs.push("b2bua.control_token must be at least 16 ASCII characters".into());
        }
        if self.ring_timeout_secs == 0 || self.ring_timeout_secs > 600 {
            errs.push("b2bua.ring_timeout_secs must be 1..=600".into());
        }
        if self.max_setups_in_flight == 0 {
            errs.push("b2bua.max_setups_in_flight must be > 0".into());
        }
        if self.min_expires_secs == 0 || self.min_expires_secs > self.max_expires_secs {
            errs.push("b2bua.min_expires_secs must be > 0 and <= max_expires_secs".into());
        }
        let tls = [
            self.sip_tls_listen.is_some(),
            self.sip_tls_cert.is_some(),
            self.sip_tls_key.is_some(),
        ];
        if tls.iter().any(|x| *x) && !tls.iter().all(|x| *x) {
            errs.push(
                "b2bua.sip_tls_listen, sip_tls_cert and sip_tls_key go together (all or none)"
                    .into(),
            );
        }
        for p in [&self.sip_tls_cert, &self.sip_tls_key]
            .into_iter()
            .flatten()
        {
            if !p.is_file() {
                errs.push(format!("b2bua TLS file {} is not readable", p.display()));
            }
        }
        for r in &self.registrations {
            if crate::sip::parse_sip_uri(&r.aor).is_none_or(|u| u.user.is_empty()) {
                errs.push(format!(
                    "b2bua.registrations: aor {:?} is not sip:user@domain",
                    r.aor
                ));
            }
            if r.expires < 60 {
                errs.push(format!(
                    "b2bua.registrations: expires of {} must be >= 60",
                    r.aor
                ));
            }
        }
        if self.auth_fail_window_secs == 0 {
            errs.push("b2bua.auth_fail_window_secs must be > 0".into());
        }
        let codes = [
            &self.voicemail_number,
            &self.queue_login_number,
            &self.queue_logout_number,
            &self.queue_pause_number,
        ];
        for (i, c) in codes.iter().enumerate() {
            if !patchbay_api::app_number_ok(c) || codes[..i].contains(c) {
                errs.push(format!(
                    "b2bua feature code {c:?}: 1-32 digits, * or #, each code different"
                ));
            }
        }
        for d in &self.audio_dirs {
            if !d.is_absolute() || !d.is_dir() {
                errs.push(format!(
                    "b2bua.audio_dirs: {} is not an absolute path to a directory",
                    d.display()
                ));
            }
        }
        if self.tts_program.is_empty() {
            errs.push("b2bua.tts_program must name the espeak-ng program".into());
        }
        if let Err(e) = self.media.validate() {
            errs.push(format!("b2bua.media: {e}"));
        }
        errs
    }
}
