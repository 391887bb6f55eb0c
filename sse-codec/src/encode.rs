//! Frames become `text/event-stream` bytes: exact length first, then the
//! bytes, into a caller's `&mut [u8]`, a `Vec<u8>` (`alloc`) or a `BufMut`
//! (`bytes`).
//!
//! Every target goes through one writer, [`Frame::write`], over a small
//! [`Sink`]; the targets differ only in how they make room, and each makes
//! sure of the room (or fails) before the first byte is written.

use crate::line::{line_end_mask_at, Scanner, WINDOW};
use crate::{Error, Event};

/// One frame to write: an event, or a standalone comment, retry or id frame.
///
/// A frame is a block of lines ended by a blank line, the unit the WHATWG
/// HTML Standard ("Server-sent events", "Parsing an event stream") calls an
/// event. Each part is optional and written, when set, in this order:
///
/// | part | set by | written as |
/// |---|---|---|
/// | comment | [`comment`](Self::comment), [`with_comment`](Self::with_comment) | `: text\n`, one line per line of the text |
/// | event type | [`with_event_type`](Self::with_event_type) | `event: type\n` |
/// | id | [`id`](Self::id), [`with_id`](Self::with_id) | `id: id\n` |
/// | retry | [`retry`](Self::retry), [`with_retry`](Self::with_retry) | `retry: 3000\n` (decimal milliseconds) |
/// | data | [`event`](Self::event), [`with_data`](Self::with_data) | `data: line\n`, one line per line of the data |
/// | end | always | `\n` |
///
/// Exactly one space follows each colon, so a value that starts with a space
/// keeps it ("If value starts with a U+0020 SPACE character, remove it from
/// value" removes only ours), and lines end with LF.
///
/// Data and comments are split on CR, LF and CRLF, the stream's three line
/// endings, so that no text can end a line early or start a field: data
/// decodes back with each line break as LF (the data buffer joins `data`
/// values with LF), a comment as one comment per line. Every line is kept:
/// `""` is one empty `data: ` line (a browser dispatches an event with empty
/// data), empty lines in the middle stay, and a trailing line break leaves an
/// empty last line. Without data no `data` line is written and a browser
/// dispatches no event, but the comments, the id (which becomes the last
/// event ID) and the retry (the reconnection time) still take effect.
///
/// An event type or id is written as given, even when empty (`id: ` resets
/// the last event ID). What cannot be written faithfully is rejected, never
/// mangled: CR or LF in the event type ([`Error::InvalidEventType`]), or
/// U+0000, CR or LF in the id ([`Error::InvalidId`]; a browser ignores an id
/// containing U+0000). Every encoding method validates first and writes
/// nothing on error.
///
/// `Frame::default()`, with nothing set, is valid and encodes to a lone
/// blank line `\n`: every frame ends with one, and after a complete frame a
/// blank line dispatches nothing.
///
/// Methods, by family:
/// - construct: [`event`](Self::event), [`comment`](Self::comment),
///   [`retry`](Self::retry), [`id`](Self::id), or [`Default`], then the
///   `with_*` setters (all `const`); [`KEEPALIVE`]; `From<`[`Event`]`>`;
/// - check: [`validate`](Self::validate), [`encoded_len`](Self::encoded_len);
/// - encode: [`encode_to_slice`](Self::encode_to_slice) (no heap),
///   `encode_to_vec` and `to_vec` (`alloc`), `encode_to_buf` (`bytes`).
///
/// # Examples
///
/// ```
/// use sse_codec::Frame;
///
/// let frame = Frame::event("line one\nline two").with_event_type("update").with_id("42");
/// let mut buf = [0u8; 64];
/// let n = frame.encode_to_slice(&mut buf)?;
/// assert_eq!(&buf[..n], b"event: update\nid: 42\ndata: line one\ndata: line two\n\n");
/// assert_eq!(frame.encoded_len()?, n);
/// # Ok::<(), sse_codec::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    comment: Option<&'a str>,
    event_type: Option<&'a str>,
    id: Option<&'a str>,
    retry: Option<u64>,
    data: Option<&'a str>,
}

/// A heartbeat: `: keepalive\n\n`.
///
/// Servers send a comment when a stream is idle so that proxies and load
/// balancers do not time the connection out; browsers ignore it. For other
/// text use [`Frame::comment`].
///
/// # Examples
///
/// ```
/// use sse_codec::KEEPALIVE;
///
/// let mut buf = [0u8; 16];
/// let n = KEEPALIVE.encode_to_slice(&mut buf)?;
/// assert_eq!(&buf[..n], b": keepalive\n\n");
/// # Ok::<(), sse_codec::Error>(())
/// ```
pub const KEEPALIVE: Frame<'static> = Frame::comment("keepalive");

const COMMENT: &[u8; 2] = b": ";
const EVENT: &[u8] = b"event: ";
const ID: &[u8] = b"id: ";
const RETRY: &[u8] = b"retry: ";
const DATA: &[u8; 6] = b"data: ";
const LF: &[u8] = b"\n";

