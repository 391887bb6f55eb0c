//! A deterministic simulation of resumption, end to end: a server that
//! publishes into a `ReplayLog` and streams it to one client, and a client
//! that decodes with a `Decoder` and reconnects as its `ReconnectPolicy`
//! says, sending `Last-Event-ID`. The connection is killed at every byte
//! position of the stream (and, in a second pass, twice), by a transport
//! error or a clean close, with the decoder either reused across connections
//! (`finish` keeps the id) or made fresh and seeded with
//! `set_last_event_id`. Every run must end with every event exactly once, in
//! order, and with the server's 204 once the client has caught up.
//!
//! Time is simulated: a tick is 10 ms, the server publishes on a schedule,
//! and a reconnect delay advances the clock, so events published while the
//! client is away must come back through the log's replay.

use sse_codec::{
    parse_last_event_id, Action, Decoder, Frame, Item, Lookup, Outcome, ReconnectConfig,
    ReconnectPolicy, ReplayLimits, ReplayLog, StopReason, KEEPALIVE,
};
use std::collections::VecDeque;
use std::time::Duration;

const TICK_MS: u64 = 10;
const LONG: &str = concat!(
    "a line long enough to span several chunks of every size the simulation ",
    "uses, so that a kill can land anywhere inside one data line, and then ",
    "some more: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ",
);

/// One published frame, and the event a client must see for it.
#[derive(Clone, Copy, Debug)]
struct Spec {
    comment: Option<&'static str>,
    event_type: Option<&'static str>,
    retry: Option<u64>,
    data: Option<&'static str>,
}

impl Spec {
    const fn data(data: &'static str) -> Self {
        Spec {
            comment: None,
            event_type: None,
            retry: None,
            data: Some(data),
        }
    }

    fn frame(&self) -> Frame<'static> {
        let mut frame = Frame::default();
        if let Some(c) = self.comment {
            frame = frame.with_comment(c);
        }
        if let Some(t) = self.event_type {
            frame = frame.with_event_type(t);
        }
        if let Some(r) = self.retry {
            frame = frame.with_retry(r);
        }
        if let Some(d) = self.data {
            frame = frame.with_data(d);
        }
        frame
    }
}

/// What the server publishes: events of every shape, and frames that
/// dispatch nothing but still move the last event ID (retry only, comment
/// only, nothing at all).
fn script() -> Vec<Spec> {
    let none = Spec {
        comment: None,
        event_type: None,
        retry: None,
        data: None,
    };
    vec![
        Spec {
            retry: Some(250),
            ..none
        },
        Spec::data("one"),
        Spec {
            event_type: Some("multi"),
            ..Spec::data("two\nlines")
        },
        Spec {
            comment: Some("only a comment, but an id too"),
            ..none
        },
        Spec::data(""),
        Spec::data("crlf\r\nand cr\rsplit"),
        none,
        Spec {
            comment: Some("note"),
            event_type: Some("unicode"),
            ..Spec::data("é 🚀 \u{FEFF}")
        },
        Spec::data(LONG),
        Spec::data(" leading space"),
        Spec {
            retry: Some(120),
            ..Spec::data("retry changes")
        },
        Spec::data("last"),
    ]
}

/// A dispatched event as the client saw it: type, data, id.
type Seen = (String, String, String);

/// What each event of the script decodes to: its id is its sequence number.
fn expected(script: &[Spec]) -> Vec<Seen> {
    script
        .iter()
        .enumerate()
        .filter_map(|(seq, spec)| {
            let data = spec.data?.replace("\r\n", "\n").replace('\r', "\n");
            let event_type = spec.event_type.unwrap_or("message").to_owned();
            Some((event_type, data, seq.to_string()))
        })
        .collect()
}

/// How a run is set up.
#[derive(Clone, Copy, Debug)]
struct Setup {
    /// Publishing interval; 0 publishes the whole script up front, so the
    /// stream is a recording replayed from the log.
    spacing_ms: u64,
    /// Bytes the connection carries per tick.
    chunk: usize,
    /// A fresh decoder per connection, seeded from the policy, instead of
    /// one decoder kept across connections with `finish`.
    fresh_decoder: bool,
    /// How a killed connection ends.
    kill: Outcome<'static>,
    limits: ReplayLimits,
}

/// A seq range the server could not replay: `(first missing, end)`.
type Gap = (u64, u64);

struct Server {
    script: Vec<Spec>,
    spacing_ms: u64,
    log: ReplayLog,
    published: usize,
    gaps: Vec<Gap>,
}

/// One open connection: bytes not yet sent, and the log cursor.
struct Connection {
    pending: VecDeque<u8>,
    cursor: u64,
    idle_ticks: u32,
}

enum Response {
    NoContent,
    Stream(Connection),
}

impl Server {
    fn new(setup: &Setup) -> Self {
        Server {
            script: script(),
            spacing_ms: setup.spacing_ms,
            log: ReplayLog::new().with_limits(setup.limits),
            published: 0,
            gaps: Vec::new(),
        }
    }

