//! A fake of a Bluesky PDS (AT Protocol personal data server) over XRPC: legacy sessions with app
//! passwords (`createSession`, email 2FA on the main password, rotating `refreshSession` with the
//! 2-hour grace of a used refresh token), `createRecord` with the `app.bsky.feed.post` lexicon
//! (300 graphemes and 3 000 bytes, facets, up to 4 images whose blobs this account uploaded,
//! replies, link cards, quotes, quotes with media, videos; strong refs to records of this PDS
//! must match them and a reply's root must be the thread's), client-chosen TID record keys and the generic 500 on a key that exists, `getRecord`,
//! `deleteRecord`, `putRecord` (a no-op for an identical record), `listRecords`,
//! `uploadBlob` with content-addressed CIDs, `resolveHandle`, `describeServer`, `getServiceAuth`
//! (service tokens bound to an audience and a method), the per-account and global per-IP rate
//! limits with their `RateLimit-*` headers, and the `{"error","message"}` envelope (also for a
//! method called with the wrong HTTP verb). Bluesky's video service, which
//! writes processed videos into the accounts' repositories here, is in `video/`.
//!
//! Written from the AT Protocol lexicons, the reference PDS and Bluesky's documentation (see the
//! project's `docs/bluesky-api.md` notes), not from any connector.
//!
//! The fake's clock is tokio's (pausable in tests) plus an offset that
//! [`BlueskySandbox::advance_clock`] moves forward, so token lifetimes, the refresh grace and
//! rate-limit windows can be crossed without waiting.

mod ids;
mod limits;
mod routes;
mod state;
mod validate;
mod video;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::SecretString;
use serde_json::Value;

use crate::fault::Fault;

pub(crate) use routes::router;
pub(crate) use state::BlueskyState;
pub use video::{
    BlueskyVideoConfig, BlueskyVideoEndpoint, BlueskyVideoFailure, BlueskyVideoJob,
    BlueskyVideoSandbox,
};
pub(crate) use video::{VideoState, router as video_router};

/// The XRPC methods of the fake PDS, for fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlueskyEndpoint {
    /// `POST /xrpc/com.atproto.server.createSession`.
    CreateSession,
    /// `POST /xrpc/com.atproto.server.refreshSession`.
    RefreshSession,
    /// `POST /xrpc/com.atproto.repo.createRecord`.
    CreateRecord,
    /// `GET /xrpc/com.atproto.repo.getRecord`.
    GetRecord,
    /// `POST /xrpc/com.atproto.repo.uploadBlob`.
    UploadBlob,
    /// `GET /xrpc/com.atproto.identity.resolveHandle`.
    ResolveHandle,
    /// `GET /xrpc/com.atproto.server.getServiceAuth`.
    GetServiceAuth,
    /// `GET /xrpc/com.atproto.server.describeServer`.
    DescribeServer,
}

impl BlueskyEndpoint {
    /// Every endpoint.
    pub const ALL: [BlueskyEndpoint; 8] = [
        Self::CreateSession,
        Self::RefreshSession,
        Self::CreateRecord,
        Self::GetRecord,
        Self::UploadBlob,
        Self::ResolveHandle,
        Self::GetServiceAuth,
        Self::DescribeServer,
    ];
}

