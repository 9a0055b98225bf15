//! The Bluesky connector through the full publish path against the sandbox's fake PDS, which
//! was written from the AT Protocol documentation and the reference server rather than from the
//! connector: sessions from an app password, facets, images, token rotation, and a write whose
//! answer was lost.

use std::sync::Arc;
use std::time::Duration;

use cmis::bluesky::{BlueskyClient, BlueskyPublisher, BlueskyRefresher};
use cmis::{
    BlueskyOptions, CheckpointSink, CredentialStore, ErrorKind, ExposeSecret, Media, MediaSource,
    MemoryCheckpointSink, MemoryCredentialStore, Outcome, Post, PublishContext, Publisher,
    Reconciliation, RefreshingTokenProvider, SecretString, Target, TenantId,
};
use cmis_sandbox::{BlueskyAccount, BlueskyEndpoint, Fault, Sandbox};
use serde_json::Value;

const HANDLE: &str = "alice.bsky.social";
const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

struct Fixture {
    sandbox: Sandbox,
    publisher: BlueskyPublisher,
    store: Arc<MemoryCredentialStore>,
    checkpoints: Arc<MemoryCheckpointSink>,
    ctx: PublishContext,
    target: Target,
}

async fn fixture() -> Fixture {
    let sandbox = Sandbox::start().await.unwrap();
    let pds = sandbox.bluesky();
    pds.add_account(BlueskyAccount::new(HANDLE, DID, APP_PASSWORD));
    let client = BlueskyClient::builder().pds_url(pds.url()).build().unwrap();
    let tenant = TenantId::new("tenant-1");
    let session = client
        .create_session(HANDLE, &SecretString::from(APP_PASSWORD))
        .await
        .unwrap();
    assert_eq!(session.did, DID);
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(session.credential(&tenant))
        .await
        .unwrap();
    let tokens = RefreshingTokenProvider::builder(store.clone())
        .refresher(Arc::new(BlueskyRefresher::new(client.clone())))
        .build();
    let checkpoints = Arc::new(MemoryCheckpointSink::new());
    let ctx = PublishContext::new(Arc::new(tokens))
        .with_checkpoint_sink(checkpoints.clone() as Arc<dyn CheckpointSink>);
    Fixture {
        publisher: BlueskyPublisher::new(client),
        target: Target::feed(tenant.account(cmis::Platform::Bluesky, DID)),
        sandbox,
        store,
        checkpoints,
        ctx,
    }
}

#[tokio::test]
async fn a_post_with_links_mentions_tags_and_an_image_is_stored_as_the_pds_expects() {
    let f = fixture().await;
    let pds = f.sandbox.bluesky();
    pds.add_account(BlueskyAccount::new(
        "bob.bsky.social",
        "did:plc:z72i7hdynmk6r22z27h6tvur",
        "x",
    ));
    let jpeg = cmis::media::sample::jpeg(64, 48);
    let post = Post::new()
        .with_text("🦋 hi @bob.bsky.social, see https://example.com/a. #rust")
        .with_media(
            Media::new(MediaSource::Bytes {
                name: Some("a.jpg".into()),
                data: jpeg.into(),
            })
            .with_alt_text("a test pattern"),
        );
    let Outcome::Published(receipt) = f.publisher.publish(&f.target, &post, &f.ctx).await.unwrap()
    else {
        panic!("not published");
    };
    let posts = pds.posts(HANDLE);
    assert_eq!(posts.len(), 1);
    assert_eq!(receipt.post_id.as_str(), posts[0].uri);
    let record: Value = serde_json::from_str(&posts[0].record).unwrap();
    let text = record["text"].as_str().unwrap();
    let facets = record["facets"].as_array().unwrap();
    let spans: Vec<&str> = facets
        .iter()
        .map(|f| {
            let (s, e) = (
                usize::try_from(f["index"]["byteStart"].as_u64().unwrap()).unwrap(),
                usize::try_from(f["index"]["byteEnd"].as_u64().unwrap()).unwrap(),
            );
            &text[s..e]
        })
        .collect();
    assert_eq!(
        spans,
        ["@bob.bsky.social", "https://example.com/a", "#rust"]
    );
    assert_eq!(
        facets[0]["features"][0]["did"],
        "did:plc:z72i7hdynmk6r22z27h6tvur"
    );
    assert_eq!(record["embed"]["images"][0]["alt"], "a test pattern");
    assert_eq!(
        record["embed"]["images"][0]["aspectRatio"],
        serde_json::json!({"width": 64, "height": 48})
    );
}

