//! The input model: an account and its posts' outcomes.

use time::OffsetDateTime;

use crate::error::Result;
use crate::zone::Zone;

/// An account, named by the caller, with the time zone its audience lives by.
///
/// The name is the caller's own key (a page id, a handle, a tenant and account pair); it is
/// also mixed into the seeds of the account's bootstrap and exploration, so two accounts with
/// the same posts do not draw the same random numbers.
///
/// ```
/// use cmis_insights::Account;
///
/// let account = Account::new("acme/instagram", "America/New_York")?;
/// assert_eq!(account.zone().name(), "America/New_York");
/// assert!(Account::new("acme/instagram", "Mars/Olympus_Mons").is_err());
/// # Ok::<(), cmis_insights::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    id: String,
    zone: Zone,
}

impl Account {
    /// An account called `id` in the IANA time zone `zone` (for example `Europe/Paris`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownTimeZone`](crate::ErrorKind::UnknownTimeZone) when the zone is not
    /// in the bundled database.
    pub fn new(id: impl Into<String>, zone: &str) -> Result<Self> {
        Ok(Self::with_zone(id, Zone::named(zone)?))
    }

    /// An account called `id` in a zone already looked up.
    pub fn with_zone(id: impl Into<String>, zone: Zone) -> Self {
        Self {
            id: id.into(),
            zone,
        }
    }

    /// The caller's name for the account.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The account's time zone.
    pub fn zone(&self) -> Zone {
        self.zone
    }
}

/// What one post achieved: when it went out, how many saw it, how many engaged.
///
/// Values that cannot be used (NaN, infinite, negative, a reach of zero when the recommender
/// divides by reach) are not errors: such a post is left out and counted in
/// [`Backtest::skipped_posts`](crate::Backtest::skipped_posts).
///
/// ```
/// use cmis_insights::PostOutcome;
/// use time::macros::datetime;
///
/// let post = PostOutcome::interactions(datetime!(2026-05-05 18:10 UTC), 120, 14, 9, 31)
///     .with_reach(4_200.0)
///     .with_format("REELS")
///     .with_matured(true);
/// assert_eq!(post.engagement, 174.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PostOutcome {
    /// When the post went out (any offset: only the instant matters).
    pub published_at: OffsetDateTime,
    /// The engagement: likes + comments + shares + saves, or any number of the caller's choice
    /// where more is better, measured the same way for every post of the account.
    pub engagement: f64,
    /// Reach or views, the denominator of the engagement rate; `None` when the platform gave
    /// none (TikTok's reach, a post too young for insights).
    pub reach: Option<f64>,
    /// Whether the numbers were collected at the fixed age the caller compares posts at
    /// (insights.md suggests 7 days; 24 hours for stories). Only matured posts are used: a
    /// young post has not finished accruing and would look worse than it is.
    pub matured: bool,
    /// The post's format (`FEED`, `REELS`, `STORY`, …), if the caller distinguishes them: each
    /// post is then compared with earlier posts of its own format.
    pub format: Option<String>,
}

impl PostOutcome {
    /// A post published at `published_at` with `engagement`, not yet matured, without reach.
    pub fn new(published_at: OffsetDateTime, engagement: f64) -> Self {
        Self {
            published_at,
            engagement,
            reach: None,
            matured: false,
            format: None,
        }
    }

    /// A post whose engagement is the sum of its interactions (the order does not matter).
    pub fn interactions(
        published_at: OffsetDateTime,
        likes: u64,
        comments: u64,
        shares: u64,
        saves: u64,
    ) -> Self {
        let sum = likes
            .saturating_add(comments)
            .saturating_add(shares)
            .saturating_add(saves);
        // Precision beyond 2^53 interactions is of no concern.
        #[allow(clippy::cast_precision_loss)]
        Self::new(published_at, sum as f64)
    }

    /// With `reach` (or views) as the denominator.
    pub fn with_reach(mut self, reach: f64) -> Self {
        self.reach = Some(reach);
        self
    }

    /// Marked matured (or not).
    pub fn with_matured(mut self, matured: bool) -> Self {
        self.matured = matured;
        self
    }

    /// With a format, so it is compared with earlier posts of the same format.
    pub fn with_format(mut self, format: impl Into<String>) -> Self {
        self.format = Some(format.into());
        self
    }
}
