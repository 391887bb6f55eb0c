//! The encoder: what it writes decodes back, through the real decoder and
//! the naive spec oracle, to what was encoded; `encoded_len` is exact; short
//! buffers and invalid frames are left untouched; and a few frames have
//! their exact bytes written down.

use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;
use sse_codec::{Decoder, Error, Frame, Item, KEEPALIVE};
use sse_codec_tests::chunk::split;
use sse_codec_tests::drive::{transcript, Mode};
use sse_codec_tests::frames::{expected, Parts};
use sse_codec_tests::{naive, Output, Transcript};

/// Pieces of text that stress the encoder, mixed with arbitrary Unicode.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "\r", "\n", "\r\n", "\n\r", " ", "  ", ":", ": ", "", "\0", "a", "data: x",
            "event: e", "id: 1", "retry: 5", "é", "🚀", "\u{FEFF}", "\u{2028}", "\u{85}",
        ])
        .prop_map(str::to_owned),
        2 => any::<char>().prop_map(String::from),
        1 => "\\PC{0,12}",
    ]
}

/// Arbitrary text, sometimes long, sometimes many lines joined by LF
/// alone (the encoder's fast path for multi-line data) across its 64-byte
/// windows.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => vec(piece(), 0..16).prop_map(|p| p.concat()),
        1 => (piece(), 100usize..3000).prop_map(|(p, n)| p.repeat(n)),
        2 => vec("[a-zé🚀 :]{0,90}", 0..30).prop_map(|lines| lines.join("\n")),
    ]
}

fn without(text: String, banned: &[char]) -> String {
    text.chars().filter(|c| !banned.contains(c)).collect()
}

fn retry() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(u64::MAX), 0u64..100_000, any::<u64>()]
}

/// Frames the encoder accepts.
fn valid_parts() -> impl Strategy<Value = Parts> {
    (
        proptest::option::of(text()),
        proptest::option::of(text().prop_map(|t| without(t, &['\r', '\n']))),
        proptest::option::of(text().prop_map(|t| without(t, &['\0', '\r', '\n']))),
        proptest::option::of(retry()),
        proptest::option::of(text()),
    )
        .prop_map(|(comment, event_type, id, retry, data)| Parts {
            comment,
            event_type,
            id,
            retry,
            data,
        })
}

/// Any frame, valid or not.
fn any_parts() -> impl Strategy<Value = Parts> {
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(retry()),
        proptest::option::of(text()),
    )
        .prop_map(|(comment, event_type, id, retry, data)| Parts {
            comment,
            event_type,
            id,
            retry,
            data,
        })
}

/// Cut points as fractions of the length, so they fit any input.
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

/// Decodes `input` with the oracle and the real decoder in every storage
/// mode, whole and in `chunks`, and checks they all give `want`.
fn assert_decodes_to(
    input: &[u8],
    chunks: &[&[u8]],
    want: &Transcript,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(&naive::decode(input), want, "oracle");
    for mode in Mode::ALL {
        prop_assert_eq!(&transcript(mode, &[input]), want, "{:?}", mode);
    }
    prop_assert_eq!(&transcript(Mode::Vec, chunks), want, "chunked");
    Ok(())
}

