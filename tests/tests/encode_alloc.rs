//! Encoding allocates nothing of its own: into a `&mut [u8]`, a pre-reserved
//! `Vec<u8>` or `BytesMut`, zero allocations, and `to_vec` exactly one.
//! Counted by `sse_codec_tests::alloc::Counting` as the global allocator
//! (this file is its own test binary).

use bytes::BytesMut;
use sse_codec::{Error, Frame, KEEPALIVE};
use sse_codec_tests::alloc::{allocations_during, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 10_000;

/// Ids for `N` frames, made before counting starts.
fn ids() -> Vec<String> {
    (0..N).map(|i| i.to_string()).collect()
}

/// Frame `i` of a mix: LLM-token-like events, multi-line data with every
/// line ending, comments, retries and heartbeats.
fn frame(i: usize, id: &str) -> Frame<'_> {
    match i % 6 {
        0 => Frame::event("{\"choices\":[{\"delta\":{\"content\":\"tok\"}}]}")
            .with_event_type("delta")
            .with_id(id),
        1 => Frame::event("line one\r\nline two\rline three\n\n").with_id(id),
        2 => Frame::comment("multi\nline comment").with_retry(i as u64),
        3 => KEEPALIVE,
        4 => Frame::id(id),
        _ => Frame::event("").with_comment("empty data"),
    }
}

#[test]
fn slice_encoding_never_allocates() {
    let ids = ids();
    let mut buf = vec![0u8; 4096];
    let mut total = 0;
    let n = allocations_during(|| {
        let mut pos = 0;
        for (i, id) in ids.iter().enumerate() {
            let f = frame(i, id);
            if buf.len() - pos < f.encoded_len().unwrap() {
                pos = 0;
            }
            let written = f.encode_to_slice(&mut buf[pos..]).unwrap();
            pos += written;
            total += written;
        }
        // Failures allocate nothing either.
        assert_eq!(
            Frame::event("x").encode_to_slice(&mut buf[..3]),
            Err(Error::BufferTooSmall { required: 9 })
        );
        assert_eq!(
            Frame::id("\n").encode_to_slice(&mut buf),
            Err(Error::InvalidId)
        );
    });
    assert!(total > N * 10);
    assert_eq!(n, 0, "{n} allocations encoding {N} frames into a slice");
}

#[test]
fn reserved_vec_encoding_never_allocates() {
    let ids = ids();
    let len: usize = ids
        .iter()
        .enumerate()
        .map(|(i, id)| frame(i, id).encoded_len().unwrap())
        .sum();
    let mut out = Vec::with_capacity(len);
    let n = allocations_during(|| {
        for (i, id) in ids.iter().enumerate() {
            frame(i, id).encode_to_vec(&mut out).unwrap();
        }
        assert_eq!(
            Frame::event("x")
                .with_event_type("\r")
                .encode_to_vec(&mut out),
            Err(Error::InvalidEventType)
        );
    });
    assert_eq!(out.len(), len);
    assert_eq!(
        n, 0,
        "{n} allocations encoding {N} frames into a reserved Vec"
    );
}

#[test]
fn reserved_bytes_mut_encoding_never_allocates() {
    let ids = ids();
    let len: usize = ids
        .iter()
        .enumerate()
        .map(|(i, id)| frame(i, id).encoded_len().unwrap())
        .sum();
    let mut out = BytesMut::with_capacity(len);
    let n = allocations_during(|| {
        for (i, id) in ids.iter().enumerate() {
            frame(i, id).encode_to_buf(&mut out).unwrap();
        }
    });
    assert_eq!(out.len(), len);
    assert_eq!(
        n, 0,
        "{n} allocations encoding {N} frames into a reserved BytesMut"
    );
}

#[test]
fn vec_grows_at_most_once_per_frame() {
    let data = "a line\r\n".repeat(10_000);
    let frame = Frame::event(&data).with_id("1").with_comment("c\nc");
    let mut out = Vec::new();
    let n = allocations_during(|| frame.encode_to_vec(&mut out).unwrap());
    assert_eq!(n, 1, "{n} allocations for one frame into an empty Vec");
    assert_eq!(out.len(), frame.encoded_len().unwrap());
}

#[test]
fn to_vec_allocates_once() {
    let ids = ids();
    let mut bytes = 0;
    let n = allocations_during(|| {
        for (i, id) in ids.iter().enumerate() {
            bytes += frame(i, id).to_vec().unwrap().len();
        }
    });
    assert!(bytes > 0);
    assert_eq!(n, N, "{n} allocations for {N} calls to to_vec");
}
