//! A Meta Graph API response (status, usage and `Retry-After` headers, body) must be read as the
//! JSON of a success or a classified error, never panic; see `cmis_meta::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cmis_meta::fuzzing::graph_response(data));