impl<'a> Frame<'a> {
    /// An event with `data`, of type `message` unless
    /// [`with_event_type`](Self::with_event_type) says otherwise.
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::event("hi\r\nthere").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"data: hi\ndata: there\n\n");
    /// let n = Frame::event("").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"data: \n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn event(data: &'a str) -> Self {
        Frame {
            comment: None,
            event_type: None,
            id: None,
            retry: None,
            data: Some(data),
        }
    }

    /// A comment frame, one `: ` line per line of `text`. Browsers ignore
    /// comments; servers use them as heartbeats (see [`KEEPALIVE`]).
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::comment("ping").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b": ping\n\n");
    /// let n = Frame::comment("two\nlines").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b": two\n: lines\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn comment(text: &'a str) -> Self {
        Frame {
            comment: Some(text),
            event_type: None,
            id: None,
            retry: None,
            data: None,
        }
    }

    /// A frame that only sets the client's reconnection time, in
    /// milliseconds.
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::retry(3000).encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"retry: 3000\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn retry(ms: u64) -> Self {
        Frame {
            comment: None,
            event_type: None,
            id: None,
            retry: Some(ms),
            data: None,
        }
    }

    /// A frame that only sets the last event ID, without dispatching an
    /// event; `Frame::id("")` clears it. Usually the id goes with the event
    /// it names: [`with_id`](Self::with_id).
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::id("7").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"id: 7\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn id(id: &'a str) -> Self {
        Frame {
            comment: None,
            event_type: None,
            id: Some(id),
            retry: None,
            data: None,
        }
    }

    /// Sets the event type. It MUST NOT contain CR or LF, or encoding fails
    /// with [`Error::InvalidEventType`]. An empty type is written as given
    /// and decodes as `message`.
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::event("x").with_event_type("add").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"event: add\ndata: x\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn with_event_type(self, event_type: &'a str) -> Self {
        Frame {
            event_type: Some(event_type),
            ..self
        }
    }

    /// Sets the id, which becomes the client's last event ID (sent back as
    /// `Last-Event-ID` when it reconnects). It MUST NOT contain U+0000, CR or
    /// LF, or encoding fails with [`Error::InvalidId`].
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::event("x").with_id("42").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"id: 42\ndata: x\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn with_id(self, id: &'a str) -> Self {
        Frame {
            id: Some(id),
            ..self
        }
    }

    /// Sets the reconnection time, in milliseconds.
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::event("x").with_retry(500).encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"retry: 500\ndata: x\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn with_retry(self, ms: u64) -> Self {
        Frame {
            retry: Some(ms),
            ..self
        }
    }

    /// Sets the comment, written first, one `: ` line per line of `text`.
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::event("x").with_comment("note").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b": note\ndata: x\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn with_comment(self, text: &'a str) -> Self {
        Frame {
            comment: Some(text),
            ..self
        }
    }

    /// Sets the data, written last, one `data: ` line per line of `data`.
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let mut buf = [0u8; 64];
    /// let n = Frame::retry(10).with_data("x").encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"retry: 10\ndata: x\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn with_data(self, data: &'a str) -> Self {
        Frame {
            data: Some(data),
            ..self
        }
    }

    /// The data, if any: [`Frame::event`] or [`with_data`](Self::with_data).
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// let frame = Frame::event("hi").with_event_type("greet").with_retry(5);
    /// assert_eq!(frame.data(), Some("hi"));
    /// assert_eq!(frame.event_type(), Some("greet"));
    /// assert_eq!((frame.id_value(), frame.retry_ms(), frame.comment_text()), (None, Some(5), None));
    /// ```
    #[must_use]
    pub const fn data(&self) -> Option<&'a str> {
        self.data
    }

    /// The event type, if one was set with [`with_event_type`](Self::with_event_type).
    #[must_use]
    pub const fn event_type(&self) -> Option<&'a str> {
        self.event_type
    }

    /// The id, if one was set ([`Frame::id`], [`with_id`](Self::with_id)).
    #[must_use]
    pub const fn id_value(&self) -> Option<&'a str> {
        self.id
    }

    /// The reconnection time in milliseconds, if one was set
    /// ([`Frame::retry`], [`with_retry`](Self::with_retry)).
    #[must_use]
    pub const fn retry_ms(&self) -> Option<u64> {
        self.retry
    }

    /// The comment, if one was set ([`Frame::comment`],
    /// [`with_comment`](Self::with_comment)).
    #[must_use]
    pub const fn comment_text(&self) -> Option<&'a str> {
        self.comment
    }

    /// Checks that the frame can be written faithfully.
    ///
    /// The event type is checked before the id. Data and comments are always
    /// valid: they are split into lines.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEventType`] if the event type contains CR or LF;
    /// [`Error::InvalidId`] if the id contains U+0000, CR or LF.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Error, Frame};
    ///
    /// assert_eq!(Frame::event("a\nb").validate(), Ok(()));
    /// assert_eq!(Frame::event("x").with_event_type("a\nb").validate(), Err(Error::InvalidEventType));
    /// assert_eq!(Frame::id("1\0").validate(), Err(Error::InvalidId));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(event_type) = self.event_type {
            if has_any(event_type.as_bytes(), [b'\r', b'\n', b'\n']) {
                return Err(Error::InvalidEventType);
            }
        }
        if let Some(id) = self.id {
            // "If the field value does not contain U+0000 NULL, then set the
            // last event ID buffer to the field value. Otherwise, ignore the
            // field." An id with NUL would be silently dropped by the client.
            if has_any(id.as_bytes(), [b'\0', b'\r', b'\n']) {
                return Err(Error::InvalidId);
            }
        }
        Ok(())
    }

    /// The exact number of bytes the frame encodes to.
    ///
    /// Size a buffer with it once; every `encode_*` method writes exactly
    /// this many bytes.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate), and
    /// [`Error::BufferTooSmall`] with `required: usize::MAX` if the length
    /// does not fit in a `usize` (no buffer could hold the frame).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// // "data: a\n" + "data: b\n" + "\n"
    /// assert_eq!(Frame::event("a\r\nb").encoded_len()?, 17);
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn encoded_len(&self) -> Result<usize, Error> {
        self.plan(&mut LfBreaks::new()).map(|plan| plan.len)
    }

    /// Validates the frame and measures it.
    fn plan(&self, lf: &mut LfBreaks) -> Result<Plan, Error> {
        self.validate()?;
        self.measure(lf).ok_or(Error::BufferTooSmall {
            required: usize::MAX,
        })
    }

    /// Writes the frame to the start of `dst` and returns the bytes written,
    /// [`encoded_len`](Self::encoded_len) of them. Needs no heap.
    ///
    /// # Errors
    ///
    /// As [`encoded_len`](Self::encoded_len), and
    /// [`Error::BufferTooSmall`] if `dst` is shorter than the frame. On any
    /// error `dst` is left untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Error, Frame};
    ///
    /// let frame = Frame::event("hello").with_id("1");
    /// let mut buf = [0u8; 8];
    /// assert_eq!(frame.encode_to_slice(&mut buf), Err(Error::BufferTooSmall { required: 19 }));
    /// assert_eq!(buf, [0; 8]);
    ///
    /// let mut buf = [0u8; 19];
    /// assert_eq!(frame.encode_to_slice(&mut buf)?, 19);
    /// assert_eq!(&buf, b"id: 1\ndata: hello\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn encode_to_slice(&self, dst: &mut [u8]) -> Result<usize, Error> {
        let mut lf = LfBreaks::new();
        let plan = self.plan(&mut lf)?;
        let len = plan.len;
        let Some(dst) = dst.get_mut(..len) else {
            return Err(Error::BufferTooSmall { required: len });
        };
        let mut sink = SliceSink(dst);
        self.write(&mut sink, plan, &lf);
        debug_assert!(sink.0.is_empty(), "encoded_len is exact");
        Ok(len)
    }

    /// Appends the frame to `dst`, growing it at most once.
    ///
    /// # Errors
    ///
    /// As [`encoded_len`](Self::encoded_len), and
    /// [`Error::BufferTooSmall`] if `dst` cannot grow by `required` bytes
    /// (capacity overflow or failed allocation). On any error `dst` is left
    /// untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Frame, KEEPALIVE};
    ///
    /// let mut out = Vec::new();
    /// Frame::retry(1000).encode_to_vec(&mut out)?;
    /// Frame::event("tick").encode_to_vec(&mut out)?;
    /// KEEPALIVE.encode_to_vec(&mut out)?;
    /// assert_eq!(out, b"retry: 1000\n\ndata: tick\n\n: keepalive\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn encode_to_vec(&self, dst: &mut alloc::vec::Vec<u8>) -> Result<(), Error> {
        let mut lf = LfBreaks::new();
        let plan = self.plan(&mut lf)?;
        let len = plan.len;
        dst.try_reserve(len)
            .map_err(|_| Error::BufferTooSmall { required: len })?;
        self.write(dst, plan, &lf);
        Ok(())
    }

    /// Writes the frame to a [`BufMut`](bytes::BufMut), after checking
    /// that its `remaining_mut()` has room for all of it. Nothing is
    /// allocated on the way; the bytes go straight to `dst`.
    ///
    /// `BufMut` cannot reserve: a `BytesMut` grows as the lines are put, so
    /// reserve [`encoded_len`](Self::encoded_len) first to grow it once.
    ///
    /// # Errors
    ///
    /// As [`encoded_len`](Self::encoded_len), and
    /// [`Error::BufferTooSmall`] if `dst.remaining_mut()` is less than the
    /// frame's length. On any error `dst` is left untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_codec::Frame;
    ///
    /// let frame = Frame::event("{\"n\":1}").with_event_type("update");
    /// let mut buf = BytesMut::new();
    /// buf.reserve(frame.encoded_len()?);
    /// frame.encode_to_buf(&mut buf)?;
    /// assert_eq!(&buf[..], b"event: update\ndata: {\"n\":1}\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[cfg(feature = "bytes")]
    #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
    pub fn encode_to_buf<B: bytes::BufMut + ?Sized>(&self, dst: &mut B) -> Result<(), Error> {
        let mut lf = LfBreaks::new();
        let plan = self.plan(&mut lf)?;
        let len = plan.len;
        // `BufMut::put_slice` panics past `remaining_mut()`.
        if dst.remaining_mut() < len {
            return Err(Error::BufferTooSmall { required: len });
        }
        self.write(&mut BufSink(dst), plan, &lf);
        Ok(())
    }

    /// The frame as a new vector of exactly [`encoded_len`](Self::encoded_len)
    /// bytes, allocated once.
    ///
    /// # Errors
    ///
    /// As [`encode_to_vec`](Self::encode_to_vec).
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::Frame;
    ///
    /// assert_eq!(Frame::event(" x").to_vec()?, b"data:  x\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn to_vec(&self) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut lf = LfBreaks::new();
        let plan = self.plan(&mut lf)?;
        let len = plan.len;
        let mut dst = alloc::vec::Vec::new();
        dst.try_reserve_exact(len)
            .map_err(|_| Error::BufferTooSmall { required: len })?;
        self.write(&mut dst, plan, &lf);
        Ok(dst)
    }

    /// The encoded length and shape, `None` on `usize` overflow. Does not
    /// validate.
    fn measure(&self, lf: &mut LfBreaks) -> Option<Plan> {
        let mut len = LF.len();
        if let Some(text) = self.comment {
            len = len.checked_add(lines_len(text, COMMENT.len())?)?;
        }
        if let Some(event_type) = self.event_type {
            len = len.checked_add(line_len(EVENT, event_type.len())?)?;
        }
        if let Some(id) = self.id {
            len = len.checked_add(line_len(ID, id.len())?)?;
        }
        if let Some(ms) = self.retry {
            len = len.checked_add(line_len(RETRY, decimal_len(ms))?)?;
        }
        let mut data_lines = DataLines::One;
        if let Some(data) = self.data {
            // Most data is one line: one search tells, and spares `write`
            // another. Otherwise the line breaks are counted from the first:
            // one more pass over data whose breaks are all LF, and another
            // over data with a CR (see `measure_lines`).
            let bytes = data.as_bytes();
            let data_len = match first_break(bytes) {
                None => line_len(DATA, bytes.len())?,
                Some(first) => {
                    let (lines, data_len) = measure_lines(bytes, first, lf)?;
                    data_lines = lines;
                    data_len
                }
            };
            len = len.checked_add(data_len)?;
        }
        Some(Plan { len, data_lines })
    }

    /// Writes the frame, `plan.len` bytes. The caller has validated it and
    /// made room.
    fn write<S: Sink + ?Sized>(&self, out: &mut S, plan: Plan, lf: &LfBreaks) {
        if let Some(text) = self.comment {
            put_lines(out, COMMENT, text);
        }
        if let Some(event_type) = self.event_type {
            out.put(EVENT);
            out.put(event_type.as_bytes());
            out.put(LF);
        }
        if let Some(id) = self.id {
            out.put(ID);
            out.put(id.as_bytes());
            out.put(LF);
        }
        if let Some(ms) = self.retry {
            let mut digits = [0u8; MAX_DIGITS];
            out.put(RETRY);
            out.put(decimal(ms, &mut digits));
            out.put(LF);
        }
        if let Some(data) = self.data {
            match plan.data_lines {
                DataLines::One => {
                    out.put(DATA);
                    out.put(data.as_bytes());
                    // The line's LF and the blank line's.
                    out.put(b"\n\n");
                    return;
                }
                DataLines::Lf => return put_lf_data(out, data.as_bytes(), lf),
                DataLines::Mixed => put_lines(out, DATA, data),
            }
        }
        out.put(LF);
    }
}

