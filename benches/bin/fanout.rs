//! Fan-out: one publisher, N subscribers, each a task on a 2-worker tokio
//! runtime. Our `SharedLog` against what a tokio user would write instead:
//!
//! ```text
//! cargo run --release -p sse-codec-benches --bin fanout              # the full run (a few minutes)
//! cargo run --release -p sse-codec-benches --bin fanout -- --quick   # a smoke run (seconds)
//! target/release/fanout --one ours-stream 1000 20000                 # one throughput run, to profile
//! target/release/fanout --one broadcast 10000 600 200                 # one latency run at 200 events/s
//! ```
//!
//! Contenders (every event ~100 bytes of JSON data, with an id):
//!
//! - `ours-stream`: `SharedLog::append(Frame::event(..))`; each subscriber
//!   is `log.subscribe(None)` read as a `Stream` of `Entry`s.
//! - `ours-body`: the same subscription served as
//!   `EventBody::subscription(..)` (heartbeats every 15 s), polled with
//!   `Body::poll_frame` in place: what hyper does.
//! - `broadcast`: the floor. Each event encoded once
//!   (`Frame::encode_to_buf` into a `BytesMut`, frozen) and sent on a
//!   `tokio::sync::broadcast` of `Bytes`; each subscriber a `Receiver`
//!   (a lag is skipped).
//! - `broadcast-body`: that receiver's `Bytes` under `EventBody::new`
//!   (heartbeats every 15 s), polled the same way: the floor
//!   served as `ours-body` is, so the body's cost can be told apart from
//!   the subscription's.
//! - `axum-sse`: what an axum user writes. A `broadcast` of the event's id
//!   and data; per subscriber, a stream that makes an axum `Event` of each
//!   (`Event::default().id(..).data(..)`) under `Sse::new(..)
//!   .keep_alive(KeepAlive::default())`, turned into a response body and
//!   polled the same way, so axum's per-subscriber encoding counts.
//!
//! The window is the same for all: the log keeps `ReplayLimits`' default
//! 1,024 events, the channels hold 1,024. Every subscriber reads the id of
//! each frame it receives from its bytes (`id: N` opens every frame here).
//!
//! Three measurements, each contender in the same run:
//!
//! 1. **Heap per idle subscriber**: a counting global allocator tracks live
//!    heap bytes while N subscribers are made and spawned and have parked
//!    on their first wait; the growth over N. It includes the task's own
//!    allocation (its header and future). A `bare-task` row is the same
//!    task with the same tally but no subscription (it waits on
//!    `pending()`): what the harness costs.
//! 2. **Throughput**: the publisher appends as fast as the window allows:
//!    it never gets more than 767 events ahead of the slowest subscriber
//!    (every subscriber checks in each 256 events; the publisher waits
//!    before event `s` until all have received `s - 512`), so nothing is
//!    evicted and nobody lags. Deliveries/s = events × subscribers / wall
//!    time from the first append to the last subscriber's last event.
//!    Contenders alternate within each repetition (order rotated), and the
//!    median of the repetitions is reported.
//! 3. **Latency**: the publisher appends at a fixed rate (200 events/s); it
//!    stamps each event id with the time just before the append, and each
//!    subscriber records `now - stamp` when it receives the event. p50, p99
//!    and p99.9 over every delivery of the run. Beside them, how long each
//!    publish call took (append or send, and the wake-ups it makes): what
//!    the publisher is held up at each event.
//!
//! Only ratios within one run mean anything on a shared machine: the load
//! average is printed with each table.

// A global allocator is an `unsafe impl`; nothing else here is unsafe.
#![allow(unsafe_code)]

use axum::body::HttpBody;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use bytes::{Bytes, BytesMut};
use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use sse_codec::{Frame, ReplayLog};
use sse_codec_tokio::{Entries, EventBody, SharedLog, Subscription};
use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------
// Live heap bytes, counted only while a measurement asks.

/// Tracks live heap bytes while `on`; otherwise one relaxed load per call,
/// so the timed runs pay (almost) nothing for it.
struct LiveBytes {
    on: AtomicBool,
    live: AtomicI64,
}

