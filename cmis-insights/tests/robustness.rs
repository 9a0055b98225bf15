//! No input makes the crate panic: empty histories, NaN, infinities, negative numbers, zero
//! reach, instants at the ends of time, any zone.

use cmis_insights::synthetic::{SyntheticConfig, TimeEffect};
use cmis_insights::{
    Account, Metric, PostOutcome, Recommendation, Recommender, Slot, Window, Zone,
};
use proptest::prelude::*;
use time::OffsetDateTime;

const ZONES: [&str; 5] = [
    "Europe/Paris",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "UTC",
];

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        -1e6..1e6f64,
        0.0..1e4f64,
    ]
}

fn instant() -> impl Strategy<Value = OffsetDateTime> {
    let min = OffsetDateTime::from_unix_timestamp(-377_705_116_800)
        .unwrap()
        .unix_timestamp();
    let max = 253_402_300_799i64;
    prop_oneof![
        (min..=max),
        // Mostly a realistic stretch, so that histories are long enough to be fitted.
        (1_700_000_000i64..1_800_000_000),
        (1_700_000_000i64..1_800_000_000),
    ]
    .prop_map(|t| OffsetDateTime::from_unix_timestamp(t).unwrap())
}

fn post() -> impl Strategy<Value = PostOutcome> {
    (
        instant(),
        number(),
        proptest::option::of(number()),
        any::<bool>(),
        proptest::option::of("[A-Z]{0,2}"),
    )
        .prop_map(|(at, engagement, reach, matured, format)| {
            let mut p = PostOutcome::new(at, engagement).with_matured(matured);
            if let Some(r) = reach {
                p = p.with_reach(r);
            }
            if let Some(f) = format {
                p = p.with_format(f);
            }
            p
        })
}

fn exercise(recommender: &Recommender, account: &Account, posts: &[PostOutcome]) {
    let recommendation = recommender.recommend(account, posts);
    let _ = recommendation.to_string();
    let _ = recommender.suggest(account, &recommendation, 20);
    let backtest = recommender.backtest(account, posts);
    assert!(backtest.coverage.is_finite() && (0.0..=1.0).contains(&backtest.coverage));
    assert!(backtest.matured_posts + backtest.skipped_posts == posts.len());
    let ranked = recommender.rank(account, posts);
    assert!(!ranked.is_empty());
    for pair in ranked.windows(2) {
        assert!(pair[0].log_lift >= pair[1].log_lift);
        assert!(!pair[0].window.overlaps(pair[1].window));
    }
    for e in &ranked {
        assert!(e.log_lift.is_finite(), "{e:?}");
        assert!(
            e.log_interval.0 <= e.log_lift && e.log_lift <= e.log_interval.1,
            "{e:?}"
        );
        let _ = e.explanation();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_posts_never_panic(
        posts in proptest::collection::vec(post(), 0..80),
        zone in 0..ZONES.len(),
        engagement_only in any::<bool>(),
    ) {
        let account = Account::new("any", ZONES[zone]).unwrap();
        let metric = if engagement_only { Metric::Engagement } else { Metric::EngagementRate };
        let recommender = Recommender::builder()
            .metric(metric)
            .min_posts(5)
            .min_weeks(0)
            .min_train_posts(3)
            .resamples(50)
            .build()
            .unwrap();
        exercise(&recommender, &account, &posts);
        exercise(&Recommender::new(), &account, &posts);
    }

    #[test]
    fn next_start_lands_on_the_slot(slot in 0usize..168, after in 1_600_000_000i64..1_900_000_000, zone in 0..ZONES.len()) {
        let zone = Zone::named(ZONES[zone]).unwrap();
        let slot = Slot::new(slot).unwrap();
        let after = OffsetDateTime::from_unix_timestamp(after).unwrap();
        let next = zone.next_start(slot, after).unwrap();
        prop_assert!(next >= after);
        prop_assert!(next - after < time::Duration::days(15));
        prop_assert_eq!(zone.slot_of(next).unwrap(), slot);
        prop_assert_eq!(zone.to_local(next).unwrap().minute(), 0);
    }

    #[test]
    fn windows_hold_their_own_hours(start in 0usize..168, hours in 1u8..=24, probe in 0usize..168) {
        let w = Window::starting(Slot::new(start).unwrap(), hours).unwrap();
        let probe = Slot::new(probe).unwrap();
        prop_assert_eq!(w.contains(probe), w.slots().any(|s| s == probe));
        prop_assert_eq!(w.slots().count(), usize::from(hours));
    }
}

#[test]
fn degenerate_histories_are_answered() {
    let account = Account::new("flat", "UTC").unwrap();
    let recommender = Recommender::new();
    // Forty identical posts: no spread at all.
    let start = OffsetDateTime::from_unix_timestamp(1_760_000_000).unwrap();
    let same: Vec<PostOutcome> = (0..120)
        .map(|i| {
            PostOutcome::new(start + time::Duration::hours(i * 31), 10.0)
                .with_reach(1000.0)
                .with_matured(true)
        })
        .collect();
    exercise(&recommender, &account, &same);
    assert!(matches!(
        recommender.recommend(&account, &same),
        Recommendation::NoReliableTimeEffect(_)
    ));
    // All at one instant.
    let burst: Vec<PostOutcome> = (0..60)
        .map(|i| {
            PostOutcome::new(start, f64::from(i))
                .with_reach(100.0)
                .with_matured(true)
        })
        .collect();
    exercise(&recommender, &account, &burst);
    // Zero engagement everywhere, reach zero everywhere.
    let zeros: Vec<PostOutcome> = same
        .iter()
        .map(|p| {
            PostOutcome::new(p.published_at, 0.0)
                .with_reach(0.0)
                .with_matured(true)
        })
        .collect();
    exercise(&recommender, &account, &zeros);
    assert!(matches!(
        recommender.recommend(&account, &zeros),
        Recommendation::NotEnoughData(_)
    ));
    // Posts at the very end of time: the backtest's date arithmetic saturates.
    let end = OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap();
    let late: Vec<PostOutcome> = (0..40i32)
        .map(|i| {
            PostOutcome::new(
                end - time::Duration::hours(i64::from(i) * 5),
                10.0 + f64::from(i),
            )
            .with_reach(100.0)
            .with_matured(true)
        })
        .collect();
    let eager = Recommender::builder()
        .min_posts(5)
        .min_weeks(0)
        .min_train_posts(5)
        .build()
        .unwrap();
    exercise(&eager, &account, &late);
    exercise(&eager, &account, &late[..7]);
    // A synthetic account run through odd settings.
    let a = SyntheticConfig::new()
        .posts(80)
        .effect(TimeEffect::None)
        .account(3, 3);
    for hours in [1, 24] {
        let r = Recommender::builder()
            .window_hours(hours)
            .top_k(5)
            .build()
            .unwrap();
        exercise(&r, &a.account, &a.posts);
    }
    // A synthetic generator fed nonsense still gives usable accounts.
    let odd = SyntheticConfig::new()
        .posts(30)
        .noise(f64::NAN)
        .drift(-1.0)
        .posts_per_week(0.0)
        .account(1, 1);
    assert_eq!(odd.posts.len(), 30);
    assert!(
        odd.posts
            .iter()
            .all(|p| p.engagement.is_finite() || p.engagement.is_nan())
    );
}
