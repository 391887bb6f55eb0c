//! Arbitrary bytes in arbitrary chunkings (the first bytes choose the cuts
//! and limits) through every storage mode: no panic, the `decode` contract
//! holds (checked by `drive::run`), chunking is invisible, memory stays
//! within the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_codec::Limits;
use sse_codec_tests::chunk::split;
use sse_codec_tests::drive::{run, Mode};

fuzz_target!(|data: &[u8]| {
    let Some((&[line, event, ncuts], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let ncuts = usize::from(ncuts % 16).min(rest.len());
    let (cut_bytes, input) = rest.split_at(ncuts);
    let mut cuts: Vec<usize> = cut_bytes.iter().map(|&b| usize::from(b) * input.len() / 255).collect();
    cuts.sort_unstable();
    let (line, event) = (usize::from(line), usize::from(event) * 4);
    let limits = Limits::new().with_max_line_len(line).with_max_event_size(event);
    let chunks = split(input, &cuts);
    let whole = run(Mode::Vec, limits, &[input]);
    for mode in Mode::ALL {
        let chunked = run(mode, limits, &chunks);
        assert_eq!(chunked.transcript, whole.transcript, "{mode:?}");
        assert_eq!(chunked.errors, whole.errors, "{mode:?}");
        assert!(chunked.max_buffered <= 4 * (line + event) + 3 * line + 16);
    }
});
