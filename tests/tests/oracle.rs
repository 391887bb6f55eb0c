//! The naive oracle against the hand-written conformance vectors.
//!
//! The vectors' expected transcripts were written from the spec, not produced
//! by the oracle, so this checks the oracle's reading of the spec; the real
//! decoder is then checked against both.

use std::collections::HashSet;
use std::fmt::Write as _;

use sse_codec_tests::{chunk, naive, vectors, Transcript};

/// The vector set must stay at least this large.
const MIN_VECTORS: usize = 90;

#[test]
fn oracle_matches_every_vector_and_line_ending() {
    let all = vectors::load_all_with_variants();
    let mut failures = String::new();
    let mut failed = 0;
    for v in &all {
        let got = naive::decode(&v.input);
        if got != v.expected {
            failed += 1;
            let _ = writeln!(
                failures,
                "\n== {}: {}\ninput:    {}\nexpected: {}\ngot:      {}",
                v.name,
                v.description,
                show(&v.input),
                show_transcript(&v.expected),
                show_transcript(&got),
            );
        }
    }
    assert!(
        failed == 0,
        "oracle disagrees with {failed} of {} vectors:{failures}",
        all.len()
    );
}

#[test]
fn vector_names_are_unique_and_enough() {
    let all = vectors::load_all();
    let mut names = HashSet::new();
    for v in &all {
        assert!(names.insert(&v.name), "duplicate vector name {:?}", v.name);
        assert!(!v.name.contains('@'), "{:?}: '@' is for variants", v.name);
    }
    assert!(
        all.len() >= MIN_VECTORS,
        "only {} vectors, want at least {MIN_VECTORS}",
        all.len()
    );
    let with_variants = vectors::load_all_with_variants();
    let mut names = HashSet::new();
    for v in &with_variants {
        assert!(names.insert(&v.name), "duplicate variant name {:?}", v.name);
    }
}

/// Every chunking of every vector reassembles to the input, and the sampled
/// chunkings stay cheap enough to run against a real decoder.
#[test]
fn every_chunking_of_every_vector_reassembles() {
    let mut chunks = 0usize;
    for (seed, v) in (0u64..).zip(vectors::load_all_with_variants()) {
        for cuts in chunk::all_chunkings(v.input.len(), seed) {
            let pieces = chunk::split(&v.input, &cuts);
            chunks += pieces.len();
            assert_eq!(pieces.concat(), v.input, "{} cut at {cuts:?}", v.name);
        }
    }
    // A budget, not a spec fact. Every chunk is one decoder call when a real
    // decoder runs these chunkings. At ~3.6 million (mostly the 1-, 2-, 3- and
    // 7-byte chunkings of the ~100 KB vectors and their line-ending variants)
    // a whole run of every vector in every chunking took about three seconds
    // in a debug build. Time grows with lines x chunkings as much as with
    // bytes, so keep "many lines" vectors to a few thousand lines, and prefer
    // fewer, smaller large vectors to raising this budget.
    assert!(chunks < 4_500_000, "{chunks} chunks over all vectors");
}

/// Bytes as a Rust-style escaped string, long runs elided.
fn show(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let shown: String = bytes
        .iter()
        .take(MAX)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if bytes.len() > MAX {
        format!("\"{shown}\" … ({} bytes)", bytes.len())
    } else {
        format!("\"{shown}\"")
    }
}

fn show_transcript(t: &Transcript) -> String {
    const MAX: usize = 2000;
    let s = format!("{t:?}");
    if s.chars().count() > MAX {
        format!("{} …", s.chars().take(MAX).collect::<String>())
    } else {
        s
    }
}
