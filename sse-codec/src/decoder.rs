//! Fields become events under the WHATWG dispatch rules.

use crate::event::{Event, Item};
use crate::field::{classify, parse_retry, Kind};
use crate::line::{Eol, Scanner, Windows};
use crate::meta::{Meta, Slot};
use crate::storage::{Full, Storage};
use crate::utf8::{push_lossy, push_lossy_within, strict_utf8, validate, validate_within, Utf8};
use crate::{Error, Limits};
use core::ops::Range;

/// The result of one [`Decoder::decode`] or [`FieldDecoder::decode`](crate::FieldDecoder::decode) call.
#[must_use = "`consumed` says where the next call's input starts"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<T> {
    /// Bytes of `input` this call used, also on error; the caller MUST pass
    /// `&input[consumed..]` (followed by any later bytes) next.
    pub consumed: usize,
    /// `Ok(Some(_))`: the next item. `Ok(None)`: `input` is used up
    /// (`consumed == input.len()`) and any partial line waits in storage.
    /// `Err(_)`: see [`Error`]; the decoder has already recovered, so keep
    /// calling if you want what follows.
    pub item: Result<Option<T>, Error>,
}

/// The streaming, zero-copy `text/event-stream` decoder.
///
/// Feed it chunks of a stream exactly as they arrive; it returns one
/// [`Item`] at a time and how many bytes of the chunk it used. Any split of
/// the stream into chunks gives the same items.
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
/// for chunk in [&b"event: greet\ndata: hel"[..], b"lo\nid: 1\n\ndata: x\n", b"\n"] {
///     let mut rest = chunk;
///     loop {
///         let step = decoder.decode(rest);
///         rest = &rest[step.consumed..];
///         match step.item? {
///             Some(Item::Event(ev)) => seen.push(format!("{}:{}:{}", ev.event_type(), ev.id(), ev.data())),
///             Some(_) => {} // a retry or a comment
///             None => break, // need more input
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
    limits: Limits,
    utf8: Utf8,
    scanner: Scanner,
    /// Stream offset of the next input byte.
    offset: u64,
    /// `[data buffer | partial line | scratch]`
    body: S,
    /// `body[data_start..data_len]` is the data buffer: every value followed
    /// by LF. `data_start` is 0 unless the first data line completed a
    /// partial line, which is then left in place with its `data: ` prefix
    /// before `data_start`, rather than moved.
    data_start: usize,
    /// The end of the data buffer; `data_start <= data_len`.
    data_len: usize,
    /// `body[data_len..data_len + partial_len]` is a line whose terminator
    /// has not arrived.
    partial_len: usize,
    /// Stream offset of the partial line's first byte.
    partial_offset: u64,
    meta: Meta<S>,
    discard: Discard,
    /// The reconnection time from the last accepted `retry` field.
    retry: Option<u64>,
    /// Recently handed-out `Bytes`, for `decode_bytes`.
    #[cfg(feature = "bytes")]
    pub(crate) recent: crate::bytes_event::Recent,
}

/// Recovery after an error: what to skip before decoding resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Discard {
    No,
    /// The rest of an overlong line, then [`Discard::Block`].
    RestOfLine,
    /// Lines up to and including the next blank line. `line_empty`: no byte
    /// of the current line has been seen.
    Block {
        line_empty: bool,
    },
}

/// The event's values whose bytes are still in this call's `input`; moved to
/// storage if the event is not dispatched in this call.
#[derive(Debug, Default)]
struct InInput {
    /// The first data value, while it is the only one.
    data: Option<Range<usize>>,
    /// The event type.
    event_type: Option<Range<usize>>,
    /// The pending id (also in storage: that copy survives the call).
    id: Option<Range<usize>>,
}

impl InInput {
    fn is_empty(&self) -> bool {
        self.data.is_none() && self.event_type.is_none() && self.id.is_none()
    }
}

/// What [`Decoder::lone_data_event`] made of the line at hand.
enum Lone {
    /// An event is in progress or being skipped, or in strict mode:
    /// nothing was looked at.
    No,
    /// No event in progress, but the line at hand does not start with
    /// `data:`: nothing was searched.
    Idle,
    /// A `data` line, but not a lone event: the general path takes over
    /// with the line end found (`None`: the line does not end in `input`).
    Searched(Option<Eol>),
    /// A `data` line within the limits, not followed by a blank line: its
    /// end, and where its value is in `input`.
    More(Eol, Range<usize>),
    /// An event: where the input after its blank line starts, and where
    /// its data value is in `input`.
    Event(usize, Range<usize>),
    /// An event whose `data` line began in an earlier input: where the
    /// input after its blank line starts, and where its data value is in
    /// the body, where the line was completed.
    Stored(usize, Range<usize>),
}

/// Where [`Decoder::fast_lines`] stopped.
enum Fast {
    /// At a blank line that ends an event with data: where the input after
    /// it starts, and the event's values in `input`.
    Blank(usize, InInput),
    /// At a line it leaves to the general path: where it starts, the event
    /// so far, and the line's end if it is in `input`.
    Other(usize, InInput, Option<Eol>),
}

/// Where the bytes of a value are.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Src {
    Input(Range<usize>),
    Body(Range<usize>),
    Meta(Range<usize>),
}

impl Src {
    fn range(&self) -> Range<usize> {
        match self {
            Src::Input(r) | Src::Body(r) | Src::Meta(r) => r.clone(),
        }
    }
}

