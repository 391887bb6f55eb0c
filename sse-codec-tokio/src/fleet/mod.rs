//! Topic logs behind one small trait, [`Backend`], so that a server can
//! keep its replay history in its own memory ([`MemoryBackend`]) or in
//! Redis Streams shared by a fleet of nodes (`RedisBackend`, cargo feature
//! `redis`), with the same behaviour.
//!
//! # What every backend does
//!
//! - **Topics.** Events are appended to a named topic
//!   ([`is_valid_topic`](sse_codec::is_valid_topic): 1–64 characters of
//!   `A–Z a–z 0–9 _ -`). Each topic numbers its events 1, 2, 3, … in an
//!   *epoch* of its own, and the id a client sees is the
//!   [`EpochId`] `<epoch>-<seq>`, opaque to it.
//! - **Resume.** [`Backend::subscribe`] with the client's `Last-Event-ID`
//!   replays every event after it that the topic still holds, then goes on
//!   live, with no seam to lose or repeat an event at.
//! - **Gap.** When the id cannot be resumed — its events were trimmed, it is
//!   from an earlier epoch (history lost since), from another topic, never
//!   issued, or not an id of this scheme — the stream begins with a `gap`
//!   event ([`Delivery::Gap`]) that names the newest id, then goes on live.
//!   A client is never handed a replay that starts in the wrong place. The
//!   decision is the core's [`Window::resume`](sse_codec::Window::resume).
//! - **Bounds.** Each topic holds at most its
//!   [`ReplayLimits`](sse_codec::ReplayLimits) (the newest events; older
//!   ones are trimmed); a backend holds at most `max_topics` topics; a
//!   subscriber holds at most [`SUBSCRIPTION_BATCH`](crate::SUBSCRIPTION_BATCH)
//!   entries beyond them.
//!
//! # Examples
//!
//! Code written against [`Backend`] runs on either backend:
//!
//! ```
//! use futures_util::StreamExt;
//! use sse_codec::{Frame, ReplayLimits};
//! use sse_codec_tokio::fleet::{Backend, Delivery, MemoryBackend};
//!
//! async fn chat<B: Backend>(backend: &B) -> Result<(), Box<dyn std::error::Error>> {
//!     let first = backend.append("chat", Frame::event("hello")).await?;
//!     backend.append("chat", Frame::event("again").with_event_type("msg")).await?;
//!
//!     // A client that saw `first` gets the rest.
//!     let mut resumed = backend.subscribe("chat", Some(&first.to_string())).await?;
//!     let Some(Delivery::Event(entry)) = resumed.next().await else { panic!() };
//!     assert!(entry.as_bytes().starts_with(b"event: msg\nid: "));
//!
//!     // An id that means nothing here: told of the gap first.
//!     let mut lost = backend.subscribe("chat", Some("42")).await?;
//!     assert!(matches!(lost.next().await, Some(Delivery::Gap(_))));
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! chat(&MemoryBackend::new(ReplayLimits::new(), 100)).await
//! # }
//! ```
//!
//! Serving a topic: a [`TopicSubscription`] is a stream of
//! [`Delivery`]s, each a [`Chunk`](crate::Chunk) an
//! [`EventBody`](crate::EventBody) sends without a copy:
//!
//! ```
//! use core::convert::Infallible;
//! use futures_util::StreamExt;
//! use sse_codec_tokio::fleet::{Backend, BackendError};
//! use sse_codec_tokio::{response, EventBody};
//!
//! async fn serve<B: Backend>(
//!     backend: &B,
//!     topic: &str,
//!     last_event_id: Option<&str>,
//! ) -> Result<http::Response<impl http_body::Body>, BackendError> {
//!     let events = backend.subscribe(topic, last_event_id).await?;
//!     Ok(response(EventBody::new(events.map(Ok::<_, Infallible>))))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BackendError> {
//! let backend = sse_codec_tokio::fleet::MemoryBackend::new(sse_codec::ReplayLimits::new(), 10);
//! let ok = serve(&backend, "news", None).await?;
//! assert_eq!(ok.headers()["content-type"], "text/event-stream");
//! let Err(bad) = serve(&backend, "no/such topic", None).await else { panic!() };
//! assert_eq!(bad.status(), 400);
//! # Ok(())
//! # }
//! ```

