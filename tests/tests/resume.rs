//! Resumption: the replay log's bounds, eviction and lookups, its hand-off
//! between threads, and the reconnect policy's decision for each outcome,
//! its id and retry tracking, headers and backoff (property-tested).

use proptest::prelude::*;
use sse_codec::{
    is_event_stream, parse_last_event_id, Action, Decoder, Entry, Error, Frame, Item, Limits,
    Lookup, Outcome, ReconnectConfig, ReconnectPolicy, ReplayLimits, ReplayLog, StopReason,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn ids<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<String> {
    entries.into_iter().map(|e| e.id().to_owned()).collect()
}

fn found_ids(lookup: Lookup<'_>) -> Vec<String> {
    match lookup {
        Lookup::Found(replay) => ids(replay),
        other => panic!("expected Found, got {other:?}"),
    }
}

fn evicted(lookup: Lookup<'_>) -> (u64, Vec<String>) {
    match lookup {
        Lookup::Evicted { missed, retained } => (missed, ids(retained)),
        other => panic!("expected Evicted, got {other:?}"),
    }
}

fn is_unknown(lookup: &Lookup<'_>) -> bool {
    matches!(lookup, Lookup::Unknown { .. })
}

fn log_of(n: usize, limits: ReplayLimits) -> ReplayLog {
    let mut log = ReplayLog::new().with_limits(limits);
    for i in 0..n {
        log.append(Frame::event(&format!("event {i}"))).unwrap();
    }
    log
}

fn decode_all(bytes: &[u8]) -> Vec<(String, String)> {
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    decoder.feed(bytes, |item| {
        if let Ok(Item::Event(e)) = item {
            events.push((e.id().to_owned(), e.data().to_owned()));
        }
    });
    events
}

// ---------------------------------------------------------------- the log

#[test]
fn append_assigns_ids_and_keeps_the_encoded_bytes() {
    let mut log = ReplayLog::new();
    let a = log
        .append(Frame::event("a").with_id("replaced"))
        .unwrap()
        .clone();
    let b = log
        .append(
            Frame::event("b\nc")
                .with_event_type("t")
                .with_comment("hi")
                .with_retry(9),
        )
        .unwrap()
        .clone();
    assert_eq!(
        (a.seq(), a.id(), a.as_bytes()),
        (0, "0", &b"id: 0\ndata: a\n\n"[..])
    );
    assert_eq!(
        b.as_bytes(),
        b": hi\nevent: t\nid: 1\nretry: 9\ndata: b\ndata: c\n\n"
    );
    assert_eq!(b.len(), b.as_bytes().len());
    assert!(!b.is_empty());
    assert_eq!(log.byte_len(), a.len() + b.len());
    assert_eq!((log.len(), log.first_seq(), log.next_seq()), (2, 0, 2));
    assert_eq!(log.get(1), Some(&b));
    assert_eq!(log.get(2), None);
    // Replay is the stored bytes, shared, not copies.
    let replayed: Vec<u8> = log.retained().flat_map(|e| e.as_bytes().to_vec()).collect();
    assert_eq!(
        decode_all(&replayed),
        [("0".into(), "a".into()), ("1".into(), "b\nc".into())]
    );
    assert!(std::ptr::eq(log.get(0).unwrap().as_bytes(), a.as_bytes()));
}

#[test]
fn append_with_id_checks_the_id_and_leaves_the_log_alone_on_error() {
    let mut log = ReplayLog::new();
    let e = log
        .append_with_id("a-1", Frame::event("x").with_id("no"))
        .unwrap();
    assert_eq!((e.seq(), e.id()), (0, "a-1"));
    assert_eq!(e.as_bytes(), b"id: a-1\ndata: x\n\n");
    for (id, err) in [
        ("", Error::InvalidLastEventId),
        (" a", Error::InvalidLastEventId),
        ("a\t", Error::InvalidLastEventId),
        ("a\u{1}b", Error::InvalidLastEventId),
        ("a\u{7f}", Error::InvalidLastEventId),
        ("a\0", Error::InvalidId),
        ("a\nb", Error::InvalidId),
        ("a\r", Error::InvalidId),
    ] {
        assert_eq!(
            log.append_with_id(id, Frame::event("x")),
            Err(err),
            "{id:?}"
        );
    }
    assert_eq!(
        log.append(Frame::event("x").with_event_type("a\nb")),
        Err(Error::InvalidEventType)
    );
    assert_eq!((log.len(), log.next_seq()), (1, 1));
    // Inner spaces, tabs and non-ASCII are fine.
    log.append_with_id("a b\tc é", Frame::event("x")).unwrap();
}

#[test]
fn the_count_bound_evicts_oldest_first() {
    let mut log = log_of(3, ReplayLimits::new().with_max_events(3));
    assert_eq!(ids(log.retained()), ["0", "1", "2"]);
    log.append(Frame::event("x")).unwrap();
    assert_eq!(ids(log.retained()), ["1", "2", "3"]);
    for _ in 0..10 {
        log.append(Frame::event("x")).unwrap();
        assert_eq!(log.len(), 3);
    }
    assert_eq!((log.first_seq(), log.next_seq()), (11, 14));
    // 0 counts as 1: the newest is always kept.
    let mut one = log_of(5, ReplayLimits::new().with_max_events(0));
    assert_eq!(ids(one.retained()), ["4"]);
    one.append(Frame::event("y")).unwrap();
    assert_eq!(ids(one.retained()), ["5"]);
}

#[test]
fn the_byte_bound_evicts_oldest_first_and_refuses_what_cannot_fit() {
    // "id: N\ndata: xxxxxxxxxx\n\n" is 24 bytes for one-digit ids.
    let frame = Frame::event("xxxxxxxxxx");
    assert_eq!(frame.with_id("0").encoded_len().unwrap(), 24);
    let mut log = ReplayLog::new().with_limits(ReplayLimits::new().with_max_bytes(50));
    for i in 0..5 {
        log.append(frame).unwrap();
        assert!(log.byte_len() <= 50);
        assert_eq!(log.len(), (i + 1).min(2));
    }
    assert_eq!(ids(log.retained()), ["3", "4"]);
    // A frame that exactly fits evicts everything else.
    let big = "y".repeat(50 - "id: 5\ndata: \n\n".len());
    log.append(Frame::event(&big)).unwrap();
    assert_eq!((log.len(), log.byte_len()), (1, 50));
    // One that cannot fit on its own is refused; nothing changes.
    let too_big = "y".repeat(big.len() + 1);
    assert_eq!(
        log.append(Frame::event(&too_big)).map(|e| e.seq()),
        Err(Error::EntryTooLarge { limit: 50, len: 51 })
    );
    assert_eq!((log.len(), log.next_seq(), log.byte_len()), (1, 6, 50));
    let mut none = ReplayLog::new().with_limits(ReplayLimits::new().with_max_bytes(0));
    assert!(matches!(
        none.append(Frame::default()),
        Err(Error::EntryTooLarge { .. })
    ));
}

#[test]
fn tighter_limits_evict_at_once() {
    let log =
        log_of(10, ReplayLimits::unlimited()).with_limits(ReplayLimits::new().with_max_events(4));
    assert_eq!(ids(log.retained()), ["6", "7", "8", "9"]);
    let per = log.get(9).unwrap().len();
    let log = log.with_limits(ReplayLimits::new().with_max_bytes(2 * per));
    assert_eq!(ids(log.retained()), ["8", "9"]);
}

#[test]
fn since_tells_found_evicted_and_unknown_apart() {
    let log = log_of(10, ReplayLimits::new().with_max_events(4));
    assert_eq!(found_ids(log.since("6")), ["7", "8", "9"]);
    assert_eq!(found_ids(log.since("8")), ["9"]);
    assert_eq!(found_ids(log.since("9")), Vec::<String>::new());
    assert_eq!(evicted(log.since("5")), (0, ids(log.retained())));
    assert_eq!(evicted(log.since("0")).0, 5);
    for unknown in ["10", "99", "05", "+5", "", "x", "18446744073709551616"] {
        let lookup = log.since(unknown);
        assert!(is_unknown(&lookup), "{unknown:?}: {lookup:?}");
        assert_eq!(ids(lookup.into_replay()), ["6", "7", "8", "9"]);
    }
    // Ids below where a log started were never its own.
    let mut later = ReplayLog::starting_at(100).with_limits(ReplayLimits::new().with_max_events(2));
    for _ in 0..5 {
        later.append(Frame::event("x")).unwrap();
    }
    assert_eq!(evicted(later.since("100")).0, 2);
    assert!(is_unknown(&later.since("99")));
    assert!(is_unknown(&later.since("0")));
}

#[test]
fn since_finds_your_ids_and_remembers_evicted_ones() {
    let limits = ReplayLimits::new()
        .with_max_events(3)
        .with_max_evicted_ids(2);
    let mut log = ReplayLog::new().with_limits(limits);
    for id in ["a", "b", "c", "d", "e", "f"] {
        log.append_with_id(id, Frame::event(id)).unwrap();
    }
    assert_eq!(found_ids(log.since("d")), ["e", "f"]);
    assert_eq!(found_ids(log.since("f")), Vec::<String>::new());
    // "b" and "c" are remembered, "a" is forgotten.
    assert_eq!(
        evicted(log.since("c")),
        (0, vec!["d".into(), "e".into(), "f".into()])
    );
    assert_eq!(evicted(log.since("b")).0, 1);
    assert!(is_unknown(&log.since("a")));
    assert!(is_unknown(&log.since("z")));
    // Ids of yours that are decimal numbers but not their entry's seq.
    assert!(is_unknown(&log.since("1")));
    let forgetful = ReplayLog::new().with_limits(limits.with_max_evicted_ids(0));
    let mut forgetful = forgetful;
    for id in ["a", "b", "c", "d"] {
        forgetful.append_with_id(id, Frame::event(id)).unwrap();
    }
    assert!(is_unknown(&forgetful.since("a")));
}

#[test]
fn since_resumes_after_the_newest_of_duplicate_ids_and_mixed_ids() {
    let mut log = ReplayLog::new();
    log.append_with_id("x", Frame::event("1")).unwrap(); // seq 0
    log.append(Frame::event("2")).unwrap(); // seq 1, id "1"
    log.append_with_id("x", Frame::event("3")).unwrap(); // seq 2
    log.append_with_id("1", Frame::event("4")).unwrap(); // seq 3, a duplicate "1"
    log.append_with_id("4", Frame::event("5")).unwrap(); // seq 4, "4" is its own seq
    log.append(Frame::event("6")).unwrap(); // seq 5
    assert_eq!(found_ids(log.since("x")), ["1", "4", "5"]);
    assert_eq!(found_ids(log.since("1")), ["4", "5"]);
    assert_eq!(found_ids(log.since("4")), ["5"]);
}

#[test]
fn from_seq_is_a_cursor() {
    let mut log = log_of(3, ReplayLimits::new().with_max_events(4));
    let Lookup::Found(replay) = log.from_seq(1) else {
        panic!()
    };
    assert_eq!((replay.len(), replay.next_seq()), (2, 3));
    let cursor = replay.next_seq();
    assert_eq!(found_ids(log.from_seq(cursor)), Vec::<String>::new());
    log.append(Frame::event("x")).unwrap();
    assert_eq!(found_ids(log.from_seq(cursor)), ["3"]);
    for _ in 0..5 {
        log.append(Frame::event("x")).unwrap();
    }
    // A subscriber at 3 fell behind: 3 and 4 are gone.
    assert_eq!(
        evicted(log.from_seq(3)),
        (2, vec!["5".into(), "6".into(), "7".into(), "8".into()])
    );
    assert!(is_unknown(&log.from_seq(10)));
    assert!(log.from_seq(9).is_found());
}

#[test]
fn replays_are_exact_size_double_ended_and_cloneable() {
    let log = log_of(5, ReplayLimits::new());
    let mut replay = log.since("1").into_replay();
    assert_eq!(replay.len(), 3);
    assert_eq!(replay.byte_len(), 3 * log.get(2).unwrap().len());
    assert_eq!(replay.next_back().unwrap().id(), "4");
    assert_eq!(replay.next().unwrap().id(), "2");
    let owned: Vec<Entry> = replay.to_vec();
    assert_eq!(ids(&owned), ["3"]);
    assert_eq!(replay.clone().count(), 1);
    assert_eq!(replay.next_seq(), 5);
}

#[test]
fn entries_bytes_decode_to_what_was_appended() {
    let mut log = ReplayLog::new();
    let frames = [
        Frame::retry(10),
        Frame::event("a\r\nb"),
        Frame::comment("c"),
        Frame::event("").with_event_type("e"),
    ];
    for f in frames {
        log.append(f).unwrap();
    }
    let bytes: Vec<u8> = log.retained().flat_map(|e| e.as_bytes().to_vec()).collect();
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    decoder.feed(&bytes, |item| items.push(item.unwrap().to_owned_item()));
    assert_eq!(items.len(), 4); // a retry, two events, a comment
    assert_eq!(decoder.last_event_id(), b"3");
}

#[test]
fn shared_types_are_send_sync_and_small() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ReplayLog>();
    send_sync::<Entry>();
    send_sync::<ReconnectPolicy>();
    assert!(std::mem::size_of::<Entry>() <= 48);
}