/// What a decode step found, as positions: no borrows, so the decoder stays
/// free to finish its bookkeeping before the item is built.
enum Found {
    Event {
        data: Src,
        event_type: Option<Src>,
        id: Src,
    },
    Retry(u64),
    Comment(Src),
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
    /// Sizing fixed buffers: with valid UTF-8 (or [`Utf8::Strict`]), a
    /// `body` of `max_line_len + max_event_size` and a `meta` of
    /// `2 * max_id_len + max_line_len` never see [`Error::StorageFull`].
    /// Under [`Utf8::Lossy`], an item holding invalid UTF-8 also needs room
    /// for its U+FFFD-replaced copy (up to three times the bytes replaced)
    /// at the end of the buffer holding it, so leave headroom or expect
    /// `StorageFull` for such items. Whether a too-small buffer overflows can
    /// depend on chunking; the limit errors never do.
    #[must_use]
    pub fn from_storage(mut body: S, meta: S) -> Self {
        body.truncate_to(0);
        Decoder {
            limits: Limits::new(),
            utf8: Utf8::Lossy,
            scanner: Scanner::new(),
            offset: 0,
            body,
            data_start: 0,
            data_len: 0,
            partial_len: 0,
            partial_offset: 0,
            meta: Meta::new(meta),
            discard: Discard::No,
            retry: None,
            #[cfg(feature = "bytes")]
            recent: crate::bytes_event::Recent::default(),
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

    /// The last event ID, as received: the value of the last `id` field
    /// (without U+0000) of a completed event block, or the seeded value;
    /// empty if none. Raw bytes, because that is what goes back in the
    /// `Last-Event-ID` header; [`Event::id`] has it as text.
    ///
    /// This is what a client sends as `Last-Event-ID` when it reconnects.
    /// An `id` in an event block whose blank line has not arrived yet is not
    /// reflected, matching the spec's "last event ID string".
    #[must_use]
    pub fn last_event_id(&self) -> &[u8] {
        &self.meta.buf.bytes()[self.meta.id()]
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
            .set_id(id.as_bytes())
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
        self.drop_event(Discard::No);
    }

    /// Like [`finish`](Self::finish), and also forgets the last event ID and
    /// the reconnection time: a decoder as new.
    pub fn reset(&mut self) {
        self.finish();
        self.retry = None;
        // Shrinking never needs room.
        let _ = self.meta.set_id(b"");
    }

    /// Decodes from `input` up to the next [`Item`].
    ///
    /// Returns as soon as an event is dispatched or a `retry` or comment line
    /// ends, or when `input` is used up. The item borrows `input` and the
    /// decoder: when an event's data is a single line, and that line and the
    /// rest of the event up to its blank line arrive in one `input` with no
    /// `retry` or comment line in between, the data is a slice of `input`;
    /// otherwise it was copied to storage. Never panics, and never rescans a
    /// partial line for its terminator: only new bytes are searched.
    ///
    /// See [`Decoded`] for what to do with the result.
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> Decoded<Item<'a>> {
        let mut hint = None;
        if self.scanner.is_settled() {
            let lone = if self.partial_len == 0 {
                self.lone_data_event(input, 0)
            } else {
                self.completed_data_event(input)
            };
            match lone {
                Lone::Event(next, value) => return self.lone_event(input, next, value),
                Lone::Stored(next, value) => return self.stored_event(input, next, value),
                Lone::More(eol, value) => {
                    if self.growable() {
                        let after = eol.len + eol.terminator;
                        let pending = InInput {
                            data: Some(value),
                            ..InInput::default()
                        };
                        return self.whole_event(input, after, pending);
                    }
                    hint = Some(Some(eol));
                }
                Lone::Searched(eol) => hint = Some(eol),
                // An `event` or `id` line: the rest of the event is likely
                // in `input` too. (Comments, `retry` and blank lines are
                // items or nothing: the general path takes them directly.)
                Lone::Idle if self.growable() && matches!(input.first(), Some(b'e' | b'i')) => {
                    return self.whole_event(input, 0, InInput::default());
                }
                Lone::Idle | Lone::No => {}
            }
        }
        let (consumed, found) = self.step(input, hint);
        self.finish_step(input, consumed, found)
    }

    /// What a call ends with when a line loop found an item (or none): the
    /// offset moves past the bytes used, and the item is built.
    #[inline(always)]
    fn finish_step<'a>(
        &'a mut self,
        input: &'a [u8],
        consumed: usize,
        found: Result<Option<Found>, Error>,
    ) -> Decoded<Item<'a>> {
        self.offset += consumed as u64;
        let item = match found {
            Ok(None) => Ok(None),
            Ok(Some(found)) => self.build(input, found).map(Some),
            Err(e) => Err(e),
        };
        Decoded { consumed, item }
    }

    /// Hands out the event [`lone_data_event`](Self::lone_data_event)
    /// found at the start of `input`, without the general path's
    /// bookkeeping: its data is `input[value]`, it has no type, and its id is
    /// the last event ID.
    #[inline]
    fn lone_event<'a>(
        &'a mut self,
        input: &'a [u8],
        next: usize,
        value: Range<usize>,
    ) -> Decoded<Item<'a>> {
        self.offset += next as u64;
        // What the general path does at the start of a call: the previous
        // item's leftovers go.
        self.body.truncate_to(self.data_len);
        let id_valid = self.meta.drop_scratch_of_idle();
        let id = self.meta.id();
        let raw_data = input.get(value.clone()).unwrap_or_default();
        if id_valid {
            if let Some(data) = validate_within(input, value.clone()) {
                return Decoded {
                    consumed: next,
                    item: Ok(Some(untyped_event(data, raw_data, &self.meta))),
                };
            }
        }
        // Invalid UTF-8 somewhere: the general path replaces it.
        let found = Found::Event {
            data: Src::Input(value),
            event_type: None,
            id: Src::Meta(id),
        };
        Decoded {
            consumed: next,
            item: self.build(input, found).map(Some),
        }
    }

    /// Hands out the event [`completed_data_event`](Self::completed_data_event)
    /// found: its data is `body[value]`, it has no type, and its id is the
    /// last event ID. The completed line stays in the body until the next
    /// call.
    ///
    /// The twin of [`lone_event`](Self::lone_event), kept apart on purpose:
    /// one function taking the data's source measured 27% more instructions
    /// per byte on `llm-tokens` (callgrind), the hottest path of all.
    #[inline]
    fn stored_event<'a>(
        &'a mut self,
        input: &'a [u8],
        next: usize,
        value: Range<usize>,
    ) -> Decoded<Item<'a>> {
        self.offset += next as u64;
        let id_valid = self.meta.drop_scratch_of_idle();
        let id = self.meta.id();
        let full = self.full_meta(self.offset);
        let body: &'a [u8] = self.body.bytes();
        let raw_data = body.get(value.clone()).unwrap_or_default();
        if id_valid {
            if let Some(data) = validate(raw_data) {
                return Decoded {
                    consumed: next,
                    item: Ok(Some(untyped_event(data, raw_data, &self.meta))),
                };
            }
        }
        // Invalid UTF-8 somewhere: the general path replaces it.
        let found = Found::Event {
            data: Src::Body(value),
            event_type: None,
            id: Src::Meta(id),
        };
        Decoded {
            consumed: next,
            item: build_item(body, &mut self.meta, input, found, full).map(Some),
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
            let step = self.decode(input);
            input = input.get(step.consumed..).unwrap_or_default();
            match step.item {
                Ok(Some(item)) => on_item(Ok(item)),
                Ok(None) => return,
                Err(e) => on_item(Err(e)),
            }
        }
    }

    /// The work of [`decode`](Self::decode), up to positions.
    ///
    /// `hint`: the end of the first line (`None` inside: it does not end in
    /// `input`), when the caller searched for it already.
    fn step(
        &mut self,
        input: &[u8],
        hint: Option<Option<Eol>>,
    ) -> (usize, Result<Option<Found>, Error>) {
        self.body.truncate_to(self.data_len + self.partial_len);
        self.meta.drop_scratch();
        // With a hint the scanner was settled before the first line was
        // searched, and that search may have set `skip_lf` for the next input.
        let (pos, held) = if hint.is_some() {
            (0, &[][..])
        } else {
            self.scanner.prelude(input)
        };
        if !held.is_empty() {
            // Bytes held as a possible BOM start the first line, at offset 0.
            self.partial_offset = 0;
            if self.body.try_extend(held).is_err() {
                return (pos, Err(self.fail(self.full_body(0), Discard::RestOfLine)));
            }
            self.partial_len = held.len();
        }
        self.lines(input, pos, InInput::default(), hint)
    }

    /// The line loop of [`step`](Self::step), from `pos` with the event's
    /// values in `input` so far (`pending`) and, in `hint`, the end of the
    /// line at `pos` when it was searched for already.
    fn lines(
        &mut self,
        input: &[u8],
        mut pos: usize,
        mut pending: InInput,
        mut hint: Option<Option<Eol>>,
    ) -> (usize, Result<Option<Found>, Error>) {
        loop {
            let rest = &input[pos..];
            if self.discard != Discard::No {
                match self.skip(rest) {
                    Some(n) => {
                        pos += n;
                        continue;
                    }
                    None => return (input.len(), Ok(None)),
                }
            }
            let mut searched = hint.take();
            if searched.is_none() && pending.is_empty() {
                match self.lone_data_event(input, pos) {
                    Lone::Event(next, value) => {
                        let found = Found::Event {
                            data: Src::Input(value),
                            event_type: None,
                            id: Src::Meta(self.meta.id()),
                        };
                        return (next, Ok(Some(found)));
                    }
                    Lone::Searched(eol) => searched = Some(eol),
                    Lone::More(eol, _) => searched = Some(Some(eol)),
                    // `Stored` comes from `completed_data_event` only.
                    Lone::No | Lone::Idle | Lone::Stored(..) => {}
                }
            }
            let line_offset = self.offset + pos as u64;
            let eol = match searched {
                Some(eol) => eol,
                None => self.scanner.find_eol(rest),
            };
            let Some(eol) = eol else {
                return (input.len(), self.hold(input, pos, pending).map(|()| None));
            };
            let next = pos + eol.len + eol.terminator;
            let total = self.partial_len + eol.len;
            if total > self.limits.max_line_len() {
                let offset = if self.partial_len > 0 {
                    self.partial_offset
                } else {
                    line_offset
                };
                let e = Error::LineTooLong {
                    limit: self.limits.max_line_len(),
                    offset,
                };
                return (next, Err(self.fail(e, Discard::Block { line_empty: true })));
            }
            let line_end = pos + eol.len;
            let held = self.partial_len > 0;
            let result = if held {
                self.line_in_body(&input[pos..line_end])
            } else {
                self.line_in_input(input, pos..line_end, line_offset, &mut pending)
            };
            pos = next;
            match result {
                // A line held from an earlier input is complete, and the
                // rest of its event is often in this one: the fast loop
                // takes it from here when it can.
                Ok(None) if held && self.utf8 == Utf8::Lossy && self.growable() => {
                    match self.fast_lines(input, pos, core::mem::take(&mut pending)) {
                        Fast::Blank(next, found) => {
                            if let Err(e) = self.store_pending_id(input, next, &found) {
                                return (next, Err(e));
                            }
                            return (next, Ok(self.dispatch(found)));
                        }
                        Fast::Other(at, so_far, eol) => {
                            if let Err(e) = self.store_pending_id(input, at, &so_far) {
                                return (at, Err(e));
                            }
                            pos = at;
                            pending = so_far;
                            hint = Some(eol);
                        }
                    }
                }
                Ok(None) => {}
                Ok(Some(found)) => {
                    if !matches!(found, Found::Event { .. }) {
                        if let Err(e) = self.stash(input, pending, line_offset) {
                            return (pos, Err(e));
                        }
                    }
                    // Applied only once the item is sure to be handed out.
                    if let Found::Retry(ms) = found {
                        self.retry = Some(ms);
                    }
                    return (pos, Ok(Some(found)));
                }
                Err(e) => return (pos, Err(self.fail(e, Discard::Block { line_empty: true }))),
            }
        }
    }

    /// No event in progress and nothing to recover from, in lossy mode:
    /// where the fast paths may start (the partial line aside).
    #[inline(always)]
    fn is_idle(&self) -> bool {
        self.data_len == self.data_start
            && self.utf8 == Utf8::Lossy
            && self.discard == Discard::No
            && !self.meta.has_slots()
    }

    /// Whether both buffers grow on demand, so that no write can fail with
    /// [`Error::StorageFull`]: [`whole_event`](Self::whole_event) relies on
    /// it. Known at compile time for each storage type.
    #[inline(always)]
    fn growable(&self) -> bool {
        self.body.fixed_capacity().is_none() && self.meta.buf.fixed_capacity().is_none()
    }

    /// An event whose lines are all in `input` and all `data`, `event` or
    /// `id` fields, decoded in one tight loop ([`fast_lines`](Self::fast_lines))
    /// and handed out without the general path's bookkeeping: the shape of
    /// most events with more than a lone `data` line. Starts idle at `pos`
    /// (with the event's first `data` value in `pending` when
    /// [`lone_data_event`](Self::lone_data_event) found it), with growable
    /// storage. Whatever the loop does not handle goes on in
    /// [`lines`](Self::lines).
    fn whole_event<'a>(
        &'a mut self,
        input: &'a [u8],
        pos: usize,
        pending: InInput,
    ) -> Decoded<Item<'a>> {
        // What the general path does at the start of a call.
        self.body.truncate_to(self.data_len);
        self.meta.drop_scratch();
        let (consumed, found) = match self.fast_lines(input, pos, pending) {
            Fast::Blank(next, pending) => return self.whole_dispatch(input, next, pending),
            Fast::Other(pos, pending, hint) => match self.store_pending_id(input, pos, &pending) {
                Ok(()) => self.lines(input, pos, pending, Some(hint)),
                Err(e) => (pos, Err(e)),
            },
        };
        self.finish_step(input, consumed, found)
    }

    /// The line loop of the fast path: lines wholly in `input` that are
    /// `data`, `event` or `id` fields, from `pos` with the event so far
    /// (values in `input` in `pending`, data in the body, and anything in
    /// meta), in lossy mode, with no line held or skipped, on growable
    /// storage. Stops at a blank line that ends an event with data, or at
    /// the first line it does not handle: any other field, a comment, a line
    /// past a limit, an `id` it would ignore, a blank line with no data
    /// before it, or the end of `input`.
    ///
    /// Each line has the general path's outcome but one: an `id` value is
    /// left in `pending` (not written to meta) until the caller dispatches
    /// or goes on without it ([`store_pending_id`](Self::store_pending_id)).
    /// Line ends come from [`Windows`], so no line is searched twice, and
    /// the end of the line it stopped at is handed over.
    #[inline(always)]
    fn fast_lines(&mut self, input: &[u8], mut pos: usize, mut pending: InInput) -> Fast {
        let mut windows = Windows::new(input, pos);
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let eol = match windows.next(input) {
                Ok(at) if input.get(at) == Some(&b'\n') => Some(Eol {
                    len: at - pos,
                    terminator: 1,
                }),
                Ok(at) => {
                    // A CR: alone, before an LF, or at the end of `input`.
                    let eol = self.scanner.eol_at(rest, at - pos);
                    if eol.is_some_and(|eol| eol.terminator == 2) {
                        windows.skip(at + 1);
                    }
                    eol
                }
                Err(from) => {
                    let eol = self.scanner.find_eol_after(rest, from - pos);
                    if let Some(eol) = eol {
                        windows.resume(pos + eol.len + eol.terminator);
                    }
                    eol
                }
            };
            let Some(eol) = eol else {
                return Fast::Other(pos, pending, None);
            };
            let line = rest.get(..eol.len).unwrap_or_default();
            if line.len() > self.limits.max_line_len() {
                return Fast::Other(pos, pending, Some(eol));
            }
            // Where a value, the end of `line`, is in `input`.
            let at = |value: &[u8]| pos + (line.len() - value.len())..pos + line.len();
            // Values are cut from `line` by patterns rather than by index:
            // no bounds checks.
            match line {
                [] => {
                    if pending.data.is_none() && self.data_len == self.data_start {
                        return Fast::Other(pos, pending, Some(eol));
                    }
                    return Fast::Blank(pos + eol.len + eol.terminator, pending);
                }
                [b'd', b'a', b't', b'a', b':', value @ ..] => {
                    let value = after_space(value);
                    let stored = self.data_len - self.data_start;
                    let size = stored + pending.data.as_ref().map_or(0, |r| r.len() + 1);
                    if self.check_event_size(size, value.len(), 0).is_err() {
                        return Fast::Other(pos, pending, Some(eol));
                    }
                    if size == 0 {
                        pending.data = Some(at(value));
                    } else {
                        // On a failed write the general path takes the line
                        // over and reports it: the state is as it leaves it
                        // after each of these writes.
                        if let Some(first) = pending.data.take() {
                            if self
                                .push_data(input.get(first.clone()).unwrap_or_default(), 0)
                                .is_err()
                            {
                                pending.data = Some(first);
                                return Fast::Other(pos, pending, Some(eol));
                            }
                        }
                        if self.push_data(value, 0).is_err() {
                            return Fast::Other(pos, pending, Some(eol));
                        }
                    }
                }
                [b'e', b'v', b'e', b'n', b't', b':', value @ ..] => {
                    pending.event_type = Some(at(after_space(value)));
                }
                [b'i', b'd', b':', value @ ..] => {
                    let value = after_space(value);
                    // Ids are short: a plain search beats `memchr`'s set-up.
                    if value.len() > self.limits.max_id_len() || value.contains(&0) {
                        return Fast::Other(pos, pending, Some(eol));
                    }
                    pending.id = Some(at(value));
                }
                _ => return Fast::Other(pos, pending, Some(eol)),
            }
            pos += eol.len + eol.terminator;
        }
    }

    /// Writes the `id` value [`fast_lines`](Self::fast_lines) left in
    /// `pending` to meta, where the general path keeps it. Growable storage
    /// does not fill up; were it to, the event is dropped as on any error.
    fn store_pending_id(
        &mut self,
        input: &[u8],
        pos: usize,
        pending: &InInput,
    ) -> Result<(), Error> {
        let Some(id) = &pending.id else {
            return Ok(());
        };
        let value = input.get(id.clone()).unwrap_or_default();
        if self.meta.set(Slot::PendingId, value).is_err() {
            let e = self.full_meta(self.offset + pos as u64);
            return Err(self.fail(e, Discard::Block { line_empty: true }));
        }
        Ok(())
    }

    /// Dispatches the event [`whole_event`](Self::whole_event) assembled:
    /// its blank line ends at `next`.
    fn whole_dispatch<'a>(
        &'a mut self,
        input: &'a [u8],
        next: usize,
        pending: InInput,
    ) -> Decoded<Item<'a>> {
        self.offset += next as u64;
        // "Set the last event ID string of the event source to the value of
        // the last event ID buffer."
        let raw_id = pending.id.clone().map(|r| input.get(r).unwrap_or_default());
        let id = match (raw_id, pending.id) {
            (Some(value), Some(r)) => {
                if self.meta.replace_id_of_idle(value).is_err() {
                    // Growable storage does not fill up.
                    let e = self.full_meta(self.offset);
                    return Decoded {
                        consumed: next,
                        item: Err(self.fail(e, Discard::No)),
                    };
                }
                Src::Input(r)
            }
            _ => Src::Meta(self.meta.id()),
        };
        let data = match pending.data {
            Some(r) => Src::Input(r),
            None => Src::Body(self.data_start..self.data_len - 1),
        };
        self.data_start = 0;
        self.data_len = 0;
        let offset = self.offset;
        // The body is only read from here on; meta is written only if a
        // value needs its invalid UTF-8 replaced.
        let body: &'a [u8] = self.body.bytes();
        let meta = &mut self.meta;
        let data_text = match &data {
            Src::Input(r) => validate_within(input, r.clone()),
            _ => body.get(data.range()).and_then(validate),
        };
        let type_text = match &pending.event_type {
            Some(r) => input.get(r.clone()).and_then(validate),
            None => Some(""),
        };
        let id_text = match raw_id {
            Some(raw) => validate(raw),
            // Checked when it was set, unless it came from an earlier
            // stream's invalid bytes: `drop_scratch_of_idle` checks again.
            None => meta.drop_scratch_of_idle().then_some(""),
        };
        if let (Some(data), Some(event_type), Some(id)) = (data_text, type_text, id_text) {
            // Valid text is its raw bytes.
            let meta: &'a Meta<S> = meta;
            let (id, raw_id) = match raw_id {
                Some(_) => (id, id.as_bytes()),
                None => {
                    let raw = meta.buf.bytes().get(meta.id()).unwrap_or_default();
                    (validate(raw).unwrap_or_default(), raw)
                }
            };
            return Decoded {
                consumed: next,
                item: Ok(Some(Item::Event(Event {
                    event_type,
                    data,
                    id,
                    raw_event_type: event_type.as_bytes(),
                    raw_data: data.as_bytes(),
                    raw_id,
                }))),
            };
        }
        // Invalid UTF-8 somewhere: the general path replaces it.
        let found = Found::Event {
            data,
            event_type: pending.event_type.map(Src::Input),
            id,
        };
        let full = Error::StorageFull {
            capacity: meta.buf.fixed_capacity().unwrap_or(usize::MAX),
            offset,
        };
        Decoded {
            consumed: next,
            item: build_item(body, meta, input, found, full).map(Some),
        }
    }

    /// The commonest event of all, `data: ...` then a blank line, with no
    /// other state in play: dispatched straight from `input`, with the same
    /// outcome as the general path below, which handles everything else
    /// (including this shape whenever a limit, strict UTF-8 or a stored value
    /// is involved; a `data` line cut by a chunk boundary is
    /// [`completed_data_event`](Self::completed_data_event)'s).
    ///
    /// When it declines after finding the end of the `data` line, it hands
    /// that line end over, so that no line is searched twice.
    #[inline(always)]
    fn lone_data_event(&mut self, input: &[u8], pos: usize) -> Lone {
        if !(self.partial_len == 0 && self.is_idle()) {
            return Lone::No;
        }
        let rest = input.get(pos..).unwrap_or_default();
        if !rest.starts_with(b"data:") {
            return Lone::Idle;
        }
        let Some(eol) = self.scanner.find_eol_after(rest, 5) else {
            return Lone::Searched(None);
        };
        let after = pos + eol.len + eol.terminator;
        // `data:` then one optional space.
        let value_start = if rest.get(5) == Some(&b' ') && eol.len > 5 {
            6
        } else {
            5
        };
        let value = pos + value_start.min(eol.len)..pos + eol.len;
        let fits =
            eol.len <= self.limits.max_line_len() && value.len() < self.limits.max_event_size();
        if !fits {
            return Lone::Searched(Some(eol));
        }
        match self
            .scanner
            .blank_line(input.get(after..).unwrap_or_default())
        {
            Some(terminator) => Lone::Event(after + terminator, value),
            None => Lone::More(eol, value),
        }
    }

    /// [`lone_data_event`](Self::lone_data_event) for a `data` line that
    /// began in an earlier input and is held as the partial line: when
    /// `input` completes it and a blank line follows, the line is completed
    /// in the body and the event is [`Lone::Stored`]. Otherwise nothing
    /// changes but the scanner, and the line end found is handed over.
    #[inline]
    fn completed_data_event(&mut self, input: &[u8]) -> Lone {
        let start = self.data_len;
        let idle = self.is_idle();
        let held = self.partial_len;
        let line = self.body.bytes().get(start..start + held);
        if !idle || !line.is_some_and(|l| l.starts_with(b"data:")) {
            return Lone::No;
        }
        let Some(eol) = self.scanner.find_eol(input) else {
            return Lone::Searched(None);
        };
        let after = eol.len + eol.terminator;
        let line_len = held + eol.len;
        // `data:` then one optional space, wherever the sixth byte is.
        let sixth = match held.checked_sub(5) {
            Some(0) => input.get(..eol.len).and_then(<[u8]>::first),
            _ => self.body.bytes().get(start + 5),
        };
        let value_start = if sixth == Some(&b' ') { 6 } else { 5 };
        let value = start + value_start.min(line_len)..start + line_len;
        let fits =
            line_len <= self.limits.max_line_len() && value.len() < self.limits.max_event_size();
        let mut scanner = self.scanner;
        let blank = scanner.blank_line(input.get(after..).unwrap_or_default());
        let (Some(terminator), true) = (blank, fits) else {
            return Lone::Searched(Some(eol));
        };
        self.body.truncate_to(start + held);
        // With the LF the general path appends to stored data: a fixed body
        // fills up at the same line length on both paths.
        let rest = input.get(..eol.len).unwrap_or_default();
        if self.body.try_extend_line(rest).is_err() {
            return Lone::Searched(Some(eol));
        }
        self.scanner = scanner;
        self.partial_len = 0;
        Lone::Stored(after + terminator, value)
    }

    /// Skips input while recovering from an error. Returns the bytes skipped
    /// if recovery ends or moves on within `rest`, `None` if all of `rest`
    /// was skipped.
    fn skip(&mut self, rest: &[u8]) -> Option<usize> {
        let Some(eol) = self.scanner.find_eol(rest) else {
            if !rest.is_empty() {
                if let Discard::Block { line_empty } = &mut self.discard {
                    *line_empty = false;
                }
            }
            return None;
        };
        self.discard = match self.discard {
            Discard::Block { line_empty: true } if eol.len == 0 => Discard::No,
            _ => Discard::Block { line_empty: true },
        };
        Some(eol.len + eol.terminator)
    }

    /// Input is used up mid-line: moves what still lives in `input` to storage.
    fn hold(&mut self, input: &[u8], pos: usize, pending: InInput) -> Result<(), Error> {
        let rest = &input[pos..];
        let line_offset = self.offset + pos as u64;
        if let Err(e) = self.stash(input, pending, line_offset) {
            self.discard = Discard::Block {
                line_empty: rest.is_empty(),
            };
            return Err(e);
        }
        if rest.is_empty() {
            return Ok(());
        }
        if self.partial_len == 0 {
            self.partial_offset = line_offset;
        }
        if self.partial_len + rest.len() > self.limits.max_line_len() {
            let e = Error::LineTooLong {
                limit: self.limits.max_line_len(),
                offset: self.partial_offset,
            };
            return Err(self.fail(e, Discard::RestOfLine));
        }
        if self.body.try_extend(rest).is_err() {
            let e = self.full_body(self.partial_offset);
            return Err(self.fail(e, Discard::RestOfLine));
        }
        self.partial_len += rest.len();
        Ok(())
    }

    /// Moves the event's values that still live in `input` to storage.
    fn stash(&mut self, input: &[u8], pending: InInput, offset: u64) -> Result<(), Error> {
        // The pending id is in storage already.
        if let Some(r) = pending.data {
            if self.body.try_extend_line(&input[r]).is_err() {
                let e = self.full_body(offset);
                return Err(self.fail(e, Discard::Block { line_empty: true }));
            }
            self.data_len = self.body.bytes().len();
        }
        if let Some(r) = pending.event_type {
            if self.meta.set(Slot::Type, &input[r]).is_err() {
                let e = self.full_meta(offset);
                return Err(self.fail(e, Discard::Block { line_empty: true }));
            }
        }
        Ok(())
    }

    /// Processes a line that arrived whole in `input`.
    fn line_in_input(
        &mut self,
        input: &[u8],
        line: Range<usize>,
        line_offset: u64,
        pending: &mut InInput,
    ) -> Result<Option<Found>, Error> {
        let (kind, value_start) = classify(&input[line.clone()]);
        let value = (line.start + value_start).min(line.end)..line.end;
        let value_offset = line_offset + value_start as u64;
        let bytes = &input[value.clone()];
        match kind {
            Kind::Blank => return Ok(self.dispatch(core::mem::take(pending))),
            Kind::Data => {
                self.check_utf8(bytes, value_offset)?;
                let stored = self.data_len - self.data_start;
                let size = stored + pending.data.as_ref().map_or(0, |r| r.len() + 1);
                self.check_event_size(size, bytes.len(), line_offset)?;
                if size == 0 {
                    pending.data = Some(value);
                } else {
                    if let Some(first) = pending.data.take() {
                        self.push_data(&input[first], line_offset)?;
                    }
                    self.push_data(bytes, line_offset)?;
                }
            }
            Kind::Event => {
                self.check_utf8(bytes, value_offset)?;
                pending.event_type = Some(value);
            }
            Kind::Id => {
                if self.set_pending_id(bytes, line_offset, value_offset)? {
                    pending.id = Some(value);
                }
            }
            Kind::Retry => {
                if let Some(ms) = parse_retry(bytes) {
                    return Ok(Some(Found::Retry(ms)));
                }
            }
            Kind::Comment => {
                self.check_utf8(bytes, value_offset)?;
                return Ok(Some(Found::Comment(Src::Input(value))));
            }
            Kind::Other { .. } => {}
        }
        Ok(None)
    }

    /// Completes the partial line with `tail` and processes it.
    fn line_in_body(&mut self, tail: &[u8]) -> Result<Option<Found>, Error> {
        let start = self.data_len;
        let line_offset = self.partial_offset;
        if self.body.try_extend(tail).is_err() {
            return Err(self.full_body(line_offset));
        }
        self.partial_len = 0;
        let end = self.body.bytes().len();
        let (kind, value_start) = classify(&self.body.bytes()[start..end]);
        let value = (start + value_start).min(end)..end;
        let value_offset = line_offset + value_start as u64;
        let found = match kind {
            // Unreachable: a partial line holds at least one byte.
            Kind::Blank => {
                self.body.truncate_to(self.data_len);
                return Ok(self.dispatch(InInput::default()));
            }
            Kind::Data => {
                self.check_utf8(&self.body.bytes()[value.clone()], value_offset)?;
                let stored = self.data_len - self.data_start;
                self.check_event_size(stored, value.len(), line_offset)?;
                if stored == 0 {
                    // [.. | "data: value"] -> [.. | "data: " | data_start "value\n"]:
                    // a long line split across chunks is not moved.
                    self.data_start = value.start;
                } else {
                    // [data | "data: value"] -> [data | "value"]
                    let len = value.len();
                    self.body.bytes_mut().copy_within(value, start);
                    self.body.truncate_to(start + len);
                }
                self.body
                    .try_extend(b"\n")
                    .map_err(|Full| self.full_body(line_offset))?;
                self.data_len = self.body.bytes().len();
                None
            }
            Kind::Event => {
                self.check_utf8(&self.body.bytes()[value.clone()], value_offset)?;
                let r = self.meta.set(Slot::Type, &self.body.bytes()[value]);
                r.map_err(|Full| self.full_meta(line_offset))?;
                None
            }
            Kind::Id => {
                if self.check_id(&self.body.bytes()[value.clone()], line_offset, value_offset)? {
                    let r = self.meta.set(Slot::PendingId, &self.body.bytes()[value]);
                    r.map_err(|Full| self.full_meta(line_offset))?;
                }
                None
            }
            Kind::Retry => parse_retry(&self.body.bytes()[value]).map(Found::Retry),
            Kind::Comment => {
                self.check_utf8(&self.body.bytes()[value.clone()], value_offset)?;
                // The line stays in the body until the next call.
                return Ok(Some(Found::Comment(Src::Body(value))));
            }
            Kind::Other { .. } => None,
        };
        self.body.truncate_to(self.data_len);
        Ok(found)
    }

    /// "If the field value does not contain U+0000 NULL, then set the last
    /// event ID buffer to the field value. Otherwise, ignore the field."
    /// Returns whether the value was used.
    fn set_pending_id(
        &mut self,
        value: &[u8],
        line_offset: u64,
        value_offset: u64,
    ) -> Result<bool, Error> {
        if !self.check_id(value, line_offset, value_offset)? {
            return Ok(false);
        }
        self.meta
            .set(Slot::PendingId, value)
            .map_err(|Full| self.full_meta(line_offset))?;
        Ok(true)
    }

    /// Whether an id value is to be used (it has no U+0000); an error if it
    /// is too long, or invalid UTF-8 in strict mode.
    fn check_id(&self, value: &[u8], line_offset: u64, value_offset: u64) -> Result<bool, Error> {
        if value.contains(&0) {
            return Ok(false);
        }
        let limit = self.limits.max_id_len();
        if value.len() > limit {
            return Err(Error::IdTooLong {
                limit,
                offset: line_offset,
            });
        }
        strict_utf8(self.utf8, value, value_offset)?;
        Ok(true)
    }

    fn check_utf8(&self, bytes: &[u8], offset: u64) -> Result<(), Error> {
        strict_utf8(self.utf8, bytes, offset)
    }

    /// Whether a data value of `value_len` bytes, and its LF, fit the event
    /// size limit after the `held` bytes of data so far.
    fn check_event_size(&self, held: usize, value_len: usize, offset: u64) -> Result<(), Error> {
        let limit = self.limits.max_event_size();
        match held.checked_add(value_len).and_then(|n| n.checked_add(1)) {
            Some(n) if n <= limit => Ok(()),
            _ => Err(Error::EventTooLarge { limit, offset }),
        }
    }

    /// "Append the field value to the data buffer, then append a single
    /// U+000A LINE FEED (LF) character to the data buffer."
    fn push_data(&mut self, value: &[u8], offset: u64) -> Result<(), Error> {
        if self.body.try_extend_line(value).is_err() {
            return Err(self.full_body(offset));
        }
        self.data_len = self.body.bytes().len();
        Ok(())
    }

    /// A blank line: "dispatch the event".
    fn dispatch(&mut self, pending: InInput) -> Option<Found> {
        // 1. "Set the last event ID string of the event source to the value
        //    of the last event ID buffer."
        self.meta.commit_pending_id();
        // 2. "If the data buffer is an empty string, set the data buffer and
        //    the event type buffer to the empty string and return."
        let data = match pending.data {
            Some(r) => Src::Input(r),
            None if self.data_len > self.data_start => {
                Src::Body(self.data_start..self.data_len - 1)
            }
            None => {
                self.meta.clear_slots();
                return None;
            }
        };
        // 3. "If the data buffer's last character is a U+000A LINE FEED (LF)
        //    character, then remove the last character from the data buffer."
        //    Done above: borrowed data never had it, stored data drops one.
        // 4-5. The event type buffer, or "message" if empty (see `Event`).
        // The id just committed may still be in `input`: hand that copy out,
        // so that `decode_bytes` can slice it rather than copy it.
        let id = pending
            .id
            .map_or_else(|| Src::Meta(self.meta.id()), Src::Input);
        let event_type = pending
            .event_type
            .map(Src::Input)
            .or_else(|| self.meta.get(Slot::Type).map(Src::Meta));
        // "Set the data buffer and the event type buffer to the empty string."
        // Their bytes stay readable until the next call.
        self.data_start = 0;
        self.data_len = 0;
        self.meta.clear_slots();
        Some(Found::Event {
            data,
            event_type,
            id,
        })
    }

    /// Drops the event in progress and starts skipping to the next blank line.
    fn fail(&mut self, e: Error, discard: Discard) -> Error {
        self.drop_event(discard);
        e
    }

    /// Forgets the event in progress and any partial line; `discard` says
    /// what to skip next.
    fn drop_event(&mut self, discard: Discard) {
        self.body.truncate_to(0);
        self.data_start = 0;
        self.data_len = 0;
        self.partial_len = 0;
        self.meta.clear_slots();
        self.meta.drop_scratch();
        self.discard = discard;
    }

    fn full_body(&self, offset: u64) -> Error {
        Error::StorageFull {
            capacity: self.body.fixed_capacity().unwrap_or(usize::MAX),
            offset,
        }
    }

    fn full_meta(&self, offset: u64) -> Error {
        Error::StorageFull {
            capacity: self.meta.buf.fixed_capacity().unwrap_or(usize::MAX),
            offset,
        }
    }

    /// Turns positions into a borrowed item, replacing invalid UTF-8 if needed.
    ///
    /// Text in `input` or the body is handed out as is: validated once when
    /// all of the item is valid, the usual case, and again on the way to a
    /// replaced copy otherwise. Replaced copies go to meta scratch, so the
    /// body is never written here and its borrow can outlive the call. Text
    /// in meta (an event type or id that had to be kept) is validated again
    /// when it is handed out: the borrow checker cannot yet hand out a
    /// borrow on one branch and mutate on the other. It is short: a line, or
    /// an id within `max_id_len`.
    fn build<'a>(&'a mut self, input: &'a [u8], found: Found) -> Result<Item<'a>, Error> {
        let full = self.full_meta(self.offset);
        build_item(self.body.bytes(), &mut self.meta, input, found, full)
    }
}

