//! The leader's chores: rescue expired leases, refresh expiring tokens, move finished jobs to
//! history. Any process may be the leader; the store elects one per database.

use std::sync::Arc;

use tokio::sync::watch;

use super::{MAINTENANCE_LEADER, Shared};

pub(super) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let every = shared.cfg.maintenance_interval;
    let ttl = every * 3;
    let mut last_sweep: Option<tokio::time::Instant> = None;
    let mut leading = false;
    loop {
        match shared
            .store
            .try_lead(MAINTENANCE_LEADER, &shared.worker_id, ttl)
            .await
        {
            Ok(now_leading) => {
                if now_leading != leading {
                    tracing::info!(worker = %shared.worker_id, leading = now_leading, "maintenance leadership changed");
                }
                leading = now_leading;
            }
            Err(e) => {
                tracing::warn!(error = %e, "leader election failed");
                leading = false;
            }
        }
        if leading {
            rescue(&shared).await;
            let due = last_sweep.is_none_or(|t| t.elapsed() >= shared.cfg.sweep_interval);
            // A sweep cut short (leadership lost, a store error) is not done: the next round
            // sweeps again, skipping what was refreshed meanwhile.
            if due && shared.refresher.is_some() && sweep(&shared).await {
                last_sweep = Some(tokio::time::Instant::now());
            }
            cleanup(&shared).await;
        }
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(every) => {}
        }
    }
    if leading {
        let _ = shared
            .store
            .resign(MAINTENANCE_LEADER, &shared.worker_id)
            .await;
    }
}

async fn rescue(shared: &Shared) {
    loop {
        match shared.store.rescue_expired(500).await {
            Ok(jobs) if jobs.is_empty() => return,
            Ok(jobs) => {
                tracing::info!(jobs = jobs.len(), "rescued jobs whose lease expired");
                if jobs.len() < 500 {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "rescuing expired leases failed");
                return;
            }
        }
    }
}

/// Refreshes every credential that expires within the window, single-flight with publishers,
/// except those issued within the last half sweep interval (refreshed by a sweep of another
/// leader or a previous, interrupted one, or by a publish): a new leader, a restart or a sweep
/// resumed after an interruption does not refresh (and rotate) every token again. Returns
/// whether the sweep went through every account.
pub(super) async fn sweep(shared: &Shared) -> bool {
    let Some(tokens) = &shared.refresher else {
        return true;
    };
    let horizon = shared.now() + shared.cfg.refresh_window;
    let accounts = match tokens.store().expiring_before(horizon).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "listing expiring credentials failed");
            return false;
        }
    };
    let fresh = shared.cfg.sweep_interval / 2;
    let ttl = shared.cfg.maintenance_interval * 3;
    for account in accounts {
        // A long sweep keeps its leadership, or stops: two leaders sweeping at once would
        // refresh (and rotate) the same tokens twice (review N10).
        match shared
            .store
            .try_lead(MAINTENANCE_LEADER, &shared.worker_id, ttl)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("maintenance leadership lost during the refresh sweep; stopping it");
                return false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "renewing leadership during the refresh sweep failed; stopping it");
                return false;
            }
        }
        if let Ok(Some(current)) = tokens.store().credential(&account).await
            && current
                .issued_at
                .is_some_and(|at| shared.now() - at < fresh)
        {
            continue;
        }
        // The provider notifies on failure (re-authorisation needed, or a failed refresh).
        // One refresh may outlast the leadership's TTL (OAuth calls may take minutes): the
        // leadership is renewed while it runs. The call itself is never cut short (a token
        // the server rotated could be lost); if the leadership is lost meanwhile, the sweep
        // stops after it.
        let refresh = tokens.refresh_if_expiring_within(&account, shared.cfg.refresh_window);
        tokio::pin!(refresh);
        let mut renew = tokio::time::interval(shared.cfg.maintenance_interval);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.reset();
        let mut kept = true;
        let refreshed = loop {
            tokio::select! {
                r = &mut refresh => break r,
                _ = renew.tick(), if kept => {
                    kept = matches!(
                        shared.store.try_lead(MAINTENANCE_LEADER, &shared.worker_id, ttl).await,
                        Ok(true)
                    );
                }
            }
        };
        let event = match refreshed {
            Ok(token) => crate::TokenEvent::Refreshed {
                account: account.clone(),
                expires_at: token.expires_at,
            },
            Err(e) => {
                tracing::warn!(%account, kind = %e.kind(), "token refresh sweep: refresh failed");
                crate::TokenEvent::RefreshFailed {
                    account: account.clone(),
                    kind: e.kind().as_str(),
                    message: e.to_string(),
                }
            }
        };
        let _ = shared.events.send(crate::Event::Token(event));
        if !kept {
            tracing::warn!("maintenance leadership lost during a refresh; stopping the sweep");
            return false;
        }
    }
    true
}

/// Jobs moved to history per statement.
const CLEANUP_BATCH: usize = 1_000;

/// Statements per maintenance round at most, so the leader renews its leadership in time.
const CLEANUP_BATCHES: usize = 20;

/// Moves finished jobs to history while batches come back full (review N15: one batch of 1 000
/// per round let a busy hot table grow without bound), at most [`CLEANUP_BATCHES`] per round.
async fn cleanup(shared: &Shared) {
    let before = shared.now() - shared.cfg.history_after;
    for _ in 0..CLEANUP_BATCHES {
        match shared.store.cleanup(before, CLEANUP_BATCH).await {
            Ok(n) if n < CLEANUP_BATCH as u64 => return,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "moving finished jobs to history failed");
                return;
            }
        }
    }
}
