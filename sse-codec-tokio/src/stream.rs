//! A body stream of `Bytes` chunks becomes a stream of events.

use crate::Error;
use bytes::{Bytes, BytesMut};
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use futures_core::Stream;
use pin_project_lite::pin_project;
use sse_codec::{BytesItem, Decoder};

pin_project! {
    /// The events of a response body: any `Stream<Item = Result<Bytes, E>>`,
    /// such as reqwest's `Response::bytes_stream()` or a hyper body's data
    /// frames, decoded as a `text/event-stream`.
    ///
    /// Each chunk goes to the core's
    /// [`decode_bytes`](sse_codec::Decoder::decode_bytes) through one read
    /// buffer, which keeps the bytes of an unfinished event: an event whose
    /// data is one long line is a slice of it, short text is held inline. A
    /// chunk that arrives when the buffer is empty, and that no one else
    /// holds, becomes the buffer (no copy); any other chunk (a `Bytes` still
    /// shared with the transport's read buffer, as hyper's are) is copied
    /// once, into a buffer that is reused once the events sliced from it are
    /// dropped.
    ///
    /// Items are [`BytesItem`]s (events, accepted `retry` fields, comments)
    /// or an [`Error`] that says which side failed:
    /// - [`Error::Transport`]`(E)`: the body's own error, passed on as it
    ///   came. The connection is usually gone: reconnect, sending
    ///   [`decoder().last_event_id()`](sse_codec::Decoder::last_event_id) as
    ///   `Last-Event-ID`.
    /// - [`Error::Codec`]: a decoder limit or strict UTF-8. The decoder has
    ///   skipped to the next blank line; keep polling for what follows.
    ///
    /// When the body ends, an event whose blank line never came is dropped
    /// ([`finish`](sse_codec::Decoder::finish)) and the stream ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use futures_util::{stream, StreamExt};
    /// use sse_codec::BytesItem;
    /// use sse_codec_tokio::{Error, SseStream};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // Stands in for `response.bytes_stream()`.
    /// let body = stream::iter([
    ///     Ok(Bytes::from_static(b"id: 1\ndata: he")),
    ///     Ok(Bytes::from_static(b"llo\n\n")),
    ///     Err("connection reset"),
    /// ]);
    /// let mut events = SseStream::new(body);
    /// let Some(Ok(BytesItem::Event(event))) = events.next().await else { panic!() };
    /// assert_eq!(event.data(), "hello");
    /// assert!(matches!(events.next().await, Some(Err(Error::Transport("connection reset")))));
    /// assert_eq!(events.decoder().last_event_id(), b"1"); // for the reconnection
    /// # }
    /// ```
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct SseStream<S> {
        #[pin]
        body: S,
        decoder: Decoder<Vec<u8>>,
        // The read buffer: chunks appended, items split off its front; the
        // bytes of an unfinished event stay in it.
        buf: BytesMut,
        // `buf` holds bytes the decoder has not looked at.
        fresh: bool,
        // The body has ended and the decoder has been finished.
        done: bool,
    }
}

impl<S> SseStream<S> {
    /// Decodes `body` with a new decoder and the default
    /// [`Limits`](sse_codec::Limits).
    pub fn new(body: S) -> Self {
        Self::with_decoder(body, Decoder::new())
    }

    /// Decodes `body` with `decoder`: one with other limits, strict UTF-8,
    /// or the last event ID and reconnection time of the previous connection
    /// (from [`into_parts`](Self::into_parts)).
    pub fn with_decoder(body: S, decoder: Decoder<Vec<u8>>) -> Self {
        SseStream {
            body,
            decoder,
            buf: BytesMut::new(),
            fresh: false,
            done: false,
        }
    }

    /// The core decoder: its last event ID, reconnection time and limits.
    #[must_use]
    pub fn decoder(&self) -> &Decoder<Vec<u8>> {
        &self.decoder
    }

    /// The body and the decoder. Reusing the decoder for the next
    /// connection keeps the last event ID and the reconnection time; call
    /// [`finish`](sse_codec::Decoder::finish) on it first if this body had
    /// not ended.
    pub fn into_parts(self) -> (S, Decoder<Vec<u8>>) {
        (self.body, self.decoder)
    }
}