/// [`Decoder::build`] over the parts of the decoder it reads: the body's
/// bytes and meta, which takes U+FFFD-replaced copies. `full` is the error
/// for a meta buffer that cannot hold them.
fn build_item<'a, S: Storage>(
    body: &'a [u8],
    meta: &'a mut Meta<S>,
    input: &'a [u8],
    found: Found,
    full: Error,
) -> Result<Item<'a>, Error> {
    let raw = |src: &Src| match src {
        Src::Input(r) => input.get(r.clone()),
        Src::Body(r) => body.get(r.clone()),
        Src::Meta(_) => None,
    };
    match found {
        Found::Retry(ms) => Ok(Item::Retry(ms)),
        Found::Comment(src) => {
            let text = text_of(raw(&src), src, meta).map_err(|Full| full)?;
            let meta: &'a Meta<S> = meta;
            Ok(Item::Comment(resolve_text(text, meta)))
        }
        Found::Event {
            data,
            event_type,
            id,
        } => {
            if let Some(texts) = valid_texts(body, meta, input, &data, &event_type, &id) {
                // No value needs a replaced copy: meta is only read.
                let meta: &'a Meta<S> = meta;
                return Ok(Item::Event(valid_event(texts, meta)));
            }
            // Invalid UTF-8 somewhere: each value is validated again, and
            // an invalid one gets a U+FFFD-replaced copy in meta scratch.
            let data_text = match &data {
                Src::Input(r) => validate_within(input, r.clone()).map(Text::Ready),
                _ => None,
            };
            let data_text = match data_text {
                Some(text) => text,
                None => text_of(raw(&data), data.clone(), meta).map_err(|Full| full)?,
            };
            let type_text = match &event_type {
                Some(src) => text_of(raw(src), src.clone(), meta).map_err(|Full| full)?,
                None => Text::Ready(""),
            };
            let id_text = text_of(raw(&id), id.clone(), meta).map_err(|Full| full)?;
            let meta: &'a Meta<S> = meta;
            let raw = |src: Src| -> &'a [u8] {
                let (bytes, r) = match src {
                    Src::Input(r) => (input, r),
                    Src::Body(r) => (body, r),
                    Src::Meta(r) => (meta.buf.bytes(), r),
                };
                bytes.get(r).unwrap_or_default()
            };
            Ok(Item::Event(Event {
                event_type: resolve_text(type_text, meta),
                data: resolve_text(data_text, meta),
                id: resolve_text(id_text, meta),
                raw_event_type: event_type.map_or(&[][..], raw),
                raw_data: raw(data),
                raw_id: raw(id),
            }))
        }
    }
}

