//! The fake Threads API's containers and publishing against the documented wire rules
//! (docs/threads-api.md and the fixtures in cmis-meta/tests/fixtures/threads), driven with a
//! plain HTTP client: no connector is involved.

mod threads_common;

use cmis_sandbox::{Fault, ThreadsConfig, ThreadsEndpoint};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;
use threads_common::*;

#[tokio::test]
async fn a_text_post_is_created_waited_for_published_and_listed() {
    let (s, token) = sandbox().await;
    // Fixture `create_container_text_request.txt`, byte for byte.
    let created = answer(
        http()
            .post(api(&s, &format!("{USER}/threads")))
            .bearer_auth(&token)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("media_type=TEXT&text=Hello+World&reply_control=everyone&topic_tag=rustlang"),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.raw);
    // Fixture `create_container.json`: the first container is the troubleshooting page's.
    assert_eq!(created.body, json!({"id": "17889615691921648"}));
    let container = created.id();

    let st = status(&s, &token, &container).await;
    assert_eq!(st.body, json!({"id": container, "status": "IN_PROGRESS"}));
    // Publishing before the container is ready: fixture `media_not_found_yet`.
    let early = publish(&s, &token, &container).await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        early.envelope(),
        json!({"error": {
            "message": "The requested resource does not exist",
            "type": "OAuthException",
            "code": 24,
            "error_subcode": 4279009,
            "is_transient": false,
            "error_user_title": "Media Not Found",
            "error_user_msg": "The media with id 17889615691921648 cannot be found.",
        }})
    );
    assert!(s.threads().posts().is_empty());

    s.threads().advance_clock(READY);
    let st = status(&s, &token, &container).await;
    assert_eq!(st.body, json!({"id": container, "status": "FINISHED"}));
    let published = publish(&s, &token, &container).await;
    let media = published.id();
    assert_eq!(published.body, json!({"id": media}));
    assert_ne!(media, container, "the media id is not the container id");
    assert!(media.len() >= 17 && media.bytes().all(|b| b.is_ascii_digit()));

    let posts = s.threads().posts();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(
        (
            post.id.as_str(),
            post.container_id.as_str(),
            post.user_id.as_str()
        ),
        (media.as_str(), container.as_str(), USER)
    );
    assert_eq!(post.media_type, "TEXT_POST");
    assert_eq!(post.text.as_deref(), Some("Hello World"));
    assert_eq!(post.reply_control.as_deref(), Some("everyone"));
    assert_eq!(post.topic_tag.as_deref(), Some("rustlang"));
    let prefix = format!("https://www.threads.net/@{USERNAME}/post/");
    let shortcode = post.permalink.strip_prefix(&prefix).unwrap();
    assert!(!shortcode.is_empty() && !shortcode.contains('/'));

    let st = status(&s, &token, &container).await;
    assert_eq!(st.body, json!({"id": container, "status": "PUBLISHED"}));
    let read = get(&s, &token, &media, &[("fields", "id,permalink")]).await;
    assert_eq!(read.body, json!({"id": media, "permalink": post.permalink}));

    let list = get(
        &s,
        &token,
        &format!("{USER}/threads"),
        &[("fields", "id,text,timestamp,permalink,media_type")],
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.raw);
    let item = &list.body["data"][0];
    assert_eq!(
        *item,
        json!({"id": media, "text": "Hello World", "timestamp": post.timestamp,
               "permalink": post.permalink, "media_type": "TEXT_POST"})
    );
    let ts = post.timestamp.as_str();
    assert_eq!(
        (ts.len(), &ts[10..11], &ts[19..]),
        (24, "T", "+0000"),
        "{ts}"
    );
    assert!(list.body["paging"].get("next").is_none(), "{}", list.raw);

    // Publishing it again is refused, and nothing is posted twice.
    let again = publish(&s, &token, &container).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error().0, 100);
    assert_eq!(s.threads().posts().len(), 1);
    assert_eq!(s.threads().duplicate_publish_attempts(), 1);
}

