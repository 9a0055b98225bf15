//! `status/fetch`, and how often and how long to poll it.

use std::fmt;
use std::time::Duration;

use cmis_core::{Error, PollPolicy, Result, SecretString};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::TikTokClient;
use crate::client::Endpoint;

/// Where a publish is, as `status/fetch` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PublishState {
    /// TikTok is receiving the uploaded file (`FILE_UPLOAD`).
    ProcessingUpload,
    /// TikTok is downloading the media (`PULL_FROM_URL`).
    ProcessingDownload,
    /// Delivered to the creator's inbox as a draft: done, for uploads to the inbox.
    SendToUserInbox,
    /// Published.
    PublishComplete,
    /// Failed; see [`PublishStatus::fail_reason`].
    Failed,
    /// A state this version does not know; polling continues.
    #[serde(other)]
    Unknown,
}

/// The answer of `status/fetch`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PublishStatus {
    /// The state.
    pub status: PublishState,
    /// Why it failed, for [`PublishState::Failed`].
    #[serde(default)]
    pub fail_reason: Option<String>,
    /// The public post ids (TikTok's spelling), as exact decimal strings: they exceed 2^53, so
    /// they are never read through a float. Present only for public posts that passed moderation.
    #[serde(default, deserialize_with = "exact_ids")]
    pub publicaly_available_post_id: Vec<String>,
    /// Bytes TikTok received so far (`FILE_UPLOAD`).
    #[serde(default)]
    pub uploaded_bytes: Option<u64>,
    /// Bytes TikTok downloaded so far (`PULL_FROM_URL`).
    #[serde(default)]
    pub downloaded_bytes: Option<u64>,
}

/// Reads `list<int64>` (or strings) into exact decimal strings. serde_json reads integers as
/// `u64`/`i64` without passing through `f64`, so no digit is lost.
fn exact_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Ids;
    impl<'de> Visitor<'de> for Ids {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of integer or string post ids")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(id) = seq.next_element::<Id>()? {
                out.push(id.0);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Ids)
}

struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or string id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_owned()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Id, E> {
                Err(E::custom(
                    "a post id that is not an integer would lose digits",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

impl PublishStatus {
    /// The first public post id, if TikTok gave one.
    pub fn public_post_id(&self) -> Option<&str> {
        self.publicaly_available_post_id.first().map(String::as_str)
    }
}

/// How [`TikTokPublisher`](crate::TikTokPublisher) polls the status by default: 5 s, growing
/// 1.5× to 60 s, for 30 minutes per call. TikTok's moderation usually takes under a minute but
/// can take hours, so the budget is per call, not a verdict: the publish then returns
/// `Outcome::Pending` for a later resume.
pub fn default_poll() -> PollPolicy {
    PollPolicy::new(
        Duration::from_secs(5),
        Duration::from_secs(60),
        Duration::from_secs(30 * 60),
    )
    .with_multiplier(1.5)
}

impl TikTokClient {
    /// Fetches the status of `publish_id` (`POST /v2/post/publish/status/fetch/`, 30 per minute
    /// per token).
    pub async fn fetch_status(
        &self,
        access_token: &SecretString,
        publish_id: &str,
    ) -> Result<PublishStatus> {
        if publish_id.is_empty() {
            return Err(Error::invalid_input("publish_id is empty"));
        }
        let body = serde_json::json!({ "publish_id": publish_id });
        self.call(Endpoint::Status, access_token, Some(&body)).await
    }

    /// Asks TikTok to cancel an in-flight publish (`POST /v2/post/publish/cancel/`). Best effort:
    /// TikTok answers `publish_not_cancellable` once it is too late.
    pub async fn cancel(&self, access_token: &SecretString, publish_id: &str) -> Result<()> {
        if publish_id.is_empty() {
            return Err(Error::invalid_input("publish_id is empty"));
        }
        let body = serde_json::json!({ "publish_id": publish_id });
        // Success may come without `data`: `Option` reads a missing `data` as `None`.
        let _: Option<serde_json::Value> = self
            .call(Endpoint::Cancel, access_token, Some(&body))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_beyond_2_pow_53_keep_every_digit() {
        let s: PublishStatus = serde_json::from_str(
            r#"{"status":"PUBLISH_COMPLETE","publicaly_available_post_id":[7439182734619283746]}"#,
        )
        .unwrap();
        assert_eq!(s.public_post_id(), Some("7439182734619283746"));
        let s: PublishStatus = serde_json::from_str(
            r#"{"status":"SOMETHING_NEW","publicaly_available_post_id":null}"#,
        )
        .unwrap();
        assert_eq!(s.status, PublishState::Unknown);
        assert!(s.publicaly_available_post_id.is_empty());
    }

    proptest! {
        #[test]
        fn intervals_grow_and_stay_capped(n in 0u32..200, m in 1.0f64..4.0) {
            let c = default_poll().with_multiplier(m);
            prop_assert!(c.delay(n) <= c.max_interval);
            prop_assert!(c.delay(n + 1) >= c.delay(n));
        }
    }
}
