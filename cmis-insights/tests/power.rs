//! Where the figures in `tests/controls.rs` come from: the recommender's power on synthetic
//! accounts by effect size and history length, on seeds other than the controls' own.
//! Ignored by default (about a minute in debug builds); run it with
//! `cargo test -p cmis-insights --release --test power -- --ignored --nocapture`.

#![allow(clippy::print_stdout)] // The table is the point.

use cmis_insights::synthetic::{BestSlot, PlantedEffect, SyntheticConfig, TimeEffect};
use cmis_insights::{Recommendation, Recommender};

#[allow(clippy::cast_precision_loss)]
fn rates(config: &SyntheticConfig, seed: u64, accounts: usize) -> (f64, f64) {
    let recommender = Recommender::new();
    let (mut hits, mut claims) = (0usize, 0usize);
    for a in config.accounts(seed, accounts) {
        if let Some(best) = a.planted {
            let ranked = recommender.rank(&a.account, &a.posts);
            hits += usize::from(ranked.iter().take(3).any(|e| e.window.contains(best)));
        }
        let claimed = matches!(
            recommender.recommend(&a.account, &a.posts),
            Recommendation::Slots(_)
        );
        claims += usize::from(claimed);
    }
    (
        hits as f64 / accounts as f64,
        claims as f64 / accounts as f64,
    )
}

#[test]
#[ignore = "a table for people, about a minute in debug builds"]
fn power_table() {
    println!("best    lift  posts  seed  top3_hit_rate  claim_rate");
    for seed in [21u64, 22, 23] {
        for (best, name) in [
            (BestSlot::Posted, "posted "),
            (BestSlot::Daytime, "daytime"),
        ] {
            for lift in [0.3, 0.5, 1.0, 2.0] {
                for posts in [60, 150] {
                    let config = SyntheticConfig::new()
                        .posts(posts)
                        .effect(TimeEffect::Planted(
                            PlantedEffect::new().lift(lift).best(best),
                        ));
                    let (hit, claim) = rates(&config, seed, 200);
                    println!("{name} {lift:>5.1} {posts:>6} {seed:>5} {hit:>14.3} {claim:>11.3}");
                }
            }
        }
        for posts in [60, 150] {
            let config = SyntheticConfig::new().posts(posts).effect(TimeEffect::None);
            let (_, claim) = rates(&config, seed, 200);
            println!(
                "none      -   {posts:>6} {seed:>5} {:>14} {claim:>11.3}",
                "-"
            );
        }
    }
}
