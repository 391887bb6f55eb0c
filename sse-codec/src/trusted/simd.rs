//! SSE2 intrinsics for a line-end mask.
//!
//! [`Windows`](crate::line::Windows) needs, for 64 bytes at a time, a bit per
//! byte that is a CR or LF. SSE2 gives it in a handful of instructions (four
//! loads, eight compares, four ORs and four byte-mask moves); the safe
//! alternatives cost several times more, and a `memchr2` search per line
//! costs more again on lines of a few dozen bytes (`benches/README.md`).
//!
//! SSE2 is part of the x86-64 baseline, so there is no runtime detection
//! and nothing to get wrong about the CPU: the only obligations are the
//! pointers, and each is stated where it is used. Every other target gets
//! the portable loop. `cargo miri test -p sse-codec` runs this module's
//! tests (and the decoder's) under Miri in `.ci/run`; `.ci/cross.sh` runs
//! them on wasm32-wasip1 and aarch64, where the portable loop is the one
//! compiled, and a test there checks by name that it is.

pub(crate) use active::line_end_mask;

// The mask this target compiles: SSE2 on x86-64, the portable loop on every
// other target. Its `PATH` names it for the tests.
#[cfg(not(target_arch = "x86_64"))]
use portable as active;
#[cfg(target_arch = "x86_64")]
use sse2 as active;

#[cfg(target_arch = "x86_64")]
mod sse2 {
    /// This [`line_end_mask`]'s name, for `the_expected_line_end_path_is_compiled`.
    #[cfg(test)]
    pub(crate) const PATH: &str = "sse2";

    /// Bit `i` set where `window[i]` is a CR or LF.
    #[inline(always)]
    pub(crate) fn line_end_mask(window: &[u8; 64]) -> u64 {
        use core::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        let mut mask = 0;
        for (k, group) in window.chunks_exact(16).enumerate() {
            // SAFETY: `group` is 16 readable bytes (`chunks_exact(16)`), which is
            // what the unaligned load reads; it has no alignment requirement.
            // The other intrinsics only need SSE2, which every x86-64 CPU has
            // (it is enabled for the target at compile time).
            let bits = unsafe {
                let bytes = _mm_loadu_si128(group.as_ptr().cast::<__m128i>());
                let lf = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\n' as i8));
                let cr = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\r' as i8));
                _mm_movemask_epi8(_mm_or_si128(lf, cr))
            };
            // The move fills the low 16 bits of a non-negative `i32`.
            mask |= u64::from(bits as u16) << (16 * k);
        }
        mask
    }
}

/// Every target but x86-64. Bit `i` comes from byte `i` by index, not from
/// a wider load, so byte order does not enter into it.
#[cfg(not(target_arch = "x86_64"))]
mod portable {
    /// This [`line_end_mask`]'s name, for `the_expected_line_end_path_is_compiled`.
    #[cfg(test)]
    pub(crate) const PATH: &str = "portable";

    /// Bit `i` set where `window[i]` is a CR or LF: the portable version.
    #[inline(always)]
    pub(crate) fn line_end_mask(window: &[u8; 64]) -> u64 {
        let mut mask = 0;
        for (i, &b) in window.iter().enumerate() {
            mask |= u64::from(b == b'\n' || b == b'\r') << i;
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::{active, line_end_mask};

    /// The line-end search this build compiled is the one expected: the one
    /// named by `SSE_CODEC_EXPECT_LINE_PATH` when the build was made
    /// (`.ci/cross.sh` sets `portable` for its targets, so SIMD compiled in
    /// there fails here), else SSE2 on x86-64 and the portable loop
    /// elsewhere. That the mask it makes is right is
    /// `mask_marks_exactly_cr_and_lf` below, and the lines found through it
    /// are `line::tests::windows_find_the_lines_a_search_finds`.
    #[test]
    fn the_expected_line_end_path_is_compiled() {
        let by_target = if cfg!(target_arch = "x86_64") {
            "sse2"
        } else {
            "portable"
        };
        let expected = option_env!("SSE_CODEC_EXPECT_LINE_PATH").unwrap_or(by_target);
        assert_eq!(active::PATH, expected);
    }

    /// The mask against the byte-by-byte definition, for every position of
    /// CR, LF and near misses, and for a window of every byte value.
    #[test]
    fn mask_marks_exactly_cr_and_lf() {
        let reference = |w: &[u8; 64]| {
            w.iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n' || b == b'\r')
                .fold(0u64, |m, (i, _)| m | 1 << i)
        };
        for i in 0..64 {
            for byte in [b'\n', b'\r', 0x0B, 0x0C, 0x8A, 0x8D, 0] {
                let mut w = [b'x'; 64];
                w[i] = byte;
                w[63 - i] = b'\r';
                assert_eq!(line_end_mask(&w), reference(&w), "{i} {byte}");
            }
        }
        for start in [0u8, 64, 128, 192] {
            let mut w = [0; 64];
            for (i, b) in w.iter_mut().enumerate() {
                *b = start + i as u8;
            }
            assert_eq!(line_end_mask(&w), reference(&w), "{start}");
        }
        assert_eq!(line_end_mask(&[b'\n'; 64]), u64::MAX);
    }
}
