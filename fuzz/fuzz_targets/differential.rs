//! The decoder equals the naive spec oracle, whole and in 7-byte chunks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_differential(data));
