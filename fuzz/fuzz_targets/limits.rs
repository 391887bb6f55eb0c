//! Under small limits, errors are limit errors and decoding resumes at the next
//! event.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_limits(data));
