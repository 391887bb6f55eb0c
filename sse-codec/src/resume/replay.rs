//! The server side: a bounded, append-only log of encoded events that
//! answers "everything after this `Last-Event-ID`".

use super::header::check_resumable_id;
use crate::{Error, Frame};
use alloc::boxed::Box;
use alloc::collections::vec_deque::{self, VecDeque};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;
use core::ops::Range;

/// Bounds on what a [`ReplayLog`] retains.
///
/// | limit | default | what it bounds |
/// |---|---|---|
/// | [`max_events`](Self::max_events) | 1024 | entries retained |
/// | [`max_bytes`](Self::max_bytes) | 1 MiB | encoded bytes retained, the sum of [`Entry::len`] |
/// | [`max_evicted_ids`](Self::max_evicted_ids) | 1024 | caller-chosen ids of evicted entries remembered, so that [`ReplayLog::since`] can answer [`Lookup::Evicted`] rather than [`Lookup::Unknown`] |
///
/// Appending past `max_events` or `max_bytes` evicts the oldest entries
/// until both hold again. The newest entry is always retained (a
/// `max_events` of 0 counts as 1), so a live subscriber can always fetch
/// what was just appended; an entry larger than `max_bytes` on its own is
/// refused with [`Error::EntryTooLarge`]. [`usize::MAX`] means no limit.
///
/// Memory held by a log is at most `max_bytes` plus about 64 bytes per
/// retained entry (its slot and reference counts), plus, for ids you choose
/// (ids the log assigns need neither), an index entry per retained entry
/// (a copy of its id and about 48 bytes) and the remembered ids of evicted
/// entries (`max_evicted_ids` of them, each twice: in eviction order and in
/// the index). Looking an id up takes O(log n) time, whatever the ids.
///
/// # Examples
///
/// ```
/// use sse_codec::{ReplayLimits, ReplayLog};
///
/// const SMALL: ReplayLimits = ReplayLimits::new().with_max_events(100).with_max_bytes(64 << 10);
/// let log = ReplayLog::new().with_limits(SMALL);
/// assert_eq!(log.limits().max_events(), 100);
/// assert_eq!(ReplayLimits::default(), ReplayLimits::new());
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplayLimits {
    max_events: usize,
    max_bytes: usize,
    max_evicted_ids: usize,
}

impl ReplayLimits {
    /// The default maximum number of entries retained: 1024.
    pub const DEFAULT_MAX_EVENTS: usize = 1024;
    /// The default maximum number of encoded bytes retained: 1 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 1 << 20;
    /// The default number of evicted caller-chosen ids remembered: 1024.
    pub const DEFAULT_MAX_EVICTED_IDS: usize = 1024;

    /// The default limits (see the table above).
    #[must_use]
    pub const fn new() -> Self {
        ReplayLimits {
            max_events: Self::DEFAULT_MAX_EVENTS,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_evicted_ids: Self::DEFAULT_MAX_EVICTED_IDS,
        }
    }

    /// No limits: the log keeps everything, and memory grows with it.
    #[must_use]
    pub const fn unlimited() -> Self {
        ReplayLimits {
            max_events: usize::MAX,
            max_bytes: usize::MAX,
            max_evicted_ids: usize::MAX,
        }
    }

    /// Sets how many entries are retained; 0 counts as 1.
    #[must_use]
    pub const fn with_max_events(self, max_events: usize) -> Self {
        let max_events = if max_events == 0 { 1 } else { max_events };
        ReplayLimits { max_events, ..self }
    }

    /// Sets how many encoded bytes are retained, in total.
    #[must_use]
    pub const fn with_max_bytes(self, max_bytes: usize) -> Self {
        ReplayLimits { max_bytes, ..self }
    }

    /// Sets how many ids of evicted entries appended with
    /// [`ReplayLog::append_with_id`] are remembered; 0 remembers none.
    #[must_use]
    pub const fn with_max_evicted_ids(self, max_evicted_ids: usize) -> Self {
        ReplayLimits {
            max_evicted_ids,
            ..self
        }
    }

    /// The most entries retained.
    #[must_use]
    pub const fn max_events(&self) -> usize {
        self.max_events
    }

    /// The most encoded bytes retained.
    #[must_use]
    pub const fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The most evicted caller-chosen ids remembered.
    #[must_use]
    pub const fn max_evicted_ids(&self) -> usize {
        self.max_evicted_ids
    }
}

impl Default for ReplayLimits {
    fn default() -> Self {
        Self::new()
    }
}

