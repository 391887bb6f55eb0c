//! A hyper client that follows an event stream the way `EventSource` does:
//! decode the body with `SseStream`, and let the core's `ReconnectPolicy`
//! say when to reconnect (after the server's `retry` time, backing off on
//! failures) and with which headers (`Last-Event-ID`).
//!
//! ```text
//! cargo run -p sse-codec-tokio --example server &
//! cargo run -p sse-codec-tokio --example hyper-client -- 'http://127.0.0.1:3000/events?close_after=3' 10
//! ```
//!
//! Arguments: the URL (plain `http://`; default the demo server's) and how
//! many events to print before stopping (default 10). With reqwest the
//! decoding is the same: `SseStream::new(response.bytes_stream())`.

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper::Uri;
use hyper_util::rt::TokioIo;
use sse_codec::{Action, BytesItem, Decoder, Outcome, ReconnectConfig, ReconnectPolicy};
use sse_codec_tokio::{Error, SseStream};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Sends the request with the policy's headers; the response or why not.
async fn request(
    uri: &Uri,
    policy: &ReconnectPolicy,
) -> Result<hyper::Response<hyper::body::Incoming>, BoxError> {
    let host = uri.host().ok_or("URL without a host")?;
    let mut request = hyper::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", uri.authority().map_or(host, |a| a.as_str()));
    for (name, value) in policy.request_headers() {
        request = request.header(name, value);
    }
    let tcp = TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    Ok(sender
        .send_request(request.body(Empty::<Bytes>::new())?)
        .await?)
}

/// One connection: what happened to it, for the policy. `decoder` carries
/// the last event ID and the reconnection time to the next connection.
async fn connect(
    uri: &Uri,
    policy: &mut ReconnectPolicy,
    decoder: &mut Decoder<Vec<u8>>,
    left: &mut u32,
) -> Action {
    let response = match request(uri, policy).await {
        Ok(r) => r,
        Err(e) => {
            println!("connection failed: {e}");
            return policy.handle(Outcome::TransportError);
        }
    };
    let content_type = response.headers().get("content-type").map(|v| v.as_bytes());
    let status = response.status().as_u16();
    // Not 200 `text/event-stream`: the policy says stop, as a browser would.
    match policy.handle(Outcome::Response {
        status,
        content_type,
    }) {
        Action::Read => {}
        other => return other,
    }
    match policy.last_event_id() {
        "" => println!("connected"),
        id => println!("connected with Last-Event-ID {id}"),
    }

    let mut events = SseStream::with_decoder(
        response.into_body().into_data_stream(),
        std::mem::take(decoder),
    );
    let mut outcome = Outcome::Ended;
    while let Some(item) = events.next().await {
        match item {
            Ok(BytesItem::Event(e)) => {
                println!("  #{} {}: {:?}", e.id(), e.event_type(), e.data());
                *left = left.saturating_sub(1);
                if *left == 0 {
                    policy.close();
                    break;
                }
            }
            Ok(BytesItem::Retry(ms)) => println!("  retry: {ms} ms"),
            Ok(BytesItem::Comment(c)) => println!("  : {}", String::from_utf8_lossy(&c)),
            Ok(_) => {}
            // The decoder has skipped to the next event: read on.
            Err(Error::Codec(e)) => println!("  skipped an event: {e}"),
            Err(e) => {
                println!("  connection failed: {e}");
                outcome = Outcome::TransportError;
                break;
            }
        }
        policy.observe(events.decoder());
    }
    let (_, kept) = events.into_parts();
    *decoder = kept;
    policy.observe(decoder);
    // A half-received event is dropped; the last event ID and retry stay.
    decoder.finish();
    policy.handle(outcome)
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
        return Err("this example speaks plain http://; for https use reqwest and SseStream::new(response.bytes_stream())".into());
    }
    // Any per-client randomness will do for the jitter seed.
    let seed = u64::from(std::process::id()) << 32
        | u64::from(std::time::UNIX_EPOCH.elapsed()?.subsec_nanos());
    let config = ReconnectConfig::new().with_max_attempts(10); // then give up
    let mut policy = ReconnectPolicy::new(config, seed);
    let mut decoder = Decoder::new();
    loop {
        match connect(&uri, &mut policy, &mut decoder, &mut left).await {
            Action::Reconnect { delay } => {
                println!("reconnecting in {} ms", delay.as_millis());
                tokio::time::sleep(delay).await;
            }
            Action::Stop(reason) if left == 0 => {
                println!("done ({reason})");
                return Ok(());
            }
            Action::Stop(reason) => return Err(format!("stopped: {reason}").into()),
            Action::Read => unreachable!("only a response is answered with Read"),
        }
    }
}
