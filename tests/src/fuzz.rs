//! The invariants the fuzz targets assert, as plain functions over the
//! fuzzer's bytes, so that `tests/tests/fuzz_regressions.rs` replays any
//! input a fuzzer ever found through exactly the same checks.
//!
//! Each `check_*` panics when an invariant breaks; that is how a fuzz target
//! reports a finding.

use crate::chunk::split;
use crate::drive::{run, transcript, Mode};
use crate::naive;
use sse_codec::{Error, Limits};

/// How a fuzz input is read: its first bytes choose limits and cuts; the
/// rest is the stream.
#[derive(Debug)]
pub struct Plan<'a> {
    /// Small limits (lines up to 255 bytes, events up to 1020, ids up to 63).
    pub limits: Limits,
    /// Where to cut the stream.
    pub cuts: Vec<usize>,
    /// The stream.
    pub input: &'a [u8],
}

impl<'a> Plan<'a> {
    /// Reads `data` as `[line, event, id, ncuts, cut..., stream...]`;
    /// `None` when it is too short to hold the header.
    pub fn read(data: &'a [u8]) -> Option<Self> {
        let (&[line, event, id, ncuts], rest) = data.split_first_chunk::<4>()?;
        let ncuts = usize::from(ncuts % 16).min(rest.len());
        let (cut_bytes, input) = rest.split_at(ncuts);
        let mut cuts: Vec<usize> = cut_bytes
            .iter()
            .map(|&b| usize::from(b) * input.len() / 255)
            .collect();
        cuts.sort_unstable();
        let limits = Limits::new()
            .with_max_line_len(usize::from(line))
            .with_max_event_size(usize::from(event) * 4)
            .with_max_id_len(usize::from(id % 64));
        Some(Plan {
            limits,
            cuts,
            input,
        })
    }

    /// The bytes a fuzzer needs to reproduce this plan: the inverse of
    /// [`read`](Self::read), for writing seeds. `cuts` are given as bytes.
    pub fn encode(line: u8, event: u8, id: u8, cut_bytes: &[u8], input: &[u8]) -> Vec<u8> {
        let mut out = vec![line, event, id, cut_bytes.len() as u8];
        out.extend_from_slice(cut_bytes);
        out.extend_from_slice(input);
        out
    }
}

/// The memory bound documented on `sse_codec::Limits`: the data buffer and a
/// partial line, the last event ID, the pending id and the type, plus a
/// U+FFFD-replaced copy (three bytes per byte) of one item's data, type and
/// id. An id is a line, so it is also bounded by the line limit.
pub fn documented_memory_bound(limits: Limits) -> usize {
    let (line, event) = (limits.max_line_len(), limits.max_event_size());
    let id = limits.max_id_len().min(line);
    event + 2 * line + 2 * id + 3 * (event + line + id)
}

/// `decode` target: every storage mode, arbitrary cuts, small limits: no
/// panic, the `decode` contract (checked by [`run`]), memory within the
/// documented bound.
pub fn check_decode(data: &[u8]) {
    let Some(plan) = Plan::read(data) else { return };
    let chunks = split(plan.input, &plan.cuts);
    let bound = documented_memory_bound(plan.limits);
    for mode in Mode::ALL {
        let r = run(mode, plan.limits, &chunks);
        assert!(
            r.max_buffered <= bound,
            "{mode:?} held {} bytes, bound {bound}",
            r.max_buffered
        );
    }
}

/// `decode_chunked` target: the chunked items, errors, final last event ID
/// and retry equal the whole input's, in every storage mode.
pub fn check_decode_chunked(data: &[u8]) {
    let Some(plan) = Plan::read(data) else { return };
    let chunks = split(plan.input, &plan.cuts);
    let whole = run(Mode::Vec, plan.limits, &[plan.input]);
    for mode in Mode::ALL {
        // Fixed buffers sized by `run` never fill up, so they must agree too.
        let chunked = run(mode, plan.limits, &chunks);
        assert_eq!(chunked.transcript, whole.transcript, "{mode:?}");
        assert_eq!(chunked.errors, whole.errors, "{mode:?}");
    }
}

