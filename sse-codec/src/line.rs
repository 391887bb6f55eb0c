//! Line scanning: where lines end, and the two facts that outlive a chunk.
//!
//! WHATWG HTML, "Parsing an event stream": lines end with CRLF, a lone LF or
//! a lone CR, and one U+FEFF BYTE ORDER MARK is dropped at the very start of
//! the stream. Both rules straddle chunk boundaries, so the scanner keeps one
//! small field for each.

use crate::trusted::simd::line_end_mask;

/// The UTF-8 encoding of U+FEFF.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// What a scanner remembers between chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scanner {
    /// The previous input ended with a CR, which ended its line at once; an
    /// LF opening the next input belongs to that CR and is skipped.
    ///
    /// `"data: a\r" + "\ndata: b\n"`: the first input ends the `data: a`
    /// line and sets the flag; the second starts by dropping its `\n`.
    skip_lf: bool,
    /// How many leading bytes of the stream matched [`BOM`] so far; 3 once
    /// the question is settled (a BOM was dropped, or the stream began with
    /// something else).
    ///
    /// `"\xEF" + "\xBB" + "\xBFdata"`: 0 -> 1 -> 2 -> 3, and nothing of the
    /// three bytes reaches the parser. `"\xEF" + "data"`: 0 -> 1 -> 3, and the
    /// held `\xEF` is handed back as the start of the first line.
    bom_matched: u8,
}

/// A line found by [`Scanner::find_eol`].
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Eol {
    /// Length of the line's content, terminator excluded.
    pub(crate) len: usize,
    /// Bytes of the terminator: 1 (LF, CR) or 2 (CRLF).
    pub(crate) terminator: usize,
}

impl Scanner {
    pub(crate) const fn new() -> Self {
        Scanner {
            skip_lf: false,
            bom_matched: 0,
        }
    }

    /// Settles the chunk-straddling rules at the start of `input`.
    ///
    /// Returns how many bytes of `input` to skip (BOM bytes, or the LF of a
    /// CRLF split across inputs) and the bytes that were held as a possible
    /// BOM but turned out not to be one: they are the start of the first
    /// line and the caller must treat them as line content.
    #[inline]
    pub(crate) fn prelude(&mut self, input: &[u8]) -> (usize, &'static [u8]) {
        if input.is_empty() {
            return (0, &[]);
        }
        if self.bom_matched < 3 {
            return self.bom(input);
        }
        if self.skip_lf {
            self.skip_lf = false;
            if input[0] == b'\n' {
                return (1, &[]);
            }
        }
        (0, &[])
    }

    #[cold]
    fn bom(&mut self, input: &[u8]) -> (usize, &'static [u8]) {
        let mut skip = 0;
        while let Some(&byte) = input.get(skip) {
            let matched = usize::from(self.bom_matched);
            if byte == BOM[matched] {
                skip += 1;
                self.bom_matched += 1;
                if self.bom_matched == 3 {
                    return (skip, &[]);
                }
            } else {
                self.bom_matched = 3;
                // The held bytes came from earlier inputs; the ones matched in
                // this input are simply not skipped.
                let held = matched - skip;
                return (0, &BOM[..held]);
            }
        }
        // All of `input` may be a BOM prefix: hold it.
        (skip, &[])
    }

    /// Whether the scanner still holds bytes that may or may not be a BOM.
    pub(crate) fn holds_bom_prefix(&self) -> bool {
        self.bom_matched > 0 && self.bom_matched < 3
    }

    /// Finds the end of the line that starts at `input[0]`.
    ///
    /// A CR that is the last byte of `input` ends the line now; the scanner
    /// then skips an LF that opens the next input.
    /// A search per line: the reference [`Lines`] is tested against.
    #[cfg(test)]
    pub(crate) fn find_eol(&mut self, input: &[u8]) -> Option<Eol> {
        let len = memchr::memchr2(b'\n', b'\r', input)?;
        self.eol_at(input, len)
    }

