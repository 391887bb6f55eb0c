//! Limits, recovery after errors, strict UTF-8, seeding, and the
//! fixed-buffer (no heap) decoder.

use sse_codec::{Decoder, Error, Item, Limits, OwnedItem, SliceStorage, Storage, Utf8};

/// Decodes `chunks` in order, collecting items and errors.
fn run<S: Storage>(decoder: &mut Decoder<S>, chunks: &[&[u8]]) -> Vec<Result<OwnedItem, Error>> {
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            match decoder.decode(&mut rest) {
                Ok(Some(item)) => out.push(Ok(item.to_owned_item())),
                Ok(None) => {
                    assert!(rest.is_empty(), "Ok(None) must consume everything");
                    break;
                }
                Err(e) => out.push(Err(e)),
            }
        }
    }
    decoder.finish();
    out
}

fn data(items: &[Result<OwnedItem, Error>]) -> Vec<String> {
    items
        .iter()
        .map(|i| match i {
            Ok(OwnedItem::Event(e)) => e.data.clone(),
            Ok(OwnedItem::Retry(ms)) => format!("retry {ms}"),
            Ok(OwnedItem::Comment(c)) => format!("comment {c}"),
            Ok(_) => unreachable!(),
            Err(e) => format!("error {e}"),
        })
        .collect()
}

/// Every split of `input` into two chunks, and 1-byte chunks.
fn chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut all: Vec<Vec<&[u8]>> = (0..=input.len())
        .map(|i| vec![&input[..i], &input[i..]])
        .collect();
    all.push(input.chunks(1).collect());
    all
}

fn assert_same_in_every_chunking(limits: Limits, utf8: Utf8, input: &[u8], expected: &[&str]) {
    for chunks in chunkings(input) {
        let mut d = Decoder::new().with_limits(limits).with_utf8(utf8);
        assert_eq!(data(&run(&mut d, &chunks)), expected, "chunks {chunks:?}");
    }
}

#[test]
fn line_too_long_names_limit_and_offset_then_resyncs_at_blank_line() {
    let limits = Limits::new().with_max_line_len(10);
    let input = b"data: ok\n\ndata: far too long\ndata: dropped\n\ndata: next\n\n";
    assert_same_in_every_chunking(
        limits,
        Utf8::Lossy,
        input,
        &["ok", "error line longer than 10 bytes at offset 10", "next"],
    );
}

#[test]
fn line_too_long_without_terminator_yet() {
    let mut d = Decoder::new().with_limits(Limits::new().with_max_line_len(4));
    let mut input = &b"data: x"[..];
    assert_eq!(
        d.decode(&mut input),
        Err(Error::LineTooLong {
            limit: 4,
            offset: 0
        })
    );
    assert_eq!(d.buffered_len(), 0, "the overlong line is not kept");
    let items = run(&mut d, &[b"xxxxxxxx\n", b"data: y\n\n", b"data\n\n"]);
    // The rest of the line, and the rest of its event up to the blank line,
    // are skipped; the next event decodes.
    assert_eq!(data(&items), [""]);
}

#[test]
fn event_too_large_then_resync() {
    let limits = Limits::new().with_max_event_size(8);
    // "aaa\n" + "bbb\n" = 8 bytes fits; a third line does not.
    let input = b"data: aaa\ndata: bbb\n\ndata: aaa\ndata: bbb\ndata: c\nevent: x\n\ndata: z\n\n";
    assert_same_in_every_chunking(
        limits,
        Utf8::Lossy,
        input,
        &[
            "aaa\nbbb",
            "error event data larger than 8 bytes at offset 41",
            "z",
        ],
    );
}

#[test]
fn limits_of_zero_and_none() {
    let none = Limits::unlimited();
    assert_same_in_every_chunking(none, Utf8::Lossy, b"data: x\n\n", &["x"]);
    let zero = Limits::new().with_max_line_len(0);
    let mut d = Decoder::new().with_limits(zero);
    let items = run(&mut d, &[b"data\n\n\n"]);
    assert_eq!(data(&items), ["error line longer than 0 bytes at offset 0"]);
}

