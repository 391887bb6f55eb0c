//! Linear time, checked without a clock: inputs that a rescanning decoder
//! would need hours for (quadratic in the line or event size) must simply
//! finish. A 4 MiB line fed one byte at a time is 4 Mi decode calls; a
//! decoder that rescanned its partial line would look at ~8 Ti bytes.

use sse_codec::{Decoder, Item, Limits};

const MIB: usize = 1 << 20;

#[test]
fn four_mib_line_one_byte_at_a_time() {
    let mut decoder = Decoder::new().with_limits(Limits::new().with_max_line_len(8 * MIB));
    let mut input = b"data: ".to_vec();
    input.resize(4 * MIB, b'x');
    input.extend_from_slice(b"\n\n");
    let mut events = 0;
    for byte in input.chunks(1) {
        let mut rest = byte;
        let item = decoder.decode(&mut rest);
        assert!(rest.is_empty());
        if let Ok(Some(Item::Event(e))) = item {
            assert_eq!(e.data().len(), 4 * MIB - 6);
            events += 1;
        }
    }
    assert_eq!(events, 1);
}

#[test]
fn many_data_lines_one_byte_at_a_time() {
    // 512 Ki data lines in one event: appending must not re-copy the buffer.
    let mut decoder = Decoder::new().with_limits(Limits::unlimited());
    let input = b"data:x\n".repeat(512 * 1024);
    for byte in input.chunks(1) {
        assert_eq!(decoder.decode(&mut &byte[..]), Ok(None));
    }
    let item = decoder.decode(&mut &b"\n"[..]);
    let Ok(Some(Item::Event(e))) = item else {
        panic!("{item:?}")
    };
    assert_eq!(e.data().len(), 2 * 512 * 1024 - 1);
}

#[test]
fn alternating_event_and_id_lines_after_a_long_value() {
    // The event type and pending id share a buffer; rewriting one must not
    // move the other each time (that would be quadratic here).
    let mut decoder = Decoder::new();
    let mut input = b"event: ".to_vec();
    input.resize(256 * 1024, b't');
    input.extend_from_slice(b"\n");
    for i in 0..100_000 {
        input.extend_from_slice(if i % 2 == 0 { b"id: 1\n" } else { b"id: 22\n" });
    }
    input.extend_from_slice(b"data: x\n\n");
    let mut decoder_events = 0;
    decoder.feed(&input, |item| {
        if let Ok(Item::Event(e)) = item {
            assert_eq!((e.id(), e.event_type().len()), ("22", 256 * 1024 - 7));
            decoder_events += 1;
        }
    });
    assert_eq!(decoder_events, 1);
}
