//! Media by URL: downloaded through the URL policy to a temporary file and probed. Only
//! 127.0.0.1 is reached, and only where a test allows loopback explicitly.

use std::time::Duration;

use cmis_core::url::Url;
use cmis_core::{ErrorKind, Media};
use cmis_media::{AddressClass, Format, MediaFetcher, UrlPolicy, fetch_to_file, probe, probe_url};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn url(s: &str) -> Url {
    s.parse().unwrap()
}

fn local() -> MediaFetcher {
    MediaFetcher::builder()
        .policy(
            UrlPolicy::default()
                .allow_http(true)
                .allow(AddressClass::Loopback),
        )
        .build()
        .unwrap()
}

async fn serving(p: &str, body: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "video/mp4")
                .set_body_bytes(body),
        )
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn an_allowed_url_is_downloaded_and_probed() {
    let server = serving(
        "/media/clip.mp4",
        cmis_media::sample::mp4(1080, 1920, 5, 30),
    )
    .await;
    let info = probe_url(
        &local(),
        &url(&format!("{}/media/clip.mp4?sig=abc", server.uri())),
    )
    .await
    .unwrap();
    assert_eq!(info.format, Format::Mp4);
    assert_eq!(info.name, "clip.mp4");
    assert_eq!(info.duration, Some(Duration::from_secs(5)));
    assert_eq!((info.width, info.height), (Some(1080), Some(1920)));
}

#[tokio::test]
async fn the_temporary_file_holds_the_bytes_and_goes_away() {
    let jpeg = cmis_media::sample::jpeg(64, 48);
    let server = serving("/a.jpg", jpeg.clone()).await;
    let fetched = fetch_to_file(&local(), &url(&format!("{}/a.jpg", server.uri())))
        .await
        .unwrap();
    assert_eq!(std::fs::read(fetched.path()).unwrap(), jpeg);
    assert_eq!(fetched.size(), jpeg.len() as u64);
    assert_eq!(fetched.content_type(), Some("video/mp4"));
    let (file, dir) = (
        fetched.path().to_owned(),
        fetched.path().parent().unwrap().to_owned(),
    );
    drop(fetched);
    assert!(!file.exists() && !dir.exists());
}

#[tokio::test]
async fn loopback_is_refused_without_the_opt_in_and_nothing_is_requested() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let fetcher = MediaFetcher::builder()
        .policy(UrlPolicy::default().allow_http(true))
        .build()
        .unwrap();
    let err = probe_url(&fetcher, &url(&format!("{}/clip.mp4", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("loopback"), "{err}");

    // The default policy refuses plain http and metadata addresses too.
    let strict = MediaFetcher::builder().build().unwrap();
    let err = probe_url(&strict, &url(&format!("{}/clip.mp4", server.uri())))
        .await
        .unwrap_err();
    assert!(err.message().contains("https"), "{err}");
    let err = probe_url(&strict, &url("https://169.254.169.254/latest/meta-data/"))
        .await
        .unwrap_err();
    assert!(err.message().contains("cloud metadata"), "{err}");
}

#[tokio::test]
async fn the_size_cap_stops_the_download() {
    let server = serving("/big.mp4", vec![0u8; 10_000]).await;
    let fetcher = MediaFetcher::builder()
        .policy(
            UrlPolicy::default()
                .allow_http(true)
                .allow(AddressClass::Loopback),
        )
        .max_bytes(4_096)
        .build()
        .unwrap();
    let err = fetch_to_file(&fetcher, &url(&format!("{}/big.mp4", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("4096-byte limit"), "{err}");
}

#[tokio::test]
async fn probe_still_never_downloads_and_hides_the_query() {
    let err = probe(&Media::url(url(
        "https://cdn.example.com/a.jpg?X-Amz-Signature=SECRET",
    )))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.message().contains("probe_url"), "{err}");
    assert!(!err.message().contains("SECRET"), "{err}");
}