/// Every way to encode `frame`, which must all agree; returns the bytes.
fn encode_every_way(frame: &Frame<'_>) -> Result<Vec<u8>, Error> {
    let len = frame.encoded_len();
    let vec = frame.to_vec();

    let mut appended = b"prefix".to_vec();
    let appended_result = frame.encode_to_vec(&mut appended);

    let mut slice = vec![0xA5u8; len.unwrap_or(64) + 3];
    let slice_result = frame.encode_to_slice(&mut slice);

    let mut buf = BytesMut::from(&b"prefix"[..]);
    let buf_result = frame.encode_to_buf(&mut buf);

    match len {
        Ok(len) => {
            let bytes = vec.expect("to_vec");
            assert_eq!(bytes.len(), len);
            assert_eq!(appended_result, Ok(()));
            assert_eq!(&appended[..6], b"prefix");
            assert_eq!(&appended[6..], &bytes[..]);
            assert_eq!(slice_result, Ok(len));
            assert_eq!(&slice[..len], &bytes[..]);
            assert_eq!(&slice[len..], [0xA5; 3]);
            assert_eq!(buf_result, Ok(()));
            assert_eq!(&buf[6..], &bytes[..]);
            Ok(bytes)
        }
        Err(e) => {
            assert_eq!(vec, Err(e));
            assert_eq!(appended_result, Err(e));
            assert_eq!(appended, b"prefix");
            assert_eq!(slice_result, Err(e));
            assert!(slice.iter().all(|&b| b == 0xA5));
            assert_eq!(buf_result, Err(e));
            assert_eq!(&buf[..], b"prefix");
            Err(e)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn a_frame_decodes_to_what_was_encoded(parts in valid_parts(), points in vec(any::<u16>(), 0..8)) {
        let bytes = encode_every_way(&parts.frame()).expect("valid frame");
        let chunks = split(&bytes, &cuts(bytes.len(), &points));
        assert_decodes_to(&bytes, &chunks, &expected(&[parts]))?;
    }

    #[test]
    fn frames_decode_as_a_sequence(frames in vec(valid_parts(), 0..8), points in vec(any::<u16>(), 0..12)) {
        let mut bytes = Vec::new();
        for p in &frames {
            p.frame().encode_to_vec(&mut bytes).expect("valid frame");
        }
        let chunks = split(&bytes, &cuts(bytes.len(), &points));
        assert_decodes_to(&bytes, &chunks, &expected(&frames))?;
    }

    #[test]
    fn encoded_len_is_what_is_written(parts in any_parts()) {
        let frame = parts.frame();
        let valid = !parts.event_type.as_deref().is_some_and(|t| t.contains(['\r', '\n']))
            && !parts.id.as_deref().is_some_and(|id| id.contains(['\0', '\r', '\n']));
        prop_assert_eq!(frame.validate().is_ok(), valid);
        match encode_every_way(&frame) {
            Ok(bytes) => prop_assert_eq!(frame.encoded_len(), Ok(bytes.len())),
            Err(e) => {
                prop_assert!(!valid);
                prop_assert_eq!(frame.validate(), Err(e));
            }
        }
    }

    #[test]
    fn short_buffers_are_left_untouched(parts in valid_parts(), fill in any::<u8>()) {
        let frame = parts.frame();
        let len = frame.encoded_len().expect("valid frame");
        // Every size below the length for small frames; a sample for big ones.
        let step = (len / 200).max(1);
        let mut buf = vec![fill; len];
        for size in (0..len).step_by(step).chain(len.checked_sub(1)) {
            let required = Error::BufferTooSmall { required: len };
            prop_assert_eq!(frame.encode_to_slice(&mut buf[..size]), Err(required));
            prop_assert!(buf.iter().all(|&b| b == fill), "size {} touched", size);
            let mut dst = &mut buf[..size];
            prop_assert_eq!(frame.encode_to_buf(&mut dst), Err(required));
            prop_assert!(buf.iter().all(|&b| b == fill), "size {} touched by BufMut", size);
        }
        prop_assert_eq!(frame.encode_to_slice(&mut buf), Ok(len));
    }

    /// Any event the decoder hands out, from any input, re-encodes to a
    /// frame that a fresh decoder turns back into the same event.
    #[test]
    fn decoded_events_re_encode(input in vec(stream_piece(), 0..40).prop_map(|p| p.concat())) {
        let mut decoder = Decoder::new();
        let mut result = Ok(());
        decoder.feed(&input, |item| {
            let Ok(Item::Event(event)) = item else { return };
            if result.is_ok() {
                result = re_encodes(&event);
            }
        });
        result?;
    }
}

/// Stream-shaped bytes: field names, line breaks, invalid UTF-8, NUL.
fn stream_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            &b"data: "[..], b"data:", b"event: ", b"event:", b"id: ", b"id:", b": ", b"\n", b"\n\n",
            b"\r", b"\r\n", b"\xff", b"\xc3", b"\0", b"message",
        ])
        .prop_map(<[u8]>::to_vec),
        2 => piece().prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..4),
    ]
}

