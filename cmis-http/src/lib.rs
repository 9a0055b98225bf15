//! # cmis-http
//!
//! The HTTP transport every cmis connector shares, so that each gets the same safety:
//!
//! - **rustls** on the `ring` provider with the Mozilla roots built in (`webpki-roots`): no
//!   OpenSSL, no dependence on the machine's certificate store.
//! - **No redirects**: a platform API that redirects is answered with an error instead of being
//!   followed, so an `Authorization` header can never follow a redirect to another host.
//! - **Transport errors classified** into [`cmis_core::ErrorKind`] by whether the request was a
//!   read or a mutation: a connection that was never made is
//!   [`Transient`](cmis_core::ErrorKind::Transient); a timeout or broken connection after a
//!   mutation was sent is [`UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome), because the
//!   platform may have acted on it. URLs (which may carry tokens in their query) are stripped from
//!   every error.
//! - **Bodies read with a cap** suited to their purpose ([`MAX_API_RESPONSE_BYTES`],
//!   [`MAX_OAUTH_RESPONSE_BYTES`], [`MAX_AI_RESPONSE_BYTES`], [`MAX_ERROR_BODY_BYTES`]): a server
//!   that answers with an endless body gets an error naming the call, not the process's memory.
//! - **Media fetched from users' URLs** by a [`MediaFetcher`] that refuses private, loopback
//!   and other internal addresses ([`UrlPolicy`]), checked on every redirect and on every
//!   address DNS returns.
//!
//! ## Internal to cmis
//!
//! The transport itself (building a client, sending, classifying, reading capped bodies) is
//! written in `reqwest` types, and is hidden from these docs: it serves cmis's own connectors,
//! follows their needs, and may change in any release, including when cmis moves to a new
//! `reqwest`. Nothing here is re-exported by the `cmis` crate except the media fetcher and its
//! URL policy, which `cmis::media` re-exports and which name no `reqwest` type.
//!
//! ```
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_http::{AddressClass, UrlPolicy}; } }
//! use cmis::media::{AddressClass, UrlPolicy};
//! let policy = UrlPolicy::new();
//! let internal = cmis::url::Url::parse("https://10.0.0.7/video.mp4").unwrap();
//! assert!(policy.check_url(&internal).is_err());
//! let lab = UrlPolicy::new().allow(AddressClass::Private);
//! assert!(lab.check_url(&internal).is_ok());
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
use std::sync::Arc;
use std::time::Duration;

use cmis_core::{Error, ErrorKind};

mod body;
#[cfg(cmis_public_api_canary)]
pub mod canary;
mod fetch;
#[doc(hidden)]
pub mod fuzzing;
mod policy;
#[cfg(feature = "_testing")]
#[doc(hidden)]
pub mod testing;

pub use body::{
    MAX_AI_RESPONSE_BYTES, MAX_API_RESPONSE_BYTES, MAX_ERROR_BODY_BYTES, MAX_OAUTH_RESPONSE_BYTES,
};
#[doc(hidden)]
pub use body::{read_answer, read_body, read_body_prefix};
pub use fetch::{
    DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_MEDIA_BYTES, DEFAULT_MAX_REDIRECTS, MediaDownload,
    MediaFetcher, MediaFetcherBuilder,
};
#[doc(hidden)]
pub use policy::GuardedResolver;
pub use policy::{AddressClass, RefusedAddress, UrlPolicy};

#[doc(hidden)]
pub use reqwest;

/// The `User-Agent` cmis sends.
pub const USER_AGENT: &str = concat!("cmis/", env!("CARGO_PKG_VERSION"));

/// The longest wait cmis takes from a server (`Retry-After`, Meta's regain time): 24 hours.
/// A server asking for longer gets its answer checked again after a day rather than a deadline
/// that overflows the clock.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether a request changes anything on the platform; decides how a failure is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// A read (or an idempotent write such as re-sending the same upload chunk): safe to retry.
    Read,
    /// A request that creates or publishes something: never repeat it blindly.
    Mutation,
}

/// A reqwest client builder with cmis's transport settings: rustls with built-in roots, no
/// redirects, a 10 s connect timeout, a 120 s overall timeout, and cmis's `User-Agent`.
/// Callers may change the timeouts.
#[doc(hidden)]
pub fn client_builder() -> Result<reqwest::ClientBuilder, Error> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .user_agent(USER_AGENT))
}