/// `differential` target: with no limits, the decoder equals the naive spec
/// oracle, whole and in 7-byte chunks.
pub fn check_differential(input: &[u8]) {
    let expected = naive::decode(input);
    assert_eq!(transcript(Mode::Vec, &[input]), expected);
    let chunks: Vec<&[u8]> = input.chunks(7).collect();
    assert_eq!(transcript(Mode::Vec, &chunks), expected);
}

/// `limits` target: under small limits, after an error the decoder resumes
/// at the next event: whatever follows the input, once a blank line has
/// passed, decodes exactly as it would on a fresh decoder.
pub fn check_limits(data: &[u8]) {
    let Some(plan) = Plan::read(data) else { return };
    let tail: &[u8] = b"\n\nevent: after\nid: 9\ndata: tail\n\n";
    let mut stream = plan.input.to_vec();
    stream.extend_from_slice(tail);
    let chunks = split(&stream, &plan.cuts);
    let r = run(Mode::Vec, plan.limits, &chunks);
    let fresh = run(Mode::Vec, plan.limits, &[&tail[2..]]);
    let last = r.transcript.items.last();
    let errors_fit = |e: &Error| {
        matches!(
            e,
            Error::LineTooLong { .. } | Error::EventTooLarge { .. } | Error::IdTooLong { .. }
        )
    };
    assert!(r.errors.iter().all(errors_fit), "{:?}", r.errors);
    if fresh.errors.is_empty() {
        // The tail fits the limits on its own, so it must come out last.
        assert_eq!(last, fresh.transcript.items.last(), "errors {:?}", r.errors);
    }
}

/// `roundtrip` target: arbitrary frames (built from the fuzzer's bytes)
/// either are rejected, exactly when they are invalid, with nothing
/// written, or encode to `encoded_len()` bytes that the decoder and the
/// naive oracle decode back to the frames.
pub fn check_roundtrip(data: &[u8]) {
    use crate::frames::{expected, Parts};
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(frames) = u.arbitrary::<Vec<Parts>>() else {
        return;
    };
    let mut stream = Vec::new();
    let mut valid = Vec::new();
    for parts in &frames {
        let frame = parts.frame();
        let before = stream.len();
        match frame.encode_to_vec(&mut stream) {
            Ok(()) => {
                assert!(parts.is_valid(), "accepted {parts:?}");
                assert_eq!(Ok(stream.len() - before), frame.encoded_len());
                valid.push(parts.clone());
            }
            Err(e) => {
                assert!(!parts.is_valid(), "rejected {parts:?}: {e}");
                assert_eq!(stream.len(), before, "wrote on error");
            }
        }
    }
    let want = expected(&valid);
    assert_eq!(transcript(Mode::Vec, &[&stream]), want);
    assert_eq!(naive::decode(&stream), want);
}

/// `tokio_codec` target: `SseCodec`, the `tokio_util::codec::Decoder`, fed
/// the stream in arbitrary splits through a growing `BytesMut` as
/// `FramedRead` does, then `decode_eof`, reports exactly what the core's
/// `decode_bytes` reports on the whole input: items, errors, last event ID.
pub fn check_tokio_codec(data: &[u8]) {
    use crate::drive::output_bytes;
    use bytes::BytesMut;
    use tokio_util::codec::Decoder as _;

    let Some(plan) = Plan::read(data) else { return };
    let chunks = split(plan.input, &plan.cuts);
    let mut codec = sse_codec_tokio::SseCodec::new().with_limits(plan.limits);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut record = |r: Result<Option<sse_codec::BytesItem>, sse_codec_tokio::Error>| match r {
        Ok(Some(item)) => {
            items.push(output_bytes(item));
            true
        }
        Ok(None) => false,
        Err(e) => {
            errors.push(*e.codec().expect("only codec errors without I/O"));
            true
        }
    };
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while record(codec.decode(&mut buf)) {}
    }
    while record(codec.decode_eof(&mut buf)) {}
    let whole = run(Mode::DecodeBytes, plan.limits, &[plan.input]);
    assert_eq!(items, whole.transcript.items);
    assert_eq!(errors, whole.errors);
    assert_eq!(
        String::from_utf8_lossy(codec.last_event_id()),
        whole.transcript.last_event_id
    );
}
