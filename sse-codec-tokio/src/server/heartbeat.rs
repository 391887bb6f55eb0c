//! Heartbeat comments on an idle event stream.

use super::hooks::{HeldHooks, Hooks};
use super::pulse::{reached, Interval, Pulse, Wait, NO_PLACE};
use bytes::Bytes;
use core::pin::Pin;
use core::task::{ready, Context, Poll, Waker};
use core::time::Duration;
use futures_core::Stream;
use pin_project_lite::pin_project;
use sse_codec::KEEPALIVE;
use std::sync::{Arc, OnceLock};
use tokio::runtime::Handle;

pin_project! {
    /// An encoded event stream with a heartbeat comment (`: keepalive`,
    /// [`KEEPALIVE`]) whenever it has been idle for a while.
    ///
    /// Proxies and load balancers close connections that carry nothing for a
    /// minute or so; a comment every 15–30 s keeps an idle event stream
    /// open, and `EventSource` ignores it. Items pass through unchanged; a
    /// busy stream carries no heartbeats and an idle one carries one every
    /// `idle`. The stream ends when `frames` ends.
    ///
    /// A heartbeat goes out between `idle` and `idle + period` after the
    /// last item or heartbeat, where `period` is `max(idle / 4, 1 ms)`
    /// (while the stream stays idle, exactly `idle` apart); an idle stream
    /// is woken once per heartbeat, and a busy stream costs one relaxed
    /// atomic load per item. The time is kept by a clock that ticks every
    /// `period`, one per runtime and interval, shared by every heartbeat
    /// with that interval, instead of a timer per stream: `idle` is rounded
    /// up to a whole number of ticks (to whole milliseconds under 4 ms). A
    /// heartbeat is sent when the runtime polls the stream after the tick,
    /// so a busy runtime makes it late, never early.
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
    /// driver enabled, as [`tokio::time::sleep`] does, unless `idle` is
    /// [`Duration::MAX`].
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
    /// assert_eq!(body.next().await.unwrap().unwrap(), ": keepalive\n\n"); // 15–18.75 s later
    /// # }
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Heartbeat<S> {
        #[pin]
        frames: S,
        // `None` when `idle` is `Duration::MAX`: never.
        clock: Option<Clock>,
        // Told of each heartbeat.
        hooks: Option<HeldHooks>,
    }
}

impl<S> Heartbeat<S> {
    /// Sends `: keepalive` on `frames` whenever nothing was sent for `idle`
    /// (at least one millisecond; [`Duration::MAX`]: never).
    pub fn new(frames: S, idle: Duration) -> Self {
        Heartbeat {
            frames,
            clock: Interval::new(idle).map(|interval| Clock::new(Pulse::current(interval))),
            hooks: None,
        }
    }

    /// Tells `hooks` of each heartbeat.
    pub(crate) fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = Some(HeldHooks(hooks));
        self
    }

    /// The wrapped stream, to adjust it.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.frames
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.frames
    }
}

/// [`KEEPALIVE`], encoded once for every stream: a heartbeat is a
/// reference count, and a stream holds nothing for it until it sends one.
fn keepalive() -> Bytes {
    static ENCODED: OnceLock<Bytes> = OnceLock::new();
    // A constant, valid frame: `to_vec` fails only if allocation does.
    let encoded = ENCODED.get_or_init(|| KEEPALIVE.to_vec().map(Bytes::from).unwrap_or_default());
    encoded.clone()
}

/// A stream's time, in ticks of its [`Pulse`], and its place there.
///
/// Ticks count as they wrap: every comparison is of differences, and a
/// stream that waits is woken within `beats + 1` ticks.
#[derive(Debug)]
struct Clock {
    pulse: Arc<Pulse>,
    /// The tick of the last item or heartbeat (or of the start).
    last: u32,
    /// The tick the pulse holds `waker` for, if it holds one.
    due: u32,
    /// The stream's place in the pulse, [`NO_PLACE`] until it first waits.
    place: u32,
    /// Whether the last thing sent was a heartbeat at the very tick it was
    /// due: then the next is due `beats` ticks later, not `beats + 1`.
    beat_at_tick: bool,
    /// The waker the pulse holds for `due` (its data and vtable pointers);
    /// [`NO_WAKER`] if none.
    waker: (usize, usize),
}

/// No waker registered: a vtable pointer is never null.
const NO_WAKER: (usize, usize) = (0, 0);

/// Which waker this is: [`Waker::will_wake`]'s comparison, kept without
/// holding the waker.
fn identity(waker: &Waker) -> (usize, usize) {
    (
        waker.data() as usize,
        core::ptr::from_ref(waker.vtable()) as usize,
    )
}

