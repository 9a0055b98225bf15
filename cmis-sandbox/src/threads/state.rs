//! The fake Threads API's state and rules, apart from HTTP: the clock, users, tokens and the
//! error envelope. Containers are in `state/containers.rs`, publishing and the quota in
//! `state/publish.rs`, reads in `state/reads.rs`, deletes in `state/delete.rs`, the token
//! endpoints in `state/oauth.rs`.

mod containers;
mod delete;
mod oauth;
mod publish;
mod reads;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::{ThreadsConfig, ThreadsContainer, ThreadsEndpoint, ThreadsPost};
use crate::clock::Clock;
use crate::fault::Faults;
use crate::http::token;
use crate::meta::graph_time;

/// Request parameters: the query string merged with a form, JSON or multipart body.
pub(crate) type Params = HashMap<String, String>;

/// The first container id: the container of the troubleshooting page's example
/// (`17889615691921648`, fixture `create_container.json`). Later ones count up from it.
const FIRST_CONTAINER_ID: u64 = 17_889_615_691_921_648;
/// The first media id: odd and above 2^53, so that a client that reads ids as `f64` corrupts
/// them (fixture `user_threads.json`). Media ids count up by two, so every one is odd.
const FIRST_MEDIA_ID: u64 = 18_028_954_791_215_307;

/// Which body an error is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Graph's `{"error":{"message","type","code","error_subcode","fbtrace_id"}}` (brief §4).
    Graph,
    /// The Instagram-style body of the code exchange,
    /// `{"error_type":"OAuthException","code":400,"error_message":…}` (fixture
    /// `oauth_error.json`).
    Instagram,
}

/// A Threads error, as its envelope carries it.
#[derive(Debug, Clone)]
pub(crate) struct ThreadsError {
    pub(crate) status: u16,
    pub(crate) shape: Shape,
    pub(crate) code: i64,
    pub(crate) subcode: Option<i64>,
    /// The envelope's `type`: peers see `THApiException` on code 100 and 10 errors and
    /// `OAuthException` on 190 and 24 (fixture README, "Error `type`").
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) user_title: Option<String>,
    pub(crate) user_msg: Option<String>,
    pub(crate) is_transient: Option<bool>,
}

/// A Graph-envelope error. Threads documents no HTTP status for any error, so 400 is used
/// unless a caller says otherwise (fixture README, "HTTP statuses").
pub(crate) fn error(
    code: i64,
    subcode: Option<i64>,
    kind: &'static str,
    message: impl Into<String>,
) -> ThreadsError {
    ThreadsError {
        status: 400,
        shape: Shape::Graph,
        code,
        subcode,
        kind,
        message: message.into(),
        user_title: None,
        user_msg: None,
        is_transient: None,
    }
}

/// A parameter error: code 100, `THApiException`, in the wording of the one observed body
/// ("Param text must be at most 500 characters long.", fixture `text_too_long`). Every other
/// message built with it is constructed in that style.
pub(crate) fn param(message: impl Into<String>) -> ThreadsError {
    error(100, None, "THApiException", message)
}

/// Graph's answer for an object that does not exist or that this token may not see: code 100,
/// subcode 33 (Graph's wording; undocumented for Threads).
pub(crate) fn no_such_object(id: &str) -> ThreadsError {
    error(
        100,
        Some(33),
        "THApiException",
        format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due \
             to missing permissions, or does not support this operation."
        ),
    )
}

/// A Threads user.
#[derive(Debug, Clone)]
struct User {
    username: String,
}

/// An access token.
#[derive(Debug)]
struct Tok {
    user_id: String,
    long_lived: bool,
    issued_ms: i64,
    expires_ms: i64,
}

/// An authorization code.
#[derive(Debug)]
struct Code {
    user_id: String,
    redirect_uri: String,
    expires_ms: i64,
}

/// A media container.
#[derive(Debug, Clone)]
struct Container {
    id: String,
    user_id: String,
    /// `TEXT`, `IMAGE`, `VIDEO` or `CAROUSEL`.
    media_type: &'static str,
    is_carousel_item: bool,
    children: Vec<String>,
    text: Option<String>,
    media_url: Option<String>,
    alt_text: Option<String>,
    reply_control: Option<String>,
    topic_tag: Option<String>,
    link_attachment: Option<String>,
    reply_to_id: Option<String>,
    quote_post_id: Option<String>,
    created_ms: i64,
    ready_ms: i64,
    /// The `error_message` it ends with, if its media fails processing.
    failure: Option<String>,
    published_as: Option<String>,
    /// The carousel container that took this child.
    used_by: Option<String>,
}

