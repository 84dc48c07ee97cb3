//! sipXconfig's smaller documents (vendor-apis.md 3.3-3.4): conferences, a conference's
//! `<setting>`, its live members, active calls, auto-attendants and the special mode, login
//! details, speed dials, the active greeting; and a conference command's arguments.

use super::rest::Variant;
use super::xstream::{X, to_json, to_xml};
use crate::{Failure, Response};
use serde_json::Value;

fn xml_or_json(root: &str, doc: &X, v: Variant) -> Response {
    match v {
        Variant::Json => super::render_body("application/json", to_json(root, doc)),
        _ => super::render_body("text/xml", to_xml(root, doc)),
    }
}

/// A conference as sipX lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conference {
    pub name: String,
    pub description: Option<String>,
    pub extension: String,
    pub access_code: Option<String>,
    pub moderator_code: Option<String>,
    pub max_members: u32,
    pub autorecorded: bool,
    pub locked: bool,
}

/// `/my/conferences`.
pub fn render_conferences(list: &[Conference], v: Variant) -> Response {
    let items = list
        .iter()
        .map(|c| {
            let mut f = vec![("enabled", X::bool(true)), ("name", X::text(&c.name))];
            if let Some(d) = &c.description {
                f.push(("description", X::text(d)));
            }
            f.push(("extension", X::text(&c.extension)));
            if let Some(a) = &c.access_code {
                f.push(("accessCode", X::text(a)));
            }
            X::obj(f)
        })
        .collect();
    xml_or_json("conferences", &X::list("conference", items), v)
}

/// `/my/conferences/{name}`: the `<setting>` document (null fields omitted).
pub fn render_setting(c: &Conference, v: Variant) -> Response {
    let mut f = vec![("enabled", X::bool(true)), ("name", X::text(&c.name))];
    if let Some(d) = &c.description {
        f.push(("description", X::text(d)));
    }
    f.push(("autorecorded", X::bool(c.autorecorded)));
    if let Some(a) = &c.access_code {
        f.push(("accessCode", X::text(a)));
    }
    if let Some(m) = &c.moderator_code {
        f.push(("moderatorCode", X::text(m)));
    }
    f.push(("maxMembers", X::int(c.max_members)));
    f.push(("playEntryToneEnabled", X::bool(true)));
    f.push(("playExitToneEnabled", X::bool(true)));
    xml_or_json("setting", &X::obj(f), v)
}

/// A `<setting>` PUT: only the fields present change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingUpdate {
    /// The room's name as the document gives it (it must be the room's).
    pub name: Option<String>,
    pub description: Option<String>,
    pub autorecorded: Option<bool>,
    pub access_code: Option<String>,
    pub moderator_code: Option<String>,
    pub max_members: Option<u32>,
}

pub fn parse_setting(body: &[u8]) -> Result<SettingUpdate, Failure> {
    let bad = |r: String| Failure::InvalidDocument(r);
    let fields: Vec<(String, String)> = if super::rest::looks_json(body) {
        let v: Value = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
        let o = v
            .get("setting")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("not a setting document".into()))?;
        o.iter()
            .map(|(k, v)| {
                let t = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), t)
            })
            .collect()
    } else {
        let root = crate::xml::parse_tree(body, "conference settings")
            .map_err(|_| bad("not a setting document".into()))?;
        let s = root
            .children
            .first()
            .filter(|n| n.name == "setting")
            .ok_or_else(|| bad("not a setting document".into()))?;
        s.children
            .iter()
            .map(|c| (c.name.clone(), c.text.clone()))
            .collect()
    };
    let mut u = SettingUpdate::default();
    let flag = |t: &str| t.trim() == "true";
    for (k, t) in fields {
        match k.as_str() {
            "description" => u.description = Some(t),
            "autorecorded" => u.autorecorded = Some(flag(&t)),
            "accessCode" => u.access_code = Some(t.trim().to_string()),
            "moderatorCode" => u.moderator_code = Some(t.trim().to_string()),
            "maxMembers" => {
                u.max_members = Some(
                    t.trim()
                        .parse()
                        .map_err(|_| bad(format!("maxMembers: {t}")))?,
                )
            }
            "name" => u.name = Some(t.trim().to_string()),
            // Rooms are always on and always sound their tones: only `true` is a value
            // Patchbay keeps.
            "enabled" | "playEntryToneEnabled" | "playExitToneEnabled" if flag(&t) => {}
            "enabled" | "playEntryToneEnabled" | "playExitToneEnabled" => {
                return Err(Failure::bad(
                    k.as_str(),
                    "Patchbay rooms cannot turn it off",
                ));
            }
            // sipX's other settings (video, quickstart, hold music, names played on entry)
            // have no counterpart in Patchbay's rooms: refused rather than dropped.
            other => return Err(bad(format!("no such field {other}"))),
        }
    }
    Ok(u)
}

