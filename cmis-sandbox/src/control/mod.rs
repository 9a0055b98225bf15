//! # The control API: drive the sandbox over HTTP, from any language
//!
//! Started by the `cmis-sandbox` program (always) or by
//! [`SandboxBuilder::control_api`](crate::SandboxBuilder::control_api); its address is
//! [`Sandbox::control_url`](crate::Sandbox::control_url) and the program's `control_url`. It
//! listens on `127.0.0.1` like the fakes, unless
//! [`SandboxBuilder::listen`](crate::SandboxBuilder::listen) (the program's `--listen`) names
//! another address, which must be a loopback one unless
//! [`SandboxBuilder::allow_remote`](crate::SandboxBuilder::allow_remote) (`--allow-remote`) is
//! also set: anyone who reaches the control API can read every token.
//!
//! JSON in, JSON out. A bad request gets a 4xx with `{"error": "…"}` saying what was wrong.
//! Platforms are named `tiktok`, `meta`, `bluesky`, `bluesky_video`, `threads`, `linkedin` and
//! `youtube`. Endpoint and fault names are the Rust variant names (`Feed`,
//! `ServerErrorAfterAccept`), matched ignoring case and `_`/`-` (`server_error_after_accept`
//! works too); `GET /faults` lists them.
//!
//! | Verb and route | Body | Answer |
//! |---|---|---|
//! | `GET /` | | the routes |
//! | `GET /faults` | | platforms, their endpoints, fault kinds |
//! | `POST /faults` | `{"platform", "endpoint", "fault", "count"?, "duration_ms"?}` | what was queued |
//! | `POST /faults` | `{"platform", "rate", "faults": [..], "endpoints"?: [..], "seed"?, "duration_ms"?}` | the random faults set |
//! | `DELETE /faults`, `DELETE /faults/{platform}` | | `{"cleared": [platforms]}` |
//! | `GET /published`, `GET /published/{platform}` | | what each fake holds, with the requests behind each object |
//! | `GET /requests?platform=P` | | the requests the fakes received (the last 10 000) |
//! | `POST /seed` | a state document (below) | the seeded accounts' tokens |
//! | `POST /tokens/expire` | `{"platform", "token"}` | `{"expired": true}` |
//! | `POST /fail-next` | `{"platform":"meta","subcode"}` or `{"platform":"tiktok","reason"}` | what the next Instagram container or TikTok publish will fail with |
//! | `GET /clock` | | each clock's Unix time and whether it is frozen |
//! | `POST /clock/advance` | `{"seconds", "platform"?}` | the clocks |
//! | `POST /clock/freeze`, `POST /clock/unfreeze` | `{"platform"?}` or nothing | the clocks |
//! | `POST /reset` | | `{"reset": true}` |
//!
//! **Faults.** `count` (default 1, at most 100 000) queues the fault for the next calls to the
//! endpoint; `rate` (0 to 1) makes that fraction of calls to `endpoints` (default: all of the
//! platform's) fail with one of `faults`, chosen by a generator seeded with `seed` (default 0).
//! `Delay`, `DelayAfterAccept` and `SlowProcessing` need `duration_ms`. Kinds:
//! [`Fault`](crate::Fault)'s variants.
//!
//! ```sh
//! curl -s -X POST "$control_url/faults" -d '{"platform":"meta","endpoint":"Feed","fault":"ServerErrorAfterAccept","count":1}'
//! curl -s -X POST "$control_url/faults" -d '{"platform":"tiktok","rate":0.2,"faults":["ServerError","RateLimited"]}'
//! curl -s -X DELETE "$control_url/faults"
//! ```
//!
//! **Published.** `GET /published/meta` answers `{"platform": "meta", "count": 1, "items":
//! [...]}`; `GET /published` answers every platform's under its name. Items are Meta's posts,
//! photos, videos and Instagram media; TikTok's publishes (with the `request_body` TikTok
//! received); Bluesky's records of every account; Bluesky video jobs; Threads posts; LinkedIn
//! posts (deleted ones flagged); YouTube videos. Each item's `requests` lists the requests
//! during which it appeared (so a create answered by an injected 500 still shows) and the later
//! ones whose path names its id: `method`, `path`, `query`, `status` (`null` when the client
//! left before an answer), `at` (RFC 3339) and `duration_ms`. Requests are recorded from the
//! moment the control API starts; overlapping creates on one platform may both be listed.
//!
//! ```sh
//! curl -s "$control_url/published/meta"
//! curl -s "$control_url/requests?platform=meta"
//! ```
//!
//! **Seeding.** `POST /seed` takes the same document as the program's `--state FILE`; every
//! list is optional, and nothing is added unless the whole document is valid:
//!
//! ```json
//! {
//!   "tiktok_creators": [{"open_id": "creator-2", "private": false, "username": "two",
//!                        "scopes": ["user.info.basic", "video.publish"]}],
//!   "facebook_pages": [{"id": "100000000000002", "name": "Second Page"}],
//!   "instagram_accounts": [{"id": "17841400000000002", "login": "facebook"}],
//!   "bluesky_accounts": [{"handle": "two.bsky.social", "did": "did:plc:two",
//!                         "app_password": "aaaa-bbbb-cccc-dddd"}],
//!   "threads_users": [{"id": "17841400000000102", "username": "two"}],
//!   "linkedin_members": [{"id": "1234567"}],
//!   "linkedin_organizations": [{"id": "7654321", "admin": "1234567"}],
//!   "youtube_channels": [{"id": "UCsecondChannel000000001", "title": "Second"}]
//! }
//! ```
//!
//! TikTok `scopes` default to `user.info.basic`, `video.publish`, `video.upload` and
//! `video.list`; an Instagram `login` is `facebook` (default) or `instagram`. The answer has the
//! same lists, with tokens: `{"open_id", "access_token", "refresh_token"}` per creator, `{"id",
//! "token"}` per Page, Instagram account and Threads user, `{"did", "handle", "access_jwt",
//! "refresh_jwt"}` per Bluesky account, `{"person_urn", "access_token", "refresh_token"}` per
//! LinkedIn member, `{"organization_urn", "admin"}` per organization, `{"id", "access_token",
//! "refresh_token"}` per YouTube channel.
//!
//! ```sh
//! curl -s -X POST "$control_url/seed" -d '{"facebook_pages":[{"id":"100000000000002","name":"Two"}]}'
//! curl -s -X POST "$control_url/tokens/expire" -d '{"platform":"threads","token":"THAA…"}'
//! curl -s -X POST "$control_url/fail-next" -d '{"platform":"meta","subcode":2207026}'
//! ```
//!
//! **Clock.** Bluesky (with its video service), Threads, LinkedIn and YouTube run on a clock
//! that follows the real one plus an offset: `advance` moves it forward (token lifetimes,
//! container expiry, daily budgets), `freeze` stops it (advancing still moves it), `unfreeze`
//! starts it again from where it shows. Meta and TikTok have no such clock: their tokens and
//! processing follow real time; expire a TikTok token with `POST /tokens/expire`, a Meta one
//! with the `ExpiredToken` fault. `GET /clock` lists both groups.
//!
//! ```sh
//! curl -s "$control_url/clock"
//! curl -s -X POST "$control_url/clock/advance" -d '{"seconds": 7200}'
//! curl -s -X POST "$control_url/clock/freeze"
//! curl -s -X POST "$control_url/clock/unfreeze"
//! ```
//!
//! **Reset.** Forgets everything published or in flight (posts, uploads, containers, jobs,
//! quotas and rate-limit windows), queued and random faults, clock moves and the request log;
//! accounts and their tokens stay (those of the program's start line included), and id
//! counters keep counting. The same as [`Sandbox::reset`](crate::Sandbox::reset).
//!
//! ```sh
//! curl -s -X POST "$control_url/reset"
//! ```

