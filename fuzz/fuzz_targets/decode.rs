//! Arbitrary bytes, cuts and small limits through every storage mode: no panic,
//! the decode contract, memory within the documented bound.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_decode(data));
