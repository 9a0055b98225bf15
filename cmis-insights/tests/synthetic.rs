//! The synthetic generator: seeded, documented, and true to its parameters.

use cmis_insights::synthetic::{BestSlot, PlantedEffect, SyntheticConfig, TimeEffect, ZONES};
use cmis_insights::{Slot, Zone};
use time::Weekday;

#[test]
fn accounts_are_reproducible_and_distinct() {
    let config = SyntheticConfig::new();
    assert_eq!(config.accounts(7, 5), config.accounts(7, 5));
    assert_ne!(config.account(7, 0), config.account(7, 1));
    assert_ne!(config.account(7, 0), config.account(8, 0));
    assert_eq!(config.account(7, 3).account.id(), "synthetic-7-3");
}

#[test]
fn posts_follow_the_documented_shape() {
    let config = SyntheticConfig::new().posts(70).posts_per_week(3.5);
    let mut daytime = 0;
    let mut total = 0;
    for a in config.accounts(1, 40) {
        assert!(ZONES.contains(&a.account.zone().name()));
        assert_eq!(a.posts.len(), 70);
        assert!(
            a.posts
                .windows(2)
                .all(|w| w[0].published_at <= w[1].published_at)
        );
        assert!(
            a.posts
                .iter()
                .all(|p| p.matured && p.engagement >= 0.0 && p.reach.unwrap() >= 1.0)
        );
        let span = a.posts.last().unwrap().published_at - a.posts[0].published_at;
        assert!((15..=20).contains(&span.whole_weeks()), "{span}");
        let zone: Zone = a.account.zone();
        for p in &a.posts {
            total += 1;
            daytime += usize::from((9..21).contains(&zone.slot_of(p.published_at).unwrap().hour()));
        }
    }
    // 09:00–20:59 weigh 12 of the 16.05 hour weights: about 75 % of posts.
    let share = daytime as f64 / total as f64;
    assert!((0.70..0.80).contains(&share), "{share}");
}

#[test]
fn the_planted_curve_peaks_where_it_says() {
    let best = Slot::at(Weekday::Thursday, 19).unwrap();
    let effect = PlantedEffect::new()
        .lift(0.5)
        .spread_hours(2.0)
        .other_days(0.5)
        .best(BestSlot::Fixed(best));
    let a = SyntheticConfig::new()
        .effect(TimeEffect::Planted(effect))
        .account(3, 0);
    assert_eq!(a.planted, Some(best));
    let curve = &a.curve;
    assert!((curve[best.index()] - 0.5).abs() < 1e-12);
    let top = (0..168)
        .max_by(|&i, &j| curve[i].total_cmp(&curve[j]))
        .unwrap();
    assert_eq!(top, best.index());
    // Half the log effect on other days at the same hour, less two hours away.
    let wednesday = Slot::at(Weekday::Wednesday, 19).unwrap().index();
    assert!((curve[wednesday] - (1.5f64.ln() * 0.5).exp_m1()).abs() < 1e-12);
    assert!(curve[best.index() - 2] < curve[best.index()] && curve[best.index() - 2] > 0.0);

    let none = SyntheticConfig::new()
        .effect(TimeEffect::None)
        .account(3, 0);
    assert!(none.planted.is_none() && none.curve.iter().all(|&c| c == 0.0));
}

#[test]
fn a_posted_best_slot_is_one_the_account_used() {
    let effect = TimeEffect::Planted(PlantedEffect::new().best(BestSlot::Posted));
    for a in SyntheticConfig::new()
        .posts(30)
        .effect(effect)
        .accounts(4, 30)
    {
        let best = a.planted.unwrap();
        assert!((9..22).contains(&best.hour()));
        let zone = a.account.zone();
        assert!(
            a.posts
                .iter()
                .any(|p| zone.slot_of(p.published_at).unwrap() == best)
        );
    }
}

#[test]
fn the_planted_effect_shows_in_the_numbers() {
    // Many posts, no noise: the posts in the best slot do about 1 + lift times as well.
    let best = Slot::at(Weekday::Tuesday, 12).unwrap();
    let effect = PlantedEffect::new().lift(1.0).best(BestSlot::Fixed(best));
    let a = SyntheticConfig::new()
        .posts(3000)
        .noise(0.0)
        .drift(0.0)
        .effect(TimeEffect::Planted(effect))
        .account(2, 0);
    let zone = a.account.zone();
    let rate = |p: &cmis_insights::PostOutcome| p.engagement / p.reach.unwrap();
    let (mut at_best, mut far) = (Vec::new(), Vec::new());
    for p in &a.posts {
        let slot = zone.slot_of(p.published_at).unwrap();
        if slot == best {
            at_best.push(rate(p));
        } else if slot.hour().abs_diff(12) >= 8 {
            far.push(rate(p));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let ratio = mean(&at_best) / mean(&far);
    assert!(
        (1.8..2.2).contains(&ratio),
        "{ratio} from {} and {} posts",
        at_best.len(),
        far.len()
    );
}
