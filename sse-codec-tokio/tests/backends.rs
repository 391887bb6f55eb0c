//! The same behaviour, checked on both `fleet` backends: in memory, and
//! Redis Streams (a real `redis-server`).
//!
//! The Redis runs use the server at `SSE_REDIS_URL` if set (`.ci/run`
//! starts one), else one this test starts itself when `redis-server` is on
//! the PATH. Without either, the Redis half says so and passes, unless
//! `SSE_REDIS_TEST=required` is set, as `.ci/run` does. Each run uses keys
//! under a prefix of its own, so runs never see each other's topics.

#![cfg(feature = "redis")]

use futures_util::StreamExt;
use sse_codec::{Frame, Gap, ReplayLimits, Resume};
use sse_codec_tokio::fleet::{
    Backend, BackendError, Delivery, MemoryBackend, RedisBackend, RedisConfig, TopicSubscription,
};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A time limit for a step that should take milliseconds: a hung test
/// fails instead of hanging CI. Not a performance threshold.
const STEP: Duration = Duration::from_secs(10);

/// A Redis for the tests: `SSE_REDIS_URL`, or one started here.
fn redis_url() -> Option<String> {
    static URL: OnceLock<Option<(String, Option<ChildGuard>)>> = OnceLock::new();
    let found = URL.get_or_init(|| {
        if let Ok(url) = std::env::var("SSE_REDIS_URL") {
            return Some((url, None));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("sse-backends-redis-{port}"));
        std::fs::create_dir_all(&dir).ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let guard = ChildGuard(std::sync::Mutex::new(child));
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return Some((format!("redis://{addr}/"), Some(guard)));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    });
    match found {
        Some((url, _)) => Some(url.clone()),
        None if std::env::var("SSE_REDIS_TEST").as_deref() == Ok("required") => {
            panic!("SSE_REDIS_TEST=required, but there is no SSE_REDIS_URL and redis-server did not start")
        }
        None => {
            eprintln!("no Redis (SSE_REDIS_URL unset, redis-server not found): Redis half skipped");
            None
        }
    }
}

/// Kills the Redis this test started when the process ends.
struct ChildGuard(std::sync::Mutex<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(mut child) = self.0.lock() {
            let _ = child.kill();
        }
    }
}

/// A Redis backend (a node) whose keys no other run or test shares.
fn redis_node(url: &str, prefix: &str, limits: ReplayLimits, max_topics: usize) -> RedisBackend {
    let config = RedisConfig::new()
        .with_key_prefix(prefix)
        .with_limits(limits)
        .with_max_topics(max_topics)
        .with_block(Duration::from_millis(200));
    RedisBackend::new(url, config).unwrap()
}

fn fresh_prefix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "test:{}:{nanos}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn next(sub: &mut TopicSubscription) -> Delivery {
    tokio::time::timeout(STEP, sub.next())
        .await
        .expect("a delivery within the step limit")
        .expect("the stream goes on")
}

/// The id and data of an event delivery.
fn event(d: &Delivery) -> (String, String) {
    let Delivery::Event(entry) = d else {
        panic!("expected an event, got {d:?}")
    };
    let text = std::str::from_utf8(entry.as_bytes()).unwrap();
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    (entry.id().to_owned(), data.join("\n"))
}

/// The id a gap delivery carries.
fn gap_id(d: &Delivery) -> String {
    let Delivery::Gap(bytes) = d else {
        panic!("expected a gap, got {d:?}")
    };
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.starts_with("event: gap\n"), "{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_owned()
}

