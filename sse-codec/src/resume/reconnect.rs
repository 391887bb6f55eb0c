//! The client side: when and how to reconnect, as a state machine with no
//! timers.

use super::header::{is_event_stream, is_field_value};
use crate::{Decoder, Error, Storage};
use alloc::string::String;
use core::fmt;
use core::time::Duration;

/// Settings of a [`ReconnectPolicy`].
///
/// | setting | default | meaning | why this default |
/// |---|---|---|---|
/// | [`reconnection_time`](Self::reconnection_time) | 3 s | the reconnection time until the server sends `retry` | what browsers use (Chromium and Gecko: 3 s; the spec leaves it to the user agent) |
/// | [`min_reconnection_time`](Self::min_reconnection_time) | 500 ms | the shortest reconnection time a server's `retry` may set | Gecko's floor: `retry: 0` from a server that then closes costs at most 2 reconnections a second |
/// | [`max_retry`](Self::max_retry) | 1 hour | the longest reconnection time a server's `retry` may set | long enough for any maintenance window a server announces, short enough that a typo (`retry: 36000000`) does not silence a client for 10 hours |
/// | [`min_backoff`](Self::min_backoff) | 1 s | where backoff starts doubling when the reconnection time is shorter | failed attempts back off from at least a second, whatever `retry` says |
/// | [`max_delay`](Self::max_delay) | 30 s | the cap on backoff (never below the reconnection time) | a client notices a recovered server within half a minute |
/// | [`jitter_percent`](Self::jitter_percent) | 50 | the spread of each delay, in percent of its target | clients dropped together by one restart come back spread over a window as long as the delay, not all at once |
/// | [`max_attempts`](Self::max_attempts) | no limit | failed attempts in a row before stopping | as `EventSource`, which retries for ever; backoff keeps the load low |
/// | [`idle_timeout`](Self::idle_timeout) | 45 s | how long a connection may stay silent (no byte, not even a comment) before it counts as failed, response head included | 1.5 times the slowest common heartbeat interval (15–30 s), so a live stream never trips it, and under the 60 s idle timeouts of common proxies and load balancers (nginx, AWS ALB), so a dead connection is noticed before they would cut it anyway |
/// | [`retries_transient_statuses`](Self::retries_transient_statuses) | `false` | retry 408, 429 and 5xx (honouring `Retry-After`) instead of stopping | the spec fails the connection for good on any status but 200 |
/// | [`accepts_missing_content_type`](Self::accepts_missing_content_type) | `false` | read a 200 response that has no `Content-Type` | the spec fails such a response; some LLM APIs send none |
/// | [`error_body_limit`](Self::error_body_limit) | 4 KiB | how much of a refused response's body the runtime keeps for the error | enough for a JSON error or the start of an HTML page, bounded whatever the server sends |
///
/// Times have millisecond precision, like the `retry` field. See
/// [`ReconnectPolicy`] for how they combine.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use sse_codec::ReconnectConfig;
///
/// const CONFIG: ReconnectConfig = ReconnectConfig::new()
///     .with_max_attempts(10)
///     .with_max_delay(Duration::from_secs(60))
///     .with_retry_transient_statuses(true);
/// assert_eq!(CONFIG.max_attempts(), 10);
/// assert_eq!(ReconnectConfig::default(), ReconnectConfig::new());
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReconnectConfig {
    reconnection_time: Duration,
    min_reconnection_time: Duration,
    max_retry: Duration,
    min_backoff: Duration,
    max_delay: Duration,
    jitter_percent: u8,
    max_attempts: u32,
    idle_timeout: Duration,
    retry_transient_statuses: bool,
    accept_missing_content_type: bool,
    error_body_limit: usize,
}