    fn publish_until(&mut self, now: u64) {
        while let Some(spec) = self.script.get(self.published) {
            if self.published as u64 * self.spacing_ms > now {
                break;
            }
            let entry = self.log.append(spec.frame()).unwrap();
            assert_eq!(entry.seq(), self.published as u64);
            self.published += 1;
        }
    }

    fn is_done(&self) -> bool {
        self.published == self.script.len()
    }

    /// A request arrives with this `Last-Event-ID` header value.
    fn connect(&mut self, now: u64, last_event_id: Option<&str>) -> Response {
        self.publish_until(now);
        let header = last_event_id.unwrap_or_default().as_bytes();
        let replay = match parse_last_event_id(header).unwrap() {
            // A new client: this server sends it everything it has.
            None => {
                if self.log.first_seq() > 0 {
                    self.gaps.push((0, self.log.first_seq()));
                }
                self.log.retained()
            }
            Some(id) => match self.log.since(id) {
                Lookup::Found(replay) if replay.len() == 0 && self.is_done() => {
                    return Response::NoContent;
                }
                Lookup::Found(replay) => replay,
                Lookup::Evicted { missed, retained } => {
                    let after: u64 = id.parse().unwrap();
                    self.gaps.push((after + 1, self.log.first_seq()));
                    assert_eq!(missed, self.log.first_seq() - after - 1);
                    retained
                }
                Lookup::Unknown { .. } => panic!("unknown id {id:?}"),
            },
        };
        let cursor = replay.next_seq();
        let pending = replay.flat_map(|e| e.as_bytes().iter().copied()).collect();
        Response::Stream(Connection {
            pending,
            cursor,
            idle_ticks: 0,
        })
    }

    /// One tick of a connection: up to `chunk` bytes, or `None` when the
    /// server has sent everything and closes the stream.
    fn tick(&mut self, conn: &mut Connection, now: u64, chunk: usize) -> Option<Vec<u8>> {
        self.publish_until(now);
        let replay = match self.log.from_seq(conn.cursor) {
            Lookup::Found(replay) => replay,
            Lookup::Evicted { missed, retained } => {
                self.gaps.push((conn.cursor, self.log.first_seq()));
                assert_eq!(missed, self.log.first_seq() - conn.cursor);
                retained
            }
            Lookup::Unknown { .. } => panic!("cursor {} past the log", conn.cursor),
        };
        conn.cursor = replay.next_seq();
        for entry in replay {
            conn.pending.extend(entry.as_bytes());
        }
        if conn.pending.is_empty() {
            if self.is_done() {
                return None;
            }
            conn.idle_ticks += 1;
            if conn.idle_ticks % 4 == 0 {
                conn.pending.extend(KEEPALIVE.to_vec().unwrap());
            }
        }
        let n = chunk.min(conn.pending.len());
        Some(conn.pending.drain(..n).collect())
    }
}

/// What a run produced.
#[derive(Debug)]
struct Run {
    seen: Vec<Seen>,
    gaps: Vec<Gap>,
    connections: usize,
    /// Bytes the client received, over every connection.
    received: u64,
    /// Kills that never came: the stream was shorter.
    kills_left: usize,
}

/// Runs the simulation, killing the connection each time the client's total
/// received bytes reach the next of `kills` (ascending).
fn run(setup: &Setup, kills: &[u64], seed: u64) -> Run {
    let config = ReconnectConfig::new()
        .with_reconnection_time(Duration::from_millis(400))
        .with_max_delay(Duration::from_secs(2))
        .with_max_attempts(5);
    let mut policy = ReconnectPolicy::new(config, seed);
    let mut server = Server::new(setup);
    let mut decoder = Decoder::new();
    let mut seen = Vec::new();
    let mut kills = kills.iter().copied().peekable();
    let (mut now, mut received, mut connections) = (0u64, 0u64, 0usize);
    loop {
        assert!(connections < 100, "no progress");
        connections += 1;
        let headers: Vec<(&str, &str)> = policy.request_headers().collect();
        assert_eq!(
            headers[..2],
            [
                ("accept", "text/event-stream"),
                ("cache-control", "no-cache")
            ]
        );
        let last_event_id = headers.get(2).map(|&(name, value)| {
            assert_eq!(name, "last-event-id");
            value
        });
        assert_eq!(last_event_id.unwrap_or_default(), policy.last_event_id());
        if setup.fresh_decoder {
            decoder = Decoder::new();
            decoder.set_last_event_id(policy.last_event_id()).unwrap();
        }
        let action = match server.connect(now, last_event_id) {
            Response::NoContent => policy.handle(Outcome::Response {
                status: 204,
                content_type: None,
                retry_after: None,
            }),
            Response::Stream(mut conn) => {
                let head = Outcome::Response {
                    status: 200,
                    content_type: Some(b"text/event-stream; charset=utf-8"),
                    retry_after: None,
                };
                assert_eq!(policy.handle(head), Action::Read);
                loop {
                    now += TICK_MS;
                    let Some(mut bytes) = server.tick(&mut conn, now, setup.chunk) else {
                        decoder.finish();
                        break policy.handle(Outcome::Ended);
                    };
                    let kill = kills
                        .peek()
                        .is_some_and(|&k| received + bytes.len() as u64 >= k);
                    if let Some(k) = kills.next_if(|_| kill) {
                        bytes.truncate((k - received) as usize);
                    }
                    received += bytes.len() as u64;
                    decoder.feed(&bytes, |item| match item.unwrap() {
                        Item::Event(e) => seen.push((
                            e.event_type().to_owned(),
                            e.data().to_owned(),
                            e.id().to_owned(),
                        )),
                        Item::Retry(_) | Item::Comment(_) => {}
                        _ => unreachable!(),
                    });
                    policy.observe(&decoder);
                    if kill {
                        decoder.finish();
                        break policy.handle(setup.kill);
                    }
                }
            }
        };
        match action {
            Action::Reconnect { delay } => {
                assert!(delay >= policy.reconnection_time(), "{delay:?}");
                assert!(delay <= Duration::from_secs(2), "{delay:?}");
                now += delay.as_millis() as u64;
            }
            Action::Stop(StopReason::NoContent) => break,
            other => panic!("unexpected {other:?} after {connections} connections"),
        }
    }
    Run {
        seen,
        gaps: server.gaps,
        connections,
        received,
        kills_left: kills.count(),
    }
}

