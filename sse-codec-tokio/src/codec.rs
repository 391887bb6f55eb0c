//! `tokio_util::codec` [`Decoder`] and [`Encoder`] over the core.

use crate::Error;
use bytes::BytesMut;
use sse_codec::{BytesEvent, BytesItem, Event, Frame, Limits};
use tokio_util::codec::{Decoder, Encoder};

/// Below this much spare capacity, [`Decoder::decode`] asks for a fresh
/// [`READ_CAPACITY`] so that the next read is not a dribble into the tail of
/// a buffer that handed-out events still share.
const MIN_READ: usize = 1024;
/// `tokio_util`'s own initial read buffer size.
const READ_CAPACITY: usize = 8 * 1024;

/// A `text/event-stream` codec for [`FramedRead`], [`FramedWrite`] and
/// [`Framed`].
///
/// Decoding hands out [`BytesItem`]s, one per event, accepted `retry` field
/// or comment, straight from [`sse_codec::Decoder::decode_bytes`]: the data
/// of an event that arrived whole in one read is a slice of the read buffer,
/// not a copy. Encoding writes [`Frame`]s, decoded [`Event`]s and
/// [`BytesEvent`]s with the core's encoder.
///
/// At end of input, [`decode_eof`](Decoder::decode_eof) drops an event whose
/// blank line never came, as the WHATWG HTML Standard requires ("Once the end
/// of the file is reached, any pending data must be discarded"), instead of
/// `tokio_util`'s default "bytes remaining on stream" error. The last event
/// ID and reconnection time survive it, for the next connection.
///
/// `SseCodec` encodes several item types, so a sink method that takes no
/// item names the one it means: `SinkExt::<Frame<'_>>::close(&mut sink)`.
///
/// A decode error ([`Error::Codec`]) is a report, not corruption: the core
/// has already skipped to the next blank line. [`FramedRead`] ends the stream
/// after any error; polling it again resumes reading, and the events after
/// the bad one follow.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use sse_codec::BytesItem;
/// use sse_codec_tokio::SseCodec;
/// use tokio_util::codec::FramedRead;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sse_codec_tokio::Error> {
/// // Any `AsyncRead`: a TCP stream, a child's stdout, here a byte slice.
/// let body = &b"retry: 500\n\nid: 1\ndata: hello\n\ndata: unfinished"[..];
/// let mut items = FramedRead::new(body, SseCodec::new());
/// assert_eq!(items.next().await.transpose()?, Some(BytesItem::Retry(500)));
/// let Some(BytesItem::Event(event)) = items.next().await.transpose()? else { panic!() };
/// assert_eq!((event.id(), event.data()), ("1", "hello"));
/// assert!(items.next().await.is_none()); // the unfinished event is dropped
/// assert_eq!(items.decoder().last_event_id(), b"1"); // for Last-Event-ID
/// # Ok(())
/// # }
/// ```
///
/// [`FramedRead`]: tokio_util::codec::FramedRead
/// [`FramedWrite`]: tokio_util::codec::FramedWrite
/// [`Framed`]: tokio_util::codec::Framed
#[derive(Debug, Default)]
pub struct SseCodec {
    decoder: sse_codec::Decoder<Vec<u8>>,
}

impl SseCodec {
    /// A codec with the default [`Limits`] and lossy UTF-8.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the decoder's [`Limits`]; the encoder has none.
    #[must_use]
    pub fn with_limits(self, limits: Limits) -> Self {
        SseCodec {
            decoder: self.decoder.with_limits(limits),
        }
    }

    /// The last event ID, as received: what a reconnecting client sends as
    /// `Last-Event-ID` ([`sse_codec::Decoder::last_event_id`]).
    #[must_use]
    pub fn last_event_id(&self) -> &[u8] {
        self.decoder.last_event_id()
    }

    /// The reconnection time from the last accepted `retry` field, in
    /// milliseconds ([`sse_codec::Decoder::retry`]).
    #[must_use]
    pub fn retry(&self) -> Option<u64> {
        self.decoder.retry()
    }

    /// The core decoder: its last event ID, reconnection time and limits.
    #[must_use]
    pub fn decoder(&self) -> &sse_codec::Decoder<Vec<u8>> {
        &self.decoder
    }