#[test]
fn the_log_debug_output_is_a_summary() {
    let log = log_of(100, ReplayLimits::new());
    let text = format!("{log:?}");
    assert!(text.len() < 300, "{text}");
    assert!(format!("{:?}", log.get(0).unwrap()).contains("data: event 0"));
}

/// Publishers and subscribers on threads, the way a server shares the log:
/// append under the lock, then notify; each subscriber looks up under the
/// lock, clones entries out, and writes (here: records) without it. Every
/// subscriber sees every entry from its start, exactly once, in order.
#[test]
fn subscribers_see_no_gap_and_no_duplicate_at_the_seam() {
    const EVENTS: u64 = 2000;
    struct Shared {
        log: Mutex<ReplayLog>,
        published: std::sync::Condvar,
    }
    let shared = Arc::new(Shared {
        log: Mutex::new(ReplayLog::new().with_limits(ReplayLimits::unlimited())),
        published: std::sync::Condvar::new(),
    });
    let publisher = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            for i in 0..EVENTS {
                shared
                    .log
                    .lock()
                    .unwrap()
                    .append(Frame::event(&i.to_string()))
                    .unwrap();
                shared.published.notify_all();
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
            }
        })
    };
    let subscribers: Vec<_> = (0..4)
        .map(|n| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                // Join at different moments, some with a Last-Event-ID.
                std::thread::sleep(Duration::from_micros(n * 300));
                let (mut got, mut cursor) = {
                    let log = shared.log.lock().unwrap();
                    let lookup = match log.next_seq().checked_sub(1 + n) {
                        Some(seq) => log.since(&seq.to_string()),
                        None => log.from_seq(0),
                    };
                    let Lookup::Found(replay) = lookup else {
                        panic!("{lookup:?}")
                    };
                    (replay.to_vec(), replay.next_seq())
                };
                let start = got.first().map_or(cursor, Entry::seq);
                while cursor < EVENTS {
                    let mut log = shared.log.lock().unwrap();
                    while log.next_seq() == cursor {
                        log = shared.published.wait(log).unwrap();
                    }
                    let Lookup::Found(replay) = log.from_seq(cursor) else {
                        panic!()
                    };
                    cursor = replay.next_seq();
                    let fresh = replay.to_vec();
                    drop(log);
                    got.extend(fresh);
                }
                (start, got)
            })
        })
        .collect();
    publisher.join().unwrap();
    for s in subscribers {
        let (start, got) = s.join().unwrap();
        let seqs: Vec<u64> = got.iter().map(Entry::seq).collect();
        assert_eq!(seqs, (start..EVENTS).collect::<Vec<_>>());
        for e in &got {
            assert_eq!(e.id(), e.seq().to_string());
        }
    }
}

