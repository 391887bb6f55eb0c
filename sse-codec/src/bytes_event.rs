//! `Bytes`-backed events for callers that read into a `BytesMut` (the
//! `bytes` feature): the same line loop as [`Decoder::decode`], with the
//! caller's read buffer keeping the bytes of an unfinished event, so that
//! nothing is copied out of it, and a finished event is a slice of it.

use crate::decoder::build::build;
use crate::decoder::engine::{At, Found, Mode, TypeAt};
use crate::decoder::Decoder;
use crate::event::Item;
use crate::storage::Storage;
use crate::{Error, Text};
use bytes::{Buf, Bytes, BytesMut};

/// An event whose text lives in [`Text`]: a slice of the read buffer, or a
/// short copy held inline.
///
/// Every field holds valid UTF-8 (invalid input was replaced with U+FFFD, or
/// rejected under [`Utf8::Strict`](crate::Utf8::Strict)), checked once when
/// the event was decoded: the `&str` accessors are O(1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
pub struct BytesEvent {
    event_type: Text,
    data: Text,
    id: Text,
}

impl BytesEvent {
    /// The event type, `"message"` when none was set.
    #[must_use]
    pub fn event_type(&self) -> &str {
        crate::event::type_or_message(&self.event_type)
    }

    /// The data, lines joined with `"\n"`.
    #[must_use]
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The last event ID at dispatch.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The data as UTF-8 bytes: a slice of the read buffer when the event
    /// had one `data` line longer than a [`Text`] holds inline.
    #[must_use]
    pub fn data_bytes(&self) -> &[u8] {
        self.data.as_bytes()
    }

    /// The event type as received (empty when none was set): unlike
    /// [`event_type`](Self::event_type), no `"message"` default.
    #[must_use]
    pub fn event_type_text(&self) -> &Text {
        &self.event_type
    }

    /// The data as [`Text`].
    #[must_use]
    pub fn data_text(&self) -> &Text {
        &self.data
    }

    /// The last event ID as [`Text`].
    #[must_use]
    pub fn id_text(&self) -> &Text {
        &self.id
    }

    /// The data, by value.
    #[must_use]
    pub fn into_data(self) -> Text {
        self.data
    }
}

/// An [`Item`] whose text lives in [`Text`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
#[non_exhaustive]
pub enum BytesItem {
    /// A dispatched event.
    Event(BytesEvent),
    /// An accepted `retry` field, in milliseconds.
    Retry(u64),
    /// A comment's text.
    Comment(Text),
}

/// Bytes of the read buffer kept past the values the event in progress
/// still has in it, before they move to storage: the rest are lines that
/// set nothing (unknown fields, ids with U+0000, repeated `event` lines),
/// and a peer sending endless such lines must not grow the buffer without
/// bound.
const RETAIN_SLACK: usize = 4096;

impl<S: Storage> Decoder<S> {
    /// Decodes from the front of `input`, the caller's read buffer, up to
    /// the next item, and hands it out with its text in [`Text`].
    ///
    /// The same line loop as [`decode`](Decoder::decode), with one
    /// difference of storage: `input` keeps the bytes of an event whose
    /// blank line has not arrived yet, as `tokio_util` codecs leave an
    /// unfinished frame in the buffer. When the event is complete it is
    /// split off the front: its data, when one `data` line, is a slice of
    /// the buffer (no copy), or held inline when short; text is validated
    /// once. Data joined from several lines is copied, once, into a buffer
    /// the decoder reuses when the events holding earlier copies have been
    /// dropped, so a reader that handles each event before the next
    /// allocates nothing per event. The bytes of a partial line are searched once: the next call
    /// searches only what was appended.
    ///
    /// The caller MUST pass the same buffer each time, with the bytes this
    /// call left in it unchanged at its front and only new bytes appended
    /// (what `FramedRead` and a read loop with `read_buf` do). `Ok(None)`
    /// means every byte has been looked at; bytes of the event in progress
    /// may stay in `input`, bounded by the [`Limits`](crate::Limits) (the
    /// values the event holds there, a partial line) and a few KiB of lines
    /// that set nothing.
    ///
    /// # Errors
    ///
    /// As for [`decode`](Decoder::decode); the bytes used are split off
    /// `input` on error too, and decoding can go on.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use sse_codec::{BytesItem, Decoder};
    ///
    /// let mut decoder = Decoder::new();
    /// let mut buf = BytesMut::from(&b"data: {\"a\":1}\n\ndata: par"[..]);
    /// let Some(BytesItem::Event(ev)) = decoder.decode_bytes(&mut buf)? else { panic!() };
    /// assert_eq!(ev.data(), "{\"a\":1}");
    /// assert_eq!(decoder.decode_bytes(&mut buf)?, None); // "data: par" waits in `buf`
    /// buf.extend_from_slice(b"t\n\n");
    /// let Some(BytesItem::Event(ev)) = decoder.decode_bytes(&mut buf)? else { panic!() };
    /// assert_eq!(ev.data(), "part");
    /// assert!(buf.is_empty());
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
    pub fn decode_bytes(&mut self, input: &mut BytesMut) -> Result<Option<BytesItem>, Error> {
        if self.scanned > input.len() {
            // The contract was broken (a different or shortened buffer):
            // what was kept in it is gone, so is the event in progress.
            self.drop_event(crate::decoder::engine::Discard::Block { line_empty: false });
            (self.line_start, self.scanned) = (0, 0);
        }
        let (used, found) = self.run(input, Mode::Retain);
        match found {
            Ok(Some(found)) => {
                let item = self.bytes_item(input, used, found);
                (self.line_start, self.scanned) = (0, 0);
                item.map(Some)
            }
            Ok(None) => {
                let keep_from = self.line_start;
                if self.event.in_input() {
                    if keep_from <= 2 * self.retained_values() + RETAIN_SLACK {
                        return Ok(None);
                    }
                    let offset = self.offset + keep_from as u64;
                    if let Err(e) = self.spill(input, offset) {
                        self.release(input, keep_from);
                        return Err(e);
                    }
                }
                self.release(input, keep_from);
                Ok(None)
            }
            Err(e) => {
                self.release(input, used);
                Err(e)
            }
        }
    }