/// The values of the event `build_item` is to hand out when every one is
/// valid UTF-8, the usual case; `None` if one is not, and needs the general
/// build's U+FFFD-replaced copy.
///
/// The general build writes those copies to meta, so a borrow of meta for
/// `'a` may only be taken once it is sure that none is needed: values kept
/// in meta are checked here and validated again when handed out
/// ([`valid_event`]); an ASCII check stands in for the first validation.
/// Values in `input` or the body are validated once. The short values go
/// first, so that an invalid one is found before the data is validated.
#[inline]
fn valid_texts<'a, S: Storage>(
    body: &'a [u8],
    meta: &Meta<S>,
    input: &'a [u8],
    data: &Src,
    event_type: &Option<Src>,
    id: &Src,
) -> Option<[Text<'a>; 3]> {
    let text = |src: &Src| valid_text(body, meta, input, src);
    let id_text = text(id)?;
    let type_text = match event_type {
        Some(src) => text(src)?,
        None => Text::Ready(""),
    };
    Some([text(data)?, type_text, id_text])
}

/// One value for [`valid_texts`]: [`Text::Ready`] if it is in `input` or
/// the body and valid, [`Text::Meta`] if it is in meta and valid, else
/// `None`.
#[inline(always)]
fn valid_text<'a, S: Storage>(
    body: &'a [u8],
    meta: &Meta<S>,
    input: &'a [u8],
    src: &Src,
) -> Option<Text<'a>> {
    match src {
        // Data in `input` is validated with the bytes after it, in whole
        // SIMD blocks (see `validate_within`).
        Src::Input(r) => validate_within(input, r.clone()).map(Text::Ready),
        Src::Body(r) => body.get(r.clone()).and_then(validate).map(Text::Ready),
        Src::Meta(r) => meta
            .buf
            .bytes()
            .get(r.clone())
            .is_some_and(|bytes| bytes.is_ascii() || validate(bytes).is_some())
            .then(|| Text::Meta(r.clone())),
    }
}

