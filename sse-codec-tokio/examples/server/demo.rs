//! The demo application: one server-wide producer appending to one event
//! log, a live page at `/`, and the event stream at `/events`.
//!
//! `GET /events` query parameters, each an optional non-negative integer
//! (anything else is a 400):
//! - `retry`: the reconnection time sent as the first frame (default 3000 ms);
//! - `interval_ms`: the producer's period (default 1000 ms; the latest
//!   request that carries it sets it; at least 10 ms);
//! - `heartbeat_ms`: a `: keepalive` comment after this long without an
//!   event on this connection (default 30000 ms; 0 counts as 1);
//! - `close_after`: end the response cleanly once this connection has sent
//!   this many events, replayed ones included (absent or 0: never).
//!
//! With `Last-Event-ID: k`, k an id in the log, the events after k are
//! replayed at once, then the stream goes on live: the log is the core's
//! `ReplayLog`, shared through `sse_codec_tokio::SharedLog`, whose
//! subscription walks it with one cursor for both, so there is no seam to
//! lose or repeat an event at. The log keeps the last 10,000 events (at
//! most 4 MiB); an older id is answered live only.
//!
//! Served by hyper with the bounds of `http::Bounds::DEMO`: at most 512
//! open connections, 10 s for a request head, 30 s for a client that does
//! not read.

use super::http::{self, Body, Bounds};
use super::streams::{self, Store};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use sse_codec::{Frame, ReplayLimits, ReplayLog};
use sse_codec_tokio::{resume_from, EventBody, SharedLog};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

/// The live page at `/`.
const PAGE: &str = include_str!("page.html");

/// How long the producer goes on after the last client has gone, so that a
/// reconnecting client has events to catch up on.
pub(crate) const LINGER: Duration = Duration::from_secs(5);

const DEFAULT_RETRY_MS: u64 = 3000;
const DEFAULT_INTERVAL_MS: u64 = 1000;
const DEFAULT_HEARTBEAT_MS: u64 = 30_000;
/// The producer's shortest period: one client cannot make the server
/// produce (and every client receive) more than 100 events a second.
const MIN_INTERVAL_MS: u64 = 10;
/// What the log keeps for replay: the last 10,000 events, at most 4 MiB.
const LOG_LIMITS: ReplayLimits = ReplayLimits::new()
    .with_max_events(10_000)
    .with_max_bytes(4 << 20);

/// The data of event `n`, before encoding. Line breaks in it become
/// separate `data:` lines, so a client reads each of them as LF.
pub(crate) fn event_data(n: u64) -> String {
    match n % 4 {
        1 => format!("single line #{n}"),
        2 => format!(
            "multi line #{n}\n second line starts with a space\n\nfourth line, after an empty one"
        ),
        3 => format!("CR\rLF\nCRLF\r\nend #{n}"),
        _ => format!("{{\"id\":{n},\"msg\":\"héllo ✓ 🚀\"}}"),
    }
}

/// Appends event `n`, the log's next: odd ids have the event type `tick`.
/// The log writes the id, its sequence number.
fn append_event(log: &SharedLog, n: u64) {
    let data = event_data(n);
    let mut frame = Frame::event(&data);
    if n % 2 == 1 {
        frame = frame.with_event_type("tick");
    }
    // Small and valid by construction, and far under the log's byte bound.
    let entry = log.append(frame).expect("demo events fit the log");
    debug_assert_eq!(entry.seq(), n);
}

fn encode(frame: &Frame<'_>) -> Bytes {
    let mut buf = BytesMut::new();
    // The demo's frames are valid by construction.
    frame
        .encode_to_buf(&mut buf)
        .expect("demo frames are valid");
    buf.freeze()
}

/// The shared state of one demo server.
#[derive(Debug)]
pub(crate) struct Demo {
    /// The events, ids 1, 2, 3, …, the newest [`LOG_LIMITS`] of them.
    log: std::sync::Arc<SharedLog>,
    period: watch::Sender<Duration>,
    clients: watch::Sender<usize>,
    producing: AtomicBool,
    linger: Duration,
    /// The topics of `/streams/{topic}`.
    store: Store,
}

impl Demo {
    #[allow(dead_code)] // for the tests
    pub(crate) fn new(linger: Duration) -> Arc<Self> {
        Self::with_store(linger, Store::memory())
    }

