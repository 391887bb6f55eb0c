//! Runs one encoder over one workload's events once, for instruction
//! counting:
//!
//! ```text
//! cargo build --profile bench -p sse-codec-benches --bin encode-once
//! SSE_BENCH_SCALE=0.25 valgrind --tool=callgrind --toggle-collect='encode_once::measured*' \
//!     target/release/encode-once ours multiline
//! ```
//!
//! Decoding the workload and making the peer's owned events happen outside
//! `measured`; divide its count by the output byte count printed.

use bytes::BytesMut;
use sse_codec::OwnedEvent;
use sse_codec_benches::encoding::{events, ours, russe, russe_events};
use sse_codec_benches::{Workload, WORKLOADS};
use std::hint::black_box;
use std::process::ExitCode;

/// What `measured` runs: the same loops as the `encode` bench.
/// (`russe`'s encoder consumes its events, so dropping them is measured,
/// as in the bench; ours borrows them.)
enum Run<'a> {
    Ours(&'a [OwnedEvent], Vec<u8>),
    Russe(Vec<russe::Event>, BytesMut),
}

#[inline(never)]
fn measured(run: Run<'_>) -> usize {
    match run {
        Run::Ours(events, mut out) => ours(black_box(events), &mut out),
        Run::Russe(events, mut out) => russe(black_box(events), &mut out),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        let names: Vec<_> = WORKLOADS.iter().map(|w| w.name).collect();
        eprintln!("usage: encode-once <ours|russe> <{}>", names.join("|"));
        ExitCode::FAILURE
    };
    let [contender, workload] = &args[..] else {
        return usage();
    };
    let Some(workload) = Workload::by_name(workload) else {
        return usage();
    };
    let events = events(workload);
    let run = match contender.as_str() {
        "ours" => Run::Ours(&events, Vec::new()),
        "russe" => Run::Russe(russe_events(&events), BytesMut::new()),
        _ => return usage(),
    };
    let started = std::time::Instant::now();
    let bytes = measured(run);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{contender} {}: {bytes} bytes out, {:.3} GB/s",
        workload.name,
        bytes as f64 / secs / 1e9
    );
    ExitCode::SUCCESS
}