impl LiveBytes {
    fn add(&self, bytes: usize) {
        if self.on.load(Ordering::Relaxed) {
            self.live.fetch_add(bytes as i64, Ordering::Relaxed);
        }
    }

    fn sub(&self, bytes: usize) {
        if self.on.load(Ordering::Relaxed) {
            self.live.fetch_sub(bytes as i64, Ordering::Relaxed);
        }
    }

    /// Starts counting from zero.
    fn start(&self) {
        self.live.store(0, Ordering::SeqCst);
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops counting; returns the growth since `start`.
    fn stop(&self) -> i64 {
        self.on.store(false, Ordering::SeqCst);
        self.live.load(Ordering::SeqCst)
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; the counters are plain atomics.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.add(layout.size());
        // SAFETY: the caller's obligations are those of `System.alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.add(layout.size());
        // SAFETY: the caller's obligations are those of `System.alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.sub(layout.size());
        // SAFETY: the caller's obligations are those of `System.dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.add(new_size);
        self.sub(layout.size());
        // SAFETY: the caller's obligations are those of `System.realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static HEAP: LiveBytes = LiveBytes {
    on: AtomicBool::new(false),
    live: AtomicI64::new(0),
};

// ---------------------------------------------------------------------------
// Contenders.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    OursStream,
    OursBody,
    Broadcast,
    BroadcastBody,
    AxumSse,
}

const CONTENDERS: [Contender; 5] = [
    Contender::OursStream,
    Contender::OursBody,
    Contender::Broadcast,
    Contender::BroadcastBody,
    Contender::AxumSse,
];

/// Where `broadcast` is in [`CONTENDERS`]: the ratios' denominator.
const FLOOR: usize = 2;

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::OursStream => "ours-stream",
            Contender::OursBody => "ours-body",
            Contender::Broadcast => "broadcast",
            Contender::BroadcastBody => "broadcast-body",
            Contender::AxumSse => "axum-sse",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        CONTENDERS.into_iter().find(|c| c.name() == name)
    }
}

/// The events each channel holds: `ReplayLimits::DEFAULT_MAX_EVENTS`.
const CAPACITY: usize = sse_codec::ReplayLimits::DEFAULT_MAX_EVENTS;
/// Subscribers check in each `CHECK` events...
const CHECK: u64 = 256;
/// ...and the publisher waits before event `s` until every subscriber has
/// received event `s - WINDOW`: it is at most `WINDOW + CHECK - 1` (767)
/// events ahead, inside the 1,024-event window.
const WINDOW: u64 = 512;

/// What the `axum-sse` publisher broadcasts: the event's id and data, as an
/// axum user keeps them.
#[derive(Debug)]
struct Message {
    id: String,
    data: Arc<str>,
}

/// The publishing side of one contender.
enum Publisher {
    Ours(Arc<SharedLog>),
    Broadcast(broadcast::Sender<Bytes>),
    Axum(broadcast::Sender<Arc<Message>>),
}

impl Publisher {
    fn new(contender: Contender) -> Self {
        match contender {
            Contender::OursStream | Contender::OursBody => {
                Publisher::Ours(SharedLog::new(ReplayLog::new()))
            }
            Contender::Broadcast | Contender::BroadcastBody => {
                Publisher::Broadcast(broadcast::channel(CAPACITY).0)
            }
            Contender::AxumSse => Publisher::Axum(broadcast::channel(CAPACITY).0),
        }
    }

    /// Publishes event `seq` (the ids run 0, 1, 2, … for every contender).
    fn publish(&self, seq: u64, data: &Arc<str>) {
        match self {
            Publisher::Ours(log) => {
                let entry = log.append(Frame::event(data)).expect("append");
                debug_assert_eq!(entry.seq(), seq);
            }
            Publisher::Broadcast(tx) => {
                let mut digits = [0u8; 20];
                let frame = Frame::event(data).with_id(decimal(seq, &mut digits));
                let mut buf = BytesMut::with_capacity(frame.encoded_len().expect("encodable"));
                frame.encode_to_buf(&mut buf).expect("encodable");
                // No receiver left is not an error here.
                let _ = tx.send(buf.freeze());
            }
            Publisher::Axum(tx) => {
                let _ = tx.send(Arc::new(Message {
                    id: seq.to_string(),
                    data: Arc::clone(data),
                }));
            }
        }
    }

