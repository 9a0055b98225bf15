//! The generator users hold: validation, cache, router, post-processing and the cost ledger.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    CacheMode, ContentGenerator, Error, GenerateRequest, Generated, Provenance, Result, Usage,
};
use tokio::time::Instant;

use crate::cache::{CacheKey, CacheStore};
use crate::cost::{CostLedger, PriceTable};
use crate::limits::{Limits, PlatformRules};
use crate::postprocess::finish;
use crate::prompt::Prompt;
use crate::providers::Provider;
use crate::request::validate;
use crate::router::{Router, RouterConfig};

const FROM_PROVIDER: u8 = 1;
const FROM_STORE: u8 = 2;

/// The cmis-ai [`ContentGenerator`]: providers in order, then the offline generator, behind an
/// exact-match cache that coalesces concurrent identical requests, with every result
/// post-processed for its platform and priced in the [`CostLedger`].
///
/// Cheap to clone; clones share the cache, breakers and ledger.
///
/// With no provider it runs on the offline generator alone: deterministic copy from the brief,
/// no network and no key, and its provenance says so. Add providers with
/// [`AiGeneratorBuilder::provider`] (see the crate docs).
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
/// use cmis::ai::{AiGenerator, OFFLINE_PROVIDER};
/// use cmis::{ContentGenerator, GenerateRequest, GenerationTask, Platform, TenantId};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> cmis::Result<()> {
/// let generator = AiGenerator::builder().build()?;
/// let request = GenerateRequest::new(
///     TenantId::new("acme"),
///     GenerationTask::Caption,
///     Platform::TikTok,
///     "our autumn menu launches on Friday",
/// );
/// let first = generator.generate(&request).await?;
/// assert_eq!(first.provenance.provider, OFFLINE_PROVIDER);
/// assert!(!first.text.is_empty());
/// // The same request again is answered from the cache.
/// let again = generator.generate(&request).await?;
/// assert!(again.provenance.cached);
/// assert_eq!(again.text, first.text);
/// # Ok(()) }
/// ```
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
