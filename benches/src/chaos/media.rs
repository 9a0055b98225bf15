//! The media server the parent runs for TikTok's pulls, as an operator would: each init pulls
//! from URLs issued for it alone (`/m/{attempt}/{file}`), and the workers' [`PullHost`] seals
//! them when init's answer is lost. The sandbox's TikTok really downloads them
//! (`fetch_pulled_media`), so a sealed attempt that was never served can never publish.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cmis_core::url::Url;
use cmis_core::{Error, Result};
use cmis_tiktok::{PullHost, Sealed};

/// What the server has served and sealed, by path.
#[derive(Debug, Default)]
struct Served {
    served: HashSet<String>,
    sealed: HashSet<String>,
}

/// The running media server.
#[derive(Debug)]
pub(crate) struct MediaHost {
    /// Its base URL, `http://127.0.0.1:PORT/`: the prefix TikTok's sandbox must accept.
    pub(crate) base: Url,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MediaHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = State<Arc<Mutex<Served>>>;

/// Serves a few bytes (the sandbox does not read them) unless the path is sealed; serving and
/// sealing hold one lock, so a request that began before a seal counts as served.
async fn media(State(s): Shared, Path((attempt, file)): Path<(String, String)>) -> StatusCode {
    let path = format!("/m/{attempt}/{file}");
    let mut s = s.lock().unwrap_or_else(PoisonError::into_inner);
    if s.sealed.contains(&path) {
        return StatusCode::GONE;
    }
    s.served.insert(path);
    StatusCode::OK
}

/// Seals the paths given and answers whether any was served.
async fn seal(State(s): Shared, Json(paths): Json<Vec<String>>) -> Json<bool> {
    let mut s = s.lock().unwrap_or_else(PoisonError::into_inner);
    let served = paths.iter().any(|p| s.served.contains(p));
    s.sealed.extend(paths);
    Json(served)
}

impl MediaHost {
    pub(crate) async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| Error::internal(format!("cannot bind the media server: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::internal(format!("no address for the media server: {e}")))?;
        let app = axum::Router::new()
            .route("/m/{attempt}/{file}", axum::routing::get(media))
            .route("/seal", axum::routing::post(seal))
            .with_state(Arc::new(Mutex::new(Served::default())));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("chaos: the media server stopped: {e}");
            }
        });
        let base = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| Error::internal(format!("bad media server URL: {e}")))?;
        Ok(Self { base, task })
    }
}

/// A worker's handle on the parent's media server.
#[derive(Debug)]
pub(crate) struct HostClient {
    base: Url,
    http: cmis_http::reqwest::Client,
}

impl HostClient {
    pub(crate) fn new(base: Url) -> Result<Self> {
        let http = cmis_http::client_builder()?
            .timeout(crate::chaos::HTTP_TIMEOUT)
            .build()
            .map_err(cmis_http::build_error)?;
        Ok(Self { base, http })
    }
}

#[async_trait]
impl PullHost for HostClient {
    async fn issue(&self, media: &Url, attempt: &str) -> Result<Url> {
        let file = media
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|f| !f.is_empty())
            .unwrap_or("media");
        self.base
            .join(&format!("m/{attempt}/{file}"))
            .map_err(|e| Error::internal(format!("bad media URL: {e}")))
    }

    async fn seal(&self, urls: &[Url]) -> Result<Sealed> {
        let paths: Vec<&str> = urls.iter().map(Url::path).collect();
        let url = self
            .base
            .join("seal")
            .map_err(|e| Error::internal(format!("bad seal URL: {e}")))?;
        let answer = self
            .http
            .post(url)
            .json(&paths)
            .send()
            .await
            .map_err(|e| Error::transient(format!("the media server did not answer: {e}")))?;
        if !answer.status().is_success() {
            return Err(Error::transient(format!(
                "the media server answered {} to a seal",
                answer.status()
            )));
        }
        let served: bool = answer
            .json()
            .await
            .map_err(|e| Error::transient(format!("the media server's answer: {e}")))?;
        Ok(if served {
            Sealed::Served
        } else {
            Sealed::NeverServed
        })
    }
}
