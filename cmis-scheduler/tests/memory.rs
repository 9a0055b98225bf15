//! The store conformance suite's job cases on [`MemoryScheduleStore`], the store the scheduler's
//! own tests run on: it must keep the same state machine as the database backends, or those tests
//! prove nothing about them. (It keeps no credentials and no hash-chained trail, so the cases
//! about those, and about migrations, are for the database backends only.)

mod conformance;

use std::sync::{Arc, Mutex};

use cmis_scheduler::MemoryScheduleStore;
use conformance::{Harness, ManualClock};

#[derive(Default)]
struct Memory {
    last: Mutex<Option<Arc<MemoryScheduleStore>>>,
}

fn harness() -> Option<Memory> {
    Some(Memory::default())
}

impl Harness for Memory {
    type S = MemoryScheduleStore;

    async fn fresh(&self, clock: Arc<ManualClock>) -> Arc<MemoryScheduleStore> {
        let store = Arc::new(MemoryScheduleStore::with_clock(clock));
        *self.last.lock().unwrap() = Some(Arc::clone(&store));
        store
    }

    async fn reopen(&self, _clock: Arc<ManualClock>) -> Arc<MemoryScheduleStore> {
        // Nothing outlives a memory store: "the same database" is the same store.
        self.last.lock().unwrap().clone().unwrap()
    }
}

conformance_tests!(@jobs harness());