/// How the fake PDS behaves. The defaults are Bluesky's hosted PDS's.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BlueskyConfig {
    /// The PDS's service DID: the `aud` of the session tokens.
    pub service_did: String,
    /// Handle suffixes this PDS serves (`.bsky.social`): an unknown handle under one of them is
    /// `HandleNotFound` on `resolveHandle`; any other unknown handle cannot be resolved
    /// (`InvalidRequest`).
    pub handle_domains: Vec<String>,
    /// The access JWT's lifetime (120 minutes).
    pub access_token_lifetime: Duration,
    /// The refresh JWT's lifetime (90 days).
    pub refresh_token_lifetime: Duration,
    /// How long a refresh token keeps working after it was used (2 hours).
    pub refresh_grace: Duration,
    /// `createSession` calls per account per 5 minutes (30).
    pub create_session_per_5_minutes: u32,
    /// `createSession` calls per account per day (300).
    pub create_session_per_day: u32,
    /// Repository write points per account per hour (5 000; a create costs 3).
    pub write_points_per_hour: u32,
    /// Repository write points per account per day (35 000).
    pub write_points_per_day: u32,
    /// The largest image blob a post may reference (976 560 bytes, what Bluesky's
    /// `BlobTooLarge` errors quote; the current lexicon says 2 000 000).
    pub image_max_bytes: u64,
    /// The largest upload `uploadBlob` accepts (52 428 800 bytes on Bluesky's PDSes).
    pub blob_upload_limit: u64,
    /// How long an uploaded blob that no record references is kept. `None` (the default) keeps
    /// it; Bluesky deletes such blobs after "minutes", so set this to catch a connector that
    /// keeps blob refs across long delays.
    pub unreferenced_blob_lifetime: Option<Duration>,
}

impl Default for BlueskyConfig {
    fn default() -> Self {
        Self {
            service_did: "did:web:pds.sandbox.bsky.test".into(),
            handle_domains: vec![".bsky.social".into()],
            access_token_lifetime: Duration::from_secs(120 * 60),
            refresh_token_lifetime: Duration::from_secs(90 * 86_400),
            refresh_grace: Duration::from_secs(2 * 3600),
            create_session_per_5_minutes: 30,
            create_session_per_day: 300,
            write_points_per_hour: 5000,
            write_points_per_day: 35_000,
            image_max_bytes: 976_560,
            blob_upload_limit: 52_428_800,
            unreferenced_blob_lifetime: None,
        }
    }
}

/// An account on the fake PDS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlueskyAccount {
    /// The handle, such as `alice.bsky.social` (matched case-insensitively).
    pub handle: String,
    /// The DID, such as `did:plc:ewvi7nxzyoun6zhxrhs64oiz`.
    pub did: String,
    /// An app password (`xxxx-xxxx-xxxx-xxxx`): logs in with the `com.atproto.appPass` scope.
    pub app_password: String,
    /// The account's main password, if it may log in with it (scope `com.atproto.access`).
    pub main_password: Option<String>,
    /// Email 2FA: the main password then needs the code "sent by email"
    /// ([`BlueskySandbox::sign_in_code`]) as `authFactorToken`. App passwords skip it.
    pub email_auth_factor: bool,
    /// Taken down: sessions and writes answer `AccountTakedown`.
    pub taken_down: bool,
}

impl BlueskyAccount {
    /// An active account that logs in with `app_password` only.
    pub fn new(
        handle: impl Into<String>,
        did: impl Into<String>,
        app_password: impl Into<String>,
    ) -> Self {
        Self {
            handle: handle.into(),
            did: did.into(),
            app_password: app_password.into(),
            main_password: None,
            email_auth_factor: false,
            taken_down: false,
        }
    }
}

/// A session the fake PDS issued, as `createSession` answers it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BlueskySession {
    /// The account's DID.
    pub did: String,
    /// The account's handle.
    pub handle: String,
    /// `accessJwt` (120 minutes).
    pub access_jwt: SecretString,
    /// `refreshJwt` (90 days, rotated on use).
    pub refresh_jwt: SecretString,
}

/// A record the fake PDS stores.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlueskyRecord {
    /// `at://<did>/<collection>/<rkey>`.
    pub uri: String,
    /// The record's CID.
    pub cid: String,
    /// The repository's DID.
    pub did: String,
    /// The collection NSID, such as `app.bsky.feed.post`.
    pub collection: String,
    /// The record key (a TID for posts).
    pub rkey: String,
    /// The record as JSON text, as `getRecord` returns it in `value`.
    pub record: String,
}

