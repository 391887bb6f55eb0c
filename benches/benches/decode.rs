//! Decoding throughput: every contender over every workload, fed whole, in
//! 1460-byte chunks and in 7-byte chunks. Benchmark ids are
//! `decode/<workload>/<feeding>/<contender>`, so a filter such as
//! `llm-tokens/whole` or `/ours` picks a slice of the matrix. Fed whole, a
//! last floor, `simdutf8`, only validates the input as UTF-8.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use sse_codec_benches::{Contender, Feeding, CONTENDERS, FEEDINGS, WORKLOADS};
use std::cell::Cell;
use std::hint::black_box;

fn decode(c: &mut Criterion) {
    for workload in WORKLOADS {
        let input = workload.generate();
        for feeding in FEEDINGS {
            let mut group =
                c.benchmark_group(format!("decode/{}/{}", workload.name, feeding.name()));
            group.throughput(Throughput::Bytes(input.bytes.len() as u64));
            // Iterations take milliseconds to seconds: no need for criterion's
            // linear sampling, which would multiply them.
            group.sampling_mode(SamplingMode::Flat);
            for contender in CONTENDERS.into_iter().filter(|c| c.runs(workload, feeding)) {
                let checked = Cell::new(false);
                group.bench_function(contender.name(), |b| {
                    if !checked.replace(true) {
                        check(contender, &input, feeding);
                    }
                    b.iter(|| contender.run(black_box(&input.bytes), feeding));
                });
            }
            if feeding == Feeding::Whole {
                // Floor below every decoder that hands out validated text:
                // the input validated as UTF-8 in one call, no line found.
                assert!(simdutf8::basic::from_utf8(&input.bytes).is_ok());
                group.bench_function("simdutf8", |b| {
                    b.iter(|| simdutf8::basic::from_utf8(black_box(&input.bytes)).is_ok());
                });
            }
            group.finish();
        }
    }
}

/// Before a contender is measured on a workload: it must find every event
/// (so all decoders agree on the count), and the baselines every line end.
fn check(
    contender: Contender,
    input: &sse_codec_benches::Input,
    feeding: sse_codec_benches::Feeding,
) {
    let tally = contender.run(&input.bytes, feeding);
    let expected = if contender.is_baseline() {
        input
            .bytes
            .iter()
            .filter(|&&b| b == b'\r' || b == b'\n')
            .count() as u64
    } else {
        input.events
    };
    assert_eq!(
        tally.events,
        expected,
        "{} fed {} found the wrong number of {}",
        contender.name(),
        feeding.name(),
        if contender.is_baseline() {
            "line ends"
        } else {
            "events"
        },
    );
}

criterion_group! {
    name = benches;
    // Overridable on the command line (`--sample-size`).
    config = Criterion::default().sample_size(10);
    targets = decode
}
criterion_main!(benches);
