//! [`TikTokPublisher`]: the `Publisher` for a TikTok creator account.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmis_core::{
    AccountRef, Capabilities, Checkpoint, Clock, Error, ErrorKind, Outcome, Platform, PollPolicy,
    Post, PostId, Progress, PublishContext, Receipt, ReceiptState, Reconciliation, Result,
    RetryPolicy, Surface, SystemClock, Target, TokenProvider, TokenSession,
};
use tokio::time::Instant;
use url::Url;

use crate::TikTokClient;
use crate::checkpoint::{
    Initiating, MediaType, Mode, STAGE_INITIATING, STAGE_PROCESSING, STAGE_UPLOADING, State,
};
use crate::creator_info::{CreatorInfo, gate};
use crate::error::classify_fail_reason;
use crate::plan::{Plan, media_preflight, plan};
use crate::pull::{PullHost, Sealed};
use crate::reconcile::{SCOPE_VIDEO_LIST, undecided, unlisted_reason};
use crate::request::{PreparedVideo, init_body};
use crate::status::{PublishState, PublishStatus, default_poll};
use crate::upload::{ChunkSource, Step, put_next_chunk, upload_expired};

mod pulled;

const SCOPE_PUBLISH: &str = "video.publish";
const SCOPE_UPLOAD: &str = "video.upload";

/// How long to wait before resuming an upload that failed transiently after its retries.
const UPLOAD_RESUME_AFTER: Duration = Duration::from_secs(30);

/// How long after init a public post may take to be listed (processing and moderation); until
/// then a reconcile that does not find it asks to be run again.
const DEFAULT_LIST_SETTLE: Duration = Duration::from_secs(10 * 60);

/// TikTok's `upload_url` is valid for one hour.
const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Publishes to a TikTok creator account through the Content Posting API.
///
/// - **Direct Post** (the default) needs `video.publish`: creator info is queried first and the
///   post checked against it (privacy level chosen by the user from the creator's options, no
///   default; interactions the creator disabled stay disabled; video duration; branded content
///   never `SELF_ONLY`) before anything is uploaded.
/// - **Drafts** (`TikTokOptions::draft`) go to the creator's inbox and need `video.upload`;
///   TikTok's `SEND_TO_USER_INBOX` is their success, with the `publish_id` as the post id.
/// - Videos from a file or bytes are uploaded in chunks (`FILE_UPLOAD`); videos and photos given
///   as URLs are pulled by TikTok (`PULL_FROM_URL`, domain verified for the app). Photos can only
///   be pulled (1 to 35 JPEG/WebP images).
/// - The receipt's post id is TikTok's public post id when TikTok gives one (public posts, after
///   moderation, waited for within the poll horizon), otherwise the `publish_id`: private posts
///   never get a public id, and drafts are known by it.
/// - Once init has created the publish, an upload that keeps failing transiently (after the
///   chunk's retries) returns `Outcome::Pending` with the checkpoint instead of an error, so the
///   caller resumes that publish rather than creating a second one.
/// - The `publish_id` goes to the checkpoint sink right after init, before the first chunk;
///   [`resume`](cmis_core::Publisher::resume) finishes the upload or polls, and never calls init
///   again.
/// - Once TikTok can publish without another call (a pulled publish after init, an upload after
///   its last chunk), a checkpoint that cannot be saved makes the publish
///   [`ErrorKind::UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome), never a failure:
///   [`reconcile`](cmis_core::Publisher::reconcile) then reads the status from the last checkpoint
///   that was saved.
/// - Right before init a checkpoint records when it was sent and the caption. When init's
///   answer is lost (a timeout, a dropped connection, a 5xx) there is no `publish_id` to ask
///   about; reconcile then looks for a public Direct Post video with that caption created in
///   init's window among the creator's public videos (Display API `video/list`, scope
///   `video.list`). Absence is never claimed: a draft, a private post, a photo post or one not
///   yet moderated is not listed, and such a job stays an unknown outcome for a person. A lost
///   init of a file upload is not published, provably: no byte was sent, and TikTok publishes
///   an upload only once it has them all. With a [`PullHost`]
///   ([`with_pull_host`](Self::with_pull_host)), pulled media goes out under URLs issued for
///   that init alone, and a lost init is settled by sealing them: if TikTok never fetched a
///   byte, nothing can come of it, and the publish is tried again.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod tiktok { pub use cmis_tiktok::*; } }
/// # async fn demo() -> cmis::Result<()> {
/// use cmis::tiktok::{TikTokClient, TikTokPublisher};
/// use cmis::{Media, Outcome, Platform, Post, PrivacyLevel, Publisher, PublishContext};
/// use cmis::{SecretString, Target, TenantId, TikTokOptions};
///
/// let client = TikTokClient::builder()
///     .client_key("aw1234567890")
///     .client_secret(SecretString::from("client-secret"))
///     .build()?;
/// let publisher = TikTokPublisher::new(client);
/// let creator = TenantId::new("acme").account(Platform::TikTok, "open-id-of-the-creator");
/// let post = Post::new()
///     .with_text("Behind the scenes #bakery")
///     .with_media(Media::path("clip.mp4"))
///     .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));
/// let target = Target::feed(creator);
/// publisher.validate(&target, &post).await?; // TikTok's rules, no network call
/// let ctx = PublishContext::with_token(SecretString::from("act.user-access-token"));
/// match publisher.publish(&target, &post, &ctx).await? {
///     Outcome::Published(receipt) => println!("TikTok post {}", receipt.post_id),
///     Outcome::Pending(checkpoint) => println!("still processing; resume {checkpoint:?} later"),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TikTokPublisher {
    client: TikTokClient,
    poll: PollPolicy,
    upload_retry: RetryPolicy,
    chunk_size: Option<u64>,
    clock: Arc<dyn Clock>,
    list_settle: Duration,
    pull_host: Option<Arc<dyn PullHost>>,
}

