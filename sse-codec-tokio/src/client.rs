//! Following an event stream across reconnections, as `EventSource` does.
//!
//! [`follow`] is the runtime half of the core's sans-IO
//! [`ReconnectPolicy`]: it connects through a function you supply (any HTTP
//! client), decodes each body with [`SseStream`], tells the policy what
//! happened, sleeps the delay the policy asks for, and connects again with
//! the policy's headers (`Last-Event-ID` among them). The decisions —
//! which status or content type ends the stream, how long to wait, when to
//! give up — are the policy's, not this module's.

use crate::{Error, SseStream};
use bytes::Bytes;
use core::future::Future;
use futures_core::Stream;
use futures_util::StreamExt;
use sse_codec::{Action, BytesItem, Decoder, Outcome, ReconnectPolicy, StopReason};

/// What a connect function returns: a response head and its body.
#[derive(Debug)]
pub struct Connection<B> {
    /// The HTTP status code, after any redirects.
    pub status: u16,
    /// The `Content-Type` header value, if there was one.
    pub content_type: Option<Bytes>,
    /// The response body.
    pub body: B,
}

/// The headers of one connection attempt, from
/// [`ReconnectPolicy::request_headers`]: `accept`, `cache-control`, and
/// `last-event-id` when there is one to send. Lowercase names.
pub type RequestHeaders = Vec<(&'static str, String)>;

/// Follows an event stream: events from every connection, in order, with
/// reconnections in between, until the policy says stop.
///
/// `connect` makes one request with the given headers. Its error, a body
/// error, and a clean end of the body all lead to a reconnection after the
/// delay the policy chooses; a non-200 status or a wrong content type stops
/// the stream (see [`ReconnectPolicy::handle`]). One `decoder` is used for
/// every connection, so the last event ID and the reconnection time carry
/// over, and its limits and UTF-8 mode apply throughout.
///
/// The stream yields each item, each transport error (`E`), and each
/// decoder error (after which the decoder has already resynchronised, and
/// reading goes on); when the policy stops, it yields
/// [`Error::Stopped`] with the reason, then ends.
///
/// # Examples
///
/// With an in-memory "server" that closes after each event:
///
/// ```
/// use bytes::Bytes;
/// use futures_util::{stream, StreamExt};
/// use sse_codec::{BytesItem, Decoder, ReconnectConfig, ReconnectPolicy, StopReason};
/// use sse_codec_tokio::{follow, Connection, Error};
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
///     Ok(Connection { status, content_type: Some(Bytes::from("text/event-stream")), body })
/// });
/// let items: Vec<_> = events.collect().await;
/// let data: Vec<_> = items.iter().filter_map(|i| match i {
///     Ok(BytesItem::Event(e)) => Some(e.data()),
///     _ => None,
/// }).collect();
/// assert_eq!(data, ["one", "two"]);
/// assert!(matches!(items.last(), Some(Err(Error::Stopped(StopReason::NoContent)))));
/// # }
/// ```
pub fn follow<C, Fut, B, E>(
    policy: ReconnectPolicy,
    decoder: Decoder<Vec<u8>>,
    connect: C,
) -> impl Stream<Item = Result<BytesItem, Error<E>>>
where
    C: FnMut(RequestHeaders) -> Fut,
    Fut: Future<Output = Result<Connection<B>, E>>,
    B: Stream<Item = Result<Bytes, E>> + Unpin,
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
    body: Option<SseStream<B>>,
    /// Sleep this long before connecting.
    wait: Option<core::time::Duration>,
    /// Report this, then end.
    stop: Option<StopReason>,
    done: bool,
}

impl<C, B> Follow<C, B> {
    async fn next<Fut, E>(mut self) -> Option<(Result<BytesItem, Error<E>>, Self)>
    where
        C: FnMut(RequestHeaders) -> Fut,
        Fut: Future<Output = Result<Connection<B>, E>>,
        B: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        loop {
            if let Some(reason) = self.stop.take() {
                self.done = true;
                return Some((Err(Error::Stopped(reason)), self));
            }
            if self.done {
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                if let Some(delay) = self.wait.take() {
                    tokio::time::sleep(delay).await;
                }
                let headers = (self.policy.request_headers())
                    .map(|(name, value)| (name, value.to_owned()))
                    .collect();
                match (self.connect)(headers).await {
                    Err(e) => {
                        self.apply(Outcome::TransportError);
                        return Some((Err(Error::Transport(e)), self));
                    }
                    Ok(conn) => {
                        let content_type = conn.content_type.as_deref();
                        let status = conn.status;
                        match self.policy.handle(Outcome::Response {
                            status,
                            content_type,
                        }) {
                            Action::Read => {
                                let decoder = self.decoder.take().unwrap_or_default();
                                self.body = Some(SseStream::with_decoder(conn.body, decoder));
                            }
                            action => self.act(action),
                        }
                    }
                }
                continue;
            };
            let next = body.next().await;
            // Before the decoder is finished: `observe` reads how far it got.
            self.policy.observe(body.decoder());
            match next {
                Some(Ok(item)) => return Some((Ok(item), self)),
                // The decoder has resynchronised; read on.
                Some(Err(Error::Codec(e))) => return Some((Err(Error::Codec(e)), self)),
                Some(Err(e)) => {
                    self.end_body();
                    self.apply(Outcome::TransportError);
                    return Some((Err(e), self));
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
            Action::Stop(reason) => self.stop = Some(reason),
            // Only ever the answer to a response, handled above.
            Action::Read => {}
        }
    }
}
