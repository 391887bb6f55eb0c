//! The line loop and the rules: WHATWG HTML, "Interpreting an event
//! stream", each step written once.
//!
//! [`Decoder::run`] walks the lines of one input and hands each to
//! [`Decoder::on_line`], which applies the field's rule; a blank line goes
//! to [`Decoder::dispatch`]. Where a value's bytes are ([`At`], [`Kept`],
//! [`Data`]) is bookkeeping the rules carry along, never a second rule:
//! [`Decoder::spill`] moves what is still in the input to storage, and that
//! is all that differs between an event that arrived in one input and one
//! cut by a chunk boundary.

use super::Decoder;
use crate::field::{classify, parse_retry, Kind};
use crate::line::{Line, Lines};
use crate::storage::{Full, Storage};
use crate::trusted::meta::Slot;
use crate::utf8::strict_utf8;
use crate::Error;
use core::mem::take;
use core::ops::Range;

/// Recovery after an error: what to skip before decoding resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Discard {
    No,
    /// The rest of an overlong line, then [`Discard::Block`].
    RestOfLine,
    /// Lines up to and including the next blank line. `line_empty`: no byte
    /// of the current line has been seen.
    Block {
        line_empty: bool,
    },
}

/// What becomes of the input when a call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// [`Decoder::decode`]: the input is gone after the call. What the
    /// event in progress still has in it, and a partial line, move to
    /// storage before the call returns.
    Slice,
    /// `decode_bytes`: the caller's read buffer keeps the bytes from
    /// `line_start` on, and the next call sees them at the same positions
    /// with more bytes after them. The event in progress stays in it, and a
    /// partial line is searched from `scanned` next time.
    #[cfg_attr(not(feature = "bytes"), allow(dead_code))]
    Retain,
}

/// Where the bytes of a line or value are: the input, or `body` (the
/// completion of a partial line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum At {
    Input(Range<usize>),
    Body(Range<usize>),
}

impl At {
    fn len(&self) -> usize {
        match self {
            At::Input(r) | At::Body(r) => r.len(),
        }
    }

    /// The part from `start` bytes in (clamped to the end).
    fn from(&self, start: usize) -> At {
        match self {
            At::Input(r) => At::Input((r.start + start).min(r.end)..r.end),
            At::Body(r) => At::Body((r.start + start).min(r.end)..r.end),
        }
    }
}

/// Where the event type buffer or the pending id (the spec's "last event
/// ID buffer" before dispatch) is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Not set by this event.
    #[default]
    None,
    /// A value in the input.
    Input(Range<usize>),
    /// Its [`Slot`] in meta.
    Meta,
}

/// The data buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Data {
    /// Empty.
    #[default]
    Empty,
    /// One value, in the input; its LF is implied.
    Input(Range<usize>),
    /// `body[..len]`: every value, each followed by LF.
    Stored(usize),
}

/// The event being assembled.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) data: Data,
    pub(crate) event_type: Kept,
    pub(crate) id: Kept,
}

impl Pending {
    /// The data buffer's size as the spec counts it: each value plus LF.
    fn data_size(&self) -> usize {
        match &self.data {
            Data::Empty => 0,
            Data::Input(r) => r.len() + 1,
            Data::Stored(len) => *len,
        }
    }

    /// Bytes of `body` the data buffer takes.
    pub(crate) fn data_len(&self) -> usize {
        match self.data {
            Data::Stored(len) => len,
            _ => 0,
        }
    }

    /// Whether any value is still in the input.
    #[cfg_attr(not(feature = "bytes"), allow(dead_code))]
    pub(crate) fn in_input(&self) -> bool {
        matches!(self.data, Data::Input(_))
            || matches!(self.event_type, Kept::Input(_))
            || matches!(self.id, Kept::Input(_))
    }
}

/// Where the event type of a dispatched event is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeAt {
    Input(Range<usize>),
    Meta(Range<usize>),
}

/// What a call found, as positions: no borrows, so the decoder can finish
/// its bookkeeping before the item is built. An event's id is the last
/// event ID, in meta.
#[derive(Debug)]
pub(crate) enum Found {
    Event {
        /// The data, its trailing LF removed.
        data: At,
        event_type: Option<TypeAt>,
    },
    Retry(u64),
    Comment(At),
}

