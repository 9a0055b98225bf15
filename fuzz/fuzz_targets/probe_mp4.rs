//! The MP4/MOV probe must return a value or a typed error for any input, never panic, hang or
//! allocate without bound.
#![no_main]

use cmis_core::ErrorKind;
use libfuzzer_sys::fuzz_target;

/// `ftyp` boxes, so that most inputs reach the box walker instead of failing the sniff.
const FTYP: &[u8] = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2";
const FTYP_QT: &[u8] = b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ";

fuzz_target!(|data: &[u8]| {
    let (prefix, rest): (&[u8], &[u8]) = match data.split_first() {
        Some((0, rest)) => (&[], rest),
        Some((1, rest)) => (FTYP_QT, rest),
        Some((_, rest)) => (FTYP, rest),
        None => (&[], data),
    };
    let mut input = prefix.to_vec();
    input.extend_from_slice(rest);
    if let Err(e) = cmis_media::probe_bytes("fuzz.mp4", &input) {
        assert!(
            matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "unexpected error kind: {e}"
        );
    }
});
