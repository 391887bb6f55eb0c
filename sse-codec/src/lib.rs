//! A streaming, zero-copy, sans-IO decoder and encoder for Server-Sent
//! Events, the WHATWG `text/event-stream` format.
//!
//! `sse-codec` turns the bytes of an event stream, in chunks of any size, into
//! events, exactly as a browser's `EventSource` would ("Server-sent events",
//! HTML Living Standard): CRLF, LF and CR line endings, a leading byte-order
//! mark, `data`/`event`/`id`/`retry` fields, comments, and the dispatch rules.
//! Its [`Frame`] encoder writes events that decode back to themselves and
//! refuses, with a typed error, the ones no stream can carry. It does no I/O
//! and keeps no clock, so it runs under any runtime, in `no_std` firmware and
//! in WebAssembly.
//!
//! - **Chunk-proof**: any split of the input gives the same events, retries
//!   and comments, including a CRLF or a byte-order mark split across chunks.
//! - **Zero-copy**: an event that arrived, whole, in one chunk is slices of
//!   that chunk (its data too, when it has one `data` line); nothing is
//!   copied and nothing is allocated. With `bytes`, an event cut by a read
//!   boundary stays in the caller's read buffer until it is complete, so it
//!   too is handed out as a slice of it.
//! - **Bounded**: configurable [`Limits`] with finite defaults that accept
//!   real streams (1 MiB payloads, 64 KiB ids); errors are typed and the
//!   decoder recovers at the next blank line.
//! - **One engine**: every surface (borrowed events, a fixed buffer, `Bytes`
//!   events, the tokio codec and body stream) runs the same line loop, where
//!   each rule of the spec is written once. Its speed comes from primitives:
//!   line ends found 64 bytes at a time (SSE2 on x86-64, in the crate's one
//!   `unsafe` module tree, `trusted`, which CI runs under Miri), each text
//!   validated once, slices instead of copies.
//! - **Layered**: [`Field::parse`] classifies one line; [`FieldDecoder`]
//!   streams raw fields (for proxies and tracers); [`Decoder`] assembles
//!   events.
//!
//! # Example: decode a body
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use sse_codec::{Decoder, Item};
//!
//! let body = b"retry: 3000\n\n: keep-alive\n\nevent: add\nid: 7\ndata: {\"n\":1}\n\n";
//! let mut decoder = Decoder::new();
//! let mut rest = &body[..];
//! // Each call hands out the next item and advances `rest` past it.
//! while let Some(item) = decoder.decode(&mut rest)? {
//!     match item {
//!         Item::Event(event) => {
//!             assert_eq!((event.event_type(), event.id(), event.data()), ("add", "7", "{\"n\":1}"));
//!         }
//!         Item::Retry(ms) => assert_eq!(ms, 3000),
//!         Item::Comment(text) => assert_eq!(text, "keep-alive"),
//!         _ => {}
//!     }
//! }
//! decoder.finish(); // end of stream: an unterminated event is dropped
//! assert_eq!(decoder.last_event_id(), b"7");
//! # }
//! # Ok::<(), sse_codec::Error>(())
//! ```
//!
//! # Example: feed chunks as they arrive
//!
//! Pass each chunk in turn; pass the unused rest of a chunk back until the
//! decoder says it needs more. A partial line waits inside the decoder.
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use sse_codec::{Decoder, Item};
//!
//! let mut decoder = Decoder::new();
//! let mut events = Vec::new();
//! for chunk in [&b"data: one\r"[..], b"\ndata: two\r\n\r", b"\n"] {
//!     decoder.feed(chunk, |item| {
//!         if let Ok(Item::Event(e)) = item {
//!             events.push(e.data().to_owned());
//!         }
//!     });
//! }
//! assert_eq!(events, ["one\ntwo"]);
//! # }
//! ```
//!
//! # Example: no heap
//!
//! ```
//! use sse_codec::{Decoder, Item, Limits, SliceStorage};
//!
//! let (mut body, mut meta) = ([0u8; 512], [0u8; 96]);
//! let mut decoder = Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta))
//!     .with_limits(Limits::new().with_max_line_len(256).with_max_event_size(256));
//! let item = decoder.decode(&mut &b"id: 1\ndata: tiny\n\n"[..]);
//! assert!(matches!(item, Ok(Some(Item::Event(e))) if e.data() == "tiny" && e.id() == "1"));
//! ```
//!
//! # Example: a read buffer (`bytes`)
//!
//! What a `tokio_util` codec or a body stream does: append what the socket
//! gives to one `BytesMut` and call [`Decoder::decode_bytes`]. An event
//! whose blank line has not arrived stays in the buffer (nothing is copied
//! out, nothing is searched twice); a complete one is split off its front,
//! its data a slice of it, or held inline when short.
//!
//! ```
//! # #[cfg(feature = "bytes")] {
//! use bytes::BytesMut;
//! use sse_codec::{BytesItem, Decoder};
//!
//! let mut decoder = Decoder::new();
//! let mut buf = BytesMut::new();
//! let mut data = Vec::new();
//! for read in [&b"id: 7\ndata: {\"long\":\"enough to be a sli"[..], b"ce of the buffer\"}\n", b"\n"] {
//!     buf.extend_from_slice(read);
//!     while let Some(item) = decoder.decode_bytes(&mut buf)? {
//!         if let BytesItem::Event(event) = item {
//!             assert_eq!(event.id(), "7");
//!             data.push(event.into_data()); // a `Text`: `&str` in O(1)
//!         }
//!     }
//! }
//! assert_eq!(&*data[0], "{\"long\":\"enough to be a slice of the buffer\"}");
//! assert!(!data[0].is_inline());
//! # }
//! # Ok::<(), sse_codec::Error>(())
//! ```
//!
//! # Example: encode
//!
//! A [`Frame`] is one event, or a standalone comment, retry or id. Its
//! [`encoded_len`](Frame::encoded_len) is exact, so a buffer is sized once;
//! data is split into `data:` lines on CR, LF and CRLF, and an event type or
//! id that no stream could carry is an error, with nothing written.
//!
//! ```
//! use sse_codec::{Error, Frame, KEEPALIVE};
//!
//! let mut buf = [0u8; 128];
//! let mut len = 0;
//! for frame in [
//!     Frame::retry(3000),
//!     Frame::event("{\"n\":1}\n{\"n\":2}").with_event_type("add").with_id("7"),
//!     KEEPALIVE,
//! ] {
//!     len += frame.encode_to_slice(&mut buf[len..])?;
//! }
//! assert_eq!(
//!     &buf[..len],
//!     b"retry: 3000\n\nevent: add\nid: 7\ndata: {\"n\":1}\ndata: {\"n\":2}\n\n: keepalive\n\n",
//! );
//! assert_eq!(Frame::event("x").with_id("a\nb").encoded_len(), Err(Error::InvalidId));
//! # Ok::<(), sse_codec::Error>(())
//! ```
//!
//! # Example: resume
//!
//! A dropped connection loses nothing: the server keeps encoded events in a
//! [`ReplayLog`] and answers a `Last-Event-ID` with what came after it; the
//! client's [`ReconnectPolicy`] tracks the decoder's last event ID and
//! `retry`, says when to reconnect (or to stop, on a non-200 status or a
//! wrong content type), and gives the next request's headers. Neither does
//! I/O or keeps a clock. (Requires `alloc`.)
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use core::time::Duration;
//! use sse_codec::{parse_last_event_id, Action, Decoder, Frame, Item, Outcome};
//! use sse_codec::{ReconnectConfig, ReconnectPolicy, ReplayLog};
//!
//! // Server: log every event; ids are assigned ("0", "1", ...).
//! let mut log = ReplayLog::new();
//! log.append(Frame::retry(500))?;
//! for data in ["a", "b", "c"] {
//!     log.append(Frame::event(data))?;
//! }
//! let serve = |last_event_id: Option<&str>| -> Vec<u8> {
//!     let replay = match parse_last_event_id(last_event_id.unwrap_or("").as_bytes()).unwrap() {
//!         Some(id) => log.since(id).into_replay(), // found: what follows; else all retained
//!         None => log.retained(),
//!     };
//!     replay.flat_map(|entry| entry.as_bytes()).copied().collect()
//! };
//!
//! // Client: one decoder for every connection; `finish` keeps the id.
//! let mut policy = ReconnectPolicy::new(ReconnectConfig::new().with_jitter_percent(0), 42);
//! let mut decoder = Decoder::new();
//! let mut seen = Vec::new();
//! let ok = Outcome::Response { status: 200, content_type: Some(b"text/event-stream"), retry_after: None };
//! for cut in [40, usize::MAX] {
//!     let last_event_id = policy.request_headers().find(|(name, _)| *name == "last-event-id");
//!     let body = serve(last_event_id.map(|(_, value)| value));
//!     assert_eq!(policy.handle(ok), Action::Read);
//!     // The first connection breaks after 40 bytes, in the middle of event "2".
//!     decoder.feed(&body[..cut.min(body.len())], |item| {
//!         if let Ok(Item::Event(e)) = item {
//!             seen.push(e.data().to_owned());
//!         }
//!     });
//!     policy.observe(&decoder);
//!     decoder.finish();
//!     let action = policy.handle(Outcome::TransportError);
//!     assert_eq!(action, Action::Reconnect { delay: Duration::from_millis(500) });
//! }
//! assert_eq!(seen, ["a", "b", "c"]); // each exactly once
//! # }
//! # Ok::<(), sse_codec::Error>(())
//! ```
//!
//! # Crate features
//!
//! - `std` (default): use the standard library; enables memchr's runtime
//!   SIMD detection. Implies `alloc`.
//! - `alloc`: heap storage (`Vec<u8>`), [`Decoder::new`], owned events,
//!   encoding into a `Vec<u8>` (`Frame::encode_to_vec`, `Frame::to_vec`).
//! - `bytes`: [`bytes::BytesMut`](https://docs.rs/bytes) storage;
//!   `Decoder::decode_bytes`, which leaves an unfinished event in the
//!   caller's read buffer and hands out events whose text is `Text`
//!   (validated UTF-8, a slice of the read buffer or inline, O(1) `&str`);
//!   and encoding into any `BufMut` (`Frame::encode_to_buf`). Implies
//!   `alloc`.
//!
//! With no features the crate uses only `core` and never allocates.

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "bytes")]
mod bytes_event;
mod decoder;
mod encode;
mod error;
mod event;
mod field;
mod http;
mod limits;
mod line;
mod raw;
#[cfg(feature = "alloc")]
mod resume;
mod storage;
mod trusted;
mod utf8;

#[cfg(feature = "bytes")]
pub use bytes_event::{BytesEvent, BytesItem};
pub use decoder::Decoder;
pub use encode::{Frame, KEEPALIVE};
pub use error::Error;
pub use event::{Event, Item};
#[cfg(feature = "alloc")]
pub use event::{OwnedEvent, OwnedItem};
pub use field::Field;
pub use http::{CONTENT_TYPE, LAST_EVENT_ID, LAST_EVENT_ID_QUERY, RESPONSE_HEADERS};
pub use limits::Limits;
pub use raw::FieldDecoder;
#[cfg(feature = "alloc")]
pub use resume::{
    is_event_stream, is_valid_topic, parse_last_event_id, parse_retry_after, resume_point, Action,
    Entry, EpochId, Gap, Lookup, Outcome, ReconnectConfig, ReconnectPolicy, Replay, ReplayLimits,
    ReplayLog, RequestHeaders, Resume, StopReason, Window, MAX_TOPIC_LEN,
};
pub use storage::{SliceStorage, Storage};
#[cfg(feature = "bytes")]
pub use trusted::text::Text;
pub use utf8::Utf8;

/// The README's examples, run as doctests.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