    /// The line of `input` that ends at `len`, where a CR or LF is.
    #[cfg(test)]
    pub(crate) fn eol_at(&mut self, input: &[u8], len: usize) -> Option<Eol> {
        let terminator = match input.get(len..)? {
            [b'\r', b'\n', ..] => 2,
            [b'\r'] => {
                self.skip_lf = true;
                1
            }
            _ => 1,
        };
        Some(Eol { len, terminator })
    }
}

/// The line ends of one input, found a 64-byte window at a time: one pass
/// over the bytes serves every line in the window, where a search per line
/// pays its set-up again for each (a line of ~40 bytes costs about as much
/// to search for as a whole window).
///
/// [`next`](Self::next) hands out each CR and LF in order. The caller turns
/// them into lines: a CRLF pair's LF is then passed over with
/// [`skip`](Self::skip), and a CR at the end of the input is the
/// [`Scanner`]'s business.
#[derive(Debug)]
pub(crate) struct Windows {
    /// Input index of the window's first byte.
    base: usize,
    /// Bit `i` set: `input[base + i]` is a CR or LF not handed out yet.
    mask: u64,
    /// Where the next window starts: bytes before it have been looked at.
    end: usize,
}

impl Windows {
    /// Ready to search `input` from `pos`.
    #[inline]
    pub(crate) fn new(input: &[u8], pos: usize) -> Self {
        let mut windows = Windows {
            base: pos,
            mask: 0,
            end: pos,
        };
        windows.load(input);
        windows
    }

    /// Moves to the window at `end`, if all of it is in `input`.
    #[inline(always)]
    fn load(&mut self, input: &[u8]) -> bool {
        let Some(bytes) = window(input, self.end) else {
            return false;
        };
        self.base = self.end;
        self.mask = line_end_mask(bytes);
        self.end += WINDOW;
        true
    }

    /// Moves to the last, shorter window of `input` at `end`, if it has
    /// one: one mask for the last few lines costs less than a search for
    /// each. Out of line: it runs at most once per `Windows` (once per call
    /// that reaches an input's last 63 bytes), and inlined it costs the line
    /// loop registers.
    #[inline(never)]
    fn load_tail(&mut self, input: &[u8]) -> bool {
        if self.end >= input.len() {
            return false;
        }
        self.base = self.end;
        self.mask = line_end_mask_at(input, self.end);
        self.end = input.len();
        true
    }

    /// The next CR or LF: `Ok(index)`, or `Err(from)` when the caller is to
    /// search on from `from` itself: because a whole window held no line
    /// end (a long line is better searched with `memchr2`, which takes in 32
    /// bytes an instruction), or because all of `input` has been looked at
    /// (`from` is then its length: there is nothing left to search). After
    /// such a search, [`resume`](Self::resume) where it ended.
    #[inline(always)]
    pub(crate) fn next(&mut self, input: &[u8]) -> Result<usize, usize> {
        if self.mask == 0 {
            let loaded = self.load(input) || self.load_tail(input);
            if !loaded || self.mask == 0 {
                return Err(self.end);
            }
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        // Clear the lowest bit.
        self.mask &= self.mask - 1;
        Ok(at)
    }

    /// Goes on from `pos`, after the caller searched past the windows.
    #[inline]
    pub(crate) fn resume(&mut self, pos: usize) {
        self.mask = 0;
        self.end = pos;
    }

    /// Passes over the LF at `at`, the one right after the CR that
    /// [`next`](Self::next) handed out last.
    #[inline]
    pub(crate) fn skip(&mut self, at: usize) {
        if at < self.end {
            self.mask &= self.mask.wrapping_sub(1);
        } else {
            // The first byte of the next window: start that window after it.
            self.end = at + 1;
        }
    }
}

/// The lines of one input, in order: [`Windows`] line ends paired into
/// lines. The one place where a CR and the LF after it become one
/// terminator (a CR ending the input is the [`Scanner`]'s), and where a
/// line longer than a window is handed to `memchr2`.
#[derive(Debug)]
pub(crate) struct Lines {
    windows: Windows,
}

impl Lines {
    /// Ready to find line ends in `input` from `from` on: bytes before it
    /// hold none that is not found yet.
    #[inline]
    pub(crate) fn new(input: &[u8], from: usize) -> Self {
        Lines {
            windows: Windows::new(input, from.min(input.len())),
        }
    }

