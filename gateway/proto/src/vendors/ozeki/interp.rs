//! The OzML interpreter, sans-IO: a [`Program`] becomes [`Action`]s one at a time (a media
//! primitive, a key collection, a request to the app, a call-control command), and the
//! outcome of each comes back as an [`Input`]. The gateway's runner does the I/O (the control
//! API, the webhook engine's `request`, the call's events).
//!
//! Order as Ozeki runs OzML: commands in sequence; `UserInput` plays its initial commands
//! (a key cuts them short) and collects keys: with `ForwardToUrl` the digits are POSTed as
//! `DtmfEntered` and the reply replaces what was left; else the matching `Input` runs and
//! then what follows the `UserInput`; no key (or no match) repeats it when `Repeat`, else
//! goes on. `GoTo` fetches a program that replaces what was left. After a transfer, a hangup
//! or a reject the program ends.

use super::Party;
use super::ozml::{Program, Step, UserInput};
use std::collections::VecDeque;

/// What the runner must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Speak or play (`text` or `audio`) to `party`; a key ends it when `barge_in`. Then
    /// [`Input::Done`] (with the key that cut it, if one did).
    Say {
        party: Party,
        text: Option<String>,
        audio: Option<String>,
        language: Option<String>,
        repeat: bool,
        barge_in: bool,
    },
    /// Collect keys from the caller; then [`Input::Digits`] (empty: none in time).
    Collect {
        min: usize,
        max: usize,
        first_timeout_ms: u64,
        /// Keys already pressed (the one that cut a prompt short).
        typed: String,
    },
    /// POST `form` to `url` (the app); its reply as [`Input::Fetched`].
    Fetch {
        url: String,
        form: Vec<(String, String)>,
    },
    /// Wait, then [`Input::Done`].
    Sleep {
        ms: u64,
    },
    SendDtmf {
        party: Party,
        digits: String,
    },
    Hold {
        on: bool,
    },
    /// Transfer away: `transferor` leaves. The program ends.
    Transfer {
        target: String,
        transferor: Party,
    },
    /// Forward a ringing call. The program ends.
    Forward {
        destination: String,
    },
    /// Record; `finished_url` hears `RecordCompleted`. Then [`Input::Done`].
    Record {
        finished_url: Option<String>,
        max_secs: Option<u32>,
        silence_secs: Option<u32>,
        stop_keys: String,
    },
    /// Place a new call (not this one).
    Call {
        dialled: String,
        caller_id: Option<String>,
        caller_display_name: Option<String>,
        url: Option<String>,
        error_url: Option<String>,
    },
    /// A text to an extension; then [`Input::Done`].
    SendSms {
        api_extension: Option<String>,
        sender: Option<String>,
        recipient: String,
        text: String,
        report_url: Option<String>,
    },
    Hangup,
    Reject,
    /// An element Patchbay does not know: skipped (the runner logs and counts it).
    Skipped(String),
    /// Nothing more to run.
    End,
}

/// The outcome of the last [`Action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A say, a record, a sleep or a command ended (`key`: the key that cut a prompt short).
    Done {
        key: Option<char>,
    },
    Digits(String),
    /// The app's reply, parsed (`None`: it failed, or was no OzML: the program ends).
    Fetched(Option<Program>),
}

/// Where a `UserInput` is.
#[derive(Debug, Clone)]
struct Asking {
    ui: UserInput,
    /// Prompts still to play this round.
    prompts: VecDeque<Step>,
    /// The key that cut a prompt short.
    typed: String,
}

/// One call's OzML.
#[derive(Debug)]
pub struct Interp {
    call_id: String,
    /// What runs next (the current program, then what followed the `UserInput` being run).
    queue: VecDeque<Step>,
    asking: Option<Asking>,
    waiting: Waiting,
    ended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Nothing,
    Step,
    Prompt,
    Keys,
    Fetch,
}

fn say(step: &Step, barge_in: bool) -> Option<Action> {
    match step {
        Step::Speak {
            text,
            party,
            language,
        } => Some(Action::Say {
            party: *party,
            text: Some(text.clone()),
            audio: None,
            language: language.clone(),
            repeat: false,
            barge_in,
        }),
        Step::Play {
            audio,
            party,
            repeat,
        } => Some(Action::Say {
            party: *party,
            text: None,
            audio: Some(audio.clone()),
            language: None,
            repeat: *repeat,
            barge_in,
        }),
        _ => None,
    }
}

impl Interp {
    /// Run `program` on call `call_id`.
    pub fn new(call_id: &str, program: Program) -> Self {
        Self {
            call_id: call_id.to_string(),
            queue: program.steps.into(),
            asking: None,
            waiting: Waiting::Nothing,
            ended: false,
        }
    }

    /// The first action (then one per [`Interp::next`]).
    pub fn start(&mut self) -> Action {
        self.advance()
    }

