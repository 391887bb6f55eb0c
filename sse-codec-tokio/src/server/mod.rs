//! Server glue, by concept: the response ([`body`]: the `http_body::Body`
//! of an event stream and its head), heartbeat comments on an idle stream
//! ([`heartbeat`]), a replay log shared by a publisher and every
//! connection ([`log`]), and what an operator can watch ([`hooks`]).

pub(crate) mod body;
pub(crate) mod heartbeat;
pub(crate) mod hooks;
mod line;
pub(crate) mod log;
mod pulse;
pub(crate) mod wake;

pub use body::{
    response, resume_from, Chunk, Chunks, Entries, EventBody, DEFAULT_HEARTBEAT, GATHER_MAX,
};
pub use heartbeat::Heartbeat;
pub use hooks::{CounterSnapshot, Counters, End, Hooks};
pub use log::{SharedLog, Start, Subscription, Taken, LAG_JITTER, SUBSCRIPTION_BATCH};
