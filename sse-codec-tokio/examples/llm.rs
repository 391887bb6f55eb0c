//! An LLM client that prints a chat completion token by token, as an
//! OpenAI-style API streams it.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example llm
//! ```
//!
//! The example starts its own small server on 127.0.0.1 (a random port),
//! which answers `POST /v1/chat/completions` with one `data:` event per
//! chunk of JSON, then `data: [DONE]`:
//!
//! ```text
//! data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}
//!
//! data: [DONE]
//! ```
//!
//! The client reads the reqwest body with [`SseStream`] and parses each
//! event's data in place: `Chunk<'a>` borrows its text from the event's
//! bytes, and only a token with a JSON escape in it (`\"`, `\n`, `\u00e9`)
//! is unescaped into a copy. It prints the tokens as they arrive, then the
//! whole text on a line of its own, `full text: ...`.
//!
//! A completion is a POST that must not be sent twice, so the client reads
//! one response with `SseStream` rather than reconnecting with `follow`, and
//! stops at `[DONE]`: a server may keep the connection open after it.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use sse_codec::{BytesItem, Frame};
use sse_codec_tokio::SseStream;
use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One `chat.completion.chunk`; fields the client does not read are
/// skipped.
#[derive(Debug, Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    choices: Vec<Choice<'a>>,
}

#[derive(Debug, Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    delta: Delta<'a>,
}

#[derive(Debug, Deserialize)]
struct Delta<'a> {
    /// Absent or `null` in the first and last chunks.
    #[serde(borrow)]
    content: Option<Text<'a>>,
}

/// A JSON string: borrowed from the input unless it holds an escape.
///
/// serde borrows a `Cow<str>` only when `#[serde(borrow)]` sits right on
/// it; an `Option<Cow<str>>` field would always be copied. Hence this
/// wrapper inside the `Option`.
#[derive(Debug, Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The tokens the server streams: some non-ASCII, one with escaped quotes.
const TOKENS: [&str; 16] = [
    "Hel",
    "lo",
    ", ",
    "wörld",
    "! ",
    "Tokens ",
    "arrive ",
    "as ",
    "\"SSE\" ",
    "events",
    ": ",
    "naïve ",
    "café ",
    "→ ",
    "日本語 ",
    "🚀",
];

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/chat/completions", listener.local_addr()?);
    let app = Router::new().route("/v1/chat/completions", post(completions));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let request = serde_json::json!({
        "model": "demo",
        "stream": true,
        "messages": [{ "role": "user", "content": "Say hello." }],
    });
    // The server is ours, on loopback: no proxy from the environment.
    let client = reqwest::Client::builder().no_proxy().build()?;
    let response = client
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "text/event-stream")
        .body(serde_json::to_vec(&request)?)
        .send()
        .await?
        .error_for_status()?;

    let mut events = SseStream::new(response.bytes_stream());
    let (mut text, mut borrowed, mut copied) = (String::new(), 0, 0);
    let mut done = false;
    while let Some(item) = events.next().await {
        let BytesItem::Event(event) = item? else {
            continue; // comments and `retry` fields
        };
        if event.data_bytes() == b"[DONE]" {
            done = true;
            break;
        }
        let chunk: Chunk<'_> = serde_json::from_slice(event.data_bytes())?;
        let tokens = chunk.choices.into_iter().filter_map(|c| c.delta.content);
        for Text(token) in tokens.filter(|t| !t.0.is_empty()) {
            print!("{token}");
            std::io::stdout().flush()?;
            text.push_str(&token);
            match token {
                Cow::Borrowed(_) => borrowed += 1,
                Cow::Owned(_) => copied += 1,
            }
        }
    }
    println!();
    if !done {
        return Err("the stream ended before [DONE]".into());
    }
    println!("full text: {text}");
    println!("tokens: {borrowed} borrowed from the events, {copied} unescaped into a copy");
    Ok(())
}

/// `POST /v1/chat/completions`: the tokens of [`TOKENS`] as chunks, 20 ms
/// apart, then `[DONE]`. A real server would read the request's messages.
async fn completions() -> Response {
    let role = serde_json::json!({ "role": "assistant", "content": "" });
    let deltas = std::iter::once(role)
        .chain(TOKENS.map(|token| serde_json::json!({ "content": token })))
        .chain([serde_json::json!({})]);
    let data = deltas.enumerate().map(|(n, delta)| {
        let finish_reason = (n == TOKENS.len() + 1).then_some("stop");
        let chunk = serde_json::json!({
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "demo",
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
        });
        chunk.to_string()
    });
    let data = data.chain(["[DONE]".to_owned()]);
    let body = futures_util::stream::iter(data).then(|data| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        encode(&Frame::event(&data))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    for (name, value) in sse_codec_tokio::RESPONSE_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

fn encode(frame: &Frame<'_>) -> Result<Bytes, sse_codec::Error> {
    let mut buf = BytesMut::new();
    frame.encode_to_buf(&mut buf).map(|()| buf.freeze())
}
