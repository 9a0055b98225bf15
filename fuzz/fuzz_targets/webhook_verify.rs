//! The Standard Webhooks verifier must refuse every signature but the genuine one, accept the
//! genuine one (alone or among others), and never panic, whatever the secret, headers and body
//! hold. Input: `secret \0 webhook-id \0 webhook-timestamp \0 webhook-signature \0 body`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cmis_scheduler::fuzz_verify(data));
