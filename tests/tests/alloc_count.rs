//! Zero heap allocations per event in steady state on the zero-copy paths,
//! counted by a `#[global_allocator]` (this file is its own test binary).

use bytes::BytesMut;
use sse_codec::{BytesItem, Decoder, Item, Limits, SliceStorage};
use sse_codec_tests::alloc::{allocations_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `n` LLM-token-like events with ids and a type on every other one.
fn stream(n: usize) -> Vec<u8> {
    let mut s = Vec::new();
    for i in 0..n {
        if i % 2 == 0 {
            s.extend_from_slice(b"event: delta\n");
        }
        s.extend_from_slice(
            format!(
                "id: {i}\ndata: {{\"choices\":[{{\"delta\":{{\"content\":\"tok{i}\"}}}}]}}\n\n"
            )
            .as_bytes(),
        );
    }
    s
}

/// `n` events that `Bytes` events cannot slice from the read buffer: data
/// on two lines (joined), longer than the inline size, with a long id that
/// changes every tenth event, and a long comment now and then.
fn joined_stream(n: usize) -> Vec<u8> {
    let mut s = Vec::new();
    for i in 0..n {
        if i % 7 == 0 {
            s.extend_from_slice(b": a heartbeat comment longer than the inline size\n");
        }
        let id = i / 10;
        s.extend_from_slice(
            format!(
                "id: 5f0c3a1e-7b2d-4c1a-9e8f-{id:012}\ndata: {{\"line\":1,\"text\":\"first half of event {i}\"}}\ndata: {{\"line\":2}}\n\n"
            )
            .as_bytes(),
        );
    }
    s
}

fn decode_all(decoder: &mut Decoder<Vec<u8>>, input: &[u8], chunk: usize) -> usize {
    let mut events = 0;
    for piece in input.chunks(chunk) {
        let mut rest = piece;
        while let Some(item) = decoder.decode(&mut rest).unwrap() {
            if let Item::Event(e) = item {
                assert!(!e.data().is_empty() && !e.id().is_empty());
                events += 1;
            }
        }
    }
    events
}

#[test]
fn borrowed_path_allocates_nothing_per_event() {
    let input = stream(20_000);
    let mut decoder = Decoder::new();
    // Warm-up: storage grows to its working size once.
    assert_eq!(decode_all(&mut decoder, &input, input.len()), 20_000);
    let mut events = 0;
    let n = allocations_during(|| events = decode_all(&mut decoder, &input, input.len()));
    assert_eq!(events, 20_000);
    assert_eq!(n, 0, "{n} allocations for {events} events fed whole");
}

#[test]
fn tcp_sized_chunks_allocate_nothing_per_event() {
    let input = stream(20_000);
    let mut decoder = Decoder::new();
    assert_eq!(decode_all(&mut decoder, &input, 1460), 20_000);
    let mut events = 0;
    let n = allocations_during(|| events = decode_all(&mut decoder, &input, 1460));
    assert_eq!(events, 20_000);
    assert_eq!(
        n, 0,
        "{n} allocations for {events} events in 1460-byte chunks"
    );
}

/// Allocations made by `decode_bytes` over `n` events in one buffer.
fn bytes_path_allocations(n: usize) -> usize {
    let input = stream(n);
    let mut decoder = Decoder::new();
    // Warm-up: storage grows to its working size once.
    let mut warm = BytesMut::from(&input[..]);
    while decoder.decode_bytes(&mut warm).unwrap().is_some() {}
    decoder.reset();
    let mut buf = BytesMut::from(&input[..]);
    let mut events = 0;
    let allocations = allocations_during(|| {
        while let Some(item) = decoder.decode_bytes(&mut buf).unwrap() {
            if let BytesItem::Event(e) = item {
                assert!(!e.data_bytes().is_empty() && !e.id().is_empty());
                events += 1;
            }
        }
    });
    assert_eq!(events, n);
    allocations
}

#[test]
fn bytes_path_slices_the_input() {
    // Ids differ from event to event and the type repeats: both are slices
    // of the input or clones of the previous event's, never copies. What
    // remains is the read buffer turning shared on its first split.
    let few = bytes_path_allocations(2_000);
    let many = bytes_path_allocations(20_000);
    assert!(
        many <= few,
        "{few} allocations for 2,000 events, {many} for 20,000"
    );
    assert!(many <= 3, "{many} allocations");
}

#[test]
fn fixed_buffers_never_allocate() {
    let input = stream(5_000);
    let mut body = [0u8; 1024];
    let mut meta = [0u8; 256];
    let mut events = 0;
    // Not even on the first event: construction and multi-line, chunked data
    // included.
    let n = allocations_during(|| {
        let mut decoder =
            Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta))
                .with_limits(
                    Limits::new()
                        .with_max_line_len(256)
                        .with_max_event_size(512),
                );
        for piece in input.chunks(7).chain([&b"data: a\ndata: b\n\n"[..]]) {
            let mut rest = piece;
            while let Some(item) = decoder.decode(&mut rest).unwrap() {
                events += usize::from(matches!(item, Item::Event(_)));
            }
        }
    });
    assert_eq!(events, 5_001);
    assert_eq!(n, 0, "{n} allocations");
}

