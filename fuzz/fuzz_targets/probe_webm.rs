//! The WebM/Matroska probe must return a value or a typed error for any input, never panic, hang
//! or allocate without bound.
#![no_main]

use cmis_core::ErrorKind;
use libfuzzer_sys::fuzz_target;

/// An EBML header declaring `webm`, so that most inputs reach the Segment walker.
const EBML: &[u8] = b"\x1a\x45\xdf\xa3\x84\x42\x82\x84webm";

fuzz_target!(|data: &[u8]| {
    let (prefix, rest): (&[u8], &[u8]) = match data.split_first() {
        Some((0, rest)) => (&[], rest),
        Some((_, rest)) => (EBML, rest),
        None => (&[], data),
    };
    let mut input = prefix.to_vec();
    input.extend_from_slice(rest);
    if let Err(e) = cmis_media::probe_bytes("fuzz.webm", &input) {
        assert!(
            matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "unexpected error kind: {e}"
        );
    }
});