impl ReconnectConfig {
    /// The default initial reconnection time: 3 seconds.
    pub const DEFAULT_RECONNECTION_TIME: Duration = Duration::from_secs(3);
    /// The default shortest reconnection time a server may set: 500 ms.
    pub const DEFAULT_MIN_RECONNECTION_TIME: Duration = Duration::from_millis(500);
    /// The default longest reconnection time a server may set: 1 hour.
    pub const DEFAULT_MAX_RETRY: Duration = Duration::from_secs(3600);
    /// The default start of backoff for short reconnection times: 1 second.
    pub const DEFAULT_MIN_BACKOFF: Duration = Duration::from_secs(1);
    /// The default cap on backoff: 30 seconds.
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
    /// The default jitter: 50 percent.
    pub const DEFAULT_JITTER_PERCENT: u8 = 50;
    /// The default idle timeout: 45 seconds.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(45);
    /// The default bound on a refused response's body kept for the error:
    /// 4 KiB.
    pub const DEFAULT_ERROR_BODY_LIMIT: usize = 4096;

    /// The default settings (see the table above).
    #[must_use]
    pub const fn new() -> Self {
        ReconnectConfig {
            reconnection_time: Self::DEFAULT_RECONNECTION_TIME,
            min_reconnection_time: Self::DEFAULT_MIN_RECONNECTION_TIME,
            max_retry: Self::DEFAULT_MAX_RETRY,
            min_backoff: Self::DEFAULT_MIN_BACKOFF,
            max_delay: Self::DEFAULT_MAX_DELAY,
            jitter_percent: Self::DEFAULT_JITTER_PERCENT,
            max_attempts: u32::MAX,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            retry_transient_statuses: false,
            accept_missing_content_type: false,
            error_body_limit: Self::DEFAULT_ERROR_BODY_LIMIT,
        }
    }

    /// Sets the reconnection time used until the server sends a `retry`
    /// field. The spec leaves it to the user agent; browsers use a few
    /// seconds.
    #[must_use]
    pub const fn with_reconnection_time(self, reconnection_time: Duration) -> Self {
        ReconnectConfig {
            reconnection_time,
            ..self
        }
    }

    /// Sets the shortest reconnection time a server's `retry` field may
    /// set; a shorter one (`retry: 0`) is raised to it. [`Duration::ZERO`]
    /// lets the server choose freely, as the letter of the spec does.
    #[must_use]
    pub const fn with_min_reconnection_time(self, min_reconnection_time: Duration) -> Self {
        ReconnectConfig {
            min_reconnection_time,
            ..self
        }
    }

    /// Sets the longest reconnection time a server's `retry` field may set;
    /// a longer one is clamped to it. [`Duration::MAX`] means no limit.
    #[must_use]
    pub const fn with_max_retry(self, max_retry: Duration) -> Self {
        ReconnectConfig { max_retry, ..self }
    }

    /// Sets where backoff starts doubling when the reconnection time is
    /// shorter, so that a server's `retry: 0` cannot make failed attempts
    /// follow each other with no pause.
    #[must_use]
    pub const fn with_min_backoff(self, min_backoff: Duration) -> Self {
        ReconnectConfig {
            min_backoff,
            ..self
        }
    }

    /// Sets the cap on backoff. The reconnection time is never cut short:
    /// when it is longer, it is the cap.
    #[must_use]
    pub const fn with_max_delay(self, max_delay: Duration) -> Self {
        ReconnectConfig { max_delay, ..self }
    }

    /// Sets the jitter, in percent of each delay's target, at most 100.
    /// 0 makes delays exact.
    #[must_use]
    pub const fn with_jitter_percent(self, jitter_percent: u8) -> Self {
        let jitter_percent = if jitter_percent > 100 {
            100
        } else {
            jitter_percent
        };
        ReconnectConfig {
            jitter_percent,
            ..self
        }
    }

    /// Sets how many attempts in a row may fail before the policy stops
    /// for good; 0 counts as 1 (stop at the first failure). [`u32::MAX`]
    /// means no limit.
    #[must_use]
    pub const fn with_max_attempts(self, max_attempts: u32) -> Self {
        let max_attempts = if max_attempts == 0 { 1 } else { max_attempts };
        ReconnectConfig {
            max_attempts,
            ..self
        }
    }

