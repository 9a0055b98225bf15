//! # cmis-media
//!
//! Knows every media file before a platform sees it: sniffs the real type from magic bytes,
//! reads image and MP4/MOV headers, checks each platform's media rules, converts what a platform
//! will not take, makes thumbnails, and plans and streams chunked uploads with progress.
//!
//! - **Fetch** ([`probe_url`], [`fetch_to_file`]): media given by URL, downloaded through a
//!   [`MediaFetcher`] whose [`UrlPolicy`] refuses loopback, private, link-local, CGNAT,
//!   multicast and cloud-metadata addresses (every resolved address, every redirect hop) unless
//!   the caller allows an [`AddressClass`], with a size cap enforced while streaming.
//! - **Probe** ([`probe_file`], [`probe_bytes`], [`probe`]): the real [`Format`] from magic
//!   bytes, never the file name; image size, colour type and bit depth from the header; MP4/MOV
//!   duration, codec, size, rotation, frame rate and whether `moov` precedes `mdat`, from a box
//!   walker that reads headers only (a 4 GB video costs a few small reads); WebM duration,
//!   codec and size from its EBML `Info` and `Tracks`.
//! - **Rules** ([`Rules`]): each platform surface's limits as versioned data ([`RULES_VERSION`]),
//!   with the source of every figure in its documentation.
//! - **Validate** ([`validate`], [`validate_with`]): every violation at once, each naming the
//!   file, the rule, the value found and what is allowed, before any network call.
//! - **Convert** ([`prepare_image`], [`to_jpeg`], [`thumbnail`]): PNG, WebP and GIF to sRGB JPEG,
//!   downscaled to a platform's maximum; HEIC is refused with a clear error.
//!   [`video_cover_frame`] needs the `ffmpeg` feature.
//! - **Stream** ([`ChunkPlan`], [`ChunkedFile`]): TikTok's chunk rules, and a reader that holds
//!   one chunk in memory at a time and reports progress to a [`ProgressSink`](cmis_core::ProgressSink).
//!
//! ## Example
//!
//! ```
//! # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
//! use cmis::{Media, Platform, Post, Surface};
//!
//! // A PNG screenshot for Instagram: refused as is, with the file and the rule named...
//! # let png = { let mut b = std::io::Cursor::new(Vec::new());
//! #   image::RgbImage::new(1600, 1200).write_to(&mut b, image::ImageFormat::Png).unwrap(); b.into_inner() };
//! let post = Post::new().with_text("New menu").with_media(Media::bytes(Some("menu.png".into()), png.clone()));
//! let err = cmis::media::validate(Platform::Instagram, Surface::Feed, &post).unwrap_err();
//! let rules: Vec<_> = err.violation_list().iter().map(|v| v.rule.as_str()).collect();
//! assert_eq!(rules, ["instagram.feed.image.format", "instagram.feed.image.max_width"]);
//!
//! // ...and accepted once converted to a JPEG of at most 1440 px.
//! let image_rules = cmis::media::Rules::for_target(Platform::Instagram, Surface::Feed)?.image.unwrap();
//! let jpeg = cmis::media::prepare_image(&image_rules, "menu.png", &png)?;
//! assert_eq!((jpeg.name.as_str(), jpeg.width, jpeg.height), ("menu.jpg", 1440, 1080));
//! let post = Post::new().with_text("New menu").with_media(Media::bytes(Some(jpeg.name), jpeg.bytes));
//! cmis::media::validate(Platform::Instagram, Surface::Feed, &post)?;
//! # Ok::<(), cmis::Error>(())
//! ```
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `ffmpeg` | no | [`video_cover_frame`] through an installed `ffmpeg` program; without it, an `Unsupported` error |

#![cfg_attr(docsrs, feature(doc_cfg))]
mod chunk;
mod convert;
mod cover;
mod fetch;
mod format;
mod nonblocking;
mod probe;
mod rules;
pub mod sample;
mod stream;
mod validate;

pub use chunk::{Chunk, ChunkPlan, ChunkRules, DEFAULT_CHUNK_SIZE};
pub use cmis_http::{AddressClass, MediaFetcher, MediaFetcherBuilder, UrlPolicy};
pub use convert::{
    ConvertOptions, Converted, DEFAULT_JPEG_QUALITY, prepare_image, thumbnail, to_jpeg,
};
pub use cover::video_cover_frame;
pub use fetch::{FetchedFile, fetch_to_file, probe_url};
pub use format::{ColorType, Format, VideoCodec};
pub use nonblocking::{sniff, sniff_file, validate_async, validate_with_async};
pub use probe::{MediaInfo, probe, probe_bytes, probe_file};
pub use rules::{
    INSTAGRAM_DEFAULT_MAX_HASHTAGS, ImageRules, ItemRules, LengthUnit, RULES_VERSION, Rules,
    TextRules, VideoRules,
};
pub use stream::ChunkedFile;
pub use validate::{validate, validate_with, violations};
