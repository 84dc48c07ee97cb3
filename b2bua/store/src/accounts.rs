//! Records the gateway reads: web credentials, user settings, API keys, JWT keys, phonebook
//! entries, recordings.

use serde::{Deserialize, Serialize};

/// What the gateway needs to check a user's web PIN by any scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebCredentials {
    pub realm: String,
    /// argon2 PHC string (Basic, vendor parameters).
    pub pin_hash: String,
    /// H(ext:realm:pin) for HTTP Digest.
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

/// Per-user call handling settings that vendor APIs read and write, and the B2BUA routes
/// every call to the user by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    /// Unconditional forwarding: to `forward_to` while `forward_on`.
    pub forward_to: Option<String>,
    pub forward_on: bool,
    pub followme_on: bool,
    pub vm_on: bool,
    /// How long the user's phones ring before no-answer handling.
    pub ring_secs: u32,
    /// Where a call goes when the user is busy (or on do-not-disturb).
    #[serde(default)]
    pub forward_busy: Option<String>,
    /// Where a call goes when the user's phones ring `ring_secs` unanswered (or none is
    /// registered).
    #[serde(default)]
    pub forward_no_answer: Option<String>,
    /// Do not disturb: the user's phones do not ring (busy handling applies).
    #[serde(default)]
    pub dnd: bool,
    /// The call sequence rung while `followme_on` (sipX's model; Taridium follow-me).
    #[serde(default)]
    pub call_sequence: Vec<patchbay_api::SequenceRing>,
    /// The caller ID the user's calls carry out through trunks (else the trunk's).
    #[serde(default)]
    pub caller_id: Option<String>,
    /// The voicemail greeting callers hear: one of [`VOICEMAIL_GREETINGS`].
    #[serde(default = "standard")]
    pub vm_greeting: String,
}

fn standard() -> String {
    "standard".into()
}

/// sipX's greetings: the active one plays (a recorded file, else a spoken default; `none`:
/// only the beep).
pub const VOICEMAIL_GREETINGS: [&str; 4] = ["standard", "outofoffice", "extendedabsence", "none"];

impl Default for UserSettings {
    fn default() -> Self {
        Self {
            forward_to: None,
            forward_on: false,
            followme_on: false,
            vm_on: true,
            ring_secs: 30,
            forward_busy: None,
            forward_no_answer: None,
            dnd: false,
            call_sequence: Vec::new(),
            caller_id: None,
            vm_greeting: standard(),
        }
    }
}

/// An API key: public id, tenant, roles. The secret is only ever stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: String,
    pub tenant: String,
    /// Role names (`system`, `admin`, `user`).
    pub roles: Vec<String>,
    pub label: String,
    pub created_ms: u64,
    /// argon2 PHC string; empty in listings handed out of the gateway.
    #[serde(skip)]
    pub secret_hash: String,
}

/// A key that signs a tenant's JWTs. `alg` is `HS256` (material: the shared secret, which the
/// protocol needs in clear), `RS256` or `ES256` (material: the public key PEM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtKey {
    pub kid: String,
    pub tenant: String,
    pub alg: String,
    pub key_material: String,
}

/// A search of a tenant's CDRs by the call's start (`created_ms`), newest first unless
/// `oldest_first`; `after` is the last record of the previous page (its start and call id).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CdrQuery {
    pub tenant: String,
    /// Calls started at or after this (unix ms).
    pub from_ms: Option<u64>,
    /// Calls started before this.
    pub to_ms: Option<u64>,
    /// The caller or the callee.
    pub party: Option<String>,
    /// `inbound` or `originate`.
    pub direction: Option<String>,
    /// Answered (`Some(true)`) or not.
    pub answered: Option<bool>,
    /// Ended with one of these causes (`normal`, `busy`, ...); empty: any.
    pub causes: Vec<String>,
    pub after: Option<(u64, String)>,
    pub oldest_first: bool,
    pub limit: u32,
}

/// A phonebook entry: of a user's private book (`owner`, `book` empty) or of one of the
/// tenant's shared books (`book`, `owner` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookEntry {
    pub tenant: String,
    pub id: String,
    pub owner: String,
    pub book: String,
    pub first_name: String,
    pub last_name: String,
    pub number: String,
    /// Contact information (job, company, addresses, other numbers, mail, IM) as a JSON
    /// object; `{}` when none.
    pub contact: String,
    pub created_ms: u64,
}

/// A finished recording in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub id: String,
    pub call_id: String,
    pub tenant: String,
    /// The leg recorded (`a`, `b`), or `call` (both).
    pub side: String,
    /// `mono` or `stereo`.
    pub layout: String,
    /// The WAV file (absolute, on a path every node can read in a cluster).
    pub path: String,
    pub started_ms: u64,
    pub duration_ms: u64,
    pub bytes: u64,
}

/// A number the B2BUA answers itself: calls to it become application calls (an `incoming`
/// event on the tenant's feed), driven through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppNumber {
    pub tenant: String,
    pub number: String,
    #[serde(default)]
    pub label: String,
}

/// A voicemail message: its audio is the recording of the same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicemailRow {
    pub id: String,
    pub tenant: String,
    pub mailbox: String,
    /// `inbox`, `saved` or `deleted`.
    pub folder: String,
    pub caller: String,
    pub created_ms: u64,
    pub duration_ms: u64,
    /// The recording holding the audio.
    pub recording: String,
}

/// The folders of a mailbox.
pub const VOICEMAIL_FOLDERS: [&str; 3] = ["inbox", "saved", "deleted"];
