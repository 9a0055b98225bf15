//! The fake Bluesky PDS's repository: `createRecord` with the post lexicon, record keys,
//! `getRecord`, `uploadBlob` and write limits, against the documented wire rules
//! (docs/bluesky-api.md, the atproto lexicons and the reference PDS), driven with a plain HTTP
//! client: no connector is involved.

mod bluesky_common;

use std::time::Duration;

use bluesky_common::*;
use cmis_sandbox::{BlueskyConfig, BlueskyEndpoint, Fault};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_post_is_stored_under_its_rkey_and_read_back() {
    let s = sandbox().await;
    let token = access(&s, DID);
    // The record of the brief's example (§3), with its byte offsets.
    let record = json!({
        "$type": POST, "text": "Hello https://example.com #rust",
        "createdAt": "2026-11-03T10:15:00.000Z", "langs": ["en"],
        "facets": [
            {"index": {"byteStart": 6, "byteEnd": 25},
             "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]},
            {"index": {"byteStart": 26, "byteEnd": 31},
             "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "rust"}]}
        ]
    });
    let a = create(&s, &token, Some("3l7xqkz2abc2a"), record.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let uri = format!("at://{DID}/{POST}/3l7xqkz2abc2a");
    assert_eq!(a.body["uri"], uri.as_str());
    let cid = a.body["cid"].as_str().unwrap().to_owned();
    assert!(cid.starts_with("bafyrei"), "{cid}");
    assert!(
        a.body["commit"]["cid"]
            .as_str()
            .unwrap()
            .starts_with("bafyrei")
    );
    assert!(tid_shaped(a.body["commit"]["rev"].as_str().unwrap()));
    assert_eq!(a.body["validationStatus"], "valid");

    for repo in [DID, HANDLE] {
        let got = query(
            &s,
            "com.atproto.repo.getRecord",
            &[
                ("repo", repo),
                ("collection", POST),
                ("rkey", "3l7xqkz2abc2a"),
            ],
        )
        .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body["uri"], uri.as_str());
        assert_eq!(got.body["cid"], cid.as_str());
        assert_eq!(got.body["value"], record);
    }
    let missing = query(
        &s,
        "com.atproto.repo.getRecord",
        &[
            ("repo", HANDLE),
            ("collection", POST),
            ("rkey", "3l7xqkz2abc2b"),
        ],
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.error(),
        (
            "RecordNotFound",
            format!("Could not locate record: at://{DID}/{POST}/3l7xqkz2abc2b").as_str()
        )
    );
    // Without an rkey the PDS mints a TID; the same record content has the same CID.
    let minted = create(&s, &token, None, record.clone()).await;
    let rkey = minted.body["uri"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(tid_shaped(&rkey), "{rkey}");
    assert_eq!(minted.body["cid"], cid.as_str());
    let posts = s.bluesky().posts(HANDLE);
    assert_eq!(posts.len(), 2);
    assert_eq!(
        (posts[0].rkey.as_str(), posts[1].rkey.as_str()),
        ("3l7xqkz2abc2a", rkey.as_str())
    );
    assert_eq!(
        serde_json::from_str::<Value>(&posts[0].record).unwrap(),
        record
    );
}

#[tokio::test]
async fn a_second_record_at_an_existing_rkey_is_a_generic_500() {
    let s = sandbox().await;
    let token = access(&s, DID);
    assert_eq!(
        create(&s, &token, Some("3m2abcdefghij"), post_record("once"))
            .await
            .status,
        StatusCode::OK
    );
    let a = create(&s, &token, Some("3m2abcdefghij"), post_record("twice?")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        a.body,
        json!({"error": "InternalServerError", "message": "Internal Server Error"})
    );
    let posts = s.bluesky().posts(DID);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].record.contains("once"));
}

#[tokio::test]
async fn post_rkeys_must_be_tids_and_the_repo_the_sessions_own() {
    let s = sandbox().await;
    let token = access(&s, DID);
    for rkey in [
        "hello",
        "kl7xqkz2abc2a",
        "3l7xqkz2abc2",
        "3l7xqkz2abc1a",
        "a/b",
    ] {
        let a = create(&s, &token, Some(rkey), post_record("x")).await;
        assert_eq!(
            (a.status, a.error().0),
            (StatusCode::BAD_REQUEST, "InvalidRequest"),
            "{rkey}"
        );
    }
    let mut input = json!({"repo": HANDLE, "collection": POST, "record": post_record("by handle")});
    let a = procedure(
        &s,
        "com.atproto.repo.createRecord",
        Some(&token),
        Some(input.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body["uri"]
            .as_str()
            .unwrap()
            .starts_with(&format!("at://{DID}/"))
    );
    input["repo"] = json!(BOB_DID);
    let a = procedure(
        &s,
        "com.atproto.repo.createRecord",
        Some(&token),
        Some(input.clone()),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::UNAUTHORIZED, "AuthenticationRequired")
    );
    input["repo"] = json!("did:plc:nobodynobodynobodynobody");
    let a = procedure(
        &s,
        "com.atproto.repo.createRecord",
        Some(&token),
        Some(input),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::FORBIDDEN, "AccountNotFound")
    );
    assert_eq!(s.bluesky().posts(BOB_DID).len(), 0);
}

