//! Probing: what a media file really is, from its bytes, reading headers only.

mod image;
mod isobmff;
pub(crate) mod source;
mod webm;

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use cmis_core::{Error, ErrorKind, Media, MediaSource, Result};

use crate::{ColorType, Format, VideoCodec};
use source::{FileSource, ReadAt, read_up_to};

/// What a probe found out about a media file.
///
/// Every field but `name`, `format` and `size_bytes` is optional: a field is `None` when the
/// format does not carry it or cmis does not read it for that format (TIFF, HEIC and AVIF
/// dimensions; a WebM frame rate the file does not state).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MediaInfo {
    /// The file name, for messages.
    pub name: String,
    /// The real format, sniffed from the bytes.
    pub format: Format,
    /// The size in bytes.
    pub size_bytes: u64,
    /// Width in pixels, as displayed (a video's rotation applied).
    pub width: Option<u32>,
    /// Height in pixels, as displayed (a video's rotation applied).
    pub height: Option<u32>,
    /// Colour type of an image.
    pub color: Option<ColorType>,
    /// Bits per channel of an image.
    pub bit_depth: Option<u8>,
    /// Whether an image is animated (GIF is reported as `None`: telling needs a frame walk).
    pub animated: Option<bool>,
    /// A video's duration.
    pub duration: Option<Duration>,
    /// A video's average frame rate, in frames per second.
    pub frame_rate: Option<f64>,
    /// A video's codec.
    pub video_codec: Option<VideoCodec>,
    /// Whether a video has an audio track.
    pub has_audio: Option<bool>,
    /// Rotation in degrees (0, 90, 180 or 270) that a viewer applies: a video's track matrix, or
    /// a JPEG's EXIF orientation (width and height above already account for it).
    pub rotation: Option<u16>,
    /// For MP4/MOV: whether the `moov` box comes before `mdat` ("fast start"), which Instagram
    /// requires for reels.
    pub moov_before_mdat: Option<bool>,
}

impl MediaInfo {
    fn new(name: &str, format: Format, size_bytes: u64) -> Self {
        Self {
            name: name.to_owned(),
            format,
            size_bytes,
            width: None,
            height: None,
            color: None,
            bit_depth: None,
            animated: None,
            duration: None,
            frame_rate: None,
            video_codec: None,
            has_audio: None,
            rotation: None,
            moov_before_mdat: None,
        }
    }

    /// Width divided by height, when both are known.
    pub fn aspect_ratio(&self) -> Option<f64> {
        match (self.width, self.height) {
            (Some(w), Some(h)) if h > 0 => Some(f64::from(w) / f64::from(h)),
            _ => None,
        }
    }

    /// Whether this is a still image.
    pub fn is_image(&self) -> bool {
        self.format.is_image()
    }

    /// Whether this is a video.
    pub fn is_video(&self) -> bool {
        self.format.is_video()
    }
}

/// Probes a file on disk, reading its headers only: a multi-gigabyte video costs a few reads.
///
/// A missing, empty, truncated, corrupt or unrecognised file is an
/// [`InvalidInput`](ErrorKind::InvalidInput) error whose message starts with the file name.
///
/// ```no_run
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// let info = cmis::media::probe_file(std::path::Path::new("clip.mp4"))?;
/// println!("{} {:?} {:?}", info.format, info.duration, info.video_codec);
/// # Ok::<(), cmis::Error>(())
/// ```
pub fn probe_file(path: &Path) -> Result<MediaInfo> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let file = File::open(path).map_err(|e| open_error(&name, &e))?;
    let meta = file.metadata().map_err(|e| open_error(&name, &e))?;
    if !meta.is_file() {
        return Err(Error::invalid_input(format!("{name}: not a regular file")));
    }
    let mut src = FileSource {
        file,
        size: meta.len(),
    };
    probe_source(&name, &mut src)
}

/// Probes bytes in memory. `name` is used in messages only; the format comes from the bytes.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_media::*; } }
/// let err = cmis::media::probe_bytes("notes.mp4", b"just some text").unwrap_err();
/// assert_eq!(err.kind(), cmis::ErrorKind::InvalidInput);
/// ```
pub fn probe_bytes(name: &str, bytes: &[u8]) -> Result<MediaInfo> {
    let mut src = bytes;
    probe_source(name, &mut src)
}