    /// Ends every subscription that is still waiting.
    fn close(self) {
        match self {
            Publisher::Ours(log) => log.close(),
            Publisher::Broadcast(tx) => drop(tx),
            Publisher::Axum(tx) => drop(tx),
        }
    }

    /// A subscriber, made now (before any append it must see), as a task.
    fn spawn_subscriber(&self, contender: Contender, tally: Tally) -> JoinHandle<Tally> {
        match (self, contender) {
            (Publisher::Ours(log), Contender::OursStream) => {
                tokio::spawn(ours_stream(log.subscribe(None), tally))
            }
            (Publisher::Ours(log), Contender::OursBody) => {
                tokio::spawn(body_frames(ours_body(log), tally))
            }
            (Publisher::Broadcast(tx), Contender::Broadcast) => {
                tokio::spawn(broadcast_bytes(tx.subscribe(), tally))
            }
            (Publisher::Broadcast(tx), _) => {
                tokio::spawn(body_frames(broadcast_body(tx.subscribe()), tally))
            }
            (Publisher::Axum(tx), _) => tokio::spawn(body_frames(axum_body(tx.subscribe()), tally)),
            (Publisher::Ours(_), _) => unreachable!("{contender:?} is not served by a SharedLog"),
        }
    }

    /// Heap bytes per subscriber object alone (made, not spawned nor
    /// polled), and the object's own size (which lives in the task).
    fn object_heap(&self, contender: Contender, n: usize) -> (f64, usize) {
        match (self, contender) {
            (Publisher::Ours(log), Contender::OursStream) => keep(n, || log.subscribe(None)),
            (Publisher::Ours(log), Contender::OursBody) => keep(n, || ours_body(log)),
            (Publisher::Broadcast(tx), Contender::Broadcast) => keep(n, || tx.subscribe()),
            (Publisher::Broadcast(tx), _) => keep(n, || broadcast_body(tx.subscribe())),
            (Publisher::Axum(tx), _) => keep(n, || axum_body(tx.subscribe())),
            (Publisher::Ours(_), _) => unreachable!("{contender:?} is not served by a SharedLog"),
        }
    }
}

/// Makes `n` of `make()` and keeps them while counting the heap they take.
fn keep<T>(n: usize, mut make: impl FnMut() -> T) -> (f64, usize) {
    let mut kept = Vec::with_capacity(n);
    HEAP.start();
    for _ in 0..n {
        kept.push(make());
    }
    let growth = HEAP.stop();
    drop(kept);
    (growth as f64 / n as f64, core::mem::size_of::<T>())
}

/// `n` in decimal, in `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).expect("ASCII digits")
}

async fn ours_stream(mut sub: Subscription, mut tally: Tally) -> Tally {
    use futures::StreamExt;
    tally.ready();
    while let Some(entry) = sub.next().await {
        if tally.on(entry.as_bytes()) {
            break;
        }
    }
    tally.finish()
}

/// What hyper or axum would poll for a subscription: our body, heartbeats
/// every 15 s.
fn ours_body(log: &Arc<SharedLog>) -> EventBody<Entries> {
    EventBody::subscription(log.subscribe(None))
}

/// The floor served the same way: the receiver's `Bytes` under our
/// `EventBody` (heartbeats every 15 s), as a user of the floor would
/// serve it. Lagged: skipped.
fn broadcast_body(
    rx: broadcast::Receiver<Bytes>,
) -> EventBody<impl futures::Stream<Item = Result<Bytes, Infallible>> + Send + 'static> {
    EventBody::new(futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(bytes) => return Some((Ok(bytes), rx)),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    }))
}

pin_project_lite::pin_project! {
    /// Polls a response body's `poll_frame` where it lies, as hyper's
    /// connection task does: the body is in the task once. (An `async fn`
    /// that takes the body and pins it with `BodyExt::frame` keeps it twice,
    /// as the argument and as the pinned local: one more body's size in
    /// every task, for every body contender alike.)
    struct BodyFrames<B> {
        #[pin]
        body: B,
        tally: Option<Tally>,
        started: bool,
    }
}

