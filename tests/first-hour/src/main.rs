//! The first hour with cmis, as a new user writes it: only `cmis::` paths, from the README and
//! the rustdoc. Against the sandbox (nothing leaves 127.0.0.1), it
//!
//! 1. writes a caption with the offline generator,
//! 2. publishes a Facebook post now, with a token it already holds,
//! 3. handles errors by kind (a refused token, a post that breaks TikTok's rules),
//! 4. schedules a TikTok video on SQLite, through the scheduler, which checks it first,
//! 5. waits for each job to settle, and reads a stored failure's kind.
//!
//! ```text
//! cargo run -p cmis-first-hour
//! ```
//!
//! It prints one line per step and exits 0 when every step went as described, 1 otherwise.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cmis::ai::OfflineGenerator;
use cmis::media::sample;
use cmis::meta::{FacebookPagePublisher, MetaClient};
use cmis::sandbox::{Creator, Sandbox};
use cmis::scheduler::{NewPost, Scheduler, SqliteStore, TokenKey};
use cmis::tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher, default_poll};
use cmis::time::OffsetDateTime;
use cmis::{
    ContentGenerator, Credential, CredentialStore, Error, ErrorKind, GenerateRequest,
    GenerationTask, Media, Outcome, Platform, Post, PostKey, PrivacyLevel, PublishContext,
    Publisher, RefreshingTokenProvider, Result, SecretString, Target, TenantId, TikTokOptions,
};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => {
            println!("first hour: every step worked");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("first hour failed ({}): {err}", err.kind());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let sandbox = Sandbox::builder().start().await?;
    let acme = TenantId::new("acme");

    // 1. A caption, offline: no network, no key.
    let caption = OfflineGenerator::new()
        .generate(&GenerateRequest::new(
            acme.clone(),
            GenerationTask::Caption,
            Platform::Facebook,
            "doors open at 9 for the autumn market",
        ))
        .await?;
    println!("1 caption: {}", caption.text);

    // 2. A Facebook post, now, with a Page token the program already holds.
    let meta = sandbox.meta();
    let page_token = meta.add_page("100000000000001", "Acme Market");
    let page = acme.account(Platform::Facebook, "100000000000001");
    let facebook = FacebookPagePublisher::new(MetaClient::builder().graph_url(meta.url()).build()?);
    let post = Post::new().with_text(caption.text.clone());
    match facebook
        .publish(
            &Target::feed(page.clone()),
            &post,
            &PublishContext::with_token(page_token.clone()),
        )
        .await?
    {
        Outcome::Published(receipt) => println!("2 published: facebook post {}", receipt.post_id),
        Outcome::Pending(_) => return Err(Error::internal("a text post is never pending")),
    }

    // 3. Errors by kind: what to do is in the kind, not in the message.
    let refused = facebook
        .publish(
            &Target::feed(page.clone()),
            &post,
            &PublishContext::with_token(SecretString::from("a-revoked-token")),
        )
        .await;
    match refused {
        Err(e) if e.kind() == ErrorKind::Auth => println!("3 refused token: re-authorise ({e})"),
        other => return Err(unexpected("an auth error", &other)),
    }
    let creator = acme.account(Platform::TikTok, "creator-1");
    let video = std::env::temp_dir().join(format!("cmis-first-hour-{}.mp4", std::process::id()));
    std::fs::write(&video, sample::mp4(1080, 1920, 5, 30))
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", video.display())))?;
    let no_privacy = Post::new()
        .with_text("autumn market")
        .with_media(Media::path(&video));

    // 4. A TikTok video on SQLite, through the scheduler, which checks the post first.
    let tiktok = sandbox.tiktok();
    tiktok.add_creator(Creator::public("creator-1"));
    let issued = tiktok.issue_tokens(
        "creator-1",
        &["user.info.basic", "video.publish", "video.upload"],
    );
    let store = Arc::new(
        SqliteStore::builder()
            .in_memory()
            .encryption_key(TokenKey::generate())
            .build()
            .await?,
    );
    store
        .put_credential(
            Credential::new(creator.clone(), issued.access_token)
                .with_refresh_token(issued.refresh_token)
                .with_scopes(issued.scopes),
        )
        .await?;
    let bad_page = acme.account(Platform::Facebook, "100000000000002");
    store
        .put_credential(Credential::new(
            bad_page.clone(),
            SecretString::from("a-revoked-token"),
        ))
        .await?;
    store
        .put_credential(Credential::new(page.clone(), page_token))
        .await?;
    let tiktok_client = TikTokClient::builder()
        .api_base_url(tiktok.url())
        .client_key(tiktok.client_key())
        .client_secret(tiktok.client_secret())
        .build()?;
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(TikTokRefresher::new(tiktok_client.clone())))
        .build();
    let scheduler = Scheduler::builder(store.clone())
        .publisher(Arc::new(TikTokPublisher::new(tiktok_client).with_poll(
            default_poll().with_initial(Duration::from_millis(200)),
        )))
        .publisher(Arc::new(FacebookPagePublisher::new(
            MetaClient::builder().graph_url(meta.url()).build()?,
        )))
        .refreshing_tokens(tokens)
        .poll_interval(Duration::from_millis(200))
        .build()?;
    let soon = OffsetDateTime::now_utc() + Duration::from_secs(1);
    let refused = scheduler
        .schedule(NewPost::new(
            PostKey::new("clip-1"),
            no_privacy.clone(),
            vec![Target::feed(creator.clone())],
            soon,
        ))
        .await;
    match refused {
        Err(e) if e.kind() == ErrorKind::InvalidInput => {
            let rules: Vec<_> = e.violation_list().iter().map(|v| v.rule.as_str()).collect();
            println!(
                "3 refused before scheduling: fix the post ({})",
                rules.join(", ")
            );
        }
        other => return Err(unexpected("an invalid-input error", &other)),
    }
    let clip = no_privacy
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone));
    let video_jobs = scheduler
        .schedule(NewPost::new(
            PostKey::new("clip-1"),
            clip,
            vec![Target::feed(creator)],
            soon,
        ))
        .await?;
    let failing_jobs = scheduler
        .schedule(NewPost::new(
            PostKey::new("note-1"),
            post,
            vec![Target::feed(bad_page)],
            soon,
        ))
        .await?;
    println!(
        "4 scheduled: {} jobs",
        video_jobs.len() + failing_jobs.len()
    );

    // 5. Run the scheduler and wait for each job to settle, whichever way.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = scheduler.clone();
    let running = tokio::spawn(async move {
        runner
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let wait = Duration::from_secs(60);
    let video_job = tokio::time::timeout(wait, scheduler.settled(&acme, video_jobs[0].id))
        .await
        .map_err(|_| Error::internal("the video did not settle within a minute"))??;
    let failed_job = tokio::time::timeout(wait, scheduler.settled(&acme, failing_jobs[0].id))
        .await
        .map_err(|_| Error::internal("the post did not settle within a minute"))??;
    let _ = stop.send(());
    running
        .await
        .map_err(|e| Error::internal(format!("the scheduler task failed: {e}")))??;
    let _ = std::fs::remove_file(&video);

    let receipt = video_job.receipt.as_ref().ok_or_else(|| {
        Error::internal(format!(
            "the video job is {}, without a receipt",
            video_job.state
        ))
    })?;
    println!(
        "5 settled: tiktok {} as {}",
        video_job.state, receipt.post_id
    );
    match failed_job.last_error.as_ref().map(|e| e.kind) {
        Some(ErrorKind::Auth) => println!(
            "5 settled: facebook {} (stored kind auth: re-authorise the Page)",
            failed_job.state
        ),
        other => {
            return Err(Error::internal(format!(
                "the post to a refused Page settled as {} with kind {other:?}",
                failed_job.state
            )));
        }
    }
    Ok(())
}

fn unexpected<T: std::fmt::Debug>(wanted: &str, got: &Result<T>) -> Error {
    Error::internal(format!("expected {wanted}, got {got:?}"))
}
