//! The exact-match cache: the key, and the trait a persistent store implements.

use std::fmt;

use async_trait::async_trait;
use cmis_core::{GenerateRequest, Generated, Result};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::limits::{LengthUnit, PlatformRules};
use crate::prompt::TEMPLATE_VERSION;

/// The version of the key layout; bump it when the key's fields change.
const KEY_VERSION: u32 = 1;

/// A cache key: the SHA-256 (hex) of the canonical JSON of the normalised request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key for `request` under `model_group` and the platform's `rules`.
    ///
    /// It covers the tenant, task, platform, tone, language, template version, the brief with
    /// whitespace collapsed, the model group, the temperature, the variant count and the
    /// platform's limits. It leaves out the concrete provider, so that an answer from a
    /// fallback provider serves later requests too (the provider is in the cached provenance),
    /// and the cache mode, which only says how to use the cache.
    ///
    /// ```
    /// # mod cmis { pub use cmis_core::*; pub mod ai { pub use cmis_ai::*; } }
    /// use cmis::ai::{CacheKey, Limits};
    /// use cmis::{GenerateRequest, GenerationTask, Platform, TenantId};
    /// let rules = Limits::default().rules(Platform::Instagram)?;
    /// let a = GenerateRequest::new(TenantId::new("acme"), GenerationTask::Caption, Platform::Instagram, "autumn  menu");
    /// let b = GenerateRequest::new(TenantId::new("acme"), GenerationTask::Caption, Platform::Instagram, " autumn menu ");
    /// let c = GenerateRequest::new(TenantId::new("other"), GenerationTask::Caption, Platform::Instagram, "autumn menu");
    /// assert_eq!(CacheKey::new(&a, "default", &rules), CacheKey::new(&b, "default", &rules));
    /// assert_ne!(CacheKey::new(&a, "default", &rules), CacheKey::new(&c, "default", &rules));
    /// # Ok::<(), cmis::Error>(())
    /// ```
    pub fn new(request: &GenerateRequest, model_group: &str, rules: &PlatformRules) -> Self {
        let norm = |s: &Option<String>| s.as_deref().map(|s| s.trim().to_lowercase());
        // serde_json's map is ordered by key, so this serialisation is canonical.
        let canonical = json!({
            "key_version": KEY_VERSION,
            "tenant": request.tenant.as_str(),
            "task": request.task,
            "platform": request.platform,
            "tone": norm(&request.tone),
            "language": norm(&request.language),
            "template": TEMPLATE_VERSION,
            "input": request.brief.split_whitespace().collect::<Vec<_>>().join(" "),
            "model_group": model_group,
            // A string, so that 0.7 hashes the same however the float was produced.
            "temperature": request.temperature.map(|t| format!("{t:.3}")),
            "variants": request.variants.max(1),
            "limits": {
                "max_caption": rules.max_caption,
                "unit": match rules.unit { LengthUnit::Chars => "chars", LengthUnit::Utf16 => "utf16", LengthUnit::Utf8Bytes => "utf8" },
                "max_hashtags": rules.max_hashtags,
            },
        });
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        Self(hex::encode(digest))
    }

    /// The key as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A persistent second-level cache (for example the scheduler's database). The in-memory moka
/// cache in front of it coalesces concurrent misses, so a store sees at most one lookup per key
/// at a time. Values are [`Generated`], which serialises to JSON.
///
/// A failing store never fails a generation: errors are logged and treated as a miss.
#[async_trait]
pub trait CacheStore: Send + Sync + fmt::Debug {
    /// The stored answer for `key`, if any and not expired.
    async fn lookup(&self, key: &CacheKey) -> Result<Option<Generated>>;
    /// Stores `value` under `key`.
    async fn insert(&self, key: &CacheKey, value: &Generated) -> Result<()>;
}
