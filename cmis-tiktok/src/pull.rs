//! [`PullHost`]: your media server, for the media TikTok pulls (`PULL_FROM_URL`).
//!
//! When init's answer is lost (a 5xx, a timeout, a dropped connection), TikTok may or may not
//! have created the publish, and without its `publish_id` nothing TikTok offers can say which:
//! a draft, a private post and a photo post are never listed. But TikTok cannot publish what it
//! never downloaded. If the URLs it pulls are issued per attempt by a server you control, the
//! publisher can *seal* them (refuse them from then on) and ask whether any byte was served
//! before: if none was, whatever init created can never go live, and publishing again is safe.

use async_trait::async_trait;
use cmis_core::{Error, Result};
use serde_json::Value;
use url::Url;

/// Whether a sealed attempt's media had been served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sealed {
    /// No byte of any of the URLs was served, and none ever will be: TikTok cannot publish
    /// the attempt.
    NeverServed,
    /// Some of it was served (or the host cannot tell): TikTok may publish the attempt.
    Served,
}

/// Issues the URLs TikTok pulls media from, one set per attempt, and seals them.
///
/// Give one to [`TikTokPublisher::with_pull_host`](crate::TikTokPublisher::with_pull_host).
/// Before each pulled init (a video given as a URL, a photo post) the publisher asks for a URL
/// per media URL of the post, sends those to TikTok, and records them in the checkpoint it
/// saves before init. If init's answer is lost, it [`seal`](PullHost::seal)s them; `NeverServed`
/// means nothing can come of that init, so the publish is retried (a transient error) instead
/// of ending as an unknown outcome. A reconcile of that checkpoint seals them too.
///
/// The URLs must be HTTPS on a domain verified for your TikTok app (TikTok refuses others);
/// they are not checked here.
///
/// An implementation must make serving and sealing atomic with each other: a request that
/// began before the seal counts as served, and none is answered after it. Keep the record for
/// as long as a job may be reconciled (days).
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } pub mod tiktok { pub use cmis_tiktok::*; } }
/// use async_trait::async_trait;
/// use cmis::Result;
/// use cmis::tiktok::{PullHost, Sealed};
/// use url::Url;
///
/// /// Hands out `https://media.example.com/pull/<attempt>/<file>`; a real one stores the
/// /// mapping and the served and sealed flags where the media server reads them.
/// #[derive(Debug)]
/// struct MediaServer;
///
/// #[async_trait]
/// impl PullHost for MediaServer {
///     async fn issue(&self, media: &Url, attempt: &str) -> Result<Url> {
///         let file = media.path_segments().and_then(|mut s| s.next_back()).unwrap_or("media");
///         Ok(Url::parse(&format!("https://media.example.com/pull/{attempt}/{file}")).unwrap())
///     }
///     async fn seal(&self, urls: &[Url]) -> Result<Sealed> {
///         // Mark the URLs refused and report whether any was served, atomically.
///         Ok(Sealed::Served)
///     }
/// }
/// ```
#[async_trait]
pub trait PullHost: Send + Sync + std::fmt::Debug {
    /// The URL TikTok should pull `media` from in attempt `attempt` (a random id, the same for
    /// every media URL of one init).
    async fn issue(&self, media: &Url, attempt: &str) -> Result<Url>;

    /// Refuses `urls` from now on, for good, and says whether any byte of them was served
    /// before.
    async fn seal(&self, urls: &[Url]) -> Result<Sealed>;
}

/// A new attempt id: 128 random bits, hex.
pub(crate) fn attempt_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no randomness for a pull attempt id: {e}")))?;
    Ok(hex_of(&bytes))
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Replaces an init body's media URLs (`source_info.video_url`, or each of
/// `source_info.photo_images`) with `issued`, in order.
pub(crate) fn replace_urls(body: &mut Value, issued: &[Url]) -> Result<()> {
    let source = &mut body["source_info"];
    if source["video_url"].is_string() {
        let [url] = issued else {
            return Err(Error::internal(
                "one URL issued for a pulled video was expected",
            ));
        };
        source["video_url"] = Value::String(url.to_string());
        return Ok(());
    }
    source["photo_images"] = Value::Array(
        issued
            .iter()
            .map(|u| Value::String(u.to_string()))
            .collect(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pulled_videos_and_photos_urls_are_replaced() {
        let mut video = json!({"source_info": {"source": "PULL_FROM_URL",
            "video_url": "https://v.example.com/a.mp4"}});
        let issued = [Url::parse("https://m.example.com/p/1/a.mp4").unwrap()];
        replace_urls(&mut video, &issued).unwrap();
        assert_eq!(
            video["source_info"]["video_url"],
            "https://m.example.com/p/1/a.mp4"
        );

        let mut photos = json!({"source_info": {"source": "PULL_FROM_URL",
            "photo_cover_index": 0,
            "photo_images": ["https://v.example.com/1.jpg", "https://v.example.com/2.jpg"]}});
        let issued = [
            Url::parse("https://m.example.com/p/1/1.jpg").unwrap(),
            Url::parse("https://m.example.com/p/1/2.jpg").unwrap(),
        ];
        replace_urls(&mut photos, &issued).unwrap();
        assert_eq!(
            photos["source_info"]["photo_images"],
            json!([
                "https://m.example.com/p/1/1.jpg",
                "https://m.example.com/p/1/2.jpg"
            ])
        );
    }

    #[test]
    fn attempt_ids_are_128_random_bits() {
        let (a, b) = (attempt_id().unwrap(), attempt_id().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
