//! The decoder agrees with the naive spec oracle on arbitrary bytes, whole
//! and in 7-byte chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_codec_tests::drive::{transcript, Mode};
use sse_codec_tests::naive;

fuzz_target!(|input: &[u8]| {
    let expected = naive::decode(input);
    assert_eq!(transcript(Mode::Vec, &[input]), expected);
    let chunks: Vec<&[u8]> = input.chunks(7).collect();
    assert_eq!(transcript(Mode::Vec, &chunks), expected);
});