    /// A demo whose topics live in `store`.
    pub(crate) fn with_store(linger: Duration, store: Store) -> Arc<Self> {
        Arc::new(Demo {
            log: SharedLog::new(ReplayLog::starting_at(1).with_limits(LOG_LIMITS)),
            period: watch::Sender::new(Duration::from_millis(DEFAULT_INTERVAL_MS)),
            clients: watch::Sender::new(0),
            producing: AtomicBool::new(false),
            linger,
            store,
        })
    }

    /// The event log.
    #[allow(dead_code)] // for the tests
    pub(crate) fn log(&self) -> &Arc<SharedLog> {
        &self.log
    }

    /// The id of the newest event, 0 before the first.
    pub(crate) fn latest(&self) -> u64 {
        self.log.read(ReplayLog::next_seq) - 1
    }

    /// Serves connections from `listener` until the task is dropped, with
    /// [`Bounds::DEMO`].
    pub(crate) async fn serve(self: Arc<Self>, listener: TcpListener) {
        self.serve_with(listener, Bounds::DEMO).await;
    }

    /// [`serve`](Self::serve) with other bounds.
    pub(crate) async fn serve_with(self: Arc<Self>, listener: TcpListener, bounds: Bounds) {
        http::serve(listener, bounds, move |request| {
            let demo = Arc::clone(&self);
            async move { demo.route(request).await }
        })
        .await;
    }

    async fn route(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        if let Some(topic) = request.uri().path().strip_prefix("/streams/") {
            let topic = topic.to_owned();
            return match request.method().as_str() {
                "GET" => streams::get(&self.store, &topic, &request).await,
                "POST" => streams::post(&self.store, &topic, request).await,
                _ => plain(StatusCode::METHOD_NOT_ALLOWED, TEXT, "GET or POST only\n"),
            };
        }
        let request = &request;
        match (request.method().as_str(), request.uri().path()) {
            ("GET", "/events") => self.events(request),
            ("GET", "/") => plain(StatusCode::OK, "text/html; charset=utf-8", PAGE),
            ("GET", _) => plain(StatusCode::NOT_FOUND, TEXT, "not found\n"),
            _ => plain(StatusCode::METHOD_NOT_ALLOWED, TEXT, "GET only\n"),
        }
    }

    /// `GET /events`.
    fn events(self: Arc<Self>, request: &Request<Incoming>) -> Response<Body> {
        let params = match Params::parse(request.uri().query().unwrap_or_default()) {
            Ok(p) => p,
            Err(msg) => return plain(StatusCode::BAD_REQUEST, TEXT, &msg),
        };
        if let Some(ms) = params.interval_ms {
            let period = Duration::from_millis(ms.max(MIN_INTERVAL_MS));
            self.period
                .send_if_modified(|p| std::mem::replace(p, period) != period);
        }

        // Register before reading the log, so the producer cannot pause
        // between the two; then start it if this is the first request. The
        // registration lives as long as the body.
        let client = Client::register(&self);
        // An id the log holds: replay what follows it. Anything else (no
        // header, not UTF-8, an id never issued or evicted): live only.
        let from = resume_from(request.headers(), None).unwrap_or(None);
        let events = self.log.subscribe(from.as_deref());
        if !self.producing.swap(true, Ordering::SeqCst) {
            tokio::spawn(Arc::clone(&self).produce());
        }

        // The retry frame first, at once, before any event exists; each
        // event is sent as soon as it is produced.
        let retry = futures_util::stream::once(async move { encode(&Frame::retry(params.retry)) });
        let events = events.map(Bytes::from_owner);
        let events: std::pin::Pin<Box<dyn Stream<Item = Bytes> + Send>> = match params.close_after {
            0 => Box::pin(events),
            n => Box::pin(events.take(usize::try_from(n).unwrap_or(usize::MAX))),
        };
        let chunks = retry.chain(events).map(move |chunk| {
            let _registered = &client;
            Ok::<_, Infallible>(chunk)
        });
        let body =
            EventBody::with_heartbeat(chunks, Duration::from_millis(params.heartbeat_ms.max(1)));
        sse_codec_tokio::response(body.boxed_unsync())
    }

