//! Call queues (ACD) as the APIs carry them: the queue, its agents' states, its live calls;
//! and the audio references of the admin API.

use serde::{Deserialize, Serialize};

/// Which free agents ring for the caller at the head of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStrategy {
    /// Every free agent at once; the first to answer takes the call.
    #[default]
    Ringall,
    /// One agent at a time, starting after the one rung last (Asterisk's `rrmemory`).
    Roundrobin,
    /// One agent at a time, the one whose last queue call ended longest ago first (never
    /// called: first of all, in list order).
    LongestIdle,
    /// One agent at a time, always in list order from the first.
    Linear,
}

/// An agent's availability in one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Logged in and taking calls.
    Available,
    /// Logged in, taking no calls for now.
    Paused,
    /// Not taking calls (every agent until it logs in).
    #[default]
    LoggedOut,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Available => "available",
            AgentState::Paused => "paused",
            AgentState::LoggedOut => "logged_out",
        }
    }
}

/// A sound the B2BUA plays: a WAV file (a name under the data directory's `sounds/` or
/// `prompts/` folder, or an absolute path under one of the node's audio directories), a WAV
/// at an http(s) URL, or text spoken by TTS. As JSON: a string (a URL when it starts with
/// `http://` or `https://`, else a file) or `{"file"|"url"|"text": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "AudioRefWire")]
pub struct AudioRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AudioRefWire {
    Plain(String),
    Object {
        #[serde(default)]
        file: Option<String>,
        #[serde(default)]
        url: Option<String>,
        #[serde(default)]
        text: Option<String>,
    },
}

impl From<AudioRefWire> for AudioRef {
    fn from(w: AudioRefWire) -> Self {
        match w {
            AudioRefWire::Plain(s) if s.starts_with("http://") || s.starts_with("https://") => {
                AudioRef {
                    file: None,
                    url: Some(s),
                    text: None,
                }
            }
            AudioRefWire::Plain(s) => AudioRef {
                file: Some(s),
                url: None,
                text: None,
            },
            AudioRefWire::Object { file, url, text } => AudioRef { file, url, text },
        }
    }
}

impl AudioRef {
    /// Exactly one source, well formed; `Err` says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let n = [&self.file, &self.url, &self.text]
            .iter()
            .filter(|s| s.is_some())
            .count();
        if n != 1 {
            return Err("one of file, url, text".into());
        }
        if let Some(f) = &self.file
            && !crate::prompt_name_ok(f)
        {
            return Err("file: a name or an absolute path, of letters, digits, . _ - /".into());
        }
        if let Some(u) = &self.url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err("url: http:// or https://".into());
        }
        if let Some(t) = &self.text
            && (t.is_empty() || t.len() > 2_000)
        {
            return Err("text: 1 to 2000 bytes".into());
        }
        Ok(())
    }
}

/// A call queue: callers of `number` wait hearing `hold_music` while free agents ring per
/// `strategy`, each for `ring_secs`; an agent who took a call rests `wrapup_secs` after it.
/// Every `announce_secs` (0: never) a waiting caller hears its position. After `max_wait_secs`
/// (0: no limit), or when `max_callers` (0: no cap) already wait, a caller goes to `overflow`
/// (a user, `voicemail:<ext>`, another queue's number, any attendant destination; none: a
/// goodbye).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    #[serde(default)]
    pub name: String,
    pub number: String,
    #[serde(default)]
    pub strategy: QueueStrategy,
    #[serde(default)]
    pub agents: Vec<String>,
    #[serde(default = "fifteen")]
    pub ring_secs: u32,
    #[serde(default)]
    pub wrapup_secs: u32,
    /// Played looped to waiting callers (none: ringback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_music: Option<AudioRef>,
    #[serde(default)]
    pub announce_secs: u32,
    #[serde(default)]
    pub max_wait_secs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow: Option<String>,
    #[serde(default)]
    pub max_callers: u32,
    /// Asked before a call enters the queue (the tenant's CTI, per application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cti_url: Option<String>,
}

fn fifteen() -> u32 {
    15
}

impl Queue {
    /// Check a queue as the admin API receives it; `Err` says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        crate::routing::check_cti_url(&self.cti_url)?;
        if !crate::room_name_ok(&self.name) {
            return Err("name: 1-64 of letters, digits, '.', '_', '-'".into());
        }
        if !crate::app_number_ok(&self.number) {
            return Err("number: 1-32 digits, * or #, with an optional leading +".into());
        }
        if self.agents.len() > 200 {
            return Err("agents: at most 200".into());
        }
        for (i, a) in self.agents.iter().enumerate() {
            if a.is_empty() || a.len() > 32 || a == &self.number || self.agents[..i].contains(a) {
                return Err(format!("agents: {a:?} is no extension, or twice"));
            }
        }
        if !(5..=600).contains(&self.ring_secs) {
            return Err("ring_secs: 5 to 600".into());
        }
        if self.wrapup_secs > 3_600 {
            return Err("wrapup_secs: at most 3600".into());
        }
        if self.announce_secs != 0 && !(10..=3_600).contains(&self.announce_secs) {
            return Err("announce_secs: 0 (off) or 10 to 3600".into());
        }
        if self.max_wait_secs > 86_400 {
            return Err("max_wait_secs: at most 86400 (0: no limit)".into());
        }
        if self.max_callers > 10_000 {
            return Err("max_callers: at most 10000 (0: no cap)".into());
        }
        if let Some(m) = &self.hold_music {
            m.check().map_err(|e| format!("hold_music: {e}"))?;
        }
        if let Some(o) = &self.overflow
            && (!crate::attendant_destination_ok(o) || o == "extension" || o == &self.number)
        {
            return Err("overflow: a number or voicemail:<ext>, not the queue's own".into());
        }
        Ok(())
    }
}

/// `PUT .../queues/{name}/agents/{ext}`, and one line of `GET .../queues/{name}/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueAgent {
    #[serde(default)]
    pub agent: String,
    pub state: AgentState,
}

/// Where a queue call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueCallStatus {
    /// Hearing hold music (an agent may be ringing).
    Waiting,
    /// Talking to `agent`.
    Connected,
}

/// One live call of a queue (`GET .../queues/{name}/calls`): waiting ones in queue order,
/// then connected ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCall {
    /// The caller's channel id, `<call id>.<leg>` (as in the channel list).
    pub unique_id: String,
    pub call: crate::CallId,
    pub caller_id: String,
    /// When the caller entered the queue, unix seconds.
    pub entered: u64,
    /// Seconds waited (until answered, for connected calls).
    pub waited: u64,
    pub status: QueueCallStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// 1 for the head of the queue (waiting calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}
