//! The demo server: a live page and an event stream on 127.0.0.1.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example server [-- --port N]
//! ```
//!
//! The port comes from `--port N`, else `PORT`, else 3000 (`0` picks a free
//! one). Open the printed URL: the page at `/` shows the events of
//! `/events` as they arrive, reconnecting with `Last-Event-ID` when the
//! stream ends. `demo.rs` says what `/events` sends; `/?close_after=5&retry=500`
//! shows reconnects. Stops on Ctrl-C.
//!
//! On hyper's HTTP/1.1, with `sse_codec_tokio::EventBody` as the response
//! body: see the `axum` and `hyper-server` examples for the same in three
//! lines of handler.

mod demo;
mod http;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = std::env::var("PORT").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = Some(args.next().ok_or("--port needs a value")?),
            _ => match arg.strip_prefix("--port=") {
                Some(p) => port = Some(p.to_owned()),
                None => {
                    return Err(format!(
                        "unknown argument {arg:?}; usage: server [--port N]"
                    ))
                }
            },
        }
    }
    match port {
        None => Ok(3000),
        Some(p) => p.parse().map_err(|_| format!("invalid port {p:?}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match port() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("server: {e}");
            return ExitCode::from(2);
        }
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
        "sse-codec demo listening on http://{addr}/ (events at http://{addr}/events; Ctrl-C stops)"
    );
    let demo = demo::Demo::new(demo::LINGER);
    tokio::select! {
        () = std::sync::Arc::clone(&demo).serve(listener) => {}
        _ = tokio::signal::ctrl_c() => println!("stopped after {} events", demo.latest()),
    }
    ExitCode::SUCCESS
}
