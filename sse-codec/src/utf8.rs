//! UTF-8: the strict check and the WHATWG replacement of invalid sequences.
//!
//! "Streams must be decoded using the UTF-8 decode algorithm": every
//! maximal invalid subpart becomes one U+FFFD. Line terminators, `:` and
//! the space are ASCII and never part of such a subpart, so decoding each
//! value on its own gives the same text as decoding the whole stream first.

use crate::storage::{Full, Storage};
use crate::Error;
use core::ops::Range;

/// What to do with invalid UTF-8.
///
/// The spec decodes the stream with "UTF-8 decode", which replaces every
/// invalid sequence with U+FFFD REPLACEMENT CHARACTER; that is the default.
/// Either way the bytes as received stay reachable through
/// [`Event::raw_data`](crate::Event::raw_data) and friends, and through [`FieldDecoder`](crate::FieldDecoder).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Utf8 {
    /// Replace invalid sequences with U+FFFD, as browsers do.
    #[default]
    Lossy,
    /// Fail with [`Error::InvalidUtf8`](crate::Error::InvalidUtf8) on an invalid sequence in any value
    /// handed out (data, event type, id, comment); the event is dropped as
    /// after any error. Unknown fields and `retry` values are not checked.
    Strict,
}

/// Validates `bytes` as UTF-8, with SIMD where the CPU has it: the one
/// check every handed-out value goes through.
#[inline]
pub(crate) fn validate(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < SHORT {
        if let Some(text) = crate::trusted::ascii::ascii_str(bytes) {
            return Some(text);
        }
    }
    // Below a block the SIMD validator falls back to the standard library
    // anyway, after a dispatch through a function pointer: skip that.
    if bytes.len() < BLOCK {
        return core::str::from_utf8(bytes).ok();
    }
    simdutf8::basic::from_utf8(bytes).ok()
}

/// [`validate`] of `bytes[range]`; `None` also when `range` is out of
/// bounds.
///
/// The SIMD validator handles whole 64-byte blocks fast and copies a
/// shorter tail into a padded block first; when `bytes` goes on past the
/// range, the range is validated together with the bytes after it up to a
/// whole block, and the text cut back at the range's end. The decoder's
/// ranges end at a line terminator, which is ASCII, so the cut is on a
/// character boundary; were it not, the range would not be valid on its
/// own either, and `str::get` says `None`. If the extra bytes are not
/// valid UTF-8 (a chunk cut inside a character, say), the range alone is
/// validated.
#[inline]
pub(crate) fn validate_within(bytes: &[u8], range: Range<usize>) -> Option<&str> {
    let len = range.len();
    if len >= BLOCK {
        let padded = len.next_multiple_of(BLOCK);
        let end = range.start.checked_add(padded)?;
        if let Some(text) = bytes.get(range.start..end).and_then(validate) {
            return text.get(..len);
        }
    }
    validate(bytes.get(range)?)
}

/// Below this, a value is first checked for ASCII inline.
const SHORT: usize = 16;

/// The SIMD validator's block size.
const BLOCK: usize = 64;

/// In strict mode, an error for invalid UTF-8 in `bytes`, which start at
/// stream offset `offset`.
#[inline]
pub(crate) fn strict_utf8(utf8: Utf8, bytes: &[u8], offset: u64) -> Result<(), Error> {
    if utf8 != Utf8::Strict {
        return Ok(());
    }
    if validate(bytes).is_some() {
        return Ok(());
    }
    core::str::from_utf8(bytes)
        .map(drop)
        .map_err(|e| Error::InvalidUtf8 {
            offset: offset + e.valid_up_to() as u64,
        })
}

/// The length of the next valid run of `bytes` and of the invalid sequence
/// after it (0 at the end), by the WHATWG "maximal subpart" rule that
/// [`core::str::from_utf8`] follows.
fn next_run(bytes: &[u8]) -> (usize, usize) {
    match core::str::from_utf8(bytes) {
        Ok(_) => (bytes.len(), 0),
        Err(e) => {
            let valid = e.valid_up_to();
            (valid, e.error_len().unwrap_or(bytes.len() - valid))
        }
    }
}

const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Appends the UTF-8 decoding of `src`, with U+FFFD for each invalid sequence.
pub(crate) fn push_lossy<S: Storage>(dst: &mut S, mut src: &[u8]) -> Result<Range<usize>, Full> {
    let start = dst.bytes().len();
    while !src.is_empty() {
        let (valid, invalid) = next_run(src);
        dst.try_extend(&src[..valid])?;
        if invalid > 0 {
            dst.try_extend(REPLACEMENT)?;
        }
        src = &src[valid + invalid..];
    }
    Ok(start..dst.bytes().len())
}

/// [`push_lossy`] of a range of `dst` itself.
pub(crate) fn push_lossy_within<S: Storage>(
    dst: &mut S,
    src: Range<usize>,
) -> Result<Range<usize>, Full> {
    let start = dst.bytes().len();
    let mut pos = src.start;
    while pos < src.end {
        let (valid, invalid) = next_run(&dst.bytes()[pos..src.end]);
        dst.try_extend_from_within(pos..pos + valid)?;
        if invalid > 0 {
            dst.try_extend(REPLACEMENT)?;
        }
        pos += valid + invalid;
    }
    Ok(start..dst.bytes().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_within_agrees_with_validate() {
        // A 70-byte line with a 2-byte character, then what may follow it.
        let mut line = [b'a'; 70].to_vec();
        line[40..42].copy_from_slice("é".as_bytes());
        let tails: [&[u8]; 6] = [
            b"",
            b"\n",
            b"\n\ndata: next\n\n",
            // Invalid bytes right after the line: only the line counts.
            b"\n\xff\xfe",
            // A chunk cut inside a character after the line.
            b"\n\xc3",
            // More than a block of valid text after the line.
            &[b'\n'; 200],
        ];
        for tail in tails {
            let mut bytes = line.clone();
            bytes.extend_from_slice(tail);
            let got = validate_within(&bytes, 0..line.len());
            assert_eq!(got, core::str::from_utf8(&line).ok(), "tail {tail:?}");
        }
        // An invalid line stays invalid whatever follows it.
        let mut bad = line.clone();
        bad[10] = 0xff;
        bad.extend_from_slice(&[b'\n'; 100]);
        assert_eq!(validate_within(&bad, 0..line.len()), None);
        // A range that does not start at 0, and short ranges.
        let bytes = b"data: abc\n\n";
        assert_eq!(validate_within(bytes, 6..9), Some("abc"));
        assert_eq!(validate_within(bytes, 9..9), Some(""));
    }
}
