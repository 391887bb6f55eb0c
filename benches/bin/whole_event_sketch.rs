//! A measuring sketch, not a decoder: how few instructions an event whose
//! every line is in the input can cost when nothing but the event is kept
//! track of. Each line is found with `memchr2`, classified by its prefix,
//! data lines are appended to one buffer joined by LF, and the type, id and
//! data are validated once each. No limits, offsets, comments, `retry`,
//! byte-order mark, CR at the end of the input or held lines: it stops at
//! the first event it cannot finish. `benches/README.md` ("Current") uses it
//! to size a whole-event fast path for `multiline`:
//!
//! ```text
//! cargo build --profile bench -p sse-codec-benches --bin whole-event-sketch
//! SSE_BENCH_SCALE=0.25 valgrind --tool=callgrind --toggle-collect='whole_event_sketch::measured*' \
//!     target/release/whole-event-sketch multiline
//! ```
//!
//! Divide the count by the printed byte count; the event count must match.

use sse_codec_benches::Workload;
use std::hint::black_box;
use std::process::ExitCode;

/// The validation `ours` does: `core::str::from_utf8` under 64 bytes,
/// simdutf8 from there on.
fn valid(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < 64 {
        core::str::from_utf8(bytes).ok()
    } else {
        simdutf8::basic::from_utf8(bytes).ok()
    }
}

struct Sketch {
    /// The event's data lines, joined by LF.
    body: Vec<u8>,
    /// The last event ID.
    id: Vec<u8>,
}

impl Sketch {
    /// The event at the start of `input`: bytes used and the lengths of its
    /// type, id and data; `None` if there is none to finish.
    #[inline(never)]
    fn event(&mut self, input: &[u8]) -> Option<(usize, usize, usize, usize)> {
        let mut pos = 0;
        let mut event_type = 0..0;
        let mut id = None;
        let mut data_lines = 0;
        self.body.clear();
        loop {
            let rest = input.get(pos..)?;
            let eol = memchr::memchr2(b'\r', b'\n', rest)?;
            let line = rest.get(..eol)?;
            let mut next = pos + eol + 1;
            if rest.get(eol..eol + 2) == Some(b"\r\n") {
                next += 1;
            }
            if line.is_empty() {
                pos = next;
                break;
            }
            let (field, name_len) = if line.starts_with(b"data:") {
                (b'd', 5)
            } else if line.starts_with(b"event:") {
                (b'e', 6)
            } else if line.starts_with(b"id:") {
                (b'i', 3)
            } else {
                (b'?', line.len())
            };
            let value_start = name_len + usize::from(line.get(name_len) == Some(&b' '));
            let value = pos + value_start.min(line.len())..pos + line.len();
            match field {
                b'd' => {
                    if data_lines > 0 {
                        self.body.push(b'\n');
                    }
                    self.body.extend_from_slice(input.get(value)?);
                    data_lines += 1;
                }
                b'e' => event_type = value,
                b'i' => id = Some(value),
                _ => {}
            }
            pos = next;
        }
        if data_lines == 0 {
            return None;
        }
        let event_type = valid(input.get(event_type)?)?;
        let id = match id {
            Some(r) => Some(valid(input.get(r)?)?),
            None => None,
        };
        let data = valid(&self.body)?;
        if let Some(id) = id {
            self.id.clear();
            self.id.extend_from_slice(id.as_bytes());
        }
        Some((pos, event_type.len(), self.id.len(), data.len()))
    }
}

/// Every event of `input`, on a sketch held in memory (as `ours` is).
#[inline(never)]
fn measured(input: &[u8]) -> (u64, u64) {
    let mut sketch = Sketch {
        body: Vec::new(),
        id: Vec::new(),
    };
    let sketch = black_box(&mut sketch);
    let mut rest = input;
    let (mut events, mut touched) = (0, 0);
    while let Some((used, event_type, id, data)) = sketch.event(rest) {
        rest = rest.get(used..).unwrap_or_default();
        events += 1;
        touched += (event_type + id + data) as u64;
    }
    (events, touched)
}

fn main() -> ExitCode {
    let Some(workload) = std::env::args().nth(1).and_then(|w| Workload::by_name(&w)) else {
        eprintln!("usage: whole-event-sketch <workload>");
        return ExitCode::FAILURE;
    };
    let input = workload.generate();
    let (events, touched) = measured(&input.bytes);
    println!(
        "{}: {} bytes, {} events ({} expected), {} bytes touched",
        workload.name,
        input.bytes.len(),
        events,
        input.events,
        touched
    );
    if events == input.events {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
