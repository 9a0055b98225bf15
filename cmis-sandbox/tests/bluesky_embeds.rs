//! The fake Bluesky PDS's replies and embeds: reply strong refs and the thread root, quotes
//! (`app.bsky.embed.record`), quotes with media (`recordWithMedia`), link cards
//! (`app.bsky.embed.external`) and their thumbs, and `getRecord` as the source of strong refs
//! (docs/bluesky-api.md §3 and §5.2, the atproto lexicons, docs.bsky.app "Posts"), driven with a
//! plain HTTP client: no connector is involved.

mod bluesky_common;

use bluesky_common::*;
use cmis_sandbox::{BlueskyStrongRef, Sandbox};
use reqwest::StatusCode;
use serde_json::{Value, json};

const INVALID: &str = "InvalidRequest";
/// A CID of no record of this PDS.
const OTHER_CID: &str = "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q";

/// `{uri, cid}` of a `createRecord` answer.
fn strong(a: &Answer) -> Value {
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    json!({"uri": a.body["uri"], "cid": a.body["cid"]})
}

fn reply(text: &str, root: &Value, parent: &Value) -> Value {
    let mut r = post_record(text);
    r["reply"] = json!({"root": root, "parent": parent});
    r
}

fn with_embed(text: &str, embed: Value) -> Value {
    let mut r = post_record(text);
    r["embed"] = embed;
    r
}

fn refused(a: &Answer) -> String {
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(a.error().0, INVALID, "{}", a.body);
    a.error().1.to_owned()
}

async fn create_as(s: &Sandbox, did: &str, record: Value) -> Answer {
    let input = json!({"repo": did, "collection": POST, "record": record});
    let token = access(s, did);
    procedure(
        s,
        "com.atproto.repo.createRecord",
        Some(&token),
        Some(input),
    )
    .await
}

async fn image_blob(s: &Sandbox, token: &str, size: usize) -> Value {
    let up = upload(s, token, "image/jpeg", vec![9u8; size]).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    up.body["blob"].clone()
}

