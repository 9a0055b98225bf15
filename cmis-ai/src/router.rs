//! The fallback router: an ordered chain of providers, each behind a circuit breaker, ending in
//! the offline generator, with the one retry loop of the crate.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Result, RetryPolicy};
use tokio::time::Instant;

use crate::breaker::Breaker;
use crate::failure::{FailureClass, ProviderError};
use crate::offline::OfflineGenerator;
use crate::prompt::{Completion, Prompt};
use crate::providers::Provider;

/// How the router reacts to failures.
///
/// Defaults follow LiteLLM (3 failures → 5 s cooldown) and timbal (Retry-After capped at 30 s),
/// as collected in `docs/ai-providers.md` §2.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouterConfig {
    /// Consecutive outage-like failures (rate limit, overload, timeout, 5xx) that open a
    /// provider's breaker (default 3).
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls (default 5 s).
    pub cooldown: Duration,
    /// How long a provider is skipped after a quota, billing, auth or unknown-model failure
    /// (default 1 h).
    pub long_cooldown: Duration,
    /// The longest Retry-After the router waits for in-process (default 30 s); a longer one
    /// moves on at once and cools the provider down for the time asked.
    pub max_retry_after: Duration,
    /// Calls to one provider per request when no other provider can answer (default 2).
    pub attempts_per_provider: u32,
    /// Backoff between those calls when the provider gave no Retry-After.
    pub backoff: RetryPolicy,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            cooldown: Duration::from_secs(5),
            long_cooldown: Duration::from_secs(3600),
            max_retry_after: Duration::from_secs(30),
            attempts_per_provider: 2,
            backoff: RetryPolicy::default()
                .with_base(Duration::from_millis(500))
                .with_cap(Duration::from_secs(8)),
        }
    }
}

impl RouterConfig {
    /// Sets the failure threshold.
    #[must_use]
    pub fn with_failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n.max(1);
        self
    }

    /// Sets the breaker cooldown.
    #[must_use]
    pub fn with_cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// Sets the long cooldown.
    #[must_use]
    pub fn with_long_cooldown(mut self, d: Duration) -> Self {
        self.long_cooldown = d;
        self
    }

    /// Sets the Retry-After cap.
    #[must_use]
    pub fn with_max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Sets the calls per provider when nobody else can answer (at least 1).
    #[must_use]
    pub fn with_attempts_per_provider(mut self, n: u32) -> Self {
        self.attempts_per_provider = n.max(1);
        self
    }
}

struct Link {
    provider: Arc<dyn Provider>,
    breaker: Breaker,
}

/// An answer and who gave it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Routed {
    /// The answer.
    pub completion: Completion,
    /// The provider that answered.
    pub provider: String,
    /// Provider calls made, failed ones included.
    pub attempts: u32,
}

/// Tries providers in order; see [`FailureClass`] for the action taken on each failure. The
/// offline generator is always the last link, so only an invalid request (or invalid input)
/// ends in an error.
pub struct Router {
    links: Vec<Link>,
    offline: Arc<dyn Provider>,
    config: RouterConfig,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chain: Vec<String> = self
            .links
            .iter()
            .map(|l| format!("{}:{}", l.provider.name(), l.provider.model()))
            .collect();
        f.debug_struct("Router")
            .field("chain", &chain)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router over `providers` in order, then the offline generator.
    pub fn new(providers: Vec<Arc<dyn Provider>>, config: RouterConfig) -> Self {
        let links = providers
            .into_iter()
            .filter(|p| !p.is_offline())
            .map(|provider| Link {
                provider,
                breaker: Breaker::new(config.failure_threshold, config.cooldown),
            })
            .collect();
        Self {
            links,
            offline: Arc::new(OfflineGenerator::new()),
            config,
        }
    }

    /// Whether `name`'s breaker refuses calls now.
    pub fn is_cooling_down(&self, name: &str) -> bool {
        let now = Instant::now();
        self.links
            .iter()
            .any(|l| l.provider.name() == name && l.breaker.is_open(now))
    }

    /// The names of the chain, offline last.
    pub fn chain(&self) -> Vec<String> {
        self.links
            .iter()
            .map(|l| l.provider.name().to_owned())
            .chain([self.offline.name().to_owned()])
            .collect()
    }

    /// Answers `prompt` with the first provider that can.
    #[tracing::instrument(skip_all, fields(platform = %prompt.request.platform))]
    pub async fn complete(&self, prompt: &Prompt) -> Result<Routed> {
        let mut attempts = 0u32;
        for (index, link) in self.links.iter().enumerate() {
            if link.breaker.is_open(Instant::now()) {
                tracing::debug!(provider = link.provider.name(), "skipped: cooling down");
                continue;
            }
            let mut tries = 0u32;
            loop {
                tries += 1;
                attempts += 1;
                let error = match link.provider.complete(prompt).await {
                    Ok(completion) => {
                        link.breaker.record_success();
                        return Ok(Routed {
                            completion,
                            provider: link.provider.name().to_owned(),
                            attempts,
                        });
                    }
                    Err(error) => error,
                };
                tracing::warn!(
                    provider = link.provider.name(),
                    class = %error.class(),
                    error = %error.error(),
                    "provider call failed"
                );
                match self.after_failure(index, link, tries, &error) {
                    Next::Retry(wait) => tokio::time::sleep(wait).await,
                    Next::FailOver => break,
                    Next::Stop => return Err(error.into_error()),
                }
            }
        }
        attempts += 1;
        match self.offline.complete(prompt).await {
            Ok(completion) => Ok(Routed {
                completion,
                provider: self.offline.name().to_owned(),
                attempts,
            }),
            Err(error) => Err(error.into_error()),
        }
    }

    fn after_failure(&self, index: usize, link: &Link, tries: u32, error: &ProviderError) -> Next {
        let class = error.class();
        if !class.fails_over() {
            return Next::Stop;
        }
        let now = Instant::now();
        if class.long_cooldown() {
            link.breaker.open_for(now, self.config.long_cooldown);
            return Next::FailOver;
        }
        if class.counts_as_outage() {
            link.breaker.record_failure(now);
        }
        let someone_else = self
            .links
            .iter()
            .skip(index + 1)
            .any(|l| !l.breaker.is_open(now));
        let asked = error.retry_after();
        if class.retry_same()
            && !someone_else
            && tries < self.config.attempts_per_provider
            && !link.breaker.is_open(now)
        {
            let wait = match asked {
                Some(wait) if wait <= self.config.max_retry_after => Some(wait),
                Some(_) => None,
                None => Some(self.config.backoff.backoff(tries - 1)),
            };
            if let Some(wait) = wait {
                return Next::Retry(wait);
            }
        }
        if class == FailureClass::RateLimited
            && let Some(wait) = asked
        {
            link.breaker
                .open_for(now, wait.min(self.config.long_cooldown));
        }
        Next::FailOver
    }
}

enum Next {
    Retry(Duration),
    FailOver,
    Stop,
}
