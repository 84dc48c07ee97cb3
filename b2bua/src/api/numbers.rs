//! Who a tenant's number belongs to: a number is one thing's (a user, an application
//! number, a ring group, a conference room, an auto-attendant, a queue).

use crate::driver::Shared;
use patchbay_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owner {
    User,
    App,
    Group,
    Room(String),
    Attendant(String),
    Queue(String),
}

impl Owner {
    pub(super) fn describe(&self) -> String {
        match self {
            Owner::User => "a user's extension".into(),
            Owner::App => "an application number".into(),
            Owner::Group => "a ring group's number".into(),
            Owner::Room(n) => format!("conference room {n}'s extension"),
            Owner::Attendant(n) => format!("auto-attendant {n}'s number"),
            Owner::Queue(n) => format!("queue {n}'s number"),
        }
    }
}

/// Who `number` of `tenant` belongs to, if anyone.
pub(super) async fn owner(
    sh: &Shared,
    tenant: &str,
    number: &str,
) -> Result<Option<Owner>, StoreError> {
    if sh.store.user(tenant, number).await?.is_some() {
        return Ok(Some(Owner::User));
    }
    if sh.is_app_number(tenant, number).await == Some(true) {
        return Ok(Some(Owner::App));
    }
    if sh.ring_group(tenant, number).await?.is_some() {
        return Ok(Some(Owner::Group));
    }
    if let Some(r) = sh
        .conference_rooms(tenant)
        .await?
        .iter()
        .find(|r| r.extension == number)
    {
        return Ok(Some(Owner::Room(r.name.clone())));
    }
    let (attendants, _) = crate::driver::attendant::attendants(sh, tenant).await?;
    if let Some(a) = attendants.iter().find(|a| a.number == number) {
        return Ok(Some(Owner::Attendant(a.id.clone())));
    }
    let queues = crate::driver::queues::queues(sh, tenant).await?;
    if let Some(q) = queues.iter().find(|q| q.number == number) {
        return Ok(Some(Owner::Queue(q.name.clone())));
    }
    Ok(None)
}
