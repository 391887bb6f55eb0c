//! How much of a peer's input the decoder agrees to hold.

/// Bounds on what a peer can make the decoder buffer.
///
/// Every quantity an event stream's sender controls has a limit here; each
/// limit can be lifted with [`usize::MAX`] ("no limit"), but the defaults are
/// finite so that a hostile or broken server cannot exhaust memory:
///
/// | limit | default | what it bounds |
/// |---|---|---|
/// | [`max_line_len`](Self::max_line_len) | 2 MiB | one line, terminator excluded |
/// | [`max_event_size`](Self::max_event_size) | 4 MiB | one event's data buffer: every `data` value plus one LF each |
/// | [`max_id_len`](Self::max_id_len) | 64 KiB | one `id` value; the last event ID is kept and handed out with every event |
///
/// The defaults accept what real streams send and browsers decode (browsers
/// set no limit): a `data:` line carrying a 1 MiB payload (LaunchDarkly's
/// SSE contract tests send those), several such lines in one event, an id of
/// 64 KiB. Handing the last event ID out costs O(1) per event whatever its
/// length: it is kept as text, validated once.
///
/// Limits apply to every line and event, whether or not the bytes had to be
/// buffered, so the same stream fails at the same place however it is
/// chunked. Exceeding one returns [`Error::LineTooLong`](crate::Error::LineTooLong)
/// [`Error::EventTooLarge`](crate::Error::EventTooLarge) or
/// [`Error::IdTooLong`](crate::Error::IdTooLong); the decoder then
/// drops the event in progress, skips to the next blank line and carries on.
///
/// Memory held by a [`Decoder`](crate::Decoder) is at most
/// `max_event_size + max_line_len` (the data buffer and a partial line) plus
/// `2 * max_id_len + max_line_len` (the last event ID, the event's pending id
/// and its type), plus, only while an item holding invalid UTF-8 is handed
/// out under [`Utf8::Lossy`](crate::Utf8::Lossy), its U+FFFD-replaced copy
/// (at most three times the bytes replaced). With the defaults: 6 MiB and
/// 2.125 MiB, reached only by a peer that sends events that large.
/// [`Decoder::decode_bytes`](crate::Decoder::decode_bytes) leaves the bytes
/// of an unfinished event in the caller's read buffer instead: the values it
/// refers to there, the partial line, and at most twice that plus 4 KiB of
/// lines that set nothing.
///
/// # Examples
///
/// ```
/// use sse_codec::Limits;
///
/// const SMALL: Limits = Limits::new().with_max_line_len(4096).with_max_event_size(16 * 1024);
/// assert_eq!(SMALL.max_line_len(), 4096);
/// assert_eq!(Limits::default(), Limits::new());
/// assert_eq!(Limits::unlimited().max_event_size(), usize::MAX);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    max_line_len: usize,
    max_event_size: usize,
    max_id_len: usize,
}

impl Limits {
    /// The default maximum line length: 2 MiB, room for a 1 MiB payload
    /// and then some.
    pub const DEFAULT_MAX_LINE_LEN: usize = 2 << 20;
    /// The default maximum event data size: 4 MiB.
    pub const DEFAULT_MAX_EVENT_SIZE: usize = 4 << 20;
    /// The default maximum id length: 64 KiB. (A client sends the id back in
    /// a `Last-Event-ID` header, and many HTTP servers refuse headers past
    /// 8 KiB: a server that wants to be resumed keeps its ids short.)
    pub const DEFAULT_MAX_ID_LEN: usize = 64 << 10;

    /// The default limits (see the table above).
    #[must_use]
    pub const fn new() -> Self {
        Limits {
            max_line_len: Self::DEFAULT_MAX_LINE_LEN,
            max_event_size: Self::DEFAULT_MAX_EVENT_SIZE,
            max_id_len: Self::DEFAULT_MAX_ID_LEN,
        }
    }

    /// No limits at all: memory is bounded only by what the peer sends.
    ///
    /// Use it only for trusted input.
    #[must_use]
    pub const fn unlimited() -> Self {
        Limits {
            max_line_len: usize::MAX,
            max_event_size: usize::MAX,
            max_id_len: usize::MAX,
        }
    }

    /// Sets the longest line accepted, in bytes, not counting its terminator.
    /// [`usize::MAX`] means no limit.
    #[must_use]
    pub const fn with_max_line_len(self, max_line_len: usize) -> Self {
        Limits {
            max_line_len,
            ..self
        }
    }

    /// Sets the largest event data buffer accepted, in bytes: the sum over
    /// the event's `data` lines of the value's length plus one (the LF the
    /// spec appends). [`usize::MAX`] means no limit.
    #[must_use]
    pub const fn with_max_event_size(self, max_event_size: usize) -> Self {
        Limits {
            max_event_size,
            ..self
        }
    }

    /// Sets the longest `id` value accepted, in bytes. [`usize::MAX`] means
    /// no limit.
    ///
    /// The last event ID is kept for the life of the stream and handed out,
    /// as text, with every event; this bounds that per-event cost as well as
    /// the memory. An `id` containing U+0000 is ignored before this check,
    /// as the spec ignores it.
    #[must_use]
    pub const fn with_max_id_len(self, max_id_len: usize) -> Self {
        Limits { max_id_len, ..self }
    }

    /// The longest line accepted, in bytes, not counting its terminator.
    #[must_use]
    pub const fn max_line_len(&self) -> usize {
        self.max_line_len
    }

    /// The largest event data buffer accepted, in bytes.
    #[must_use]
    pub const fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// The longest `id` value accepted, in bytes.
    #[must_use]
    pub const fn max_id_len(&self) -> usize {
        self.max_id_len
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_compose_in_const_context() {
        const L: Limits = Limits::unlimited().with_max_line_len(7);
        assert_eq!(L.max_line_len(), 7);
        assert_eq!(L.max_event_size(), usize::MAX);
        assert_eq!(Limits::new().max_line_len(), 2 << 20);
        assert_eq!(Limits::new().max_id_len(), 64 << 10);
    }
}
