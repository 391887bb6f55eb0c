//! Serving the demo over hyper's HTTP/1.1, with the bounds an operator
//! needs: a cap on open connections, `accept()` errors survived, a time
//! limit on the request head, and a write timeout for clients that stop
//! reading.

use bytes::Bytes;
use core::pin::Pin;
use core::task::{Context, Poll};
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;

/// The body of every demo response.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The bounds of [`serve`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    /// Open connections at most; more wait in the listen backlog.
    pub(crate) max_connections: usize,
    /// How long a client may take to send its request head.
    pub(crate) head_timeout: Duration,
    /// How long a write may wait for a client that does not read.
    pub(crate) write_timeout: Duration,
}

impl Bounds {
    /// The demo's: 512 connections (under the usual 1,024 file descriptors,
    /// with room for the listener and the runtime), 10 s for a request head,
    /// 30 s for a stalled write.
    pub(crate) const DEMO: Bounds = Bounds {
        max_connections: 512,
        head_timeout: Duration::from_secs(10),
        write_timeout: Duration::from_secs(30),
    };
}

/// Serves `handle` on `listener` until the task is dropped.
///
/// At most `bounds.max_connections` connections are served at once; the
/// next is accepted when one closes. An `accept()` error (out of file
/// descriptors, say) is logged and retried after a pause, never fatal.
pub(crate) async fn serve<H, F>(listener: TcpListener, bounds: Bounds, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(bounds.max_connections));
    let mut pause = Duration::from_millis(10);
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return; // never closed
        };
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(e) => {
                eprintln!("server: accept failed ({e}); retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        pause = Duration::from_millis(10);
        let _ = socket.set_nodelay(true);
        let handle = handle.clone();
        tokio::spawn(async move {
            let io = TokioIo::new(WriteTimeout::new(socket, bounds.write_timeout));
            let service = service_fn(move |request| {
                let response = handle(request);
                async move { Ok::<_, Infallible>(response.await) }
            });
            // A client that goes away, or times out, is no error of ours.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(bounds.head_timeout)
                .serve_connection(io, service)
                .await;
            drop(slot);
        });
    }
}

/// An I/O stream whose writes fail with `TimedOut` when the peer has not
/// taken any bytes for `limit`: a client that stops reading gives its
/// connection (and what the server buffered for it) back.
struct WriteTimeout<T> {
    io: T,
    limit: Duration,
    /// Running while a write is pending.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteTimeout<T> {
    fn new(io: T, limit: Duration) -> Self {
        WriteTimeout {
            io,
            limit,
            stalled: None,
        }
    }

    /// `Pending` from a write: starts or checks the clock.
    fn pending<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read for the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Pending => self.pending(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.pending(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Pending => self.pending(cx),
            done => {
                self.stalled = None;
                done
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_never_takes_times_out() {
        // A pipe with 64 bytes of room that nobody reads.
        let (_reader, writer) = tokio::io::duplex(64);
        let mut io = WriteTimeout::new(writer, Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let err = io.write_all(&[b'x'; 1000]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }
}
