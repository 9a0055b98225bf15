//! Every kind of post, request by request, against the documented samples: text (member and
//! page), one image, several images, a video in parts, a document, an article.

mod common;

use cmis_core::{LinkedInOptions, Media, Post, Publisher};
use cmis_media::sample;
use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The headers every `/rest/` call carries.
fn rest(verb: &str, p: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb))
        .and(path(p))
        .and(header("linkedin-version", "202604"))
        .and(header("x-restli-protocol-version", "2.0.0"))
        .and(header("authorization", "Bearer access-old"))
}

async fn expect_create(server: &MockServer, body: Value) {
    rest("POST", "/rest/posts")
        .and(header("content-type", "application/json"))
        .and(body_json(body))
        .respond_with(created(POST_URN))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_member_text_post_is_the_documented_request_and_reports_the_restli_id() {
    let server = server().await;
    expect_create(&server, fixture("post_text_member_request.json")).await;
    let env = env(&server, MEMBER).await;
    let post = Post::new().with_text("Escaped little text (see §3)");
    let outcome = publisher(&server)
        .publish(&target(MEMBER), &post, &env.ctx)
        .await
        .unwrap();
    let receipt = outcome.receipt().unwrap();
    assert_eq!(receipt.post_id.as_str(), POST_URN);
    assert_eq!(
        receipt.permalink.as_ref().unwrap().as_str(),
        "https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080"
    );
    let cp = env.checkpoints.latest().unwrap();
    assert_eq!(
        cp.stage, "post_ready",
        "the post is checkpointed before it is sent"
    );
}

#[tokio::test]
async fn a_text_with_each_reserved_character_arrives_escaped() {
    let server = server().await;
    let case = fixture("little_text_cases.json")
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "every_reserved_in_words")
        .unwrap()
        .clone();
    let mut body = fixture("post_text_organization_request.json");
    body["commentary"] = case["escaped"].clone();
    expect_create(&server, body).await;
    let env = env(&server, ORG).await;
    let post = Post::new().with_text(case["input"].as_str().unwrap());
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
    let sent = bodies(&server, "POST", "/rest/posts").await;
    let commentary = sent[0]["commentary"].as_str().unwrap();
    for c in cmis_linkedin::little_text::RESERVED {
        assert!(
            commentary.contains(&format!("\\{c}")),
            "{c} is not escaped in {commentary}"
        );
    }
}

#[tokio::test]
async fn an_organization_text_post_is_the_documented_sample() {
    let server = server().await;
    expect_create(&server, fixture("post_text_organization_request.json")).await;
    let env = env(&server, ORG).await;
    let post = Post::new().with_text("Sample text Post");
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
}

/// Mocks an image upload: initialize (for `owner`), one `PUT`, a status read.
async fn expect_image(server: &MockServer, owner: &str, urn: &str, times: u64) {
    let mut init = fixture_at("image_initialize_response.json", server);
    init["value"]["image"] = json!(urn);
    // Each image has its own upload URL.
    let id = urn.rsplit(':').next().unwrap();
    let upload = init["value"]["uploadUrl"]
        .as_str()
        .unwrap()
        .replace("C4E10AQFoyyAjHPMQuQ", id);
    init["value"]["uploadUrl"] = json!(upload);
    let upload_path = url::Url::parse(&upload).unwrap().path().to_owned();
    rest("POST", "/rest/images")
        .and(query_param("action", "initializeUpload"))
        .and(body_json(
            json!({"initializeUploadRequest": {"owner": owner}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(init))
        .up_to_n_times(times)
        .expect(times)
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path(upload_path))
        .and(header("authorization", "Bearer access-old"))
        .respond_with(ResponseTemplate::new(201))
        .expect(times)
        .mount(server)
        .await;
    let mut status = fixture("image_status_available.json");
    status["id"] = json!(urn);
    rest("GET", &format!("/rest/images/{}", urn.replace(':', "%3A")))
        .respond_with(ResponseTemplate::new(200).set_body_json(status))
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_image_post_uploads_the_image_then_posts_its_urn_with_the_alt_text() {
    let server = server().await;
    expect_image(&server, ORG, "urn:li:image:C4E10AQFoyyAjHPMQuQ", 1).await;
    expect_create(&server, fixture("post_image_request.json")).await;
    let env = env(&server, ORG).await;
    let post = Post::new().with_text("Sample image Post").with_media(
        Media::bytes(Some("a.jpg".into()), sample::jpeg(1200, 627))
            .with_alt_text("testing for alt tags"),
    );
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
    // The image went up in one PUT of the whole file.
    let puts: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "PUT")
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].body, sample::jpeg(1200, 627));
}