#[test]
fn endless_line_stays_within_the_limit() {
    let limit = 1000;
    let mut d = Decoder::new().with_limits(Limits::new().with_max_line_len(limit));
    let chunk = [b'a'; 97];
    let mut errors = 0;
    for _ in 0..10_000 {
        let mut rest = &chunk[..];
        errors += usize::from(d.decode(&mut rest).is_err());
        assert!(rest.is_empty());
        assert!(d.buffered_len() <= limit);
    }
    assert_eq!(errors, 1, "one error per overlong line");
}

#[test]
fn endless_event_stays_within_the_limit() {
    let limit = 4096;
    let mut d = Decoder::new().with_limits(Limits::new().with_max_event_size(limit));
    let mut errors = 0;
    for _ in 0..100_000 {
        errors += usize::from(d.decode(&mut &b"data: 0123456789\n"[..]).is_err());
        assert!(d.buffered_len() <= limit + 64);
    }
    assert_eq!(
        errors, 1,
        "the event is dropped once and skipped to its end"
    );
    let items = run(&mut d, &[b"\ndata: after\n\n"]);
    assert_eq!(data(&items), ["after"]);
}

#[test]
fn strict_utf8_reports_the_offset_of_the_bad_byte() {
    let input = b"data: ok\n\ndata: a\xffb\n\ndata: next\n\n";
    assert_same_in_every_chunking(
        Limits::new(),
        Utf8::Strict,
        input,
        &["ok", "error invalid UTF-8 at offset 17", "next"],
    );
    // Every handed-out value is checked: type, id, comment.
    for bad in [&b"event: \xc3\n"[..], b"id: \xc3\n", b": \xc3\n"] {
        let mut input = bad.to_vec();
        input.extend_from_slice(b"data: x\n\ndata: y\n\n");
        let mut d = Decoder::new().with_utf8(Utf8::Strict);
        let items = data(&run(&mut d, &[&input]));
        assert!(
            items[0].starts_with("error invalid UTF-8 at offset"),
            "{items:?}"
        );
        assert_eq!(items[1..], ["y"]);
    }
}

#[test]
fn lossy_utf8_keeps_raw_bytes_reachable() {
    let mut d = Decoder::new();
    let mut input = &b"event: t\xffype\nid: \xfe1\ndata: a\xe2\x82b\n\n"[..];
    let item = d.decode(&mut input);
    let Ok(Some(Item::Event(e))) = item else {
        panic!("{item:?}")
    };
    assert_eq!(e.data(), "a\u{FFFD}b");
    assert_eq!(e.raw_data(), b"a\xe2\x82b");
    assert_eq!(e.event_type(), "t\u{FFFD}ype");
    assert_eq!(e.raw_event_type(), b"t\xffype");
    // The last event ID is kept as text, the spec's "last event ID
    // string": it is what goes back in `Last-Event-ID`.
    assert_eq!(e.id(), "\u{FFFD}1");
    assert_eq!(e.raw_id(), "\u{FFFD}1".as_bytes());
}

#[test]
fn seeded_last_event_id_is_used_until_the_stream_sets_one() {
    let mut d = Decoder::new();
    d.set_last_event_id("41").unwrap();
    assert_eq!(d.set_last_event_id("a\nb"), Err(Error::InvalidId));
    assert_eq!(d.set_last_event_id("a\0b"), Err(Error::InvalidId));
    assert_eq!(d.last_event_id(), b"41");
    let items = run(&mut d, &[b"data: a\n\nid: 42\ndata: b\n\n"]);
    let ids: Vec<_> = items
        .iter()
        .map(|i| match i {
            Ok(OwnedItem::Event(e)) => e.id.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(ids, ["41", "42"]);
    // `finish` keeps the id (a reconnection); `reset` forgets it.
    assert_eq!(d.last_event_id(), b"42");
    d.reset();
    assert_eq!(d.last_event_id(), b"");
}

#[test]
fn id_of_an_unfinished_event_is_not_committed() {
    let mut d = Decoder::new();
    let _ = run(&mut d, &[b"id: 1\n\nid: 2\ndata: x\n"]);
    assert_eq!(d.last_event_id(), b"1");
}

#[test]
fn retry_is_tracked_and_reported() {
    let mut d = Decoder::new();
    let items = run(&mut d, &[b"retry: 10\nretry: x\nretry: 20\n\n"]);
    assert_eq!(data(&items), ["retry 10", "retry 20"]);
    assert_eq!(d.retry(), Some(20));
}

#[test]
fn fixed_buffers_no_heap() {
    let mut body = [0u8; 64];
    let mut meta = [0u8; 32];
    let mut d = Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta))
        .with_limits(Limits::new().with_max_line_len(40).with_max_event_size(40));
    let input = b"event: tick\nid: 7\ndata: first line\ndata: second line\n\ndata: x\n\n";
    for chunks in chunkings(input) {
        let items = run(&mut d, &chunks);
        assert_eq!(data(&items), ["first line\nsecond line", "x"], "{chunks:?}");
        d.reset();
    }
}

