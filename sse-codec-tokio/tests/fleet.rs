//! The demo as a fleet: demo server processes sharing topics through a real
//! Redis, against the contract of `POST /streams/{topic}` and
//! `GET /streams/{topic}` (issue 16):
//!
//! - two nodes share one Redis: events published alternately on both arrive
//!   at subscribers on both, in order, exactly once, with the ids the
//!   publishers were given;
//! - a client cut off by SIGKILL of its node resumes on the other node with
//!   its last id and gets every missed event exactly once;
//! - after `FLUSHALL`, and after a Redis restart without persistence, an
//!   old id gets a `gap` event first, never a stale replay;
//! - with Redis stopped the nodes stay up and answer 503 on the topic
//!   endpoints (open streams end), and serve again once Redis is back;
//! - a bounded load: 200 subscribers over two nodes, 300 events, each
//!   delivered exactly once and in order to each;
//! - the contract's checks (ids, `close_after` not counting the gap, the
//!   `Last-Event-ID` header winning over the query, a gap for malformed,
//!   never-issued and trimmed ids, topics scoped, 400s that append nothing,
//!   `/` and `/events` unchanged) on a node with the in-memory log and on a
//!   Redis node alike, and heartbeat comments on a quiet topic;
//! - headless Chromium's `EventSource` through nginx, round-robin over two
//!   nodes, reconnecting after `close_after`: every event exactly once (the
//!   page's URL keeps its first `last_event_id`, so this also shows the
//!   browser's `Last-Event-ID` header winning), and the connections served
//!   by both nodes (nginx's access log, `$upstream_addr`).
//!
//! Each test starts its own `redis-server` (so that it can flush, kill and
//! restart it) and its own nodes: the `server` example, built once, run as
//! `server --port 0 --redis redis://127.0.0.1:PORT`. Nothing here times
//! anything: the deadlines only bound how long a test waits before it gives
//! up. The latency and throughput figures come from `benches/bin/fleet.rs`.
//!
//! Needs `redis-server` (`apt-get install redis-server`); without it the
//! Redis tests say so and pass, unless `SSE_REDIS_TEST=required` is set, as
//! `.ci/run` does. The browser test also needs Chromium and nginx, gated by
//! `SSE_BROWSER_TEST` and `SSE_NGINX_TEST` like `browser.rs` and `nginx.rs`.

#[path = "common/chromium.rs"]
mod chromium;
#[path = "common/fleet.rs"]
mod harness;

use harness::{
    client, nginx_binary, post, publish, query_value, redis_server_or_skip, subscribe, Ev, Events,
    Get, Nginx, Node, Redis, TempDir,
};
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;
use tokio::time::{sleep, timeout, Instant};

/// Runs `test`, giving up after `limit`.
async fn within<F: Future<Output = ()>>(limit: Duration, test: F) {
    timeout(limit, test)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?}"));
}

/// Event `i` of `topic`: what is posted (event type, body) and what a client
/// decodes. The data has LF, CR and CRLF line breaks (each read back as LF)
/// and non-ASCII text, and names its topic, so that a replay from another
/// topic shows.
fn sample(topic: &str, i: usize) -> (Option<&'static str>, String, Ev) {
    let event_type = (i % 3 == 0).then_some("tick");
    let (sent, read) = match i % 4 {
        0 => (format!("{topic} #{i}"), format!("{topic} #{i}")),
        1 => (
            format!("{topic} #{i}\nsecond line\n\nafter an empty one"),
            format!("{topic} #{i}\nsecond line\n\nafter an empty one"),
        ),
        2 => (
            format!("{topic} #{i}\rCR\r\nCRLF"),
            format!("{topic} #{i}\nCR\nCRLF"),
        ),
        _ => (
            format!("{topic} #{i} h\u{e9}llo \u{2713} \u{1f680}"),
            format!("{topic} #{i} h\u{e9}llo \u{2713} \u{1f680}"),
        ),
    };
    let expected = Ev {
        id: String::new(),
        event_type: event_type.unwrap_or("message").to_owned(),
        data: read,
    };
    (event_type, sent, expected)
}

