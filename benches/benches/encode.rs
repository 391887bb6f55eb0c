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
use sse_codec::OwnedEvent;
use sse_codec_benches::encoding::{events, fields, frame, ours, ours_to_vec, russe, russe_events};
use sse_codec_benches::{LARGE_JSON, LLM_TOKENS, MULTILINE, TINY};
use std::hint::black_box;

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

/// Floor for an encoder that checks its input: one `memchr2` search of
/// each event's type, id and data for CR or LF (an encoder must reject a
/// line break in the type or id, and split data on one), then one copy of
/// the data, just searched, into a buffer cleared before each event. Less
/// work than any correct encoder: no `data: ` prefixes, no framing, and
/// fewer bytes written than are counted.
fn scan_copy(events: &[OwnedEvent], out: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for e in events {
        let (event_type, id, data) = fields(e);
        let breaks = [event_type.unwrap_or(""), id.unwrap_or(""), data]
            .map(|field| memchr::memchr2(b'\r', b'\n', field.as_bytes()).is_some());
        black_box(breaks);
        out.clear();
        out.extend_from_slice(data.as_bytes());
        total += black_box(&*out).len();
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
        group.bench_function("scan+copy", |b| {
            b.iter(|| scan_copy(black_box(&events), &mut out))
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
