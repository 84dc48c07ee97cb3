//! Calls nobody will end: those of a node that died (`kill -9`, a crash, a machine gone) or
//! of this node's run before a restart. Every node says it is alive every second and, each
//! time, ends the calls the live-call journal holds for runs that are gone (see
//! `patchbay_store::Journal`): one CDR each (cause `system`) and the `ended` event, written in
//! one transaction (another node doing the same finds them gone), then a BYE to every phone
//! the call's saved dialogs reach (through the SIP edge when it had a route set).

use crate::shared::{Shared, TaskDone, now_ms};
use patchbay_api::Cdr;
use patchbay_sip::dialog::SavedDialog;
use patchbay_store::{LiveCall, Orphan};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a node says it is alive and looks for orphans.
const BEAT: Duration = Duration::from_secs(1);

/// Orphans ended per beat (the rest on the next).
const PER_BEAT: u32 = 200;

/// A live call's journal entry: its CDR as it stands (cause `system`) and the dialogs of its
/// answered legs.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Journalled {
    pub cdr: Cdr,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dialogs: Vec<SavedDialog>,
}

impl Journalled {
    pub(crate) fn entry(self, start: u64) -> Option<LiveCall> {
        Some(LiveCall {
            call: self.cdr.call.clone(),
            tenant: self.cdr.tenant.clone(),
            start,
            body: serde_json::to_string(&self).ok()?,
        })
    }
}

pub(crate) async fn watch(sh: Arc<Shared>, done: mpsc::UnboundedSender<TaskDone>) {
    let mut tick = tokio::time::interval(BEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = now_ms();
        if let Err(e) = sh.store.node_alive(sh.cfg.node, sh.id_base, now).await {
            tracing::warn!(error = %e, "could not record this node alive");
            continue;
        }
        let silent_before = now.saturating_sub(sh.cfg.node_dead_after_ms);
        let orphans = match sh.store.orphaned_calls(silent_before, PER_BEAT).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "could not read orphaned calls");
                continue;
            }
        };
        for o in orphans {
            match end(&sh, &o).await {
                Ok(Some(dialogs)) => {
                    sh.metrics.calls_orphaned.inc();
                    sh.metrics.calls_ended.with_label_values(&["system"]).inc();
                    tracing::info!(call = %o.live.call, node = o.node, "ended a dead node's call");
                    let _ = done.send(TaskDone::EndOrphan(dialogs));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, call = %o.live.call, "orphan not ended"),
            }
        }
    }
}

/// End one orphan in the store; its dialogs to BYE, or `None` when another node was first.
async fn end(
    sh: &Shared,
    o: &Orphan,
) -> Result<Option<Vec<SavedDialog>>, patchbay_store::StoreError> {
    let journalled: Journalled =
        serde_json::from_str(&o.live.body).map_err(|_| patchbay_store::StoreError::Corrupt {
            column: "live_calls.body",
            value: o.live.call.0.clone(),
        })?;
    let events = sh.store.call_events(&o.live.call, 0).await?;
    let (cdr, ended) = patchbay_proto::orphan::end_of_orphan(journalled.cdr, &events, o.alive_ms);
    let ended = ended.map(|e| (o.live.tenant.clone(), e));
    let done = sh.store.end_orphan(sh.cfg.node, o, &cdr, ended).await?;
    Ok(done.then_some(journalled.dialogs))
}