/// Everything both backends must do. `make` gives a backend (a node) with
/// the limits and topic bound asked for, sharing storage with the others
/// it made (for Redis: the same prefix).
async fn behaves<B: Backend>(make: impl Fn(ReplayLimits, usize) -> B) {
    let b = make(ReplayLimits::new(), 8);

    // Append: ids increase by one in a topic; a live subscription sees what
    // follows it, in order.
    let mut live = b.subscribe("t1", None).await.unwrap();
    assert_eq!(live.resume(), Resume::Live);
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            b.append("t1", Frame::event(&format!("e{n}")))
                .await
                .unwrap(),
        );
    }
    for w in ids.windows(2) {
        assert_eq!(w[0].epoch(), w[1].epoch());
        assert_eq!(w[0].seq() + 1, w[1].seq());
    }
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            event(&next(&mut live).await),
            (id.to_string(), format!("e{n}"))
        );
    }

    // Resume: exactly the events after the id, then live.
    let mut resumed = b.subscribe("t1", Some(&ids[1].to_string())).await.unwrap();
    assert_eq!(resumed.resume(), Resume::After(ids[1].seq()));
    for n in 2..5 {
        assert_eq!(event(&next(&mut resumed).await).1, format!("e{n}"));
    }
    let more = b.append("t1", Frame::event("e5")).await.unwrap();
    assert_eq!(event(&next(&mut resumed).await).0, more.to_string());
    assert_eq!(event(&next(&mut live).await).0, more.to_string());

    // "Before the first": everything the topic holds.
    let zero = format!("{:016x}-0", ids[0].epoch());
    let mut all = b.subscribe("t1", Some(&zero)).await.unwrap();
    assert_eq!(event(&next(&mut all).await).1, "e0");

    // Gaps: malformed, other epoch, never issued, another topic's id. Each
    // comes first, names the newest id, and then live events follow.
    b.append("t2", Frame::event("other topic")).await.unwrap();
    let t2_id = b.append("t2", Frame::event("x")).await.unwrap().to_string();
    let cases = [
        ("42".to_owned(), Gap::Malformed),
        (format!("{:016x}-1", ids[0].epoch() ^ 1), Gap::OtherEpoch),
        (format!("{:016x}-99", ids[0].epoch()), Gap::NeverIssued),
        (t2_id, Gap::OtherEpoch),
    ];
    for (id, why) in cases {
        let mut sub = b.subscribe("t1", Some(&id)).await.unwrap();
        assert_eq!(sub.resume(), Resume::Gap(why), "{id}");
        let gap = next(&mut sub).await;
        assert!(gap
            .as_bytes()
            .ends_with(format!("data: {}\n\n", why.reason()).as_bytes()));
        assert_eq!(gap_id(&gap), more.to_string(), "{id}");
    }
    let mut after_gap = b.subscribe("t1", Some("42")).await.unwrap();
    let newest = gap_id(&next(&mut after_gap).await);
    let live_one = b.append("t1", Frame::event("e6")).await.unwrap();
    assert_eq!(event(&next(&mut after_gap).await).0, live_one.to_string());
    // The gap's id resumes cleanly: no gap again.
    let mut again = b.subscribe("t1", Some(&newest)).await.unwrap();
    assert_eq!(event(&next(&mut again).await).0, live_one.to_string());

    // Event types and multi-line data survive the store.
    let typed = Frame::event("line 1\r\nline 2\rline 3").with_event_type("update");
    let id = b.append("t3", typed).await.unwrap();
    let mut sub = b
        .subscribe("t3", Some(&format!("{:016x}-0", id.epoch())))
        .await
        .unwrap();
    let Delivery::Event(entry) = next(&mut sub).await else {
        panic!()
    };
    assert_eq!(
        entry.as_bytes(),
        format!("event: update\nid: {id}\ndata: line 1\ndata: line 2\ndata: line 3\n\n").as_bytes()
    );

    // Refusals, each typed, nothing appended.
    for bad in ["", "a/b", "a b", "{x}", &"x".repeat(65)] {
        assert!(matches!(
            b.append(bad, Frame::event("x")).await,
            Err(BackendError::InvalidTopic)
        ));
        assert!(matches!(
            b.subscribe(bad, None).await,
            Err(BackendError::InvalidTopic)
        ));
    }
    let bad_type = Frame::event("x").with_event_type("a\nb");
    let err = b.append("t3", bad_type).await.unwrap_err();
    assert!(matches!(
        err,
        BackendError::Frame(sse_codec::Error::InvalidEventType)
    ));
    assert_eq!(err.status(), 400);
    let huge = "x".repeat(2 << 20);
    let err = b.append("t3", Frame::event(&huge)).await.unwrap_err();
    assert!(matches!(
        err,
        BackendError::Frame(sse_codec::Error::EntryTooLarge { .. })
    ));
    let next_id = b.append("t3", Frame::event("after")).await.unwrap();
    assert_eq!(next_id.seq(), id.seq() + 1, "the refusals appended nothing");

    // Too many topics on one node.
    let small = make(ReplayLimits::new(), 2);
    small.append("a", Frame::event("x")).await.unwrap();
    small.append("b", Frame::event("x")).await.unwrap();
    let err = small.append("c", Frame::event("x")).await.unwrap_err();
    assert!(matches!(err, BackendError::TooManyTopics { max_topics: 2 }));
    assert_eq!(err.status(), 503);

    // Trimmed: a window of 4 events; an id older than it is a gap, one at
    // its edge is not.
    let t = make(ReplayLimits::new().with_max_events(4), 8);
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(
            t.append("trim", Frame::event(&n.to_string()))
                .await
                .unwrap(),
        );
    }
    let mut old = t
        .subscribe("trim", Some(&ids[2].to_string()))
        .await
        .unwrap();
    assert_eq!(old.resume(), Resume::Gap(Gap::Trimmed { missed: 13 }));
    assert_eq!(gap_id(&next(&mut old).await), ids[19].to_string());
    let mut edge = t
        .subscribe("trim", Some(&ids[15].to_string()))
        .await
        .unwrap();
    assert_eq!(event(&next(&mut edge).await).1, "16");

    // Appends racing a subscription: each event once, in order.
    let racer = make(ReplayLimits::new(), 8);
    let first = racer.append("race", Frame::event("0")).await.unwrap();
    let (_, got) = tokio::join!(
        async {
            for n in 1..200 {
                racer
                    .append("race", Frame::event(&n.to_string()))
                    .await
                    .unwrap();
            }
        },
        async {
            let mut sub = racer
                .subscribe("race", Some(&first.to_string()))
                .await
                .unwrap();
            let mut got = Vec::new();
            for _ in 1..200 {
                got.push(event(&next(&mut sub).await).1);
            }
            got
        }
    );
    let want: Vec<String> = (1..200).map(|n| n.to_string()).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn memory_backend_behaves() {
    // One in-memory backend is one node: every "node" asked for shares it
    // (with the limits it was made with), except that limits and topic
    // bounds differ per call, so each call that changes them gets its own.
    let shared: Arc<std::sync::Mutex<Vec<Made>>> = Arc::default();
    behaves(move |limits, max_topics| {
        let mut made = shared.lock().unwrap();
        if let Some((_, _, b)) = made
            .iter()
            .find(|(l, m, _)| *l == limits && *m == max_topics)
        {
            return Shared(Arc::clone(b));
        }
        let b = Arc::new(MemoryBackend::new(limits, max_topics));
        made.push((limits, max_topics, Arc::clone(&b)));
        Shared(b)
    })
    .await;
}

