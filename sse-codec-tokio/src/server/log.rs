//! A replay log shared by a publisher and every connection, and the
//! subscriptions that walk it.

use super::hooks::{End, Hooks, NoHooks};
use super::line::CacheLine;
use super::wake::{Slot, Wakers};
use bytes::Bytes;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use futures_core::Stream;
use sse_codec::{Entry, Frame, Lookup, ReplayLog};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A [`ReplayLog`] shared by a publisher and every connection, following the
/// recipe in its docs ("Sharing between connections"): appends happen under
/// a lock held only to append or to clone entries out (subscriptions read
/// side by side), and each append wakes the [`Subscription`]s, which walk
/// the log with a cursor.
///
/// Memory: what the [`ReplayLog`] holds (at most its
/// [`max_bytes`](sse_codec::ReplayLimits::max_bytes) and about 64 bytes
/// per entry), plus 160 bytes per retained entry for the [`Bytes`] it is
/// sent as (made once per append, shared by every subscriber), plus what
/// the subscriptions hold ([`Subscription`]).
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
pub struct SharedLog {
    // Each of the three is written often by one thread and read by others:
    // a line each, apart from the fields that are only read.
    log: CacheLine<RwLock<Held>>,
    /// The subscriptions waiting for an append, woken after each append
    /// once the log's lock is released.
    wakers: Arc<Wakers>,
    /// The log's `next_seq` as of the last append, stored before the
    /// subscribers are woken: a subscription that is up to date sees it
    /// without taking the lock.
    published: CacheLine<std::sync::atomic::AtomicU64>,
    closed: AtomicBool,
    hooks: Arc<dyn Hooks>,
    /// Put before the sequence number in the ids [`append`](Self::append)
    /// assigns; empty for a log of its own.
    id_prefix: Box<str>,
}

/// The log and, beside each entry it retains, the entry's bytes as a
/// [`Bytes`], made once at the append: what a [`Subscription<Bytes>`]
/// hands out, a reference count per delivery instead of a new `Bytes`
/// owner per delivery.
struct Held {
    log: ReplayLog,
    /// `bytes[i]` is the bytes of entry `log.first_seq() + i`: as many as
    /// the log retains.
    bytes: VecDeque<Bytes>,
}

