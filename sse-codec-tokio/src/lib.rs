//! `tokio-util` codec and stream glue for [`sse_codec`].
//!
//! This crate is a placeholder: the `Decoder`/`Encoder` implementations,
//! the body-stream adapter and the server glue are being built on top of
//! the core decoder. Until then, use [`sse_codec::Decoder`] directly.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use sse_codec;
