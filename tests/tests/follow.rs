//! `follow` against hostile and broken servers, played by the scripted
//! server in paused time: no test sleeps in real time.

use bytes::Bytes;
use futures_util::StreamExt;
use sse_codec::{BytesItem, Decoder, ReconnectConfig, ReconnectPolicy, StopReason};
use sse_codec_tokio::testing::{Script, ScriptError, ScriptedServer};
use sse_codec_tokio::{follow, Connection, FollowError};
use std::time::Duration;
use tokio::time::Instant;

type Item = Result<BytesItem, FollowError<ScriptError, ScriptError>>;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Follows `server` for `span` of (paused) time, collecting what it yields.
async fn follow_for(server: &ScriptedServer, config: ReconnectConfig, span: Duration) -> Vec<Item> {
    let policy = ReconnectPolicy::new(config, 7);
    let mut events = std::pin::pin!(follow(policy, Decoder::new(), server.connect()));
    let mut items = Vec::new();
    let deadline = tokio::time::sleep(span);
    let mut deadline = std::pin::pin!(deadline);
    loop {
        tokio::select! {
            item = events.next() => match item {
                Some(item) => items.push(item),
                None => return items,
            },
            () = &mut deadline => return items,
        }
    }
}

/// Seconds between one request and the next.
fn gaps(server: &ScriptedServer) -> Vec<f64> {
    let at: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    at.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect()
}

