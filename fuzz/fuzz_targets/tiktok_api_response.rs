//! A TikTok v2 response (`{"data","error":{"code"}}`, `Retry-After`, an upload's
//! `Content-Range`) must be decoded or classified by its code, never panic; see
//! `cmis_tiktok::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cmis_tiktok::fuzzing::api_response(data));
