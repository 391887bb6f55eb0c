//! The small strings that outlive a line: the last event ID, and the event
//! type and pending `id` of the event being assembled.
//!
//! They share one buffer, laid out as
//!
//! ```text
//! [ last event ID | slot 0 | slot 1 | scratch ]
//!   ^0       id_len^               ^live_end
//! ```
//!
//! where each slot holds the event type or the pending id, in the order they
//! were last written. Rewriting the last-written slot truncates and appends;
//! rewriting the other one first moves the last-written slot down. A value is
//! therefore moved at most once per time it is written, which keeps any
//! sequence of `event`/`id` lines linear in the input. Scratch holds the
//! U+FFFD-replaced copy of a value being handed out; it is dropped at the
//! next mutation.
//!
//! **Invariant**: `buf[..id_len]`, the last event ID, is valid UTF-8. It is
//! the spec's "last event ID string", text decoded from the stream with
//! U+FFFD for invalid sequences, and it is handed out with every event, so
//! [`Meta::id_str`] must not cost O(id length) each time. Every write to
//! that range is in this file, from text checked here: [`Meta::set_id`]
//! takes `&str`, and [`Meta::commit_pending_id`] checks the pending id (raw
//! bytes, as the slot holds them) and moves it down only when it is valid,
//! else writes its replaced copy through `set_id`. Nothing outside this file
//! can write to the buffer: `buf` is private, and the methods that append
//! (`push_lossy`, scratch) only ever write past `live_end`.

use crate::storage::{Full, Storage};
use core::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The event type buffer.
    Type,
    /// The value of the event's last `id` field, committed at the blank line.
    PendingId,
}

#[derive(Debug)]
pub(crate) struct Meta<S> {
    buf: S,
    /// `buf[..id_len]` is the last event ID, valid UTF-8 (see the module docs).
    id_len: usize,
    /// Occupied slots after the id, oldest write first; `None`s come last.
    slots: [Option<(Slot, usize)>; 2],
    /// Bumped whenever the last event ID is written, so that a copy of it
    /// can be known current without comparing the bytes.
    id_generation: u64,
}

impl<S: Storage> Meta<S> {
    pub(crate) fn new(mut buf: S) -> Self {
        buf.truncate_to(0);
        Meta {
            buf,
            id_len: 0,
            slots: [None, None],
            id_generation: 0,
        }
    }

    /// Changes whenever the last event ID is written.
    #[cfg_attr(not(feature = "bytes"), allow(dead_code))]
    pub(crate) fn id_generation(&self) -> u64 {
        self.id_generation
    }

