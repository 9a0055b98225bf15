//! Publishing: the exact requests, facets by byte offset, the record key checkpointed before
//! the write, and no second post after an unknown outcome.

mod common;

use std::time::Duration;

use cmis_bluesky::Tid;
use cmis_core::{ErrorKind, Media, MediaSource, Outcome, Post, Publisher, Reconciliation};
use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

const CREATE: &str = "/xrpc/com.atproto.repo.createRecord";
const GET: &str = "/xrpc/com.atproto.repo.getRecord";

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// The record key a createRecord request carried.
fn rkey_of(r: &Request) -> String {
    body(r)["rkey"].as_str().unwrap().to_owned()
}

/// A `createRecord` that stores once, answering with the URI of the key it was sent.
async fn mount_created(server: &wiremock::MockServer) {
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(|r: &Request| ResponseTemplate::new(200).set_body_json(created(&rkey_of(r))))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_text_post_is_the_documented_request_with_a_checkpointed_key() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header("content-type", "application/json"))
        .respond_with(|r: &Request| ResponseTemplate::new(200).set_body_json(created(&rkey_of(r))))
        .expect(1)
        .mount(&server)
        .await;
    let post = Post::new().with_text("Hello https://example.com #rust");
    let outcome = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let sent = body(&server.received_requests().await.unwrap()[0]);
    let documented = fixture("create_record_request.json");
    // Everything but the key and the time is the documented request, byte offsets included.
    assert_eq!(sent["repo"], DID);
    assert_eq!(sent["collection"], documented["collection"]);
    assert_eq!(sent["record"]["$type"], documented["record"]["$type"]);
    assert_eq!(sent["record"]["text"], documented["record"]["text"]);
    assert_eq!(sent["record"]["facets"], documented["record"]["facets"]);
    let rkey = sent["rkey"].as_str().unwrap();
    Tid::parse(rkey).unwrap();
    time::OffsetDateTime::parse(
        sent["record"]["createdAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    // The key was checkpointed before the write.
    let cp = env.checkpoints.latest().unwrap();
    assert_eq!(cp.stage, "record_ready");
    let data: Value = serde_json::from_str(&cp.data_json()).unwrap();
    assert_eq!(data["rkey"], rkey);
    assert_eq!(data["record"], sent["record"]);
    let Outcome::Published(receipt) = outcome else {
        panic!("not published")
    };
    assert_eq!(
        receipt.post_id.as_str(),
        format!("at://{DID}/app.bsky.feed.post/{rkey}")
    );
    assert_eq!(
        receipt.permalink.unwrap().as_str(),
        format!("https://bsky.app/profile/{DID}/post/{rkey}")
    );
}

#[tokio::test]
async fn an_emoji_before_a_link_moves_the_facet_by_its_bytes() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    mount_created(&server).await;
    let text = "🦋 launch: https://example.com/x.";
    publisher(&server)
        .publish(&target(), &Post::new().with_text(text), &env.ctx)
        .await
        .unwrap();
    let sent = body(&server.received_requests().await.unwrap()[0]);
    let facet = &sent["record"]["facets"][0];
    // 🦋 is 4 bytes: the link starts at byte 13, not 10 (chars) or 11 (UTF-16 units), and the
    // full stop after it is not part of it.
    assert_eq!(facet["index"], json!({"byteStart": 13, "byteEnd": 34}));
    assert_eq!(facet["features"][0]["uri"], "https://example.com/x");
    assert_eq!(&text.as_bytes()[13..34], b"https://example.com/x");
}

#[tokio::test]
async fn mentions_resolve_to_dids_and_unknown_handles_stay_text() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "bob.example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("resolve_handle.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "nobody.example.com"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "InvalidRequest", "message": "Unable to resolve handle"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_created(&server).await;
    publisher(&server)
        .publish(
            &target(),
            &Post::new().with_text("hi @bob.example.com and @nobody.example.com"),
            &env.ctx,
        )
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let sent = body(requests.last().unwrap());
    assert_eq!(
        sent["record"]["facets"],
        json!([{
            "index": {"byteStart": 3, "byteEnd": 19},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": fixture("resolve_handle.json")["did"]}]
        }])
    );
}

