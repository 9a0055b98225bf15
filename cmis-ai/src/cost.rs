//! Prices as configuration, cost per call, and what the cache saved.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use cmis_core::Usage;

/// One model's prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ModelPrice {
    /// Uncached input tokens.
    pub input_per_mtok: f64,
    /// Input tokens served from the provider's prompt cache (defaults to the input price).
    pub cached_input_per_mtok: f64,
    /// Output tokens, reasoning included.
    pub output_per_mtok: f64,
}

impl ModelPrice {
    /// A price of `input` and `output` dollars per million tokens.
    pub fn new(input_per_mtok: f64, output_per_mtok: f64) -> Self {
        Self {
            input_per_mtok,
            cached_input_per_mtok: input_per_mtok,
            output_per_mtok,
        }
    }

    /// Sets the price of cached input tokens.
    #[must_use]
    pub fn with_cached_input(mut self, per_mtok: f64) -> Self {
        self.cached_input_per_mtok = per_mtok;
        self
    }

    /// The cost of `usage` in dollars.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
    /// use cmis::ai::ModelPrice;
    /// use cmis::Usage;
    /// let price = ModelPrice::new(0.15, 0.60);
    /// let cost = price.cost(&Usage::new(1_000_000, 500_000));
    /// assert!((cost - 0.45).abs() < 1e-12);
    /// ```
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        let uncached = usage.input_tokens - cached;
        (tokens(uncached) * self.input_per_mtok
            + tokens(cached) * self.cached_input_per_mtok
            + tokens(usage.output_tokens) * self.output_per_mtok)
            / 1_000_000.0
    }
}

/// Token counts as `f64`; exact up to 2^53 tokens, far beyond any bill.
#[allow(clippy::cast_precision_loss)]
fn tokens(n: u64) -> f64 {
    n as f64
}

/// Prices per model. A model the provider reports with a date suffix (`gpt-4o-mini-2024-07-18`)
/// matches the longest configured name it starts with (`gpt-4o-mini`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// An empty table: every call is unpriced.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the price of `model`.
    #[must_use]
    pub fn with_price(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        self.prices.insert(model.into(), price);
        self
    }

    /// The price of `model`, if configured.
    pub fn price(&self, model: &str) -> Option<&ModelPrice> {
        self.prices.get(model).or_else(|| {
            self.prices
                .iter()
                .filter(|(name, _)| model.starts_with(name.as_str()))
                .max_by_key(|(name, _)| name.len())
                .map(|(_, p)| p)
        })
    }

    /// The cost of `usage` on `model`, if its price is configured.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.price(model).map(|p| p.cost(usage))
    }
}

/// Totals of one model in the ledger.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ModelTotals {
    /// Calls answered by the model.
    pub calls: u64,
    /// Tokens used.
    pub usage: Usage,
    /// Dollars spent (priced calls only).
    pub spent_usd: f64,
}

/// The ledger's totals at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LedgerSnapshot {
    /// Answers produced by a provider (the offline generator included).
    pub calls: u64,
    /// Calls whose model had no configured price.
    pub unpriced_calls: u64,
    /// Answers served from the cache.
    pub cache_hits: u64,
    /// Dollars spent.
    pub spent_usd: f64,
    /// Dollars the cache hits would have cost (the cost of the call that filled the entry).
    pub saved_usd: f64,
    /// Totals per `provider:model`.
    pub per_model: BTreeMap<String, ModelTotals>,
}

/// Records what every generation cost and what the cache saved. Cheap to share.
#[derive(Debug, Default)]
pub struct CostLedger {
    state: Mutex<LedgerSnapshot>,
}

impl CostLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut LedgerSnapshot) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }

    /// Records a provider call.
    pub fn record_call(&self, provider: &str, model: &str, usage: &Usage, cost: Option<f64>) {
        metrics::counter!("cmis_ai_calls_total", "provider" => provider.to_owned()).increment(1);
        if let Some(c) = cost {
            metrics::gauge!("cmis_ai_spend_usd", "provider" => provider.to_owned()).increment(c);
        }
        self.with(|s| {
            s.calls += 1;
            match cost {
                Some(c) => s.spent_usd += c,
                None => s.unpriced_calls += 1,
            }
            let totals = s
                .per_model
                .entry(format!("{provider}:{model}"))
                .or_default();
            totals.calls += 1;
            totals.spent_usd += cost.unwrap_or(0.0);
            totals.usage.input_tokens += usage.input_tokens;
            totals.usage.cached_input_tokens += usage.cached_input_tokens;
            totals.usage.output_tokens += usage.output_tokens;
            totals.usage.reasoning_tokens += usage.reasoning_tokens;
        });
    }

    /// Records a cache hit that saved `saved` dollars (the original call's cost).
    pub fn record_hit(&self, saved: Option<f64>) {
        metrics::counter!("cmis_ai_cache_hits_total").increment(1);
        self.with(|s| {
            s.cache_hits += 1;
            s.saved_usd += saved.unwrap_or(0.0);
        });
    }

    /// The totals so far.
    pub fn snapshot(&self) -> LedgerSnapshot {
        self.with(|s| s.clone())
    }
}
