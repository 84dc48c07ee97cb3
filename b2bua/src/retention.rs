//! Recording retention: a sweep every `retention_sweep_secs` deletes recordings older than
//! their tenant's `retention_days` (index entry first, then the file). Every node of a cluster
//! may sweep: a recording deleted by one is simply gone for the others.

use crate::shared::{Shared, now_ms};
use std::sync::Arc;
use std::time::Duration;

/// Recordings deleted per batch (a sweep runs batches until none is left).
const BATCH: u32 = 500;

pub(crate) async fn sweeper(sh: Arc<Shared>) {
    let every = Duration::from_secs(u64::from(sh.cfg.retention_sweep_secs.max(1)));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        sweep(&sh).await;
        // The durable event log keeps `event_retention_secs` of events.
        let keep = u64::from(sh.cfg.event_retention_secs) * 1000;
        if let Err(e) = sh.store.purge_events(now_ms().saturating_sub(keep)).await {
            tracing::warn!(error = %e, "old events not purged");
        }
        // Idempotency keys name their call for a day.
        if let Err(e) = sh
            .store
            .purge_request_keys(now_ms().saturating_sub(86_400_000))
            .await
        {
            tracing::warn!(error = %e, "old idempotency keys not purged");
        }
    }
}

/// One sweep; how many recordings it deleted.
pub(crate) async fn sweep(sh: &Shared) -> usize {
    let mut deleted = 0;
    loop {
        let expired = match sh.store.expired_recordings(now_ms(), BATCH).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "retention sweep: store unreadable");
                return deleted;
            }
        };
        let n = expired.len();
        for rec in expired {
            if let Ok(Some(r)) = sh.store.delete_recording(&rec.tenant, &rec.id).await {
                crate::api::recordings::remove_file(&r.path).await;
                sh.metrics.recordings_expired.inc();
                deleted += 1;
            }
        }
        if n < BATCH as usize {
            return deleted;
        }
    }
}
