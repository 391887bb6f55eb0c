//! Encoding throughput: the events of a workload encoded back into a
//! stream, by `sse_codec::Frame` and by the peers that have an encoder
//! (`sse-stream`'s `Sse::encode`, `async-sse`'s `Sender`, `russe`'s
//! `Encoder`), beside a floor that only copies our output. Throughput is
//! counted in the bytes of our output for every contender (the peers' output
//! differs by a few bytes: `async-sse` writes `data:x`, not `data: x`).
//! Benchmark ids are `encode/<workload>/<contender>`.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use futures::io::AsyncReadExt;
use sse_codec::{Decoder, Frame, Item, OwnedEvent};
use sse_codec_benches::{Workload, LARGE_JSON, LLM_TOKENS, MULTILINE, TINY};
use std::hint::black_box;
use tokio_util::codec::Encoder as _;

/// The workload's events, decoded.
fn events(workload: Workload) -> Vec<OwnedEvent> {
    let input = workload.generate();
    let mut decoder = Decoder::new();
    let mut events = Vec::with_capacity(input.events as usize);
    decoder.feed(&input.bytes, |item| {
        if let Ok(Item::Event(e)) = item {
            events.push(e.to_owned_event());
        }
    });
    assert_eq!(events.len() as u64, input.events);
    events
}

/// What a sender sets: no `event:` line for `message`, no `id:` if none.
fn fields(e: &OwnedEvent) -> (Option<&str>, Option<&str>, &str) {
    let event_type = Some(e.event_type.as_str()).filter(|t| *t != "message");
    let id = Some(e.id.as_str()).filter(|id| !id.is_empty());
    (event_type, id, &e.data)
}

fn frame(e: &OwnedEvent) -> Frame<'_> {
    let (event_type, id, data) = fields(e);
    let mut frame = Frame::event(data);
    if let Some(t) = event_type {
        frame = frame.with_event_type(t);
    }
    if let Some(id) = id {
        frame = frame.with_id(id);
    }
    frame
}

/// Each event into the same buffer, emptied before each one, as a server
/// writing every event to its socket would.
fn ours(events: &[OwnedEvent], out: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for e in events {
        out.clear();
        frame(e).encode_to_vec(out).expect("valid frame");
        total += black_box(&*out).len();
    }
    total
}

fn ours_to_vec(events: &[OwnedEvent]) -> usize {
    events
        .iter()
        .map(|e| frame(e).to_vec().expect("valid frame").len())
        .sum()
}

fn sse_stream_blocks(events: &[OwnedEvent]) -> Vec<sse_stream::Sse> {
    events
        .iter()
        .map(|e| {
            let (event_type, id, data) = fields(e);
            sse_stream::Sse {
                event: event_type.map(str::to_owned),
                data: Some(data.to_owned()),
                id: id.map(str::to_owned),
                retry: None,
            }
        })
        .collect()
}

fn sse_stream(blocks: Vec<sse_stream::Sse>) -> usize {
    blocks
        .into_iter()
        .map(|b| b.encode().expect("valid block").len())
        .sum()
}

fn russe_events(events: &[OwnedEvent]) -> Vec<russe::Event> {
    events
        .iter()
        .map(|e| {
            let (event_type, id, data) = fields(e);
            russe::Event::Message(russe::Message {
                data: data.into(),
                event: event_type.map(Into::into),
                retry: None,
                id: id.map(Into::into),
            })
        })
        .collect()
}

/// Into one buffer cleared before each event, as `ours` does.
fn russe(events: Vec<russe::Event>, out: &mut BytesMut) -> usize {
    let mut encoder = russe::Encoder::default();
    let mut total = 0;
    for e in events {
        out.clear();
        encoder.encode(e, out).expect("valid event");
        total += black_box(&**out).len();
    }
    total
}

/// Our output per event, laid end to end, and where each one ends.
fn encoded(events: &[OwnedEvent]) -> (Vec<u8>, Vec<usize>) {
    let mut all = Vec::new();
    let ends = events
        .iter()
        .map(|e| {
            frame(e).encode_to_vec(&mut all).expect("valid frame");
            all.len()
        })
        .collect();
    (all, ends)
}

/// Floor: a plain memcpy of the output size, event by event, into one
/// buffer cleared before each one, as `ours` writes.
fn memcpy(all: &[u8], ends: &[usize], out: &mut Vec<u8>) -> usize {
    let mut total = 0;
    let mut start = 0;
    for &end in ends {
        out.clear();
        out.extend_from_slice(&all[start..end]);
        total += black_box(&*out).len();
        start = end;
    }
    total
}

fn async_sse(events: &[OwnedEvent]) -> usize {
    let (sender, mut encoder) = async_sse::encode();
    let send = async move {
        for e in events {
            let (event_type, id, data) = fields(e);
            sender
                .send(event_type, data, id)
                .await
                .expect("reader alive");
        }
        // Dropping the sender ends the encoder's output.
    };
    // Read as a server copying to its socket would: through one buffer.
    // (`read_to_end` would grow a vector in steps that cost more than the
    // encoding.)
    let read = async {
        let mut buf = vec![0; 64 * 1024];
        let mut total = 0;
        loop {
            match encoder.read(&mut buf).await.expect("in-memory read") {
                0 => break total,
                n => total += black_box(&buf[..n]).len(),
            }
        }
    };
    futures::executor::block_on(futures::future::join(send, read)).1
}

fn encode(c: &mut Criterion) {
    for workload in [LLM_TOKENS, LARGE_JSON, MULTILINE, TINY] {
        let events = events(workload);
        let mut out = Vec::new();
        let len = ours(&events, &mut out);
        assert_eq!(ours_to_vec(&events), len);
        let mut group = c.benchmark_group(format!("encode/{}", workload.name));
        group.throughput(Throughput::Bytes(len as u64));
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("ours", |b| b.iter(|| ours(black_box(&events), &mut out)));
        group.bench_function("ours-to_vec", |b| {
            b.iter(|| ours_to_vec(black_box(&events)))
        });
        // `Sse::encode` consumes owned strings: they are made outside the
        // timed part.
        let blocks = sse_stream_blocks(&events);
        group.bench_function("sse-stream", |b| {
            b.iter_batched(|| blocks.clone(), sse_stream, BatchSize::PerIteration)
        });
        group.bench_function("async-sse", |b| b.iter(|| async_sse(black_box(&events))));
        // `Encoder::encode` consumes an owned `Event`: made outside the timed
        // part too (cloning one shares its `ByteString`s, copying nothing).
        let russe_events = russe_events(&events);
        let mut russe_out = BytesMut::new();
        // Same fields, same `field: value` spelling: the same byte count.
        assert_eq!(russe(russe_events.clone(), &mut russe_out), len);
        group.bench_function("russe", |b| {
            b.iter_batched(
                || russe_events.clone(),
                |events| russe(events, &mut russe_out),
                BatchSize::PerIteration,
            )
        });
        let (all, ends) = encoded(&events);
        assert_eq!(all.len(), len);
        group.bench_function("memcpy", |b| {
            b.iter(|| memcpy(black_box(&all), &ends, &mut out))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = encode
}
criterion_main!(benches);