impl<'a> From<Event<'a>> for Frame<'a> {
    /// The frame that re-sends a decoded event: its data, its event type
    /// only if the stream set a non-empty one ([`Event::raw_event_type`]),
    /// and its id only if non-empty.
    ///
    /// Decoding the frame gives the same event back. The id is the last
    /// event ID at dispatch, which may have come from an earlier event; an
    /// event after `id: ` (a reset to empty) re-encodes without an `id`
    /// line. Such a frame is always valid: a decoded type or id cannot hold
    /// CR or LF, and an id with U+0000 is never accepted.
    ///
    /// ```
    /// # #[cfg(feature = "alloc")] {
    /// use sse_codec::{Decoder, Frame, Item};
    ///
    /// let mut buf = [0u8; 64];
    /// let mut decoder = Decoder::new();
    /// let mut input = &b"event: add\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\n"[..];
    /// let Some(Item::Event(event)) = decoder.decode(&mut input)? else { panic!() };
    /// let n = Frame::from(event).encode_to_slice(&mut buf)?;
    /// assert_eq!(&buf[..n], b"event: add\nid: 7\ndata: a\ndata: b\n\n");
    /// # }
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    fn from(event: Event<'a>) -> Self {
        let event_type = if event.raw_event_type().is_empty() {
            None
        } else {
            Some(event.event_type())
        };
        let id = Some(event.id()).filter(|id| !id.is_empty());
        Frame {
            comment: None,
            event_type,
            id,
            retry: None,
            data: Some(event.data()),
        }
    }
}

