//! OzML in a reply to a third-party call control notification (`CallChanged`,
//! `RecordCompleted`): each element is a command on a live call, named by its `CallId`
//! attribute (default: the call the notification was about), the same commands the HTTP API
//! carries out. Elements that only an API extension's program can run (`UserInput`, `GoTo`,
//! `Delay` ...) are skipped, with their names, for the caller to log and count.

use super::commands::{Command, dialable};
use super::ozml::{flag, party, response, text_or};
use crate::Failure;
use crate::xml::Node;

/// The commands of a reply, in order, and the elements skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Commands {
    pub commands: Vec<Command>,
    pub skipped: Vec<String>,
}

fn call_of(n: &Node, default: &str) -> String {
    n.attr_ci("CallId")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(default)
        .to_string()
}

/// Parse a reply (an empty body is no commands); `call`: the notification's call.
pub fn commands(body: &[u8], call: &str) -> Result<Commands, Failure> {
    let mut out = Commands::default();
    if body.trim_ascii().is_empty() {
        return Ok(out);
    }
    for n in response(body)?.children {
        let call = call_of(&n, call);
        let name = n.name.to_ascii_lowercase();
        let cmd = match name.as_str() {
            "speak" => text_or(&n, "Text").map(|text| Command::Speak {
                call,
                party: party(&n, "Party"),
                text,
                voice: n.attr_ci("Language").map(|l| l.trim().to_ascii_lowercase()),
            }),
            "play" => text_or(&n, "AudioFile").map(|audio| Command::Play {
                call,
                party: party(&n, "Party"),
                audio,
                repeat: flag(&n, "Repeat"),
            }),
            "hold" | "unhold" => Some(Command::Hold {
                call,
                on: name == "hold",
            }),
            "hangup" => Some(Command::Hangup { call }),
            "blindtransfer" => text_or(&n, "Target").map(|target| Command::BlindTransfer {
                call,
                transferor: party(&n, "TransferorParty"),
                target,
            }),
            "attendedtransfer" => n
                .attr_ci("TransferredCallId")
                .zip(n.attr_ci("TargetCallId"))
                .map(|(t, g)| Command::AttendedTransfer {
                    transferred: t.trim().to_string(),
                    target: g.trim().to_string(),
                }),
            "forward" => text_or(&n, "Destination")
                .filter(|d| dialable(d))
                .map(|destination| Command::Forward { call, destination }),
            "senddtmf" => text_or(&n, "Digits").map(|digits| Command::SendDtmf {
                call,
                party: party(&n, "Party"),
                digits,
            }),
            _ => None,
        };
        match cmd {
            Some(c) => out.commands.push(c),
            None => out.skipped.push(n.name.clone()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::ozeki::Party;

    #[test]
    fn commands_on_the_notified_call_or_the_named_one() {
        let c = commands(
            b"<Response><Speak Party='callee'>Please hold.</Speak><Hold/>\
              <AttendedTransfer TransferredCallId='7' TargetCallId='8'/>\
              <Hangup CallId='9'/><UserInput/></Response>",
            "5",
        )
        .unwrap();
        assert_eq!(
            c.commands,
            [
                Command::Speak {
                    call: "5".into(),
                    party: Party::Callee,
                    text: "Please hold.".into(),
                    voice: None
                },
                Command::Hold {
                    call: "5".into(),
                    on: true
                },
                Command::AttendedTransfer {
                    transferred: "7".into(),
                    target: "8".into()
                },
                Command::Hangup { call: "9".into() },
            ]
        );
        assert_eq!(c.skipped, ["UserInput"]);
        assert_eq!(commands(b"", "5").unwrap(), Commands::default());
        assert!(commands(b"<Response><Speak>", "5").is_err());
    }
}