/// One event in a [`ReplayLog`]: its encoded bytes, its id and its sequence
/// number.
///
/// Cloning is cheap (a reference count), and the bytes are shared, never
/// copied: write [`as_bytes`](Self::as_bytes) to a socket as is, or, with
/// `bytes` 1.9 or later, hand the entry itself to `Bytes::from_owner` (it
/// is `AsRef<[u8]> + Send + Sync + 'static`) for a `Bytes` without a copy.
///
/// # Examples
///
/// ```
/// use sse_codec::{Frame, ReplayLog};
///
/// let mut log = ReplayLog::new();
/// let entry = log.append(Frame::event("hi").with_event_type("greet"))?.clone();
/// assert_eq!((entry.seq(), entry.id()), (0, "0"));
/// assert_eq!(entry.as_bytes(), b"event: greet\nid: 0\ndata: hi\n\n");
/// # Ok::<(), sse_codec::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    seq: u64,
    /// Where the id is in `bytes`: the value of its `id: ` line.
    /// (An entry is 32 bytes: the offsets are `u32`, so the id must end
    /// within the first 4 GiB of the frame.)
    id: Range<u32>,
    /// The encoded frame, UTF-8 (every part of a frame is a `&str`).
    bytes: Arc<[u8]>,
}

impl Entry {
    /// The sequence number: the log numbers entries 0, 1, 2, … (or from
    /// [`ReplayLog::starting_at`]) in append order, with no gaps.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The event's id, as written in its `id` field.
    #[must_use]
    pub fn id(&self) -> &str {
        self.bytes
            .get(self.id.start as usize..self.id.end as usize)
            .and_then(|id| core::str::from_utf8(id).ok())
            .unwrap_or_default()
    }

    /// The encoded frame, ready to write.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The length of the encoded frame, in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false`: an encoded frame ends with a blank line.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Entry {
    /// Encodes `frame` as the entry numbered `seq`, outside any log: what
    /// [`ReplayLog::append`] (`id` `None`: the id is `seq` in decimal) or
    /// [`ReplayLog::append_with_id`] (`Some`) would store as entry `seq`.
    /// For a log behind a lock: encode before taking it, then
    /// [`ReplayLog::append_entry`] under it, so the lock is not held to
    /// encode.
    ///
    /// # Errors
    ///
    /// As [`ReplayLog::append`] and [`ReplayLog::append_with_id`], but for
    /// the log's `max_bytes`, which `append_entry` checks.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Entry, Frame, ReplayLog};
    ///
    /// let mut log = ReplayLog::new();
    /// let entry = Entry::encode(log.next_seq(), None, Frame::event("hi"))?;
    /// assert_eq!(log.append_entry(entry).unwrap().as_bytes(), b"id: 0\ndata: hi\n\n");
    /// // Made for a sequence number the log has given out since: refused.
    /// let late = Entry::encode(0, None, Frame::event("late"))?;
    /// assert!(log.append_entry(late).is_none());
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn encode(seq: u64, id: Option<&str>, frame: Frame<'_>) -> Result<Entry, Error> {
        let mut digits = [0u8; crate::encode::MAX_DIGITS];
        let id = match id {
            Some(id) => {
                check_resumable_id(id)?;
                id
            }
            None => decimal(seq, &mut digits),
        };
        Entry::with_id(seq, id, frame)
    }

    /// Entry `seq`: `frame` with `id`, encoded.
    fn with_id(seq: u64, id: &str, frame: Frame<'_>) -> Result<Entry, Error> {
        let mut encoded = Vec::new();
        frame.with_id(id).encode_to_vec(&mut encoded)?;
        let range = id_range(&encoded).unwrap_or(0..0);
        debug_assert_eq!(encoded.get(range.clone()), Some(id.as_bytes()));
        let (Ok(start), Ok(end)) = (u32::try_from(range.start), u32::try_from(range.end)) else {
            // An event type or comment of 4 GiB before the id.
            return Err(Error::EntryTooLarge {
                limit: u32::MAX as usize,
                len: encoded.len(),
            });
        };
        Ok(Entry {
            seq,
            id: start..end,
            bytes: Arc::from(encoded),
        })
    }

    /// Whether the id is the one [`ReplayLog::append`] gives this entry.
    fn has_assigned_id(&self) -> bool {
        parse_seq(self.id()) == Some(self.seq)
    }
}

impl AsRef<[u8]> for Entry {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = core::str::from_utf8(&self.bytes).unwrap_or_default();
        f.debug_struct("Entry")
            .field("seq", &self.seq)
            .field("id", &self.id())
            .field("bytes", &text)
            .finish()
    }
}

