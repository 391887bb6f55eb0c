//! A hyper client that follows an event stream the way `EventSource` does,
//! with [`follow`]: each body is decoded by `SseStream`, and the core's
//! `ReconnectPolicy` says when to reconnect (after the server's `retry`
//! time, backing off on failures), with which headers (`Last-Event-ID`),
//! and when to stop.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example server &
//! cargo run -p sse-codec-tokio --example hyper-client -- 'http://127.0.0.1:3000/events?close_after=3' 10
//! ```
//!
//! Arguments: the URL (plain `http://`; default the demo server's) and how
//! many events to print before stopping (default 10). With reqwest the
//! connect function is shorter still: send the request with the headers and
//! return `Connection { status, content_type, body: response.bytes_stream() }`.

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::Uri;
use hyper_util::rt::TokioIo;
use sse_codec::{BytesItem, Decoder, ReconnectConfig, ReconnectPolicy};
use sse_codec_tokio::{follow, Connection, FollowError, RequestHeaders};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One request with the policy's headers: the response head and body.
async fn connect(
    uri: Uri,
    headers: RequestHeaders,
) -> Result<Connection<impl futures_core::Stream<Item = Result<Bytes, BoxError>> + Unpin>, BoxError>
{
    let host = uri.host().ok_or("URL without a host")?;
    let mut request = hyper::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", uri.authority().map_or(host, |a| a.as_str()));
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    match headers.iter().find(|(name, _)| *name == "last-event-id") {
        None => println!("connecting"),
        Some((_, id)) => println!("connecting with Last-Event-ID {id}"),
    }
    let tcp = TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new())?)
        .await?;
    let status = response.status().as_u16();
    let header =
        |name| (response.headers().get(name)).map(|v| Bytes::copy_from_slice(v.as_bytes()));
    let (content_type, retry_after) = (header("content-type"), header("retry-after"));
    println!("connected: {status}");
    let body = response
        .into_body()
        .into_data_stream()
        .map_err(BoxError::from);
    Ok(Connection {
        status,
        content_type,
        retry_after,
        body,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:3000/events".to_owned());
    let mut left: u32 = args.next().map_or(Ok(10), |n| n.parse())?;
    let uri: Uri = url.parse()?;
    if uri.scheme_str() != Some("http") {
        return Err("this example speaks plain http://; for https use reqwest".into());
    }
    // Any per-client randomness will do for the jitter seed.
    let seed = u64::from(std::process::id()) << 32
        | u64::from(std::time::UNIX_EPOCH.elapsed()?.subsec_nanos());
    let config = ReconnectConfig::new().with_max_attempts(10); // then give up
    let policy = ReconnectPolicy::new(config, seed);
    let events = follow(policy, Decoder::new(), |headers| {
        connect(uri.clone(), headers)
    });
    let mut events = std::pin::pin!(events);
    while let Some(item) = events.next().await {
        match item {
            Ok(BytesItem::Event(e)) => {
                println!("  #{} {}: {:?}", e.id(), e.event_type(), e.data());
                left = left.saturating_sub(1);
                if left == 0 {
                    println!("done");
                    return Ok(());
                }
            }
            Ok(BytesItem::Retry(ms)) => println!("  retry: {ms} ms"),
            Ok(BytesItem::Comment(c)) => println!("  : {c}"),
            Ok(_) => {}
            // The decoder has skipped to the next event: read on.
            Err(FollowError::Codec(e)) => println!("  skipped an event: {e}"),
            Err(FollowError::Stopped(stopped)) => return Err(stopped.to_string().into()),
            // `follow` reconnects after the policy's delay.
            Err(e) => println!("  connection failed: {e}"),
        }
    }
    Ok(())
}
