//! Heartbeat comments on an idle event stream.

use super::hooks::{HeldHooks, Hooks};
use crate::time::deadline;
use bytes::Bytes;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use futures_core::Stream;
use pin_project_lite::pin_project;
use sse_codec::KEEPALIVE;
use std::sync::{Arc, OnceLock};
use tokio::time::{Instant, Sleep};

pin_project! {
    /// An encoded event stream with a heartbeat comment (`: keepalive`,
    /// [`KEEPALIVE`]) whenever it has been idle for a while.
    ///
    /// Proxies and load balancers close connections that carry nothing for a
    /// minute or so; a comment every 15–30 s keeps an idle event stream
    /// open, and `EventSource` ignores it. Items pass through unchanged; the
    /// idle timer restarts after each item and each heartbeat, so a busy
    /// stream carries no heartbeats and an idle one carries one every
    /// `idle`. The stream ends when `frames` ends.
    ///
    /// `frames` is what a server writes: `Result<Bytes, E>` items, the body
    /// type of hyper's `StreamBody` (after mapping to `http_body::Frame`) and
    /// axum's `Body::from_stream`. Encode events into it with
    /// [`Frame::encode_to_buf`](sse_codec::Frame::encode_to_buf) or the
    /// [`SseCodec`](crate::SseCodec) encoder.
    ///
    /// # Panics
    ///
    /// [`new`](Self::new) panics outside a Tokio runtime with the time
    /// driver enabled, as [`tokio::time::sleep`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures_util::{stream, StreamExt};
    /// use sse_codec_tokio::Heartbeat;
    /// use std::{convert::Infallible, time::Duration};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let events = stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"data: a\n\n"))])
    ///     .chain(stream::pending()); // then nothing, for ever
    /// let mut body = Heartbeat::new(events, Duration::from_secs(15));
    /// assert_eq!(body.next().await.unwrap().unwrap(), "data: a\n\n");
    /// assert_eq!(body.next().await.unwrap().unwrap(), ": keepalive\n\n"); // 15 s later
    /// # }
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Heartbeat<S> {
        #[pin]
        frames: S,
        // Boxed so that the stream is `Unpin` whenever `frames` is.
        sleep: Pin<Box<Sleep>>,
        idle: Duration,
        // Told of each heartbeat.
        hooks: Option<HeldHooks>,
        // When the last item went out, if after the timer was set.
        last_sent: Option<Instant>,
    }
}

impl<S> Heartbeat<S> {
    /// Sends `: keepalive` on `frames` whenever nothing was sent for `idle`
    /// (at least one millisecond; [`Duration::MAX`]: never).
    pub fn new(frames: S, idle: Duration) -> Self {
        let idle = idle.max(Duration::from_millis(1));
        Heartbeat {
            frames,
            sleep: Box::pin(tokio::time::sleep_until(deadline(idle))),
            idle,
            hooks: None,
            last_sent: None,
        }
    }

    /// Tells `hooks` of each heartbeat.
    pub(crate) fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = Some(HeldHooks(hooks));
        self
    }

    /// The wrapped stream, to adjust it.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.frames
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.frames
    }
}

/// [`KEEPALIVE`], encoded once for every stream: a heartbeat is a
/// reference count, and a stream holds nothing for it until it sends one.
fn keepalive() -> Bytes {
    static ENCODED: OnceLock<Bytes> = OnceLock::new();
    // A constant, valid frame: `to_vec` fails only if allocation does.
    let encoded = ENCODED.get_or_init(|| KEEPALIVE.to_vec().map(Bytes::from).unwrap_or_default());
    encoded.clone()
}

impl<S, E> Stream for Heartbeat<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        match this.frames.poll_next(cx) {
            Poll::Ready(Some(item)) => {
                // Noted, not re-armed: moving a timer costs far more than
                // reading the clock, and a busy stream would move it for
                // every chunk. The timer catches up when it fires.
                *this.last_sent = Some(Instant::now());
                return Poll::Ready(Some(item));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        loop {
            if this.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Something was sent since the timer was set: the heartbeat
            // is due `idle` after that instead.
            let due = this
                .last_sent
                .take()
                .map(|sent| sent.checked_add(*this.idle));
            match due {
                Some(Some(due)) if Instant::now() < due => this.sleep.as_mut().reset(due),
                Some(None) => this.sleep.as_mut().reset(deadline(*this.idle)),
                _ => break,
            }
        }
        this.sleep.as_mut().reset(deadline(*this.idle));
        if let Some(hooks) = this.hooks {
            hooks.0.heartbeat();
        }
        Poll::Ready(Some(Ok(keepalive())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.frames.size_hint().0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::convert::Infallible;
    use futures_util::StreamExt;
    use tokio::sync::mpsc;

    #[test]
    fn keepalive_is_the_cores() {
        assert_eq!(keepalive(), &b": keepalive\n\n"[..]);
    }

    /// A stream fed by the test, with the time each item arrives.
    fn timed(
        idle: Duration,
    ) -> (
        mpsc::UnboundedSender<Bytes>,
        impl Stream<Item = (Duration, Bytes)>,
    ) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
        let frames = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|b| b.map(Ok)));
        let start = Instant::now();
        let body = Heartbeat::new(frames, idle)
            .map(move |r: Result<Bytes, Infallible>| (start.elapsed(), r.unwrap_or_default()));
        (tx, body)
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_only_when_idle() {
        let ms = Duration::from_millis;
        let (tx, body) = timed(ms(100));
        let feeder = tokio::spawn(async move {
            // Busy until 200 ms, then idle until 580 ms, then one more event.
            for _ in 0..5 {
                tx.send(Bytes::from_static(b"data: x\n\n")).unwrap();
                tokio::time::sleep(ms(50)).await;
            }
            tokio::time::sleep(ms(330)).await;
            tx.send(Bytes::from_static(b"data: y\n\n")).unwrap();
        });
        // The stream ends when the feeder drops its sender.
        let got: Vec<_> = body.collect().await;
        feeder.await.unwrap();
        let kinds: Vec<_> = got
            .iter()
            .map(|(at, b)| {
                (
                    at.as_millis(),
                    if b.starts_with(b":") { "hb" } else { "ev" },
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (0, "ev"),
                (50, "ev"),
                (100, "ev"),
                (150, "ev"),
                (200, "ev"),
                (300, "hb"),
                (400, "hb"),
                (500, "hb"),
                (580, "ev"),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_the_frames_end() {
        let body = Heartbeat::new(
            futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from_static(b"data: a\n\n"))]),
            Duration::from_secs(1),
        );
        assert_eq!(body.count().await, 1);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Heartbeat<futures_util::stream::Empty<Result<Bytes, Infallible>>>>();
    }
}
