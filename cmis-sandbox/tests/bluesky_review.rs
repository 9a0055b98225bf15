//! The fake PDS against the repository lexicons it lacked and XRPC's method rule (review of issue
//! 22, Build item 5; see `docs/sandbox-threads-bluesky-review.md`): `deleteRecord`, `putRecord`,
//! `listRecords`, and a method called with the wrong HTTP verb.

mod bluesky_common;

use bluesky_common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const RKEY: &str = "3l7xqkz2abc2a";

async fn get_post(s: &cmis_sandbox::Sandbox, rkey: &str) -> Answer {
    query(
        s,
        "com.atproto.repo.getRecord",
        &[("repo", DID), ("collection", POST), ("rkey", rkey)],
    )
    .await
}

async fn delete(s: &cmis_sandbox::Sandbox, token: &str, input: Value) -> Answer {
    procedure(s, "com.atproto.repo.deleteRecord", Some(token), Some(input)).await
}

async fn put(s: &cmis_sandbox::Sandbox, token: &str, record: Value) -> Answer {
    let input = json!({"repo": DID, "collection": POST, "rkey": RKEY, "record": record});
    procedure(s, "com.atproto.repo.putRecord", Some(token), Some(input)).await
}

#[tokio::test]
async fn delete_record_removes_the_record_or_ensures_it_is_not_there() {
    let s = sandbox().await;
    let token = access(&s, HANDLE);
    let created = create(&s, &token, Some(RKEY), post_record("to delete")).await;
    assert_eq!(created.status, StatusCode::OK);

    let input = json!({"repo": DID, "collection": POST, "rkey": RKEY});
    let deleted = delete(&s, &token, input.clone()).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let commit = &deleted.body["commit"];
    assert!(
        commit["cid"]
            .as_str()
            .is_some_and(|c| c.starts_with("bafyrei"))
    );
    assert!(commit["rev"].as_str().is_some_and(tid_shaped));
    assert_ne!(commit["cid"], created.body["commit"]["cid"]);
    // One write point for a delete, three for the create (rate-limits doc).
    assert_eq!(deleted.header("ratelimit-remaining"), "4996");

    let gone = get_post(&s, RKEY).await;
    assert_eq!(gone.status, StatusCode::BAD_REQUEST);
    assert_eq!(gone.error().0, "RecordNotFound");
    assert!(s.bluesky().records(DID).is_empty());

    // "or ensure it doesn't exist": nothing to delete is no write and no error.
    let again = delete(&s, &token, input).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, json!({}));

    // The key is free again.
    let recreated = create(&s, &token, Some(RKEY), post_record("again")).await;
    assert_eq!(recreated.status, StatusCode::OK);
}

#[tokio::test]
async fn delete_record_honours_swap_record_and_needs_the_accounts_own_token() {
    let s = sandbox().await;
    let token = access(&s, HANDLE);
    let created = create(&s, &token, Some(RKEY), post_record("kept")).await;
    let cid = created.body["cid"].as_str().unwrap().to_owned();

    let wrong = json!({"repo": DID, "collection": POST, "rkey": RKEY,
                       "swapRecord": "bafyreicgxzn3hpznimgqh6aauxindliz4jfy7qclv45ui2tblbgeicnqu4"});
    let refused = delete(&s, &token, wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.error(),
        ("InvalidSwap", &*format!("Record was at {cid}"))
    );

    let bob = access(&s, BOB_DID);
    let input = json!({"repo": DID, "collection": POST, "rkey": RKEY});
    let refused = delete(&s, &bob, input.clone()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.error().0, "AuthenticationRequired");
    assert_eq!(get_post(&s, RKEY).await.status, StatusCode::OK);

    let mut swapped = input;
    swapped["swapRecord"] = json!(cid);
    assert_eq!(delete(&s, &token, swapped).await.status, StatusCode::OK);
}

