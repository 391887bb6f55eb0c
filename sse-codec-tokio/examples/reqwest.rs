//! A reqwest client that follows an event stream with [`follow`] and sends
//! a fresh bearer token on every connection attempt.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example server &
//! cargo run -p sse-codec-tokio --example reqwest -- 'http://127.0.0.1:3000/events?close_after=3&retry=500' 10
//! cargo run -p sse-codec-tokio --example reqwest -- --self-test
//! ```
//!
//! Arguments: the URL (plain `http://`; default the demo server's
//! `http://127.0.0.1:3000/events`) and how many events to print before
//! stopping (default 10). `follow` calls the connect closure once per
//! attempt, so each attempt asks the token source for a new token; the
//! headers `follow` passes in carry `Last-Event-ID` once an event with an
//! id has arrived, so the server can resume after it. If getting a token is
//! itself async (a request to an auth server), do it inside the returned
//! future, with the token source behind an `Arc`.
//!
//! `--self-test` needs no demo server: the example serves [`TOTAL`] events
//! on 127.0.0.1 itself, [`PER_CONNECTION`] per response, refuses (401) a
//! request whose bearer token it has seen before, and checks that every
//! event arrives once and in order (which needs `Last-Event-ID`). It exits
//! with an error if anything is wrong.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use sse_codec::{BytesItem, Decoder, ReconnectConfig, ReconnectPolicy};
use sse_codec_tokio::{follow, Connection, FollowError, LAST_EVENT_ID};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Stands in for an OAuth client or a secrets store: a new short-lived
/// access token each time one is asked for.
#[derive(Debug, Default)]
struct TokenSource {
    issued: u32,
}

impl TokenSource {
    /// A new token, with its serial number (safe to print, unlike the token).
    fn fresh(&mut self) -> (u32, String) {
        self.issued += 1;
        (self.issued, format!("demo-token-{}", self.issued))
    }
}

/// Sends one request and hands `follow` the response head and body.
async fn send(
    request: reqwest::RequestBuilder,
) -> reqwest::Result<Connection<impl Stream<Item = reqwest::Result<Bytes>> + Unpin>> {
    let response = request.send().await?;
    let header =
        |name| (response.headers().get(name)).map(|v| Bytes::copy_from_slice(v.as_bytes()));
    let (content_type, retry_after) = (header(CONTENT_TYPE), header(RETRY_AFTER));
    Ok(Connection {
        status: response.status().as_u16(),
        content_type,
        retry_after,
        body: response.bytes_stream(),
    })
}

/// Follows `url` until `count` events have arrived, printing them; returns
/// their ids.
async fn follow_events(
    client: &reqwest::Client,
    url: &str,
    count: usize,
) -> Result<Vec<String>, BoxError> {
    // Any per-client randomness will do for the jitter seed.
    let seed = u64::from(std::process::id()) << 32
        | u64::from(std::time::UNIX_EPOCH.elapsed()?.subsec_nanos());
    let config = ReconnectConfig::new().with_max_attempts(10); // then give up
    let policy = ReconnectPolicy::new(config, seed);
    let mut tokens = TokenSource::default();
    let events = follow(policy, Decoder::new(), |headers| {
        let (serial, token) = tokens.fresh();
        let mut request = client.get(url).bearer_auth(token);
        let mut resume = String::new();
        for (name, value) in headers {
            if name == LAST_EVENT_ID {
                resume = format!(", Last-Event-ID {value}");
            }
            request = request.header(name, value);
        }
        println!("connecting: token #{serial}{resume}");
        send(request)
    });
    let mut events = std::pin::pin!(events);
    let mut ids = Vec::new();
    while let Some(item) = events.next().await {
        match item {
            Ok(BytesItem::Event(e)) => {
                println!("  #{} {}: {:?}", e.id(), e.event_type(), e.data());
                ids.push(e.id().to_owned());
                if ids.len() == count {
                    break;
                }
            }
            Ok(BytesItem::Retry(ms)) => println!("  retry: {ms} ms"),
            Ok(_) => {} // comments (heartbeats)
            // The decoder has skipped to the next event: read on.
            Err(FollowError::Codec(e)) => println!("  skipped an event: {e}"),
            Err(FollowError::Stopped(stopped)) => return Err(stopped.to_string().into()),
            // `follow` reconnects after the policy's delay.
            Err(e) => println!("  connection failed: {e}"),
        }
    }
    Ok(ids)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let url = args.next();
    if url.as_deref() == Some("--self-test") {
        return self_test().await;
    }
    let url = url.unwrap_or_else(|| "http://127.0.0.1:3000/events".to_owned());
    let count = args.next().map_or(Ok(10), |n| n.parse())?;
    follow_events(&reqwest::Client::new(), &url, count).await?;
    println!("done");
    Ok(())
}

/// Events the self-test serves: ids 1 to `TOTAL`.
const TOTAL: u32 = 6;
/// Events per response before the self-test's server ends it.
const PER_CONNECTION: u32 = 2;

/// Bearer tokens the self-test's server has seen.
type Seen = Arc<Mutex<HashSet<String>>>;

/// `--self-test`: follows a local server that checks the tokens, and checks
/// the events.
async fn self_test() -> Result<(), BoxError> {
    let seen = Seen::default();
    let app = Router::new()
        .route("/events", get(events))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/events", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The server is ours, on loopback: no proxy from the environment.
    let client = reqwest::Client::builder().no_proxy().build()?;
    let run = follow_events(&client, &url, TOTAL as usize);
    let ids = (tokio::time::timeout(Duration::from_secs(20), run).await)
        .map_err(|_| "self-test: timed out")??;
    let expected: Vec<String> = (1..=TOTAL).map(|n| n.to_string()).collect();
    if ids != expected {
        return Err(format!("self-test: got ids {ids:?}, expected {expected:?}").into());
    }
    let connections = seen.lock().map_err(|_| "lock poisoned")?.len();
    let wanted = TOTAL.div_ceil(PER_CONNECTION) as usize;
    if connections != wanted {
        return Err(format!("self-test: {connections} connections, expected {wanted}").into());
    }
    println!("self-test passed: {TOTAL} events in order over {connections} connections, a new token each");
    Ok(())
}

/// The self-test's `GET /events`: 401 for a missing or reused bearer token;
/// else the next [`PER_CONNECTION`] events after the client's
/// `Last-Event-ID`, then the end of the response (204 once all are sent).
async fn events(State(seen): State<Seen>, headers: HeaderMap) -> Response {
    let token = (headers.get(AUTHORIZATION))
        .and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "))
        .map(str::to_owned);
    let fresh = token.is_some_and(|t| seen.lock().is_ok_and(|mut seen| seen.insert(t)));
    if !fresh {
        return (StatusCode::UNAUTHORIZED, "missing or reused bearer token\n").into_response();
    }
    let after: u32 = (headers.get(LAST_EVENT_ID))
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    if after >= TOTAL {
        return StatusCode::NO_CONTENT.into_response();
    }
    // `retry: 0` asks for a quick reconnection; the policy's floor makes it 500 ms.
    let mut body = String::from("retry: 0\n\n");
    for n in after + 1..=TOTAL.min(after + PER_CONNECTION) {
        body += &format!("id: {n}\ndata: event {n}\n\n");
    }
    ([(CONTENT_TYPE, "text/event-stream")], body).into_response()
}