impl<S, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<BytesItem, Error<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.fresh {
                *this.fresh = false;
                match this.decoder.decode_bytes(this.buf) {
                    Ok(Some(item)) => {
                        *this.fresh = true;
                        return Poll::Ready(Some(Ok(item)));
                    }
                    Ok(None) => {} // all looked at; an unfinished event waits in `buf`
                    Err(e) => {
                        *this.fresh = true;
                        return Poll::Ready(Some(Err(Error::Codec(e))));
                    }
                }
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.body.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => {
                    *this.fresh = true;
                    if this.buf.is_empty() {
                        // Take the chunk over when no one else holds it;
                        // a shared one (hyper's, reqwest's) is copied.
                        match chunk.try_into_mut() {
                            Ok(owned) => *this.buf = owned,
                            Err(shared) => this.buf.extend_from_slice(&shared),
                        }
                    } else {
                        this.buf.extend_from_slice(&chunk);
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(Error::Transport(e)))),
                None => {
                    this.decoder.finish();
                    this.buf.clear();
                    *this.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::convert::Infallible;
    use futures_util::task::noop_waker_ref;

    /// A body that yields its chunks one per poll, `Pending` in between.
    struct Body {
        chunks: std::vec::IntoIter<Result<Bytes, &'static str>>,
        pending: bool,
    }

    impl Stream for Body {
        type Item = Result<Bytes, &'static str>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.pending = !self.pending;
            if self.pending {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.chunks.next())
        }
    }

    fn body<I: IntoIterator<Item = Result<Bytes, &'static str>>>(chunks: I) -> Body {
        Body {
            chunks: chunks.into_iter().collect::<Vec<_>>().into_iter(),
            pending: false,
        }
    }

    /// Polls to the end, `Pending` and all (bounded: the body ends).
    fn collect<S: Stream + Unpin>(s: &mut S) -> Vec<S::Item> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        for _ in 0..10_000 {
            match Pin::new(&mut *s).poll_next(&mut cx) {
                Poll::Ready(Some(item)) => out.push(item),
                Poll::Ready(None) => return out,
                Poll::Pending => {}
            }
        }
        panic!("stream did not end")
    }

    fn data(items: &[Result<BytesItem, Error<&'static str>>]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Ok(BytesItem::Event(e)) => format!("{}:{}", e.id(), e.data()),
                Ok(other) => format!("{other:?}"),
                Err(Error::Transport(t)) => format!("transport {t}"),
                Err(e) => format!("codec {e}"),
            })
            .collect()
    }

    #[test]
    fn chunks_split_anywhere_give_the_same_events() {
        let input: &[u8] = b"retry: 5\nid: 1\ndata: a\r\n\r\ndata: b\rdata: c\r\rdata: unfinished";
        for step in 1..=input.len() {
            let chunks = input
                .chunks(step)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>();
            let items = collect(&mut SseStream::new(body(chunks)));
            assert_eq!(data(&items), ["Retry(5)", "1:a", "1:b\nc"], "step {step}");
        }
    }

    #[test]
    fn transport_errors_stay_apart_from_codec_errors() {
        let decoder = Decoder::new().with_limits(sse_codec::Limits::new().with_max_line_len(12));
        let mut stream = SseStream::with_decoder(
            body([
                Ok(Bytes::from_static(
                    b"data: this line is too long\n\ndata: ok\n\n",
                )),
                Err("reset"),
                Ok(Bytes::from_static(b"data: after\n\n")),
            ]),
            decoder,
        );
        let items = collect(&mut stream);
        assert_eq!(
            data(&items),
            [
                "codec line longer than 12 bytes at offset 0",
                ":ok",
                "transport reset",
                ":after"
            ]
        );
    }

    #[test]
    fn an_owned_chunk_is_not_copied() {
        let chunk = Bytes::from(b"data: mine, and longer than a Text holds inline\n\n".to_vec());
        let start = chunk.as_ptr() as usize;
        let items = collect(&mut SseStream::new(futures_util::stream::iter([Ok::<
            _,
            Infallible,
        >(
            chunk
        )])));
        let [Ok(BytesItem::Event(e))] = &items[..] else {
            panic!("{items:?}")
        };
        assert_eq!(e.data_bytes().as_ptr() as usize, start + 6);
    }

    #[test]
    fn the_decoder_carries_over_to_the_next_connection() {
        let mut first = SseStream::new(body([Ok(Bytes::from_static(b"id: 41\ndata: a\n\n"))]));
        assert_eq!(data(&collect(&mut first)), ["41:a"]);
        let (_, decoder) = first.into_parts();
        assert_eq!(decoder.last_event_id(), b"41");
        let items = collect(&mut SseStream::with_decoder(
            body([Ok(Bytes::from_static(b"data: b\n\n"))]),
            decoder,
        ));
        assert_eq!(data(&items), ["41:b"]);
    }
}