fn re_encodes(event: &sse_codec::Event<'_>) -> Result<(), TestCaseError> {
    let frame = Frame::from(*event);
    let bytes = frame.to_vec();
    prop_assert!(bytes.is_ok(), "{:?}: {:?}", frame, bytes);
    let bytes = bytes.unwrap_or_default();
    let mut fresh = Decoder::new();
    let mut rest = &bytes[..];
    let item = fresh.decode(&mut rest);
    prop_assert!(rest.is_empty());
    let Ok(Some(Item::Event(again))) = item else {
        return Err(TestCaseError::fail(format!(
            "{:?} from {:?}",
            item,
            String::from_utf8_lossy(&bytes)
        )));
    };
    prop_assert_eq!(
        (again.event_type(), again.data(), again.id()),
        (event.event_type(), event.data(), event.id())
    );
    // An `event` line only when the stream had a non-empty one.
    prop_assert_eq!(
        again.raw_event_type().is_empty(),
        event.raw_event_type().is_empty()
    );
    Ok(())
}

/// Frames that must be rejected, with the error, covering CR, LF and CRLF
/// in the event type and NUL, CR and LF in the id, at each end and inside.
fn rejections() -> Vec<(Frame<'static>, Error)> {
    let mut cases = Vec::new();
    for bad in ["\r", "\n", "\r\n"] {
        for t in [
            bad.to_owned(),
            format!("a{bad}"),
            format!("{bad}a"),
            format!("a{bad}b"),
        ] {
            let t: &'static str = t.leak();
            cases.push((
                Frame::event("x").with_event_type(t),
                Error::InvalidEventType,
            ));
            cases.push((
                Frame::comment("c").with_event_type(t),
                Error::InvalidEventType,
            ));
        }
    }
    for bad in ["\0", "\r", "\n", "\r\n"] {
        for id in [
            bad.to_owned(),
            format!("1{bad}"),
            format!("{bad}1"),
            format!("1{bad}2"),
        ] {
            let id: &'static str = id.leak();
            cases.push((Frame::id(id), Error::InvalidId));
            cases.push((
                Frame::event("x").with_id(id).with_retry(1),
                Error::InvalidId,
            ));
        }
    }
    cases
}

#[test]
fn rejected_frames_write_nothing_anywhere() {
    for (frame, e) in rejections() {
        assert_eq!(frame.validate(), Err(e), "{frame:?}");
        assert_eq!(frame.encoded_len(), Err(e), "{frame:?}");

        let mut slice = [0x5Au8; 256];
        assert_eq!(frame.encode_to_slice(&mut slice), Err(e), "{frame:?}");
        assert_eq!(slice, [0x5A; 256], "{frame:?}");

        let mut v = b"kept".to_vec();
        assert_eq!(frame.encode_to_vec(&mut v), Err(e), "{frame:?}");
        assert_eq!(v, b"kept", "{frame:?}");
        assert_eq!(frame.to_vec(), Err(e), "{frame:?}");

        let mut b = BytesMut::from(&b"kept"[..]);
        assert_eq!(frame.encode_to_buf(&mut b), Err(e), "{frame:?}");
        assert_eq!(&b[..], b"kept", "{frame:?}");

        let mut backing = [0x5Au8; 256];
        let mut dst = &mut backing[..];
        assert_eq!(frame.encode_to_buf(&mut dst), Err(e), "{frame:?}");
        assert_eq!(backing, [0x5A; 256], "{frame:?}");
    }
}

#[test]
fn type_is_checked_before_id() {
    let frame = Frame::event("x").with_id("\n").with_event_type("\n");
    assert_eq!(frame.validate(), Err(Error::InvalidEventType));
}

#[test]
fn nul_is_fine_outside_the_id() {
    let frame = Frame::event("\0").with_event_type("\0").with_comment("\0");
    assert_eq!(frame.to_vec().unwrap(), b": \0\nevent: \0\ndata: \0\n\n");
}

#[test]
fn keepalive_is_a_comment_line_and_a_blank_line() {
    assert_eq!(KEEPALIVE.to_vec().unwrap(), b": keepalive\n\n");
    assert_eq!(KEEPALIVE.encoded_len(), Ok(13));
    let t = naive::decode(&KEEPALIVE.to_vec().unwrap());
    assert_eq!(t.items, [Output::Comment("keepalive".into())]);
}

