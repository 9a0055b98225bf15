//! # cmis-ai
//!
//! Writes post copy with real AI providers (OpenAI-compatible, Anthropic, Gemini) behind a cache,
//! a fallback router with circuit breakers and a cost ledger, ending in a deterministic offline
//! generator that needs no network and no key.
//!
//! **Status:** not implemented yet (tracked by the cmis-ai issue). This crate exports nothing so
//! far; nothing in it pretends to work.
