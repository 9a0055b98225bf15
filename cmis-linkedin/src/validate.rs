//! Everything checked before any call: the author, the escaped text's length, and what the
//! post's media make of it (`docs/linkedin-api.md` §2–§4).

use cmis_core::{
    Error, LinkedInVisibility, Media, MediaSource, Platform, Post, Result, Surface, Target,
};

use crate::little_text;
use crate::media::{MAX_DOCUMENT_BYTES, is_document, url_unsupported};

/// The longest commentary, in UTF-16 units of the escaped text.
pub const MAX_COMMENTARY: usize = 3000;

/// The most images in a multi-image post.
pub const MAX_IMAGES: usize = 20;

/// The largest image in pixels (width × height): LinkedIn refuses 36 152 320 and more.
pub const MAX_IMAGE_PIXELS: u64 = 36_152_320;

/// Who posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Author {
    Member,
    Organization,
}

/// What the post carries besides its text.
#[derive(Debug)]
pub(crate) enum Content<'a> {
    Text,
    Article {
        link: &'a url::Url,
        thumbnail: Option<&'a Media>,
    },
    Images(Vec<&'a Media>),
    Video(&'a Media),
    Document(&'a Media),
}

/// A checked post.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub(crate) commentary: String,
    pub(crate) content: Content<'a>,
}

/// The kind of author `urn` names.
pub(crate) fn author_of(urn: &str) -> Result<Author> {
    let (kind, id) = if let Some(id) = urn.strip_prefix("urn:li:person:") {
        (Author::Member, id)
    } else if let Some(id) = urn.strip_prefix("urn:li:organization:") {
        (Author::Organization, id)
    } else {
        return Err(Error::invalid_input(format!(
            "a LinkedIn account is an author URN, urn:li:person:ID or urn:li:organization:ID; \
             got {urn:?}"
        )));
    };
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid_input(format!(
            "the LinkedIn author URN {urn:?} has no valid id"
        )));
    }
    Ok(kind)
}

/// Checks `post` for `target` and says what it is made of. No network call.
pub(crate) async fn plan<'a>(target: &Target, post: &'a Post) -> Result<Plan<'a>> {
    if target.platform() != Platform::LinkedIn {
        return Err(Error::invalid_input(format!(
            "the LinkedIn publisher cannot publish to {}",
            target.platform()
        )));
    }
    if target.surface != Surface::Feed {
        return Err(Error::unsupported(format!(
            "LinkedIn has no {} surface: publish to the feed",
            target.surface
        )));
    }
    let author = author_of(target.account.account.as_str())?;
    let options = &post.options.linkedin;
    match &options.visibility {
        Some(LinkedInVisibility::Other(v)) if v.trim().is_empty() => {
            return Err(Error::invalid_input("the LinkedIn visibility is empty"));
        }
        Some(LinkedInVisibility::Connections) if author == Author::Organization => {
            return Err(Error::invalid_input(
                "CONNECTIONS visibility is for members' posts; a page posts to PUBLIC",
            ));
        }
        _ => {}
    }
    let commentary = little_text::escape(post.text_or_empty());
    let len = little_text::wire_len(&commentary);
    if len > MAX_COMMENTARY {
        return Err(Error::invalid_input(format!(
            "the LinkedIn text is {len} UTF-16 units once escaped (reserved characters take a \
             backslash each); at most {MAX_COMMENTARY} are allowed"
        )));
    }
    let mut documents = Vec::new();
    let mut others = Vec::new();
    for media in &post.media {
        if matches!(media.source, MediaSource::Url(_)) {
            return Err(url_unsupported());
        }
        if is_document(media).await? {
            documents.push(media);
        } else {
            others.push(media);
        }
    }
    let content = match (documents.as_slice(), others.len(), &post.link) {
        ([], 0, None) => Content::Text,
        ([], 0, Some(link)) => Content::Article {
            link,
            thumbnail: None,
        },
        ([doc], 0, None) => {
            check_document(doc).await?;
            Content::Document(doc)
        }
        ([_, ..], _, _) => {
            return Err(Error::invalid_input(
                "a LinkedIn document post carries one document and nothing else (no image, \
                 video or link)",
            ));
        }
        ([], _, _) => media_content(post, others).await?,
    };
    if matches!(content, Content::Text) && post.text_or_empty().trim().is_empty() {
        return Err(Error::invalid_input(
            "a LinkedIn post needs text, media or a link",
        ));
    }
    // The rule set checks images and videos; documents are checked above.
    let mut checked = post.clone();
    checked.media.retain(|m| !documents.contains(&m));
    cmis_media::validate_async(Platform::LinkedIn, Surface::Feed, &checked).await?;
    Ok(Plan {
        commentary,
        content,
    })
}

/// Images, a video, or an article with a thumbnail.
async fn media_content<'a>(post: &'a Post, media: Vec<&'a Media>) -> Result<Content<'a>> {
    let mut videos = Vec::new();
    for m in &media {
        if cmis_media::sniff(m).await?.is_some_and(|f| f.is_video()) {
            videos.push(*m);
        }
    }
    if let Some(video) = videos.first() {
        if media.len() > 1 || post.link.is_some() {
            return Err(Error::invalid_input(
                "a LinkedIn video post carries one video and nothing else (no image or link)",
            ));
        }
        return Ok(Content::Video(video));
    }
    if let Some(link) = &post.link {
        if media.len() > 1 {
            return Err(Error::invalid_input(
                "a LinkedIn article (link) post takes one image, its thumbnail",
            ));
        }
        return Ok(Content::Article {
            link,
            thumbnail: media.first().copied(),
        });
    }
    if media.len() > MAX_IMAGES {
        return Err(Error::invalid_input(format!(
            "a LinkedIn post carries at most {MAX_IMAGES} images; got {}",
            media.len()
        )));
    }
    for m in &media {
        check_pixels(m).await?;
    }
    Ok(Content::Images(media))
}

/// LinkedIn refuses images of 36 152 320 pixels or more.
async fn check_pixels(media: &Media) -> Result<()> {
    let info = match &media.source {
        MediaSource::Path(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || cmis_media::probe_file(&path))
                .await
                .map_err(|e| Error::internal(format!("probing an image failed: {e}")))??
        }
        MediaSource::Bytes { name, data } => {
            cmis_media::probe_bytes(name.as_deref().unwrap_or("image"), data)?
        }
        _ => return Ok(()),
    };
    if let (Some(w), Some(h)) = (info.width, info.height) {
        let pixels = u64::from(w) * u64::from(h);
        if pixels >= MAX_IMAGE_PIXELS {
            return Err(Error::invalid_input(format!(
                "{} is {w}×{h} = {pixels} pixels; LinkedIn takes fewer than {MAX_IMAGE_PIXELS}",
                media.display_name()
            )));
        }
    }
    Ok(())
}

async fn check_document(media: &Media) -> Result<()> {
    let size = match &media.source {
        MediaSource::Path(path) => tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::invalid_input(format!("{} cannot be read: {e}", path.display())))?
            .len(),
        MediaSource::Bytes { data, .. } => u64::try_from(data.len()).unwrap_or(u64::MAX),
        _ => 0,
    };
    if size == 0 {
        return Err(Error::invalid_input(format!(
            "the document {} is empty",
            media.display_name()
        )));
    }
    if size > MAX_DOCUMENT_BYTES {
        return Err(Error::invalid_input(format!(
            "the document {} is {size} bytes; LinkedIn takes at most {MAX_DOCUMENT_BYTES}",
            media.display_name()
        )));
    }
    Ok(())
}