    /// Sets how long a connection may go without receiving a byte (an
    /// event, a comment, a heartbeat, part of a line), and how long the
    /// response head may take, before the runtime gives up on it and
    /// reports [`Outcome::IdleTimeout`]. [`Duration::MAX`] means never.
    ///
    /// The policy keeps no clock: the runtime (`sse-codec-tokio`'s
    /// `follow`) owns the timer and reads this setting.
    #[must_use]
    pub const fn with_idle_timeout(self, idle_timeout: Duration) -> Self {
        ReconnectConfig {
            idle_timeout,
            ..self
        }
    }

    /// Sets whether a 200 response without a `Content-Type` header is read
    /// as an event stream. The spec fails it; some LLM APIs send none. A
    /// `Content-Type` that is present and not `text/event-stream` still
    /// stops.
    #[must_use]
    pub const fn with_accept_missing_content_type(self, accept: bool) -> Self {
        ReconnectConfig {
            accept_missing_content_type: accept,
            ..self
        }
    }

    /// Sets how many bytes of a refused response's body (a status or
    /// content type that stops the stream) the runtime reads and keeps for
    /// the error it reports, so that users see why the server refused.
    /// 0 reads none.
    #[must_use]
    pub const fn with_error_body_limit(self, error_body_limit: usize) -> Self {
        ReconnectConfig {
            error_body_limit,
            ..self
        }
    }

    /// Sets whether the statuses of a temporary server condition — 408,
    /// 429 and every 5xx — count as failed attempts, retried with backoff,
    /// rather than stopping for good as the spec says. A `Retry-After`
    /// ([`Outcome::Response::retry_after`]) then lengthens the delay, up to
    /// [`max_retry`](Self::max_retry). Off by default. Turn it on for
    /// servers behind load balancers and gateways, which answer 502 or 503
    /// during a restart, and for rate-limited APIs (429).
    #[must_use]
    pub const fn with_retry_transient_statuses(self, retry: bool) -> Self {
        ReconnectConfig {
            retry_transient_statuses: retry,
            ..self
        }
    }

    /// The reconnection time until the server sends `retry`.
    #[must_use]
    pub const fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// The shortest reconnection time a server may set.
    #[must_use]
    pub const fn min_reconnection_time(&self) -> Duration {
        self.min_reconnection_time
    }

    /// The longest reconnection time a server may set.
    #[must_use]
    pub const fn max_retry(&self) -> Duration {
        self.max_retry
    }

    /// How long a connection may stay silent.
    #[must_use]
    pub const fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Whether a 200 response without `Content-Type` is read.
    #[must_use]
    pub const fn accepts_missing_content_type(&self) -> bool {
        self.accept_missing_content_type
    }

    /// Bytes of a refused response's body kept for the error.
    #[must_use]
    pub const fn error_body_limit(&self) -> usize {
        self.error_body_limit
    }

    /// Where backoff starts doubling.
    #[must_use]
    pub const fn min_backoff(&self) -> Duration {
        self.min_backoff
    }

    /// The cap on backoff.
    #[must_use]
    pub const fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The jitter, in percent.
    #[must_use]
    pub const fn jitter_percent(&self) -> u8 {
        self.jitter_percent
    }

