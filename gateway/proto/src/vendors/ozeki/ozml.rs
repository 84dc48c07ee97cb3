//! OzML, the programs customers' apps answer Ozeki's notifications with (vendor-apis.md 5.5),
//! parsed into [`Step`]s for the interpreter. Real OzML varies: element and attribute names
//! come in any case, with or without an XML declaration (after leading whitespace too), with
//! single- or double-quoted attributes, the "main" value as an attribute or as the element's
//! text (`<BlindTransfer>2000</BlindTransfer>`), `ForwardToUrl` also as `enteredUrl`. An
//! element not known becomes [`Step::Unknown`] (the interpreter skips it, logs and counts it);
//! a document that is not well-formed, or is hostile (a DOCTYPE, a processing instruction,
//! too deep or too large), is refused.

use super::Party;
use crate::Failure;
use crate::xml::{Node, parse_tree, xml_error};

/// Longest `Delay` honoured, and longest `UserInput` timeout (seconds).
pub const MAX_WAIT_SECS: u32 = 600;

/// One OzML command.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Speak {
        text: String,
        party: Party,
        language: Option<String>,
    },
    Play {
        /// A file name or an http(s) URL.
        audio: String,
        party: Party,
        repeat: bool,
    },
    Record {
        /// `wav` or `mp3` as asked (Patchbay records WAV).
        format: String,
        finished_url: Option<String>,
        duration_secs: Option<u32>,
        inactivity_secs: Option<u32>,
        finish_digits: String,
    },
    UserInput(Box<UserInput>),
    Hangup,
    Reject,
    BlindTransfer {
        target: String,
        transferor: Party,
    },
    Forward {
        destination: String,
    },
    Hold {
        on: bool,
    },
    SendDtmf {
        digits: String,
        party: Party,
    },
    Call {
        dialled: String,
        caller_id: Option<String>,
        caller_display_name: Option<String>,
        url: Option<String>,
        error_url: Option<String>,
    },
    /// A text to an extension (`SendSms`): from `api_extension` (default: the call's).
    SendSms {
        api_extension: Option<String>,
        sender: Option<String>,
        recipient: String,
        text: String,
        report_url: Option<String>,
    },
    /// Where a call goes (the reply to `RoutingInterception`).
    Route {
        destination: String,
    },
    /// Seconds.
    Delay(f64),
    /// Fetch this URL's OzML and run it instead of what follows.
    GoTo(String),
    /// Not known: skipped (logged and counted), with its name.
    Unknown(String),
}

/// `UserInput`: prompts, then keys.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInput {
    /// Played first (and again on a timeout when `repeat`).
    pub initial: Vec<Step>,
    /// Key (or keys) -> what to run.
    pub inputs: Vec<(String, Vec<Step>)>,
    pub repeat: bool,
    /// Wait for the first key after the prompts (0: Ozeki's default, taken as 5 s).
    pub timeout_secs: u32,
    pub min_digits: usize,
    pub max_digits: usize,
    /// Starts the input over.
    pub back_key: Option<char>,
    /// Where the digits are POSTed as `DtmfEntered` (its reply is run next).
    pub forward_url: Option<String>,
}

/// A parsed OzML document.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub steps: Vec<Step>,
}

pub(super) fn text_or(n: &Node, attr: &str) -> Option<String> {
    n.attr_ci(attr)
        .map(str::to_string)
        .or_else(|| Some(n.text.clone()))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub(super) fn flag(n: &Node, attr: &str) -> bool {
    n.attr_ci(attr)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true") || v.trim() == "1")
}

fn number(n: &Node, attr: &str) -> Result<Option<u32>, Failure> {
    match n.attr_ci(attr).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .map(Some)
            .map_err(|_| xml_error(format!("{}: {attr} is not a number", n.name))),
    }
}

pub(super) fn party(n: &Node, attr: &str) -> Party {
    match n
        .attr_ci(attr)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("callee") => Party::Callee,
        Some("all") => Party::All,
        _ => Party::Caller,
    }
}

fn required(n: &Node, value: Option<String>, what: &str) -> Result<String, Failure> {
    value.ok_or_else(|| xml_error(format!("{}: no {what}", n.name)))
}

fn steps(nodes: &[Node]) -> Result<Vec<Step>, Failure> {
    nodes.iter().map(step).collect()
}

