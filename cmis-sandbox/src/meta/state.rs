//! The fake Meta's state and rules, apart from HTTP.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{InstagramLogin, MetaConfig, MetaEndpoint, MetaPost};
use crate::fault::Faults;
use crate::http::token;

mod listing;
mod video;

pub(crate) use listing::Edge;

const CAPTION_MAX_CHARS: usize = 2200;
const CONTAINER_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const SCHEDULE_MIN: i64 = 10 * 60;
const SCHEDULE_MAX: i64 = 30 * 86_400;

/// A Graph API error, as the envelope carries it.
#[derive(Debug, Clone)]
pub(crate) struct GraphError {
    pub(crate) status: u16,
    pub(crate) code: i64,
    pub(crate) subcode: Option<i64>,
    pub(crate) message: String,
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
        code,
        subcode,
        message: message.into(),
        user_msg: None,
        is_transient: None,
    }
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
}

#[derive(Debug, Default)]
struct Inner {
    tokens: HashMap<String, Tok>,
    pages: HashMap<String, String>,
    instagram: HashMap<String, InstagramLogin>,
    posts: Vec<MetaPost>,
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
                    "pages_read_engagement",
                ],
                None,
            ),
            InstagramLogin::Instagram => (
                &[
                    "instagram_business_basic",
                    "instagram_business_content_publish",
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

    /// Checks a version path segment such as `v25.0`.
    pub(crate) fn check_version(&self, version: &str) -> Result<(), GraphError> {
        let major = version
            .strip_prefix('v')
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok());
        match major {
            Some(m) if m >= self.config.oldest_version => Ok(()),
            Some(_) => Err(graph_error(
                400,
                2635,
                None,
                format!("Graph API {version} has expired and is no longer available."),
            )),
            None => Err(graph_error(400, 2500, None, "Unknown path components")),
        }
    }

    // ----- Facebook Pages -----

    pub(crate) fn feed(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        let message = p.get("message").cloned();
        let link = p.get("link").cloned();
        let attached: Vec<String> = match p.get("attached_media") {
            Some(raw) => {
                let v: Value = serde_json::from_str(raw)
                    .map_err(|_| invalid_param("attached_media must be a JSON array"))?;
                v.as_array()
                    .ok_or_else(|| invalid_param("attached_media must be a JSON array"))?
                    .iter()
                    .map(|m| {
                        m.get("media_fbid")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| invalid_param("attached_media items need media_fbid"))?
            }
            None => Vec::new(),
        };
        for id in &attached {
            let owned = inner
                .posts
                .iter()
                .any(|x| &x.id == id && x.kind == "photo" && x.owner == page_id && !x.published);
            if !owned {
                return Err(invalid_param(format!(
                    "attached_media {id} is not an unpublished photo of this Page"
                )));
            }
        }
        if message.as_deref().is_none_or(str::is_empty) && link.is_none() && attached.is_empty() {
            return Err(invalid_param(
                "The post is empty: give message, link or attached_media",
            ));
        }
        let published = p.get("published").is_none_or(|v| v != "false");
        let scheduled = match p.get("scheduled_publish_time") {
            Some(raw) => {
                let at: i64 = raw
                    .parse()
                    .map_err(|_| invalid_param("scheduled_publish_time must be a Unix time"))?;
                let delta = at - unix_now();
                if published || !(SCHEDULE_MIN..=SCHEDULE_MAX).contains(&delta) {
                    return Err(invalid_param(
                        "The specified scheduled publish time is invalid: it must be between 10 minutes and 30 days from now, with published=false",
                    ));
                }
                Some(at)
            }
            None => None,
        };
        let id = format!(
            "{page_id}_{}",
            Self::next_id(&mut inner, 100_000_000_000_000)
        );
        let mut media = attached;
        media.extend(link);
        inner.posts.push(MetaPost {
            id: id.clone(),
            owner: page_id.to_owned(),
            kind: "feed".into(),
            message,
            published: published && scheduled.is_none(),
            scheduled_publish_time: scheduled,
            media,
            created_time: (published && scheduled.is_none()).then(unix_now),
        });
        Ok(json!({ "id": id }))
    }

    pub(crate) fn photos(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
        source_len: Option<usize>,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        let media = match (p.get("url"), source_len) {
            (Some(url), None) => url.clone(),
            (None, Some(len)) if len > 0 => format!("source:{len} bytes"),
            _ => {
                return Err(invalid_param(
                    "Give exactly one of url or a multipart source",
                ));
            }
        };
        let published = p.get("published").is_none_or(|v| v != "false");
        let photo_id = Self::next_id(&mut inner, 200_000_000_000_000);
        inner.posts.push(MetaPost {
            id: photo_id.clone(),
            owner: page_id.to_owned(),
            kind: "photo".into(),
            message: p.get("message").or_else(|| p.get("caption")).cloned(),
            published,
            scheduled_publish_time: None,
            media: vec![media],
            created_time: published.then(unix_now),
        });
        if published {
            Ok(json!({ "id": photo_id, "post_id": format!("{page_id}_{photo_id}") }))
        } else {
            Ok(json!({ "id": photo_id }))
        }
    }

    pub(crate) fn start_upload(
        &self,
        t: Option<&str>,
        app_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        if app_id != self.config.app_id {
            return Err(graph_error(
                400,
                100,
                Some(33),
                "Unsupported post request. Object does not exist.",
            ));
        }
        let length: u64 = p
            .get("file_length")
            .and_then(|v| v.parse().ok())
            .filter(|l| *l > 0)
            .ok_or_else(|| invalid_param("file_length is required"))?;
        if p.get("file_type")
            .is_none_or(|t| !t.starts_with("video/") && !t.starts_with("image/"))
        {
            return Err(invalid_param(
                "file_type is required (video/mp4, image/jpeg, ...)",
            ));
        }
        let id = format!("upload:{}", token("MTp"));
        inner.uploads.insert(
            id.clone(),
            Upload {
                file_length: length,
                offset: 0,
                handle: None,
            },
        );
        Ok(json!({ "id": id }))
    }

    pub(crate) fn upload_status(
        &self,
        t: Option<&str>,
        session: &str,
    ) -> Result<Value, GraphError> {
        let inner = self.lock();
        self.subject(&inner, t)?;
        let up = inner
            .uploads
            .get(session)
            .ok_or_else(|| invalid_param("Unknown upload session"))?;
        Ok(json!({ "id": session, "file_offset": up.offset }))
    }

    pub(crate) fn upload_bytes(
        &self,
        t: Option<&str>,
        session: &str,
        file_offset: Option<u64>,
        len: u64,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        let up = inner
            .uploads
            .get_mut(session)
            .ok_or_else(|| invalid_param("Unknown upload session"))?;
        let Some(offset) = file_offset else {
            return Err(invalid_param("The file_offset header is required"));
        };
        if offset != up.offset {
            return Err(graph_error(
                400,
                100,
                None,
                format!("(#100) file_offset must be {}", up.offset),
            ));
        }
        if offset + len > up.file_length {
            return Err(invalid_param("More bytes than file_length"));
        }
        up.offset += len;
        if up.offset < up.file_length {
            return Ok(json!({ "id": session, "file_offset": up.offset }));
        }
        let handle = up
            .handle
            .get_or_insert_with(|| format!("4:{}", token("")))
            .clone();
        inner.handles.insert(handle.clone());
        Ok(json!({ "h": handle }))
    }

    pub(crate) fn videos(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        let handle = p
            .get("fbuploader_video_file_chunk")
            .ok_or_else(|| invalid_param("fbuploader_video_file_chunk is required"))?;
        if !inner.handles.contains(handle) {
            return Err(invalid_param("The upload handle is unknown or incomplete"));
        }
        let id = Self::next_id(&mut inner, 300_000_000_000_000);
        inner.posts.push(MetaPost {
            id: id.clone(),
            owner: page_id.to_owned(),
            kind: "video".into(),
            message: p.get("description").cloned(),
            published: true,
            scheduled_publish_time: None,
            media: vec![handle.clone()],
            created_time: Some(unix_now()),
        });
        Ok(json!({ "id": id }))
    }

    pub(crate) fn reels(
        &self,
        t: Option<&str>,
        page_id: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.page_token(&inner, t, page_id)?;
        match p.get("upload_phase").map(String::as_str) {
            Some("start") => {
                let video_id = Self::next_id(&mut inner, 400_000_000_000_000);
                inner.reels.insert(
                    video_id.clone(),
                    Reel {
                        page_id: page_id.to_owned(),
                        received: 0,
                        finished: false,
                        state: None,
                    },
                );
                let version = p.get("__version").cloned().unwrap_or_default();
                Ok(json!({
                    "video_id": video_id,
                    "upload_url": format!("{}/video-upload/{version}/{video_id}", self.base_url()),
                }))
            }
            Some("finish") => {
                let video_id = p
                    .get("video_id")
                    .ok_or_else(|| invalid_param("video_id is required"))?;
                let reel = inner
                    .reels
                    .get_mut(video_id)
                    .filter(|r| r.page_id == page_id)
                    .ok_or_else(|| invalid_param("Unknown video_id"))?;
                if reel.received == 0 {
                    return Err(invalid_param("The video has not been uploaded"));
                }
                if reel.finished {
                    return Err(invalid_param("The reel was already finished"));
                }
                if !matches!(
                    p.get("video_state").map(String::as_str),
                    Some("PUBLISHED" | "DRAFT" | "SCHEDULED")
                ) {
                    return Err(invalid_param(
                        "video_state must be PUBLISHED, DRAFT or SCHEDULED",
                    ));
                }
                reel.finished = true;
                reel.state = p.get("video_state").cloned();
                let published = p.get("video_state").is_some_and(|s| s == "PUBLISHED");
                inner.posts.push(MetaPost {
                    id: video_id.clone(),
                    owner: page_id.to_owned(),
                    kind: "reel".into(),
                    message: p.get("description").cloned(),
                    published,
                    scheduled_publish_time: None,
                    media: Vec::new(),
                    created_time: published.then(unix_now),
                });
                Ok(json!({ "success": true }))
            }
            _ => Err(invalid_param("upload_phase must be start or finish")),
        }
    }

    /// rupload: reels (`video-upload`) and Instagram resumable containers (`ig-api-upload`).
    pub(crate) fn rupload(
        &self,
        t: Option<&str>,
        kind: &str,
        id: &str,
        body: &RuploadBody<'_>,
    ) -> Result<Value, GraphError> {
        let RuploadBody {
            offset,
            file_size,
            len,
            file_url,
        } = *body;
        let mut inner = self.lock();
        self.subject(&inner, t)?;
        let bytes = match (file_url, offset, file_size) {
            (Some(_), _, _) => 1,
            (None, Some(0), Some(size)) if size == len && len > 0 => len,
            _ => {
                return Err(invalid_param(
                    "Send offset: 0 and file_size equal to the body, or a file_url header",
                ));
            }
        };
        match kind {
            "video-upload" => {
                let reel = inner
                    .reels
                    .get_mut(id)
                    .ok_or_else(|| invalid_param("Unknown video id"))?;
                reel.received = bytes;
            }
            "ig-api-upload" => {
                let processing = self.config.container_processing_time;
                let c = inner
                    .containers
                    .get_mut(id)
                    .filter(|c| c.awaiting_upload)
                    .ok_or_else(|| invalid_param("Unknown resumable container"))?;
                c.awaiting_upload = false;
                c.ready_at = Instant::now() + processing;
            }
            _ => return Err(invalid_param("Unknown upload kind")),
        }
        Ok(json!({ "success": true, "message": "Upload successful." }))
    }

    // ----- Instagram -----

    pub(crate) fn create_container(
        &self,
        t: Option<&str>,
        ig_user: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let caption = p.get("caption").cloned();
        if caption
            .as_deref()
            .is_some_and(|c| c.chars().count() > CAPTION_MAX_CHARS)
        {
            let mut e = graph_error(400, 36004, Some(2_207_010), "The caption is too long.");
            e.user_msg = Some("The caption is longer than 2,200 characters.".into());
            return Err(e);
        }
        let media_type = p.get("media_type").map(String::as_str).unwrap_or("IMAGE");
        let resumable = p.get("upload_type").is_some_and(|u| u == "resumable");
        let (kind, media) = match media_type {
            "CAROUSEL" => {
                let children: Vec<String> = p
                    .get("children")
                    .map(|c| {
                        c.split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                if !(2..=10).contains(&children.len()) {
                    return Err(graph_error(
                        400,
                        100,
                        Some(2_207_028),
                        "Carousels need between 2 and 10 items.",
                    ));
                }
                for child in &children {
                    let ok = inner
                        .containers
                        .get(child)
                        .is_some_and(|c| c.owner == ig_user && c.kind.ends_with("carousel_item"));
                    if !ok {
                        return Err(invalid_param(format!(
                            "children: {child} is not a carousel item of this account"
                        )));
                    }
                }
                ("ig_carousel", children)
            }
            "REELS" | "STORIES" | "VIDEO" | "IMAGE" => {
                let url = match media_type {
                    "IMAGE" => p.get("image_url"),
                    "STORIES" => p.get("image_url").or_else(|| p.get("video_url")),
                    _ => p.get("video_url"),
                };
                if url.is_none() && !resumable {
                    return Err(invalid_param("image_url or video_url is required"));
                }
                let carousel_item = p.get("is_carousel_item").is_some_and(|v| v == "true");
                let kind = match (media_type, carousel_item) {
                    ("IMAGE", true) => "ig_image_carousel_item",
                    ("VIDEO", true) => "ig_video_carousel_item",
                    ("VIDEO", false) => {
                        return Err(invalid_param("Unsupported media type VIDEO: use REELS"));
                    }
                    ("IMAGE", false) => "ig_image",
                    ("REELS", _) => "ig_reel",
                    _ => "ig_story",
                };
                (kind, url.cloned().into_iter().collect())
            }
            other => {
                return Err(invalid_param(format!(
                    "media_type {other} is not supported"
                )));
            }
        };
        let id = Self::next_id(&mut inner, 17_889_000_000_000_000);
        let now = Instant::now();
        let slowdown = std::mem::take(&mut inner.pending_slowdown);
        inner.containers.insert(
            id.clone(),
            Container {
                owner: ig_user.to_owned(),
                kind: kind.to_owned(),
                caption,
                media,
                created_at: now,
                ready_at: now + self.config.container_processing_time + slowdown,
                awaiting_upload: resumable,
                published_as: None,
            },
        );
        Ok(json!({ "id": id }))
    }

    fn container_status(&self, c: &Container, now: Instant) -> &'static str {
        if c.published_as.is_some() {
            "PUBLISHED"
        } else if now >= c.created_at + CONTAINER_LIFETIME {
            "EXPIRED"
        } else if c.awaiting_upload || now < c.ready_at {
            "IN_PROGRESS"
        } else {
            "FINISHED"
        }
    }

    /// `GET /{id}`: a container's status, a video's status, an upload session or a permalink.
    pub(crate) fn get_object(
        &self,
        t: Option<&str>,
        id: &str,
        fields: &str,
    ) -> Result<Value, GraphError> {
        let inner = self.lock();
        self.subject(&inner, t)?;
        if let Some(c) = inner.containers.get(id) {
            let status = self.container_status(c, Instant::now());
            return Ok(json!({ "id": id, "status_code": status, "status": status }));
        }
        if let Some(link) = inner.permalinks.get(id) {
            let _ = fields;
            return Ok(json!({ "id": id, "permalink": link }));
        }
        if let Some(v) = self.video_status(&inner, id) {
            return Ok(v);
        }
        if let Some(up) = inner.uploads.get(id) {
            return Ok(json!({ "id": id, "file_offset": up.offset }));
        }
        Err(graph_error(
            400,
            100,
            Some(33),
            format!("Unsupported get request. Object with ID '{id}' does not exist"),
        ))
    }

    pub(crate) fn publishing_limit(
        &self,
        t: Option<&str>,
        ig_user: &str,
    ) -> Result<Value, GraphError> {
        let inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let used = self.quota_used(&inner, ig_user);
        Ok(
            json!({ "data": [{ "quota_usage": used, "config": { "quota_total": self.config.publishing_quota, "quota_duration": 86400 } }] }),
        )
    }

    fn quota_used(&self, inner: &Inner, ig_user: &str) -> usize {
        let now = Instant::now();
        inner.ig_publishes.get(ig_user).map_or(0, |v| {
            v.iter()
                .filter(|t| now.duration_since(**t) < Duration::from_secs(86_400))
                .count()
        })
    }

    pub(crate) fn media_publish(
        &self,
        t: Option<&str>,
        ig_user: &str,
        p: &Params,
    ) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        self.ig_token(&inner, t, ig_user)?;
        let creation_id = p
            .get("creation_id")
            .ok_or_else(|| invalid_param("creation_id is required"))?
            .clone();
        let now = Instant::now();
        let Some(c) = inner
            .containers
            .get(&creation_id)
            .filter(|c| c.owner == ig_user)
        else {
            return Err(invalid_param(format!(
                "creation_id {creation_id} is not a container of this account"
            )));
        };
        match self.container_status(c, now) {
            "FINISHED" => {}
            "PUBLISHED" => {
                inner.duplicates += 1;
                return Err(invalid_param("The media has already been published"));
            }
            "EXPIRED" => {
                return Err(graph_error(
                    400,
                    -2,
                    Some(2_207_020),
                    "The media container has expired.",
                ));
            }
            _ => {
                let mut e = graph_error(400, 9007, Some(2_207_027), "Media ID is not available");
                e.user_msg =
                    Some("The media is not ready for publishing, please wait for a moment".into());
                return Err(e);
            }
        }
        if c.kind.ends_with("carousel_item") {
            return Err(invalid_param(
                "A carousel item cannot be published on its own",
            ));
        }
        if self.quota_used(&inner, ig_user)
            >= usize::try_from(self.config.publishing_quota).unwrap_or(usize::MAX)
        {
            return Err(graph_error(
                400,
                9,
                Some(2_207_042),
                "You have reached the maximum number of posts that can be published in 24 hours.",
            ));
        }
        let media_id = Self::next_id(&mut inner, 17_900_000_000_000_000);
        let (kind, caption, media) = {
            let c = inner
                .containers
                .get_mut(&creation_id)
                .ok_or_else(|| invalid_param("container vanished"))?;
            c.published_as = Some(media_id.clone());
            (c.kind.clone(), c.caption.clone(), c.media.clone())
        };
        inner
            .ig_publishes
            .entry(ig_user.to_owned())
            .or_default()
            .push(now);
        let code: String = media_id.chars().rev().take(11).collect();
        inner.permalinks.insert(
            media_id.clone(),
            format!("https://www.instagram.com/p/{code}/"),
        );
        inner.posts.push(MetaPost {
            id: media_id.clone(),
            owner: ig_user.to_owned(),
            kind,
            message: caption,
            published: true,
            scheduled_publish_time: None,
            media,
            created_time: Some(unix_now()),
        });
        Ok(json!({ "id": media_id }))
    }

    // ----- Tokens -----

    pub(crate) fn exchange(&self, p: &Params) -> Result<Value, GraphError> {
        if p.get("client_id") != Some(&self.config.app_id)
            || p.get("client_secret") != Some(&self.config.app_secret)
        {
            return Err(graph_error(
                400,
                101,
                None,
                "Error validating application. Invalid application ID or secret.",
            ));
        }
        if p.get("grant_type").map(String::as_str) != Some("fb_exchange_token") {
            return Err(invalid_param("grant_type must be fb_exchange_token"));
        }
        let mut inner = self.lock();
        let presented = p.get("fb_exchange_token").map(String::as_str);
        let Subject::User(user) = self.subject(&inner, presented)? else {
            return Err(invalid_param("Only user tokens can be exchanged"));
        };
        let lifetime = self.config.long_lived_lifetime;
        let t = Self::insert_token(
            &mut inner,
            Subject::User(user),
            &[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
            ],
            Some(lifetime),
        );
        Ok(json!({ "access_token": t, "token_type": "bearer", "expires_in": lifetime.as_secs() }))
    }

    pub(crate) fn me_accounts(&self, t: Option<&str>) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        let Subject::User(_) = self.subject(&inner, t)? else {
            return Err(invalid_param("/me/accounts needs a user token"));
        };
        let pages: Vec<(String, String)> = inner
            .pages
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut data = Vec::new();
        for (id, name) in pages {
            let page_token = Self::insert_token(
                &mut inner,
                Subject::Page(id.clone()),
                &[
                    "pages_show_list",
                    "pages_read_engagement",
                    "pages_manage_posts",
                ],
                None,
            );
            data.push(json!({ "id": id, "name": name, "access_token": page_token, "tasks": ["CREATE_CONTENT", "MANAGE", "MODERATE"] }));
        }
        Ok(json!({ "data": data }))
    }

    pub(crate) fn debug_token(&self, p: &Params) -> Result<Value, GraphError> {
        let app_token = format!("{}|{}", self.config.app_id, self.config.app_secret);
        if p.get("access_token") != Some(&app_token) {
            return Err(graph_error(
                400,
                190,
                None,
                "Invalid OAuth access token - the app access token is wrong",
            ));
        }
        let inner = self.lock();
        let input = p.get("input_token").cloned().unwrap_or_default();
        let Some(tok) = inner.tokens.get(&input) else {
            return Ok(
                json!({ "data": { "is_valid": false, "error": { "code": 190, "message": "Invalid OAuth access token." } } }),
            );
        };
        let now = Instant::now();
        let (kind, user_id) = match &tok.subject {
            Subject::User(u) => ("USER", u.clone()),
            Subject::Page(p) => ("PAGE", p.clone()),
            Subject::Instagram(i, _) => ("USER", i.clone()),
        };
        Ok(json!({ "data": {
            "app_id": self.config.app_id,
            "type": kind,
            "application": "cmis sandbox",
            "expires_at": tok.expires_at.map_or(0, to_unix),
            "data_access_expires_at": to_unix(tok.issued_at + Duration::from_secs(90 * 86_400)),
            "is_valid": tok.expires_at.is_none_or(|e| e > now),
            "issued_at": to_unix(tok.issued_at),
            "scopes": tok.scopes,
            "user_id": user_id,
        } }))
    }

    pub(crate) fn ig_refresh(&self, p: &Params) -> Result<Value, GraphError> {
        if p.get("grant_type").map(String::as_str) != Some("ig_refresh_token") {
            return Err(invalid_param("grant_type must be ig_refresh_token"));
        }
        let mut inner = self.lock();
        let presented = p.get("access_token").map(String::as_str);
        let subject = self.subject(&inner, presented)?;
        let Subject::Instagram(_, InstagramLogin::Instagram) = &subject else {
            return Err(invalid_param(
                "Only Instagram Login user tokens can be refreshed",
            ));
        };
        let tok = presented
            .and_then(|t| inner.tokens.get(t))
            .ok_or_else(|| invalid_param("unknown token"))?;
        if Instant::now().duration_since(tok.issued_at) < Duration::from_secs(24 * 3600) {
            return Err(invalid_param(
                "The access token must be at least 24 hours old to be refreshed",
            ));
        }
        let scopes: Vec<String> = tok.scopes.iter().cloned().collect();
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let lifetime = self.config.long_lived_lifetime;
        let t = Self::insert_token(&mut inner, subject, &scopes, Some(lifetime));
        Ok(json!({ "access_token": t, "token_type": "bearer", "expires_in": lifetime.as_secs() }))
    }
}
