//! A value on cache lines of its own.

use core::ops::Deref;

/// `T` aligned to 128 bytes (two 64-byte lines, which x86 prefetches in
/// pairs): what one thread writes often is kept off the lines that others
/// read, so that a subscriber reading a log's hooks or its published
/// sequence number does not miss the cache each time another locks the log.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CacheLine<T>(pub(crate) T);

impl<T> Deref for CacheLine<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
