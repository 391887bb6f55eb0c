//! Replays the fuzz seeds and every input under `fuzz/regressions/<target>/`
//! (inputs a fuzzer once failed on) through the fuzz targets' own checks.

use sse_codec_tests::fuzz::{
    check_decode, check_decode_chunked, check_differential, check_fields, check_limits,
    check_roundtrip, check_strict, check_tokio_codec,
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
        "strict" => check_strict(bytes),
        "fields" => check_fields(bytes),
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

/// The `strict` and `fields` checks only mean something if their seeds
/// reach the errors they check: invalid UTF-8 and overlong lines.
#[test]
fn strict_and_fields_seeds_reach_their_errors() {
    use sse_codec::{Error, Utf8};
    use sse_codec_tests::drive::{run_utf8, Mode};
    use sse_codec_tests::fuzz::{naive_fields, Plan};
    let (mut invalid_utf8, mut too_long) = (0, 0);
    for (target, _, bytes) in seeds() {
        if target != "strict" && target != "fields" {
            continue;
        }
        let plan = Plan::read(&bytes).unwrap();
        match target {
            "strict" => {
                let r = run_utf8(Mode::Vec, plan.limits, Utf8::Strict, &[plan.input]);
                let bad = |e: &Error| matches!(e, Error::InvalidUtf8 { .. });
                invalid_utf8 += r.errors.iter().filter(|e| bad(e)).count();
            }
            "fields" => {
                let fields = naive_fields(plan.input, plan.limits.max_line_len());
                too_long += fields.iter().filter(|f| f.is_err()).count();
            }
            _ => {}
        }
    }
    assert!(invalid_utf8 > 10, "{invalid_utf8} InvalidUtf8 errors");
    assert!(too_long > 20, "{too_long} LineTooLong errors");
}

#[test]
fn strict_check_holds_on_a_rejected_id() {
    use sse_codec_tests::fuzz::Plan;
    let input = b"id: 1\ndata: a\n\nid: \xff\ndata: b\n\ndata: c\n\n";
    check_strict(&Plan::encode(255, 255, 63, &[100], input));
}
