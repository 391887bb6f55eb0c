//! One line becomes one borrowed [`Field`]: no copy, no allocation.

/// One line of an event stream, classified but not interpreted.
///
/// WHATWG HTML, "Interpreting an event stream": an empty line dispatches; a
/// line starting with `:` is a comment; otherwise the field name runs to the
/// first `:` and the value follows it, minus one leading U+0020 SPACE; a line
/// with no `:` is a name with an empty value. Names are case-sensitive.
///
/// Values are the raw bytes of the line, not checked for UTF-8: this is the
/// level proxies and tracers work at. [`FieldDecoder`](crate::FieldDecoder)
/// hands these out; [`Decoder`](crate::Decoder) assembles them into events.
///
/// # Examples
///
/// ```
/// use sse_codec::Field;
///
/// assert_eq!(Field::parse(b"data: hello"), Field::Data(b"hello"));
/// assert_eq!(Field::parse(b"data:  two spaces"), Field::Data(b" two spaces"));
/// assert_eq!(Field::parse(b"data"), Field::Data(b""));
/// assert_eq!(Field::parse(b": keepalive"), Field::Comment(b"keepalive"));
/// assert_eq!(Field::parse(b"retry: 3000").retry(), Some(3000));
/// assert_eq!(Field::parse(b"Data: x"), Field::Other { name: b"Data", value: b"x" });
/// assert_eq!(Field::parse(b""), Field::Blank);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field<'a> {
    /// An empty line: the end of an event block ("dispatch the event").
    Blank,
    /// A line starting with `:`. The text after the colon, minus one leading
    /// space, so that `: keepalive` carries `keepalive`.
    Comment(&'a [u8]),
    /// `data`: a line of the event's data.
    Data(&'a [u8]),
    /// `event`: the event type.
    Event(&'a [u8]),
    /// `id`: the last event ID (ignored by event assembly if it contains
    /// U+0000 NULL).
    Id(&'a [u8]),
    /// `retry`: the reconnection time in milliseconds, as written; see
    /// [`Field::retry`] for the parsed value.
    Retry(&'a [u8]),
    /// Any other field name; event assembly ignores it.
    Other {
        /// The field name.
        name: &'a [u8],
        /// The field value.
        value: &'a [u8],
    },
}

/// What kind of line, and where its value starts: the allocation-free core
/// of [`Field::parse`], usable on a line that sits in storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Blank,
    Comment,
    Data,
    Event,
    Id,
    Retry,
    Other { name_len: usize },
}

/// Classifies `line` and returns the index where its value starts.
#[inline(always)]
pub(crate) fn classify(line: &[u8]) -> (Kind, usize) {
    // "Collect the characters on the line after the first U+003A COLON
    // character (:), and let value be that string. If value starts with a
    // U+0020 SPACE character, remove it from value." The index after the
    // colon at `colon` and one optional space: the one place that rule is.
    let value_at = |colon: usize| colon + 1 + usize::from(line.get(colon + 1) == Some(&b' '));
    // The common fields, checked before searching for the colon.
    match line {
        [b'd', b'a', b't', b'a', b':', ..] => return (Kind::Data, value_at(4)),
        [] => return (Kind::Blank, 0),
        [b':', ..] => return (Kind::Comment, value_at(0)),
        [b'e', b'v', b'e', b'n', b't', b':', ..] => return (Kind::Event, value_at(5)),
        [b'i', b'd', b':', ..] => return (Kind::Id, value_at(2)),
        [b'r', b'e', b't', b'r', b'y', b':', ..] => return (Kind::Retry, value_at(5)),
        _ => {}
    }
    let (name, value_start) = match memchr::memchr(b':', line) {
        Some(colon) => (line.get(..colon).unwrap_or_default(), value_at(colon)),
        // "Otherwise, the string is not empty but does not contain a U+003A
        // COLON character (:): process the field using the whole line as the
        // field name, and the empty string as the field value."
        None => (line, line.len()),
    };
    let kind = match name {
        b"data" => Kind::Data,
        b"event" => Kind::Event,
        b"id" => Kind::Id,
        b"retry" => Kind::Retry,
        _ => Kind::Other {
            name_len: name.len(),
        },
    };
    (kind, value_start)
}

/// Parses a `retry` value: "If the field value consists of only ASCII digits,
/// then interpret the field value as an integer in base ten". An empty value,
/// any other character, or a number above [`u64::MAX`] gives `None`.
pub(crate) fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

impl<'a> Field<'a> {
    /// Classifies one line, given without its terminator.
    #[must_use]
    pub fn parse(line: &'a [u8]) -> Self {
        let (kind, start) = classify(line);
        let value = line.get(start..).unwrap_or_default();
        match kind {
            Kind::Blank => Field::Blank,
            Kind::Comment => Field::Comment(value),
            Kind::Data => Field::Data(value),
            Kind::Event => Field::Event(value),
            Kind::Id => Field::Id(value),
            Kind::Retry => Field::Retry(value),
            Kind::Other { name_len } => Field::Other {
                name: line.get(..name_len).unwrap_or_default(),
                value,
            },
        }
    }

    /// The reconnection time this field sets, if it is a `retry` field the
    /// spec accepts: one or more ASCII digits, read in base ten, in
    /// milliseconds. Values above [`u64::MAX`] are ignored, like any other
    /// value that is not a number of milliseconds.
    #[must_use]
    pub fn retry(&self) -> Option<u64> {
        match self {
            Field::Retry(value) => parse_retry(value),
            _ => None,
        }
    }

    /// The field's value: the data, type, id, retry or comment text, or the
    /// value of an unknown field; empty for [`Field::Blank`].
    #[must_use]
    pub fn value(&self) -> &'a [u8] {
        match *self {
            Field::Blank => &[],
            Field::Comment(v)
            | Field::Data(v)
            | Field::Event(v)
            | Field::Id(v)
            | Field::Retry(v)
            | Field::Other { value: v, .. } => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_loses_exactly_one_space() {
        assert_eq!(Field::parse(b"event:  x"), Field::Event(b" x"));
        assert_eq!(Field::parse(b"event:x"), Field::Event(b"x"));
        assert_eq!(Field::parse(b"id:"), Field::Id(b""));
        assert_eq!(Field::parse(b"id"), Field::Id(b""));
        assert_eq!(Field::parse(b"data: a:b"), Field::Data(b"a:b"));
        assert_eq!(Field::parse(b":"), Field::Comment(b""));
        assert_eq!(Field::parse(b"::x"), Field::Comment(b":x"));
    }

    #[test]
    fn names_are_exact() {
        assert_eq!(
            Field::parse(b"data : x"),
            Field::Other {
                name: b"data ",
                value: b"x"
            }
        );
        assert_eq!(Field::parse(b"retry"), Field::Retry(b""));
        assert_eq!(
            Field::parse(b"datax"),
            Field::Other {
                name: b"datax",
                value: b""
            }
        );
        assert_eq!(Field::parse(b"Data: x").value(), b"x");
    }

    #[test]
    fn retry_digits_only() {
        assert_eq!(parse_retry(b"0"), Some(0));
        assert_eq!(parse_retry(b"007"), Some(7));
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b" 1",
            b"1 ",
            b"1.5",
            b"1e3",
            "١".as_bytes(),
        ] {
            assert_eq!(parse_retry(bad), None, "{bad:?}");
        }
    }
}
