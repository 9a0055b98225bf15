//! Property tests: whatever the bytes, probing returns a result or a typed error and never
//! panics. CI's share of the fuzzing in `fuzz/` (which runs far longer, on nightly).

mod common;

use cmis_core::ErrorKind;
use cmis_media::probe_bytes;
use common::{Mp4, image, webm};
use image::ImageFormat;
use proptest::prelude::*;

fn typed(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Err(e) = probe_bytes("prop.bin", bytes) {
        prop_assert!(
            matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "{e}"
        );
    }
    Ok(())
}

fn valid_files() -> Vec<Vec<u8>> {
    vec![
        Mp4 {
            audio: true,
            ..Mp4::default()
        }
        .bytes(),
        Mp4 {
            moov_first: false,
            brand: *b"qt  ",
            ..Mp4::default()
        }
        .bytes(),
        webm("webm", "V_VP9", 640, 360, 1000.0, 30),
        image(ImageFormat::Jpeg, 16, 16),
        image(ImageFormat::Png, 16, 16),
        image(ImageFormat::WebP, 16, 16),
        image(ImageFormat::Gif, 16, 16),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        typed(&bytes)?;
    }

    #[test]
    fn corrupted_real_files_never_panic(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..16),
        cut in any::<u16>(),
    ) {
        let mut bytes = valid_files().swap_remove(which);
        for (at, value) in edits {
            let len = bytes.len();
            bytes[usize::from(at) % len] = value;
        }
        let keep = bytes.len() - usize::from(cut) % (bytes.len() / 4 + 1);
        bytes.truncate(keep);
        typed(&bytes)?;
    }
}