/// The event of the values [`valid_texts`] found valid.
#[inline]
fn valid_event<'a, S: Storage>(texts: [Text<'a>; 3], meta: &'a Meta<S>) -> Event<'a> {
    let [data, event_type, id] = texts.map(|text| resolve_text(text, meta));
    // Valid text is its raw bytes.
    Event {
        event_type,
        data,
        id,
        raw_event_type: event_type.as_bytes(),
        raw_data: data.as_bytes(),
        raw_id: id.as_bytes(),
    }
}

/// A field value without the one leading space the spec drops.
#[inline(always)]
fn after_space(value: &[u8]) -> &[u8] {
    match value {
        [b' ', rest @ ..] => rest,
        _ => value,
    }
}

/// The event a lone `data` line makes: `data`, no type, and the last event
/// ID, which the caller checked is valid UTF-8 (see
/// [`Meta::drop_scratch_of_idle`]).
#[inline(always)]
fn untyped_event<'a, S: Storage>(data: &'a str, raw_data: &'a [u8], meta: &'a Meta<S>) -> Item<'a> {
    let raw_id = meta.buf.bytes().get(meta.id()).unwrap_or_default();
    let id = if raw_id.is_empty() {
        ""
    } else {
        validate(raw_id).unwrap_or_default()
    };
    Item::Event(Event {
        event_type: "",
        data,
        id,
        raw_event_type: &[],
        raw_data,
        raw_id,
    })
}