impl BlueskyRecord {
    /// The record as JSON, if [`BlueskyRecord::record`] parses.
    fn value(&self) -> Option<Value> {
        serde_json::from_str(&self.record).ok()
    }

    /// The strong ref (`{uri, cid}`) a reply or a quote uses to name this record.
    pub fn strong_ref(&self) -> BlueskyStrongRef {
        BlueskyStrongRef {
            uri: self.uri.clone(),
            cid: self.cid.clone(),
        }
    }

    /// A reply post's `reply.root` and `reply.parent`, in that order; `None` for a post that is
    /// not a reply.
    pub fn reply(&self) -> Option<(BlueskyStrongRef, BlueskyStrongRef)> {
        let value = self.value()?;
        let reply = value.get("reply")?;
        Some((
            BlueskyStrongRef::from_json(reply.get("root")?)?,
            BlueskyStrongRef::from_json(reply.get("parent")?)?,
        ))
    }

    /// The `$type` of the post's embed, such as `app.bsky.embed.external`.
    pub fn embed_type(&self) -> Option<String> {
        let value = self.value()?;
        Some(value.pointer("/embed/$type")?.as_str()?.to_owned())
    }

    /// The record a post quotes: the strong ref of an `app.bsky.embed.record` embed, or the
    /// record of an `app.bsky.embed.recordWithMedia` one.
    pub fn quoted(&self) -> Option<BlueskyStrongRef> {
        let value = self.value()?;
        let embed = value.get("embed")?;
        match embed.get("$type")?.as_str()? {
            "app.bsky.embed.record" => BlueskyStrongRef::from_json(embed.get("record")?),
            "app.bsky.embed.recordWithMedia" => {
                BlueskyStrongRef::from_json(embed.pointer("/record/record")?)
            }
            _ => None,
        }
    }
}

/// A strong ref (`com.atproto.repo.strongRef`): a record's AT URI and the CID of the version
/// meant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlueskyStrongRef {
    /// `at://<did>/<collection>/<rkey>`.
    pub uri: String,
    /// The record's CID.
    pub cid: String,
}

impl BlueskyStrongRef {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            uri: v.get("uri")?.as_str()?.to_owned(),
            cid: v.get("cid")?.as_str()?.to_owned(),
        })
    }
}

/// A blob the fake PDS stores.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlueskyBlob {
    /// The uploader's DID.
    pub did: String,
    /// The blob's CID (`bafkrei…`).
    pub cid: String,
    /// The `Content-Type` it was uploaded with.
    pub mime_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Whether a record references it.
    pub referenced: bool,
}

/// A handle on the fake PDS: add accounts, issue sessions, inspect records, inject faults, move
/// the clock.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod sandbox { pub use cmis_sandbox::*; } }
/// # async fn demo() -> Result<(), cmis::Error> {
/// use std::time::Duration;
///
/// use cmis::sandbox::{BlueskyAccount, BlueskyEndpoint, Fault, Sandbox};
///
/// let sandbox = Sandbox::start().await?;
/// let pds = sandbox.bluesky();
/// pds.add_account(BlueskyAccount::new(
///     "alice.bsky.social",
///     "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
///     "abcd-efgh-ijkl-mnop",
/// ));
/// // Point a Bluesky client at `pds.url()` with that app password. The next post is written,
/// // but answered with a 500: a careful client checks `getRecord` before retrying.
/// pds.inject(BlueskyEndpoint::CreateRecord, Fault::ServerErrorAfterAccept, 1);
/// // ... publish, then look:
/// assert!(pds.posts("alice.bsky.social").len() <= 1, "never posted twice");
/// // Two hours and a minute later, the access JWT has expired.
/// pds.advance_clock(Duration::from_secs(121 * 60));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BlueskySandbox {
    pub(crate) state: Arc<BlueskyState>,
}

