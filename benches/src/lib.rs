//! Benchmarks of cmis, as criterion benches and as binaries that print one final `key=value`
//! line. Run them with `cargo bench -p cmis-benches` or `cargo run --release -p cmis-benches --bin NAME`.
