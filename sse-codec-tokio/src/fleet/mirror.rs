//! One epoch of a topic held in memory: a [`SharedLog`] whose sequence
//! numbers are the topic's and whose ids are [`EpochId`]s; and the
//! subscription that walks it, with a gap event first when the client's id
//! cannot be resumed. Both backends keep their topics in these.

use crate::server::hooks::Hooks;
use crate::{Chunk, SharedLog, Subscription};
use bytes::Bytes;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;
use sse_codec::{Entry, EpochId, Frame, ReplayLimits, ReplayLog, Resume, Window};
use std::sync::Arc;

/// Events `first..` of one epoch of a topic.
#[derive(Debug)]
pub(crate) struct Mirror {
    epoch: u64,
    log: Arc<SharedLog>,
}

impl Mirror {
    /// An empty mirror of `epoch` whose next event is `next_seq` (at least 1).
    pub(crate) fn new(
        epoch: u64,
        next_seq: u64,
        limits: ReplayLimits,
        hooks: Arc<dyn Hooks>,
    ) -> Self {
        let log =
            ReplayLog::starting_at(next_seq.clamp(1, ReplayLog::MAX_FIRST_SEQ)).with_limits(limits);
        // The log's own ids are then exactly the topic's `EpochId`s.
        let log = SharedLog::prefixed(log, hooks, &format!("{epoch:016x}-"));
        Mirror { epoch, log }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The sequence number the next event gets.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn next_seq(&self) -> u64 {
        self.log.read(ReplayLog::next_seq)
    }

    /// Appends the next event; its id.
    pub(crate) fn append(&self, frame: Frame<'_>) -> Result<EpochId, sse_codec::Error> {
        let entry = self.log.append(frame)?;
        Ok(EpochId::new(self.epoch, entry.seq()))
    }

    /// Ends every subscription (once they have sent what they fetched).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn close(&self) {
        self.log.close();
    }

    /// The subscription for a client that sent `last_event_id`: decided
    /// and started under the log's lock, so that the gap event's id and
    /// the first live event agree.
    pub(crate) fn subscribe(&self, last_event_id: Option<&str>) -> TopicSubscription {
        let epoch = self.epoch;
        let (events, (resume, newest)) = self.log.subscribe_at(|log| {
            let window = Window::new(epoch, log.first_seq(), log.next_seq());
            let resume = window.resume(last_event_id);
            let next = match resume {
                Resume::After(seq) => Some(seq + 1),
                Resume::Live | Resume::Gap(_) => None,
            };
            (next, (resume, window.newest()))
        });
        let gap = match resume {
            Resume::Gap(gap) => {
                let mut buf = [0; EpochId::MAX_LEN];
                let frame = gap.frame(newest.encode(&mut buf));
                // A word of data, a type and an id that are valid by construction.
                frame.to_vec().ok().map(Bytes::from)
            }
            Resume::Live | Resume::After(_) => None,
        };
        TopicSubscription {
            gap,
            resume,
            events,
        }
    }
}

/// What a [`TopicSubscription`] sends: the gap event, or an event of the
/// topic. Either is one encoded frame, sent as it is
/// ([`Chunk`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The client's id could not be resumed: `event: gap`, the reason as
    /// data ([`Gap::reason`](sse_codec::Gap::reason)), and the id of the
    /// newest event, from which a later reconnect resumes.
    Gap(Bytes),
    /// An event of the topic, replayed or live, with its [`EpochId`].
    Event(Entry),
}

impl Delivery {
    /// The encoded frame.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Delivery::Gap(bytes) => bytes,
            Delivery::Event(entry) => entry.as_bytes(),
        }
    }

    /// Whether this is the gap event.
    #[must_use]
    pub fn is_gap(&self) -> bool {
        matches!(self, Delivery::Gap(_))
    }
}

impl Chunk for Delivery {
    fn into_bytes(self) -> Bytes {
        match self {
            Delivery::Gap(bytes) => bytes,
            Delivery::Event(entry) => entry.into_bytes(),
        }
    }
}

/// The events of a topic for one client, from [`Backend::subscribe`](super::Backend::subscribe):
/// a [`Delivery::Gap`] first if its id could not be resumed, then each
/// event once, in order, replayed then live.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct TopicSubscription {
    gap: Option<Bytes>,
    resume: Resume,
    events: Subscription,
}

impl TopicSubscription {
    /// Where it started: [`Resume::Live`] (no id), [`Resume::After`] an
    /// event, or [`Resume::Gap`] with why.
    #[must_use]
    pub fn resume(&self) -> Resume {
        self.resume
    }

    /// Whether it ended because the subscriber fell behind the topic's
    /// window ([`Subscription::lagged`]).
    #[must_use]
    pub fn lagged(&self) -> bool {
        self.events.lagged()
    }
}

impl Stream for TopicSubscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        if let Some(gap) = self.gap.take() {
            return Poll::Ready(Some(Delivery::Gap(gap)));
        }
        Pin::new(&mut self.events)
            .poll_next(cx)
            .map(|entry| entry.map(Delivery::Event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::hooks::NoHooks;
    use futures_util::StreamExt;
    use sse_codec::Gap;

    fn mirror(limits: ReplayLimits) -> Mirror {
        Mirror::new(0xe, 1, limits, Arc::new(NoHooks))
    }

    #[tokio::test]
    async fn ids_are_epoch_ids_and_resume_by_sequence_number() {
        let m = mirror(ReplayLimits::new().with_max_events(3));
        let ids: Vec<EpochId> = (1..=5)
            .map(|n| m.append(Frame::event(&n.to_string())).unwrap())
            .collect();
        assert_eq!(ids[0].to_string(), "000000000000000e-1");
        assert_eq!(ids[4], EpochId::new(0xe, 5));
        // Holds 3..=5: after 2 (trimmed itself) nothing was missed.
        let mut sub = m.subscribe(Some("000000000000000e-2"));
        assert_eq!(sub.resume(), Resume::After(2));
        let first = sub.next().await.unwrap();
        assert_eq!(first.as_bytes(), b"id: 000000000000000e-3\ndata: 3\n\n");
        // After 1: event 2 is gone.
        let mut sub = m.subscribe(Some("000000000000000e-1"));
        assert_eq!(sub.resume(), Resume::Gap(Gap::Trimmed { missed: 1 }));
        let gap = sub.next().await.unwrap();
        assert!(gap.is_gap());
        assert_eq!(
            gap.as_bytes(),
            b"event: gap\nid: 000000000000000e-5\ndata: trimmed\n\n"
        );
        // Then live only.
        m.append(Frame::event("6")).unwrap();
        assert_eq!(
            sub.next().await.unwrap().as_bytes(),
            b"id: 000000000000000e-6\ndata: 6\n\n"
        );
    }

    #[tokio::test]
    async fn the_gap_id_resumes_cleanly() {
        let m = mirror(ReplayLimits::new());
        m.append(Frame::event("a")).unwrap();
        let mut sub = m.subscribe(Some("ffffffffffffffff-1"));
        let Some(Delivery::Gap(gap)) = sub.next().await else {
            panic!()
        };
        let text = std::str::from_utf8(&gap).unwrap();
        let id = text.lines().find_map(|l| l.strip_prefix("id: ")).unwrap();
        m.append(Frame::event("b")).unwrap();
        let mut again = m.subscribe(Some(id));
        assert_eq!(again.resume(), Resume::After(1));
        assert_eq!(
            again.next().await.unwrap(),
            sub.next().await.unwrap(),
            "both get b, once"
        );
    }
}
