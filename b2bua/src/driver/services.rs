//! Numbers the B2BUA answers itself, and what it does there ([`Service`]): the voicemail
//! number and the agents' feature codes (for the tenant's own users), conference rooms'
//! extensions, auto-attendants' and queues' numbers (for anyone, a carrier's DID included).

use crate::shared::{Shared, TaskDone};
use patchbay_api::AgentState;
use patchbay_proto::{Input, Service};
use patchbay_store::StoreError;
use tokio::sync::mpsc::UnboundedSender;

/// Hand `inputs` to the core, in order (after the call they came with).
pub(crate) fn tell_core(done: &UnboundedSender<TaskDone>, inputs: Vec<Input>) {
    for i in inputs {
        let _ = done.send(TaskDone::Core(Box::new(i)));
    }
}

/// What the B2BUA does for a call to `number` of `tenant` from `user` (one of the tenant's
/// users; `None` for a carrier's caller). A feature code takes effect here: the store is
/// written, and `later` gets what the core must hear once the call is in (so the agent's
/// own call keeps its phone from ringing for a queue at once).
pub(crate) async fn service_for(
    sh: &Shared,
    later: &mut Vec<Input>,
    tenant: &str,
    user: Option<&str>,
    number: &str,
) -> Result<Option<Service>, StoreError> {
    if let Some(user) = user {
        if number == sh.cfg.voicemail_number {
            return Ok(Some(Service::VoicemailAccess(user.to_string())));
        }
        let codes = [
            (&sh.cfg.queue_login_number, AgentState::Available),
            (&sh.cfg.queue_logout_number, AgentState::LoggedOut),
            (&sh.cfg.queue_pause_number, AgentState::Paused),
        ];
        if let Some((_, state)) = codes.into_iter().find(|(c, _)| c.as_str() == number) {
            let (changed, text) = super::queues::agent_code(sh, tenant, user, state).await?;
            later.extend(changed.into_iter().map(|queue| Input::QueueAgent {
                tenant: tenant.to_string(),
                queue,
                agent: user.to_string(),
                state,
            }));
            return Ok(Some(Service::Notice(text)));
        }
    }
    if let Some(r) = sh
        .conference_rooms(tenant)
        .await?
        .iter()
        .find(|r| r.extension == number)
    {
        return Ok(Some(Service::Room(Box::new(r.clone()))));
    }
    if let Some(a) = super::attendant::attendant_for(sh, tenant, number).await? {
        return Ok(Some(Service::Attendant(Box::new(a))));
    }
    if let Some(e) = super::queues::entry_for(sh, tenant, number).await? {
        return Ok(Some(Service::Queue(Box::new(e))));
    }
    Ok(None)
}
