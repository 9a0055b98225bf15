//! Replays the checked-in fuzz corpus of the TikTok targets (`fuzz/corpus/tiktok_*`) through the
//! same entry points the fuzz targets call, so CI exercises every kept input without cargo-fuzz.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        // A packaged crate has no corpus next to it.
        eprintln!("{} not found; nothing to replay", dir.display());
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn api_response_corpus() {
    for (path, data) in corpus("tiktok_api_response") {
        eprintln!("{}", path.display());
        cmis_tiktok::fuzzing::api_response(&data);
    }
}

#[test]
fn oauth_response_corpus() {
    for (path, data) in corpus("tiktok_oauth_response") {
        eprintln!("{}", path.display());
        cmis_tiktok::fuzzing::oauth_response(&data);
    }
}