proptest! {
    /// Any sequence of appends under any limits: the bounds hold, sequence
    /// numbers are contiguous, the newest entry is kept, and `since` any id
    /// the log ever assigned is Found with exactly the later entries, or
    /// Evicted with the right count.
    #[test]
    fn log_invariants(
        sizes in proptest::collection::vec(0usize..64, 1..80),
        max_events in 0usize..12,
        max_bytes in 20usize..400,
    ) {
        let limits = ReplayLimits::new().with_max_events(max_events).with_max_bytes(max_bytes);
        let mut log = ReplayLog::new().with_limits(limits);
        let mut appended = 0u64;
        for size in sizes {
            let data = "d".repeat(size);
            match log.append(Frame::event(&data)) {
                Ok(entry) => {
                    prop_assert_eq!(entry.seq(), appended);
                    appended += 1;
                }
                Err(Error::EntryTooLarge { limit, len }) => {
                    prop_assert_eq!(limit, max_bytes);
                    prop_assert!(len > max_bytes);
                    continue;
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
            prop_assert!(log.len() <= max_events.max(1));
            prop_assert!(log.byte_len() <= max_bytes);
            prop_assert_eq!(log.next_seq(), appended);
            prop_assert_eq!(log.first_seq() + log.len() as u64, appended);
            let seqs: Vec<u64> = log.retained().map(Entry::seq).collect();
            prop_assert_eq!(seqs, (log.first_seq()..appended).collect::<Vec<_>>());
            for seq in 0..appended {
                match log.since(&seq.to_string()) {
                    Lookup::Found(replay) => {
                        prop_assert!(seq >= log.first_seq());
                        let after: Vec<u64> = replay.map(Entry::seq).collect();
                        prop_assert_eq!(after, (seq + 1..appended).collect::<Vec<_>>());
                    }
                    Lookup::Evicted { missed, retained } => {
                        prop_assert!(seq < log.first_seq());
                        prop_assert_eq!(missed, log.first_seq() - seq - 1);
                        prop_assert_eq!(retained.len(), log.len());
                    }
                    Lookup::Unknown { .. } => prop_assert!(false, "{} unknown", seq),
                }
            }
        }
    }
}

proptest! {
    /// `since` with your ids, the log's, duplicates and evictions, against
    /// a model that scans everything ever appended: the index answers what
    /// a scan would.
    #[test]
    fn since_with_any_ids_agrees_with_a_scan(
        appends in proptest::collection::vec(proptest::option::of(prop::sample::select(vec!["a", "b", "c", "1", "2", "x y"])), 1..60),
        max_events in 1usize..8,
        max_evicted_ids in 0usize..5,
    ) {
        let limits = ReplayLimits::new().with_max_events(max_events).with_max_evicted_ids(max_evicted_ids);
        let mut log = ReplayLog::new().with_limits(limits);
        // (seq, id, assigned by the log)
        let mut all: Vec<(u64, String, bool)> = Vec::new();
        for own in appends {
            let entry = match own {
                Some(id) => log.append_with_id(id, Frame::event("d")).unwrap().clone(),
                None => log.append(Frame::event("d")).unwrap().clone(),
            };
            all.push((entry.seq(), entry.id().to_owned(), own.is_none() || entry.id() == entry.seq().to_string()));
            let first = log.first_seq();
            for probe in ["a", "b", "c", "1", "2", "x y", "0", "3", "zz"] {
                let retained = all.iter().rev().find(|(seq, id, _)| *seq >= first && id == probe);
                let evicted_own: Vec<&(u64, String, bool)> = all.iter().filter(|(seq, _, assigned)| *seq < first && !assigned).collect();
                let remembered = &evicted_own[evicted_own.len().saturating_sub(max_evicted_ids)..];
                let evicted = remembered.iter().rev().find(|(_, id, _)| id == probe).map(|(seq, _, _)| *seq).or_else(|| {
                    let n: u64 = probe.parse().ok()?;
                    (all.iter().any(|(_, _, assigned)| *assigned) && n < first).then_some(n)
                });
                match (log.since(probe), retained, evicted) {
                    (Lookup::Found(replay), Some((seq, _, _)), _) => {
                        let after: Vec<u64> = replay.map(Entry::seq).collect();
                        prop_assert_eq!(after, (seq + 1..log.next_seq()).collect::<Vec<_>>(), "{}", probe);
                    }
                    (Lookup::Evicted { missed, .. }, None, Some(seq)) => prop_assert_eq!(missed, first - seq - 1, "{}", probe),
                    (Lookup::Unknown { .. }, None, None) => {}
                    (got, retained, evicted) => prop_assert!(false, "{}: {:?} against {:?} / {:?}", probe, got.is_found(), retained, evicted),
                }
            }
        }
    }
}

// --------------------------------------------------------- the header bits

#[test]
fn last_event_id_header_values() {
    assert_eq!(parse_last_event_id(b"17"), Ok(Some("17")));
    assert_eq!(parse_last_event_id(b"  17\t"), Ok(Some("17")));
    assert_eq!(parse_last_event_id(b""), Ok(None));
    assert_eq!(parse_last_event_id(b" \t "), Ok(None));
    assert_eq!(parse_last_event_id(b"a\0"), Err(Error::InvalidLastEventId));
    assert_eq!(
        parse_last_event_id(b"\xc3\x28"),
        Err(Error::InvalidLastEventId)
    );
    assert_eq!(
        Error::InvalidLastEventId.to_string(),
        "id cannot travel in a Last-Event-ID header"
    );
    assert_eq!(
        Error::EntryTooLarge { limit: 10, len: 11 }.to_string(),
        "entry of 11 bytes larger than the 10-byte replay log"
    );
}

#[test]
fn content_types() {
    assert!(is_event_stream(b"text/event-stream"));
    assert!(is_event_stream(b"text/event-stream;charset=utf-8"));
    assert!(is_event_stream(b"Text/Event-Stream ; charset=UTF-8"));
    assert!(!is_event_stream(b"text/plain"));
    assert!(!is_event_stream(b"application/octet-stream"));
    assert!(!is_event_stream(b"text/event-stream-x"));
}

// -------------------------------------------------------------- the policy

const OK: Outcome<'static> = Outcome::Response {
    status: 200,
    content_type: Some(b"text/event-stream"),
    retry_after: None,
};

fn exact() -> ReconnectConfig {
    ReconnectConfig::new().with_jitter_percent(0)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A policy with an open, healthy connection.
fn open(policy: &mut ReconnectPolicy, decoder: &mut Decoder<Vec<u8>>, body: &[u8]) {
    assert_eq!(policy.handle(OK), Action::Read);
    decoder.feed(body, |_| {});
    policy.observe(decoder);
}

#[test]
fn each_response_row() {
    let cases: [(u16, Option<&[u8]>, Action); 12] = [
        (200, Some(b"text/event-stream"), Action::Read),
        (200, Some(b"TEXT/event-stream; charset=utf-8"), Action::Read),
        (
            200,
            Some(b"text/html"),
            Action::Stop(StopReason::ContentType),
        ),
        (200, Some(b""), Action::Stop(StopReason::ContentType)),
        (200, None, Action::Stop(StopReason::ContentType)),
        (
            204,
            Some(b"text/event-stream"),
            Action::Stop(StopReason::NoContent),
        ),
        (
            201,
            Some(b"text/event-stream"),
            Action::Stop(StopReason::Status(201)),
        ),
        (301, None, Action::Stop(StopReason::Status(301))),
        (404, None, Action::Stop(StopReason::Status(404))),
        (429, None, Action::Stop(StopReason::Status(429))),
        (500, None, Action::Stop(StopReason::Status(500))),
        (
            503,
            Some(b"text/event-stream"),
            Action::Stop(StopReason::Status(503)),
        ),
    ];
    for (status, content_type, want) in cases {
        let mut policy = ReconnectPolicy::new(exact(), 0);
        let got = policy.handle(Outcome::Response {
            status,
            content_type,
            retry_after: None,
        });
        assert_eq!(got, want, "{status} {content_type:?}");
        if let Action::Stop(reason) = want {
            assert_eq!(policy.stopped(), Some(reason));
            // Stopped is for good.
            assert_eq!(policy.handle(OK), want);
            assert_eq!(policy.handle(Outcome::TransportError), want);
        }
    }
}

#[test]
fn transient_statuses_are_retried_only_when_asked() {
    for status in [408, 429, 500, 501, 502, 503, 504, 505, 599] {
        let mut policy = ReconnectPolicy::new(exact().with_retry_transient_statuses(true), 0);
        let head = Outcome::Response {
            status,
            content_type: None,
            retry_after: None,
        };
        assert_eq!(policy.handle(head), Action::Reconnect { delay: ms(3000) });
        assert_eq!(policy.failures(), 1);
    }
    for status in [204, 400, 401, 403, 404, 600] {
        let mut policy = ReconnectPolicy::new(exact().with_retry_transient_statuses(true), 0);
        let head = Outcome::Response {
            status,
            content_type: None,
            retry_after: None,
        };
        assert!(matches!(policy.handle(head), Action::Stop(_)), "{status}");
    }
}

#[test]
fn retry_after_lengthens_the_delay_of_a_retried_status_up_to_max_retry() {
    let config = exact()
        .with_retry_transient_statuses(true)
        .with_max_retry(ms(600_000));
    let mut policy = ReconnectPolicy::new(config, 0);
    let head = |retry_after| Outcome::Response {
        status: 429,
        content_type: None,
        retry_after,
    };
    // Longer than the backoff: the server's wait.
    let after = Some(Duration::from_secs(120));
    assert_eq!(
        policy.handle(head(after)),
        Action::Reconnect { delay: ms(120_000) }
    );
    // Shorter: the backoff (the second failure in a row: 6 s, then 12 s).
    let short = Some(Duration::from_secs(1));
    assert_eq!(
        policy.handle(head(short)),
        Action::Reconnect { delay: ms(6000) }
    );
    assert_eq!(
        policy.handle(head(None)),
        Action::Reconnect { delay: ms(12_000) }
    );
    // A hostile one is clamped to max_retry.
    let huge = sse_codec::parse_retry_after(b"99999999999999999999");
    assert_eq!(
        policy.handle(head(huge)),
        Action::Reconnect { delay: ms(600_000) }
    );
    // Not retried: Retry-After changes nothing.
    let mut spec = ReconnectPolicy::new(exact(), 0);
    assert_eq!(
        spec.handle(head(after)),
        Action::Stop(StopReason::Status(429))
    );
}

#[test]
fn a_missing_content_type_is_read_only_when_asked() {
    let head = |content_type| Outcome::Response {
        status: 200,
        content_type,
        retry_after: None,
    };
    let mut spec = ReconnectPolicy::new(exact(), 0);
    assert_eq!(
        spec.handle(head(None)),
        Action::Stop(StopReason::ContentType)
    );
    let lenient = exact().with_accept_missing_content_type(true);
    assert_eq!(
        ReconnectPolicy::new(lenient, 0).handle(head(None)),
        Action::Read
    );
    // A wrong one still stops.
    let mut policy = ReconnectPolicy::new(lenient, 0);
    assert_eq!(
        policy.handle(head(Some(b"text/html"))),
        Action::Stop(StopReason::ContentType)
    );
}

#[test]
fn each_end_row() {
    let mut decoder = Decoder::new();
    // After a connection that delivered an event: the reconnection time, no
    // failure.
    for end in [
        Outcome::Ended,
        Outcome::TransportError,
        Outcome::IdleTimeout,
    ] {
        let mut policy = ReconnectPolicy::new(exact(), 0);
        open(&mut policy, &mut decoder, b"data: x\n\n");
        decoder.finish();
        // Observed again after `finish`, as a runtime may: still healthy.
        policy.observe(&decoder);
        assert_eq!(policy.handle(end), Action::Reconnect { delay: ms(3000) });
        assert_eq!(policy.failures(), 0);
    }
    // Before any response, or with no event (bytes, comments, a `retry`,
    // an unfinished event are not one), or a decoder error: failures.
    for (body, end) in [
        (None, Outcome::TransportError),
        (None, Outcome::Ended),
        (None, Outcome::IdleTimeout),
        (Some(&b""[..]), Outcome::TransportError),
        (Some(b""), Outcome::Ended),
        (Some(b": hi\n"), Outcome::Ended),
        (Some(b"retry: 0\n\n: ping\n\n"), Outcome::Ended),
        (Some(b"id: 4\n\ndata: never finish"), Outcome::IdleTimeout),
        (
            Some(b""),
            Outcome::DecodeError(Error::LineTooLong {
                limit: 1,
                offset: 0,
            }),
        ),
    ] {
        let mut policy = ReconnectPolicy::new(exact(), 0);
        if let Some(body) = body {
            open(&mut policy, &mut decoder, body);
            decoder.finish();
        }
        assert!(matches!(policy.handle(end), Action::Reconnect { .. }));
        assert_eq!(policy.failures(), 1, "{body:?} {end:?}");
    }
    // A decoder error fails the attempt even after bytes arrived.
    let mut policy = ReconnectPolicy::new(exact(), 0);
    open(&mut policy, &mut decoder, b"data: x\n\n");
    let e = Outcome::DecodeError(Error::EventTooLarge {
        limit: 1,
        offset: 0,
    });
    assert!(matches!(policy.handle(e), Action::Reconnect { .. }));
    assert_eq!(policy.failures(), 1);
}

#[test]
fn backoff_grows_is_capped_and_resets_after_a_healthy_connection() {
    let config = exact()
        .with_reconnection_time(ms(1000))
        .with_max_delay(ms(10_000));
    let mut policy = ReconnectPolicy::new(config, 0);
    let delays: Vec<Duration> = (0..7)
        .map(|_| match policy.handle(Outcome::TransportError) {
            Action::Reconnect { delay } => delay,
            other => panic!("{other:?}"),
        })
        .collect();
    let want = [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000].map(ms);
    assert_eq!(delays, want);
    assert_eq!(policy.failures(), 7);
    let mut decoder = Decoder::new();
    open(&mut policy, &mut decoder, b"data: x\n\n");
    assert_eq!(
        policy.failures(),
        7,
        "reset when the connection ends healthy"
    );
    assert_eq!(
        policy.handle(Outcome::Ended),
        Action::Reconnect { delay: ms(1000) }
    );
    assert_eq!(policy.failures(), 0);
    assert_eq!(
        policy.handle(Outcome::TransportError),
        Action::Reconnect { delay: ms(1000) }
    );
    assert_eq!(
        policy.handle(Outcome::TransportError),
        Action::Reconnect { delay: ms(2000) }
    );
}

#[test]
fn the_server_retry_sets_the_reconnection_time_within_bounds() {
    // With the floor off, as the letter of the spec has it.
    let config = (exact().with_max_retry(ms(60_000)).with_min_backoff(ms(250)))
        .with_min_reconnection_time(Duration::ZERO);
    let mut policy = ReconnectPolicy::new(config, 0);
    let mut decoder = Decoder::new();
    open(&mut policy, &mut decoder, b"retry: 0\ndata: x\n\n");
    assert_eq!(policy.reconnection_time(), ms(0));
    // retry: 0 reconnects at once after a healthy connection...
    assert_eq!(
        policy.handle(Outcome::Ended),
        Action::Reconnect { delay: ms(0) }
    );
    // ...and on the first failure, then backs off from min_backoff.
    let mut delays = Vec::new();
    for _ in 0..4 {
        let Action::Reconnect { delay } = policy.handle(Outcome::TransportError) else {
            panic!()
        };
        delays.push(delay);
    }
    assert_eq!(delays, [0, 500, 1000, 2000].map(ms));
    // A huge retry is clamped to max_retry, and beats max_delay.
    open(
        &mut policy,
        &mut decoder,
        b"retry: 99999999999\ndata: x\n\n",
    );
    assert_eq!(policy.reconnection_time(), ms(60_000));
    assert_eq!(
        policy.handle(Outcome::Ended),
        Action::Reconnect { delay: ms(60_000) }
    );
    assert_eq!(
        policy.handle(Outcome::TransportError),
        Action::Reconnect { delay: ms(60_000) }
    );
    assert_eq!(
        policy.handle(Outcome::TransportError),
        Action::Reconnect { delay: ms(60_000) }
    );
}

#[test]
fn max_attempts_counts_every_kind_of_failure() {
    /// One failed attempt of each kind, in turn.
    fn fail(kind: usize, p: &mut ReconnectPolicy, d: &mut Decoder<Vec<u8>>) -> Action {
        match kind {
            0 => p.handle(Outcome::TransportError),
            1 => p.handle(Outcome::Response {
                status: 503,
                content_type: None,
                retry_after: None,
            }),
            // Accepted, then closed with nothing sent.
            2 => {
                open(p, d, b"");
                p.handle(Outcome::Ended)
            }
            // A poison event, dropped on the decoder's error every time.
            3 => {
                open(p, d, b"data: too long\n");
                let e = Error::LineTooLong {
                    limit: 4,
                    offset: 0,
                };
                p.handle(Outcome::DecodeError(e))
            }
            _ => p.handle(Outcome::Ended),
        }
    }
    let config = exact()
        .with_max_attempts(4)
        .with_retry_transient_statuses(true);
    let mut policy = ReconnectPolicy::new(config, 0);
    let mut decoder = Decoder::new();
    for i in 0..5 {
        let action = fail(i, &mut policy, &mut decoder);
        decoder.finish();
        if i < 3 {
            assert!(
                matches!(action, Action::Reconnect { .. }),
                "{i}: {action:?}"
            );
        } else {
            assert_eq!(
                action,
                Action::Stop(StopReason::TooManyFailures { failures: 4 })
            );
        }
    }
    assert_eq!(
        policy.stopped(),
        Some(StopReason::TooManyFailures { failures: 4 })
    );
    // 0 counts as 1: the first failure stops, but a healthy end does not.
    let mut policy = ReconnectPolicy::new(exact().with_max_attempts(0), 0);
    open(&mut policy, &mut Decoder::new(), b"data: x\n\n");
    assert!(matches!(
        policy.handle(Outcome::Ended),
        Action::Reconnect { .. }
    ));
    assert!(matches!(
        policy.handle(Outcome::TransportError),
        Action::Stop(_)
    ));
}

#[test]
fn no_attempt_limit_by_default() {
    let mut policy = ReconnectPolicy::new(ReconnectConfig::new(), 1);
    for _ in 0..100_000 {
        assert!(matches!(
            policy.handle(Outcome::TransportError),
            Action::Reconnect { .. }
        ));
    }
    assert_eq!(policy.failures(), 100_000);
}

#[test]
fn the_last_event_id_follows_the_decoder_like_the_spec_buffer() {
    let mut policy = ReconnectPolicy::new(exact(), 0);
    let mut decoder = Decoder::new();
    open(&mut policy, &mut decoder, b"id: 1\ndata: a\n\n");
    assert_eq!(policy.last_event_id(), "1");
    // An id in a block that dispatches no event still counts.
    decoder.feed(b"id: 2\n\n", |_| {});
    policy.observe(&decoder);
    assert_eq!(policy.last_event_id(), "2");
    // An id whose blank line never came does not.
    decoder.feed(b"id: 3\ndata: b\n", |_| {});
    policy.observe(&decoder);
    decoder.finish();
    assert_eq!(policy.last_event_id(), "2");
    let _ = policy.handle(Outcome::TransportError);
    let headers: Vec<_> = policy.request_headers().collect();
    assert_eq!(headers[2], ("last-event-id", "2"));
    // An empty id clears it: no header.
    open(&mut policy, &mut decoder, b"id\n\n");
    assert_eq!(policy.last_event_id(), "");
    assert_eq!(policy.request_headers().len(), 2);
    // An id with U+0000 is ignored by the decoder, so by the policy.
    decoder.feed(b"id: 4\0\n\n", |_| {});
    policy.observe(&decoder);
    assert_eq!(policy.last_event_id(), "");
    // Invalid UTF-8 is replaced, as a browser decodes the stream.
    decoder.feed(b"id: \xff5\n\n", |_| {});
    policy.observe(&decoder);
    assert_eq!(policy.last_event_id(), "\u{FFFD}5");
    // A control character keeps the id but leaves out the header.
    decoder.feed(b"id: \x016\n\n", |_| {});
    policy.observe(&decoder);
    assert_eq!(policy.last_event_id(), "\u{1}6");
    assert_eq!(policy.request_headers().len(), 2);
}

#[test]
fn a_fresh_decoder_per_connection_is_seeded_from_the_policy() {
    let mut policy = ReconnectPolicy::new(exact(), 0);
    policy.set_last_event_id("41");
    let mut decoder = Decoder::new();
    decoder.set_last_event_id(policy.last_event_id()).unwrap();
    assert_eq!(policy.handle(OK), Action::Read);
    let mut ids = Vec::new();
    decoder.feed(b"data: no id\n\nid: 42\ndata: x\n\n", |item| {
        if let Ok(Item::Event(e)) = item {
            ids.push(e.id().to_owned());
        }
    });
    policy.observe(&decoder);
    assert_eq!(ids, ["41", "42"]);
    assert_eq!(policy.last_event_id(), "42");
}

#[test]
fn headers_and_close() {
    let mut policy = ReconnectPolicy::new(ReconnectConfig::default(), 0);
    let headers: Vec<_> = policy.request_headers().collect();
    assert_eq!(
        headers,
        [
            ("accept", "text/event-stream"),
            ("cache-control", "no-cache")
        ]
    );
    policy.close();
    assert_eq!(policy.stopped(), Some(StopReason::Closed));
    assert_eq!(policy.handle(OK), Action::Stop(StopReason::Closed));
    assert_eq!(StopReason::Closed.to_string(), "closed");
    assert_eq!(
        StopReason::Status(500).to_string(),
        "server answered status 500"
    );
    assert_eq!(
        StopReason::TooManyFailures { failures: 3 }.to_string(),
        "gave up after 3 failed attempts in a row"
    );
    // A decoder whose limits fail mid-stream still reports its id.
    let mut decoder = Decoder::new().with_limits(Limits::new().with_max_line_len(8));
    let mut policy = ReconnectPolicy::new(exact(), 0);
    open(
        &mut policy,
        &mut decoder,
        b"id: 1\n\ndata: far too long\n\n",
    );
    assert_eq!(policy.last_event_id(), "1");
}

#[test]
fn jitter_is_deterministic_per_seed() {
    let delays = |seed| {
        let mut policy = ReconnectPolicy::new(ReconnectConfig::new(), seed);
        (0..20)
            .map(|_| match policy.handle(Outcome::TransportError) {
                Action::Reconnect { delay } => delay,
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(delays(7), delays(7));
    assert_ne!(delays(7), delays(8));
    // Jitter spreads: 20 delays at the cap are not all equal.
    let at_cap = delays(9);
    assert!(at_cap[10..].iter().any(|d| *d != at_cap[10]));
}

/// The "Delays" formula, written out independently of the policy.
fn bounds(config: &ReconnectConfig, r: u64, failures: u32) -> (u64, u64) {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let cap = ms(config.max_delay()).max(r);
    let target = if failures <= 1 {
        r
    } else {
        let from = r.max(ms(config.min_backoff())) as u128;
        (from << (failures - 1).min(64)).min(cap as u128) as u64
    };
    let j = config.jitter_percent() as u128;
    let spread = (target as u128 * j / 100) as u64;
    (
        target.saturating_sub(spread).max(r),
        target.saturating_add(spread).min(cap),
    )
}

fn any_config() -> impl Strategy<Value = ReconnectConfig> {
    let time = prop_oneof![0u64..10, 0u64..100_000, Just(u64::MAX / 4)];
    (
        time.clone(),
        time.clone(),
        time.clone(),
        time.clone(),
        time,
        0u8..=120,
        1u32..20,
    )
        .prop_map(
            |(rt, min_rt, max_retry, min_backoff, max_delay, jitter, attempts)| {
                ReconnectConfig::new()
                    .with_reconnection_time(Duration::from_millis(rt))
                    .with_min_reconnection_time(Duration::from_millis(min_rt))
                    .with_max_retry(Duration::from_millis(max_retry))
                    .with_min_backoff(Duration::from_millis(min_backoff))
                    .with_max_delay(Duration::from_millis(max_delay))
                    .with_jitter_percent(jitter)
                    .with_max_attempts(attempts)
                    .with_retry_transient_statuses(true)
            },
        )
}

#[derive(Clone, Debug)]
enum Step {
    Fail,
    Healthy(Option<u64>),
    Status(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Fail),
        2 => proptest::option::of(prop_oneof![0u64..5000, any::<u64>()]).prop_map(Step::Healthy),
        1 => prop::sample::select(vec![503u16, 429, 404, 204]).prop_map(Step::Status),
    ]
}

proptest! {
    /// Every delay lies in the band the docs give: never below the
    /// reconnection time, never above the cap (or the reconnection time when
    /// longer), within the jitter of the target; and the policy stops
    /// exactly when `max_attempts` failures come in a row.
    #[test]
    fn backoff_bounds(config in any_config(), seed: u64, steps in proptest::collection::vec(step(), 1..40)) {
        let mut policy = ReconnectPolicy::new(config, seed);
        let mut decoder = Decoder::new();
        let mut in_a_row = 0u32;
        for step in steps {
            let action = match step {
                Step::Fail => {
                    in_a_row += 1;
                    policy.handle(Outcome::TransportError)
                }
                Step::Healthy(retry) => {
                    prop_assert_eq!(policy.handle(OK), Action::Read);
                    match retry {
                        Some(ms) => decoder.feed(format!("retry: {ms}\ndata: x\n\n").as_bytes(), |_| {}),
                        None => decoder.feed(b": ping\ndata: x\n\n", |_| {}),
                    }
                    policy.observe(&decoder);
                    decoder.finish();
                    in_a_row = 0;
                    policy.handle(Outcome::Ended)
                }
                Step::Status(status) => {
                    in_a_row += 1;
                    policy.handle(Outcome::Response { status, content_type: None, retry_after: None })
                }
            };
            // The configured time until the server sets one, then the server's, clamped.
            let rt = policy.reconnection_time();
            prop_assert!(
                rt == config.reconnection_time()
                    || (config.min_reconnection_time().min(config.max_retry()) <= rt
                        && rt <= config.max_retry())
            );
            let r = policy.reconnection_time().as_millis() as u64;
            match action {
                Action::Reconnect { delay } => {
                    prop_assert_eq!(policy.failures(), in_a_row);
                    prop_assert!(in_a_row < config.max_attempts());
                    let (low, high) = bounds(&config, r, in_a_row);
                    let d = delay.as_millis() as u64;
                    prop_assert!(r <= d && d <= high.max(r), "{} not in {}..={}", d, r, high);
                    prop_assert!(low <= d && d <= high, "{} not in {}..={}", d, low, high);
                    prop_assert!(d <= (config.max_delay().as_millis() as u64).max(r));
                }
                Action::Stop(StopReason::TooManyFailures { failures }) => {
                    prop_assert_eq!(failures, config.max_attempts());
                    prop_assert_eq!(in_a_row, config.max_attempts());
                    break;
                }
                Action::Stop(StopReason::Status(s)) => {
                    prop_assert!(s == 404);
                    break;
                }
                Action::Stop(StopReason::NoContent) => break,
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }

    /// Without jitter the delay is the target itself, and it never shrinks
    /// while failures continue.
    #[test]
    fn without_jitter_backoff_is_monotone(config in any_config(), seed: u64) {
        let config = config.with_jitter_percent(0).with_max_attempts(u32::MAX);
        let mut policy = ReconnectPolicy::new(config, seed);
        let mut last = Duration::ZERO;
        for failures in 1..=80 {
            let Action::Reconnect { delay } = policy.handle(Outcome::TransportError) else {
                return Err(TestCaseError::fail("stopped"));
            };
            let r = policy.reconnection_time().as_millis() as u64;
            let (low, high) = bounds(&config, r, failures);
            prop_assert_eq!(low, high);
            prop_assert_eq!(delay.as_millis() as u64, low);
            prop_assert!(delay >= last);
            last = delay;
        }
    }
}

proptest! {
    /// An epoch id has one spelling: whatever parses prints back the same,
    /// and every id prints to something that parses to it.
    #[test]
    fn epoch_ids_have_one_spelling(s in "[0-9a-fA-F]{15,17}-[0-9+]{0,21}", epoch: u64, seq: u64) {
        if let Some(id) = sse_codec::EpochId::parse(&s) {
            prop_assert_eq!(id.to_string(), s);
        }
        let id = sse_codec::EpochId::new(epoch, seq);
        prop_assert_eq!(sse_codec::EpochId::parse(&id.to_string()), Some(id));
    }

    /// The resume decision against a model: a client that saw events up to
    /// `seen` of an epoch resumes exactly when every later event is still
    /// held or yet to come, and is otherwise told of a gap; never a replay
    /// from the wrong place.
    #[test]
    fn resume_matches_the_model(first in 1u64..50, held in 0u64..50, seen in 0u64..120, same_epoch: bool) {
        use sse_codec::{EpochId, Gap, Resume, Window};
        let next = first + held;
        let window = Window::new(7, first, next);
        let epoch = if same_epoch { 7 } else { 8 };
        let got = window.resume(Some(&EpochId::new(epoch, seen).to_string()));
        let want = if !same_epoch {
            Resume::Gap(Gap::OtherEpoch)
        } else if seen >= next {
            Resume::Gap(Gap::NeverIssued)
        } else if seen + 1 >= first {
            Resume::After(seen)
        } else {
            Resume::Gap(Gap::Trimmed { missed: first - seen - 1 })
        };
        prop_assert_eq!(got, want);
        if let Resume::After(after) = got {
            // Every event after it is held or to come: none missed.
            prop_assert!(after + 1 >= window.first() && after < window.next());
        }
    }
}