impl BlueskySandbox {
    /// The PDS's base URL, such as `http://127.0.0.1:41234`; XRPC methods are under `/xrpc/`.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// The PDS's service DID (the tokens' `aud`).
    pub fn service_did(&self) -> String {
        self.state.config().service_did
    }

    /// Adds (or replaces, by DID) an account.
    pub fn add_account(&self, account: BlueskyAccount) {
        self.state.add_account(account);
    }

    /// Issues a session for the account with this handle or DID, as an app-password
    /// `createSession` would, without counting against its rate limit; `None` for an unknown
    /// account.
    pub fn issue_session(&self, identifier: &str) -> Option<BlueskySession> {
        self.state.issue_session(identifier)
    }

    /// The records in the repository of this handle or DID, oldest first, every collection.
    pub fn records(&self, identifier: &str) -> Vec<BlueskyRecord> {
        self.state.records(identifier)
    }

    /// The `app.bsky.feed.post` records of this handle or DID, oldest first.
    pub fn posts(&self, identifier: &str) -> Vec<BlueskyRecord> {
        self.records(identifier)
            .into_iter()
            .filter(|r| r.collection == validate::POST)
            .collect()
    }

    /// The blobs this handle or DID uploaded (and that are still kept), oldest first.
    pub fn blobs(&self, identifier: &str) -> Vec<BlueskyBlob> {
        self.state.blobs(identifier)
    }

    /// How many `createSession` calls reached the PDS (refused ones included; calls stopped by
    /// an injected fault before the PDS acted are not counted).
    pub fn create_session_calls(&self) -> u64 {
        self.state.counters().0
    }

    /// How many `createSession` calls opened a session.
    pub fn sessions_created(&self) -> u64 {
        self.state.counters().1
    }

    /// How many `refreshSession` calls succeeded.
    pub fn refresh_count(&self) -> u64 {
        self.state.counters().2
    }

    /// The refresh JWTs of this handle or DID that `refreshSession` would accept now, including
    /// used ones still inside their grace period.
    pub fn valid_refresh_tokens(&self, identifier: &str) -> Vec<SecretString> {
        self.state.valid_refresh_tokens(identifier)
    }

    /// The last email sign-in code sent to this handle or DID (a main-password login on an
    /// account with [`BlueskyAccount::email_auth_factor`]).
    pub fn sign_in_code(&self, identifier: &str) -> Option<String> {
        self.state.sign_in_code(identifier)
    }

    /// Expires an access or refresh JWT now, as if its lifetime had passed.
    pub fn expire_token(&self, token: &str) {
        self.state.expire_token(token);
    }

    /// Moves the fake's clock forward: tokens, the refresh grace, rate-limit windows and blob
    /// lifetimes see the time pass. The clock also follows tokio's (pausable) clock.
    pub fn advance_clock(&self, by: Duration) {
        self.state.advance_clock(by);
    }

    /// The fake's current time as Unix seconds (what `iat`, `exp` and `RateLimit-Reset` are
    /// measured against).
    pub fn unix_time(&self) -> i64 {
        self.state.now_ms() / 1000
    }

    /// Makes the next `times` calls to `endpoint` fail with `fault`. On `createRecord`, the
    /// faults that act first ([`Fault::acts_first`]) store the record before failing.
    pub fn inject(&self, endpoint: BlueskyEndpoint, fault: Fault, times: u32) {
        self.state.faults.push(endpoint, fault, times);
    }

    /// Makes a fraction `rate` of calls to `endpoints` fail with one of `faults`, chosen by a
    /// generator seeded with `seed` (reproducible).
    pub fn set_fault_rate(
        &self,
        rate: f64,
        seed: u64,
        faults: Vec<Fault>,
        endpoints: Vec<BlueskyEndpoint>,
    ) {
        self.state.faults.set_random(rate, seed, faults, endpoints);
    }

    /// Removes every queued and random fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }
}
