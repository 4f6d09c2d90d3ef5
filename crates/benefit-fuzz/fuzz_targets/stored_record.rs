//! libFuzzer entry: stored record bytes (see `benefit_fuzz::stored_record`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| benefit_fuzz::stored_record(data));