/// What [`Frame::plan`] found out.
#[derive(Clone, Copy, Debug)]
struct Plan {
    /// The encoded length.
    len: usize,
    /// How the data's lines are to be found.
    data_lines: DataLines,
}

/// The line breaks in a frame's data, as [`Frame::measure`] counted them.
#[derive(Clone, Copy, Debug)]
enum DataLines {
    /// No CR or LF (or no data): one line, written unsearched.
    One,
    /// Line breaks, all LF, marked in the [`LfBreaks`] beside the plan:
    /// each line is copied with its LF.
    Lf,
    /// CR among the breaks: split by [`Lines`].
    Mixed,
}

/// The LFs in data without CR, as [`count_breaks`] found them, so that
/// [`put_lf_data`] need not search again. Kept beside the [`Plan`], not in
/// it: most data is one line, and a small plan costs those frames nothing.
#[derive(Debug)]
struct LfBreaks {
    /// The LFs counted: 0 until [`count_breaks`] runs, which it does only
    /// for data with a line break.
    count: usize,
    /// How many of `ends` are set: up to [`KEPT_ENDS`], fewer if the data
    /// has fewer LFs, and none if it is longer than `u32::MAX` (then every
    /// LF is found again).
    kept: usize,
    /// `ends[i]`: where the line after the `i`th LF starts. Past those kept
    /// the LFs are searched again.
    ends: [u32; KEPT_ENDS],
}

