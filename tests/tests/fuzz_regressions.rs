//! Replays the fuzz seeds and every input under `fuzz/regressions/<target>/`
//! (inputs a fuzzer once failed on) through the fuzz targets' own checks.

use sse_codec_tests::fuzz::{
    check_decode, check_decode_chunked, check_differential, check_limits, check_roundtrip,
    check_tokio_codec,
};
use sse_codec_tests::seeds::seeds;
use std::path::Path;

fn check(target: &str, bytes: &[u8]) {
    match target {
        "decode" => check_decode(bytes),
        "decode_chunked" => check_decode_chunked(bytes),
        "differential" => check_differential(bytes),
        "limits" => check_limits(bytes),
        "roundtrip" => check_roundtrip(bytes),
        "tokio_codec" => check_tokio_codec(bytes),
        other => panic!("no fuzz target {other}"),
    }
}

#[test]
fn seeds_pass_the_fuzz_checks() {
    let seeds = seeds();
    assert!(seeds.len() > 1000, "{} seeds", seeds.len());
    for (target, name, bytes) in seeds {
        let result = std::panic::catch_unwind(|| check(target, &bytes));
        assert!(result.is_ok(), "{target} failed on seed {name}");
    }
}

#[test]
fn regressions_pass_the_fuzz_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        for input in std::fs::read_dir(&target).unwrap() {
            let path = input.unwrap().path();
            check(&name, &std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    eprintln!("{n} regression inputs replayed");
}
