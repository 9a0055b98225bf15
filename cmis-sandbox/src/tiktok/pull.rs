//! `PULL_FROM_URL` downloads, when
//! [`TikTokConfig::fetch_pulled_media`](super::TikTokConfig::fetch_pulled_media) is on: after init has answered, the fake TikTok GETs the media itself, as TikTok does, and the
//! publish fails with `video_pull_failed` or `photo_pull_failed` when a download fails.
//!
//! Only loopback hosts are ever contacted: a URL on any other host fails without a connection,
//! and the client follows no redirect, uses no proxy and resolves `localhost` without DNS.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cmis_core::url::{Host, Url};
use reqwest::redirect::Policy;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::sync::oneshot;

use super::state::TikTokState;

/// How long one URL's download may take, connection and body included.
const PULL_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes one URL may answer; a longer body fails the download.
const MAX_PULL_BYTES: u64 = 256 * 1024 * 1024;

/// A download to make for a publish created by a `PULL_FROM_URL` init.
#[derive(Debug)]
pub(crate) struct Pull {
    pub(crate) publish_id: String,
    pub(crate) urls: Vec<String>,
}

/// How a publish's download ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PullOutcome {
    /// Every URL answered 2xx with its whole body.
    Complete,
    /// A URL could not be downloaded.
    Failed,
    /// The publish was cancelled (or is unknown) while downloading: nothing more to record.
    Abandoned,
}

/// Whether `url` is on a loopback host: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Starts `pull` for `state` in a task of its own. The task waits until `answered` resolves
/// (nothing is sent on it: its sender is dropped once init's handler has answered, or with the
/// handler when its connection was lost), then [`pull_delay`](super::TikTokConfig::pull_delay), then downloads each URL in
/// order and records the outcome.
pub(crate) fn spawn(state: Arc<TikTokState>, pull: Pull, answered: oneshot::Receiver<()>) {
    tokio::spawn(async move {
        let _ = answered.await;
        tokio::time::sleep(state.config().pull_delay).await;
        let outcome = download_all(&state, &pull).await;
        state.finish_pull(&pull.publish_id, outcome);
    });
}

async fn download_all(state: &TikTokState, pull: &Pull) -> PullOutcome {
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("sandbox cannot build its download client: {e}");
            return PullOutcome::Failed;
        }
    };
    for url in &pull.urls {
        // Cancelled before this URL (or during the delay): fetch nothing more.
        if !state.pull_progress(&pull.publish_id, 0) {
            return PullOutcome::Abandoned;
        }
        let progress = |bytes: u64| state.pull_progress(&pull.publish_id, bytes);
        match tokio::time::timeout(PULL_TIMEOUT, download(&client, url, progress)).await {
            Ok(Ok(())) => {}
            Ok(Err(Stop::Abandoned)) => return PullOutcome::Abandoned,
            Ok(Err(Stop::Failed(reason))) => {
                tracing::debug!(publish_id = %pull.publish_id, %url, "pull failed: {reason}");
                return PullOutcome::Failed;
            }
            Err(_) => {
                tracing::debug!(publish_id = %pull.publish_id, %url, "pull timed out");
                return PullOutcome::Failed;
            }
        }
    }
    PullOutcome::Complete
}

/// Why one URL's download stopped early.
enum Stop {
    Failed(String),
    Abandoned,
}

/// GETs `url` and reads its body, discarding it; `progress` gets each chunk's length and says
/// whether to go on.
async fn download(
    client: &reqwest::Client,
    url: &str,
    mut progress: impl FnMut(u64) -> bool,
) -> Result<(), Stop> {
    let url = Url::parse(url).map_err(|e| Stop::Failed(format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || !is_loopback(&url) {
        return Err(Stop::Failed(
            "not an http(s) URL on a loopback host".to_owned(),
        ));
    }
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| Stop::Failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(Stop::Failed(format!("answered {}", response.status())));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_PULL_BYTES)
    {
        return Err(Stop::Failed("body over the size cap".to_owned()));
    }
    let mut total = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Stop::Failed(e.without_url().to_string()))?
    {
        let len = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        total = total.saturating_add(len);
        if total > MAX_PULL_BYTES {
            return Err(Stop::Failed("body over the size cap".to_owned()));
        }
        if !progress(len) {
            return Err(Stop::Abandoned);
        }
    }
    Ok(())
}

/// The download client.
fn client() -> Result<reqwest::Client, String> {
    client_builder()?.build().map_err(|e| e.to_string())
}

/// ring's crypto provider, which rustls 0.23.48 deprecated for lacking post-quantum key
/// exchange: cmis keeps ring knowingly (see ARCHITECTURE.md), and a sandbox that downloads from
/// 127.0.0.1 has nothing to protect from a future quantum computer.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The download client's settings: no redirects (TikTok counts a 3xx as a failed pull), no
/// proxy, `localhost` pinned to the loopback addresses, and TLS that accepts any certificate.
fn client_builder() -> Result<reqwest::ClientBuilder, String> {
    let provider = Arc::new(ring_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(Policy::none())
        .no_proxy()
        .resolve_to_addrs(
            "localhost",
            &[
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
            ],
        ))
}

