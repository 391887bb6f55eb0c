//! The in-memory backend: one process's topics, gone when it stops.

use super::mirror::Mirror;
use super::{new_epoch, Backend, BackendError, TopicSubscription};
use crate::server::hooks::{HeldHooks, Hooks, NoHooks};
use sse_codec::{EpochId, Frame, ReplayLimits};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Topics in this process's memory: the embedded default, for one node.
///
/// Each topic gets a new random epoch when it is first used, so ids from
/// before a restart (or from another topic) are a
/// [`Gap::OtherEpoch`](sse_codec::Gap::OtherEpoch), never a wrong replay.
///
/// Bounded: at most `max_topics` topics, each holding at most `limits`
/// (its newest events); memory is at most `max_topics` times a topic's
/// bound, plus [`SUBSCRIPTION_BATCH`](crate::SUBSCRIPTION_BATCH) entries
/// per subscriber. Topics are never removed.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use sse_codec::{Frame, ReplayLimits};
/// use sse_codec_tokio::fleet::{Backend, MemoryBackend};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let backend = MemoryBackend::new(ReplayLimits::new().with_max_events(1000), 100);
/// let id = backend.append("prices", Frame::event("1.10")).await?;
/// backend.append("prices", Frame::event("1.12")).await?;
/// let mut events = backend.subscribe("prices", Some(&id.to_string())).await?;
/// assert!(events.next().await.unwrap().as_bytes().ends_with(b"data: 1.12\n\n"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryBackend {
    topics: Mutex<HashMap<String, Arc<Mirror>>>,
    limits: ReplayLimits,
    max_topics: usize,
    hooks: HeldHooks,
}

impl MemoryBackend {
    /// Up to `max_topics` topics, each holding at most `limits`.
    #[must_use]
    pub fn new(limits: ReplayLimits, max_topics: usize) -> Self {
        MemoryBackend {
            topics: Mutex::new(HashMap::new()),
            limits,
            max_topics,
            hooks: HeldHooks(Arc::new(NoHooks)),
        }
    }

    /// Tells `hooks` what the subscriptions of every topic do.
    #[must_use]
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = HeldHooks(hooks);
        self
    }

    fn topic(&self, topic: &str) -> Result<Arc<Mirror>, BackendError> {
        if !sse_codec::is_valid_topic(topic) {
            return Err(BackendError::InvalidTopic);
        }
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mirror) = topics.get(topic) {
            return Ok(Arc::clone(mirror));
        }
        if topics.len() >= self.max_topics {
            return Err(BackendError::TooManyTopics {
                max_topics: self.max_topics,
            });
        }
        let mirror = Arc::new(Mirror::new(
            new_epoch(),
            1,
            self.limits,
            Arc::clone(&self.hooks.0),
        ));
        topics.insert(topic.to_owned(), Arc::clone(&mirror));
        Ok(mirror)
    }
}

impl Backend for MemoryBackend {
    async fn append(&self, topic: &str, frame: Frame<'_>) -> Result<EpochId, BackendError> {
        Ok(self.topic(topic)?.append(frame)?)
    }

    async fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> Result<TopicSubscription, BackendError> {
        Ok(self.topic(topic)?.subscribe(last_event_id))
    }
}
