//! Topic logs in Redis Streams, shared by every node that points at the
//! same Redis: any node appends, any node resumes any client.

use super::mirror::Mirror;
use super::{new_epoch, Backend, BackendError, TopicSubscription};
use crate::server::hooks::{HeldHooks, Hooks, NoHooks};
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Script, Value};
use core::time::Duration;
use sse_codec::{EpochId, Frame, ReplayLimits};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// How a [`RedisBackend`] uses Redis.
///
/// | setting | default | what it bounds |
/// |---|---|---|
/// | [`limits`](Self::with_limits) | [`ReplayLimits::new`] (1,024 events, 1 MiB) | what each node holds per topic, and so what a client can resume; the Redis stream is trimmed to about `max_events` (`XADD … MAXLEN ~`, which keeps at least that many) |
/// | [`max_topics`](Self::with_max_topics) | 1,024 | topics one node serves; each has one reader connection |
/// | [`key_prefix`](Self::with_key_prefix) | `sse:` | the Redis keys: `<prefix>{<topic>}:log` (the stream) and `<prefix>{<topic>}:meta` (epoch and last sequence number), in one cluster hash slot per topic |
/// | [`command_timeout`](Self::with_command_timeout) | 2 s | how long a command may take before the backend counts Redis as unavailable |
/// | [`block`](Self::with_block) | 1 s | how long a reader waits for new events in one `XREAD BLOCK`, and so how soon it notices history replaced behind its back (a flush) with no event appended |
#[derive(Clone, Debug)]
pub struct RedisConfig {
    limits: ReplayLimits,
    max_topics: usize,
    key_prefix: String,
    command_timeout: Duration,
    block: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            limits: ReplayLimits::new(),
            max_topics: 1024,
            key_prefix: "sse:".to_owned(),
            command_timeout: Duration::from_secs(2),
            block: Duration::from_secs(1),
        }
    }
}

impl RedisConfig {
    /// The defaults (see the table above).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// What each topic holds.
    #[must_use]
    pub fn with_limits(mut self, limits: ReplayLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The most topics this node serves.
    #[must_use]
    pub fn with_max_topics(mut self, max_topics: usize) -> Self {
        self.max_topics = max_topics;
        self
    }

    /// The prefix of every key.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.key_prefix);
        self
    }

    /// The longest a command may take.
    #[must_use]
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The longest one `XREAD BLOCK` waits (at least 1 ms).
    #[must_use]
    pub fn with_block(mut self, block: Duration) -> Self {
        self.block = block.max(Duration::from_millis(1));
        self
    }
}

/// Topics in Redis Streams: the fleet backend. Every node given the same
/// Redis (and [`key_prefix`](RedisConfig::with_key_prefix)) serves the same
/// topics; a client that reconnects to any of them resumes.
///
/// # How
///
/// - **Append**: one Lua script, atomic in Redis, takes the topic's next
///   sequence number (`HINCRBY` on its meta hash) and adds the event to
///   its stream with that number as its stream id (`XADD … MAXLEN ~ n
///   <seq>-0`), tagged with the epoch. So every node agrees on every id,
///   and ids increase in log order.
/// - **Epoch**: a random value in the meta hash, made by the first append
///   or subscription of a history. A flush, or a restart without
///   persistence, loses the hash with the stream; the next one makes a new
///   epoch, and ids of the old one get a `gap` event, never a stale replay.
///   (A stream left without its hash, e.g. one key evicted, is deleted when
///   the new epoch is made.)
/// - **Live delivery**: each node runs one reader per topic (its own
///   connection, `XREAD BLOCK`), which copies new events into the node's
///   in-memory window of the topic; every subscriber on the node reads
///   that window. A subscription first asks Redis for the topic's epoch and
///   newest number and catches the window up, so a client resuming with an
///   id it got from another node a moment ago is never told of a gap.
/// - **Resume** is served from the window, which holds the newest events
///   within [`RedisConfig::with_limits`], the same on every node.
/// - **What Redis holds**: per topic, its stream (about `max_events`
///   entries) and a small meta hash. A subscription to a topic that has
///   none makes its epoch, so Redis keeps a hash for every topic ever asked
///   for; take topic names from your routes, not from whatever a client
///   sends, or give Redis a `maxmemory` policy (a topic whose hash is
///   evicted simply starts a new epoch).
/// - **Redis unavailable**: appends and subscriptions fail with
///   [`BackendError::Unavailable`] (503 at HTTP); a reader that loses Redis
///   closes its topic's window, which ends the open streams so that their
///   clients reconnect (and get 503 until Redis is back). Readers and the
///   command connection reconnect by themselves, with back-off, so service
///   comes back without a restart.
///
/// # Examples
///
/// ```no_run
/// use sse_codec::Frame;
/// use sse_codec_tokio::fleet::{Backend, RedisBackend, RedisConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // No connection yet: a node starts even while Redis is down.
/// let backend = RedisBackend::new("redis://127.0.0.1:6379/", RedisConfig::new())?;
/// let id = backend.append("orders", Frame::event("{\"n\":17}")).await?;
/// println!("appended {id}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    config: RedisConfig,
    /// The command connection, made on first use and again after an error.
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
    hooks: HeldHooks,
    append: Script,
    state: Script,
}

