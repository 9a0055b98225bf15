//! The post's `embed` union: `app.bsky.embed.images`, `external` (link cards), `record` (quotes),
//! `recordWithMedia`, `video` and `gallery`, with the size limit each puts on its blobs. Unknown
//! members pass with their `$type`, as an open union lets them.

use serde_json::{Map, Value};

use super::refs::{strong_ref, uri};
use super::{BlobLimit, Checked, Issue, array, at, blob, integer, object, required, string};

const IMAGES: &str = "app.bsky.embed.images";
const EXTERNAL: &str = "app.bsky.embed.external";
const RECORD: &str = "app.bsky.embed.record";
const RECORD_WITH_MEDIA: &str = "app.bsky.embed.recordWithMedia";
const VIDEO: &str = "app.bsky.embed.video";
const GALLERY: &str = "app.bsky.embed.gallery";
/// `gallery.items`' `maxLength` (brief §5.2: "`items` ≤ 20 in schema"; clients keep to 10).
const MAX_GALLERY_ITEMS: usize = 20;
/// A gallery image's `maxSize` (brief §5.2: "each item `{image ≤ 2 MB, alt, aspectRatio}`").
const GALLERY_IMAGE_MAX_BYTES: u64 = 2_000_000;
const MAX_IMAGES: usize = 4;
/// `external.thumb`'s `maxSize` (`embed/external.json`).
const THUMB_MAX_BYTES: u64 = 1_000_000;
/// `video`'s `maxSize` ("May be up to 300mb, formerly limited to 100mb", `embed/video.json`).
const VIDEO_MAX_BYTES: u64 = 300_000_000;
const MAX_CAPTIONS: usize = 20;
/// A caption file's `maxSize`.
const CAPTION_MAX_BYTES: u64 = 20_000;

/// The record's `embed` at `$.record.embed`.
pub(super) fn embed(v: &Value, out: &mut Checked) -> Result<(), Issue> {
    let path = "$.record.embed";
    let e = object(v, path)?;
    let kind = string(required(e, "$type", path)?, &format!("{path}.$type"))?;
    match kind {
        RECORD_WITH_MEDIA => record_with_media(e, path, out),
        _ => member(kind, e, path, out),
    }
}

