//! Reads a target's checked-in corpus (`fuzz/corpus/<target>/`), sorted by name, for the
//! replay tests of the crates whose parsers are fuzzed (`#[path]`-included by each).

use std::path::{Path, PathBuf};

/// Every input of `target`'s corpus, found from the including crate's `manifest_dir`. Empty when
/// the corpus is absent (a packaged crate has none next to it); a present but empty corpus fails.
pub(crate) fn corpus(manifest_dir: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(manifest_dir).join("../fuzz/corpus").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
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
