//! `/api/v1/tenants/{tenant}/trunks|dialplan|dids`, run through the B2BUA's control API (it
//! writes the store and applies the change at once). A trunk's password is never shown:
//! listings say `password_set`.

use crate::Gateway;
use patchbay_api::{CallId, OriginateRequest, Trunk};
use patchbay_gateway_proto::vendors::native::{RoutingOp, render_json};
use patchbay_gateway_proto::{Failure, Response};
use serde_json::json;

fn shown(t: &Trunk) -> serde_json::Value {
    let mut v = serde_json::to_value(t).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("password");
        o.insert("password_set".into(), json!(t.password.is_some()));
    }
    v
}

pub(super) async fn run(gw: &Gateway, tenant: &str, op: RoutingOp) -> Result<Response, Failure> {
    let b = &gw.b2bua;
    // The B2BUA checks what needs its state (patterns, trunk names, destinations): its 400
    // names the field the way the gateway's own checks do.
    let bad = |field: &'static str| move |e| gw.b2bua_bad("routing", field, e);
    let fail = |e| gw.b2bua_failure("routing", e);
    Ok(match op {
        RoutingOp::ListTrunks => {
            let v = b.trunks(tenant).await.map_err(fail)?;
            render_json(200, &v.iter().map(shown).collect::<Vec<_>>())
        }
        RoutingOp::GetTrunk(name) => {
            render_json(200, &shown(&b.trunk(tenant, &name).await.map_err(fail)?))
        }
        RoutingOp::PutTrunk(t) => {
            b.put_trunk(tenant, &t.name, &t)
                .await
                .map_err(bad("trunk"))?;
            render_json(200, &shown(&b.trunk(tenant, &t.name).await.map_err(fail)?))
        }
        RoutingOp::DeleteTrunk(name) => {
            b.delete_trunk(tenant, &name).await.map_err(fail)?;
            render_json(200, &json!({"deleted": name}))
        }
        RoutingOp::GetDialplan => render_json(200, &b.dialplan(tenant).await.map_err(fail)?),
        RoutingOp::PutDialplan(rules) => render_json(
            200,
            &b.set_dialplan(tenant, &rules)
                .await
                .map_err(bad("dialplan"))?,
        ),
        RoutingOp::ListDids => render_json(200, &b.dids(tenant).await.map_err(fail)?),
        RoutingOp::PutDid(d) => render_json(
            200,
            &b.put_did(tenant, &d).await.map_err(bad("destination"))?,
        ),
        RoutingOp::ListGroups => render_json(200, &b.ring_groups(tenant).await.map_err(fail)?),
        RoutingOp::GetGroup(number) => {
            render_json(200, &b.ring_group(tenant, &number).await.map_err(fail)?)
        }
        RoutingOp::PutGroup(g) => {
            b.put_ring_group(tenant, &g.number, &g)
                .await
                .map_err(bad("group"))?;
            render_json(200, &g)
        }
        RoutingOp::DeleteGroup(number) => {
            b.delete_ring_group(tenant, &number).await.map_err(fail)?;
            render_json(200, &json!({"deleted": number}))
        }
        RoutingOp::ListRooms => render_json(200, &b.conference_rooms(tenant).await.map_err(fail)?),
        RoutingOp::GetRoom(name) => {
            render_json(200, &b.conference_room(tenant, &name).await.map_err(fail)?)
        }
        RoutingOp::PutRoom(r) => {
            b.put_conference_room(tenant, &r.name, &r)
                .await
                .map_err(bad("conference"))?;
            render_json(200, &r)
        }
        RoutingOp::DeleteRoom(name) => {
            b.delete_conference_room(tenant, &name)
                .await
                .map_err(fail)?;
            render_json(200, &json!({"deleted": name}))
        }
        RoutingOp::RoomInvite { room, to } => {
            let r = b.conference_room(tenant, &room).await.map_err(fail)?;
            let req = OriginateRequest {
                tenant: tenant.to_string(),
                // What the invited phone shows: the room's extension.
                from: r.extension,
                to: vec![to],
                app: true,
                conference: Some(room),
                ..Default::default()
            };
            render_json(201, &b.originate(&req).await.map_err(bad("to"))?)
        }
        RoutingOp::RoomKick { room, call } => {
            let members = b.conference(tenant, &room).await.map_err(fail)?;
            if !members.iter().any(|m| m.call.0 == call) {
                return Err(Failure::NotFound(format!("{call} is not in {room}")));
            }
            b.hangup(&CallId(call.clone())).await.map_err(fail)?;
            render_json(200, &json!({"kicked": call}))
        }
        RoutingOp::ListAttendants => {
            render_json(200, &b.auto_attendants(tenant).await.map_err(fail)?)
        }
        RoutingOp::GetAttendant(id) => {
            render_json(200, &b.auto_attendant(tenant, &id).await.map_err(fail)?)
        }
        RoutingOp::PutAttendant(a) => {
            b.put_auto_attendant(tenant, &a.id, &a)
                .await
                .map_err(bad("auto-attendant"))?;
            render_json(200, &a)
        }
        RoutingOp::DeleteAttendant(id) => {
            b.delete_auto_attendant(tenant, &id).await.map_err(fail)?;
            render_json(200, &json!({"deleted": id}))
        }
        RoutingOp::GetSpecialMode => render_json(200, &b.special_mode(tenant).await.map_err(fail)?),
        RoutingOp::PutSpecialMode(mode) => render_json(
            200,
            &b.set_special_mode(tenant, &mode)
                .await
                .map_err(bad("special-mode"))?,
        ),
        RoutingOp::RoomMembers(name) => {
            render_json(200, &b.conference(tenant, &name).await.map_err(fail)?)
        }
        RoutingOp::DeleteDid(number) => {
            b.delete_did(tenant, &number).await.map_err(fail)?;
            render_json(200, &json!({"deleted": number}))
        }
    })
}
