//! A clock-based sanity check that decoding is linear: times a line of
//! 1, 2, 4 and 8 MiB fed one byte at a time, and a stream of small events of
//! the same sizes fed whole, and prints nanoseconds per byte. Linear means
//! the per-byte figure stays flat as the size doubles.
//!
//! ```text
//! cargo run --release -p sse-codec --example linearity
//! ```

use sse_codec::{Decoder, Item, Limits};
use std::time::Instant;

fn main() {
    println!(
        "{:>8} {:>22} {:>22}",
        "MiB", "1-byte chunks ns/B", "small events ns/B"
    );
    for mib in [1usize, 2, 4, 8] {
        let size = mib << 20;
        let mut line = b"data: ".to_vec();
        line.resize(size, b'x');
        line.extend_from_slice(b"\n\n");
        let mut decoder = Decoder::new().with_limits(Limits::unlimited());
        let start = Instant::now();
        let mut events = 0;
        for byte in line.chunks(1) {
            if let Ok(Some(Item::Event(_))) = decoder.decode(&mut &byte[..]) {
                events += 1;
            }
        }
        let per_byte_chunked = start.elapsed().as_nanos() as f64 / line.len() as f64;
        assert_eq!(events, 1);

        let small = b"id: 1\ndata: {\"delta\":\"tok\"}\n\n".repeat(size / 30);
        let mut decoder = Decoder::new();
        let start = Instant::now();
        let mut events = 0;
        decoder.feed(&small, |item| {
            if let Ok(Item::Event(e)) = item {
                events += e.data().len().min(1);
            }
        });
        let per_byte_small = start.elapsed().as_nanos() as f64 / small.len() as f64;
        assert_eq!(events, size / 30);
        println!("{mib:>8} {per_byte_chunked:>22.2} {per_byte_small:>22.3}");
    }
}
