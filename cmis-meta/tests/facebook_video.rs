//! Page videos through the Resumable Upload API (`/{app-id}/uploads`, `upload:<S>`,
//! `/{page-id}/videos` on graph-video) and Reels (`video_reels` start / rupload / finish).

mod common;

use cmis_core::{
    Checkpoint, ErrorKind, Media, Platform, Post, Publisher, Surface, Target, url::Url,
};
use cmis_meta::FacebookPagePublisher;
use common::*;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

const SESSION: &str = "upload:MTphdHRhY2htZW50OmQ3YzE2";
const HANDLE: &str = "2:c2FtcGxlLm1wNA==:video/mp4:f9bb1bd4";

/// The main harness plus a second server standing in for graph-video and rupload, so that the
/// tests prove which host each call goes to.
async fn two_hosts() -> (Harness, MockServer) {
    let video = MockServer::start().await;
    catch_all(&video).await;
    let uri = video.uri();
    let h = harness_with(move |b| b.graph_video_url(uri.clone()).rupload_url(uri)).await;
    (h, video)
}

async fn mount_session(h: &Harness, len: usize) {
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{APP_ID}/uploads")))
        .and(query_param("file_name", "clip.mp4"))
        .and(query_param("file_length", len.to_string()))
        .and(query_param("file_type", "video/mp4"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json(200, "upload_session.json"))
        .expect(1)
        .mount(&h.server)
        .await;
}

async fn mount_videos(video: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/videos")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(form(&[
            ("fbuploader_video_file_chunk", HANDLE),
            ("description", "Our kitchen"),
        ]))
        .respond_with(json(200, "video.json"))
        .expect(1)
        .mount(video)
        .await;
}

fn video_post(file: &std::path::Path) -> Post {
    Post::new()
        .with_text("Our kitchen")
        .with_media(Media::path(file))
}

#[tokio::test]
async fn video_by_file_uploads_with_oauth_then_publishes_on_graph_video() {
    let (h, video) = two_hosts().await;
    let file = temp_file("clip.mp4", &MP4);
    mount_session(&h, MP4.len()).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{SESSION}")))
        .and(header("authorization", format!("OAuth {TOKEN}").as_str()))
        .and(header("file_offset", "0"))
        .and(NoTokenInUrl)
        .and(RawBody(MP4.to_vec()))
        .respond_with(json(200, "upload_handle.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_videos(&video).await;
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &video_post(&file), &h.ctx)
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), "30000000000000001");
    let stages: Vec<String> = h
        .checkpoints
        .checkpoints()
        .iter()
        .map(|c| c.stage.clone())
        .collect();
    assert_eq!(stages, ["upload_session", "video_uploaded", "sending"]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_upload_resumes_from_the_offset_the_server_reports() {
    let _ticker = keep_clock_ticking();
    let (h, video) = two_hosts().await;
    let file = temp_file("clip.mp4", &MP4);
    mount_session(&h, MP4.len()).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{SESSION}")))
        .and(header("file_offset", "0"))
        .respond_with(json(500, "error_2.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{SESSION}")))
        .and(header("authorization", format!("OAuth {TOKEN}").as_str()))
        .respond_with(json(200, "upload_offset.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{SESSION}")))
        .and(header("file_offset", "4"))
        .and(RawBody(MP4[4..].to_vec()))
        .respond_with(json(200, "upload_handle.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_videos(&video).await;
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &video_post(&file), &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
}

#[tokio::test]
async fn resume_from_an_upload_session_asks_the_offset_first() {
    let (h, video) = two_hosts().await;
    let file = temp_file("clip.mp4", &MP4);
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{SESSION}")))
        .respond_with(json(200, "upload_offset.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{SESSION}")))
        .and(header("file_offset", "4"))
        .and(RawBody(MP4[4..].to_vec()))
        .respond_with(json(200, "upload_handle.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    mount_videos(&video).await;
    #[derive(serde::Serialize)]
    struct State {
        flow: &'static str,
        post: Post,
        session: &'static str,
        handle: Option<String>,
    }
    let cp = Checkpoint::new(
        Platform::Facebook,
        "upload_session",
        &State {
            flow: "video",
            post: video_post(&file),
            session: SESSION,
            handle: None,
        },
    )
    .unwrap();
    let out = FacebookPagePublisher::new(h.client.clone())
        .resume(&Target::feed(page()), &cp, &h.ctx)
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), "30000000000000001");
}

