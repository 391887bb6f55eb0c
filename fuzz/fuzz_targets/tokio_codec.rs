//! The tokio `Decoder` over a `BytesMut` fed arbitrary splits, then
//! `decode_eof`, agrees with the core on the whole input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_tokio_codec(data));
