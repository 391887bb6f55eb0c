//! ASCII text, handed out as `&str` without a second look.
//!
//! **Invariant**: none to keep: ASCII bytes are valid UTF-8, and the check
//! is made right before the conversion, on the same borrowed bytes.

/// `bytes` as `&str` if every byte is ASCII.
///
/// For the short values of small events (an event type, a one-token
/// `data`), an inlined ASCII check costs a fraction of a call to
/// `core::str::from_utf8`.
#[inline(always)]
pub(crate) fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if !bytes.is_ascii() {
        return None;
    }
    // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8; `bytes`
    // is borrowed, so it cannot change before the `&str` is used.
    Some(unsafe { core::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::ascii_str;

    #[test]
    fn only_ascii_passes() {
        assert_eq!(ascii_str(b""), Some(""));
        assert_eq!(ascii_str(b"tick"), Some("tick"));
        assert_eq!(ascii_str("é".as_bytes()), None);
        assert_eq!(ascii_str(b"a\x80"), None);
        assert_eq!(ascii_str(b"\x7f"), Some("\u{7f}"));
    }
}