#[tokio::test]
async fn video_by_url_sends_file_url_to_graph_video() {
    let (h, video) = two_hosts().await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/videos")))
        .and(form(&[
            ("file_url", "https://cdn.example.com/clip.mp4"),
            ("description", "Our kitchen"),
        ]))
        .respond_with(json(200, "video.json"))
        .expect(1)
        .mount(&video)
        .await;
    let post = Post::new().with_text("Our kitchen").with_media(Media::url(
        Url::parse("https://cdn.example.com/clip.mp4").unwrap(),
    ));
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &post, &h.ctx)
        .await
        .unwrap();
    assert!(out.receipt().is_some());
}

async fn mount_reel_start_and_upload(h: &Harness, video: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/video_reels")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(form(&[("upload_phase", "start")]))
        .respond_with(json(200, "reel_start.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/video-upload/v25.0/40000000000000001"))
        .and(header("authorization", format!("OAuth {TOKEN}").as_str()))
        .and(header("offset", "0"))
        .and(header("file_size", MP4.len().to_string().as_str()))
        .and(RawBody(MP4.to_vec()))
        .respond_with(json(200, "success.json"))
        .expect(1)
        .mount(video)
        .await;
}

#[tokio::test]
async fn reels_start_upload_to_rupload_then_finish() {
    let (h, video) = two_hosts().await;
    let file = temp_file("clip.mp4", &MP4);
    mount_reel_start_and_upload(&h, &video).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/video_reels")))
        .and(form(&[
            ("upload_phase", "finish"),
            ("video_id", "40000000000000001"),
            ("video_state", "PUBLISHED"),
            ("description", "Our kitchen"),
        ]))
        .respond_with(json(200, "success.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let target = Target::new(page(), Surface::Reel);
    let out = FacebookPagePublisher::new(h.client.clone())
        .publish(&target, &video_post(&file), &h.ctx)
        .await
        .unwrap();
    assert_eq!(out.receipt().unwrap().post_id.as_str(), "40000000000000001");
    let stages: Vec<String> = h
        .checkpoints
        .checkpoints()
        .iter()
        .map(|c| c.stage.clone())
        .collect();
    assert_eq!(stages, ["reel_started", "reel_uploaded", "sending"]);
}

#[tokio::test]
async fn a_5xx_on_reels_finish_is_unknown_and_sent_once() {
    let (h, video) = two_hosts().await;
    let file = temp_file("clip.mp4", &MP4);
    mount_reel_start_and_upload(&h, &video).await;
    Mock::given(method("POST"))
        .and(path(format!("/v25.0/{PAGE}/video_reels")))
        .and(form(&[
            ("upload_phase", "finish"),
            ("video_id", "40000000000000001"),
            ("video_state", "PUBLISHED"),
            ("description", "Our kitchen"),
        ]))
        .respond_with(json(503, "error_1.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(
            &Target::new(page(), Surface::Reel),
            &video_post(&file),
            &h.ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    // The checkpoint left behind says the finish call was sent: resume refuses to resend it.
    let cp = h.checkpoints.latest().unwrap();
    assert_eq!(cp.stage, "sending");
    let err = FacebookPagePublisher::new(h.client.clone())
        .resume(&Target::new(page(), Surface::Reel), &cp, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
}

#[tokio::test]
async fn a_reel_needs_exactly_one_video() {
    let h = harness().await;
    let post = Post::new().with_media(Media::url(
        Url::parse("https://cdn.example.com/a.jpg").unwrap(),
    ));
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::new(page(), Surface::Reel), &post, &h.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_file_too_large_to_upload_is_refused_before_any_call() {
    let h = harness().await;
    // A sparse file: an MP4 header, then a hole up to just over the limit (no disk space used).
    let file = temp_file("huge.mp4", &MP4);
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(cmis_meta::MAX_UPLOAD_BYTES + 1).unwrap();
    let err = FacebookPagePublisher::new(h.client.clone())
        .publish(&Target::feed(page()), &video_post(&file), &h.ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Unsupported | ErrorKind::InvalidInput),
        "{err}"
    );
    let _ = std::fs::remove_file(&file);
}
