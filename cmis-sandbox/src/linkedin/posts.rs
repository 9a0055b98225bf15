//! Posts (brief §2, §3, §6, §7): create with little-text commentary and duplicate detection,
//! read, the author finder, delete.

use serde_json::{Value, json};

use super::LinkedInPost;
use super::little_text;
use super::media::Readiness;
use super::state::{
    Caller, LiError, LinkedInState, access_denied, input_error, invalid, not_found,
};

/// A day in milliseconds: LinkedIn's daily limits reset at midnight UTC (brief §5).
const DAY_MS: i64 = 86_400_000;

/// The first post URN's number: 19 digits, like `urn:li:share:6844785523593134080`.
const FIRST_SHARE: u64 = 7_400_000_000_000_000_000;

/// A stored post and what reads need beyond [`LinkedInPost`].
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) post: LinkedInPost,
    distribution: Value,
    content: Option<Value>,
    reshare_disabled: bool,
    /// `reshareContext`, as sent (a reshare, brief §2).
    reshare: Option<Value>,
    /// When the author last edited it (`PARTIAL_UPDATE`, `edits.rs`), in epoch milliseconds.
    pub(crate) edited_at: Option<i64>,
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn is_author(urn: &str) -> bool {
    let id = urn
        .strip_prefix("urn:li:person:")
        .or_else(|| urn.strip_prefix("urn:li:organization:"));
    id.is_some_and(|id| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

impl LinkedInState {
    /// `POST /rest/posts`: checks the body, the author's permission and the referenced media,
    /// cuts the commentary as LinkedIn's parser does, refuses a duplicate, stores the post and
    /// returns its URN.
    ///
    /// Permissions (brief §1): a member author must be the token's member, with
    /// `w_member_social` (else 400 `member_author_needs_member_permission`, or 403
    /// `access_denied_create` for another member); an organization author needs
    /// `w_organization_social` and a Page role (else 403 `access_denied_create`).
    pub(crate) fn create_post(&self, caller: &Caller, body: &Value) -> Result<String, LiError> {
        if !body.is_object() {
            return Err(invalid("", "The request body must be a JSON object"));
        }
        let author = str_field(body, "author").unwrap_or("");
        if !is_author(author) {
            return Err(invalid(
                "author",
                "author must be urn:li:person:{id} or urn:li:organization:{id}",
            ));
        }
        let denied = || {
            access_denied(&format!(
                "partnerApiPostsExternal.CREATE.{}01",
                caller.version
            ))
        };
        let mut inner = self.lock();
        if author.starts_with("urn:li:person:") {
            if !caller.has("w_member_social") {
                return Err(super::state::rest(
                    400,
                    json!({"message":"Member permissions must be used when using member as author","status":400}),
                ));
            }
            if author != caller.person {
                return Err(denied());
            }
        } else if !caller.has("w_organization_social")
            || !Self::may_act_as(&inner, &caller.person, author)
        {
            return Err(denied());
        }
        if str_field(body, "lifecycleState") != Some("PUBLISHED") {
            return Err(invalid(
                "lifecycleState",
                "lifecycleState must be PUBLISHED",
            ));
        }
        let visibility = str_field(body, "visibility").unwrap_or("");
        if !matches!(visibility, "PUBLIC" | "CONNECTIONS" | "LOGGED_IN") {
            return Err(invalid(
                "visibility",
                "visibility must be PUBLIC, CONNECTIONS or LOGGED_IN",
            ));
        }
        let distribution = body.get("distribution").cloned().unwrap_or(Value::Null);
        if !matches!(
            str_field(&distribution, "feedDistribution"),
            Some("MAIN_FEED" | "NONE")
        ) {
            return Err(invalid(
                "distribution/feedDistribution",
                "distribution.feedDistribution must be MAIN_FEED or NONE",
            ));
        }
        let sent = match body.get("commentary") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(invalid("commentary", "commentary must be a string")),
        };
        // The limit counts UTF-16 units of the little text as sent (brief §3, conservative).
        if sent.encode_utf16().count() > self.config().max_commentary_len {
            return Err(input_error(
                400,
                "commentary length exceeds the allowed maximum",
                Some("commentary"),
                "FIELD_LENGTH_TOO_LONG",
            ));
        }
        let content = body.get("content").filter(|c| !c.is_null()).cloned();
        let (media, article_source) = match &content {
            Some(c) => self.check_content(&inner, c)?,
            None => (Vec::new(), None),
        };
        let parsed = little_text::parse(sent);
        let ghosts = self.config().duplicate_ghosts;
        if let Some(first) = inner.posts.iter().find(|s| {
            s.post.author == author
                && s.post.commentary == parsed.kept
                && (!s.post.deleted || ghosts)
        }) {
            let message = format!(
                "com.linkedin.content.common.exception.BadRequestResponseException: Content is a \
                 duplicate of {}",
                first.post.urn
            );
            inner.duplicates += 1;
            // `errors.json` → `duplicate_post`: `input` is empty there.
            return Err(input_error(422, &message, None, "DUPLICATE_POST").with_empty_input());
        }
        let now = self.now_ms();
        if let Some(limit) = self.config().daily_post_limit {
            let day = now.div_euclid(DAY_MS);
            let today = inner
                .posts
                .iter()
                .filter(|s| s.post.created_at.div_euclid(DAY_MS) == day)
                .count();
            if today >= usize::try_from(limit).unwrap_or(usize::MAX) {
                // `errors.json` → `throttled_application_day`: no `Retry-After`.
                return Err(super::state::rest(
                    429,
                    json!({"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS","message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}),
                ));
            }
        }
        let n = inner.next_post;
        inner.next_post += 1;
        let urn = format!(
            "urn:li:share:{}",
            FIRST_SHARE + n * 4096 + fastrand::u64(..4096)
        );
        inner.posts.push(Stored {
            post: LinkedInPost {
                urn: urn.clone(),
                author: author.to_owned(),
                sent_commentary: sent.to_owned(),
                commentary: parsed.kept,
                text: parsed.rendered,
                truncated: parsed.cut_at.is_some(),
                visibility: visibility.to_owned(),
                media,
                article_source,
                created_at: now,
                deleted: false,
            },
            distribution,
            content,
            reshare_disabled: body
                .get("isReshareDisabledByAuthor")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            reshare: body.get("reshareContext").filter(|r| !r.is_null()).cloned(),
            edited_at: None,
        });
        Ok(urn)
    }

    /// `content`: exactly one of `media`, `multiImage` (2–20 images), `article` or `poll`;
    /// every referenced medium must be `AVAILABLE` (brief §2, §4).
    fn check_content(
        &self,
        inner: &super::state::Inner,
        c: &Value,
    ) -> Result<(Vec<String>, Option<String>), LiError> {
        let Some(obj) = c.as_object().filter(|o| o.len() == 1) else {
            return Err(invalid(
                "content",
                "content must hold exactly one of media, multiImage, article or poll",
            ));
        };
        let ready = |urn: &str, field: &str, kinds: &[&str]| -> Result<String, LiError> {
            match self.readiness(inner, urn, kinds) {
                Readiness::Available => Ok(urn.to_owned()),
                Readiness::Waiting => Err(input_error(
                    400,
                    "Media asset is waiting upload",
                    Some(field),
                    "MEDIA_ASSET_WAITING_UPLOAD",
                )),
                Readiness::Failed => Err(input_error(
                    400,
                    "Media asset failed processing",
                    Some(field),
                    "MEDIA_ASSET_PROCESSING_FAILED",
                )),
                // Constructed: LinkedIn's answer for a URN it never issued is not documented.
                Readiness::Unknown => Err(invalid(
                    field,
                    &format!("Media asset {urn} does not exist or is not of an accepted type"),
                )),
            }
        };
        if let Some(m) = obj.get("media") {
            let id = str_field(m, "id").unwrap_or("");
            let urn = ready(
                id,
                "content/media/id",
                &["urn:li:image:", "urn:li:video:", "urn:li:document:"],
            )?;
            return Ok((vec![urn], None));
        }
        if let Some(m) = obj.get("multiImage") {
            let images = m.get("images").and_then(Value::as_array);
            let Some(images) = images.filter(|i| (2..=20).contains(&i.len())) else {
                return Err(invalid(
                    "content/multiImage/images",
                    "multiImage needs 2 to 20 images",
                ));
            };
            let mut urns = Vec::new();
            for (i, image) in images.iter().enumerate() {
                let id = str_field(image, "id").unwrap_or("");
                let field = format!("content/multiImage/images/{i}/id");
                urns.push(ready(id, &field, &["urn:li:image:"])?);
            }
            return Ok((urns, None));
        }
        if let Some(a) = obj.get("article") {
            let source = str_field(a, "source").filter(|s| !s.is_empty());
            let Some(source) = source else {
                return Err(invalid(
                    "content/article/source",
                    "article.source is required",
                ));
            };
            if str_field(a, "title").is_none_or(str::is_empty) {
                // The API does not scrape links: the title must be sent (brief §2).
                return Err(invalid(
                    "content/article/title",
                    "article.title is required",
                ));
            }
            let mut urns = Vec::new();
            if let Some(thumb) = str_field(a, "thumbnail") {
                urns.push(ready(
                    thumb,
                    "content/article/thumbnail",
                    &["urn:li:image:"],
                )?);
            }
            return Ok((urns, Some(source.to_owned())));
        }
        if obj.contains_key("poll") {
            return Ok((Vec::new(), None));
        }
        Err(invalid(
            "content",
            "content must hold exactly one of media, multiImage, article or poll",
        ))
    }

    /// A post as `GET /rest/posts/{urn}` answers it (fixture `post_get_response.json`).
    pub(crate) fn post_json(s: &Stored) -> Value {
        let p = &s.post;
        let modified = s.edited_at.unwrap_or(p.created_at + 31);
        let mut v = json!({
            "lifecycleState": "PUBLISHED",
            "lastModifiedAt": modified,
            "visibility": p.visibility,
            "publishedAt": p.created_at + 31,
            "author": p.author,
            "distribution": {
                "feedDistribution": s.distribution.get("feedDistribution").cloned().unwrap_or(json!("MAIN_FEED")),
                "thirdPartyDistributionChannels": s.distribution.get("thirdPartyDistributionChannels").cloned().unwrap_or(json!([])),
            },
            "lifecycleStateInfo": {"isEditedByAuthor": s.edited_at.is_some()},
            "isReshareDisabledByAuthor": s.reshare_disabled,
            "createdAt": p.created_at,
            "id": p.urn,
            "commentary": p.commentary,
        });
        if let Some(c) = &s.content {
            v["content"] = c.clone();
        }
        if let Some(r) = &s.reshare {
            v["reshareContext"] = r.clone();
        }
        v
    }

    /// Whether the caller may read `author`'s posts: organization posts need
    /// `r_organization_social`, member posts the restricted `r_member_social` (brief §7).
    pub(crate) fn may_read(caller: &Caller, author: &str) -> bool {
        if author.starts_with("urn:li:organization:") {
            caller.has("r_organization_social")
        } else {
            caller.has("r_member_social")
        }
    }

    /// `GET /rest/posts/{urn}`: 404 `post_not_found` for an unknown or deleted post, 403
    /// `access_denied_get_member` without the read scope.
    pub(crate) fn get_post(&self, caller: &Caller, urn: &str) -> Result<Value, LiError> {
        let inner = self.lock();
        let s = inner
            .posts
            .iter()
            .find(|s| s.post.urn == urn && !s.post.deleted)
            .ok_or_else(not_found)?;
        if !Self::may_read(caller, &s.post.author) {
            return Err(access_denied("partnerApiPostsExternal.GET"));
        }
        Ok(Self::post_json(s))
    }

    /// `GET /rest/posts?author=…&q=author&count=…&start=…&sortBy=LAST_MODIFIED`: live posts,
    /// newest first, `paging` with a `next` link while more remain, no `total` (fixture
    /// `posts_by_author_response.json`). A member author needs `r_member_social`:
    /// `access_denied_finder_author` otherwise.
    pub(crate) fn list_posts(
        &self,
        caller: &Caller,
        q: &std::collections::HashMap<String, String>,
    ) -> Result<Value, LiError> {
        if q.get("q").map(String::as_str) != Some("author") {
            return Err(invalid("q", "The only finder is q=author"));
        }
        let author = q.get("author").map(String::as_str).unwrap_or("");
        if !is_author(author) {
            return Err(invalid(
                "author",
                "author must be a person or organization URN",
            ));
        }
        if !Self::may_read(caller, author) {
            return Err(access_denied("partnerApiPostsExternal.FINDER-author"));
        }
        let sort = q.get("sortBy").map_or("LAST_MODIFIED", String::as_str);
        if !matches!(sort, "LAST_MODIFIED" | "CREATED") {
            return Err(invalid("sortBy", "sortBy must be LAST_MODIFIED or CREATED"));
        }
        let num = |k: &str, default: usize| -> Result<usize, LiError> {
            q.get(k).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| invalid(k, &format!("{k} must be a number")))
            })
        };
        let count = num("count", 10)?.min(100);
        let start = num("start", 0)?;
        let inner = self.lock();
        let mut mine: Vec<&Stored> = inner
            .posts
            .iter()
            .filter(|s| s.post.author == author && !s.post.deleted)
            .collect();
        mine.reverse();
        let elements: Vec<Value> = mine
            .iter()
            .skip(start)
            .take(count)
            .map(|s| Self::post_json(s))
            .collect();
        let mut links = Vec::new();
        if start + count < mine.len() {
            let encoded: String = author.replace(':', "%3A");
            links.push(json!({
                "type": "application/json",
                "rel": "next",
                "href": format!("/rest/posts?author={encoded}&count={count}&q=author&sortBy={sort}&start={}", start + count),
            }));
        }
        Ok(json!({
            "paging": {"start": start, "count": count, "links": links},
            "elements": elements,
        }))
    }

    /// `DELETE /rest/posts/{urn}`: 204; 404 for an unknown or deleted post; 403 for a post the
    /// caller may not act for (constructed message).
    pub(crate) fn delete_post(&self, caller: &Caller, urn: &str) -> Result<(), LiError> {
        let mut inner = self.lock();
        let i = inner
            .posts
            .iter()
            .position(|s| s.post.urn == urn && !s.post.deleted)
            .ok_or_else(not_found)?;
        let author = inner.posts[i].post.author.clone();
        if !Self::may_act_as(&inner, &caller.person, &author) {
            return Err(access_denied("partnerApiPostsExternal.DELETE"));
        }
        inner.posts[i].post.deleted = true;
        Ok(())
    }

    pub(crate) fn posts(&self) -> Vec<LinkedInPost> {
        self.lock().posts.iter().map(|s| s.post.clone()).collect()
    }
}

impl LiError {
    /// `duplicate_post` has `"input": {}`.
    fn with_empty_input(mut self) -> Self {
        if let Some(e) = self.body.pointer_mut("/errorDetails/inputErrors/0") {
            e["input"] = json!({});
            e["description"] = json!("Duplicate post is detected");
        }
        self
    }
}
