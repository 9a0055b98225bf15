//! The Meta connector through the full publish path against the sandbox's fake Graph API, which
//! was written from Meta's documentation rather than from the connector — including injected
//! faults.

use std::sync::Arc;
use std::time::Duration;

use cmis::meta::{FacebookPagePublisher, InstagramLogin, InstagramPublisher, MetaClient};
use cmis::{
    AccountRef, Credential, CredentialStore, ErrorKind, ExposeSecret, Media, MemoryCredentialStore,
    Outcome, Platform, PollPolicy, Post, PublishContext, Publisher, RefreshingTokenProvider,
    SecretString, Surface, Target,
};
use cmis_sandbox::{Fault, MetaEndpoint, Sandbox};

const PAGE: &str = "100000000000001";
const IG: &str = "17841400000000001";

struct Fixture {
    sandbox: Sandbox,
    client: MetaClient,
}

async fn fixture() -> Fixture {
    let mut config = cmis_sandbox::MetaConfig::default();
    config.container_processing_time = Duration::from_millis(50);
    let sandbox = Sandbox::builder().meta(config).start().await.unwrap();
    let url = sandbox.meta().url();
    let client = MetaClient::builder()
        .graph_url(url.clone())
        .graph_video_url(url.clone())
        .rupload_url(url.clone())
        .instagram_graph_url(url)
        .app_id(sandbox.meta().app_id())
        .app_secret(sandbox.meta().app_secret())
        .poll_policy(PollPolicy::new(
            Duration::from_millis(20),
            Duration::from_millis(100),
            Duration::from_secs(10),
        ))
        .build()
        .unwrap();
    Fixture { sandbox, client }
}

async fn context(
    platform: Platform,
    account: &str,
    token: SecretString,
) -> (AccountRef, PublishContext) {
    let store = Arc::new(MemoryCredentialStore::new());
    let account = AccountRef::new(cmis::TenantId::new("tenant-1"), platform, account);
    store
        .put_credential(Credential::new(account.clone(), token))
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store).build();
    (account, PublishContext::new(Arc::new(tokens)))
}

#[tokio::test]
async fn a_facebook_text_post_is_published_with_the_platforms_id() {
    let f = fixture().await;
    let token = f.sandbox.meta().add_page(PAGE, "Cafe");
    let (account, ctx) = context(Platform::Facebook, PAGE, token).await;
    let publisher = FacebookPagePublisher::new(f.client.clone());
    let outcome = publisher
        .publish(
            &Target::feed(account),
            &Post::new().with_text("Doors open at 9"),
            &ctx,
        )
        .await
        .unwrap();
    let Outcome::Published(receipt) = outcome else {
        panic!("expected a receipt")
    };
    let posts = f.sandbox.meta().posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        receipt.post_id.as_str(),
        posts[0].id,
        "the id is the one the platform issued"
    );
    assert_eq!(posts[0].message.as_deref(), Some("Doors open at 9"));
}

#[tokio::test]
async fn an_instagram_carousel_waits_for_its_containers_then_publishes_once() {
    let f = fixture().await;
    let token = f
        .sandbox
        .meta()
        .add_instagram_account(IG, cmis_sandbox::InstagramLogin::Facebook);
    let (account, ctx) = context(Platform::Instagram, IG, token).await;
    let publisher = InstagramPublisher::new(f.client.clone()).with_login(InstagramLogin::Facebook);
    let post = Post::new()
        .with_text("Two of our favourites")
        .with_media(Media::from_path_or_url("https://cdn.example.com/a.jpg").unwrap())
        .with_media(Media::from_path_or_url("https://cdn.example.com/b.jpg").unwrap());
    let outcome = publisher
        .publish(&Target::feed(account), &post, &ctx)
        .await
        .unwrap();
    let Outcome::Published(receipt) = outcome else {
        panic!("expected a receipt")
    };
    let posts = f.sandbox.meta().posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].kind, "ig_carousel");
    assert_eq!(receipt.post_id.as_str(), posts[0].id);
    assert!(receipt.permalink.is_some());
    assert_eq!(f.sandbox.meta().duplicate_publish_attempts(), 0);
}

#[tokio::test]
async fn a_500_after_the_feed_accepted_the_post_is_an_unknown_outcome_and_is_not_resent() {
    let f = fixture().await;
    let token = f.sandbox.meta().add_page(PAGE, "Cafe");
    let (account, ctx) = context(Platform::Facebook, PAGE, token).await;
    f.sandbox
        .meta()
        .inject(MetaEndpoint::Feed, Fault::ServerErrorAfterAccept, 1);
    let publisher = FacebookPagePublisher::new(f.client.clone());
    let err = publisher
        .publish(&Target::feed(account), &Post::new().with_text("once"), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert_eq!(
        f.sandbox.meta().posts().len(),
        1,
        "exactly one post reached the platform"
    );
}

#[tokio::test]
async fn throttling_is_rate_limited_with_a_retry_after() {
    let f = fixture().await;
    let token = f.sandbox.meta().add_page(PAGE, "Cafe");
    let (account, ctx) = context(Platform::Facebook, PAGE, token).await;
    f.sandbox
        .meta()
        .inject(MetaEndpoint::Feed, Fault::RateLimited, 1);
    let publisher = FacebookPagePublisher::new(f.client.clone());
    let err = publisher
        .publish(&Target::feed(account), &Post::new().with_text("x"), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.platform_code(), Some("4"));
    assert!(
        err.retry_after()
            .is_some_and(|d| d >= Duration::from_secs(60)),
        "{err:?}"
    );
    assert!(f.sandbox.meta().posts().is_empty());
}

#[tokio::test]
async fn an_expired_page_token_is_an_auth_error_without_a_retry_storm() {
    let f = fixture().await;
    let token = f.sandbox.meta().add_page(PAGE, "Cafe");
    let (account, ctx) = context(Platform::Facebook, PAGE, token.clone()).await;
    f.sandbox
        .meta()
        .inject(MetaEndpoint::Feed, Fault::ExpiredToken, 1);
    let publisher = FacebookPagePublisher::new(f.client.clone());
    let err = publisher
        .publish(&Target::feed(account), &Post::new().with_text("x"), &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.platform_code(), Some("190"));
    assert!(!format!("{err} {err:?}").contains(token.expose_secret()));
    assert!(f.sandbox.meta().posts().is_empty());
}

#[tokio::test]
async fn a_story_and_a_reel_by_url_go_through_their_containers() {
    let f = fixture().await;
    let token = f
        .sandbox
        .meta()
        .add_instagram_account(IG, cmis_sandbox::InstagramLogin::Facebook);
    let (account, ctx) = context(Platform::Instagram, IG, token).await;
    let publisher = InstagramPublisher::new(f.client.clone());
    let story =
        Post::new().with_media(Media::from_path_or_url("https://cdn.example.com/s.jpg").unwrap());
    let outcome = publisher
        .publish(&Target::new(account.clone(), Surface::Story), &story, &ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
    let reel = Post::new()
        .with_text("reel")
        .with_media(Media::from_path_or_url("https://cdn.example.com/r.mp4").unwrap());
    let outcome = publisher
        .publish(&Target::new(account, Surface::Reel), &reel, &ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Published(_)));
    let kinds: Vec<_> = f
        .sandbox
        .meta()
        .posts()
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, vec!["ig_story", "ig_reel"]);
}