#[test]
fn the_counter_counts() {
    // A positive control: the zeros above mean something.
    let n = allocations_during(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(n, 1);
}

/// Allocations while `decode` runs over `n` events read in 1460-byte
/// chunks appended to one read buffer (as `FramedRead` does), each event
/// dropped when handled: `decode` is `SseCodec::decode` or the core's
/// `decode_bytes`.
fn read_loop_allocations(
    input: &[u8],
    n: usize,
    mut decode: impl FnMut(&mut BytesMut) -> Option<BytesItem>,
) -> usize {
    let mut buf = BytesMut::with_capacity(8192);
    let mut events = 0;
    let allocations = allocations_during(|| {
        for chunk in input.chunks(1460) {
            buf.extend_from_slice(chunk);
            while let Some(item) = decode(&mut buf) {
                events += usize::from(matches!(item, BytesItem::Event(_)));
            }
        }
    });
    assert_eq!(events, n);
    allocations
}

/// The `Bytes` surfaces in steady state: an event cut by a read boundary
/// stays in the read buffer and is a slice of it (or inline) when complete,
/// and the buffer is reused once the events sliced from it are dropped. A
/// fixed number of allocations (the buffer turning shared, a growth), not
/// one per event.
#[test]
fn bytes_and_codec_surfaces_allocate_nothing_per_event_in_chunks() {
    use tokio_util::codec::Decoder as _;
    let core = |input: &[u8], n| {
        let mut decoder = Decoder::new();
        read_loop_allocations(input, n, |buf| decoder.decode_bytes(buf).unwrap())
    };
    let codec = |input: &[u8], n| {
        let mut codec = sse_codec_tokio::SseCodec::new();
        read_loop_allocations(input, n, |buf| codec.decode(buf).unwrap())
    };
    for (kind, make) in [
        ("sliced", stream as fn(usize) -> Vec<u8>),
        ("joined", joined_stream),
    ] {
        let (few_input, many_input) = (make(2_000), make(20_000));
        for (name, count) in [
            ("decode_bytes", &core as &dyn Fn(&[u8], usize) -> usize),
            ("SseCodec", &codec),
        ] {
            let few = count(&few_input, 2_000);
            let many = count(&many_input, 20_000);
            assert!(
                many <= few + 2,
                "{name}, {kind}: {few} allocations for 2,000 events, {many} for 20,000"
            );
            // A few for buffers turning shared and growing once; 20,000
            // per 20,000 joined events before they were copied into reused
            // buffers.
            assert!(
                many <= 12,
                "{name}, {kind}: {many} allocations for 20,000 events"
            );
        }
    }
}

/// `SseStream` over a body of shared chunks (as hyper's are): each is
/// copied into one reused read buffer, not into a new one.
#[test]
fn the_body_stream_allocates_nothing_per_event() {
    use futures_util::StreamExt;
    let count = |make: fn(usize) -> Vec<u8>, n: usize| {
        let input = bytes::Bytes::from(make(n));
        // Shared with `input`, as a transport's chunks are with its buffer.
        let chunks: Vec<Result<bytes::Bytes, core::convert::Infallible>> = (0..input.len())
            .step_by(1460)
            .map(|at| Ok(input.slice(at..input.len().min(at + 1460))))
            .collect();
        let mut events = 0;
        let allocations = allocations_during(|| {
            let mut items = sse_codec_tokio::SseStream::new(futures_util::stream::iter(chunks));
            futures_executor::block_on(async {
                while let Some(item) = items.next().await {
                    events += usize::from(matches!(item, Ok(BytesItem::Event(_))));
                }
            });
        });
        assert_eq!(events, n);
        allocations
    };
    for (kind, make) in [
        ("sliced", stream as fn(usize) -> Vec<u8>),
        ("joined", joined_stream),
    ] {
        let few = count(make, 2_000);
        let many = count(make, 20_000);
        assert!(
            many <= few + 4,
            "{kind}: {few} allocations for 2,000 events, {many} for 20,000"
        );
    }
}