/// A text value, validated or replaced, ready to be handed out.
enum Text<'a> {
    /// Valid UTF-8 in `input` or the body.
    Ready(&'a str),
    /// Valid UTF-8 at this range of meta: an event type or id kept there, or
    /// the U+FFFD-replaced copy of an invalid value.
    Meta(Range<usize>),
}

/// Validates a value: `bytes` when it is in `input` or the body, else the
/// `src` range of meta. An invalid value gets a replaced copy in meta scratch.
fn text_of<'a, S: Storage>(
    bytes: Option<&'a [u8]>,
    src: Src,
    meta: &mut Meta<S>,
) -> Result<Text<'a>, Full> {
    match (bytes, src) {
        // Most events have no id and no type: nothing to check.
        (_, Src::Meta(r)) if r.is_empty() => Ok(Text::Ready("")),
        (Some(bytes), _) => match validate(bytes) {
            Some(s) => Ok(Text::Ready(s)),
            None => push_lossy(&mut meta.buf, bytes).map(Text::Meta),
        },
        // Checked here only to know whether a replaced copy is needed, and
        // again when handed out (see `build`): ASCII, the usual type or id,
        // needs no copy, and telling it costs less than a validation.
        (None, Src::Meta(r)) => match meta.buf.bytes().get(r.clone()) {
            Some(bytes) if bytes.is_ascii() || validate(bytes).is_some() => Ok(Text::Meta(r)),
            _ => push_lossy_within(&mut meta.buf, r).map(Text::Meta),
        },
        // `bytes` is `Some` for every other source.
        (None, _) => Ok(Text::Ready("")),
    }
}

