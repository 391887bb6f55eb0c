//! The demo server over real loopback TCP, read by clients built on this
//! crate: `SseCodec` under `FramedRead` on a raw socket, and `SseStream`
//! over a hyper response body.

mod common;

use bytes::Bytes;
use common::{expected, start};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use sse_codec::BytesItem;
use sse_codec_tokio::{Error, SseCodec, SseStream};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_util::codec::FramedRead;
use tokio_util::io::StreamReader;

const LINGER: Duration = Duration::from_secs(5);

/// Every test finishes within this, or fails.
async fn bounded<F: Future>(f: F) -> F::Output {
    timeout(Duration::from_secs(30), f)
        .await
        .expect("test took longer than 30 s")
}

/// A response head: status line and lowercased headers.
#[derive(Debug)]
struct Head {
    status: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response body as a reader: chunked transfer coding undone when the
/// head says so, else the bytes as they come.
type BodyReader =
    StreamReader<futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>, Bytes>;

type Events = FramedRead<BodyReader, SseCodec>;

/// The chunks of a chunked body (RFC 9112, section 7.1), read from `reader`;
/// ends after the last chunk.
fn dechunk(
    reader: BufReader<TcpStream>,
) -> futures_util::stream::BoxStream<'static, std::io::Result<Bytes>> {
    Box::pin(futures_util::stream::try_unfold(
        reader,
        |mut reader| async move {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let size = line.trim_end().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("chunk size {line:?}"),
                )
            })?;
            if size == 0 {
                return Ok(None);
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk).await?;
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf).await?;
            Ok(Some((Bytes::from(chunk), reader)))
        },
    ))
}

/// Sends `GET target` with `headers`, reads the head, and returns it with a
/// decoder over the rest of the connection (the body).
async fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> (Head, Events) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let mut request =
        format!("GET {target} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n");
    for (name, value) in headers {
        request += &format!("{name}: {value}\r\n");
    }
    request += "\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    let status = line.trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').unwrap();
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let head = Head { status, headers };
    let body = if head.get("transfer-encoding") == Some("chunked") {
        dechunk(reader)
    } else {
        Box::pin(tokio_util::io::ReaderStream::new(reader))
    };
    (
        head,
        FramedRead::new(StreamReader::new(body), SseCodec::new()),
    )
}

/// The next dispatched event as (id, type, data), skipping comments; `None`
/// at the end of the response.
async fn next_event(events: &mut Events) -> Option<(u64, String, String)> {
    loop {
        match events.next().await? {
            Ok(BytesItem::Event(e)) => {
                return Some((
                    e.id().parse().unwrap(),
                    e.event_type().to_owned(),
                    e.data().to_owned(),
                ))
            }
            Ok(_) => {}
            Err(e) => panic!("decode error: {e}"),
        }
    }
}

fn assert_event(got: &(u64, String, String), id: u64) {
    let (event_type, data) = expected(id);
    assert_eq!(got.0, id, "id");
    assert_eq!(
        (got.1.as_str(), got.2.as_str()),
        (event_type, data.as_str()),
        "event {id}"
    );
}

#[tokio::test]
async fn a_client_decodes_the_stream_with_our_codec() {
    bounded(async {
        let server = start(LINGER).await;
        let (head, mut events) = get(
            server.addr,
            "/events?interval_ms=10&close_after=12&retry=1234",
            &[],
        )
        .await;
        assert_eq!(head.status, "HTTP/1.1 200 OK");
        assert_eq!(head.get("content-type"), Some("text/event-stream"));
        assert_eq!(head.get("cache-control"), Some("no-cache, no-transform"));
        assert_eq!(head.get("x-accel-buffering"), Some("no"));
        assert_eq!(head.get("content-length"), None);
        assert_eq!(head.get("content-encoding"), None);
        // hyper's HTTP/1.1 for a body of unknown length.
        assert_eq!(head.get("transfer-encoding"), Some("chunked"));

        assert_eq!(
            events.next().await.unwrap().unwrap(),
            BytesItem::Retry(1234)
        );
        // The first client starts the producer: it sees every event from 1.
        for id in 1..=12 {
            assert_event(&next_event(&mut events).await.expect("event"), id);
        }
        // close_after=12: the response ends cleanly, nothing is left over.
        assert!(events.next().await.is_none());
        assert_eq!(events.decoder().last_event_id(), b"12");
        assert_eq!(events.decoder().retry(), Some(1234));
    })
    .await;
}

