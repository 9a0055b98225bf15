//! The Threads connector through the full publish path against the sandbox's fake Threads API,
//! which was written from the Threads documentation rather than from the connector: the 500-byte
//! limit, containers that need time, carousels, replies, a publish whose answer was lost, and the
//! token exchanges and refresh.

use std::sync::Arc;
use std::time::Duration;

use cmis::meta::{
    ReconcilePolicy, ThreadsClient, ThreadsPublisher, ThreadsTokenRefresher, threads,
};
use cmis::{
    CheckpointSink, Credential, CredentialStore, ErrorKind, ExposeSecret, Media,
    MemoryCheckpointSink, MemoryCredentialStore, Outcome, PollPolicy, Post, PublishContext,
    Publisher, Reconciliation, RefreshingTokenProvider, ReplyControl, Target, TenantId,
    ThreadsOptions, TokenRefresher, url::Url,
};
use cmis_sandbox::{Fault, Sandbox, ThreadsEndpoint};

const USER: &str = "17841405793187218";

struct Fixture {
    sandbox: Sandbox,
    client: ThreadsClient,
    publisher: ThreadsPublisher,
    checkpoints: Arc<MemoryCheckpointSink>,
    ctx: PublishContext,
    target: Target,
}

async fn fixture() -> Fixture {
    let sandbox = Sandbox::start().await.unwrap();
    let th = sandbox.threads();
    let token = th.add_user(USER, "demo_cafe");
    let client = ThreadsClient::builder()
        .url(th.url())
        .app_id(th.app_id())
        .app_secret(th.app_secret())
        .poll_policy(PollPolicy::new(
            Duration::from_millis(200),
            Duration::from_millis(500),
            Duration::from_secs(20),
        ))
        .build()
        .unwrap();
    let tenant = TenantId::new("tenant-1");
    let account = tenant.account(cmis::Platform::Threads, USER);
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(Credential::new(account.clone(), token))
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store)
        .refresher(Arc::new(ThreadsTokenRefresher::new(client.clone())))
        .build();
    let checkpoints = Arc::new(MemoryCheckpointSink::new());
    let ctx = PublishContext::new(Arc::new(tokens))
        .with_checkpoint_sink(checkpoints.clone() as Arc<dyn CheckpointSink>);
    Fixture {
        // The fake lists a post at once: absence can be claimed as soon as the call's window
        // closes.
        publisher: ThreadsPublisher::new(client.clone())
            .with_publish_delay(Duration::ZERO)
            .with_reconcile_policy(
                ReconcilePolicy::new()
                    .with_settle(Duration::ZERO)
                    .with_call_span(Duration::from_secs(1)),
            ),
        client,
        target: Target::feed(account),
        sandbox,
        checkpoints,
        ctx,
    }
}

fn url(u: &str) -> Media {
    Media::url(Url::parse(u).unwrap())
}

#[tokio::test]
async fn text_carousel_and_reply_are_published_as_threads_holds_them() {
    let f = fixture().await;
    let text = "Autumn menu ☕ 🍂 pumpkin soup";
    let post = Post::new()
        .with_text(text)
        .with_link(Url::parse("https://cafe.example/menu").unwrap())
        .with_threads(
            ThreadsOptions::new()
                .with_reply_control(ReplyControl::AccountsYouFollow)
                .with_topic_tag("food"),
        );
    let Outcome::Published(first) = f.publisher.publish(&f.target, &post, &f.ctx).await.unwrap()
    else {
        panic!("not published")
    };
    let carousel = Post::new()
        .with_text("Two plates")
        .with_media(url("https://cdn.example.com/soup.jpg").with_alt_text("Soup"))
        .with_media(url("https://cdn.example.com/pie.mp4"));
    let Outcome::Published(second) = f
        .publisher
        .publish(&f.target, &carousel, &f.ctx)
        .await
        .unwrap()
    else {
        panic!("carousel not published")
    };
    let reply = Post::new()
        .with_text("Open until 9 tonight")
        .with_threads(ThreadsOptions::new().with_reply_to(first.post_id.as_str()));
    let Outcome::Published(third) = f
        .publisher
        .publish(&f.target, &reply, &f.ctx)
        .await
        .unwrap()
    else {
        panic!("reply not published")
    };
    let posts = f.sandbox.threads().posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0].id, first.post_id.as_str());
    assert_eq!(posts[0].media_type, "TEXT_POST");
    assert_eq!(posts[0].text.as_deref(), Some(text));
    assert_eq!(
        posts[0].reply_control.as_deref(),
        Some("accounts_you_follow")
    );
    assert_eq!(posts[0].topic_tag.as_deref(), Some("food"));
    assert_eq!(
        posts[0].link_attachment.as_deref(),
        Some("https://cafe.example/menu")
    );
    assert_eq!(
        first.permalink.as_ref().map(Url::as_str),
        Some(posts[0].permalink.as_str())
    );
    assert_eq!(posts[1].id, second.post_id.as_str());
    assert_eq!(posts[1].media_type, "CAROUSEL_ALBUM");
    assert_eq!(posts[1].media_urls.len(), 2);
    assert_eq!(posts[2].id, third.post_id.as_str());
    assert_eq!(
        posts[2].reply_to_id.as_deref(),
        Some(first.post_id.as_str())
    );
}