/// A bounded, append-only log of encoded events, for replay to clients that
/// reconnect with `Last-Event-ID`.
///
/// WHATWG HTML, "Server-sent events": a client that loses its connection
/// reconnects and sends the last event ID it saw; the server is to send what
/// came after it. The log keeps each event encoded once, at
/// [`append`](Self::append), so a replay is a copy of shared bytes
/// ([`Entry`]) with no re-encoding. It does no I/O, takes no locks and
/// keeps no clock.
///
/// Methods, by family:
/// - construct: [`new`](Self::new), [`starting_at`](Self::starting_at),
///   then [`with_limits`](Self::with_limits) ([`ReplayLimits`]);
/// - append: [`append`](Self::append) (the log assigns the id) or
///   [`append_with_id`](Self::append_with_id) (yours), or
///   [`append_entry`](Self::append_entry) of an [`Entry::encode`]d
///   outside a lock;
/// - read: [`since`](Self::since) a `Last-Event-ID` (parsed with
///   [`parse_last_event_id`](crate::parse_last_event_id)),
///   [`from_seq`](Self::from_seq) a sequence number, [`retained`](Self::retained);
///   each returns [`Lookup`]s or [`Replay`]s of [`Entry`]s;
/// - inspect: [`next_seq`](Self::next_seq), [`first_seq`](Self::first_seq),
///   [`get`](Self::get), [`len`](Self::len), [`byte_len`](Self::byte_len),
///   [`limits`](Self::limits).
///
/// # Ids and sequence numbers
///
/// Every entry has a sequence number, [`Entry::seq`], assigned in append
/// order without gaps, and an id, written in its `id` field. With
/// [`append`](Self::append) the id is the sequence number in decimal; with
/// [`append_with_id`](Self::append_with_id) it is yours, and it SHOULD be
/// unique (with duplicates, `since` resumes after the newest). An id of
/// yours that reads as an entry's sequence number counts as assigned.
/// Looking up an id the log assigned takes constant time; looking up your
/// own ids scans the retained entries from the newest. In a log that mixes
/// both kinds, a decimal id in the range of evicted sequence numbers counts
/// as evicted.
///
/// A log that starts again (a server restart) numbers from
/// [`starting_at`](Self::starting_at)'s value: a client could come back with
/// an id that the new log has issued for a different event. Start each log
/// past every id an earlier one issued (from a persisted counter, or a
/// timestamp such as milliseconds since the epoch times 1000), or use ids of
/// your own that cannot repeat.
///
/// # Sharing between connections
///
/// Put the log behind a mutex; hold the lock only to append or to clone
/// entries out (reference counts), never while writing to a socket. A
/// subscriber keeps a cursor, the sequence number of the next entry it
/// wants, [`Replay::next_seq`]:
///
/// 1. Under the lock, look up the client's `Last-Event-ID` with
///    [`since`](Self::since) (or, for a new client, start at
///    [`next_seq`](Self::next_seq)), clone the entries out
///    ([`Replay::to_vec`]) and take the cursor; release the lock and write.
/// 2. Wait for a wake-up (the publisher appends under the lock, releases it,
///    then notifies, e.g. `tokio::sync::watch::Sender::send(log.next_seq())`
///    or `Notify::notify_waiters`), then, under the lock,
///    [`from_seq`](Self::from_seq)`(cursor)`: the entries appended since,
///    and the new cursor. Release the lock and write.
///
/// Every entry is seen exactly once, in order, whenever it was appended
/// relative to the lookup: the cursor is the only state, and a wake-up that
/// finds nothing new costs nothing. A subscriber that falls more than the
/// log's bounds behind gets [`Lookup::Evicted`] from `from_seq`, the same
/// way a reconnecting client does. A broadcast channel of [`Entry`] works
/// too: subscribe under the same lock as the lookup, then skip entries with
/// `seq() < cursor` and treat `seq() > cursor` as a gap.
///
/// # Examples
///
/// ```
/// use sse_codec::{parse_last_event_id, Frame, Lookup, ReplayLog};
/// use std::sync::Mutex;
///
/// let log = Mutex::new(ReplayLog::new());
/// for n in 0..3 {
///     log.lock().unwrap().append(Frame::event(&format!("tick {n}")))?;
/// }
///
/// // A client reconnects with `Last-Event-ID: 0`.
/// let (backlog, mut cursor) = {
///     let log = log.lock().unwrap();
///     let lookup = match parse_last_event_id(b"0")? {
///         Some(id) => log.since(id),
///         None => log.from_seq(log.next_seq()), // a new client: live events only
///     };
///     let Lookup::Found(replay) = lookup else { panic!("evicted or unknown: replay all, or signal a gap") };
///     (replay.to_vec(), replay.next_seq())
/// }; // the lock is released before writing
/// let out: Vec<u8> = backlog.iter().flat_map(|e| e.as_bytes()).copied().collect();
/// assert_eq!(out, b"id: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\n");
///
/// // Live: after each wake-up, take what is new since the cursor.
/// log.lock().unwrap().append(Frame::event("tick 3"))?;
/// let live = {
///     let log = log.lock().unwrap();
///     let Lookup::Found(replay) = log.from_seq(cursor) else { panic!("lagged") };
///     cursor = replay.next_seq();
///     replay.to_vec()
/// };
/// assert_eq!(live[0].as_bytes(), b"id: 3\ndata: tick 3\n\n");
/// assert_eq!(cursor, 4);
/// # Ok::<(), sse_codec::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone)]
pub struct ReplayLog {
    limits: ReplayLimits,
    /// Retained entries, oldest first: `entries[i].seq == first_seq() + i`.
    entries: VecDeque<Entry>,
    /// The sum of `entries[..].len()`; `<= limits.max_bytes`.
    bytes: usize,
    /// How many retained entries have ids the log did not assign.
    own_ids: usize,
    /// Whether the log ever assigned an id: only then can a decimal id it
    /// no longer holds be one it issued.
    assigned_any: bool,
    /// The sequence number of the first entry this log ever appended.
    origin: u64,
    /// The sequence number the next entry gets.
    next_seq: u64,
    /// `(seq, id)` of evicted entries with ids the log did not assign,
    /// oldest first; at most `limits.max_evicted_ids`.
    evicted_ids: VecDeque<(u64, Box<str>)>,
    /// Each id of `evicted_ids`, to the newest `seq` it has there.
    evicted_index: BTreeMap<Box<str>, u64>,
    /// Each id the log did not assign of a retained entry, to the newest
    /// retained `seq` with it.
    own_index: BTreeMap<Box<str>, u64>,
}

