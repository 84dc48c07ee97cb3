//! A tenant's dial plan: which outside numbers may be called, how they are rewritten, and
//! which trunk they leave through. Pure functions over the rules
//! ([`patchbay_api::DialRule`]), first match wins; no rule, no call.
//!
//! Patterns use the dial-pattern notation PBX administrators know (Asterisk's, without its
//! leading `_`): `0-9 + * #` match themselves; `X` any digit, `Z` 1-9, `N` 2-9, `[15-7]` one
//! of a set; a final `.` one or more further characters, a final `!` zero or more.
//!
//! Numbers are compared in one form: separators (` -.()`) dropped and, when the number is
//! international (`+`), written in E.164 by libphonenumber's rules, so `+66 081 234 5678`
//! (the national trunk prefix kept after the country code, as promptCall clients send it)
//! is `+66812345678`. National forms (`0812345678`) stay as dialled: the plan's own rules
//! say where they go.

use patchbay_api::DialRule;

/// Where a dialled number goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Out through `trunk`, dialling `number` (the rule's rewrite applied); `rule` is its
    /// index in the plan.
    Trunk {
        rule: usize,
        trunk: String,
        number: String,
    },
    /// A refusing rule matched (emergency or premium-rate numbers, by the tenant's choice).
    Refused { rule: usize },
    /// No rule matches: not callable.
    NoRule,
}

/// One element of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    Lit(u8),
    Set(Vec<(u8, u8)>),
}

/// A pattern parsed: its elements and its tail (`None`: exact length; `Some(min)`: at least
/// `min` more characters).
fn parse(pattern: &str) -> Result<(Vec<Elem>, Option<usize>), String> {
    let b = pattern.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'.' | b'!' => {
                if i + 1 != b.len() {
                    return Err(format!("{pattern}: `.` and `!` may only end a pattern"));
                }
                return Ok((out, Some(usize::from(c == b'.'))));
            }
            b'0'..=b'9' | b'*' | b'#' => out.push(Elem::Lit(c)),
            b'+' if i == 0 => out.push(Elem::Lit(c)),
            b'X' | b'x' => out.push(Elem::Set(vec![(b'0', b'9')])),
            b'Z' | b'z' => out.push(Elem::Set(vec![(b'1', b'9')])),
            b'N' | b'n' => out.push(Elem::Set(vec![(b'2', b'9')])),
            b'[' => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b']')
                    .ok_or_else(|| format!("{pattern}: `[` without `]`"))?;
                let inner = &b[i + 1..i + end];
                let mut set = Vec::new();
                let mut j = 0;
                while j < inner.len() {
                    let lo = inner[j];
                    if !lo.is_ascii_digit() {
                        return Err(format!("{pattern}: a set holds digits and ranges"));
                    }
                    if j + 2 < inner.len() && inner[j + 1] == b'-' {
                        let hi = inner[j + 2];
                        if !hi.is_ascii_digit() || hi < lo {
                            return Err(format!("{pattern}: bad range in a set"));
                        }
                        set.push((lo, hi));
                        j += 3;
                    } else {
                        set.push((lo, lo));
                        j += 1;
                    }
                }
                if set.is_empty() {
                    return Err(format!("{pattern}: empty set"));
                }
                out.push(Elem::Set(set));
                i += end;
            }
            _ => {
                return Err(format!(
                    "{pattern}: `{}` is not a pattern character",
                    c as char
                ));
            }
        }
        i += 1;
    }
    if out.is_empty() {
        return Err("an empty pattern".into());
    }
    Ok((out, None))
}

/// Check a rule as the admin API receives it; `Err` says what is wrong.
pub fn check_rule(r: &DialRule) -> Result<(), String> {
    if r.pattern.len() > 64 {
        return Err("a pattern is at most 64 characters".into());
    }
    parse(&r.pattern)?;
    match (&r.trunk, r.refuse) {
        (Some(_), true) => Err(format!(
            "{}: a rule refuses or names a trunk, not both",
            r.pattern
        )),
        (None, false) => Err(format!("{}: a rule names a trunk or refuses", r.pattern)),
        _ if r.prepend.len() > 32 || !r.prepend.bytes().all(dial_char) => {
            Err(format!("{}: prepend is up to 32 of 0-9 + * #", r.pattern))
        }
        _ => Ok(()),
    }
}

fn dial_char(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'+' | b'*' | b'#')
}

/// Whether `number` (already [`normalize`]d) matches `pattern`. A malformed pattern matches
/// nothing.
pub fn matches(pattern: &str, number: &str) -> bool {
    let Ok((elems, tail)) = parse(pattern) else {
        return false;
    };
    let n = number.as_bytes();
    if n.len() < elems.len() {
        return false;
    }
    let head_ok = elems.iter().zip(n).all(|(e, &c)| match e {
        Elem::Lit(l) => *l == c,
        Elem::Set(s) => s.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)),
    });
    let rest = &n[elems.len()..];
    head_ok
        && match tail {
            None => rest.is_empty(),
            Some(min) => rest.len() >= min && rest.iter().all(|&c| dial_char(c) && c != b'+'),
        }
}

/// A dialled number in the form rules are matched against; `None` if it is not a number
/// (letters, a SIP URI).
pub fn normalize(dialled: &str) -> Option<String> {
    let s: String = dialled
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let body = s.strip_prefix('+').unwrap_or(&s);
    if s.is_empty() || s.len() > 32 || !body.bytes().all(|c| dial_char(c) && c != b'+') {
        return None;
    }
    if s.starts_with('+')
        && body.bytes().all(|c| c.is_ascii_digit())
        && let Ok(n) = phonenumber::parse(None, &s)
    {
        return Some(n.format().mode(phonenumber::Mode::E164).to_string());
    }
    Some(s)
}

/// Route a dialled number through the plan.
pub fn route(rules: &[DialRule], dialled: &str) -> Route {
    let Some(number) = normalize(dialled) else {
        return Route::NoRule;
    };
    for (i, r) in rules.iter().enumerate() {
        if !matches(&r.pattern, &number) {
            continue;
        }
        if r.refuse {
            return Route::Refused { rule: i };
        }
        let Some(trunk) = &r.trunk else {
            continue;
        };
        let strip = (r.strip as usize).min(number.len());
        return Route::Trunk {
            rule: i,
            trunk: trunk.clone(),
            number: format!("{}{}", r.prepend, &number[strip..]),
        };
    }
    Route::NoRule
}