fn setups() -> Vec<Setup> {
    let mut setups = Vec::new();
    for spacing_ms in [0, 30] {
        for chunk in [1, 16, 4096] {
            for fresh_decoder in [false, true] {
                for kill in [Outcome::TransportError, Outcome::Ended] {
                    setups.push(Setup {
                        spacing_ms,
                        chunk,
                        fresh_decoder,
                        kill,
                        limits: ReplayLimits::unlimited(),
                    });
                }
            }
        }
    }
    setups
}

#[test]
fn an_uninterrupted_run_sees_the_script() {
    let want = expected(&script());
    for setup in setups() {
        let run = run(&setup, &[], 0);
        assert_eq!(run.seen, want, "{setup:?}");
        // The stream, then the 204 after catching up.
        assert_eq!(run.connections, 2, "{setup:?}");
        assert!(run.gaps.is_empty());
    }
}

#[test]
fn one_kill_at_every_byte_loses_nothing_and_repeats_nothing() {
    let want = expected(&script());
    for setup in setups() {
        let total = run(&setup, &[], 0).received;
        for kill in 0..=total {
            let run = run(&setup, &[kill], kill);
            assert_eq!(run.seen, want, "kill at byte {kill} of {total}, {setup:?}");
            assert_eq!(run.kills_left, 0);
            // The killed one, the rest, the 204; the rest is empty after a
            // kill at the very end.
            assert!(
                (2..=3).contains(&run.connections),
                "kill at byte {kill}, {setup:?}"
            );
            assert!(run.gaps.is_empty());
        }
    }
}

#[test]
fn two_kills_anywhere_lose_nothing_and_repeat_nothing() {
    let want = expected(&script());
    for setup in setups().into_iter().filter(|s| s.chunk == 16) {
        let total = run(&setup, &[], 0).received;
        for first in 0..=total {
            // A second kill at once (an attempt that receives nothing), a
            // byte later, or further on.
            for after in [0, 1, 9, 100] {
                let kills = [first, first + after];
                let run = run(&setup, &kills, first ^ after);
                assert_eq!(run.seen, want, "kills at {kills:?} of {total}, {setup:?}");
            }
        }
    }
}

#[test]
fn an_evicting_log_reports_exactly_what_is_missing() {
    let script = script();
    let want = expected(&script);
    let mut gapped_runs = 0;
    for max_events in [1, 2, 4] {
        let setup = Setup {
            spacing_ms: 20,
            chunk: 16,
            fresh_decoder: false,
            kill: Outcome::TransportError,
            limits: ReplayLimits::new().with_max_events(max_events),
        };
        let total = run(&setup, &[], 0).received;
        for kill in 0..=total {
            let run = run(&setup, &[kill], kill);
            let missing = |id: &str| {
                let seq: u64 = id.parse().unwrap();
                run.gaps.iter().any(|&(from, to)| (from..to).contains(&seq))
            };
            let survivors: Vec<Seen> = want
                .iter()
                .filter(|(_, _, id)| !missing(id))
                .cloned()
                .collect();
            assert_eq!(
                run.seen, survivors,
                "kill at {kill}, {max_events} events kept"
            );
            gapped_runs += usize::from(!run.gaps.is_empty());
        }
    }
    assert!(gapped_runs > 0, "the bounds never evicted an unsent event");
}
