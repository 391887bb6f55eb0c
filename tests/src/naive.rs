//! The naive oracle: the WHATWG HTML Standard, "Server-sent events", sections
//! "Parsing an event stream" and "Interpreting an event stream", transliterated
//! line by line.
//!
//! Nothing here is fast or clever. The whole stream is decoded to a `String`
//! first, split into lines, and every line goes through the spec's steps in the
//! spec's order, each step quoted above the code that implements it. When the
//! oracle and a vector disagree, one of them misreads the spec; when the oracle
//! and the real decoder disagree, the real decoder is presumed wrong.
//!
//! Project decisions the spec leaves open are marked "Project decision".

use crate::{Output, Transcript};

/// Decodes a whole event stream and reports everything it produces.
///
/// End of stream is part of the input: a final line without a terminator is
/// never processed, and an event not finished by a blank line is discarded.
///
/// # Examples
///
/// ```
/// use sse_codec_tests::{naive, Output};
///
/// let t = naive::decode(b"id: 7\r\ndata: hi\r\n\r\ndata: unfinished\n");
/// assert_eq!(
///     t.items,
///     [Output::Event { event_type: "message".into(), data: "hi".into(), id: "7".into() }],
/// );
/// assert_eq!(t.last_event_id, "7");
/// ```
pub fn decode(input: &[u8]) -> Transcript {
    // "Interpreting an event stream": "Streams must be decoded using the UTF-8
    // decode algorithm." UTF-8 decode (Encoding Standard) first "peeks" three
    // bytes and, if they are 0xEF 0xBB 0xBF, reads them and throws them away:
    // one BOM, only at the very start. A second BOM is ordinary text (U+FEFF).
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    // The UTF-8 decoder's error mode is "replacement": each maximal subpart of
    // an ill-formed sequence becomes one U+FFFD, which is exactly what
    // `String::from_utf8_lossy` does. Decoding before splitting lines is safe:
    // CR and LF never occur inside a maximal subpart.
    let text = String::from_utf8_lossy(input);

    let mut stream = Stream::default();
    for line in lines(&text) {
        stream.process_line(line);
    }
    // "Once the end of the file is reached, any pending data must be
    // discarded. (If the file ends in the middle of an event, before the final
    // empty line, the incomplete event is not dispatched.)"
    stream.finish()
}

/// Splits `text` into its terminated lines, without their terminators.
///
/// "The stream must then be parsed by reading everything line by line, with a
/// U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair, a single
/// U+000A LINE FEED (LF) character not preceded by a U+000D CARRIAGE RETURN
/// (CR) character, and a single U+000D CARRIAGE RETURN (CR) character not
/// followed by a U+000A LINE FEED (LF) character being the ways in which a line
/// can end."
///
/// Text after the last terminator is not a line: the ABNF
/// (`event = *( comment / field ) end-of-line`) gives every line an
/// `end-of-line`, and end of stream discards pending data.
fn lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                lines.push(&text[start..i]);
                i += 1;
                // A CR followed by an LF is one CRLF terminator, not two.
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                start = i;
            }
            b'\n' => {
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    lines
}

/// A `retry` value as milliseconds, or `None` when the field is to be ignored.
///
/// "If the field value consists of only ASCII digits, then interpret the field
/// value as an integer in base ten". Project decisions: the empty string does
/// not count as "only ASCII digits"; a value too large for a `u64` is ignored,
/// not saturated; leading zeros are fine however many there are, since only the
/// value has to fit (`000…042` is 42).
fn parse_retry(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // After the check above `parse` can only fail by overflow (it would also
    // take a leading '+', which the check has already rejected).
    value.parse().ok()
}

/// The state the spec associates with a stream being parsed.
#[derive(Debug, Default)]
struct Stream {
    // "When a stream is parsed, a data buffer, an event type buffer, and a last
    // event ID buffer must be associated with it. They must be initialized to
    // the empty string."
    data: String,
    event_type: String,
    last_event_id_buffer: String,
    /// The EventSource's "last event ID string", set from the buffer at each
    /// dispatch (the buffer itself is never reset by a dispatch).
    last_event_id: String,
    /// The event stream's "reconnection time", once a `retry` field set it.
    reconnection_time: Option<u64>,
    /// What has been reported so far, in stream order.
    items: Vec<Output>,
}

impl Stream {
    /// "Lines must be processed, in the order they are received, as follows:"
    fn process_line(&mut self, line: &str) {
        if line.is_empty() {
            // "If the line is empty (a blank line): Dispatch the event, as
            // defined below."
            self.dispatch();
        } else if let Some(comment) = line.strip_prefix(':') {
            // "If the line starts with a U+003A COLON character (:): Ignore the
            // line." Project decision: comments are reported, with one leading
            // U+0020 SPACE removed as for field values.
            let comment = comment.strip_prefix(' ').unwrap_or(comment);
            self.items.push(Output::Comment(comment.to_owned()));
        } else if let Some((field, value)) = line.split_once(':') {
            // "If the line contains a U+003A COLON character (:): Collect the
            // characters on the line before the first U+003A COLON character
            // (:), and let field be that string. Collect the characters on the
            // line after the first U+003A COLON character (:), and let value be
            // that string. If value starts with a U+0020 SPACE character,
            // remove it from value. Process the field using the steps described
            // below, using field as the field name and value as the field
            // value."
            let value = value.strip_prefix(' ').unwrap_or(value);
            self.process_field(field, value);
        } else {
            // "Otherwise, the string is not empty but does not contain a
            // U+003A COLON character (:): Process the field using the steps
            // described below, using the whole line as the field name, and the
            // empty string as the field value."
            self.process_field(line, "");
        }
    }