    /// Drops the first `n` bytes of `input`: nothing refers to them.
    fn release(&mut self, input: &mut BytesMut, n: usize) {
        let n = n.min(input.len());
        input.advance(n);
        self.offset += n as u64;
        self.line_start = self.line_start.saturating_sub(n);
        self.scanned = self.scanned.saturating_sub(n);
    }

    /// Bytes of the read buffer the event in progress refers to.
    fn retained_values(&self) -> usize {
        use crate::decoder::engine::{Data, Kept};
        let data = match &self.event.data {
            Data::Input(r) => r.len(),
            _ => 0,
        };
        let kept = |k: &Kept| match k {
            Kept::Input(r) => r.len(),
            _ => 0,
        };
        data + kept(&self.event.event_type) + kept(&self.event.id)
    }

    /// Builds the item found in `input[..used]` and splits those bytes off.
    ///
    /// Short text is copied inline; then `input` only advances, with no
    /// reference count touched. Longer text in the buffer is a slice of the
    /// bytes split off: one count for the split, one per such value.
    fn bytes_item(
        &mut self,
        input: &mut BytesMut,
        used: usize,
        found: Found,
    ) -> Result<BytesItem, Error> {
        let inline = |at: &At| match at {
            At::Input(r) => r.len() <= Text::INLINE,
            At::Body(_) => true,
        };
        let short = match &found {
            Found::Event { data, event_type } => {
                inline(data)
                    && match event_type {
                        Some(TypeAt::Input(r)) => r.len() <= Text::INLINE,
                        _ => true,
                    }
            }
            Found::Comment(at) => inline(at),
            Found::Retry(_) => true,
        };
        // Read before `build` borrows the decoder; building does not write it.
        let generation = self.meta.id_generation();
        let offset = self.offset;
        let (body, meta, owned) = (&self.body, &mut self.meta, &mut self.owned);
        if short {
            let bytes = input.get(..used).unwrap_or_default();
            let item = build(body, meta, offset, bytes, found);
            let item = item.map(|item| owned.bytes_item(item, None, generation));
            self.release(input, used);
            return item;
        }
        let owner = input.split_to(used.min(input.len())).freeze();
        self.offset += used as u64;
        let item = build(body, meta, offset, &owner, found);
        item.map(|item| owned.bytes_item(item, Some(&owner), generation))
    }
}

/// What `Bytes` events hold that is not a slice of the read buffer.
///
/// Text that cannot be sliced from the bytes split off the read buffer
/// (data joined from several lines, a value kept in storage because a read
/// boundary cut its event, a U+FFFD-replaced copy) and is too long to be
/// inline is copied into `copies`, reused once the events holding its
/// copies are dropped: a reader that handles each event before the next
/// allocates nothing in steady state. The last event ID has its own buffer,
/// as it lives across events. Each holds at most the largest such value,
/// bounded by [`Limits`](crate::Limits).
#[derive(Debug, Default)]
pub(crate) struct Owned {
    id: IdText,
    copies: BytesMut,
}

/// The last event ID as handed out with `Bytes` events.
#[derive(Debug, Default)]
struct IdText {
    text: Text,
    /// The [`Meta::id_generation`](crate::trusted::meta::Meta::id_generation)
    /// `text` is a copy of.
    generation: u64,
    copies: BytesMut,
}

impl IdText {
    /// The last event ID, `id`, of this `generation`: the kept copy when it
    /// is of this generation (a reference count or an inline copy, whatever
    /// the id's length), else a new one.
    fn get(&mut self, id: &str, generation: u64) -> Text {
        if self.generation != generation {
            // Dropped first: `copies` is then reused if no event holds the
            // old id any more.
            self.text = Text::new();
            self.text = Text::in_owner(None, id, &mut self.copies);
            self.generation = generation;
        }
        self.text.clone()
    }
}

impl Owned {
    /// The `Bytes` form of `item`: text in `owner` (the bytes split off
    /// the read buffer) is sliced from it, other text copied (inline, or
    /// into `copies`), the id as [`IdText::get`] keeps it.
    fn bytes_item(&mut self, item: Item<'_>, owner: Option<&Bytes>, generation: u64) -> BytesItem {
        let copies = &mut self.copies;
        match item {
            Item::Event(e) => BytesItem::Event(BytesEvent {
                event_type: Text::in_owner(owner, e.event_type, copies),
                data: Text::in_owner(owner, e.data(), copies),
                id: self.id.get(e.id(), generation),
            }),
            Item::Retry(ms) => BytesItem::Retry(ms),
            Item::Comment(c) => BytesItem::Comment(Text::in_owner(owner, c, copies)),
        }
    }
}

impl<'a> From<&'a BytesEvent> for crate::Frame<'a> {
    /// The frame that re-sends the event, as [`Frame::from`](crate::Frame)
    /// an [`Event`](crate::Event) does: its data, its event type only if the
    /// stream set a non-empty one, its id only if non-empty.
    fn from(event: &'a BytesEvent) -> Self {
        let mut frame = crate::Frame::event(event.data());
        if !event.event_type.is_empty() {
            frame = frame.with_event_type(event.event_type());
        }
        if !event.id.is_empty() {
            frame = frame.with_id(event.id());
        }
        frame
    }
}