    /// The line that starts at `input[pos]`, or `None` if it does not end
    /// in `input`. `pos` is where the previous line ended (or where the
    /// search started, or before it for a line whose start had no line end).
    #[inline(always)]
    pub(crate) fn next(&mut self, scanner: &mut Scanner, input: &[u8], pos: usize) -> Option<Line> {
        let end = match self.windows.next(input) {
            Ok(at) => at,
            Err(from) => {
                let from = from.max(pos);
                let end = from + memchr::memchr2(b'\n', b'\r', input.get(from..)?)?;
                // Past the windows: they go on after this line.
                self.windows.resume(end + 1);
                end
            }
        };
        // A CR followed by an LF ends the line with both; a CR that ends
        // the input ends it now, and the next input's LF is skipped.
        let next = match input.get(end..end + 2) {
            Some([b'\r', b'\n']) => {
                self.windows.skip(end + 1);
                end + 2
            }
            Some(_) => end + 1,
            None => {
                scanner.skip_lf = input.get(end) == Some(&b'\r');
                end + 1
            }
        };
        Some(Line { end, next })
    }
}

/// A line found by [`Lines::next`]: `input[pos..end]`, its terminator
/// `input[end..next]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) end: usize,
    pub(crate) next: usize,
}

/// Bytes in a [`Windows`] window.
pub(crate) const WINDOW: usize = 64;

/// Bit `i` set where `input[base + i]` is a CR or LF, for the up to 64
/// bytes from `base` (none past the end of `input`).
///
/// A last window shorter than 64 bytes is read as the last 64 bytes of
/// `input` with the bits before `base` shifted out; an input shorter than
/// that is copied into a zeroed window first (zeros are neither CR nor LF).
#[inline]
pub(crate) fn line_end_mask_at(input: &[u8], base: usize) -> u64 {
    if let Some(bytes) = window(input, base) {
        return line_end_mask(bytes);
    }
    let Some(rest) = input.get(base..).filter(|rest| !rest.is_empty()) else {
        return 0;
    };
    if let (Some(last), Some(start)) = (input.last_chunk(), input.len().checked_sub(WINDOW)) {
        // `start < base`, as fewer than 64 bytes follow `base`.
        return line_end_mask(last)
            .checked_shr((base - start) as u32)
            .unwrap_or(0);
    }
    let mut padded = [0; WINDOW];
    if let Some(head) = padded.get_mut(..rest.len()) {
        head.copy_from_slice(rest);
    }
    line_end_mask(&padded)
}

