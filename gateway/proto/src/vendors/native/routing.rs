//! `/api/v1/tenants/{tenant}/trunks|dialplan|dids|groups|conferences`: a tenant's trunks to
//! carriers, its dial plan, its inbound numbers, its ring groups and its dial-in conference
//! rooms. Parsing and validation; the B2BUA checks patterns and
//! destinations again where it applies them.

use super::settings::{SettingOp, json};
use crate::Failure;

/// A routing operation of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingOp {
    ListTrunks,
    GetTrunk(String),
    PutTrunk(Box<Trunk>),
    DeleteTrunk(String),
    GetDialplan,
    PutDialplan(Vec<DialRule>),
    ListDids,
    PutDid(Did),
    DeleteDid(String),
    ListGroups,
    GetGroup(String),
    PutGroup(Box<RingGroup>),
    DeleteGroup(String),
    ListRooms,
    GetRoom(String),
    PutRoom(Box<ConferenceRoom>),
    DeleteRoom(String),
    RoomMembers(String),
    /// The room calls `to` and joins it on answer.
    RoomInvite {
        room: String,
        to: String,
    },
    /// Hang up a member's call.
    RoomKick {
        room: String,
        call: String,
    },
    ListAttendants,
    GetAttendant(String),
    PutAttendant(Box<AutoAttendant>),
    DeleteAttendant(String),
    GetSpecialMode,
    PutSpecialMode(SpecialMode),
}
use patchbay_api::{
    AutoAttendant, ConferenceRoom, DialRule, Did, RingGroup, SpecialMode, Trunk, room_name_ok,
    trunk_name_ok,
};

impl RoutingOp {
    /// Whether it writes an object that can carry a CTI URL (DID, ring group, attendant).
    pub fn changes_cti_urls(&self) -> bool {
        matches!(
            self,
            RoutingOp::PutDid(_)
                | RoutingOp::DeleteDid(_)
                | RoutingOp::PutGroup(_)
                | RoutingOp::DeleteGroup(_)
                | RoutingOp::PutAttendant(_)
                | RoutingOp::DeleteAttendant(_)
        )
    }
}
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DidBody {
    destination: String,
    #[serde(default)]
    cti_url: Option<String>,
}