    /// The producer: one event per period while any client is connected and
    /// for [`LINGER`] after the last one leaves; then it waits for the next.
    async fn produce(self: Arc<Self>) {
        let mut clients = self.clients.subscribe();
        let mut period_rx = self.period.subscribe();
        loop {
            if clients.wait_for(|&n| n > 0).await.is_err() {
                return;
            }
            let mut period = *period_rx.borrow_and_update();
            let mut next = Instant::now() + period;
            let mut idle_since: Option<Instant> = None;
            loop {
                let linger_end = idle_since.map(|t| t + self.linger);
                tokio::select! {
                    () = sleep_until(next) => {
                        append_event(&self.log, self.latest() + 1);
                        // Keep the pace, but never burst to catch up.
                        next = (next + period).max(Instant::now());
                    }
                    Ok(()) = period_rx.changed() => {
                        period = *period_rx.borrow_and_update();
                        next = Instant::now() + period;
                    }
                    Ok(()) = clients.changed() => {
                        let connected = *clients.borrow_and_update();
                        idle_since = match (connected, idle_since) {
                            (0, None) => Some(Instant::now()),
                            (0, since) => since,
                            _ => None,
                        };
                    }
                    () = sleep_until(linger_end.unwrap_or(next)), if linger_end.is_some() => break,
                }
            }
        }
    }
}

/// Counts a connected `/events` client while alive.
struct Client(Arc<Demo>);

impl Client {
    fn register(demo: &Arc<Demo>) -> Self {
        demo.clients.send_modify(|n| *n += 1);
        Client(Arc::clone(demo))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.0.clients.send_modify(|n| *n -= 1);
    }
}

/// The query parameters of `/events`.
#[derive(Debug, PartialEq, Eq)]
struct Params {
    retry: u64,
    interval_ms: Option<u64>,
    heartbeat_ms: u64,
    close_after: u64,
}

impl Params {
    /// From the query string, undecoded (without `?`).
    fn parse(query: &str) -> Result<Params, String> {
        let mut params = Params {
            retry: DEFAULT_RETRY_MS,
            interval_ms: None,
            heartbeat_ms: DEFAULT_HEARTBEAT_MS,
            close_after: 0,
        };
        let pairs = query.split('&').filter(|p| !p.is_empty());
        for (name, value) in pairs.map(|p| p.split_once('=').unwrap_or((p, ""))) {
            let slot = match name {
                "retry" => &mut params.retry,
                "heartbeat_ms" => &mut params.heartbeat_ms,
                "close_after" => &mut params.close_after,
                "interval_ms" => params.interval_ms.insert(0),
                _ => continue,
            };
            *slot = decimal(value)
                .ok_or_else(|| format!("{name} must be a non-negative integer, got {value:?}\n"))?;
        }
        Ok(params)
    }
}

pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

/// A complete response: `body` as `content_type`.
pub(crate) fn plain(status: StatusCode, content_type: &'static str, body: &str) -> Response<Body> {
    let body = Full::new(Bytes::copy_from_slice(body.as_bytes())).boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static(content_type),
    );
    headers.insert(
        "cache-control",
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    response
}

/// A non-negative decimal integer: ASCII digits only, no sign, no overflow.
pub(crate) fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_non_negative_integers() {
        assert_eq!(
            Params::parse("").unwrap(),
            Params {
                retry: 3000,
                interval_ms: None,
                heartbeat_ms: 30_000,
                close_after: 0
            }
        );
        assert_eq!(
            Params::parse("retry=0&interval_ms=20&heartbeat_ms=7&close_after=3&x=y").unwrap(),
            Params {
                retry: 0,
                interval_ms: Some(20),
                heartbeat_ms: 7,
                close_after: 3
            }
        );
        for bad in [
            "retry=",
            "retry",
            "retry=-1",
            "retry=+1",
            "interval_ms=1.5",
            "heartbeat_ms=%31",
            "close_after=99999999999999999999999",
        ] {
            assert!(Params::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_encode_as_specified() {
        let log = SharedLog::new(ReplayLog::starting_at(1));
        for n in 1..=4 {
            append_event(&log, n);
        }
        let encode_event = |n| log.read(|l| Bytes::copy_from_slice(l.get(n).unwrap().as_bytes()));
        assert_eq!(
            encode_event(1),
            "event: tick\nid: 1\ndata: single line #1\n\n"
        );
        assert_eq!(
            encode_event(2),
            "id: 2\ndata: multi line #2\ndata:  second line starts with a space\ndata: \n\
             data: fourth line, after an empty one\n\n"
        );
        assert_eq!(
            encode_event(3),
            "event: tick\nid: 3\ndata: CR\ndata: LF\ndata: CRLF\ndata: end #3\n\n"
        );
        assert_eq!(
            encode_event(4),
            "id: 4\ndata: {\"id\":4,\"msg\":\"héllo ✓ 🚀\"}\n\n"
        );
    }
}
