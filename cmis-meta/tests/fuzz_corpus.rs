//! Replays the checked-in fuzz corpus of the Meta targets (`fuzz/corpus/meta_*`) through the
//! same entry points the fuzz targets call, so CI exercises every kept input without cargo-fuzz.

#[path = "../../fuzz/corpus_replay.rs"]
mod corpus_replay;

fn corpus(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    corpus_replay::corpus(env!("CARGO_MANIFEST_DIR"), target)
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