impl<S: Storage> Decoder<S> {
    /// The line loop: from the start of `input` (or, in [`Mode::Retain`],
    /// from the partial line) up to the first item or the end of `input`.
    /// Returns how many bytes of `input` were used.
    pub(crate) fn run(
        &mut self,
        input: &[u8],
        mode: Mode,
    ) -> (usize, Result<Option<Found>, Error>) {
        // The previous item's leftovers go: a completed line, scratch.
        self.body
            .truncate_to(self.event.data_len() + self.partial_len);
        self.meta.drop_scratch();
        let from = match mode {
            Mode::Slice => 0,
            Mode::Retain => self.scanned.min(input.len()),
        };
        let (skip, held) = self.scanner.prelude(input.get(from..).unwrap_or_default());
        let search = from + skip;
        let mut pos = search;
        match mode {
            Mode::Slice if !held.is_empty() => {
                // Bytes held as a possible BOM start the first line, at
                // stream offset 0.
                self.partial_offset = 0;
                if self.body.try_extend(held).is_err() {
                    return (pos, Err(self.fail(self.full_body(0), Discard::RestOfLine)));
                }
                self.partial_len = held.len();
            }
            Mode::Slice => {}
            // The held bytes are still in the read buffer, just before
            // `from`; a line in progress starts where it started.
            Mode::Retain if !held.is_empty() => pos = from.saturating_sub(held.len()),
            // A BOM or the LF of a CRLF was skipped: a line starts after it.
            // Or the first bytes may still be a BOM: no line has started.
            Mode::Retain if skip > 0 || self.scanner.holds_bom_prefix() => {}
            Mode::Retain if self.line_start < from => pos = self.line_start,
            Mode::Retain => {}
        }
        let mut lines = Lines::new(input, search);
        loop {
            let Some(Line { end, next }) = lines.next(&mut self.scanner, input, pos) else {
                return self.hold(input, pos, mode);
            };
            let held = self.partial_len;
            let line_len = held + (end - pos);
            let line_offset = if held > 0 {
                self.partial_offset
            } else {
                self.offset + pos as u64
            };
            if !matches!(self.discard, Discard::No) {
                self.discard = match self.discard {
                    Discard::Block { line_empty: true } if line_len == 0 => Discard::No,
                    _ => Discard::Block { line_empty: true },
                };
                self.drop_partial();
                pos = next;
                continue;
            }
            if let Err(e) = self.check_line(line_len, line_offset) {
                return (next, Err(self.fail(e, Discard::Block { line_empty: true })));
            }
            let line = if held > 0 {
                // The partial line is complete: `body[data_len..]`.
                let start = self.event.data_len();
                if self.body.try_extend(&input[pos..end]).is_err() {
                    let e = self.full_body(line_offset);
                    return (next, Err(self.fail(e, Discard::Block { line_empty: true })));
                }
                self.partial_len = 0;
                At::Body(start..start + line_len)
            } else {
                At::Input(pos..end)
            };
            pos = next;
            match self.on_line(input, line, line_offset) {
                Ok(None) => {}
                Ok(Some(found)) => {
                    // The event in progress outlives this input unless it
                    // was just dispatched.
                    if !matches!(found, Found::Event { .. }) {
                        if let Err(e) = self.spill(input, line_offset) {
                            return (pos, Err(e));
                        }
                    }
                    return (pos, Ok(Some(found)));
                }
                Err(e) => return (pos, Err(self.fail(e, Discard::Block { line_empty: true }))),
            }
        }
    }

    /// Limits that apply to every line: its length, and, with a fixed
    /// `body`, room for the data so far and the line as if it had been cut
    /// by a chunk boundary (so that overflowing does not depend on the
    /// chunking).
    fn check_line(&self, line_len: usize, line_offset: u64) -> Result<(), Error> {
        let limit = self.limits.max_line_len();
        if line_len > limit {
            return Err(Error::LineTooLong {
                limit,
                offset: line_offset,
            });
        }
        match self.body.fixed_capacity() {
            Some(capacity) if self.event.data_size() + line_len > capacity => {
                Err(self.full_body(line_offset))
            }
            _ => Ok(()),
        }
    }