impl LfBreaks {
    fn new() -> Self {
        LfBreaks {
            count: 0,
            kept: 0,
            ends: [0; KEPT_ENDS],
        }
    }
}

/// LFs whose [`LfBreaks::ends`] are kept: the lines of a typical event of
/// several lines. More cost every frame, one-line ones too, a zeroed word
/// each; longer data has the rest found again a window at a time.
const KEPT_ENDS: usize = 8;

/// Counts the line breaks in `data` from the first, at `first`, into `lf`;
/// `false` if there is a CR among them (and then `lf` is of no use). The
/// count goes on past a CR: stopping at the first costs LF-only data, the
/// usual kind, 3% (`multiline`), and data with a CR pays about 10% for it.
///
/// One pass a 64-byte window at a time marks every CR and LF, for a handful
/// of instructions per window where a search per line pays its set-up each
/// time. The breaks are nearly always all LF; a CR among them sends the data
/// to [`line_breaks`] and [`Lines`], which know CRLF.
fn count_breaks(data: &[u8], first: usize, lf: &mut LfBreaks) -> bool {
    let (mut count, mut cr) = (0, false);
    let mut base = first;
    while base < data.len() {
        let mut mask = line_end_mask_at(data, base);
        while mask != 0 {
            let at = base + mask.trailing_zeros() as usize;
            cr |= data.get(at) == Some(&b'\r');
            if let Some(end) = lf.ends.get_mut(count) {
                // Lossless when `data` fits `u32`; otherwise none is kept
                // (below). Checking each end costs `multiline` 3% more.
                *end = (at + 1) as u32;
            }
            count += 1;
            // Clear the lowest bit.
            mask &= mask - 1;
        }
        base += WINDOW;
    }
    if cr {
        return false;
    }
    lf.count = count;
    lf.kept = if u32::try_from(data.len()).is_ok() {
        count.min(KEPT_ENDS)
    } else {
        0
    };
    true
}

/// How to write `data`, which has a line break at `first`, and the bytes
/// its lines take. Out of line, so that one-line data, the usual kind, is
/// measured without its registers.
#[inline(never)]
fn measure_lines(data: &[u8], first: usize, lf: &mut LfBreaks) -> Option<(DataLines, usize)> {
    let (lines, breaks, break_bytes) = if count_breaks(data, first, lf) {
        (DataLines::Lf, lf.count, lf.count)
    } else {
        let (breaks, break_bytes) = line_breaks(data.get(first..).unwrap_or_default());
        (DataLines::Mixed, breaks, break_bytes)
    };
    let per_line = DATA.len() + LF.len();
    let len =
        (data.len() - break_bytes).checked_add(breaks.checked_add(1)?.checked_mul(per_line)?)?;
    Some((lines, len))
}

/// Writes `data`, whose line breaks are all LF and found in `lf`, as
/// `data:` lines, then the blank line.
///
/// With no CR to turn into LF, a line and the LF that ends it are copied
/// as they are, in one piece. Past the last LF nothing is searched: the last
/// line is whatever follows.
#[inline(never)]
fn put_lf_data<S: Sink + ?Sized>(out: &mut S, data: &[u8], lf: &LfBreaks) {
    let mut pos = 0;
    for &end in lf.ends.iter().take(lf.kept) {
        let end = end as usize;
        out.put(DATA);
        out.put(data.get(pos..end).unwrap_or_default());
        pos = end;
    }
    // Past the ends kept, the windows again.
    let (mut left, mut base) = (lf.count - lf.kept, pos);
    while left > 0 && base < data.len() {
        let mut mask = line_end_mask_at(data, base);
        while mask != 0 && left > 0 {
            let end = base + mask.trailing_zeros() as usize + 1;
            out.put(DATA);
            out.put(data.get(pos..end).unwrap_or_default());
            pos = end;
            left -= 1;
            mask &= mask - 1;
        }
        base += WINDOW;
    }
    out.put(DATA);
    out.put(data.get(pos..).unwrap_or_default());
    out.put(b"\n\n");
}

/// Writes each line of `text` after `prefix` and before LF.
fn put_lines<S: Sink + ?Sized, const N: usize>(out: &mut S, prefix: &[u8; N], text: &str) {
    for line in Lines::new(text) {
        // A prefix of known length is copied without a call.
        out.put(prefix);
        out.put(line);
        out.put(LF);
    }
}

/// The bytes of `prefix`, a value of `value_len` bytes, and LF.
fn line_len(prefix: &[u8], value_len: usize) -> Option<usize> {
    value_len.checked_add(prefix.len() + LF.len())
}

/// The bytes of `text` written as lines, each with a prefix of `prefix_len`
/// bytes and LF. Out of line: only comments are measured this way, and
/// inlined it costs every frame registers.
#[inline(never)]
fn lines_len(text: &str, prefix_len: usize) -> Option<usize> {
    let mut len: usize = 0;
    for line in Lines::new(text) {
        len = len
            .checked_add(line.len())?
            .checked_add(prefix_len + LF.len())?;
    }
    Some(len)
}

