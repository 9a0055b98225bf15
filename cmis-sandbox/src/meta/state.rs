//! The fake Meta's state and rules, apart from HTTP.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{InstagramLogin, MetaConfig, MetaEndpoint, MetaPost};
use crate::fault::Faults;
use crate::http::token;

mod facebook;
mod graph;
mod insights;
mod instagram;
mod listing;
mod metrics;
mod nodes;
mod objects;
mod params;
mod reset;
mod tokens;
mod video;

pub(crate) use graph::{Field, graph_time, parse_fields, parse_time, project};
pub(crate) use listing::Edge;
pub(crate) use objects::ObjectKind;

const CAPTION_MAX_CHARS: usize = 2200;
const CONTAINER_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const SCHEDULE_MIN: i64 = 10 * 60;
const SCHEDULE_MAX: i64 = 30 * 86_400;

/// A Graph API error, as the envelope carries it.
#[derive(Debug, Clone)]
pub(crate) struct GraphError {
    pub(crate) status: u16,
    /// The envelope's `type`: `OAuthException`, or `GraphMethodException` for a request on an
    /// object that does not exist or does not support it.
    pub(crate) kind: &'static str,
    pub(crate) code: i64,
    pub(crate) subcode: Option<i64>,
    pub(crate) message: String,
    pub(crate) user_title: Option<String>,
    pub(crate) user_msg: Option<String>,
    pub(crate) is_transient: Option<bool>,
}

pub(crate) fn graph_error(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    message: impl Into<String>,
) -> GraphError {
    GraphError {
        status,
        kind: "OAuthException",
        code,
        subcode,
        message: message.into(),
        user_title: None,
        user_msg: None,
        is_transient: None,
    }
}

/// Graph's answer to a request on an id that is not there, or that does not take this
/// method: code 100, subcode 33, type `GraphMethodException` (the Graph API's error-handling
/// guide; the message as Graph writes it).
pub(crate) fn unsupported(method: &str, id: &str) -> GraphError {
    let mut e = graph_error(
        400,
        100,
        Some(33),
        format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
    );
    e.kind = "GraphMethodException";
    e
}

fn invalid_param(message: impl Into<String>) -> GraphError {
    graph_error(400, 100, None, format!("(#100) {}", message.into()))
}

/// What a rupload `POST` carried: the `offset` and `file_size` headers, the body length, or a
/// `file_url` header instead of a body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuploadBody<'a> {
    pub(crate) offset: Option<u64>,
    pub(crate) file_size: Option<u64>,
    pub(crate) len: u64,
    pub(crate) file_url: Option<&'a str>,
}

/// Request parameters, from the query string, a form body or multipart fields.
pub(crate) type Params = HashMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    User(String),
    Page(String),
    Instagram(String, InstagramLogin),
}

#[derive(Debug)]
struct Tok {
    subject: Subject,
    scopes: BTreeSet<String>,
    expires_at: Option<Instant>,
    issued_at: Instant,
}

#[derive(Debug)]
struct Upload {
    file_length: u64,
    offset: u64,
    handle: Option<String>,
}

#[derive(Debug)]
struct Reel {
    page_id: String,
    received: u64,
    finished: bool,
    /// The `video_state` it was finished with.
    state: Option<String>,
}

#[derive(Debug)]
struct Container {
    owner: String,
    kind: String,
    caption: Option<String>,
    media: Vec<String>,
    created_at: Instant,
    ready_at: Instant,
    awaiting_upload: bool,
    published_as: Option<String>,
    /// The Instagram subcode it fails with once processed (`status_code` `ERROR`).
    error: Option<i64>,
}

#[derive(Debug, Default)]
struct Inner {
    tokens: HashMap<String, Tok>,
    pages: HashMap<String, String>,
    instagram: HashMap<String, InstagramLogin>,
    posts: Vec<MetaPost>,
    /// When a post or photo was last edited (`POST /{id}`), in Unix seconds.
    edited: HashMap<String, i64>,
    uploads: HashMap<String, Upload>,
    handles: BTreeSet<String>,
    reels: HashMap<String, Reel>,
    containers: HashMap<String, Container>,
    permalinks: HashMap<String, String>,
    ig_publishes: HashMap<String, Vec<Instant>>,
    duplicates: u64,
    next_id: u64,
    /// Extra processing time for the next container (fault injection).
    pending_slowdown: Duration,
    /// The subcode the next container fails processing with.
    pending_error: Option<i64>,
}

