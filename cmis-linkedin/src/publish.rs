//! The post itself (`docs/linkedin-api.md` §2, §7): built from the checked plan and the
//! uploaded media, checkpointed with the time it is first sent, created once.
//!
//! LinkedIn has no idempotency key. What it has is duplicate detection: the same text from the
//! same author within about ten minutes is refused with `DUPLICATE_POST`, naming the post that
//! exists. So a create whose answer was lost is sent again only inside the publisher's
//! duplicate window, where a refusal names the first post (checked with a read where the token
//! may read it); outside it, an organization's posts are listed, and a member's cannot be (only
//! approved apps may list them), so cmis says it cannot tell rather than risk a second post.

use std::time::Duration;

use async_trait::async_trait;
use cmis_core::reconcile::{CallWindow, Candidates, candidates, normalise_text, undecided};
use cmis_core::{
    Capabilities, Checkpoint, Error, ErrorKind, Outcome, Platform, Post, PostId, PublishContext,
    Publisher, Receipt, Reconciliation, Result, Surface, Target, TokenSession,
};
use cmis_http::{Call, reqwest::Method};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::client::encode_urn;
use crate::error::Envelope;
use crate::little_text::unescape;
use crate::media::Kind;
use crate::publisher::LinkedInPublisher;
use crate::validate::{Author, Content, author_of, plan};

/// The checkpoint stage written before the create.
pub const POST_READY: &str = "post_ready";

/// The checkpoint stage of a video uploaded and finalized, waiting to be available.
pub const VIDEO_PROCESSING: &str = "video_processing";

/// How far clocks may disagree when a post's `createdAt` is compared with when it was sent.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// How long a create may take to show in the author's posts.
const CALL_SPAN: Duration = Duration::from_secs(10 * 60);

/// A post ready to create: the body, and when it was first sent (`None`: never, or refused).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ready {
    author: String,
    body: Value,
    #[serde(default, with = "time::serde::rfc3339::option")]
    sent_at: Option<OffsetDateTime>,
}

/// A video waiting to be available, and the post that will carry it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VideoWait {
    author: String,
    body: Value,
    video: String,
}

/// What a create was answered.
enum Created {
    Post(String),
    Duplicate(String),
}

/// What listing the author's posts found.
enum Lookup {
    Found(String, Option<OffsetDateTime>),
    NotFound,
    /// The token may not list this author's posts (members; pages without the read scope).
    Unlistable,
}

impl LinkedInPublisher {
    fn receipt(target: &Target, urn: &str, created: Option<OffsetDateTime>) -> Receipt {
        let mut receipt = Receipt::new(
            Platform::LinkedIn,
            target.account.account.clone(),
            PostId::new(urn),
        );
        if let Some(link) = crate::LinkedInClient::permalink(urn) {
            receipt = receipt.with_permalink(link);
        }
        if let Some(at) = created {
            receipt = receipt.with_published_at(at);
        }
        receipt
    }