    /// The core decoder, to seed a last event ID or end a stream by hand.
    pub fn decoder_mut(&mut self) -> &mut sse_codec::Decoder<Vec<u8>> {
        &mut self.decoder
    }
}

/// For any setting the builders above don't cover, such as
/// [`Utf8::Strict`](sse_codec::Utf8::Strict) or a seeded last event ID.
impl From<sse_codec::Decoder<Vec<u8>>> for SseCodec {
    fn from(decoder: sse_codec::Decoder<Vec<u8>>) -> Self {
        SseCodec { decoder }
    }
}

impl Decoder for SseCodec {
    type Item = BytesItem;
    type Error = Error;

    /// One core call: [`decode_bytes`](sse_codec::Decoder::decode_bytes),
    /// which splits off `src` the bytes of each item. `Ok(None)` means every
    /// byte of `src` has been looked at; the bytes of an unfinished event
    /// stay in `src` (as tokio-util codecs leave an unfinished frame), and
    /// only what the next read appends is searched.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesItem>, Error> {
        let item = self.decoder.decode_bytes(src)?;
        if item.is_none() && src.capacity() - src.len() < MIN_READ {
            src.reserve(READ_CAPACITY);
        }
        Ok(item)
    }

    /// Decodes what is left, then ends the stream with
    /// [`finish`](sse_codec::Decoder::finish): an unfinished event is
    /// dropped, never an error.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesItem>, Error> {
        let item = self.decoder.decode_bytes(src)?;
        if item.is_none() {
            self.decoder.finish();
            src.clear();
        }
        Ok(item)
    }
}

/// Writes `frame` after reserving its exact length.
fn encode_frame(frame: &Frame<'_>, dst: &mut BytesMut) -> Result<(), Error> {
    dst.reserve(frame.encoded_len()?);
    frame.encode_to_buf(dst)?;
    Ok(())
}

/// # Errors
///
/// [`Error::Codec`] with [`sse_codec::Error::InvalidEventType`] or
/// [`sse_codec::Error::InvalidId`] for a frame no stream can carry; nothing
/// is written.
impl Encoder<Frame<'_>> for SseCodec {
    type Error = Error;

    fn encode(&mut self, frame: Frame<'_>, dst: &mut BytesMut) -> Result<(), Error> {
        encode_frame(&frame, dst)
    }
}

/// Re-sends a decoded event, as [`Frame::from`] an [`Event`] does.
impl Encoder<Event<'_>> for SseCodec {
    type Error = Error;

    fn encode(&mut self, event: Event<'_>, dst: &mut BytesMut) -> Result<(), Error> {
        encode_frame(&Frame::from(event), dst)
    }
}

/// Re-sends an event decoded by this codec, as [`Frame::from`] an [`Event`]
/// does: its event type only if the stream set one, its id only if not
/// empty.
impl Encoder<&BytesEvent> for SseCodec {
    type Error = Error;

    fn encode(&mut self, event: &BytesEvent, dst: &mut BytesMut) -> Result<(), Error> {
        encode_frame(&Frame::from(event), dst)
    }
}

/// As for `&BytesEvent`.
impl Encoder<BytesEvent> for SseCodec {
    type Error = Error;

    fn encode(&mut self, event: BytesEvent, dst: &mut BytesMut) -> Result<(), Error> {
        self.encode(&event, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_codec::Text;

    fn events(items: &[BytesItem]) -> Vec<(&str, &str, &str)> {
        items
            .iter()
            .filter_map(|i| match i {
                BytesItem::Event(e) => Some((e.event_type(), e.id(), e.data())),
                _ => None,
            })
            .collect()
    }

    /// Feeds `input` `step` bytes at a time, the way `FramedRead` does.
    fn decode_piecewise(codec: &mut SseCodec, input: &[u8], step: usize) -> Vec<BytesItem> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in input.chunks(step) {
            buf.extend_from_slice(chunk);
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                out.push(item);
            }
        }
        while let Some(item) = codec.decode_eof(&mut buf).unwrap() {
            out.push(item);
        }
        out
    }

    const STREAM: &[u8] = b"\xEF\xBB\xBFretry: 10\r\n: hi\r\nevent: a\r\nid: 7\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\r";