impl ReplayLog {
    /// The largest first sequence number [`starting_at`](Self::starting_at)
    /// accepts: 2⁶³, which leaves room for 2⁶³ appends.
    pub const MAX_FIRST_SEQ: u64 = 1 << 63;

    /// An empty log with the default [`ReplayLimits`], numbering entries
    /// from 0.
    #[must_use]
    pub fn new() -> Self {
        Self::starting_at(0)
    }

    /// An empty log with the default [`ReplayLimits`], numbering entries
    /// from `first_seq` (clamped to [`MAX_FIRST_SEQ`](Self::MAX_FIRST_SEQ)).
    ///
    /// ```
    /// use sse_codec::{Frame, ReplayLog};
    ///
    /// let mut log = ReplayLog::starting_at(1_700_000_000_000_000);
    /// assert_eq!(log.append(Frame::event("x"))?.id(), "1700000000000000");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    #[must_use]
    pub fn starting_at(first_seq: u64) -> Self {
        let first_seq = first_seq.min(Self::MAX_FIRST_SEQ);
        ReplayLog {
            limits: ReplayLimits::new(),
            entries: VecDeque::new(),
            bytes: 0,
            own_ids: 0,
            assigned_any: false,
            origin: first_seq,
            next_seq: first_seq,
            evicted_ids: VecDeque::new(),
            evicted_index: BTreeMap::new(),
            own_index: BTreeMap::new(),
        }
    }