    /// One line's rule. `line` is where the line is, without its
    /// terminator.
    fn on_line(
        &mut self,
        input: &[u8],
        line: At,
        line_offset: u64,
    ) -> Result<Option<Found>, Error> {
        let (kind, value_start) = classify(self.bytes(input, &line));
        let value = line.from(value_start);
        let value_offset = line_offset + value_start as u64;
        match kind {
            // "If the line is empty (a blank line): Dispatch the event."
            Kind::Blank => return self.dispatch(input, line_offset),
            // "If the line starts with a U+003A COLON character (:): Ignore
            // the line." Handed out all the same: servers send comments as
            // heartbeats.
            Kind::Comment => {
                self.check_utf8(input, &value, value_offset)?;
                return Ok(Some(Found::Comment(value)));
            }
            // "If the field name is "data": Append the field value to the
            // data buffer, then append a single U+000A LINE FEED (LF)
            // character to the data buffer."
            Kind::Data => {
                self.check_utf8(input, &value, value_offset)?;
                self.append_data(input, value, line_offset)?;
            }
            // "If the field name is "event": Set the event type buffer to the
            // field value."
            Kind::Event => {
                self.check_utf8(input, &value, value_offset)?;
                self.keep(Slot::Type, value, line_offset)?;
            }
            // "If the field name is "id": If the field value does not
            // contain U+0000 NULL, then set the last event ID buffer to the
            // field value. Otherwise, ignore the field."
            Kind::Id => {
                if memchr::memchr(0, self.bytes(input, &value)).is_none() {
                    let limit = self.limits.max_id_len();
                    if value.len() > limit {
                        let offset = line_offset;
                        return Err(Error::IdTooLong { limit, offset });
                    }
                    self.check_utf8(input, &value, value_offset)?;
                    self.keep(Slot::PendingId, value, line_offset)?;
                }
            }
            // "If the field name is "retry": If the field value consists of
            // only ASCII digits, then interpret the field value as an
            // integer in base ten, and set the event stream's reconnection
            // time to that integer. Otherwise, ignore the field."
            Kind::Retry => {
                if let Some(ms) = parse_retry(self.bytes(input, &value)) {
                    self.retry = Some(ms);
                    return Ok(Some(Found::Retry(ms)));
                }
            }
            // "Otherwise: The field is ignored."
            Kind::Other { .. } => {}
        }
        Ok(None)
    }

    /// "Dispatch the event", at a blank line.
    fn dispatch(&mut self, input: &[u8], offset: u64) -> Result<Option<Found>, Error> {
        // 1. "Set the last event ID string of the event source to the value
        //    of the last event ID buffer."
        let Pending {
            data,
            event_type,
            id,
        } = take(&mut self.event);
        let committed = match id {
            Kept::None => Ok(()),
            Kept::Input(r) => self.meta.set_id_lossy(&input[r]),
            Kept::Meta => self.meta.commit_pending_id(),
        };
        committed.map_err(|Full| self.full_meta(offset))?;
        // 2. "If the data buffer is an empty string, set the data buffer and
        //    the event type buffer to the empty string and return."
        // 3. "If the data buffer's last character is a U+000A LINE FEED (LF)
        //    character, then remove the last character from the data
        //    buffer." (A value in the input never had it.)
        let data = match data {
            Data::Empty => {
                self.meta.clear_slots();
                return Ok(None);
            }
            Data::Input(r) => At::Input(r),
            Data::Stored(len) => At::Body(0..len.saturating_sub(1)),
        };
        // 4-5. The event type buffer, or "message" when empty (see
        //      `Event::event_type`). Then "set the data buffer and the event
        //      type buffer to the empty string": their bytes stay readable
        //      until the next call.
        let event_type = match event_type {
            Kept::None => None,
            Kept::Input(r) => Some(TypeAt::Input(r)),
            Kept::Meta => self.meta.get(Slot::Type).map(TypeAt::Meta),
        };
        self.meta.clear_slots();
        self.dispatched += 1;
        Ok(Some(Found::Event { data, event_type }))
    }