#[tokio::test]
async fn put_record_is_a_no_op_for_the_same_record_and_replaces_another() {
    let s = sandbox().await;
    let token = access(&s, HANDLE);
    let first = put(&s, &token, post_record("first")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["uri"], format!("at://{DID}/{POST}/{RKEY}"));
    assert!(first.body["commit"]["rev"].is_string());
    assert_eq!(first.body["validationStatus"], "valid");
    // Two write points for a put.
    assert_eq!(first.header("ratelimit-remaining"), "4998");

    // Brief §7: the same record again is a no-op answered with the stored uri and cid.
    let same = put(&s, &token, post_record("first")).await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.body["cid"], first.body["cid"]);
    assert!(same.body.get("commit").is_none(), "{}", same.body);
    assert_eq!(s.bluesky().records(DID).len(), 1);

    let second = put(&s, &token, post_record("second")).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(second.body["cid"], first.body["cid"]);
    let read = get_post(&s, RKEY).await;
    assert_eq!(read.body["value"]["text"], "second");
    assert_eq!(read.body["cid"], second.body["cid"]);

    // A refused replacement leaves the stored record as it was.
    let refused = put(&s, &token, post_record(&"x".repeat(301))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error().0, "InvalidRequest");
    let read = get_post(&s, RKEY).await;
    assert_eq!(read.body["value"]["text"], "second");
    assert_eq!(read.body["cid"], second.body["cid"]);
}

async fn list(s: &cmis_sandbox::Sandbox, extra: &[(&str, &str)]) -> Answer {
    let mut params = vec![("repo", DID), ("collection", POST)];
    params.extend_from_slice(extra);
    query(s, "com.atproto.repo.listRecords", &params).await
}

#[tokio::test]
async fn list_records_pages_by_record_key_newest_first_or_reversed() {
    let s = sandbox().await;
    let token = access(&s, HANDLE);
    let mut rkeys = Vec::new();
    for text in ["one", "two", "three"] {
        let created = create(&s, &token, None, post_record(text)).await;
        let uri = created.body["uri"].as_str().unwrap().to_owned();
        rkeys.push(uri.rsplit('/').next().unwrap().to_owned());
    }
    let page = list(&s, &[("limit", "2")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let texts: Vec<&str> = page.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["three", "two"]);
    assert_eq!(
        page.body["records"][0]["uri"],
        format!("at://{DID}/{POST}/{}", rkeys[2])
    );
    assert!(page.body["records"][0]["cid"].is_string());
    assert_eq!(page.body["cursor"], rkeys[1]);

    let next = list(&s, &[("limit", "2"), ("cursor", rkeys[1].as_str())]).await;
    assert_eq!(next.body["records"].as_array().unwrap().len(), 1);
    assert_eq!(next.body["records"][0]["value"]["text"], "one");
    let last = list(&s, &[("cursor", rkeys[0].as_str())]).await;
    assert_eq!(last.body, json!({"records": []}));

    let reversed = list(&s, &[("reverse", "true")]).await;
    assert_eq!(reversed.body["records"][0]["value"]["text"], "one");
    assert_eq!(reversed.body["cursor"], rkeys[2]);

    let too_many = list(&s, &[("limit", "101")]).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_many.error().0, "InvalidRequest");
    let unknown = query(
        &s,
        "com.atproto.repo.listRecords",
        &[("repo", "did:plc:nobody"), ("collection", POST)],
    )
    .await;
    assert_eq!(
        unknown.error(),
        ("InvalidRequest", "Could not find repo: did:plc:nobody")
    );
}

#[tokio::test]
async fn a_method_called_with_the_wrong_verb_gets_the_xrpc_envelope() {
    let s = sandbox().await;
    let url = |nsid: &str| format!("{}/xrpc/{nsid}", s.bluesky().url());
    let get = answer(http().get(url("com.atproto.repo.createRecord"))).await;
    assert_eq!(get.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get.error(),
        (
            "InvalidRequest",
            "Incorrect HTTP method (GET) expected POST"
        )
    );
    let post = answer(http().post(url("com.atproto.repo.getRecord"))).await;
    assert_eq!(post.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        post.error(),
        (
            "InvalidRequest",
            "Incorrect HTTP method (POST) expected GET"
        )
    );
}

