//! A hyper server that streams a shared, resumable event log: the same as
//! the axum example, on bare hyper.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example hyper-server [-- --port N]
//! curl -N -H 'Last-Event-ID: 3' http://127.0.0.1:3002/events
//! ```

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sse_codec::{Frame, ReplayLog};
use sse_codec_tokio::{response, resume_from, Entries, EventBody, SharedLog};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Every path serves the stream; a `Last-Event-ID` that no stream could
/// have set is treated as none.
async fn events(
    log: Arc<SharedLog>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<EventBody<Entries>>, Infallible> {
    let from = resume_from(request.headers(), request.uri().query()).unwrap_or(None);
    Ok(response(EventBody::subscription(
        log.subscribe(from.as_deref()),
    )))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = match (args.next().as_deref(), args.next()) {
        (Some("--port"), Some(p)) => p.parse().map_err(std::io::Error::other)?,
        _ => 3002u16,
    };
    let log = SharedLog::new(ReplayLog::new());
    let publisher = Arc::clone(&log);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        for n in 1u64.. {
            tick.tick().await;
            if let Err(e) = publisher.append(Frame::event(&format!("{{\"count\":{n}}}"))) {
                eprintln!("not appended: {e}");
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("hyper example on http://{}/events", listener.local_addr()?);
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors, say: wait, then go on serving.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let service = service_fn(move |request| events(Arc::clone(&log), request));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await
            {
                eprintln!("connection: {e}");
            }
        });
    }
}