impl fmt::Debug for TikTokPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TikTokPublisher")
            .field("client", &self.client)
            .field("poll", &self.poll)
            .field("upload_retry", &self.upload_retry)
            .field("chunk_size", &self.chunk_size)
            .field("list_settle", &self.list_settle)
            .field("pull_host", &self.pull_host)
            .finish_non_exhaustive()
    }
}

/// Fails before any call when the granted scopes are known and hold none of `any_of`.
pub(crate) async fn require_scope(s: &TokenSession<'_>, any_of: &[&str], what: &str) -> Result<()> {
    let token = s.token().await?;
    if token.scopes.is_empty() || any_of.iter().any(|scope| token.has_scope(scope)) {
        return Ok(());
    }
    Err(Error::permission(format!(
        "{what} needs the {} scope, which {} did not grant; ask the user to re-authorise with it",
        any_of.join(" or "),
        s.account()
    ))
    .with_platform(Platform::TikTok))
}

impl TikTokPublisher {
    /// A publisher using `client`, polling with [`default_poll`](crate::default_poll).
    pub fn new(client: TikTokClient) -> Self {
        Self {
            client,
            poll: default_poll(),
            upload_retry: RetryPolicy::default(),
            chunk_size: None,
            clock: Arc::new(SystemClock),
            list_settle: DEFAULT_LIST_SETTLE,
            pull_host: None,
        }
    }

    /// Sets how status is polled and for how long.
    #[must_use]
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Sets how a chunk is retried after a 5xx or a network failure (only that chunk is resent).
    #[must_use]
    pub fn with_upload_retry(mut self, retry: RetryPolicy) -> Self {
        self.upload_retry = retry;
        self
    }

    /// Splits files of 5 MiB or more into chunks of `chunk_size` bytes (5 MiB to 64 000 000).
    ///
    /// By default a file up to 64 000 000 bytes goes as one chunk, the only shape TikTok has
    /// accepted reliably since multi-chunk inits started failing in 2026, and larger files go in
    /// 10 MiB chunks (`cmis::media::ChunkPlan::tiktok`).
    #[must_use]
    pub fn with_chunk_size(mut self, chunk_size: u64) -> Self {
        self.chunk_size = Some(chunk_size);
        self
    }

