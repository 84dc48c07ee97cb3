//! RFC 4475 ("SIP Torture Test Messages"): every message of section 3, as the files of the
//! RFC's appendix archive (tests/rfc4475/*.dat, CRLF line ends, notations expanded), through what the B2BUA runs on a datagram: rvoip's
//! `parse_message` (an error drops it), `msg::validate_request` (refused statelessly) and a
//! fresh `Transactions`.
//!
//! Each row holds the RFC's verdict for a receiving UAS. A row where our stack disagrees is
//! marked `known_gap` with the reason; the test asserts the gap is still there, so fixing
//! one fails this test until its row is unmarked.

use patchbay_sip::core::types::headers::TypedHeader;
use patchbay_sip::core::{Message, Method, parse_message};
use patchbay_sip::msg;
use patchbay_sip::txn::{Transactions, TxEvent};
use patchbay_sip::{Peer, Timers};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The RFC's verdict.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Processed: it parses; a request passes `validate_request`, opens one server
    /// transaction and a retransmission of it is absorbed; a response is a stray (no
    /// transaction of ours) delivered to the user.
    Valid,
    /// Malformed, answered with one of these statuses; a parse error (the transport drops
    /// the datagram) is accepted too.
    Reject(&'static [u16]),
    /// Well-formed ("a parser must accept it") but refused with one of these statuses.
    Refuse(&'static [u16]),
    /// Malformed; refused (dropped, or one of these statuses) or, liberally, processed as
    /// `Valid` with a fully parsed Request-URI.
    Liberal(&'static [u16]),
    /// Well-formed; refused with one of these statuses or processed.
    Parses(&'static [u16]),
    /// A response the receiver discards: unparsed, or no transaction event.
    Discard,
    /// A branch that is only the magic cookie: refused 400, or handled with RFC 2543
    /// matching (two different requests with that branch are two transactions).
    BareBranch,
}

struct Row {
    file: &'static str,
    section: &'static str,
    expect: Expect,
    /// What the RFC says of the processed message, checked when it is processed.
    check: Option<fn(&Message) -> bool>,
    /// Our stack disagrees with the RFC (the reason); the row must still fail.
    known_gap: Option<&'static str>,
}

const fn row(file: &'static str, section: &'static str, expect: Expect) -> Row {
    Row {
        file,
        section,
        expect,
        check: None,
        known_gap: None,
    }
}

const fn checked(
    file: &'static str,
    section: &'static str,
    expect: Expect,
    check: fn(&Message) -> bool,
) -> Row {
    Row {
        check: Some(check),
        ..row(file, section, expect)
    }
}

const fn gap(
    file: &'static str,
    section: &'static str,
    expect: Expect,
    reason: &'static str,
) -> Row {
    Row {
        known_gap: Some(reason),
        ..row(file, section, expect)
    }
}

use Expect::*;

const ROWS: &[Row] = &[
    // 3.1.1 Valid messages.
    Row {
        check: Some(|m| {
            req(m).is_some_and(|r| {
                msg::to_tag(&r.headers) == Some("1918181833n")
                    && msg::from_tag(&r.headers) == Some("98asjd8")
                    && msg::cseq(&r.headers) == Some((9, &Method::Invite))
                    && vias(m) == 3
            })
        }),
        ..gap(
            "wsinv",
            "3.1.1.1",
            Valid,
            "rvoip leaves To (LWS around ';' '=') and the 2nd Via (LWS in sent-protocol) unparsed: 400 To",
        )
    },
    checked("intmeth", "3.1.1.2", Valid, |m| {
        req(m).is_some_and(|r| {
            r.method == Method::Extension("!interesting-Method0123456789_*+`.%indeed'~".into())
        })
    }),
    checked("esc01", "3.1.1.3", Valid, |m| {
        req(m).is_some_and(|r| r.uri.user.as_deref() == Some("sips:user@example.com"))
    }),
    checked("escnull", "3.1.1.4", Valid, |m| {
        // Two distinct contacts.
        headers(m)
            .iter()
            .filter(|h| matches!(h, TypedHeader::Contact(_)))
            .count()
            == 2
    }),
    checked("esc02", "3.1.1.5", Valid, |m| {
        req(m).is_some_and(|r| {
            r.method == Method::Extension("RE%47IST%45R".into())
                && r.headers
                    .iter()
                    .filter(|h| matches!(h, TypedHeader::Contact(_)))
                    .count()
                    == 2
        })
    }),
    row("lwsdisp", "3.1.1.6", Valid),
    checked("longreq", "3.1.1.7", Valid, |m| vias(m) == 34),
    Row {
        check: Some(|m| {
            req(m).is_some_and(|r| {
                r.method == Method::Register
                    && r.body.is_empty()
                    && msg::from_tag(&r.headers) == Some("43251j3j324")
            })
        }),
        ..row("dblreq", "3.1.1.8", Valid)
    },
    checked("semiuri", "3.1.1.9", Valid, |m| {
        req(m).is_some_and(|r| {
            r.uri.user.as_deref() == Some("user;par=u@example.net")
                && r.uri.host.to_string() == "example.com"
        })
    }),
    checked("transports", "3.1.1.10", Valid, |m| vias(m) == 5),
    checked("mpart01", "3.1.1.11", Valid, |m| {
        req(m).is_some_and(|r| r.body.len() == 553)
    }),
    Row {
        check: Some(|m| match m {
            Message::Response(r) => {
                r.status.as_u16() == 200
                    && r.reason.as_deref()
                        == Some("= 2**3 * 5**2 но сто девяносто девять - простое")
                    && tags(m) == (Some("11141343"), Some("2229"))
            }
            _ => false,
        }),
        ..row("unreason", "3.1.1.12", Valid)
    },
    checked("noreason", "3.1.1.13", Valid, |m| match m {
        Message::Response(r) => {
            r.status.as_u16() == 100
                && r.reason.as_deref() == Some("")
                && tags(m) == (Some("39ansfi3"), Some("902jndnke3"))
        }
        _ => false,
    }),
    // 3.1.2 Invalid messages.
    row("badinv01", "3.1.2.1", Reject(&[400])),
    row("clerr", "3.1.2.2", Reject(&[400])),
    row("ncl", "3.1.2.3", Reject(&[400])),
    row("scalar02", "3.1.2.4", Reject(&[400])),
    row("scalarlg", "3.1.2.5", Discard),
    row("quotbal", "3.1.2.6", Liberal(&[400])),
    row("ltgtruri", "3.1.2.7", Liberal(&[400])),
    row("lwsruri", "3.1.2.8", Liberal(&[400])),
    row("lwsstart", "3.1.2.9", Liberal(&[400])),
    row("trws", "3.1.2.10", Liberal(&[400])),
    row("escruri", "3.1.2.11", Liberal(&[400])),
    row("baddate", "3.1.2.12", Liberal(&[400])),
    row("regbadct", "3.1.2.13", Liberal(&[400])),
    row("badaspec", "3.1.2.14", Liberal(&[400])),
    row("baddn", "3.1.2.15", Liberal(&[400])),
    row("badvers", "3.1.2.16", Reject(&[505])),
    row("mismatch01", "3.1.2.17", Reject(&[400])),
    row("mismatch02", "3.1.2.18", Reject(&[501, 400])),
    row("bigcode", "3.1.2.19", Discard),
    // 3.2 Transaction layer.
    row("badbranch", "3.2.1", BareBranch),
    // 3.3 Application layer.
    row("insuf", "3.3.1", Refuse(&[400])),
    row("unkscm", "3.3.2", Refuse(&[416])),
    row("novelsc", "3.3.3", Refuse(&[416])),
    row("unksm2", "3.3.4", Parses(&[400])),
    row("bext01", "3.3.5", Refuse(&[420])),
    row("invut", "3.3.6", Refuse(&[415])),
    row("regaut01", "3.3.7", Valid),
    row("multi01", "3.3.8", Refuse(&[400])),
    row("mcl01", "3.3.9", Reject(&[400])),
    Row {
        check: Some(|m| vias(m) == 2 && tags(m) == (Some("11141343"), Some("2229"))),
        ..row("bcast", "3.3.10", Valid)
    },
    Row {
        check: Some(|m| tags(m) == (Some("3ghsd41"), None)),
        ..row("zeromf", "3.3.11", Valid)
    },
    Row {
        check: Some(|m| {
            contact(m).as_deref() == Some("<sip:%2B19725552222@gw1.example.net>;unknownparam")
                && tags(m) == (Some("DkfVgjkrtMwaerKKpe"), None)
        }),
        ..gap(
            "cparam01",
            "3.3.12",
            Valid,
            "rvoip makes the contact-param of an unbracketed Contact (and the From tag) URI params",
        )
    },
    checked("cparam02", "3.3.13", Valid, |m| {
        contact(m).as_deref() == Some("<sip:%2B19725552222@gw1.example.net;unknownparam>")
    }),
    checked("regescrt", "3.3.14", Valid, |m| {
        contact(m).as_deref() == Some("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")
    }),
    row("sdp01", "3.3.15", Refuse(&[406, 400])),
    // 3.4 Backward compatibility.
    checked("inv2543", "3.4.1", Valid, |m| {
        req(m).is_some_and(|r| {
            // No branch, no From tag, no Content-Length: the body is the rest of the datagram.
            msg::branch(&r.headers).is_none()
                && msg::from_tag(&r.headers).is_none()
                && r.body.len() == 105
        })
    }),
];

fn headers(m: &Message) -> &[TypedHeader] {
    match m {
        Message::Request(r) => &r.headers,
        Message::Response(r) => &r.headers,
    }
}

/// From and To tags.
fn tags(m: &Message) -> (Option<&str>, Option<&str>) {
    (msg::from_tag(headers(m)), msg::to_tag(headers(m)))
}

/// The Contact as rvoip renders it.
fn contact(m: &Message) -> Option<String> {
    msg::header_text(headers(m), "Contact")
}

fn req(m: &Message) -> Option<&patchbay_sip::core::types::sip_request::Request> {
    match m {
        Message::Request(r) => Some(r),
        Message::Response(_) => None,
    }
}

/// Via values, over every Via header.
fn vias(m: &Message) -> usize {
    headers(m)
        .iter()
        .map(|h| match h {
            TypedHeader::Via(v) => v.0.len(),
            _ => 0,
        })
        .sum()
}

fn load(file: &str) -> Vec<u8> {
    let path = format!("{}/tests/rfc4475/{file}.dat", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn peer() -> Peer {
    Peer::udp("192.0.2.200:5060".parse().unwrap())
}

/// What the B2BUA does with one datagram.
enum Outcome {
    /// `parse_message` failed: the transport drops it.
    Dropped,
    /// `validate_request` refused it with this status.
    Refused(u16),
    /// Delivered to the transaction user (a request in a new server transaction, a stray
    /// response).
    Processed(Box<Message>),
    /// A response the transaction layer dropped.
    Ignored,
}

fn run(bytes: &[u8]) -> Result<Outcome, String> {
    let Ok(msg) = parse_message(bytes) else {
        return Ok(Outcome::Dropped);
    };
    let mut txs = Transactions::new(0, Timers::default());
    match &msg {
        Message::Request(r) => {
            if let Err(why) = msg::validate_request(r) {
                return Ok(Outcome::Refused(why.status()));
            }
            txs.handle_message(0, msg, peer());
            let Some(TxEvent::Request { req, .. }) = txs.poll_event() else {
                return Err("no TxEvent::Request".into());
            };
            if txs.poll_event().is_some() {
                return Err("more than one event".into());
            }
            // Its retransmission is absorbed by the transaction.
            let again = parse_message(bytes).map_err(|e| e.to_string())?;
            txs.handle_message(10, again, peer());
            if txs.poll_event().is_some() {
                return Err("a retransmission opened another transaction".into());
            }
            Ok(Outcome::Processed(Box::new(Message::Request(req))))
        }
        Message::Response(_) => {
            txs.handle_message(0, msg, peer());
            match txs.poll_event() {
                None => Ok(Outcome::Ignored),
                Some(TxEvent::StrayResponse { resp, .. }) => {
                    Ok(Outcome::Processed(Box::new(Message::Response(resp))))
                }
                Some(other) => Err(format!("unexpected {other:?}")),
            }
        }
    }
}

fn processed_ok(row: &Row, m: &Message) -> Result<(), String> {
    if let Some(r) = req(m)
        && r.uri.is_custom()
    {
        return Err(format!("Request-URI left unparsed: {}", r.uri));
    }
    match row.check {
        Some(check) if !check(m) => Err("processed, but not as the RFC describes".into()),
        _ => Ok(()),
    }
}

fn verdict(row: &Row) -> Result<(), String> {
    let bytes = load(row.file);
    let outcome = run(&bytes)?;
    let status_in = |want: &[u16], got: u16| {
        if want.contains(&got) {
            Ok(())
        } else {
            Err(format!("refused {got}, the RFC says {want:?}"))
        }
    };
    match (row.expect, outcome) {
        (Valid | Liberal(_) | Parses(_), Outcome::Processed(m)) => processed_ok(row, &m),
        (Valid, Outcome::Refused(s)) => Err(format!("refused {s}")),
        (Valid | Refuse(_) | Parses(_), Outcome::Dropped) => Err("parse error".into()),
        (Valid, Outcome::Ignored) => Err("response dropped by the transaction layer".into()),
        (Reject(_) | Liberal(_) | Discard, Outcome::Dropped) => Ok(()),
        (Reject(want) | Refuse(want) | Liberal(want) | Parses(want), Outcome::Refused(got)) => {
            status_in(want, got)
        }
        (Reject(want) | Refuse(want), Outcome::Processed(_)) => {
            Err(format!("processed, the RFC says refuse {want:?}"))
        }
        (Discard, Outcome::Ignored) => Ok(()),
        (Discard, Outcome::Processed(_)) => Err("response delivered, the RFC says discard".into()),
        (BareBranch, Outcome::Refused(400)) => Ok(()),
        (BareBranch, Outcome::Processed(_)) => bare_branch_fallback(&bytes),
        (expect, _) => Err(format!("no {expect:?} outcome")),
    }
}

/// RFC 4475 3.2.1: without a transaction id, fall back to RFC 2543 matching: another
/// request (new Call-ID and CSeq) with the same bare-cookie branch is a new transaction.
fn bare_branch_fallback(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let other = text
        .replace("Call-ID: badbranch.", "Call-ID: other.badbranch.")
        .replace("CSeq: 8 OPTIONS", "CSeq: 9 OPTIONS");
    assert_ne!(text, other, "badbranch.dat changed");
    let mut txs = Transactions::new(0, Timers::default());
    for wire in [&text[..], &other[..]] {
        let m = parse_message(wire.as_bytes()).map_err(|e| e.to_string())?;
        txs.handle_message(0, m, peer());
    }
    let requests = std::iter::from_fn(|| txs.poll_event())
        .filter(|e| matches!(e, TxEvent::Request { .. }))
        .count();
    match requests {
        2 => Ok(()),
        n => Err(format!("two distinct requests gave {n} transaction(s)")),
    }
}

#[test]
fn rfc4475_table_covers_every_message_once() {
    assert_eq!(ROWS.len(), 49, "RFC 4475 section 3 has 49 messages");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rfc4475");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut rows: Vec<String> = ROWS.iter().map(|r| format!("{}.dat", r.file)).collect();
    rows.sort();
    assert_eq!(files, rows);
}

#[test]
fn rfc4475_verdicts() {
    let mut failures = Vec::new();
    for row in ROWS {
        let got = catch_unwind(AssertUnwindSafe(|| verdict(row)))
            .unwrap_or_else(|_| Err("panicked".into()));
        match (row.known_gap, got) {
            (None, Ok(())) => {}
            (None, Err(why)) => failures.push(format!(
                "{} ({}) {:?}: {why}",
                row.file, row.section, row.expect
            )),
            (Some(gap), Err(why)) => {
                println!("{} ({}) known gap: {gap} [{why}]", row.file, row.section)
            }
            (Some(gap), Ok(())) => failures.push(format!(
                "{} ({}): known gap now passes, unmark it: {gap}",
                row.file, row.section
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The valid responses match the client transaction of the INVITE they answer (branch of
/// the top Via and CSeq method, RFC 3261 17.1.3).
#[test]
fn rfc4475_responses_match_their_client_transaction() {
    for file in ["unreason", "noreason", "bcast"] {
        let Ok(Message::Response(resp)) = parse_message(&load(file)) else {
            panic!("{file} parses as a response");
        };
        let via = msg::top_via(&resp.headers).expect("a Via");
        let invite = format!(
            "INVITE sip:user@example.edu SIP/2.0\r\nVia: SIP/2.0/UDP {};branch={}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:user@example.com>;tag={}\r\n\
             To: <sip:user@example.edu>\r\nCall-ID: {}\r\nCSeq: {} INVITE\r\n\
             Content-Length: 0\r\n\r\n",
            via.sent_by_host,
            msg::via_branch(via).expect("a branch"),
            msg::from_tag(&resp.headers).unwrap_or("t"),
            msg::call_id(&resp.headers).expect("a Call-ID"),
            msg::cseq(&resp.headers).expect("a CSeq").0,
        );
        let Ok(Message::Request(invite)) = parse_message(invite.as_bytes()) else {
            panic!("{file}: the INVITE parses");
        };
        let mut txs = Transactions::new(0, Timers::default());
        let tx = txs.send_request(0, invite, peer()).expect("sent");
        txs.handle_message(50, Message::Response(resp), peer());
        match txs.poll_event() {
            Some(TxEvent::Response { tx: got, .. }) => assert_eq!(got, tx, "{file}"),
            other => panic!("{file}: {other:?}"),
        }
    }
}

/// Parsing, validation and the transaction layer never panic on any message, on every
/// prefix at a 37-byte stride, or with its CRLFs turned into bare LFs.
#[test]
fn rfc4475_mangled_messages_do_not_panic() {
    for row in ROWS {
        let bytes = load(row.file);
        let mut inputs: Vec<Vec<u8>> = (0..bytes.len())
            .step_by(37)
            .map(|n| bytes[..n].to_vec())
            .collect();
        let lf: Vec<u8> = (0..bytes.len())
            .filter(|&i| !(bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n')))
            .map(|i| bytes[i])
            .collect();
        inputs.push(lf);
        inputs.push(bytes);
        for (i, input) in inputs.iter().enumerate() {
            let done = catch_unwind(AssertUnwindSafe(|| {
                let Ok(m) = parse_message(input) else { return };
                if let Message::Request(r) = &m {
                    let _ = msg::validate_request(r);
                }
                let mut txs = Transactions::new(0, Timers::default());
                txs.handle_message(0, m, peer());
                while txs.poll_event().is_some() {}
                while txs.poll_transmit().is_some() {}
                txs.handle_timeout(64_000);
            }));
            assert!(done.is_ok(), "{} input #{i} panicked", row.file);
        }
    }
}
