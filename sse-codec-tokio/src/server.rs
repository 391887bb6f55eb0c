//! Server glue: the response headers, heartbeat comments on an idle
//! stream, and replay from the core's [`ReplayLog`] on `Last-Event-ID`.

use bytes::Bytes;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use core::time::Duration;
use futures_core::Stream;
use pin_project_lite::pin_project;
use sse_codec::{Entry, Frame, Lookup, ReplayLog, KEEPALIVE};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::ReusableBoxFuture;

/// The `Content-Type` of an event stream.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// The headers every event-stream response sends, as lowercase
/// `(name, value)` pairs ready for `http::HeaderName::from_static` or a
/// hand-written HTTP/1.1 head:
///
/// - `content-type: text/event-stream`: without it `EventSource` fails the
///   connection ("If res's Content-Type is not `text/event-stream` … fail
///   the connection", WHATWG HTML, "Server-sent events").
/// - `cache-control: no-cache`: no cache may answer a later request with
///   this one's events.
/// - `x-accel-buffering: no`: nginx, and proxies that copy it, pass each
///   event on as it is written instead of buffering the response.
///
/// A server MUST also send each event as soon as it is written (flush it),
/// MUST NOT compress the response (a compressor holds bytes back), and
/// should send no `Content-Length`: the stream ends when the server closes
/// it.
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("content-type", CONTENT_TYPE),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
];

/// The request header in which a reconnecting `EventSource` sends the last
/// event ID it saw, lowercase.
pub const LAST_EVENT_ID: &str = "last-event-id";

pin_project! {
    /// An encoded event stream with a heartbeat comment (`: keepalive`,
    /// [`KEEPALIVE`]) whenever it has been idle for a while.
    ///
    /// Proxies and load balancers close connections that carry nothing for a
    /// minute or so; a comment every 15–30 s keeps an idle event stream
    /// open, and `EventSource` ignores it. Items pass through unchanged; the
    /// idle timer restarts after each item and each heartbeat, so a busy
    /// stream carries no heartbeats and an idle one carries one every
    /// `idle`. The stream ends when `frames` ends.
    ///
    /// `frames` is what a server writes: `Result<Bytes, E>` items, the body
    /// type of hyper's `StreamBody` (after mapping to `http_body::Frame`) and
    /// axum's `Body::from_stream`. Encode events into it with
    /// [`Frame::encode_to_buf`](sse_codec::Frame::encode_to_buf) or the
    /// [`SseCodec`](crate::SseCodec) encoder.
    ///
    /// # Panics
    ///
    /// [`new`](Self::new) panics outside a Tokio runtime with the time
    /// driver enabled, as [`tokio::time::sleep`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures_util::{stream, StreamExt};
    /// use sse_codec_tokio::Heartbeat;
    /// use std::{convert::Infallible, time::Duration};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let events = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"data: a\n\n"))])
    ///     .chain(stream::pending()); // then nothing, for ever
    /// let mut body = Heartbeat::new(events, Duration::from_secs(15));
    /// assert_eq!(body.next().await.unwrap().unwrap(), "data: a\n\n");
    /// assert_eq!(body.next().await.unwrap().unwrap(), ": keepalive\n\n"); // 15 s later
    /// # }
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Heartbeat<S> {
        #[pin]
        frames: S,
        // Boxed so that the stream is `Unpin` whenever `frames` is.
        sleep: Pin<Box<Sleep>>,
        idle: Duration,
        keepalive: Bytes,
    }
}

impl<S> Heartbeat<S> {
    /// Sends `: keepalive` on `frames` whenever nothing was sent for `idle`
    /// (at least one millisecond).
    pub fn new(frames: S, idle: Duration) -> Self {
        let idle = idle.max(Duration::from_millis(1));
        Heartbeat {
            frames,
            sleep: Box::pin(tokio::time::sleep(idle)),
            idle,
            keepalive: keepalive(),
        }
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.frames
    }
}

/// [`KEEPALIVE`], encoded once per stream.
fn keepalive() -> Bytes {
    // A constant, valid frame: `to_vec` fails only if allocation does.
    KEEPALIVE.to_vec().map(Bytes::from).unwrap_or_default()
}

