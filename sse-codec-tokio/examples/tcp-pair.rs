//! A raw-tokio client and server, both sides with `SseCodec`.
//!
//! ```text
//! cargo run -p sse-codec-tokio --example tcp-pair
//! ```
//!
//! The server answers one HTTP/1.1 request on a loopback port with the
//! event-stream headers, then writes frames through `FramedWrite`; the
//! client reads the head and decodes the rest with `FramedRead`. It sends
//! five events and a heartbeat, then both sides finish.

use futures_util::{SinkExt, StreamExt};
use sse_codec::{BytesItem, Frame, KEEPALIVE};
use sse_codec_tokio::{Error, SseCodec, RESPONSE_HEADERS};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, FramedWrite};

async fn server(listener: TcpListener) -> Result<(), Error> {
    let (mut socket, _) = listener.accept().await?;
    // Read the request head; a real server would parse it.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        if socket.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let mut response = String::from("HTTP/1.1 200 OK\r\n");
    for (name, value) in RESPONSE_HEADERS {
        response += &format!("{name}: {value}\r\n");
    }
    response += "connection: close\r\n\r\n";
    socket.write_all(response.as_bytes()).await?;

    // From here on the connection carries the event stream.
    let mut frames = FramedWrite::new(socket, SseCodec::new());
    frames.send(Frame::retry(2000)).await?;
    for n in 1..=5u32 {
        let (id, data) = (n.to_string(), format!("{{\"n\":{n}}}\nsecond line"));
        // `send` flushes: each event leaves as soon as it is ready.
        frames
            .send(Frame::event(&data).with_event_type("count").with_id(&id))
            .await?;
        if n == 3 {
            frames.send(KEEPALIVE).await?;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Flush and shut down: the response ends. (`close` takes no item, so it
    // names which of the codec's `Encoder` impls it means.)
    SinkExt::<Frame<'_>>::close(&mut frames).await
}

async fn client(addr: std::net::SocketAddr) -> Result<(), Error> {
    let mut socket = TcpStream::connect(addr).await?;
    socket
        .write_all(
            format!("GET /events HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        print!("< {line}");
        if line.trim_end().is_empty() {
            break;
        }
    }
    // `BufReader` keeps any body bytes it read along with the head.
    let mut items = FramedRead::new(reader, SseCodec::new());
    while let Some(item) = items.next().await {
        match item? {
            BytesItem::Event(e) => println!(
                "event {:?} id {:?} data {:?}",
                e.event_type(),
                e.id(),
                e.data()
            ),
            BytesItem::Retry(ms) => println!("retry {ms} ms"),
            BytesItem::Comment(c) => println!("comment {c:?}"),
            other => println!("{other:?}"),
        }
    }
    println!(
        "end of stream; last event ID {:?}",
        String::from_utf8_lossy(items.decoder().last_event_id())
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(server(listener));
    client(addr).await?;
    server.await.map_err(std::io::Error::other)?
}
