//! Finding an account's PDS: handle → DID (`com.atproto.identity.resolveHandle` on an
//! entryway), DID → DID document (the PLC directory for `did:plc`, `/.well-known/did.json` for
//! `did:web`) → the service `#atproto_pds` (docs/bluesky-api.md §0). Answers are kept for at
//! most 24 hours, as Bluesky recommends, and failures are not kept.
//!
//! A DID document names the host cmis will send the account's tokens to, and anyone can write
//! one: the PDS it names must pass a [`UrlPolicy`] (public `https` hosts by default, every
//! resolved address checked, here and again when a client built with the same policy connects),
//! so a document cannot point cmis at a private network or a cloud metadata service.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cmis_core::{Error, Result};
use cmis_http::{Call, UrlPolicy, reqwest};
use serde::Deserialize;
use url::Url;

/// The PLC directory, where `did:plc` documents live.
pub const DEFAULT_PLC_DIRECTORY_URL: &str = "https://plc.directory";

/// How long a resolved identity is kept.
pub const IDENTITY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// An account's DID and the PDS that holds its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The account's DID.
    pub did: String,
    /// The account's PDS.
    pub pds: Url,
}

/// Resolves handles and DIDs to [`Identity`]s. Cheap to clone; clones share the cache.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod bluesky { pub use cmis_bluesky::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::bluesky::{BlueskyClient, IdentityResolver};
///
/// let identity = IdentityResolver::builder().build()?.resolve("alice.bsky.social").await?;
/// let client = BlueskyClient::builder().pds_url(identity.pds.as_str()).build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct IdentityResolver {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    plc: Url,
    entryway: Url,
    policy: UrlPolicy,
    cache: Mutex<HashMap<String, (Identity, Instant)>>,
}

impl fmt::Debug for IdentityResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityResolver")
            .field("plc", &self.inner.plc.as_str())
            .field("entryway", &self.inner.entryway.as_str())
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// Builds an [`IdentityResolver`].
#[derive(Debug, Default)]
pub struct IdentityResolverBuilder {
    plc: Option<String>,
    entryway: Option<String>,
    policy: Option<UrlPolicy>,
}

impl IdentityResolverBuilder {
    /// The PLC directory, [`DEFAULT_PLC_DIRECTORY_URL`] by default.
    #[must_use]
    pub fn plc_directory_url(mut self, url: impl Into<String>) -> Self {
        self.plc = Some(url.into());
        self
    }

    /// The entryway that resolves handles, [`DEFAULT_PDS_URL`](crate::DEFAULT_PDS_URL) by
    /// default.
    #[must_use]
    pub fn entryway_url(mut self, url: impl Into<String>) -> Self {
        self.entryway = Some(url.into());
        self
    }

