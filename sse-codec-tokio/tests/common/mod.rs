//! Shared by the integration tests: the demo server (compiled from the
//! example's own sources), started in-process on an ephemeral loopback port,
//! and what a client expects of it.

#![allow(dead_code)]

#[path = "../../examples/server/demo.rs"]
pub(crate) mod demo;
#[path = "../../examples/server/http.rs"]
pub(crate) mod http;
#[path = "../../examples/server/streams.rs"]
pub(crate) mod streams;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A running demo server; it stops when the test's runtime does.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) demo: Arc<demo::Demo>,
}

/// Starts the demo on 127.0.0.1 with the given producer linger.
pub(crate) async fn start(linger: Duration) -> Server {
    start_with(linger, http::Bounds::DEMO).await
}

/// Starts the demo with other serving bounds.
pub(crate) async fn start_with(linger: Duration, bounds: http::Bounds) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let demo = demo::Demo::new(linger);
    tokio::spawn(Arc::clone(&demo).serve_with(listener, bounds));
    Server { addr, demo }
}

/// What a client decodes for event `n`: (event type, data). Written out
/// from the issue, independently of the server's code.
pub(crate) fn expected(n: u64) -> (&'static str, String) {
    let event_type = if n % 2 == 1 { "tick" } else { "message" };
    let data = match n % 4 {
        1 => format!("single line #{n}"),
        2 => format!(
            "multi line #{n}\n second line starts with a space\n\nfourth line, after an empty one"
        ),
        // CR, LF and CRLF in the data all come back as LF.
        3 => format!("CR\nLF\nCRLF\nend #{n}"),
        _ => format!("{{\"id\":{n},\"msg\":\"h\u{e9}llo \u{2713} \u{1f680}\"}}"),
    };
    (event_type, data)
}