    /// The post's body, `content` set from the uploaded media. Returns the body and, for a
    /// video, its URN (the post waits for it).
    async fn body(
        &self,
        target: &Target,
        post: &Post,
        ctx: &PublishContext,
    ) -> Result<(Value, Option<String>)> {
        let plan = plan(target, post).await?;
        let owner = target.account.account.as_str();
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let options = &post.options.linkedin;
        let image = |urn: String, alt: Option<&String>| {
            let mut v = json!({"id": urn});
            if let Some(alt) = alt.filter(|a| !a.is_empty()) {
                v["altText"] = json!(alt);
            }
            v
        };
        let mut video = None;
        let content = match plan.content {
            Content::Text => None,
            Content::Article { link, thumbnail } => {
                let mut article = json!({
                    "source": link.as_str(),
                    "title": options.article_title.clone().unwrap_or_else(|| link.to_string()),
                });
                if let Some(d) = &options.article_description {
                    article["description"] = json!(d);
                }
                if let Some(m) = thumbnail {
                    let urn = self.upload_single(Kind::Image, owner, m, &session).await?;
                    self.wait_available(Kind::Image, &urn, self.image_budget(), &session)
                        .await?;
                    article["thumbnail"] = json!(urn);
                }
                Some(json!({"article": article}))
            }
            Content::Images(images) => {
                let mut uploaded = Vec::with_capacity(images.len());
                for m in &images {
                    let urn = self.upload_single(Kind::Image, owner, m, &session).await?;
                    uploaded.push((urn, m.alt_text.as_ref()));
                }
                for (urn, _) in &uploaded {
                    self.wait_available(Kind::Image, urn, self.image_budget(), &session)
                        .await?;
                }
                let mut entries: Vec<Value> =
                    uploaded.into_iter().map(|(u, a)| image(u, a)).collect();
                Some(if entries.len() == 1 {
                    json!({"media": entries.remove(0)})
                } else {
                    json!({"multiImage": {"images": entries}})
                })
            }
            Content::Document(doc) => {
                let urn = self
                    .upload_single(Kind::Document, owner, doc, &session)
                    .await?;
                self.wait_available(Kind::Document, &urn, self.image_budget(), &session)
                    .await?;
                let title = options
                    .media_title
                    .clone()
                    .unwrap_or_else(|| file_name(doc));
                Some(json!({"media": {"title": title, "id": urn}}))
            }
            Content::Video(m) => {
                let urn = self.upload_video(owner, m, 0, &session, ctx).await?;
                let mut media = json!({"id": urn});
                if let Some(t) = &options.media_title {
                    media["title"] = json!(t);
                }
                video = Some(urn);
                Some(json!({"media": media}))
            }
        };
        let visibility = options
            .visibility
            .as_ref()
            .map_or("PUBLIC", |v| v.as_str())
            .to_owned();
        let mut body = json!({
            "author": owner,
            "commentary": plan.commentary,
            "visibility": visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": options.disable_reshare,
        });
        if let Some(content) = content {
            body["content"] = content;
        }
        Ok((body, video))
    }

    fn image_budget(&self) -> Duration {
        self.media_poll().budget.min(Duration::from_secs(30))
    }

    /// Waits for the video, then creates the post. Still processing: pending, resumed from
    /// the video.
    async fn finish_video(
        &self,
        target: &Target,
        wait: VideoWait,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let budget = self.media_poll().budget;
        if !self
            .wait_available(Kind::Video, &wait.video, budget, &session)
            .await?
        {
            let cp = Checkpoint::new(Platform::LinkedIn, VIDEO_PROCESSING, &wait)?
                .with_resume_after(self.media_poll().max_interval);
            return Ok(Outcome::Pending(cp));
        }
        let ready = Ready {
            author: wait.author,
            body: wait.body,
            sent_at: None,
        };
        self.create(target, ready, ctx).await
    }