    /// The outcome of the last action: the next action.
    pub fn next(&mut self, input: Input) -> Action {
        match (self.waiting, input) {
            (Waiting::Prompt, Input::Done { key }) => {
                if let (Some(k), Some(a)) = (key, self.asking.as_mut()) {
                    // A key cut the prompts short: collect at once.
                    a.typed.push(k);
                    a.prompts.clear();
                }
                self.ask()
            }
            (Waiting::Keys, Input::Digits(d)) => self.answered(d),
            (Waiting::Fetch, Input::Fetched(Some(p))) => {
                self.asking = None;
                self.queue = p.steps.into();
                self.advance()
            }
            (Waiting::Step, Input::Done { .. }) => self.advance(),
            _ => self.end(),
        }
    }

    fn end(&mut self) -> Action {
        self.ended = true;
        self.waiting = Waiting::Nothing;
        Action::End
    }

    /// The form of a notification about this call.
    fn form(&self, name: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut f = vec![
            ("NotificationName".to_string(), name.to_string()),
            ("CallId".to_string(), self.call_id.clone()),
        ];
        f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        f
    }

    fn advance(&mut self) -> Action {
        if self.ended {
            return Action::End;
        }
        let Some(step) = self.queue.pop_front() else {
            return self.end();
        };
        if let Some(a) = say(&step, false) {
            self.waiting = Waiting::Step;
            return a;
        }
        self.waiting = Waiting::Step;
        match step {
            Step::UserInput(ui) => {
                self.asking = Some(Asking {
                    prompts: ui.initial.clone().into(),
                    ui: *ui,
                    typed: String::new(),
                });
                self.ask()
            }
            Step::GoTo(url) => {
                self.waiting = Waiting::Fetch;
                let form = self.form("GoTo", &[]);
                Action::Fetch { url, form }
            }
            Step::Delay(secs) => Action::Sleep {
                ms: (secs * 1000.0) as u64,
            },
            Step::SendDtmf { digits, party } => Action::SendDtmf { party, digits },
            Step::Hold { on } => Action::Hold { on },
            Step::Record {
                finished_url,
                duration_secs,
                inactivity_secs,
                finish_digits,
                ..
            } => Action::Record {
                finished_url,
                max_secs: duration_secs,
                silence_secs: inactivity_secs,
                stop_keys: finish_digits,
            },
            Step::Call {
                dialled,
                caller_id,
                caller_display_name,
                url,
                error_url,
            } => Action::Call {
                dialled,
                caller_id,
                caller_display_name,
                url,
                error_url,
            },
            Step::SendSms {
                api_extension,
                sender,
                recipient,
                text,
                report_url,
            } => Action::SendSms {
                api_extension,
                sender,
                recipient,
                text,
                report_url,
            },
            Step::BlindTransfer { target, transferor } => {
                self.ended = true;
                Action::Transfer { target, transferor }
            }
            Step::Forward { destination } => {
                self.ended = true;
                Action::Forward { destination }
            }
            Step::Hangup => {
                self.ended = true;
                Action::Hangup
            }
            Step::Reject => {
                self.ended = true;
                Action::Reject
            }
            Step::Unknown(name) => Action::Skipped(name),
            // Only a routing reply routes: on a call it is skipped (and counted).
            Step::Route { .. } => Action::Skipped("Route".into()),
            // Said above.
            Step::Speak { .. } | Step::Play { .. } => Action::Skipped(String::new()),
        }
    }

    /// The next prompt of the `UserInput` being asked, or the key collection.
    fn ask(&mut self) -> Action {
        let Some(a) = self.asking.as_mut() else {
            return self.advance();
        };
        while let Some(p) = a.prompts.pop_front() {
            if let Some(act) = say(&p, true) {
                self.waiting = Waiting::Prompt;
                return act;
            }
            // Only prompts are run before the keys (other commands belong to the inputs).
        }
        self.waiting = Waiting::Keys;
        let timeout = match a.ui.timeout_secs {
            0 => 5_000,
            s => u64::from(s) * 1000,
        };
        Action::Collect {
            min: a.ui.min_digits,
            max: a.ui.max_digits,
            first_timeout_ms: timeout,
            typed: std::mem::take(&mut a.typed),
        }
    }

