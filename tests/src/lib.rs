//! Test support for `sse-codec`: the naive spec oracle, the conformance
//! vectors and the chunking helpers shared by the test targets, the property
//! tests and the fuzzers.
//!
//! - [`naive`]: [`naive::decode`], a line-by-line, allocating transliteration
//!   of the WHATWG HTML Standard, "Server-sent events", sections "Parsing an
//!   event stream" and "Interpreting an event stream". It is slow on purpose
//!   and meant to be read next to the spec.
//! - [`vectors`]: the hand-written conformance vectors in `tests/vectors/*.json`
//!   and their line-ending variants.
//! - [`drive`]: the real decoder, in every storage mode, writing down a
//!   [`Transcript`] and checking the `decode` contract.
//! - [`fuzz`]: the invariants the fuzz targets assert, replayable from tests.
//! - [`seeds`]: fuzz seeds made from the vectors.
//! - [`frames`]: encoder input and what it must decode to.
//! - [`alloc`]: a counting global allocator for the zero-allocation tests.
//! - [`chunk`]: deterministic ways to cut an input into chunks, so every vector
//!   can be fed to a decoder piecemeal.
//!
//! Everything a decoder reports is written down as a [`Transcript`] of
//! [`Output`]s, so the oracle, the vectors and the real decoder compare with
//! `==`.
#![deny(missing_docs)]

pub mod alloc;
pub mod chunk;
pub mod drive;
pub mod frames;
pub mod fuzz;
pub mod naive;
pub mod seeds;
pub mod vectors;

/// One thing a decoder reports, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// A dispatched event. `event_type` is "message" when no type was set; `id` is the last event ID string at dispatch.
    Event {
        /// The event type buffer at dispatch, or `"message"` when it was empty.
        event_type: String,
        /// The data buffer at dispatch, minus one trailing LF.
        data: String,
        /// The last event ID string at dispatch.
        id: String,
    },
    /// An accepted `retry` field, in milliseconds.
    Retry(u64),
    /// A comment line: the text after the leading ':' with exactly one leading U+0020 removed (if present).
    Comment(String),
}

/// Everything a whole stream produces.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Transcript {
    /// Events, accepted retries and comments, in stream order.
    pub items: Vec<Output>,
    /// The last event ID string when the stream ended. An `id` inside an
    /// event that was never finished by a blank line is not reflected.
    pub last_event_id: String,
    /// The last accepted `retry` value, if any.
    pub retry: Option<u64>,
}