    /// Checkpoints `ready` as sent now (keeping the first send's time) and creates the post.
    async fn create(
        &self,
        target: &Target,
        mut ready: Ready,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        let resent = ready.sent_at.is_some();
        let first_sent = *ready.sent_at.get_or_insert_with(OffsetDateTime::now_utc);
        ctx.save_checkpoint(&Checkpoint::new(Platform::LinkedIn, POST_READY, &ready)?)
            .await?;
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let answer = session
            .run(|token| {
                let body = &ready.body;
                async move {
                    let raw = self
                        .client
                        .rest_raw(
                            Method::POST,
                            "posts",
                            &[],
                            Some(body),
                            &token,
                            Call::Mutation,
                        )
                        .await?;
                    if raw.is_success() {
                        return match raw.id {
                            Some(id) if !id.is_empty() => Ok(Created::Post(id)),
                            _ => Err(Error::unknown_outcome(
                                "LinkedIn accepted the post without saying its id (x-restli-id)",
                            )
                            .with_platform(Platform::LinkedIn)),
                        };
                    }
                    if let Some(urn) = Envelope::parse(&raw.body).duplicate_of() {
                        return Ok(Created::Duplicate(urn));
                    }
                    Err(self.client.error(&raw, Call::Mutation, "posts"))
                }
            })
            .await;
        match answer {
            Ok(Created::Post(urn)) => Ok(Outcome::Published(Self::receipt(
                target,
                &urn,
                Some(OffsetDateTime::now_utc()),
            ))),
            Ok(Created::Duplicate(urn)) if resent => {
                let created = self.verify_duplicate(&urn, first_sent, &session).await?;
                tracing::info!(%urn, "the lost create had made the post; LinkedIn named it");
                Ok(Outcome::Published(Self::receipt(target, &urn, created)))
            }
            Ok(Created::Duplicate(urn)) => Err(Error::rejected(format!(
                "LinkedIn refused the post as a duplicate of {urn}: the same author posted the \
                 same text within the last minutes"
            ))
            .with_platform(Platform::LinkedIn)
            .with_platform_code("DUPLICATE_POST")),
            Err(e) if definitely_not_created(&e) => {
                // Nothing was made: the next attempt may send freely.
                ready.sent_at = None;
                if let Ok(cp) = Checkpoint::new(Platform::LinkedIn, POST_READY, &ready)
                    && let Err(save) = ctx.save_checkpoint(&cp).await
                {
                    tracing::warn!(error = %save, "could not record that the create was refused");
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Checks the post a `DUPLICATE_POST` names after a re-send: it must exist (LinkedIn keeps
    /// naming deleted posts for a day or two) and not predate the first send (else it is an
    /// older post with the same text, and ours was never made). A token that may not read it
    /// (a member's) is taken at LinkedIn's word.
    async fn verify_duplicate(
        &self,
        urn: &str,
        first_sent: OffsetDateTime,
        session: &TokenSession<'_>,
    ) -> Result<Option<OffsetDateTime>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored {
            #[serde(default)]
            created_at: Option<i64>,
        }
        let path = format!("posts/{}", encode_urn(urn));
        let read = session
            .run(|token| {
                let path = path.clone();
                async move {
                    self.client
                        .rest::<Stored>(Method::GET, &path, &[], None, &token, Call::Read)
                        .await
                }
            })
            .await;
        let stored = match read {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::Permission => return Ok(None),
            Err(e) if e.kind() == ErrorKind::Rejected => {
                return Err(Error::rejected(format!(
                    "LinkedIn says the post duplicates {urn}, which does not exist (a deleted \
                     post LinkedIn still remembers for a day or two); nothing was published"
                ))
                .with_platform(Platform::LinkedIn)
                .with_platform_code("DUPLICATE_POST"));
            }
            Err(e) => return Err(e),
        };
        let created = stored.created_at.and_then(from_millis);
        let window = CallWindow::around(first_sent, CLOCK_SKEW, CALL_SPAN);
        if created.is_some_and(|c| c < window.start) {
            return Err(Error::rejected(format!(
                "LinkedIn refused the post as a duplicate of {urn}, an earlier post with the \
                 same text; nothing was published"
            ))
            .with_platform(Platform::LinkedIn)
            .with_platform_code("DUPLICATE_POST"));
        }
        Ok(created)
    }

    /// Looks for the post in the author's recent posts (organizations only).
    async fn lookup(&self, target: &Target, ready: &Ready, ctx: &PublishContext) -> Result<Lookup> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            elements: Vec<Listed>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Listed {
            id: String,
            #[serde(default)]
            commentary: String,
            #[serde(default)]
            created_at: Option<i64>,
        }
        let (Some(sent_at), Ok(Author::Organization)) = (ready.sent_at, author_of(&ready.author))
        else {
            return Ok(Lookup::Unlistable);
        };
        let session = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let page = session
            .run(|token| async move {
                self.client
                    .rest::<Page>(
                        Method::GET,
                        "posts",
                        &[
                            ("author", ready.author.as_str()),
                            ("q", "author"),
                            ("count", "20"),
                            ("sortBy", "LAST_MODIFIED"),
                        ],
                        None,
                        &token,
                        Call::Read,
                    )
                    .await
            })
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) if e.kind() == ErrorKind::Permission => return Ok(Lookup::Unlistable),
            Err(e) => return Err(e),
        };
        let ours = ready
            .body
            .get("commentary")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ours_plain = normalise_text(&unescape(ours));
        let window = CallWindow::around(sent_at, CLOCK_SKEW, CALL_SPAN);
        let found = candidates(
            &page.elements,
            |p| p.commentary == ours || normalise_text(&unescape(&p.commentary)) == ours_plain,
            |p| {
                p.created_at
                    .and_then(from_millis)
                    .is_some_and(|c| window.contains(c))
            },
        );
        match found {
            Candidates::One(p) => Ok(Lookup::Found(
                p.id.clone(),
                p.created_at.and_then(from_millis),
            )),
            Candidates::Many(_) => Err(undecided(
                Platform::LinkedIn,
                "several posts with this text were made when it was sent",
            )),
            Candidates::OnlyOutside(_) | Candidates::None => Ok(Lookup::NotFound),
        }
    }

    /// Whether a create first sent at `sent_at` may be sent again now.
    fn within_window(&self, sent_at: OffsetDateTime) -> bool {
        let age = OffsetDateTime::now_utc() - sent_at;
        age < time::Duration::try_from(self.duplicate_window()).unwrap_or(time::Duration::ZERO)
    }
}

/// A refusal or a failure before the request left: no post was made.
fn definitely_not_created(e: &Error) -> bool {
    !matches!(e.kind(), ErrorKind::UnknownOutcome | ErrorKind::Internal)
}

fn from_millis(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

fn file_name(media: &cmis_core::Media) -> String {
    let name = media.display_name();
    std::path::Path::new(&name)
        .file_name()
        .map_or(name.clone(), |n| n.to_string_lossy().into_owned())
}

fn decode<T: for<'de> Deserialize<'de>>(checkpoint: &Checkpoint, stage: &str) -> Result<T> {
    if checkpoint.platform != Platform::LinkedIn || checkpoint.stage != stage {
        return Err(Error::invalid_input(format!(
            "a {} checkpoint at stage {:?} is not a LinkedIn {stage} checkpoint",
            checkpoint.platform, checkpoint.stage
        )));
    }
    checkpoint.decode()
}

fn cannot_tell(ready: &Ready) -> Error {
    undecided(
        Platform::LinkedIn,
        format!(
            "the create for {} was sent and its answer lost, too long ago for LinkedIn's \
             duplicate check to find it, and LinkedIn lets only approved apps list a member's \
             posts: check the profile, then mark the job published or publish again",
            ready.author
        ),
    )
}

#[async_trait]
impl Publisher for LinkedInPublisher {
    fn platform(&self) -> Platform {
        Platform::LinkedIn
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], crate::validate::MAX_IMAGES, true)
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        plan(target, post).await.map(|_| ())
    }

    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let (body, video) = self.body(target, post, ctx).await?;
        let author = target.account.account.as_str().to_owned();
        if let Some(video) = video {
            let wait = VideoWait {
                author,
                body,
                video,
            };
            ctx.save_checkpoint(&Checkpoint::new(
                Platform::LinkedIn,
                VIDEO_PROCESSING,
                &wait,
            )?)
            .await?;
            return self.finish_video(target, wait, ctx).await;
        }
        let ready = Ready {
            author,
            body,
            sent_at: None,
        };
        self.create(target, ready, ctx).await
    }

    /// A video: polled again. A post: created if it was never sent; re-sent inside the
    /// duplicate window; else looked up (organizations) before it is sent again.
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        if checkpoint.platform == Platform::LinkedIn && checkpoint.stage == VIDEO_PROCESSING {
            let wait: VideoWait = decode(checkpoint, VIDEO_PROCESSING)?;
            return self.finish_video(target, wait, ctx).await;
        }
        let ready: Ready = decode(checkpoint, POST_READY)?;
        match ready.sent_at {
            None => self.create(target, ready, ctx).await,
            Some(at) if self.within_window(at) => self.create(target, ready, ctx).await,
            Some(_) => match self.lookup(target, &ready, ctx).await? {
                Lookup::Found(urn, created) => {
                    Ok(Outcome::Published(Self::receipt(target, &urn, created)))
                }
                Lookup::NotFound => {
                    self.create(
                        target,
                        Ready {
                            sent_at: None,
                            ..ready
                        },
                        ctx,
                    )
                    .await
                }
                Lookup::Unlistable => Err(cannot_tell(&ready)),
            },
        }
    }

    /// No checkpoint: nothing was sent. A video or an unsent post: resumable. A sent post:
    /// found in the organization's posts, or handed back to resume while a re-send is safe,
    /// or, past that, not published (organizations) or undecided (members).
    async fn reconcile(
        &self,
        target: &Target,
        _post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        let Some(checkpoint) = checkpoint else {
            return Ok(Reconciliation::NotPublished);
        };
        if checkpoint.platform == Platform::LinkedIn && checkpoint.stage == VIDEO_PROCESSING {
            return Ok(Reconciliation::Pending(checkpoint.clone()));
        }
        let ready: Ready = decode(checkpoint, POST_READY)?;
        let Some(sent_at) = ready.sent_at else {
            return Ok(Reconciliation::Pending(checkpoint.clone()));
        };
        let within = self.within_window(sent_at);
        Ok(match self.lookup(target, &ready, ctx).await? {
            Lookup::Found(urn, created) => {
                Reconciliation::Published(Self::receipt(target, &urn, created))
            }
            _ if within => Reconciliation::Pending(checkpoint.clone()),
            Lookup::NotFound => Reconciliation::NotPublished,
            Lookup::Unlistable => return Err(cannot_tell(&ready)),
        })
    }
}