#[tokio::test]
async fn replies_name_their_parent_and_the_threads_root_at_their_cids() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let top = strong(&create(&s, &token, None, post_record("top")).await);
    let first = create(&s, &token, None, reply("first", &top, &top)).await;
    let first = strong(&first);
    // A reply to a reply copies the parent's own root (docs.bsky.app, "Posts").
    let second = strong(&create(&s, &token, None, reply("second", &top, &first)).await);

    let posts = s.bluesky().posts(DID);
    assert_eq!(posts.len(), 3);
    let (root, parent) = posts[2].reply().unwrap();
    assert_eq!(json!({"uri": root.uri, "cid": root.cid}), top);
    assert_eq!(json!({"uri": parent.uri, "cid": parent.cid}), first);
    assert_eq!(posts[0].reply(), None);
    assert_eq!(posts[2].strong_ref().uri, second["uri"].as_str().unwrap());
    let stored: Value = serde_json::from_str(&posts[1].record).unwrap();
    assert_eq!(stored["reply"]["parent"], top);

    // A cid that is not the record's.
    let mut stale = first.clone();
    stale["cid"] = json!(OTHER_CID);
    let message = refused(&create(&s, &token, None, reply("x", &top, &stale)).await);
    assert_eq!(
        message,
        format!(
            "Invalid app.bsky.feed.post record: CID mismatch: {} is at {}, not {OTHER_CID} at \
             $.record.reply.parent.cid",
            first["uri"].as_str().unwrap(),
            first["cid"].as_str().unwrap()
        )
    );
    let mut stale_root = top.clone();
    stale_root["cid"] = json!(OTHER_CID);
    let message = refused(&create(&s, &token, None, reply("x", &stale_root, &top)).await);
    assert!(message.contains("at $.record.reply.root"), "{message}");

    // The root of a reply to a reply is the thread's root, not the parent.
    let message = refused(&create(&s, &token, None, reply("x", &first, &first)).await);
    assert!(
        message.starts_with(
            "Invalid app.bsky.feed.post record: reply root must be the parent's own reply.root"
        ),
        "{message}"
    );
    // The root of a reply to a top-level post is that post.
    let message = refused(&create(&s, &token, None, reply("x", &first, &top)).await);
    assert!(
        message.contains("reply root must be the parent itself, which is not a reply"),
        "{message}"
    );

    // A record path here with nothing at it.
    let ghost = json!({"uri": format!("at://{DID}/{POST}/3l7xqkz2abc2a"), "cid": OTHER_CID});
    let message = refused(&create(&s, &token, None, reply("x", &ghost, &ghost)).await);
    assert_eq!(
        message,
        format!(
            "Invalid app.bsky.feed.post record: Could not locate record: at://{DID}/{POST}/\
             3l7xqkz2abc2a at $.record.reply.parent.uri"
        )
    );
    assert_eq!(
        s.bluesky().posts(DID).len(),
        3,
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn reply_refs_are_strong_refs_to_posts() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let top = strong(&create(&s, &token, None, post_record("top")).await);
    let cases = [
        (
            json!({"root": top}),
            "Missing required key \"parent\" at $.record.reply",
        ),
        (
            json!({"root": top, "parent": {"uri": top["uri"]}}),
            "Missing required key \"cid\" at $.record.reply.parent",
        ),
        (
            json!({"root": top, "parent": {"uri": "https://bsky.app/profile/alice.bsky.social/post/3l7xqkz2abc2a", "cid": top["cid"]}}),
            "Invalid at-uri (got \"https://bsky.app/profile/alice.bsky.social/post/3l7xqkz2abc2a\") at $.record.reply.parent.uri",
        ),
        (
            json!({"root": {"uri": top["uri"], "cid": "not-a-cid"}, "parent": top}),
            "Invalid CID string (got \"not-a-cid\") at $.record.reply.root.cid",
        ),
        (
            json!({"root": top, "parent": {"uri": format!("at://{DID}/app.bsky.graph.list/3l7xqkz2abc2a"), "cid": OTHER_CID}}),
            "A reply must reference an app.bsky.feed.post record (got \"at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.graph.list/3l7xqkz2abc2a\") at $.record.reply.parent.uri",
        ),
    ];
    for (reply_ref, expected) in cases {
        let mut record = post_record("x");
        record["reply"] = reply_ref;
        let message = refused(&create(&s, &token, None, record).await);
        assert_eq!(
            message,
            format!("Invalid app.bsky.feed.post record: {expected}")
        );
    }

    // Posts of repositories this PDS does not host are not checked.
    let elsewhere = json!({"uri": "at://did:plc:notonthispds/app.bsky.feed.post/3k43tv4rft22g", "cid": OTHER_CID});
    let a = create(&s, &token, None, reply("far", &elsewhere, &elsewhere)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // Another account of this PDS is checked like this one; a handle in the URI names the
    // same record as the DID.
    let bobs = strong(&create_as(&s, BOB_DID, post_record("bob's")).await);
    let mut wrong = bobs.clone();
    wrong["cid"] = top["cid"].clone();
    let message = refused(&create(&s, &token, None, reply("x", &wrong, &wrong)).await);
    assert!(message.contains("CID mismatch"), "{message}");
    let by_handle = json!({
        "uri": bobs["uri"].as_str().unwrap().replace(BOB_DID, "bob.example.com"),
        "cid": bobs["cid"],
    });
    let a = create(&s, &token, None, reply("hi bob", &by_handle, &bobs)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn get_record_gives_the_uri_and_cid_of_a_strong_ref() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let top = create(&s, &token, None, post_record("top")).await;
    let first = create(
        &s,
        &token,
        None,
        reply("first", &strong(&top), &strong(&top)),
    )
    .await;
    let rkey = first.body["uri"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();

    // The docs' recipe: read the parent, copy its root, or use the parent when it has none.
    let params = [("repo", HANDLE), ("collection", POST), ("rkey", rkey)];
    let parent = query(&s, "com.atproto.repo.getRecord", &params).await;
    assert_eq!(parent.status, StatusCode::OK, "{}", parent.body);
    assert_eq!(parent.body["uri"], first.body["uri"]);
    assert_eq!(parent.body["cid"], first.body["cid"]);
    let root = parent.body["value"]["reply"]["root"].clone();
    assert_eq!(root, strong(&top));
    let parent_ref = json!({"uri": parent.body["uri"], "cid": parent.body["cid"]});
    let a = create(&s, &token, None, reply("second", &root, &parent_ref)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // `cid` selects a version: the current one answers, another is not found.
    let cid = first.body["cid"].as_str().unwrap();
    let with_cid = [params[0], params[1], params[2], ("cid", cid)];
    let got = query(&s, "com.atproto.repo.getRecord", &with_cid).await;
    assert_eq!(got.body["cid"], cid);
    let other = [params[0], params[1], params[2], ("cid", OTHER_CID)];
    let got = query(&s, "com.atproto.repo.getRecord", &other).await;
    assert_eq!(got.error().0, "RecordNotFound");
}

#[tokio::test]
async fn a_quote_embeds_a_strong_ref_at_its_cid() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let quoted = strong(&create(&s, &token, None, post_record("quotable")).await);
    let quote = |r: &Value| {
        with_embed(
            "so true",
            json!({"$type": "app.bsky.embed.record", "record": r}),
        )
    };
    let a = create(&s, &token, None, quote(&quoted)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let post = s.bluesky().posts(DID).pop().unwrap();
    assert_eq!(post.embed_type().as_deref(), Some("app.bsky.embed.record"));
    let expected: BlueskyStrongRef = s.bluesky().posts(DID)[0].strong_ref();
    assert_eq!(post.quoted(), Some(expected));

    let mut stale = quoted.clone();
    stale["cid"] = json!(OTHER_CID);
    let message = refused(&create(&s, &token, None, quote(&stale)).await);
    assert!(
        message.contains("CID mismatch") && message.ends_with("at $.record.embed.record.cid"),
        "{message}"
    );
    let message = refused(&create(&s, &token, None, quote(&json!({"uri": quoted["uri"]}))).await);
    assert!(message.ends_with("Missing required key \"cid\" at $.record.embed.record"));
    // Other record types may be quoted: a list elsewhere is stored as is.
    let list = json!({"uri": "at://did:plc:notonthispds/app.bsky.graph.list/3k43tv4rft22g", "cid": OTHER_CID});
    let a = create(&s, &token, None, quote(&list)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn a_quote_with_images_is_record_with_media() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let quoted = strong(&create(&s, &token, None, post_record("quotable")).await);
    let blob = image_blob(&s, &token, 2000).await;
    let with_media = |r: &Value, media: Value| {
        with_embed(
            "look",
            json!({"$type": "app.bsky.embed.recordWithMedia", "record": {"record": r}, "media": media}),
        )
    };
    let images =
        json!({"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "a cat"}]});
    let a = create(&s, &token, None, with_media(&quoted, images.clone())).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let post = s.bluesky().posts(DID).pop().unwrap();
    assert_eq!(
        post.embed_type().as_deref(),
        Some("app.bsky.embed.recordWithMedia")
    );
    assert_eq!(post.quoted().unwrap().cid, quoted["cid"].as_str().unwrap());
    let stored: Value = serde_json::from_str(&post.record).unwrap();
    assert_eq!(stored["embed"]["media"], images);
    assert!(s.bluesky().blobs(DID)[0].referenced);

    let mut stale = quoted.clone();
    stale["cid"] = json!(OTHER_CID);
    let message = refused(&create(&s, &token, None, with_media(&stale, images.clone())).await);
    assert!(
        message.contains("CID mismatch")
            && message.ends_with("at $.record.embed.record.record.cid"),
        "{message}"
    );
    let message = refused(
        &create(
            &s,
            &token,
            None,
            with_media(
                &quoted,
                json!({"$type": "app.bsky.embed.record", "record": quoted}),
            ),
        )
        .await,
    );
    assert!(
        message.contains("at $.record.embed.media.$type"),
        "{message}"
    );
    let no_alt = json!({"$type": "app.bsky.embed.images", "images": [{"image": blob}]});
    let message = refused(&create(&s, &token, None, with_media(&quoted, no_alt)).await);
    assert!(
        message.ends_with("Missing required key \"alt\" at $.record.embed.media.images[0]"),
        "{message}"
    );
    // The images of the media keep their 976.56 KB limit.
    let big = image_blob(&s, &token, 976_561).await;
    let media = json!({"$type": "app.bsky.embed.images", "images": [{"image": big, "alt": ""}]});
    let a = create(&s, &token, None, with_media(&quoted, media)).await;
    assert_eq!(a.error().0, "BlobTooLarge", "{}", a.body);
    // A link card as the media.
    let card = json!({"$type": "app.bsky.embed.external", "external": {"uri": "https://example.com", "title": "", "description": ""}});
    let a = create(&s, &token, None, with_media(&quoted, card)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn link_cards_need_a_uri_a_title_a_description_and_a_thumb_of_at_most_1_mb() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let card = |external: Value| {
        with_embed(
            "read this",
            json!({"$type": "app.bsky.embed.external", "external": external}),
        )
    };
    // Without a thumb; title and description may be empty.
    let bare = json!({"uri": "https://example.com/article", "title": "", "description": ""});
    let a = create(&s, &token, None, card(bare)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let post = s.bluesky().posts(DID).pop().unwrap();
    assert_eq!(
        post.embed_type().as_deref(),
        Some("app.bsky.embed.external")
    );
    assert_eq!(post.quoted(), None);

    // A thumb of exactly 1 000 000 bytes: over the images' 976.56 KB, inside the thumb's limit.
    let thumb = image_blob(&s, &token, 1_000_000).await;
    let full = json!({"uri": "https://example.com/article", "title": "An article",
                      "description": "What it says", "thumb": thumb});
    let a = create(&s, &token, None, card(full.clone())).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let stored: Value = serde_json::from_str(&s.bluesky().posts(DID)[1].record).unwrap();
    assert_eq!(stored["embed"]["external"], full);

    let too_big = image_blob(&s, &token, 1_000_001).await;
    let mut over = full.clone();
    over["thumb"] = too_big;
    let a = create(&s, &token, None, card(over)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.error(),
        (
            "BlobTooLarge",
            "This file is too large. It is 1MB but the maximum size is 1MB."
        )
    );

    let cases = [
        (
            json!({"uri": "https://example.com", "description": ""}),
            "Missing required key \"title\" at $.record.embed.external",
        ),
        (
            json!({"uri": "example.com", "title": "", "description": ""}),
            "Invalid uri (got \"example.com\") at $.record.embed.external.uri",
        ),
        (
            json!({"uri": "https://example.com", "title": 3, "description": ""}),
            "Expected string value type (got 3) at $.record.embed.external.title",
        ),
        (
            json!({"uri": "https://example.com", "title": "", "description": "", "thumb": "https://example.com/og.png"}),
            "Expected blob value type (got \"https://example.com/og.png\") at $.record.embed.external.thumb",
        ),
    ];
    for (external, expected) in cases {
        let message = refused(&create(&s, &token, None, card(external)).await);
        assert_eq!(
            message,
            format!("Invalid app.bsky.feed.post record: {expected}")
        );
    }
    let pdf = upload(&s, &token, "application/pdf", vec![1u8; 100]).await;
    let mut wrong_type = full;
    wrong_type["thumb"] = pdf.body["blob"].clone();
    let message = refused(&create(&s, &token, None, card(wrong_type)).await);
    assert!(
        message.ends_with(
            "Expected one of \"image/*\" (got \"application/pdf\") at $.record.embed.external.thumb.mimeType"
        ),
        "{message}"
    );
    let message = refused(
        &create(
            &s,
            &token,
            None,
            with_embed("x", json!({"$type": "app.bsky.embed.external"})),
        )
        .await,
    );
    assert!(message.ends_with("Missing required key \"external\" at $.record.embed"));
}