/// The window of `input` at `start`, if all of it is there.
#[inline(always)]
fn window(input: &[u8], start: usize) -> Option<&[u8; WINDOW]> {
    input
        .get(start..start.checked_add(WINDOW)?)?
        .try_into()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminators() {
        let mut s = Scanner::new();
        assert_eq!(
            s.find_eol(b"ab\ncd"),
            Some(Eol {
                len: 2,
                terminator: 1
            })
        );
        assert_eq!(
            s.find_eol(b"ab\r\ncd"),
            Some(Eol {
                len: 2,
                terminator: 2
            })
        );
        assert_eq!(
            s.find_eol(b"ab\rcd"),
            Some(Eol {
                len: 2,
                terminator: 1
            })
        );
        assert_eq!(s.find_eol(b"abcd"), None);
        assert!(!s.skip_lf);
    }

    #[test]
    fn cr_at_end_of_input_ends_the_line_now() {
        let mut s = Scanner::new();
        s.bom_matched = 3;
        assert_eq!(
            s.find_eol(b"ab\r"),
            Some(Eol {
                len: 2,
                terminator: 1
            })
        );
        assert_eq!(
            s.prelude(b""),
            (0, &[][..]),
            "an empty input keeps the flag"
        );
        assert_eq!(s.prelude(b"\nx"), (1, &[][..]));
        assert_eq!(s.prelude(b"\nx"), (0, &[][..]), "only one LF is skipped");
        assert!(s.find_eol(b"ab\r").is_some());
        assert_eq!(s.prelude(b"x\n"), (0, &[][..]));
    }

    /// Lines found through [`Lines`] (the terminator from
    /// [`Scanner::eol_at`], `skip` after a CRLF, `memchr2` past the windows,
    /// then `resume`) are the lines a search per line finds:
    /// line ends on both sides of every window edge, CRLF pairs across
    /// one, lines longer than a window, a CR ending the input.
    #[cfg(feature = "alloc")]
    #[test]
    fn windows_find_the_lines_a_search_finds() {
        use alloc::vec;
        use alloc::vec::Vec;
        fn by_windows(input: &[u8]) -> (Vec<Eol>, Scanner) {
            let mut scanner = Scanner::new();
            let mut lines = Lines::new(input, 0);
            let (mut pos, mut out) = (0, Vec::new());
            while let Some(line) = lines.next(&mut scanner, input, pos) {
                out.push(Eol {
                    len: line.end - pos,
                    terminator: line.next - line.end,
                });
                pos = line.next;
            }
            (out, scanner)
        }
        fn by_find_eol(input: &[u8]) -> (Vec<Eol>, Scanner) {
            let mut scanner = Scanner::new();
            let (mut pos, mut out) = (0, Vec::new());
            while let Some(eol) = scanner.find_eol(&input[pos..]) {
                pos += eol.len + eol.terminator;
                out.push(eol);
            }
            (out, scanner)
        }
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 200] {
            for at in [0, 1, 62, 63, 64, 65, 126, 127, 128] {
                for end in [&b"\n"[..], b"\r", b"\r\n", b"\n\r", b"\r\r"] {
                    let mut input = vec![b'x'; len];
                    if at <= len {
                        input.splice(at..at, end.iter().copied());
                    }
                    inputs.push(input.clone());
                    input.extend_from_slice(b"\r");
                    inputs.push(input);
                }
            }
        }
        let mut dense = Vec::new();
        for i in 0..300 {
            dense.extend_from_slice([&b"ab\n"[..], b"\r\n", b"c\r", b"\n"][i % 4]);
        }
        inputs.push(dense);
        for input in &inputs {
            assert_eq!(by_windows(input), by_find_eol(input), "{input:?}");
        }
    }

    #[test]
    fn bom_split_across_inputs() {
        let mut s = Scanner::new();
        assert_eq!(s.prelude(b"\xEF"), (1, &[][..]));
        assert!(s.holds_bom_prefix());
        assert_eq!(s.prelude(b"\xBB"), (1, &[][..]));
        assert_eq!(s.prelude(b"\xBFdata"), (1, &[][..]));
        assert!(!s.holds_bom_prefix());
        assert_eq!(
            s.prelude(b"\xEF\xBB\xBF"),
            (0, &[][..]),
            "only at the start"
        );
    }

    #[test]
    fn false_bom_prefix_is_handed_back() {
        let mut s = Scanner::new();
        assert_eq!(s.prelude(b"\xEF\xBB"), (2, &[][..]));
        assert_eq!(s.prelude(b"data"), (0, &BOM[..2]));

        let mut s = Scanner::new();
        assert_eq!(s.prelude(b"\xEF"), (1, &[][..]));
        // The second byte matches in this input, the third does not: only the
        // held first byte comes back; the second is still in `input`.
        assert_eq!(s.prelude(b"\xBBx"), (0, &BOM[..1]));

        let mut s = Scanner::new();
        assert_eq!(s.prelude(b"\xEF\xBBx"), (0, &[][..]));
    }

    #[test]
    fn mask_at_marks_the_line_ends_from_base() {
        for len in 0..200 {
            let input: [u8; 200] = core::array::from_fn(|i| match i % 7 {
                3 => b'\n',
                5 if i % 3 == 0 => b'\r',
                _ => b'x',
            });
            let input = &input[..len];
            // Past the end too: nothing marked, no panic.
            for base in 0..len + 3 {
                let naive = (0..64)
                    .filter(|i| matches!(input.get(base + i), Some(b'\r' | b'\n')))
                    .fold(0u64, |mask, i| mask | 1 << i);
                assert_eq!(line_end_mask_at(input, base), naive, "{len} {base}");
            }
        }
    }
}