#[tokio::test]
async fn text_is_limited_in_graphemes_and_in_utf8_bytes() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let family = "👨‍👩‍👧‍👦"; // one grapheme, 25 bytes
    let accepted = [
        "a".repeat(300),
        family.repeat(120),     // 3 000 bytes, 120 graphemes
        "e\u{301}".repeat(300), // 300 graphemes of 2 chars each
        String::new(),
    ];
    for text in accepted {
        let a = create(&s, &token, None, post_record(&text)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let a = create(&s, &token, None, post_record(&"a".repeat(301))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.error(),
        (
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) at $.record.text"
        )
    );
    let a = create(&s, &token, None, post_record(&family.repeat(121))).await;
    assert_eq!(
        a.error(),
        (
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: string too big (maximum 3000, got 3025) at $.record.text"
        )
    );
    let a = create(&s, &token, None, json!({"$type": POST, "text": "no date"})).await;
    assert!(
        a.error().1.contains("Missing required key \"createdAt\""),
        "{}",
        a.body
    );
    let a = create(
        &s,
        &token,
        None,
        json!({"$type": POST, "text": "x", "createdAt": "2026-11-03 10:15"}),
    )
    .await;
    assert!(a.error().1.contains("Invalid datetime"), "{}", a.body);
    assert_eq!(s.bluesky().posts(DID).len(), 4);
}

