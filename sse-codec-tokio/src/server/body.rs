//! The response of an event stream: an [`http_body::Body`] and its head.

use super::heartbeat::Heartbeat;
use super::log::Subscription;
use bytes::{Bytes, BytesMut};
use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use futures_core::Stream;
use http::header::{HeaderName, HeaderValue};
use pin_project_lite::pin_project;
use sse_codec::Entry;

/// What an [`EventBody`] sends: something already encoded as one or more
/// whole frames, turned into [`Bytes`] without a copy.
pub trait Chunk: Send + 'static {
    /// The encoded bytes.
    fn into_bytes(self) -> Bytes;
}

impl Chunk for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

/// A log entry is sent as it is stored: the `Bytes` shares its memory.
impl Chunk for Entry {
    fn into_bytes(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

/// The default interval of heartbeat comments on an idle stream: 15 s,
/// under the 30–60 s after which proxies and load balancers commonly close
/// an idle connection, and a third of a client's default idle timeout
/// ([`ReconnectConfig::idle_timeout`](sse_codec::ReconnectConfig::idle_timeout),
/// 45 s). A heartbeat comes 15–18.75 s after the last event
/// ([`EventBody::with_heartbeat`]).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

pin_project! {
    /// The body of an event-stream response, as an [`http_body::Body`]: the
    /// interface hyper, axum, tonic and reqwest share.
    ///
    /// It sends each chunk of `stream` (encoded frames as [`Bytes`], or
    /// [`Entry`]s of a [`SharedLog`](crate::SharedLog), handed out without a
    /// copy) as one data frame, as soon as it comes, and a `: keepalive`
    /// comment whenever nothing was sent for the heartbeat interval
    /// ([`DEFAULT_HEARTBEAT`], 15 s). The body ends when `stream` ends, and
    /// fails with its error.
    ///
    /// Send it with the response head of [`response`](crate::response),
    /// or with [`RESPONSE_HEADERS`](sse_codec::RESPONSE_HEADERS).
    ///
    /// # Panics
    ///
    /// The constructors panic outside a Tokio runtime with the time driver
    /// enabled, as [`tokio::time::sleep`] does, unless the heartbeat
    /// interval is [`Duration::MAX`] (none).
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use sse_codec::{Frame, ReplayLog};
    /// use sse_codec_tokio::{EventBody, SharedLog};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sse_codec::Error> {
    /// let log = SharedLog::new(ReplayLog::new());
    /// log.append(Frame::event("a"))?;
    /// log.append(Frame::event("b"))?;
    /// let mut body = EventBody::subscription(log.subscribe(Some("0")));
    /// let frame = body.frame().await.unwrap().unwrap();
    /// assert_eq!(frame.into_data().unwrap(), "id: 1\ndata: b\n\n");
    /// # Ok(())
    /// # }
    /// ```
    #[must_use = "a body does nothing unless polled"]
    pub struct EventBody<S> {
        #[pin]
        chunks: Heartbeat<Chunks<S>>,
    }
}

impl<S, T, E> EventBody<S>
where
    S: Stream<Item = Result<T, E>>,
    T: Chunk,
{
    /// A body that sends `stream`'s chunks, with heartbeats every
    /// [`DEFAULT_HEARTBEAT`].
    pub fn new(stream: S) -> Self {
        Self::with_heartbeat(stream, DEFAULT_HEARTBEAT)
    }

    /// A body with heartbeats every `interval` ([`Duration::MAX`]: none).
    ///
    /// A heartbeat goes out between `interval` and `interval + period`
    /// after the last chunk or heartbeat, where `period` is `max(interval /
    /// 4, 1 ms)` (while the stream stays idle, exactly `interval` apart): all
    /// streams with the same interval on a runtime share one clock that
    /// ticks every `period` ([`Heartbeat`]), so an idle stream is woken once
    /// per heartbeat and a busy one costs one relaxed atomic load per chunk,
    /// with no timer of its own.
    pub fn with_heartbeat(stream: S, interval: Duration) -> Self {
        EventBody {
            chunks: Heartbeat::new(Chunks::new(stream), interval),
        }
    }

    /// Gathers the chunks that come within `window` of the first one into
    /// one data frame (one write), up to [`GATHER_MAX`] bytes: fewer system
    /// calls and packets per event when events come faster than a client's
    /// writes, for up to `window` more latency. Off by default (each chunk
    /// is sent as it comes); [`Duration::ZERO`] turns it off.
    ///
    /// The gathered chunks are copied into one buffer. If the stream fails,
    /// what was gathered is dropped with the connection; the client has not
    /// received it, and resumes before it.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures_util::stream;
    /// use http_body_util::BodyExt;
    /// use sse_codec_tokio::EventBody;
    /// use std::{convert::Infallible, time::Duration};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let events = ["data: a\n\n", "data: b\n\n"].map(|s| Ok::<_, Infallible>(Bytes::from(s)));
    /// let mut body = EventBody::new(stream::iter(events)).with_flush_window(Duration::from_millis(5));
    /// let frame = body.frame().await.unwrap().unwrap();
    /// assert_eq!(frame.into_data().unwrap(), "data: a\n\ndata: b\n\n"); // one write
    /// # }
    /// ```
    pub fn with_flush_window(mut self, window: Duration) -> Self {
        self.chunks.get_mut().gather = (!window.is_zero()).then(|| {
            Box::new(Gather {
                window,
                sleep: None,
                held: BytesMut::new(),
                armed: false,
                ended: false,
            })
        });
        self
    }
}

/// The most bytes [`EventBody::with_flush_window`] gathers into one frame:
/// 64 KiB. A larger gathering is sent at once.
pub const GATHER_MAX: usize = 64 << 10;

/// A subscription's entries as their bytes ([`Subscription::into_bytes`]),
/// as a stream that cannot fail: what [`EventBody::subscription`] sends.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Entries(Subscription<Bytes>);

impl Entries {
    /// The subscription.
    pub fn into_inner(self) -> Subscription<Bytes> {
        self.0
    }
}

impl Stream for Entries {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0).poll_next(cx).map(|item| item.map(Ok))
    }
}

