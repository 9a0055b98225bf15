//! The TikTok connector through the full publish path against the sandbox's fake TikTok, which
//! was written from TikTok's documentation rather than from the connector — including token
//! rotation and injected faults.

use std::sync::Arc;
use std::time::Duration;

use cmis::tiktok::{TikTokClient, TikTokPublisher, TikTokRefresher, default_poll};
use cmis::{
    AccountRef, Credential, CredentialStore, ErrorKind, ExposeSecret, Media, MemoryCredentialStore,
    Outcome, Platform, Post, PrivacyLevel, PublishContext, Publisher, ReceiptState,
    RefreshingTokenProvider, Target, TikTokOptions,
};
use cmis_sandbox::{Creator, Fault, Sandbox, TikTokConfig, TikTokEndpoint};

const SCOPES: &[&str] = &["user.info.basic", "video.publish", "video.upload"];

struct Fixture {
    sandbox: Sandbox,
    publisher: TikTokPublisher,
    store: Arc<MemoryCredentialStore>,
    ctx: PublishContext,
    account: AccountRef,
}

async fn fixture() -> Fixture {
    let mut config = TikTokConfig::default();
    config.processing_time = Duration::from_millis(50);
    config.verified_url_prefixes = vec!["https://cdn.example.com/".into()];
    let sandbox = Sandbox::builder().tiktok(config).start().await.unwrap();
    let tiktok = sandbox.tiktok();
    tiktok.add_creator(Creator::public("open-1"));
    let issued = tiktok.issue_tokens("open-1", SCOPES);
    let client = TikTokClient::builder()
        .api_base_url(tiktok.url())
        .client_key(tiktok.client_key())
        .client_secret(tiktok.client_secret())
        .build()
        .unwrap();
    let store = Arc::new(MemoryCredentialStore::new());
    let account = AccountRef::new(cmis::TenantId::new("tenant-1"), Platform::TikTok, "open-1");
    store
        .put_credential(
            Credential::new(account.clone(), issued.access_token)
                .with_refresh_token(issued.refresh_token)
                .with_scopes(SCOPES.iter().copied()),
        )
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(TikTokRefresher::new(client.clone())))
        .build();
    let publisher = TikTokPublisher::new(client).with_poll(
        default_poll()
            .with_initial(Duration::from_millis(20))
            .with_max_interval(Duration::from_millis(100))
            .with_budget(Duration::from_secs(10)),
    );
    Fixture {
        sandbox,
        publisher,
        store,
        ctx: PublishContext::new(Arc::new(tokens)),
        account,
    }
}

fn video_post(privacy: PrivacyLevel) -> Post {
    Post::new()
        .with_text("funny #cat video")
        .with_media(Media::from_path_or_url("https://cdn.example.com/cat.mp4").unwrap())
        .with_tiktok(TikTokOptions::new().with_privacy_level(privacy))
}

#[tokio::test]
async fn a_public_video_by_url_is_published_with_a_64_bit_post_id() {
    let f = fixture().await;
    let outcome = f
        .publisher
        .publish(
            &Target::feed(f.account.clone()),
            &video_post(PrivacyLevel::PublicToEveryone),
            &f.ctx,
        )
        .await
        .unwrap();
    let Outcome::Published(receipt) = outcome else {
        panic!("expected a receipt")
    };
    let published = f.sandbox.tiktok().published();
    assert_eq!(published.len(), 1);
    let id = published[0].post_ids[0];
    assert!(id > 1 << 53);
    assert_eq!(
        receipt.post_id.as_str(),
        id.to_string(),
        "no precision lost"
    );
    assert_eq!(
        published[0].privacy_level.as_deref(),
        Some("PUBLIC_TO_EVERYONE")
    );
}

#[tokio::test]
async fn a_privacy_level_the_creator_is_not_offered_is_refused_before_any_init() {
    let f = fixture().await;
    let err = f
        .publisher
        .publish(
            &Target::feed(f.account.clone()),
            &video_post(PrivacyLevel::FollowerOfCreator),
            &f.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        f.sandbox.tiktok().publishes().is_empty(),
        "nothing was initialised"
    );
}

