//! The demo server: a live page and an event stream on 127.0.0.1.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example server [-- --port N]
//! cargo run -p sse-codec-tokio --features redis --example server -- --redis redis://127.0.0.1:6379/
//! ```
//!
//! The port comes from `--port N`, else `PORT`, else 3000 (`0` picks a free
//! one). Open the printed URL: the page at `/` shows the events of
//! `/events` as they arrive, reconnecting with `Last-Event-ID` when the
//! stream ends. `demo.rs` says what `/events` sends; `/?close_after=5&retry=500`
//! shows reconnects. `streams.rs` says what `/streams/{topic}` does: topics
//! you `POST` events to and `GET` as a stream, kept in memory, or with
//! `--redis URL` in Redis Streams shared by every node on that Redis (a
//! fleet: a client resumes on any node). Stops on Ctrl-C.
//!
//! On hyper's HTTP/1.1, with `sse_codec_tokio::EventBody` as the response
//! body: see the `axum` and `hyper-server` examples for the same in three
//! lines of handler.

mod demo;
mod http;
mod streams;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

/// The command line: `--port N` (else `PORT`, else 3000) and `--redis URL`.
struct Args {
    port: u16,
    redis: Option<String>,
}

const USAGE: &str = "usage: server [--port N] [--redis redis://HOST:PORT/]";

fn args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    let mut redis = None;
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let slot = match name.as_str() {
            "--port" => &mut port,
            "--redis" => &mut redis,
            _ => return Err(format!("unknown argument {arg:?}; {USAGE}")),
        };
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or(format!("{name} needs a value; {USAGE}"))?,
        };
        *slot = Some(value);
    }
    let port = match port {
        None => 3000,
        Some(p) => p.parse().map_err(|_| format!("invalid port {p:?}"))?,
    };
    Ok(Args { port, redis })
}

/// The store of `/streams/{topic}`: Redis if asked for, else memory.
fn store(redis: Option<&str>) -> Result<streams::Store, String> {
    match redis {
        None => Ok(streams::Store::memory()),
        #[cfg(feature = "redis")]
        Some(url) => streams::Store::redis(url).map_err(|e| format!("--redis {url}: {e}")),
        #[cfg(not(feature = "redis"))]
        Some(_) => Err("--redis needs the redis feature: \
             cargo run -p sse-codec-tokio --features redis --example server -- --redis URL"
            .to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let (port, store) = match args().and_then(|a| Ok((a.port, store(a.redis.as_deref())?))) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("server: {e}");
            return ExitCode::from(2);
        }
    };
    let mode = match &store {
        streams::Store::Memory(_) => "topics in memory".to_owned(),
        #[cfg(feature = "redis")]
        streams::Store::Redis(_) => "topics in Redis".to_owned(),
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(addr);
    println!(
        "sse-codec demo listening on http://{addr}/ (events at http://{addr}/events, \
         {mode} at http://{addr}/streams/TOPIC; Ctrl-C stops)"
    );
    let demo = demo::Demo::with_store(demo::LINGER, store);
    tokio::select! {
        () = std::sync::Arc::clone(&demo).serve(listener) => {}
        _ = tokio::signal::ctrl_c() => println!("stopped after {} events", demo.latest()),
    }
    ExitCode::SUCCESS
}
