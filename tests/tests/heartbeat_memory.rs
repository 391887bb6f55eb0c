//! What a `Heartbeat` holds on the heap per stream: its place on the clock
//! its runtime's heartbeats share, and no timer of its own, counted by a
//! `#[global_allocator]` (this file is its own test binary).

use bytes::Bytes;
use core::convert::Infallible;
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use futures_util::future::poll_fn;
use futures_util::stream::{pending, Pending, Stream};
use sse_codec_tests::alloc::{allocations_during, live_bytes, Counting};
use sse_codec_tokio::Heartbeat;

#[global_allocator]
static GLOBAL: Counting = Counting;

type Idle = Heartbeat<Pending<Result<Bytes, Infallible>>>;

fn idle() -> Idle {
    Heartbeat::new(pending(), Duration::from_secs(15))
}

/// Polls each of `streams` once: each waits, and takes its place.
async fn wait(streams: &mut [Idle]) {
    poll_fn(|cx| {
        for s in streams.iter_mut() {
            assert!(Pin::new(s).poll_next(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await;
}

/// Heap bytes and allocations that `n` more idle streams take, once each
/// has waited, beside one that started the clock.
fn held_by(n: usize) -> (usize, usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut first = [idle()];
        wait(&mut first).await;
        let mut streams = Vec::with_capacity(n);
        let before = live_bytes();
        let allocations = allocations_during(|| streams.extend((0..n).map(|_| idle())));
        // The waker of this executor, not of the runtime: registering
        // needs no runtime context, and the clock is already there.
        let allocations =
            allocations + allocations_during(|| futures_executor::block_on(wait(&mut streams)));
        let held = usize::try_from(live_bytes() - before).unwrap();
        drop(streams);
        (held, allocations)
    })
}

#[test]
fn an_idle_heartbeat_holds_its_place_and_no_timer() {
    for n in [1_000, 1_023, 1_024, 10_000] {
        let (held, allocations) = held_by(n);
        let per_stream = held as f64 / n as f64;
        println!("{n} idle streams: {held} bytes ({per_stream:.1} per stream), {allocations} allocations");
        // A 24-byte place each, in a vector that grows by an eighth.
        assert!(per_stream <= 28.0, "{per_stream}");
        // Only the vector grows, about 2 log2(n) times: no allocation per
        // stream.
        assert!(allocations * 20 < n, "{allocations}");
    }
    println!(
        "size_of::<Heartbeat<Pending<..>>>() = {}",
        core::mem::size_of::<Idle>()
    );
}