    /// Appends a `data` value and its LF to the data buffer.
    fn append_data(&mut self, input: &[u8], value: At, offset: u64) -> Result<(), Error> {
        let size = self.event.data_size();
        let limit = self.limits.max_event_size();
        match size.checked_add(value.len() + 1) {
            Some(n) if n <= limit => {}
            _ => return Err(Error::EventTooLarge { limit, offset }),
        }
        let end = match take(&mut self.event.data) {
            // The usual event: one value, left where it is.
            Data::Empty if matches!(value, At::Input(_)) => {
                if let At::Input(r) = value {
                    self.event.data = Data::Input(r);
                }
                return Ok(());
            }
            Data::Empty => 0,
            Data::Input(first) => {
                // Only a line in the input can follow a value in the input
                // (a partial line is completed at the start of a call), so
                // `body` holds nothing of the event yet.
                self.push_value(input, &At::Input(first), 0)
                    .map_err(|Full| self.full_body(offset))?;
                self.body.bytes().len()
            }
            Data::Stored(len) => len,
        };
        self.push_value(input, &value, end)
            .map_err(|Full| self.full_body(offset))?;
        self.event.data = Data::Stored(self.body.bytes().len());
        Ok(())
    }

    /// Appends `value` and an LF to the data buffer, which ends at `end`;
    /// a value in `body` lies past it (the completed line).
    fn push_value(&mut self, input: &[u8], value: &At, end: usize) -> Result<(), Full> {
        match value {
            At::Input(r) => {
                self.body.truncate_to(end);
                self.body.try_extend_line(&input[r.clone()])
            }
            At::Body(r) => {
                // [data | "data: value"] -> [data | "value\n"]
                let len = r.len();
                self.body.bytes_mut().copy_within(r.clone(), end);
                self.body.truncate_to(end + len);
                self.body.try_extend(b"\n")
            }
        }
    }

    /// Sets the event type or the pending id to `value`.
    fn keep(&mut self, slot: Slot, value: At, offset: u64) -> Result<(), Error> {
        if let Some(capacity) = self.meta.fixed_capacity() {
            // What meta holds were every value in it: the last event ID,
            // the type and the pending id.
            let [ty, id] = [Slot::Type, Slot::PendingId].map(|s| {
                if s == slot {
                    value.len()
                } else {
                    self.kept_len(s)
                }
            });
            if self.meta.id_len() + ty + id > capacity {
                return Err(self.full_meta(offset));
            }
        }
        let kept = match value {
            At::Input(r) => {
                if *self.kept(slot) == Kept::Meta {
                    // A stale copy in meta would take room a later value needs.
                    self.meta.clear(slot);
                }
                Kept::Input(r)
            }
            At::Body(r) => {
                let set = self.meta.set(slot, &self.body.bytes()[r]);
                set.map_err(|Full| self.full_meta(offset))?;
                Kept::Meta
            }
        };
        *self.kept(slot) = kept;
        Ok(())
    }

    fn kept(&mut self, slot: Slot) -> &mut Kept {
        match slot {
            Slot::Type => &mut self.event.event_type,
            Slot::PendingId => &mut self.event.id,
        }
    }

    /// The length of the type or pending id, wherever it is.
    fn kept_len(&self, slot: Slot) -> usize {
        let kept = match slot {
            Slot::Type => &self.event.event_type,
            Slot::PendingId => &self.event.id,
        };
        match kept {
            Kept::None => 0,
            Kept::Input(r) => r.len(),
            Kept::Meta => self.meta.get(slot).map_or(0, |r| r.len()),
        }
    }