    /// Failed attempts in a row before stopping.
    #[must_use]
    pub const fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether 408, 429 and 5xx are retried.
    #[must_use]
    pub const fn retries_transient_statuses(&self) -> bool {
        self.retry_transient_statuses
    }
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What happened to a connection attempt; see [`ReconnectPolicy::handle`].
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The response head arrived, after any redirects (follow them in the
    /// HTTP client, as fetch does).
    Response {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type` header value; `None` if absent.
        content_type: Option<&'a [u8]>,
        /// The `Retry-After` header, if any, as [`parse_retry_after`](crate::parse_retry_after) reads
        /// it: used when a retried status (see
        /// [`with_retry_transient_statuses`](ReconnectConfig::with_retry_transient_statuses))
        /// ends the attempt.
        retry_after: Option<Duration>,
    },
    /// The body ended: the server closed the stream.
    Ended,
    /// Nothing arrived for [`idle_timeout`](ReconnectConfig::idle_timeout):
    /// no response head, or no byte of body. The runtime dropped the
    /// connection.
    IdleTimeout,
    /// The connection failed: it could not be made, or it broke, or it
    /// timed out, before or after the response head.
    TransportError,
    /// The decoder reported an error and the client dropped the connection.
    /// (A client that keeps reading — the decoder recovers at the next
    /// blank line — reports nothing.)
    DecodeError(Error),
}

/// What to do next; see [`ReconnectPolicy::handle`].
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[must_use = "the policy says whether and when to reconnect"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The response is an event stream: read its body. Only ever the answer
    /// to [`Outcome::Response`].
    Read,
    /// Wait `delay`, then connect again with
    /// [`request_headers`](ReconnectPolicy::request_headers).
    Reconnect {
        /// How long to wait before the next attempt.
        delay: Duration,
    },
    /// Do not reconnect: the event source is closed for good.
    Stop(StopReason),
}

/// Why a [`ReconnectPolicy`] stopped.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The server answered 204 No Content: it has nothing more to send.
    NoContent,
    /// The server answered with another status than 200 (and not one the
    /// policy retries).
    Status(u16),
    /// The server answered 200 with a `Content-Type` other than
    /// `text/event-stream`, or none.
    ContentType,
    /// [`ReconnectConfig::max_attempts`] attempts in a row failed.
    TooManyFailures {
        /// The failed attempts in a row.
        failures: u32,
    },
    /// [`ReconnectPolicy::close`] was called.
    Closed,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StopReason::NoContent => f.write_str("server answered 204 no content"),
            StopReason::Status(status) => write!(f, "server answered status {status}"),
            StopReason::ContentType => f.write_str("response is not text/event-stream"),
            StopReason::TooManyFailures { failures } => {
                write!(f, "gave up after {failures} failed attempts in a row")
            }
            StopReason::Closed => f.write_str("closed"),
        }
    }
}

/// A client's reconnection state machine, sans-IO: the last event ID, the
/// reconnection time, backoff, and which responses end the stream, per
/// WHATWG HTML, "Server-sent events".
///
/// It keeps no clock and starts no timer: it answers each [`Outcome`] with
/// an [`Action`], a delay to wait or a reason to stop, and the runtime
/// sleeps and connects. Its jitter comes from a generator seeded by the
/// caller, so equal seeds and equal outcomes give equal delays.
///
/// Methods, by family:
/// - construct: [`new`](Self::new) (a [`ReconnectConfig`] and a seed);
///   [`set_last_event_id`](Self::set_last_event_id) to resume from a
///   stored id;
/// - each attempt, in order: [`request_headers`](Self::request_headers);
///   [`handle`](Self::handle) the response head ([`Outcome::Response`]);
///   on [`Action::Read`], [`observe`](Self::observe) the decoder as the
///   body is decoded; [`handle`](Self::handle) how it ended; then wait the
///   delay of [`Action::Reconnect`], or stop;
/// - inspect: [`last_event_id`](Self::last_event_id),
///   [`reconnection_time`](Self::reconnection_time),
///   [`failures`](Self::failures), [`stopped`](Self::stopped);
///   [`close`](Self::close) to stop.
///
/// # Decisions
///
/// | outcome | action |
/// |---|---|
/// | `Response` 200, `Content-Type` `text/event-stream` (see [`is_event_stream`](crate::is_event_stream)) | [`Action::Read`] |
/// | `Response` 200, no `Content-Type`, with [`with_accept_missing_content_type`](ReconnectConfig::with_accept_missing_content_type) | [`Action::Read`] |
/// | `Response` 200, other or no `Content-Type` | stop: [`StopReason::ContentType`] |
/// | `Response` 204 | stop: [`StopReason::NoContent`] |
/// | `Response` 408, 429 or 5xx, with [`with_retry_transient_statuses`](ReconnectConfig::with_retry_transient_statuses) | a failure; the delay is at least its `Retry-After` |
/// | `Response`, any other status | stop: [`StopReason::Status`] |
/// | `Ended`, `TransportError` or `IdleTimeout` after a healthy connection | reconnect after the reconnection time, backoff reset |
/// | `Ended`, `TransportError` or `IdleTimeout` otherwise | a failure |
/// | `DecodeError` | a failure |
///
/// "If res's status is not 200, or if res's `Content-Type` is not
/// `text/event-stream`, then fail the connection" — the spec does not
/// reconnect then, and neither does this policy by default. "When a user
/// agent is to reestablish the connection" — after a network error or the
/// end of the body — it waits the reconnection time, "optionally, wait
/// some more. In particular, if the previous attempt failed, then user
/// agents might introduce an exponential backoff delay": that is what this
/// policy adds.
///
/// A connection is healthy once its response was read
/// ([`Action::Read`]) and [`observe`](Self::observe) saw the decoder
/// dispatch at least one event on it ([`Decoder::dispatched`]). A failure
/// counts one more failed attempt in a row; when they reach
/// [`max_attempts`](ReconnectConfig::max_attempts) the policy stops with
/// [`StopReason::TooManyFailures`], and otherwise reconnects after a
/// backoff delay. Only a healthy connection resets the count: a server that
/// accepts and at once hangs up, sends only comments or a `retry` and
/// closes, or keeps sending an event too large for the decoder, does not.
///
/// A server cannot make the client hammer it: its `retry` is raised to
/// [`min_reconnection_time`](ReconnectConfig::min_reconnection_time)
/// (500 ms by default), and connections that deliver no event back off.
///
/// # Delays
///
/// With `r` the reconnection time (the server's last `retry`, clamped to
/// [`min_reconnection_time`](ReconnectConfig::min_reconnection_time) and
/// [`max_retry`](ReconnectConfig::max_retry), or the configured one), `k`
/// the failed attempts in a row (0 after a healthy connection), `cap` the
/// larger of [`max_delay`](ReconnectConfig::max_delay) and `r`, and `j` the
/// jitter:
///
/// ```text
/// target = r                                                   if k <= 1
///        = min(cap, max(r, min_backoff) * 2^(k-1))             if k >= 2
/// delay  is uniform in [max(r, target * (1 - j)), min(cap, target * (1 + j))]
/// ```
///
/// So a delay is never shorter than the reconnection time the server asked
/// for and never longer than `cap`, except that a retried status's
/// `Retry-After` (at most [`max_retry`](ReconnectConfig::max_retry))
/// lengthens it. With the defaults (`r` = 3 s,
/// `min_backoff` = 1 s, `max_delay` = 30 s, `j` = 50%), the delays after
/// 0, 1, 2, 3, 4 and more failures are drawn from 3–4.5 s, 3–4.5 s, 3–9 s,
/// 6–18 s, 12–30 s and 15–30 s.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use sse_codec::{Action, Decoder, Outcome, ReconnectConfig, ReconnectPolicy};
///
/// let mut policy = ReconnectPolicy::new(ReconnectConfig::new().with_jitter_percent(0), 7);
/// let mut decoder = Decoder::new();
///
/// // First attempt: no Last-Event-ID yet.
/// assert_eq!(policy.request_headers().count(), 2);
/// let ok = Outcome::Response { status: 200, content_type: Some(b"text/event-stream"), retry_after: None };
/// assert_eq!(policy.handle(ok), Action::Read);
/// decoder.feed(b"retry: 1500\n\nid: 7\ndata: hi\n\nid: 8\nda", |_| {});
/// policy.observe(&decoder);
/// decoder.finish(); // the connection broke mid-event: "8" was never committed
/// let action = policy.handle(Outcome::TransportError);
/// assert_eq!(action, Action::Reconnect { delay: Duration::from_millis(1500) });
///
/// // Second attempt: resume after "7".
/// let headers: Vec<_> = policy.request_headers().collect();
/// assert_eq!(headers[2], ("last-event-id", "7"));
/// let gone = Outcome::Response { status: 204, content_type: None, retry_after: None };
/// assert!(matches!(policy.handle(gone), Action::Stop(_)));
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug)]
pub struct ReconnectPolicy {
    config: ReconnectConfig,
    /// splitmix64 state.
    rng: u64,
    /// The last event ID string, UTF-8 (lossy, as a browser decodes).
    last_event_id: String,
    /// Within `config.min_reconnection_time..=config.max_retry`, once a
    /// `retry` was observed.
    reconnection_time: Duration,
    /// Failed attempts in a row; 0 after a healthy connection.
    failures: u32,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between attempts, or waiting for a response head.
    Connecting,
    /// The response was read; `delivered`: the decoder dispatched an event.
    Open {
        delivered: bool,
    },
    Stopped(StopReason),
}

impl ReconnectPolicy {
    /// A policy with no last event ID and `config`'s reconnection time.
    ///
    /// `seed` drives the jitter: take it from any source of randomness
    /// (`std::collections::hash_map::RandomState`, the time, a hardware
    /// generator), different for each client so that clients spread out;
    /// equal seeds give equal delays, which tests rely on.
    #[must_use]
    pub fn new(config: ReconnectConfig, seed: u64) -> Self {
        ReconnectPolicy {
            config,
            rng: seed,
            last_event_id: String::new(),
            reconnection_time: config.reconnection_time,
            failures: 0,
            state: State::Connecting,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ReconnectConfig {
        &self.config
    }

    /// The headers of the next request: `Accept: text/event-stream`,
    /// `Cache-Control: no-cache`, and `Last-Event-ID` with the last event ID
    /// when it is not empty. Names are lowercase, as HTTP/2 writes them and
    /// as `http::HeaderName::from_static` requires; HTTP/1.1 names are
    /// case-insensitive.
    ///
    /// WHATWG HTML, "Server-sent events": "If the EventSource object's last
    /// event ID string is not the empty string, set (`Last-Event-ID`, last
    /// event ID string, encoded as UTF-8) in request's header list."
    /// Project decision: an id with a control character other than tab
    /// (which a server may send, but HTTP libraries refuse to put in a
    /// header) is left out, so the request can be made; the server then
    /// sees a new client.
    ///
    /// ```
    /// use sse_codec::{ReconnectConfig, ReconnectPolicy};
    ///
    /// let mut policy = ReconnectPolicy::new(ReconnectConfig::new(), 0);
    /// policy.set_last_event_id("42");
    /// let headers: Vec<(&str, &str)> = policy.request_headers().collect();
    /// assert_eq!(
    ///     headers,
    ///     [("accept", "text/event-stream"), ("cache-control", "no-cache"), ("last-event-id", "42")],
    /// );
    /// ```
    pub fn request_headers(&self) -> RequestHeaders<'_> {
        let id = self.last_event_id.as_str();
        let id = Some(id).filter(|id| !id.is_empty() && is_field_value(id.as_bytes()));
        RequestHeaders { id, next: 0 }
    }

    /// Takes the decoder's last event ID and reconnection time, and notes
    /// whether the connection delivered an event.
    ///
    /// The last event ID is the decoder's
    /// [`last_event_id`](Decoder::last_event_id): the spec's last event ID
    /// string, committed at each blank line, whether or not an event was
    /// dispatched (an `id` alone sets it); invalid UTF-8 is replaced with
    /// U+FFFD, as a browser decodes the stream. The reconnection time is the
    /// decoder's [`retry`](Decoder::retry), clamped to
    /// [`min_reconnection_time`](ReconnectConfig::min_reconnection_time) and
    /// [`max_retry`](ReconnectConfig::max_retry).
    ///
    /// The caller MUST call it after decoding each chunk (or each item) of
    /// the body and before [`Decoder::finish`], which forgets how many
    /// events the stream dispatched. It is cheap when nothing changed.
    ///
    /// One decoder can serve every connection: `finish` keeps the last event
    /// ID and the reconnection time. A fresh decoder per connection MUST be
    /// seeded with `decoder.set_last_event_id(policy.last_event_id())`, so
    /// that events without an `id` carry the one the stream resumed from.
    pub fn observe<S: Storage>(&mut self, decoder: &Decoder<S>) {
        let id = decoder.last_event_id();
        if id != self.last_event_id.as_bytes() {
            let text = String::from_utf8_lossy(id);
            self.last_event_id.clear();
            self.last_event_id.push_str(&text);
        }
        if let Some(ms) = decoder.retry() {
            self.reconnection_time = Duration::from_millis(ms)
                .max(self.config.min_reconnection_time)
                .min(self.config.max_retry);
        }
        if let State::Open { delivered } = &mut self.state {
            *delivered |= decoder.dispatched() > 0;
        }
    }

    /// Sets the last event ID, for a client that resumes from an id it
    /// stored, before the first attempt.
    pub fn set_last_event_id(&mut self, id: &str) {
        self.last_event_id.clear();
        self.last_event_id.push_str(id);
    }

    /// The last event ID: what `Last-Event-ID` carries on the next attempt
    /// (when not empty), and what a fresh decoder is seeded with.
    #[must_use]
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection time: the server's last `retry` (clamped to
    /// [`min_reconnection_time`](ReconnectConfig::min_reconnection_time) and
    /// [`max_retry`](ReconnectConfig::max_retry)), or the configured one.
    #[must_use]
    pub fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// Failed attempts in a row; 0 after a healthy connection.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Why the policy stopped, or `None` while it has not.
    #[must_use]
    pub fn stopped(&self) -> Option<StopReason> {
        match self.state {
            State::Stopped(reason) => Some(reason),
            _ => None,
        }
    }

    /// Stops for good, as `EventSource.close()` does: every later
    /// [`handle`](Self::handle) answers [`StopReason::Closed`].
    pub fn close(&mut self) {
        if self.stopped().is_none() {
            self.state = State::Stopped(StopReason::Closed);
        }
    }

    /// Says what to do after `outcome`; see the decision table in the type's
    /// docs.
    ///
    /// [`Action::Read`] answers only [`Outcome::Response`]. Once the policy
    /// has stopped it answers every outcome with the same
    /// [`Action::Stop`].
    ///
    /// ```
    /// use sse_codec::{Action, Outcome, ReconnectConfig, ReconnectPolicy, StopReason};
    ///
    /// let mut policy = ReconnectPolicy::new(ReconnectConfig::new().with_max_attempts(2), 1);
    /// assert!(matches!(policy.handle(Outcome::TransportError), Action::Reconnect { .. }));
    /// let html = Outcome::Response { status: 200, content_type: Some(b"text/html"), retry_after: None };
    /// assert_eq!(policy.handle(html), Action::Stop(StopReason::ContentType));
    /// ```
    pub fn handle(&mut self, outcome: Outcome<'_>) -> Action {
        if let State::Stopped(reason) = self.state {
            return Action::Stop(reason);
        }
        match outcome {
            Outcome::Response {
                status,
                content_type,
                retry_after,
            } => match status {
                200 if content_type
                    .map_or(self.config.accept_missing_content_type, is_event_stream) =>
                {
                    self.state = State::Open { delivered: false };
                    Action::Read
                }
                200 => self.stop(StopReason::ContentType),
                204 => self.stop(StopReason::NoContent),
                408 | 429 | 500..=599 if self.config.retry_transient_statuses => {
                    let action = self.end_attempt(false);
                    match (action, retry_after) {
                        (Action::Reconnect { delay }, Some(after)) => Action::Reconnect {
                            delay: delay.max(after.min(self.config.max_retry)),
                        },
                        (action, _) => action,
                    }
                }
                _ => self.stop(StopReason::Status(status)),
            },
            Outcome::Ended | Outcome::TransportError | Outcome::IdleTimeout => {
                let healthy = self.state == State::Open { delivered: true };
                self.end_attempt(healthy)
            }
            Outcome::DecodeError(_) => self.end_attempt(false),
        }
    }

    fn stop(&mut self, reason: StopReason) -> Action {
        self.state = State::Stopped(reason);
        Action::Stop(reason)
    }

    fn end_attempt(&mut self, healthy: bool) -> Action {
        self.failures = if healthy {
            0
        } else {
            self.failures.saturating_add(1)
        };
        let limit = self.config.max_attempts;
        if limit != u32::MAX && self.failures >= limit {
            return self.stop(StopReason::TooManyFailures {
                failures: self.failures,
            });
        }
        self.state = State::Connecting;
        let delay = self.delay();
        Action::Reconnect { delay }
    }

    /// The delay before the next attempt (see "Delays" in the type's docs).
    fn delay(&mut self) -> Duration {
        let r = millis(self.reconnection_time);
        let cap = millis(self.config.max_delay).max(r);
        let target = match self.failures.checked_sub(1) {
            None | Some(0) => r,
            Some(doublings) => {
                let from = r.max(millis(self.config.min_backoff));
                let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
                from.saturating_mul(factor).min(cap)
            }
        };
        let spread = target / 100 * u64::from(self.config.jitter_percent)
            + target % 100 * u64::from(self.config.jitter_percent) / 100;
        let low = target.saturating_sub(spread).max(r);
        let high = target.saturating_add(spread).min(cap);
        let offset = uniform(self.next_random(), high - low);
        Duration::from_millis(low + offset)
    }

    /// splitmix64: one 64-bit add, two multiply-xorshift rounds.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A number in `0..=span`, from a uniformly random `random`: the high half
/// of a 64×64-bit product (bias below 2⁻⁶⁴ × span, nothing to a delay).
fn uniform(random: u64, span: u64) -> u64 {
    let product = u128::from(random) * (u128::from(span) + 1);
    u64::try_from(product >> 64).unwrap_or(span)
}

/// Whole milliseconds, saturating.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The headers of a request, from [`ReconnectPolicy::request_headers`]:
/// `(name, value)` pairs, names in lowercase.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[must_use = "the headers go on the next request"]
#[derive(Clone, Debug)]
pub struct RequestHeaders<'a> {
    id: Option<&'a str>,
    /// The index of the next header: 0 `Accept`, 1 `Cache-Control`,
    /// 2 `Last-Event-ID`.
    next: u8,
}

impl<'a> Iterator for RequestHeaders<'a> {
    type Item = (&'static str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let header = match self.next {
            0 => ("accept", "text/event-stream"),
            1 => ("cache-control", "no-cache"),
            2 => ("last-event-id", self.id?),
            _ => return None,
        };
        self.next += 1;
        Some(header)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let total = 2 + usize::from(self.id.is_some());
        let left = total.saturating_sub(usize::from(self.next));
        (left, Some(left))
    }
}

impl ExactSizeIterator for RequestHeaders<'_> {}

impl core::iter::FusedIterator for RequestHeaders<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_covers_its_range() {
        assert_eq!(uniform(0, 10), 0);
        assert_eq!(uniform(u64::MAX, 10), 10);
        assert_eq!(uniform(u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(uniform(u64::MAX / 2, 0), 0);
    }

    #[test]
    fn headers_are_exact_size() {
        let mut policy = ReconnectPolicy::new(ReconnectConfig::new(), 0);
        assert_eq!(policy.request_headers().len(), 2);
        policy.set_last_event_id("x");
        let mut headers = policy.request_headers();
        assert_eq!(headers.len(), 3);
        headers.next();
        assert_eq!(headers.len(), 2);
        assert_eq!(headers.by_ref().count(), 2);
        assert_eq!(headers.next(), None);
        policy.set_last_event_id("a\x01");
        assert_eq!(policy.request_headers().len(), 2);
    }
}