fn user_input(n: &Node) -> Result<UserInput, Failure> {
    let mut ui = UserInput {
        initial: Vec::new(),
        inputs: Vec::new(),
        repeat: flag(n, "Repeat"),
        timeout_secs: number(n, "Timeout")?.unwrap_or(0).min(MAX_WAIT_SECS),
        min_digits: 1,
        max_digits: 1,
        back_key: n.attr_ci("BackKey").and_then(|k| k.trim().chars().next()),
        forward_url: n
            .attr_ci("ForwardToUrl")
            .or_else(|| n.attr_ci("enteredUrl"))
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty()),
    };
    if let Some(d) = number(n, "Digits")? {
        (ui.min_digits, ui.max_digits) = (d as usize, d as usize);
    }
    if let Some(d) = number(n, "MinDigits")? {
        ui.min_digits = d as usize;
    }
    if let Some(d) = number(n, "MaxDigits")? {
        ui.max_digits = d as usize;
    }
    ui.min_digits = ui.min_digits.clamp(1, 64);
    ui.max_digits = ui.max_digits.clamp(ui.min_digits, 64);
    for c in &n.children {
        if c.name.eq_ignore_ascii_case("InitialCommands") {
            ui.initial.extend(steps(&c.children)?);
        } else if c.name.eq_ignore_ascii_case("Inputs") {
            for i in &c.children {
                if !i.name.eq_ignore_ascii_case("Input") {
                    continue;
                }
                let key = i
                    .attr_ci("key")
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| xml_error("Input: no key"))?;
                ui.inputs.push((key, steps(&i.children)?));
            }
        } else {
            // Commands straight inside UserInput are its prompts.
            ui.initial.push(step(c)?);
        }
    }
    if !ui.inputs.is_empty() && ui.forward_url.is_none() {
        // Keys decide: as many digits as the longest key.
        let longest = ui.inputs.iter().map(|(k, _)| k.len()).max().unwrap_or(1);
        ui.max_digits = ui.max_digits.max(longest);
    }
    Ok(ui)
}

fn step(n: &Node) -> Result<Step, Failure> {
    let name = n.name.to_ascii_lowercase();
    Ok(match name.as_str() {
        "speak" => Step::Speak {
            text: required(n, text_or(n, "Text"), "text")?,
            party: party(n, "Party"),
            language: n.attr_ci("Language").map(|l| l.trim().to_string()),
        },
        "play" => Step::Play {
            audio: required(n, text_or(n, "AudioFile"), "AudioFile")?,
            party: party(n, "Party"),
            repeat: flag(n, "Repeat"),
        },
        "record" => Step::Record {
            format: n
                .attr_ci("Format")
                .map_or_else(|| "mp3".to_string(), |f| f.trim().to_ascii_lowercase()),
            finished_url: n
                .attr_ci("FinishedUrl")
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty()),
            duration_secs: number(n, "Duration")?,
            inactivity_secs: number(n, "Inactivity")?,
            finish_digits: n.attr_ci("FinishDigits").unwrap_or("").trim().to_string(),
        },
        "userinput" => Step::UserInput(Box::new(user_input(n)?)),
        "hangup" => Step::Hangup,
        "reject" => Step::Reject,
        "blindtransfer" => Step::BlindTransfer {
            target: required(n, text_or(n, "Target"), "Target")?,
            transferor: party(n, "TransferorParty"),
        },
        "forward" => Step::Forward {
            destination: required(n, text_or(n, "Destination"), "Destination")?,
        },
        "hold" => Step::Hold { on: true },
        "unhold" => Step::Hold { on: false },
        "senddtmf" => Step::SendDtmf {
            digits: required(n, text_or(n, "Digits"), "Digits")?,
            party: party(n, "Party"),
        },
        "call" => Step::Call {
            dialled: required(
                n,
                n.attr_ci("Dialled")
                    .or_else(|| n.attr_ci("Dialed"))
                    .map(|d| d.trim().to_string())
                    .or_else(|| text_or(n, "Dialled")),
                "Dialled",
            )?,
            caller_id: n.attr_ci("CallerId").map(|v| v.trim().to_string()),
            caller_display_name: n.attr_ci("CallerDisplayName").map(|v| v.trim().to_string()),
            url: n.attr_ci("Url").map(|v| v.trim().to_string()),
            error_url: n.attr_ci("ErrorUrl").map(|v| v.trim().to_string()),
        },
        "delay" => {
            let t = text_or(n, "Value").unwrap_or_default();
            let secs: f64 = t
                .parse()
                .map_err(|_| xml_error(format!("Delay: {t:?} is not a number of seconds")))?;
            if !(0.0..=f64::from(MAX_WAIT_SECS)).contains(&secs) {
                return Err(xml_error("Delay: 0 to 600 seconds"));
            }
            Step::Delay(secs)
        }
        "goto" => Step::GoTo(required(n, text_or(n, "Url"), "URL")?),
        "route" => Step::Route {
            destination: required(n, text_or(n, "Destination"), "Destination")?,
        },
        "sendsms" => Step::SendSms {
            api_extension: n.attr_ci("ApiExtension").map(|v| v.trim().to_string()),
            sender: n.attr_ci("Sender").map(|v| v.trim().to_string()),
            recipient: required(
                n,
                n.attr_ci("Recipient").map(|r| r.trim().to_string()),
                "Recipient",
            )?,
            text: required(n, text_or(n, "Message"), "Message")?,
            report_url: n.attr_ci("DeliveryReportURL").map(|v| v.trim().to_string()),
        },
        _ => Step::Unknown(n.name.clone()),
    })
}

