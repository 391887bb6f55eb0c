//! Just enough HTTP/1.1 for the demo: read one request head, write one
//! response head. One request per connection (`connection: close`); an
//! event stream's body ends when the server closes the connection, so it
//! needs neither `content-length` nor chunked encoding.

use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    /// After `?`, undecoded; empty if none.
    pub(crate) query: String,
    /// Names lowercased, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
}

impl Request {
    /// The value of the first header called `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` pairs of the query, undecoded, in order.
    pub(crate) fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }
}

/// Reads one request head from `rd`, within [`HEAD_TIMEOUT`] and
/// [`MAX_HEAD`] bytes. Bytes after the head (there should be none: these
/// are GET requests) are dropped.
pub(crate) async fn read_request<R: AsyncRead + Unpin>(rd: &mut R) -> io::Result<Request> {
    let head = tokio::time::timeout(HEAD_TIMEOUT, read_head(rd))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request head timed out"))??;
    parse(&head).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad request head"))
}

async fn read_head<R: AsyncRead + Unpin>(rd: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        let n = rd.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        // Search from just before the new bytes: the terminator may straddle reads.
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&head[from..], b"\r\n\r\n") {
            head.truncate(from + end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too long",
            ));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse(head: &[u8]) -> Option<Request> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
    })
}

/// A complete response with a body and `content-length`.
pub(crate) fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         cache-control: no-cache\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The head of a response whose body runs until the connection closes.
pub(crate) fn streaming_head(headers: &[(&str, &str)]) -> String {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("connection: close\r\n\r\n");
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_a_head_split_anywhere() {
        let raw = b"GET /events?retry=5&x HTTP/1.1\r\nHost: a\r\nLast-Event-ID:  7 \r\n\r\n";
        for step in 1..raw.len() {
            let (mut client, mut server) = tokio::io::duplex(4096);
            let chunks: Vec<Vec<u8>> = raw.chunks(step).map(<[u8]>::to_vec).collect();
            let writer = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                for c in chunks {
                    client.write_all(&c).await.unwrap();
                    tokio::task::yield_now().await;
                }
                client
            });
            let req = read_request(&mut server).await.unwrap();
            drop(writer.await.unwrap());
            assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/events"));
            assert_eq!(req.header("last-event-id"), Some("7"));
            assert_eq!(
                req.query_pairs().collect::<Vec<_>>(),
                [("retry", "5"), ("x", "")]
            );
        }
    }
}
