//! The decoder: chunks of a stream in, [`Item`]s out.
//!
//! # How a chunk travels
//!
//! [`Decoder::decode`] takes the input and runs the one line loop
//! ([`engine`]) over it. The loop finds line ends a 64-byte window at a time
//! ([`Lines`](crate::line::Lines)), classifies each line as a borrowed field
//! ([`classify`](crate::field::classify)) and applies that field's rule of
//! the WHATWG "Interpreting an event stream" section, each rule written once
//! (`engine.rs`, `Decoder::on_line` and `Decoder::dispatch`). It stops
//! at the first item (a dispatched event, an accepted `retry`, a comment) or
//! at the end of the input; the item is then made from positions
//! ([`build`]), validating each text once.
//!
//! The values of the event being assembled stay where they are while they
//! can: a value in the input is a range of it, and an event whose lines all
//! arrived in one input is handed out as slices of it (its data too, when it
//! has one `data` line). What must outlive the input moves to storage:
//!
//! - `body`: the data buffer once it has two values, or once the input it
//!   was in is gone, then a line whose terminator has not arrived.
//! - `meta` ([`Meta`]): the last event ID (kept as text), and the event
//!   type and pending id once the input they were in is gone.
//!
//! # What outlives a call
//!
//! - the scanner's two chunk-straddling facts: a CR that ended the last
//!   input (skip an LF that opens the next), and the byte-order mark matched
//!   so far ([`Scanner`]);
//! - the event in progress (data, type, pending id), in storage;
//! - a partial line, in `body`;
//! - the last event ID and the reconnection time;
//! - recovery after an error: skip to the next blank line ([`Discard`]).
//!
//! [`decode_bytes`](Decoder::decode_bytes) (`bytes`) runs the same loop with
//! one difference of storage, not of rules: the caller's read buffer keeps
//! the bytes of an unfinished event, so nothing is copied out of it and a
//! finished event is a slice of it.

pub(crate) mod build;
pub(crate) mod engine;

use crate::event::Item;
use crate::line::Scanner;
use crate::storage::{Full, Storage};
use crate::trusted::meta::Meta;
use crate::utf8::Utf8;
use crate::{Error, Limits};
use engine::{Discard, Mode, Pending};

