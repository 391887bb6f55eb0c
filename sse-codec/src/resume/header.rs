//! The HTTP values resumption depends on: the `Last-Event-ID` request header
//! and the response's `Content-Type`.

use crate::Error;

/// Whether a response's `Content-Type` value is an event stream: its MIME
/// type essence is `text/event-stream`, compared ASCII case-insensitively,
/// whatever its parameters.
///
/// WHATWG HTML, "Server-sent events": "if res's `Content-Type` is not
/// `text/event-stream`, then fail the connection". The essence is read as
/// the MIME Sniffing standard's "parse a MIME type" does: HTTP whitespace
/// around the value and before `;` is ignored, parameters such as
/// `;charset=utf-8` are allowed and ignored, and `text /event-stream` (a
/// space inside the essence) is not an event stream. A value that combines
/// several headers with `,` is not recognised; pass the last `Content-Type`
/// header.
///
/// # Examples
///
/// ```
/// use sse_codec::is_event_stream;
///
/// assert!(is_event_stream(b"text/event-stream"));
/// assert!(is_event_stream(b"Text/Event-Stream; charset=utf-8"));
/// assert!(is_event_stream(b" text/event-stream ;x=y "));
/// assert!(!is_event_stream(b"text/plain"));
/// assert!(!is_event_stream(b"text/event-streams"));
/// assert!(!is_event_stream(b""));
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[must_use]
pub fn is_event_stream(content_type: &[u8]) -> bool {
    let value = trim(content_type, is_http_whitespace);
    let essence = match memchr::memchr(b';', value) {
        Some(semicolon) => value.get(..semicolon).unwrap_or_default(),
        None => value,
    };
    trim(essence, is_http_whitespace).eq_ignore_ascii_case(b"text/event-stream")
}

/// Reads a `Retry-After` response header value: how long the server asks
/// the client to wait before the next attempt, for
/// [`Outcome::Response`](crate::Outcome::Response).
///
/// RFC 9110, section 10.2.3: the value is an HTTP-date or a number of
/// seconds (`delay-seconds = 1*DIGIT`). Only the seconds form is read,
/// whitespace around it ignored; an HTTP-date, or anything else, is `None`
/// (the policy keeps no clock to compare a date with; its backoff applies).
/// A number too large for a `u64` reads as [`u64::MAX`] seconds; the policy
/// clamps it to [`max_retry`](crate::ReconnectConfig::max_retry).
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use sse_codec::parse_retry_after;
///
/// assert_eq!(parse_retry_after(b"120"), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after(b" 0 "), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after(b"Wed, 21 Oct 2015 07:28:00 GMT"), None);
/// assert_eq!(parse_retry_after(b"-1"), None);
/// assert_eq!(parse_retry_after(b""), None);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[must_use]
pub fn parse_retry_after(value: &[u8]) -> Option<core::time::Duration> {
    let digits = trim(value, is_http_whitespace);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let seconds = digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    Some(core::time::Duration::from_secs(seconds.unwrap_or(u64::MAX)))
}

/// Reads a `Last-Event-ID` request header value: `Ok(None)` when there is no
/// id to resume from, `Ok(Some(id))` to pass to
/// [`ReplayLog::since`](crate::ReplayLog::since).
///
/// WHATWG HTML, "Server-sent events": a client that reconnects sets
/// `Last-Event-ID` to its last event ID string, encoded as UTF-8, if that
/// string is not empty. The string cannot contain U+0000, CR or LF (the
/// parser never stores such an id). HTTP strips spaces and tabs around a
/// field value, and so does this function; an id that is then empty is
/// `Ok(None)`, as is an empty header. Pass an absent header as `b""`.
///
/// # Errors
///
/// [`Error::InvalidLastEventId`] if the value is not UTF-8 or contains
/// U+0000, CR or LF: no event stream can have set it, so no log holds it.
/// A server treats it as an unknown id (or rejects the request).
///
/// # Examples
///
/// ```
/// use sse_codec::{parse_last_event_id, Error};
///
/// assert_eq!(parse_last_event_id(b"42"), Ok(Some("42")));
/// assert_eq!(parse_last_event_id(b" \tabc def "), Ok(Some("abc def")));
/// assert_eq!(parse_last_event_id(b""), Ok(None));
/// assert_eq!(parse_last_event_id(b"  "), Ok(None));
/// assert_eq!(parse_last_event_id(b"\xff"), Err(Error::InvalidLastEventId));
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub fn parse_last_event_id(value: &[u8]) -> Result<Option<&str>, Error> {
    let value = trim(value, is_space_or_tab);
    if value.is_empty() {
        return Ok(None);
    }
    if memchr::memchr3(b'\0', b'\r', b'\n', value).is_some() {
        return Err(Error::InvalidLastEventId);
    }
    core::str::from_utf8(value)
        .map(Some)
        .map_err(|_| Error::InvalidLastEventId)
}

