//! Operator hooks: what a server's event streams are doing, with no metrics
//! dependency. Implement [`Hooks`] to feed your metrics library, or use
//! [`Counters`].

use super::log::Start;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a [`Subscription`](crate::Subscription) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum End {
    /// It was dropped before it ended: the client went away (the HTTP stack
    /// dropped the body on a write error or a closed connection), or the
    /// server stopped sending.
    Dropped,
    /// The log evicted entries it had not sent: the client fell behind.
    Lagged,
    /// The log was [closed](crate::SharedLog::close).
    Closed,
}

/// Callbacks from a [`SharedLog`](crate::SharedLog)'s subscriptions and the
/// [`EventBody`](crate::EventBody)s that send them. Every method has an
/// empty default; they run on the connection's task, outside the log's
/// lock, and must be cheap (count, don't block).
///
/// Write errors are the HTTP stack's: it drops the body, which ends the
/// subscription with [`End::Dropped`].
pub trait Hooks: Send + Sync + 'static {
    /// A subscription began; `replay` entries precede the live ones.
    fn subscribed(&self, start: Start, replay: u64) {
        let _ = (start, replay);
    }

    /// An entry of `bytes` encoded bytes was handed to the connection;
    /// `replayed`: it came from the history rather than live.
    fn sent(&self, bytes: usize, replayed: bool) {
        let _ = (bytes, replayed);
    }

    /// A heartbeat comment was sent.
    fn heartbeat(&self) {}

    /// A subscription ended.
    fn ended(&self, end: End) {
        let _ = end;
    }
}

/// Hooks held by a stream, shown by `Debug` as their presence only.
#[derive(Clone)]
pub(crate) struct HeldHooks(pub(crate) std::sync::Arc<dyn Hooks>);

impl core::fmt::Debug for HeldHooks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Hooks")
    }
}

/// The hooks of a log that has none.
#[derive(Debug, Default)]
pub(crate) struct NoHooks;

impl Hooks for NoHooks {}

/// [`Hooks`] that count, with relaxed atomics: read them with
/// [`snapshot`](Self::snapshot) and export them however you like.
///
/// # Examples
///
/// ```
/// use sse_codec::ReplayLog;
/// use sse_codec_tokio::{Counters, SharedLog};
/// use std::sync::Arc;
///
/// let counters = Arc::new(Counters::default());
/// let log = SharedLog::with_hooks(ReplayLog::new(), counters.clone());
/// let subscription = log.subscribe(None);
/// assert_eq!(counters.snapshot().active, 1);
/// drop(subscription);
/// assert_eq!(counters.snapshot().ended_dropped, 1);
/// ```
#[derive(Debug, Default)]
pub struct Counters {
    subscribed: AtomicU64,
    ended_dropped: AtomicU64,
    ended_lagged: AtomicU64,
    ended_closed: AtomicU64,
    events: AtomicU64,
    bytes: AtomicU64,
    replays: AtomicU64,
    replayed_events: AtomicU64,
    replayed_bytes: AtomicU64,
    heartbeats: AtomicU64,
}

/// What [`Counters`] counted, at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CounterSnapshot {
    /// Subscriptions begun and not yet ended.
    pub active: u64,
    /// Subscriptions begun.
    pub subscribed: u64,
    /// Ended with [`End::Dropped`].
    pub ended_dropped: u64,
    /// Ended with [`End::Lagged`].
    pub ended_lagged: u64,
    /// Ended with [`End::Closed`].
    pub ended_closed: u64,
    /// Entries sent, replayed ones included.
    pub events: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Subscriptions that began with a replay ([`Start::Resumed`]).
    pub replays: u64,
    /// Entries sent from the history.
    pub replayed_events: u64,
    /// Their bytes.
    pub replayed_bytes: u64,
    /// Heartbeat comments sent.
    pub heartbeats: u64,
}

impl Counters {
    /// The counts now (each read on its own: a snapshot taken while streams
    /// run may be off by the events of that instant).
    #[must_use]
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Relaxed);
        let ended = get(&self.ended_dropped) + get(&self.ended_lagged) + get(&self.ended_closed);
        CounterSnapshot {
            active: get(&self.subscribed).saturating_sub(ended),
            subscribed: get(&self.subscribed),
            ended_dropped: get(&self.ended_dropped),
            ended_lagged: get(&self.ended_lagged),
            ended_closed: get(&self.ended_closed),
            events: get(&self.events),
            bytes: get(&self.bytes),
            replays: get(&self.replays),
            replayed_events: get(&self.replayed_events),
            replayed_bytes: get(&self.replayed_bytes),
            heartbeats: get(&self.heartbeats),
        }
    }
}

impl Hooks for Counters {
    fn subscribed(&self, start: Start, _replay: u64) {
        self.subscribed.fetch_add(1, Relaxed);
        if start == Start::Resumed {
            self.replays.fetch_add(1, Relaxed);
        }
    }

    fn sent(&self, bytes: usize, replayed: bool) {
        let len = bytes as u64;
        self.events.fetch_add(1, Relaxed);
        self.bytes.fetch_add(len, Relaxed);
        if replayed {
            self.replayed_events.fetch_add(1, Relaxed);
            self.replayed_bytes.fetch_add(len, Relaxed);
        }
    }

    fn heartbeat(&self) {
        self.heartbeats.fetch_add(1, Relaxed);
    }

    fn ended(&self, end: End) {
        let counter = match end {
            End::Dropped => &self.ended_dropped,
            End::Lagged => &self.ended_lagged,
            End::Closed => &self.ended_closed,
        };
        counter.fetch_add(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventBody, SharedLog};
    use futures_util::StreamExt;
    use http_body_util::BodyExt;
    use sse_codec::{Frame, ReplayLimits, ReplayLog};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn counters_see_replays_events_heartbeats_and_every_end() {
        let counters = Arc::new(Counters::default());
        let limits = ReplayLimits::new().with_max_events(4);
        let log = SharedLog::with_hooks(ReplayLog::new().with_limits(limits), counters.clone());
        for data in ["a", "b", "c"] {
            log.append(Frame::event(data)).unwrap();
        }
        // Resumes after "0": "b" and "c" replayed, then "d" live, then a
        // heartbeat; then the client goes (dropped).
        let mut body = EventBody::subscription(log.subscribe(Some("0")));
        for _ in 0..2 {
            body.frame().await.unwrap().unwrap();
        }
        log.append(Frame::event("d")).unwrap();
        body.frame().await.unwrap().unwrap();
        let beat = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(beat, ": keepalive\n\n");
        assert_eq!(counters.snapshot().active, 1);
        drop(body);
        // One falls behind (lagged), one sees the log close.
        let mut slow = log.subscribe(None);
        for data in ["e", "f", "g", "h", "i"] {
            log.append(Frame::event(data)).unwrap();
        }
        let mut closing = log.subscribe(None);
        assert!(slow.next().await.is_none());
        log.close();
        assert!(closing.next().await.is_none());
        let snapshot = counters.snapshot();
        assert_eq!(
            snapshot,
            CounterSnapshot {
                active: 0,
                subscribed: 3,
                ended_dropped: 1,
                ended_lagged: 1,
                ended_closed: 1,
                events: 3,
                bytes: 3 * 15,
                replays: 1,
                replayed_events: 2,
                replayed_bytes: 2 * 15,
                heartbeats: 1,
            }
        );
        // Dropping a subscription that ended counts nothing more.
        drop((slow, closing));
        assert_eq!(counters.snapshot(), snapshot);
    }
}