#[tokio::test]
async fn text_over_300_graphemes_or_3000_bytes_is_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    // 300 family emoji are 300 graphemes but 5 400 bytes; 301 letters are 301 graphemes.
    for text in ["👩‍👩‍👧".repeat(300), "a".repeat(301)] {
        let err = publisher(&server)
            .publish(&target(), &Post::new().with_text(text), &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    // 300 family emoji would pass a grapheme count alone: the byte cap refuses them.
    let ok = publisher(&server)
        .validate(&target(), &Post::new().with_text("é".repeat(300)))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn images_go_up_as_blobs_with_alt_text_and_aspect_ratio() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.uploadBlob"))
        .and(header("content-type", "image/jpeg"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("upload_blob.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_created(&server).await;
    let jpeg = cmis_media::sample::jpeg(120, 80);
    let post = Post::new().with_text("a cat").with_media(
        Media::new(MediaSource::Bytes {
            name: Some("cat.jpg".into()),
            data: jpeg.clone().into(),
        })
        .with_alt_text("A cat on a keyboard"),
    );
    publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].body, jpeg);
    let sent = body(&requests[1]);
    assert_eq!(
        sent["record"]["embed"],
        json!({
            "$type": "app.bsky.embed.images",
            "images": [{
                "alt": "A cat on a keyboard",
                "image": fixture("upload_blob.json")["blob"],
                "aspectRatio": {"width": 120, "height": 80}
            }]
        })
    );
}

#[tokio::test]
async fn a_500_after_the_record_was_stored_is_found_by_get_record_not_posted_again() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(error_case("duplicate_rkey"))
        .expect(1)
        .mount(&server)
        .await;
    let publisher = publisher(&server);
    let post = Post::new().with_text("Hello https://example.com #rust");
    let err = publisher
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome, "{err}");
    let cp = env.checkpoints.latest().unwrap();
    let rkey = serde_json::from_str::<Value>(&cp.data_json()).unwrap()["rkey"]
        .as_str()
        .unwrap()
        .to_owned();
    // The record is there: getRecord at the checkpointed key finds it.
    Mock::given(method("GET"))
        .and(path(GET))
        .and(query_param("repo", DID))
        .and(query_param("collection", "app.bsky.feed.post"))
        .and(query_param("rkey", rkey.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json({
            let mut v = fixture("get_record.json");
            v["uri"] = Value::String(format!("at://{DID}/app.bsky.feed.post/{rkey}"));
            // The record as it was written: what the checkpoint holds.
            v["value"] = serde_json::from_str::<Value>(&cp.data_json()).unwrap()["record"].clone();
            v
        }))
        .expect(2)
        .mount(&server)
        .await;
    let Reconciliation::Published(receipt) = publisher
        .reconcile(&target(), &post, Some(&cp), &env.ctx)
        .await
        .unwrap()
    else {
        panic!("not found")
    };
    assert!(receipt.post_id.as_str().ends_with(&rkey));
    // Resuming finds it too, and writes nothing.
    let outcome = publisher.resume(&target(), &cp, &env.ctx).await.unwrap();
    assert!(outcome.receipt().is_some());
    let creates = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == CREATE)
        .count();
    assert_eq!(creates, 1, "never posted again");
}

#[tokio::test]
async fn a_record_not_found_is_written_again_at_the_same_key() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let publisher = publisher(&server);
    let post = Post::new().with_text("once");
    let err = publisher
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOutcome);
    let cp = env.checkpoints.latest().unwrap();
    Mock::given(method("GET"))
        .and(path(GET))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(fixture("get_record_not_found.json")),
        )
        .expect(2)
        .mount(&server)
        .await;
    // Not found: the checkpoint comes back to resume from, never "publish afresh".
    let rec = publisher
        .reconcile(&target(), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(rec, Reconciliation::Pending(ref c) if c.stage == "record_ready"));
    mount_created(&server).await;
    publisher.resume(&target(), &cp, &env.ctx).await.unwrap();
    let keys: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == CREATE)
        .map(rkey_of)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the second write uses the same key");
}

#[tokio::test]
async fn another_post_at_our_key_is_never_taken_for_ours() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(error_case("duplicate_rkey"))
        .expect(1)
        .mount(&server)
        .await;
    let publisher = publisher(&server);
    let post = Post::new().with_text("mine");
    publisher
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    let cp = env.checkpoints.latest().unwrap();
    // The key holds a post another process wrote in the same microsecond.
    Mock::given(method("GET"))
        .and(path(GET))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("get_record.json")))
        .expect(2)
        .mount(&server)
        .await;
    let rec = publisher
        .reconcile(&target(), &post, Some(&cp), &env.ctx)
        .await
        .unwrap();
    assert!(matches!(rec, Reconciliation::NotPublished), "{rec:?}");
    let err = publisher
        .resume(&target(), &cp, &env.ctx)
        .await
        .unwrap_err();
    assert!(err.discards_checkpoint(), "{err}");
}

#[tokio::test]
async fn no_checkpoint_means_no_write_was_sent() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let rec = publisher(&server)
        .reconcile(&target(), &Post::new().with_text("x"), None, &env.ctx)
        .await
        .unwrap();
    assert!(matches!(rec, Reconciliation::NotPublished));
}

#[tokio::test]
async fn documented_errors_map_to_their_kinds() {
    for (case, kind) in [
        ("invalid_request_too_long", ErrorKind::Rejected),
        ("blob_too_large", ErrorKind::Rejected),
        ("rate_limited", ErrorKind::RateLimited),
        ("duplicate_rkey", ErrorKind::UnknownOutcome),
    ] {
        let server = server().await;
        let env = env(&server, Duration::from_secs(3600)).await;
        Mock::given(method("POST"))
            .and(path(CREATE))
            .respond_with(error_case(case))
            .expect(1)
            .mount(&server)
            .await;
        let err = publisher(&server)
            .publish(&target(), &Post::new().with_text("x"), &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{case}: {err}");
        if case == "rate_limited" {
            // RateLimit-Reset is an epoch time (2026-12-04T01:00Z): the wait is until then,
            // capped at a day, never 1 796 374 800 seconds.
            let wait = err.retry_after().unwrap();
            assert!(wait <= cmis_http::MAX_RETRY_AFTER, "{wait:?}");
        }
    }
}

#[tokio::test]
async fn urls_are_unsupported_and_a_broken_video_invalid_before_any_call() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let with_url = Post::new().with_media(Media::new(MediaSource::Url(
        "https://example.com/a.jpg".parse().unwrap(),
    )));
    let mut mp4 = vec![0, 0, 0, 24];
    mp4.extend_from_slice(b"ftypisom\0\0\0\0isommp41");
    let with_video = Post::new().with_media(Media::new(MediaSource::Bytes {
        name: Some("clip.mp4".into()),
        data: mp4.into(),
    }));
    for (post, kind) in [
        (with_url, ErrorKind::Unsupported),
        // An MP4 header without a movie: not readable, refused before any call.
        (with_video, ErrorKind::InvalidInput),
    ] {
        let err = publisher(&server)
            .publish(&target(), &post, &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