#[tokio::test]
async fn two_images_make_a_multi_image_post_in_order() {
    let server = server().await;
    let want = fixture("post_multiimage_request.json");
    let urns: Vec<String> = want["content"]["multiImage"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    // The first initialize answers the first URN, the second the second.
    expect_image(&server, ORG, &urns[0], 1).await;
    expect_image(&server, ORG, &urns[1], 1).await;
    expect_create(&server, want).await;
    let env = env(&server, ORG).await;
    let post = Post::new()
        .with_text("test multiimage post")
        .with_media(
            Media::bytes(Some("1.jpg".into()), sample::jpeg(64, 64))
                .with_alt_text("testing for alt tags1"),
        )
        .with_media(
            Media::bytes(Some("2.jpg".into()), sample::jpeg(64, 64))
                .with_alt_text("testing for alt tags2"),
        );
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
}

/// A playable-enough MP4 of exactly `size` bytes (a `free` box pads it).
fn video_of(size: usize) -> Vec<u8> {
    let mut v = sample::mp4(1280, 720, 5, 30);
    let pad = size - v.len();
    v.extend(u32::try_from(pad).unwrap().to_be_bytes());
    v.extend(b"free");
    v.resize(size, 0);
    v
}

#[tokio::test]
async fn a_video_goes_up_in_the_instructed_parts_and_is_finalized_with_their_etags() {
    let server = server().await;
    let video = video_of(10_485_760);
    rest("POST", "/rest/videos")
        .and(query_param("action", "initializeUpload"))
        .and(body_json(fixture("video_initialize_request.json")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture_at("video_initialize_response.json", &server)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let init = fixture_at("video_initialize_response.json", &server);
    let parts = fixture("video_part_upload_responses.json");
    for (i, instruction) in init["value"]["uploadInstructions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let url = url::Url::parse(instruction["uploadUrl"].as_str().unwrap()).unwrap();
        let sau = url
            .query_pairs()
            .find(|(k, _)| k == "sau")
            .unwrap()
            .1
            .into_owned();
        let first = usize::try_from(instruction["firstByte"].as_u64().unwrap()).unwrap();
        let last = usize::try_from(instruction["lastByte"].as_u64().unwrap()).unwrap();
        Mock::given(method("PUT"))
            .and(path(url.path()))
            .and(query_param("sau", sau.as_str()))
            .and(header("content-type", "application/octet-stream"))
            .and(wiremock::matchers::body_bytes(video[first..=last].to_vec()))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", parts[i]["headers"]["etag"].as_str().unwrap()),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    rest("POST", "/rest/videos")
        .and(query_param("action", "finalizeUpload"))
        .and(body_json(fixture("video_finalize_request.json")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let status_path = "/rest/videos/urn%3Ali%3Avideo%3AC5505AQH-oV1qvnFtKA";
    rest("GET", status_path)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("video_status_processing.json")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    rest("GET", status_path)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("video_status_available.json")),
        )
        .mount(&server)
        .await;
    expect_create(&server, fixture("post_video_request.json")).await;
    let env = env(&server, ORG).await;
    let post = Post::new()
        .with_text("Sample video Post")
        .with_media(Media::bytes(Some("v.mp4".into()), video))
        .with_linkedin(LinkedInOptions::new().with_media_title("title of the video"));
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
    // Parts are authorised by their URL: no bearer token goes to the upload edge.
    for r in server.received_requests().await.unwrap() {
        if r.method.as_str() == "PUT" {
            assert!(!r.headers.contains_key("authorization"));
        }
    }
    let stages: Vec<String> = env
        .checkpoints
        .checkpoints()
        .into_iter()
        .map(|c| c.stage)
        .collect();
    assert_eq!(stages, ["video_processing", "post_ready"]);
}

#[tokio::test]
async fn a_video_still_processing_leaves_the_post_pending_then_resumes_from_the_video() {
    let server = server().await;
    let status_path = "/rest/videos/urn%3Ali%3Avideo%3AC5505AQH-oV1qvnFtKA";
    rest("GET", status_path)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("video_status_processing.json")),
        )
        .mount(&server)
        .await;
    let env = env(&server, ORG).await;
    let cp = cmis_core::Checkpoint::new(
        cmis_core::Platform::LinkedIn,
        cmis_linkedin::VIDEO_PROCESSING,
        &json!({"author": ORG, "body": fixture("post_video_request.json"),
                "video": "urn:li:video:C5505AQH-oV1qvnFtKA"}),
    )
    .unwrap();
    let outcome = publisher(&server)
        .resume(&target(ORG), &cp, &env.ctx)
        .await
        .unwrap();
    assert!(matches!(outcome, cmis_core::Outcome::Pending(ref c) if c.stage == "video_processing"));
    server.reset().await;
    rest("GET", status_path)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("video_status_available.json")),
        )
        .mount(&server)
        .await;
    expect_create(&server, fixture("post_video_request.json")).await;
    let outcome = publisher(&server)
        .resume(&target(ORG), &cp, &env.ctx)
        .await
        .unwrap();
    assert_eq!(outcome.receipt().unwrap().post_id.as_str(), POST_URN);
}