#[tokio::test]
async fn a_publish_answered_500_after_it_went_live_is_found_and_never_posted_twice() {
    let f = fixture().await;
    let th = f.sandbox.threads();
    th.inject(ThreadsEndpoint::Publish, Fault::ServerErrorAfterAccept, 1);
    let post = Post::new().with_text("Doors open at 9 ☕");
    let err = f
        .publisher
        .publish(&f.target, &post, &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = f.checkpoints.checkpoints().last().cloned().unwrap();
    // A retry reads the container first and does not publish again.
    let again = f
        .publisher
        .resume(&f.target, &cp, &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::UnknownOutcome, "{again}");
    let settled = f
        .publisher
        .reconcile(&f.target, &post, Some(&cp), &f.ctx)
        .await
        .unwrap();
    let Reconciliation::Published(r) = settled else {
        panic!("not found: {settled:?}")
    };
    let posts = th.posts();
    assert_eq!(posts.len(), 1, "published once");
    assert_eq!(r.post_id.as_str(), posts[0].id);
}

#[tokio::test]
async fn a_publish_refused_before_it_went_live_is_settled_as_not_published() {
    let f = fixture().await;
    let th = f.sandbox.threads();
    th.inject(ThreadsEndpoint::Publish, Fault::ServerError, 1);
    let post = Post::new().with_text("Doors open at 9 ☕");
    let err = f
        .publisher
        .publish(&f.target, &post, &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = f.checkpoints.checkpoints().last().cloned().unwrap();
    // The container still reads FINISHED, but its status may lag: until the call's window has
    // closed, the profile's posts cannot prove the publish failed.
    let err = f
        .publisher
        .reconcile(&f.target, &post, Some(&cp), &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    tokio::time::sleep(err.retry_after().unwrap()).await;
    let settled = f
        .publisher
        .reconcile(&f.target, &post, Some(&cp), &f.ctx)
        .await
        .unwrap();
    // No such post once it closed: resuming publishes the container, once.
    let Reconciliation::Pending(cp) = settled else {
        panic!("expected pending: {settled:?}")
    };
    let out = f.publisher.resume(&f.target, &cp, &f.ctx).await.unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
    assert_eq!(th.posts().len(), 1);
}

#[tokio::test]
async fn the_fake_refuses_what_threads_refuses_and_so_does_the_connector_first() {
    let f = fixture().await;
    // 500 characters, 1 000 bytes: refused locally, before the fake sees it.
    let err = f
        .publisher
        .publish(&f.target, &Post::new().with_text("é".repeat(500)), &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(f.sandbox.threads().containers().is_empty());
    // A media URL Threads cannot fetch ends its container in ERROR.
    f.sandbox
        .threads()
        .fail_media_url("broken.mp4", "FAILED_DOWNLOADING_VIDEO");
    let err = f
        .publisher
        .publish(
            &f.target,
            &Post::new().with_media(url("https://cdn.example.com/broken.mp4")),
            &f.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.message().contains("FAILED_DOWNLOADING_VIDEO"), "{err}");
    assert!(f.sandbox.threads().posts().is_empty());
}

#[tokio::test]
async fn a_code_becomes_a_long_lived_token_that_refreshes_after_a_day() {
    let f = fixture().await;
    let th = f.sandbox.threads();
    let redirect = "https://app.example/callback";
    let code = th.issue_code(USER, redirect);
    let short = threads::exchange_code(&f.client, &code.into(), redirect)
        .await
        .unwrap();
    assert_eq!(short.user_id, USER);
    let long = threads::exchange_for_long_lived(&f.client, &short.access_token)
        .await
        .unwrap();
    let lifetime = long.expires_in.unwrap();
    assert!(lifetime > Duration::from_secs(59 * 86_400), "{lifetime:?}");
    let refresher = ThreadsTokenRefresher::new(f.client.clone());
    let account = f.target.account.clone();
    let now = cmis::time::OffsetDateTime::now_utc();
    let credential = Credential::new(account, long.access_token.clone())
        .with_issued_at(now - Duration::from_secs(25 * 3600))
        .with_access_expires_at(now + lifetime);
    // The fake's clock: the token is a day old there too.
    th.advance_clock(Duration::from_secs(25 * 3600));
    let fresh = refresher.refresh(&credential).await.unwrap();
    assert_ne!(
        fresh.access_token.expose_secret(),
        long.access_token.expose_secret()
    );
    // The refreshed token publishes.
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(Credential::new(
            f.target.account.clone(),
            fresh.access_token,
        ))
        .await
        .unwrap();
    let ctx = PublishContext::new(Arc::new(RefreshingTokenProvider::builder(store).build()));
    let out = f
        .publisher
        .publish(&f.target, &Post::new().with_text("Refreshed"), &ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
}
