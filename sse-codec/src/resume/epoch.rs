//! The rules of a topic log that many nodes share (a fleet): ids that carry
//! an epoch, topic names, and where a returning client resumes — or the
//! `gap` it is told of instead. No I/O: a backend (in memory, Redis Streams)
//! reads its state, asks [`Window::resume`], and acts on the answer.
//!
//! # The model
//!
//! Each topic numbers its events 1, 2, 3, … with no holes, in one
//! *epoch*: a random 64-bit value chosen when the topic's history begins.
//! History that is lost (a Redis restart without persistence, a flush, a
//! process restart for an in-memory log) starts a new epoch, so an id from
//! the old history can never be mistaken for one of the new. The id a
//! client sees is [`EpochId`]: `<epoch as 16 hex digits>-<seq>`, opaque to
//! it. Sequence number 0 means "before the first event": a client holding
//! `<epoch>-0` has seen nothing of the epoch and can be sent all of it, if
//! the log still holds all of it.
//!
//! Because each topic has its own epoch, an id from one topic is from
//! another epoch for every other topic: it is a [`Gap::OtherEpoch`] there,
//! and never replays that topic's events.
//!
//! # Examples
//!
//! ```
//! use sse_codec::{EpochId, Gap, Resume, Window};
//!
//! // A topic in epoch 0xab holding events 5..=9 (1..=4 were trimmed).
//! let window = Window::new(0xab, 5, 10);
//! let id = EpochId::new(0xab, 6).to_string();
//! assert_eq!(id, "00000000000000ab-6");
//! assert_eq!(window.resume(Some(&id)), Resume::After(6)); // send 7, 8, 9, then live
//! assert_eq!(window.resume(Some("00000000000000ab-4")), Resume::After(4)); // nothing missed
//! assert_eq!(window.resume(Some("00000000000000ab-2")), Resume::Gap(Gap::Trimmed { missed: 2 }));
//! assert_eq!(window.resume(Some("00000000000000cd-6")), Resume::Gap(Gap::OtherEpoch));
//! assert_eq!(window.resume(Some("00000000000000ab-10")), Resume::Gap(Gap::NeverIssued));
//! assert_eq!(window.resume(Some("6")), Resume::Gap(Gap::Malformed));
//! assert_eq!(window.resume(None), Resume::Live);
//! // The gap event names the newest event, so a reconnect after it resumes cleanly.
//! assert_eq!(window.newest().to_string(), "00000000000000ab-9");
//! ```

use core::fmt;

/// An event id that carries its topic's epoch: `<epoch>-<seq>`, the epoch
/// as exactly 16 lowercase hexadecimal digits, the sequence number in
/// decimal without leading zeros. At most [`EpochId::MAX_LEN`] bytes, and
/// always a valid, resumable SSE id (no space, no control character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EpochId {
    epoch: u64,
    seq: u64,
}

impl EpochId {
    /// The longest encoding: 16 hex digits, `-`, 20 decimal digits.
    pub const MAX_LEN: usize = 16 + 1 + 20;

    /// The id of event `seq` of `epoch` (0: before the first event).
    #[must_use]
    pub const fn new(epoch: u64, seq: u64) -> Self {
        EpochId { epoch, seq }
    }

    /// The epoch.
    #[must_use]
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The sequence number within the epoch.
    #[must_use]
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// Reads an id written by [`encode`](Self::encode) (or `Display`).
    /// Anything else — another form, upper-case hex, a leading zero, a sign,
    /// an overflow — is `None`: one id has one spelling.
    ///
    /// ```
    /// use sse_codec::EpochId;
    ///
    /// assert_eq!(EpochId::parse("00000000000000ff-12"), Some(EpochId::new(255, 12)));
    /// for bad in ["ff-12", "00000000000000FF-12", "00000000000000ff-012", "00000000000000ff-", "00000000000000ff-1 "] {
    ///     assert_eq!(EpochId::parse(bad), None, "{bad}");
    /// }
    /// ```
    #[must_use]
    pub fn parse(id: &str) -> Option<Self> {
        let (epoch, seq) = id.split_at_checked(16)?;
        let seq = seq.strip_prefix('-')?;
        let hex = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let mut e = 0u64;
        for b in epoch.bytes() {
            e = (e << 4) | u64::from(hex(b)?);
        }
        if seq.is_empty() || (seq.len() > 1 && seq.starts_with('0')) {
            return None;
        }
        let mut n = 0u64;
        for b in seq.bytes() {
            if !b.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some(EpochId { epoch: e, seq: n })
    }

    /// Writes the id into `buf`, without allocating; returns it.
    ///
    /// ```
    /// use sse_codec::EpochId;
    ///
    /// let mut buf = [0; EpochId::MAX_LEN];
    /// assert_eq!(EpochId::new(u64::MAX, u64::MAX).encode(&mut buf), "ffffffffffffffff-18446744073709551615");
    /// assert_eq!(EpochId::new(1, 0).encode(&mut buf), "0000000000000001-0");
    /// ```
    pub fn encode<'b>(&self, buf: &'b mut [u8; Self::MAX_LEN]) -> &'b str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, slot) in buf[..16].iter_mut().enumerate() {
            *slot = HEX[((self.epoch >> (60 - 4 * i)) & 0xf) as usize];
        }
        buf[16] = b'-';
        let mut digits = [0u8; 20];
        let mut n = self.seq;
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let len = 17 + digits.len() - start;
        buf[17..len].copy_from_slice(&digits[start..]);
        // Only ASCII was written.
        core::str::from_utf8(&buf[..len]).unwrap_or_default()
    }
}

