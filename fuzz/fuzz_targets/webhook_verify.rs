//! The webhook verifier must refuse every signature but the genuine one, accept the genuine one,
//! and never panic, whatever the headers and body hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cmis_scheduler::fuzz_verify(data));