    /// The bytes held: id, slots and scratch.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.bytes()
    }

    /// The most bytes the buffer can ever hold, if it cannot grow.
    pub(crate) fn fixed_capacity(&self) -> Option<usize> {
        self.buf.fixed_capacity()
    }

    #[inline]
    fn live_end(&self) -> usize {
        match self.slots {
            [None, _] => self.id_len,
            [Some((_, a)), None] => self.id_len + a,
            [Some((_, a)), Some((_, b))] => self.id_len + a + b,
        }
    }

    /// Drops scratch and lazily cleared slots.
    pub(crate) fn drop_scratch(&mut self) {
        let end = self.live_end();
        self.buf.truncate_to(end);
    }

    /// The last event ID as text, in O(1).
    #[inline]
    pub(crate) fn id_str(&self) -> &str {
        let bytes = self.buf.bytes().get(..self.id_len).unwrap_or_default();
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        // SAFETY: `buf[..id_len]` is valid UTF-8: it is written only by
        // `set_id` (from a `&str`) and `commit_pending_id` (after a check),
        // and no other method writes below `live_end` without moving a whole
        // slot to a slot boundary at or past `id_len` (see the module docs).
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// The length of the last event ID.
    #[inline]
    pub(crate) fn id_len(&self) -> usize {
        self.id_len
    }

    pub(crate) fn get(&self, slot: Slot) -> Option<Range<usize>> {
        let mut start = self.id_len;
        for &(s, len) in self.slots.iter().flatten() {
            if s == slot {
                return Some(start..start + len);
            }
            start += len;
        }
        None
    }

    /// Removes `slot`, moving a later slot down over it.
    fn remove(&mut self, slot: Slot) {
        self.drop_scratch();
        self.unlink(slot);
        self.drop_scratch();
    }

    /// Removes `slot`, moving a later slot down over it; scratch stays
    /// where it was, past the live bytes.
    fn unlink(&mut self, slot: Slot) {
        match self.slots {
            [Some((s, len)), later] if s == slot => {
                if let Some((_, later_len)) = later {
                    // From past `id_len` to `id_len`: the id is untouched.
                    let from = self.id_len + len;
                    self.buf
                        .bytes_mut()
                        .copy_within(from..from + later_len, self.id_len);
                }
                self.slots = [later, None];
            }
            [first, Some((s, _))] if s == slot => self.slots = [first, None],
            _ => {}
        }
    }

    /// Sets `slot` to `value`. On failure the slot is empty.
    pub(crate) fn set(&mut self, slot: Slot, value: &[u8]) -> Result<(), Full> {
        self.remove(slot);
        self.buf.try_extend(value)?;
        let free = usize::from(self.slots[0].is_some());
        self.slots[free] = Some((slot, value.len()));
        Ok(())
    }

    /// Empties `slot`, moving a later slot down over it.
    pub(crate) fn clear(&mut self, slot: Slot) {
        self.remove(slot);
    }

    /// Forgets the event's slots without touching their bytes, which stay
    /// readable until the next mutation or [`drop_scratch`](Self::drop_scratch).
    pub(crate) fn clear_slots(&mut self) {
        self.slots = [None, None];
    }

    /// "Set the last event ID string to the last event ID buffer": the
    /// pending id, if any, becomes the last event ID, with invalid UTF-8
    /// replaced. The event type, if set, stays readable through
    /// [`get`](Self::get).
    pub(crate) fn commit_pending_id(&mut self) -> Result<(), Full> {
        let Some(pending) = self.get(Slot::PendingId) else {
            return Ok(());
        };
        let valid = self
            .buf
            .bytes()
            .get(pending.clone())
            .is_some_and(|b| crate::utf8::validate(b).is_some());
        if !valid {
            // The replaced copy goes to scratch, then becomes the id.
            let copy = crate::utf8::push_lossy_within(&mut self.buf, pending)?;
            self.unlink(Slot::PendingId);
            self.set_id_from_scratch(copy);
            return Ok(());
        }
        self.drop_scratch();
        let end = self.live_end();
        let ty = self.get(Slot::Type);
        let pending_len = pending.len();
        // [id | a | b] -> [a | b]: whole slots move to the front, so the
        // new `buf[..id_len]` is exactly the pending id, checked above.
        let bytes = self.buf.bytes_mut();
        bytes.copy_within(self.id_len..end, 0);
        let kept = end - self.id_len;
        // [type | pending] -> [pending | type]
        if let Some(ty) = &ty {
            if ty.start < pending.start {
                bytes[..kept].rotate_left(ty.len());
            }
        }
        self.buf.truncate_to(kept);
        self.id_len = pending_len;
        self.id_generation += 1;
        self.slots = [ty.map(|t| (Slot::Type, t.len())), None];
        Ok(())
    }

    /// The U+FFFD-replaced id at `copy`, the last bytes of the buffer,
    /// becomes the last event ID; the type slot is kept, the pending slot
    /// must be gone already.
    fn set_id_from_scratch(&mut self, copy: Range<usize>) {
        debug_assert!(self.get(Slot::PendingId).is_none());
        debug_assert_eq!(copy.end, self.buf.bytes().len());
        let ty = self.get(Slot::Type);
        let has_type = ty.is_some();
        let copy_len = copy.len();
        let ty_len = ty.as_ref().map_or(0, |t| t.len());
        // [id | type | .. | copy] -> [copy | id | type | ..] -> [copy | type]
        let bytes = self.buf.bytes_mut();
        bytes.rotate_right(copy_len);
        if let Some(ty) = ty {
            let from = ty.start + copy_len;
            bytes.copy_within(from..from + ty_len, copy_len);
        }
        self.buf.truncate_to(copy_len + ty_len);
        // Valid UTF-8: `push_lossy` and `push_lossy_within` write only
        // valid runs and U+FFFD.
        self.id_len = copy_len;
        self.id_generation += 1;
        self.slots = [has_type.then_some((Slot::Type, ty_len)), None];
        debug_assert!(core::str::from_utf8(&self.buf.bytes()[..copy_len]).is_ok());
    }

    /// Replaces the last event ID, keeping the slots. On error nothing
    /// changes.
    pub(crate) fn set_id(&mut self, id: &str) -> Result<(), Full> {
        self.drop_scratch();
        let end = self.live_end();
        self.buf.try_extend(id.as_bytes())?;
        // [old | slots | new] -> [slots | new | old] -> [slots | new] -> [new | slots]
        let bytes = self.buf.bytes_mut();
        bytes.rotate_left(self.id_len);
        let keep = end - self.id_len + id.len();
        bytes[..keep].rotate_right(id.len());
        self.buf.truncate_to(keep);
        self.id_len = id.len();
        self.id_generation += 1;
        Ok(())
    }

    /// [`set_id`](Self::set_id) from raw bytes, with invalid UTF-8
    /// replaced; the replaced copy needs room in scratch first.
    pub(crate) fn set_id_lossy(&mut self, id: &[u8]) -> Result<(), Full> {
        if let Some(text) = crate::utf8::validate(id) {
            return self.set_id(text);
        }
        self.drop_scratch();
        let copy = crate::utf8::push_lossy(&mut self.buf, id)?;
        // Move the copy in as a pending slot would be: set it aside as the
        // pending id's replaced copy.
        self.unlink(Slot::PendingId);
        self.set_id_from_scratch(copy);
        Ok(())
    }

    /// Appends the U+FFFD-replaced decoding of `bytes` to scratch.
    pub(crate) fn push_lossy(&mut self, bytes: &[u8]) -> Result<Range<usize>, Full> {
        crate::utf8::push_lossy(&mut self.buf, bytes)
    }

    /// Appends the U+FFFD-replaced decoding of `self.bytes()[range]` to
    /// scratch.
    pub(crate) fn push_lossy_within(&mut self, range: Range<usize>) -> Result<Range<usize>, Full> {
        crate::utf8::push_lossy_within(&mut self.buf, range)
    }

    /// Total bytes held, scratch included.
    pub(crate) fn len(&self) -> usize {
        self.buf.bytes().len()
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn meta() -> Meta<Vec<u8>> {
        Meta::new(Vec::new())
    }

    fn text(m: &Meta<Vec<u8>>, r: Option<Range<usize>>) -> Option<&[u8]> {
        r.map(|r| &m.buf[r])
    }

    #[test]
    fn slots_keep_their_values_in_any_order() {
        let mut m = meta();
        m.set(Slot::Type, b"tick").unwrap();
        m.set(Slot::PendingId, b"42").unwrap();
        m.set(Slot::Type, b"longer-type").unwrap();
        assert_eq!(text(&m, m.get(Slot::Type)), Some(&b"longer-type"[..]));
        assert_eq!(text(&m, m.get(Slot::PendingId)), Some(&b"42"[..]));
        m.set(Slot::PendingId, b"").unwrap();
        assert_eq!(text(&m, m.get(Slot::PendingId)), Some(&b""[..]));
        assert_eq!(m.buf, b"longer-type");
    }

    #[test]
    fn commit_moves_pending_id_to_the_front_and_keeps_the_type() {
        // A pending id shorter than, as long as, and longer than the old
        // one, and empty; the type written before or after it; scratch
        // left behind.
        for new in [&b"new"[..], b"new-id", b"newer-id", b""] {
            for type_first in [true, false] {
                let mut m = meta();
                m.set_id("old-id").unwrap();
                if type_first {
                    m.set(Slot::Type, b"type").unwrap();
                    m.set(Slot::PendingId, new).unwrap();
                } else {
                    m.set(Slot::PendingId, new).unwrap();
                    m.set(Slot::Type, b"type").unwrap();
                }
                m.buf.extend_from_slice(b"scratch");
                m.commit_pending_id().unwrap();
                assert_eq!(m.id_str().as_bytes(), new);
                assert_eq!(text(&m, m.get(Slot::Type)), Some(&b"type"[..]));
                assert_eq!(m.get(Slot::PendingId), None);
                assert_eq!(m.len(), new.len() + 4);
            }
        }
    }

    #[test]
    fn set_id_keeps_slots() {
        let mut m = meta();
        m.set(Slot::PendingId, b"p").unwrap();
        m.set(Slot::Type, b"t").unwrap();
        m.set_id("seed").unwrap();
        assert_eq!(m.id_str(), "seed");
        assert_eq!(text(&m, m.get(Slot::PendingId)), Some(&b"p"[..]));
        assert_eq!(text(&m, m.get(Slot::Type)), Some(&b"t"[..]));
        m.set_id("").unwrap();
        assert_eq!(m.buf, b"pt");
    }

    #[test]
    fn cleared_slots_stay_readable_until_scratch_is_dropped() {
        let mut m = meta();
        m.set(Slot::Type, b"t").unwrap();
        let r = m.get(Slot::Type).unwrap();
        m.clear_slots();
        m.buf.push(b'x');
        assert_eq!(&m.buf[r], b"t");
        m.drop_scratch();
        assert!(m.buf.is_empty());
    }

    #[test]
    fn an_invalid_id_is_kept_as_replaced_text() {
        for type_first in [true, false] {
            let mut m = meta();
            m.set_id("old").unwrap();
            if type_first {
                m.set(Slot::Type, b"type").unwrap();
            }
            m.set(Slot::PendingId, b"a\xffb").unwrap();
            if !type_first {
                m.set(Slot::Type, b"type").unwrap();
            }
            m.commit_pending_id().unwrap();
            assert_eq!(m.id_str(), "a\u{FFFD}b");
            assert_eq!(text(&m, m.get(Slot::Type)), Some(&b"type"[..]));
            assert_eq!(m.get(Slot::PendingId), None);
            m.set_id_lossy(b"\xfe1").unwrap();
            assert_eq!(m.id_str(), "\u{FFFD}1");
            assert_eq!(text(&m, m.get(Slot::Type)), Some(&b"type"[..]));
            m.set_id_lossy(b"plain").unwrap();
            assert_eq!(m.id_str(), "plain");
            assert_eq!(m.len(), 5 + 4);
        }
    }
}