    fn answered(&mut self, digits: String) -> Action {
        let Some(a) = self.asking.clone() else {
            return self.advance();
        };
        let again = |me: &mut Self| {
            if let Some(a) = me.asking.as_mut() {
                a.prompts = a.ui.initial.clone().into();
            }
            me.ask()
        };
        if let Some(back) = a.ui.back_key
            && digits.ends_with(back)
        {
            return again(self);
        }
        if digits.is_empty() {
            if a.ui.repeat {
                return again(self);
            }
            self.asking = None;
            return self.advance();
        }
        if let Some(url) = &a.ui.forward_url {
            self.waiting = Waiting::Fetch;
            let form = self.form("DtmfEntered", &[("DtmfDigits", &digits)]);
            return Action::Fetch {
                url: url.clone(),
                form,
            };
        }
        match a.ui.inputs.iter().find(|(k, _)| *k == digits) {
            Some((_, steps)) => {
                self.asking = None;
                for s in steps.iter().rev() {
                    self.queue.push_front(s.clone());
                }
                self.advance()
            }
            None if a.ui.repeat => again(self),
            None => {
                self.asking = None;
                self.advance()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::ozeki::ozml::parse;

    fn run(xml: &str) -> Interp {
        Interp::new("c1", parse(xml.as_bytes()).unwrap())
    }

    #[test]
    fn the_pin_ivr_forwards_digits_then_runs_the_reply() {
        let mut i = run(
            r#"<Response><UserInput Digits="4" Timeout="8" ForwardToUrl="http://app/pin">
                 <InitialCommands><Speak>Enter your PIN.</Speak></InitialCommands>
               </UserInput></Response>"#,
        );
        assert!(
            matches!(i.start(), Action::Say { text: Some(t), barge_in: true, .. } if t == "Enter your PIN.")
        );
        assert_eq!(
            i.next(Input::Done { key: None }),
            Action::Collect {
                min: 4,
                max: 4,
                first_timeout_ms: 8_000,
                typed: String::new()
            }
        );
        let fetch = i.next(Input::Digits("1234".into()));
        assert_eq!(
            fetch,
            Action::Fetch {
                url: "http://app/pin".into(),
                form: vec![
                    ("NotificationName".into(), "DtmfEntered".into()),
                    ("CallId".into(), "c1".into()),
                    ("DtmfDigits".into(), "1234".into()),
                ]
            }
        );
        let reply = parse(
            br#"<Response><UserInput><InitialCommands><Speak>Balance 42.</Speak></InitialCommands>
                <Inputs><Input key="2"><BlindTransfer>4007</BlindTransfer></Input></Inputs>
                </UserInput></Response>"#,
        )
        .unwrap();
        assert!(matches!(
            i.next(Input::Fetched(Some(reply))),
            Action::Say { .. }
        ));
        // The caller presses 2 during the prompt.
        assert_eq!(
            i.next(Input::Done { key: Some('2') }),
            Action::Collect {
                min: 1,
                max: 1,
                first_timeout_ms: 5_000,
                typed: "2".into()
            }
        );
        assert_eq!(
            i.next(Input::Digits("2".into())),
            Action::Transfer {
                target: "4007".into(),
                transferor: Party::Caller
            }
        );
        assert_eq!(i.next(Input::Done { key: None }), Action::End);
    }

    #[test]
    fn repeat_on_silence_then_skip_unknown_and_hang_up() {
        let mut i = run(
            r#"<Response><UserInput Repeat="true"><Speak>Press 1.</Speak>
                 <Inputs><Input key="1"><Speak>Thanks.</Speak></Input></Inputs></UserInput>
               <Dance/><Hangup/><Speak>never</Speak></Response>"#,
        );
        assert!(matches!(i.start(), Action::Say { .. }));
        assert!(matches!(
            i.next(Input::Done { key: None }),
            Action::Collect { .. }
        ));
        assert!(
            matches!(i.next(Input::Digits(String::new())), Action::Say { .. }),
            "again"
        );
        assert!(matches!(
            i.next(Input::Done { key: None }),
            Action::Collect { .. }
        ));
        assert!(
            matches!(i.next(Input::Digits("1".into())), Action::Say { text: Some(t), .. } if t == "Thanks.")
        );
        assert_eq!(
            i.next(Input::Done { key: None }),
            Action::Skipped("Dance".into())
        );
        assert_eq!(i.next(Input::Done { key: None }), Action::Hangup);
        assert_eq!(i.next(Input::Done { key: None }), Action::End);
    }

    #[test]
    fn a_goto_replaces_the_rest_and_a_failed_fetch_ends() {
        let mut i = run("<Response><GoTo>http://app/next</GoTo><Hangup/></Response>");
        assert!(matches!(i.start(), Action::Fetch { url, .. } if url == "http://app/next"));
        assert_eq!(
            i.next(Input::Fetched(Some(
                parse(b"<Response><Delay>2</Delay></Response>").unwrap()
            ))),
            Action::Sleep { ms: 2_000 }
        );
        assert_eq!(
            i.next(Input::Done { key: None }),
            Action::End,
            "the Hangup was replaced"
        );
        let mut i = run("<Response><GoTo>http://app/next</GoTo><Hangup/></Response>");
        i.start();
        assert_eq!(i.next(Input::Fetched(None)), Action::End);
    }
}