    /// Sets the limits, evicting the oldest entries at once if the log
    /// holds more than they allow. The newest entry is kept even if it alone
    /// is larger than the new `max_bytes`.
    #[must_use]
    pub fn with_limits(mut self, limits: ReplayLimits) -> Self {
        self.limits = limits;
        self.evict();
        self
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> ReplayLimits {
        self.limits
    }

    /// Appends an event; the log assigns its id, the decimal form of its
    /// sequence number. Any id set on `frame` is replaced.
    ///
    /// Then evicts the oldest entries as the [`ReplayLimits`] require, and
    /// returns the new entry (clone it to hand it on).
    ///
    /// `frame` need not carry data: an id with no data dispatches no event,
    /// but it still becomes the client's last event ID. Every entry carries
    /// an id, so that a client that received it resumes after it, never
    /// before.
    ///
    /// # Errors
    ///
    /// As [`Frame::encoded_len`], and [`Error::EntryTooLarge`] if the
    /// encoded frame alone is larger than
    /// [`ReplayLimits::max_bytes`], or its id ends past its first 4 GiB (an
    /// event type or comment that long). On error the log is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Frame, ReplayLog};
    ///
    /// let mut log = ReplayLog::new();
    /// log.append(Frame::event("a"))?;
    /// let entry = log.append(Frame::event("b").with_id("ignored"))?;
    /// assert_eq!((entry.seq(), entry.id()), (1, "1"));
    /// assert_eq!(entry.as_bytes(), b"id: 1\ndata: b\n\n");
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn append(&mut self, frame: Frame<'_>) -> Result<&Entry, Error> {
        let mut digits = [0u8; 20];
        let id = decimal(self.next_seq, &mut digits);
        self.push(id, frame)
    }

    /// Appends an event with your id. Any id set on `frame` is replaced.
    ///
    /// The id MUST come back unchanged in a `Last-Event-ID` header, or no
    /// client could resume after it: it is not empty, has no space or tab
    /// at either end, and no control character but tab. It SHOULD be
    /// unique within the log.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidId`] if `id` contains U+0000, CR or LF;
    /// [`Error::InvalidLastEventId`] if it is otherwise not as above; and
    /// as [`append`](Self::append). On error the log is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Error, Frame, Lookup, ReplayLog};
    ///
    /// let mut log = ReplayLog::new();
    /// log.append_with_id("order-17", Frame::event("created"))?;
    /// log.append_with_id("order-18", Frame::event("paid"))?;
    /// let Lookup::Found(replay) = log.since("order-17") else { panic!() };
    /// assert_eq!(replay.map(|e| e.id()).collect::<Vec<_>>(), ["order-18"]);
    /// assert_eq!(log.append_with_id(" 19", Frame::event("x")).unwrap_err(), Error::InvalidLastEventId);
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn append_with_id(&mut self, id: &str, frame: Frame<'_>) -> Result<&Entry, Error> {
        check_resumable_id(id)?;
        self.push(id, frame)
    }

    /// Appends an entry made with [`Entry::encode`], if its sequence
    /// number is still this log's [`next_seq`](Self::next_seq) and it is
    /// within [`ReplayLimits::max_bytes`]; then evicts as
    /// [`append`](Self::append) does and returns it. `None`: the log is
    /// unchanged (another append came first, or the entry is too large);
    /// append the frame itself instead, which encodes it again or says
    /// what is wrong.
    pub fn append_entry(&mut self, entry: Entry) -> Option<&Entry> {
        if entry.seq != self.next_seq || entry.len() > self.limits.max_bytes {
            return None;
        }
        self.push_entry(entry)
    }

    fn push(&mut self, id: &str, frame: Frame<'_>) -> Result<&Entry, Error> {
        let len = frame.with_id(id).encoded_len()?;
        if len > self.limits.max_bytes {
            return Err(Error::EntryTooLarge {
                limit: self.limits.max_bytes,
                len,
            });
        }
        let entry = Entry::with_id(self.next_seq, id, frame)?;
        let limit = self.limits.max_bytes;
        // Never `None`: the newest entry fits on its own and is never evicted.
        self.push_entry(entry)
            .ok_or(Error::EntryTooLarge { limit, len })
    }

    /// Appends entry `next_seq`, at most `max_bytes` long; evicts.
    fn push_entry(&mut self, entry: Entry) -> Option<&Entry> {
        let len = entry.len();
        let assigned = entry.has_assigned_id();
        if !assigned {
            self.own_index.insert(Box::from(entry.id()), entry.seq);
        }
        self.own_ids += usize::from(!assigned);
        self.assigned_any |= assigned;
        self.next_seq = self.next_seq.saturating_add(1);
        self.bytes += len;
        self.entries.push_back(entry);
        self.evict();
        self.entries.back()
    }

    /// Drops the oldest entries until the limits hold; keeps the newest.
    fn evict(&mut self) {
        while self.entries.len() > 1
            && (self.entries.len() > self.limits.max_events || self.bytes > self.limits.max_bytes)
        {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            if !old.has_assigned_id() {
                self.own_ids -= 1;
                if self.own_index.get(old.id()) == Some(&old.seq) {
                    // No newer retained entry has this id.
                    self.own_index.remove(old.id());
                }
                if self.limits.max_evicted_ids > 0 {
                    if self.evicted_ids.len() >= self.limits.max_evicted_ids {
                        self.forget_oldest_evicted();
                    }
                    self.evicted_index.insert(Box::from(old.id()), old.seq);
                    self.evicted_ids.push_back((old.seq, Box::from(old.id())));
                }
            }
        }
        while self.evicted_ids.len() > self.limits.max_evicted_ids {
            self.forget_oldest_evicted();
        }
    }

    /// Forgets the oldest remembered evicted id.
    fn forget_oldest_evicted(&mut self) {
        if let Some((seq, id)) = self.evicted_ids.pop_front() {
            if self.evicted_index.get(&id) == Some(&seq) {
                // No newer evicted entry has this id.
                self.evicted_index.remove(&id);
            }
        }
    }

    /// Everything after the event with id `last_event_id`, the value of a
    /// client's `Last-Event-ID` header (see
    /// [`parse_last_event_id`](crate::parse_last_event_id)).
    ///
    /// - [`Lookup::Found`]: the id is retained; the replay holds the entries
    ///   after it, in order (none if it is the newest).
    /// - [`Lookup::Evicted`]: the log issued the id but has evicted it, and
    ///   `missed` entries after it with it; the client has a gap. Replay
    ///   `retained` (everything still held) or tell the client to start
    ///   over: your call.
    /// - [`Lookup::Unknown`]: the log never issued the id, or has forgotten
    ///   it (an id of yours evicted longer ago than
    ///   [`ReplayLimits::max_evicted_ids`] remembers, or one from before a
    ///   restart). `retained` is everything held.
    ///
    /// Takes constant time for an id the log assigned while every retained
    /// id is one the log assigned; otherwise scans the retained entries,
    /// newest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Frame, Lookup, ReplayLimits, ReplayLog};
    ///
    /// let mut log = ReplayLog::new().with_limits(ReplayLimits::new().with_max_events(2));
    /// for data in ["a", "b", "c", "d"] {
    ///     log.append(Frame::event(data))?; // ids 0..=3; 0 and 1 are evicted
    /// }
    /// let Lookup::Found(replay) = log.since("2") else { panic!() };
    /// assert_eq!(replay.map(|e| e.id()).collect::<Vec<_>>(), ["3"]);
    /// let Lookup::Evicted { missed, retained } = log.since("0") else { panic!() };
    /// assert_eq!((missed, retained.len()), (1, 2)); // "1" is gone
    /// assert!(matches!(log.since("9"), Lookup::Unknown { .. }));
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn since(&self, last_event_id: &str) -> Lookup<'_> {
        // The newest retained entry with this id: the one the log assigned
        // it to, or the newest of yours that has it.
        let assigned = parse_seq(last_event_id);
        let by_seq = assigned.and_then(|seq| self.get(seq).filter(|e| e.id() == last_event_id));
        let by_index = self.own_index.get(last_event_id).copied();
        let found = match (by_seq.map(Entry::seq), by_index) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(seq) = found {
            return Lookup::Found(self.replay_from(seq.saturating_add(1)));
        }
        let evicted = self.evicted_index.get(last_event_id).copied().or(assigned
            .filter(|&seq| self.assigned_any && self.origin <= seq && seq < self.first_seq()));
        match evicted {
            Some(seq) => Lookup::Evicted {
                missed: self.first_seq() - seq - 1,
                retained: self.retained(),
            },
            None => Lookup::Unknown {
                retained: self.retained(),
            },
        }
    }

