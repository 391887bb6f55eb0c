//! Tokio glue for [`sse_codec`]: a `tokio_util` codec, an adapter from a
//! response body to events, and what an event-stream server needs.
//!
//! This crate is thin on purpose: decoding, limits, UTF-8 handling and
//! encoding live in the sans-IO core, [`sse_codec`]; this crate brings the
//! trait impls, the I/O and the clock. It depends on no web framework, so it
//! fits reqwest, hyper, axum or a bare `TcpStream` alike.
//!
//! - [`SseCodec`]: `tokio_util::codec::Decoder` (events as zero-copy
//!   [`BytesItem`](sse_codec::BytesItem)s, an unfinished event dropped at end
//!   of input) and `Encoder` for [`Frame`](sse_codec::Frame)s and events.
//! - [`SseStream`]: any `Stream<Item = Result<Bytes, E>>` (reqwest's
//!   `bytes_stream()`, a hyper body) as a stream of events, the transport's
//!   error kept apart from the decoder's in [`Error`].
//! - [`Heartbeat`], [`RESPONSE_HEADERS`], [`LAST_EVENT_ID`]: a server's
//!   keep-alive comments on an idle stream and the headers it must send.
//! - [`follow`]: a client's reconnecting event stream over any HTTP client,
//!   driven by the core's [`ReconnectPolicy`](sse_codec::ReconnectPolicy)
//!   (when to reconnect, `Last-Event-ID`, when to stop).
//! - [`SharedLog`]: the core's [`ReplayLog`](sse_codec::ReplayLog) shared by
//!   every connection; [`SharedLog::subscribe`] with a client's
//!   `Last-Event-ID` replays what it missed, then goes on live, with nothing
//!   lost or repeated in between. [`EventBody`] serves it (or any stream of
//!   frames) as an `http_body::Body`, with [`response`]'s head.
//! - [`fleet`]: topics behind one small trait, [`fleet::Backend`], in this
//!   process's memory ([`fleet::MemoryBackend`]) or in Redis Streams shared
//!   by a fleet of nodes (`fleet::RedisBackend`, feature `redis`, which
//!   needs Rust 1.88): any node appends, any node resumes any client, and a
//!   client whose history is gone is told so with a `gap` event.
//!
//! # Example: decode a response body
//!
//! ```
//! use bytes::Bytes;
//! use futures_util::{stream, StreamExt};
//! use sse_codec::BytesItem;
//! use sse_codec_tokio::SseStream;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sse_codec_tokio::Error<std::io::Error>> {
//! // With reqwest: `SseStream::new(response.bytes_stream())`.
//! let body = stream::iter(["event: add\nid: 7\nda", "ta: {\"n\":1}\n\n"].map(|s| Ok(Bytes::from(s))));
//! let mut events = SseStream::new(body);
//! while let Some(item) = events.next().await {
//!     if let BytesItem::Event(event) = item? {
//!         assert_eq!((event.event_type(), event.id(), event.data()), ("add", "7", "{\"n\":1}"));
//!     }
//! }
//! assert_eq!(events.decoder().last_event_id(), b"7"); // send as Last-Event-ID on reconnect
//! # Ok(())
//! # }
//! ```
//!
//! # Example: read and write with `tokio_util::codec`
//!
//! ```
//! use futures_util::{SinkExt, StreamExt};
//! use sse_codec::{BytesItem, Frame};
//! use sse_codec_tokio::SseCodec;
//! use tokio_util::codec::{FramedRead, FramedWrite};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sse_codec_tokio::Error> {
//! let (server, client) = tokio::io::duplex(64);
//! let mut tx = FramedWrite::new(server, SseCodec::new());
//! tx.send(Frame::event("line one\nline two").with_id("1")).await?;
//! drop(tx); // end of stream
//!
//! let mut rx = FramedRead::new(client, SseCodec::new());
//! let Some(BytesItem::Event(event)) = rx.next().await.transpose()? else { panic!() };
//! assert_eq!(event.data(), "line one\nline two");
//! # Ok(())
//! # }
//! ```
//!
//! # Example: serve with tokio
//!
//! With hyper, axum or any stack built on `http-body`: return
//! [`response`]`(`[`EventBody`]`::subscription(log.subscribe(from)))`, with
//! `from` read by [`resume_from`] (the `axum` and `hyper-server` examples;
//! the demo, `examples/server`, on hyper with its bounds). Without one, a
//! handler sends [`RESPONSE_HEADERS`], then a body of encoded frames with a
//! [`Heartbeat`] merged in:
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use futures_util::{stream, StreamExt};
//! use sse_codec::Frame;
//! use sse_codec_tokio::{Heartbeat, RESPONSE_HEADERS};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut head = String::from("HTTP/1.1 200 OK\r\n");
//! for (name, value) in RESPONSE_HEADERS {
//!     head += &format!("{name}: {value}\r\n");
//! }
//! let frames = stream::iter(1..=3).map(|n| {
//!     let id = n.to_string();
//!     let frame = Frame::event("tick").with_id(&id);
//!     let mut buf = BytesMut::new();
//!     frame.encode_to_buf(&mut buf).map(|()| buf.freeze())
//! });
//! let body = Heartbeat::new(frames, Duration::from_secs(15));
//! let chunks: Vec<Bytes> = body.map(Result::unwrap).collect().await;
//! assert_eq!(chunks[2], "id: 3\ndata: tick\n\n");
//! assert!(head.contains("content-type: text/event-stream\r\n"));
//! # }
//! ```
//!
//! # Example: replay what a reconnecting client missed
//!
//! ```
//! use bytes::Bytes;
//! use futures_util::StreamExt;
//! use sse_codec::{parse_last_event_id, Frame, ReplayLog};
//! use sse_codec_tokio::{Heartbeat, SharedLog};
//! use std::{convert::Infallible, time::Duration};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sse_codec::Error> {
//! let log = SharedLog::new(ReplayLog::new()); // one per server, behind an Arc
//! for data in ["a", "b", "c"] {
//!     log.append(Frame::event(data))?; // ids "0", "1", "2"
//! }
//!
//! // A request arrives with `Last-Event-ID: 0`.
//! let header: &[u8] = b"0";
//! let events = log.subscribe(parse_last_event_id(header)?);
//! let body = Heartbeat::new(
//!     events.map(|entry| Ok::<_, Infallible>(Bytes::from_owner(entry))),
//!     Duration::from_secs(15),
//! );
//! let sent: Vec<Bytes> = body.take(2).map(Result::unwrap).collect().await;
//! assert_eq!(sent, ["id: 1\ndata: b\n\n", "id: 2\ndata: c\n\n"]);
//! # Ok(())
//! # }
//! ```
//!
//! # Crate features
//!
//! `redis`: the [`fleet`] backend on Redis Streams. Without features the
//! crate needs `std`, `tokio` (its `time`, `sync` and `rt` features: no
//! I/O and no runtime flavour; `rt` spawns the one heartbeat clock per
//! runtime and interval that every stream shares) and `tokio-util` (its
//! `codec` feature). [`sse_codec`] is used with its `std` and `bytes`
//! features.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod client;
mod codec;
mod error;
pub mod fleet;
mod server;
mod stream;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;
mod time;

pub use client::{follow, Connection, FollowError, RequestHeaders, Stopped};
pub use codec::SseCodec;
pub use error::Error;
pub use server::{
    response, resume_from, Chunk, Chunks, CounterSnapshot, Counters, End, Entries, EventBody,
    Heartbeat, Hooks, SharedLog, Start, Subscription, Taken, DEFAULT_HEARTBEAT, GATHER_MAX,
    LAG_JITTER, SUBSCRIPTION_BATCH,
};
/// The protocol's HTTP facts, from the core.
pub use sse_codec::{CONTENT_TYPE, LAST_EVENT_ID, LAST_EVENT_ID_QUERY, RESPONSE_HEADERS};
pub use stream::SseStream;

/// The core crate, re-exported so that its version always matches.
pub use sse_codec;