    /// Which PDS hosts a DID document may name: public `https` hosts by default. A local test
    /// PDS needs `UrlPolicy::new().allow_http(true).allow(AddressClass::Loopback)`.
    #[must_use]
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Builds the resolver.
    pub fn build(self) -> Result<IdentityResolver> {
        let parse = crate::client::parse_base;
        let policy = self.policy.unwrap_or_default();
        let http = policy
            .client_builder()?
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(cmis_http::build_error)?;
        Ok(IdentityResolver {
            inner: Arc::new(Inner {
                http,
                plc: parse(
                    "PLC directory",
                    self.plc.as_deref().unwrap_or(DEFAULT_PLC_DIRECTORY_URL),
                )?,
                entryway: parse(
                    "entryway",
                    self.entryway.as_deref().unwrap_or(crate::DEFAULT_PDS_URL),
                )?,
                policy,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }
}

#[derive(Deserialize)]
struct DidDocument {
    #[serde(default)]
    id: String,
    #[serde(default)]
    service: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Service {
    #[serde(default)]
    id: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    service_endpoint: serde_json::Value,
}

impl IdentityResolver {
    /// Starts building a resolver.
    pub fn builder() -> IdentityResolverBuilder {
        IdentityResolverBuilder::default()
    }

    /// The DID and PDS of `handle_or_did` (`alice.bsky.social`, `@alice.bsky.social` or
    /// `did:plc:…`).
    pub async fn resolve(&self, handle_or_did: &str) -> Result<Identity> {
        let key = handle_or_did
            .trim()
            .trim_start_matches('@')
            .to_ascii_lowercase();
        if key.is_empty() {
            return Err(Error::invalid_input("a Bluesky handle or DID is needed"));
        }
        if let Some(found) = self.cached(&key) {
            return Ok(found);
        }
        let did = if key.starts_with("did:") {
            handle_or_did.trim().to_owned()
        } else {
            self.did_for_handle(&key).await?
        };
        let pds = self.pds_for_did(&did).await?;
        let identity = Identity { did, pds };
        if let Ok(mut cache) = self.inner.cache.lock() {
            cache.insert(key, (identity.clone(), Instant::now()));
        }
        Ok(identity)
    }

    fn cached(&self, key: &str) -> Option<Identity> {
        let cache = self.inner.cache.lock().ok()?;
        let (identity, at) = cache.get(key)?;
        (at.elapsed() < IDENTITY_TTL).then(|| identity.clone())
    }

    /// `handle`'s DID, asked of the entryway.
    pub async fn did_for_handle(&self, handle: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Resolved {
            did: String,
        }
        let url = format!(
            "{}/xrpc/com.atproto.identity.resolveHandle",
            self.inner.entryway.as_str().trim_end_matches('/')
        );
        let request = self.inner.http.get(url).query(&[("handle", handle)]);
        let body = self.get(request, "resolveHandle").await.map_err(|e| {
            if e.kind() == cmis_core::ErrorKind::Rejected {
                Error::invalid_input(format!("the Bluesky handle {handle:?} does not resolve"))
            } else {
                e
            }
        })?;
        let resolved: Resolved = serde_json::from_slice(&body).map_err(|e| {
            Error::transient(format!(
                "resolveHandle answered with JSON cmis cannot read: {e}"
            ))
        })?;
        if !resolved.did.starts_with("did:") {
            return Err(Error::transient(format!(
                "resolveHandle answered {:?}, which is not a DID",
                resolved.did
            )));
        }
        Ok(resolved.did)
    }

    /// The PDS named by `did`'s document.
    pub async fn pds_for_did(&self, did: &str) -> Result<Url> {
        let url = if did.starts_with("did:plc:") {
            format!("{}/{did}", self.inner.plc.as_str().trim_end_matches('/'))
        } else if let Some(host) = did.strip_prefix("did:web:") {
            // A port is percent-encoded in a did:web (`localhost%3A8080`); paths are not
            // allowed for atproto accounts.
            if host.contains(':') || host.is_empty() {
                return Err(Error::invalid_input(format!(
                    "{did:?} is not a did:web cmis can resolve"
                )));
            }
            format!("https://{}/.well-known/did.json", host.replace("%3A", ":"))
        } else {
            return Err(Error::invalid_input(format!(
                "{did:?} is not a DID Bluesky uses (did:plc or did:web)"
            )));
        };
        let parsed = Url::parse(&url).map_err(|e| Error::invalid_input(format!("{did:?}: {e}")))?;
        // The PLC directory is configured by the caller; only a did:web's host is checked.
        if !did.starts_with("did:plc:") {
            self.inner.policy.check_url(&parsed)?;
        }
        let body = self
            .get(self.inner.http.get(parsed), "the DID document")
            .await?;
        let doc: DidDocument = serde_json::from_slice(&body).map_err(|e| {
            Error::transient(format!("the DID document of {did} cannot be read: {e}"))
        })?;
        if doc.id != did {
            return Err(Error::invalid_input(format!(
                "the DID document fetched for {did} is for {:?}",
                doc.id
            )));
        }
        let endpoint = doc
            .service
            .iter()
            .find(|s| {
                (s.id == "#atproto_pds" || s.id == format!("{did}#atproto_pds"))
                    && s.kind == "AtprotoPersonalDataServer"
            })
            .and_then(|s| s.service_endpoint.as_str())
            .ok_or_else(|| {
                Error::invalid_input(format!("the DID document of {did} names no PDS"))
            })?;
        let pds = Url::parse(endpoint)
            .map_err(|e| Error::invalid_input(format!("the PDS of {did} is not a URL: {e}")))?;
        let refused = |e: Error| {
            Error::invalid_input(format!(
                "the PDS {} named for {did} is refused: {}",
                pds.host_str().unwrap_or(""),
                e.message()
            ))
        };
        self.inner.policy.check_url(&pds).map_err(refused)?;
        self.check_addresses(&pds).await.map_err(refused)?;
        Ok(pds)
    }

    /// Checks every address `url`'s host resolves to. A client for the PDS must still connect
    /// through a resolver that checks them again ([`BlueskyClientBuilder::url_policy`]), since a
    /// name can resolve differently the next time.
    ///
    /// [`BlueskyClientBuilder::url_policy`]: crate::BlueskyClientBuilder::url_policy
    async fn check_addresses(&self, url: &Url) -> Result<()> {
        let Some(url::Host::Domain(host)) = url.host() else {
            return Ok(()); // An IP literal: checked by `check_url`.
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Error::transient(format!("{host} cannot be resolved: {e}")))?;
        for addr in addrs {
            self.inner.policy.check_ip(host, addr.ip())?;
        }
        Ok(())
    }

    /// The policy PDS hosts are checked against.
    pub fn url_policy(&self) -> &UrlPolicy {
        &self.inner.policy
    }

    async fn get(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Vec<u8>> {
        let response = cmis_http::send(request, Call::Read).await?;
        let status = response.status().as_u16();
        let body = cmis_http::read_answer(response, Call::Read, what, 1 << 20).await?;
        match status {
            200..=299 => Ok(body),
            400..=499 if status != 429 => {
                Err(Error::rejected(format!("{what} answered HTTP {status}")))
            }
            _ => Err(Error::transient(format!("{what} answered HTTP {status}"))),
        }
    }
}