/// An entry's bytes, shared with it.
///
/// The `Bytes` owner is aligned to a cache line so that the reference
/// counts of neighbouring entries, which every subscriber changes, never
/// share one.
fn shared_bytes(entry: &Entry) -> Bytes {
    #[repr(align(64))]
    struct Aligned(Entry);
    impl AsRef<[u8]> for Aligned {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    Bytes::from_owner(Aligned(entry.clone()))
}

impl Held {
    fn new(log: ReplayLog) -> Self {
        let bytes = log.retained().map(shared_bytes).collect();
        Held { log, bytes }
    }

    /// Notes the entry just appended, and forgets the bytes of those the
    /// append evicted.
    fn appended(&mut self, entry: &Entry) {
        self.bytes.push_back(shared_bytes(entry));
        let excess = self.bytes.len().saturating_sub(self.log.len());
        self.bytes.drain(..excess);
    }

    /// What a subscription of `T` takes of `entry`, a retained entry.
    fn take<T: Taken>(&self, entry: &Entry) -> T {
        let index = entry.seq().wrapping_sub(self.log.first_seq());
        let bytes = usize::try_from(index).ok().and_then(|i| self.bytes.get(i));
        T::take(entry, bytes)
    }
}

/// What a [`Subscription`] hands out: each [`Entry`] (the default), or its
/// encoded bytes as [`Bytes`], which is what an HTTP body sends (see
/// [`Subscription::into_bytes`]). Either is a reference count on what the
/// log holds; nothing is copied.
pub trait Taken: private::Sealed + Send + Sync + Unpin + 'static {}

impl Taken for Entry {}
impl Taken for Bytes {}

mod private {
    use bytes::Bytes;
    use sse_codec::Entry;

    pub trait Sealed: Sized {
        /// Taken out of the log: `entry`, whose bytes are `bytes` (`None`
        /// only if the log's bookkeeping were broken).
        fn take(entry: &Entry, bytes: Option<&Bytes>) -> Self;
        /// The encoded length.
        fn len(&self) -> usize;
    }

    impl Sealed for Entry {
        fn take(entry: &Entry, _: Option<&Bytes>) -> Self {
            entry.clone()
        }
        fn len(&self) -> usize {
            Entry::len(self)
        }
    }

    impl Sealed for Bytes {
        fn take(entry: &Entry, bytes: Option<&Bytes>) -> Self {
            bytes
                .cloned()
                .unwrap_or_else(|| Bytes::from_owner(entry.clone()))
        }
        fn len(&self) -> usize {
            Bytes::len(self)
        }
    }
}

/// The most entries a [`Subscription`] takes out of the log at a time, and
/// so the most it holds that the log may have evicted: what bounds the
/// memory of a subscriber whose client has stopped reading.
pub const SUBSCRIPTION_BATCH: usize = 16;

/// The longest a subscription that fell behind the log waits before it
/// ends: each waits a different time up to this, so that a burst that
/// leaves every subscriber behind does not make every client reconnect in
/// the same instant.
pub const LAG_JITTER: core::time::Duration = core::time::Duration::from_secs(1);

/// A pseudo-random wait in `0..=LAG_JITTER`, different for each caller.
fn lag_wait(salt: u64) -> core::time::Duration {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    // splitmix64 of a per-call counter and the caller's salt.
    let mut z = COUNTER
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(salt);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let span = LAG_JITTER.as_millis() as u64 + 1;
    core::time::Duration::from_millis(z % span)
}

impl SharedLog {
    /// Shares `log`.
    pub fn new(log: ReplayLog) -> Arc<Self> {
        Self::with_hooks(log, Arc::new(NoHooks))
    }

    /// Shares `log`, telling `hooks` what its subscriptions do
    /// ([`Hooks`](crate::Hooks), e.g. [`Counters`](crate::Counters)).
    pub fn with_hooks(log: ReplayLog, hooks: Arc<dyn Hooks>) -> Arc<Self> {
        Self::prefixed(log, hooks, "")
    }

    /// A log whose assigned ids are `prefix` then the sequence number: what
    /// [`fleet`](crate::fleet) gives each topic's window (`<epoch>-`), so
    /// that no id of one topic or epoch can be found in another's log.
    pub(crate) fn prefixed(log: ReplayLog, hooks: Arc<dyn Hooks>, prefix: &str) -> Arc<Self> {
        let published = std::sync::atomic::AtomicU64::new(log.next_seq());
        Arc::new(SharedLog {
            log: CacheLine(RwLock::new(Held::new(log))),
            wakers: Arc::new(Wakers::new()),
            published: CacheLine(published),
            closed: AtomicBool::new(false),
            hooks,
            id_prefix: Box::from(prefix),
        })
    }

    /// The hooks.
    pub(crate) fn hooks(&self) -> Arc<dyn Hooks> {
        Arc::clone(&self.hooks)
    }

    /// The log, to read: subscriptions fetch side by side.
    fn lock(&self) -> RwLockReadGuard<'_, Held> {
        // The log is never left half-updated: a panic elsewhere under the
        // lock does not make it unusable.
        self.log.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The log, to append to.
    fn lock_mut(&self) -> RwLockWriteGuard<'_, Held> {
        self.log.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `frame` with the id the log assigns ([`ReplayLog::append`]),
    /// then wakes the subscribers. Returns the new entry.
    ///
    /// The frame is encoded before the log's lock is taken, for the
    /// sequence number it gets unless another append takes it first (then
    /// it is encoded again, under the lock): the lock is held to store the
    /// entry, not to encode it.
    ///
    /// # Errors
    ///
    /// As [`ReplayLog::append`]; nothing is appended.
    ///
    /// In a topic's window of a [`fleet`](crate::fleet) backend, the id is
    /// the topic's epoch and the sequence number.
    pub fn append(&self, frame: Frame<'_>) -> Result<Entry, sse_codec::Error> {
        let prefixed = |seq: u64| format!("{}{seq}", self.id_prefix);
        let own_id = !self.id_prefix.is_empty();
        // Encoded before the lock is taken, for the sequence number the log
        // gives next unless another append comes first ([`Self::encoded`]).
        let seq = self.published.load(Ordering::Acquire);
        let id = own_id.then(|| prefixed(seq));
        let encoded = Entry::encode(seq, id.as_deref(), frame)?;
        let entry = self.encoded(encoded, |log| {
            if own_id {
                log.append_with_id(&prefixed(log.next_seq()), frame)
            } else {
                log.append(frame)
            }
        })?;
        self.publish(entry.seq().saturating_add(1));
        Ok(entry)
    }

    /// Appends `encoded` (made for the sequence number after the last
    /// published append), or, if another append came first, what
    /// `append` appends instead, encoding under the lock.
    fn encoded(
        &self,
        encoded: Entry,
        append: impl FnOnce(&mut ReplayLog) -> Result<&Entry, sse_codec::Error>,
    ) -> Result<Entry, sse_codec::Error> {
        let mut held = self.lock_mut();
        let entry = match held.log.append_entry(encoded) {
            Some(entry) => entry.clone(),
            None => append(&mut held.log)?.clone(),
        };
        held.appended(&entry);
        Ok(entry)
    }

    /// Appends `frame` with your `id` ([`ReplayLog::append_with_id`]), then
    /// wakes the subscribers. Returns the new entry.
    ///
    /// # Errors
    ///
    /// As [`ReplayLog::append_with_id`]; nothing is appended.
    pub fn append_with_id(&self, id: &str, frame: Frame<'_>) -> Result<Entry, sse_codec::Error> {
        let seq = self.published.load(Ordering::Acquire);
        let encoded = Entry::encode(seq, Some(id), frame)?;
        let entry = self.encoded(encoded, |log| log.append_with_id(id, frame))?;
        self.publish(entry.seq().saturating_add(1));
        Ok(entry)
    }

    /// Tells the subscribers the log now ends before `next_seq`.
    fn publish(&self, next_seq: u64) {
        self.published.fetch_max(next_seq, Ordering::Release);
        self.wakers.wake_all();
    }

    /// Closes the log: every subscription ends once it has sent what it had
    /// fetched, and later ones end at once. Appends still succeed (for a
    /// publisher that has not noticed), but no subscription sends them.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Wakes every subscription, which then sees `closed`.
        self.wakers.wake_all();
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Runs `f` on the log, under the lock: to inspect it, never to write
    /// to a socket.
    pub fn read<R>(&self, f: impl FnOnce(&ReplayLog) -> R) -> R {
        f(&self.lock().log)
    }

    /// The events for a client that sent `last_event_id` (the
    /// `Last-Event-ID` header, read with
    /// [`parse_last_event_id`](sse_codec::parse_last_event_id)), or none.
    ///
    /// If the log holds that id, the subscription replays every entry after
    /// it, then goes on live; otherwise (no header, an id the log never
    /// issued or has evicted) it is live only, and [`Subscription::start`]
    /// says why. One cursor serves both, so no entry is lost or repeated
    /// where replay turns into live.
    ///
    /// Nothing is copied up front: the subscription takes entries out of the
    /// log [`SUBSCRIPTION_BATCH`] at a time as its client reads them (a
    /// reference count each), so a replay of a long history costs the lock
    /// a short batch at a time, and a subscriber whose client stopped
    /// reading holds at most one batch.
    pub fn subscribe(self: &Arc<Self>, last_event_id: Option<&str>) -> Subscription {
        let (sub, ()) = self.subscribe_with(|log| {
            let live_from = log.next_seq();
            let (start, cursor) = match last_event_id.map(|id| log.since(id)) {
                None => (Start::Live, live_from),
                Some(Lookup::Found(replay)) => {
                    (Start::Resumed, replay.next_seq() - replay.len() as u64)
                }
                Some(Lookup::Evicted { missed, .. }) => (Start::Evicted { missed }, live_from),
                Some(Lookup::Unknown { .. }) => (Start::Unknown, live_from),
            };
            (start, cursor, ())
        });
        sub
    }

    /// The events from sequence number `at(log)` on, where `at` looks at
    /// the log under its lock (so that what it decides still holds when the
    /// subscription starts) and also returns something for the caller:
    /// `(Some(next_seq), r)` replays the entries from `next_seq` (if the
    /// log still holds them; otherwise the subscription
    /// [lags](Subscription::lagged) at once), `(None, r)` is live only.
    ///
    /// For ids of your own scheme, e.g. an epoch and a sequence number
    /// ([`Window::resume`](sse_codec::Window::resume)).
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
    /// for data in ["a", "b", "c"] {
    ///     log.append(Frame::event(data))?;
    /// }
    /// let (mut from_1, newest) = log.subscribe_at(|log| (Some(1), log.next_seq() - 1));
    /// assert_eq!((from_1.next().await.unwrap().id(), newest), ("1", 2));
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscribe_at<R>(
        self: &Arc<Self>,
        at: impl FnOnce(&ReplayLog) -> (Option<u64>, R),
    ) -> (Subscription, R) {
        self.subscribe_with(|log| {
            let live_from = log.next_seq();
            let (next, r) = at(log);
            match next {
                Some(next) if next < live_from => (Start::Resumed, next, r),
                _ => (Start::Live, live_from, r),
            }
        })
    }

    /// Subscribes at the `(start, cursor)` that `at` picks under the lock.
    fn subscribe_with<R>(
        self: &Arc<Self>,
        at: impl FnOnce(&ReplayLog) -> (Start, u64, R),
    ) -> (Subscription, R) {
        let (start, cursor, live_from, r) = {
            let held = self.lock();
            let (start, cursor, r) = at(&held.log);
            (start, cursor, held.log.next_seq(), r)
        };
        self.hooks.subscribed(start, live_from - cursor);
        let sub = Subscription {
            cursor: Cursor {
                log: Arc::clone(self),
                next: cursor,
                start,
                slot: self.wakers.slot(),
                lagged: false,
                live_from,
                lag_wait: None,
                ended: None,
            },
            ready: None,
        };
        (sub, r)
    }
}

impl core::fmt::Debug for SharedLog {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut f = f.debug_struct("SharedLog");
        match self.log.try_read() {
            Ok(held) => f.field("log", &held.log),
            Err(_) => f.field("log", &format_args!("<locked>")),
        };
        f.field("closed", &self.closed).finish_non_exhaustive()
    }
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
/// each [`Entry`] once, in log order. Serve it with
/// [`EventBody::subscription`](crate::EventBody::subscription), which sends
/// each entry's bytes to the HTTP stack as they are stored, or write
/// [`Entry::as_bytes`] yourself; [`into_bytes`](Self::into_bytes) makes it a
/// stream of those [`Bytes`].
///
/// The stream ends if the connection falls so far behind that the log
/// evicts entries it has not sent ([`lagged`](Self::lagged)), after a wait
/// of up to [`LAG_JITTER`], different for each subscription: the client
/// reconnects with its last event ID and learns of the gap then, and
/// clients left behind by one burst do not all come back at once. It also
/// ends when the log is [closed](SharedLog::close).
///
/// Memory: it holds at most [`SUBSCRIPTION_BATCH`] entries taken out of the
/// log and not yet handed out. So a log and its subscribers hold at most
/// the log's [`max_bytes`](sse_codec::ReplayLimits::max_bytes) (and about
/// 224 bytes of bookkeeping per retained entry) plus, per subscriber,
/// [`SUBSCRIPTION_BATCH`] entries (evicted ones included), plus whatever
/// the HTTP stack buffers per connection. One that is up to date and
/// waiting holds no entry and no buffer: its own 64 bytes and a 16-byte
/// place for its waker in the log.
#[must_use = "streams do nothing unless polled"]
pub struct Subscription<T: Taken = Entry> {
    cursor: Cursor,
    /// Fetched, not yet handed out: only while a fetch found more than
    /// one entry (a replay, a burst), so that an idle subscription holds no
    /// buffer.
    ready: Option<Box<Batch<T>>>,
}

/// Where a subscription is in its log, whatever it hands out.
struct Cursor {
    log: Arc<SharedLog>,
    /// The sequence number of the next entry to fetch.
    next: u64,
    start: Start,
    /// Where its waker is while it waits for an append.
    slot: Slot,
    lagged: bool,
    /// Entries before this came from the history.
    live_from: u64,
    /// Once it fell behind: the wait before it ends.
    lag_wait: Option<Pin<Box<tokio::time::Sleep>>>,
    /// How it ended, once it has.
    ended: Option<End>,
}

/// What a fetch found past the one it handed out at once, in order.
struct Batch<T> {
    /// `Some` from `next` on.
    items: [Option<T>; SUBSCRIPTION_BATCH - 1],
    next: usize,
    /// The sequence number of `items[0]`.
    first: u64,
}

impl<T> Batch<T> {
    /// A batch of the first `SUBSCRIPTION_BATCH - 1` of `items`, the
    /// entries from `first` on, in one allocation.
    fn boxed(first: u64, items: impl Iterator<Item = T>) -> Box<Self> {
        let mut batch = Box::new(Batch {
            items: [const { None }; SUBSCRIPTION_BATCH - 1],
            next: 0,
            first,
        });
        for (place, item) in batch.items.iter_mut().zip(items) {
            *place = Some(item);
        }
        batch
    }

    /// The next item and its sequence number.
    fn pop(&mut self) -> Option<(T, u64)> {
        let item = self.items.get_mut(self.next)?.take()?;
        let seq = self.first + self.next as u64;
        self.next += 1;
        Some((item, seq))
    }

    fn len(&self) -> usize {
        let rest = self.items.get(self.next..).unwrap_or_default();
        rest.iter().take_while(|item| item.is_some()).count()
    }
}

impl<T: Taken> Subscription<T> {
    /// Where this subscription started.
    #[must_use]
    pub fn start(&self) -> Start {
        self.cursor.start
    }

    /// Whether the stream ended because the log evicted entries before this
    /// subscription could send them.
    #[must_use]
    pub fn lagged(&self) -> bool {
        self.cursor.lagged
    }

    /// The hooks of its log.
    pub(crate) fn hooks(&self) -> Arc<dyn Hooks> {
        self.cursor.log.hooks()
    }

    /// Entries fetched and not yet handed out.
    fn held(&self) -> usize {
        self.ready.as_ref().map_or(0, |ready| ready.len())
    }
}

impl Subscription<Entry> {
    /// The same subscription as a stream of each entry's encoded bytes:
    /// what an HTTP body sends. Each is a reference count on bytes the log
    /// made once per entry, not a copy nor a new allocation per delivery.
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
    /// let mut frames = log.subscribe(None).into_bytes();
    /// log.append(Frame::event("a"))?;
    /// assert_eq!(frames.next().await.unwrap(), "id: 0\ndata: a\n\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_bytes(self) -> Subscription<Bytes> {
        // Entries already fetched are rare here (it was polled before):
        // each becomes a `Bytes` of its own.
        let ready = self.ready.map(|mut batch| {
            let first = batch.first + batch.next as u64;
            let rest = core::iter::from_fn(move || batch.pop());
            Batch::boxed(first, rest.map(|(entry, _)| Bytes::from_owner(entry)))
        });
        Subscription {
            cursor: self.cursor,
            ready,
        }
    }
}