    /// Everything from sequence number `next` on: a subscriber's cursor,
    /// [`Replay::next_seq`] of its previous lookup.
    ///
    /// - [`Lookup::Found`]: nothing from `next` on was evicted; the replay
    ///   holds the entries from `next` on (none if `next` is
    ///   [`next_seq`](Self::next_seq)).
    /// - [`Lookup::Evicted`]: the `missed` entries from `next` up to the
    ///   oldest retained one were evicted: the subscriber fell too far
    ///   behind. `retained` is everything held.
    /// - [`Lookup::Unknown`]: `next` is past [`next_seq`](Self::next_seq);
    ///   no cursor of this log can be.
    ///
    /// Takes constant time.
    ///
    /// # Examples
    ///
    /// ```
    /// use sse_codec::{Frame, Lookup, ReplayLog};
    ///
    /// let mut log = ReplayLog::new();
    /// let cursor = log.next_seq(); // subscribe: nothing yet
    /// log.append(Frame::event("a"))?;
    /// log.append(Frame::event("b"))?;
    /// let Lookup::Found(replay) = log.from_seq(cursor) else { panic!() };
    /// assert_eq!(replay.len(), 2);
    /// assert_eq!(replay.next_seq(), 2);
    /// # Ok::<(), sse_codec::Error>(())
    /// ```
    pub fn from_seq(&self, next: u64) -> Lookup<'_> {
        let first = self.first_seq();
        if next < first {
            Lookup::Evicted {
                missed: first - next,
                retained: self.retained(),
            }
        } else if next > self.next_seq {
            Lookup::Unknown {
                retained: self.retained(),
            }
        } else {
            Lookup::Found(self.replay_from(next))
        }
    }

    /// Every retained entry, oldest first.
    pub fn retained(&self) -> Replay<'_> {
        self.replay_from(self.first_seq())
    }

    /// The entries from sequence number `next` on; `first_seq() <= next <=
    /// next_seq()`.
    fn replay_from(&self, next: u64) -> Replay<'_> {
        let skip = usize::try_from(next.saturating_sub(self.first_seq())).unwrap_or(usize::MAX);
        let skip = skip.min(self.entries.len());
        Replay {
            entries: self.entries.range(skip..),
            next_seq: self.next_seq,
        }
    }

    /// The retained entry with sequence number `seq`.
    #[must_use]
    pub fn get(&self, seq: u64) -> Option<&Entry> {
        let index = usize::try_from(seq.checked_sub(self.first_seq())?).ok()?;
        self.entries.get(index)
    }

    /// The sequence number the next appended entry gets: a cursor at the
    /// live end of the log.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The sequence number of the oldest retained entry, or
    /// [`next_seq`](Self::next_seq) if the log is empty.
    #[must_use]
    pub fn first_seq(&self) -> u64 {
        // `entries.len()` sequence numbers below `next_seq` were assigned.
        self.next_seq - self.entries.len() as u64
    }

    /// The number of retained entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is retained.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The encoded bytes retained, the sum of [`Entry::len`].
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.bytes
    }
}

