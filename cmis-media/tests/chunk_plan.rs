//! Property tests of the chunk planner, for sizes from 1 byte to 4 GB.

use cmis_media::{ChunkPlan, ChunkRules};
use proptest::prelude::*;

const FOUR_GB: u64 = 4 * 1024 * 1024 * 1024;

fn check(plan: &ChunkPlan, size: u64) -> Result<(), TestCaseError> {
    let rules = ChunkRules::TIKTOK;
    let chunks: Vec<_> = plan.chunks().collect();
    prop_assert_eq!(chunks.len() as u64, plan.chunk_count());
    prop_assert!(plan.chunk_count() >= 1 && plan.chunk_count() <= rules.max_chunks);
    // Every byte exactly once, in order.
    let mut next = 0;
    for c in &chunks {
        prop_assert_eq!(c.offset, next);
        prop_assert!(c.len > 0);
        prop_assert_eq!(c.total, size);
        next += c.len;
    }
    prop_assert_eq!(next, size);
    if size < rules.min_chunk {
        prop_assert_eq!(plan.chunk_count(), 1);
        prop_assert_eq!(plan.chunk_size(), size);
    } else {
        // count = floor(size / chunk), every chunk but the last exactly chunk_size, in the window.
        prop_assert_eq!(plan.chunk_count(), size / plan.chunk_size());
        prop_assert!(plan.chunk_size() >= rules.min_chunk && plan.chunk_size() <= rules.max_chunk);
        for c in &chunks[..chunks.len() - 1] {
            prop_assert_eq!(c.len, plan.chunk_size());
        }
        let last = chunks.last().unwrap();
        prop_assert!(last.len >= plan.chunk_size() && last.len <= rules.max_last_chunk);
        prop_assert!(last.len < 2 * plan.chunk_size());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tiktok_plans_cover_every_byte_once_within_the_rules(size in 1u64..=FOUR_GB) {
        let plan = ChunkPlan::tiktok(size).unwrap();
        check(&plan, size)?;
    }

    #[test]
    fn explicit_chunk_sizes_either_fit_the_rules_or_are_refused(
        size in 1u64..=FOUR_GB,
        chunk in 1u64..=128_000_000,
    ) {
        match ChunkPlan::with_chunk_size(size, chunk) {
            Ok(plan) => check(&plan, size)?,
            Err(err) => {
                prop_assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
                let rules = ChunkRules::TIKTOK;
                prop_assert!(size >= rules.min_chunk);
                let in_window = chunk >= rules.min_chunk && chunk <= rules.max_chunk;
                prop_assert!(!in_window || size / chunk.min(size) > rules.max_chunks);
            }
        }
    }

    #[test]
    fn small_sizes_are_always_one_chunk(size in 1u64..(5 * 1024 * 1024)) {
        let plan = ChunkPlan::tiktok(size).unwrap();
        prop_assert_eq!(plan.chunk_count(), 1);
    }
}