fn body_frames<B>(body: B, tally: Tally) -> BodyFrames<B>
where
    B: HttpBody<Data = Bytes>,
{
    BodyFrames {
        body,
        tally: Some(tally),
        started: false,
    }
}

impl<B> Future for BodyFrames<B>
where
    B: HttpBody<Data = Bytes>,
{
    type Output = Tally;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Tally> {
        let mut this = self.project();
        let tally = this.tally.as_mut().expect("polled after it finished");
        if !*this.started {
            *this.started = true;
            tally.ready();
        }
        loop {
            let done = match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => frame.into_data().is_ok_and(|data| tally.on(&data)),
                Some(Err(_)) | None => true,
            };
            if done {
                let tally = this.tally.take().expect("polled after it finished");
                return Poll::Ready(tally.finish());
            }
        }
    }
}

async fn broadcast_bytes(mut rx: broadcast::Receiver<Bytes>, mut tally: Tally) -> Tally {
    tally.ready();
    loop {
        match rx.recv().await {
            Ok(bytes) => {
                if tally.on(&bytes) {
                    break;
                }
            }
            // Skipped: the tally sees the gap in the ids.
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => break,
        }
    }
    tally.finish()
}

/// The body an axum handler returns: `Sse` over a stream of `Event`s made
/// from a broadcast receiver, with axum's default keep-alive (15 s).
fn axum_body(rx: broadcast::Receiver<Arc<Message>>) -> axum::body::Body {
    let events = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(message) => {
                    let event = Event::default().id(&message.id).data(&*message.data);
                    return Some((Ok::<_, Infallible>(event), rx));
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
        .into_body()
}

/// The harness alone: the same task and tally, no subscription.
async fn bare_task(tally: Tally) -> Tally {
    tally.ready();
    std::future::pending::<()>().await;
    tally
}

/// The id of a frame that opens with `id: N\n`; `None` for anything else
/// (a heartbeat comment).
fn frame_id(frame: &[u8]) -> Option<u64> {
    let rest = frame.strip_prefix(b"id: ")?;
    let end = memchr::memchr(b'\n', rest)?;
    let mut n = 0u64;
    for &d in rest.get(..end)? {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    Some(n)
}

// ---------------------------------------------------------------------------
// What the publisher and the subscribers share in one run.

struct Shared {
    base: Instant,
    /// Events in the run: ids `0..events`.
    events: u64,
    /// Subscribers that have started.
    ready: AtomicUsize,
    /// Subscribers that have not finished.
    running: AtomicUsize,
    /// When the last one finished (ns since `base`).
    ended_at: AtomicU64,
    all_done: Notify,
    /// `remaining[c]`: subscribers yet to receive event `c * CHECK - 1`.
    remaining: Box<[AtomicUsize]>,
    progressed: Notify,
    /// Latency runs: ns since `base` just before event `i` was appended.
    stamps: Box<[AtomicU64]>,
}

impl Shared {
    fn new(subscribers: usize, events: u64, stamped: bool) -> Arc<Self> {
        let checkpoints = (events / CHECK) as usize + 1;
        Arc::new(Shared {
            base: Instant::now(),
            events,
            ready: AtomicUsize::new(0),
            running: AtomicUsize::new(subscribers),
            ended_at: AtomicU64::new(0),
            all_done: Notify::new(),
            remaining: (0..checkpoints)
                .map(|_| AtomicUsize::new(subscribers))
                .collect(),
            progressed: Notify::new(),
            stamps: (0..if stamped { events } else { 0 })
                .map(|_| AtomicU64::new(0))
                .collect(),
        })
    }

    fn nanos(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn reach(&self, checkpoint: u64) {
        if let Some(left) = self.remaining.get(checkpoint as usize) {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.progressed.notify_one();
            }
        }
    }

    /// Waits until every subscriber has passed `checkpoint`.
    async fn passed(&self, checkpoint: u64) {
        let Some(left) = self.remaining.get(checkpoint as usize) else {
            return;
        };
        while left.load(Ordering::Acquire) != 0 {
            self.progressed.notified().await;
        }
    }

    async fn wait_ready(&self, subscribers: usize) {
        while self.ready.load(Ordering::Acquire) < subscribers {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Let the last ones reach their first wait.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    async fn wait_done(&self) {
        while self.running.load(Ordering::Acquire) != 0 {
            self.all_done.notified().await;
        }
    }
}

/// One subscriber's count of what it received.
struct Tally {
    shared: Arc<Shared>,
    /// The id it expects next.
    next: u64,
    got: u64,
    /// Ids skipped (lag).
    gaps: u64,
    /// Checkpoints passed.
    passed: u64,
    /// Latency runs: ns from stamp to receipt, per event.
    samples: Vec<u32>,
}

impl Tally {
    fn new(shared: &Arc<Shared>) -> Self {
        Tally {
            samples: Vec::with_capacity(shared.stamps.len()),
            shared: Arc::clone(shared),
            next: 0,
            got: 0,
            gaps: 0,
            passed: 0,
        }
    }

    fn ready(&self) {
        self.shared.ready.fetch_add(1, Ordering::Release);
    }

    /// Takes one frame; `true` once the run's last event has arrived.
    fn on(&mut self, frame: &[u8]) -> bool {
        let Some(id) = frame_id(frame) else {
            return false;
        };
        if let Some(stamp) = self.shared.stamps.get(id as usize) {
            let waited = self
                .shared
                .nanos()
                .saturating_sub(stamp.load(Ordering::Acquire));
            self.samples.push(waited.min(u64::from(u32::MAX)) as u32);
        }
        self.gaps += id.saturating_sub(self.next);
        self.next = id + 1;
        self.got += 1;
        let checkpoint = (id + 1) / CHECK;
        while self.passed < checkpoint {
            self.passed += 1;
            self.shared.reach(self.passed);
        }
        id + 1 >= self.shared.events
    }

    /// The subscriber is done: it lets the publisher past every checkpoint
    /// (one that ended early must not stall it) and counts itself out.
    fn finish(mut self) -> Self {
        let last = self.shared.remaining.len() as u64;
        while self.passed < last {
            self.passed += 1;
            self.shared.reach(self.passed);
        }
        if self.shared.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            let now = self.shared.nanos();
            self.shared.ended_at.store(now, Ordering::Release);
            self.shared.all_done.notify_one();
        }
        self
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a runtime")
}

/// ~100 bytes of JSON each, from a fixed seed.
fn payloads() -> Vec<Arc<str>> {
    let mut rng = sse_codec_tests::chunk::SplitMix64(0x5e5_fa40);
    (0..64)
        .map(|i| {
            let r = rng.next();
            let mut s = format!(
                r#"{{"sym":"T{i:03}","bid":{}.{:02},"ask":{}.{:02},"size":{},"venue":"XNAS","pad":""#,
                100 + r % 900,
                (r >> 10) % 100,
                100 + r % 900,
                (r >> 20) % 100,
                (r >> 30) % 100_000,
            );
            while s.len() < 98 {
                s.push('x');
            }
            s.push_str("\"}");
            Arc::from(s)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The three measurements.

/// Heap bytes per idle subscriber (`None`: the bare task).
fn heap_per_subscriber(contender: Option<Contender>, subscribers: usize) -> f64 {
    let rt = runtime();
    let growth = rt.block_on(async {
        let shared = Shared::new(subscribers, 0, false);
        let publisher = contender.map(Publisher::new);
        let mut handles = Vec::with_capacity(subscribers);
        // The tallies are the harness's: made before counting starts.
        let mut tallies: Vec<Tally> = (0..subscribers).map(|_| Tally::new(&shared)).collect();
        HEAP.start();
        for tally in tallies.drain(..) {
            handles.push(match (&publisher, contender) {
                (Some(p), Some(c)) => p.spawn_subscriber(c, tally),
                _ => tokio::spawn(bare_task(tally)),
            });
        }
        shared.wait_ready(subscribers).await;
        let growth = HEAP.stop();
        if let Some(p) = publisher {
            p.close();
        }
        for h in &handles {
            h.abort();
        }
        growth
    });
    drop(rt);
    growth as f64 / subscribers as f64
}

struct Run {
    wall: Duration,
    deliveries: u64,
    gaps: u64,
    samples: Vec<u32>,
    /// Events per second the publisher achieved (latency runs).
    rate: f64,
    /// Latency runs: ns each publish took (the append, or the send, with
    /// the wake-ups it makes).
    appends: Vec<u32>,
}

/// One run: `events` events to `subscribers` subscribers, as fast as the
/// window allows (`rate` = `None`) or at `rate` events per second.
fn run(
    contender: Contender,
    subscribers: usize,
    events: u64,
    rate: Option<f64>,
    payloads: &Arc<Vec<Arc<str>>>,
) -> Run {
    let rt = runtime();
    let run = rt.block_on(async {
        let shared = Shared::new(subscribers, events, rate.is_some());
        let publisher = Arc::new(Publisher::new(contender));
        let handles: Vec<_> = (0..subscribers)
            .map(|_| publisher.spawn_subscriber(contender, Tally::new(&shared)))
            .collect();
        shared.wait_ready(subscribers).await;
        let started = shared.nanos();
        let publishing = {
            let (shared, publisher, payloads) = (
                Arc::clone(&shared),
                Arc::clone(&publisher),
                Arc::clone(payloads),
            );
            tokio::spawn(async move {
                let mut tick = rate.map(|r| {
                    let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / r));
                    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    t
                });
                let mut first = 0;
                let mut appends =
                    Vec::with_capacity(if tick.is_some() { events as usize } else { 0 });
                for seq in 0..events {
                    if let Some(t) = tick.as_mut() {
                        t.tick().await;
                    } else if seq.is_multiple_of(CHECK) && seq >= WINDOW + CHECK {
                        shared.passed((seq - WINDOW) / CHECK).await;
                    }
                    let data = &payloads[seq as usize % payloads.len()];
                    let now = shared.nanos();
                    if seq == 0 {
                        first = now;
                    }
                    if let Some(stamp) = shared.stamps.get(seq as usize) {
                        stamp.store(now, Ordering::Release);
                    }
                    publisher.publish(seq, data);
                    if tick.is_some() {
                        let took = shared.nanos() - now;
                        appends.push(took.min(u64::from(u32::MAX)) as u32);
                    }
                }
                (shared.nanos() - first, appends)
            })
        };
        shared.wait_done().await;
        let wall = Duration::from_nanos(shared.ended_at.load(Ordering::Acquire) - started);
        let (publish_time, appends) = publishing.await.expect("publisher");
        let mut run = Run {
            wall,
            deliveries: 0,
            gaps: 0,
            samples: Vec::new(),
            rate: (events.saturating_sub(1)) as f64 / (publish_time as f64 / 1e9),
            appends,
        };
        for h in handles {
            let tally = h.await.expect("subscriber");
            run.deliveries += tally.got;
            run.gaps += tally.gaps + (events - tally.next);
            run.samples.extend_from_slice(&tally.samples);
        }
        if let Ok(p) = Arc::try_unwrap(publisher) {
            p.close();
        }
        run
    });
    drop(rt);
    run
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The `q` quantile of `samples` (reordered), in µs.
fn quantile_us(samples: &mut [u32], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let at = ((samples.len() as f64 * q) as usize).min(samples.len() - 1);
    let (_, v, _) = samples.select_nth_unstable(at);
    f64::from(*v) / 1e3
}

fn with_commas(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Plan {
    /// Subscriber counts of the heap and throughput tables.
    subscribers: &'static [usize],
    /// Deliveries (events × subscribers) per throughput run...
    deliveries: u64,
    /// ...with at least this many events (past `WINDOW + CHECK`, so that
    /// the publisher waits on the slowest subscriber).
    min_events: u64,
    reps: usize,
    /// Latency runs: (subscribers, events/s, events).
    latency: &'static [(usize, f64, u64)],
    latency_reps: usize,
}

const FULL: Plan = Plan {
    subscribers: &[100, 1_000, 10_000],
    deliveries: 10_000_000,
    min_events: 4 * CAPACITY as u64,
    reps: 3,
    // 3 s at 200 events/s; at 10,000 subscribers also 20 events/s, where
    // each event reaches everyone before the next (4 s).
    latency: &[
        (100, 200.0, 600),
        (1_000, 200.0, 600),
        (10_000, 200.0, 600),
        (10_000, 20.0, 80),
    ],
    latency_reps: 3,
};

const QUICK: Plan = Plan {
    subscribers: &[100, 1_000],
    deliveries: 400_000,
    min_events: CAPACITY as u64,
    reps: 1,
    latency: &[(100, 200.0, 50), (1_000, 200.0, 50)],
    latency_reps: 1,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let payloads = Arc::new(payloads());
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => measure(&FULL, &payloads),
        ["--quick"] => measure(&QUICK, &payloads),
        ["--one", name, n, events, ref rate @ ..] if rate.len() <= 1 => {
            let (Some(c), Ok(n), Ok(events)) = (Contender::parse(name), n.parse(), events.parse())
            else {
                eprintln!("--one <contender> <subscribers> <events> [<events/s>]");
                return ExitCode::FAILURE;
            };
            let rate = rate.first().and_then(|r| r.parse::<f64>().ok());
            let mut r = run(c, n, events, rate, &payloads);
            println!(
                "{} n={n} events={events}: {:.2} M deliveries/s ({} deliveries in {:?}, {} missed)",
                c.name(),
                r.deliveries as f64 / r.wall.as_secs_f64() / 1e6,
                r.deliveries,
                r.wall,
                r.gaps
            );
            if rate.is_some() {
                let s = &mut r.samples;
                println!(
                    "latency µs: p50 {:.0}, p99 {:.0}, p99.9 {:.0}; publisher {:.0} events/s",
                    quantile_us(s, 0.5),
                    quantile_us(s, 0.99),
                    quantile_us(s, 0.999),
                    r.rate
                );
                let a = &mut r.appends;
                println!(
                    "each publish µs: p50 {:.1}, p99 {:.1}, max {:.1}",
                    quantile_us(a, 0.5),
                    quantile_us(a, 0.99),
                    a.iter().max().map_or(f64::NAN, |&m| f64::from(m) / 1e3),
                );
            }
        }
        _ => {
            eprintln!(
                "usage: fanout [--quick | --one <{}> <subscribers> <events> [<events/s>]]",
                CONTENDERS.map(Contender::name).join("|")
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn measure(plan: &Plan, payloads: &Arc<Vec<Arc<str>>>) {
    let sample: &str = &payloads[0];
    println!(
        "Fan-out: 1 publisher, N subscribers (tasks on a 2-worker multi-thread runtime); \
         {}-byte JSON data, {} B encoded with its id; window {CAPACITY} events. Load average at start: {}",
        sample.len(),
        Frame::event(sample).with_id("12345").encoded_len().unwrap_or(0),
        load()
    );
    println!();
    let names = || CONTENDERS.map(Contender::name);

    // 1. Heap per idle subscriber.
    println!("Heap bytes per idle subscriber, its task included (growth of live heap bytes over N, after each has parked on its first wait):");
    println!();
    println!("| subscribers | bare-task | {} |", names().join(" | "));
    println!("|---:|---:|{}", "---:|".repeat(CONTENDERS.len()));
    for n in [100, 1_000, 10_000] {
        print!(
            "| {} | {:.0} |",
            with_commas(n as u64),
            heap_per_subscriber(None, n)
        );
        for c in CONTENDERS {
            print!(" {:.0} |", heap_per_subscriber(Some(c), n));
        }
        println!();
    }
    println!();
    println!("The subscriber object alone (10,000 made, not spawned nor polled): heap bytes each, and its size (inside the task):");
    println!();
    println!("| | {} |", names().join(" | "));
    println!("|---|{}", "---:|".repeat(CONTENDERS.len()));
    let objects: Vec<(f64, usize)> = {
        let rt = runtime();
        let _in_runtime = rt.enter();
        CONTENDERS
            .map(|c| Publisher::new(c).object_heap(c, 10_000))
            .to_vec()
    };
    println!(
        "| heap | {} |",
        objects
            .iter()
            .map(|o| format!("{:.0}", o.0))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!(
        "| size_of | {} |",
        objects
            .iter()
            .map(|o| o.1.to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!();

    // 2. Throughput.
    println!(
        "Throughput: M deliveries/s (events × subscribers / wall time), median of {} run(s) (min–max); load {}:",
        plan.reps,
        load()
    );
    println!();
    println!(
        "| subscribers | events | {} | ours-stream / broadcast | ours-body / broadcast | ours-body / broadcast-body |",
        names().join(" | ")
    );
    println!(
        "|---:|---:|{}---:|---:|---:|",
        "---:|".repeat(CONTENDERS.len())
    );
    for &n in plan.subscribers {
        let events = (plan.deliveries / n as u64).max(plan.min_events);
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); CONTENDERS.len()];
        for rep in 0..plan.reps {
            for k in 0..CONTENDERS.len() {
                let i = (k + rep) % CONTENDERS.len();
                let r = run(CONTENDERS[i], n, events, None, payloads);
                assert_eq!(r.gaps, 0, "{} lagged", CONTENDERS[i].name());
                assert_eq!(r.deliveries, events * n as u64);
                rates[i].push(r.deliveries as f64 / r.wall.as_secs_f64() / 1e6);
            }
        }
        print!("| {} | {} |", with_commas(n as u64), with_commas(events));
        for r in &rates {
            let (lo, hi) = r
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            if r.len() > 1 {
                print!(" {:.2} ({lo:.2}–{hi:.2}) |", median(r.clone()));
            } else {
                print!(" {:.2} |", r[0]);
            }
        }
        let m: Vec<f64> = rates.iter().map(|r| median(r.clone())).collect();
        println!(
            " {:.2} | {:.2} | {:.2} |",
            m[0] / m[FLOOR],
            m[1] / m[FLOOR],
            m[1] / m[FLOOR + 1]
        );
    }
    println!();
    println!("Load after the throughput runs: {}", load());
    println!();

    // 3. Latency.
    println!(
        "Latency, append to delivery, µs: each quantile over every delivery of a run, median over {} run(s); contenders alternate; load {}:",
        plan.latency_reps,
        load()
    );
    println!();
    println!("| subscribers | events/s | contender | p50 | p99 | p99.9 | max | publisher's rate | p99 / broadcast's | each publish p50 / p99 / max |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for &(n, rate, events) in plan.latency {
        let mut rows: Vec<Vec<[f64; 8]>> = vec![Vec::new(); CONTENDERS.len()];
        for rep in 0..plan.latency_reps {
            for k in 0..CONTENDERS.len() {
                let i = (k + rep) % CONTENDERS.len();
                let mut r = run(CONTENDERS[i], n, events, Some(rate), payloads);
                assert_eq!(r.gaps, 0, "{} lagged", CONTENDERS[i].name());
                let s = &mut r.samples;
                let a = &mut r.appends;
                rows[i].push([
                    quantile_us(s, 0.5),
                    quantile_us(s, 0.99),
                    quantile_us(s, 0.999),
                    s.iter().max().map_or(f64::NAN, |&m| f64::from(m) / 1e3),
                    r.rate,
                    quantile_us(a, 0.5),
                    quantile_us(a, 0.99),
                    a.iter().max().map_or(f64::NAN, |&m| f64::from(m) / 1e3),
                ]);
            }
        }
        let col = |i: usize, j: usize| median(rows[i].iter().map(|r| r[j]).collect());
        for (i, c) in CONTENDERS.into_iter().enumerate() {
            println!(
                "| {} | {rate:.0} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.1} / {:.0} / {:.0} |",
                with_commas(n as u64),
                c.name(),
                col(i, 0),
                col(i, 1),
                col(i, 2),
                col(i, 3),
                col(i, 4),
                col(i, 1) / col(FLOOR, 1),
                col(i, 5),
                col(i, 6),
                col(i, 7),
            );
        }
    }
    println!();
    println!("Load at the end: {}", load());
}
