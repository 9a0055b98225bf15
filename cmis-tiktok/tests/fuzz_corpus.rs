//! Replays the checked-in fuzz corpus of the TikTok targets (`fuzz/corpus/tiktok_*`) through the
//! same entry points the fuzz targets call, so CI exercises every kept input without cargo-fuzz.

#[path = "../../fuzz/corpus_replay.rs"]
mod corpus_replay;

fn corpus(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    corpus_replay::corpus(env!("CARGO_MANIFEST_DIR"), target)
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