impl<S, E> Stream for Heartbeat<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        match this.frames.poll_next(cx) {
            Poll::Ready(Some(item)) => {
                this.sleep.as_mut().reset(Instant::now() + *this.idle);
                return Poll::Ready(Some(item));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if this.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.sleep.as_mut().reset(Instant::now() + *this.idle);
        Poll::Ready(Some(Ok(this.keepalive.clone())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.frames.size_hint().0, None)
    }
}

/// A [`ReplayLog`] shared by a publisher and every connection, following the
/// recipe in its docs ("Sharing between connections"): appends happen under
/// a mutex held only to append or to clone entries out, and each append
/// wakes the [`Subscription`]s, which walk the log with a cursor.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use sse_codec::{Frame, ReplayLog};
/// use sse_codec_tokio::SharedLog;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sse_codec::Error> {
/// let log = SharedLog::new(ReplayLog::new());
/// log.append(Frame::event("a"))?; // id 0
/// log.append(Frame::event("b"))?; // id 1
///
/// // A client comes back with `Last-Event-ID: 0`: "b" is replayed, then "c" live.
/// let mut events = log.subscribe(Some("0"));
/// log.append(Frame::event("c"))?;
/// assert_eq!(events.next().await.unwrap().as_bytes(), b"id: 1\ndata: b\n\n");
/// assert_eq!(events.next().await.unwrap().as_bytes(), b"id: 2\ndata: c\n\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SharedLog {
    log: Mutex<ReplayLog>,
    /// The log's `next_seq`, sent after each append, once the lock is released.
    next_seq: watch::Sender<u64>,
}

impl SharedLog {
    /// Shares `log`.
    pub fn new(log: ReplayLog) -> Arc<Self> {
        let next_seq = watch::Sender::new(log.next_seq());
        Arc::new(SharedLog {
            log: Mutex::new(log),
            next_seq,
        })
    }

    fn lock(&self) -> MutexGuard<'_, ReplayLog> {
        // The log is never left half-updated: a panic elsewhere under the
        // lock does not make it unusable.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `frame` with the id the log assigns ([`ReplayLog::append`]),
    /// then wakes the subscribers. Returns the new entry.
    ///
    /// # Errors
    ///
    /// As [`ReplayLog::append`]; nothing is appended.
    pub fn append(&self, frame: Frame<'_>) -> Result<Entry, sse_codec::Error> {
        let entry = self.lock().append(frame)?.clone();
        self.next_seq.send_replace(entry.seq().saturating_add(1));
        Ok(entry)
    }

    /// Appends `frame` with your `id` ([`ReplayLog::append_with_id`]), then
    /// wakes the subscribers. Returns the new entry.
    ///
    /// # Errors
    ///
    /// As [`ReplayLog::append_with_id`]; nothing is appended.
    pub fn append_with_id(&self, id: &str, frame: Frame<'_>) -> Result<Entry, sse_codec::Error> {
        let entry = self.lock().append_with_id(id, frame)?.clone();
        self.next_seq.send_replace(entry.seq().saturating_add(1));
        Ok(entry)
    }

    /// Runs `f` on the log, under the lock: to inspect it, never to write
    /// to a socket.
    pub fn read<R>(&self, f: impl FnOnce(&ReplayLog) -> R) -> R {
        f(&self.lock())
    }

    /// The events for a client that sent `last_event_id` (the
    /// `Last-Event-ID` header, read with
    /// [`parse_last_event_id`](sse_codec::parse_last_event_id)), or none.
    ///
    /// If the log holds that id, the subscription replays every entry after
    /// it at once, then goes on live; otherwise (no header, an id the log
    /// never issued or has evicted) it is live only, and
    /// [`Subscription::start`] says why. One cursor serves both, so no entry
    /// is lost or repeated where replay turns into live.
    pub fn subscribe(self: &Arc<Self>, last_event_id: Option<&str>) -> Subscription {
        let rx = self.next_seq.subscribe();
        let (start, cursor, ready) = {
            let log = self.lock();
            match last_event_id.map(|id| log.since(id)) {
                None => (Start::Live, log.next_seq(), VecDeque::new()),
                Some(Lookup::Found(replay)) => {
                    let ready = VecDeque::from(replay.to_vec());
                    (Start::Resumed, replay.next_seq(), ready)
                }
                Some(Lookup::Evicted { missed, .. }) => {
                    (Start::Evicted { missed }, log.next_seq(), VecDeque::new())
                }
                Some(Lookup::Unknown { .. }) => (Start::Unknown, log.next_seq(), VecDeque::new()),
            }
        };
        Subscription {
            log: Arc::clone(self),
            cursor,
            ready,
            start,
            wake: ReusableBoxFuture::new(changed(rx)),
            lagged: false,
        }
    }
}