pub(super) fn parse(
    method: &str,
    segs: &[&str],
    body: &[u8],
) -> Result<Option<SettingOp>, Failure> {
    let name_ok = |n: &str| {
        if trunk_name_ok(n) {
            Ok(n.to_string())
        } else {
            Err(Failure::bad("name", "1-64 of a-z A-Z 0-9 - _ ."))
        }
    };
    let room_ok = |n: &str| {
        if room_name_ok(n) {
            Ok(n.to_string())
        } else {
            Err(Failure::bad(
                "name",
                "1-64 of letters, digits, '.', '_', '-'",
            ))
        }
    };
    let number_ok = |n: &str| {
        if patchbay_api::app_number_ok(n) {
            Ok(n.to_string())
        } else {
            Err(Failure::bad(
                "number",
                "1-32 digits, * or #, with an optional leading +",
            ))
        }
    };
    let op = match (method, segs) {
        ("GET", ["trunks"]) => RoutingOp::ListTrunks,
        ("GET", ["trunks", name]) => RoutingOp::GetTrunk(name_ok(name)?),
        ("PUT", ["trunks", name]) => {
            let mut t: Trunk = json(body)?;
            let name = name_ok(name)?;
            if !t.name.is_empty() && t.name != name {
                return Err(Failure::bad("name", "the body's name is the path's"));
            }
            t.name = name;
            t.check().map_err(|why| Failure::bad("trunk", why))?;
            RoutingOp::PutTrunk(Box::new(t))
        }
        ("DELETE", ["trunks", name]) => RoutingOp::DeleteTrunk(name_ok(name)?),
        ("GET", ["dialplan"]) => RoutingOp::GetDialplan,
        ("PUT", ["dialplan"]) => RoutingOp::PutDialplan(json::<Vec<DialRule>>(body)?),
        ("GET", ["dids"]) => RoutingOp::ListDids,
        ("PUT", ["dids", number]) => {
            let b: DidBody = json(body)?;
            let d = Did {
                number: number_ok(number)?,
                destination: b.destination,
                cti_url: b.cti_url,
            };
            d.check().map_err(|why| Failure::bad("cti_url", why))?;
            RoutingOp::PutDid(d)
        }
        ("DELETE", ["dids", number]) => RoutingOp::DeleteDid(number_ok(number)?),
        ("GET", ["groups"]) => RoutingOp::ListGroups,
        ("GET", ["groups", number]) => RoutingOp::GetGroup(number_ok(number)?),
        ("PUT", ["groups", number]) => {
            let mut g: RingGroup = json(body)?;
            let number = number_ok(number)?;
            if !g.number.is_empty() && g.number != number {
                return Err(Failure::bad("number", "the body's number is the path's"));
            }
            g.number = number;
            g.check().map_err(|why| Failure::bad("group", why))?;
            RoutingOp::PutGroup(Box::new(g))
        }
        ("DELETE", ["groups", number]) => RoutingOp::DeleteGroup(number_ok(number)?),
        ("GET", ["conferences"]) => RoutingOp::ListRooms,
        ("GET", ["conferences", name]) => RoutingOp::GetRoom(room_ok(name)?),
        ("GET", ["conferences", name, "members"]) => RoutingOp::RoomMembers(room_ok(name)?),
        ("PUT", ["conferences", name]) => {
            let mut r: ConferenceRoom = json(body)?;
            let name = room_ok(name)?;
            if !r.name.is_empty() && r.name != name {
                return Err(Failure::bad("name", "the body's name is the path's"));
            }
            r.name = name;
            r.check().map_err(|why| Failure::bad("conference", why))?;
            RoutingOp::PutRoom(Box::new(r))
        }
        ("DELETE", ["conferences", name]) => RoutingOp::DeleteRoom(room_ok(name)?),
        ("POST", ["conferences", name, "invite"]) => {
            let b: InviteBody = json(body)?;
            if !super::valid_party(&b.to) {
                return Err(Failure::bad("to", "an extension, number or sip: URI"));
            }
            RoutingOp::RoomInvite {
                room: room_ok(name)?,
                to: b.to,
            }
        }
        ("DELETE", ["conferences", name, "members", call]) => RoutingOp::RoomKick {
            room: room_ok(name)?,
            call: call.to_string(),
        },
        ("GET", ["auto-attendants"]) => RoutingOp::ListAttendants,
        ("GET", ["auto-attendants", "special-mode"]) => RoutingOp::GetSpecialMode,
        ("PUT", ["auto-attendants", "special-mode"]) => RoutingOp::PutSpecialMode(json(body)?),
        ("GET", ["auto-attendants", id]) => RoutingOp::GetAttendant(name_ok(id)?),
        ("PUT", ["auto-attendants", id]) => {
            let mut a: AutoAttendant = json(body)?;
            let id = name_ok(id)?;
            if !a.id.is_empty() && a.id != id {
                return Err(Failure::bad("id", "the body's id is the path's"));
            }
            a.id = id;
            a.check()
                .map_err(|why| Failure::bad("auto-attendant", why))?;
            RoutingOp::PutAttendant(Box::new(a))
        }
        ("DELETE", ["auto-attendants", id]) => RoutingOp::DeleteAttendant(name_ok(id)?),
        (_, ["auto-attendants", ..]) => return Err(Failure::MethodNotAllowed),
        (
            _,
            [
                "trunks" | "dialplan" | "dids" | "groups" | "conferences",
                ..,
            ],
        ) => {
            return Err(Failure::MethodNotAllowed);
        }
        _ => return super::queues::parse(method, segs, body),
    };
    Ok(Some(SettingOp::Routing(op)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let p = |m, segs: &[&str], body: &str| parse(m, segs, body.as_bytes());
        match p(
            "PUT",
            &["trunks", "carrier"],
            r#"{"host":"Sip.Carrier.example","port":5080,"username":"u","password":"p","register":true,"caller_id":"+6621234567","max_channels":4}"#,
        ) {
            Ok(Some(SettingOp::Routing(RoutingOp::PutTrunk(t)))) => {
                assert_eq!(
                    (t.name.as_str(), t.port, t.max_channels),
                    ("carrier", 5080, 4)
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(p("PUT", &["trunks", "c"], r#"{"host":"a b"}"#).is_err());
        assert!(p("PUT", &["trunks", "c"], r#"{"host":"h","register":true}"#).is_err());
        assert!(p("PUT", &["trunks", "c"], r#"{"host":"h","username":"u"}"#).is_err());
        assert!(
            p(
                "PUT",
                &["trunks", "c"],
                r#"{"host":"h","transport":"sctp"}"#
            )
            .is_err()
        );
        assert!(p("PUT", &["trunks", "c d"], r#"{"host":"h"}"#).is_err());
        assert!(p("PUT", &["trunks", "c"], r#"{"host":"h","name":"other"}"#).is_err());
        assert!(matches!(
            p(
                "PUT",
                &["dialplan"],
                r#"[{"pattern":"+66X.","strip":3,"prepend":"0","trunk":"carrier"},{"pattern":"112","refuse":true}]"#
            ),
            Ok(Some(SettingOp::Routing(RoutingOp::PutDialplan(r)))) if r.len() == 2 && r[1].refuse
        ));
        assert!(p("PUT", &["dialplan"], r#"[{"pattern":"1","x":1}]"#).is_err());
        assert_eq!(
            p("PUT", &["dids", "+6621234500"], r#"{"destination":"4005"}"#),
            Ok(Some(SettingOp::Routing(RoutingOp::PutDid(Did {
                number: "+6621234500".into(),
                destination: "4005".into(),
                cti_url: None,
            }))))
        );
        assert!(p("PUT", &["dids", "abc"], r#"{"destination":"4005"}"#).is_err());
        assert_eq!(p("POST", &["dids"], ""), Err(Failure::MethodNotAllowed));
        assert_eq!(p("GET", &["users"], ""), Ok(None));
    }
}
