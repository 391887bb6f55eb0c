//! The topic endpoints, on either `fleet` backend: in memory (one node), or
//! Redis Streams (`--redis URL`: every node on that Redis serves the same
//! topics, and a client resumes on any of them).
//!
//! - `POST /streams/{topic}[?event=TYPE]`: the request body (UTF-8, at most
//!   [`MAX_POST`] bytes; CR and LF split it into `data:` lines) is appended
//!   as one event, of type `TYPE` if given (percent-decoded). Answers `200`
//!   with the assigned id as plain text; `400` for a topic that is not 1–64
//!   characters of `[A-Za-z0-9_-]`, a body that is not UTF-8, or an event
//!   type with CR or LF; `413` for a larger body; `503` when the store is
//!   unavailable or there are [`MAX_TOPICS`] topics.
//! - `GET /streams/{topic}[?last_event_id=ID][&close_after=N][&heartbeat_ms=N][&retry=N][&flush_ms=N]`:
//!   the topic's events, with the response head of `/events`. It resumes
//!   after the `Last-Event-ID` header, else the `last_event_id` parameter
//!   (a browser's first connection cannot set the header). An id that
//!   cannot be resumed gets a `gap` event first (with the newest id), then
//!   live events. `close_after=N` ends the response after N events,
//!   replayed ones included, not counting the gap; `heartbeat_ms` as on
//!   `/events` (default 30 s); `retry`, if given, is sent first; `flush_ms`
//!   gathers the events that come within that many milliseconds of the
//!   first into one write (default [`DEFAULT_FLUSH_MS`]; 0: each event as
//!   it comes).

use super::demo::{decimal, TEXT};
use super::http::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use sse_codec::{Frame, ReplayLimits};
use sse_codec_tokio::fleet::{Backend, BackendError, MemoryBackend, TopicSubscription};
use sse_codec_tokio::EventBody;
use std::convert::Infallible;
use std::time::Duration;

/// The largest event body a `POST` may carry: 64 KiB.
pub(crate) const MAX_POST: usize = 64 << 10;
/// The most topics a node serves.
pub(crate) const MAX_TOPICS: usize = 100;
/// What each topic keeps for resuming: its newest 1,000 events, at most 1 MiB.
pub(crate) const TOPIC_LIMITS: ReplayLimits = ReplayLimits::new()
    .with_max_events(1000)
    .with_max_bytes(1 << 20);

const DEFAULT_HEARTBEAT_MS: u64 = 30_000;
/// A topic stream's default flush window, 5 ms: at most 5 ms more latency,
/// and under a high event rate one write (and one read for the client) per
/// 5 ms instead of one per event. See `EventBody::with_flush_window`.
pub(crate) const DEFAULT_FLUSH_MS: u64 = 5;

/// The demo's store of topics: chosen at start-up.
#[derive(Debug)]
pub(crate) enum Store {
    /// This process's memory.
    Memory(MemoryBackend),
    /// Redis Streams, shared with every node on the same Redis.
    #[cfg(feature = "redis")]
    Redis(sse_codec_tokio::fleet::RedisBackend),
}

impl Store {
    /// The in-memory store.
    pub(crate) fn memory() -> Self {
        Store::Memory(MemoryBackend::new(TOPIC_LIMITS, MAX_TOPICS))
    }

    /// The store on the Redis at `url`: nothing connects until the first
    /// request, so a node starts whether or not Redis is up.
    #[cfg(feature = "redis")]
    pub(crate) fn redis(url: &str) -> Result<Self, BackendError> {
        use sse_codec_tokio::fleet::{RedisBackend, RedisConfig};
        let config = RedisConfig::new()
            .with_limits(TOPIC_LIMITS)
            .with_max_topics(MAX_TOPICS);
        Ok(Store::Redis(RedisBackend::new(url, config)?))
    }

    async fn append(&self, topic: &str, frame: Frame<'_>) -> Result<String, BackendError> {
        let id = match self {
            Store::Memory(b) => b.append(topic, frame).await?,
            #[cfg(feature = "redis")]
            Store::Redis(b) => b.append(topic, frame).await?,
        };
        Ok(id.to_string())
    }

    async fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> Result<TopicSubscription, BackendError> {
        match self {
            Store::Memory(b) => b.subscribe(topic, last_event_id).await,
            #[cfg(feature = "redis")]
            Store::Redis(b) => b.subscribe(topic, last_event_id).await,
        }
    }
}

/// `POST /streams/{topic}`.
pub(crate) async fn post(store: &Store, topic: &str, request: Request<Incoming>) -> Response<Body> {
    let event_type = match param(request.uri().query(), "event") {
        Ok(t) => t,
        Err(msg) => return plain(StatusCode::BAD_REQUEST, &msg),
    };
    let body = match Limited::new(request.into_body(), MAX_POST).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            let msg = format!("the event is larger than {MAX_POST} bytes, or the body failed\n");
            return plain(StatusCode::PAYLOAD_TOO_LARGE, &msg);
        }
    };
    let Ok(data) = std::str::from_utf8(&body) else {
        return plain(StatusCode::BAD_REQUEST, "the body is not UTF-8\n");
    };
    let mut frame = Frame::event(data);
    if let Some(t) = event_type.as_deref() {
        frame = frame.with_event_type(t);
    }
    match store.append(topic, frame).await {
        Ok(id) => plain(StatusCode::OK, &id),
        Err(e) => plain(e.status(), &format!("{e}\n")),
    }
}

