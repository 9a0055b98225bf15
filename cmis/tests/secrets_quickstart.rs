//! No token in clear, anywhere: the quickstart's path — the sandbox platforms, real connectors, a
//! scheduler on an SQLite file (and on PostgreSQL when `CMIS_TEST_POSTGRES_URL` is set) publishing
//! to Facebook, Instagram and TikTok, one TikTok token refresh, one publish refused for a bad
//! token — runs with every `tracing` event captured at TRACE (and `log` records, such as
//! reqwest's, through tracing-log) and every panic message captured by a hook. Then no access
//! token, refresh token or client secret (nor any 16-character piece of one) may appear in:
//!
//! - the captured logs,
//! - the `Debug` and `Display` output of every error, receipt, credential, token, job, audit
//!   record, notification, store, client and scheduler the run handled,
//! - panic messages (an error is unwrapped on purpose),
//! - the raw bytes of the SQLite file and its WAL, and every column of every table on PostgreSQL.
//!
//! The capture is checked to hold events of the run (cmis spans and events, sqlx statements,
//! reqwest's connections), and the raw database bytes to hold the run's data, so an empty
//! capture or an unreadable database cannot pass.

#![cfg(all(feature = "meta", feature = "tiktok", feature = "sqlite"))]

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use cmis::ai::OfflineGenerator;
use cmis::meta::{
    FacebookPagePublisher, InstagramPublisher, MetaClient, ThreadsClient, ThreadsPublisher,
    ThreadsTokenRefresher,
};
use cmis::scheduler::{JobFilter, JobState, ScheduleStore, Scheduler, TokenKey};
use cmis::tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher, default_poll};
use cmis::time::OffsetDateTime;
use cmis::{
    AccountRef, AuditSink, ContentGenerator, Credential, CredentialStore, ErrorKind, ExposeSecret,
    GenerateRequest, GenerationTask, Media, Notification, Notifier, Platform, Post, PostKey,
    PrivacyLevel, PublishContext, Publisher, RefreshingTokenProvider, Result, SecretString,
    Surface, Target, TenantId, TikTokOptions, TokenProvider, TracingNotifier,
};
use cmis_sandbox::{
    Creator, InstagramLogin, LinkedInConfig, MetaConfig, Sandbox, ThreadsConfig, TikTokConfig,
    YouTubeConfig,
};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

const PAGE: &str = "100000000000001";
const BAD_PAGE: &str = "100000000000002";
const INSTAGRAM: &str = "17841400000000001";
const CREATOR: &str = "secret-creator";
const THREADS_USER: &str = "17841405793187218";
const LINKEDIN_PAGE: &str = "urn:li:organization:2414183";
const YOUTUBE_CHANNEL: &str = "UCsecretCafeChannel0001";
const TIKTOK_SCOPES: [&str; 3] = ["user.info.basic", "video.publish", "video.upload"];
const CDN: &str = "https://cdn.example.com/";
/// Leaks are looked for as whole values and as every piece this long of one.
const PIECE: usize = 16;

// ---------------------------------------------------------------------------------------------
// What is captured: every tracing event (and log record), every panic message.

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// Set around the panic the test causes on purpose, so that it is captured but not printed.
    static EXPECTED_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

struct Captured {
    logs: Capture,
    panics: Arc<Mutex<Vec<String>>>,
}

/// Installs, once per test binary, the global TRACE subscriber (which also turns `log` records
/// into events) and a panic hook that keeps every panic message before printing it as usual.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let logs = Capture::default();
        tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .finish()
            .try_init()
            .expect("no other global subscriber in this test binary");
        let panics = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&panics);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            lock(&kept).push(info.to_string());
            if !EXPECTED_PANIC.get() {
                previous(info);
            }
        }));
        Captured { logs, panics }
    })
}

/// A notifier that keeps the `Debug` of each notification and logs it like the default one.
#[derive(Debug, Default)]
struct Notes(Mutex<Vec<String>>);

