//! The crate's only `unsafe` code, and the invariants it rests on.
//!
//! The crate denies `unsafe_code`; this module tree allows it back, and each
//! file states the one invariant its `unsafe` blocks need, kept by code in
//! the same file:
//!
//! - [`simd`]: SSE2 intrinsics for the 64-byte line-end mask. The only
//!   obligation is the pointer of each load, checked by the slice type.
//! - [`meta`]: the small strings that outlive a line (the last event ID, the
//!   event type and pending id of the event being assembled). The last event
//!   ID is kept as valid UTF-8 text, written only by this file after a
//!   check, so handing it out with every event costs O(1), however long the
//!   id.
//! - [`ascii`]: short ASCII values as `&str` after an inlined check, for
//!   small events, where a call to the validator costs more than the check.
//! - `text` (with `bytes`): [`Text`](text::Text), validated UTF-8 in
//!   `Bytes` or inline, whose `&str` accessors are O(1).
//!
//! `.ci/run` runs these modules' tests, and the decoder's over them, under
//! Miri.
#![allow(unsafe_code)]

pub(crate) mod ascii;
pub(crate) mod meta;
pub(crate) mod simd;
#[cfg(feature = "bytes")]
pub(crate) mod text;