impl EventBody<Entries> {
    /// A body that sends a log subscription: the replay, then live entries,
    /// with heartbeats every [`DEFAULT_HEARTBEAT`]. It ends when the
    /// subscription does (the log closed, or the subscriber fell behind the
    /// log's window: the client then resumes from its last event ID).
    ///
    /// Its log's [`Hooks`](crate::Hooks) are told of each heartbeat.
    pub fn subscription(subscription: Subscription) -> Self {
        let hooks = subscription.hooks();
        let entries = Entries(subscription.into_bytes());
        EventBody {
            chunks: Heartbeat::new(Chunks::new(entries), DEFAULT_HEARTBEAT).with_hooks(hooks),
        }
    }
}

impl<S, T, E> http_body::Body for EventBody<S>
where
    S: Stream<Item = Result<T, E>>,
    T: Chunk,
{
    type Data = Bytes;
    type Error = E;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, E>>> {
        self.project()
            .chunks
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(http_body::Frame::data)))
    }
}

impl<S> core::fmt::Debug for EventBody<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventBody").finish_non_exhaustive()
    }
}

pin_project! {
    /// `stream`'s chunks as `Bytes`, gathered if
    /// [`EventBody::with_flush_window`] asked for it.
    #[derive(Debug)]
    pub struct Chunks<S> {
        #[pin]
        stream: S,
        gather: Option<Box<Gather>>,
    }
}

impl<S> Chunks<S> {
    fn new(stream: S) -> Self {
        Chunks {
            stream,
            gather: None,
        }
    }
}

/// The state of a flush window.
#[derive(Debug)]
struct Gather {
    window: Duration,
    /// Made on first use, then reset.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    held: BytesMut,
    /// The window is open: `held` goes out when `sleep` fires.
    armed: bool,
    /// The stream has ended; `held` goes out, then the end.
    ended: bool,
}

impl Gather {
    /// What was gathered, as one chunk; the window closes.
    fn take(&mut self) -> Bytes {
        self.armed = false;
        self.held.split().freeze()
    }
}

