//! The generator users hold: validation, cache, router, post-processing and the cost ledger.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    CacheMode, ContentGenerator, Error, GenerateRequest, Generated, GenerationTask, Provenance,
    Result, Usage,
};
use tokio::time::Instant;

use crate::cache::{CacheKey, CacheStore};
use crate::cost::{CostLedger, PriceTable};
use crate::limits::{Limits, PlatformRules};
use crate::postprocess::{fit_with_hashtags, normalize_hashtags};
use crate::prompt::{Draft, Prompt};
use crate::providers::Provider;
use crate::router::{Router, RouterConfig};

/// The longest brief accepted, in characters: a bound on what one request can cost.
pub const MAX_BRIEF_CHARS: usize = 10_000;
/// The most variants one request may ask for.
pub const MAX_VARIANTS: u32 = 10;

const FROM_PROVIDER: u8 = 1;
const FROM_STORE: u8 = 2;

/// The cmis-ai [`ContentGenerator`]: providers in order, then the offline generator, behind an
/// exact-match cache that coalesces concurrent identical requests, with every result
/// post-processed for its platform and priced in the [`CostLedger`].
///
/// Cheap to clone; clones share the cache, breakers and ledger.
#[derive(Clone)]
pub struct AiGenerator {
    inner: Arc<Inner>,
}

struct Inner {
    router: Router,
    limits: Limits,
    memory: moka::future::Cache<CacheKey, Generated>,
    store: Option<Arc<dyn CacheStore>>,
    prices: PriceTable,
    ledger: Arc<CostLedger>,
    model_group: String,
}

