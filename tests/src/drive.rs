//! Runs the real decoder over chunked input and writes down what it
//! reported as a [`Transcript`], checking the `decode` contract on the way.
//!
//! Every storage mode is reachable through [`Mode`], so one conformance
//! loop covers `Vec<u8>`, a caller's fixed buffer, `BytesMut`, and the
//! `Bytes` zero-copy path.

use crate::{Output, Transcript};
use bytes::BytesMut;
use sse_codec::{BytesItem, Decoder, Error, Item, Limits, SliceStorage, Storage, Utf8};

/// Which storage and which decode call to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `Decoder::new()`: `Vec<u8>` storage, `decode`.
    Vec,
    /// `SliceStorage` over fixed buffers (sized for the input), `decode`.
    Slice,
    /// `BytesMut` storage, `decode`.
    BytesMutStorage,
    /// `Decoder::new()` with `decode_bytes` over a `BytesMut` read buffer.
    DecodeBytes,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 4] = [
        Mode::Vec,
        Mode::Slice,
        Mode::BytesMutStorage,
        Mode::DecodeBytes,
    ];
}

/// What a decoding run produced: the transcript, and the errors in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Run {
    /// Items, final last event ID and retry.
    pub transcript: Transcript,
    /// Errors, in the order they were returned.
    pub errors: Vec<Error>,
    /// The most bytes the decoder held at any point.
    pub max_buffered: usize,
}

/// Decodes `chunks` in order with `mode` and the given limits, then finishes.
///
/// # Panics
///
/// If the decoder breaks its contract: `Ok(None)` without using up the
/// input.
pub fn run(mode: Mode, limits: Limits, chunks: &[&[u8]]) -> Run {
    run_utf8(mode, limits, Utf8::Lossy, chunks)
}

/// [`run`] with the given UTF-8 mode.
///
/// # Panics
///
/// As [`run`].
pub fn run_utf8(mode: Mode, limits: Limits, utf8: Utf8, chunks: &[&[u8]]) -> Run {
    match mode {
        Mode::Vec => run_decode(Decoder::new().with_limits(limits).with_utf8(utf8), chunks),
        Mode::Slice => {
            let total: usize = chunks.iter().map(|c| c.len()).sum();
            // Room for the line, the data and its U+FFFD-replaced copy.
            let mut body = vec![0u8; 8 * total + 64];
            let mut meta = vec![0u8; 8 * total + 64];
            let d =
                Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta));
            run_decode(d.with_limits(limits).with_utf8(utf8), chunks)
        }
        Mode::BytesMutStorage => {
            let d = Decoder::from_storage(BytesMut::new(), BytesMut::new());
            run_decode(d.with_limits(limits).with_utf8(utf8), chunks)
        }
        Mode::DecodeBytes => {
            run_decode_bytes(Decoder::new().with_limits(limits).with_utf8(utf8), chunks)
        }
    }
}

/// [`run`] with no limits, as the spec has none, returning the transcript.
///
/// # Panics
///
/// As [`run`], and on any error (without limits, and in the default lossy
/// UTF-8 mode, there are none).
pub fn transcript(mode: Mode, chunks: &[&[u8]]) -> Transcript {
    let r = run(mode, Limits::unlimited(), chunks);
    assert!(r.errors.is_empty(), "unexpected errors {:?}", r.errors);
    r.transcript
}

fn run_decode<S: Storage>(mut decoder: Decoder<S>, chunks: &[&[u8]]) -> Run {
    let mut out = Run::default();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            let before = rest.len();
            let item = decoder.decode(&mut rest);
            assert!(rest.len() <= before);
            match item {
                Ok(Some(item)) => out.transcript.items.push(output(item)),
                Ok(None) => {
                    assert!(rest.is_empty(), "Ok(None) before the input was used up");
                    break;
                }
                Err(e) => out.errors.push(e),
            }
            out.max_buffered = out.max_buffered.max(decoder.buffered_len());
        }
        out.max_buffered = out.max_buffered.max(decoder.buffered_len());
    }
    decoder.finish();
    out.transcript.last_event_id = String::from_utf8_lossy(decoder.last_event_id()).into_owned();
    out.transcript.retry = decoder.retry();
    out
}

fn run_decode_bytes(mut decoder: Decoder<Vec<u8>>, chunks: &[&[u8]]) -> Run {
    let mut out = Run::default();
    let mut buf = BytesMut::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode_bytes(&mut buf) {
                Ok(Some(item)) => out.transcript.items.push(output_bytes(item)),
                // Bytes of an unfinished event may stay in `buf`.
                Ok(None) => break,
                Err(e) => out.errors.push(e),
            }
            out.max_buffered = out.max_buffered.max(decoder.buffered_len());
        }
    }
    decoder.finish();
    buf.clear();
    out.transcript.last_event_id = String::from_utf8_lossy(decoder.last_event_id()).into_owned();
    out.transcript.retry = decoder.retry();
    out
}

/// Writes a `Bytes`-backed item down.
pub fn output_bytes(item: BytesItem) -> Output {
    match item {
        BytesItem::Event(e) => Output::Event {
            event_type: e.event_type().to_owned(),
            data: e.data().to_owned(),
            id: e.id().to_owned(),
        },
        BytesItem::Retry(ms) => Output::Retry(ms),
        BytesItem::Comment(c) => Output::Comment(c.as_str().to_owned()),
        other => panic!("unknown item {other:?}"),
    }
}

/// Writes an item down.
pub fn output(item: Item<'_>) -> Output {
    match item {
        Item::Event(e) => Output::Event {
            event_type: e.event_type().to_owned(),
            data: e.data().to_owned(),
            id: e.id().to_owned(),
        },
        Item::Retry(ms) => Output::Retry(ms),
        Item::Comment(c) => Output::Comment(c.to_owned()),
        other => panic!("unknown item {other:?}"),
    }
}
