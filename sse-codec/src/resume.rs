//! Resumption, sans-IO: the server's replay log and the client's reconnect
//! policy.
//!
//! WHATWG HTML, "Server-sent events": a client whose connection drops waits
//! the reconnection time (set by `retry`), reconnects and sends its last
//! event ID in `Last-Event-ID`; the server sends what came after it. Both
//! halves live here, with no I/O and no clock, so that any runtime can drive
//! them:
//!
//! - server: [`ReplayLog`] keeps encoded events, bounded by
//!   [`ReplayLimits`], and answers [`since`](ReplayLog::since) an id and
//!   [`from_seq`](ReplayLog::from_seq) a cursor with a [`Lookup`] of
//!   [`Entry`]s; [`parse_last_event_id`] reads the request header;
//! - client: [`ReconnectPolicy`] tracks the last event ID and reconnection
//!   time of a [`Decoder`](crate::Decoder), turns each [`Outcome`] into an
//!   [`Action`] (read, reconnect after a delay, or stop), and gives the
//!   [`RequestHeaders`] of the next attempt; [`is_event_stream`] checks a
//!   response's `Content-Type`;
//! - a topic log shared by many nodes: [`EpochId`] (ids that carry an
//!   epoch), [`Window::resume`] (resume after an id, or tell the client of a
//!   [`Gap`]) and [`is_valid_topic`].

mod epoch;
mod header;
mod reconnect;
mod replay;

pub use epoch::{is_valid_topic, EpochId, Gap, Resume, Window, MAX_TOPIC_LEN};
pub use header::{is_event_stream, parse_last_event_id, parse_retry_after, resume_point};
pub use reconnect::{
    Action, Outcome, ReconnectConfig, ReconnectPolicy, RequestHeaders, StopReason,
};
pub use replay::{Entry, Lookup, Replay, ReplayLimits, ReplayLog};
