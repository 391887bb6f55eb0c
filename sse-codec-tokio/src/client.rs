//! Following an event stream across reconnections, as `EventSource` does.
//!
//! [`follow`] is the runtime half of the core's sans-IO
//! [`ReconnectPolicy`]: it connects through a function you supply (any HTTP
//! client), decodes each body with [`SseStream`], tells the policy what
//! happened, sleeps the delay the policy asks for, and connects again with
//! the policy's headers (`Last-Event-ID` among them). The decisions —
//! which status or content type ends the stream, how long to wait, when to
//! give up — are the policy's; the timers (the delay, the idle timeout) are
//! this module's.

use crate::time::deadline;
use crate::{Error, SseStream};
use bytes::{Bytes, BytesMut};
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use core::time::Duration;
use futures_core::Stream;
use futures_util::StreamExt;
use sse_codec::{Action, BytesItem, Decoder, Outcome, ReconnectPolicy, StopReason};
use tokio::time::{sleep, timeout, Sleep};

/// What a connect function returns: a response head and its body.
#[derive(Debug)]
pub struct Connection<B> {
    /// The HTTP status code, after any redirects.
    pub status: u16,
    /// The `Content-Type` header value, if there was one.
    pub content_type: Option<Bytes>,
    /// The `Retry-After` header value, if there was one (read with
    /// [`parse_retry_after`](sse_codec::parse_retry_after); it matters only
    /// for a status the policy retries).
    pub retry_after: Option<Bytes>,
    /// The response body.
    pub body: B,
}

impl<B> Connection<B> {
    /// A response head with `status` and no headers, and its body; set the
    /// headers that came with it on the public fields.
    pub fn new(status: u16, body: B) -> Self {
        Connection {
            status,
            content_type: None,
            retry_after: None,
            body,
        }
    }

    /// A 200 `text/event-stream` response with `body`.
    pub fn event_stream(body: B) -> Self {
        Connection {
            content_type: Some(Bytes::from_static(b"text/event-stream")),
            ..Self::new(200, body)
        }
    }
}

/// The headers of one connection attempt, from
/// [`ReconnectPolicy::request_headers`]: `accept`, `cache-control`, and
/// `last-event-id` when there is one to send. Lowercase names.
pub type RequestHeaders = Vec<(&'static str, String)>;

/// Why [`follow`] yielded an error: `C` is the connect function's error,
/// `B` the body's.
///
/// Every variant but [`Stopped`](FollowError::Stopped) is followed by more
/// items: after [`Codec`](FollowError::Codec) reading goes on, after the
/// others `follow` reconnects when the policy's delay is over.
#[derive(Debug)]
#[non_exhaustive]
pub enum FollowError<C, B> {
    /// The connect function failed: no response head.
    Connect(C),
    /// The body failed after the response head.
    Body(B),
    /// Nothing arrived for this long
    /// ([`idle_timeout`](sse_codec::ReconnectConfig::idle_timeout)): no
    /// response head, or no byte of body. The connection was dropped.
    IdleTimeout(Duration),
    /// The decoder rejected an event (a limit, strict UTF-8) and has
    /// skipped to the next blank line; reading goes on.
    Codec(sse_codec::Error),
    /// The policy gave up: the last item of the stream.
    Stopped(Stopped),
}

impl<C: fmt::Display, B: fmt::Display> fmt::Display for FollowError<C, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FollowError::Connect(e) => write!(f, "connecting failed: {e}"),
            FollowError::Body(e) => write!(f, "reading the body failed: {e}"),
            FollowError::IdleTimeout(d) => write!(f, "nothing received for {d:?}"),
            FollowError::Codec(e) => e.fmt(f),
            FollowError::Stopped(s) => s.fmt(f),
        }
    }
}

impl<C, B> core::error::Error for FollowError<C, B>
where
    C: core::error::Error + 'static,
    B: core::error::Error + 'static,
{
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            FollowError::Connect(e) => Some(e),
            FollowError::Body(e) => Some(e),
            FollowError::Codec(e) => Some(e),
            FollowError::IdleTimeout(_) | FollowError::Stopped(_) => None,
        }
    }
}

/// Why [`follow`] stopped, and, when a response made it stop, what that
/// response said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// The policy's reason.
    pub reason: StopReason,
    /// The status of the response that made the policy stop, if one did
    /// (a status it does not retry, 204, or a content type that is not an
    /// event stream).
    pub status: Option<u16>,
    /// That response's `Content-Type`, if it had one.
    pub content_type: Option<Bytes>,
    /// The first bytes of that response's body, at most
    /// [`error_body_limit`](sse_codec::ReconnectConfig::error_body_limit)
    /// (what the body held before it ended, failed, or went idle).
    pub body: Bytes,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stopped reconnecting: {}", self.reason)?;
        if !self.body.is_empty() {
            write!(f, ": {}", String::from_utf8_lossy(&self.body).trim_end())?;
        }
        Ok(())
    }
}