/// Exact bytes for frames whose encoding is a project decision.
#[test]
fn golden() {
    let cases: [(Frame<'_>, &[u8]); 16] = [
        (
            Frame::event("a\r\nb\rc\n")
                .with_event_type("t")
                .with_id("1")
                .with_retry(5),
            b"event: t\nid: 1\nretry: 5\ndata: a\ndata: b\ndata: c\ndata: \n\n",
        ),
        (
            Frame::event("x")
                .with_comment("one\r\ntwo")
                .with_retry(7)
                .with_id("i")
                .with_event_type("e"),
            b": one\n: two\nevent: e\nid: i\nretry: 7\ndata: x\n\n",
        ),
        (Frame::event(""), b"data: \n\n"),
        (Frame::event(" x"), b"data:  x\n\n"),
        (
            Frame::event("a\n\n\nb"),
            b"data: a\ndata: \ndata: \ndata: b\n\n",
        ),
        (Frame::event("\n"), b"data: \ndata: \n\n"),
        (
            Frame::event("\r\r\n\n"),
            b"data: \ndata: \ndata: \ndata: \n\n",
        ),
        (
            Frame::event("data: x\n\nevent: evil"),
            b"data: data: x\ndata: \ndata: event: evil\n\n",
        ),
        (
            Frame::event("x").with_event_type(" sp"),
            b"event:  sp\ndata: x\n\n",
        ),
        (
            Frame::event("x").with_event_type(""),
            b"event: \ndata: x\n\n",
        ),
        (Frame::comment(""), b": \n\n"),
        (Frame::comment(" lead\r"), b":  lead\n: \n\n"),
        (Frame::retry(u64::MAX), b"retry: 18446744073709551615\n\n"),
        (Frame::id(""), b"id: \n\n"),
        (
            Frame::id("7").with_comment("resume"),
            b": resume\nid: 7\n\n",
        ),
        (Frame::default(), b"\n"),
    ];
    for (frame, want) in cases {
        let got = frame.to_vec().unwrap();
        assert_eq!(
            got,
            want,
            "{frame:?}: got {:?}",
            String::from_utf8_lossy(&got)
        );
        assert_eq!(frame.encoded_len(), Ok(want.len()));
    }
}

#[test]
fn injection_through_data_stays_data() {
    let bytes = Frame::event("x\n\nevent: evil\nid: 666\ndata: pwned")
        .with_id("1")
        .to_vec()
        .unwrap();
    let t = naive::decode(&bytes);
    assert_eq!(
        t.items,
        [Output::Event {
            event_type: "message".into(),
            data: "x\n\nevent: evil\nid: 666\ndata: pwned".into(),
            id: "1".into(),
        }]
    );
    assert_eq!(t.last_event_id, "1");
}

#[test]
fn an_id_frame_moves_the_last_event_id_without_an_event() {
    let mut bytes = Frame::id("5").to_vec().unwrap();
    Frame::event("a").encode_to_vec(&mut bytes).unwrap();
    Frame::id("").encode_to_vec(&mut bytes).unwrap();
    let want = Transcript {
        items: vec![Output::Event {
            event_type: "message".into(),
            data: "a".into(),
            id: "5".into(),
        }],
        last_event_id: String::new(),
        retry: None,
    };
    assert_eq!(naive::decode(&bytes), want);
    assert_eq!(transcript(Mode::Vec, &[&bytes]), want);
}

#[test]
fn vec_appends() {
    let data = "line\n".repeat(1000);
    let frame = Frame::event(&data);
    let mut v = b"head".to_vec();
    v.shrink_to_fit();
    frame.encode_to_vec(&mut v).unwrap();
    assert_eq!(v.len(), 4 + frame.encoded_len().unwrap());
    assert!(v.starts_with(b"headdata: line\n"));
}

#[test]
fn frame_is_small_send_sync_and_copy() {
    fn check<T: Send + Sync + Copy + 'static>() {}
    check::<Frame<'static>>();
    assert!(std::mem::size_of::<Frame<'_>>() <= 96);
}
