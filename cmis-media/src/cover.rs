//! Video cover frames, through the `ffmpeg` program when the `ffmpeg` feature is on.
//!
//! Decoding H.264/HEVC in pure Rust is not practical, so cmis asks an installed `ffmpeg` for one
//! frame. Without the feature, or without `ffmpeg` on `PATH`, the call is an
//! [`Unsupported`](cmis_core::ErrorKind::Unsupported) error that says so.

use std::path::Path;
use std::time::Duration;

use cmis_core::Result;

use crate::Converted;

/// A JPEG of the frame at `at` in the video at `path`, its longer side at most `max_side`
/// pixels (never upscaled).
///
/// Requires the `ffmpeg` feature and an `ffmpeg` program on `PATH`; otherwise an
/// [`Unsupported`](cmis_core::ErrorKind::Unsupported) error.
pub fn video_cover_frame(path: &Path, at: Duration, max_side: u32) -> Result<Converted> {
    imp::cover(path, at, max_side)
}

#[cfg(not(feature = "ffmpeg"))]
mod imp {
    use super::*;
    use cmis_core::Error;

    pub(super) fn cover(path: &Path, _at: Duration, _max_side: u32) -> Result<Converted> {
        Err(Error::unsupported(format!(
            "{}: video cover frames need cmis-media's `ffmpeg` feature, which this build lacks",
            path.display()
        )))
    }
}

#[cfg(feature = "ffmpeg")]
mod imp {
    use std::process::{Command, Stdio};

    use super::*;
    use cmis_core::Error;

    use crate::{probe_file, thumbnail};

    pub(super) fn cover(path: &Path, at: Duration, max_side: u32) -> Result<Converted> {
        let info = probe_file(path)?;
        if !info.format.is_video() {
            return Err(Error::invalid_input(format!(
                "{}: is a {} image, not a video",
                info.name, info.format
            )));
        }
        if let Some(d) = info.duration
            && at > d
        {
            return Err(Error::invalid_input(format!(
                "{}: cover time {:.3} s is past the end ({:.3} s)",
                info.name,
                at.as_secs_f64(),
                d.as_secs_f64()
            )));
        }
        let output = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-ss"])
            .arg(format!("{:.3}", at.as_secs_f64()))
            .arg("-i")
            .arg(path)
            .args(["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::unsupported("video cover frames need the `ffmpeg` program on PATH")
                } else {
                    Error::internal(format!("ffmpeg could not be run: {e}"))
                }
            })?;
        if !output.status.success() || output.stdout.is_empty() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(Error::invalid_input(format!(
                "{}: ffmpeg could not extract a frame: {}",
                info.name,
                stderr.trim()
            )));
        }
        let png_name = format!("{}.png", info.name);
        thumbnail(&png_name, &output.stdout, max_side)
    }
}
