//! Replays the checked-in fuzz corpus of the Meta targets (`fuzz/corpus/meta_*`) through the
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
fn graph_response_corpus() {
    for (path, data) in corpus("meta_graph_response") {
        eprintln!("{}", path.display());
        cmis_meta::fuzzing::graph_response(&data);
    }
}

#[test]
fn token_response_corpus() {
    for (path, data) in corpus("meta_token_response") {
        eprintln!("{}", path.display());
        cmis_meta::fuzzing::token_response(&data);
    }
}
