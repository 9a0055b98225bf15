//! LinkedIn connector for cmis (being written: see issue 20).
