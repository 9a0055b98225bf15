//! A pull host (`PullHost`): pulled media goes out under URLs issued per init, and an init
//! whose answer was lost is settled by sealing them: never served means never published.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cmis_core::{
    ErrorKind, Media, Outcome, Post, PrivacyLevel, Publisher, Reconciliation, Result, TikTokOptions,
};
use cmis_tiktok::{PullHost, Sealed, TikTokPublisher};
use common::*;
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A host that records what it issued and sealed, and answers seals as told.
#[derive(Debug)]
struct Host {
    /// `None`: the seal fails.
    seal_answer: Mutex<Option<Sealed>>,
    issued: Mutex<Vec<(Url, String)>>,
    sealed: Mutex<Vec<Vec<Url>>>,
}

impl Host {
    fn new(seal_answer: Option<Sealed>) -> Arc<Self> {
        Arc::new(Self {
            seal_answer: Mutex::new(seal_answer),
            issued: Mutex::new(Vec::new()),
            sealed: Mutex::new(Vec::new()),
        })
    }
    fn issued_urls(&self) -> Vec<Url> {
        let issued = self.issued.lock().unwrap();
        issued
            .iter()
            .map(|(media, attempt)| issue_url(media, attempt))
            .collect()
    }
    fn seals(&self) -> Vec<Vec<Url>> {
        self.sealed.lock().unwrap().clone()
    }
}

fn issue_url(media: &Url, attempt: &str) -> Url {
    let file = media.path_segments().unwrap().next_back().unwrap();
    Url::parse(&format!("https://pull.example.com/a/{attempt}/{file}")).unwrap()
}

#[async_trait]
impl PullHost for Host {
    async fn issue(&self, media: &Url, attempt: &str) -> Result<Url> {
        self.issued
            .lock()
            .unwrap()
            .push((media.clone(), attempt.to_owned()));
        Ok(issue_url(media, attempt))
    }
    async fn seal(&self, urls: &[Url]) -> Result<Sealed> {
        self.sealed.lock().unwrap().push(urls.to_vec());
        self.seal_answer
            .lock()
            .unwrap()
            .ok_or_else(|| cmis_core::Error::transient("host down"))
    }
}

fn pulled_video() -> Post {
    Post::new()
        .with_text("Launch day")
        .with_media(Media::url(
            "https://verified.example.com/launch.mp4".parse().unwrap(),
        ))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone))
}

fn photos() -> Post {
    Post::new()
        .with_text("two cats")
        .with_media(Media::url(
            "https://verified.example.com/1.jpg".parse().unwrap(),
        ))
        .with_media(Media::url(
            "https://verified.example.com/2.jpg".parse().unwrap(),
        ))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::PublicToEveryone))
}

fn with_host(server: &MockServer, host: &Arc<Host>) -> TikTokPublisher {
    publisher(server, 100).with_pull_host(host.clone() as Arc<dyn PullHost>)
}

async fn mount_creator_info(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/creator_info/query/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("creator_info.json")))
        .mount(server)
        .await;
}

/// Init at `endpoint` answers 500 (TikTok may have acted); returns what it was sent.
async fn mount_lost_init(server: &MockServer, endpoint: &str) -> Arc<Mutex<Vec<Value>>> {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    Mock::given(method("POST"))
        .and(path(endpoint))
        .respond_with(move |r: &Request| {
            seen.lock()
                .unwrap()
                .push(serde_json::from_slice::<Value>(&r.body).unwrap());
            ResponseTemplate::new(500).set_body_json(json!({
                "data": {},
                "error": {"code": "internal_error", "message": "", "log_id": "L500"}
            }))
        })
        .expect(1)
        .mount(server)
        .await;
    bodies
}

#[tokio::test]
async fn a_lost_init_whose_media_was_never_served_is_safe_to_retry() {
    let server = server().await;
    mount_creator_info(&server).await;
    let bodies = mount_lost_init(&server, "/v2/post/publish/video/init/").await;
    let host = Host::new(Some(Sealed::NeverServed));
    let env = env(&server, &[]).await;
    let err = with_host(&server, &host)
        .publish(&target(), &pulled_video(), &env.ctx)
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.is_retryable());
    assert!(err.discards_checkpoint(), "the next attempt publishes anew");
    assert!(err.to_string().contains("sealed"), "{err}");
    let issued = host.issued_urls();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        bodies.lock().unwrap()[0]["source_info"],
        json!({"source": "PULL_FROM_URL", "video_url": issued[0].as_str()}),
        "TikTok pulls the issued URL, not the post's"
    );
    assert_eq!(
        host.seals(),
        vec![issued.clone()],
        "sealed right after the lost answer"
    );
    let cp = env
        .checkpoints
        .latest()
        .expect("the checkpoint before init");
    assert_eq!(cp.stage, "initiating");
    let data: Value = cp.decode().unwrap();
    assert_eq!(data["pulled"], json!([issued[0].as_str()]));
}