impl<S, T, E> Stream for Chunks<S>
where
    S: Stream<Item = Result<T, E>>,
    T: Chunk,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let Some(gather) = this.gather.as_deref_mut() else {
            return this
                .stream
                .poll_next(cx)
                .map(|item| item.map(|chunk| chunk.map(Chunk::into_bytes)));
        };
        let mut stream = this.stream;
        loop {
            if gather.ended {
                let held = (!gather.held.is_empty()).then(|| Ok(gather.take()));
                return Poll::Ready(held);
            }
            match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if !gather.armed {
                        gather.armed = true;
                        let due = crate::time::deadline(gather.window);
                        match gather.sleep.as_mut() {
                            Some(sleep) => sleep.as_mut().reset(due),
                            None => gather.sleep = Some(Box::pin(tokio::time::sleep_until(due))),
                        }
                    }
                    gather.held.extend_from_slice(&chunk.into_bytes());
                    if gather.held.len() >= GATHER_MAX {
                        return Poll::Ready(Some(Ok(gather.take())));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    gather.held.clear();
                    gather.armed = false;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => gather.ended = true,
                Poll::Pending => {
                    let due = gather.armed
                        && gather
                            .sleep
                            .as_mut()
                            .is_some_and(|s| s.as_mut().poll(cx).is_ready());
                    return if due {
                        Poll::Ready(Some(Ok(gather.take())))
                    } else {
                        Poll::Pending
                    };
                }
            }
        }
    }
}