    /// Sets the wall clock used for the upload URL's one-hour deadline and receipts.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how long after a lost init a public post may take to appear among the creator's
    /// videos (10 minutes by default). Until then, reconciling a publish that is not listed
    /// answers an unknown outcome with this time as its retry-after, so the caller checks
    /// again; afterwards without one.
    #[must_use]
    pub fn with_list_settle(mut self, settle: Duration) -> Self {
        self.list_settle = settle;
        self
    }

    /// Pulled media (videos given as URLs, photos) goes through `host`: each init gets URLs of
    /// its own, and an init whose answer was lost is settled by sealing them (see
    /// [`PullHost`]): never served means never published, and the post is tried again instead
    /// of ending as an unknown outcome.
    #[must_use]
    pub fn with_pull_host(mut self, host: Arc<dyn PullHost>) -> Self {
        self.pull_host = Some(host);
        self
    }

    /// The client.
    pub fn client(&self) -> &TikTokClient {
        &self.client
    }

    /// Queries creator info for `account` with a token from `tokens` (refreshed once if TikTok
    /// rejects it), for a posting UI that follows TikTok's rules.
    pub async fn creator_info(
        &self,
        account: &AccountRef,
        tokens: &dyn TokenProvider,
    ) -> Result<CreatorInfo> {
        let s = TokenSession::new(tokens, account);
        require_scope(&s, &[SCOPE_PUBLISH], "creator info").await?;
        let client = &self.client;
        s.run(|t| async move { client.creator_info(&t).await })
            .await
    }

