//! Where partial lines, multi-line data, the event type and the last event ID
//! wait between chunks.
//!
//! The decoder needs two growable byte buffers (see
//! [`Decoder::from_storage`](crate::Decoder::from_storage)). [`Storage`] is
//! implemented for a caller's fixed `&mut [u8]` ([`SliceStorage`], no heap at
//! all), for `Vec<u8>` (`alloc`) and for `bytes::BytesMut` (`bytes`).

use core::fmt;
use core::ops::Range;

pub(crate) use private::Full;

mod private {
    pub trait Sealed {}

    /// The buffer was full: the caller's fixed buffer cannot grow.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Full;
}

/// A growable byte buffer the decoder keeps bytes in.
///
/// The trait is sealed: its methods are the decoder's business, and keeping
/// them private lets them change. Bring your own memory with
/// [`SliceStorage`].
pub trait Storage: private::Sealed {
    /// The bytes held.
    #[doc(hidden)]
    fn bytes(&self) -> &[u8];
    /// The bytes held, mutably.
    #[doc(hidden)]
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Shortens to `len` bytes; does nothing if already shorter.
    #[doc(hidden)]
    fn truncate_to(&mut self, len: usize);
    /// Appends all of `bytes`, or nothing.
    #[doc(hidden)]
    fn try_extend(&mut self, bytes: &[u8]) -> Result<(), Full>;
    /// Appends a copy of `self.bytes()[range]`, or nothing.
    #[doc(hidden)]
    fn try_extend_from_within(&mut self, range: Range<usize>) -> Result<(), Full>;
    /// The most bytes this buffer can ever hold, if it cannot grow.
    #[doc(hidden)]
    fn fixed_capacity(&self) -> Option<usize>;
    /// Appends all of `bytes` and an LF, or nothing.
    #[doc(hidden)]
    fn try_extend_line(&mut self, bytes: &[u8]) -> Result<(), Full>;
}

/// A caller-provided fixed buffer: storage with no heap.
///
/// # Examples
///
/// ```
/// use sse_codec::{Decoder, Item, SliceStorage};
///
/// let mut body = [0u8; 1024];
/// let mut meta = [0u8; 256];
/// let mut decoder = Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta));
///
/// let mut input = &b"data: no heap\n\n"[..];
/// let Ok(Some(Item::Event(event))) = decoder.decode(&mut input) else { panic!() };
/// assert!(input.is_empty());
/// assert_eq!(event.data(), "no heap");
/// ```
pub struct SliceStorage<'b> {
    buf: &'b mut [u8],
    /// `0 <= len <= buf.len()`
    len: usize,
}

impl<'b> SliceStorage<'b> {
    /// Wraps `buf`; its contents are ignored and overwritten.
    #[must_use]
    pub fn new(buf: &'b mut [u8]) -> Self {
        SliceStorage { buf, len: 0 }
    }

    /// The capacity of the wrapped buffer.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}

impl fmt::Debug for SliceStorage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SliceStorage")
            .field("len", &self.len)
            .field("capacity", &self.buf.len())
            .finish()
    }
}

impl private::Sealed for SliceStorage<'_> {}

impl Storage for SliceStorage<'_> {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    fn truncate_to(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn try_extend(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len.checked_add(bytes.len()).ok_or(Full)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(Full)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn try_extend_from_within(&mut self, range: Range<usize>) -> Result<(), Full> {
        let n = range.len();
        let end = self.len.checked_add(n).ok_or(Full)?;
        if end > self.buf.len() || range.end > self.len {
            return Err(Full);
        }
        self.buf.copy_within(range, self.len);
        self.len = end;
        Ok(())
    }

    fn fixed_capacity(&self) -> Option<usize> {
        Some(self.buf.len())
    }

    #[inline]
    fn try_extend_line(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len.checked_add(bytes.len()).ok_or(Full)?;
        let (line, lf) = self
            .buf
            .get_mut(self.len..=end)
            .ok_or(Full)?
            .split_at_mut(bytes.len());
        line.copy_from_slice(bytes);
        lf.fill(b'\n');
        self.len = end + 1;
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl private::Sealed for alloc::vec::Vec<u8> {}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
impl Storage for alloc::vec::Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }

    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }

    #[inline]
    fn try_extend(&mut self, bytes: &[u8]) -> Result<(), Full> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn try_extend_line(&mut self, bytes: &[u8]) -> Result<(), Full> {
        self.reserve(bytes.len() + 1);
        self.extend_from_slice(bytes);
        self.push(b'\n');
        Ok(())
    }

    fn try_extend_from_within(&mut self, range: Range<usize>) -> Result<(), Full> {
        if range.start > range.end || range.end > self.len() {
            return Err(Full);
        }
        self.extend_from_within(range);
        Ok(())
    }

    fn fixed_capacity(&self) -> Option<usize> {
        None
    }
}

#[cfg(feature = "bytes")]
impl private::Sealed for bytes::BytesMut {}

#[cfg(feature = "bytes")]
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
impl Storage for bytes::BytesMut {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }

    fn truncate_to(&mut self, len: usize) {
        self.truncate(len);
    }

    #[inline]
    fn try_extend(&mut self, bytes: &[u8]) -> Result<(), Full> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn try_extend_line(&mut self, bytes: &[u8]) -> Result<(), Full> {
        self.reserve(bytes.len() + 1);
        self.extend_from_slice(bytes);
        bytes::BufMut::put_u8(self, b'\n');
        Ok(())
    }

    fn try_extend_from_within(&mut self, range: Range<usize>) -> Result<(), Full> {
        if range.start > range.end || range.end > self.len() {
            return Err(Full);
        }
        let old = self.len();
        self.resize(old + range.len(), 0);
        self.copy_within(range, old);
        Ok(())
    }

    fn fixed_capacity(&self) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_storage_is_all_or_nothing() {
        let mut mem = [0u8; 4];
        let mut s = SliceStorage::new(&mut mem);
        assert_eq!(s.try_extend(b"abc"), Ok(()));
        assert_eq!(s.try_extend(b"de"), Err(Full));
        assert_eq!(s.bytes(), b"abc");
        assert_eq!(s.try_extend_from_within(0..2), Err(Full));
        assert_eq!(s.try_extend_from_within(2..3), Ok(()));
        assert_eq!(s.bytes(), b"abcc");
        assert_eq!(s.try_extend_from_within(3..9), Err(Full));
        s.truncate_to(1);
        assert_eq!(s.bytes(), b"a");
        s.truncate_to(3);
        assert_eq!(s.bytes(), b"a");
        assert_eq!(s.fixed_capacity(), Some(4));
        // A line and its LF: exactly the room left, then one byte short.
        s.truncate_to(0);
        assert_eq!(s.try_extend_line(b"abc"), Ok(()));
        assert_eq!(s.bytes(), b"abc\n");
        s.truncate_to(1);
        assert_eq!(s.try_extend_line(b"xyz"), Err(Full));
        assert_eq!(s.bytes(), b"a");
        assert_eq!(s.try_extend_line(b""), Ok(()));
        assert_eq!(s.bytes(), b"a\n");
    }
}
