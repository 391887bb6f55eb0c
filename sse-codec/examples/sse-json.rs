//! Conformance driver: decodes a raw event stream from stdin and prints one
//! JSON object per line, in stream order:
//!
//! - `{"type":…,"data":…,"id":…}` for each dispatched event (`type` is
//!   `message` when none was set; `id` is the last event ID at dispatch);
//! - `{"retry":N}` for each accepted `retry` field.
//!
//! ```text
//! cargo run -p sse-codec --example sse-json [-- --chunk N]
//! ```
//!
//! `--chunk N` feeds the decoder N bytes at a time (0 or absent: all at
//! once). Decoding errors (only possible with limits) go to stderr.

use sse_codec::{Decoder, Item};
use std::io::{self, Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let chunk = match parse_args() {
        Ok(chunk) => chunk,
        Err(msg) => {
            eprintln!("sse-json: {msg}\nusage: sse-json [--chunk N] < stream");
            return ExitCode::from(2);
        }
    };
    let mut input = Vec::new();
    if let Err(e) = io::stdin().lock().read_to_end(&mut input) {
        eprintln!("sse-json: reading stdin: {e}");
        return ExitCode::FAILURE;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut decoder = Decoder::new();
    let size = if chunk == 0 {
        input.len().max(1)
    } else {
        chunk
    };
    let mut line = String::new();
    for piece in input.chunks(size) {
        decoder.feed(piece, |item| match item {
            Ok(Item::Event(event)) => {
                line.clear();
                line.push_str("{\"type\":");
                push_json_string(&mut line, event.event_type());
                line.push_str(",\"data\":");
                push_json_string(&mut line, event.data());
                line.push_str(",\"id\":");
                push_json_string(&mut line, event.id());
                line.push('}');
                let _ = writeln!(out, "{line}");
            }
            Ok(Item::Retry(ms)) => {
                let _ = writeln!(out, "{{\"retry\":{ms}}}");
            }
            Ok(_) => {}
            Err(e) => eprintln!("sse-json: {e}"),
        });
    }
    decoder.finish();
    match out.flush() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse-json: writing stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<usize, String> {
    let mut args = std::env::args().skip(1);
    let mut chunk = 0;
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--chunk=") {
            Some(v) => v.to_owned(),
            None if arg == "--chunk" => args.next().ok_or("--chunk needs a value")?,
            None => return Err(format!("unexpected argument {arg:?}")),
        };
        chunk = value
            .parse()
            .map_err(|_| format!("--chunk takes a byte count, not {value:?}"))?;
    }
    Ok(chunk)
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
