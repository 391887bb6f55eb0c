//! Chunking is invisible: chunked items, errors, last event ID and retry equal
//! the whole input's, in every storage mode.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_decode_chunked(data));