    /// "The steps to process the field given a field name and a field value
    /// depend on the field name, as given in the following list. Field names
    /// must be compared literally, with no case folding performed."
    fn process_field(&mut self, name: &str, value: &str) {
        match name {
            // "If the field name is "event": Set the event type buffer to field
            // value."
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            // "If the field name is "data": Append the field value to the data
            // buffer, then append a single U+000A LINE FEED (LF) character to
            // the data buffer."
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            // "If the field name is "id": If the field value does not contain
            // U+0000 NULL, then set the last event ID buffer to the field
            // value. Otherwise, ignore the field."
            "id" => {
                if value.contains('\0') {
                    return;
                }
                self.last_event_id_buffer.clear();
                self.last_event_id_buffer.push_str(value);
            }
            // "If the field name is "retry": If the field value consists of
            // only ASCII digits, then interpret the field value as an integer
            // in base ten, and set the event stream's reconnection time to that
            // integer. Otherwise, ignore the field."
            "retry" => {
                let Some(ms) = parse_retry(value) else {
                    return;
                };
                self.reconnection_time = Some(ms);
                self.items.push(Output::Retry(ms));
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
    }

    /// "When the user agent is required to dispatch the event, the user agent
    /// must process the data buffer, the event type buffer, and the last event
    /// ID buffer using steps appropriate for the user agent." These are the
    /// steps for web browsers.
    fn dispatch(&mut self) {
        // "1. Set the last event ID string of the event source to the value of
        // the last event ID buffer. The buffer does not get reset, so the last
        // event ID string of the event source remains set to this value until
        // the next time it is set by the server."
        self.last_event_id.clone_from(&self.last_event_id_buffer);

        // "2. If the data buffer is an empty string, set the data buffer and
        // the event type buffer to the empty string and return."
        if self.data.is_empty() {
            self.data.clear();
            self.event_type.clear();
            return;
        }

        // "3. If the data buffer's last character is a U+000A LINE FEED (LF)
        // character, then remove the last character from the data buffer."
        if self.data.ends_with('\n') {
            self.data.pop();
        }

        // "4. Let event be the result of creating an event using
        // MessageEvent, in the relevant realm of the EventSource object.
        // 5. Initialize event's type attribute to "message", its data
        // attribute to data buffer, its origin attribute to the serialization
        // of the origin of the event stream's final URL (i.e., the URL after
        // redirects), and its lastEventId attribute to the last event ID
        // string of the event source.
        // 6. If the event type buffer has a value other than the empty string,
        // change the type of the newly created event to equal the value of the
        // event type buffer."
        let event_type = if self.event_type.is_empty() {
            "message".to_owned()
        } else {
            self.event_type.clone()
        };
        let event = Output::Event {
            event_type,
            data: self.data.clone(),
            id: self.last_event_id.clone(),
        };

        // "7. Set the data buffer and the event type buffer to the empty
        // string."
        self.data.clear();
        self.event_type.clear();

        // "8. Queue a task which, if the readyState attribute is set to a value
        // other than CLOSED, dispatches the newly created event at the
        // EventSource object."
        self.items.push(event);
    }

    /// End of stream: pending data (a partial event's buffers) is dropped; the
    /// last event ID string and the reconnection time stay as they are.
    fn finish(self) -> Transcript {
        Transcript {
            items: self.items,
            last_event_id: self.last_event_id,
            retry: self.reconnection_time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{lines, parse_retry};

    #[test]
    fn lines_end_with_crlf_lf_or_cr() {
        assert_eq!(lines("a\r\nb\nc\rd"), ["a", "b", "c"]);
        assert_eq!(lines("\r\r\n\n\r"), ["", "", "", ""]);
        assert_eq!(lines("\n\r"), ["", ""]);
        assert!(lines("no terminator").is_empty());
    }

    #[test]
    fn retry_is_ascii_digits_that_fit_a_u64() {
        assert_eq!(parse_retry("0"), Some(0));
        assert_eq!(parse_retry("0010"), Some(10));
        assert_eq!(parse_retry("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry("0000000000000000000000000000001"), Some(1));
        for ignored in [
            "",
            "+1",
            "-1",
            " 1",
            "1 ",
            "18446744073709551616",
            "１",
            "1.0",
        ] {
            assert_eq!(parse_retry(ignored), None, "{ignored:?}");
        }
    }
}
