//! The image probes (JPEG, PNG, WebP, GIF, BMP headers) must return a value or a typed error for
//! any input, never panic or hang.
#![no_main]

use cmis_core::ErrorKind;
use libfuzzer_sys::fuzz_target;

/// Signatures, chosen by the first input byte, so that most inputs reach a header parser.
const PREFIXES: [&[u8]; 6] = [
    b"",
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\0\0\0\0WEBP",
    b"GIF89a",
    b"BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0",
];

fuzz_target!(|data: &[u8]| {
    let (prefix, rest) = match data.split_first() {
        Some((&first, rest)) => (PREFIXES[usize::from(first) % PREFIXES.len()], rest),
        None => (PREFIXES[0], data),
    };
    let mut input = prefix.to_vec();
    input.extend_from_slice(rest);
    match cmis_media::probe_bytes("fuzz.jpg", &input) {
        Ok(info) => {
            // Zero dimensions are refused, never reported.
            assert!(info.width != Some(0) && info.height != Some(0), "{info:?}");
        }
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported),
            "unexpected error kind: {e}"
        ),
    }
});
