//! The recommender's answers: not enough data (with what is missing), explanations in their
//! exact shape, "no reliable time effect", reproducibility, exploration and settings.

use cmis_insights::synthetic::{BestSlot, PlantedEffect, SyntheticConfig, TimeEffect};
use cmis_insights::{
    Account, ErrorKind, PostOutcome, Recommendation, Recommender, SlotPrior, Suggestion,
};
use time::Duration;
use time::macros::datetime;

fn strong_account() -> cmis_insights::synthetic::SyntheticAccount {
    // A long history with a large effect and little noise: the gate must open.
    SyntheticConfig::new()
        .posts(200)
        .noise(0.2)
        .effect(TimeEffect::Planted(
            PlantedEffect::new().lift(1.0).best(BestSlot::Posted),
        ))
        .account(5, 1)
}

fn advice_of(recommendation: Recommendation) -> cmis_insights::Advice {
    match recommendation {
        Recommendation::Slots(advice) => advice,
        other => panic!("expected slots, got {other}"),
    }
}

#[test]
fn not_enough_posts_says_how_many_more() {
    let recommender = Recommender::new();
    let account = Account::new("young", "Europe/Paris").unwrap();
    let start = datetime!(2026-01-05 17:00 UTC);
    let posts: Vec<PostOutcome> = (0..12)
        .map(|i| {
            PostOutcome::new(start + Duration::days(i * 7), 50.0)
                .with_reach(1000.0)
                .with_matured(true)
        })
        .collect();
    let Recommendation::NotEnoughData(needed) = recommender.recommend(&account, &posts) else {
        panic!("12 posts are not enough");
    };
    assert_eq!(needed.matured_posts, 12);
    assert_eq!(needed.more_posts(), 18);
    assert_eq!(needed.more_weeks(), 0, "11 weeks is long enough");
    assert!(
        needed.to_string().contains("needs 18 more posts"),
        "{needed}"
    );

    // Young posts do not count, and neither do posts whose numbers are unusable.
    let mut more = posts;
    more.extend(
        (0..10).map(|i| PostOutcome::new(start + Duration::hours(i), 5.0).with_reach(100.0)),
    );
    more.push(
        PostOutcome::new(start, f64::NAN)
            .with_reach(10.0)
            .with_matured(true),
    );
    let Recommendation::NotEnoughData(needed) = recommender.recommend(&account, &more) else {
        panic!("still 12 matured posts");
    };
    assert_eq!(needed.more_posts(), 18);

    // 40 posts in three weeks: enough posts, too short a history.
    let burst: Vec<PostOutcome> = (0..40)
        .map(|i| {
            PostOutcome::new(start + Duration::hours(i * 13), 50.0)
                .with_reach(1000.0)
                .with_matured(true)
        })
        .collect();
    let Recommendation::NotEnoughData(needed) = recommender.recommend(&account, &burst) else {
        panic!("three weeks are not enough");
    };
    assert_eq!(
        (
            needed.more_posts(),
            needed.weeks_covered,
            needed.more_weeks()
        ),
        (0, 3, 5)
    );

    // Nothing at all.
    let Recommendation::NotEnoughData(needed) = recommender.recommend(&account, &[]) else {
        panic!("no posts");
    };
    assert_eq!((needed.more_posts(), needed.more_weeks()), (30, 8));
}

/// Splits `Tuesday 18:00: +12 % [+4 %, +20 %] over your usual, from 31 posts` into its parts,
/// or fails the test.
fn parse_explanation(line: &str) -> (String, i64, i64, i64, usize) {
    let (when, rest) = line.split_once(": ").expect("`<slot>: ` first");
    let (day, clock) = when.split_once(' ').expect("`<weekday> <HH>:00`");
    assert!(
        [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday"
        ]
        .contains(&day),
        "{line}"
    );
    assert!(clock.len() == 5 && clock.ends_with(":00"), "{line}");
    assert!(clock[..2].parse::<u8>().unwrap() < 24, "{line}");
    let percent = |s: &str| -> i64 {
        let s = s
            .strip_suffix(" %")
            .unwrap_or_else(|| panic!("`{s}` ends in ` %`: {line}"));
        assert!(s.starts_with('+') || s.starts_with('-'), "signed: {line}");
        s.parse().unwrap()
    };
    let (lift, rest) = rest.split_once(" [").expect("` [` after the lift");
    let (low, rest) = rest.split_once(", ").expect("`, ` between the bounds");
    let (high, rest) = rest
        .split_once("] over your usual, from ")
        .expect("the fixed middle");
    let (posts, noun) = rest.split_once(' ').expect("`<n> posts`");
    let posts: usize = posts.parse().unwrap();
    assert_eq!(noun, if posts == 1 { "post" } else { "posts" }, "{line}");
    (
        when.to_owned(),
        percent(lift),
        percent(low),
        percent(high),
        posts,
    )
}

