//! A scripted, in-memory event-stream server, for testing code that uses
//! [`follow`](crate::follow) (feature `test-util`).
//!
//! Each connection plays the next [`Script`]: a response head (after an
//! optional delay), then body steps — send these bytes, stall this long,
//! fail, or end. Stalls are `tokio::time` sleeps, so a test on a runtime
//! with paused time (`#[tokio::test(start_paused = true)]`) covers minutes
//! of reconnections, idle timeouts and backoff in milliseconds, and never
//! sleeps in real time.
//!
//! # Examples
//!
//! A server that hangs up after each event with `retry: 0` cannot make the
//! client reconnect more than twice a second:
//!
//! ```
//! use futures_util::StreamExt;
//! use sse_codec::{Decoder, ReconnectConfig, ReconnectPolicy};
//! use sse_codec_tokio::follow;
//! use sse_codec_tokio::testing::{Script, ScriptedServer};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let server = ScriptedServer::repeating(Script::ok().send("retry: 0\ndata: x\n\n"));
//! let policy = ReconnectPolicy::new(ReconnectConfig::new(), 1);
//! let events = follow(policy, Decoder::new(), server.connect());
//! let ten_seconds = tokio::time::sleep(Duration::from_secs(10));
//! tokio::select! {
//!     _ = events.for_each(|_| async {}) => unreachable!("follows for ever"),
//!     _ = ten_seconds => {}
//! }
//! assert!(server.connections() <= 21, "{} connections", server.connections());
//! # }
//! ```

use crate::client::{Connection, RequestHeaders};
use bytes::Bytes;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use futures_core::Stream;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::Instant;

/// A connection being made by [`ScriptedServer::connect`]'s function.
pub type Connecting = Pin<Box<dyn Future<Output = Result<Connection<Body>, ScriptError>> + Send>>;

/// What one connection does.
#[derive(Clone, Debug)]
pub struct Script {
    head_delay: Duration,
    status: u16,
    content_type: Option<Bytes>,
    retry_after: Option<Bytes>,
    steps: Vec<Step>,
}

/// One step of a [`Script`]'s body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Send these bytes as one chunk.
    Send(Bytes),
    /// Send nothing for this long.
    Stall(Duration),
    /// Fail the body with [`ScriptError::Body`].
    Fail,
    /// Stall for ever (until the client gives up).
    Hang,
}

impl Script {
    /// A 200 `text/event-stream` response with an empty body, so far.
    #[must_use]
    pub fn ok() -> Self {
        Script {
            head_delay: Duration::ZERO,
            status: 200,
            content_type: Some(Bytes::from_static(b"text/event-stream")),
            retry_after: None,
            steps: Vec::new(),
        }
    }

    /// A response with `status` and no `Content-Type`.
    #[must_use]
    pub fn status(status: u16) -> Self {
        Script {
            status,
            content_type: None,
            ..Self::ok()
        }
    }

    /// Sets the `Content-Type` (`None`: no header).
    #[must_use]
    pub fn content_type(mut self, content_type: Option<&'static str>) -> Self {
        self.content_type = content_type.map(|t| Bytes::from_static(t.as_bytes()));
        self
    }

    /// Sets a `Retry-After` header.
    #[must_use]
    pub fn retry_after(mut self, value: &'static str) -> Self {
        self.retry_after = Some(Bytes::from_static(value.as_bytes()));
        self
    }

    /// The response head comes after `delay`.
    #[must_use]
    pub fn head_after(mut self, delay: Duration) -> Self {
        self.head_delay = delay;
        self
    }

    /// Then sends `bytes` as one chunk.
    #[must_use]
    pub fn send(mut self, bytes: impl Into<Bytes>) -> Self {
        self.steps.push(Step::Send(bytes.into()));
        self
    }

    /// Then sends nothing for `duration`.
    #[must_use]
    pub fn stall(mut self, duration: Duration) -> Self {
        self.steps.push(Step::Stall(duration));
        self
    }

    /// Then fails the body.
    #[must_use]
    pub fn fail(mut self) -> Self {
        self.steps.push(Step::Fail);
        self
    }

