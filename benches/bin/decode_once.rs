//! Runs one contender over one workload once, for instruction counting:
//!
//! ```text
//! cargo build --profile bench -p sse-codec-benches --bin decode-once
//! valgrind --tool=callgrind --callgrind-out-file=ours.out \
//!     target/release/decode-once ours llm-tokens whole
//! callgrind_annotate --inclusive=yes ours.out | grep decode_once::measured
//! ```
//!
//! Generation is outside `measured`, so its inclusive count is the decode
//! alone; divide by the byte count printed. With `all` as the contender it
//! runs every contender and checks their event counts instead.

use sse_codec_benches::{Contender, Feeding, Workload, CONTENDERS, FEEDINGS, WORKLOADS};
use std::hint::black_box;
use std::process::ExitCode;

#[inline(never)]
fn measured(
    contender: Contender,
    input: &bytes::Bytes,
    feeding: Feeding,
) -> sse_codec_benches::Tally {
    contender.run(black_box(input), feeding)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        let names = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join("|");
        eprintln!(
            "usage: decode-once <{}|all> <{}> <{}>",
            names(&mut CONTENDERS.iter().map(|c| c.name().to_owned())),
            names(&mut WORKLOADS.iter().map(|w| w.name.to_owned())),
            names(&mut FEEDINGS.iter().map(|f| f.name())),
        );
        ExitCode::FAILURE
    };
    let [contender, workload, feeding] = &args[..] else {
        return usage();
    };
    let (Some(workload), Some(feeding)) = (Workload::by_name(workload), Feeding::by_name(feeding))
    else {
        return usage();
    };
    let contenders: Vec<Contender> = if contender == "all" {
        CONTENDERS
            .into_iter()
            .filter(|c| c.runs(workload, feeding))
            .collect()
    } else if let Some(c) = Contender::by_name(contender) {
        vec![c]
    } else {
        return usage();
    };
    let input = workload.generate();
    println!(
        "{}: {} bytes, {} events",
        workload.name,
        input.bytes.len(),
        input.events
    );
    for contender in contenders {
        let started = std::time::Instant::now();
        let tally = measured(contender, &input.bytes, feeding);
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:>20} {:>6}: {:>9} events, {:>11} bytes touched, {:.3} GB/s",
            contender.name(),
            feeding.name(),
            tally.events,
            tally.touched,
            input.bytes.len() as f64 / secs / 1e9,
        );
        if !contender.is_baseline() && tally.events != input.events {
            eprintln!("{}: expected {} events", contender.name(), input.events);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
