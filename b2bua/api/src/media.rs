//! Media primitives on a live call: requests (`POST /v1/calls/{id}/play` ...), and what their
//! completion events carry. Each request returns a [`CommandAccepted`] at once; the command
//! ends with exactly one completion event on the call's event log (`play_finished`,
//! `digits`, `dtmf_sent`, `tone_finished`, `recording_ready`), also when the call ends first
//! (reason `hangup`).

use crate::Side;
use serde::{Deserialize, Serialize};

/// Longest text spoken at once, in bytes.
pub const MAX_TEXT: usize = 4_000;
/// Most digits one collection or one send may hold.
pub const MAX_DIGITS: usize = 64;

fn side_a() -> Side {
    Side::A
}

/// What to play: exactly one of `file`, `url`, `text`, `recording`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayRequest {
    /// The leg that hears it (an application call has only `a`).
    #[serde(default = "side_a")]
    pub side: Side,
    /// A WAV prompt by name: `<data_dir>/prompts/<tenant>/<name>`, else
    /// `<data_dir>/prompts/<name>` (names of letters, digits, `.`, `_`, `-` and `/`; no `..`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A WAV prompt at an HTTP(S) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Text to speak (espeak-ng).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// One of the tenant's recordings (by id), e.g. a voicemail message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// Voice or language for `text` (`en`, `de`, `en-us`, `fr+f2` ...; default `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// Loop until stopped (hold music) instead of playing once.
    #[serde(default)]
    pub repeat: bool,
    /// A key pressed on the phone ends it (the key still counts for a collection).
    #[serde(default)]
    pub barge_in: bool,
}

/// Collect keys pressed on a leg's phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectRequest {
    #[serde(default = "side_a")]
    pub side: Side,
    #[serde(default = "one")]
    pub min_digits: usize,
    #[serde(default = "one")]
    pub max_digits: usize,
    /// Keys that end the collection (not part of the digits).
    #[serde(default = "hash")]
    pub terminators: String,
    /// Time for the first key, counted from when nothing plays on the leg any more.
    #[serde(default = "five_s")]
    pub first_timeout_ms: u64,
    #[serde(default = "three_s")]
    pub inter_timeout_ms: u64,
}

fn one() -> usize {
    1
}
fn hash() -> String {
    "#".into()
}
fn five_s() -> u64 {
    5_000
}
fn three_s() -> u64 {
    3_000
}
fn hundred() -> u32 {
    100
}

/// Send keys to a leg's phone (RFC 4733 telephone-events; in-band tones when the phone did
/// not agree on telephone-event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtmfRequest {
    #[serde(default = "side_a")]
    pub side: Side,
    pub digits: String,
    /// How long each key is held (40-2000 ms).
    #[serde(default = "hundred")]
    pub duration_ms: u32,
}

/// The tones the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToneName {
    Ringback,
    Busy,
    Beep,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToneRequest {
    #[serde(default = "side_a")]
    pub side: Side,
    pub tone: ToneName,
    /// Stop after this long (ringback and busy repeat until stopped otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub barge_in: bool,
}

/// `POST /v1/calls/{id}/stop`: end one command early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    pub command: u64,
}

/// The reply to a primitive: its id, named again by its completion event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAccepted {
    pub command: u64,
}

/// One media primitive, as the call core carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaOp {
    Play(PlayRequest),
    Collect(CollectRequest),
    Dtmf(DtmfRequest),
    Tone(ToneRequest),
    Record(crate::RecordRequest),
    Conference(ConferenceRequest),
}

impl MediaOp {
    pub fn side(&self) -> Side {
        match self {
            MediaOp::Play(r) => r.side,
            MediaOp::Collect(r) => r.side,
            MediaOp::Dtmf(r) => r.side,
            MediaOp::Tone(r) => r.side,
            MediaOp::Record(r) => r.side.unwrap_or(Side::A),
            MediaOp::Conference(r) => r.side,
        }
    }

    /// Why the request cannot be carried out as given (`None`: it can).
    pub fn refusal(&self) -> Option<String> {
        let keys = |s: &str| s.chars().all(|c| "0123456789*#ABCDabcd".contains(c));
        match self {
            MediaOp::Play(r) => {
                let given = [&r.file, &r.url, &r.text, &r.recording]
                    .iter()
                    .filter(|x| x.is_some())
                    .count();
                if given != 1 {
                    return Some("give exactly one of file, url, text, recording".into());
                }
                if let Some(id) = &r.recording
                    && (id.contains('/') || !prompt_name_ok(id))
                {
                    return Some(format!("{id:?} is not a recording id"));
                }
                if let Some(t) = &r.text
                    && (t.trim().is_empty() || t.len() > MAX_TEXT)
                {
                    return Some(format!("text must be 1 to {MAX_TEXT} bytes"));
                }
                if let Some(f) = &r.file
                    && !prompt_name_ok(f)
                {
                    return Some(format!("{f:?} is not a prompt name"));
                }
                if let Some(u) = &r.url
                    && !(u.starts_with("http://") || u.starts_with("https://"))
                {
                    return Some("url must be http:// or https://".into());
                }
                None
            }
            MediaOp::Collect(r) => {
                if r.max_digits == 0 || r.max_digits > MAX_DIGITS || r.min_digits > r.max_digits {
                    return Some(format!(
                        "need 0 <= min_digits <= max_digits, 1 <= max_digits <= {MAX_DIGITS}"
                    ));
                }
                if !keys(&r.terminators) {
                    return Some("terminators must be keys (0-9 * # A-D)".into());
                }
                if r.first_timeout_ms > 600_000 || r.inter_timeout_ms > 600_000 {
                    return Some("timeouts are at most 600000 ms".into());
                }
                None
            }
            MediaOp::Dtmf(r) => {
                if r.digits.is_empty() || r.digits.len() > MAX_DIGITS || !keys(&r.digits) {
                    return Some(format!(
                        "digits must be 1 to {MAX_DIGITS} keys (0-9 * # A-D)"
                    ));
                }
                if !(40..=2_000).contains(&r.duration_ms) {
                    return Some("duration_ms must be 40 to 2000".into());
                }
                None
            }
            MediaOp::Tone(r) => match r.duration_ms {
                Some(0) => Some("duration_ms must be positive".into()),
                Some(ms) if ms > 3_600_000 => Some("duration_ms is at most an hour".into()),
                _ => None,
            },
            MediaOp::Record(r) => r.refusal(),
            MediaOp::Conference(r) => (!room_name_ok(&r.room))
                .then(|| "room must be 1-64 of letters, digits, '.', '_', '-'".into()),
        }
    }
}