mod faults;
mod log;
mod net;
mod published;
mod routes;
mod seed;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use cmis_core::Result;
use tokio::sync::oneshot;

use crate::bluesky::{BlueskySandbox, BlueskyVideoSandbox};
use crate::linkedin::LinkedInSandbox;
use crate::meta::MetaSandbox;
use crate::threads::ThreadsSandbox;
use crate::tiktok::TikTokSandbox;
use crate::youtube::YouTubeSandbox;

pub(crate) use net::Net;
pub(crate) use seed::seed;

/// The fake platforms, as the control API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Platform {
    TikTok,
    Meta,
    Bluesky,
    BlueskyVideo,
    Threads,
    LinkedIn,
    YouTube,
}

impl Platform {
    /// Every platform, in the order of their ports.
    pub(crate) const ALL: [Platform; 7] = [
        Platform::TikTok,
        Platform::Meta,
        Platform::Bluesky,
        Platform::BlueskyVideo,
        Platform::Threads,
        Platform::LinkedIn,
        Platform::YouTube,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Platform::TikTok => "tiktok",
            Platform::Meta => "meta",
            Platform::Bluesky => "bluesky",
            Platform::BlueskyVideo => "bluesky_video",
            Platform::Threads => "threads",
            Platform::LinkedIn => "linkedin",
            Platform::YouTube => "youtube",
        }
    }

    /// The platform called `name`, if any.
    pub(crate) fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Handles on every fake.