/// Waits for the next append; hands the receiver back for the next wait.
async fn changed(mut rx: watch::Receiver<u64>) -> Option<watch::Receiver<u64>> {
    rx.changed().await.ok().map(|()| rx)
}

/// Where a [`Subscription`] started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Start {
    /// No `Last-Event-ID`: live events only.
    Live,
    /// The id was in the log: the events after it first, then live.
    Resumed,
    /// The log issued the id but has evicted it and `missed` entries after
    /// it: live events only, and the client has a gap.
    Evicted {
        /// Entries between the id and the oldest retained one.
        missed: u64,
    },
    /// The log never issued the id, or has forgotten it: live events only.
    Unknown,
}

/// The encoded events for one connection, from [`SharedLog::subscribe`]:
/// each [`Entry`] once, in log order. Write [`Entry::as_bytes`], or turn an
/// entry into [`Bytes`] without a copy with `Bytes::from_owner` (bytes 1.9
/// or later), for a body or a [`Heartbeat`].
///
/// The stream ends if the connection falls so far behind that the log
/// evicts entries it has not sent ([`lagged`](Self::lagged)): the client
/// reconnects with its last event ID and learns of the gap then.
#[must_use = "streams do nothing unless polled"]
pub struct Subscription {
    log: Arc<SharedLog>,
    /// The sequence number of the next entry to fetch.
    cursor: u64,
    /// Fetched, not yet handed out.
    ready: VecDeque<Entry>,
    start: Start,
    wake: ReusableBoxFuture<'static, Option<watch::Receiver<u64>>>,
    lagged: bool,
}

impl Subscription {
    /// Where this subscription started.
    #[must_use]
    pub fn start(&self) -> Start {
        self.start
    }

    /// Whether the stream ended because the log evicted entries before this
    /// subscription could send them.
    #[must_use]
    pub fn lagged(&self) -> bool {
        self.lagged
    }
}

