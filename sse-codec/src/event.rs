//! What the decoder hands out: [`Item`]s, the main one being [`Event`].

/// One thing the [`Decoder`](crate::Decoder) reports, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item<'a> {
    /// A dispatched event.
    Event(Event<'a>),
    /// An accepted `retry` field: the new reconnection time, in milliseconds.
    ///
    /// Reported as soon as its line ends, even if the event around it is
    /// never dispatched (the spec applies it immediately) — unless it sits
    /// in an event block being skipped after an error.
    Retry(u64),
    /// A comment line's text, after the `:` and one leading space. Servers
    /// send comments as keep-alive heartbeats; the spec ignores them.
    Comment(&'a str),
}

/// A dispatched event, borrowed from the decoder and the input.
///
/// WHATWG HTML, "dispatch the event": the data is every `data` value of the
/// event joined with LF; the type is the last `event` value, or `message`
/// when there was none or it was empty; the id is the last event ID *after*
/// the event's own `id` fields, which persists from event to event.
///
/// Text accessors return valid UTF-8: under the default [`Utf8::Lossy`](crate::Utf8::Lossy)
/// invalid sequences are replaced with U+FFFD, as the spec requires; the
/// `raw_*` accessors return the bytes as they came off the wire.
///
/// When the event's data was a single line that arrived, with the rest of
/// its event, in the input passed to [`Decoder::decode`](crate::Decoder::decode),
/// [`data`](Self::data) is a slice of that input: nothing was copied (see
/// `decode` for the exact condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub(crate) event_type: &'a str,
    pub(crate) data: &'a str,
    pub(crate) id: &'a str,
    pub(crate) raw_event_type: &'a [u8],
    pub(crate) raw_data: &'a [u8],
    pub(crate) raw_id: &'a [u8],
}

impl<'a> Event<'a> {
    /// The event type: the value of the last `event` field, or `"message"`
    /// if it was absent or empty.
    #[must_use]
    pub fn event_type(&self) -> &'a str {
        type_or_message(self.event_type)
    }

    /// The event's data: its `data` values joined with `"\n"`.
    #[must_use]
    pub fn data(&self) -> &'a str {
        self.data
    }

    /// The last event ID at dispatch: the value of the most recent `id`
    /// field without U+0000 in the stream so far (including this event's),
    /// or the seeded ID, or `""`.
    #[must_use]
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The `event` value as received; empty when there was none. Equal to
    /// the bytes of [`event_type`](Self::event_type) unless it was empty or
    /// held invalid UTF-8.
    #[must_use]
    pub fn raw_event_type(&self) -> &'a [u8] {
        self.raw_event_type
    }

    /// The data as received: equal to the bytes of [`data`](Self::data)
    /// unless it held invalid UTF-8.
    #[must_use]
    pub fn raw_data(&self) -> &'a [u8] {
        self.raw_data
    }

    /// The last event ID as received.
    #[must_use]
    pub fn raw_id(&self) -> &'a [u8] {
        self.raw_id
    }

    /// Copies the event into an owned [`OwnedEvent`].
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[must_use]
    pub fn to_owned_event(&self) -> OwnedEvent {
        use alloc::borrow::ToOwned;
        OwnedEvent {
            event_type: self.event_type().to_owned(),
            data: self.data.to_owned(),
            id: self.id.to_owned(),
        }
    }
}

impl<'a> Item<'a> {
    /// Copies the item into an owned [`OwnedItem`].
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[must_use]
    pub fn to_owned_item(&self) -> OwnedItem {
        match self {
            Item::Event(e) => OwnedItem::Event(e.to_owned_event()),
            Item::Retry(ms) => OwnedItem::Retry(*ms),
            Item::Comment(c) => OwnedItem::Comment(alloc::string::String::from(*c)),
        }
    }
}

/// An [`Event`] that owns its text.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OwnedEvent {
    /// The event type, `"message"` when none was set.
    pub event_type: alloc::string::String,
    /// The data, lines joined with `"\n"`.
    pub data: alloc::string::String,
    /// The last event ID at dispatch.
    pub id: alloc::string::String,
}

/// An [`Item`] that owns its text.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OwnedItem {
    /// A dispatched event.
    Event(OwnedEvent),
    /// An accepted `retry` field, in milliseconds.
    Retry(u64),
    /// A comment's text.
    Comment(alloc::string::String),
}

/// "Initialize event's type attribute to "message"", then "if the event
/// type buffer has a value other than the empty string, change the type of
/// the newly created event to equal the value of the event type buffer".
#[inline]
pub(crate) fn type_or_message(event_type: &str) -> &str {
    if event_type.is_empty() {
        "message"
    } else {
        event_type
    }
}