#[tokio::test]
async fn the_head_and_retry_come_at_once_not_with_the_first_event() {
    bounded(async {
        let server = start(LINGER).await;
        let started = Instant::now();
        let (head, mut events) = get(server.addr, "/events?interval_ms=3000", &[]).await;
        assert_eq!(head.status, "HTTP/1.1 200 OK");
        assert_eq!(
            events.next().await.unwrap().unwrap(),
            BytesItem::Retry(3000)
        );
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn reconnecting_with_last_event_id_loses_and_repeats_nothing() {
    bounded(async {
        let server = start(LINGER).await;
        let mut seen = Vec::new();
        let mut last_event_id = None::<String>;
        // Five connections: three dropped abruptly by the client mid-stream,
        // two ended by the server (close_after), each resumed from the last
        // event ID its decoder kept.
        for round in 0..5 {
            let target = if round % 2 == 0 {
                "/events?interval_ms=15".to_owned()
            } else {
                "/events?interval_ms=15&close_after=7".to_owned()
            };
            let headers: Vec<(&str, &str)> = last_event_id
                .iter()
                .map(|id| ("last-event-id", id.as_str()))
                .collect();
            let (head, mut events) = get(server.addr, &target, &headers).await;
            assert_eq!(head.status, "HTTP/1.1 200 OK");
            for _ in 0..7 {
                let event = next_event(&mut events).await.expect("event");
                seen.push(event.0);
                assert_event(&event, event.0);
            }
            if round % 2 == 1 {
                assert!(
                    next_event(&mut events).await.is_none(),
                    "close_after counts replayed events"
                );
            }
            last_event_id =
                Some(String::from_utf8(events.decoder().last_event_id().to_vec()).unwrap());
            drop(events);
            // Away long enough for the producer to run ahead.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let want: Vec<u64> = (1..=35).collect();
        assert_eq!(seen, want);
    })
    .await;
}

#[tokio::test]
async fn replay_comes_at_once_then_live() {
    bounded(async {
        let server = start(LINGER).await;
        let (_, mut first) = get(server.addr, "/events?interval_ms=20", &[]).await;
        assert_eq!(next_event(&mut first).await.unwrap().0, 1);
        drop(first);
        // Wait for the log to hold at least 15 events, then slow the producer.
        while server.demo.latest() < 15 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (_, mut second) = get(
            server.addr,
            "/events?interval_ms=2000",
            &[("last-event-id", "1")],
        )
        .await;
        let latest = server.demo.latest();
        let started = Instant::now();
        for id in 2..=latest {
            assert_event(&next_event(&mut second).await.unwrap(), id);
        }
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "replayed at once"
        );
        // Then live, straight after the replay.
        assert_event(&next_event(&mut second).await.unwrap(), latest + 1);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_last_event_id_means_live_only() {
    bounded(async {
        let server = start(LINGER).await;
        let (_, mut first) = get(server.addr, "/events?interval_ms=10", &[]).await;
        for id in 1..=3 {
            assert_eq!(next_event(&mut first).await.unwrap().0, id);
        }
        for bogus in ["999999", "abc", "0", "-1", ""] {
            let before = server.demo.latest();
            let (_, mut other) = get(server.addr, "/events", &[("last-event-id", bogus)]).await;
            let got = next_event(&mut other).await.unwrap().0;
            assert!(got > before, "{bogus:?}: got {got}, log was at {before}");
        }
    })
    .await;
}

#[tokio::test]
async fn heartbeats_arrive_while_idle() {
    bounded(async {
        let server = start(LINGER).await;
        let (_, mut events) = get(
            server.addr,
            "/events?interval_ms=60000&heartbeat_ms=50",
            &[],
        )
        .await;
        assert_eq!(
            events.next().await.unwrap().unwrap(),
            BytesItem::Retry(3000)
        );
        let started = Instant::now();
        for _ in 0..4 {
            let item = events.next().await.unwrap().unwrap();
            assert_eq!(item, BytesItem::Comment(sse_codec::Text::from("keepalive")));
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(190) && took < Duration::from_secs(5),
            "{took:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_producer_lingers_after_the_last_client_then_pauses() {
    bounded(async {
        let server = start(Duration::from_millis(600)).await;
        let (_, mut events) = get(server.addr, "/events?interval_ms=20", &[]).await;
        assert_eq!(next_event(&mut events).await.unwrap().0, 1);
        drop(events);
        let left = server.demo.latest();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            server.demo.latest() > left + 5,
            "still producing for a while"
        );
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let paused = server.demo.latest();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(server.demo.latest(), paused, "paused with no clients");

        // A client returns: everything it missed, then live again.
        let (_, mut events) = get(server.addr, "/events", &[("last-event-id", "1")]).await;
        for id in 2..=paused + 2 {
            assert_event(&next_event(&mut events).await.unwrap(), id);
        }
    })
    .await;
}

#[tokio::test]
async fn open_connections_are_capped_and_the_server_carries_on() {
    bounded(async {
        // Eight slots, all taken by clients that never send a request.
        let bounds = common::http::Bounds {
            max_connections: 8,
            head_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
        };
        let server = common::start_with(LINGER, bounds).await;
        let mut idle = Vec::new();
        for _ in 0..8 {
            idle.push(TcpStream::connect(server.addr).await.unwrap());
        }
        // The ninth waits in the backlog instead of costing a descriptor...
        let ninth = tokio::spawn(get(server.addr, "/", &[]));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!ninth.is_finished(), "served past the cap");
        // ...and is served as soon as one slot is free.
        drop(idle.pop());
        let (head, _) = ninth.await.unwrap();
        assert_eq!(head.status, "HTTP/1.1 200 OK");
    })
    .await;
}

#[tokio::test]
async fn one_client_cannot_make_the_producer_run_faster_than_every_10_ms() {
    bounded(async {
        let server = start(LINGER).await;
        let (_, mut events) = get(server.addr, "/events?interval_ms=1", &[]).await;
        let first = next_event(&mut events).await.unwrap().0;
        let started = Instant::now();
        let mut last = first;
        while started.elapsed() < Duration::from_millis(500) {
            last = next_event(&mut events).await.unwrap().0;
        }
        let per_second = (last - first) as f64 / started.elapsed().as_secs_f64();
        assert!(per_second <= 110.0, "{per_second:.0} events/s");
    })
    .await;
}

#[tokio::test]
async fn the_demos_producer_lingers_at_least_two_seconds() {
    assert!(common::demo::LINGER >= Duration::from_secs(2));
}

#[tokio::test]
async fn bad_requests_and_the_page() {
    bounded(async {
        let server = start(LINGER).await;
        for bad in [
            "retry=-1",
            "interval_ms=",
            "heartbeat_ms=1e3",
            "close_after=x",
            "retry=+5",
        ] {
            let (head, _) = get(server.addr, &format!("/events?{bad}"), &[]).await;
            assert_eq!(head.status, "HTTP/1.1 400 Bad Request", "{bad}");
        }
        let (head, _) = get(server.addr, "/nowhere", &[]).await;
        assert_eq!(head.status, "HTTP/1.1 404 Not Found");

        let (head, mut body) = get(server.addr, "/", &[]).await;
        assert_eq!(head.status, "HTTP/1.1 200 OK");
        assert_eq!(head.get("content-type"), Some("text/html; charset=utf-8"));
        let mut page = String::new();
        body.get_mut().read_to_string(&mut page).await.unwrap();
        assert!(page.contains("new EventSource(url)"), "{page}");
        // A rejected request does not start the producer.
        assert_eq!(server.demo.latest(), 0);
    })
    .await;
}

/// `SseStream` over a hyper client's response body: the transport is
/// hyper's, the decoding ours.
#[tokio::test]
async fn sse_stream_over_a_hyper_body() {
    bounded(async {
        let server = start(LINGER).await;
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let request = hyper::Request::get("/events?interval_ms=10&close_after=9&retry=50")
            .header("host", server.addr.to_string())
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut events = SseStream::new(response.into_body().into_data_stream());
        assert_eq!(events.next().await.unwrap().unwrap(), BytesItem::Retry(50));
        let mut ids = Vec::new();
        while let Some(item) = events.next().await {
            match item {
                Ok(BytesItem::Event(e)) => {
                    let id: u64 = e.id().parse().unwrap();
                    let (event_type, data) = expected(id);
                    assert_eq!((e.event_type(), e.data()), (event_type, data.as_str()));
                    ids.push(id);
                }
                Ok(_) => {}
                Err(Error::Transport(e)) => panic!("transport: {e}"),
                Err(e) => panic!("decode: {e}"),
            }
        }
        assert_eq!(ids, (1..=9).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test]
async fn follow_resumes_across_reconnects_with_the_policy() {
    use sse_codec::{Decoder, ReconnectConfig, ReconnectPolicy};
    use sse_codec_tokio::{follow, Connection};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    bounded(async {
        let server = start(LINGER).await;
        let addr = server.addr;
        let connects = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connects);
        let connect = move |headers: Vec<(&'static str, String)>| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let tcp = TcpStream::connect(addr).await?;
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                        .await?;
                tokio::spawn(conn);
                let mut request =
                    hyper::Request::get("/events?interval_ms=10&close_after=4&retry=20")
                        .header("host", addr.to_string());
                for (name, value) in &headers {
                    request = request.header(*name, value);
                }
                let response = sender
                    .send_request(request.body(http_body_util::Empty::<Bytes>::new())?)
                    .await?;
                let content_type = (response.headers().get("content-type"))
                    .map(|v| Bytes::copy_from_slice(v.as_bytes()));
                Ok::<_, BoxError>(Connection {
                    status: response.status().as_u16(),
                    content_type,
                    retry_after: None,
                    body: futures_util::TryStreamExt::map_err(
                        response.into_body().into_data_stream(),
                        BoxError::from,
                    ),
                })
            }
        };
        let policy = ReconnectPolicy::new(ReconnectConfig::new().with_jitter_percent(0), 1);
        let events = follow(policy, Decoder::new(), connect);
        let mut events = std::pin::pin!(events);
        let mut ids = Vec::new();
        while ids.len() < 15 {
            match events
                .next()
                .await
                .expect("follow never ends on its own here")
            {
                Ok(BytesItem::Event(e)) => {
                    let id: u64 = e.id().parse().unwrap();
                    let (event_type, data) = expected(id);
                    assert_eq!((e.event_type(), e.data()), (event_type, data.as_str()));
                    ids.push(id);
                }
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        // The first connection starts live at the producer's first event;
        // from there on, every event exactly once, across the reconnections.
        let first = ids[0];
        assert_eq!(ids, (first..first + 15).collect::<Vec<_>>());
        assert!(
            connects.load(Ordering::SeqCst) >= 4,
            "close_after=4 forces reconnects"
        );
    })
    .await;
}