/// The fake Meta's state.
#[derive(Debug)]
pub(crate) struct MetaState {
    config: MetaConfig,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<MetaEndpoint>,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn to_unix(at: Instant) -> i64 {
    let now = Instant::now();
    let delta = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    if at >= now {
        unix_now().saturating_add(delta(at - now))
    } else {
        unix_now().saturating_sub(delta(now - at))
    }
}

impl MetaState {
    pub(crate) fn new(config: MetaConfig) -> Self {
        Self {
            config,
            base_url: OnceLock::new(),
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            faults: Faults::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn config(&self) -> MetaConfig {
        self.config.clone()
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    fn next_id(inner: &mut Inner, base: u64) -> String {
        let id = base + inner.next_id;
        inner.next_id += 1;
        id.to_string()
    }

    fn insert_token(
        inner: &mut Inner,
        subject: Subject,
        scopes: &[&str],
        lifetime: Option<Duration>,
    ) -> String {
        let t = token("EAAB");
        let now = Instant::now();
        inner.tokens.insert(
            t.clone(),
            Tok {
                subject,
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                expires_at: lifetime.map(|l| now + l),
                issued_at: now,
            },
        );
        t
    }

    pub(crate) fn add_page(&self, page_id: &str, name: &str) -> String {
        let mut inner = self.lock();
        inner.pages.insert(page_id.to_owned(), name.to_owned());
        Self::insert_token(
            &mut inner,
            Subject::Page(page_id.to_owned()),
            &[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
                "publish_video",
                "read_insights",
            ],
            None,
        )
    }

    pub(crate) fn add_instagram(&self, ig_user_id: &str, login: InstagramLogin) -> String {
        let mut inner = self.lock();
        inner.instagram.insert(ig_user_id.to_owned(), login);
        let (scopes, lifetime): (&[&str], _) = match login {
            InstagramLogin::Facebook => (
                &[
                    "instagram_basic",
                    "instagram_content_publish",
                    "instagram_manage_insights",
                    "pages_read_engagement",
                ],
                None,
            ),
            InstagramLogin::Instagram => (
                &[
                    "instagram_business_basic",
                    "instagram_business_content_publish",
                    "instagram_business_manage_insights",
                ],
                Some(self.config.long_lived_lifetime),
            ),
        };
        Self::insert_token(
            &mut inner,
            Subject::Instagram(ig_user_id.to_owned(), login),
            scopes,
            lifetime,
        )
    }

    pub(crate) fn issue_user_token(&self, user_id: &str, lifetime: Duration) -> String {
        let mut inner = self.lock();
        Self::insert_token(
            &mut inner,
            Subject::User(user_id.to_owned()),
            &[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
            ],
            Some(lifetime),
        )
    }

    pub(crate) fn age_token(&self, t: &str, age: Duration) {
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.issued_at = Instant::now().checked_sub(age).unwrap_or(tok.issued_at);
        }
    }

    pub(crate) fn expire_token(&self, t: &str) {
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.expires_at = Some(Instant::now());
        }
    }

    /// The account a business use case limit counts against, with its throttle code: the
    /// Page (80001) or Instagram account (80002) the call is made on, else the token's owner
    /// (17 for a user).
    pub(crate) fn throttle_target(
        &self,
        owner: Option<&str>,
        t: Option<&str>,
    ) -> Option<(String, i64)> {
        let inner = self.lock();
        if let Some(id) = owner {
            if inner.pages.contains_key(id) {
                return Some((id.to_owned(), 80_001));
            }
            if inner.instagram.contains_key(id) {
                return Some((id.to_owned(), 80_002));
            }
        }
        let tok = inner.tokens.get(t?)?;
        Some(match &tok.subject {
            Subject::Page(p) => (p.clone(), 80_001),
            Subject::Instagram(i, _) => (i.clone(), 80_002),
            Subject::User(u) => (u.clone(), 17),
        })
    }

    /// The business use case type of `owner` in `X-Business-Use-Case-Usage`: `instagram` for an
    /// Instagram account, `pages` otherwise.
    pub(crate) fn usage_type(&self, owner: &str) -> &'static str {
        if self.lock().instagram.contains_key(owner) {
            "instagram"
        } else {
            "pages"
        }
    }

    /// Whether `id` is an Instagram account.
    pub(crate) fn is_instagram(&self, id: &str) -> bool {
        self.lock().instagram.contains_key(id)
    }

    pub(crate) fn slow_next_container(&self, extra: Duration) {
        self.lock().pending_slowdown += extra;
    }