#[test]
fn explanations_have_the_agreed_shape() {
    let a = strong_account();
    let advice = advice_of(Recommender::new().recommend(&a.account, &a.posts));
    assert!(!advice.slots.is_empty() && advice.slots.len() <= 3);
    for (estimate, line) in advice.slots.iter().zip(advice.explanations()) {
        let (when, lift, low, high, posts) = parse_explanation(&line);
        assert_eq!(when, estimate.window.start().to_string());
        assert!(low <= lift && lift <= high, "{line}");
        assert!(lift > 0, "a recommended window beats the usual: {line}");
        let shown = (estimate.lift() * 100.0).round();
        assert!(
            (shown - f64::from(i32::try_from(lift).unwrap())).abs() < 0.5,
            "{line}"
        );
        assert_eq!(posts, estimate.posts, "{line}");
    }
    // The parser itself accepts the example from the brief and refuses near misses.
    let example = "Tuesday 18:00: +12 % [+4 %, +20 %] over your usual, from 31 posts";
    assert_eq!(
        parse_explanation(example),
        ("Tuesday 18:00".to_owned(), 12, 4, 20, 31)
    );
    for bad in [
        "Tuesday 18:00: 12 % [+4 %, +20 %] over your usual, from 31 posts",
        "Tuesday 18:00: +12% [+4 %, +20 %] over your usual, from 31 posts",
        "Tuesday 18:00: +12 % [+4 %, +20 %] over usual, from 31 posts",
        "Tuesday 18:00: +12 % [+4 %, +20 %] over your usual, from 1 posts",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_explanation(bad)).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_planted_slot_is_recommended_with_a_reliable_backtest() {
    let a = strong_account();
    let advice = advice_of(Recommender::new().recommend(&a.account, &a.posts));
    let best = a.planted.unwrap();
    assert!(
        advice.slots.iter().any(|s| s.window.contains(best)),
        "{best}: {:?}",
        advice.explanations()
    );
    let backtest = &advice.backtest;
    assert!(backtest.is_reliable());
    let (low, high) = backtest.interval.unwrap();
    assert!(
        0.0 < low && low <= backtest.lift.unwrap() && backtest.lift.unwrap() <= high,
        "{backtest}"
    );
    // Time order: origins 28 days apart (or a multiple, over a gap), each training on at least
    // the posts the one before did.
    for pair in backtest.origins.windows(2) {
        let apart = pair[1].at - pair[0].at;
        assert!(
            apart >= Duration::days(28) && apart.whole_days() % 28 == 0,
            "{apart}"
        );
        assert!(pair[1].train_posts >= pair[0].train_posts);
    }
}

#[test]
fn no_time_effect_gets_no_time() {
    // About one account in 40 passes a 95 % gate by chance: the rate is the negative control's
    // job (tests/controls.rs). Here each refusal carries its backtest, and most are refused:
    // these 20 happen to include 3 chance passes (over 2 000 such accounts the rate was 2.2 %).
    let accounts = SyntheticConfig::new()
        .posts(150)
        .effect(TimeEffect::None)
        .accounts(5, 20);
    let mut refused = 0;
    for a in &accounts {
        if let Recommendation::NoReliableTimeEffect(backtest) =
            Recommender::new().recommend(&a.account, &a.posts)
        {
            refused += 1;
            assert!(!backtest.is_reliable());
            assert!(backtest.origins.len() >= 5, "{backtest}");
            assert!(backtest.held_out_posts > 50, "{backtest}");
            assert!(
                backtest.to_string().contains("held-out posts"),
                "{backtest}"
            );
        }
    }
    assert!(refused >= 15, "{refused} of 20 refused");
}

#[test]
fn the_backtest_never_trains_on_the_future() {
    let a = strong_account();
    let recommender = Recommender::new();
    let before = recommender.backtest(&a.account, &a.posts);
    let last = before.origins.last().unwrap().at;
    // Posts after the last origin are held out only: changing them may change the lift, never
    // what any origin recommended.
    let mut changed = a.posts.clone();
    for p in changed.iter_mut().filter(|p| p.published_at >= last) {
        p.engagement *= 10.0;
    }
    let after = recommender.backtest(&a.account, &changed);
    assert_eq!(before.origins.len(), after.origins.len());
    for (b, a) in before.origins.iter().zip(&after.origins) {
        assert_eq!(b.recommended, a.recommended);
        assert_eq!(b.train_posts, a.train_posts);
    }
    assert_ne!(before.lift, after.lift);
}

#[test]
fn answers_are_reproducible_and_seeded() {
    let a = strong_account();
    let one = Recommender::new().recommend(&a.account, &a.posts);
    assert_eq!(one, Recommender::new().recommend(&a.account, &a.posts));
    let b1 = Recommender::builder()
        .seed(1)
        .build()
        .unwrap()
        .backtest(&a.account, &a.posts);
    let b2 = Recommender::builder()
        .seed(2)
        .build()
        .unwrap()
        .backtest(&a.account, &a.posts);
    assert_eq!(b1.lift, b2.lift, "the lift does not depend on the seed");
    assert_ne!(b1.interval, b2.interval, "its bootstrap interval does");
}

#[test]
fn a_share_of_suggestions_explores() {
    let a = strong_account();
    let recommender = Recommender::new();
    let recommendation = recommender.recommend(&a.account, &a.posts);
    let advice = advice_of(recommendation.clone());
    let suggestions = recommender.suggest(&a.account, &recommendation, 2000);
    assert_eq!(suggestions.len(), 2000);
    assert_eq!(
        suggestions,
        recommender.suggest(&a.account, &recommendation, 2000)
    );
    let explore: Vec<_> = suggestions
        .iter()
        .filter_map(|s| match s {
            Suggestion::Explore(w) => Some(*w),
            _ => None,
        })
        .collect();
    // 10 % by default: 200 expected, binomial standard deviation about 13.
    assert!(
        (150..=250).contains(&explore.len()),
        "{} explore",
        explore.len()
    );
    for w in &explore {
        assert!(!advice.slots.iter().any(|s| s.window.overlaps(*w)), "{w}");
        assert!((7..23).contains(&w.start().hour()), "{w}");
    }
    let exploit: Vec<_> = suggestions
        .iter()
        .filter(|s| matches!(s, Suggestion::Recommended(_)))
        .collect();
    assert!(
        exploit
            .iter()
            .all(|s| advice.slots.iter().any(|e| e.window == s.window()))
    );

    for (share, want) in [(0.0, 0), (1.0, 2000)] {
        let r = Recommender::builder().explore_share(share).build().unwrap();
        let n = r
            .suggest(&a.account, &recommendation, 2000)
            .iter()
            .filter(|s| matches!(s, Suggestion::Explore(_)))
            .count();
        assert_eq!(n, want, "share {share}");
    }
    // Nothing to exploit, nothing suggested.
    let none = SyntheticConfig::new().posts(10).account(5, 3);
    let r = recommender.recommend(&none.account, &none.posts);
    assert!(recommender.suggest(&none.account, &r, 10).is_empty());
}

#[test]
fn settings_out_of_range_are_refused() {
    let cases: Vec<(&str, cmis_insights::RecommenderBuilder)> = vec![
        ("window_hours", Recommender::builder().window_hours(5)),
        ("window_hours", Recommender::builder().window_hours(0)),
        ("top_k", Recommender::builder().top_k(0)),
        ("explore_share", Recommender::builder().explore_share(1.5)),
        (
            "explore_share",
            Recommender::builder().explore_share(f64::NAN),
        ),
        ("confidence", Recommender::builder().confidence(1.0)),
        (
            "slot_confidence",
            Recommender::builder().slot_confidence(0.2),
        ),
        ("min_spread", Recommender::builder().min_spread(-1.0)),
        ("explore_hours", Recommender::builder().explore_hours(20, 8)),
        (
            "origin_step",
            Recommender::builder().origin_step(Duration::hours(1)),
        ),
        (
            "min_baseline_posts",
            Recommender::builder().min_baseline_posts(50),
        ),
        ("resamples", Recommender::builder().resamples(0)),
    ];
    for (name, builder) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSetting);
        assert!(err.to_string().contains(name), "{err}");
    }
    assert!(SlotPrior::from_lifts(&[0.0; 10]).is_err());
    assert!(SlotPrior::from_lifts(&[-1.0; 168]).is_err());
    assert!(SlotPrior::from_lifts(&[0.1; 168]).is_ok());
}

#[test]
fn a_prior_decides_where_there_are_no_posts() {
    // Every slot +0 % except Wednesday 12:00–16:00, +30 %: with posts nowhere near it, the
    // ranking still puts it first, as the prior says.
    let lifts: Vec<f64> = cmis_insights::Slot::all()
        .map(|s| {
            if s.weekday() == time::Weekday::Wednesday && (12..16).contains(&s.hour()) {
                0.3
            } else {
                0.0
            }
        })
        .collect();
    let recommender = Recommender::builder()
        .prior(SlotPrior::from_lifts(&lifts).unwrap())
        .build()
        .unwrap();
    let a = SyntheticConfig::new()
        .posts(40)
        .effect(TimeEffect::None)
        .account(9, 0);
    let ranked = recommender.rank(&a.account, &a.posts);
    let top = ranked[0];
    assert_eq!(top.window.start().to_string(), "Wednesday 12:00", "{top}");
}