/// The line breaks in `bytes` as the stream counts them (CRLF, LF or CR),
/// and the bytes they take.
fn line_breaks(bytes: &[u8]) -> (usize, usize) {
    // Counted 128 bytes at a time in byte-wide counters: a fixed trip
    // count the compiler turns into vector compares and adds.
    let count = |block: &[u8]| {
        let (mut ends, mut cr) = (0u8, 0u8);
        for &b in block {
            ends += u8::from(b == b'\r') | u8::from(b == b'\n');
            cr += u8::from(b == b'\r');
        }
        (usize::from(ends), usize::from(cr))
    };
    let mut blocks = bytes.chunks_exact(128);
    let (mut ends, mut cr) = (0, 0);
    for block in blocks.by_ref() {
        let (e, c) = count(block);
        ends += e;
        cr += c;
    }
    let (e, c) = count(blocks.remainder());
    ends += e;
    cr += c;
    let mut crlf = 0;
    if cr > 0 && ends > cr {
        crlf = bytes.windows(2).filter(|pair| pair == b"\r\n").count();
    }
    (ends - crlf, ends)
}

/// Values shorter than this are searched a byte at a time.
const SHORT_VALUE: usize = 32;

/// Whether `bytes` holds any of `needles` (one may be repeated).
///
/// Event types and ids are usually a few bytes, where `memchr3` costs more
/// to pick and set up its searcher than a plain loop costs to finish.
fn has_any(bytes: &[u8], [a, b, c]: [u8; 3]) -> bool {
    if bytes.len() < SHORT_VALUE {
        bytes.iter().any(|&x| x == a || x == b || x == c)
    } else {
        memchr::memchr3(a, b, c, bytes).is_some()
    }
}

/// The first CR or LF in `bytes`, searched a byte at a time when short, as
/// in [`has_any`].
fn first_break(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < SHORT_VALUE {
        bytes.iter().position(|&b| b == b'\r' || b == b'\n')
    } else {
        memchr::memchr2(b'\r', b'\n', bytes)
    }
}

/// Digits in `u64::MAX`, 18446744073709551615.
pub(crate) const MAX_DIGITS: usize = 20;

/// Digits in `n` written in base ten.
fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// `n` in base ten, written to the end of `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; MAX_DIGITS]) -> &[u8] {
    let mut start = MAX_DIGITS;
    for slot in buf.iter_mut().rev() {
        // `n % 10 < 10`: the cast keeps the digit.
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
}

/// The lines of a text split on CR, LF and CRLF, as the stream splits them
/// (WHATWG, "Parsing an event stream": "a U+000D CARRIAGE RETURN U+000A LINE
/// FEED (CRLF) character pair, a single U+000A LINE FEED (LF) character not
/// preceded by a U+000D CARRIAGE RETURN (CR) character, and a single U+000D
/// CARRIAGE RETURN (CR) character not followed by a U+000A LINE FEED (LF)
/// character").
///
/// Unlike [`str::lines`], every line counts: `""` is one empty line, and a
/// trailing line break is followed by one: `"a\n"` is `["a", ""]`. So there
/// is always one line more than there are line breaks.
#[derive(Debug)]
struct Lines<'a> {
    /// The text's bytes.
    bytes: &'a [u8],
    /// Where the next line starts; past the end once the last line has been
    /// handed out.
    pos: usize,
    /// The decoder's line layer: the breaks ahead, a 64-byte window at a
    /// time, a CR and the LF after it taken as one.
    lines: crate::line::Lines,
    /// Needed by the line layer, for a CR that ends a chunk; a text is whole.
    scanner: Scanner,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        Lines {
            bytes,
            pos: 0,
            lines: crate::line::Lines::new(bytes, 0),
            scanner: Scanner::new(),
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (bytes, pos) = (self.bytes, self.pos);
        let rest = bytes.get(pos..)?;
        match self.lines.next(&mut self.scanner, bytes, pos) {
            Some(line) => {
                self.pos = line.next;
                bytes.get(pos..line.end)
            }
            None => {
                // The last line: whatever follows the last break.
                self.pos = usize::MAX;
                Some(rest)
            }
        }
    }
}

/// Where the writer puts bytes. The encoding methods make room first, so
/// `put` cannot run out of it.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

/// The unwritten part of a caller's slice, exactly the frame's length.
struct SliceSink<'d>(&'d mut [u8]);

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let dst = core::mem::take(&mut self.0);
        // Sized by `encoded_len`, so the split always succeeds; were it not,
        // the rest of the slice would be left as it is rather than panic.
        if let Some((head, tail)) = dst.split_at_mut_checked(bytes.len()) {
            head.copy_from_slice(bytes);
            self.0 = tail;
        }
    }
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

#[cfg(feature = "bytes")]
struct BufSink<'b, B: ?Sized>(&'b mut B);