/// The streaming, zero-copy `text/event-stream` decoder.
///
/// Feed it chunks of a stream exactly as they arrive; each
/// [`decode`](Decoder::decode) call returns the next [`Item`] and advances
/// the chunk past the bytes it used. Any split of the stream into chunks
/// gives the same items.
///
/// Methods, by family:
/// - construct: [`new`](Decoder::new) (`alloc`), [`from_storage`](Decoder::from_storage)
///   (any [`Storage`], e.g. a fixed buffer), then [`with_limits`](Decoder::with_limits),
///   [`with_utf8`](Decoder::with_utf8);
/// - decode: [`decode`](Decoder::decode) in a loop (or [`feed`](Decoder::feed)
///   with a callback), then [`finish`](Decoder::finish) at end of stream;
///   `decode_bytes` under the `bytes` feature;
/// - reconnect: [`last_event_id`](Decoder::last_event_id), [`retry`](Decoder::retry),
///   [`set_last_event_id`](Decoder::set_last_event_id), [`reset`](Decoder::reset);
/// - inspect: [`limits`](Decoder::limits), [`buffered_len`](Decoder::buffered_len),
///   [`offset`](Decoder::offset).
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "alloc")] {
/// use sse_codec::{Decoder, Item};
///
/// let mut decoder = Decoder::new();
/// let mut seen = Vec::new();
/// for mut chunk in [&b"event: greet\ndata: hel"[..], b"lo\nid: 1\n\ndata: x\n", b"\n"] {
///     while let Some(item) = decoder.decode(&mut chunk)? {
///         if let Item::Event(ev) = item {
///             seen.push(format!("{}:{}:{}", ev.event_type(), ev.id(), ev.data()));
///         }
///     }
/// }
/// decoder.finish();
/// assert_eq!(seen, ["greet:1:hello", "message:1:x"]);
/// # }
/// # Ok::<(), sse_codec::Error>(())
/// ```
#[derive(Debug)]
pub struct Decoder<S> {
    pub(crate) limits: Limits,
    pub(crate) utf8: Utf8,
    pub(crate) scanner: Scanner,
    /// Stream offset of `input[0]` of the call under way.
    pub(crate) offset: u64,
    /// `[data buffer | partial line | a completed line, until the next call]`
    pub(crate) body: S,
    pub(crate) meta: Meta<S>,
    /// The event being assembled.
    pub(crate) event: Pending,
    /// `body[event.data_len()..][..partial_len]` is a line whose terminator
    /// has not arrived (slice mode).
    pub(crate) partial_len: usize,
    /// Stream offset of the partial line's first byte.
    pub(crate) partial_offset: u64,
    /// `decode_bytes` only: the partial line starts at `input[line_start]`
    /// and `input[line_start..scanned]` holds no line end.
    pub(crate) line_start: usize,
    /// See `line_start`; `line_start <= scanned`.
    pub(crate) scanned: usize,
    pub(crate) discard: Discard,
    /// The reconnection time from the last accepted `retry` field.
    pub(crate) retry: Option<u64>,
    /// Events dispatched since the stream began.
    pub(crate) dispatched: u64,
    /// What `Bytes` events own that is not in the read buffer.
    #[cfg(feature = "bytes")]
    pub(crate) owned: crate::bytes_event::Owned,
}

#[cfg(feature = "alloc")]
impl Decoder<alloc::vec::Vec<u8>> {
    /// A decoder with heap storage and the default [`Limits`].
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[must_use]
    pub fn new() -> Self {
        Self::from_storage(alloc::vec::Vec::new(), alloc::vec::Vec::new())
    }
}

#[cfg(feature = "alloc")]
impl Default for Decoder<alloc::vec::Vec<u8>> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage> Decoder<S> {
    /// A decoder over caller-chosen storage, with the default [`Limits`].
    ///
    /// `body` holds the data of an event that spans several lines or
    /// chunks and any line split across chunks; `meta` holds the last event
    /// ID and the event type and id of the event in progress. With
    /// [`SliceStorage`](crate::SliceStorage) nothing is ever allocated.
    ///
    /// Sizing fixed buffers: a `body` of `max_line_len + max_event_size`
    /// and a `meta` of `2 * max_id_len + max_line_len` never see
    /// [`Error::StorageFull`] on valid UTF-8. Under [`Utf8::Lossy`], an item
    /// holding invalid UTF-8 also needs room in `meta` for its
    /// U+FFFD-replaced copy (up to three times the bytes replaced).
    ///
    /// Whether a buffer overflows does not depend on how the input was
    /// chunked: the decoder counts what a stream would need kept if every
    /// line had been cut by a chunk boundary (the data buffer so far plus
    /// the line in `body`; the last event ID, type and pending id in
    /// `meta`), and fails with [`Error::StorageFull`] when that exceeds the
    /// buffer, wherever the bytes happen to be.
    #[must_use]
    pub fn from_storage(mut body: S, meta: S) -> Self {
        body.truncate_to(0);
        Decoder {
            limits: Limits::new(),
            utf8: Utf8::Lossy,
            scanner: Scanner::new(),
            offset: 0,
            body,
            meta: Meta::new(meta),
            event: Pending::default(),
            partial_len: 0,
            partial_offset: 0,
            line_start: 0,
            scanned: 0,
            discard: Discard::No,
            retry: None,
            dispatched: 0,
            #[cfg(feature = "bytes")]
            #[cfg(feature = "bytes")]
            owned: crate::bytes_event::Owned::default(),
        }
    }

    /// Sets the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets what to do with invalid UTF-8.
    #[must_use]
    pub fn with_utf8(mut self, utf8: Utf8) -> Self {
        self.utf8 = utf8;
        self
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The last event ID: the value of the last `id` field (without
    /// U+0000) of a completed event block, or the seeded value; empty if
    /// none. This is what a client sends as `Last-Event-ID` when it
    /// reconnects.
    ///
    /// It is the spec's "last event ID string": text decoded from the
    /// stream as UTF-8, so invalid sequences in the `id` value were replaced
    /// with U+FFFD (under [`Utf8::Strict`] they are an error instead). An
    /// `id` in an event block whose blank line has not arrived yet is not
    /// reflected.
    #[must_use]
    pub fn last_event_id(&self) -> &[u8] {
        self.meta.id_str().as_bytes()
    }

    /// Seeds the last event ID, for a connection that resumes a stream.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`] if `id` contains U+0000, CR or LF (no stream
    /// could have set it); [`Error::IdTooLong`] past
    /// [`Limits::max_id_len`]; [`Error::StorageFull`] if fixed storage has
    /// no room.
    pub fn set_last_event_id(&mut self, id: &str) -> Result<(), Error> {
        if id.bytes().any(|b| matches!(b, b'\0' | b'\r' | b'\n')) {
            return Err(Error::InvalidId);
        }
        let limit = self.limits.max_id_len();
        if id.len() > limit {
            return Err(Error::IdTooLong {
                limit,
                offset: self.offset,
            });
        }
        self.meta
            .set_id(id)
            .map_err(|Full| self.full_meta(self.offset))
    }

    /// The reconnection time set by the last accepted `retry` field, in
    /// milliseconds.
    #[must_use]
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Stream offset of the next byte to be decoded.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Events dispatched since the stream began (since the decoder was
    /// made, or since the last [`finish`](Self::finish)), whether or not
    /// handing one out then failed. A client's
    /// [`ReconnectPolicy`](crate::ReconnectPolicy) counts a connection as
    /// healthy only when it delivered one.
    #[must_use]
    pub fn dispatched(&self) -> u64 {
        self.dispatched
    }

    /// Bytes held in storage right now: partial line, data buffer, event
    /// type, ids and any scratch. Bounded as described in [`Limits`].
    #[must_use]
    pub fn buffered_len(&self) -> usize {
        self.body.bytes().len() + self.meta.len()
    }

    /// Ends the stream: an unfinished event and any partial line are
    /// discarded, as the spec requires at end of stream.
    ///
    /// The decoder is then ready for the next stream, a reconnection: it
    /// keeps its limits, its last event ID and its reconnection time. The
    /// kept ID is what a client sends as `Last-Event-ID`, and it stays the
    /// id of events on the new stream until the stream sets another.
    ///
    /// Project decision: the spec, read to the letter, starts each stream's
    /// last event ID buffer empty, so that the first event of a resumed
    /// stream without an `id` would report `""`; browsers (and this decoder)
    /// keep the ID the connection resumed from. Call [`reset`](Self::reset)
    /// for the letter of the spec.
    pub fn finish(&mut self) {
        self.scanner = Scanner::new();
        self.offset = 0;
        self.dispatched = 0;
        (self.line_start, self.scanned) = (0, 0);
        self.drop_event(Discard::No);
    }

    /// Like [`finish`](Self::finish), and also forgets the last event ID and
    /// the reconnection time: a decoder as new.
    pub fn reset(&mut self) {
        self.finish();
        self.retry = None;
        // Shrinking never needs room.
        let _ = self.meta.set_id("");
    }

    /// Decodes from the front of `input` up to the next [`Item`], and
    /// advances `input` past the bytes used.
    ///
    /// Returns as soon as an event is dispatched or a `retry` or comment line
    /// ends; `Ok(None)` when `input` is used up (it is then empty), any
    /// partial line waiting inside the decoder. The item borrows `input` and
    /// the decoder: an event whose lines all arrived in this `input` is
    /// handed out as slices of it, its data too when it has one `data`
    /// line; otherwise its values were copied to storage. Never panics, and
    /// never rescans a partial line for its terminator: only new bytes are
    /// searched.
    ///
    /// # Errors
    ///
    /// A limit ([`Limits`]), a full fixed buffer, or invalid UTF-8 under
    /// [`Utf8::Strict`]: see [`Error`]. `input` is advanced past the bytes
    /// used on error too, and the decoder has already recovered (it skips to
    /// the next blank line), so keep calling for what follows.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "alloc")] {
    /// use sse_codec::{Decoder, Item};
    ///
    /// let mut decoder = Decoder::new();
    /// let mut input = &b"data: one\n\n: ping\ndata: cut"[..];
    /// let Some(Item::Event(event)) = decoder.decode(&mut input)? else { panic!() };
    /// assert_eq!(event.data(), "one");
    /// assert_eq!(decoder.decode(&mut input)?, Some(Item::Comment("ping")));
    /// assert_eq!(decoder.decode(&mut input)?, None); // "data: cut" waits inside
    /// assert!(input.is_empty());
    /// # }
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn decode<'d, 'i: 'd>(
        &'d mut self,
        input: &mut &'i [u8],
    ) -> Result<Option<Item<'d>>, Error> {
        let bytes: &'i [u8] = input;
        let (consumed, found) = self.run(bytes, Mode::Slice);
        *input = bytes.get(consumed..).unwrap_or_default();
        self.offset += consumed as u64;
        match found {
            Ok(Some(found)) => self.build(bytes, found).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Decodes all of `input`, handing each item or error to `on_item`.
    ///
    /// A convenience over [`decode`](Self::decode) for callers that do not
    /// need to stop mid-chunk.
    ///
    /// ```
    /// # #[cfg(feature = "alloc")] {
    /// use sse_codec::{Decoder, Item};
    ///
    /// let mut decoder = Decoder::new();
    /// let mut data = String::new();
    /// decoder.feed(b"data: a\n\n: ping\n\ndata: b\n\n", |item| {
    ///     if let Ok(Item::Event(ev)) = item {
    ///         data.push_str(ev.data());
    ///     }
    /// });
    /// assert_eq!(data, "ab");
    /// # }
    /// ```
    pub fn feed<F>(&mut self, mut input: &[u8], mut on_item: F)
    where
        F: FnMut(Result<Item<'_>, Error>),
    {
        loop {
            match self.decode(&mut input) {
                Ok(Some(item)) => on_item(Ok(item)),
                Ok(None) => return,
                Err(e) => on_item(Err(e)),
            }
        }
    }

    pub(crate) fn full_body(&self, offset: u64) -> Error {
        Error::StorageFull {
            capacity: self.body.fixed_capacity().unwrap_or(usize::MAX),
            offset,
        }
    }

    pub(crate) fn full_meta(&self, offset: u64) -> Error {
        Error::StorageFull {
            capacity: self.meta.fixed_capacity().unwrap_or(usize::MAX),
            offset,
        }
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests;