impl fmt::Display for EpochId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode(&mut [0; Self::MAX_LEN]))
    }
}

/// What a topic's log holds now, as far as resuming goes: its epoch, the
/// sequence number of the oldest event it still holds, and the number the
/// next event will get.
///
/// `first == next` when it holds nothing (all trimmed, or nothing appended
/// yet: `Window::new(epoch, 1, 1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    epoch: u64,
    first: u64,
    next: u64,
}

impl Window {
    /// The window of `epoch` holding `first..next`. A `first` of 0 counts
    /// as 1 (0 is no event), and a `next` below `first` as `first`.
    #[must_use]
    pub const fn new(epoch: u64, first: u64, next: u64) -> Self {
        let first = if first == 0 { 1 } else { first };
        let next = if next < first { first } else { next };
        Window { epoch, first, next }
    }

    /// The epoch.
    #[must_use]
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The sequence number of the oldest event held.
    #[must_use]
    pub const fn first(&self) -> u64 {
        self.first
    }

    /// The sequence number the next event will get.
    #[must_use]
    pub const fn next(&self) -> u64 {
        self.next
    }

    /// The id of the newest event issued (`<epoch>-0` before the first):
    /// what a [`gap`](Gap) event carries, so that a client that reconnects
    /// after it resumes from there, not from its lost position again.
    #[must_use]
    pub const fn newest(&self) -> EpochId {
        EpochId::new(self.epoch, self.next - 1)
    }

    /// Where a client that sent `last_event_id` resumes.
    ///
    /// - no id: [`Resume::Live`];
    /// - an id of this epoch whose successor is held, or is the next to
    ///   come: [`Resume::After`] it — nothing was missed, even if the
    ///   id's own event has been trimmed;
    /// - anything else: [`Resume::Gap`], with why. The client is then told
    ///   of the gap and goes on live; it is never handed a replay that
    ///   starts in the wrong place.
    #[must_use]
    pub fn resume(&self, last_event_id: Option<&str>) -> Resume {
        let Some(id) = last_event_id else {
            return Resume::Live;
        };
        let Some(id) = EpochId::parse(id) else {
            return Resume::Gap(Gap::Malformed);
        };
        if id.epoch != self.epoch {
            return Resume::Gap(Gap::OtherEpoch);
        }
        if id.seq >= self.next {
            return Resume::Gap(Gap::NeverIssued);
        }
        // id.seq < next, so id.seq + 1 does not overflow.
        if id.seq + 1 < self.first {
            return Resume::Gap(Gap::Trimmed {
                missed: self.first - (id.seq + 1),
            });
        }
        Resume::After(id.seq)
    }
}

/// Where a returning client resumes: [`Window::resume`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resume {
    /// No `Last-Event-ID`: live events only.
    Live,
    /// Send every event after this sequence number, then live ones.
    After(u64),
    /// The id cannot be resumed: send a `gap` event ([`Gap::frame`]), then
    /// live events.
    Gap(Gap),
}

/// Why a `Last-Event-ID` cannot be resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gap {
    /// Not an id this scheme issues ([`EpochId::parse`] fails).
    Malformed,
    /// An id of another epoch: history lost since it was issued, or another
    /// topic's id.
    OtherEpoch,
    /// The log no longer holds the events after it.
    Trimmed {
        /// Events between the id and the oldest one held.
        missed: u64,
    },
    /// An id of this epoch that was never issued (past the newest event).
    NeverIssued,
}

impl Gap {
    /// The event type of a gap event: `gap`.
    pub const EVENT_TYPE: &'static str = "gap";