impl Clock {
    fn new(pulse: Arc<Pulse>) -> Self {
        Clock {
            last: pulse.now(),
            due: 0,
            place: NO_PLACE,
            beat_at_tick: false,
            waker: NO_WAKER,
            pulse,
        }
    }

    /// An item went out: one relaxed load, no clock, no lock.
    #[inline]
    fn sent(&mut self) {
        self.last = self.pulse.now();
        self.beat_at_tick = false;
    }

    /// Ready when a heartbeat is due (counted as sent); otherwise makes
    /// sure the pulse wakes this task at a tick no later than it is due.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let found = self.pulse.is_dead();
        if found && !self.renew() {
            // No runtime to find a pulse on: no heartbeats until polled in one.
            return Poll::Pending;
        }
        let now = self.pulse.now();
        // A tick read with an item may be up to a tick old: one more.
        let wait = self.pulse.interval().beats + u32::from(!self.beat_at_tick);
        let due = self.last.wrapping_add(wait);
        if now.wrapping_sub(self.last) >= wait {
            return self.beat(now, due);
        }
        let waker = cx.waker();
        // Held, for a tick that has not come (then it is no later than
        // `due`, which only moves later): nothing to do. A busy stream
        // takes the lock about once per interval.
        if self.waker == identity(waker) && !reached(now, self.due) {
            return Poll::Pending;
        }
        match self.pulse.register(&mut self.place, waker, due) {
            Wait::Registered => {
                self.waker = identity(waker);
                self.due = due;
                Poll::Pending
            }
            Wait::Due(now) => self.beat(now, due),
            Wait::Dead => {
                // Died since the look above: look again on the next poll.
                self.waker = NO_WAKER;
                if !found {
                    waker.wake_by_ref();
                }
                Poll::Pending
            }
        }
    }

    /// A heartbeat goes out at tick `now`; it was due at `due`.
    fn beat(&mut self, now: u32, due: u32) -> Poll<()> {
        self.last = now;
        self.beat_at_tick = now == due;
        Poll::Ready(())
    }

    /// Moves to a live pulse of the current runtime, if there is one; the
    /// idle time counts from here.
    ///
    /// # Panics
    ///
    /// In a runtime without the time driver.
    fn renew(&mut self) -> bool {
        if Handle::try_current().is_err() {
            return false;
        }
        // Dropping the old clock gives its place back.
        *self = Clock::new(Pulse::current(self.pulse.interval()));
        true
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if self.place != NO_PLACE {
            self.pulse.remove(self.place);
        }
    }
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
                if let Some(clock) = this.clock {
                    clock.sent();
                }
                return Poll::Ready(Some(item));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        let Some(clock) = this.clock else {
            return Poll::Pending;
        };
        ready!(clock.poll_due(cx));
        if let Some(hooks) = this.hooks {
            hooks.0.heartbeat();
        }
        Poll::Ready(Some(Ok(keepalive())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.frames.size_hint().0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::pulse::alive;
    use super::*;
    use core::convert::Infallible;
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    type Frames = futures_util::stream::Pending<Result<Bytes, Infallible>>;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

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

    /// Whether `got` has heartbeats only when idle: each between `idle`
    /// and `idle + period` after whatever went before, exactly `idle`
    /// after a heartbeat, and no gap longer than that without one.
    fn check_heartbeats(got: &[(Duration, Bytes)], idle: Duration, period: Duration) {
        for pair in got.windows(2) {
            let [(before, was), (at, is)] = pair else {
                unreachable!()
            };
            let gap = *at - *before;
            assert!(gap <= idle + period, "{gap:?} without a heartbeat");
            if is.starts_with(b":") {
                assert!(gap >= idle, "a heartbeat {gap:?} after the last send");
                if was.starts_with(b":") {
                    assert_eq!(gap, idle, "idle heartbeats are `idle` apart");
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_only_when_idle() {
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
            .map(|(_, b)| if b.starts_with(b":") { "hb" } else { "ev" })
            .collect();
        assert_eq!(
            kinds,
            ["ev", "ev", "ev", "ev", "ev", "hb", "hb", "hb", "ev"]
        );
        let events: Vec<_> = got
            .iter()
            .filter(|(_, b)| !b.starts_with(b":"))
            .map(|(at, _)| at.as_millis())
            .collect();
        assert_eq!(events, [0, 50, 100, 150, 200, 580]);
        // The first heartbeat 100 to 125 ms after the event at 200 ms.
        let first = got[5].0;
        assert!((ms(300)..=ms(325)).contains(&first), "{first:?}");
        check_heartbeats(&got, ms(100), ms(25));
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_come_within_a_tick_of_idle_whatever_the_phase() {
        // Items at every phase of the tick, heartbeats after each.
        let (tx, body) = timed(ms(100));
        let feeder = tokio::spawn(async move {
            for wait in [0, 7, 151, 263, 372, 489, 13, 498] {
                tokio::time::sleep(ms(wait)).await;
                tx.send(Bytes::from_static(b"data: x\n\n")).unwrap();
            }
        });
        let got: Vec<_> = body.collect().await;
        feeder.await.unwrap();
        check_heartbeats(&got, ms(100), ms(25));
        let beats = got.iter().filter(|(_, b)| b.starts_with(b":")).count();
        assert!(beats >= 10, "{beats}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_heartbeat_is_lost_on_two_workers() {
        // Real time: 50 streams, items at pseudo-random gaps of 0 to 3
        // intervals and every fifth after 15, heartbeats in between, on
        // whichever worker.
        let idle = ms(20);
        let streams: Vec<_> = (0..50u64)
            .map(|i| {
                tokio::spawn(async move {
                    let (tx, body) = timed(idle);
                    let feeder = tokio::spawn(async move {
                        let mut x = i;
                        for n in 0..15 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                            let wait = if n % 5 == 4 { 300 } else { (x >> 33) % 60 };
                            tokio::time::sleep(ms(wait)).await;
                            tx.send(Bytes::from_static(b"data: x\n\n")).unwrap();
                        }
                    });
                    let got: Vec<_> = body.collect().await;
                    feeder.await.unwrap();
                    got
                })
            })
            .collect();
        for stream in streams {
            let got = stream.await.unwrap();
            for pair in got.windows(2) {
                let gap = pair[1].0 - pair[0].0;
                // `idle + period`, and room for a busy machine: a lost
                // wake-up would wait for the next item, up to 300 ms.
                assert!(gap <= idle + ms(5) + ms(120), "{gap:?} without a heartbeat");
            }
        }
    }

    /// `Heartbeat` of a stream that never sends, with its polls counted.
    fn counted(idle: Duration) -> (Arc<AtomicUsize>, impl Stream<Item = Bytes> + Unpin) {
        let polls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&polls);
        let mut body = Heartbeat::new(
            futures_util::stream::pending::<Result<_, Infallible>>(),
            idle,
        );
        let counted = futures_util::stream::poll_fn(move |cx| {
            counter.fetch_add(1, Ordering::SeqCst);
            body.poll_next_unpin(cx)
                .map(|b| b.map(Result::unwrap_or_default))
        });
        (polls, counted)
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_stream_is_woken_once_per_heartbeat() {
        let (polls, body) = counted(ms(100));
        let start = Instant::now();
        let beats = body.take(10).map(|_| start.elapsed()).collect::<Vec<_>>();
        // A bound, so that a missed wake-up fails instead of hanging.
        let beats = tokio::time::timeout(ms(5_000), beats).await.unwrap();
        assert_eq!(
            beats,
            (1..=10).map(|n| ms(25 + 100 * n)).collect::<Vec<_>>()
        );
        // The first poll, then for each heartbeat the poll it wakes and the
        // next one, which waits (but not after the last): not one per tick.
        assert_eq!(polls.load(Ordering::SeqCst), 1 + 2 * 10 - 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_stream_takes_the_lock_about_once_per_interval() {
        let (tx, mut rx) = mpsc::channel::<Bytes>(1);
        let frames = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|b| b.map(Ok)));
        let mut body = Heartbeat::<_>::new(frames, ms(100));
        let feeder = tokio::spawn(async move {
            // 1,000 events in 1 s, each after a wait.
            for _ in 0..1000 {
                tokio::time::sleep(ms(1)).await;
                tx.send(Bytes::from_static(b"data: x\n\n")).await.unwrap();
            }
        });
        let mut n = 0;
        while let Some(item) = body.next().await {
            let item: Result<Bytes, Infallible> = item;
            assert!(!item.unwrap().starts_with(b":"), "no heartbeat when busy");
            n += 1;
        }
        feeder.await.unwrap();
        assert_eq!(n, 1000);
        let clock = body.clock.as_ref().unwrap();
        let registrations = clock.pulse.registrations.load(Ordering::SeqCst);
        assert!((1..=12).contains(&registrations), "{registrations}");
    }

    #[tokio::test(start_paused = true)]
    async fn streams_with_one_interval_share_a_pulse_and_give_their_places_back() {
        let id = Handle::current().id();
        let tasks = || Handle::current().metrics().num_alive_tasks();
        let new = |idle| {
            Heartbeat::new(
                futures_util::stream::pending::<Result<Bytes, Infallible>>(),
                idle,
            )
        };
        let mut streams: Vec<_> = (0..1000).map(|_| new(ms(100))).collect();
        let other = new(ms(200));
        assert_eq!((alive(id), tasks()), (2, 2));
        let pulse = Arc::clone(&streams[0].clock.as_ref().unwrap().pulse);
        assert!(streams
            .iter()
            .all(|s| Arc::ptr_eq(&s.clock.as_ref().unwrap().pulse, &pulse)));
        // Each takes a place when it first waits.
        futures_util::future::poll_fn(|cx| {
            for s in &mut streams {
                assert!(s.poll_next_unpin(cx).is_pending());
            }
            Poll::Ready(())
        })
        .await;
        assert_eq!(pulse.places(), 1000);
        streams.truncate(1);
        assert_eq!(pulse.places(), 1);
        // All of them heartbeat at once, from one place each.
        let started = Instant::now();
        let beat = tokio::time::timeout(ms(1_000), streams[0].next()).await;
        assert!(beat.unwrap().is_some());
        assert_eq!(started.elapsed(), ms(100 + 25));
        let weak = Arc::downgrade(&pulse);
        drop((pulse, streams));
        assert!(weak.upgrade().is_none());
        tokio::time::sleep(ms(25)).await;
        tokio::task::yield_now().await;
        assert_eq!((alive(id), tasks()), (1, 1), "its task has ended");
        drop(other);
        tokio::time::sleep(ms(50)).await;
        tokio::task::yield_now().await;
        assert_eq!((alive(id), tasks()), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_moved_to_another_task_wakes_that_task() {
        let mut body = Heartbeat::new(
            futures_util::stream::pending::<Result<Bytes, Infallible>>(),
            ms(100),
        );
        let start = Instant::now();
        // Task A waits on it for a while, then hands it over.
        let mut body = tokio::spawn(async move {
            assert!(tokio::time::timeout(ms(60), body.next()).await.is_err());
            body
        })
        .await
        .unwrap();
        assert!(body.clock.as_ref().unwrap().place != NO_PLACE, "A waited");
        // Task B: woken for the heartbeat that A was waiting for.
        let beat = tokio::spawn(async move {
            let beat = tokio::time::timeout(ms(1000), body.next()).await;
            (
                beat.ok().flatten().map(Result::unwrap_or_default),
                start.elapsed(),
            )
        })
        .await
        .unwrap();
        assert_eq!(beat, (Some(keepalive()), ms(125)));
    }

    fn paused_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    #[test]
    fn heartbeats_go_on_in_the_next_runtime() {
        let first = paused_runtime();
        let mut old = first.block_on(async {
            let mut old = Heartbeat::new(futures_util::stream::pending(), ms(100));
            let beat: Option<Result<Bytes, Infallible>> = old.next().await;
            assert_eq!(beat.unwrap().unwrap(), keepalive());
            old
        });
        drop(first);
        let second = paused_runtime();
        second.block_on(async {
            let mut new = Heartbeat::new(futures_util::stream::pending(), ms(100));
            for _ in 0..3 {
                let start = Instant::now();
                let beats = tokio::time::timeout(ms(1000), async {
                    let beat: Option<Result<Bytes, Infallible>> = old.next().await;
                    assert_eq!(beat.unwrap().unwrap(), keepalive());
                    let beat: Option<Result<Bytes, Infallible>> = new.next().await;
                    assert_eq!(beat.unwrap().unwrap(), keepalive());
                })
                .await;
                assert!(beats.is_ok());
                assert!(start.elapsed() <= ms(125));
            }
            let (old, new) = (old.clock.unwrap(), new.clock.unwrap());
            assert!(
                Arc::ptr_eq(&old.pulse, &new.pulse),
                "the old one found the new pulse"
            );
        });
    }

    #[test]
    fn never_needs_no_pulse_and_sends_nothing() {
        // No runtime needed.
        let mut body = Heartbeat::new(
            futures_util::stream::pending::<Result<Bytes, Infallible>>(),
            Duration::MAX,
        );
        assert!(body.clock.is_none());
        paused_runtime().block_on(async {
            let year = Duration::from_secs(365 * 86_400);
            assert!(tokio::time::timeout(year, body.next()).await.is_err());
        });
    }

    #[test]
    fn panics_in_the_caller_without_timers() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let made = rt.block_on(async {
            std::panic::catch_unwind(|| {
                Heartbeat::new(
                    futures_util::stream::pending::<Result<Bytes, Infallible>>(),
                    ms(100),
                )
                .clock
                .is_some()
            })
        });
        assert!(made.is_err());
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
    fn is_send_and_sync_and_unpin() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Heartbeat<futures_util::stream::Empty<Result<Bytes, Infallible>>>>();
    }

    #[test]
    fn holds_no_timer() {
        // Was 56 bytes with a boxed `Sleep` (112 bytes of heap) besides.
        assert_eq!(core::mem::size_of::<Heartbeat<Frames>>(), 56);
        assert_eq!(core::mem::size_of::<Option<Clock>>(), 40);
    }
}
