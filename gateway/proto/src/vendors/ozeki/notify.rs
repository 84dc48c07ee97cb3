//! Ozeki's notifications (vendor-apis.md 5.4), sans-IO: the form bodies (form-encoded,
//! `NotificationName` first), the headers Ozeki sends, and which `CallChanged` states a call's
//! events mean (every change once, `Answered` once per call).

use patchbay_api::{Cause, EventKind};

/// Headers on every notification, besides `Content-Type`.
pub const HEADERS: [(&str, &str); 2] = [
    ("Cache-Control", "no-store,no-cache"),
    ("Pragma", "no-cache"),
];

pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A notification body: `NotificationName=<name>` then `fields` in order (empty values kept:
/// Ozeki sends every field of a notification).
pub fn form(name: &str, fields: &[(&str, &str)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    f.append_pair("NotificationName", name);
    for (k, v) in fields {
        f.append_pair(k, v);
    }
    f.finish()
}

/// The same, from owned pairs (the interpreter's `Fetch`).
pub fn form_owned(fields: &[(String, String)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        f.append_pair(k, v);
    }
    f.finish()
}

/// Where a call's `CallChanged` notifications stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    last: Option<&'static str>,
    answered: bool,
    /// An application call (the PBX's own end is the API extension): its party answering is
    /// the call connecting.
    pub app: bool,
}

impl Changes {
    pub fn new(app: bool) -> Self {
        Self {
            app,
            ..Self::default()
        }
    }

    /// The `CallState` values `kind` moves the call to, in order (none: no change).
    pub fn on(&mut self, kind: &EventKind) -> Vec<&'static str> {
        let next: &[&'static str] = match kind {
            EventKind::Dialing { .. } | EventKind::Ringing { .. } if !self.answered => &["Ringing"],
            EventKind::Answered { .. } if self.app => &["Answered", "InCall"],
            EventKind::Bridged => &["Answered", "InCall"],
            EventKind::Held => &["Hold"],
            EventKind::Resumed => &["InCall"],
            EventKind::Transferred { .. } => &["Transferred"],
            EventKind::Ended { cause, .. } => &[self.ended(*cause)],
            _ => &[],
        };
        let mut out = Vec::new();
        for s in next {
            if *s == "Answered" {
                if self.answered {
                    continue;
                }
                self.answered = true;
            }
            if self.last != Some(s) {
                self.last = Some(s);
                out.push(*s);
            }
        }
        out
    }

    fn ended(&self, cause: Cause) -> &'static str {
        match cause {
            _ if self.answered => "Completed",
            Cause::Busy => "Busy",
            Cause::Cancelled | Cause::NoAnswer | Cause::Rejected => "Cancelled",
            Cause::Transferred => "Transferred",
            _ => "Error",
        }
    }
}

/// The result state a failed connect reports (`402`, the error notification).
pub fn failed_state(cause: Cause) -> &'static str {
    match cause {
        Cause::Busy => "Busy",
        Cause::NoAnswer => "NoAnswer",
        Cause::NotFound => "NotFound",
        Cause::Cancelled | Cause::Rejected => "Cancelled",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_api::{EndedBy, Side};

    #[test]
    fn each_change_once_and_answered_once() {
        let mut c = Changes::new(false);
        let ring = EventKind::Ringing {
            side: Side::B,
            party: "4007".into(),
            popup_url: None,
        };
        assert_eq!(c.on(&ring), ["Ringing"]);
        assert!(c.on(&ring).is_empty());
        assert_eq!(c.on(&EventKind::Bridged), ["Answered", "InCall"]);
        assert_eq!(c.on(&EventKind::Bridged), Vec::<&str>::new());
        assert_eq!(c.on(&EventKind::Held), ["Hold"]);
        assert_eq!(c.on(&EventKind::Resumed), ["InCall"]);
        let end = |cause| EventKind::Ended {
            cause,
            by: EndedBy::B,
            status: None,
        };
        assert_eq!(c.on(&end(Cause::Normal)), ["Completed"]);
        let mut busy = Changes::new(true);
        assert_eq!(busy.on(&end(Cause::Busy)), ["Busy"]);
        let mut app = Changes::new(true);
        let answered = EventKind::Answered {
            side: Side::A,
            party: "4007".into(),
        };
        assert_eq!(app.on(&answered), ["Answered", "InCall"]);
    }

    #[test]
    fn forms_start_with_the_name() {
        assert_eq!(
            form("IncomingCall", &[("CallId", "c1"), ("Caller", "4005 x&y")]),
            "NotificationName=IncomingCall&CallId=c1&Caller=4005+x%26y"
        );
    }
}
