//! A TikTok OAuth answer (the flat token JSON, the `{"error","error_description"}` envelope,
//! revoke's `{}`) must become a grant or a typed error, and a grant a credential, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cmis_tiktok::fuzzing::oauth_response(data));
