//! Every conformance vector (and its CRLF and CR variants), whole and in
//! every chunking of `sse_codec_tests::chunk::all_chunkings`, through every
//! storage mode, must give exactly the expected transcript.

use sse_codec_tests::chunk::{all_chunkings, split};
use sse_codec_tests::drive::{transcript, Mode};
use sse_codec_tests::vectors::load_all_with_variants;

#[test]
fn every_vector_in_every_chunking_and_mode() {
    let vectors = load_all_with_variants();
    assert!(vectors.len() >= 240, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    let mut runs = 0usize;
    for (i, v) in vectors.iter().enumerate() {
        let mut chunkings = vec![Vec::new()]; // whole
        chunkings.extend(all_chunkings(v.input.len(), i as u64));
        for (c, cuts) in chunkings.iter().enumerate() {
            let chunks = split(&v.input, cuts);
            // Every mode on the whole input and on a third of the chunkings
            // (rotating), `Vec` storage on all of them.
            for mode in Mode::ALL {
                if mode != Mode::Vec && c % 3 != i % 3 && c != 0 {
                    continue;
                }
                runs += 1;
                let got = transcript(mode, &chunks);
                if got != v.expected {
                    failures.push(format!(
                        "{} ({}), {mode:?}, cuts {cuts:?}:\n  expected {:?}\n  got      {:?}",
                        v.name, v.description, v.expected, got
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