/// Follows an event stream: events from every connection, in order, with
/// reconnections in between, until the policy says stop.
///
/// `connect` makes one request with the given headers. It is called again
/// for every attempt, so it can set fresh headers each time (a renewed
/// bearer token, say) or send a POST body again; the headers it is given
/// carry the tracked `Last-Event-ID`. Its error, a body error, an idle
/// connection and a clean end of the body all lead to a reconnection after
/// the delay the policy chooses; a status or content type the policy does
/// not accept stops the stream (see [`ReconnectPolicy::handle`]). One
/// `decoder` is used for every connection, so the last event ID and the
/// reconnection time carry over, and its limits and UTF-8 mode apply
/// throughout.
///
/// A connection that stays silent (no response head, or no byte of body,
/// comments and heartbeats included) for the policy's
/// [`idle_timeout`](sse_codec::ReconnectConfig::idle_timeout) is dropped
/// and reported as [`FollowError::IdleTimeout`], then retried.
///
/// The stream yields each item and each error ([`FollowError`]); when the
/// policy stops, it yields [`FollowError::Stopped`] with the reason (and,
/// if a response made it stop, its status and the first bytes of its body),
/// then ends.
///
/// # Examples
///
/// With an in-memory "server" that closes after each event:
///
/// ```
/// use bytes::Bytes;
/// use futures_util::{stream, StreamExt};
/// use sse_codec::{BytesItem, Decoder, ReconnectConfig, ReconnectPolicy, StopReason};
/// use sse_codec_tokio::{follow, Connection, FollowError};
/// use std::convert::Infallible;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let policy = ReconnectPolicy::new(ReconnectConfig::new(), 7);
/// let events = follow(policy, Decoder::new(), |headers| async move {
///     let last = headers.iter().find(|(name, _)| *name == "last-event-id").map(|(_, v)| v.clone());
///     let (status, body) = match last.as_deref() {
///         None => (200, "id: 1\ndata: one\n\n"),
///         Some("1") => (200, "retry: 10\nid: 2\ndata: two\n\n"),
///         Some(_) => (204, ""),
///     };
///     let body = stream::iter([Ok::<_, Infallible>(Bytes::from(body))]);
///     Ok::<_, Infallible>(Connection { status, ..Connection::event_stream(body) })
/// });
/// let items: Vec<_> = events.collect().await;
/// let data: Vec<_> = items.iter().filter_map(|i| match i {
///     Ok(BytesItem::Event(e)) => Some(e.data()),
///     _ => None,
/// }).collect();
/// assert_eq!(data, ["one", "two"]);
/// let Some(Err(FollowError::Stopped(stopped))) = items.last() else { panic!() };
/// assert_eq!((stopped.reason, stopped.status), (StopReason::NoContent, Some(204)));
/// # }
/// ```
pub fn follow<C, Fut, B, CE, BE>(
    policy: ReconnectPolicy,
    decoder: Decoder<Vec<u8>>,
    connect: C,
) -> impl Stream<Item = Result<BytesItem, FollowError<CE, BE>>>
where
    C: FnMut(RequestHeaders) -> Fut,
    Fut: Future<Output = Result<Connection<B>, CE>>,
    B: Stream<Item = Result<Bytes, BE>> + Unpin,
{
    let state = Follow {
        policy,
        connect,
        decoder: Some(decoder),
        body: None,
        wait: None,
        stop: None,
        done: false,
    };
    futures_util::stream::unfold(state, Follow::next)
}

/// Where [`follow`] is between two items.
struct Follow<C, B> {
    policy: ReconnectPolicy,
    connect: C,
    /// The decoder while no body is being read.
    decoder: Option<Decoder<Vec<u8>>>,
    /// The body being read, with the decoder inside.
    body: Option<SseStream<Idle<B>>>,
    /// Sleep this long before connecting.
    wait: Option<Duration>,
    /// Report this, then end.
    stop: Option<Stopped>,
    done: bool,
}

