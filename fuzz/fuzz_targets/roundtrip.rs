//! Arbitrary frames encode to exactly `encoded_len()` bytes that decode back
//! to themselves, or are rejected exactly when invalid, writing nothing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_roundtrip(data));