    /// Moves what the event in progress still has in `input` to storage:
    /// the input is about to go (or, for `decode_bytes`, be split).
    #[inline(never)]
    pub(crate) fn spill(&mut self, input: &[u8], offset: u64) -> Result<(), Error> {
        if let Data::Input(r) = &self.event.data {
            // No partial or completed line is in `body` alongside a value
            // in the input: the data buffer starts at 0.
            if self.push_value(input, &At::Input(r.clone()), 0).is_err() {
                let e = self.full_body(offset);
                return Err(self.fail(e, Discard::Block { line_empty: true }));
            }
            self.event.data = Data::Stored(self.body.bytes().len());
        }
        for slot in [Slot::Type, Slot::PendingId] {
            if let Kept::Input(r) = self.kept(slot).clone() {
                if self.meta.set(slot, &input[r]).is_err() {
                    let e = self.full_meta(offset);
                    return Err(self.fail(e, Discard::Block { line_empty: true }));
                }
                *self.kept(slot) = Kept::Meta;
            }
        }
        Ok(())
    }

    /// `input` is used up from `pos` without a line end. Out of line: once
    /// per call at most, and the line loop keeps its registers.
    #[inline(never)]
    fn hold(
        &mut self,
        input: &[u8],
        pos: usize,
        mode: Mode,
    ) -> (usize, Result<Option<Found>, Error>) {
        let end = input.len();
        let rest = input.get(pos..).unwrap_or_default();
        (self.line_start, self.scanned) = (end, end);
        if !matches!(self.discard, Discard::No) {
            if let Discard::Block { line_empty } = &mut self.discard {
                *line_empty &= rest.is_empty();
            }
            self.drop_partial();
            return (end, Ok(None));
        }
        let held = self.partial_len;
        let line_offset = if held > 0 {
            self.partial_offset
        } else {
            self.offset + pos as u64
        };
        if !rest.is_empty() {
            if let Err(e) = self.check_line(held + rest.len(), line_offset) {
                return (end, Err(self.fail(e, Discard::RestOfLine)));
            }
        }
        match mode {
            Mode::Slice => {
                if let Err(e) = self.spill(input, line_offset) {
                    if !rest.is_empty() {
                        self.discard = Discard::RestOfLine;
                    }
                    return (end, Err(e));
                }
                // A line completed earlier in this call may still be there
                // (then no partial line was held).
                self.body
                    .truncate_to(self.event.data_len() + self.partial_len);
                if self.body.try_extend(rest).is_err() {
                    let e = self.full_body(line_offset);
                    return (end, Err(self.fail(e, Discard::RestOfLine)));
                }
                self.partial_len += rest.len();
                self.partial_offset = line_offset;
            }
            // Bytes held as a possible BOM (at the start of the stream) stay
            // in the buffer too: they may turn out to start the first line.
            Mode::Retain if self.scanner.holds_bom_prefix() => self.line_start = 0,
            Mode::Retain => self.line_start = pos.min(end),
        }
        (end, Ok(None))
    }

    /// The bytes at `at`.
    fn bytes<'a>(&'a self, input: &'a [u8], at: &At) -> &'a [u8] {
        match at {
            At::Input(r) => input.get(r.clone()),
            At::Body(r) => self.body.bytes().get(r.clone()),
        }
        .unwrap_or_default()
    }

    /// Under [`Utf8::Strict`](crate::Utf8::Strict), an error for a value
    /// that is not valid UTF-8.
    fn check_utf8(&self, input: &[u8], value: &At, offset: u64) -> Result<(), Error> {
        strict_utf8(self.utf8, self.bytes(input, value), offset)
    }

    /// Drops the event in progress and starts skipping to the next blank line.
    #[cold]
    #[inline(never)]
    pub(crate) fn fail(&mut self, e: Error, discard: Discard) -> Error {
        self.drop_event(discard);
        e
    }

    /// Forgets the event in progress and any partial line; `discard` says
    /// what to skip next.
    pub(crate) fn drop_event(&mut self, discard: Discard) {
        self.body.truncate_to(0);
        self.event = Pending::default();
        self.partial_len = 0;
        self.meta.clear_slots();
        self.meta.drop_scratch();
        self.discard = discard;
    }

    /// Forgets a partial line (while skipping).
    fn drop_partial(&mut self) {
        self.body.truncate_to(self.event.data_len());
        self.partial_len = 0;
    }
}