impl fmt::Debug for AiGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiGenerator")
            .field("router", &self.inner.router)
            .field("model_group", &self.inner.model_group)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AiGenerator`].
#[must_use]
pub struct AiGeneratorBuilder {
    providers: Vec<Arc<dyn Provider>>,
    router: RouterConfig,
    limits: Limits,
    capacity: u64,
    ttl: Duration,
    offline_ttl: Duration,
    store: Option<Arc<dyn CacheStore>>,
    prices: PriceTable,
    ledger: Option<Arc<CostLedger>>,
    model_group: String,
}

impl fmt::Debug for AiGeneratorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiGeneratorBuilder")
            .field("providers", &self.providers)
            .field("model_group", &self.model_group)
            .finish_non_exhaustive()
    }
}

impl AiGenerator {
    /// A builder with no providers (offline only), a 10 000-entry in-memory cache kept 24 h,
    /// default limits and router settings, and no prices.
    pub fn builder() -> AiGeneratorBuilder {
        AiGeneratorBuilder {
            providers: Vec::new(),
            router: RouterConfig::default(),
            limits: Limits::default(),
            capacity: 10_000,
            ttl: Duration::from_secs(24 * 3600),
            offline_ttl: Duration::from_secs(300),
            store: None,
            prices: PriceTable::new(),
            ledger: None,
            model_group: "default".to_owned(),
        }
    }

    /// The ledger of costs and savings.
    pub fn ledger(&self) -> &Arc<CostLedger> {
        &self.inner.ledger
    }

    /// The router (for its chain and cooldown state).
    pub fn router(&self) -> &Router {
        &self.inner.router
    }

    async fn produce(&self, request: &GenerateRequest, rules: PlatformRules) -> Result<Generated> {
        let started = Instant::now();
        let prompt = Prompt::render(request, rules);
        let routed = self.inner.router.complete(&prompt).await?;
        let completion = routed.completion;
        let (variants, hashtags) = finish(request.task, completion.drafts, &rules);
        let cost = if routed.provider == crate::OFFLINE_PROVIDER {
            Some(0.0)
        } else {
            self.inner.prices.cost(&completion.model, &completion.usage)
        };
        self.inner
            .ledger
            .record_call(&routed.provider, &completion.model, &completion.usage, cost);
        let mut provenance = Provenance::new(routed.provider, completion.model);
        provenance.attempts = routed.attempts;
        provenance.latency = started.elapsed();
        provenance.request_id = completion.request_id;
        provenance.usage = completion.usage;
        provenance.cost_usd = cost;
        let mut generated = Generated::new(
            variants.first().cloned().unwrap_or_default(),
            hashtags,
            provenance,
        );
        generated.variants = variants;
        Ok(generated)
    }

    async fn store_get(&self, key: &CacheKey) -> Option<Generated> {
        let store = self.inner.store.as_ref()?;
        match store.lookup(key).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "cache store lookup failed; treating as a miss");
                None
            }
        }
    }

    async fn store_put(&self, key: &CacheKey, value: &Generated) {
        if value.provenance.provider == crate::OFFLINE_PROVIDER {
            return;
        }
        if let Some(store) = &self.inner.store
            && let Err(error) = store.insert(key, value).await
        {
            tracing::warn!(%error, "cache store write failed");
        }
    }
}

impl AiGeneratorBuilder {
    /// Appends a provider to the chain (tried in the order added, the offline generator last).
    pub fn provider(mut self, provider: impl Provider + 'static) -> Self {
        self.providers.push(Arc::new(provider));
        self
    }

    /// Appends a shared provider to the chain.
    pub fn provider_arc(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Sets the router's failure handling.
    pub fn router_config(mut self, config: RouterConfig) -> Self {
        self.router = config;
        self
    }

    /// Sets the platform limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the in-memory cache's capacity in entries (default 10 000).
    pub fn cache_capacity(mut self, entries: u64) -> Self {
        self.capacity = entries;
        self
    }

    /// Sets how long an in-memory entry lives (default 24 h).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets how long an offline answer stays in memory (default 5 min): short, so that a
    /// provider that recovers from an outage is asked again soon. Offline answers are free and
    /// never written to the persistent store.
    pub fn offline_cache_ttl(mut self, ttl: Duration) -> Self {
        self.offline_ttl = ttl;
        self
    }

    /// Adds a persistent second-level cache.
    pub fn cache_store(mut self, store: Arc<dyn CacheStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Sets the prices.
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// Shares an existing ledger.
    pub fn ledger(mut self, ledger: Arc<CostLedger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Names the model group: the quality tier the cache key is scoped to (default `default`).
    /// Change it when the chain changes in a way that should not reuse old answers.
    pub fn model_group(mut self, group: impl Into<String>) -> Self {
        self.model_group = group.into();
        self
    }

    /// Builds the generator.
    pub fn build(self) -> Result<AiGenerator> {
        if self.model_group.trim().is_empty() {
            return Err(Error::invalid_input("the model group must not be empty"));
        }
        Ok(AiGenerator {
            inner: Arc::new(Inner {
                router: Router::new(self.providers, self.router),
                limits: self.limits,
                memory: moka::future::Cache::builder()
                    .max_capacity(self.capacity)
                    .expire_after(Expiry {
                        ttl: self.ttl,
                        offline_ttl: self.offline_ttl,
                    })
                    .build(),
                store: self.store,
                prices: self.prices,
                ledger: self.ledger.unwrap_or_default(),
                model_group: self.model_group,
            }),
        })
    }
}

/// Entries live `ttl`, offline answers only `offline_ttl`.
struct Expiry {
    ttl: Duration,
    offline_ttl: Duration,
}

impl moka::Expiry<CacheKey, Generated> for Expiry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Generated,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        if value.provenance.provider == crate::OFFLINE_PROVIDER {
            Some(self.offline_ttl)
        } else {
            Some(self.ttl)
        }
    }
}

/// Checks a request before anything is sent.
pub(crate) fn validate(request: &GenerateRequest) -> Result<()> {
    let brief = request.brief.trim();
    if !brief.chars().any(char::is_alphanumeric) {
        return Err(Error::invalid_input(
            "the brief is empty: give a topic or a text",
        ));
    }
    if brief.chars().count() > MAX_BRIEF_CHARS {
        return Err(Error::invalid_input(format!(
            "the brief is longer than {MAX_BRIEF_CHARS} characters"
        )));
    }
    if request.variants == 0 || request.variants > MAX_VARIANTS {
        return Err(Error::invalid_input(format!(
            "variants must be between 1 and {MAX_VARIANTS}, not {}",
            request.variants
        )));
    }
    if let Some(t) = request.temperature
        && !(t.is_finite() && (0.0..=2.0).contains(&t))
    {
        return Err(Error::invalid_input(format!(
            "temperature must be between 0 and 2, not {t}"
        )));
    }
    for (what, value) in [("tone", &request.tone), ("language", &request.language)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 64) {
            return Err(Error::invalid_input(format!(
                "the {what} is longer than 64 characters"
            )));
        }
    }
    Ok(())
}

/// Post-processes drafts for the platform: hashtags normalised and capped, captions fitted
/// together with their hashtag block.
pub(crate) fn finish(
    task: GenerationTask,
    drafts: Vec<Draft>,
    rules: &PlatformRules,
) -> (Vec<String>, Vec<String>) {
    let mut raw_tags = Vec::new();
    let mut texts = Vec::new();
    for draft in drafts {
        let (text, inline) = split_trailing_hashtags(&draft.text);
        raw_tags.extend(draft.hashtags);
        raw_tags.extend(inline);
        texts.push(text);
    }
    let mut hashtags = normalize_hashtags(raw_tags, rules.max_hashtags);
    if task == GenerationTask::Hashtags {
        let line = hashtags.join(" ");
        return (vec![line], hashtags);
    }
    let first = texts.first().cloned().unwrap_or_default();
    // Fitting drops hashtags that leave no room; every variant then shares the final set.
    let _ = fit_with_hashtags(&first, &mut hashtags, rules);
    let variants = texts
        .iter()
        .map(|t| fit_with_hashtags(t, &mut hashtags, rules))
        .collect();
    (variants, hashtags)
}

/// Moves hashtags a model appended to the end of a caption into the hashtag list.
fn split_trailing_hashtags(text: &str) -> (String, Vec<String>) {
    let mut cut = text.trim_end().len();
    let mut tags = Vec::new();
    loop {
        let head = text.get(..cut).unwrap_or_default().trim_end();
        let start = head.rfind(char::is_whitespace).map_or(0, |i| {
            i + head
                .get(i..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf8)
        });
        let token = head.get(start..).unwrap_or_default();
        if token.len() > 1 && token.starts_with('#') {
            tags.push(token.to_owned());
            cut = start;
            if start == 0 {
                break;
            }
        } else {
            cut = head.len();
            break;
        }
    }
    tags.reverse();
    (
        text.get(..cut).unwrap_or_default().trim_end().to_owned(),
        tags,
    )
}

/// Copies an error shared between coalesced waiters (the core `Error` is not `Clone`).
fn copy_error(error: &Error) -> Error {
    let mut copy = Error::new(error.kind(), error.message());
    if let Some(code) = error.platform_code() {
        copy = copy.with_platform_code(code);
    }
    if let Some(trace) = error.trace_id() {
        copy = copy.with_trace_id(trace);
    }
    if let Some(wait) = error.retry_after() {
        copy = copy.with_retry_after(wait);
    }
    copy
}

/// A cached answer as served: no tokens used now, no cost, no provider call.
fn as_hit(mut value: Generated, started: Instant) -> Generated {
    value.provenance.cached = true;
    value.provenance.attempts = 0;
    value.provenance.latency = started.elapsed();
    value.provenance.usage = Usage::default();
    value.provenance.cost_usd = Some(0.0);
    value
}

#[async_trait]
impl ContentGenerator for AiGenerator {
    #[tracing::instrument(skip_all, fields(platform = %request.platform, tenant = %request.tenant))]
    async fn generate(&self, request: &GenerateRequest) -> Result<Generated> {
        let started = Instant::now();
        validate(request)?;
        let rules = self.inner.limits.rules(request.platform)?;
        if request.cache == CacheMode::Bypass {
            return self.produce(request, rules).await;
        }
        let key = CacheKey::new(request, &self.inner.model_group, &rules);
        if request.cache == CacheMode::Refresh {
            let fresh = self.produce(request, rules).await?;
            self.inner.memory.insert(key.clone(), fresh.clone()).await;
            self.store_put(&key, &fresh).await;
            return Ok(fresh);
        }
        let source = AtomicU8::new(0);
        let value = self
            .inner
            .memory
            .try_get_with(key.clone(), async {
                if let Some(found) = self.store_get(&key).await {
                    source.store(FROM_STORE, Ordering::Relaxed);
                    return Ok(found);
                }
                let fresh = self.produce(request, rules).await?;
                source.store(FROM_PROVIDER, Ordering::Relaxed);
                self.store_put(&key, &fresh).await;
                Ok::<_, Error>(fresh)
            })
            .await
            .map_err(|shared| copy_error(&shared))?;
        if source.load(Ordering::Relaxed) == FROM_PROVIDER {
            return Ok(value);
        }
        // Served without paying: from memory, from the store, or by joining a caller's call.
        self.inner.ledger.record_hit(value.provenance.cost_usd);
        Ok(as_hit(value, started))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::LengthUnit;

    #[test]
    fn trailing_hashtags_move_to_the_list() {
        let (text, tags) = split_trailing_hashtags("Fresh bread today!\n\n#Bakery #fresh");
        assert_eq!(text, "Fresh bread today!");
        assert_eq!(tags, vec!["#Bakery", "#fresh"]);
        let (text, tags) = split_trailing_hashtags("We love #bread a lot");
        assert_eq!(text, "We love #bread a lot");
        assert!(tags.is_empty());
    }

    #[test]
    fn finish_caps_and_fits() {
        let rules = PlatformRules::new(60, LengthUnit::Chars, 2);
        let drafts = vec![Draft::new(
            "A very long caption about sourdough bread that keeps going on and on. #extra",
            vec!["sourdough".into(), "bread".into(), "more".into()],
        )];
        let (texts, tags) = finish(GenerationTask::Caption, drafts, &rules);
        assert_eq!(tags, vec!["#Sourdough", "#Bread"]);
        let first = texts.first().unwrap();
        let block = crate::postprocess::hashtag_block_len(&tags, LengthUnit::Chars);
        assert!(first.chars().count() + block <= 60, "{first}");
    }

    #[test]
    fn bad_requests_are_refused_before_any_call() {
        use cmis_core::{ErrorKind, Platform};
        let ok = GenerateRequest::new(
            cmis_core::TenantId::new("t"),
            GenerationTask::Caption,
            Platform::TikTok,
            "topic",
        );
        assert!(validate(&ok).is_ok());
        let cases = [
            GenerateRequest::new(
                cmis_core::TenantId::new("t"),
                GenerationTask::Caption,
                Platform::TikTok,
                "  !! ",
            ),
            ok.clone().with_temperature(f32::NAN),
            ok.clone().with_temperature(3.0),
            ok.with_variants(11),
            GenerateRequest::new(
                cmis_core::TenantId::new("t"),
                GenerationTask::Caption,
                Platform::TikTok,
                "x".repeat(10_001),
            ),
        ];
        for case in cases {
            assert_eq!(validate(&case).unwrap_err().kind(), ErrorKind::InvalidInput);
        }
    }
}