/// A published post and what the reads need beyond [`ThreadsPost`].
#[derive(Debug, Clone)]
struct Published {
    post: ThreadsPost,
    created_ms: i64,
    username: String,
    shortcode: String,
    /// A carousel's children, as media ids.
    child_ids: Vec<String>,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<String, User>,
    tokens: HashMap<String, Tok>,
    codes: HashMap<String, Code>,
    containers: Vec<Container>,
    posts: Vec<Published>,
    /// Each user's publishes: Unix milliseconds, and whether it was a reply.
    publishes: HashMap<String, Vec<(i64, bool)>>,
    /// Each user's deletes, in Unix milliseconds (100 per day, `state/delete.rs`).
    deletes: HashMap<String, Vec<i64>>,
    failing_media_urls: Vec<(String, String)>,
    next_container: u64,
    next_media: u64,
    /// Extra processing time for the next container ([`crate::Fault::SlowProcessing`]).
    pending_slowdown_ms: i64,
    duplicate_publishes: u64,
}

impl Inner {
    fn container(&self, id: &str) -> Option<&Container> {
        self.containers.iter().find(|c| c.id == id)
    }

    fn post(&self, id: &str) -> Option<&Published> {
        self.posts.iter().find(|p| p.post.id == id)
    }
}

/// The fake Threads API's state.
#[derive(Debug)]
pub(crate) struct ThreadsState {
    config: ThreadsConfig,
    base_url: OnceLock<String>,
    inner: Mutex<Inner>,
    pub(crate) faults: Faults<ThreadsEndpoint>,
    /// tokio's (pausable) clock as Unix time, plus how far [`ThreadsState::advance_clock`] moved it.
    clock: Clock,
}

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl ThreadsState {
    pub(crate) fn new(config: ThreadsConfig) -> Self {
        let failing_media_urls = config.failing_media_urls.clone();
        Self {
            config,
            base_url: OnceLock::new(),
            inner: Mutex::new(Inner {
                failing_media_urls,
                ..Inner::default()
            }),
            faults: Faults::new(),
            clock: Clock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn config(&self) -> &ThreadsConfig {
        &self.config
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    /// Now, in Unix milliseconds, on the fake's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The fake's clock, for the control API (freeze, reset).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    fn next_container_id(inner: &mut Inner) -> String {
        let id = FIRST_CONTAINER_ID + inner.next_container;
        inner.next_container += 1;
        id.to_string()
    }

    fn next_media_id(inner: &mut Inner) -> (u64, String) {
        let id = FIRST_MEDIA_ID + 2 * inner.next_media;
        inner.next_media += 1;
        (id, id.to_string())
    }

    pub(crate) fn add_user(&self, user_id: &str, username: &str) {
        self.lock().users.insert(
            user_id.to_owned(),
            User {
                username: username.to_owned(),
            },
        );
    }

    fn insert_token(&self, inner: &mut Inner, user_id: &str, long_lived: bool) -> String {
        inner
            .users
            .entry(user_id.to_owned())
            .or_insert_with(|| User {
                username: user_id.to_owned(),
            });
        let lifetime = if long_lived {
            self.config.token_lifetime
        } else {
            self.config.short_lived_lifetime
        };
        let now = self.now_ms();
        let t = token("TH");
        inner.tokens.insert(
            t.clone(),
            Tok {
                user_id: user_id.to_owned(),
                long_lived,
                issued_ms: now,
                expires_ms: now.saturating_add(millis(lifetime)),
            },
        );
        t
    }

    pub(crate) fn issue_token(&self, user_id: &str, long_lived: bool) -> String {
        let mut inner = self.lock();
        self.insert_token(&mut inner, user_id, long_lived)
    }

    pub(crate) fn expire_token(&self, t: &str) {
        let now = self.now_ms();
        if let Some(tok) = self.lock().tokens.get_mut(t) {
            tok.expires_ms = tok.expires_ms.min(now);
        }
    }

    pub(crate) fn fail_media_url(&self, pattern: &str, error_message: &str) {
        self.lock()
            .failing_media_urls
            .push((pattern.to_owned(), error_message.to_owned()));
    }

    pub(crate) fn slow_next_container(&self, extra: Duration) {
        let mut inner = self.lock();
        inner.pending_slowdown_ms = inner.pending_slowdown_ms.saturating_add(millis(extra));
    }

    pub(crate) fn set_quota_used(&self, user_id: &str, n: u32, reply: bool) {
        let now = self.now_ms();
        let mut inner = self.lock();
        let list = inner.publishes.entry(user_id.to_owned()).or_default();
        list.retain(|&(_, r)| r != reply);
        list.extend((0..n).map(|_| (now, reply)));
    }

    pub(crate) fn duplicate_publish_attempts(&self) -> u64 {
        self.lock().duplicate_publishes
    }

    pub(crate) fn posts(&self) -> Vec<ThreadsPost> {
        self.lock().posts.iter().map(|p| p.post.clone()).collect()
    }

    pub(crate) fn containers(&self) -> Vec<ThreadsContainer> {
        let now = self.now_ms();
        let inner = self.lock();
        inner
            .containers
            .iter()
            .map(|c| {
                let (status, error_message) = self.status(c, now);
                ThreadsContainer {
                    id: c.id.clone(),
                    user_id: c.user_id.clone(),
                    media_type: c.media_type.to_owned(),
                    is_carousel_item: c.is_carousel_item,
                    children: c.children.clone(),
                    status: status.to_owned(),
                    error_message: error_message.map(str::to_owned),
                    published_id: c.published_as.clone(),
                }
            })
            .collect()
    }

    pub(crate) fn is_container(&self, id: &str) -> bool {
        self.lock().container(id).is_some()
    }

    /// A container's status and `error_message` (troubleshooting table, brief §2.2): published
    /// wins; then processing (`container_ready_after`); then a failed medium's `ERROR`; then
    /// `EXPIRED` once `container_lifetime` has passed unpublished.
    fn status<'c>(&self, c: &'c Container, now: i64) -> (&'static str, Option<&'c str>) {
        if c.published_as.is_some() {
            ("PUBLISHED", None)
        } else if now < c.ready_ms {
            ("IN_PROGRESS", None)
        } else if let Some(failure) = &c.failure {
            ("ERROR", Some(failure))
        } else if now
            >= c.created_ms
                .saturating_add(millis(self.config.container_lifetime))
        {
            ("EXPIRED", None)
        } else {
            ("FINISHED", None)
        }
    }

    /// The user a token belongs to.
    ///
    /// No token: Graph's code 104 (not in the brief; Graph's answer to a call without one).
    /// Unknown: code 190 "Invalid OAuth access token". Expired: code 190, subcode 463, "Error
    /// validating access token: Session has expired…" (fixture `token_expired`; Postiz matches
    /// the "Error validating access token" prefix, brief §1).
    fn user_of(&self, inner: &Inner, t: Option<&str>) -> Result<String, ThreadsError> {
        let Some(t) = t else {
            return Err(error(
                104,
                None,
                "OAuthException",
                "An access token is required to request this resource.",
            ));
        };
        let Some(tok) = inner.tokens.get(t) else {
            return Err(error(
                190,
                None,
                "OAuthException",
                "Invalid OAuth access token - Cannot parse access token",
            ));
        };
        let now = self.now_ms();
        if now >= tok.expires_ms {
            return Err(error(
                190,
                Some(463),
                "OAuthException",
                format!(
                    "Error validating access token: Session has expired on {}. The current time \
                     is {}.",
                    graph_time(tok.expires_ms / 1000),
                    graph_time(now / 1000)
                ),
            ));
        }
        Ok(tok.user_id.clone())
    }

    /// Checks that the token may act as the user in the path (`me` is the token's own user).
    ///
    /// A token used on another known user's edge gets code 10, `THApiException`, in Graph's
    /// "(#10) Application does not have permission for this action" wording: peers observe code
    /// 10 with `THApiException` on Threads (fixture README), and a token grants access to its own
    /// profile only. An id that is no user at all gets the "does not exist" answer.
    fn owner(
        &self,
        inner: &Inner,
        t: Option<&str>,
        path_user: &str,
    ) -> Result<String, ThreadsError> {
        let user = self.user_of(inner, t)?;
        if path_user == "me" || path_user == user {
            Ok(user)
        } else if inner.users.contains_key(path_user) {
            Err(error(
                10,
                None,
                "THApiException",
                "(#10) Application does not have permission for this action",
            ))
        } else {
            Err(no_such_object(path_user))
        }
    }
}

/// An Instagram-style shortcode of a media id (base 64 in Instagram's alphabet), for the
/// permalink `https://www.threads.net/@{username}/post/{shortcode}` (fixture `permalink.json`).
fn shortcode(mut id: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    while id > 0 {
        out.push(ALPHABET[usize::try_from(id % 64).unwrap_or(0)]);
        id /= 64;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The control API's hooks.
impl ThreadsState {
    /// Forgets containers, posts, quotas, faults and clock moves; keeps users, tokens, failing
    /// media URLs and the id counters.
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut *inner);
        *inner = Inner {
            users: old.users,
            tokens: old.tokens,
            codes: old.codes,
            failing_media_urls: old.failing_media_urls,
            next_container: old.next_container,
            next_media: old.next_media,
            ..Inner::default()
        };
        drop(inner);
        self.faults.clear();
        self.clock.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_are_base64_of_the_media_id() {
        assert_eq!(shortcode(0), "");
        assert_eq!(shortcode(63), "_");
        assert_eq!(shortcode(64), "BA");
        assert_eq!(shortcode(FIRST_MEDIA_ID).len(), 10);
    }
}
