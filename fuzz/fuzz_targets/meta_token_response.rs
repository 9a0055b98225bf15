//! A Meta token answer (long-lived exchange, Instagram refresh, `debug_token`, `/me/accounts`)
//! must become a token or a typed error and apply to a credential without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cmis_meta::fuzzing::token_response(data));