impl<C, B> Follow<C, B> {
    async fn next<Fut, CE, BE>(mut self) -> Option<(Result<BytesItem, FollowError<CE, BE>>, Self)>
    where
        C: FnMut(RequestHeaders) -> Fut,
        Fut: Future<Output = Result<Connection<B>, CE>>,
        B: Stream<Item = Result<Bytes, BE>> + Unpin,
    {
        let idle = self.policy.config().idle_timeout();
        loop {
            if let Some(stopped) = self.stop.take() {
                self.done = true;
                return Some((Err(FollowError::Stopped(stopped)), self));
            }
            if self.done {
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                if let Some(delay) = self.wait.take() {
                    sleep(delay).await;
                }
                let headers = (self.policy.request_headers())
                    .map(|(name, value)| (name, value.to_owned()))
                    .collect();
                let conn = match timeout(idle, (self.connect)(headers)).await {
                    Ok(Ok(conn)) => conn,
                    Ok(Err(e)) => {
                        self.apply(Outcome::TransportError);
                        return Some((Err(FollowError::Connect(e)), self));
                    }
                    Err(_) => {
                        self.apply(Outcome::IdleTimeout);
                        return Some((Err(FollowError::IdleTimeout(idle)), self));
                    }
                };
                let retry_after = conn
                    .retry_after
                    .as_deref()
                    .and_then(sse_codec::parse_retry_after);
                let action = self.policy.handle(Outcome::Response {
                    status: conn.status,
                    content_type: conn.content_type.as_deref(),
                    retry_after,
                });
                match action {
                    Action::Read => {
                        let decoder = self.decoder.take().unwrap_or_default();
                        let body = Idle::new(conn.body, idle);
                        self.body = Some(SseStream::with_decoder(body, decoder));
                    }
                    Action::Stop(reason) => {
                        let limit = self.policy.config().error_body_limit();
                        let body = read_prefix(conn.body, limit, idle).await;
                        self.stop = Some(Stopped {
                            reason,
                            status: Some(conn.status),
                            content_type: conn.content_type,
                            body,
                        });
                    }
                    action => self.act(action),
                }
                continue;
            };
            let next = body.next().await;
            // After every item, before the decoder is finished: the policy
            // sees the events, ids and `retry` fields as they come.
            self.policy.observe(body.decoder());
            match next {
                Some(Ok(item)) => return Some((Ok(item), self)),
                // The decoder has resynchronised; read on.
                Some(Err(Error::Codec(e))) => return Some((Err(FollowError::Codec(e)), self)),
                Some(Err(Error::Transport(Silence::Body(e)))) => {
                    self.end_body();
                    self.apply(Outcome::TransportError);
                    return Some((Err(FollowError::Body(e)), self));
                }
                Some(Err(Error::Transport(Silence::Idle))) => {
                    self.end_body();
                    self.apply(Outcome::IdleTimeout);
                    return Some((Err(FollowError::IdleTimeout(idle)), self));
                }
                None => {
                    self.end_body();
                    self.apply(Outcome::Ended);
                }
            }
        }
    }

    /// Takes the decoder back from a body that is over.
    fn end_body(&mut self) {
        if let Some(body) = self.body.take() {
            let (_, mut decoder) = body.into_parts();
            // An unfinished event of a broken body is dropped, as at its end.
            decoder.finish();
            self.decoder = Some(decoder);
        }
    }

    fn apply(&mut self, outcome: Outcome<'_>) {
        let action = self.policy.handle(outcome);
        self.act(action);
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Reconnect { delay } => self.wait = Some(delay),
            Action::Stop(reason) => {
                self.stop = Some(Stopped {
                    reason,
                    status: None,
                    content_type: None,
                    body: Bytes::new(),
                });
            }
            // Only ever the answer to a response, handled in `next`.
            Action::Read => {}
        }
    }
}

/// The first `limit` bytes of a refused response's body: up to its end, an
/// error, or `idle` without a byte.
async fn read_prefix<B, E>(mut body: B, limit: usize, idle: Duration) -> Bytes
where
    B: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut prefix = BytesMut::new();
    while prefix.len() < limit {
        match timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => {
                let take = chunk.len().min(limit - prefix.len());
                prefix.extend_from_slice(&chunk[..take]);
            }
            Ok(Some(Err(_)) | None) | Err(_) => break,
        }
    }
    prefix.freeze()
}

/// A body error, or the body going silent.
#[derive(Debug)]
enum Silence<E> {
    Body(E),
    Idle,
}

/// A body that fails with [`Silence::Idle`] when no byte arrives for
/// `idle`.
struct Idle<B> {
    body: B,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
}

impl<B> Idle<B> {
    fn new(body: B, idle: Duration) -> Self {
        Idle {
            body,
            idle,
            timer: Box::pin(tokio::time::sleep_until(deadline(idle))),
        }
    }
}

impl<B, E> Stream for Idle<B>
where
    B: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, Silence<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.body.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if !chunk.is_empty() {
                    this.timer.as_mut().reset(deadline(this.idle));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Silence::Body(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(this.timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(Silence::Idle)))
            }
        }
    }
}