#[cfg(feature = "bytes")]
impl<B: bytes::BufMut + ?Sized> Sink for BufSink<'_, B> {
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, Item, SliceStorage};

    /// The frame's bytes, checking `encoded_len` on the way.
    fn enc(frame: Frame<'_>) -> Result<([u8; 256], usize), Error> {
        let mut buf = [0u8; 256];
        let n = frame.encode_to_slice(&mut buf)?;
        assert_eq!(frame.encoded_len(), Ok(n));
        Ok((buf, n))
    }

    fn assert_encodes(frame: Frame<'_>, expected: &[u8]) {
        let (buf, n) = enc(frame).unwrap();
        assert_eq!(&buf[..n], expected, "{:?}", core::str::from_utf8(&buf[..n]));
    }

    #[test]
    fn parts_are_written_in_order() {
        assert_encodes(
            Frame::event("a\r\nb\rc\n")
                .with_retry(5)
                .with_id("1")
                .with_event_type("t")
                .with_comment("c"),
            b": c\nevent: t\nid: 1\nretry: 5\ndata: a\ndata: b\ndata: c\ndata: \n\n",
        );
    }

    #[test]
    fn every_line_of_data_is_kept() {
        assert_encodes(Frame::event(""), b"data: \n\n");
        assert_encodes(Frame::event("\n"), b"data: \ndata: \n\n");
        assert_encodes(Frame::event("\r\n"), b"data: \ndata: \n\n");
        assert_encodes(Frame::event("\n\r"), b"data: \ndata: \ndata: \n\n");
        assert_encodes(Frame::event("\r\r\n"), b"data: \ndata: \ndata: \n\n");
        assert_encodes(Frame::event("a\n\nb"), b"data: a\ndata: \ndata: b\n\n");
        assert_encodes(Frame::event(" x"), b"data:  x\n\n");
        assert_encodes(Frame::event(":x: y"), b"data: :x: y\n\n");
    }

    #[test]
    fn standalone_frames() {
        assert_encodes(KEEPALIVE, b": keepalive\n\n");
        assert_encodes(Frame::comment(""), b": \n\n");
        assert_encodes(Frame::comment("a\r\nb\r"), b": a\n: b\n: \n\n");
        assert_encodes(Frame::retry(0), b"retry: 0\n\n");
        assert_encodes(Frame::retry(u64::MAX), b"retry: 18446744073709551615\n\n");
        assert_encodes(Frame::id(""), b"id: \n\n");
        assert_encodes(Frame::default(), b"\n");
        assert_encodes(
            Frame::event("x").with_event_type(""),
            b"event: \ndata: x\n\n",
        );
    }

    #[test]
    fn decimal_digits() {
        let mut buf = [0u8; MAX_DIGITS];
        for (n, s) in [
            (0, "0"),
            (9, "9"),
            (10, "10"),
            (99, "99"),
            (100, "100"),
            (1_000_000_007, "1000000007"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(decimal(n, &mut buf), s.as_bytes());
            assert_eq!(decimal_len(n), s.len());
        }
    }

    #[test]
    fn lines_split_like_the_stream() {
        fn check(text: &str, expected: &[&str]) {
            let mut lines = Lines::new(text);
            for e in expected {
                assert_eq!(lines.next(), Some(e.as_bytes()), "{text:?}");
            }
            assert_eq!(lines.next(), None, "{text:?}");
            assert_eq!(lines.next(), None, "{text:?}");
        }
        check("", &[""]);
        check("a", &["a"]);
        check("a\r\nb\nc\rd", &["a", "b", "c", "d"]);
        check("\r\r\n\n\r", &["", "", "", "", ""]);
        check("\n\r", &["", "", ""]);
        check("a\r", &["a", ""]);
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn line_breaks_count_as_lines_does() {
        use alloc::{string::String, vec::Vec};
        // Breaks of every kind, also across the counter's 255-byte blocks.
        let mut texts: Vec<String> = ["", "a", "a\r\nb\nc\rd", "\r\r\n\n\r", "\n\r", "a\r"]
            .map(String::from)
            .to_vec();
        for at in [253, 254, 255, 256, 509, 510] {
            let mut text = "x".repeat(600);
            text.replace_range(at..at + 2, "\r\n");
            text.replace_range(100..101, "\r");
            text.replace_range(400..401, "\n");
            texts.push(text);
        }
        texts.push("\r\n".repeat(300));
        texts.push("\n\r".repeat(300));
        for text in &texts {
            let lines: Vec<&[u8]> = Lines::new(text).collect();
            let line_bytes: usize = lines.iter().map(|l| l.len()).sum();
            let expected = (lines.len() - 1, text.len() - line_bytes);
            assert_eq!(line_breaks(text.as_bytes()), expected, "{text:?}");
            let frame = Frame::event(text);
            let written = frame.to_vec().unwrap();
            assert_eq!(frame.encoded_len(), Ok(written.len()), "{text:?}");
        }
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn lf_data_writes_what_lines_does() {
        use alloc::{string::String, vec::Vec};
        // LF-only data of every shape: short and long lines, lines across
        // window edges, more lines than `KEPT_ENDS`, empty lines, leading
        // and trailing LFs, a first LF past the first window.
        let mut texts: Vec<String> = ["\n", "a\n", "\na", "a\nb", "\n\n", "a\n\nb\n"]
            .map(String::from)
            .to_vec();
        for (line, lines) in [
            (1, 70),
            (3, 20),
            (40, 8),
            (63, 5),
            (64, 4),
            (65, 4),
            (200, 3),
        ] {
            for trailing in [false, true] {
                let mut text = (0..lines)
                    .map(|i| "y".repeat(line + i % 3))
                    .collect::<Vec<_>>()
                    .join("\n");
                if trailing {
                    text.push('\n');
                }
                texts.push(text);
            }
        }
        texts.push("\n".repeat(KEPT_ENDS + 1));
        texts.push("\n".repeat(200));
        texts.push("a\n".repeat(100));
        texts.push(alloc::format!("{}\n{}", "z".repeat(130), "\n".repeat(40)));
        for text in &texts {
            let frame = Frame::event(text).with_id("1");
            let mut lf = LfBreaks::new();
            let plan = frame.plan(&mut lf).unwrap();
            assert!(matches!(plan.data_lines, DataLines::Lf), "{text:?}");
            assert_eq!(lf.count, text.matches('\n').count(), "{text:?}");
            // The general path: `Lines`, three puts a line.
            let mut expected = b"id: 1\n".to_vec();
            put_lines(&mut expected, DATA, text);
            expected.push(b'\n');
            assert_eq!(frame.to_vec().unwrap(), expected, "{text:?}");
            assert_eq!(plan.len, expected.len(), "{text:?}");
            let mut buf = [0u8; 2048];
            let n = frame.encode_to_slice(&mut buf).unwrap();
            assert_eq!(&buf[..n], &expected[..], "{text:?}");
        }
        // One CR anywhere sends the data down the general path.
        for text in [
            "a\nb\r",
            "\ra\nb",
            "a\r\nb",
            &alloc::format!("{}\r\n", "x\n".repeat(40)),
        ] {
            let mut lf = LfBreaks::new();
            let plan = Frame::event(text).plan(&mut lf).unwrap();
            assert!(matches!(plan.data_lines, DataLines::Mixed), "{text:?}");
        }
    }

    #[test]
    fn invalid_frames_write_nothing() {
        let cases = [
            (
                Frame::event("x").with_event_type("a\rb"),
                Error::InvalidEventType,
            ),
            (
                Frame::event("x").with_event_type("a\nb"),
                Error::InvalidEventType,
            ),
            (
                Frame::event("x").with_event_type("\r\n"),
                Error::InvalidEventType,
            ),
            (Frame::id("\0"), Error::InvalidId),
            (Frame::id("1\r"), Error::InvalidId),
            (Frame::id("\n1"), Error::InvalidId),
            // The type is checked first.
            (
                Frame::id("\n").with_event_type("\n"),
                Error::InvalidEventType,
            ),
        ];
        for (frame, e) in cases {
            let mut buf = [0xAAu8; 64];
            assert_eq!(frame.validate(), Err(e));
            assert_eq!(frame.encoded_len(), Err(e));
            assert_eq!(frame.encode_to_slice(&mut buf), Err(e));
            assert_eq!(buf, [0xAA; 64]);
        }
        // NUL is fine in an event type, data and comments.
        assert_encodes(
            Frame::event("\0").with_event_type("\0").with_comment("\0"),
            b": \0\nevent: \0\ndata: \0\n\n",
        );
    }

    #[test]
    fn short_buffers_are_left_untouched() {
        let frame = Frame::event("a\nb").with_id("1").with_retry(10);
        let len = frame.encoded_len().unwrap();
        for size in 0..len {
            let mut buf = [0x55u8; 64];
            assert_eq!(
                frame.encode_to_slice(&mut buf[..size]),
                Err(Error::BufferTooSmall { required: len })
            );
            assert_eq!(buf, [0x55; 64]);
        }
        let mut buf = [0x55u8; 64];
        assert_eq!(frame.encode_to_slice(&mut buf), Ok(len));
        assert!(buf[len..].iter().all(|&b| b == 0x55));
    }

    #[test]
    fn decodes_back_without_a_heap() {
        let frame = Frame::event("one\r\ntwo\r")
            .with_event_type("t")
            .with_id("9");
        let (buf, n) = enc(frame).unwrap();
        let (mut body, mut meta) = ([0u8; 128], [0u8; 64]);
        let mut decoder =
            Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta));
        let mut input = &buf[..n];
        let item = decoder.decode(&mut input);
        assert!(input.is_empty());
        let Ok(Some(Item::Event(event))) = item else {
            panic!("{item:?}")
        };
        assert_eq!(
            (event.event_type(), event.id(), event.data()),
            ("t", "9", "one\ntwo\n")
        );
        // And the decoded event re-encodes to the same bytes.
        let (again, m) = enc(Frame::from(event)).unwrap();
        assert_eq!(&again[..m], &buf[..n]);
    }

    #[test]
    fn keepalive_is_a_const_comment() {
        const PING: Frame<'static> = Frame::comment("ping").with_retry(1);
        assert_eq!(KEEPALIVE, Frame::comment("keepalive"));
        assert_encodes(PING, b": ping\nretry: 1\n\n");
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn vec_appends_or_leaves_alone() {
        let mut out = alloc::vec::Vec::from(&b"old"[..]);
        Frame::event("x").encode_to_vec(&mut out).unwrap();
        assert_eq!(out, b"olddata: x\n\n");
        assert_eq!(
            Frame::id("\n").encode_to_vec(&mut out),
            Err(Error::InvalidId)
        );
        assert_eq!(out, b"olddata: x\n\n");
        let v = Frame::event("x").to_vec().unwrap();
        assert_eq!((v.len(), v.capacity()), (9, 9));
    }

    #[cfg(feature = "bytes")]
    #[test]
    fn buf_mut_is_checked_before_writing() {
        let mut backing = [0u8; 8];
        let mut dst = &mut backing[..];
        assert_eq!(
            Frame::event("hello").encode_to_buf(&mut dst),
            Err(Error::BufferTooSmall { required: 13 })
        );
        assert_eq!(backing, [0; 8]);
        let mut backing = [0u8; 13];
        let mut dst = &mut backing[..];
        Frame::event("hello").encode_to_buf(&mut dst).unwrap();
        assert!(dst.is_empty());
        assert_eq!(&backing, b"data: hello\n\n");
    }
}
