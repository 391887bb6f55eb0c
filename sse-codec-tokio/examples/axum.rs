//! An axum handler that streams this crate's encoder output.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example axum [-- --port N]
//! curl -N http://127.0.0.1:3001/events
//! ```
//!
//! `GET /events` sends a counter event every second, each with an id, and a
//! heartbeat comment when it has been idle for 15 s. A client reconnecting
//! with `Last-Event-ID: n` continues at n + 1: these events are a function
//! of their id, so no replay log is needed. Stops on Ctrl-C.
//!
//! axum is a dev-dependency: the crate itself needs no framework.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use bytes::BytesMut;
use futures_util::StreamExt;
use sse_codec::Frame;
use sse_codec_tokio::{Heartbeat, LAST_EVENT_ID, RESPONSE_HEADERS};
use std::time::Duration;

async fn events(headers: HeaderMap) -> Response {
    // Resume after the last event the client saw, if it says.
    let first = headers
        .get(LAST_EVENT_ID)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .map_or(1, |n| n + 1);
    let ticks = tokio_stream_interval(Duration::from_secs(1));
    let frames = ticks
        .zip(futures_util::stream::iter(first..))
        .map(|((), n)| {
            let (id, data) = (n.to_string(), format!("{{\"count\":{n}}}"));
            let frame = Frame::event(&data).with_event_type("count").with_id(&id);
            let mut buf = BytesMut::new();
            frame.encode_to_buf(&mut buf).map(|()| buf.freeze())
        });
    let body = Body::from_stream(Heartbeat::new(frames, Duration::from_secs(15)));

    let mut response = Response::new(body);
    for (name, value) in RESPONSE_HEADERS {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

/// One `()` per period, the first at once.
fn tokio_stream_interval(period: Duration) -> impl futures_util::Stream<Item = ()> + Send {
    futures_util::stream::unfold(tokio::time::interval(period), |mut interval| async move {
        interval.tick().await;
        Some(((), interval))
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = match (args.next().as_deref(), args.next()) {
        (Some("--port"), Some(p)) => p.parse().map_err(std::io::Error::other)?,
        _ => 3001u16,
    };
    let app = Router::new()
        .route("/events", get(events))
        .fallback(|| async { (StatusCode::NOT_FOUND, "try /events\n") });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "axum example on http://{}/events (Ctrl-C stops)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