/// A memory backend made for some limits and topic bound.
type Made = (ReplayLimits, usize, Arc<MemoryBackend>);

/// A backend behind an `Arc`, so that the memory "nodes" can share one.
struct Shared<B>(Arc<B>);

impl<B: Backend> Backend for Shared<B> {
    fn append(
        &self,
        topic: &str,
        frame: Frame<'_>,
    ) -> impl std::future::Future<Output = Result<sse_codec::EpochId, BackendError>> + Send {
        self.0.append(topic, frame)
    }

    fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> impl std::future::Future<Output = Result<TopicSubscription, BackendError>> + Send {
        self.0.subscribe(topic, last_event_id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_backend_behaves() {
    let Some(url) = redis_url() else { return };
    // A fresh prefix per limits, so that the trimmed topic and the others
    // don't share keys with different bounds.
    let prefix = fresh_prefix();
    behaves(move |limits, max_topics| {
        let prefix = format!("{prefix}{}:{max_topics}:", limits.max_events());
        redis_node(&url, &prefix, limits, max_topics)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_redis_nodes_agree_on_ids_and_resume_each_other() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let a = redis_node(&url, &prefix, ReplayLimits::new(), 8);
    let b = redis_node(&url, &prefix, ReplayLimits::new(), 8);
    let mut on_a = a.subscribe("shared", None).await.unwrap();
    let mut on_b = b.subscribe("shared", None).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..50 {
        let node = if n % 2 == 0 { &a } else { &b };
        ids.push(
            node.append("shared", Frame::event(&n.to_string()))
                .await
                .unwrap()
                .to_string(),
        );
    }
    for sub in [&mut on_a, &mut on_b] {
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(event(&next(sub).await), (id.clone(), n.to_string()));
        }
    }
    // A client of A resumes on B with the id A gave it, at once: B catches
    // up with Redis before it decides.
    let id = a.append("shared", Frame::event("fresh")).await.unwrap();
    b.append("shared", Frame::event("after")).await.unwrap();
    let mut moved = b.subscribe("shared", Some(&id.to_string())).await.unwrap();
    assert_eq!(moved.resume(), Resume::After(id.seq()));
    assert_eq!(event(&next(&mut moved).await).1, "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_redis_history_is_a_new_epoch() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let node = redis_node(&url, &prefix, ReplayLimits::new(), 8);
    let old = node.append("lost", Frame::event("before")).await.unwrap();
    let mut open = node.subscribe("lost", None).await.unwrap();
    // What a flush does to this topic: its keys are gone.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys = [
        format!("{prefix}{{lost}}:log"),
        format!("{prefix}{{lost}}:meta"),
    ];
    redis::cmd("DEL")
        .arg(&keys[0])
        .arg(&keys[1])
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    // The reader notices within its block time and ends the open stream.
    let ended = tokio::time::timeout(STEP, open.next()).await.unwrap();
    assert!(ended.is_none(), "{ended:?}");
    let new = node.append("lost", Frame::event("after")).await.unwrap();
    assert_ne!(new.epoch(), old.epoch());
    assert_eq!(new.seq(), 1);
    let mut back = node
        .subscribe("lost", Some(&old.to_string()))
        .await
        .unwrap();
    assert_eq!(back.resume(), Resume::Gap(Gap::OtherEpoch));
    assert_eq!(gap_id(&next(&mut back).await), new.to_string());
}