/// Accepts any server certificate. Only loopback hosts are ever contacted, and a local media
/// server has no certificate a public root vouches for; signatures are still checked, so the
/// handshake itself stays sound.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use reqwest::dns::{Name, Resolve, Resolving};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn loopback(url: &str) -> bool {
        is_loopback(&Url::parse(url).unwrap())
    }

    #[test]
    fn only_loopback_hosts_count_as_loopback() {
        assert!(loopback("http://127.0.0.1:8080/v.mp4"));
        assert!(loopback("http://[::1]:8080/v.mp4"));
        assert!(loopback("https://localhost/v.mp4"));
        assert!(loopback("https://LOCALHOST:1/v.mp4"));
        assert!(!loopback("https://cdn.example.com/v.mp4"));
        assert!(!loopback("https://localhost.example.com/v.mp4"));
        assert!(!loopback("http://10.0.0.1/v.mp4"));
        assert!(!loopback("http://[::ffff:127.0.0.1]/v.mp4"));
        assert!(!loopback("http://0.0.0.0/v.mp4"));
    }

    /// A resolver that counts its calls and resolves nothing.
    #[derive(Debug, Default)]
    struct NoDns(AtomicUsize);

    impl Resolve for NoDns {
        fn resolve(&self, _name: Name) -> Resolving {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Err("no DNS in this test".into()) })
        }
    }

    /// Serves one raw HTTP answer on 127.0.0.1; returns the port.
    async fn serve_once(answer: &'static str) -> u16 {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await.unwrap();
            stream.write_all(answer.as_bytes()).await.unwrap();
        });
        port
    }

    #[tokio::test]
    async fn downloads_touch_no_resolver_and_no_other_host() {
        let dns = Arc::new(NoDns::default());
        let client = client_builder()
            .unwrap()
            .dns_resolver(dns.clone())
            .build()
            .unwrap();
        let mut bytes = 0;
        let mut count = |n| {
            bytes += n;
            true
        };
        // A named host other than localhost is refused before any lookup or connection.
        let r = download(&client, "https://cdn.example.com/x.mp4", &mut count).await;
        assert!(matches!(r, Err(Stop::Failed(_))));
        let r = download(&client, "http://localhost.example.com/x.mp4", &mut count).await;
        assert!(matches!(r, Err(Stop::Failed(_))));
        assert_eq!(dns.0.load(Ordering::SeqCst), 0);
        // `localhost` is pinned to the loopback addresses, without the resolver.
        let port =
            serve_once("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello")
                .await;
        let r = download(
            &client,
            &format!("http://localhost:{port}/x.mp4"),
            &mut count,
        )
        .await;
        assert!(r.is_ok());
        assert_eq!(bytes, 5);
        assert_eq!(dns.0.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn redirects_and_errors_fail_the_download() {
        let client = client().unwrap();
        let port = serve_once(
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
        let r = download(&client, &format!("http://127.0.0.1:{port}/x.mp4"), |_| true).await;
        assert!(matches!(r, Err(Stop::Failed(_))));
        let port =
            serve_once("HTTP/1.1 410 Gone\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
        let r = download(&client, &format!("http://127.0.0.1:{port}/x.mp4"), |_| true).await;
        assert!(matches!(r, Err(Stop::Failed(_))));
        let port = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-length: 999999999999\r\nconnection: close\r\n\r\n",
        )
        .await;
        let r = download(&client, &format!("http://127.0.0.1:{port}/x.mp4"), |_| true).await;
        assert!(matches!(r, Err(Stop::Failed(_))));
    }

    /// A throwaway self-signed certificate for `localhost` (P-256) and its key, made for this
    /// test only; nothing trusts them.
    const TEST_CERT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBlDCCATugAwIBAgIUEWWRxtxaF844iJrIUUoNKybuA14wCgYIKoZIzj0EAwIw\n\
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwNzA0NTIxNFoYDzIxMjYxMTEz\n\
MDQ1MjE0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n\
PQMBBwNCAAStp071EXnJ7qOb5SYa3koylhAZJgg273rBiyBAGQX6KWafCmy/ieTv\n\
OtS7v5dXN1wXs8UGt/up+c2U+dADKFtIo2kwZzAdBgNVHQ4EFgQUa5jaC+CM6qO/\n\
poyhHs3h8I3FUmUwHwYDVR0jBBgwFoAUa5jaC+CM6qO/poyhHs3h8I3FUmUwDwYD\n\
VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID\n\
RwAwRAIgNh5F+dNe1MNOiinAdFBFL4553n5T2MToIphxWD8xJXMCIAKL7ByFQVER\n\
m0dFG7Et9iKlWXoVCJQQ4WWbncO8sxK0\n\
-----END CERTIFICATE-----\n";
    const TEST_KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGB75SS889GJnJoYn\n\
MA5mUY/sngYHu8RfuRiHVMZaBhahRANCAAStp071EXnJ7qOb5SYa3koylhAZJgg2\n\
73rBiyBAGQX6KWafCmy/ieTvOtS7v5dXN1wXs8UGt/up+c2U+dADKFtI\n\
-----END PRIVATE KEY-----\n";

    #[tokio::test]
    async fn https_on_localhost_is_fetched_with_a_self_signed_certificate() {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject;
        use std::io::{Read, Write};

        let cert = CertificateDer::from_pem_slice(TEST_CERT.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(TEST_KEY.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(super::ring_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 4096];
            let n = tls.read(&mut buf).unwrap();
            tls.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
            )
            .unwrap();
            tls.conn.send_close_notify();
            tls.flush().unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        let mut bytes = 0;
        let url = format!("https://localhost:{port}/x.mp4");
        let r = download(&client().unwrap(), &url, |n| {
            bytes += n;
            true
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(bytes, 5);
        assert!(server.join().unwrap().starts_with("GET /x.mp4 HTTP/1.1"));
    }
}