fn resolve_text<'a, S: Storage>(text: Text<'a>, meta: &'a Meta<S>) -> &'a str {
    match text {
        Text::Ready(s) => s,
        // Valid by construction: checked or replaced by `text_of`.
        Text::Meta(r) => meta
            .buf
            .bytes()
            .get(r)
            .and_then(validate)
            .unwrap_or_default(),
    }
}

/// The fast paths against the general one: [`SliceStorage`](crate::SliceStorage)
/// (fixed, so the whole-event fast path never runs) and `Vec` storage
/// (growable) must report the same items, errors and stream state for any
/// input and any chunking. Small enough to run under Miri, which checks the
/// SSE2 line-end search on the way.
#[cfg(all(test, feature = "alloc"))]
mod fast_path_tests {
    use super::*;
    use crate::SliceStorage;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// A deterministic xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A stream of events in the shapes the fast path takes and the ones it
    /// hands over: long and short lines, every terminator, comments,
    /// `retry`, unknown fields, ids with NUL, invalid UTF-8.
    fn stream(rng: &mut Rng, events: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..events {
            for _ in 0..rng.below(6) {
                let line: Vec<u8> = match rng.below(12) {
                    0..=4 => {
                        let mut l = b"data:".to_vec();
                        if rng.below(4) > 0 {
                            l.push(b' ');
                        }
                        for _ in 0..[0, 3, 40, 70, 130][rng.below(5)] {
                            l.extend_from_slice(
                                [&b"x"[..], b"{\"k\":1}", "\u{e9}".as_bytes(), b"\xff", b" "]
                                    [rng.below(5)],
                            );
                        }
                        l
                    }
                    5 | 6 => format!("event: t{}", rng.below(3)).into_bytes(),
                    7 => format!("id: {}", rng.below(1000)).into_bytes(),
                    8 => b"id: a\0b".to_vec(),
                    9 => b": keepalive".to_vec(),
                    10 => b"retry: 1500".to_vec(),
                    _ => b"other: 1".to_vec(),
                };
                out.extend_from_slice(&line);
                out.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][rng.below(3).min(rng.below(3))]);
            }
            out.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][rng.below(3).min(rng.below(3))]);
        }
        out
    }

    /// Everything a decoder reports for `chunks`, written down.
    fn transcript<S: Storage>(mut decoder: Decoder<S>, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for chunk in chunks {
            let mut rest = *chunk;
            loop {
                let step = decoder.decode(rest);
                rest = &rest[step.consumed..];
                match step.item {
                    Ok(None) => break,
                    item => out.push(format!("{item:?}")),
                }
            }
        }
        out.push(format!(
            "id {:?} retry {:?} buffered {}",
            decoder.last_event_id(),
            decoder.retry(),
            decoder.buffered_len()
        ));
        out
    }

    #[test]
    fn fast_paths_match_the_general_path() {
        let (streams, sizes): (usize, &[usize]) = if cfg!(miri) {
            (2, &[usize::MAX, 7, 64])
        } else {
            (200, &[usize::MAX, 1, 2, 7, 63, 64, 65, 100, 1460])
        };
        let tight = Limits::new()
            .with_max_line_len(100)
            .with_max_event_size(200)
            .with_max_id_len(2);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for n in 0..streams {
            let input = stream(&mut rng, 8);
            for limits in [Limits::new(), tight] {
                for &size in sizes {
                    let chunks: Vec<&[u8]> = input.chunks(size.min(input.len().max(1))).collect();
                    let fast = transcript(Decoder::new().with_limits(limits), &chunks);
                    // Room for any item of these streams, U+FFFD copies
                    // included: only the path may differ, not the outcome.
                    let (mut body, mut meta) = (alloc::vec![0; 1 << 14], alloc::vec![0; 1 << 14]);
                    let fixed = Decoder::from_storage(
                        SliceStorage::new(&mut body),
                        SliceStorage::new(&mut meta),
                    )
                    .with_limits(limits);
                    let general = transcript(fixed, &chunks);
                    // Buffered byte counts may differ between storages
                    // only in what each keeps past the handed-out item.
                    let strip = |t: &[String]| -> Vec<String> {
                        t.iter()
                            .map(|l| l.split(" buffered").next().unwrap_or_default().into())
                            .collect()
                    };
                    assert_eq!(
                        strip(&fast),
                        strip(&general),
                        "stream {n}, chunks of {size}, {limits:?}"
                    );
                }
            }
        }
    }
}
