//! Video through the video service (`docs/bluesky-api.md` §5.3): a service token for the PDS's
//! DID, `uploadVideo` with the raw MP4, the job checkpointed and polled, a deduplicated upload's
//! blob taken whatever its state, a failed job refused, and the record written with its key
//! checkpointed first. Answers are in the lexicons' shapes (`app.bsky.video.defs#jobStatus`,
//! `com.atproto.server.getServiceAuth`, `com.atproto.server.describeServer`).

mod common;

use std::time::Duration;

use cmis_bluesky::{BlueskyClient, BlueskyPublisher};
use cmis_core::{ErrorKind, Media, MediaSource, Outcome, PollPolicy, Post, Publisher};
use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SERVICE_DID: &str = "did:web:pds.example.com";
const SERVICE_TOKEN: &str = "eyJ-service-token";

fn video_publisher(server: &MockServer) -> BlueskyPublisher {
    let client = BlueskyClient::builder()
        .pds_url(server.uri())
        .video_service_url(format!("{}/video", server.uri()))
        .build()
        .unwrap();
    BlueskyPublisher::new(client).with_video_poll(PollPolicy::new(
        Duration::from_millis(10),
        Duration::from_millis(20),
        Duration::from_millis(200),
    ))
}

fn clip() -> Media {
    Media::new(MediaSource::Bytes {
        name: Some("clip.mp4".into()),
        data: cmis_media::sample::mp4(320, 568, 2, 30).into(),
    })
    .with_alt_text("a test clip")
}

fn blob() -> Value {
    json!({"$type": "blob", "ref": {"$link": "bafkreivideo"}, "mimeType": "video/mp4", "size": 4096})
}

async fn mount_auth(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.server.describeServer"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"did": SERVICE_DID, "availableUserDomains": [".bsky.social"]}),
            ),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.server.getServiceAuth"))
        .and(query_param("aud", SERVICE_DID))
        .and(query_param("lxm", "com.atproto.repo.uploadBlob"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": SERVICE_TOKEN})))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_upload(server: &MockServer, answer: Value) {
    Mock::given(method("POST"))
        .and(path("/video/xrpc/app.bsky.video.uploadVideo"))
        .and(query_param("did", DID))
        .and(query_param("name", "clip.mp4"))
        .and(header(
            "authorization",
            format!("Bearer {SERVICE_TOKEN}").as_str(),
        ))
        .and(header("content-type", "video/mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_created(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .respond_with(|r: &Request| {
            let rkey = serde_json::from_slice::<Value>(&r.body).unwrap()["rkey"]
                .as_str()
                .unwrap()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(created(&rkey))
        })
        .expect(1)
        .mount(server)
        .await;
}

fn sent_record(server_requests: &[Request]) -> Value {
    let create = server_requests
        .iter()
        .find(|r| r.url.path() == "/xrpc/com.atproto.repo.createRecord")
        .unwrap();
    serde_json::from_slice::<Value>(&create.body).unwrap()["record"].clone()
}

#[tokio::test]
async fn a_video_is_uploaded_polled_and_embedded_with_its_job_checkpointed() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    mount_auth(&server).await;
    mount_upload(
        &server,
        json!({"jobStatus": {"jobId": "job-1", "did": DID, "state": "JOB_STATE_CREATED"}}),
    )
    .await;
    // Encoding once, then done.
    Mock::given(method("GET"))
        .and(path("/video/xrpc/app.bsky.video.getJobStatus"))
        .and(query_param("jobId", "job-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jobStatus": {"jobId": "job-1", "did": DID, "state": "JOB_STATE_ENCODING", "progress": 50}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/video/xrpc/app.bsky.video.getJobStatus"))
        .and(query_param("jobId", "job-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jobStatus": {"jobId": "job-1", "did": DID, "state": "JOB_STATE_COMPLETED", "blob": blob()}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_created(&server).await;
    let post = Post::new().with_text("Watch 🎬").with_media(clip());
    let out = video_publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
    let record = sent_record(&server.received_requests().await.unwrap());
    assert_eq!(
        record["embed"],
        json!({
            "$type": "app.bsky.embed.video",
            "video": blob(),
            "alt": "a test clip",
            "aspectRatio": {"width": 320, "height": 568}
        })
    );
    // The service token never reached the PDS, the access token never the video service.
    for r in server.received_requests().await.unwrap() {
        let auth = r
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        if r.url.path().starts_with("/video/") && r.url.path().ends_with("uploadVideo") {
            assert_eq!(auth, format!("Bearer {SERVICE_TOKEN}"));
        } else {
            assert!(!auth.contains(SERVICE_TOKEN), "{}", r.url);
        }
        if r.url.path().starts_with("/video/") {
            assert!(!auth.contains(ACCESS), "{}", r.url);
        }
    }
    let stages: Vec<String> = env
        .checkpoints
        .checkpoints()
        .iter()
        .map(|c| c.stage.clone())
        .collect();
    assert_eq!(stages, ["video_processing", "record_ready"]);
}

#[tokio::test]
async fn a_slow_job_is_pending_and_resumes_without_uploading_again() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    mount_auth(&server).await;
    // A bare job status, as the tutorial reads it.
    mount_upload(
        &server,
        json!({"jobId": "job-2", "did": DID, "state": "JOB_STATE_ENCODING"}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/video/xrpc/app.bsky.video.getJobStatus"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jobStatus": {"jobId": "job-2", "did": DID, "state": "JOB_STATE_ENCODING"}}),
        ))
        .up_to_n_times(1000)
        .with_priority(1)
        .mount(&server)
        .await;
    let publisher = video_publisher(&server);
    let post = Post::new().with_text("Slow").with_media(clip());
    let Outcome::Pending(cp) = publisher.publish(&target(), &post, &env.ctx).await.unwrap() else {
        panic!("expected pending")
    };
    assert_eq!(cp.stage, "video_processing");
    // Reconciling says: nothing written yet, resume.
    let settled = publisher
        .reconcile(&target(), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(settled, cmis_core::Reconciliation::Pending(_)));
    server.reset().await;
    let server_again = &server;
    Mock::given(method("GET"))
        .and(path("/video/xrpc/app.bsky.video.getJobStatus"))
        .and(query_param("jobId", "job-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jobStatus": {"jobId": "job-2", "did": DID, "state": "JOB_STATE_COMPLETED", "blob": blob()}}),
        ))
        .expect(1)
        .mount(server_again)
        .await;
    mount_created(server_again).await;
    let out = publisher.resume(&target(), &cp, &env.ctx).await.unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| !r.url.path().ends_with("uploadVideo")),
        "the resume polled the same job"
    );
}