impl<T: Taken> core::fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subscription")
            .field("cursor", &self.cursor.next)
            .field("ready", &self.held())
            .field("start", &self.cursor.start)
            .field("lagged", &self.cursor.lagged)
            .finish_non_exhaustive()
    }
}

impl<T: Taken> Stream for Subscription<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Subscription {
            cursor: this,
            ready,
        } = &mut *self;
        // Woken by an append to many subscribers, it takes a share of
        // waking the others.
        this.log.wakers.help();
        loop {
            if let Some(batch) = ready.as_mut() {
                let item = batch.pop();
                if batch.len() == 0 {
                    *ready = None;
                }
                if let Some((item, seq)) = item {
                    return Poll::Ready(Some(this.sent(item, seq)));
                }
            }
            if let Some(wait) = this.lag_wait.as_mut() {
                ready!(wait.as_mut().poll(cx));
                this.lag_wait = None;
                this.end(End::Lagged);
            }
            if this.lagged {
                return Poll::Ready(None);
            }
            if this.log.is_closed() {
                this.end(End::Closed);
                return Poll::Ready(None);
            }
            // Up to date: wait without taking the lock.
            let published = this.log.published.load(Ordering::Acquire);
            if this.next < published {
                let held = this.log.lock();
                match held.log.from_seq(this.next) {
                    Lookup::Found(mut replay) => {
                        // The first is handed out at once: one entry per
                        // wake-up, the live case, needs no buffer.
                        if let Some(first) = replay.next() {
                            let seq = first.seq();
                            let first: T = held.take(first);
                            let more = replay.len().min(SUBSCRIPTION_BATCH - 1);
                            if more > 0 {
                                let items = replay.take(more).map(|e| held.take(e));
                                *ready = Some(Batch::boxed(seq + 1, items));
                            }
                            drop(held);
                            this.next = seq + 1 + more as u64;
                            return Poll::Ready(Some(this.sent(first, seq)));
                        }
                    }
                    Lookup::Evicted { .. } | Lookup::Unknown { .. } => {
                        drop(held);
                        this.lagged = true;
                        this.lag_wait = Some(Box::pin(tokio::time::sleep(lag_wait(this.next))));
                        continue;
                    }
                }
            }
            // Nothing new: wait for an append. Register, then look again:
            // an append published before the registration is seen now, one
            // published after it wakes this task. (Only a new append sends
            // it round again: never a spin on what was just looked at.)
            this.log.wakers.register(this.slot, cx.waker());
            let now = this.log.published.load(Ordering::Acquire);
            if (now != published && this.next < now) || this.log.is_closed() {
                continue;
            }
            return Poll::Pending;
        }
    }
}