/// Probes a post's media item: a local path (on a blocking thread) or bytes. A URL is not
/// downloaded for probing: it is an [`Unsupported`](ErrorKind::Unsupported) error; use
/// [`probe_url`](crate::probe_url), which downloads through a [`UrlPolicy`](crate::UrlPolicy).
pub async fn probe(media: &Media) -> Result<MediaInfo> {
    match &media.source {
        MediaSource::Path(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || probe_file(&path))
                .await
                .map_err(|e| Error::internal(format!("probe task failed: {e}")))?
        }
        MediaSource::Bytes { data, .. } => probe_bytes(&media.display_name(), data),
        MediaSource::Url(url) => {
            // The query may hold a signed token: it stays out of the message.
            let mut shown = url.clone();
            shown.set_query(None);
            shown.set_fragment(None);
            Err(Error::unsupported(format!(
                "{shown}: media at a URL is not downloaded for probing (cmis_media::probe_url \
                 downloads it through a URL policy)"
            )))
        }
        _ => Err(Error::unsupported(format!(
            "{}: this media source cannot be probed",
            media.display_name()
        ))),
    }
}

fn open_error(name: &str, e: &std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Internal,
    };
    Error::new(kind, format!("{name}: cannot be opened: {e}"))
}

fn probe_source(name: &str, src: &mut dyn ReadAt) -> Result<MediaInfo> {
    probe_inner(name, src).map_err(|e| {
        let kind = e.kind();
        Error::new(kind, format!("{name}: {}", e.message())).with_source(e)
    })
}

fn probe_inner(name: &str, src: &mut dyn ReadAt) -> Result<MediaInfo> {
    let size = src.size();
    if size == 0 {
        return Err(Error::invalid_input("the file is empty (0 bytes)"));
    }
    let head = read_up_to(src, 0, 64)?;
    let Some(format) = Format::sniff(&head) else {
        let claimed = Path::new(name)
            .extension()
            .and_then(|e| Format::from_extension(&e.to_string_lossy()));
        return Err(Error::invalid_input(match claimed {
            Some(f) => format!(
                "not a recognised image or video: the name says {f} but the content is not {f}"
            ),
            None => "not a recognised image or video format".to_owned(),
        }));
    };
    let mut info = MediaInfo::new(name, format, size);
    if format.is_image() {
        let h = image::read_header(format, src)?;
        // EXIF orientations 5–8 turn the stored image a quarter: viewers and platforms show it
        // with width and height swapped, so the rules must see it that way too.
        let quarter = matches!(h.exif_orientation, Some(5..=8));
        (info.width, info.height) = if quarter {
            (h.height, h.width)
        } else {
            (h.width, h.height)
        };
        info.rotation = h.exif_orientation.map(|o| match o {
            3 | 4 => 180,
            5 | 6 => 90,
            7 | 8 => 270,
            _ => 0,
        });
        info.color = h.color;
        info.bit_depth = h.bit_depth;
        info.animated = h.animated;
    } else if matches!(format, Format::Mp4 | Format::Mov) {
        let m = isobmff::probe(src)?;
        if !m.has_ftyp && format == Format::Mp4 {
            return Err(Error::invalid_input("corrupt MP4: no 'ftyp' box"));
        }
        info.duration = m.duration;
        info.width = m.width;
        info.height = m.height;
        info.rotation = m.rotation;
        info.frame_rate = m.frame_rate;
        info.video_codec = m.video_codec;
        info.has_audio = Some(m.has_audio);
        info.moov_before_mdat = m.moov_before_mdat;
    } else if matches!(format, Format::Webm | Format::Matroska) {
        let w = webm::probe(src)?;
        info.duration = w.duration;
        info.width = w.width;
        info.height = w.height;
        info.frame_rate = w.frame_rate;
        info.video_codec = w.video_codec;
        info.has_audio = Some(w.has_audio);
    }
    Ok(info)
}
