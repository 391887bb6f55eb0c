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
    pub(crate) buf: S,
    /// `buf[..id_len]` is the last event ID.
    id_len: usize,
    /// Occupied slots after the id, oldest write first; `None`s come last.
    slots: [Option<(Slot, usize)>; 2],
}

impl<S: Storage> Meta<S> {
    pub(crate) fn new(buf: S) -> Self {
        let mut meta = Meta {
            buf,
            id_len: 0,
            slots: [None, None],
        };
        meta.buf.truncate_to(0);
        meta
    }

    fn live_end(&self) -> usize {
        self.id_len
            + self
                .slots
                .iter()
                .flatten()
                .map(|&(_, len)| len)
                .sum::<usize>()
    }

    /// Drops scratch and lazily cleared slots.
    pub(crate) fn drop_scratch(&mut self) {
        let end = self.live_end();
        self.buf.truncate_to(end);
    }

    /// [`drop_scratch`](Self::drop_scratch) when there are no slots (the
    /// decoder is idle), and whether the last event ID is valid UTF-8 (or
    /// empty).
    ///
    /// The fast paths check the id here and validate it again where they
    /// hand its text out: a borrow returned on one branch cannot yet be
    /// followed by a mutation (the lossy copy) on the other. Only a
    /// non-empty id pays.
    #[inline(always)]
    pub(crate) fn drop_scratch_of_idle(&mut self) -> bool {
        self.buf.truncate_to(self.id_len);
        self.id_len == 0
            || self
                .buf
                .bytes()
                .get(..self.id_len)
                .and_then(crate::utf8::validate)
                .is_some()
    }

    /// The last event ID's range.
    pub(crate) fn id(&self) -> Range<usize> {
        0..self.id_len
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
        match self.slots {
            [Some((s, len)), later] if s == slot => {
                if let Some((_, later_len)) = later {
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
        self.drop_scratch();
    }

    /// Sets `slot` to `value`. On failure the slot is empty.
    pub(crate) fn set(&mut self, slot: Slot, value: &[u8]) -> Result<(), Full> {
        self.remove(slot);
        self.buf.try_extend(value)?;
        let free = if self.slots[0].is_none() { 0 } else { 1 };
        self.slots[free] = Some((slot, value.len()));
        Ok(())
    }

    /// Whether the event in progress has a type or pending id kept here.
    pub(crate) fn has_slots(&self) -> bool {
        self.slots[0].is_some()
    }

    /// Forgets the event's slots without touching their bytes, which stay
    /// readable until the next mutation or [`drop_scratch`](Self::drop_scratch).
    pub(crate) fn clear_slots(&mut self) {
        self.slots = [None, None];
    }

    /// "Set the last event ID string to the last event ID buffer": the
    /// pending id, if any, becomes the last event ID. The event type, if
    /// set, stays readable through [`get`](Self::get).
    pub(crate) fn commit_pending_id(&mut self) {
        let Some(pending) = self.get(Slot::PendingId) else {
            return;
        };
        self.drop_scratch();
        let end = self.live_end();
        let ty = self.get(Slot::Type);
        let pending_len = pending.len();
        // [id | a | b] -> [a | b]
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
        self.slots = [ty.map(|t| (Slot::Type, t.len())), None];
    }

    /// Replaces the last event ID, keeping the slots.
    /// [`set_id`](Self::set_id) with no slots and no scratch, as when no
    /// event is in progress: the new id overwrites the old one, or is
    /// appended and moved down over it. On error nothing changes.
    #[inline]
    pub(crate) fn replace_id_of_idle(&mut self, id: &[u8]) -> Result<(), Full> {
        debug_assert!(!self.has_slots() && self.buf.bytes().len() == self.id_len);
        let old = self.id_len;
        if let Some(head) = self.buf.bytes_mut().get_mut(..id.len()) {
            // As long as the old id or shorter (ids tend to keep their
            // length): overwritten in place.
            head.copy_from_slice(id);
        } else {
            self.buf.try_extend(id)?;
            self.buf.bytes_mut().copy_within(old.., 0);
        }
        self.buf.truncate_to(id.len());
        self.id_len = id.len();
        Ok(())
    }

    pub(crate) fn set_id(&mut self, id: &[u8]) -> Result<(), Full> {
        self.drop_scratch();
        let end = self.live_end();
        self.buf.try_extend(id)?;
        // [old | slots | new] -> [slots | new | old] -> [slots | new] -> [new | slots]
        let bytes = self.buf.bytes_mut();
        bytes.rotate_left(self.id_len);
        let keep = end - self.id_len + id.len();
        bytes[..keep].rotate_right(id.len());
        self.buf.truncate_to(keep);
        self.id_len = id.len();
        Ok(())
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
                m.set_id(b"old-id").unwrap();
                if type_first {
                    m.set(Slot::Type, b"type").unwrap();
                    m.set(Slot::PendingId, new).unwrap();
                } else {
                    m.set(Slot::PendingId, new).unwrap();
                    m.set(Slot::Type, b"type").unwrap();
                }
                m.buf.extend_from_slice(b"scratch");
                m.commit_pending_id();
                assert_eq!(&m.buf[m.id()], new);
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
        m.set_id(b"seed").unwrap();
        assert_eq!(&m.buf[m.id()], b"seed");
        assert_eq!(text(&m, m.get(Slot::PendingId)), Some(&b"p"[..]));
        assert_eq!(text(&m, m.get(Slot::Type)), Some(&b"t"[..]));
        m.set_id(b"").unwrap();
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
}