#[async_trait]
impl Notifier for Notes {
    async fn notify(&self, n: &Notification) -> Result<()> {
        lock(&self.0).push(format!("{n:?} {n:#?}"));
        TracingNotifier.notify(n).await
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets and the leak check.

/// A random alphanumeric string (std's per-instance hasher keys are random).
fn random(prefix: &str, len: usize) -> String {
    let mut s = prefix.to_owned();
    let mut i = 0u64;
    while s.len() < prefix.len() + len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        i += 1;
        s.push_str(&format!("{:016x}", h.finish()));
    }
    s.truncate(prefix.len() + len);
    s
}

/// The values that must never appear, and every `PIECE`-long piece of each.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: impl Into<String>, value: &str) {
        assert!(
            value.len() >= PIECE,
            "{} is too short to look for",
            what.into()
        );
        self.0.push((what.into(), value.to_owned()));
    }

    fn add_secret(&mut self, what: &str, value: &SecretString) {
        self.add(what, value.expose_secret());
    }

    /// Panics, naming the secret and the place, if any secret or piece of one is in `text`.
    fn assert_absent(&self, place: &str, text: &str) {
        for (what, value) in &self.0 {
            let leaked = text.contains(value.as_str())
                || (0..=value.len() - PIECE).any(|i| text.contains(&value[i..i + PIECE]));
            if leaked {
                let at = (0..=value.len() - PIECE)
                    .find_map(|i| text.find(&value[i..i + PIECE]))
                    .unwrap_or(0);
                let bytes = text.as_bytes();
                let mut excerpt = String::from_utf8_lossy(
                    &bytes[at.saturating_sub(200)..(at + 200).min(bytes.len())],
                )
                .into_owned();
                // The excerpt shows where; the secret itself is not printed again.
                for i in 0..=value.len() - PIECE {
                    excerpt = excerpt.replace(&value[i..i + PIECE], "<secret>");
                }
                panic!("{place} holds the {what} (or a piece of it) near: {excerpt}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The quickstart path.

/// Everything one run produced that is checked afterwards.
struct Run {
    secrets: Secrets,
    /// `Debug`/`Display` output of every value the run handled.
    texts: Vec<String>,
    tenant: String,
}

trait Store: ScheduleStore + CredentialStore + AuditSink + 'static {}
impl<T: ScheduleStore + CredentialStore + AuditSink + 'static> Store for T {}

fn show<T: std::fmt::Debug>(texts: &mut Vec<String>, v: &T) {
    texts.push(format!("{v:?}"));
    texts.push(format!("{v:#?}"));
}

fn show_err(texts: &mut Vec<String>, e: &cmis::Error) {
    show(texts, e);
    texts.push(e.to_string());
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        texts.push(format!("{s} {s:?}"));
        source = s.source();
    }
}

async fn caption(tenant: &TenantId, platform: Platform) -> String {
    let brief = "our autumn menu with pumpkin soup and apple pie";
    let g = OfflineGenerator::new()
        .generate(&GenerateRequest::new(
            tenant.clone(),
            GenerationTask::Caption,
            platform,
            brief,
        ))
        .await
        .unwrap();
    format!("{} {}", g.text, g.hashtags.join(" "))
}

/// The quickstart on `store`, as tenant `tenant`, plus one publish refused for a bad token.
async fn quickstart<S: Store>(tenant_name: &str, store: Arc<S>, dir: &Path) -> Run {
    let mut secrets = Secrets::default();
    let mut texts = Vec::new();

    // The sandbox, with app secrets of its own for this run.
    let mut meta_config = MetaConfig::default();
    meta_config.app_secret = random("meta-app-secret-", 32);
    meta_config.container_processing_time = Duration::from_millis(100);
    secrets.add("Meta app secret", &meta_config.app_secret);
    let mut tiktok_config = TikTokConfig::default();
    tiktok_config.client_secret = random("tiktok-client-secret-", 32);
    tiktok_config.verified_url_prefixes = vec![CDN.to_owned()];
    tiktok_config.processing_time = Duration::from_millis(100);
    secrets.add("TikTok client secret", &tiktok_config.client_secret);
    let mut threads_config = ThreadsConfig::default();
    let threads_secret = random("threads-app-secret-", 32);
    secrets.add("Threads app secret", &threads_secret);
    threads_config.app_secret = threads_secret.into();
    threads_config.container_ready_after = Duration::from_millis(100);
    let mut linkedin_config = LinkedInConfig::default();
    let linkedin_secret = random("linkedin-client-secret-", 32);
    secrets.add("LinkedIn client secret", &linkedin_secret);
    linkedin_config.client_secret = linkedin_secret.into();
    let mut youtube_config = YouTubeConfig::default();
    let google_secret = random("google-client-secret-", 32);
    secrets.add("Google client secret", &google_secret);
    youtube_config.client_secret = google_secret.into();
    let sandbox = Sandbox::builder()
        .meta(meta_config)
        .tiktok(tiktok_config)
        .threads(threads_config)
        .linkedin(linkedin_config)
        .youtube(youtube_config)
        .start()
        .await
        .unwrap();
    let meta = sandbox.meta();
    let tiktok = sandbox.tiktok();

    // Seven accounts: a Page, an Instagram account, a Threads profile, a TikTok creator whose
    // token expires in a minute (refreshed before use), a LinkedIn page and a YouTube channel
    // whose tokens expire in 30 seconds (refreshed too), and a Page whose stored token is wrong.
    let tenant = TenantId::new(tenant_name);
    let page = AccountRef::new(TenantId::new(tenant_name), Platform::Facebook, PAGE);
    let bad_page = AccountRef::new(TenantId::new(tenant_name), Platform::Facebook, BAD_PAGE);
    let instagram = AccountRef::new(TenantId::new(tenant_name), Platform::Instagram, INSTAGRAM);
    let creator = AccountRef::new(TenantId::new(tenant_name), Platform::TikTok, CREATOR);
    let page_token = meta.add_page(PAGE, "Secret Cafe");
    secrets.add_secret("Page token", &page_token);
    let real_bad_page_token = meta.add_page(BAD_PAGE, "Other Cafe");
    secrets.add_secret("second Page's real token", &real_bad_page_token);
    let wrong_token = SecretString::from(random("EAAB", 40));
    secrets.add_secret("wrong Page token", &wrong_token);
    let ig_token = meta.add_instagram_account(INSTAGRAM, InstagramLogin::Facebook);
    secrets.add_secret("Instagram token", &ig_token);
    let threads = AccountRef::new(TenantId::new(tenant_name), Platform::Threads, THREADS_USER);
    let threads_token = sandbox.threads().add_user(THREADS_USER, "secret_cafe");
    secrets.add_secret("Threads token", &threads_token);
    let linkedin_page = AccountRef::new(
        TenantId::new(tenant_name),
        Platform::LinkedIn,
        LINKEDIN_PAGE,
    );
    let li_owner = sandbox.linkedin().add_member("secret-owner");
    sandbox.linkedin().add_organization(
        LINKEDIN_PAGE.trim_start_matches("urn:li:organization:"),
        "secret-owner",
    );
    secrets.add_secret("LinkedIn access token", &li_owner.access_token);
    let li_refresh = li_owner
        .refresh_token
        .clone()
        .expect("a LinkedIn refresh token");
    secrets.add_secret("LinkedIn refresh token", &li_refresh);
    let channel = AccountRef::new(
        TenantId::new(tenant_name),
        Platform::YouTube,
        YOUTUBE_CHANNEL,
    );
    let yt_tokens = sandbox
        .youtube()
        .add_channel(YOUTUBE_CHANNEL, "Secret Cafe");
    secrets.add_secret("YouTube access token", &yt_tokens.access_token);
    secrets.add_secret("YouTube refresh token", &yt_tokens.refresh_token);
    tiktok.add_creator(Creator::public(CREATOR));
    let issued = tiktok.issue_tokens(CREATOR, &TIKTOK_SCOPES);
    secrets.add_secret("TikTok access token", &issued.access_token);
    secrets.add_secret("TikTok refresh token", &issued.refresh_token);
    show(&mut texts, &issued);
    for c in [
        Credential::new(page.clone(), page_token),
        Credential::new(bad_page.clone(), wrong_token),
        Credential::new(instagram.clone(), ig_token),
        Credential::new(threads.clone(), threads_token),
        // Both expire within the minute: refreshed before use.
        Credential::new(linkedin_page.clone(), li_owner.access_token.clone())
            .with_refresh_token(li_refresh.clone())
            .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(30)),
        Credential::new(channel.clone(), yt_tokens.access_token.clone())
            .with_refresh_token(yt_tokens.refresh_token.clone())
            .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(30)),
        Credential::new(creator.clone(), issued.access_token.clone())
            .with_refresh_token(issued.refresh_token.clone())
            .with_access_expires_at(OffsetDateTime::now_utc() + Duration::from_secs(60))
            .with_scopes(issued.scopes.clone()),
    ] {
        show(&mut texts, &c);
        let stored = store.put_credential(c).await.unwrap();
        show(&mut texts, &stored);
    }

    // The posts: Facebook text, an Instagram carousel, a TikTok video from disk, and a post to
    // the Page with the wrong token.
    let video = dir.join("autumn.mp4");
    std::fs::write(&video, cmis::media::sample::mp4(1080, 1920, 2, 30)).unwrap();
    let at = OffsetDateTime::now_utc();
    let posts = [
        (
            "autumn-facebook",
            Post::new().with_text(caption(&tenant, Platform::Facebook).await),
            Target::feed(page.clone()),
        ),
        (
            "autumn-instagram",
            Post::new()
                .with_text(caption(&tenant, Platform::Instagram).await)
                .with_media(Media::from_path_or_url(&format!("{CDN}soup.jpg")).unwrap())
                .with_media(Media::from_path_or_url(&format!("{CDN}pie.jpg")).unwrap()),
            Target::feed(instagram.clone()),
        ),
        (
            "autumn-tiktok",
            Post::new()
                .with_text(caption(&tenant, Platform::TikTok).await)
                .with_media(Media::path(&video))
                .with_tiktok(
                    TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone),
                ),
            Target::new(creator.clone(), Surface::Feed),
        ),
        (
            "autumn-threads",
            Post::new().with_text(caption(&tenant, Platform::Threads).await),
            Target::feed(threads.clone()),
        ),
        (
            "autumn-linkedin",
            Post::new().with_text(caption(&tenant, Platform::LinkedIn).await),
            Target::feed(linkedin_page.clone()),
        ),
        (
            "autumn-youtube",
            Post::new()
                .with_text(format!(
                    "Autumn\n{}",
                    caption(&tenant, Platform::YouTube).await
                ))
                .with_media(Media::path(&video)),
            Target::feed(channel.clone()),
        ),
        (
            "autumn-wrong-token",
            Post::new().with_text("this one is refused"),
            Target::feed(bad_page.clone()),
        ),
    ];
    for (id, post, target) in &posts {
        let jobs = store
            .schedule(
                &tenant,
                &PostKey::new(*id),
                post,
                std::slice::from_ref(target),
                at,
            )
            .await
            .unwrap();
        show(&mut texts, &jobs);
    }

    // The scheduler with the real connectors, pointed at the sandbox.
    let meta_client = MetaClient::builder()
        .graph_url(meta.url())
        .app_id(meta.app_id())
        .app_secret(meta.app_secret())
        .build()
        .unwrap();
    let tiktok_client = TikTokClient::builder()
        .api_base_url(tiktok.url())
        .client_key(tiktok.client_key())
        .client_secret(tiktok.client_secret())
        .build()
        .unwrap();
    let threads_client = ThreadsClient::builder()
        .url(sandbox.threads().url())
        .app_id(sandbox.threads().app_id())
        .app_secret(sandbox.threads().app_secret())
        .build()
        .unwrap();
    let linkedin_client = cmis::linkedin::LinkedInClient::builder()
        .api_url(sandbox.linkedin().url())
        .token_url(format!("{}/oauth/v2/accessToken", sandbox.linkedin().url()))
        .client_id(sandbox.linkedin().client_id())
        .client_secret(sandbox.linkedin().client_secret())
        .build()
        .unwrap();
    let youtube_client = cmis::youtube::YouTubeClient::builder()
        .api_url(sandbox.youtube().url())
        .token_url(format!("{}/token", sandbox.youtube().url()))
        .client_id(sandbox.youtube().client_id())
        .client_secret(sandbox.youtube().client_secret())
        .build()
        .unwrap();
    let notes = Arc::new(Notes::default());
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(TikTokRefresher::new(tiktok_client.clone())))
        .refresher(Arc::new(ThreadsTokenRefresher::new(threads_client.clone())))
        .refresher(Arc::new(cmis::linkedin::LinkedInRefresher::new(
            linkedin_client.clone(),
        )))
        .refresher(Arc::new(cmis::youtube::GoogleTokenRefresher::new(
            youtube_client.clone(),
        )))
        .notifier(notes.clone())
        .audit(store.clone())
        .build();
    let facebook = Arc::new(FacebookPagePublisher::new(meta_client.clone()));
    let instagram_publisher = Arc::new(InstagramPublisher::new(meta_client.clone()));
    let tiktok_publisher = Arc::new(
        TikTokPublisher::new(tiktok_client.clone())
            .with_poll(default_poll().with_initial(Duration::from_millis(100))),
    );
    let threads_publisher =
        Arc::new(ThreadsPublisher::new(threads_client.clone()).with_publish_delay(Duration::ZERO));
    let linkedin_publisher = Arc::new(cmis::linkedin::LinkedInPublisher::new(
        linkedin_client.clone(),
    ));
    let youtube_publisher = Arc::new(cmis::youtube::YouTubePublisher::new(youtube_client.clone()));
    let scheduler = Scheduler::builder(store.clone())
        .publisher(linkedin_publisher.clone())
        .publisher(youtube_publisher.clone())
        .publisher(threads_publisher.clone())
        .publisher(facebook.clone())
        .publisher(instagram_publisher.clone())
        .publisher(tiktok_publisher.clone())
        .refreshing_tokens(tokens.clone())
        .notifier(notes.clone())
        .poll_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    show(&mut texts, &meta_client);
    show(&mut texts, &tiktok_client);
    show(&mut texts, &tokens);
    show(&mut texts, &facebook);
    show(&mut texts, &instagram_publisher);
    show(&mut texts, &tiktok_publisher);
    show(&mut texts, &threads_client);
    show(&mut texts, &threads_publisher);
    show(&mut texts, &linkedin_client);
    show(&mut texts, &linkedin_publisher);
    show(&mut texts, &youtube_client);
    show(&mut texts, &youtube_publisher);
    show(&mut texts, &scheduler);
    show(&mut texts, &store);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        scheduler
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    // Until four are published and the fifth waits for re-authorisation; the deadline only
    // bounds a failing run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let jobs = loop {
        let jobs = ScheduleStore::list(&*store, &tenant, &JobFilter::all())
            .await
            .unwrap();
        let settled = jobs.len() == posts.len()
            && jobs
                .iter()
                .all(|j| matches!(j.state, JobState::Published | JobState::AwaitingReauth));
        if settled {
            break jobs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the jobs did not settle: {:?}",
            jobs.iter()
                .map(|j| (
                    j.post_key.as_str().to_owned(),
                    j.state,
                    j.last_error.clone()
                ))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = stop.send(());
    running.await.unwrap().unwrap();

    // Receipts with the sandbox's ids, one job refused for its token.
    let state_of = |post: &str| {
        jobs.iter()
            .find(|j| j.post_key.as_str() == post)
            .unwrap_or_else(|| panic!("no job for {post}"))
    };
    for post in [
        "autumn-facebook",
        "autumn-instagram",
        "autumn-tiktok",
        "autumn-linkedin",
        "autumn-youtube",
    ] {
        let job = state_of(post);
        assert_eq!(
            job.state,
            JobState::Published,
            "{post}: {:?}",
            job.last_error
        );
        show(&mut texts, &job.receipt.as_ref().expect("a receipt"));
    }
    let refused = state_of("autumn-wrong-token");
    assert_eq!(refused.state, JobState::AwaitingReauth);
    assert_eq!(
        refused.last_error.as_ref().map(|e| e.kind.as_str()),
        Some(ErrorKind::Auth.as_str())
    );
    show(&mut texts, &jobs);
    assert!(
        meta.posts().len() >= 2,
        "Facebook and Instagram posts exist"
    );
    assert_eq!(tiktok.published().len(), 1);

    // The refresh happened and rotated both tokens; the new ones are secrets too.
    assert!(
        tiktok.refresh_count() >= 1,
        "the TikTok token was refreshed"
    );
    let refreshed = store.credential(&creator).await.unwrap().unwrap();
    assert_ne!(
        refreshed.access_token.expose_secret(),
        issued.access_token.expose_secret()
    );
    let rotated = refreshed.refresh_token.clone().expect("a refresh token");
    assert_ne!(
        rotated.expose_secret(),
        issued.refresh_token.expose_secret()
    );
    secrets.add_secret("refreshed TikTok access token", &refreshed.access_token);
    secrets.add_secret("rotated TikTok refresh token", &rotated);
    for account in [&linkedin_page, &channel] {
        let now = store.credential(account).await.unwrap().unwrap();
        secrets.add_secret("refreshed access token", &now.access_token);
        if let Some(rt) = &now.refresh_token {
            secrets.add_secret("refresh token after refresh", rt);
        }
    }
    for account in [
        &page,
        &bad_page,
        &instagram,
        &creator,
        &linkedin_page,
        &channel,
    ] {
        show(&mut texts, &store.credential(account).await.unwrap());
    }
    show(&mut texts, &store.accounts(&tenant).await.unwrap());

    // The same wrong token, called directly: the error a caller gets, shown every way, and
    // unwrapped into a panic message.
    let direct = RefreshingTokenProvider::builder(store.clone()).build();
    let token = direct.access_token(&bad_page).await.unwrap();
    show(&mut texts, &token);
    let ctx = PublishContext::new(Arc::new(direct));
    show(&mut texts, &ctx);
    let result = facebook
        .publish(
            &Target::feed(bad_page.clone()),
            &Post::new().with_text("refused again"),
            &ctx,
        )
        .await;
    let err = result.as_ref().expect_err("a wrong token is refused");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    show_err(&mut texts, err);
    EXPECTED_PANIC.set(true);
    let unwrapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| result.unwrap()));
    EXPECTED_PANIC.set(false);
    assert!(unwrapped.is_err());
    // And a validation error, which names the post and target.
    let invalid = tiktok_publisher
        .validate(&Target::new(creator.clone(), Surface::Feed), &Post::new())
        .await
        .unwrap_err();
    show_err(&mut texts, &invalid);

    // The audit trail (with the refresh the provider recorded) and the notifications.
    let trail = store.audit_trail(&tenant, None).await.unwrap();
    assert!(
        trail.iter().any(|r| r.action == "token.refreshed"),
        "{trail:?}"
    );
    show(&mut texts, &trail);
    let notes = lock(&notes.0).clone();
    assert!(
        notes.iter().any(|n| n.contains("ReauthRequired")),
        "{notes:?}"
    );
    texts.extend(notes);

    Run {
        secrets,
        texts,
        tenant: tenant_name.to_owned(),
    }
}

