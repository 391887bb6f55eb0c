//! `sse-codec` in firmware with no heap: a Cortex-M4 decodes an event
//! stream that arrives in pieces, then encodes a reply.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release                          # decoder + encoder
//! cargo run --release --no-default-features --features decode   # decoder only
//! cargo run --release --no-default-features    # baseline: no codec
//! ```
//!
//! `cargo run` builds for `thumbv7em-none-eabihf` and starts QEMU's
//! `mps2-an386` board (`.cargo/config.toml`); the output comes over
//! semihosting, and so does the exit status: `debug::exit`, or a panic.
//!
//! The stream is [`READS`]: five reads, as a network stack would hand them
//! over, cut mid-line and between the CR and LF of a CRLF. The decoder keeps
//! what must outlive a read in two fixed buffers, `static`s sized from its
//! [`LIMITS`], so `size` counts them as RAM; nothing is allocated (there is
//! no allocator to call). With `encode`, the firmware answers with a
//! [`Frame`](sse_codec::Frame) written by `encode_to_slice` and checks that
//! it decodes back to itself. Last, it reports how deep the stack went
//! (`stack.rs`).

#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod stack;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

/// The stream, in the pieces it arrives in:
///
/// - read 1 ends with the CR of `id: 41\r\n`, read 2 opens with its LF;
/// - read 2 ends inside a `data:` line, read 3 finishes it;
/// - the `log` event has three data lines, one of them empty;
/// - read 5 is the blank line that dispatches the last event, alone.
const READS: [&[u8]; 5] = [
    b"retry: 2500\r\n\r\n: sensor hub v1\r\nevent: reading\r\nid: 41\r",
    b"\ndata: {\"t\":21.5,\"unit\":\"C\"}\r\n\r\nevent: log\nid: 42\ndata: boot",
    b"ed in 12 ms\ndata:\ndata: two sensors found",
    b"\n\ndata: no event type, the id is kept\n",
    b"\n",
];

#[cfg(feature = "decode")]
mod codec {
    use cortex_m_semihosting::hprintln;
    use sse_codec::{Decoder, Item, Limits, SliceStorage, Storage};

    /// Small limits, so that the buffers below can be small.
    pub(crate) const LIMITS: Limits = Limits::new()
        .with_max_line_len(128)
        .with_max_event_size(256)
        .with_max_id_len(32);
    /// `max_line_len + max_event_size`: a multi-line event's data and a
    /// partial line never overflow it (`Decoder::from_storage`).
    pub(crate) const BODY_LEN: usize = 128 + 256;
    /// `2 * max_id_len + max_line_len`: the last event ID, the pending id
    /// and the event type.
    pub(crate) const META_LEN: usize = 2 * 32 + 128;

    pub(crate) fn decoder<'b>(body: &'b mut [u8], meta: &'b mut [u8]) -> Decoder<SliceStorage<'b>> {
        Decoder::from_storage(SliceStorage::new(body), SliceStorage::new(meta)).with_limits(LIMITS)
    }

    /// Decodes all of `input`, printing each item.
    pub(crate) fn decode_all<S: Storage>(decoder: &mut Decoder<S>, mut input: &[u8]) {
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(Item::Event(e))) => hprintln!(
                    "  event: type={:?} id={:?} data={:?}",
                    e.event_type(),
                    e.id(),
                    e.data()
                ),
                Ok(Some(Item::Retry(ms))) => hprintln!("  retry: {} ms", ms),
                Ok(Some(Item::Comment(text))) => hprintln!("  comment: {:?}", text),
                Ok(Some(_)) => {}
                Ok(None) => return,
                // The decoder has recovered: it skips to the next blank line.
                Err(e) => hprintln!("  error: {}", e),
            }
        }
    }
}

#[entry]
fn main() -> ! {
    // `#[entry]` turns these into `&'static mut` references: buffers in
    // .bss, handed out once, without `unsafe`.
    #[cfg(feature = "decode")]
    static mut BODY: [u8; codec::BODY_LEN] = [0; codec::BODY_LEN];
    #[cfg(feature = "decode")]
    static mut META: [u8; codec::META_LEN] = [0; codec::META_LEN];
    #[cfg(feature = "encode")]
    static mut REPLY: [u8; 64] = [0; 64];

    #[cfg(feature = "decode")]
    let mut decoder = codec::decoder(BODY, META);
    for (n, read) in READS.iter().enumerate() {
        let text = core::str::from_utf8(read).unwrap_or("(not UTF-8)");
        hprintln!("read {} ({} bytes): {:?}", n + 1, read.len(), text);
        #[cfg(feature = "decode")]
        codec::decode_all(&mut decoder, read);
    }

    #[cfg(feature = "decode")]
    {
        let events = decoder.dispatched();
        decoder.finish();
        let last_event_id = core::str::from_utf8(decoder.last_event_id()).unwrap_or("");
        hprintln!(
            "end of stream: {} events, last event ID {:?}",
            events,
            last_event_id
        );
        assert_eq!((events, last_event_id), (3, "42"));

        #[cfg(feature = "encode")]
        {
            use sse_codec::{Frame, Item};

            let reply = Frame::event("received\nthanks")
                .with_event_type("ack")
                .with_id(last_event_id);
            let len = match reply.encode_to_slice(REPLY) {
                Ok(len) => len,
                Err(e) => panic!("encoding the reply: {}", e),
            };
            let encoded = &REPLY[..len];
            hprintln!("reply ({} bytes):", len);
            cortex_m_semihosting::hprint!("{}", core::str::from_utf8(encoded).unwrap_or(""));
            // The reply, decoded by the same decoder (a new stream after
            // `finish`), is the event that was encoded.
            let Ok(Some(Item::Event(back))) = decoder.decode(&mut &encoded[..]) else {
                panic!("the reply did not decode to an event");
            };
            assert_eq!(
                (back.event_type(), back.id(), back.data()),
                ("ack", "42", "received\nthanks")
            );
            hprintln!("reply decodes back to itself");
        }
    }
    #[cfg(not(feature = "decode"))]
    hprintln!("baseline: no codec in this build");

    let (used, size) = stack::usage();
    hprintln!("stack: {} of {} bytes used", used, size);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}