#[test]
fn fixed_buffer_too_small_is_a_typed_error_and_recovers() {
    let mut body = [0u8; 8];
    let mut meta = [0u8; 8];
    let mut d = Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta));
    let items = run(&mut d, &[b"data: 0123", b"456789\n\ndata: ok\n\n"]);
    assert_eq!(
        items[0],
        Err(Error::StorageFull {
            capacity: 8,
            offset: 0
        })
    );
    assert_eq!(data(&items[1..]), ["ok"]);
}

/// A `data` line held from one input and completed by the next, with its
/// blank line right behind it (the decoder's shortcut for events cut by a
/// chunk boundary), when the fixed body cannot hold the whole line.
#[test]
fn fixed_buffer_full_while_completing_a_held_data_line() {
    for (size, expected) in [
        // "data: 0123456789" is 16 bytes: the line must fit whole, as it
        // would had it been cut anywhere; its value and LF (11 bytes) then
        // replace it.
        (12, &["error buffer of 12 bytes full at offset 0", "ok"][..]),
        (15, &["error buffer of 15 bytes full at offset 0", "ok"][..]),
        (16, &["0123456789", "ok"][..]),
    ] {
        let mut body = vec![0u8; size];
        let mut meta = [0u8; 8];
        let mut d =
            Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta));
        let items = run(&mut d, &[b"data: 0123", b"456789\n\ndata: ok\n\n"]);
        assert_eq!(data(&items), expected, "body of {size} bytes");
    }
}

/// The same shortcut with invalid UTF-8 in the completed line, on either
/// side of the cut, and a last event ID from an earlier event.
#[test]
fn held_data_line_with_invalid_utf8_is_replaced() {
    let input = b"id: 7\ndata: a\n\ndata: b\xe2\x82c\n\n";
    for chunks in chunkings(input) {
        let mut d = Decoder::new();
        let items = run(&mut d, &chunks);
        assert_eq!(data(&items), ["a", "b\u{FFFD}c"], "chunks {chunks:?}");
        let Ok(OwnedItem::Event(e)) = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(e.id, "7");
    }
}

#[test]
fn comments_are_reported_in_order() {
    let input = b": one\n:two\ndata: x\n:  three\n\n";
    assert_same_in_every_chunking(
        Limits::new(),
        Utf8::Lossy,
        input,
        &["comment one", "comment two", "comment  three", "x"],
    );
}

#[test]
fn id_too_long_is_an_error_and_the_old_id_stays() {
    let limits = Limits::new().with_max_id_len(4);
    let input = b"id: 1234\ndata: a\n\nid: 12345\ndata: b\n\nid: 12\x00345\ndata: c\n\n";
    assert_same_in_every_chunking(
        limits,
        Utf8::Lossy,
        input,
        &["a", "error id longer than 4 bytes at offset 18", "c"],
    );
    let mut d = Decoder::new().with_limits(limits);
    let _ = run(&mut d, &[input]);
    assert_eq!(
        d.last_event_id(),
        b"1234",
        "an id with NUL is ignored, not measured"
    );
    assert_eq!(
        d.set_last_event_id("12345"),
        Err(Error::IdTooLong {
            limit: 4,
            offset: 0
        })
    );
}