impl Cursor {
    /// Tells the hooks `item`, entry `seq`, is sent.
    fn sent<T: Taken>(&self, item: T, seq: u64) -> T {
        self.log.hooks.sent(item.len(), seq < self.live_from);
        item
    }

    /// Reports how it ended, once.
    fn end(&mut self, end: End) {
        if self.ended.is_none() {
            self.ended = Some(end);
            self.log.hooks.ended(end);
        }
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        self.log.wakers.remove(self.slot);
        self.end(End::Dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use sse_codec::ReplayLimits;

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

    #[tokio::test]
    async fn a_long_replay_is_taken_a_batch_at_a_time() {
        let log = SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::unlimited()));
        for i in 0..100_000 {
            log.append(Frame::event(&i.to_string())).unwrap();
        }
        let mut sub = log.subscribe(Some("0"));
        assert_eq!(sub.held(), 0, "nothing copied at subscribe");
        let first = sub.next().await.unwrap();
        assert_eq!(first.id(), "1");
        assert_eq!(sub.held(), SUBSCRIPTION_BATCH - 1);
        let rest = sub.take(99_998).count().await;
        assert_eq!(rest, 99_998);
    }

    #[tokio::test]
    async fn stalled_subscribers_hold_at_most_a_batch_each() {
        // A 64-entry window; 100 subscribers read one entry and stall.
        let limits = ReplayLimits::new().with_max_events(64);
        let log = SharedLog::new(ReplayLog::new().with_limits(limits));
        let mut subs: Vec<_> = (0..100).map(|_| log.subscribe(None)).collect();
        for i in 0..64 {
            log.append(Frame::event(&format!("{i:0>100}"))).unwrap();
        }
        for sub in &mut subs {
            assert_eq!(sub.next().await.unwrap().id(), "0");
        }
        for i in 64..20_000 {
            log.append(Frame::event(&format!("{i:0>100}"))).unwrap();
        }
        // What the subscribers pin beside the log: a batch each at most,
        // not the 19,000 entries appended since they stalled.
        let pinned: usize = subs.iter().map(Subscription::held).sum();
        assert!(pinned <= 100 * SUBSCRIPTION_BATCH, "{pinned}");
        assert_eq!(log.read(|l| l.len()), 64);
        // Each then finds it fell behind, after what it holds.
        let sub = &mut subs[0];
        assert_eq!(sub.by_ref().count().await, SUBSCRIPTION_BATCH - 1);
        assert!(sub.lagged());
    }