    /// Cancels the publish recorded in `checkpoint` (best effort; TikTok refuses with
    /// `publish_not_cancellable` once it is too late).
    pub async fn cancel(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<()> {
        let state = decode(checkpoint)?;
        let s = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let client = &self.client;
        let id = state.publish_id.as_str();
        s.run(|t| async move { client.cancel(&t, id).await }).await
    }

    /// Saves a checkpoint of a publish that init has created.
    ///
    /// Before TikTok has every byte of an upload, the publish cannot go live without us, and
    /// the sink's error is returned as it is. From then on (a `PULL_FROM_URL` init, the last
    /// chunk sent; `after_all_media`) TikTok publishes the post by itself: a failure is
    /// `UnknownOutcome`, so the caller reconciles instead of reporting a failure and calling
    /// init again, which would publish a second post.
    async fn save(
        &self,
        ctx: &PublishContext,
        state: &State,
        stage: &str,
        after_all_media: bool,
    ) -> Result<()> {
        let checkpoint = state.checkpoint(stage)?;
        let saved = if after_all_media {
            ctx.save_checkpoint_after_mutation(&checkpoint).await
        } else {
            ctx.save_checkpoint(&checkpoint).await
        };
        saved.inspect_err(|e| {
            tracing::error!(
                publish_id = %state.publish_id,
                stage,
                kind = %e.kind(),
                "checkpoint could not be saved; stopping: {e}"
            );
        })
    }

    async fn init(
        &self,
        s: &TokenSession<'_>,
        endpoint: crate::client::Endpoint,
        body: &serde_json::Value,
    ) -> Result<InitData> {
        let client = &self.client;
        s.run(|t| async move { client.call::<InitData>(endpoint, &t, Some(body)).await })
            .await
    }

    async fn upload(
        &self,
        ctx: &PublishContext,
        state: &mut State,
        source: &mut ChunkSource,
    ) -> Result<Option<Outcome>> {
        let mut stalls = 0;
        loop {
            let Some(session) = state.upload.as_mut() else {
                return Ok(None);
            };
            let before = session.next_offset;
            let resumable = session.path.is_some();
            let step = match put_next_chunk(
                self.client.http(),
                &self.upload_retry,
                self.clock.as_ref(),
                session,
                source,
                &state.publish_id,
            )
            .await
            {
                Ok(step) => step,
                // The publish exists: an error would invite a second publish, so hand back the
                // checkpoint and let the caller resume this one later.
                Err(err) if err.is_retryable() && resumable => {
                    tracing::warn!(
                        publish_id = %state.publish_id,
                        kind = %err.kind(),
                        "upload interrupted; returning a checkpoint to resume from: {err}"
                    );
                    let wait = err.retry_after().unwrap_or(UPLOAD_RESUME_AFTER);
                    return Ok(Some(Outcome::Pending(
                        state.checkpoint(STAGE_UPLOADING)?.with_resume_after(wait),
                    )));
                }
                Err(err) => return Err(err),
            };
            let (sent, total) = (session.next_offset, session.total_size);
            ctx.report_progress(Progress::new(0, sent, total));
            if step == Step::Done {
                return Ok(None);
            }
            // A server that keeps pointing back without progress would loop forever.
            stalls = if sent > before { 0 } else { stalls + 1 };
            if stalls >= 3 {
                return Err(Error::internal(format!(
                    "TikTok's upload of publish {} makes no progress at byte {sent}",
                    state.publish_id
                ))
                .with_platform(Platform::TikTok));
            }
            self.save(ctx, state, STAGE_UPLOADING, false).await?;
        }
    }

    fn receipt(&self, target: &Target, state: &State, id: &str, public: bool) -> Receipt {
        let mut receipt = Receipt::new(
            Platform::TikTok,
            target.account.account.clone(),
            PostId::new(id),
        )
        .with_published_at(self.clock.now());
        if public
            && let Some(user) = &state.creator_username
            && !user.is_empty()
        {
            let kind = match state.media {
                MediaType::Video => "video",
                MediaType::Photo => "photo",
            };
            if let Ok(url) = Url::parse(&format!("https://www.tiktok.com/@{user}/{kind}/{id}")) {
                receipt = receipt.with_permalink(url);
            }
        }
        receipt
    }

    /// What a status means: a final outcome, an error, or `None` to keep polling.
    fn settle(
        &self,
        target: &Target,
        state: &State,
        status: &PublishStatus,
        past_horizon: bool,
    ) -> Result<Option<Outcome>> {
        match status.status {
            PublishState::PublishComplete => {
                if let Some(id) = status.public_post_id() {
                    return Ok(Some(Outcome::Published(
                        self.receipt(target, state, id, true),
                    )));
                }
                // Private posts never get a public id; public ones get it after moderation.
                if state.expects_public_id() && !past_horizon {
                    return Ok(None);
                }
                Ok(Some(Outcome::Published(self.receipt(
                    target,
                    state,
                    &state.publish_id,
                    false,
                ))))
            }
            PublishState::SendToUserInbox => Ok(Some(Outcome::Published(
                self.receipt(target, state, &state.publish_id, false)
                    .with_state(ReceiptState::SentToInbox),
            ))),
            PublishState::Failed => Err(classify_fail_reason(
                status.fail_reason.as_deref().unwrap_or("unknown"),
                &state.publish_id,
            )),
            _ => Ok(None),
        }
    }

    async fn poll(&self, s: &TokenSession<'_>, target: &Target, state: &State) -> Result<Outcome> {
        let started = Instant::now();
        let client = &self.client;
        let id = state.publish_id.as_str();
        let mut polls = 0u32;
        let mut complete = false;
        loop {
            let mut wait = self.poll.delay(polls);
            match s
                .run(|t| async move { client.fetch_status(&t, id).await })
                .await
            {
                Ok(status) => {
                    complete = status.status == PublishState::PublishComplete;
                    if let Some(outcome) = self.settle(target, state, &status, false)? {
                        return Ok(outcome);
                    }
                }
                Err(err) if err.is_retryable() => {
                    tracing::warn!(publish_id = id, kind = %err.kind(), "status check failed; polling on");
                    wait = wait.max(err.retry_after().unwrap_or_default());
                }
                Err(err) => return Err(err),
            }
            if started.elapsed() + wait > self.poll.budget {
                if complete {
                    // Published, but no public id arrived in time: the publish_id is the proof.
                    return Ok(Outcome::Published(self.receipt(
                        target,
                        state,
                        &state.publish_id,
                        false,
                    )));
                }
                return Ok(Outcome::Pending(
                    state.checkpoint(STAGE_PROCESSING)?.with_resume_after(wait),
                ));
            }
            tokio::time::sleep(wait).await;
            polls = polls.saturating_add(1);
        }
    }

    async fn finish_upload(
        &self,
        s: &TokenSession<'_>,
        ctx: &PublishContext,
        target: &Target,
        mut state: State,
        mut source: ChunkSource,
    ) -> Result<Outcome> {
        if let Some(pending) = self.upload(ctx, &mut state, &mut source).await? {
            return Ok(pending);
        }
        state.upload = None;
        self.save(ctx, &state, STAGE_PROCESSING, true).await?;
        self.poll(s, target, &state).await
    }
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct InitData {
    publish_id: String,
    #[serde(default)]
    upload_url: Option<String>,
}

fn decode(checkpoint: &Checkpoint) -> Result<State> {
    if checkpoint.platform != Platform::TikTok {
        return Err(Error::invalid_input(format!(
            "a {} checkpoint cannot be resumed by the TikTok publisher",
            checkpoint.platform
        )));
    }
    checkpoint.decode()
}

#[async_trait]
impl cmis_core::Publisher for TikTokPublisher {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(vec![Surface::Feed], crate::plan::MAX_PHOTOS, false)
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        plan(target, post)?;
        media_preflight(post).await
    }

    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %target.account))]
    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        let plan = plan(target, post)?;
        media_preflight(post).await?;
        let opts = &post.options.tiktok;
        let mode = if opts.draft {
            Mode::Inbox
        } else {
            Mode::Direct
        };
        // Local work first: a file that cannot be read fails before any network call.
        let prepared = match &plan {
            Plan::Video {
                source,
                declared_mime,
            } => Some(
                PreparedVideo::prepare(source, declared_mime.as_deref(), self.chunk_size).await?,
            ),
            Plan::Photos { .. } => None,
        };
        let media = if plan.is_video() {
            MediaType::Video
        } else {
            MediaType::Photo
        };
        let pulled = self.issue_pull_urls(&plan, prepared.as_ref()).await?;
        let mut initiating = Initiating {
            started_at: self.clock.now(),
            mode,
            media,
            privacy_level: (mode == Mode::Direct)
                .then(|| opts.privacy_level.clone())
                .flatten(),
            creator_username: None,
            caption: post.text_or_empty().to_owned(),
            file_upload: prepared.as_ref().is_some_and(|p| p.upload.is_some()),
            pulled,
        };
        // Saved before any call to TikTok, so that a process stopped from here on (killed
        // while it asks for creator info, say) leaves reconcile something to go on: a file
        // upload it can prove unpublished, pulled media it can seal. Best effort: without it a
        // lost init answer cannot be looked for, as before.
        if let Err(e) = ctx.save_checkpoint(&initiating.checkpoint()?).await {
            tracing::warn!(kind = %e.kind(), "the checkpoint before init could not be saved: {e}");
        }
        // Nothing reaches TikTok before init: an error until then leaves nothing behind, and
        // the checkpoint above goes with it.
        let (s, endpoint, body, creator_username) = self
            .before_init(target, post, &plan, prepared.as_ref(), &initiating, ctx)
            .await
            .map_err(Error::discarding_checkpoint)?;
        // Init's window starts now; the username gives a found post its permalink.
        initiating.started_at = self.clock.now();
        initiating.creator_username.clone_from(&creator_username);
        if let Err(e) = ctx.save_checkpoint(&initiating.checkpoint()?).await {
            tracing::warn!(kind = %e.kind(), "the checkpoint before init could not be saved: {e}");
        }
        let init = match self.init(&s, endpoint, &body).await {
            Ok(init) => init,
            Err(e) if e.kind() == ErrorKind::UnknownOutcome => {
                return Err(self.after_lost_init(&initiating.pulled, e).await);
            }
            // TikTok answered: no publish was created, and the checkpoint before init is dead.
            Err(e) => return Err(e.discarding_checkpoint()),
        };
        tracing::info!(publish_id = %init.publish_id, "TikTok publish initialised");
        let mut state = State {
            publish_id: init.publish_id,
            mode,
            media,
            privacy_level: if mode == Mode::Direct {
                opts.privacy_level.clone()
            } else {
                None
            },
            creator_username,
            upload: None,
        };
        let Some(PreparedVideo {
            upload: Some(upload),
            ..
        }) = prepared
        else {
            // TikTok pulls the media itself: nothing to send, only to wait for.
            self.save(ctx, &state, STAGE_PROCESSING, true).await?;
            return self.poll(&s, target, &state).await;
        };
        let Some(upload_url) = init.upload_url.filter(|u| !u.is_empty()) else {
            return Err(Error::unknown_outcome(format!(
                "TikTok created publish {} but returned no upload_url",
                state.publish_id
            ))
            .with_platform(Platform::TikTok));
        };
        state.upload = Some(upload.session(upload_url, self.clock.now() + UPLOAD_URL_LIFETIME));
        // The publish exists from here on: record it before the first byte is sent.
        self.save(ctx, &state, STAGE_UPLOADING, false).await?;
        self.finish_upload(&s, ctx, target, state, upload.source)
            .await
    }

    #[tracing::instrument(skip_all, fields(platform = "tiktok", account = %target.account))]
    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        if checkpoint.stage == STAGE_INITIATING {
            // Init may have been sent: only reconcile can tell; calling it again could publish
            // a second post.
            return Err(Error::unknown_outcome(
                "the TikTok publish stopped while init was in flight; it is looked for before \
                 anything is sent again",
            )
            .with_platform(Platform::TikTok));
        }
        let state = decode(checkpoint)?;
        let s = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let Some(session) = state
            .upload
            .clone()
            .filter(|_| checkpoint.stage == STAGE_UPLOADING)
        else {
            return self.poll(&s, target, &state).await;
        };
        if self.clock.now() >= session.expires_at {
            // The URL is dead; TikTok may still have every byte. Look before giving up.
            let client = &self.client;
            let id = state.publish_id.as_str();
            let status = s
                .run(|t| async move { client.fetch_status(&t, id).await })
                .await?;
            if status.status == PublishState::ProcessingUpload {
                return Err(upload_expired(&state.publish_id));
            }
            return self.poll(&s, target, &state).await;
        }
        let Some(path) = &session.path else {
            return Err(Error::unsupported(format!(
                "TikTok publish {} was uploading bytes held in memory, which a resume does not \
                 have; cancel it and publish again",
                state.publish_id
            )));
        };
        let file = cmis_media::ChunkedFile::open(path).await?;
        if file.size() != session.total_size {
            return Err(Error::invalid_input(format!(
                "{} changed size since the upload of publish {} started ({} bytes, was {})",
                path.display(),
                state.publish_id,
                file.size(),
                session.total_size
            )));
        }
        self.finish_upload(&s, ctx, target, state, ChunkSource::File(file))
            .await
    }

    async fn reconcile(
        &self,
        target: &Target,
        _post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        // Without a publish_id TikTok has no read-only way to find a publish.
        let Some(checkpoint) = checkpoint else {
            return Ok(Reconciliation::Unknown);
        };
        if checkpoint.stage == STAGE_INITIATING {
            return self.reconcile_initiating(target, checkpoint, ctx).await;
        }
        let state = decode(checkpoint)?;
        let s = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let client = &self.client;
        let id = state.publish_id.as_str();
        let status = s
            .run(|t| async move { client.fetch_status(&t, id).await })
            .await?;
        if status.status == PublishState::Failed {
            // TikTok says it failed: nothing was published, publishing again is safe.
            return Ok(Reconciliation::NotPublished);
        }
        match self.settle(target, &state, &status, true)? {
            Some(Outcome::Published(r)) => Ok(Reconciliation::Published(r)),
            Some(Outcome::Pending(cp)) => Ok(Reconciliation::Pending(cp)),
            None => Ok(Reconciliation::Pending(checkpoint.clone())),
        }
    }
}