/// Publishes event `i` of `topic` through `node`; the event a client must
/// read, with the id the node answered.
async fn publish_sample(client: &reqwest::Client, node: &Node, topic: &str, i: usize) -> Ev {
    let (event_type, sent, mut expected) = sample(topic, i);
    expected.id = publish(client, &node.base, topic, event_type, &sent).await;
    expected
}

/// Asserts that `got` is `want`, event by event, saying where they part.
fn assert_events(who: &str, got: &[Ev], want: &[Ev]) {
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{who}: {} events where {} were expected; first difference at #{i}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            got.get(i),
            want.get(i)
        );
    }
}

/// The ids are pairwise distinct.
fn assert_distinct_ids(events: &[Ev]) {
    let ids: BTreeSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "repeated ids in {events:?}");
}

/// Polls `POST /streams/probe` on each node until it answers 200; how long
/// that took. Gives up after `limit`.
async fn wait_until_serving(
    client: &reqwest::Client,
    nodes: &[&Node],
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    for node in nodes {
        loop {
            let answer = post(client, &node.base, "probe", None, "probe").await;
            if matches!(answer, Ok((200, _))) {
                break;
            }
            assert!(
                started.elapsed() < limit,
                "{} did not serve within {limit:?} (last answer {answer:?}); its stderr:\n{}",
                node.base,
                node.stderr()
            );
            sleep(Duration::from_millis(100)).await;
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn two_nodes_share_topics_in_order_exactly_once() {
    let Some(binary) = redis_server_or_skip("two_nodes_share_topics_in_order_exactly_once") else {
        return;
    };
    within(Duration::from_secs(120), async {
        let redis = Redis::start(&binary).await;
        let nodes = [
            Node::start(Some(&redis.url())).await,
            Node::start(Some(&redis.url())).await,
        ];
        let client = client();
        let topic = "shared";
        const EVENTS: usize = 40;
        let start = publish(&client, &nodes[0].base, topic, None, "start").await;

        // Two live subscribers on each node, from the same id.
        let mut readers = Vec::new();
        for node in [&nodes[0], &nodes[0], &nodes[1], &nodes[1]] {
            let get = Get {
                query_id: Some(&start),
                close_after: Some(EVENTS),
                ..Get::default()
            };
            let events = subscribe(&client, &node.base, topic, get)
                .await
                .unwrap_or_else(|e| panic!("GET on {}: {e:?}", node.base));
            readers.push((node.base.clone(), tokio::spawn(events.collect())));
        }

        // Published alternately on both nodes, each awaited before the next.
        let mut expected = Vec::new();
        for i in 0..EVENTS {
            expected.push(publish_sample(&client, &nodes[i % 2], topic, i).await);
        }
        assert_distinct_ids(&expected);

        for (base, reader) in readers {
            let got = reader.await.unwrap();
            assert_events(&format!("live subscriber on {base}"), &got, &expected);
        }
        // And replayed from Redis, on each node, by a late subscriber.
        for node in &nodes {
            let get = Get {
                query_id: Some(&start),
                close_after: Some(EVENTS),
                ..Get::default()
            };
            let got = subscribe(&client, &node.base, topic, get)
                .await
                .unwrap()
                .collect()
                .await;
            assert_events(
                &format!("late subscriber on {}", node.base),
                &got,
                &expected,
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_cut_off_by_sigkill_resumes_on_another_node() {
    let Some(binary) = redis_server_or_skip("a_client_cut_off_by_sigkill_resumes_on_another_node")
    else {
        return;
    };
    within(Duration::from_secs(120), async {
        let redis = Redis::start(&binary).await;
        let mut a = Node::start(Some(&redis.url())).await;
        let b = Node::start(Some(&redis.url())).await;
        let client = client();
        let topic = "failover";
        const BEFORE: usize = 10;
        const DURING: usize = 30;
        let start = publish(&client, &a.base, topic, None, "start").await;
        let mut expected = Vec::new();
        for i in 0..BEFORE {
            let node = if i % 2 == 0 { &a } else { &b };
            expected.push(publish_sample(&client, node, topic, i).await);
        }

        let get = Get {
            query_id: Some(&start),
            ..Get::default()
        };
        let mut events = subscribe(&client, &a.base, topic, get).await.unwrap();
        // Events keep coming through B while A is killed.
        let publisher = {
            let (client, base) = (client.clone(), b.base.clone());
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for i in BEFORE..BEFORE + DURING {
                    let (event_type, data, mut ev) = sample(topic, i);
                    ev.id = publish(&client, &base, topic, event_type, &data).await;
                    sent.push(ev);
                    sleep(Duration::from_millis(10)).await;
                }
                sent
            })
        };
        let mut got = Vec::new();
        while got.len() < BEFORE + 5 {
            match events.next_within(Duration::from_secs(30)).await {
                Ok(Some(e)) => got.push(e),
                other => panic!(
                    "A's stream ended early: {other:?}; A's stderr:\n{}",
                    a.stderr()
                ),
            }
        }
        a.kill().await;
        // Cut off: whatever A had sent, then the end or an error.
        let cut = loop {
            match events.next_within(Duration::from_secs(30)).await {
                Ok(Some(e)) => got.push(e),
                Ok(None) => break "ended".to_owned(),
                Err(e) => break e,
            }
        };
        let received_from_a = got.len();
        expected.extend(publisher.await.unwrap());
        assert!(
            got.len() < expected.len(),
            "A sent everything before it died"
        );

        // Back on B with the last id, in the header as a browser sends it.
        let last = got.last().unwrap().id.clone();
        let get = Get {
            header_id: Some(&last),
            close_after: Some(expected.len() - got.len()),
            ..Get::default()
        };
        let rest = subscribe(&client, &b.base, topic, get)
            .await
            .unwrap()
            .collect()
            .await;
        got.extend(rest);
        assert_events("A then B", &got, &expected);
        eprintln!(
            "{received_from_a} events from A, cut off ({cut}), {} from B",
            got.len() - received_from_a
        );
    })
    .await;
}

/// How Redis loses its data in [`history_loss_is_a_gap_never_a_stale_replay`].
#[derive(Clone, Copy, Debug)]
enum Loss {
    Flush,
    Restart,
}

/// After `loss`, old ids get a `gap` event, then live events, on both
/// nodes; new ids differ from the old ones; the gap's id resumes cleanly.
async fn history_loss_is_a_gap_never_a_stale_replay(binary: &std::path::Path, loss: Loss) {
    let mut redis = Redis::start(binary).await;
    let nodes = [
        Node::start(Some(&redis.url())).await,
        Node::start(Some(&redis.url())).await,
    ];
    let client = client();
    let topic = "lost";
    let mut old = Vec::new();
    for i in 0..6 {
        old.push(publish_sample(&client, &nodes[i % 2], topic, i).await);
    }
    match loss {
        Loss::Flush => redis.flushall().await,
        Loss::Restart => {
            redis.restart().await;
            let took =
                wait_until_serving(&client, &[&nodes[0], &nodes[1]], Duration::from_secs(30)).await;
            eprintln!("both nodes served again {took:?} after Redis restarted");
        }
    }
    // As many new events as old ones, so a sequence number alone would
    // name one of them.
    let mut new = Vec::new();
    for i in 100..106 {
        new.push(publish_sample(&client, &nodes[i % 2], topic, i).await);
    }
    for n in &new {
        assert!(
            old.iter().all(|o| o.id != n.id),
            "after {loss:?} a new event got an old id: {n:?} in {old:?}"
        );
    }

    for (k, (node, stale)) in [(&nodes[0], &old[2]), (&nodes[1], &old[5])]
        .into_iter()
        .enumerate()
    {
        let other = &nodes[1 - k];
        let get = Get {
            query_id: Some(&stale.id),
            ..Get::default()
        };
        let mut events = subscribe(&client, &node.base, topic, get).await.unwrap();
        let first = events.next_within(Duration::from_secs(30)).await;
        let gap = match first {
            Ok(Some(e)) if e.event_type == "gap" => e,
            other => panic!(
                "after {loss:?}, {} answered id {:?} with {other:?}, not a gap event",
                node.base, stale.id
            ),
        };
        assert!(!gap.id.is_empty(), "the gap event carries no id: {gap:?}");
        // Then live events only: the next one is the one published now.
        let live = publish_sample(&client, other, topic, 200 + k).await;
        let next = events.next_within(Duration::from_secs(30)).await;
        assert_eq!(
            next,
            Ok(Some(live.clone())),
            "after {loss:?} and the gap, {} sent something else",
            node.base
        );
        // A reconnection from the gap's id resumes cleanly.
        let get = Get {
            header_id: Some(&gap.id),
            close_after: Some(1),
            ..Get::default()
        };
        let resumed = subscribe(&client, &other.base, topic, get)
            .await
            .unwrap()
            .collect()
            .await;
        assert_events(
            &format!("resumed from the gap's id on {}", other.base),
            &resumed,
            &[live],
        );
    }
}

#[tokio::test]
async fn after_flushall_an_old_id_gets_a_gap_not_a_stale_replay() {
    let Some(binary) =
        redis_server_or_skip("after_flushall_an_old_id_gets_a_gap_not_a_stale_replay")
    else {
        return;
    };
    within(
        Duration::from_secs(120),
        history_loss_is_a_gap_never_a_stale_replay(&binary, Loss::Flush),
    )
    .await;
}

#[tokio::test]
async fn after_a_redis_restart_an_old_id_gets_a_gap_not_a_stale_replay() {
    let Some(binary) =
        redis_server_or_skip("after_a_redis_restart_an_old_id_gets_a_gap_not_a_stale_replay")
    else {
        return;
    };
    within(
        Duration::from_secs(120),
        history_loss_is_a_gap_never_a_stale_replay(&binary, Loss::Restart),
    )
    .await;
}

#[tokio::test]
async fn nodes_answer_503_while_redis_is_down_and_serve_again_when_it_is_back() {
    let Some(binary) = redis_server_or_skip(
        "nodes_answer_503_while_redis_is_down_and_serve_again_when_it_is_back",
    ) else {
        return;
    };
    within(Duration::from_secs(150), async {
        let mut redis = Redis::start(&binary).await;
        let mut nodes = [
            Node::start(Some(&redis.url())).await,
            Node::start(Some(&redis.url())).await,
        ];
        let client = client();
        let topic = "outage";
        let start = publish(&client, &nodes[0].base, topic, None, "start").await;
        let get = Get {
            query_id: Some(&start),
            ..Get::default()
        };
        let mut open = subscribe(&client, &nodes[1].base, topic, get)
            .await
            .unwrap();

        redis.stop().await;
        // The open stream ends, so that its client reconnects.
        let ended = match open.next_within(Duration::from_secs(60)).await {
            Ok(Some(e)) => panic!("an event while Redis is down: {e:?}"),
            Ok(None) => "ended cleanly".to_owned(),
            Err(e) => format!("broke: {e}"),
        };
        eprintln!("the open stream {ended} when Redis stopped");

        for node in &mut nodes {
            assert!(node.is_running(), "{} exited: {}", node.base, node.stderr());
            // What does not need Redis still works.
            let page = client.get(node.url("/")).send().await.unwrap();
            assert_eq!(page.status(), 200, "GET / on {}", node.base);
            let events = client
                .get(node.url("/events?close_after=2&interval_ms=20"))
                .send()
                .await
                .unwrap();
            assert_eq!(events.status(), 200);
            let body = events.text().await.unwrap();
            assert!(body.contains("data: "), "/events sent {body:?}");
            // The topic endpoints say the service is unavailable.
            let answer = post(&client, &node.base, topic, None, "while down").await;
            assert!(
                matches!(answer, Ok((503, _))),
                "POST on {} with Redis down: {answer:?}",
                node.base
            );
            let get = Get {
                query_id: Some(&start),
                ..Get::default()
            };
            let answer = subscribe(&client, &node.base, topic, get).await;
            assert!(
                matches!(answer, Err((503, _))),
                "GET on {} with Redis down: {:?}",
                node.base,
                answer.map(|_| "an event stream")
            );
        }

        redis.restart().await;
        // "Within a few seconds" (issue 16): a deadline to give up at, not
        // a timing.
        let took =
            wait_until_serving(&client, &[&nodes[0], &nodes[1]], Duration::from_secs(10)).await;
        eprintln!("both nodes served again {took:?} after Redis restarted");
        // Publish on one, read on the other.
        for (from, to) in [(0, 1), (1, 0)] {
            let before = publish(&client, &nodes[from].base, topic, None, "before").await;
            let get = Get {
                query_id: Some(&before),
                close_after: Some(1),
                ..Get::default()
            };
            let events = subscribe(&client, &nodes[to].base, topic, get)
                .await
                .unwrap();
            let reader = tokio::spawn(events.collect());
            let ev = publish_sample(&client, &nodes[from], topic, from).await;
            assert_events("after the restart", &reader.await.unwrap(), &[ev]);
        }
        for node in &mut nodes {
            assert!(node.is_running(), "{} exited: {}", node.base, node.stderr());
        }
    })
    .await;
}

#[tokio::test]
async fn load_200_subscribers_on_two_nodes_get_300_events_exactly_once_in_order() {
    let Some(binary) = redis_server_or_skip(
        "load_200_subscribers_on_two_nodes_get_300_events_exactly_once_in_order",
    ) else {
        return;
    };
    const SUBSCRIBERS: usize = 200;
    const EVENTS: usize = 300;
    within(Duration::from_secs(240), async {
        let redis = Redis::start(&binary).await;
        let nodes = [
            Node::start(Some(&redis.url())).await,
            Node::start(Some(&redis.url())).await,
        ];
        let client = client();
        let topic = "load";
        let start = publish(&client, &nodes[0].base, topic, None, "start").await;
        let mut readers = Vec::new();
        for s in 0..SUBSCRIBERS {
            let get = Get {
                query_id: Some(&start),
                close_after: Some(EVENTS),
                ..Get::default()
            };
            let events: Events = subscribe(&client, &nodes[s % 2].base, topic, get)
                .await
                .unwrap_or_else(|e| panic!("subscriber #{s}: {e:?}"));
            readers.push(tokio::spawn(events.collect()));
        }
        let mut expected = Vec::new();
        for i in 0..EVENTS {
            expected.push(publish_sample(&client, &nodes[i % 2], topic, i).await);
        }
        assert_distinct_ids(&expected);
        let mut deliveries = 0;
        for (s, reader) in readers.into_iter().enumerate() {
            let got = reader.await.unwrap();
            assert_events(
                &format!("subscriber #{s} (node {})", s % 2),
                &got,
                &expected,
            );
            deliveries += got.len();
        }
        assert_eq!(deliveries, SUBSCRIBERS * EVENTS);
    })
    .await;
}

/// The contract's checks that hold on any node, whichever its log.
async fn keeps_the_contract(node: &Node) {
    let client = client();
    let topic = "contract";

    // Ids: the POST's answer is the stream's id; event types and data as
    // sent; `close_after` counts replayed events.
    let start = publish(&client, &node.base, topic, None, "start").await;
    let mut sent = Vec::new();
    for i in 0..8 {
        sent.push(publish_sample(&client, node, topic, i).await);
    }
    assert_distinct_ids(&sent);
    let get = Get {
        query_id: Some(&start),
        close_after: Some(8),
        ..Get::default()
    };
    let got = subscribe(&client, &node.base, topic, get).await.unwrap();
    assert_events("replay", &got.collect().await, &sent);

    // The header wins over the query parameter.
    let get = Get {
        query_id: Some(&sent[0].id),
        header_id: Some(&sent[5].id),
        close_after: Some(2),
        ..Get::default()
    };
    let got = subscribe(&client, &node.base, topic, get).await.unwrap();
    assert_events("header over query", &got.collect().await, &sent[6..]);

    // Ids that cannot be resumed: a `gap` event, then live events; the gap
    // is not counted by `close_after`.
    let never_issued = format!("{}000", sent[1].id);
    for bad in ["garbage", "ffffffffffffffff-1", never_issued.as_str()] {
        let get = Get {
            query_id: Some(bad),
            close_after: Some(2),
            ..Get::default()
        };
        let mut events = subscribe(&client, &node.base, topic, get).await.unwrap();
        let first = events.next_within(Duration::from_secs(30)).await;
        let gap = match first {
            Ok(Some(e)) if e.event_type == "gap" => e,
            other => panic!("id {bad:?} was answered with {other:?}, not a gap event"),
        };
        assert!(!gap.id.is_empty(), "the gap event carries no id");
        let reader = tokio::spawn(events.collect());
        let live = [
            publish_sample(&client, node, topic, 20).await,
            publish_sample(&client, node, topic, 21).await,
        ];
        assert_events(
            &format!("after the gap for {bad:?}"),
            &reader.await.unwrap(),
            &live,
        );
    }

    // Topics are scoped: another topic's id never replays this one's events
    // into it, nor that topic's into this one.
    let other = "contract-other";
    let from_other = publish(&client, &node.base, other, None, "other topic").await;
    let get = Get {
        query_id: Some(&from_other),
        ..Get::default()
    };
    let mut events = subscribe(&client, &node.base, topic, get).await.unwrap();
    let marker = publish_sample(&client, node, topic, 30).await;
    loop {
        let e = (events.next_within(Duration::from_secs(30)).await)
            .unwrap()
            .expect("the stream goes on");
        if e.event_type != "gap" {
            assert!(
                e.data.starts_with("contract #"),
                "{other}'s id on {topic} gave {e:?}"
            );
        }
        if e == marker {
            break;
        }
    }

    // Bad requests are 400s and append nothing.
    let last = publish(&client, &node.base, topic, None, "before the bad ones").await;
    let long = "x".repeat(65);
    for bad in ["", "a.b", "a%20b", "%C3%A9", "a%2Fb", long.as_str()] {
        let answer = post(&client, &node.base, bad, None, "x").await;
        assert!(
            matches!(answer, Ok((400, _))),
            "POST to topic {bad:?}: {answer:?}"
        );
        let answer = subscribe(&client, &node.base, bad, Get::default()).await;
        assert!(
            matches!(answer, Err((400, _))),
            "GET of topic {bad:?}: {:?}",
            answer.map(|_| "an event stream")
        );
    }
    for bad in ["a\nb", "a\rb"] {
        let answer = post(&client, &node.base, topic, Some(bad), "x").await;
        assert!(
            matches!(answer, Ok((400, _))),
            "event type {bad:?}: {answer:?}"
        );
    }
    let answer = post(&client, &node.base, topic, None, b"ok \xff\xfe".to_vec()).await;
    assert!(matches!(answer, Ok((400, _))), "invalid UTF-8: {answer:?}");
    let good = publish_sample(&client, node, topic, 40).await;
    let get = Get {
        query_id: Some(&last),
        close_after: Some(1),
        ..Get::default()
    };
    let got = subscribe(&client, &node.base, topic, get).await.unwrap();
    assert_events("after the 400s", &got.collect().await, &[good]);
    // The longest topic name is fine.
    publish(&client, &node.base, &"x".repeat(64), None, "64").await;

    // Trimmed history: the demo keeps a topic's newest 1,000 events, so
    // after 2,000 more the first id is gone: a gap, then live events; an
    // id still kept resumes exactly.
    let trim = "contract-trim";
    let first = publish(&client, &node.base, trim, None, "first").await;
    let mut publishers = Vec::new();
    for lane in 0..4 {
        let (client, base) = (client.clone(), node.base.clone());
        publishers.push(tokio::spawn(async move {
            for i in 0..500 {
                publish(&client, &base, trim, None, &format!("lane {lane} #{i}")).await;
            }
        }));
    }
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let kept = publish(&client, &node.base, trim, None, "kept").await;
    let get = Get {
        query_id: Some(&first),
        close_after: Some(1),
        ..Get::default()
    };
    let mut events = subscribe(&client, &node.base, trim, get).await.unwrap();
    let gap = events.next_within(Duration::from_secs(30)).await;
    assert!(
        matches!(&gap, Ok(Some(e)) if e.event_type == "gap"),
        "a trimmed id was answered with {gap:?}, not a gap event"
    );
    let reader = tokio::spawn(events.collect());
    let (_, data, mut live) = sample(trim, 50);
    live.id = publish(&client, &node.base, trim, None, &data).await;
    live.event_type = "message".into();
    assert_events(
        "after the trimmed id's gap",
        &reader.await.unwrap(),
        &[live.clone()],
    );
    let get = Get {
        query_id: Some(&kept),
        close_after: Some(1),
        ..Get::default()
    };
    let got = subscribe(&client, &node.base, trim, get).await.unwrap();
    assert_events("resumed from a kept id", &got.collect().await, &[live]);

    // `/` and `/events` are as they were.
    let page = client.get(node.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("EventSource"));
    let events = client
        .get(node.url("/events?close_after=2&interval_ms=20"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    assert_eq!(events.text().await.unwrap().matches("\nid: ").count(), 2);
}

#[tokio::test]
async fn an_in_memory_node_keeps_the_contract() {
    within(Duration::from_secs(120), async {
        let node = Node::start(None).await;
        keeps_the_contract(&node).await;
    })
    .await;
}

#[tokio::test]
async fn a_redis_node_keeps_the_contract() {
    let Some(binary) = redis_server_or_skip("a_redis_node_keeps_the_contract") else {
        return;
    };
    within(Duration::from_secs(120), async {
        let redis = Redis::start(&binary).await;
        let node = Node::start(Some(&redis.url())).await;
        keeps_the_contract(&node).await;
    })
    .await;
}

#[tokio::test]
async fn topic_streams_send_heartbeat_comments() {
    within(Duration::from_secs(90), async {
        let node = Node::start(None).await;
        let client = client();
        let start = publish(&client, &node.base, "quiet", None, "start").await;
        let get = Get {
            query_id: Some(&start),
            extra: Some("heartbeat_ms=100"),
            ..Get::default()
        };
        // Without a heartbeat_ms parameter the default period applies.
        let mut events = match subscribe(&client, &node.base, "quiet", get).await {
            Ok(events) => events,
            Err((400, _)) => {
                let get = Get {
                    query_id: Some(&start),
                    ..Get::default()
                };
                subscribe(&client, &node.base, "quiet", get).await.unwrap()
            }
            Err(e) => panic!("GET: {e:?}"),
        };
        // Nothing is published: a comment comes (at the default period if
        // the parameter is not one of this endpoint's).
        let comment = events.next_comment().await;
        assert_eq!(comment.as_deref(), Ok("keepalive"));
    })
    .await;
}

/// The page nginx serves: an `EventSource` on the topic, from the `from`
/// id, recording what arrives in `window.sse`.
const FLEET_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>sse-codec fleet test</title>
<script>
const s = window.sse = { events: [], gaps: [], opens: 0, errors: 0 };
const q = new URLSearchParams(location.search);
const es = new EventSource('/streams/' + q.get('topic') + '?last_event_id='
  + encodeURIComponent(q.get('from')) + '&close_after=' + q.get('close_after'));
es.onopen = () => { s.opens += 1; };
es.onerror = () => { s.errors += 1; };
const record = (e) => s.events.push({ id: e.lastEventId, type: e.type, data: e.data });
es.onmessage = record;
es.addEventListener('tick', record);
es.addEventListener('gap', (e) => s.gaps.push(e.lastEventId));
</script>
"#;

#[tokio::test]
async fn chromium_through_nginx_round_robin_gets_every_event_once_from_both_nodes() {
    let name = "chromium_through_nginx_round_robin_gets_every_event_once_from_both_nodes";
    let Some(redis_binary) = redis_server_or_skip(name) else {
        return;
    };
    let Some(chromium) = chromium::find_chromium() else {
        assert!(
            std::env::var_os("SSE_BROWSER_TEST").is_none_or(|v| v != "required"),
            "SSE_BROWSER_TEST=required but no chromium on PATH (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED {name}: no chromium on PATH (apt-get install chromium, or set SSE_CHROMIUM)"
        );
        return;
    };
    let Some(nginx_binary) = nginx_binary() else {
        assert!(
            std::env::var_os("SSE_NGINX_TEST").is_none_or(|v| v != "required"),
            "SSE_NGINX_TEST=required but nginx is not installed"
        );
        eprintln!("SKIPPED {name}: nginx not installed (apt-get install nginx-light)");
        return;
    };
    const BEFORE: usize = 12;
    const DURING: usize = 12;
    const CLOSE_AFTER: usize = 4;
    let profile = TempDir::new("chromium");
    let outcome = timeout(Duration::from_secs(120), async {
        let redis = Redis::start(&redis_binary).await;
        let nodes = [
            Node::start(Some(&redis.url())).await,
            Node::start(Some(&redis.url())).await,
        ];
        let nginx = Nginx::start(
            nginx_binary,
            &[nodes[0].addr, nodes[1].addr],
            &[("fleet.html", FLEET_PAGE)],
        )
        .await;
        let client = client();
        let topic = "browser";
        let from = publish(&client, &nodes[0].base, topic, None, "start").await;
        let mut expected = Vec::new();
        for i in 0..BEFORE {
            expected.push(publish_sample(&client, &nodes[i % 2], topic, i).await);
        }
        let page = format!(
            "http://{}/fleet.html?topic={topic}&from={}&close_after={CLOSE_AFTER}",
            nginx.addr,
            query_value(&from)
        );
        let mut browser = chromium::Browser::launch(&chromium, profile.path(), &page).await?;
        let publisher = {
            let client = client.clone();
            let bases = [nodes[0].base.clone(), nodes[1].base.clone()];
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for i in BEFORE..BEFORE + DURING {
                    sleep(Duration::from_millis(250)).await;
                    let (event_type, data, mut ev) = sample(topic, i);
                    ev.id = publish(&client, &bases[i % 2], topic, event_type, &data).await;
                    sent.push(ev);
                }
                sent
            })
        };
        let watched = async {
            browser.attach(&page).await?;
            loop {
                let state = browser.read_json("window.sse").await?;
                let n = state["events"].as_array().map_or(0, Vec::len);
                if n >= BEFORE + DURING {
                    // A moment more for anything extra to show.
                    sleep(Duration::from_millis(500)).await;
                    return browser.read_json("window.sse").await;
                }
                sleep(Duration::from_millis(200)).await;
            }
        };
        let state = timeout(Duration::from_secs(90), watched).await;
        browser.close().await;
        let state = state.map_err(|_| "the page did not get every event within 90 s")??;
        expected.extend(publisher.await.unwrap());

        let got: Vec<Ev> = (state["events"].as_array().unwrap().iter())
            .map(|e| Ev {
                id: e["id"].as_str().unwrap_or_default().to_owned(),
                event_type: e["type"].as_str().unwrap_or_default().to_owned(),
                data: e["data"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        assert_events("chromium's EventSource", &got, &expected);
        assert_eq!(state["gaps"], serde_json::json!([]), "gap events: {state}");
        let opens = state["opens"].as_u64().unwrap_or(0);
        assert!(
            opens as usize >= expected.len() / CLOSE_AFTER,
            "{opens} connections for {} events with close_after={CLOSE_AFTER}",
            expected.len()
        );
        let served: BTreeSet<String> = (nginx.access_log().into_iter())
            .filter(|(uri, _, _)| uri.starts_with(&format!("/streams/{topic}")))
            .map(|(_, upstream, _)| upstream)
            .collect();
        let both: BTreeSet<String> = nodes.iter().map(|n| n.addr.to_string()).collect();
        assert_eq!(
            served, both,
            "the nodes that served the streams (nginx's access log)"
        );
        eprintln!(
            "chromium got {} events exactly once over {opens} connections, served by {served:?}",
            got.len()
        );
        Ok::<(), String>(())
    })
    .await;
    let log = std::fs::read_to_string(profile.path().join("chromium.log")).unwrap_or_default();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!(
            "{e}\n--- chromium's stderr (tail) ---\n{}",
            chromium::tail(&log)
        ),
        Err(_) => panic!(
            "the browser test took over 120 s\n--- chromium's stderr (tail) ---\n{}",
            chromium::tail(&log)
        ),
    }
}
