//! The resumable upload, from the fixtures: chunks, probes after failures, expired sessions,
//! thumbnails and processing.

mod common;

use cmis_core::{ErrorKind, Media, Outcome, Publisher, ReceiptState, Surface, Target};
use common::*;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const CHUNKS: [(u64, u64); 4] = [
    (0, 262_143),
    (262_144, 524_287),
    (524_288, 786_431),
    (786_432, 999_999),
];

/// Mounts the three 308 chunks and the 201 last chunk, each expected `times`.
async fn mount_chunks(server: &wiremock::MockServer, times: [u64; 4]) {
    for (i, (first, last)) in CHUNKS.into_iter().enumerate() {
        let answer = if last == 999_999 {
            response_of("upload_complete.json")
        } else {
            incomplete(last)
        };
        chunk(first, last)
            .respond_with(answer)
            .expect(times[i])
            .named(format!("chunk {i}"))
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn a_full_upload_sends_the_fixture_requests_in_256_kib_chunks() {
    let server = server().await;
    mount_init(&server, 1).await;
    mount_chunks(&server, [1, 1, 1, 1]).await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let file = video_file("full");
    let post = fixture_post(Media::path(&file));

    let outcome = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();

    let Outcome::Published(receipt) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(receipt.post_id.as_str(), VIDEO);
    assert_eq!(
        receipt.permalink.unwrap().as_str(),
        "https://www.youtube.com/watch?v=cmisTest001"
    );
    // publishAt is set: YouTube publishes it then.
    assert_eq!(receipt.state, ReceiptState::ScheduledOnPlatform);
    let stages: Vec<String> = env
        .checkpoints
        .checkpoints()
        .into_iter()
        .map(|c| c.stage)
        .collect();
    assert_eq!(stages, ["upload_session", "processing"]);
    let progress = env.progress.lock().unwrap().clone();
    assert_eq!(
        progress,
        [
            (262_144, 1_000_000),
            (524_288, 1_000_000),
            (786_432, 1_000_000),
            (1_000_000, 1_000_000)
        ]
    );
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn the_session_is_checkpointed_before_the_first_byte() {
    let server = server().await;
    mount_init(&server, 1).await;
    // The sink refuses: no byte may be sent.
    #[derive(Debug)]
    struct Refuse;
    #[cmis_core::async_trait]
    impl cmis_core::CheckpointSink for Refuse {
        async fn save(&self, _: &cmis_core::Checkpoint) -> cmis_core::Result<()> {
            Err(cmis_core::Error::internal("disk full"))
        }
    }
    let env = env(&server).await;
    let ctx = env
        .ctx
        .clone()
        .with_checkpoint_sink(std::sync::Arc::new(Refuse));
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let err = publisher(&server)
        .publish(&target(), &post, &ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
}

#[tokio::test]
async fn an_upload_interrupted_at_60_percent_resumes_from_the_servers_offset_in_the_same_session_one_video()
 {
    let server = server().await;
    mount_init(&server, 1).await;
    // The third chunk (52 % to 79 %) fails once with a 503...
    chunk(524_288, 786_431)
        .respond_with(error_case("backend_error_503"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .named("chunk 2 fails")
        .mount(&server)
        .await;
    // ...the probe says the first two chunks are held...
    probe()
        .respond_with(response_of("upload_status_query_partial.json"))
        .expect(1)
        .named("probe")
        .mount(&server)
        .await;
    // ...and the upload goes on from 524 288 in the same session.
    mount_chunks(&server, [1, 1, 1, 1]).await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let file = video_file("interrupted");

    let outcome = publisher(&server)
        .publish(&target(), &fixture_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap();

    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
    let _ = std::fs::remove_file(file);
    // `expect` on every mock: one session start, each chunk sent once more only where it failed.
}

#[tokio::test]
async fn a_lost_final_answer_is_found_by_the_probe_and_nothing_is_sent_again() {
    let server = server().await;
    mount_init(&server, 1).await;
    chunk(786_432, 999_999)
        .respond_with(error_case("backend_error_503"))
        .with_priority(1)
        .expect(1)
        .named("the last chunk's answer is lost")
        .mount(&server)
        .await;
    probe()
        .respond_with(response_of("upload_status_query_complete.json"))
        .expect(1)
        .mount(&server)
        .await;
    mount_chunks(&server, [1, 1, 1, 0]).await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;

    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let outcome = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
}

#[tokio::test]
async fn an_expired_session_starts_again_only_after_the_uploads_listing_shows_no_video() {
    let server = server().await;
    mount_init(&server, 2).await;
    chunk(786_432, 999_999)
        .respond_with(error_case("backend_error_503"))
        .up_to_n_times(1)
        .with_priority(1)
        .named("the last chunk fails")
        .mount(&server)
        .await;
    probe()
        .respond_with(response_of("upload_session_expired.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    channels_mine().expect(1).mount(&server).await;
    // An older video with the same title is not this session's.
    uploads(serde_json::json!([
        upload_item("olderVideo1", "cmis fixture upload", "2026-11-01T10:00:00Z"),
        upload_item("otherVideo1", "something else", "2026-11-20T09:30:10Z"),
    ]))
    .expect(1)
    .mount(&server)
    .await;
    // Each chunk twice (two sessions), the last one answered only the second time.
    mount_chunks(&server, [2, 2, 2, 1]).await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let publisher = publisher(&server);

    let err = publisher
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.discards_checkpoint());

    // The next attempt starts a new session (the second `session start`) and completes.
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let outcome = publisher.publish(&target(), &post, &env.ctx).await.unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
}

#[tokio::test]
async fn an_expired_session_whose_video_is_listed_is_published_without_a_new_session() {
    let server = server().await;
    mount_init(&server, 1).await;
    chunk(786_432, 999_999)
        .respond_with(ResponseTemplate::new(502))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    probe()
        .respond_with(ResponseTemplate::new(410))
        .expect(1)
        .mount(&server)
        .await;
    mount_chunks(&server, [1, 1, 1, 0]).await;
    channels_mine().expect(1).mount(&server).await;
    uploads(serde_json::json!([upload_item(
        VIDEO,
        "cmis fixture upload",
        "2026-11-20T09:30:12Z"
    )]))
    .expect(1)
    .mount(&server)
    .await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let outcome = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
}

#[tokio::test]
async fn a_session_gone_before_its_last_byte_needs_no_listing() {
    let server = server().await;
    mount_init(&server, 1).await;
    chunk(262_144, 524_287)
        .respond_with(response_of("upload_session_expired.json"))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_chunks(&server, [1, 0, 0, 0]).await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let err = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.discards_checkpoint());
}

#[tokio::test]
async fn a_refused_thumbnail_does_not_fail_the_publish() {
    let server = server().await;
    mount_init(&server, 1).await;
    mount_chunks(&server, [1, 1, 1, 1]).await;
    let jpeg = cmis_media::sample::jpeg(1280, 720);
    let body = jpeg.clone();
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/thumbnails/set"))
        .and(query_param("videoId", VIDEO))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header("content-type", "image/jpeg"))
        .and(move |req: &wiremock::Request| req.body == body)
        .respond_with(
            ResponseTemplate::new(403).set_body_json(fixture("thumbnails_set_forbidden.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()))
        .with_media(Media::bytes(Some("thumb.jpg".into()), jpeg));
    let outcome = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
}

#[tokio::test]
async fn still_processing_is_pending_and_resume_publishes() {
    let server = server().await;
    mount_init(&server, 1).await;
    mount_chunks(&server, [1, 1, 1, 1]).await;
    videos_list("videos_list_processing.json")
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let publisher = publisher(&server);
    let short = Target::new(account(), Surface::Reel);
    // A 1920×1080 video is no Short: the reel surface refuses it before any call.
    let err = publisher.validate(&short, &post).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let Outcome::Pending(checkpoint) = publisher.publish(&target(), &post, &env.ctx).await.unwrap()
    else {
        panic!("expected pending")
    };
    assert_eq!(checkpoint.stage, "processing");
    assert!(checkpoint.resume_after.is_some());
    let data: serde_json::Value = serde_json::from_str(&checkpoint.data_json()).unwrap();
    assert_eq!(data["video_id"], VIDEO);

    let outcome = publisher
        .resume(&target(), &checkpoint, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
}

#[tokio::test]
async fn failed_and_rejected_videos_name_youtubes_reason() {
    for (fixture_name, reason) in [
        ("videos_list_failed.json", "conversion"),
        ("videos_list_rejected.json", "duplicate"),
    ] {
        let server = server().await;
        mount_init(&server, 1).await;
        mount_chunks(&server, [1, 1, 1, 1]).await;
        videos_list(fixture_name).expect(1).mount(&server).await;
        let env = env(&server).await;
        let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
        let err = publisher(&server)
            .publish(&target(), &post, &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected, "{fixture_name}");
        assert_eq!(err.platform_code(), Some(reason));
    }
}

#[tokio::test]
async fn a_video_locked_private_is_still_published() {
    let server = server().await;
    let request = fixture("upload_init_request.json");
    let mut body = request["body"].clone();
    body["status"] =
        serde_json::json!({"privacyStatus": "public", "selfDeclaredMadeForKids": false});
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(wiremock::matchers::body_json(body))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Location", format!("{}{SESSION}", server.uri()).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_chunks(&server, [1, 1, 1, 1]).await;
    videos_list("videos_list_locked_private.json")
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let mut post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    post.options.youtube.privacy = None;
    post.options.youtube.publish_at = None;
    let outcome = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let receipt = outcome.receipt().unwrap();
    assert_eq!(receipt.state, ReceiptState::Published);
}

#[tokio::test]
async fn retries_run_out_keeping_the_session_and_resume_probes_it_first() {
    let server = server().await;
    mount_init(&server, 1).await;
    // The second chunk and the probes keep failing: 3 attempts, then a transient error.
    chunk(262_144, 524_287)
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    probe()
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    // Chunk 1 only ever fails; chunk 0 goes once, chunks 2 and 3 after the resume.
    mount_chunks(&server, [1, 0, 1, 1]).await;
    let env = env(&server).await;
    let file = video_file("retries");
    let publisher = publisher(&server);
    let err = publisher
        .publish(&target(), &fixture_post(Media::path(&file)), &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(!err.discards_checkpoint());
    let checkpoint = env.checkpoints.latest().unwrap();
    assert_eq!(checkpoint.stage, "upload_session");

    // After a restart: probe, then the missing chunks only.
    probe()
        .respond_with(response_of("upload_status_query_partial.json"))
        .expect(1)
        .mount(&server)
        .await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let outcome = publisher
        .resume(&target(), &checkpoint, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn an_in_memory_upload_cannot_be_continued_after_a_restart_but_is_probed_first() {
    let server = server().await;
    mount_init(&server, 1).await;
    chunk(0, 262_143)
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&server)
        .await;
    probe()
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let publisher = publisher(&server);
    publisher
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    let checkpoint = env.checkpoints.latest().unwrap();

    // The session completed meanwhile: the probe finds the video, no byte is needed.
    probe()
        .respond_with(response_of("upload_status_query_complete.json"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    videos_list("videos_list_succeeded.json")
        .expect(1)
        .mount(&server)
        .await;
    let outcome = publisher
        .resume(&target(), &checkpoint, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), VIDEO);

    // The session lacks bytes: without them it never completes, so it is abandoned.
    probe()
        .respond_with(response_of("upload_status_query_empty.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = publisher
        .resume(&target(), &checkpoint, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.discards_checkpoint());
}

#[tokio::test]
async fn quota_exceeded_at_session_start_sends_nothing_and_waits_for_pacific_midnight() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(error_case("quota_exceeded"))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let err = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert_eq!(err.platform_code(), Some("quotaExceeded"));
    // 09:30 UTC is 01:30 PST: midnight is 22 h 30 min away.
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_secs(22 * 3600 + 1800))
    );
    assert!(env.checkpoints.checkpoints().is_empty());
}

#[tokio::test]
async fn a_server_error_at_session_start_is_transient() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(error_case("backend_error_500"))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let err = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
}

#[tokio::test]
async fn an_auth_error_refreshes_once_but_a_missing_channel_does_not() {
    // authError: the token is refreshed once and the session start repeated with the new one.
    let srv = server().await;
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(error_case("auth_error"))
        .expect(1)
        .mount(&srv)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("oauth_token_refresh.json")))
        .expect(1)
        .mount(&srv)
        .await;
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .and(header("authorization", "Bearer ya29.a0AfB_cmis-access-2"))
        .respond_with(error_case("upload_limit_exceeded"))
        .expect(1)
        .mount(&srv)
        .await;
    let e = env(&srv).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let err = publisher(&srv)
        .publish(&target(), &post, &e.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert_eq!(err.platform_code(), Some("uploadLimitExceeded"));
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_secs(24 * 3600))
    );

    // youtubeSignupRequired: no refresh (the catch-all refuses a /token call).
    let srv = server().await;
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(error_case("youtube_signup_required"))
        .expect(1)
        .mount(&srv)
        .await;
    let e = env(&srv).await;
    let err = publisher(&srv)
        .publish(&target(), &post, &e.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.user_message().unwrap().contains("no YouTube channel"));
}

#[tokio::test]
async fn a_session_that_never_keeps_a_chunk_ends_with_a_retryable_error_not_a_loop() {
    let server = server().await;
    mount_init(&server, 1).await;
    // Every chunk is answered "nothing stored" (a 308 without Range).
    chunk(0, 262_143)
        .respond_with(ResponseTemplate::new(308))
        .mount(&server)
        .await;
    let env = env(&server).await;
    let post = fixture_post(Media::bytes(Some("v.mp4".into()), video_bytes()));
    let err = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    let chunks = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "PUT")
        .count();
    assert!(chunks <= 10, "{chunks} attempts");
}
