//! Replies, quotes and link cards (`docs/bluesky-api.md` §3, §5.2): the strong references
//! (`{uri, cid}`) they need are read with `getRecord` before the record is checkpointed, so a
//! resumed write carries exactly what the first one did.

use cmis_core::{Error, Post, Result, TokenSession};
use cmis_http::Call;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::Body;
use crate::publisher::{BlueskyPublisher, POST_COLLECTION};

/// An `at://{repo}/{collection}/{rkey}` URI, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AtUri<'a> {
    pub(crate) repo: &'a str,
    pub(crate) collection: &'a str,
    pub(crate) rkey: &'a str,
}

impl<'a> AtUri<'a> {
    /// Parses a post's URI; anything else is [`ErrorKind::InvalidInput`](cmis_core::ErrorKind).
    pub(crate) fn post(uri: &'a str, what: &str) -> Result<Self> {
        let bad = || {
            Error::invalid_input(format!(
                "{what} {uri:?} is not the at:// URI of a post (at://DID/app.bsky.feed.post/KEY)"
            ))
        };
        let rest = uri.strip_prefix("at://").ok_or_else(bad)?;
        let mut parts = rest.split('/');
        let (Some(repo), Some(collection), Some(rkey), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let safe = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '~'))
        };
        if collection != POST_COLLECTION || !safe(repo) || !safe(rkey) {
            return Err(bad());
        }
        Ok(Self {
            repo,
            collection,
            rkey,
        })
    }
}

/// The references a post's record takes from other posts.
#[derive(Debug, Default)]
pub(crate) struct Refs {
    /// `reply: {root, parent}`.
    pub(crate) reply: Option<Value>,
    /// The quoted post's strong reference.
    pub(crate) quote: Option<Value>,
}

/// Checks the options that refer to other posts and the link card, before any call.
pub(crate) fn check(post: &Post) -> Result<()> {
    let opts = &post.options.bluesky;
    if let Some(uri) = &opts.reply_to {
        AtUri::post(uri, "reply_to")?;
    }
    if let Some(uri) = &opts.quote {
        AtUri::post(uri, "quote")?;
    }
    if let Some(link) = &post.link {
        if !post.media.is_empty() {
            return Err(Error::invalid_input(
                "a Bluesky post carries images or a link card, not both: put the link in the \
                 text, where it becomes a link facet",
            ));
        }
        if !matches!(link.scheme(), "http" | "https") {
            return Err(Error::invalid_input(format!(
                "the link card's URL must be http(s), not {}",
                link.scheme()
            )));
        }
    } else if opts.link_title.is_some() || opts.link_description.is_some() {
        return Err(Error::invalid_input(
            "a link card title or description was given without the post's link",
        ));
    }
    Ok(())
}

/// `app.bsky.embed.external` for the post's link, if any.
pub(crate) fn external(post: &Post) -> Option<Value> {
    let link = post.link.as_ref()?;
    let opts = &post.options.bluesky;
    Some(json!({
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": link.as_str(),
            "title": opts.link_title.as_deref().unwrap_or(""),
            "description": opts.link_description.as_deref().unwrap_or(""),
        }
    }))
}

/// The record's embed from its media (images or a link card) and a quoted post.
pub(crate) fn combine(media: Option<Value>, quote: Option<Value>) -> Option<Value> {
    match (media, quote) {
        (None, None) => None,
        (Some(media), None) => Some(media),
        (None, Some(quoted)) => Some(json!({"$type": "app.bsky.embed.record", "record": quoted})),
        (Some(media), Some(quoted)) => Some(json!({
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"record": quoted},
            "media": media,
        })),
    }
}

/// What `getRecord` says of a post.
#[derive(Deserialize)]
struct Stored {
    uri: String,
    cid: Option<String>,
    #[serde(default)]
    value: Value,
}