/// The checks common to every store, on what the run handled and what was captured.
fn assert_run_leaked_nothing(run: &Run) {
    let c = captured();
    for text in &run.texts {
        run.secrets.assert_absent("Debug/Display output", text);
    }
    let panics = lock(&c.panics).clone();
    assert!(
        panics.iter().any(
            |p| p.contains("called `Result::unwrap()` on an `Err` value") && p.contains("Auth")
        ),
        "the panic hook saw the unwrapped error: {panics:?}"
    );
    for p in &panics {
        run.secrets.assert_absent("a panic message", p);
    }

    let logs = c.logs.text();
    // The capture holds this run at TRACE: cmis spans and events, sqlx statements, reqwest's
    // log records. An empty or partial capture cannot pass.
    for expected in [
        "TRACE",
        "DEBUG",
        "cmis_core::refreshing",
        "refreshing token",
        "cmis_tiktok",
        "TikTok publish initialised",
        "platform=\"facebook\"",
        "platform=\"instagram\"",
        "cmis::notify",
        "reauth_required",
        "sqlx::query",
        "reqwest::connect",
        run.tenant.as_str(),
    ] {
        assert!(
            logs.contains(expected),
            "the capture lacks {expected:?} ({} bytes captured)",
            logs.len()
        );
    }
    run.secrets.assert_absent("the tracing capture", &logs);
}