    /// The reason, one word: the data of the gap event. `malformed`,
    /// `epoch`, `trimmed` or `unknown`.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        match self {
            Gap::Malformed => "malformed",
            Gap::OtherEpoch => "epoch",
            Gap::Trimmed { .. } => "trimmed",
            Gap::NeverIssued => "unknown",
        }
    }

    /// The gap event: type `gap`, the reason as data, and `id` (the
    /// window's [`newest`](Window::newest), encoded), from which a client
    /// that reconnects resumes.
    ///
    /// ```
    /// use sse_codec::{EpochId, Gap, Window};
    ///
    /// let window = Window::new(7, 1, 4);
    /// let mut buf = [0; EpochId::MAX_LEN];
    /// let frame = Gap::OtherEpoch.frame(window.newest().encode(&mut buf));
    /// assert_eq!(frame.to_vec()?, b"event: gap\nid: 0000000000000007-3\ndata: epoch\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub const fn frame<'a>(&self, id: &'a str) -> crate::Frame<'a> {
        crate::Frame::event(self.reason())
            .with_event_type(Self::EVENT_TYPE)
            .with_id(id)
    }
}

/// The longest topic name [`is_valid_topic`] accepts: 64 bytes.
pub const MAX_TOPIC_LEN: usize = 64;

/// Whether `name` is a topic name: 1 to [`MAX_TOPIC_LEN`] characters of
/// `A–Z`, `a–z`, `0–9`, `_` and `-`. Safe in a URL path, a Redis key and a
/// file name as it is.
///
/// ```
/// use sse_codec::is_valid_topic;
///
/// assert!(is_valid_topic("prices_EUR-USD"));
/// for bad in ["", "a/b", "a b", "é", "{x}", &"x".repeat(65)] {
///     assert!(!is_valid_topic(bad), "{bad}");
/// }
/// ```
#[must_use]
pub fn is_valid_topic(name: &str) -> bool {
    (1..=MAX_TOPIC_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn ids_round_trip_and_have_one_spelling() {
        for (epoch, seq) in [(0, 0), (1, 1), (u64::MAX, u64::MAX), (0xdead_beef, 10)] {
            let id = EpochId::new(epoch, seq);
            let text = id.to_string();
            assert_eq!(EpochId::parse(&text), Some(id), "{text}");
            assert!(text.len() <= EpochId::MAX_LEN);
            assert_eq!(crate::resume::header::check_resumable_id(&text), Ok(()));
        }
        for bad in [
            "",
            "-1",
            "000000000000000-1",
            "00000000000000000-1",
            "0000000000000000+1",
            "0000000000000000-",
            "0000000000000000--1",
            "0000000000000000-01",
            "0000000000000000-18446744073709551616",
            "000000000000000g-1",
            "0000000000000000-1a",
            "é000000000000000-1",
        ] {
            assert_eq!(EpochId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn resume_decides_every_position_of_a_window() {
        let w = Window::new(9, 5, 10);
        let at = |seq| w.resume(Some(&EpochId::new(9, seq).to_string()));
        assert_eq!(at(0), Resume::Gap(Gap::Trimmed { missed: 4 }));
        assert_eq!(at(3), Resume::Gap(Gap::Trimmed { missed: 1 }));
        for seq in 4..=9 {
            assert_eq!(at(seq), Resume::After(seq));
        }
        assert_eq!(at(10), Resume::Gap(Gap::NeverIssued));
        assert_eq!(at(u64::MAX), Resume::Gap(Gap::NeverIssued));
        // Nothing appended yet: only "before the first" resumes.
        let empty = Window::new(9, 1, 1);
        assert_eq!(empty.resume(Some("0000000000000009-0")), Resume::After(0));
        assert_eq!(
            empty.resume(Some("0000000000000009-1")),
            Resume::Gap(Gap::NeverIssued)
        );
        assert_eq!(empty.newest(), EpochId::new(9, 0));
        // Everything held since the start: a client that saw nothing gets it all.
        assert_eq!(
            Window::new(9, 1, 4).resume(Some("0000000000000009-0")),
            Resume::After(0)
        );
        // Normalised bounds.
        assert_eq!(Window::new(1, 0, 0), Window::new(1, 1, 1));
    }

    #[test]
    fn gap_events_name_the_newest_id() {
        let w = Window::new(0x10, 1, 3);
        let id = w.newest().to_string();
        let Resume::Gap(gap) = w.resume(Some("junk")) else {
            panic!()
        };
        let encoded = gap.frame(&id).to_vec().unwrap();
        assert_eq!(
            encoded,
            b"event: gap\nid: 0000000000000010-2\ndata: malformed\n\n"
        );
        // After the gap, the client comes back with the newest id: no gap again.
        assert_eq!(w.resume(Some(&id)), Resume::After(2));
    }
}