#[tokio::test]
async fn a_draft_ends_in_the_inbox() {
    let f = fixture().await;
    let post = Post::new()
        .with_media(Media::from_path_or_url("https://cdn.example.com/cat.mp4").unwrap())
        .with_tiktok(TikTokOptions::new().with_draft(true));
    let outcome = f
        .publisher
        .publish(&Target::feed(f.account.clone()), &post, &f.ctx)
        .await
        .unwrap();
    let Outcome::Published(receipt) = outcome else {
        panic!("expected a receipt")
    };
    assert_eq!(receipt.state, ReceiptState::SentToInbox);
    assert_eq!(
        receipt.post_id.as_str(),
        f.sandbox.tiktok().published()[0].publish_id
    );
}

#[tokio::test]
async fn a_photo_post_pulls_its_images() {
    let f = fixture().await;
    let post = Post::new()
        .with_text("#funny photomode")
        .with_media(Media::from_path_or_url("https://cdn.example.com/1.jpg").unwrap())
        .with_media(Media::from_path_or_url("https://cdn.example.com/2.jpg").unwrap())
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));
    let outcome = f
        .publisher
        .publish(&Target::feed(f.account.clone()), &post, &f.ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
    let published = f.sandbox.tiktok().published();
    assert_eq!(published[0].urls.len(), 2);
    assert!(
        published[0].post_ids.is_empty(),
        "SELF_ONLY posts never get a public id"
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_rotated_and_the_call_retried() {
    let f = fixture().await;
    f.sandbox
        .tiktok()
        .inject(TikTokEndpoint::CreatorInfo, Fault::ExpiredToken, 1);
    let outcome = f
        .publisher
        .publish(
            &Target::feed(f.account.clone()),
            &video_post(PrivacyLevel::SelfOnly),
            &f.ctx,
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
    assert_eq!(f.sandbox.tiktok().refresh_count(), 1);
    // The rotated refresh token was stored: the old one no longer works on the platform.
    let stored = f.store.credential(&f.account).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert!(
        stored
            .refresh_token
            .unwrap()
            .expose_secret()
            .starts_with("rft.")
    );
}

#[tokio::test]
async fn a_500_after_init_is_an_unknown_outcome_and_init_is_not_repeated() {
    let f = fixture().await;
    f.sandbox
        .tiktok()
        .inject(TikTokEndpoint::VideoInit, Fault::ServerErrorAfterAccept, 1);
    let err = f
        .publisher
        .publish(
            &Target::feed(f.account.clone()),
            &video_post(PrivacyLevel::SelfOnly),
            &f.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert_eq!(
        f.sandbox.tiktok().publishes().len(),
        1,
        "exactly one init reached TikTok"
    );
}

#[tokio::test]
async fn a_local_video_is_uploaded_in_chunks_with_progress_and_a_5xx_chunk_is_retried() {
    let f = fixture().await;
    let dir = std::env::temp_dir().join(format!("cmis-it-tiktok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("clip.mp4");
    // A valid 5-second MP4, padded past 5 MiB so that it goes up in two chunks.
    let mut bytes = cmis::media::sample::mp4(1080, 1920, 5, 30);
    bytes.resize(11 * 1024 * 1024, 0);
    std::fs::write(&path, &bytes).unwrap();
    f.sandbox
        .tiktok()
        .inject(TikTokEndpoint::Upload, Fault::ServerError, 1);
    let progress = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let ctx = f
        .ctx
        .clone()
        .with_progress(Arc::new(move |p: &cmis::Progress| {
            seen.lock().unwrap().push(p.bytes_sent);
        }));
    let post = Post::new()
        .with_text("from disk")
        .with_media(Media::path(&path))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));
    let publisher = f.publisher.clone().with_chunk_size(5 * 1024 * 1024);
    let outcome = publisher
        .publish(&Target::feed(f.account.clone()), &post, &ctx)
        .await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(outcome.unwrap(), Outcome::Published(_)));
    let published = f.sandbox.tiktok().published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].uploaded_bytes, 11 * 1024 * 1024);
    assert_eq!(published[0].video_size, Some(11 * 1024 * 1024));
    let progress = progress.lock().unwrap().clone();
    assert_eq!(progress.last(), Some(&(11 * 1024 * 1024)), "{progress:?}");
}