impl Default for ReplayLog {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ReplayLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayLog")
            .field("limits", &self.limits)
            .field("first_seq", &self.first_seq())
            .field("next_seq", &self.next_seq)
            .field("len", &self.entries.len())
            .field("byte_len", &self.bytes)
            .field("evicted_ids", &self.evicted_ids.len())
            .finish_non_exhaustive()
    }
}

/// What [`ReplayLog::since`] or [`ReplayLog::from_seq`] found.
///
/// Each variant carries a [`Replay`]; [`into_replay`](Self::into_replay)
/// takes it, for a server that replays everything retained when the id
/// is not found.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[must_use = "a lookup says what to replay, and whether the client has a gap"]
#[derive(Clone, Debug)]
pub enum Lookup<'a> {
    /// The id or cursor is retained: these entries follow it, in order.
    Found(Replay<'a>),
    /// The id or cursor was evicted, and `missed` entries after it with it.
    Evicted {
        /// How many entries between the id and the oldest retained entry
        /// are gone (for a cursor, from the cursor on).
        missed: u64,
        /// Everything retained, oldest first.
        retained: Replay<'a>,
    },
    /// The log never issued the id, or has forgotten it.
    Unknown {
        /// Everything retained, oldest first.
        retained: Replay<'a>,
    },
}

impl<'a> Lookup<'a> {
    /// The replay: what follows the id if it was found, otherwise
    /// everything retained.
    pub fn into_replay(self) -> Replay<'a> {
        match self {
            Lookup::Found(replay)
            | Lookup::Evicted {
                retained: replay, ..
            }
            | Lookup::Unknown { retained: replay } => replay,
        }
    }

    /// Whether the id or cursor was found.
    #[must_use]
    pub fn is_found(&self) -> bool {
        matches!(self, Lookup::Found(_))
    }
}

/// Entries of a [`ReplayLog`] to send, oldest first, borrowed from the log,
/// and the cursor to continue from.
///
/// Clone the entries out ([`to_vec`](Self::to_vec)) and keep
/// [`next_seq`](Self::next_seq) before releasing the log's lock.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[must_use = "a replay is entries to send"]
#[derive(Clone, Debug)]
pub struct Replay<'a> {
    entries: vec_deque::Iter<'a, Entry>,
    next_seq: u64,
}

impl Replay<'_> {
    /// The cursor for the next [`ReplayLog::from_seq`]: the sequence number
    /// after the last entry of the replay, the log's
    /// [`next_seq`](ReplayLog::next_seq) when the replay was made. It does
    /// not change as the replay is iterated.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The encoded bytes of the entries not yet iterated.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.entries.clone().map(Entry::len).sum()
    }

    /// Clones the entries not yet iterated (reference counts, not bytes).
    #[must_use]
    pub fn to_vec(&self) -> Vec<Entry> {
        self.entries.clone().cloned().collect()
    }
}

impl<'a> Iterator for Replay<'a> {
    type Item = &'a Entry;

    fn next(&mut self) -> Option<&'a Entry> {
        self.entries.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl DoubleEndedIterator for Replay<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.entries.next_back()
    }
}

impl ExactSizeIterator for Replay<'_> {}

impl FusedIterator for Replay<'_> {}