#[tokio::test]
async fn a_write_answered_500_after_it_was_stored_is_found_never_posted_twice() {
    let f = fixture().await;
    let pds = f.sandbox.bluesky();
    pds.inject(
        BlueskyEndpoint::CreateRecord,
        Fault::ServerErrorAfterAccept,
        1,
    );
    let post = Post::new().with_text("exactly once");
    let err = f
        .publisher
        .publish(&f.target, &post, &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    assert_eq!(pds.posts(HANDLE).len(), 1);
    let cp = f.checkpoints.latest().unwrap();
    let Reconciliation::Published(receipt) = f
        .publisher
        .reconcile(&f.target, &post, Some(&cp), &f.ctx)
        .await
        .unwrap()
    else {
        panic!("the stored post was not found");
    };
    assert_eq!(receipt.post_id.as_str(), pds.posts(HANDLE)[0].uri);
    // Resuming the same checkpoint finds it too and writes nothing.
    f.publisher.resume(&f.target, &cp, &f.ctx).await.unwrap();
    assert_eq!(pds.posts(HANDLE).len(), 1, "never posted twice");
}

#[tokio::test]
async fn a_write_refused_before_it_was_stored_is_written_at_the_same_key() {
    let f = fixture().await;
    let pds = f.sandbox.bluesky();
    pds.inject(BlueskyEndpoint::CreateRecord, Fault::ServerError, 1);
    let post = Post::new().with_text("written once, at one key");
    let err = f
        .publisher
        .publish(&f.target, &post, &f.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(pds.posts(HANDLE).is_empty());
    let cp = f.checkpoints.latest().unwrap();
    let Reconciliation::Pending(back) = f
        .publisher
        .reconcile(&f.target, &post, Some(&cp), &f.ctx)
        .await
        .unwrap()
    else {
        panic!("not found must hand the checkpoint back");
    };
    f.publisher.resume(&f.target, &back, &f.ctx).await.unwrap();
    let posts = pds.posts(HANDLE);
    assert_eq!(posts.len(), 1);
    let key: Value = serde_json::from_str(&cp.data_json()).unwrap();
    assert_eq!(posts[0].rkey, key["rkey"].as_str().unwrap());
}

#[tokio::test]
async fn an_expired_session_is_refreshed_with_rotation_and_the_new_refresh_token_stored() {
    let f = fixture().await;
    let pds = f.sandbox.bluesky();
    // Two hours on, the access token has expired (its `exp` says so, and so does the PDS).
    pds.advance_clock(Duration::from_secs(121 * 60));
    let before = f
        .store
        .credential(&f.target.account)
        .await
        .unwrap()
        .unwrap();
    f.publisher
        .publish(&f.target, &Post::new().with_text("after a refresh"), &f.ctx)
        .await
        .unwrap();
    assert_eq!(pds.refresh_count(), 1);
    assert_eq!(pds.posts(HANDLE).len(), 1);
    let after = f
        .store
        .credential(&f.target.account)
        .await
        .unwrap()
        .unwrap();
    let stored = after.refresh_token.unwrap();
    assert_ne!(
        stored.expose_secret(),
        before.refresh_token.unwrap().expose_secret()
    );
    // The stored refresh token is one the PDS still honours.
    let valid = pds.valid_refresh_tokens(HANDLE);
    assert!(
        valid
            .iter()
            .any(|t| t.expose_secret() == stored.expose_secret())
    );
    assert_eq!(pds.sessions_created(), 1, "no second sign-in");
}

#[tokio::test]
async fn a_thread_of_replies_a_quote_and_a_link_card_are_stored_as_the_lexicons_say() {
    let f = fixture().await;
    let pds = f.sandbox.bluesky();
    let publish = |post: Post| {
        let f = &f;
        async move {
            match f.publisher.publish(&f.target, &post, &f.ctx).await.unwrap() {
                Outcome::Published(r) => r.post_id.as_str().to_owned(),
                other => panic!("not published: {other:?}"),
            }
        }
    };
    let root = publish(Post::new().with_text("1/3 Autumn menu")).await;
    let second = publish(
        Post::new()
            .with_text("2/3 Pumpkin soup")
            .with_bluesky(BlueskyOptions::new().with_reply_to(&root)),
    )
    .await;
    let third = publish(
        Post::new()
            .with_text("3/3 Apple pie")
            .with_bluesky(BlueskyOptions::new().with_reply_to(&second)),
    )
    .await;
    let quote = publish(
        Post::new()
            .with_text("Our menu, in one card")
            .with_link("https://cafe.example/menu".parse().unwrap())
            .with_bluesky(
                BlueskyOptions::new()
                    .with_quote(&root)
                    .with_link_card("Autumn menu", "Soup and pie"),
            ),
    )
    .await;
    let posts = pds.posts(HANDLE);
    let by_uri = |uri: &str| posts.iter().find(|p| p.uri == uri).unwrap().clone();
    let (root_p, second_p, third_p) = (by_uri(&root), by_uri(&second), by_uri(&third));
    // Each reply names the thread's first post as its root and the post it answers as parent.
    assert_eq!(
        second_p.reply(),
        Some((root_p.strong_ref(), root_p.strong_ref()))
    );
    assert_eq!(
        third_p.reply(),
        Some((root_p.strong_ref(), second_p.strong_ref()))
    );
    let quote_p = by_uri(&quote);
    assert_eq!(
        quote_p.embed_type().as_deref(),
        Some("app.bsky.embed.recordWithMedia")
    );
    assert_eq!(quote_p.quoted(), Some(root_p.strong_ref()));
    let record: Value = serde_json::from_str(&quote_p.record).unwrap();
    assert_eq!(record["embed"]["media"]["external"]["title"], "Autumn menu");
}

#[tokio::test]
async fn a_video_goes_through_the_video_service_and_is_embedded_once() {
    let f = fixture().await;
    let pds = f.sandbox.bluesky();
    let video = f.sandbox.bluesky_video();
    let client = BlueskyClient::builder()
        .pds_url(pds.url())
        .video_service_url(video.url())
        .build()
        .unwrap();
    let publisher = BlueskyPublisher::new(client).with_video_poll(cmis::PollPolicy::new(
        Duration::from_millis(100),
        Duration::from_millis(200),
        Duration::from_millis(300),
    ));
    let clip = Media::new(MediaSource::Bytes {
        name: Some("clip.mp4".into()),
        data: cmis::media::sample::mp4(320, 568, 2, 30).into(),
    })
    .with_alt_text("a test clip");
    let post = Post::new().with_text("Watch 🎬 #rust").with_media(clip);
    // The service needs 2 s of its clock: the first call comes back pending.
    let Outcome::Pending(cp) = publisher.publish(&f.target, &post, &f.ctx).await.unwrap() else {
        panic!("expected pending while the video is processed");
    };
    assert_eq!(cp.stage, "video_processing");
    video.advance_clock(Duration::from_secs(3));
    let Outcome::Published(receipt) = publisher.resume(&f.target, &cp, &f.ctx).await.unwrap()
    else {
        panic!("not published");
    };
    let jobs = video.jobs();
    assert_eq!(jobs.len(), 1, "uploaded once: {jobs:?}");
    let posts = pds.posts(HANDLE);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].uri, receipt.post_id.as_str());
    let record: Value = serde_json::from_str(&posts[0].record).unwrap();
    assert_eq!(record["embed"]["$type"], "app.bsky.embed.video");
    assert_eq!(record["embed"]["alt"], "a test clip");
    assert_eq!(
        record["embed"]["video"]["ref"]["$link"].as_str(),
        jobs[0].blob_cid.as_deref()
    );
}