    #[tokio::test]
    async fn closing_the_log_ends_every_subscription() {
        let log = SharedLog::new(ReplayLog::new());
        let mut live = log.subscribe(None);
        let waiting = tokio::spawn({
            let mut sub = log.subscribe(None);
            async move { sub.next().await }
        });
        log.append(Frame::event("a")).unwrap();
        assert_eq!(live.next().await.unwrap().as_bytes(), b"id: 0\ndata: a\n\n");
        log.close();
        assert!(live.next().await.is_none());
        // The other took "a" before or after the close; either way it ends.
        let _ = waiting.await.unwrap();
        assert!(log.subscribe(Some("0")).next().await.is_none());
        assert!(!live.lagged());
    }

    #[tokio::test(start_paused = true)]
    async fn subscribers_left_behind_by_one_burst_end_at_different_times() {
        let log =
            SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::new().with_max_events(4)));
        let subs: Vec<_> = (0..100).map(|_| log.subscribe(None)).collect();
        for i in 0..10 {
            log.append(Frame::event(&i.to_string())).unwrap();
        }
        let started = tokio::time::Instant::now();
        let ends = futures_util::future::join_all(subs.into_iter().map(|mut sub| async move {
            assert!(sub.next().await.is_none());
            assert!(sub.lagged());
            started.elapsed()
        }))
        .await;
        let (first, last) = (ends.iter().min().unwrap(), ends.iter().max().unwrap());
        assert!(*last <= LAG_JITTER);
        assert!(*last - *first >= LAG_JITTER / 2, "{first:?}..{last:?}");
        let distinct: std::collections::HashSet<_> = ends.iter().collect();
        assert!(distinct.len() > 50, "{} distinct end times", distinct.len());
    }

    #[test]
    fn appends_racing_on_four_threads_get_the_ids_of_their_places() {
        // Each encodes its frame for the sequence number it expects; one
        // that lost the race is encoded again under the lock.
        let unlimited = || ReplayLog::new().with_limits(ReplayLimits::unlimited());
        let logs = [
            SharedLog::new(unlimited()),
            SharedLog::prefixed(unlimited(), Arc::new(NoHooks), "00000000000000ab-"),
        ];
        for log in logs {
            std::thread::scope(|s| {
                for t in 0..4 {
                    let log = &log;
                    s.spawn(move || {
                        for n in 0..500 {
                            log.append(Frame::event(&format!("{t}/{n}"))).unwrap();
                        }
                    });
                }
            });
            log.read(|l| {
                assert_eq!(l.len(), 2000);
                let prefix = l.get(0).unwrap().id().trim_end_matches('0').to_owned();
                for (seq, entry) in (0..).zip(l.retained()) {
                    assert_eq!(entry.seq(), seq);
                    assert_eq!(entry.id(), format!("{prefix}{seq}"));
                    let head = format!("id: {prefix}{seq}\ndata: ");
                    assert!(entry.as_bytes().starts_with(head.as_bytes()));
                }
            });
        }
    }

    #[test]
    fn an_idle_subscription_is_64_bytes() {
        assert!(core::mem::size_of::<Subscription>() <= 64);
        assert!(core::mem::size_of::<Subscription<Bytes>>() <= 64);
    }

    /// The bytes of entry `seq` as the log holds them.
    fn stored(log: &SharedLog, seq: u64) -> *const u8 {
        log.read(|log| log.get(seq).map(|e| e.as_bytes().as_ptr()).unwrap())
    }

    #[tokio::test]
    async fn bytes_are_the_entries_own_through_evictions() {
        let log =
            SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::new().with_max_events(3)));
        for round in 0..4 {
            for n in 0..5 {
                log.append(Frame::event(&format!("{round}.{n}"))).unwrap();
            }
            // The newest 3 are held; a replay of them hands out their bytes,
            // shared with the entries, in order.
            let newest = log.read(ReplayLog::next_seq) - 1;
            let (sub, ()) = log.subscribe_at(|log| (Some(log.first_seq()), ()));
            let got: Vec<Bytes> = sub.into_bytes().take(3).collect().await;
            assert_eq!(got.len(), 3);
            for (seq, bytes) in (newest - 2..=newest).zip(&got) {
                let entry = log.read(|log| log.get(seq).cloned()).unwrap();
                assert_eq!(bytes, entry.as_bytes());
                assert_eq!(bytes.as_ptr(), stored(&log, seq), "shared, not copied");
            }
            assert_eq!(log.lock().bytes.len(), 3, "as many as the log holds");
        }
    }

    #[tokio::test]
    async fn into_bytes_keeps_what_was_fetched() {
        let log = SharedLog::new(ReplayLog::new());
        for n in 0..6 {
            log.append(Frame::event(&n.to_string())).unwrap();
        }
        let mut sub = log.subscribe(Some("0"));
        // Fetches 1..=5: hands out 1, holds 2..=5.
        assert_eq!(sub.next().await.unwrap().id(), "1");
        assert_eq!(sub.held(), 4);
        let mut bytes = sub.into_bytes();
        log.append(Frame::event("6")).unwrap();
        let got: Vec<Bytes> = (&mut bytes).take(5).collect().await;
        let want: Vec<String> = (2..=6).map(|n| format!("id: {n}\ndata: {n}\n\n")).collect();
        assert_eq!(got, want);
        assert_eq!(bytes.held(), 0);
    }

    #[tokio::test]
    async fn waiting_again_and_again_takes_one_place() {
        let log = SharedLog::new(ReplayLog::new());
        let mut subs: Vec<_> = (0..3).map(|_| log.subscribe(None)).collect();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..100 {
            for sub in &mut subs {
                assert!(Pin::new(sub).poll_next(&mut cx).is_pending());
            }
        }
        assert_eq!(log.wakers.places(), 3);
        // A gone subscription's place is taken by the next one.
        subs.pop();
        let _next = log.subscribe(None);
        assert_eq!(log.wakers.places(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_subscriber_on_two_workers_is_woken_for_every_append() {
        // In lockstep: the publisher appends the next entry as soon as
        // every subscriber has the last one, so each append races the
        // subscribers going back to wait. A lost wake-up leaves one
        // waiting for an entry already appended, and the test hangs (the
        // window is narrow: a run catches a missing second look often,
        // not always).
        const SUBSCRIBERS: usize = 16;
        const APPENDS: u64 = 5_000;
        let log = SharedLog::new(ReplayLog::new());
        let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let readers: Vec<_> = (0..SUBSCRIBERS)
            .map(|_| {
                let mut sub = log.subscribe(None);
                let received = Arc::clone(&received);
                tokio::spawn(async move {
                    for expect in 0..APPENDS {
                        assert_eq!(sub.next().await.unwrap().seq(), expect);
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let publisher = {
            let log = Arc::clone(&log);
            tokio::task::spawn_blocking(move || {
                for n in 0..APPENDS {
                    log.append(Frame::event("x")).unwrap();
                    while received.load(Ordering::SeqCst) < (n + 1) * SUBSCRIBERS as u64 {
                        std::thread::yield_now();
                    }
                }
            })
        };
        publisher.await.unwrap();
        for reader in readers {
            reader.await.unwrap();
        }
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SharedLog>();
        fn send<T: Send>() {}
        send::<Subscription>();
    }
}
