//! Deterministic ways to cut an input into chunks.
//!
//! A chunking is a list of *cuts*: byte offsets, non-decreasing, each at most
//! the input length. [`split`] turns cuts into chunks: `input[..cuts[0]]`,
//! `input[cuts[0]..cuts[1]]`, …, `input[cuts[last]..]`. A cut at `0` or at the
//! end, or two equal cuts, makes an empty chunk; that is deliberate, since a
//! decoder must accept an empty chunk anywhere (including between a CR ending
//! one chunk and the LF opening a later one).
//!
//! Everything here is a pure function of its arguments, so a failure names its
//! chunking by the cuts alone.

/// Inputs longer than this get sampled 2-way splits instead of all of them.
pub const EVERY_SPLIT_MAX_LEN: usize = 4096;

/// Fixed chunk sizes used for inputs up to [`EVERY_SPLIT_MAX_LEN`] bytes.
pub const SMALL_FIXED_SIZES: [usize; 7] = [1, 2, 3, 4, 5, 6, 7];

/// Fixed chunk sizes used for longer inputs: 1-byte chunking once, the sizes
/// the design names, and one TCP-segment-sized chunking.
pub const LARGE_FIXED_SIZES: [usize; 5] = [1, 2, 3, 7, 1460];

/// How many random cut sets [`all_chunkings`] adds.
pub const RANDOM_SETS: usize = 8;

/// Cuts for chunks of `n` bytes (the last one may be shorter).
///
/// # Panics
///
/// If `n` is zero.
pub fn fixed(len: usize, n: usize) -> Vec<usize> {
    assert!(n > 0, "chunk size must be positive");
    (1..).map(|i| i * n).take_while(|&cut| cut < len).collect()
}

/// Every split into two chunks: one cut at each offset `0..=len`, so the first
/// and the last chunking have an empty chunk.
pub fn two_way_splits(len: usize) -> Vec<Vec<usize>> {
    (0..=len).map(|cut| vec![cut]).collect()
}

/// `count` cuts drawn uniformly from `0..=len` by a splitmix64 generator seeded
/// with `seed`, sorted. Repeated cuts (empty chunks) can happen.
pub fn random(len: usize, seed: u64, count: usize) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    let bound = len as u64 + 1;
    let mut cuts: Vec<usize> = (0..count).map(|_| (rng.next() % bound) as usize).collect();
    cuts.sort_unstable();
    cuts
}

/// Cuts `input` at `cuts` (see the [module docs](self)).
///
/// # Panics
///
/// If `cuts` decreases or goes past `input.len()`.
pub fn split<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &cut in cuts {
        assert!(
            start <= cut && cut <= input.len(),
            "bad cuts {cuts:?} for {} bytes",
            input.len()
        );
        chunks.push(&input[start..cut]);
        start = cut;
    }
    chunks.push(&input[start..]);
    chunks
}

/// The chunkings every vector is run in, for an input of `len` bytes.
///
/// Up to [`EVERY_SPLIT_MAX_LEN`] bytes: fixed chunks of 1 to 7 bytes, every
/// 2-way split, and [`RANDOM_SETS`] random cut sets.
///
/// Longer inputs are sampled so that ~100 KB vectors stay cheap in debug
/// builds (1-byte chunking runs once, about two 1-byte chunkings' worth of
/// decoder calls in all): fixed chunks of [`LARGE_FIXED_SIZES`]; 2-way splits
/// at the first and last 17 offsets (where a BOM, the first line and the final
/// terminator sit) plus 32 offsets drawn from `seed`; and the random cut sets.
///
/// The random sets hold `min(len, 1024) >> i` cuts for `i` in `0..8` (at
/// least one each), so they range from near-1-byte chunking to a few large
/// chunks; set `i` is seeded from `seed` and `i`.
pub fn all_chunkings(len: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    if len <= EVERY_SPLIT_MAX_LEN {
        all.extend(SMALL_FIXED_SIZES.iter().map(|&n| fixed(len, n)));
        all.extend(two_way_splits(len));
    } else {
        all.extend(LARGE_FIXED_SIZES.iter().map(|&n| fixed(len, n)));
        let mut points: Vec<usize> = (0..=16).chain(len - 16..=len).collect();
        points.extend(random(len, seed ^ 0x2_5917, 32));
        points.sort_unstable();
        points.dedup();
        all.extend(points.into_iter().map(|cut| vec![cut]));
    }
    for i in 0..RANDOM_SETS {
        let count = (len.min(1024) >> i).max(1);
        let set_seed = SplitMix64(seed.wrapping_add(i as u64)).next();
        all.push(random(len, set_seed, count));
    }
    all
}