/// Parse an OzML reply (its body as served, any content type).
pub fn parse(body: &[u8]) -> Result<Program, Failure> {
    let top = response(body)?;
    Ok(Program {
        steps: steps(&top.children)?,
    })
}

/// The `<Response>` element of an OzML reply.
pub(super) fn response(body: &[u8]) -> Result<Node, Failure> {
    // A declaration after leading whitespace (or a BOM) is still one.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let body = body.trim_ascii_start();
    let root = parse_tree(body, "OzML")?;
    root.children
        .into_iter()
        .find(|c| c.name.eq_ignore_ascii_case("Response"))
        .ok_or_else(|| xml_error("OzML has no Response element"))
}

/// The destination of a routing reply: its first `Route` (none: the dial plan decides).
pub fn route_of(p: &Program) -> Option<&str> {
    p.steps.iter().find_map(|s| match s {
        Step::Route { destination } => Some(destination.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_ivr_sample() {
        let p = parse(
            br#"<?xml version="1.0"?>
<Response>
  <UserInput Timeout="10" Repeat="true">
    <InitialCommands>
      <Speak>To send an SMS, press 1.</Speak>
      <Speak>To talk to 101, press 2.</Speak>
    </InitialCommands>
    <Inputs>
      <Input key="1"><GoTo>http://yourapp.com/press1.php</GoTo></Input>
      <Input key="2"><BlindTransfer Target="101"/></Input>
    </Inputs>
  </UserInput>
</Response>"#,
        )
        .unwrap();
        let Step::UserInput(ui) = &p.steps[0] else {
            panic!("{p:?}")
        };
        assert_eq!((ui.timeout_secs, ui.repeat), (10, true));
        assert_eq!(ui.initial.len(), 2);
        assert_eq!(
            ui.inputs[0].1,
            [Step::GoTo("http://yourapp.com/press1.php".into())]
        );
        assert_eq!(
            ui.inputs[1].1,
            [Step::BlindTransfer {
                target: "101".into(),
                transferor: Party::Caller
            }]
        );
    }

    #[test]
    fn names_in_any_case_text_values_and_no_declaration() {
        let p = parse(
            b"\n  <response><userinput digits='4' timeout='5' enteredUrl='http://app/pin'><speak>PIN?</speak></userinput>\
              <BlindTransfer>2000</BlindTransfer><Delay>1.5</Delay><Dance/></response>",
        )
        .unwrap();
        let Step::UserInput(ui) = &p.steps[0] else {
            panic!("{p:?}")
        };
        assert_eq!((ui.min_digits, ui.max_digits), (4, 4));
        assert_eq!(ui.forward_url.as_deref(), Some("http://app/pin"));
        assert!(matches!(&ui.initial[0], Step::Speak { text, .. } if text == "PIN?"));
        assert!(matches!(&p.steps[1], Step::BlindTransfer { target, .. } if target == "2000"));
        assert_eq!(p.steps[2], Step::Delay(1.5));
        assert_eq!(p.steps[3], Step::Unknown("Dance".into()));
    }

    #[test]
    fn hostile_or_broken_documents_are_refused() {
        for bad in [
            &b"<!DOCTYPE r [<!ENTITY x \"y\">]><Response/>"[..],
            b"<Response><Speak>unclosed</Response>",
            b"<?php echo 1; ?><Response/>",
            b"just text",
            b"<Other/>",
            b"<Response><Delay>soon</Delay></Response>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!(
            "<Response>{}{}</Response>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert!(parse(deep.as_bytes()).is_err());
    }
}