/// The rustls configuration: the `ring` provider, TLS 1.2 and 1.3, the Mozilla root store.
#[doc(hidden)]
pub fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(format!("TLS configuration failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// ring's crypto provider, named explicitly (never the process-wide default, which an
/// embedding program may have set to something else, or which two enabled providers leave
/// undecided).
///
/// rustls 0.23.48 deprecated it because ring has no post-quantum key exchange
/// (X25519MLKEM768). cmis keeps ring, knowingly: the provider that has it, aws-lc-rs, builds a C
/// library under the OpenSSL licence into every user's program, and the tokens cmis sends live
/// for hours to weeks, not the decades that harvest-now-decrypt-later attacks aim at. This is
/// the one call that names the deprecated function; ARCHITECTURE.md records the decision, to be
/// revisited when ring gains ML-KEM or rustls 0.24 removes the provider.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Converts an error from [`reqwest::ClientBuilder::build`]; the usual way to build a client is
/// `client_builder()?.build().map_err(build_error)?`.
#[doc(hidden)]
pub fn build_error(err: reqwest::Error) -> Error {
    Error::internal(format!(
        "HTTP client could not be built: {}",
        err.without_url()
    ))
}

/// Classifies a transport error (no HTTP response was read) for a `call`.
///
/// The URL is removed from the error first: platform URLs can carry access tokens.
#[doc(hidden)]
pub fn classify(err: reqwest::Error, call: Call) -> Error {
    // The host and port are kept, to say where the call went; the path and query are not.
    let to = err
        .url()
        .and_then(|u| {
            let host = u.host_str()?;
            Some(match u.port_or_known_default() {
                Some(port) => format!(" to {host}:{port}"),
                None => format!(" to {host}"),
            })
        })
        .unwrap_or_default();
    let err = err.without_url();
    if err.is_builder() {
        return Error::invalid_input(format!("invalid request: {err}")).with_source(err);
    }
    if err.is_redirect() {
        return Error::new(
            ErrorKind::Internal,
            "the platform answered with a redirect, which cmis does not follow",
        )
        .with_source(err);
    }
    // A connection that was never established cannot have delivered the request.
    if err.is_connect() {
        return Error::transient(format!("could not connect{to}: {err}")).with_source(err);
    }
    let what = if err.is_timeout() {
        "timed out"
    } else {
        "failed"
    };
    match call {
        Call::Read => Error::transient(format!("request{to} {what}: {err}")).with_source(err),
        Call::Mutation => Error::unknown_outcome(format!(
            "request{to} {what} after it was sent; the platform may have acted on it: {err}"
        ))
        .with_source(err),
    }
}

/// Sends `request`, classifying a transport failure for `call`. HTTP error statuses are returned
/// as responses: each connector classifies the platform's error body itself.
///
/// Every call runs in a `cmis.call` tracing span with its method, host, endpoint (the path
/// with ids replaced by `{id}`, never the query: URLs can carry tokens), whether it is a read
/// or a mutation, and the status answered.
#[doc(hidden)]
pub async fn send(
    request: reqwest::RequestBuilder,
    call: Call,
) -> Result<reqwest::Response, Error> {
    use tracing::Instrument as _;
    let (client, request) = request.build_split();
    let request = request.map_err(|e| classify(e, call))?;
    let span = tracing::debug_span!(
        "cmis.call",
        method = %request.method(),
        host = request.url().host_str().unwrap_or(""),
        endpoint = %endpoint(request.url().path()),
        call = match call {
            Call::Read => "read",
            Call::Mutation => "mutation",
        },
        status = tracing::field::Empty,
    );
    let answer = client
        .execute(request)
        .instrument(span.clone())
        .await
        .map_err(|e| classify(e, call))?;
    span.record("status", answer.status().as_u16());
    Ok(answer)
}

/// A URL path as an endpoint's name: each segment that is an id (five characters or more with
/// a digit, or a URN) becomes `{id}`; API versions (`v23.0`, `v2`) stay.
pub(crate) fn endpoint(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let version = seg.strip_prefix('v').is_some_and(|rest| {
                !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
            });
            let urn = seg.to_ascii_lowercase().starts_with("urn");
            let id = seg.len() >= 5 && seg.chars().any(|c| c.is_ascii_digit());
            if !version && (urn || id) { "{id}" } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses a `Retry-After` header given in seconds (the form the platforms use), capped at
/// [`MAX_RETRY_AFTER`]: callers add the wait to the clock, and an absurd value must not overflow
/// it. HTTP-date values and garbage yield `None`.
#[doc(hidden)]
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_names_the_path_without_ids_or_the_query() {
        assert_eq!(endpoint("/v23.0/1234567890/feed"), "/v23.0/{id}/feed");
        assert_eq!(
            endpoint("/v2/post/publish/video/init/"),
            "/v2/post/publish/video/init/"
        );
        assert_eq!(
            endpoint("/rest/posts/urn%3Ali%3Ashare%3A7"),
            "/rest/posts/{id}"
        );
        assert_eq!(
            endpoint("/xrpc/com.atproto.repo.createRecord"),
            "/xrpc/com.atproto.repo.createRecord"
        );
        assert_eq!(
            endpoint("/upload/youtube/v3/videos"),
            "/upload/youtube/v3/videos"
        );
        assert_eq!(endpoint("/17841400001_9876/insights"), "/{id}/insights");
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static(" 120 "),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        // Crashed the fuzz targets (a hand-made input): a huge value overflowed
        // `Instant::now() + wait` in its callers.
        h.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("18446744073709551615"),
        );
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn the_client_builds() {
        assert!(client_builder().unwrap().build().is_ok());
    }
}
