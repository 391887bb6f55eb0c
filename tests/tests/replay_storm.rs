//! Issue #15's "replay copies the whole history": on a 1M-entry log,
//! `Last-Event-ID: 1` cost 38 MiB per connection, and 300 such
//! connections 312 MiB. Now a subscription takes the history out a batch
//! at a time as its client reads: 300 clients replaying a long log hold a
//! batch each, whatever the log's length. Heap bytes are counted by a
//! `#[global_allocator]` (this file is its own test binary).

#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use sse_codec::{Entry, Frame, ReplayLimits, ReplayLog};
use sse_codec_tests::alloc::{live_bytes, Counting};
use sse_codec_tokio::{SharedLog, Start, Subscription, SUBSCRIPTION_BATCH};

#[global_allocator]
static GLOBAL: Counting = Counting;

const CLIENTS: usize = 300;
const HISTORY: u64 = 100_000;

#[tokio::test]
async fn three_hundred_replays_of_a_long_history_hold_a_batch_each() {
    let log = SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::unlimited()));
    for i in 0..HISTORY {
        log.append(Frame::event(&format!("{i:0>100}"))).unwrap();
    }
    let history = log.read(ReplayLog::byte_len);

    let before = live_bytes();
    let mut clients: Vec<Subscription> = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut sub = log.subscribe(Some("0"));
        assert_eq!(sub.start(), Start::Resumed);
        // Each client reads the start of its replay, then stops reading.
        for expect in 1..=20 {
            assert_eq!(sub.next().await.unwrap().seq(), expect);
        }
        clients.push(sub);
    }
    let held = usize::try_from(live_bytes() - before).unwrap();

    // Per client: the subscription, one batch of entry handles (references
    // to the log's bytes, not copies) and its place in the log's wakers.
    let per_client = held / CLIENTS;
    let bound = size_of::<Subscription>() + SUBSCRIPTION_BATCH * size_of::<Entry>() + 64;
    assert!(
        per_client <= bound,
        "{per_client} bytes per client, bound {bound}"
    );
    // A copy of the handles would be HISTORY entries per client.
    assert!(
        held < history / 10,
        "{held} bytes held beside a {history}-byte log"
    );

    // The one cursor still serves the rest of the history, in order.
    let client = &mut clients[CLIENTS / 2];
    for expect in 21..HISTORY {
        assert_eq!(client.next().await.unwrap().seq(), expect);
    }
}

/// `SharedLog`'s documented memory: what the `ReplayLog` holds, plus 160
/// bytes per retained entry for the `Bytes` each is sent as.
#[tokio::test]
async fn a_shared_log_holds_its_entries_and_160_bytes_each_beside() {
    const N: u64 = 10_000;
    let plain_before = live_bytes();
    let mut plain = ReplayLog::new().with_limits(ReplayLimits::unlimited());
    for i in 0..N {
        plain.append(Frame::event(&format!("{i:0>100}"))).unwrap();
    }
    let plain_held = live_bytes() - plain_before;

    let before = live_bytes();
    let log = SharedLog::new(ReplayLog::new().with_limits(ReplayLimits::unlimited()));
    for i in 0..N {
        log.append(Frame::event(&format!("{i:0>100}"))).unwrap();
    }
    let held = live_bytes() - before;
    // The side deque grows by doubling: up to twice its 32 bytes a slot.
    let beside = (held - plain_held) / isize::try_from(N).unwrap();
    assert!(
        (160..=160 + 32).contains(&beside),
        "{beside} bytes per entry beside the log's own"
    );

    // Replays of the bytes are reference counts, not copies: 300 clients
    // reading a few each hold a batch of `Bytes` handles each.
    let before = live_bytes();
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut sub = log.subscribe(Some("0")).into_bytes();
        for _ in 0..3 {
            assert!(sub.next().await.is_some());
        }
        clients.push(sub);
    }
    let per_client = usize::try_from(live_bytes() - before).unwrap() / CLIENTS;
    let bound = SUBSCRIPTION_BATCH * size_of::<bytes::Bytes>() + 64 + 64;
    assert!(
        per_client <= bound,
        "{per_client} bytes per client, bound {bound}"
    );
}
