//! The crate's one error type.

use core::fmt;

/// Why decoding, encoding or resumption failed.
///
/// The WHATWG parsing rules accept every byte sequence (unknown fields, odd
/// `retry` values and ids containing NUL are ignored, not rejected), so the
/// decoder only fails on the limits you configure ([`Limits`](crate::Limits)),
/// on a full caller-provided buffer, and, when you opt into
/// [`Utf8::Strict`](crate::Utf8::Strict), on invalid UTF-8.
///
/// After a decoding error the decoder drops the event in progress, skips
/// input up to and including the next blank line, and carries on: the error
/// is a report, not a dead end. (When the error is about the event being
/// handed out, which is complete, nothing more is skipped.)
///
/// Offsets count bytes from the start of the stream (the first byte ever
/// passed to the decoder after construction, [`reset`](crate::Decoder::reset)
/// or [`finish`](crate::Decoder::finish)), including any byte-order mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A line grew past [`Limits::max_line_len`](crate::Limits::max_line_len)
    /// before its terminator arrived.
    LineTooLong {
        /// The limit in force, in bytes.
        limit: usize,
        /// Stream offset of the line's first byte.
        offset: u64,
    },
    /// An event's data buffer grew past
    /// [`Limits::max_event_size`](crate::Limits::max_event_size).
    EventTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
        /// Stream offset of the `data` line that crossed the limit.
        offset: u64,
    },
    /// An `id` value is longer than
    /// [`Limits::max_id_len`](crate::Limits::max_id_len).
    IdTooLong {
        /// The limit in force, in bytes.
        limit: usize,
        /// Stream offset of the `id` line.
        offset: u64,
    },
    /// A caller-provided fixed buffer ([`SliceStorage`](crate::SliceStorage))
    /// had no room for what had to be kept.
    StorageFull {
        /// The capacity of the buffer that ran out, in bytes.
        capacity: usize,
        /// Stream offset of the line being processed when it ran out, or,
        /// when the event being handed out needed room for its
        /// U+FFFD-replaced text, of the end of the event.
        offset: u64,
    },
    /// Invalid UTF-8 in a value handed out, with [`Utf8::Strict`](crate::Utf8::Strict).
    InvalidUtf8 {
        /// Stream offset of the first byte of the invalid sequence.
        offset: u64,
    },
    /// An id contains U+0000 NULL, CR or LF, which no event stream can carry.
    InvalidId,
    /// An event type contains CR or LF, which no event stream can carry.
    InvalidEventType,
    /// The destination buffer is too small for the encoded frame; nothing
    /// was written.
    BufferTooSmall {
        /// The bytes the frame needs.
        required: usize,
    },
    /// An id that a `Last-Event-ID` header cannot carry: a header value that
    /// is not UTF-8 or holds U+0000, CR or LF
    /// ([`parse_last_event_id`](crate::parse_last_event_id)), or an id to log
    /// that would not come back unchanged in one: empty, with a space or tab
    /// at either end, or with a control character
    /// ([`ReplayLog::append_with_id`](crate::ReplayLog::append_with_id)).
    InvalidLastEventId,
    /// An encoded frame is larger on its own than a
    /// [`ReplayLog`](crate::ReplayLog)'s
    /// [`max_bytes`](crate::ReplayLimits::max_bytes); it was not appended.
    EntryTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
        /// The encoded frame's length, in bytes.
        len: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::LineTooLong { limit, offset } => {
                write!(f, "line longer than {limit} bytes at offset {offset}")
            }
            Error::EventTooLarge { limit, offset } => {
                write!(f, "event data larger than {limit} bytes at offset {offset}")
            }
            Error::IdTooLong { limit, offset } => {
                write!(f, "id longer than {limit} bytes at offset {offset}")
            }
            Error::StorageFull { capacity, offset } => {
                write!(f, "buffer of {capacity} bytes full at offset {offset}")
            }
            Error::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at offset {offset}"),
            Error::InvalidId => f.write_str("id contains NUL, CR or LF"),
            Error::InvalidEventType => f.write_str("event type contains CR or LF"),
            Error::BufferTooSmall { required } => {
                write!(f, "buffer too small: {required} bytes required")
            }
            Error::InvalidLastEventId => f.write_str("id cannot travel in a Last-Event-ID header"),
            Error::EntryTooLarge { limit, len } => {
                write!(
                    f,
                    "entry of {len} bytes larger than the {limit}-byte replay log"
                )
            }
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_a_short_lowercase_phrase() {
        let e = Error::LineTooLong {
            limit: 4096,
            offset: 1870,
        };
        let mut buf = [0u8; 64];
        let mut w = Writer(&mut buf, 0);
        fmt::write(&mut w, format_args!("{e}")).unwrap();
        let n = w.1;
        assert_eq!(&buf[..n], b"line longer than 4096 bytes at offset 1870");
    }

    struct Writer<'a>(&'a mut [u8], usize);
    impl fmt::Write for Writer<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.1 + s.len();
            self.0
                .get_mut(self.1..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }
}