/// The raw bytes of a file, if it exists.
fn raw(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// A directory removed when the test ends, however it ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(random(&format!("cmis-secrets-{label}-"), 12));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key() -> TokenKey {
    let bytes = random("", 64);
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&bytes[2 * i..2 * i + 2], 16).unwrap();
    }
    TokenKey::from_bytes(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_quickstart_on_sqlite_leaks_no_token() {
    captured();
    let dir = TempDir::new("sqlite");
    let db = dir.0.join("quickstart.db");
    let store = Arc::new(
        cmis::scheduler::SqliteStore::builder()
            .path(&db)
            .encryption_key(key())
            .build()
            .await
            .unwrap(),
    );
    let run = quickstart("secrets-sqlite-tenant", store.clone(), &dir.0).await;
    assert_run_leaked_nothing(&run);

    // The file and its WAL while the store is open, and the file again once it is closed.
    let mut files = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        files.push((
            format!("quickstart.db{suffix} (open)"),
            raw(&with_suffix(&db, suffix)),
        ));
    }
    drop(store);
    tokio::time::sleep(Duration::from_millis(200)).await;
    files.push(("quickstart.db (closed)".to_owned(), raw(&db)));
    let everything: Vec<u8> = files.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let text = String::from_utf8_lossy(&everything);
    // The run's data is in there, readable, so the search looks at the right bytes.
    for expected in [
        run.tenant.as_str(),
        "autumn-tiktok",
        "job.published",
        "token.refreshed",
    ] {
        assert!(
            text.contains(expected),
            "the SQLite bytes lack {expected:?}"
        );
    }
    for (name, bytes) in &files {
        run.secrets.assert_absent(
            &format!("the SQLite {name}"),
            &String::from_utf8_lossy(bytes),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_quickstart_on_postgres_leaks_no_token() {
    let url = match std::env::var("CMIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("skipping: CMIS_TEST_POSTGRES_URL is not set");
            return;
        }
    };
    captured();
    let dir = TempDir::new("postgres");
    let schema = random("cmis_secrets_", 16);
    let _drop = DropSchema {
        url: url.clone(),
        schema: schema.clone(),
    };
    let store = Arc::new(
        cmis::scheduler::PgStore::builder(&url)
            .schema(&schema)
            .max_connections(4)
            .encryption_key(key())
            .build()
            .await
            .unwrap(),
    );
    let run = quickstart("secrets-postgres-tenant", store.clone(), &dir.0).await;
    assert_run_leaked_nothing(&run);

    // Every column of every table in the schema, as text (bytea as its raw bytes).
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = $1 \
         ORDER BY table_name, ordinal_position",
    )
    .bind(&schema)
    .fetch_all(&pool)
    .await
    .unwrap();
    let tables: std::collections::BTreeSet<_> = columns.iter().map(|c| c.0.as_str()).collect();
    for t in ["jobs", "audit", "credentials"] {
        assert!(tables.contains(t), "table {t} in {tables:?}");
    }
    let mut text = String::new();
    let mut sealed = 0;
    for (table, column, data_type) in &columns {
        let from = format!("FROM \"{schema}\".\"{table}\"");
        if data_type == "bytea" {
            let sql = format!("SELECT \"{column}\" {from}");
            let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .unwrap();
            for v in values.into_iter().flatten() {
                sealed += usize::from(table == "credentials" && !v.is_empty());
                text.push_str(&String::from_utf8_lossy(&v));
                text.push('\n');
            }
        } else {
            let sql = format!("SELECT \"{column}\"::text {from}");
            let values: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .unwrap();
            for v in values.into_iter().flatten() {
                text.push_str(&format!("{table}.{column}: {v}\n"));
            }
        }
    }
    pool.close().await;
    assert!(sealed >= 4, "{sealed} sealed credentials read raw");
    for expected in [
        run.tenant.as_str(),
        "autumn-tiktok",
        "job.published",
        "token.refreshed",
    ] {
        assert!(
            text.contains(expected),
            "the PostgreSQL rows lack {expected:?}"
        );
    }
    run.secrets.assert_absent("the PostgreSQL rows", &text);
    drop(store);
}

/// Drops the test's schema when the test ends, however it ends.
struct DropSchema {
    url: String,
    schema: String,
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime; clean up on a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                }
            });
        })
        .join();
    }
}