/// `GET /streams/{topic}`.
pub(crate) async fn get(store: &Store, topic: &str, request: &Request<Incoming>) -> Response<Body> {
    let query = request.uri().query();
    let header = request
        .headers()
        .get(sse_codec::LAST_EVENT_ID)
        .map(|v| v.as_bytes());
    let from = match sse_codec::resume_point(header, query, "last_event_id") {
        Ok(from) => from,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("last_event_id: {e}\n")),
    };
    let number = |name| match param(query, name) {
        Ok(None) => Ok(None),
        Ok(Some(v)) => decimal(&v)
            .map(Some)
            .ok_or_else(|| format!("{name} must be a non-negative integer, got {v:?}\n")),
        Err(msg) => Err(msg),
    };
    let mut numbers = ["close_after", "heartbeat_ms", "retry", "flush_ms"].map(number);
    if let Some(Err(msg)) = numbers.iter_mut().find(|n| n.is_err()) {
        return plain(StatusCode::BAD_REQUEST, msg);
    }
    let [close_after, heartbeat_ms, retry, flush_ms] = numbers.map(Result::unwrap_or_default);
    let close_after = close_after.unwrap_or(0);
    let heartbeat_ms = heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS);
    let flush = Duration::from_millis(flush_ms.unwrap_or(DEFAULT_FLUSH_MS));
    let events = match store.subscribe(topic, from.as_deref()).await {
        Ok(events) => events,
        Err(e) => return plain(e.status(), &format!("{e}\n")),
    };
    let retry = retry.map(|ms| {
        let mut buf = Vec::new();
        // A retry frame has no text to be invalid.
        let _ = Frame::retry(ms).encode_to_vec(&mut buf);
        Bytes::from(buf)
    });
    let retry = futures_util::stream::iter(retry);
    let events = limit(events, close_after).map(sse_codec_tokio::Chunk::into_bytes);
    let chunks = retry.chain(events).map(Ok::<_, Infallible>);
    let body = EventBody::with_heartbeat(chunks, Duration::from_millis(heartbeat_ms.max(1)))
        .with_flush_window(flush);
    sse_codec_tokio::response(body.boxed_unsync())
}

/// `events`, ended right after the `n`th event (0: never); the gap does
/// not count.
fn limit(
    events: TopicSubscription,
    n: u64,
) -> impl Stream<Item = sse_codec_tokio::fleet::Delivery> + Send {
    futures_util::stream::unfold((events, 0u64), move |(mut events, sent)| async move {
        if n != 0 && sent >= n {
            return None;
        }
        let delivery = events.next().await?;
        let sent = sent + u64::from(!delivery.is_gap());
        Some((delivery, (events, sent)))
    })
}

/// The value of query parameter `name`, percent-decoded (`+` is a space);
/// the first wins.
fn param(query: Option<&str>, name: &str) -> Result<Option<String>, String> {
    let Some(query) = query else { return Ok(None) };
    let pairs = query.split('&').filter(|p| !p.is_empty());
    let Some(raw) = pairs
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .find_map(|(n, v)| (n == name).then_some(v))
    else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hex = [bytes.next(), bytes.next()];
                let hex = hex.map(|h| h.and_then(|h| (h as char).to_digit(16)));
                match hex {
                    [Some(hi), Some(lo)] => (hi * 16 + lo) as u8,
                    _ => return Err(format!("{name}: a malformed % escape\n")),
                }
            }
            b => b,
        });
    }
    String::from_utf8(out)
        .map(Some)
        .map_err(|_| format!("{name}: not UTF-8\n"))
}

/// A plain-text response.
fn plain(status: StatusCode, body: &str) -> Response<Body> {
    super::demo::plain(status, TEXT, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_percent_decoded() {
        assert_eq!(
            param(Some("event=a%20b+c&event=x"), "event"),
            Ok(Some("a b c".into()))
        );
        assert_eq!(param(Some("x=1"), "event"), Ok(None));
        assert_eq!(param(None, "event"), Ok(None));
        assert!(param(Some("event=%zz"), "event").is_err());
        assert!(param(Some("event=%ff"), "event").is_err());
    }

    #[tokio::test]
    async fn close_after_does_not_count_the_gap() {
        let store = MemoryBackend::new(TOPIC_LIMITS, 4);
        for n in 0..3 {
            store
                .append("t", Frame::event(&n.to_string()))
                .await
                .unwrap();
        }
        let events = store.subscribe("t", Some("junk")).await.unwrap();
        let tail = tokio::spawn(async move { limit(events, 2).collect::<Vec<_>>().await });
        for n in 3..6 {
            store
                .append("t", Frame::event(&n.to_string()))
                .await
                .unwrap();
        }
        let got = tail.await.unwrap();
        assert_eq!(got.len(), 3);
        assert!(got[0].is_gap());
        assert!(got[2].as_bytes().ends_with(b"data: 4\n\n"));
    }
}