    pub(crate) fn posts(&self) -> Vec<MetaPost> {
        self.lock().posts.clone()
    }

    pub(crate) fn age_post(&self, id: &str, age: Duration) {
        let secs = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
        for post in self.lock().posts.iter_mut().filter(|p| p.id == id) {
            post.created_time = post.created_time.map(|t| t.saturating_sub(secs));
        }
    }

    pub(crate) fn duplicate_publish_attempts(&self) -> u64 {
        self.lock().duplicates
    }

    fn subject(&self, inner: &Inner, t: Option<&str>) -> Result<Subject, GraphError> {
        let Some(tok) = t.and_then(|t| inner.tokens.get(t)) else {
            return Err(graph_error(
                400,
                190,
                Some(467),
                "Invalid OAuth access token - Cannot parse access token",
            ));
        };
        if tok.expires_at.is_some_and(|e| e <= Instant::now()) {
            return Err(graph_error(
                400,
                190,
                Some(463),
                "Error validating access token: Session has expired.",
            ));
        }
        Ok(tok.subject.clone())
    }

    fn page_token(&self, inner: &Inner, t: Option<&str>, page_id: &str) -> Result<(), GraphError> {
        match self.subject(inner, t)? {
            Subject::Page(p) if p == page_id => Ok(()),
            Subject::Page(_) => Err(graph_error(
                403,
                200,
                None,
                "(#200) The token does not belong to this Page.",
            )),
            _ => Err(graph_error(
                403,
                200,
                None,
                "(#200) Unpublished posts must be posted to a page as the page itself.",
            )),
        }
    }

    /// A read of a Page's posts: a Page token of that Page. A user token is refused as Graph
    /// refuses it on Page reads, with code 190 "(#190) This method must be called with a Page
    /// Access Token" (not in Meta's reference pages; the answer reported by Graph users, e.g.
    /// <https://github.com/pablobarbera/Rfacebook/issues/174>). Another Page's token lacks access
    /// to this Page's posts (code 10, as for Page Public Content Access).
    fn page_read_token(
        &self,
        inner: &Inner,
        t: Option<&str>,
        page_id: &str,
    ) -> Result<(), GraphError> {
        match self.subject(inner, t)? {
            Subject::Page(p) if p == page_id => Ok(()),
            Subject::Page(_) => Err(graph_error(
                400,
                10,
                None,
                "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' feature",
            )),
            Subject::User(_) | Subject::Instagram(..) => Err(graph_error(
                400,
                190,
                None,
                "(#190) This method must be called with a Page Access Token",
            )),
        }
    }

    fn ig_token(&self, inner: &Inner, t: Option<&str>, ig_user: &str) -> Result<(), GraphError> {
        match self.subject(inner, t)? {
            Subject::Instagram(id, _) if id == ig_user => Ok(()),
            _ => Err(graph_error(
                403,
                10,
                None,
                "(#10) Application does not have permission for this action",
            )),
        }
    }

    /// The Graph version that serves a request made to `version` (a path segment such as
    /// `v25.0`), as Meta's Platform Versioning guide describes it: a version still available
    /// serves itself; an expired one is served by the oldest available version ("once a version
    /// is no longer usable, any calls made to it will be defaulted to the next oldest usable
    /// version"). A version Graph never had (`v99.0`, `v25.1`, `25.0`) is not a version but an
    /// unknown path, refused with code 2500 as Graph refuses it ("Unknown path components").
    pub(crate) fn served_version(&self, version: &str, path: &str) -> Result<String, GraphError> {
        let (oldest, latest) = (self.config.oldest_version, self.config.latest_version);
        let known = version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .and_then(|(major, minor)| {
                Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
            })
            .filter(|&(major, minor)| {
                version == format!("v{major}.{minor}")
                    && match major {
                        // v1.0, v2.0 to v2.12 and v3.0 to v3.3 came before the one-number
                        // versions.
                        1 => minor == 0,
                        2 => minor <= 12,
                        3 => minor <= 3,
                        m => (4..=latest.max(oldest)).contains(&m) && minor == 0,
                    }
            });
        match known {
            Some((major, _)) if major >= oldest => Ok(version.to_owned()),
            Some(_) => Ok(format!("v{oldest}.0")),
            None => Err(graph_error(
                400,
                2500,
                None,
                format!("Unknown path components: {path}"),
            )),
        }
    }

    // ----- Facebook Pages -----
}
