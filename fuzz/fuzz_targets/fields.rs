//! The raw `FieldDecoder` over arbitrary bytes, cuts and a small line limit:
//! exactly the fields and errors of a naive line splitter, in every storage.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_codec_tests::fuzz::check_fields(data));