/// Where a client asks to resume: the `Last-Event-ID` header's value if
/// there is one, else the query parameter `param` (usually
/// [`LAST_EVENT_ID_QUERY`](crate::LAST_EVENT_ID_QUERY)) of the request's
/// query string `query` (without the `?`), for a browser's first connection,
/// which cannot set headers. `Ok(None)`: start live.
///
/// The header is read as [`parse_last_event_id`] reads it. The query value
/// is percent-decoded (`+` is a space, as HTML forms and `URLSearchParams`
/// write it), then checked the same way; the first `param` wins. Pass the
/// result to [`ReplayLog::since`](crate::ReplayLog::since).
///
/// # Errors
///
/// [`Error::InvalidLastEventId`] if the value chosen is not UTF-8, holds
/// U+0000, CR or LF, or has a malformed `%` escape: no stream can have set
/// such an id.
///
/// # Examples
///
/// ```
/// use sse_codec::{resume_point, LAST_EVENT_ID_QUERY};
///
/// let q = Some("topic=a&lastEventId=caf%C3%A9+1");
/// assert_eq!(resume_point(Some(b"42"), q, LAST_EVENT_ID_QUERY)?.as_deref(), Some("42"));
/// assert_eq!(resume_point(None, q, LAST_EVENT_ID_QUERY)?.as_deref(), Some("café 1"));
/// assert_eq!(resume_point(None, Some("topic=a"), LAST_EVENT_ID_QUERY)?, None);
/// assert!(resume_point(None, Some("lastEventId=%0A"), LAST_EVENT_ID_QUERY).is_err());
/// # Ok::<(), sse_codec::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub fn resume_point(
    header: Option<&[u8]>,
    query: Option<&str>,
    param: &str,
) -> Result<Option<alloc::string::String>, Error> {
    if let Some(value) = header {
        if let Some(id) = parse_last_event_id(value)? {
            return Ok(Some(id.into()));
        }
    }
    let Some(query) = query else {
        return Ok(None);
    };
    let raw = query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == param).then_some(value)
    });
    let Some(raw) = raw else {
        return Ok(None);
    };
    let decoded = percent_decode(raw.as_bytes()).ok_or(Error::InvalidLastEventId)?;
    Ok(parse_last_event_id(&decoded)?.map(alloc::string::String::from))
}

/// `%XX` and `+` decoded; `None` on a malformed escape.
fn percent_decode(bytes: &[u8]) -> Option<alloc::vec::Vec<u8>> {
    let mut out = alloc::vec::Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let (hex, tail) = rest.split_at_checked(2)?;
                rest = tail;
                let digit = |c: u8| char::from(c).to_digit(16);
                u8::try_from(digit(hex[0])? * 16 + digit(hex[1])?).ok()?
            }
            b => b,
        });
    }
    Some(out)
}

/// Checks that `id` comes back unchanged in a `Last-Event-ID` header sent by
/// any HTTP client: not empty (an empty id is never sent), no space or tab at
/// either end (HTTP strips them), and no control character but tab (HTTP
/// libraries refuse to send one; U+0000, CR and LF could not even be
/// written as an `id` field).
pub(crate) fn check_resumable_id(id: &str) -> Result<(), Error> {
    if memchr::memchr3(b'\0', b'\r', b'\n', id.as_bytes()).is_some() {
        return Err(Error::InvalidId);
    }
    let bytes = id.as_bytes();
    let edges = [bytes.first(), bytes.last()];
    if bytes.is_empty()
        || edges.into_iter().flatten().any(|&b| is_space_or_tab(b))
        || !is_field_value(bytes)
    {
        return Err(Error::InvalidLastEventId);
    }
    Ok(())
}

/// Whether every byte may appear in an HTTP field value (RFC 9110,
/// `field-vchar`, SP and HTAB): printable ASCII, obs-text, space and tab.
pub(crate) fn is_field_value(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

/// HTTP whitespace (Fetch): tab, LF, CR, space.
fn is_http_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | b' ')
}

/// Optional whitespace around an HTTP field value (RFC 9110, `OWS`).
fn is_space_or_tab(b: u8) -> bool {
    matches!(b, b'\t' | b' ')
}

fn trim(mut bytes: &[u8], strip: fn(u8) -> bool) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if !strip(*first) {
            break;
        }
        bytes = rest;
    }
    while let [rest @ .., last] = bytes {
        if !strip(*last) {
            break;
        }
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stream_essence() {
        for yes in [
            &b"text/event-stream"[..],
            b"TEXT/EVENT-STREAM",
            b"text/event-stream;charset=utf-8",
            b"text/event-stream \t; charset=utf-8",
            b"\r\n text/event-stream\t",
            b"text/event-stream;",
        ] {
            assert!(is_event_stream(yes), "{yes:?}");
        }
        for no in [
            &b""[..],
            b";",
            b"text/event-stream2",
            b"text /event-stream",
            b"text/ event-stream",
            b"text/event-stream, text/html",
            b"application/json",
            b"text/event-strea",
        ] {
            assert!(!is_event_stream(no), "{no:?}");
        }
    }

    #[test]
    fn last_event_id_header() {
        assert_eq!(parse_last_event_id(b"\t7\t"), Ok(Some("7")));
        assert_eq!(parse_last_event_id("é".as_bytes()), Ok(Some("é")));
        assert_eq!(parse_last_event_id(b"a\x01b"), Ok(Some("a\x01b")));
        for bad in [&b"a\0"[..], b"a\rb", b"a\nb", b"\xc3"] {
            assert_eq!(parse_last_event_id(bad), Err(Error::InvalidLastEventId));
        }
    }

    #[test]
    fn resumable_ids() {
        assert_eq!(check_resumable_id("a b\tc"), Ok(()));
        assert_eq!(check_resumable_id("é"), Ok(()));
        for nul_cr_lf in ["a\0", "\r", "a\nb"] {
            assert_eq!(check_resumable_id(nul_cr_lf), Err(Error::InvalidId));
        }
        for bad in ["", " a", "a ", "\ta", "a\x01", "a\x7f"] {
            assert_eq!(check_resumable_id(bad), Err(Error::InvalidLastEventId));
        }
    }
}
