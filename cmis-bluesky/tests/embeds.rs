//! Link cards, replies and quotes (`docs/bluesky-api.md` §3, §5.2): the records the lexicons
//! describe, strong references read with `getRecord` before the record is checkpointed, and
//! every malformed request refused before any call.

mod common;

use std::time::Duration;

use cmis_core::{BlueskyOptions, ErrorKind, Media, MediaSource, Outcome, Post, Publisher};
use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CREATE: &str = "/xrpc/com.atproto.repo.createRecord";
const GET: &str = "/xrpc/com.atproto.repo.getRecord";
/// The documented `getRecord` answer (`fixtures/get_record.json`).
const PARENT: &str = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l7xqkz2abc2a";
const PARENT_CID: &str = "bafyreicgxzn3hpznimgqh6aauxindliz4jfy7qclv45ui2tblbgeicnqu4";

fn sent_record(r: &Request) -> Value {
    serde_json::from_slice::<Value>(&r.body).unwrap()["record"].clone()
}

async fn mount_created(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(CREATE))
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

async fn mount_get(server: &MockServer, rkey: &str, answer: Value) {
    Mock::given(method("GET"))
        .and(path(GET))
        .and(query_param("repo", DID))
        .and(query_param("collection", "app.bsky.feed.post"))
        .and(query_param("rkey", rkey))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(server)
        .await;
}

async fn publish(server: &MockServer, post: &Post) -> Value {
    let env = env(server, Duration::from_secs(3600)).await;
    let out = publisher(server)
        .publish(&target(), post, &env.ctx)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Published(_)), "{out:?}");
    let requests = server.received_requests().await.unwrap();
    let create = requests.iter().find(|r| r.url.path() == CREATE).unwrap();
    let record = sent_record(create);
    // What was written is what was checkpointed, strong references included.
    let data: Value = serde_json::from_str(&env.checkpoints.latest().unwrap().data_json()).unwrap();
    assert_eq!(data["record"], record);
    record
}

#[tokio::test]
async fn a_link_becomes_an_external_card_with_the_given_title() {
    let server = server().await;
    mount_created(&server).await;
    let post = Post::new()
        .with_text("Our menu")
        .with_link("https://cafe.example/menu".parse().unwrap())
        .with_bluesky(BlueskyOptions::new().with_link_card("Autumn menu", "Soup and pie"));
    let record = publish(&server, &post).await;
    assert_eq!(
        record["embed"],
        json!({
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://cafe.example/menu",
                "title": "Autumn menu",
                "description": "Soup and pie"
            }
        })
    );
}

#[tokio::test]
async fn a_reply_to_a_top_level_post_has_it_as_root_and_parent() {
    let server = server().await;
    mount_get(&server, "3l7xqkz2abc2a", fixture("get_record.json")).await;
    mount_created(&server).await;
    let post = Post::new()
        .with_text("Agreed")
        .with_bluesky(BlueskyOptions::new().with_reply_to(PARENT));
    let record = publish(&server, &post).await;
    let strong = json!({"uri": PARENT, "cid": PARENT_CID});
    assert_eq!(record["reply"], json!({"root": strong, "parent": strong}));
    assert!(record.get("embed").is_none());
}

#[tokio::test]
async fn a_reply_to_a_reply_keeps_the_threads_root() {
    let server = server().await;
    let root =
        json!({"uri": "at://did:plc:root/app.bsky.feed.post/3l7aaaaaaaaaa", "cid": "bafyroot"});
    let mut parent = fixture("get_record.json");
    parent["value"]["reply"] = json!({"root": root, "parent": root});
    mount_get(&server, "3l7xqkz2abc2a", parent).await;
    mount_created(&server).await;
    let post = Post::new()
        .with_text("And again")
        .with_bluesky(BlueskyOptions::new().with_reply_to(PARENT));
    let record = publish(&server, &post).await;
    assert_eq!(record["reply"]["root"], root);
    assert_eq!(
        record["reply"]["parent"],
        json!({"uri": PARENT, "cid": PARENT_CID})
    );
}

#[tokio::test]
async fn a_quote_with_an_image_is_record_with_media() {
    let server = server().await;
    mount_get(&server, "3l7xqkz2abc2a", fixture("get_record.json")).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.uploadBlob"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("upload_blob.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_created(&server).await;
    let post = Post::new()
        .with_text("Look at this")
        .with_media(
            Media::new(MediaSource::Bytes {
                name: Some("a.jpg".into()),
                data: cmis_media::sample::jpeg(64, 48).into(),
            })
            .with_alt_text("a pattern"),
        )
        .with_bluesky(BlueskyOptions::new().with_quote(PARENT));
    let record = publish(&server, &post).await;
    let embed = &record["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.recordWithMedia");
    assert_eq!(
        embed["record"]["record"],
        json!({"uri": PARENT, "cid": PARENT_CID})
    );
    assert_eq!(embed["media"]["$type"], "app.bsky.embed.images");
    assert_eq!(embed["media"]["images"][0]["alt"], "a pattern");
}

#[tokio::test]
async fn a_missing_parent_is_invalid_input_and_nothing_is_written() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(GET))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(fixture("get_record_not_found.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let post = Post::new()
        .with_text("Agreed")
        .with_bluesky(BlueskyOptions::new().with_reply_to(PARENT));
    let err = publisher(&server)
        .publish(&target(), &post, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(env.checkpoints.latest().is_none());
}

#[tokio::test]
async fn malformed_references_and_cards_are_refused_before_any_call() {
    let server = server().await;
    let env = env(&server, Duration::from_secs(3600)).await;
    let image = Media::new(MediaSource::Bytes {
        name: Some("a.jpg".into()),
        data: cmis_media::sample::jpeg(64, 48).into(),
    });
    let cases = [
        Post::new()
            .with_text("x")
            .with_bluesky(BlueskyOptions::new().with_reply_to("https://bsky.app/profile/a/post/b")),
        Post::new()
            .with_text("x")
            .with_bluesky(BlueskyOptions::new().with_quote("at://did:plc:a/app.bsky.feed.like/b")),
        Post::new()
            .with_text("x")
            .with_media(image)
            .with_link("https://cafe.example/".parse().unwrap()),
        Post::new()
            .with_text("x")
            .with_bluesky(BlueskyOptions::new().with_link_card("t", "d")),
        Post::new()
            .with_text("x")
            .with_link("ftp://cafe.example/".parse().unwrap()),
    ];
    for post in cases {
        let err = publisher(&server)
            .publish(&target(), &post, &env.ctx)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