    #[test]
    fn chunking_is_invisible() {
        let whole = decode_piecewise(&mut SseCodec::new(), STREAM, STREAM.len());
        assert_eq!(events(&whole), [("a", "7", "x\ny"), ("message", "7", "z")]);
        assert_eq!(whole[0], BytesItem::Retry(10));
        assert_eq!(whole[1], BytesItem::Comment(Text::from("hi")));
        for step in 1..STREAM.len() {
            assert_eq!(
                decode_piecewise(&mut SseCodec::new(), STREAM, step),
                whole,
                "step {step}"
            );
        }
    }

    #[test]
    fn single_line_data_is_a_slice_of_the_read_buffer() {
        // Longer than a `Text` holds inline.
        let mut buf = BytesMut::from(&b"data: zero-copy, zero-copy, zero-copy, zero-copy\n\n"[..]);
        let start = buf.as_ptr() as usize;
        let Some(BytesItem::Event(e)) = SseCodec::new().decode(&mut buf).unwrap() else {
            panic!()
        };
        assert_eq!(e.data_bytes().as_ptr() as usize, start + b"data: ".len());
    }

    #[test]
    fn decode_eof_drops_an_unfinished_event_and_keeps_the_last_event_id() {
        let mut codec = SseCodec::new();
        let items = decode_piecewise(&mut codec, b"id: 3\ndata: a\n\nid: 4\ndata: cut", 5);
        assert_eq!(events(&items), [("message", "3", "a")]);
        assert_eq!(codec.decoder().last_event_id(), b"3");
        // The next stream (a reconnection) starts clean.
        let items = decode_piecewise(&mut codec, b"data: b\n\n", 100);
        assert_eq!(events(&items), [("message", "3", "b")]);
    }

    #[test]
    fn limits_are_passed_through_and_decoding_goes_on() {
        let mut codec = SseCodec::new().with_limits(Limits::new().with_max_line_len(8));
        let mut buf = BytesMut::from(&b"data: far too long\n\ndata: ok\n\n"[..]);
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            Error::Codec(sse_codec::Error::LineTooLong { limit: 8, .. })
        ));
        let Some(BytesItem::Event(e)) = codec.decode(&mut buf).unwrap() else {
            panic!()
        };
        assert_eq!(e.data(), "ok");
    }

    #[test]
    fn encodes_frames_events_and_bytes_events() {
        let mut codec = SseCodec::new();
        let mut dst = BytesMut::new();
        codec.encode(Frame::retry(100), &mut dst).unwrap();
        codec
            .encode(Frame::event("a\r\nb").with_id("1"), &mut dst)
            .unwrap();
        let mut decoder = sse_codec::Decoder::new();
        let mut input = &b"event: t\ndata: c\n\n"[..];
        let Ok(Some(sse_codec::Item::Event(e))) = decoder.decode(&mut input) else {
            panic!()
        };
        codec.encode(e, &mut dst).unwrap();
        codec.encode(sse_codec::KEEPALIVE, &mut dst).unwrap();
        assert_eq!(
            &dst[..],
            b"retry: 100\n\nid: 1\ndata: a\ndata: b\n\nevent: t\ndata: c\n\n: keepalive\n\n"
        );

        // Decode and re-encode: the same bytes come back.
        let input = b"event: t\nid: 9\ndata: x\ndata: y\n\ndata: z\n\n";
        let items = decode_piecewise(&mut SseCodec::new(), input, 3);
        let mut out = BytesMut::new();
        for item in items {
            if let BytesItem::Event(e) = item {
                codec.encode(e, &mut out).unwrap();
            }
        }
        assert_eq!(
            &out[..],
            b"event: t\nid: 9\ndata: x\ndata: y\n\nid: 9\ndata: z\n\n"
        );
    }

    #[test]
    fn an_invalid_frame_writes_nothing() {
        let mut dst = BytesMut::from(&b"kept"[..]);
        let err = SseCodec::new()
            .encode(Frame::event("x").with_id("a\nb"), &mut dst)
            .unwrap_err();
        assert!(matches!(err, Error::Codec(sse_codec::Error::InvalidId)));
        assert_eq!(&dst[..], b"kept");
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SseCodec>();
    }
}
