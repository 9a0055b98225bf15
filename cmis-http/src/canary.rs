//! The public-API check's failing case, compiled only for that check
//! (`--cfg cmis_public_api_canary`, see `.ci/public-api.py`): each item leaks a foreign type in
//! a different position, and the check must name every one of them, and nothing hidden or
//! private.

/// A field.
pub struct CanaryField {
    /// The leak.
    pub headers: http::HeaderMap,
}

/// A variant.
pub enum CanaryVariant {
    /// The leak.
    Status(http::StatusCode),
}

/// A trait impl.
pub struct CanaryError;

impl From<reqwest::Error> for CanaryError {
    fn from(_: reqwest::Error) -> Self {
        Self
    }
}

/// A trait method.
pub trait CanaryTrait {
    /// The leak.
    fn config(&self) -> rustls::ClientConfig;
}

/// A function.
pub fn canary_function(_: reqwest::Response) {}

/// A re-export.
pub use http::Method as CanaryMethod;

/// Hidden: not reported.
#[doc(hidden)]
pub fn canary_hidden(_: reqwest::Response) {}

#[allow(dead_code)]
fn canary_private(_: reqwest::Response) {}
