//! `reconcile` for Instagram: no checkpoint means `media_publish` never ran; a `PUBLISHED`
//! container whose media id was lost is found among `/{ig-user-id}/media` by exact caption and
//! time inside the `media_publish` call's window.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmis_core::{
    Checkpoint, ErrorKind, Media, Platform, Post, Publisher, Reconciliation, Target, TokioClock,
    url::Url,
};
use cmis_meta::{InstagramPublisher, MetaClient};
use common::*;
use time::OffsetDateTime;
use time::macros::datetime;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

const CONTAINER: &str = "17889455560051444";
/// When the "publishing" checkpoint was saved, just before `media_publish`.
const START: OffsetDateTime = datetime!(2026-12-06 10:00:00 UTC);
const CAPTION: &str = "Autumn menu 🍂 #food";

fn publisher_at(server: &MockServer, now: OffsetDateTime) -> InstagramPublisher {
    let client = MetaClient::builder()
        .graph_url(server.uri())
        .clock(Arc::new(TokioClock::starting_at(now)))
        .build()
        .unwrap();
    InstagramPublisher::new(client)
}

fn publishing(caption: &str) -> Checkpoint {
    let post = Post::new().with_text(caption).with_media(Media::url(
        Url::parse("https://cdn.example.com/cake.jpg").unwrap(),
    ));
    let data = serde_json::json!({
        "post": post, "kind": "image", "children": [], "container": CONTAINER,
        "uploaded": [CONTAINER], "media_id": null,
    });
    let mut cp = Checkpoint::new(Platform::Instagram, "publishing", &data).unwrap();
    cp.created_at = START;
    cp
}

async fn mount_published_container(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{CONTAINER}")))
        .and(query_param("fields", "status_code,status"))
        .respond_with(json(200, "ig_status_published.json"))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_media(server: &MockServer, fixture_name: &str) {
    let since = (START - Duration::from_secs(3605))
        .unix_timestamp()
        .to_string();
    let (k, v) = bearer();
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/media")))
        .and(query_param(
            "fields",
            "id,caption,timestamp,media_type,permalink",
        ))
        .and(query_param("since", since.as_str()))
        .and(query_param("limit", "100"))
        .and(header(k, v.as_str()))
        .and(NoTokenInUrl)
        .respond_with(json(200, fixture_name))
        .expect(1)
        .mount(server)
        .await;
}

async fn reconcile(h: &Harness, cp: Option<&Checkpoint>) -> cmis_core::Result<Reconciliation> {
    publisher_at(&h.server, START + Duration::from_secs(3600))
        .reconcile(&Target::feed(ig()), &Post::new(), cp, &h.ctx)
        .await
}

#[tokio::test]
async fn a_published_container_with_a_lost_media_id_is_found_by_caption_and_time() {
    let h = harness().await;
    mount_published_container(&h.server).await;
    // Our image (10:00:04) and the same caption posted at 09:40, before our call.
    mount_media(&h.server, "ig_media_list.json").await;
    let rec = reconcile(&h, Some(&publishing(CAPTION))).await.unwrap();
    let Reconciliation::Published(r) = rec else {
        panic!("not found: {rec:?}")
    };
    assert_eq!(r.post_id.as_str(), "17920238422030506");
    assert_eq!(
        r.permalink.unwrap().as_str(),
        "https://www.instagram.com/p/C1a2b3c4d5e/"
    );
}

#[tokio::test]
async fn an_earlier_media_with_the_same_caption_is_never_taken_for_ours() {
    let h = harness().await;
    mount_published_container(&h.server).await;
    mount_media(&h.server, "ig_media_list_earlier_only.json").await;
    let err = reconcile(&h, Some(&publishing(CAPTION))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("not taken"), "{err}");
}

#[tokio::test]
async fn two_media_with_the_same_caption_in_the_window_are_ambiguous() {
    let h = harness().await;
    mount_published_container(&h.server).await;
    mount_media(&h.server, "ig_media_list_twins.json").await;
    let err = reconcile(&h, Some(&publishing(CAPTION))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

#[tokio::test]
async fn a_published_container_without_a_caption_stays_unknown() {
    let h = harness().await;
    mount_published_container(&h.server).await;
    mount_media(&h.server, "ig_media_list.json").await;
    let err = reconcile(&h, Some(&publishing(""))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    assert!(err.to_string().contains("no text"), "{err}");
}

#[tokio::test]
async fn without_a_checkpoint_media_publish_never_ran() {
    let h = harness().await;
    // No request at all: the catch-all fails any.
    let rec = reconcile(&h, None).await.unwrap();
    assert_eq!(rec, Reconciliation::NotPublished);
}

#[tokio::test]
async fn a_media_listing_error_is_the_platforms_error() {
    let h = harness().await;
    mount_published_container(&h.server).await;
    Mock::given(method("GET"))
        .and(path(format!("/v25.0/{IG}/media")))
        .respond_with(json(400, "error_190_463.json"))
        .expect(1)
        .mount(&h.server)
        .await;
    let err = reconcile(&h, Some(&publishing(CAPTION))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}