    /// Then sends nothing, for ever.
    #[must_use]
    pub fn hang(mut self) -> Self {
        self.steps.push(Step::Hang);
        self
    }
}

/// The errors a [`ScriptedServer`] plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptError {
    /// No script was left for a connection: refused.
    NoScript,
    /// A [`Step::Fail`].
    Body,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScriptError::NoScript => "connection refused: no script left",
            ScriptError::Body => "connection reset by the script",
        })
    }
}

impl core::error::Error for ScriptError {}

/// A request the server saw: when, and with which headers.
#[derive(Clone, Debug)]
pub struct Request {
    /// When the connect function was called.
    pub at: Instant,
    /// The headers `follow` sent.
    pub headers: RequestHeaders,
}

impl Request {
    /// The value of header `name` (lowercase), if sent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut found = self.headers.iter().filter(|(n, _)| *n == name);
        found.next().map(|(_, value)| value.as_str())
    }
}

#[derive(Debug)]
struct Shared {
    scripts: VecDeque<Script>,
    /// Played when `scripts` is used up.
    forever: Option<Script>,
    requests: Vec<Request>,
}

/// A server that plays one [`Script`] per connection, and records each
/// request. Clones share their state.
#[derive(Clone, Debug)]
pub struct ScriptedServer {
    shared: Arc<Mutex<Shared>>,
}

impl ScriptedServer {
    /// Plays `scripts` in order, one per connection; later connections are
    /// refused ([`ScriptError::NoScript`]).
    pub fn new(scripts: impl IntoIterator<Item = Script>) -> Self {
        ScriptedServer {
            shared: Arc::new(Mutex::new(Shared {
                scripts: scripts.into_iter().collect(),
                forever: None,
                requests: Vec::new(),
            })),
        }
    }

    /// Plays `script` on every connection.
    #[must_use]
    pub fn repeating(script: Script) -> Self {
        Self::new([]).then_repeat(script)
    }

    /// Once the scripts are used up, plays `script` on every connection.
    #[must_use]
    pub fn then_repeat(self, script: Script) -> Self {
        self.lock().forever = Some(script);
        self
    }

    /// The requests so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// How many connections were asked for so far.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.lock().requests.len()
    }

    /// A connect function for [`follow`](crate::follow).
    pub fn connect(&self) -> impl FnMut(RequestHeaders) -> Connecting {
        let server = self.clone();
        move |headers| {
            let script = {
                let mut shared = server.lock();
                shared.requests.push(Request {
                    at: Instant::now(),
                    headers,
                });
                shared
                    .scripts
                    .pop_front()
                    .or_else(|| shared.forever.clone())
            };
            Box::pin(async move {
                let script = script.ok_or(ScriptError::NoScript)?;
                tokio::time::sleep(script.head_delay).await;
                Ok(Connection {
                    status: script.status,
                    content_type: script.content_type,
                    retry_after: script.retry_after,
                    body: Body::new(script.steps),
                })
            })
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The body of a scripted connection.
pub struct Body {
    steps: VecDeque<Step>,
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body").field("steps", &self.steps).finish()
    }
}

impl Body {
    fn new(steps: Vec<Step>) -> Self {
        Body {
            steps: steps.into(),
            stall: None,
        }
    }
}

impl Stream for Body {
    type Item = Result<Bytes, ScriptError>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Option<Self::Item>> {
        use core::task::Poll;
        loop {
            if let Some(stall) = self.stall.as_mut() {
                core::task::ready!(stall.as_mut().poll(cx));
                self.stall = None;
            }
            match self.steps.pop_front() {
                None => return Poll::Ready(None),
                Some(Step::Send(bytes)) => return Poll::Ready(Some(Ok(bytes))),
                Some(Step::Fail) => return Poll::Ready(Some(Err(ScriptError::Body))),
                Some(Step::Stall(d)) => self.stall = Some(Box::pin(tokio::time::sleep(d))),
                Some(Step::Hang) => {
                    self.steps.push_front(Step::Hang);
                    return Poll::Pending;
                }
            }
        }
    }
}