/// One live member of a conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    pub name: String,
    pub uuid: String,
    pub energy: u16,
    pub muted: bool,
}

/// `/my/conferencedetails/{name}`.
pub fn render_details(c: &Conference, members: &[Member], v: Variant) -> Response {
    let mut f = vec![("extension", X::text(&c.extension))];
    if let Some(d) = &c.description {
        f.push(("description", X::text(d)));
    }
    f.push(("locked", X::bool(c.locked)));
    let ms = members
        .iter()
        .map(|m| {
            X::obj(vec![
                ("id", X::int(m.id)),
                ("name", X::text(&m.name)),
                ("uuid", X::text(&m.uuid)),
                ("volumeIn", X::int(0)),
                ("volumeOut", X::int(0)),
                ("energyLevel", X::int(u32::from(m.energy) * 100 / 32767)),
                ("canHear", X::bool(true)),
                ("canSpeak", X::bool(!m.muted)),
            ])
        })
        .collect();
    f.push(("members", X::list("member", ms)));
    xml_or_json("conference", &X::obj(f), v)
}

/// A conference command (`invite&<number>`, `inviteim&<id>`, ...) split on `&`.
pub fn command_args(command: &str) -> Vec<String> {
    command
        .split('&')
        .map(|a| {
            percent_encoding::percent_decode_str(a)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// `<command-response>Invitation sent</command-response>`, served as `text/plain`.
pub fn render_command_response(text: &str) -> Response {
    super::render_body(
        "text/plain; charset=ISO-8859-1",
        format!(
            "<command-response>{}</command-response>",
            super::xstream::xml_escape(text)
        ),
    )
}

/// A conference bridge's answer to a command, as sipX passes it on (`text/plain`).
pub fn render_text(text: &str) -> Response {
    super::render_body("text/plain; charset=ISO-8859-1", text.to_string())
}

/// One live call of `/my/activecdrs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCall {
    pub from: String,
    pub from_aor: String,
    pub to: String,
    pub to_aor: String,
    /// `INCOMING` or `OUTGOING` (for the user asking).
    pub direction: &'static str,
    pub internal: bool,
    pub start_ms: u64,
    pub duration_ms: u64,
}

pub fn render_active(calls: &[ActiveCall], v: Variant) -> Response {
    let items = calls
        .iter()
        .map(|c| {
            X::obj(vec![
                ("from", X::text(&c.from)),
                ("from-aor", X::text(&c.from_aor)),
                ("to", X::text(&c.to)),
                ("to-aor", X::text(&c.to_aor)),
                ("direction", X::text(c.direction)),
                ("internal", X::bool(c.internal)),
                ("type", X::text("Unknown")),
                ("start-time", X::int(c.start_ms)),
                ("duration", X::int(c.duration_ms)),
            ])
        })
        .collect();
    xml_or_json("cdrs", &X::list("cdr", items), v)
}

/// `/auto-attendant`: `(name, system id, special selected)`.
pub fn render_attendants(list: &[(String, String, bool)], v: Variant) -> Response {
    let items = list
        .iter()
        .map(|(name, id, sel)| {
            X::obj(vec![
                ("name", X::text(name)),
                ("systemId", X::text(id)),
                ("specialSelected", X::bool(*sel)),
            ])
        })
        .collect();
    xml_or_json("autoAttendants", &X::list("autoAttendant", items), v)
}

/// `/auto-attendant/specialmode` GET.
pub fn render_special_mode(on: bool, v: Variant) -> Response {
    xml_or_json(
        "specialAttendant",
        &X::obj(vec![("specialMode", X::bool(on))]),
        v,
    )
}

/// `/my/logindetails` (the SIP password is kept only as digests: never shown).
pub fn render_login_details(user: &str, v: Variant) -> Response {
    let doc = X::obj(vec![
        ("userName", X::text(user)),
        ("ldapImAuth", X::bool(false)),
    ]);
    xml_or_json("login-details", &doc, v)
}

/// A speed-dial button.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Button {
    pub label: String,
    pub number: String,
    #[serde(default)]
    pub blf: bool,
}

/// `/my/speeddial` GET (Jackson, served as `text/plain`).
pub fn render_speed_dial(buttons: &[Button], group: bool) -> Response {
    let b: Vec<String> = buttons
        .iter()
        .map(|b| {
            format!(
                "{{\"name\":{},\"number\":{},\"label\":{},\"blf\":{}}}",
                json_str(&format!("{}={}", b.label, b.number)),
                json_str(&b.number),
                json_str(&b.label),
                b.blf
            )
        })
        .collect();
    super::render_body(
        "text/plain; charset=ISO-8859-1",
        format!(
            "{{\"buttons\":[{}],\"groupSpeedDial\":{group},\"updatePhones\":null,\"canSubscribeToPresence\":true}}",
            b.join(",")
        ),
    )
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `/my/speeddial` PUT: the buttons and whether to follow the group's instead.
pub fn parse_speed_dial(body: &[u8]) -> Result<(Vec<Button>, bool), Failure> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| Failure::InvalidDocument(e.to_string()))?;
    let group = v
        .get("groupSpeedDial")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut out = Vec::new();
    for b in v
        .get("buttons")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (label, number) = (s("label"), s("number"));
        if number.is_empty()
            || number.len() > 64
            || label.len() > 64
            || !crate::vendors::native::valid_party(&number)
        {
            return Err(Failure::bad("number", format!("Invalid number {number}")));
        }
        out.push(Button {
            label,
            number,
            blf: b.get("blf").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    if out.len() > 100 {
        return Err(Failure::bad("buttons", "at most 100"));
    }
    Ok((out, group))
}

/// 4.2's `GET .../preferences/activegreeting`: XML (dom4j) or the bare value.
pub fn render_active_greeting(greeting: &str, v: Variant) -> Response {
    if v == Variant::Text {
        return super::render_body("text/plain; charset=ISO-8859-1", greeting.to_string());
    }
    super::render_body(
        "text/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><activegreeting>{greeting}</activegreeting>"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sipXconfig's fixtures conference.rest.test.json and specialMode.rest.test.xml.
    #[test]
    fn as_the_fixtures() {
        let c = Conference {
            name: "myConf".into(),
            description: Some("description".into()),
            extension: "22123".into(),
            access_code: Some("555".into()),
            ..Default::default()
        };
        let r = render_conferences(&[c], Variant::Json);
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            "{\"conferences\": [\n  {\n    \"enabled\": true,\n    \"name\": \"myConf\",\n    \"description\": \"description\",\n    \"extension\": \"22123\",\n    \"accessCode\": \"555\"\n  }\n]}"
        );
        let r = render_special_mode(true, Variant::Xml);
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            "<specialAttendant>\n  <specialMode>true</specialMode>\n</specialAttendant>"
        );
        assert_eq!(command_args("invite&4007"), ["invite", "4007"]);
        let (b, g) = parse_speed_dial(
            br#"{"buttons":[{"label":"Bob","number":"201","blf":true}],"groupSpeedDial":false}"#,
        )
        .unwrap();
        assert!(!g);
        assert_eq!(
            std::str::from_utf8(render_speed_dial(&b, false).body()).unwrap(),
            r#"{"buttons":[{"name":"Bob=201","number":"201","label":"Bob","blf":true}],"groupSpeedDial":false,"updatePhones":null,"canSubscribeToPresence":true}"#
        );
    }
}