#[tokio::test]
async fn a_deduplicated_upload_uses_the_earlier_blob_and_a_failed_job_is_refused() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    mount_auth(&server).await;
    // The tutorial: an already processed video answers an error *and* the blob.
    mount_upload(
        &server,
        json!({"jobStatus": {"jobId": "job-3", "did": DID, "state": "JOB_STATE_FAILED",
               "error": "already_exists", "message": "Video already processed", "blob": blob()}}),
    )
    .await;
    mount_created(&server).await;
    let post = Post::new().with_text("Again").with_media(clip());
    let out = video_publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");

    let server2 = common::server().await;
    let env2 = common::env(&server2, Duration::from_secs(3600)).await;
    let (server, env) = (server2, env2);
    mount_auth(&server).await;
    mount_upload(
        &server,
        json!({"jobStatus": {"jobId": "job-4", "did": DID, "state": "JOB_STATE_FAILED",
               "error": "encoding_failure"}}),
    )
    .await;
    let err = video_publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.platform_code(), Some("encoding_failure"));
}

#[tokio::test]
async fn a_video_with_images_or_a_card_is_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let image = Media::new(MediaSource::Bytes {
        name: Some("a.jpg".into()),
        data: cmis_media::sample::jpeg(64, 48).into(),
    });
    for post in [
        Post::new().with_media(clip()).with_media(image),
        Post::new()
            .with_media(clip())
            .with_link("https://cafe.example/".parse().unwrap()),
    ] {
        let err = video_publisher(&server)
            .publish(&target(), &post, &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dedup_answered_with_an_error_status_still_gives_the_earlier_blob() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    mount_auth(&server).await;
    Mock::given(method("POST"))
        .and(path("/video/xrpc/app.bsky.video.uploadVideo"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "jobId": "job-5", "did": DID, "state": "JOB_STATE_COMPLETED",
            "error": "already_exists", "blob": blob()
        })))
        .expect(1)
        .mount(&server)
        .await;
    mount_created(&server).await;
    let post = Post::new().with_text("Once more").with_media(clip());
    let out = video_publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
}

#[tokio::test]
async fn an_upload_refused_without_a_job_says_why_and_a_refused_service_token_is_not_reauth() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    mount_auth(&server).await;
    mount_upload(
        &server,
        json!({"jobStatus": {"jobId": "", "did": DID, "state": "JOB_STATE_FAILED",
               "error": "unconfirmed_email", "message": "confirm your email first"}}),
    )
    .await;
    let post = Post::new().with_text("x").with_media(clip());
    let err = video_publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert!(err.message().contains("unconfirmed_email"), "{err}");

    let server = common::server().await;
    let env = common::env(&server, Duration::from_secs(3600)).await;
    mount_auth(&server).await;
    Mock::given(method("POST"))
        .and(path("/video/xrpc/app.bsky.video.uploadVideo"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "BadJwtAudience", "message": "jwt audience does not match service did"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = video_publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    // The account's own token is fine: not a re-authorisation.
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}
