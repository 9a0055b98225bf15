//! Replays the checked-in fuzz corpus of the probe targets (`fuzz/corpus/probe_*`) so CI
//! exercises every kept input without cargo-fuzz: each file as it is, and behind each prefix
//! the target puts in front of its input (`fuzz/fuzz_targets/probe_*.rs`).

use std::path::Path;

use cmis_core::ErrorKind;

const PREFIXES: [&[u8]; 9] = [
    b"",
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\0\0\0\0WEBP",
    b"GIF89a",
    b"BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0",
    b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2",
    b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ",
    b"\x1a\x45\xdf\xa3\x84\x42\x82\x84webm",
];

#[test]
fn probe_corpora_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut replayed = 0;
    for target in ["probe_image", "probe_mp4", "probe_webm"] {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            // A packaged crate has no corpus next to it.
            continue;
        };
        for entry in entries {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            // Without the first byte, as the targets see what follows their selector byte.
            let rest = data.get(1..).unwrap_or_default();
            for prefix in PREFIXES {
                for body in [&data[..], rest] {
                    let input = [prefix, body].concat();
                    for name in ["fuzz.jpg", "fuzz.mp4", "fuzz.webm"] {
                        if let Err(e) = cmis_media::probe_bytes(name, &input) {
                            assert!(
                                matches!(
                                    e.kind(),
                                    ErrorKind::InvalidInput | ErrorKind::Unsupported
                                ),
                                "unexpected error kind: {e}"
                            );
                        }
                    }
                }
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0 || !root.exists(), "no probe corpus found");
}
