//! `MediaFetcher` and `UrlPolicy` against local servers: every refused address class fails
//! before a connection, an explicitly allowed loopback server is fetched, names are checked
//! address by address, redirects are re-checked hop by hop, and the size cap holds while
//! streaming. Nothing leaves 127.0.0.1.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use cmis_core::ErrorKind;
use cmis_core::url::Url;
use cmis_http::reqwest::dns::{Addrs, Name, Resolve, Resolving};
use cmis_http::{AddressClass, MediaFetcher, RefusedAddress, UrlPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fixed name table standing in for DNS.
#[derive(Debug, Clone, Default)]
struct Table(HashMap<&'static str, Vec<SocketAddr>>);

impl Resolve for Table {
    fn resolve(&self, name: Name) -> Resolving {
        let addrs = self.0.get(name.as_str()).cloned().unwrap_or_default();
        Box::pin(async move {
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

fn url(s: &str) -> Url {
    s.parse().unwrap()
}

/// A server that fails the test if anything reaches it.
async fn untouchable() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"leaked".to_vec()))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// The guard's refusal carried by `err`.
fn refusal(err: &cmis_core::Error) -> &RefusedAddress {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<RefusedAddress>())
        .unwrap_or_else(|| panic!("no RefusedAddress behind {err:?}"))
}

fn local_policy() -> UrlPolicy {
    UrlPolicy::default()
        .allow_http(true)
        .allow(AddressClass::Loopback)
}

#[tokio::test]
async fn every_refused_class_fails_before_any_connection() {
    let server = untouchable().await;
    let port = server.address().port();
    let fetcher = MediaFetcher::builder()
        .policy(UrlPolicy::default().allow_http(true))
        .build()
        .unwrap();
    let cases = [
        (
            format!("http://127.0.0.1:{port}/a.jpg"),
            AddressClass::Loopback,
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/a.jpg"),
            AddressClass::Loopback,
        ),
        (
            format!("http://0.0.0.0:{port}/a.jpg"),
            AddressClass::Unspecified,
        ),
        ("http://10.0.0.1/a.jpg".into(), AddressClass::Private),
        ("http://172.16.5.4/a.jpg".into(), AddressClass::Private),
        ("http://192.168.1.1/a.jpg".into(), AddressClass::Private),
        ("http://[fd12::1]/a.jpg".into(), AddressClass::Private),
        ("http://169.254.10.10/a.jpg".into(), AddressClass::LinkLocal),
        ("http://[fe80::1]/a.jpg".into(), AddressClass::LinkLocal),
        (
            "http://100.64.0.1/a.jpg".into(),
            AddressClass::SharedAddressSpace,
        ),
        ("http://224.0.0.251/a.jpg".into(), AddressClass::Multicast),
        (
            "http://255.255.255.255/a.jpg".into(),
            AddressClass::Broadcast,
        ),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            AddressClass::CloudMetadata,
        ),
        (
            "http://[fd00:ec2::254]/latest/".into(),
            AddressClass::CloudMetadata,
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1/".into(),
            AddressClass::CloudMetadata,
        ),
    ];
    for (u, class) in cases {
        let err = fetcher.open(&url(&u)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{u}: {err}");
        assert_eq!(refusal(&err).class(), class, "{u}");
        assert!(err.message().contains(class.as_str()), "{u}: {err}");
    }
    // Dropping the server checks that it saw no request.
}

#[tokio::test]
async fn an_explicitly_allowed_loopback_server_is_fetched_without_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/media/a.jpg"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/jpeg")
                .set_body_bytes(b"\xff\xd8\xff\xe0 jpeg bytes".to_vec()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let fetcher = MediaFetcher::builder()
        .policy(local_policy())
        .build()
        .unwrap();
    let mut download = fetcher
        .open(&url(&format!("{}/media/a.jpg", server.uri())))
        .await
        .unwrap();
    assert_eq!(download.content_type(), Some("image/jpeg"));
    assert_eq!(download.content_length(), Some(15));
    let mut body = Vec::new();
    while let Some(chunk) = download.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, b"\xff\xd8\xff\xe0 jpeg bytes");
    let requests = server.received_requests().await.unwrap();
    assert!(!requests[0].headers.contains_key("authorization"));
    assert!(!requests[0].headers.contains_key("cookie"));
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed_even_over_plain_http() {
    let server = untouchable().await;
    let fetcher = MediaFetcher::builder()
        .policy(
            UrlPolicy::default()
                .allow_http(true)
                .allow(AddressClass::Private),
        )
        .build()
        .unwrap();
    let err = fetcher
        .bytes(&url(&format!("{}/a.jpg?sig=SECRET", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!format!("{err} {err:?}").contains("SECRET"));
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_refused() {
    let mut table = Table::default();
    table
        .0
        .insert("media.example.test", vec!["10.0.0.7:443".parse().unwrap()]);
    let fetcher = MediaFetcher::builder()
        .resolver(Arc::new(table))
        .build()
        .unwrap();
    let err = fetcher
        .open(&url("https://media.example.test/a.jpg?sig=SECRET"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    let refused = refusal(&err);
    assert_eq!(refused.class(), AddressClass::Private);
    assert_eq!(refused.ip(), Some("10.0.0.7".parse().unwrap()));
    assert!(
        err.message()
            .contains("media.example.test resolves to 10.0.0.7"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("SECRET"));
}

#[tokio::test]
async fn every_resolved_address_is_checked_not_just_the_first() {
    let server = untouchable().await;
    let mut table = Table::default();
    // A public address first, the local server second: a client falling back to the second
    // would reach it.
    table.0.insert(
        "mixed.example.test",
        vec!["8.8.8.8:80".parse().unwrap(), *server.address()],
    );
    let fetcher = MediaFetcher::builder()
        .policy(UrlPolicy::default().allow_http(true))
        .resolver(Arc::new(table))
        .build()
        .unwrap();
    let err = fetcher
        .open(&url("http://mixed.example.test/a.jpg"))
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).class(), AddressClass::Loopback, "{err:?}");
}

#[tokio::test]
async fn the_system_resolver_is_guarded_too() {
    let server = untouchable().await;
    let fetcher = MediaFetcher::builder()
        .policy(UrlPolicy::default().allow_http(true))
        .build()
        .unwrap();
    let u = url(&format!(
        "http://localhost:{}/a.jpg",
        server.address().port()
    ));
    let err = fetcher.open(&u).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert_eq!(refusal(&err).class(), AddressClass::Loopback);
}

#[tokio::test]
async fn a_checked_name_connects_to_the_address_that_was_checked() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/a.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"ok".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    let mut table = Table::default();
    table.0.insert("cdn.example.test", vec![*server.address()]);
    let fetcher = MediaFetcher::builder()
        .policy(local_policy())
        .resolver(Arc::new(table))
        .build()
        .unwrap();
    let u = url(&format!(
        "http://cdn.example.test:{}/a.jpg",
        server.address().port()
    ));
    assert_eq!(fetcher.bytes(&u).await.unwrap(), b"ok");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[0].headers.get("host").unwrap(),
        &format!("cdn.example.test:{}", server.address().port())
    );
}

#[tokio::test]
async fn every_redirect_hop_is_checked_against_the_policy() {
    let server = MockServer::start().await;
    for (from, to) in [
        (
            "/to-metadata",
            "http://169.254.169.254/latest/meta-data/iam",
        ),
        ("/to-private", "http://10.1.2.3/a.jpg"),
        ("/to-ftp", "ftp://cdn.example.com/a.jpg"),
    ] {
        Mock::given(method("GET"))
            .and(path(from))
            .respond_with(ResponseTemplate::new(302).insert_header("location", to))
            .expect(1)
            .mount(&server)
            .await;
    }
    let fetcher = MediaFetcher::builder()
        .policy(local_policy())
        .build()
        .unwrap();
    let err = fetcher
        .open(&url(&format!("{}/to-metadata", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).class(), AddressClass::CloudMetadata);
    let err = fetcher
        .open(&url(&format!("{}/to-private", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).class(), AddressClass::Private);
    let err = fetcher
        .open(&url(&format!("{}/to-ftp", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("https"), "{err}");
}

#[tokio::test]
async fn an_allowed_redirect_is_followed_and_bounded() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/a.jpg"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/cdn/a.jpg", second.uri())),
        )
        .expect(1)
        .mount(&first)
        .await;
    Mock::given(method("GET"))
        .and(path("/cdn/a.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"moved".to_vec()))
        .expect(1)
        .mount(&second)
        .await;
    Mock::given(method("GET"))
        .and(path("/loop"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/loop"))
        .expect(3)
        .mount(&second)
        .await;
    let fetcher = MediaFetcher::builder()
        .policy(local_policy())
        .max_redirects(2)
        .build()
        .unwrap();
    let download = fetcher
        .open(&url(&format!("{}/a.jpg", first.uri())))
        .await
        .unwrap();
    assert_eq!(download.url().path(), "/cdn/a.jpg");
    drop(download);
    let requests = second.received_requests().await.unwrap();
    assert!(!requests[0].headers.contains_key("authorization"));
    assert!(!requests[0].headers.contains_key("referer"));
    let err = fetcher
        .open(&url(&format!("{}/loop", second.uri())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("redirected more than 2 times"),
        "{err}"
    );
}

#[tokio::test]
async fn the_size_cap_holds_with_and_without_content_length() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![7u8; 4096]))
        .expect(1)
        .mount(&server)
        .await;
    let fetcher = MediaFetcher::builder()
        .policy(local_policy())
        .max_bytes(1000)
        .build()
        .unwrap();
    let err = fetcher
        .open(&url(&format!("{}/big.mp4", server.uri())))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("1000-byte limit"), "{err}");

    // A chunked body announces no length: the cap is enforced while streaming.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 2048];
        let _ = socket.read(&mut buf).await.unwrap();
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        for _ in 0..8 {
            let chunk = [9u8; 600];
            if socket.write_all(b"258\r\n").await.is_err()
                || socket.write_all(&chunk).await.is_err()
                || socket.write_all(b"\r\n").await.is_err()
            {
                return;
            }
            let _ = socket.flush().await;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    });
    let mut download = fetcher
        .open(&url(&format!("http://{addr}/stream.mp4")))
        .await
        .unwrap();
    assert_eq!(download.content_length(), None);
    let err = loop {
        match download.chunk().await {
            Ok(Some(_)) => assert!(download.received() <= 1000),
            Ok(None) => panic!("the whole body was accepted"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(download.received() > 1000 && download.received() <= 1000 + 4800);
    drop(download);
    server_task.await.unwrap();
}

#[tokio::test]
async fn answers_are_classified_without_the_path_or_query() {
    let server = MockServer::start().await;
    for (p, status) in [("/gone", 404), ("/down", 503), ("/slow", 429)] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "30"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let fetcher = MediaFetcher::builder()
        .policy(local_policy())
        .build()
        .unwrap();
    let get = |p: &str| url(&format!("{}{p}?sig=SECRET", server.uri()));
    let err = fetcher.open(&get("/gone")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("HTTP 404"), "{err}");
    assert!(!format!("{err} {err:?}").contains("SECRET"));
    assert!(!err.message().contains("/gone"));
    let err = fetcher.open(&get("/down")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    let err = fetcher.open(&get("/slow")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(30)));
}