/// A prompt name: of letters, digits, `.`, `_`, `-` and `/`, no empty, `.` or `..`
/// component; relative (under the prompts or sounds directory), or absolute (the B2BUA plays
/// it only from its configured audio directories).
pub fn prompt_name_ok(name: &str) -> bool {
    let name = name.strip_prefix('/').unwrap_or(name);
    name.len() <= 200
        && name.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
        })
}

/// Why a primitive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaReason {
    /// Played to its end; every key sent.
    Finished,
    /// `POST .../stop`, or replaced by a newer collection.
    Stopped,
    /// A key from the phone ended a prompt played with `barge_in`.
    BargeIn,
    /// Collection: `max_digits` keys.
    MaxDigits,
    /// Collection: a terminator key.
    Terminator,
    /// Collection: no (further) key in time; tone: its duration passed.
    Timeout,
    /// The call (or the leg) ended first.
    Hangup,
    /// The prompt could not be loaded or rendered, the recording not written (see `error`).
    Error,
    /// Recording: `max_ms` reached.
    MaxLength,
    /// Recording: `silence_ms` of silence.
    Silence,
}

/// Join a conference room (`POST /v1/calls/{id}/conference`): the leg (of an application
/// call, or of a bridged call: join both for a three-way call) hears every other member and
/// is heard by them (not itself). `conference_joined` says it is in; leaving
/// (`stop` with the command, or the call's end) ends it with `conference_left`. A room exists
/// while it has members; rooms are per tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferenceRequest {
    #[serde(default = "side_a")]
    pub side: Side,
    /// 1-64 of letters, digits, `.`, `_`, `-`.
    pub room: String,
    /// Join muted: heard by nobody until unmuted.
    #[serde(default)]
    pub muted: bool,
    /// The room sounds a short tone when this member joins and when it leaves (dial-in rooms
    /// do).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tones: bool,
    /// Record the room from now on if it is not recorded yet: one WAV of everyone (listed
    /// with `call` `room-<name>`), until the room ends.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record: bool,
}

/// `POST /v1/calls/{id}/mute`: mute or unmute a leg in its conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    #[serde(default = "side_a")]
    pub side: Side,
    pub muted: bool,
}

/// A member of a conference room (`GET /v1/conferences/{room}?tenant=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceMember {
    pub call: crate::CallId,
    pub side: Side,
    /// The party of the leg (extension or number).
    pub party: String,
    /// The `conference` command that joined it (stop it to leave).
    pub command: u64,
    pub muted: bool,
    /// It dialled in with the room's moderator PIN.
    #[serde(default)]
    pub moderator: bool,
    /// How loud it talks now: its voice's mean absolute sample (0-32767), averaged over about
    /// 80 ms (heard or not: a muted member still shows its level).
    #[serde(default)]
    pub energy: u16,
}

/// A room name: 1-64 of letters, digits, `.`, `_`, `-`.
pub fn room_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A number the B2BUA answers itself (`PUT /v1/tenants/{t}/app-numbers/{number}`): calls to
/// it become application calls with an `incoming` event on the tenant's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppNumber {
    pub number: String,
    #[serde(default)]
    pub label: String,
}

/// An application number: 1-32 digits, `*` or `#`, an optional leading `+`.
pub fn app_number_ok(n: &str) -> bool {
    let digits = n.strip_prefix('+').unwrap_or(n);
    !digits.is_empty()
        && digits.len() <= 32
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

/// Music for a party who waits (`POST /v1/calls/{id}/hold_music`): a prompt looped until
/// stopped (on a bridged call the party hears it instead of the other party). It is a `play`
/// with `repeat` (its end is a `play_finished`, reason `stopped` or `hangup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldMusicRequest {
    #[serde(default = "side_a")]
    pub side: Side,
    /// A WAV prompt by name (as `play`), or:
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// a WAV at an HTTP(S) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<HoldMusicRequest> for PlayRequest {
    fn from(h: HoldMusicRequest) -> Self {
        PlayRequest {
            side: h.side,
            file: h.file,
            url: h.url,
            text: None,
            recording: None,
            voice: None,
            repeat: true,
            barge_in: false,
        }
    }
}
