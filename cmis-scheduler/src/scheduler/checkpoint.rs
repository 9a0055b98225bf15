//! The checkpoint sink a connector writes to while the scheduler publishes a job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cmis_core::{Checkpoint, CheckpointSink, Result};

use crate::job::Lease;
use crate::store::ScheduleStore;

/// Stores a connector's checkpoints with its job, fenced on the job's lease: once the lease is
/// lost, saving fails and the connector stops before its next mutating call.
#[derive(Debug)]
pub struct JobCheckpointSink {
    store: Arc<dyn ScheduleStore>,
    lease: Lease,
    failed: AtomicBool,
    /// The last checkpoint handed over, while its save has failed (cleared by a later save).
    unsaved: Mutex<Option<Checkpoint>>,
}

impl JobCheckpointSink {
    /// A sink for the job held with `lease`.
    pub fn new(store: Arc<dyn ScheduleStore>, lease: Lease) -> Self {
        Self {
            store,
            lease,
            failed: AtomicBool::new(false),
            unsaved: Mutex::new(None),
        }
    }

    /// Whether a save failed (the scheduler then reconciles a failed publish instead of
    /// trusting its error: the connector may have stopped after a creating call).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// The last checkpoint the connector handed over, if saving it failed: the scheduler
    /// stores it with an unknown outcome, so that reconciliation reads where the call got to
    /// (TikTok's `initiating` before init: without it a lost init cannot be looked for).
    pub fn unsaved(&self) -> Option<Checkpoint> {
        self.unsaved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl CheckpointSink for JobCheckpointSink {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<()> {
        // A database blip must not cost the publish its checkpoint: the save is fenced and
        // idempotent, so it is tried again a few times, briefly, within the lease.
        let mut saved = self.store.save_checkpoint(&self.lease, checkpoint).await;
        let mut wait = std::time::Duration::from_millis(50);
        for _ in 0..4 {
            match &saved {
                // (A lost lease answers the same each time, at once: under a second's delay
                // before the connector stops.)
                Err(e) if e.kind() != cmis_core::ErrorKind::InvalidInput => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    saved = self.store.save_checkpoint(&self.lease, checkpoint).await;
                }
                _ => break,
            }
        }
        // A checkpoint refused for what it is (too large) is the connector's to report: the
        // save failed before anything was written, and the job fails rather than loops.
        let mut unsaved = self
            .unsaved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &saved {
            Err(e) if e.kind() != cmis_core::ErrorKind::InvalidInput => {
                self.failed.store(true, Ordering::Relaxed);
                *unsaved = Some(checkpoint.clone());
            }
            Err(_) => {}
            Ok(()) => *unsaved = None,
        }
        drop(unsaved);
        saved
    }
}