fn data(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(BytesItem::Event(e)) => Some(e.data().to_owned()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn retry_zero_cannot_make_the_client_hammer() {
    // The probe's server: `retry: 0`, an event, then it hangs up. It got
    // 751 reconnections a second before the floor.
    let server = ScriptedServer::repeating(Script::ok().send("retry: 0\ndata: x\n\n"));
    follow_for(&server, ReconnectConfig::new(), secs(10)).await;
    let n = server.connections();
    assert!((15..=21).contains(&n), "{n} connections in 10 s");
    assert!(
        gaps(&server).iter().all(|g| *g >= 0.5),
        "{:?}",
        gaps(&server)
    );
    // The letter of the spec, when asked for: as fast as the server says
    // (no time passes between attempts, so count them instead).
    let server = ScriptedServer::repeating(Script::ok().send("retry: 0\ndata: x\n\n"));
    let spec = ReconnectConfig::new().with_min_reconnection_time(Duration::ZERO);
    let policy = ReconnectPolicy::new(spec, 7);
    let started = Instant::now();
    let events = follow(policy, Decoder::new(), server.connect());
    let items: Vec<_> = events.take(200).collect().await;
    assert_eq!(data(&items).len(), 100);
    assert_eq!(server.connections(), 100);
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn connections_that_deliver_no_event_back_off_though_they_sent_bytes() {
    // Bytes, a comment, a `retry`, an unfinished event: no event.
    let server = ScriptedServer::repeating(Script::ok().send(": hello\nretry: 0\n\ndata: cut"));
    let config = ReconnectConfig::new().with_jitter_percent(0);
    follow_for(&server, config, secs(120)).await;
    // 0.5 s (the floor: the first failure waits the reconnection time),
    // then doubling from the 1 s min_backoff, up to 30 s.
    let gaps = gaps(&server);
    assert_eq!(&gaps[..5], &[0.5, 2.0, 4.0, 8.0, 16.0], "{gaps:?}");
    assert!(gaps[5..].iter().all(|g| *g == 30.0), "{gaps:?}");
    // One event resets it.
    let server = ScriptedServer::new([
        Script::ok().send(": a\n"),
        Script::ok().send(": a\n"),
        Script::ok().send(": a\n"),
        Script::ok().send("data: an event\n\n"),
    ])
    .then_repeat(Script::ok().send(": a\n"));
    follow_for(&server, config, secs(30)).await;
    let gaps = self::gaps(&server);
    assert_eq!(&gaps[..5], &[3.0, 6.0, 12.0, 3.0, 3.0], "{gaps:?}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_body_times_out_and_resumes_with_the_last_event_id() {
    // Headers, one event, then nothing for ever: `follow` used to wait for
    // ever.
    let server = ScriptedServer::new([Script::ok().send("id: 7\ndata: one\n\n").hang()])
        .then_repeat(Script::ok().send("data: two\n\n").hang());
    let config = ReconnectConfig::new().with_jitter_percent(0);
    let items = follow_for(&server, config, secs(60)).await;
    assert_eq!(data(&items)[..2], ["one", "two"]);
    let timeouts = items
        .iter()
        .filter(|i| matches!(i, Err(FollowError::IdleTimeout(d)) if *d == secs(45)))
        .count();
    assert_eq!(timeouts, 1, "{items:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("last-event-id"), Some("7"));
    // 45 s of silence, then the reconnection time after a healthy
    // connection.
    assert_eq!(gaps(&server), [48.0]);
}

#[tokio::test(start_paused = true)]
async fn a_missing_response_head_times_out() {
    let server = ScriptedServer::new([Script::ok().head_after(secs(3600))])
        .then_repeat(Script::ok().send("data: late\n\n").hang());
    let config = ReconnectConfig::new().with_idle_timeout(secs(10));
    let items = follow_for(&server, config, secs(30)).await;
    assert!(
        matches!(items[0], Err(FollowError::IdleTimeout(d)) if d == secs(10)),
        "{items:?}"
    );
    assert_eq!(data(&items)[..1], ["late"]);
}

#[tokio::test(start_paused = true)]
async fn heartbeats_and_a_slow_event_keep_a_connection_open() {
    // A comment every 20 s, and an event trickling in a byte every 30 s:
    // never 45 s without a byte.
    let mut script = Script::ok();
    for _ in 0..15 {
        script = script.stall(secs(20)).send(": ping\n");
    }
    for byte in b"data: slow\n\n" {
        script = script
            .stall(secs(30))
            .send(Bytes::copy_from_slice(&[*byte]));
    }
    let server = ScriptedServer::new([script.hang()]);
    let items = follow_for(
        &server,
        ReconnectConfig::new(),
        secs(15 * 20 + 12 * 30 + 10),
    )
    .await;
    assert_eq!(server.connections(), 1);
    assert_eq!(data(&items), ["slow"]);
    assert!(items.iter().all(Result::is_ok), "{items:?}");
}

#[tokio::test(start_paused = true)]
async fn a_refusal_carries_its_status_and_the_start_of_its_body() {
    let server = ScriptedServer::new([Script::status(401)
        .content_type(Some("application/json"))
        .send("{\"error\":")
        .send("\"token expired\"}")]);
    let items = follow_for(&server, ReconnectConfig::new(), secs(60)).await;
    let [Err(FollowError::Stopped(stopped))] = &items[..] else {
        panic!("{items:?}")
    };
    assert_eq!(stopped.reason, StopReason::Status(401));
    assert_eq!(stopped.status, Some(401));
    assert_eq!(
        stopped.content_type.as_deref(),
        Some(&b"application/json"[..])
    );
    assert_eq!(stopped.body, "{\"error\":\"token expired\"}");
    assert!(stopped.to_string().contains("token expired"), "{stopped}");

    // Bounded, whatever the server sends; a 200 of the wrong type too.
    let page = "<html>".repeat(10_000);
    let server = ScriptedServer::new([Script::ok().content_type(Some("text/html")).send(page)]);
    let config = ReconnectConfig::new().with_error_body_limit(100);
    let items = follow_for(&server, config, secs(60)).await;
    let [Err(FollowError::Stopped(stopped))] = &items[..] else {
        panic!("{items:?}")
    };
    assert_eq!(
        (stopped.reason, stopped.status),
        (StopReason::ContentType, Some(200))
    );
    assert_eq!(stopped.body.len(), 100);
    // A body that never ends is read for at most the idle timeout.
    let server = ScriptedServer::new([Script::status(403).send("no").hang()]);
    let started = Instant::now();
    let items = follow_for(&server, ReconnectConfig::new(), secs(600)).await;
    assert!(matches!(&items[..], [Err(FollowError::Stopped(s))] if s.body == "no"));
    assert_eq!(started.elapsed(), secs(45));
}

#[tokio::test(start_paused = true)]
async fn transient_statuses_are_retried_after_retry_after_when_asked() {
    let server = ScriptedServer::new([
        Script::status(503).retry_after("120"),
        Script::status(429),
        Script::ok().send("data: back\n\n").hang(),
    ]);
    let config =
        (ReconnectConfig::new().with_jitter_percent(0)).with_retry_transient_statuses(true);
    let items = follow_for(&server, config, secs(300)).await;
    assert_eq!(data(&items), ["back"]);
    // 120 s as asked, then the second failure's backoff (6 s).
    assert_eq!(gaps(&server)[..2], [120.0, 6.0]);
    // By default, as the spec says: stop.
    let server = ScriptedServer::new([Script::status(503).retry_after("1")]);
    let items = follow_for(&server, ReconnectConfig::new(), secs(300)).await;
    assert!(matches!(&items[..], [Err(FollowError::Stopped(s))] if s.status == Some(503)));
}

#[tokio::test(start_paused = true)]
async fn a_missing_content_type_is_read_when_asked() {
    let script = Script::ok()
        .content_type(None)
        .send("data: {\"token\":1}\n\n")
        .hang();
    let server = ScriptedServer::new([script.clone()]);
    let items = follow_for(&server, ReconnectConfig::new(), secs(60)).await;
    assert!(
        matches!(&items[..], [Err(FollowError::Stopped(s))] if s.reason == StopReason::ContentType)
    );
    let server = ScriptedServer::new([script]);
    let lenient = ReconnectConfig::new().with_accept_missing_content_type(true);
    let items = follow_for(&server, lenient, secs(1)).await;
    assert_eq!(data(&items), ["{\"token\":1}"]);
}

#[tokio::test(start_paused = true)]
async fn connect_and_body_errors_are_told_apart() {
    // A connect step with its own error type, a body with the script's.
    #[derive(Debug, PartialEq)]
    struct Refused;
    let server = ScriptedServer::new([Script::ok().send("id: 1\ndata: a\n\n").fail()]);
    let mut connect = server.connect();
    let mut attempt = 0;
    let policy = ReconnectPolicy::new(ReconnectConfig::new(), 1);
    let events = follow(policy, Decoder::new(), move |headers| {
        attempt += 1;
        let next = (attempt == 1).then(|| connect(headers));
        async move {
            match next {
                Some(conn) => conn.await.map_err(|_| Refused),
                None => Err::<Connection<_>, _>(Refused),
            }
        }
    });
    let items: Vec<_> = events.take(4).collect().await;
    assert!(matches!(items[0], Ok(BytesItem::Event(_))));
    assert!(
        matches!(items[1], Err(FollowError::Body(ScriptError::Body))),
        "{items:?}"
    );
    assert!(
        matches!(items[2], Err(FollowError::Connect(Refused))),
        "{items:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn each_attempt_can_set_fresh_headers_and_keeps_the_last_event_id() {
    // The request hook: the connect closure runs per attempt, so a renewed
    // bearer token goes on each one, beside the tracked Last-Event-ID.
    let server = ScriptedServer::new([
        Script::ok().send("id: 1\ndata: a\n\n"),
        Script::ok().send("id: 2\ndata: b\n\n"),
    ])
    .then_repeat(Script::ok().hang());
    let mut connect = server.connect();
    let mut token = 0;
    let policy = ReconnectPolicy::new(ReconnectConfig::new(), 1);
    let events = follow(policy, Decoder::new(), move |mut headers| {
        token += 1;
        headers.push(("authorization", format!("Bearer token-{token}")));
        connect(headers)
    });
    let items: Vec<_> = events.take(2).collect().await;
    assert_eq!(data(&items), ["a", "b"]);
    tokio::time::sleep(secs(5)).await;
    let requests = server.requests();
    let seen: Vec<_> = requests
        .iter()
        .map(|r| (r.header("authorization"), r.header("last-event-id")))
        .collect();
    assert_eq!(
        seen[..2],
        [
            (Some("Bearer token-1"), None),
            (Some("Bearer token-2"), Some("1"))
        ]
    );
}