/// The splitmix64 generator (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", 2014): tiny, seedable with any value, and
/// good enough to pick cut points and generate benchmark workloads. The one
/// generator of the tests and the benches (the core's reconnection jitter
/// has its own, as library code cannot depend on this crate).
#[derive(Clone, Copy, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_valid(len: usize, cuts: &[usize]) {
        assert!(cuts.windows(2).all(|w| w[0] <= w[1]), "{cuts:?}");
        assert!(cuts.iter().all(|&c| c <= len), "{cuts:?} for {len}");
    }

    #[test]
    fn fixed_cuts_every_n_bytes() {
        assert_eq!(fixed(7, 3), [3, 6]);
        assert_eq!(fixed(6, 3), [3]);
        assert_eq!(fixed(3, 1), [1, 2]);
        assert!(fixed(0, 1).is_empty());
        let input = b"abcdefg";
        assert_eq!(split(input, &fixed(7, 3)), [&b"abc"[..], b"def", b"g"]);
    }

    #[test]
    fn two_way_includes_both_ends() {
        assert_eq!(two_way_splits(2), [[0], [1], [2]]);
        assert_eq!(split(b"ab", &[0]), [&b""[..], b"ab"]);
        assert_eq!(split(b"ab", &[2]), [&b"ab"[..], b""]);
        assert_eq!(split(b"", &[]), [&b""[..]]);
    }

    #[test]
    fn random_is_deterministic_and_in_range() {
        assert_eq!(random(100, 7, 10), random(100, 7, 10));
        assert_ne!(random(100, 7, 10), random(100, 8, 10));
        for len in [0, 1, 5, 100] {
            let cuts = random(len, 1, 50);
            assert_eq!(cuts.len(), 50);
            assert_valid(len, &cuts);
        }
    }

    #[test]
    fn split_reassembles() {
        let input: Vec<u8> = (0..=255).collect();
        for seed in 0..4 {
            for cuts in all_chunkings(input.len(), seed) {
                assert_valid(input.len(), &cuts);
                assert_eq!(split(&input, &cuts).concat(), input, "{cuts:?}");
            }
        }
    }

    #[test]
    fn large_inputs_are_sampled() {
        let len = 102_400;
        let all = all_chunkings(len, 3);
        assert!(all.len() < 100, "{} chunkings", all.len());
        for cuts in &all {
            assert_valid(len, cuts);
        }
        let one_byte = all.iter().filter(|cuts| cuts.len() == len - 1).count();
        assert_eq!(one_byte, 1);
        let chunks: usize = all.iter().map(|cuts| cuts.len() + 1).sum();
        assert!(chunks < 3 * len, "{chunks} chunks in all");
    }

    #[test]
    fn small_inputs_get_every_split() {
        let all = all_chunkings(10, 0);
        assert_eq!(all.len(), 7 + 11 + RANDOM_SETS);
        for cut in 0..=10 {
            assert!(all.contains(&vec![cut]));
        }
    }

    #[test]
    #[should_panic(expected = "bad cuts")]
    fn split_rejects_decreasing_cuts() {
        let _ = split(b"abc", &[2, 1]);
    }
}