impl BlueskyPublisher {
    /// Reads the posts `post` replies to or quotes and returns their strong references.
    pub(crate) async fn refs(&self, post: &Post, session: &TokenSession<'_>) -> Result<Refs> {
        let opts = &post.options.bluesky;
        let mut refs = Refs::default();
        if let Some(uri) = &opts.reply_to {
            let parent = self.read_post(uri, "reply_to", session).await?;
            let parent_ref = strong_ref(&parent, uri)?;
            // The thread's root: the parent's own root when it is itself a reply.
            let root = parent
                .value
                .pointer("/reply/root")
                .filter(|r| {
                    r.get("uri").is_some_and(Value::is_string)
                        && r.get("cid").is_some_and(Value::is_string)
                })
                .cloned()
                .unwrap_or_else(|| parent_ref.clone());
            refs.reply = Some(json!({"root": root, "parent": parent_ref}));
        }
        if let Some(uri) = &opts.quote {
            let quoted = self.read_post(uri, "quote", session).await?;
            refs.quote = Some(strong_ref(&quoted, uri)?);
        }
        Ok(refs)
    }

    /// `com.atproto.repo.getRecord` of the post at `uri`. A post that does not exist is
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput): there is nothing to
    /// reply to or quote.
    async fn read_post(&self, uri: &str, what: &str, session: &TokenSession<'_>) -> Result<Stored> {
        let at = AtUri::post(uri, what)?;
        let found = session
            .run(|token| {
                let at = &at;
                async move {
                    self.client()
                        .xrpc::<Stored>(
                            "com.atproto.repo.getRecord",
                            &[
                                ("repo", at.repo),
                                ("collection", at.collection),
                                ("rkey", at.rkey),
                            ],
                            Body::Query,
                            Some(&token),
                            Call::Read,
                        )
                        .await
                }
            })
            .await;
        match found {
            Ok(stored) => Ok(stored),
            Err(e) if e.platform_code() == Some("RecordNotFound") => {
                Err(Error::invalid_input(format!(
                    "the post to {} ({uri}) does not exist",
                    what.replace('_', " ")
                )))
            }
            Err(e) => Err(e),
        }
    }
}

fn strong_ref(stored: &Stored, asked: &str) -> Result<Value> {
    let cid = stored
        .cid
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Error::transient(format!(
                "getRecord answered for {asked} without a cid: its strong reference cannot be made"
            ))
        })?;
    Ok(json!({"uri": stored.uri, "cid": cid}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_uris_are_split_and_anything_else_is_refused() {
        let at = AtUri::post("at://did:plc:abc/app.bsky.feed.post/3l2s5xxv2ze2c", "x").unwrap();
        assert_eq!(at.repo, "did:plc:abc");
        assert_eq!(at.rkey, "3l2s5xxv2ze2c");
        for bad in [
            "https://bsky.app/profile/a/post/b",
            "at://did:plc:abc/app.bsky.feed.like/3l2",
            "at://did:plc:abc/app.bsky.feed.post",
            "at://did:plc:abc/app.bsky.feed.post/a/b",
            "at://did:plc:a?b/app.bsky.feed.post/x",
            "at://",
            "at://é/app.bsky.feed.post/x",
        ] {
            assert!(AtUri::post(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn a_quote_with_media_becomes_record_with_media() {
        let quoted = json!({"uri": "at://a/app.bsky.feed.post/b", "cid": "bafy"});
        let images = json!({"$type": "app.bsky.embed.images", "images": []});
        let e = combine(Some(images.clone()), Some(quoted.clone())).unwrap();
        assert_eq!(e["$type"], "app.bsky.embed.recordWithMedia");
        assert_eq!(e["record"]["record"], quoted);
        assert_eq!(e["media"], images);
        let e = combine(None, Some(quoted)).unwrap();
        assert_eq!(e["$type"], "app.bsky.embed.record");
        assert_eq!(combine(Some(images.clone()), None), Some(images));
        assert_eq!(combine(None, None), None);
    }
}