/// The members that may stand alone or as `recordWithMedia`'s media.
fn member(kind: &str, e: &Map<String, Value>, path: &str, out: &mut Checked) -> Result<(), Issue> {
    match kind {
        IMAGES => images(e, path, out),
        EXTERNAL => external(e, path, out),
        VIDEO => video(e, path, out),
        GALLERY => gallery(e, path, out),
        RECORD => {
            let quoted = strong_ref(
                required(e, "record", path)?,
                &format!("{path}.record"),
                false,
            )?;
            out.quotes.push(quoted);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `{record: app.bsky.embed.record, media: images | video | gallery | external}`.
fn record_with_media(e: &Map<String, Value>, path: &str, out: &mut Checked) -> Result<(), Issue> {
    let record_path = format!("{path}.record");
    let record = object(required(e, "record", path)?, &record_path)?;
    member(RECORD, record, &record_path, out)?;
    let media_path = format!("{path}.media");
    let media = object(required(e, "media", path)?, &media_path)?;
    let kind = string(
        required(media, "$type", &media_path)?,
        &format!("{media_path}.$type"),
    )?;
    // The union is open, so a PDS would store a quote nested in the media; the fake refuses it
    // because no client shows it.
    if kind == RECORD || kind == RECORD_WITH_MEDIA {
        return Err(at(
            &format!("{media_path}.$type"),
            format!("Expected media (images, video, gallery or external), got \"{kind}\""),
        ));
    }
    member(kind, media, &media_path, out)
}

fn aspect_ratio(o: &Map<String, Value>, path: &str) -> Result<(), Issue> {
    if let Some(ratio) = o.get("aspectRatio") {
        let ratio_path = format!("{path}.aspectRatio");
        let ratio = object(ratio, &ratio_path)?;
        for key in ["width", "height"] {
            integer(
                required(ratio, key, &ratio_path)?,
                &format!("{ratio_path}.{key}"),
                1,
            )?;
        }
    }
    Ok(())
}

fn images(e: &Map<String, Value>, path: &str, out: &mut Checked) -> Result<(), Issue> {
    let images_path = format!("{path}.images");
    let images = array(required(e, "images", path)?, &images_path, Some(MAX_IMAGES))?;
    for (i, image) in images.iter().enumerate() {
        let path = format!("{images_path}[{i}]");
        let image = object(image, &path)?;
        let cid = blob(
            required(image, "image", &path)?,
            &format!("{path}.image"),
            "image/*",
        )?;
        out.blob_limits.push((cid, BlobLimit::Image));
        string(required(image, "alt", &path)?, &format!("{path}.alt"))?;
        aspect_ratio(image, &path)?;
    }
    Ok(())
}

/// `app.bsky.embed.gallery` (2026, brief §5.2; the lexicon file was not in the stored copies, so
/// this follows the brief): `items`, at most 20, each an `image` blob of at most 2 000 000 bytes
/// with a **required** `aspectRatio`, and `alt` (a string when given).
fn gallery(e: &Map<String, Value>, path: &str, out: &mut Checked) -> Result<(), Issue> {
    let items_path = format!("{path}.items");
    let items = array(
        required(e, "items", path)?,
        &items_path,
        Some(MAX_GALLERY_ITEMS),
    )?;
    for (i, item) in items.iter().enumerate() {
        let path = format!("{items_path}[{i}]");
        let item = object(item, &path)?;
        let cid = blob(
            required(item, "image", &path)?,
            &format!("{path}.image"),
            "image/*",
        )?;
        out.blob_limits
            .push((cid, BlobLimit::Bytes(GALLERY_IMAGE_MAX_BYTES)));
        if let Some(alt) = item.get("alt") {
            string(alt, &format!("{path}.alt"))?;
        }
        required(item, "aspectRatio", &path)?;
        aspect_ratio(item, &path)?;
    }
    Ok(())
}

/// A link card: `uri` (a URI), `title` and `description` (required, may be empty), and an
/// optional `thumb` image of at most 1 000 000 bytes. The PDS does not fetch the page.
fn external(e: &Map<String, Value>, path: &str, out: &mut Checked) -> Result<(), Issue> {
    let external = object(required(e, "external", path)?, &format!("{path}.external"))?;
    let path = format!("{path}.external");
    uri(required(external, "uri", &path)?, &format!("{path}.uri"))?;
    for key in ["title", "description"] {
        string(required(external, key, &path)?, &format!("{path}.{key}"))?;
    }
    if let Some(thumb) = external.get("thumb") {
        let cid = blob(thumb, &format!("{path}.thumb"), "image/*")?;
        out.blob_limits
            .push((cid, BlobLimit::Bytes(THUMB_MAX_BYTES)));
    }
    Ok(())
}

fn video(e: &Map<String, Value>, path: &str, out: &mut Checked) -> Result<(), Issue> {
    let cid = blob(
        required(e, "video", path)?,
        &format!("{path}.video"),
        "video/mp4",
    )?;
    out.blob_limits
        .push((cid, BlobLimit::Bytes(VIDEO_MAX_BYTES)));
    if let Some(alt) = e.get("alt") {
        string(alt, &format!("{path}.alt"))?;
    }
    aspect_ratio(e, path)?;
    if let Some(captions) = e.get("captions") {
        let captions_path = format!("{path}.captions");
        for (i, caption) in array(captions, &captions_path, Some(MAX_CAPTIONS))?
            .iter()
            .enumerate()
        {
            let path = format!("{captions_path}[{i}]");
            let caption = object(caption, &path)?;
            string(required(caption, "lang", &path)?, &format!("{path}.lang"))?;
            let cid = blob(
                required(caption, "file", &path)?,
                &format!("{path}.file"),
                "text/vtt",
            )?;
            out.blob_limits
                .push((cid, BlobLimit::Bytes(CAPTION_MAX_BYTES)));
        }
    }
    Ok(())
}