#[test]
fn a_long_last_event_id_costs_at_most_its_limit_per_event() {
    // The last event ID is handed out with every event; it is kept as text,
    // validated once, so that costs O(1) per event, and `max_id_len` bounds
    // the memory. Here 10,000 events after an id of the default limit.
    let mut input = b"id: ".to_vec();
    input.resize(4 + Limits::DEFAULT_MAX_ID_LEN, b'i');
    input.extend_from_slice(b"\n");
    input.extend_from_slice(&b"data: x\n\n".repeat(10_000));
    let mut d = Decoder::new();
    let items = run(&mut d, &[&input]);
    assert_eq!(items.len(), 10_000);
    let mut long = b"id: ".to_vec();
    long.resize(5 + Limits::DEFAULT_MAX_ID_LEN, b'i');
    long.extend_from_slice(b"\ndata: x\n\n");
    let items = run(&mut d, &[&long]);
    assert!(
        matches!(items[..], [Err(Error::IdTooLong { .. })]),
        "{items:?}"
    );
}

/// The defaults accept what real streams send: a 1 MiB `data:` payload
/// (LaunchDarkly's SSE contract tests send them) and a 64 KiB id, on every
/// surface, whole and cut into TCP-sized chunks.
#[test]
fn default_limits_accept_a_1_mib_payload_and_a_64_kib_id() {
    use sse_codec_tests::drive::{run as drive, Mode};
    let payload = "x".repeat(1 << 20);
    let id = "i".repeat(64 << 10);
    let input = format!("id: {id}\ndata: {payload}\n\ndata: next\n\n");
    for mode in Mode::ALL {
        for size in [input.len(), 1460, 8192] {
            let chunks: Vec<&[u8]> = input.as_bytes().chunks(size).collect();
            let r = drive(mode, Limits::new(), &chunks);
            assert!(r.errors.is_empty(), "{mode:?} {size}: {:?}", r.errors);
            assert_eq!(r.transcript.items.len(), 2, "{mode:?} {size}");
            let sse_codec_tests::Output::Event { data, id: got, .. } = &r.transcript.items[0]
            else {
                panic!()
            };
            assert_eq!(
                (data.len(), got.len()),
                (1 << 20, 64 << 10),
                "{mode:?} {size}"
            );
            assert_eq!(r.transcript.last_event_id, id);
        }
    }
}

/// A long last event ID is handed out with every later event without a
/// copy per event: `Bytes` events share one copy of it.
#[test]
fn a_long_id_is_shared_by_the_events_after_it() {
    let mut decoder = Decoder::new();
    let mut buf = bytes::BytesMut::from(format!("id: {}\n\n", "i".repeat(10_000)).as_bytes());
    buf.extend_from_slice(&b"data: a\n\n".repeat(3));
    let mut ids = Vec::new();
    while let Some(item) = decoder.decode_bytes(&mut buf).unwrap() {
        if let sse_codec::BytesItem::Event(e) = item {
            assert_eq!(e.id().len(), 10_000);
            ids.push(e.id().as_ptr());
        }
    }
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|&p| p == ids[0]), "one copy of the id");
}

/// A peer that never ends an event, sending lines that set nothing: the
/// `Bytes` surface keeps an unfinished event in the caller's read buffer,
/// but not those lines past a few KiB, whatever the chunking.
#[test]
fn decode_bytes_keeps_a_bounded_read_buffer_under_endless_ignored_lines() {
    for chunk in [7, 1460, 64 * 1024] {
        let mut decoder = Decoder::new();
        let mut buf = bytes::BytesMut::new();
        let mut input = b"event: t\nid: 1\ndata: first\n".to_vec();
        input.extend_from_slice(&b"unknown: field\nid: with\0nul\n".repeat(20_000));
        input.extend_from_slice(b"data: last\n\n");
        let mut most = 0;
        let mut events = Vec::new();
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(item) = decoder.decode_bytes(&mut buf).unwrap() {
                if let sse_codec::BytesItem::Event(e) = item {
                    events.push((
                        e.event_type().to_owned(),
                        e.id().to_owned(),
                        e.data().to_owned(),
                    ));
                }
            }
            most = most.max(buf.len());
        }
        // The values still in the buffer ("t", "1", "first"), twice over,
        // 4 KiB of slack, and the chunk that has just arrived.
        assert!(
            most <= 2 * 9 + 4096 + chunk + 32,
            "chunks of {chunk}: {most} bytes kept"
        );
        assert_eq!(
            events,
            [("t".to_owned(), "1".to_owned(), "first\nlast".to_owned())]
        );
    }
}
