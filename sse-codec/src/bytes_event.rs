//! `Bytes`-backed events for callers that read into a `BytesMut` (the
//! `bytes` feature): the data of an event that arrived whole is a
//! reference-counted slice of the read buffer, not a copy.

use crate::decoder::Decoder;
use crate::event::Item;
use crate::storage::Storage;
use crate::Error;
use bytes::{Bytes, BytesMut};
use core::ops::Range;

/// An event whose text lives in [`Bytes`].
///
/// Every field holds valid UTF-8 (invalid input was replaced with U+FFFD, or
/// rejected under [`Utf8::Strict`](crate::Utf8::Strict)). The `&str`
/// accessors check that again on each call, in linear time, because this
/// crate has no `unsafe`; hot paths that parse the data (for example as
/// JSON from bytes) should use [`data_bytes`](Self::data_bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
pub struct BytesEvent {
    event_type: Bytes,
    data: Bytes,
    id: Bytes,
}

impl BytesEvent {
    /// The event type, `"message"` when none was set.
    #[must_use]
    pub fn event_type(&self) -> &str {
        match as_str(&self.event_type) {
            "" => "message",
            s => s,
        }
    }

    /// The data, lines joined with `"\n"`.
    #[must_use]
    pub fn data(&self) -> &str {
        as_str(&self.data)
    }

    /// The last event ID at dispatch.
    #[must_use]
    pub fn id(&self) -> &str {
        as_str(&self.id)
    }

    /// The data as UTF-8 bytes.
    #[must_use]
    pub fn data_bytes(&self) -> &Bytes {
        &self.data
    }

    /// The event type as UTF-8 bytes; empty when none was set.
    #[must_use]
    pub fn event_type_bytes(&self) -> &Bytes {
        &self.event_type
    }

    /// The last event ID as UTF-8 bytes.
    #[must_use]
    pub fn id_bytes(&self) -> &Bytes {
        &self.id
    }

    /// The data, by value.
    #[must_use]
    pub fn into_data(self) -> Bytes {
        self.data
    }
}

/// An [`Item`] whose text lives in [`Bytes`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
#[non_exhaustive]
pub enum BytesItem {
    /// A dispatched event.
    Event(BytesEvent),
    /// An accepted `retry` field, in milliseconds.
    Retry(u64),
    /// A comment's text, as UTF-8 bytes.
    Comment(Bytes),
}

fn as_str(b: &Bytes) -> &str {
    // Valid by construction; see `BytesEvent`.
    crate::utf8::validate(b).unwrap_or_default()
}

/// Where a value is: in the input (as a range), or copied out of storage.
enum Piece {
    Input(Range<usize>),
    Copied(Bytes),
}

impl Piece {
    fn of(text: &[u8], input: &[u8]) -> Piece {
        let start = (text.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
        match start.checked_add(text.len()) {
            Some(end) if end <= input.len() && !text.is_empty() => Piece::Input(start..end),
            _ => Piece::Copied(Bytes::copy_from_slice(text)),
        }
    }

    fn resolve(self, frozen: &Bytes) -> Bytes {
        match self {
            Piece::Input(r) => frozen.slice(r),
            Piece::Copied(b) => b,
        }
    }
}

/// Text that repeats from event to event (the last event ID, usually the
/// event type) is kept here so that handing it out again is a reference
/// count, not an allocation.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    event_type: Bytes,
    id: Bytes,
}

impl Recent {
    fn piece(cache: &Bytes, text: &[u8], input: &[u8]) -> Piece {
        if cache.as_ref() == text {
            Piece::Copied(cache.clone())
        } else {
            Piece::of(text, input)
        }
    }
}

impl<S: Storage> Decoder<S> {
    /// Decodes from the front of `input` up to the next item, splitting off
    /// the bytes it used, and hands the item out as [`Bytes`].
    ///
    /// Data that arrived whole in `input` is a slice of it: no copy, no
    /// allocation. Data assembled in storage is copied once. The event type
    /// and id are slices of `input` or clones of the previous event's when
    /// they repeat. This is the call a `tokio_util::codec::Decoder` makes.
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
    /// assert_eq!(ev.data_bytes().as_ref(), b"{\"a\":1}");
    /// assert_eq!(decoder.decode_bytes(&mut buf)?, None); // "data: par" waits inside
    /// assert!(buf.is_empty());
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
    pub fn decode_bytes(&mut self, input: &mut BytesMut) -> Result<Option<BytesItem>, Error> {
        enum Plan {
            Event {
                event_type: Piece,
                data: Piece,
                id: Piece,
            },
            Retry(u64),
            Comment(Piece),
        }
        let mut recent = core::mem::take(&mut self.recent);
        let step = self.decode(input);
        let consumed = step.consumed;
        let plan = match step.item {
            Ok(Some(Item::Event(ev))) => Ok(Some(Plan::Event {
                event_type: Recent::piece(&recent.event_type, ev.event_type.as_bytes(), input),
                data: Piece::of(ev.data.as_bytes(), input),
                id: Recent::piece(&recent.id, ev.id.as_bytes(), input),
            })),
            Ok(Some(Item::Retry(ms))) => Ok(Some(Plan::Retry(ms))),
            Ok(Some(Item::Comment(c))) => Ok(Some(Plan::Comment(Piece::of(c.as_bytes(), input)))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        let frozen = input.split_to(consumed).freeze();
        let item = plan.map(|plan| {
            plan.map(|plan| match plan {
                Plan::Event {
                    event_type,
                    data,
                    id,
                } => {
                    recent.event_type = event_type.resolve(&frozen);
                    recent.id = id.resolve(&frozen);
                    BytesItem::Event(BytesEvent {
                        event_type: recent.event_type.clone(),
                        data: data.resolve(&frozen),
                        id: recent.id.clone(),
                    })
                }
                Plan::Retry(ms) => BytesItem::Retry(ms),
                Plan::Comment(c) => BytesItem::Comment(c.resolve(&frozen)),
            })
        });
        self.recent = recent;
        item
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