mod memory;
mod mirror;
#[cfg(feature = "redis")]
mod redis;

pub use memory::MemoryBackend;
pub use mirror::{Delivery, TopicSubscription};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisBackend, RedisConfig};

use core::future::Future;
use sse_codec::{EpochId, Frame};

/// Where a server keeps its topics' events: append, and subscribe from a
/// `Last-Event-ID`. See the [module docs](self) for what every backend
/// guarantees.
pub trait Backend: Send + Sync + 'static {
    /// Appends `frame` to `topic` (created if new) and returns the id it
    /// was given. An id on `frame` is replaced.
    ///
    /// # Errors
    ///
    /// [`BackendError`]: the topic name is invalid, there are too many
    /// topics, the frame is invalid or too large, or the backend is
    /// unavailable. Nothing is appended.
    fn append(
        &self,
        topic: &str,
        frame: Frame<'_>,
    ) -> impl Future<Output = Result<EpochId, BackendError>> + Send;

    /// The events of `topic` for a client that sent `last_event_id`: a
    /// [`Delivery::Gap`] first if it cannot be resumed, then the events
    /// after it that the topic holds, then live ones.
    ///
    /// The stream ends when the backend closes the topic (for Redis: when
    /// it loses Redis, or finds its history replaced), or when the
    /// subscriber falls behind the topic's window; the client then
    /// reconnects with its last event ID.
    ///
    /// # Errors
    ///
    /// As [`append`](Self::append), less the frame's.
    fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> impl Future<Output = Result<TopicSubscription, BackendError>> + Send;
}

/// Why a [`Backend`] refused an append or a subscription.
#[derive(Debug)]
#[non_exhaustive]
pub enum BackendError {
    /// Not a topic name ([`is_valid_topic`](sse_codec::is_valid_topic)).
    InvalidTopic,
    /// The topic is new and the backend holds `max_topics` already.
    TooManyTopics {
        /// The bound.
        max_topics: usize,
    },
    /// The frame cannot be appended: an invalid event type, or larger than
    /// the topic's [`max_bytes`](sse_codec::ReplayLimits::max_bytes).
    Frame(sse_codec::Error),
    /// The backend's store cannot be reached (Redis is down or too slow).
    /// It recovers by itself when the store does.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

impl BackendError {
    /// The HTTP status to answer with: 400 for the client's mistakes
    /// (topic, frame), 503 for the server's state (too many topics, store
    /// unavailable).
    #[must_use]
    pub fn status(&self) -> http::StatusCode {
        match self {
            BackendError::InvalidTopic | BackendError::Frame(_) => http::StatusCode::BAD_REQUEST,
            BackendError::TooManyTopics { .. } | BackendError::Unavailable(_) => {
                http::StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

impl core::fmt::Display for BackendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BackendError::InvalidTopic => {
                f.write_str("invalid topic: 1-64 characters of A-Z, a-z, 0-9, _ and -")
            }
            BackendError::TooManyTopics { max_topics } => {
                write!(f, "no more than {max_topics} topics")
            }
            BackendError::Frame(e) => write!(f, "invalid event: {e}"),
            BackendError::Unavailable(e) => write!(f, "event store unavailable: {e}"),
        }
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BackendError::Frame(e) => Some(e),
            BackendError::Unavailable(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<sse_codec::Error> for BackendError {
    fn from(e: sse_codec::Error) -> Self {
        BackendError::Frame(e)
    }
}

/// A new epoch: 64 bits that differ between topics, processes and starts
/// (the clock, the process id and a counter, mixed by splitmix64). Not a
/// secret; only unlikely to repeat.
pub(crate) fn new_epoch() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = nanos
        ^ (u64::from(std::process::id()) << 40)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_do_not_repeat() {
        let epochs: std::collections::HashSet<u64> = (0..10_000).map(|_| new_epoch()).collect();
        assert_eq!(epochs.len(), 10_000);
    }

    #[test]
    fn errors_map_to_statuses() {
        assert_eq!(BackendError::InvalidTopic.status(), 400);
        assert_eq!(
            BackendError::from(sse_codec::Error::InvalidEventType).status(),
            400
        );
        assert_eq!(BackendError::TooManyTopics { max_topics: 1 }.status(), 503);
        assert_eq!(BackendError::Unavailable("down".into()).status(), 503);
    }
}
