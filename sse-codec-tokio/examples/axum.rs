//! An axum server that streams a shared, resumable event log.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example axum [-- --port N]
//! curl -N http://127.0.0.1:3001/events
//! curl -N -H 'Last-Event-ID: 3' http://127.0.0.1:3001/events   # resumes after id 3
//! curl -N 'http://127.0.0.1:3001/events?lastEventId=3'          # the same, for a browser's first connection
//! ```
//!
//! A task appends a counter event to a [`SharedLog`] every second. `GET
//! /events` replays what the client missed (from `Last-Event-ID`, or the
//! `lastEventId` query parameter), then sends live events, with a heartbeat
//! comment when idle for 15 s. The handler is three lines. Stops on Ctrl-C.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use sse_codec::{Frame, ReplayLog};
use sse_codec_tokio::{response, resume_from, Entries, EventBody, SharedLog};
use std::sync::Arc;
use std::time::Duration;

async fn events(
    State(log): State<Arc<SharedLog>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response<EventBody<Entries>>, StatusCode> {
    let from = resume_from(&headers, query.as_deref()).map_err(|_| StatusCode::BAD_REQUEST)?;
    let subscription = log.subscribe(from.as_deref());
    Ok(response(EventBody::subscription(subscription)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = match (args.next().as_deref(), args.next()) {
        (Some("--port"), Some(p)) => p.parse().map_err(std::io::Error::other)?,
        _ => 3001u16,
    };
    // The default limits bound the log: 1,024 events or 1 MiB.
    let log = SharedLog::new(ReplayLog::new());
    let publisher = Arc::clone(&log);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for n in 1u64.. {
            tick.tick().await;
            let data = format!("{{\"count\":{n}}}");
            // The log assigns ids 0, 1, 2, …; a frame that cannot be
            // encoded is an error, never mangled.
            if let Err(e) = publisher.append(Frame::event(&data).with_event_type("count")) {
                eprintln!("not appended: {e}");
            }
        }
    });
    let app = Router::new()
        .route("/events", get(events))
        .fallback(|| async { (StatusCode::NOT_FOUND, "try /events\n") })
        .with_state(Arc::clone(&log));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "axum example on http://{}/events (Ctrl-C stops)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Every open stream ends, so the server can stop.
            log.close();
        })
        .await
}