#[tokio::test]
async fn text_is_limited_to_500_utf8_bytes() {
    let (s, token) = sandbox().await;
    // 500 characters, 502 bytes: a curly apostrophe is 3 bytes (brief §3).
    let curly = format!("{}\u{2019}", "a".repeat(499));
    assert_eq!((curly.chars().count(), curly.len()), (500, 502));
    let refused = create(&s, &token, &[("media_type", "TEXT"), ("text", &curly)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // Fixture `text_too_long`.
    assert_eq!(
        refused.envelope(),
        json!({"error": {"message": "Param text must be at most 500 characters long.",
                         "type": "THApiException", "code": 100}})
    );
    let ascii = "a".repeat(500);
    let ok = create(&s, &token, &[("media_type", "TEXT"), ("text", &ascii)]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
    let long = "a".repeat(501);
    let refused = create(&s, &token, &[("media_type", "TEXT"), ("text", &long)]).await;
    assert_eq!(refused.error().0, 100);
    // Captions of media posts are held to the same limit.
    let image = [
        ("media_type", "IMAGE"),
        ("image_url", "https://cdn.example.com/a.jpg"),
        ("text", curly.as_str()),
    ];
    assert_eq!(create(&s, &token, &image).await.error().0, 100);
    assert_eq!(s.threads().containers().len(), 1);
}

#[tokio::test]
async fn more_than_five_links_fail_at_creation() {
    let (s, token) = sandbox().await;
    let urls: Vec<String> = (1..=6).map(|i| format!("https://l{i}.example/x")).collect();
    let six = urls.join(" and ");
    let refused = create(&s, &token, &[("media_type", "TEXT"), ("text", &six)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // Fixture `link_limit_exceeded`.
    assert_eq!(
        refused.envelope(),
        json!({"error": {"message": "THREADS_API__LINK_LIMIT_EXCEEDED",
                         "type": "THApiException", "code": 100}})
    );
    let five = format!("{}, again {}.", urls[..5].join(" "), urls[0]);
    let ok = create(&s, &token, &[("media_type", "TEXT"), ("text", &five)]).await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "a repeated URL counts once: {}",
        ok.raw
    );
    // A link attachment that is not in the text counts once more; one that is does not.
    let text = urls[..5].join(" ");
    let extra = [
        ("media_type", "TEXT"),
        ("text", text.as_str()),
        ("link_attachment", "https://card.example/"),
    ];
    let refused = create(&s, &token, &extra).await;
    assert_eq!(refused.error().2, "THREADS_API__LINK_LIMIT_EXCEEDED");
    let same = [
        ("media_type", "TEXT"),
        ("text", text.as_str()),
        ("link_attachment", urls[0].as_str()),
    ];
    assert_eq!(create(&s, &token, &same).await.status, StatusCode::OK);
}

#[tokio::test]
async fn containers_are_validated_as_threads_validates_them() {
    let (s, token) = sandbox().await;
    let cases: [&[(&str, &str)]; 9] = [
        &[("text", "no media_type")],
        // The reads' name, not the create call's.
        &[("media_type", "TEXT_POST"), ("text", "hi")],
        &[("media_type", "TEXT")],
        &[("media_type", "IMAGE")],
        &[
            ("media_type", "IMAGE"),
            ("image_url", "ftp://cdn.example.com/a.jpg"),
        ],
        &[
            ("media_type", "TEXT"),
            ("text", "hi"),
            ("topic_tag", "rust.lang"),
        ],
        &[
            ("media_type", "TEXT"),
            ("text", "hi"),
            ("reply_control", "nobody"),
        ],
        &[
            ("media_type", "VIDEO"),
            ("video_url", "https://cdn.example.com/a.mp4"),
            ("link_attachment", "https://card.example/"),
        ],
        &[
            ("media_type", "TEXT"),
            ("text", "hi"),
            ("reply_to_id", "1234567"),
        ],
    ];
    for form in cases {
        let a = create(&s, &token, form).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form:?}: {}", a.raw);
        assert_eq!(
            (a.error().0, a.error().3),
            (100, "THApiException"),
            "{form:?}"
        );
    }
    for (len, expected) in [(50, StatusCode::OK), (51, StatusCode::BAD_REQUEST)] {
        let tag = "t".repeat(len);
        let form = [
            ("media_type", "TEXT"),
            ("text", "hi"),
            ("topic_tag", tag.as_str()),
        ];
        assert_eq!(create(&s, &token, &form).await.status, expected, "{len}");
    }
    assert_eq!(s.threads().containers().len(), 1);
}

#[tokio::test]
async fn a_carousel_takes_two_finished_items_and_publishes_once() {
    let (s, token) = sandbox().await;
    let item = |url: &'static str, kind: &'static str| {
        let key = if kind == "IMAGE" {
            "image_url"
        } else {
            "video_url"
        };
        [
            ("media_type", kind),
            (key, url),
            ("is_carousel_item", "true"),
        ]
    };
    let a = create(&s, &token, &item("https://cdn.example.com/1.jpg", "IMAGE"))
        .await
        .id();
    let b = create(&s, &token, &item("https://cdn.example.com/2.mp4", "VIDEO"))
        .await
        .id();
    let children = format!("{a},{b}");
    let parent = [
        ("media_type", "CAROUSEL"),
        ("children", children.as_str()),
        ("text", "Two"),
    ];
    let early = create(&s, &token, &parent).await;
    assert_eq!(
        early.error().0,
        100,
        "the items are still IN_PROGRESS: {}",
        early.raw
    );
    s.threads().advance_clock(READY);
    let one = create(
        &s,
        &token,
        &[("media_type", "CAROUSEL"), ("children", a.as_str())],
    )
    .await;
    assert_eq!(one.error().0, 100, "one item is not a carousel");
    // An item cannot be published on its own.
    assert_eq!(publish(&s, &token, &a).await.error().0, 100);

    let carousel = create(&s, &token, &parent).await.id();
    let reuse = create(&s, &token, &parent).await;
    assert_eq!(
        reuse.error().0,
        100,
        "items belong to one carousel: {}",
        reuse.raw
    );
    assert_eq!(
        status(&s, &token, &carousel).await.body["status"],
        "IN_PROGRESS"
    );
    s.threads().advance_clock(READY);
    let media = publish(&s, &token, &carousel).await.id();
    let posts = s.threads().posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].media_type, "CAROUSEL_ALBUM");
    assert_eq!(
        posts[0].media_urls,
        [
            "https://cdn.example.com/1.jpg",
            "https://cdn.example.com/2.mp4"
        ]
    );
    assert_eq!(posts[0].text.as_deref(), Some("Two"));
    let read = get(&s, &token, &media, &[("fields", "media_type,children{id}")]).await;
    assert_eq!(read.body["media_type"], "CAROUSEL_ALBUM");
    assert_eq!(
        read.body["children"]["data"].as_array().map(Vec::len),
        Some(2)
    );
    let limit = get(&s, &token, &format!("{USER}/threads_publishing_limit"), &[]).await;
    assert_eq!(
        limit.body["data"][0]["quota_usage"], 1,
        "a carousel counts once"
    );
}

#[tokio::test]
async fn a_medium_that_fails_processing_ends_in_error() {
    let mut config = ThreadsConfig::default();
    config.failing_media_urls = vec![("broken.mp4".into(), "FAILED_DOWNLOADING_VIDEO".into())];
    let (s, token) = sandbox_with(config).await;
    let video = [
        ("media_type", "VIDEO"),
        ("video_url", "https://cdn.example.com/broken.mp4"),
    ];
    let container = create(&s, &token, &video).await.id();
    assert_eq!(
        status(&s, &token, &container).await.body["status"],
        "IN_PROGRESS"
    );
    s.threads().advance_clock(READY);
    // Fixture `container_status_error.json`, with this container's id.
    let st = status(&s, &token, &container).await;
    assert_eq!(
        st.body,
        json!({"id": container, "status": "ERROR", "error_message": "FAILED_DOWNLOADING_VIDEO"})
    );
    let refused = publish(&s, &token, &container).await;
    assert_eq!(refused.error().0, 100, "{}", refused.raw);

    s.threads().fail_media_url("bad.jpg", "UNKNOWN");
    let image = [
        ("media_type", "IMAGE"),
        ("image_url", "https://cdn.example.com/bad.jpg"),
    ];
    let img = create(&s, &token, &image).await.id();
    let marked = [
        ("media_type", "IMAGE"),
        (
            "image_url",
            "https://cdn.example.com/x.jpg?cmis_sandbox_error=INVALID_ASPEC_RATIO",
        ),
    ];
    let mark = create(&s, &token, &marked).await.id();
    s.threads().advance_clock(READY);
    assert_eq!(
        status(&s, &token, &img).await.body["error_message"],
        "UNKNOWN"
    );
    assert_eq!(
        status(&s, &token, &mark).await.body["error_message"],
        "INVALID_ASPEC_RATIO"
    );
    assert!(s.threads().posts().is_empty());
}

#[tokio::test]
async fn containers_expire_after_24_hours_and_slow_processing_delays_them() {
    let (s, token) = sandbox().await;
    let container = create(&s, &token, &[("media_type", "TEXT"), ("text", "later")])
        .await
        .id();
    s.threads()
        .advance_clock(std::time::Duration::from_secs(24 * 3600));
    // Fixture `container_status_expired.json`.
    assert_eq!(
        status(&s, &token, &container).await.body,
        json!({"id": container, "status": "EXPIRED"})
    );
    assert_eq!(publish(&s, &token, &container).await.error().0, 100);

    s.threads().inject(
        ThreadsEndpoint::CreateContainer,
        Fault::SlowProcessing(std::time::Duration::from_secs(60)),
        1,
    );
    let slow = create(&s, &token, &[("media_type", "TEXT"), ("text", "slow")])
        .await
        .id();
    s.threads().advance_clock(READY);
    assert_eq!(
        status(&s, &token, &slow).await.body["status"],
        "IN_PROGRESS"
    );
    s.threads()
        .advance_clock(std::time::Duration::from_secs(60));
    assert_eq!(status(&s, &token, &slow).await.body["status"], "FINISHED");
}

#[tokio::test]
async fn json_bodies_and_query_parameters_are_accepted() {
    let (s, token) = sandbox().await;
    let a = answer(
        http()
            .post(api(&s, &format!("{USER}/threads")))
            .bearer_auth(&token)
            .json(&json!({"media_type": "TEXT", "text": "From JSON"})),
    )
    .await
    .id();
    // Meta's curl examples put everything in the query string, the token included.
    let b = answer(http().post(api(&s, &format!("{USER}/threads"))).query(&[
        ("media_type", "IMAGE"),
        ("image_url", "https://cdn.example.com/q.jpg"),
        ("is_carousel_item", "true"),
        ("access_token", token.as_str()),
    ]))
    .await
    .id();
    let c = create(
        &s,
        &token,
        &[
            ("media_type", "IMAGE"),
            ("image_url", "https://cdn.example.com/f.jpg"),
            ("is_carousel_item", "true"),
        ],
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    let carousel = answer(
        http()
            .post(api(&s, "me/threads"))
            .bearer_auth(&token)
            .json(&json!({"media_type": "CAROUSEL", "children": [b, c]})),
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    let published = answer(
        http()
            .post(api(&s, &format!("{USER}/threads_publish")))
            .bearer_auth(&token)
            .json(&json!({"creation_id": carousel})),
    )
    .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.raw);
    assert_eq!(publish(&s, &token, &a).await.status, StatusCode::OK);
    let texts: Vec<_> = s.threads().posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, [None, Some("From JSON".to_owned())]);

    // Postiz sends text containers as multipart forms (brief §6).
    let multipart = reqwest::multipart::Form::new()
        .text("media_type", "TEXT")
        .text("text", "From multipart");
    let m = answer(
        http()
            .post(api(&s, &format!("{USER}/threads")))
            .bearer_auth(&token)
            .multipart(multipart),
    )
    .await
    .id();
    s.threads().advance_clock(READY);
    assert_eq!(publish(&s, &token, &m).await.status, StatusCode::OK);
    let last = s.threads().posts().pop().unwrap();
    assert_eq!(last.text.as_deref(), Some("From multipart"));
}

#[tokio::test]
async fn an_injected_fault_fails_once_and_then_the_call_works() {
    let (s, token) = sandbox().await;
    s.threads()
        .inject(ThreadsEndpoint::CreateContainer, Fault::ServerError, 1);
    let failed = create(&s, &token, &[("media_type", "TEXT"), ("text", "retry me")]).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.error().0, 2);
    assert_eq!(failed.body["error"]["is_transient"], true);
    assert!(s.threads().containers().is_empty(), "nothing was created");
    let container = create(&s, &token, &[("media_type", "TEXT"), ("text", "retry me")])
        .await
        .id();
    s.threads().advance_clock(READY);

    // The publish goes through but is answered with a 500: the container tells the truth.
    s.threads()
        .inject(ThreadsEndpoint::Publish, Fault::ServerErrorAfterAccept, 1);
    let lost = publish(&s, &token, &container).await;
    assert_eq!(lost.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(s.threads().posts().len(), 1);
    assert_eq!(
        status(&s, &token, &container).await.body["status"],
        "PUBLISHED"
    );

    s.threads()
        .inject(ThreadsEndpoint::ContainerStatus, Fault::RateLimited, 1);
    let throttled = status(&s, &token, &container).await;
    assert_eq!(
        (throttled.status, throttled.error().0),
        (StatusCode::FORBIDDEN, 4)
    );
    s.threads().set_fault_rate(
        1.0,
        7,
        vec![Fault::ServerError],
        vec![ThreadsEndpoint::GetMedia],
    );
    assert_eq!(
        get(&s, &token, "me", &[]).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    s.threads().clear_faults();
    assert_eq!(get(&s, &token, "me", &[]).await.body, json!({"id": USER}));
}
