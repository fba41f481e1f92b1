//! The scheduler: closes tenders whose bid deadline has passed. Runs on an interval, reads the
//! time from the injected clock, and is idempotent (a tender already closed is left alone).
use crate::state::AppState;

/// One pass: closes every published tender whose deadline is at or before now. Returns how many
/// it closed.
pub async fn tick(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now();
    let mut closed = 0;
    for tender in state.store.tenders_due_for_closing(now).await? {
        // The closing entry (the bids that count) is logged with the tender's change.
        match crate::sealing::close_tender(state, tender).await {
            Ok(_) => closed += 1,
            // Someone else (another server) closed it first: fine.
            Err(crate::error::AppError::Conflict {
                code: "version_conflict",
                ..
            }) => {}
            Err(e) => return Err(anyhow::anyhow!("closing a tender: {e}")),
        }
    }
    Ok(closed)
}

pub async fn run(state: AppState) {
    let mut interval = tokio::time::interval(state.settings.scheduler_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match tick(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(closed = n, "closed tenders at their deadline"),
            Err(e) => tracing::error!(error = %e, "scheduler pass failed"),
        }
    }
}
