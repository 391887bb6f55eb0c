//! [`Text`]: valid UTF-8 held in a [`Bytes`] or, when short, inline.
//!
//! **Invariant**: the bytes a `Text` holds are valid UTF-8. Every
//! constructor is in this file and either validates, or takes a `&str` and
//! holds exactly its bytes: a copy, or a [`Bytes`] slice of the same memory
//! (which no one can write while a `Bytes` points at it). So
//! [`Text::as_str`] is O(1), where a `Bytes` would be validated again on
//! every call.

use bytes::Bytes;
use core::{borrow::Borrow, fmt, hash, ops::Deref};

/// Bytes of text kept inline, without a heap allocation or a reference
/// count: an event type, an id such as a UUID, a short token.
const INLINE: usize = 38;

/// Valid UTF-8 in a reference-counted [`Bytes`] or, up to 38 bytes, inline.
///
/// What [`BytesEvent`](crate::BytesEvent) holds its type, id and data in.
/// Text longer than 38 bytes that arrived in the read buffer is a slice of
/// it (no copy); shorter text is copied inline, which costs less than the
/// atomic reference-count updates of a shared slice. Dereferences to `str`,
/// in O(1): it was validated once, when it was made.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use sse_codec::Text;
///
/// let short = Text::from("tick");
/// assert_eq!(&*short, "tick");
/// let long = Text::try_from(Bytes::from("x".repeat(100)))?;
/// assert_eq!(long.len(), 100);
/// assert!(Text::try_from(Bytes::from_static(b"\xff")).is_err());
/// # Ok::<(), core::str::Utf8Error>(())
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "bytes")))]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// `buf[..len]`, valid UTF-8.
    Inline { len: u8, buf: [u8; INLINE] },
    /// Valid UTF-8.
    Shared(Bytes),
}

impl Text {
    /// The most bytes held inline.
    pub(crate) const INLINE: usize = INLINE;

    /// The empty text.
    #[must_use]
    pub const fn new() -> Self {
        Text(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }

    /// The text, in O(1).
    #[must_use]
    pub fn as_str(&self) -> &str {
        let bytes = self.as_bytes();
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        // SAFETY: every constructor in this file holds only bytes of a
        // `&str` (copied, or sliced from the same immutable memory) or bytes
        // it validated; nothing mutates them afterwards (module docs).
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// The text's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The text as [`Bytes`]: the shared slice, or a copy of inline text.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_bytes()),
            Repr::Shared(bytes) => bytes,
        }
    }

    /// Whether the text is held inline (no allocation, no reference count).
    #[must_use]
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// A copy of `s`: inline if it fits, else in a new [`Bytes`].
    pub(crate) fn copy_from_str(s: &str) -> Self {
        Self::inline(s).unwrap_or_else(|| Text(Repr::Shared(Bytes::copy_from_slice(s.as_bytes()))))
    }

    /// A copy of `s`: inline if it fits, else appended to `buf` and split
    /// off it. `buf` is reused once the texts split from it are dropped, so
    /// a caller that drops each event before the next allocates nothing.
    pub(crate) fn copy_into(buf: &mut bytes::BytesMut, s: &str) -> Self {
        Self::inline(s).unwrap_or_else(|| {
            buf.clear();
            buf.extend_from_slice(s.as_bytes());
            // `buf` held exactly the bytes of `s`.
            Text(Repr::Shared(buf.split().freeze()))
        })
    }

    /// `s` as held by an event of `owner` (the bytes split off the read
    /// buffer, if any): inline if it fits, else a slice of `owner` when it
    /// lies in it (a reference count, no copy), else a copy in `copies`
    /// ([`copy_into`](Self::copy_into)).
    pub(crate) fn in_owner(owner: Option<&Bytes>, s: &str, copies: &mut bytes::BytesMut) -> Self {
        if let Some(text) = Self::inline(s) {
            return text;
        }
        if let Some(owner) = owner {
            let start = (s.as_ptr() as usize).wrapping_sub(owner.as_ptr() as usize);
            if let Some(end) = start.checked_add(s.len()).filter(|&end| end <= owner.len()) {
                // `s` is within `owner`: the slice holds exactly the bytes
                // of `s`, valid UTF-8.
                return Text(Repr::Shared(owner.slice(start..end)));
            }
        }
        Self::copy_into(copies, s)
    }

    fn inline(s: &str) -> Option<Self> {
        let mut buf = [0; INLINE];
        buf.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(Text(Repr::Inline {
            // `s.len() <= INLINE < 256`.
            len: s.len() as u8,
            buf,
        }))
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self::copy_from_str(s)
    }
}

impl From<alloc::string::String> for Text {
    fn from(s: alloc::string::String) -> Self {
        Self::inline(&s).unwrap_or_else(|| Text(Repr::Shared(Bytes::from(s.into_bytes()))))
    }
}

/// Validates `bytes`, keeping them shared.
impl TryFrom<Bytes> for Text {
    type Error = core::str::Utf8Error;
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        core::str::from_utf8(&bytes)?;
        Ok(Text(Repr::Shared(bytes)))
    }
}

impl From<Text> for Bytes {
    fn from(text: Text) -> Bytes {
        text.into_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl hash::Hash for Text {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;

    #[test]
    fn short_text_is_inline_and_long_text_shares_its_owner() {
        let owner = Bytes::from("0123456789".repeat(10));
        let s = core::str::from_utf8(&owner[..]).unwrap();
        let mut copies = bytes::BytesMut::new();
        let short = Text::in_owner(Some(&owner), &s[3..7], &mut copies);
        assert!(short.is_inline());
        assert_eq!(short, "3456");
        let long = Text::in_owner(Some(&owner), &s[5..95], &mut copies);
        assert!(!long.is_inline());
        assert_eq!(long.as_bytes().as_ptr(), owner[5..].as_ptr());
        assert_eq!(long.as_str(), &s[5..95]);
        // Not within the owner: copied into `copies`, which is reused once
        // the copy is dropped.
        let elsewhere = "y".repeat(60);
        let copied = Text::in_owner(Some(&owner), &elsewhere, &mut copies);
        assert_eq!(copied, elsewhere.as_str());
        assert_ne!(copied.as_bytes().as_ptr(), elsewhere.as_ptr());
        let at = copied.as_bytes().as_ptr();
        drop(copied);
        let again = Text::in_owner(None, &"z".repeat(50), &mut copies);
        assert_eq!(again, "z".repeat(50).as_str());
        assert_eq!(again.as_bytes().as_ptr(), at);
        assert_eq!(Text::from("").as_str(), "");
        assert_eq!(Text::copy_from_str(&"é".repeat(19)).len(), 38);
        assert!(Text::copy_from_str(&"é".repeat(19)).is_inline());
        assert!(!Text::copy_from_str(&"é".repeat(20)).is_inline());
        assert_eq!(Text::from(s.to_owned()).into_bytes(), owner);
    }

    #[test]
    fn is_small() {
        assert!(core::mem::size_of::<Text>() <= 40);
    }
}