#[tokio::test]
async fn facets_are_utf8_byte_ranges_inside_the_text_without_overlap() {
    let s = sandbox().await;
    let token = access(&s, DID);
    // "é" is 2 bytes and "🎉" 4: the link starts at byte 9, though at char 6.
    let text = "Café 🎉 https://example.com #rust";
    let link = |start: u64, end: u64| {
        json!({"index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]})
    };
    let tag = json!({"index": {"byteStart": 31, "byteEnd": 36}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "rust"}]});
    let with = |facets: Value| {
        let mut r = post_record(text);
        r["facets"] = facets;
        r
    };
    assert_eq!(
        (&text[11..30], &text[31..]),
        ("https://example.com", "#rust")
    );
    let a = create(&s, &token, None, with(json!([link(11, 30), tag.clone()]))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    for (facets, why) in [
        (
            json!([link(7, 26)]),
            "char offsets, not bytes: byte 7 is inside 🎉",
        ),
        (json!([link(11, 37)]), "past the end"),
        (json!([link(11, 11)]), "empty"),
        (json!([link(11, 32), tag.clone()]), "overlap"),
    ] {
        let a = create(&s, &token, None, with(facets)).await;
        assert_eq!(
            (a.status, a.error().0),
            (StatusCode::BAD_REQUEST, "InvalidRequest"),
            "{why}: {}",
            a.body
        );
        assert!(a.error().1.contains("$.record.facets"), "{why}: {}", a.body);
    }
    assert_eq!(s.bluesky().posts(DID).len(), 1);
}

#[tokio::test]
async fn images_need_alt_and_this_accounts_blobs_at_most_4_and_976_56_kb_each() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let up = upload(&s, &token, "image/png", vec![7u8; 1000]).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    let blob = up.body["blob"].clone();
    assert_eq!(blob["$type"], "blob");
    assert_eq!(
        (blob["mimeType"].as_str(), blob["size"].as_u64()),
        (Some("image/png"), Some(1000))
    );
    let cid = blob["ref"]["$link"].as_str().unwrap().to_owned();
    assert!(cid.starts_with("bafkrei") && cid.len() == 59, "{cid}");
    // The same bytes have the same CID, whoever uploads them.
    let again = upload(&s, &token, "image/png", vec![7u8; 1000]).await;
    assert_eq!(again.body["blob"]["ref"]["$link"], cid.as_str());

    let a = create(&s, &token, None, images(&[&blob; 4])).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = create(&s, &token, None, images(&[&blob; 5])).await;
    assert_eq!(
        a.error(),
        (
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: array too big (maximum 4, got 5) at $.record.embed.images"
        )
    );
    let mut no_alt = images(&[&blob]);
    no_alt["embed"]["images"][0]
        .as_object_mut()
        .unwrap()
        .remove("alt");
    let a = create(&s, &token, None, no_alt).await;
    assert!(
        a.error().1.contains("Missing required key \"alt\""),
        "{}",
        a.body
    );
    // A blob nobody uploaded, and one another account uploaded.
    let mut unknown = blob.clone();
    unknown["ref"]["$link"] = json!("bafkreifhbrgtmo6rzg7esgxax2vls4bv6l7orf3r7j565j75trgxpolh3e");
    let a = create(&s, &token, None, images(&[&unknown])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.error(),
        (
            "BlobNotFound",
            "Could not find blob: bafkreifhbrgtmo6rzg7esgxax2vls4bv6l7orf3r7j565j75trgxpolh3e"
        )
    );
    let bobs = upload(&s, &access(&s, BOB_DID), "image/jpeg", vec![9u8; 10])
        .await
        .body["blob"]
        .clone();
    assert_eq!(
        create(&s, &token, None, images(&[&bobs])).await.error().0,
        "BlobNotFound"
    );
    // 976 560 bytes pass; 1.47 MB is refused with Bluesky's message.
    let limit = upload(&s, &token, "image/jpeg", vec![1u8; 976_560])
        .await
        .body["blob"]
        .clone();
    assert_eq!(
        create(&s, &token, None, images(&[&limit])).await.status,
        StatusCode::OK
    );
    let big = upload(&s, &token, "image/jpeg", vec![2u8; 1_470_000])
        .await
        .body["blob"]
        .clone();
    let a = create(&s, &token, None, images(&[&big])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.error(),
        (
            "BlobTooLarge",
            "This file is too large. It is 1.47MB but the maximum size is 976.56KB."
        )
    );
    assert_eq!(s.bluesky().posts(DID).len(), 2);
    let blobs = s.bluesky().blobs(DID);
    assert_eq!(blobs.len(), 3);
    assert!(
        blobs
            .iter()
            .find(|b| b.size == 1_470_000)
            .is_some_and(|b| !b.referenced)
    );
}