/// One topic on this node.
#[derive(Debug)]
struct Topic {
    stream: String,
    meta: String,
    /// The node's window of the topic's current epoch; `None` before the
    /// first sync and after Redis was lost.
    mirror: tokio::sync::Mutex<Option<Arc<Mirror>>>,
}

/// Both scripts begin here: `epoch` is the history's, made (with the
/// stream deleted, as it belongs to no known epoch) if it has none.
macro_rules! epoch_lua {
    () => {
        r"
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'seq', 0)
end
"
    };
}

/// Appends: KEYS = stream, meta; ARGV = a new epoch (used if the history
/// has none), MAXLEN (0: none), then the event's field/value pairs.
/// Returns {epoch, seq}.
const APPEND: &str = concat!(
    epoch_lua!(),
    r"
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
local args = {'XADD', KEYS[1]}
if tonumber(ARGV[2]) > 0 then
  args[#args + 1] = 'MAXLEN'
  args[#args + 1] = '~'
  args[#args + 1] = ARGV[2]
end
args[#args + 1] = seq .. '-0'
args[#args + 1] = 'e'
args[#args + 1] = epoch
for i = 3, #ARGV do
  args[#args + 1] = ARGV[i]
end
redis.call(unpack(args))
return {epoch, seq}
"
);

/// The topic's epoch (made if it has none) and newest sequence number:
/// KEYS = stream, meta; ARGV = a new epoch. Returns {epoch, seq}.
const STATE: &str = concat!(
    epoch_lua!(),
    "return {epoch, tonumber(redis.call('HGET', KEYS[2], 'seq'))}\n"
);

/// The most entries one `XRANGE`/`XREAD` brings.
const BATCH: usize = 512;

/// A reader's longest wait before it tries Redis again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl RedisBackend {
    /// A backend on the Redis at `url` (`redis://host:port/db`). Nothing
    /// connects yet: a node starts whether or not Redis is up.
    ///
    /// # Errors
    ///
    /// [`BackendError::Unavailable`] if `url` is not a Redis URL.
    pub fn new(url: &str, config: RedisConfig) -> Result<Self, BackendError> {
        let client = Client::open(url).map_err(unavailable)?;
        Ok(RedisBackend {
            inner: Arc::new(Inner {
                client,
                config,
                conn: tokio::sync::Mutex::new(None),
                topics: Mutex::new(HashMap::new()),
                hooks: HeldHooks(Arc::new(NoHooks)),
                append: Script::new(APPEND),
                state: Script::new(STATE),
            }),
        })
    }

    /// Tells `hooks` what the subscriptions of every topic do. Call it
    /// before the first append or subscription.
    #[must_use]
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.hooks = HeldHooks(hooks);
        }
        self
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> BackendError {
    BackendError::Unavailable(Box::new(e))
}

fn timed_out() -> BackendError {
    BackendError::Unavailable("Redis did not answer in time".into())
}

fn protocol(what: &str) -> BackendError {
    BackendError::Unavailable(format!("unexpected answer from Redis: {what}").into())
}

impl Inner {
    /// The topic, made (with its reader) if it is new.
    fn topic(self: &Arc<Self>, topic: &str) -> Result<Arc<Topic>, BackendError> {
        if !sse_codec::is_valid_topic(topic) {
            return Err(BackendError::InvalidTopic);
        }
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = topics.get(topic) {
            return Ok(Arc::clone(t));
        }
        if topics.len() >= self.config.max_topics {
            return Err(BackendError::TooManyTopics {
                max_topics: self.config.max_topics,
            });
        }
        let prefix = &self.config.key_prefix;
        let t = Arc::new(Topic {
            stream: format!("{prefix}{{{topic}}}:log"),
            meta: format!("{prefix}{{{topic}}}:meta"),
            mirror: tokio::sync::Mutex::new(None),
        });
        topics.insert(topic.to_owned(), Arc::clone(&t));
        tokio::spawn(read(Arc::downgrade(self), Arc::clone(&t)));
        Ok(t)
    }

    /// A connection for commands.
    async fn conn(&self) -> Result<MultiplexedConnection, BackendError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = &*slot {
            return Ok(conn.clone());
        }
        let timeout = self.config.command_timeout;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let conn = tokio::time::timeout(
            timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
        .map_err(|_| timed_out())?
        .map_err(unavailable)?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs a command (or script) with the command timeout; after an
    /// error, the next command makes a new connection.
    async fn query(&self, cmd: Command<'_>) -> Result<Value, BackendError> {
        let mut conn = self.conn().await?;
        let run = async {
            match cmd {
                Command::Cmd(cmd) => cmd.query_async::<Value>(&mut conn).await,
                Command::Script(inv) => inv.invoke_async::<Value>(&mut conn).await,
            }
        };
        let result = match tokio::time::timeout(self.config.command_timeout, run).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(timed_out()),
        };
        if result.is_err() {
            *self.conn.lock().await = None;
        }
        result
    }

    /// The topic's epoch and newest sequence number, in Redis.
    async fn state(&self, t: &Topic) -> Result<(u64, u64), BackendError> {
        let mut inv = self.state.prepare_invoke();
        inv.key(&t.stream)
            .key(&t.meta)
            .arg(format!("{:016x}", new_epoch()));
        epoch_and_seq(&self.query(Command::Script(inv)).await?)
    }

    /// The node's window of `t`, brought up to date with Redis: loaded if
    /// there is none or its epoch is no longer Redis's, caught up to the
    /// newest event otherwise.
    async fn sync(&self, t: &Topic) -> Result<Arc<Mirror>, BackendError> {
        let (epoch, newest) = self.state(t).await?;
        let mut slot = t.mirror.lock().await;
        if let Some(mirror) = slot.as_ref().filter(|m| m.epoch() == epoch) {
            if self.catch_up(t, mirror, newest).await? {
                return Ok(Arc::clone(mirror));
            }
        }
        // A new history, or a hole in this node's copy: start again, and end
        // the old window's streams so that their clients resume afresh.
        if let Some(old) = slot.take() {
            old.close();
        }
        let mirror = Arc::new(self.load(t, epoch, newest).await?);
        *slot = Some(Arc::clone(&mirror));
        Ok(mirror)
    }

    /// Copies events up to `newest` into `mirror`. `false`: it cannot
    /// (they were trimmed, or are of another epoch): load afresh.
    async fn catch_up(
        &self,
        t: &Topic,
        mirror: &Mirror,
        newest: u64,
    ) -> Result<bool, BackendError> {
        while mirror.next_seq() <= newest {
            let mut cmd = ::redis::cmd("XRANGE");
            cmd.arg(&t.stream)
                .arg(format!("{}-0", mirror.next_seq()))
                .arg("+")
                .arg("COUNT")
                .arg(BATCH);
            let entries = stream_entries(&self.query(Command::Cmd(cmd)).await?)?;
            if entries.is_empty() || !apply(mirror, &entries) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A new window of `epoch`: the newest events Redis holds, within the
    /// limits, from `newest` back.
    async fn load(&self, t: &Topic, epoch: u64, newest: u64) -> Result<Mirror, BackendError> {
        let count = self.config.limits.max_events().clamp(1, 1 << 20);
        let mut cmd = ::redis::cmd("XREVRANGE");
        cmd.arg(&t.stream)
            .arg(format!("{newest}-0"))
            .arg("-")
            .arg("COUNT")
            .arg(count);
        let mut entries = stream_entries(&self.query(Command::Cmd(cmd)).await?)?;
        entries.reverse();
        // Keep only the contiguous run of this epoch that ends at `newest`.
        let keep_from = entries
            .iter()
            .rposition(|e| e.epoch != epoch)
            .map_or(0, |i| i + 1);
        let entries = &entries[keep_from..];
        let first = entries.first().map_or(newest + 1, |e| e.seq);
        let mirror = Mirror::new(epoch, first, self.config.limits, Arc::clone(&self.hooks.0));
        let _contiguous = apply(&mirror, entries);
        Ok(mirror)
    }

    /// Closes `t`'s window: Redis is gone, or its copy can no longer be
    /// trusted. Its streams end; the next sync loads a new one.
    async fn lose(&self, t: &Topic) {
        if let Some(mirror) = t.mirror.lock().await.take() {
            mirror.close();
        }
    }
}

/// A command or a script invocation.
enum Command<'a> {
    Cmd(::redis::Cmd),
    Script(::redis::ScriptInvocation<'a>),
}

/// Appends the entries that follow `mirror`'s newest, in order; `false`
/// at the first that does not (a hole, or another epoch). Entries it has
/// already are skipped, so the reader and a subscription's catch-up may
/// both deliver the same ones.
fn apply(mirror: &Mirror, entries: &[StreamEntry]) -> bool {
    for entry in entries {
        let next = mirror.next_seq();
        if entry.epoch != mirror.epoch() || entry.seq > next {
            return false;
        }
        if entry.seq < next {
            continue;
        }
        // Too large or invalid cannot happen for what `append` checked;
        // if another writer put it there, skip it rather than stall the
        // topic: its number is then missing and the next sync reloads.
        if mirror.append(entry.frame()).is_err() {
            return false;
        }
    }
    true
}

/// One event as a stream entry: `<seq>-0` with fields `e` (epoch), and
/// `d`, `t`, `r`, `c` (data, event type, retry, comment) when set.
#[derive(Debug, Default)]
struct StreamEntry {
    seq: u64,
    epoch: u64,
    data: Option<String>,
    event_type: Option<String>,
    retry: Option<u64>,
    comment: Option<String>,
}

impl StreamEntry {
    fn frame(&self) -> Frame<'_> {
        let mut frame = Frame::default();
        if let Some(data) = &self.data {
            frame = frame.with_data(data);
        }
        if let Some(event_type) = &self.event_type {
            frame = frame.with_event_type(event_type);
        }
        if let Some(ms) = self.retry {
            frame = frame.with_retry(ms);
        }
        if let Some(comment) = &self.comment {
            frame = frame.with_comment(comment);
        }
        frame
    }

    /// From one `[id, [field, value, …]]` of a reply.
    fn parse(value: &Value) -> Result<StreamEntry, BackendError> {
        let Value::Array(parts) = value else {
            return Err(protocol("a stream entry"));
        };
        let [id, Value::Array(fields)] = parts.as_slice() else {
            return Err(protocol("a stream entry"));
        };
        let id = text(id)?;
        let seq = id
            .strip_suffix("-0")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| protocol("a stream id"))?;
        let mut entry = StreamEntry {
            seq,
            ..StreamEntry::default()
        };
        for pair in fields.chunks(2) {
            let [name, value] = pair else {
                return Err(protocol("stream fields"));
            };
            let value = text(value)?;
            match text(name)?.as_str() {
                "e" => entry.epoch = parse_epoch(&value)?,
                "d" => entry.data = Some(value),
                "t" => entry.event_type = Some(value),
                "r" => entry.retry = value.parse().ok(),
                "c" => entry.comment = Some(value),
                _ => {}
            }
        }
        Ok(entry)
    }
}

fn text(value: &Value) -> Result<String, BackendError> {
    match value {
        Value::BulkString(bytes) => {
            String::from_utf8(bytes.clone()).map_err(|_| protocol("text that is not UTF-8"))
        }
        Value::SimpleString(s) => Ok(s.clone()),
        _ => Err(protocol("text")),
    }
}

fn parse_epoch(hex: &str) -> Result<u64, BackendError> {
    u64::from_str_radix(hex, 16).map_err(|_| protocol("an epoch"))
}

/// `{epoch, seq}` from the scripts.
fn epoch_and_seq(value: &Value) -> Result<(u64, u64), BackendError> {
    let Value::Array(parts) = value else {
        return Err(protocol("{epoch, seq}"));
    };
    match parts.as_slice() {
        [epoch, Value::Int(seq)] => Ok((
            parse_epoch(&text(epoch)?)?,
            u64::try_from(*seq).map_err(|_| protocol("a sequence number"))?,
        )),
        _ => Err(protocol("{epoch, seq}")),
    }
}

/// The entries of an `XRANGE`/`XREVRANGE` reply.
fn stream_entries(value: &Value) -> Result<Vec<StreamEntry>, BackendError> {
    match value {
        Value::Array(entries) => entries.iter().map(StreamEntry::parse).collect(),
        Value::Nil => Ok(Vec::new()),
        _ => Err(protocol("stream entries")),
    }
}

/// The entries of an `XREAD` reply for one stream (`Nil`: none came).
fn read_entries(value: &Value) -> Result<Vec<StreamEntry>, BackendError> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => match streams.as_slice() {
            [] => Ok(Vec::new()),
            [Value::Array(stream)] => match stream.as_slice() {
                [_key, entries] => stream_entries(entries),
                _ => Err(protocol("an XREAD stream")),
            },
            _ => Err(protocol("one XREAD stream")),
        },
        Value::Map(streams) => match streams.as_slice() {
            [] => Ok(Vec::new()),
            [(_key, entries)] => stream_entries(entries),
            _ => Err(protocol("one XREAD stream")),
        },
        _ => Err(protocol("an XREAD reply")),
    }
}

/// The reader of one topic on this node: copies new events from Redis
/// into the node's window, on a connection of its own (an `XREAD BLOCK`
/// would hold up every other command on a shared one). Stops when the
/// backend is dropped.
async fn read(backend: Weak<Inner>, t: Arc<Topic>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let Some(inner) = backend.upgrade() else {
            return;
        };
        let config = &inner.config;
        let conn = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.command_timeout))
            .set_response_timeout(Some(config.block + config.command_timeout));
        let conn = inner
            .client
            .get_multiplexed_async_connection_with_config(&conn);
        let mut conn = match tokio::time::timeout(config.command_timeout, conn).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(_)) | Err(_) => {
                inner.lose(&t).await;
                drop(inner);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        drop(inner);
        backoff = Duration::from_millis(50);
        if follow(&backend, &t, &mut conn).await.is_none() {
            return;
        }
        // Redis was lost: the window is closed; connect again.
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Reads new events of `t` on `conn` until Redis fails (`Some`) or the
/// backend is gone (`None`).
async fn follow(backend: &Weak<Inner>, t: &Topic, conn: &mut MultiplexedConnection) -> Option<()> {
    let mut synced = false;
    loop {
        let inner = backend.upgrade()?;
        if !synced {
            if inner.sync(t).await.is_err() {
                inner.lose(t).await;
                return Some(());
            }
            synced = true;
        }
        let Some(mirror) = t.mirror.lock().await.clone() else {
            synced = false;
            continue;
        };
        let block_ms = u64::try_from(inner.config.block.as_millis()).unwrap_or(u64::MAX);
        let mut cmd = ::redis::cmd("XREAD");
        cmd.arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&t.stream)
            .arg(format!("{}-0", mirror.next_seq() - 1));
        let timeout = inner.config.block + inner.config.command_timeout;
        drop(inner);
        let reply = tokio::time::timeout(timeout, cmd.query_async::<Value>(conn)).await;
        let Ok(Ok(reply)) = reply else {
            let inner = backend.upgrade()?;
            inner.lose(t).await;
            return Some(());
        };
        match read_entries(&reply) {
            // Nothing new within `block`: check that the history is still
            // the one this window copies (a flush leaves no other trace).
            Ok(entries) if entries.is_empty() => synced = false,
            Ok(entries) => {
                let current = t.mirror.lock().await.clone();
                let same = current.is_some_and(|m| Arc::ptr_eq(&m, &mirror));
                if !same || !apply(&mirror, &entries) {
                    synced = false;
                }
            }
            Err(_) => synced = false,
        }
    }
}

impl Backend for RedisBackend {
    async fn append(&self, topic: &str, frame: Frame<'_>) -> Result<EpochId, BackendError> {
        let t = self.inner.topic(topic)?;
        // Checked here, as the window will check it: the longest id.
        let longest_id = [b'0'; EpochId::MAX_LEN];
        let longest_id = core::str::from_utf8(&longest_id).unwrap_or_default();
        let len = frame.with_id(longest_id).encoded_len()?;
        let max = self.inner.config.limits.max_bytes();
        if len > max {
            return Err(sse_codec::Error::EntryTooLarge { limit: max, len }.into());
        }
        let max_events = self.inner.config.limits.max_events();
        let maxlen = if max_events == usize::MAX {
            0
        } else {
            max_events.max(1)
        };
        let mut inv = self.inner.append.prepare_invoke();
        inv.key(&t.stream)
            .key(&t.meta)
            .arg(format!("{:016x}", new_epoch()))
            .arg(maxlen);
        let fields = [
            ("d", frame.data().map(str::to_owned)),
            ("t", frame.event_type().map(str::to_owned)),
            ("r", frame.retry_ms().map(|ms| ms.to_string())),
            ("c", frame.comment_text().map(str::to_owned)),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                inv.arg(name).arg(value);
            }
        }
        let (epoch, seq) = epoch_and_seq(&self.inner.query(Command::Script(inv)).await?)?;
        Ok(EpochId::new(epoch, seq))
    }

    async fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> Result<TopicSubscription, BackendError> {
        let t = self.inner.topic(topic)?;
        let mirror = self.inner.sync(&t).await?;
        Ok(mirror.subscribe(last_event_id))
    }
}