#[derive(Debug, Clone)]
pub(crate) struct Fakes {
    pub(crate) tiktok: TikTokSandbox,
    pub(crate) meta: MetaSandbox,
    pub(crate) bluesky: BlueskySandbox,
    pub(crate) bluesky_video: BlueskyVideoSandbox,
    pub(crate) threads: ThreadsSandbox,
    pub(crate) linkedin: LinkedInSandbox,
    pub(crate) youtube: YouTubeSandbox,
}

impl Fakes {
    pub(crate) fn of(sandbox: &crate::Sandbox) -> Fakes {
        Fakes {
            tiktok: sandbox.tiktok().clone(),
            meta: sandbox.meta().clone(),
            bluesky: sandbox.bluesky().clone(),
            bluesky_video: sandbox.bluesky_video().clone(),
            threads: sandbox.threads().clone(),
            linkedin: sandbox.linkedin().clone(),
            youtube: sandbox.youtube().clone(),
        }
    }

    /// Forgets what was published, faults and clock moves; keeps accounts and tokens.
    pub(crate) fn reset(&self) {
        self.tiktok.state.reset();
        self.meta.state.reset();
        self.bluesky_video.state.reset();
        self.bluesky.state.reset();
        self.threads.state.reset();
        self.linkedin.state.reset();
        self.youtube.state.reset();
    }
}

/// The control API's side of a sandbox: the request log the fakes write to, when it is on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wiring {
    shared: Option<Arc<Shared>>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) log: log::RequestLog,
    /// Set once every fake runs.
    pub(crate) fakes: OnceLock<Fakes>,
}

impl Wiring {
    /// The wiring of a sandbox with (`on`) or without the control API.
    pub(crate) fn new(on: bool) -> Wiring {
        Wiring {
            shared: on.then(|| {
                Arc::new(Shared {
                    log: log::RequestLog::default(),
                    fakes: OnceLock::new(),
                })
            }),
        }
    }

    /// `router`, recording its requests when the control API is on.
    pub(crate) fn wrap(&self, platform: Platform, router: axum::Router) -> axum::Router {
        match &self.shared {
            Some(shared) => log::observe(router, platform, shared.clone()),
            None => router,
        }
    }

    /// Starts the control API on `addr` when it is on.
    pub(crate) async fn start(
        &self,
        sandbox: &crate::Sandbox,
        addr: SocketAddr,
    ) -> Result<Option<(SocketAddr, oneshot::Sender<()>)>> {
        let Some(shared) = &self.shared else {
            return Ok(None);
        };
        let fakes = Fakes::of(sandbox);
        let _ = shared.fakes.set(fakes.clone());
        let router = routes::router(fakes, shared.clone());
        crate::serve(router, addr).await.map(Some)
    }

    /// Forgets the recorded requests.
    pub(crate) fn reset(&self) {
        if let Some(shared) = &self.shared {
            shared.log.clear();
        }
    }
}