#[tokio::test]
async fn a_failed_video_is_rejected_and_never_posted() {
    let server = server().await;
    rest("GET", "/rest/videos/urn%3Ali%3Avideo%3AC5505AQH-oV1qvnFtKA")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("video_status_processing_failed.json")),
        )
        .mount(&server)
        .await;
    let env = env(&server, ORG).await;
    let cp = cmis_core::Checkpoint::new(
        cmis_core::Platform::LinkedIn,
        cmis_linkedin::VIDEO_PROCESSING,
        &json!({"author": ORG, "body": fixture("post_video_request.json"),
                "video": "urn:li:video:C5505AQH-oV1qvnFtKA"}),
    )
    .unwrap();
    let err = publisher(&server)
        .resume(&target(ORG), &cp, &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), cmis_core::ErrorKind::Rejected);
    assert!(err.message().contains("Unable to process"), "{err}");
}

#[tokio::test]
async fn a_document_post_uploads_the_pdf_and_titles_it_with_its_file_name() {
    let server = server().await;
    let init = fixture_at("document_initialize_response.json", &server);
    let upload_path = url::Url::parse(init["value"]["uploadUrl"].as_str().unwrap())
        .unwrap()
        .path()
        .to_owned();
    rest("POST", "/rest/documents")
        .and(query_param("action", "initializeUpload"))
        .and(body_json(
            json!({"initializeUploadRequest": {"owner": ORG}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(init))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(upload_path))
        .and(header("content-type", "application/pdf"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    // A token that may not read documents: the post goes ahead.
    rest(
        "GET",
        "/rest/documents/urn%3Ali%3Adocument%3AC5F10AQGKQg_6y2a4sQ",
    )
    .respond_with(error_case("image_read_forbidden_member"))
    .mount(&server)
    .await;
    expect_create(&server, fixture("post_document_request.json")).await;
    let env = env(&server, ORG).await;
    let post = Post::new()
        .with_text("test strings!")
        .with_media(Media::bytes(
            Some("Example.pdf".into()),
            b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec(),
        ));
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_link_becomes_an_article_with_the_image_as_its_thumbnail() {
    let server = server().await;
    expect_image(&server, ORG, "urn:li:image:C49klciosC89", 1).await;
    expect_create(&server, fixture("post_article_request.json")).await;
    let env = env(&server, ORG).await;
    let post = Post::new()
        .with_text("test article post")
        .with_link(url::Url::parse("https://lnkd.in/eabXpqi").unwrap())
        .with_media(Media::bytes(Some("t.jpg".into()), sample::jpeg(64, 64)))
        .with_linkedin(
            LinkedInOptions::new().with_article("prod test title two", "test description"),
        );
    publisher(&server)
        .publish(&target(ORG), &post, &env.ctx)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_comment_is_plain_text_never_escaped() {
    let server = server().await;
    rest(
        "POST",
        "/rest/socialActions/urn%3Ali%3Ashare%3A6844785523593134080/comments",
    )
    .and(body_json(json!({
        "actor": ORG,
        "object": POST_URN,
        "message": {"text": "Thanks (really) #team @everyone"},
    })))
    .respond_with(created("urn:li:comment:(urn:li:activity:1,2)"))
    .expect(1)
    .mount(&server)
    .await;
    let env = env(&server, ORG).await;
    let id = publisher(&server)
        .comment(
            &account(ORG),
            POST_URN,
            ORG,
            "Thanks (really) #team @everyone",
            &env.ctx,
        )
        .await
        .unwrap();
    assert_eq!(id, "urn:li:comment:(urn:li:activity:1,2)");
    let err = publisher(&server)
        .comment(&account(ORG), "urn:li:image:1", ORG, "x", &env.ctx)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput);
}