impl core::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subscription")
            .field("cursor", &self.cursor)
            .field("ready", &self.ready.len())
            .field("start", &self.start)
            .field("lagged", &self.lagged)
            .finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = Entry;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Entry>> {
        let this = &mut *self;
        loop {
            if let Some(entry) = this.ready.pop_front() {
                return Poll::Ready(Some(entry));
            }
            if this.lagged {
                return Poll::Ready(None);
            }
            {
                let log = this.log.lock();
                match log.from_seq(this.cursor) {
                    Lookup::Found(replay) if replay.len() > 0 => {
                        this.cursor = replay.next_seq();
                        this.ready.extend(replay.cloned());
                        continue;
                    }
                    Lookup::Found(_) => {}
                    Lookup::Evicted { .. } | Lookup::Unknown { .. } => {
                        this.lagged = true;
                        return Poll::Ready(None);
                    }
                }
            }
            // Nothing new: wait for an append, then look again. An append
            // between the lookup and here has already marked the receiver
            // changed, so the wait returns at once.
            match ready!(this.wake.poll(cx)) {
                Some(rx) => this.wake.set(changed(rx)),
                None => return Poll::Ready(None), // the log is gone
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::convert::Infallible;
    use futures_util::StreamExt;
    use sse_codec::ReplayLimits;
    use tokio::sync::mpsc;

    #[test]
    fn keepalive_is_the_cores() {
        assert_eq!(keepalive(), &b": keepalive\n\n"[..]);
    }

    /// A stream fed by the test, with the time each item arrives.
    fn timed(
        idle: Duration,
    ) -> (
        mpsc::UnboundedSender<Bytes>,
        impl Stream<Item = (Duration, Bytes)>,
    ) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
        let frames = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|b| b.map(Ok)));
        let start = Instant::now();
        let body = Heartbeat::new(frames, idle)
            .map(move |r: Result<Bytes, Infallible>| (start.elapsed(), r.unwrap_or_default()));
        (tx, body)
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_only_when_idle() {
        let ms = Duration::from_millis;
        let (tx, body) = timed(ms(100));
        let feeder = tokio::spawn(async move {
            // Busy until 200 ms, then idle until 580 ms, then one more event.
            for _ in 0..5 {
                tx.send(Bytes::from_static(b"data: x\n\n")).unwrap();
                tokio::time::sleep(ms(50)).await;
            }
            tokio::time::sleep(ms(330)).await;
            tx.send(Bytes::from_static(b"data: y\n\n")).unwrap();
        });
        // The stream ends when the feeder drops its sender.
        let got: Vec<_> = body.collect().await;
        feeder.await.unwrap();
        let kinds: Vec<_> = got
            .iter()
            .map(|(at, b)| {
                (
                    at.as_millis(),
                    if b.starts_with(b":") { "hb" } else { "ev" },
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (0, "ev"),
                (50, "ev"),
                (100, "ev"),
                (150, "ev"),
                (200, "ev"),
                (300, "hb"),
                (400, "hb"),
                (500, "hb"),
                (580, "ev"),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_the_frames_end() {
        let body = Heartbeat::new(
            futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"data: a\n\n"))]),
            Duration::from_secs(1),
        );
        assert_eq!(body.count().await, 1);
    }

    #[test]
    fn headers_are_lowercase_and_complete() {
        for (name, _) in RESPONSE_HEADERS {
            assert_eq!(name, name.to_ascii_lowercase());
        }
        assert_eq!(RESPONSE_HEADERS[0], ("content-type", "text/event-stream"));
        assert_eq!(LAST_EVENT_ID, "last-event-id");
    }

    fn frame_ids(entries: &[Entry]) -> Vec<String> {
        entries.iter().map(|e| e.id().to_owned()).collect()
    }

    #[tokio::test]
    async fn subscribe_replays_after_the_id_then_goes_live() {
        let log = SharedLog::new(ReplayLog::new());
        for n in 0..3 {
            log.append(Frame::event(&n.to_string())).unwrap();
        }
        let mut sub = log.subscribe(Some("0"));
        assert_eq!(sub.start(), Start::Resumed);
        log.append(Frame::event("3")).unwrap();
        let got: Vec<Entry> = (&mut sub).take(3).collect().await;
        assert_eq!(frame_ids(&got), ["1", "2", "3"]);
        assert_eq!(got[2].as_bytes(), b"id: 3\ndata: 3\n\n");
    }

    #[tokio::test]
    async fn without_a_known_id_it_is_live_only() {
        let log =
            SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::new().with_max_events(2)));
        for n in 0..5 {
            log.append(Frame::event(&n.to_string())).unwrap();
        }
        let mut subs = [
            (log.subscribe(None), Start::Live),
            (log.subscribe(Some("nope")), Start::Unknown),
            (log.subscribe(Some("1")), Start::Evicted { missed: 1 }),
        ];
        log.append(Frame::event("5")).unwrap();
        for (sub, start) in &mut subs {
            assert_eq!(sub.start(), *start);
            assert_eq!(sub.next().await.unwrap().id(), "5");
        }
    }

    #[tokio::test]
    async fn no_entry_is_lost_or_repeated_while_appends_race_the_subscribe() {
        let log = SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::unlimited()));
        let publisher = {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                for n in 0..2000 {
                    log.append(Frame::event(&n.to_string())).unwrap();
                    if n % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        };
        let mut checked = 0;
        for resume_from in [None, Some("10"), Some("500")] {
            tokio::task::yield_now().await;
            let mut sub = log.subscribe(resume_from);
            let first = match resume_from {
                Some(id) => id.parse::<u64>().unwrap() + 1,
                None => log.read(ReplayLog::next_seq),
            };
            let mut expect = first;
            while expect < 2000 {
                let entry = sub.next().await.unwrap();
                assert_eq!(entry.seq(), expect);
                expect += 1;
                checked += 1;
            }
        }
        publisher.await.unwrap();
        assert!(checked > 3000);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_the_log_ends() {
        let log =
            SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::new().with_max_events(4)));
        let mut sub = log.subscribe(None);
        log.append(Frame::event("0")).unwrap();
        assert_eq!(sub.next().await.unwrap().id(), "0");
        for n in 1..10 {
            log.append(Frame::event(&n.to_string())).unwrap();
        }
        assert!(sub.next().await.is_none());
        assert!(sub.lagged());
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SharedLog>();
        check::<Heartbeat<futures_util::stream::Empty<Result<Bytes, Infallible>>>>();
        fn send<T: Send>() {}
        send::<Subscription>();
    }
}
