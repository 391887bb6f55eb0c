//! The raw, field-level mode: lines in, [`Field`]s out, no event semantics.

use crate::field::Field;
use crate::line::{Lines, Scanner};
use crate::storage::Storage;
use crate::{Error, Limits};

/// Where a completed line is.
enum At {
    Input(core::ops::Range<usize>),
    Stored,
}

/// Streams the fields of an event stream without assembling events.
///
/// For proxies, relays and tracers that must see every line as sent: blank
/// lines, comments, unknown fields, `id` values with NUL, repeated `event`
/// lines. Line endings and the leading byte-order mark are handled exactly
/// as by [`Decoder`](crate::Decoder), values are raw bytes (no UTF-8 check),
/// and only [`Limits::max_line_len`] applies.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "alloc")] {
/// use sse_codec::FieldDecoder;
///
/// let mut fields = FieldDecoder::new();
/// let mut seen = Vec::new();
/// for mut chunk in [&b"\xEF\xBB\xBFdata: a\r"[..], b"\nfoo: bar\n\n"] {
///     while let Some(field) = fields.decode(&mut chunk)? {
///         seen.push(format!("{field:?}"));
///     }
/// }
/// assert_eq!(seen, [r#"Data([97])"#, r#"Other { name: [102, 111, 111], value: [98, 97, 114] }"#, "Blank"]);
/// # }
/// # Ok::<(), sse_codec::Error>(())
/// ```
#[derive(Debug)]
pub struct FieldDecoder<S> {
    limits: Limits,
    scanner: Scanner,
    offset: u64,
    /// A line whose terminator has not arrived, then, after it completes,
    /// the line handed out (cleared at the next call).
    line: S,
    /// `line` holds a partial line (as opposed to a handed-out one).
    partial: bool,
    /// Skipping the rest of an overlong line.
    skipping: bool,
}

#[cfg(feature = "alloc")]
impl FieldDecoder<alloc::vec::Vec<u8>> {
    /// A field decoder with heap storage and the default [`Limits`].
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    #[must_use]
    pub fn new() -> Self {
        Self::from_storage(alloc::vec::Vec::new())
    }
}

#[cfg(feature = "alloc")]
impl Default for FieldDecoder<alloc::vec::Vec<u8>> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage> FieldDecoder<S> {
    /// A field decoder keeping partial lines in `line`.
    #[must_use]
    pub fn from_storage(mut line: S) -> Self {
        line.truncate_to(0);
        FieldDecoder {
            limits: Limits::new(),
            scanner: Scanner::new(),
            offset: 0,
            line,
            partial: false,
            skipping: false,
        }
    }

    /// Sets the limits; only [`Limits::max_line_len`] applies.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Stream offset of the next byte to be decoded.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes held in storage right now.
    #[must_use]
    pub fn buffered_len(&self) -> usize {
        self.line.bytes().len()
    }

    /// Ends the stream: a partial line is discarded, and the decoder is
    /// ready for a new stream.
    pub fn finish(&mut self) {
        self.scanner = Scanner::new();
        self.offset = 0;
        self.line.truncate_to(0);
        self.partial = false;
        self.skipping = false;
    }

    /// Decodes from the front of `input` up to the end of the next line,
    /// and advances `input` past the bytes used; `Ok(None)` when `input` is
    /// used up (a partial line waits inside).
    ///
    /// # Errors
    ///
    /// [`Error::LineTooLong`] past [`Limits::max_line_len`], and
    /// [`Error::StorageFull`] when fixed storage cannot hold a partial line.
    /// Either way the rest of that line is skipped; the next field is the
    /// one on the following line.
    pub fn decode<'d, 'i: 'd>(
        &'d mut self,
        input: &mut &'i [u8],
    ) -> Result<Option<Field<'d>>, Error> {
        if !self.partial {
            self.line.truncate_to(0);
        }
        let bytes: &'i [u8] = input;
        let (consumed, result) = self.step(bytes);
        *input = bytes.get(consumed..).unwrap_or_default();
        self.offset += consumed as u64;
        result.map(|line| {
            line.map(|at| match at {
                At::Input(r) => Field::parse(bytes.get(r).unwrap_or_default()),
                At::Stored => Field::parse(self.line.bytes()),
            })
        })
    }

    /// Returns where the completed line is.
    fn step(&mut self, input: &[u8]) -> (usize, Result<Option<At>, Error>) {
        let (mut pos, held) = self.scanner.prelude(input);
        if !held.is_empty() {
            // Bytes held as a possible BOM start the first line, at offset 0.
            if self.line.try_extend(held).is_err() {
                return (pos, Err(self.full(0, true)));
            }
            self.partial = true;
        }
        let limit = self.limits.max_line_len();
        let mut lines = Lines::new(input, pos);
        loop {
            let rest = &input[pos..];
            let Some(line) = lines.next(&mut self.scanner, input, pos) else {
                if self.skipping || rest.is_empty() {
                    return (input.len(), Ok(None));
                }
                let held = if self.partial {
                    self.line.bytes().len()
                } else {
                    0
                };
                let line_offset = self.offset + pos as u64 - held as u64;
                if held + rest.len() > limit {
                    return (input.len(), Err(self.too_long(line_offset, true)));
                }
                if self.line.try_extend(rest).is_err() {
                    return (input.len(), Err(self.full(line_offset, true)));
                }
                self.partial = true;
                return (input.len(), Ok(None));
            };
            let (len, next) = (line.end - pos, line.next);
            if self.skipping {
                self.skipping = false;
                pos = next;
                continue;
            }
            let line_offset = self.offset + pos as u64;
            if !self.partial {
                if len > limit {
                    return (next, Err(self.too_long(line_offset, false)));
                }
                return (next, Ok(Some(At::Input(pos..pos + len))));
            }
            let held = self.line.bytes().len();
            let line_offset = line_offset - held as u64;
            if held + len > limit {
                return (next, Err(self.too_long(line_offset, false)));
            }
            if self.line.try_extend(&rest[..len]).is_err() {
                return (next, Err(self.full(line_offset, false)));
            }
            self.partial = false;
            return (next, Ok(Some(At::Stored)));
        }
    }

    fn too_long(&mut self, offset: u64, skip_rest: bool) -> Error {
        self.drop_line(skip_rest);
        Error::LineTooLong {
            limit: self.limits.max_line_len(),
            offset,
        }
    }

    fn full(&mut self, offset: u64, skip_rest: bool) -> Error {
        let capacity = self.line.fixed_capacity().unwrap_or(usize::MAX);
        self.drop_line(skip_rest);
        Error::StorageFull { capacity, offset }
    }

    fn drop_line(&mut self, skip_rest: bool) {
        self.line.truncate_to(0);
        self.partial = false;
        self.skipping = skip_rest;
    }
}
