//! libFuzzer entry: an import line (see `benefit_fuzz::import_line`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| benefit_fuzz::import_line(data));
