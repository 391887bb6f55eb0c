//! The HTTP facts of an event stream: the response head a server sends and
//! where a client says where to resume. Plain constants, for any HTTP
//! stack (`http::HeaderName::from_static` takes them as they are) or a
//! hand-written HTTP/1.1 head.

/// The `Content-Type` of an event stream.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// The headers every event-stream response sends, as lowercase
/// `(name, value)` pairs:
///
/// - `content-type: text/event-stream`: without it `EventSource` fails the
///   connection ("If res's Content-Type is not `text/event-stream` … fail
///   the connection", WHATWG HTML, "Server-sent events").
/// - `cache-control: no-cache, no-transform`: no cache may answer a later
///   request with this one's events (`no-cache`), and no proxy may
///   transform the body (`no-transform`), which stops proxies that would
///   compress it and hold bytes back while they do.
/// - `x-accel-buffering: no`: nginx, and proxies that copy it, pass each
///   event on as it is written instead of buffering the response.
///
/// A server MUST also send each event as soon as it is written (flush it),
/// MUST NOT compress the response itself, and should send no
/// `Content-Length`: the stream ends when the server closes it.
///
/// ```
/// assert_eq!(sse_codec::RESPONSE_HEADERS[0], ("content-type", "text/event-stream"));
/// ```
pub const RESPONSE_HEADERS: [(&str, &str); 3] = [
    ("content-type", CONTENT_TYPE),
    ("cache-control", "no-cache, no-transform"),
    ("x-accel-buffering", "no"),
];

/// The request header in which a reconnecting `EventSource` sends the last
/// event ID it saw, lowercase.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// The query parameter this crate's helpers read the resume point from when
/// there is no `Last-Event-ID` header: a browser's first connection cannot
/// set headers (`new EventSource(url)`), so a page that stored an id puts
/// it in the URL: `/events?lastEventId=42`. A convention, not part of the
/// spec; the helpers take another name too.
pub const LAST_EVENT_ID_QUERY: &str = "lastEventId";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_lowercase_and_complete() {
        for (name, _) in RESPONSE_HEADERS {
            assert_eq!(name, name.to_ascii_lowercase());
        }
        assert_eq!(RESPONSE_HEADERS[0], ("content-type", "text/event-stream"));
        assert_eq!(LAST_EVENT_ID, "last-event-id");
    }
}