fn gallery(blobs: &[Value], aspect: bool) -> Value {
    let items: Vec<Value> = blobs
        .iter()
        .map(|b| {
            let mut item = json!({"image": b, "alt": ""});
            if aspect {
                item["aspectRatio"] = json!({"width": 4, "height": 3});
            }
            item
        })
        .collect();
    let mut r = post_record("a gallery");
    r["embed"] = json!({"$type": "app.bsky.embed.gallery", "items": items});
    r
}

#[tokio::test]
async fn a_gallery_takes_up_to_20_images_of_2_mb_each_with_their_aspect_ratios() {
    let s = sandbox().await;
    let token = access(&s, HANDLE);
    let mut blobs = Vec::new();
    for i in 0..21u8 {
        let up = upload(&s, &token, "image/jpeg", vec![i; 100]).await;
        blobs.push(up.body["blob"].clone());
    }
    // 1.5 MB: too big for `embed.images` (976.56 KB here), fine in a gallery (2 MB).
    let big = upload(&s, &token, "image/jpeg", vec![0xFF; 1_500_000]).await;
    let big = big.body["blob"].clone();
    let mut five = blobs[..4].to_vec();
    five.push(big.clone());

    let ok = create(&s, &token, None, gallery(&five, true)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let in_images = create(&s, &token, None, images(&[&big])).await;
    assert_eq!(in_images.error().0, "BlobTooLarge");

    let no_ratio = create(&s, &token, None, gallery(&five, false)).await;
    assert_eq!(no_ratio.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_ratio.error(),
        (
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: Missing required key \"aspectRatio\" at \
             $.record.embed.items[0]"
        )
    );
    let too_many = create(&s, &token, None, gallery(&blobs, true)).await;
    assert_eq!(
        too_many.error(),
        (
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: array too big (maximum 20, got 21) at \
             $.record.embed.items"
        )
    );
}

#[tokio::test]
async fn every_answer_carries_the_global_limits_headers_and_3000_in_5_minutes_is_the_cap() {
    let s = sandbox().await;
    // A 4xx of a method without its own limit: the global limiter's headers (fixture README).
    let first = get_post(&s, RKEY).await;
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    assert_eq!(first.header("ratelimit-limit"), "3000");
    assert_eq!(first.header("ratelimit-remaining"), "2999");
    assert_eq!(first.header("ratelimit-policy"), "3000;w=300");
    let reset: i64 = first.header("ratelimit-reset").parse().unwrap();
    let now = s.bluesky().unix_time();
    assert!((now + 299..=now + 300).contains(&reset), "{reset} vs {now}");
    // A method with its own limit reports that one.
    let token = access(&s, HANDLE);
    let created = create(&s, &token, None, post_record("hello")).await;
    assert_eq!(created.header("ratelimit-policy"), "5000;w=3600");

    for _ in 2..3000 {
        query(&s, "com.atproto.server.describeServer", &[]).await;
    }
    let refused = query(&s, "com.atproto.server.describeServer", &[]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.error(),
        ("RateLimitExceeded", "Rate Limit Exceeded")
    );
    assert_eq!(refused.header("ratelimit-remaining"), "0");
    assert!(refused.headers.contains_key("retry-after"));
    s.bluesky()
        .advance_clock(std::time::Duration::from_secs(300));
    let again = query(&s, "com.atproto.server.describeServer", &[]).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[test]
fn the_video_service_takes_300_mb_by_default() {
    // `embed/video.json`: "May be up to 300mb, formerly limited to 100mb" (brief §5.3).
    assert_eq!(
        cmis_sandbox::BlueskyVideoConfig::default().max_video_bytes,
        300_000_000
    );
}