/// `id` when it is the canonical decimal form of a `u64` (no sign, no
/// leading zero), the form [`ReplayLog::append`] writes.
fn parse_seq(id: &str) -> Option<u64> {
    let bytes = id.as_bytes();
    if bytes.is_empty() || bytes.len() > 20 || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// `n` in base ten, written to the end of `buf` (the encoder's digits).
fn decimal(n: u64, buf: &mut [u8; crate::encode::MAX_DIGITS]) -> &str {
    core::str::from_utf8(crate::encode::decimal(n, buf)).unwrap_or_default()
}

/// Where the id is in an encoded frame: the value of the first line that
/// starts with `id: `. The frame's comment lines (`: `) and `event: ` line
/// come before it, its `retry: ` and `data: ` lines after.
fn id_range(encoded: &[u8]) -> Option<Range<usize>> {
    let mut start = 0;
    for line in encoded.split(|&b| b == b'\n') {
        if let Some(value) = line.strip_prefix(b"id: ") {
            let value_start = start + 4;
            return Some(value_start..value_start + value.len());
        }
        start += line.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_decimal_only() {
        assert_eq!(parse_seq("0"), Some(0));
        assert_eq!(parse_seq("42"), Some(42));
        assert_eq!(parse_seq("18446744073709551615"), Some(u64::MAX));
        for no in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            "1a",
            "18446744073709551616",
            " 1",
        ] {
            assert_eq!(parse_seq(no), None, "{no:?}");
        }
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 99, u64::MAX] {
            let text = decimal(n, &mut buf);
            assert_eq!(parse_seq(text), Some(n));
        }
    }

    #[test]
    fn entries_encoded_outside_are_appended_as_append_would() {
        let limits = ReplayLimits::new().with_max_events(3).with_max_bytes(64);
        let (mut by_append, mut by_entry) = (
            ReplayLog::new().with_limits(limits),
            ReplayLog::new().with_limits(limits),
        );
        for n in 0..6u64 {
            let data = alloc::format!("event {n}");
            let frame = Frame::event(&data).with_event_type("t");
            let own = (n % 2 == 1).then(|| alloc::format!("own-{n}"));
            let expected = match &own {
                Some(id) => by_append.append_with_id(id, frame),
                None => by_append.append(frame),
            }
            .unwrap()
            .clone();
            let entry = Entry::encode(by_entry.next_seq(), own.as_deref(), frame).unwrap();
            assert_eq!(by_entry.append_entry(entry), Some(&expected));
        }
        let ids = |log: &ReplayLog| {
            log.retained()
                .map(|e| e.id().into())
                .collect::<Vec<Box<str>>>()
        };
        assert_eq!(ids(&by_entry), ids(&by_append));
        assert_eq!(by_entry.byte_len(), by_append.byte_len());
        assert_eq!(
            by_entry.since("own-1").is_found(),
            by_append.since("own-1").is_found()
        );
        // Refused, the log unchanged: a sequence number given out, one
        // ahead, an entry over max_bytes, an id that cannot come back.
        let next = by_entry.next_seq();
        for seq in [next - 1, next + 1] {
            let entry = Entry::encode(seq, None, Frame::event("x")).unwrap();
            assert!(by_entry.append_entry(entry).is_none());
        }
        let big = "x".repeat(100);
        let entry = Entry::encode(next, None, Frame::event(&big)).unwrap();
        assert!(by_entry.append_entry(entry).is_none());
        assert_eq!(by_entry.next_seq(), next);
        let bad = Entry::encode(next, Some(" spaced"), Frame::event("x"));
        assert_eq!(bad.unwrap_err(), Error::InvalidLastEventId);
    }

    #[test]
    fn id_is_found_after_comments_and_type() {
        let frame = Frame::event("id: no\nx")
            .with_comment("id: not this\nnor this")
            .with_event_type("id: nope")
            .with_id("yes")
            .with_retry(5);
        let bytes = frame.to_vec().unwrap();
        let range = id_range(&bytes).unwrap();
        assert_eq!(&bytes[range], b"yes");
    }

    #[test]
    fn counters_track_evictions() {
        let mut log = ReplayLog::new().with_limits(ReplayLimits::new().with_max_events(3));
        for i in 0..10 {
            if i % 2 == 0 {
                log.append(Frame::event("x")).unwrap();
            } else {
                let id = alloc::format!("own-{i}");
                log.append_with_id(&id, Frame::event("x")).unwrap();
            }
            let own = log.entries.iter().filter(|e| !e.has_assigned_id()).count();
            assert_eq!(log.own_ids, own);
            assert_eq!(log.bytes, log.entries.iter().map(Entry::len).sum::<usize>());
        }
        // Evicted own ids: 1, 3, 5 (7 and 9 are retained along with 8).
        assert_eq!(log.evicted_ids.len(), 3);
    }
}