#[tokio::test]
async fn a_served_attempt_stays_unknown_and_each_init_gets_new_urls() {
    let server = server().await;
    mount_creator_info(&server).await;
    let _bodies = mount_lost_init(&server, "/v2/post/publish/video/init/").await;
    let host = Host::new(Some(Sealed::Served));
    let env = env(&server, &[]).await;
    let err = with_host(&server, &host)
        .publish(&target(), &pulled_video(), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    assert!(!err.discards_checkpoint());
    assert_eq!(host.seals().len(), 1);

    // A seal that fails leaves it unknown too, never a retry.
    server.reset().await;
    mount_creator_info(&server).await;
    let _bodies = mount_lost_init(&server, "/v2/post/publish/video/init/").await;
    *host.seal_answer.lock().unwrap() = None;
    let err = with_host(&server, &host)
        .publish(&target(), &pulled_video(), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let issued = host.issued_urls();
    assert_eq!(issued.len(), 2);
    assert_ne!(issued[0], issued[1], "every init gets URLs of its own");
}

#[tokio::test]
async fn reconciling_a_lost_init_seals_its_urls() {
    let server = server().await;
    mount_creator_info(&server).await;
    let _bodies = mount_lost_init(&server, "/v2/post/publish/video/init/").await;
    // The seal right after init failed: the job is reconciled later.
    let host = Host::new(None);
    let env = env(&server, &[]).await;
    let post = pulled_video();
    let err = with_host(&server, &host)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = env.checkpoints.latest().unwrap();

    *host.seal_answer.lock().unwrap() = Some(Sealed::NeverServed);
    let found = with_host(&server, &host)
        .reconcile(&target(), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert_eq!(found, Reconciliation::NotPublished);
    assert_eq!(host.seals().len(), 2);
    assert_eq!(host.seals()[1], host.issued_urls());

    // Served: only the public listing can tell, as without a host (here: no video.list
    // scope granted, so undecided), never NotPublished.
    *host.seal_answer.lock().unwrap() = Some(Sealed::Served);
    let env2 = self::env(&server, &["video.publish"]).await;
    let err = with_host(&server, &host)
        .reconcile(&target(), &post, Some(&cp), &env2.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
}

#[tokio::test]
async fn a_photo_posts_images_are_issued_in_one_attempt() {
    let server = server().await;
    mount_creator_info(&server).await;
    let bodies = mount_lost_init(&server, "/v2/post/publish/content/init/").await;
    let host = Host::new(Some(Sealed::NeverServed));
    let env = env(&server, &[]).await;
    let err = with_host(&server, &host)
        .publish(&target(), &photos(), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    let issued = host.issued.lock().unwrap().clone();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0].1, issued[1].1, "one attempt id per init");
    assert_eq!(
        bodies.lock().unwrap()[0]["source_info"]["photo_images"],
        json!([
            issue_url(&issued[0].0, &issued[0].1).as_str(),
            issue_url(&issued[1].0, &issued[1].1).as_str()
        ])
    );
}

#[tokio::test]
async fn a_published_pull_never_touches_the_seal() {
    let server = server().await;
    mount_creator_info(&server).await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/video/init/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"publish_id": "v_pub_url~v2.1"},
            "error": {"code": "ok", "message": "", "log_id": "L"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/post/publish/status/fetch/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7_439_182_734_619_283_999_i64]},
            "error": {"code": "ok", "message": "", "log_id": "S"}
        })))
        .mount(&server)
        .await;
    let host = Host::new(Some(Sealed::NeverServed));
    let env = env(&server, &[]).await;
    let out = with_host(&server, &host)
        .publish(&target(), &pulled_video(), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
    assert_eq!(host.issued_urls().len(), 1);
    assert!(
        host.seals().is_empty(),
        "a URL TikTok still needs is never sealed"
    );
}
