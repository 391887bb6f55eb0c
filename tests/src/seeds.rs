//! Fuzz seeds made from the conformance vectors.

use crate::fuzz::Plan;
use crate::vectors::load_all_with_variants;

/// The fuzz targets that take a [`Plan`] header, and the one that takes a
/// raw stream.
pub const PLAN_TARGETS: [&str; 6] = [
    "decode",
    "decode_chunked",
    "limits",
    "tokio_codec",
    "strict",
    "fields",
];
/// The fuzz target that takes a raw stream.
pub const RAW_TARGET: &str = "differential";

/// Inputs longer than this are left out (the fuzzers run with
/// `-max_len=4096`).
pub const MAX_SEED_LEN: usize = 4096;

/// `(target, name, bytes)` for every seed: each vector (and its line-ending
/// variants) once raw, and, for the plan targets, once with roomy limits and
/// once with tight ones, cut in three.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for v in load_all_with_variants() {
        if v.input.len() > MAX_SEED_LEN {
            continue;
        }
        out.push((RAW_TARGET, v.name.clone(), v.input.clone()));
        for target in PLAN_TARGETS {
            let roomy = Plan::encode(255, 255, 63, &[85, 170], &v.input);
            let tight = Plan::encode(12, 6, 4, &[85, 170], &v.input);
            out.push((target, format!("{}-roomy", v.name), roomy));
            out.push((target, format!("{}-tight", v.name), tight));
        }
    }
    out
}
