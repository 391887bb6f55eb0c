//! Frames for the encoder tests and the `roundtrip` fuzz target: owned
//! parts, and what a stream of them must decode to, written independently
//! of the encoder.

use crate::{Output, Transcript};
use sse_codec::Frame;

/// A frame's parts, owned, so tests can build the frame and the expected
/// decoding from the same values.
#[derive(Clone, Debug, Default, arbitrary::Arbitrary)]
pub struct Parts {
    /// The comment text.
    pub comment: Option<String>,
    /// The event type.
    pub event_type: Option<String>,
    /// The id.
    pub id: Option<String>,
    /// The retry time.
    pub retry: Option<u64>,
    /// The data.
    pub data: Option<String>,
}

impl Parts {
    /// The frame, borrowing these parts.
    pub fn frame(&self) -> Frame<'_> {
        let mut f = Frame::default();
        if let Some(c) = &self.comment {
            f = f.with_comment(c);
        }
        if let Some(t) = &self.event_type {
            f = f.with_event_type(t);
        }
        if let Some(id) = &self.id {
            f = f.with_id(id);
        }
        if let Some(ms) = self.retry {
            f = f.with_retry(ms);
        }
        if let Some(d) = &self.data {
            f = f.with_data(d);
        }
        f
    }

    /// What the frame decodes to, after a stream whose last event ID is
    /// `last_id`, and the last event ID after it.
    pub fn expected(&self, items: &mut Vec<Output>, last_id: &mut String) {
        if let Some(c) = &self.comment {
            items.extend(lines(c).into_iter().map(Output::Comment));
        }
        if let Some(ms) = self.retry {
            items.push(Output::Retry(ms));
        }
        if let Some(id) = &self.id {
            last_id.clone_from(id);
        }
        if let Some(d) = &self.data {
            let event_type = match self.event_type.as_deref() {
                None | Some("") => "message",
                Some(t) => t,
            };
            items.push(Output::Event {
                event_type: event_type.to_owned(),
                data: lines(d).join("\n"),
                id: last_id.clone(),
            });
        }
    }
}

/// What a stream of `frames` decodes to.
pub fn expected(frames: &[Parts]) -> Transcript {
    let mut t = Transcript::default();
    for p in frames {
        p.expected(&mut t.items, &mut t.last_event_id);
        t.retry = p.retry.or(t.retry);
    }
    t
}

/// `text` split on CRLF, LF and CR, keeping every line: one more line than
/// there are line breaks. Written independently of the encoder's splitter.
pub fn lines(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(String::new());
            }
            '\n' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

impl Parts {
    /// Whether the encoder must accept these parts: no CR or LF in the
    /// event type, no NUL, CR or LF in the id.
    pub fn is_valid(&self) -> bool {
        let type_ok = self
            .event_type
            .as_deref()
            .map_or(true, |t| !t.contains(['\r', '\n']));
        let id_ok = self
            .id
            .as_deref()
            .map_or(true, |i| !i.contains(['\0', '\r', '\n']));
        type_ok && id_ok
    }
}