/// An event-stream response: status 200, the head of
/// [`RESPONSE_HEADERS`](sse_codec::RESPONSE_HEADERS) (`Content-Type:
/// text/event-stream`, `Cache-Control: no-cache, no-transform`,
/// `X-Accel-Buffering: no`), and `body`.
///
/// # Examples
///
/// An axum handler that serves a resumable stream from a shared log:
///
/// ```
/// use axum::extract::{RawQuery, State};
/// use axum::http::{HeaderMap, Response, StatusCode};
/// use sse_codec_tokio::{response, resume_from, EventBody, Entries, SharedLog};
/// use std::sync::Arc;
///
/// async fn events(
///     State(log): State<Arc<SharedLog>>,
///     headers: HeaderMap,
///     RawQuery(query): RawQuery,
/// ) -> Result<Response<EventBody<Entries>>, StatusCode> {
///     let from = resume_from(&headers, query.as_deref()).map_err(|_| StatusCode::BAD_REQUEST)?;
///     Ok(response(EventBody::subscription(log.subscribe(from.as_deref()))))
/// }
/// let app: axum::Router = axum::Router::new()
///     .route("/events", axum::routing::get(events))
///     .with_state(SharedLog::new(sse_codec::ReplayLog::new()));
/// # let _ = app;
/// ```
pub fn response<B>(body: B) -> http::Response<B> {
    let mut response = http::Response::new(body);
    let headers = response.headers_mut();
    for (name, value) in sse_codec::RESPONSE_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// Where a request asks to resume, for [`SharedLog::subscribe`](crate::SharedLog::subscribe):
/// its `Last-Event-ID` header, or, for a browser's first connection, which
/// cannot set headers, the `lastEventId` query parameter
/// ([`LAST_EVENT_ID_QUERY`](sse_codec::LAST_EVENT_ID_QUERY)) of `query`
/// (the URI's query string, without `?`). `Ok(None)`: start live. See
/// [`resume_point`](sse_codec::resume_point).
///
/// # Errors
///
/// [`sse_codec::Error::InvalidLastEventId`] if the value cannot be an id
/// any stream set (a 400 at HTTP, or treat it as none).
///
/// # Examples
///
/// ```
/// use http::HeaderMap;
/// use sse_codec_tokio::resume_from;
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(resume_from(&headers, Some("lastEventId=7"))?.as_deref(), Some("7"));
/// headers.insert("last-event-id", "9".parse().unwrap());
/// assert_eq!(resume_from(&headers, Some("lastEventId=7"))?.as_deref(), Some("9"));
/// # Ok::<(), sse_codec::Error>(())
/// ```
pub fn resume_from(
    headers: &http::HeaderMap,
    query: Option<&str>,
) -> Result<Option<String>, sse_codec::Error> {
    let header = headers
        .get(sse_codec::LAST_EVENT_ID)
        .map(HeaderValue::as_bytes);
    sse_codec::resume_point(header, query, sse_codec::LAST_EVENT_ID_QUERY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SharedLog;
    use http_body::Body as _;
    use http_body_util::BodyExt;
    use sse_codec::{Frame, ReplayLog};

    type Feed = tokio::sync::mpsc::UnboundedSender<Result<Bytes, &'static str>>;

    /// A body over chunks the test sends, with a flush window.
    fn gathered(
        window: Duration,
    ) -> (
        Feed,
        EventBody<impl Stream<Item = Result<Bytes, &'static str>>>,
    ) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let chunks = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let body = EventBody::with_heartbeat(chunks, Duration::MAX).with_flush_window(window);
        (tx, body)
    }

    async fn data<S>(body: &mut EventBody<S>) -> Option<Result<Bytes, &'static str>>
    where
        S: Stream<Item = Result<Bytes, &'static str>>,
        EventBody<S>: Unpin,
    {
        body.frame()
            .await
            .map(|f| f.map(|f| f.into_data().unwrap_or_default()))
    }

    #[tokio::test(start_paused = true)]
    async fn a_flush_window_gathers_what_comes_within_it() {
        let ms = Duration::from_millis;
        let (tx, mut body) = gathered(ms(5));
        let start = tokio::time::Instant::now();
        let feeder = tokio::spawn(async move {
            for (at, chunk) in [(0, "a"), (1, "b"), (4, "c"), (9, "d"), (30, "e")] {
                tokio::time::sleep_until(start + ms(at)).await;
                tx.send(Ok(Bytes::from(chunk))).unwrap();
            }
            tx
        });
        let mut got = Vec::new();
        for _ in 0..3 {
            let chunk = data(&mut body).await.unwrap().unwrap();
            got.push((start.elapsed().as_millis(), chunk));
        }
        // a, b, c within 5 ms of a; d opens a window of its own; so does e.
        assert_eq!(got, [(5, "abc".into()), (14, "d".into()), (35, "e".into())]);
        // The end sends what is held first.
        let tx = feeder.await.unwrap();
        tx.send(Ok(Bytes::from("f"))).unwrap();
        drop(tx);
        assert_eq!(data(&mut body).await.unwrap().unwrap(), "f");
        assert!(data(&mut body).await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_flush_window_sends_at_gather_max_and_fails_with_the_stream() {
        let (tx, mut body) = gathered(Duration::from_secs(3600));
        let big = Bytes::from(vec![b'x'; GATHER_MAX / 2 + 1]);
        tx.send(Ok(big.clone())).unwrap();
        tx.send(Ok(big.clone())).unwrap();
        tx.send(Ok(Bytes::from("y"))).unwrap();
        let first = data(&mut body).await.unwrap().unwrap();
        assert_eq!(
            first.len(),
            2 * big.len(),
            "sent at once, not after an hour"
        );
        tx.send(Err("broken")).unwrap();
        assert_eq!(data(&mut body).await.unwrap(), Err("broken"));
        // Off: each chunk on its own.
        let (tx, mut body) = gathered(Duration::ZERO);
        tx.send(Ok(Bytes::from("a"))).unwrap();
        tx.send(Ok(Bytes::from("b"))).unwrap();
        assert_eq!(data(&mut body).await.unwrap().unwrap(), "a");
        assert_eq!(data(&mut body).await.unwrap().unwrap(), "b");
    }

    #[test]
    fn the_response_head_is_the_cores() {
        let response = response(());
        assert_eq!(response.status(), 200);
        let headers: Vec<_> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            headers,
            [
                ("content-type", "text/event-stream"),
                ("cache-control", "no-cache, no-transform"),
                ("x-accel-buffering", "no"),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn entries_are_sent_without_a_copy_then_heartbeats_when_idle() {
        let log = SharedLog::new(ReplayLog::new());
        let mut body = EventBody::subscription(log.subscribe(None));
        let entry = log.append(Frame::event("a")).unwrap();
        let data = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(data, "id: 0\ndata: a\n\n");
        assert_eq!(
            data.as_ptr(),
            entry.as_bytes().as_ptr(),
            "shared, not copied"
        );
        let started = tokio::time::Instant::now();
        let beat = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(beat, ": keepalive\n\n");
        // Within a quarter of the interval after it (the shared clock's tick).
        let after = started.elapsed();
        assert!(
            (DEFAULT_HEARTBEAT..=DEFAULT_HEARTBEAT + DEFAULT_HEARTBEAT / 4).contains(&after),
            "{after:?}"
        );
        assert!(!body.is_end_stream());
        log.close();
        assert!(body.frame().await.is_none(), "ends when the log closes");
    }

    #[tokio::test]
    async fn a_stream_error_is_the_body_error() {
        let chunks =
            futures_util::stream::iter([Ok(Bytes::from_static(b"data: x\n\n")), Err("broken")]);
        let mut body = EventBody::with_heartbeat(chunks, Duration::MAX);
        assert!(body.frame().await.unwrap().is_ok());
        assert_eq!(body.frame().await.unwrap().err(), Some("broken"));
    }
}
