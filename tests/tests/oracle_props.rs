//! Property tests: on arbitrary byte streams in arbitrary chunkings, the
//! decoder agrees with the naive spec oracle, and chunking is invisible, in
//! every storage mode; the raw field decoder is chunking-proof too.

use proptest::collection::vec;
use proptest::prelude::*;
use sse_codec::{Field, FieldDecoder, Limits};
use sse_codec_tests::chunk::split;
use sse_codec_tests::drive::{run, transcript, Mode};
use sse_codec_tests::naive;

/// Pieces that make SSE-shaped streams likely, mixed with arbitrary bytes.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec![
            &b"data"[..], b"data:", b"data: ", b"event:", b"event: ", b"id:", b"id: ",
            b"retry:", b"retry: ", b":", b": ", b" ", b"\n", b"\n", b"\r", b"\r\n", b"\n\n",
            b"\xEF\xBB\xBF", b"\xEF", b"\xBB", b"\0", b"\xff", b"\xc3", b"\xc3\xa9",
            b"\xf0\x9f\x9a\x80", b"\xed\xa0\x80", b"0", b"42", b"18446744073709551616",
            b"x", b"hello", b"Data", b"message",
        ])
        .prop_map(<[u8]>::to_vec),
        1 => vec(any::<u8>(), 0..6),
    ]
}

fn sse_stream() -> impl Strategy<Value = Vec<u8>> {
    vec(token(), 0..60).prop_map(|t| t.concat())
}

/// Cut points as fractions of the length, so they fit any input.
fn split_points() -> impl Strategy<Value = Vec<u16>> {
    vec(any::<u16>(), 0..12)
}

fn cuts(len: usize, points: &[u16]) -> Vec<usize> {
    // In u64: on 32-bit targets (wasm32) `p * len` overflows `usize` once
    // `len` passes 64 KiB. The quotient is at most `len`, so it fits.
    let mut cuts: Vec<usize> = points
        .iter()
        .map(|&p| (u64::from(p) * len as u64 / 65535) as usize)
        .collect();
    cuts.sort_unstable();
    cuts
}

fn fields(chunks: &[&[u8]], limits: Limits) -> Vec<Result<String, sse_codec::Error>> {
    let mut d = FieldDecoder::new().with_limits(limits);
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            match d.decode(&mut rest) {
                Ok(Some(f)) => out.push(Ok(format!("{f:?}"))),
                Ok(None) => break,
                Err(e) => out.push(Err(e)),
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decoder_agrees_with_the_oracle(input in sse_stream(), points in split_points()) {
        let expected = naive::decode(&input);
        let chunks = split(&input, &cuts(input.len(), &points));
        prop_assert_eq!(&transcript(Mode::Vec, &[&input]), &expected);
        prop_assert_eq!(&transcript(Mode::Vec, &chunks), &expected);
    }

    #[test]
    fn chunking_is_invisible_in_every_mode(input in sse_stream(), points in split_points()) {
        let chunks = split(&input, &cuts(input.len(), &points));
        let whole = transcript(Mode::Vec, &[&input]);
        for mode in Mode::ALL {
            prop_assert_eq!(&transcript(mode, &chunks), &whole, "{:?}", mode);
        }
    }

    #[test]
    fn chunking_is_invisible_under_small_limits(
        input in sse_stream(),
        points in split_points(),
        line in 0usize..24,
        event in 0usize..48,
    ) {
        let limits = Limits::new().with_max_line_len(line).with_max_event_size(event);
        let chunks = split(&input, &cuts(input.len(), &points));
        let whole = run(Mode::Vec, limits, &[&input]);
        for mode in [Mode::Vec, Mode::BytesMutStorage, Mode::DecodeBytes] {
            let chunked = run(mode, limits, &chunks);
            prop_assert_eq!(&chunked.transcript, &whole.transcript, "{:?}", mode);
            prop_assert_eq!(&chunked.errors, &whole.errors, "{:?}", mode);
            // Data, a partial line, the type and ids, and a replaced copy.
            prop_assert!(chunked.max_buffered <= 4 * (line + event) + 3 * line + 16,
                "{} bytes held", chunked.max_buffered);
        }
    }

    #[test]
    fn field_decoder_is_chunking_proof(
        input in sse_stream(),
        points in split_points(),
        line in prop_oneof![Just(usize::MAX), 0usize..24],
    ) {
        let limits = Limits::new().with_max_line_len(line);
        let chunks = split(&input, &cuts(input.len(), &points));
        prop_assert_eq!(fields(&chunks, limits), fields(&[&input], limits));
    }
}

#[test]
fn field_decoder_sees_what_the_spec_sees() {
    let input = b"\xEF\xBB\xBFdata: a\r\rid\0: x\r\n: c\nevent:\n";
    let got = fields(&[input], Limits::new());
    let want = [
        Field::Data(b"a"),
        Field::Blank,
        Field::Other {
            name: b"id\0",
            value: b"x",
        },
        Field::Comment(b"c"),
        Field::Event(b""),
    ]
    .map(|f| Ok(format!("{f:?}")));
    assert_eq!(got, want);
}