#[tokio::test]
async fn upload_blob_needs_a_content_type_and_stops_at_the_pds_cap() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let a = answer(
        http()
            .post(format!(
                "{}/xrpc/com.atproto.repo.uploadBlob",
                s.bluesky().url()
            ))
            .bearer_auth(&token)
            .body(vec![0u8; 10]),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::BAD_REQUEST, "InvalidRequest")
    );
    let a = upload(&s, "nope", "image/png", vec![0u8; 10]).await;
    assert_eq!(a.error().0, "InvalidToken");
    // 50 MB (52 428 800 bytes) on Bluesky's PDSes: one byte more is refused.
    let a = upload(&s, &token, "video/mp4", vec![0u8; 52_428_801]).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.error(), ("PayloadTooLarge", "request entity too large"));
    assert!(s.bluesky().blobs(DID).is_empty());

    let mut config = BlueskyConfig::default();
    config.blob_upload_limit = 1000;
    let s = sandbox_with(config).await;
    let token = access(&s, DID);
    assert_eq!(
        upload(&s, &token, "image/png", vec![0u8; 1000])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        upload(&s, &token, "image/png", vec![0u8; 1001])
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn unreferenced_blobs_go_away_when_a_lifetime_is_set() {
    let mut config = BlueskyConfig::default();
    config.unreferenced_blob_lifetime = Some(Duration::from_secs(600));
    let s = sandbox_with(config).await;
    let token = access(&s, DID);
    let kept = upload(&s, &token, "image/png", vec![1u8; 10]).await.body["blob"].clone();
    let lost = upload(&s, &token, "image/png", vec![2u8; 10]).await.body["blob"].clone();
    assert_eq!(
        create(&s, &token, None, images(&[&kept])).await.status,
        StatusCode::OK
    );
    s.bluesky().advance_clock(Duration::from_secs(601));
    assert_eq!(
        create(&s, &token, None, images(&[&lost])).await.error().0,
        "BlobNotFound"
    );
    assert_eq!(
        create(&s, &token, None, images(&[&kept])).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn writes_cost_3_points_of_5000_an_hour_with_ratelimit_headers() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let start = s.bluesky().unix_time();
    let first = create(&s, &token, None, post_record("post 0")).await;
    assert_eq!(first.header("ratelimit-remaining"), "4997");
    assert_eq!(first.header("ratelimit-policy"), "5000;w=3600");
    for i in 1..1666 {
        let a = create(&s, &token, None, post_record(&format!("post {i}"))).await;
        assert_eq!(a.status, StatusCode::OK, "create {i}: {}", a.body);
    }
    let a = create(&s, &token, None, post_record("one too many")).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.error(), ("RateLimitExceeded", "Rate Limit Exceeded"));
    assert_eq!(a.header("ratelimit-limit"), "5000");
    assert_eq!(a.header("ratelimit-remaining"), "0");
    assert_eq!(a.header("ratelimit-policy"), "5000;w=3600");
    let reset: i64 = a.header("ratelimit-reset").parse().unwrap();
    assert!(
        (start + 3599..=start + 3601).contains(&reset),
        "absolute reset {reset}, start {start}"
    );
    assert_eq!(s.bluesky().posts(DID).len(), 1666);
    // Bob writes on his own budget; an hour on, Alice may write again.
    let bob = access(&s, BOB_DID);
    let input = json!({"repo": BOB_DID, "collection": POST, "record": post_record("bob")});
    assert_eq!(
        procedure(&s, "com.atproto.repo.createRecord", Some(&bob), Some(input))
            .await
            .status,
        StatusCode::OK
    );
    s.bluesky().advance_clock(Duration::from_secs(3600));
    let token = access(&s, DID);
    assert_eq!(
        create(&s, &token, None, post_record("next hour"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn validation_modes_and_record_types() {
    let s = sandbox().await;
    let token = access(&s, DID);
    // `$type` may be omitted (the PDS fills it in) but not contradict the collection.
    let a = create(
        &s,
        &token,
        None,
        json!({"text": "typed later", "createdAt": "2026-11-03T10:15:00Z"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let stored: Value = serde_json::from_str(&s.bluesky().posts(DID)[0].record).unwrap();
    assert_eq!(stored["$type"], POST);
    let a = create(
        &s,
        &token,
        None,
        json!({"$type": "app.bsky.feed.like", "text": "x", "createdAt": "2026-11-03T10:15:00Z"}),
    )
    .await;
    assert_eq!(a.error().0, "InvalidRequest");
    // validate: false skips the lexicon, and says nothing about validity.
    let input = json!({"repo": DID, "collection": POST, "validate": false, "record": post_record(&"a".repeat(400))});
    let a = procedure(
        &s,
        "com.atproto.repo.createRecord",
        Some(&token),
        Some(input),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.get("validationStatus").is_none());
    // A collection the PDS has no lexicon for is stored unvalidated.
    let input =
        json!({"repo": DID, "collection": "com.example.thing", "rkey": "self", "record": {"x": 1}});
    let a = procedure(
        &s,
        "com.atproto.repo.createRecord",
        Some(&token),
        Some(input),
    )
    .await;
    assert_eq!(a.body["validationStatus"], "unknown");
    assert_eq!(s.bluesky().records(DID).len(), 3);
    assert_eq!(s.bluesky().posts(DID).len(), 2);
    // putRecord is served (tests/bluesky_review.rs); a method the fake lacks is 501.
    let a = procedure(
        &s,
        "com.atproto.repo.putRecord",
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::BAD_REQUEST, "InvalidRequest")
    );
    let a = procedure(
        &s,
        "com.atproto.repo.applyWrites",
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (a.status, a.error().0),
        (StatusCode::NOT_IMPLEMENTED, "MethodNotImplemented")
    );
}

#[tokio::test]
async fn a_500_after_the_write_leaves_the_post_stored_and_a_retry_cannot_duplicate_it() {
    let s = sandbox().await;
    let token = access(&s, DID);
    let b = s.bluesky();
    b.inject(
        BlueskyEndpoint::CreateRecord,
        Fault::ServerErrorAfterAccept,
        1,
    );
    let a = create(&s, &token, Some("3m2zzzzzzzzzz"), post_record("ambiguous")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(a.error(), ("InternalServerError", "Internal Server Error"));
    assert_eq!(
        b.posts(DID).len(),
        1,
        "the record was written before the 500"
    );
    let found = query(
        &s,
        "com.atproto.repo.getRecord",
        &[
            ("repo", DID),
            ("collection", POST),
            ("rkey", "3m2zzzzzzzzzz"),
        ],
    )
    .await;
    assert_eq!(found.status, StatusCode::OK);
    let retry = create(&s, &token, Some("3m2zzzzzzzzzz"), post_record("ambiguous")).await;
    assert_eq!(retry.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(b.posts(DID).len(), 1, "never posted twice");
    // A 500 before the write stores nothing.
    b.inject(BlueskyEndpoint::CreateRecord, Fault::ServerError, 1);
    assert_eq!(
        create(&s, &token, None, post_record("lost")).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(b.posts(DID).len(), 1);
    // A dropped connection after the write: a transport error, and the post exists.
    b.inject(BlueskyEndpoint::CreateRecord, Fault::DropAfterAccept, 1);
    let input = json!({"repo": DID, "collection": POST, "rkey": "3m2yyyyyyyyyy", "record": post_record("dropped")});
    let r = http()
        .post(format!("{}/xrpc/com.atproto.repo.createRecord", b.url()))
        .bearer_auth(&token)
        .json(&input)
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "the connection must break");
    assert_eq!(b.posts(DID).len(), 2);
    // A timeout after acceptance: the client gives up, the post exists.
    b.inject(
        BlueskyEndpoint::CreateRecord,
        Fault::DelayAfterAccept(Duration::from_secs(2)),
        1,
    );
    let r = http()
        .post(format!("{}/xrpc/com.atproto.repo.createRecord", b.url()))
        .bearer_auth(&token)
        .json(&json!({"repo": DID, "collection": POST, "record": post_record("slow")}))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(r.is_err());
    assert_eq!(b.posts(DID).len(), 3);
}
