//! The invariants the fuzz targets assert, as plain functions over the
//! fuzzer's bytes, so that `tests/tests/fuzz_regressions.rs` replays any
//! input a fuzzer ever found through exactly the same checks.
//!
//! Each `check_*` panics when an invariant breaks; that is how a fuzz target
//! reports a finding.

use crate::chunk::split;
use crate::drive::{run, run_utf8, transcript, Mode};
use crate::naive;
use crate::Output;
use sse_codec::{Error, Field, FieldDecoder, Limits, SliceStorage, Storage, Utf8};

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

/// `strict` target: with [`Utf8::Strict`], chunked equals whole in every
/// storage mode; every `InvalidUtf8` error points at the first byte of an
/// invalid sequence; what strict mode hands out is what lossy mode hands out
/// minus the events it rejected; and on valid UTF-8 the two modes agree
/// exactly.
pub fn check_strict(data: &[u8]) {
    let Some(plan) = Plan::read(data) else { return };
    let chunks = split(plan.input, &plan.cuts);
    let whole = run_utf8(Mode::Vec, plan.limits, Utf8::Strict, &[plan.input]);
    for mode in Mode::ALL {
        let chunked = run_utf8(mode, plan.limits, Utf8::Strict, &chunks);
        assert_eq!(chunked.transcript, whole.transcript, "{mode:?}");
        assert_eq!(chunked.errors, whole.errors, "{mode:?}");
    }
    for e in &whole.errors {
        if let Error::InvalidUtf8 { offset } = *e {
            let at = usize::try_from(offset).expect("offset fits");
            let rest = plan.input.get(at..).expect("offset inside the input");
            let bad = core::str::from_utf8(rest).expect_err("invalid UTF-8 at the offset");
            assert_eq!(
                bad.valid_up_to(),
                0,
                "{e:?} is not where the sequence starts"
            );
        }
    }
    let lossy = run(Mode::Vec, plan.limits, &[plan.input]);
    if core::str::from_utf8(plan.input).is_ok() {
        assert_eq!(whole, lossy);
        return;
    }
    // A rejected id changes the ids of later events, so compare without ids.
    let strip = |items: &[Output]| -> Vec<Output> {
        items
            .iter()
            .map(|item| match item {
                Output::Event {
                    event_type, data, ..
                } => Output::Event {
                    event_type: event_type.clone(),
                    data: data.clone(),
                    id: String::new(),
                },
                other => other.clone(),
            })
            .collect()
    };
    let (strict, lossy) = (
        strip(&whole.transcript.items),
        strip(&lossy.transcript.items),
    );
    let mut lossy_items = lossy.iter();
    for item in &strict {
        assert!(
            lossy_items.any(|l| l == item),
            "strict mode handed out {item:?}, which lossy mode did not (in order)"
        );
    }
}

/// One field as [`FieldDecoder`] or the naive splitter reports it: what
/// kind, the name (for unknown fields) and the value.
pub type FieldOut = (&'static str, Vec<u8>, Vec<u8>);

fn field_out(field: Field<'_>) -> FieldOut {
    match field {
        Field::Blank => ("blank", vec![], vec![]),
        Field::Comment(v) => ("comment", vec![], v.to_vec()),
        Field::Data(v) => ("data", vec![], v.to_vec()),
        Field::Event(v) => ("event", vec![], v.to_vec()),
        Field::Id(v) => ("id", vec![], v.to_vec()),
        Field::Retry(v) => ("retry", vec![], v.to_vec()),
        Field::Other { name, value } => ("other", name.to_vec(), value.to_vec()),
        other => panic!("unknown field {other:?}"),
    }
}

/// The fields of `input` straight from the spec's wording, over bytes: skip
/// one leading byte-order mark; lines end at CRLF, LF or CR; a line longer
/// than `limit` (complete or not) is an error at its first byte; text after
/// the last terminator is not a line. A stream that is only the start of a
/// byte-order mark has nothing: those bytes are held until the question is
/// settled, and the stream ends first.
pub fn naive_fields(input: &[u8], limit: usize) -> Vec<Result<FieldOut, Error>> {
    let start = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut out = Vec::new();
    let mut line_start = start;
    let mut i = start;
    let mut push = |line: &[u8], offset: usize| {
        if line.len() > limit {
            out.push(Err(Error::LineTooLong {
                limit,
                offset: offset as u64,
            }));
        } else {
            out.push(Ok(naive_field(line)));
        }
    };
    while i < input.len() {
        match input[i] {
            b'\r' | b'\n' => {
                push(&input[line_start..i], line_start);
                if input[i] == b'\r' && input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                i += 1;
                line_start = i;
            }
            _ => i += 1,
        }
    }
    // Bytes that may still be the start of a byte-order mark are held, not
    // line content: a stream that ends inside them has no line at all.
    let bom_prefix = input.len() < 3 && b"\xEF\xBB\xBF".starts_with(input);
    if input.len() - line_start > limit && !bom_prefix {
        push(&input[line_start..], line_start);
    }
    out
}

fn naive_field(line: &[u8]) -> FieldOut {
    if line.is_empty() {
        return ("blank", vec![], vec![]);
    }
    let (name, value) = match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = &line[colon + 1..];
            (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &b""[..]),
    };
    let kind = match name {
        b"" => "comment",
        b"data" => "data",
        b"event" => "event",
        b"id" => "id",
        b"retry" => "retry",
        _ => return ("other", name.to_vec(), value.to_vec()),
    };
    (kind, vec![], value.to_vec())
}

/// `fields` target: [`FieldDecoder`] over arbitrary cuts, with `Vec`,
/// fixed-buffer and `BytesMut` storage, reports exactly the naive splitter's
/// fields and `LineTooLong` errors, never holds more than the line limit,
/// and keeps to the `decode` contract.
pub fn check_fields(data: &[u8]) {
    let Some(plan) = Plan::read(data) else { return };
    let chunks = split(plan.input, &plan.cuts);
    let limit = plan.limits.max_line_len();
    let expected = naive_fields(plan.input, limit);
    let mut buf = vec![0u8; plan.input.len() + 1];
    let vec = run_fields(FieldDecoder::new(), plan.limits, &chunks);
    let fixed = run_fields(
        FieldDecoder::from_storage(SliceStorage::new(&mut buf)),
        plan.limits,
        &chunks,
    );
    let bytes_mut = run_fields(
        FieldDecoder::from_storage(bytes::BytesMut::new()),
        plan.limits,
        &chunks,
    );
    assert_eq!(vec, expected, "Vec");
    assert_eq!(fixed, expected, "SliceStorage");
    assert_eq!(bytes_mut, expected, "BytesMut");
}

fn run_fields<S: Storage>(
    decoder: FieldDecoder<S>,
    limits: Limits,
    chunks: &[&[u8]],
) -> Vec<Result<FieldOut, Error>> {
    let mut decoder = decoder.with_limits(limits);
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            match decoder.decode(&mut rest) {
                Ok(Some(field)) => out.push(Ok(field_out(field))),
                Ok(None) => {
                    assert!(rest.is_empty(), "Ok(None) before the input was used up");
                    break;
                }
                Err(e) => out.push(Err(e)),
            }
            assert!(decoder.buffered_len() <= limits.max_line_len().max(3));
        }
    }
    decoder.finish();
    assert_eq!(decoder.buffered_len(), 0);
    out
}
