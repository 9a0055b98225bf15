//! Pulled media and the pull host: URLs issued per attempt, sealed after a lost init, and the
//! reconciliation of an initiating checkpoint.

use super::*;

impl TikTokPublisher {
    /// With a pull host, the URLs it issues for this attempt, one per media URL TikTok will
    /// pull (none for a file upload).
    pub(super) async fn issue_pull_urls(
        &self,
        plan: &Plan,
        prepared: Option<&PreparedVideo>,
    ) -> Result<Vec<Url>> {
        let Some(host) = &self.pull_host else {
            return Ok(Vec::new());
        };
        let media: Vec<&Url> = match (plan, prepared) {
            (Plan::Photos { urls, .. }, _) => urls.iter().collect(),
            (Plan::Video { .. }, Some(p)) => p.pull_url.iter().collect(),
            (Plan::Video { .. }, None) => Vec::new(),
        };
        if media.is_empty() {
            return Ok(Vec::new());
        }
        let attempt = crate::pull::attempt_id()?;
        let mut issued = Vec::with_capacity(media.len());
        for url in media {
            issued.push(host.issue(url, &attempt).await?);
        }
        Ok(issued)
    }

    /// Everything between the first checkpoint and init, none of it a change on TikTok: the
    /// token and its scopes, creator info and its checks (Direct Post), and init's body, with
    /// the pull host's URLs in place of the post's.
    pub(super) async fn before_init<'a>(
        &self,
        target: &'a Target,
        post: &Post,
        plan: &Plan,
        prepared: Option<&PreparedVideo>,
        initiating: &Initiating,
        ctx: &'a PublishContext,
    ) -> Result<(
        TokenSession<'a>,
        crate::client::Endpoint,
        serde_json::Value,
        Option<String>,
    )> {
        let opts = &post.options.tiktok;
        let mode = initiating.mode;
        let s = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        match (plan, mode) {
            (_, Mode::Direct) => {
                require_scope(&s, &[SCOPE_PUBLISH], "a TikTok Direct Post").await?
            }
            (Plan::Video { .. }, Mode::Inbox) => {
                require_scope(&s, &[SCOPE_UPLOAD], "a TikTok draft video").await?;
            }
            (Plan::Photos { .. }, Mode::Inbox) => {
                require_scope(
                    &s,
                    &[SCOPE_UPLOAD, SCOPE_PUBLISH],
                    "a TikTok draft photo post",
                )
                .await?;
            }
        }
        let mut creator_username = None;
        let interactions = if mode == Mode::Direct {
            let client = &self.client;
            let info = s
                .run(|t| async move { client.creator_info(&t).await })
                .await?;
            let duration = prepared.and_then(|p| p.duration);
            let interactions = gate(&info, opts, plan.is_video(), duration)?;
            creator_username = Some(info.creator_username);
            Some(interactions)
        } else {
            None
        };
        let (endpoint, mut body) = init_body(post, plan, prepared, interactions)?;
        if !initiating.pulled.is_empty() {
            crate::pull::replace_urls(&mut body, &initiating.pulled)?;
        }
        Ok((s, endpoint, body, creator_username))
    }

    /// Init's answer was lost (`lost`). With pulled URLs from a pull host, seals them at once:
    /// if TikTok never fetched a byte, that init can never go live and the publish can simply
    /// be tried again (a transient error that drops the checkpoint). Otherwise, or if sealing
    /// fails, the outcome stays unknown for reconcile.
    pub(super) async fn after_lost_init(&self, pulled: &[Url], lost: Error) -> Error {
        let Some(host) = self.pull_host.as_ref().filter(|_| !pulled.is_empty()) else {
            return lost;
        };
        match host.seal(pulled).await {
            Ok(Sealed::NeverServed) => Error::transient(format!(
                "TikTok's answer to init was lost ({lost}); its media was sealed before TikTok \
                 fetched any of it, so that init cannot publish anything: safe to try again"
            ))
            .with_platform(Platform::TikTok)
            .discarding_checkpoint(),
            Ok(_) => lost,
            Err(e) => {
                tracing::warn!(kind = %e.kind(), "sealing the pulled media failed: {e}");
                lost
            }
        }
    }

    /// Init's answer was lost: look for the post among the creator's public videos.
    pub(super) async fn reconcile_initiating(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        if checkpoint.platform != Platform::TikTok {
            return Err(Error::invalid_input(format!(
                "a {} checkpoint cannot be reconciled by the TikTok publisher",
                checkpoint.platform
            )));
        }
        let init: Initiating = checkpoint.decode()?;
        if init.file_upload {
            // TikTok publishes an upload only once it has every byte, and no chunk went out
            // (the upload_url came with init's lost answer): whatever init created can never go
            // live. Publishing again is safe.
            return Ok(Reconciliation::NotPublished);
        }
        if let Some(host) = self.pull_host.as_ref().filter(|_| !init.pulled.is_empty())
            && host.seal(&init.pulled).await? == Sealed::NeverServed
        {
            // TikTok never had a byte of the media, and never will: that init cannot go live.
            // Publishing again is safe.
            return Ok(Reconciliation::NotPublished);
        }
        if let Some(reason) = unlisted_reason(&init) {
            return Err(undecided(reason));
        }
        let s = TokenSession::new(ctx.tokens().as_ref(), &target.account);
        let token = s.token().await?;
        if !token.scopes.is_empty() && !token.has_scope(SCOPE_VIDEO_LIST) {
            return Err(undecided(format!(
                "init's answer was lost, and finding the post among the creator's public videos \
                 needs the {SCOPE_VIDEO_LIST} scope, which {} did not grant",
                target.account
            )));
        }
        let client = &self.client;
        let (now, settle) = (self.clock.now(), self.list_settle);
        let init_ref = &init;
        let video = s
            .run(|t| async move { crate::reconcile::find(client, &t, init_ref, now, settle).await })
            .await?;
        Ok(Reconciliation::Published(crate::reconcile::receipt(
            target, &init, &video,
        )))
    }
}
