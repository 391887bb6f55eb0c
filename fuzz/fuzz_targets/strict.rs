//! Strict UTF-8 mode over arbitrary bytes, cuts and small limits: chunked ==
//! whole in every storage mode, errors at the invalid byte, and strict mode
//! hands out what lossy mode does minus the events it rejects.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_strict(data));
