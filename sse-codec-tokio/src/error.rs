//! The crate's one error type.

use core::fmt;
use std::io;

/// Why reading or writing an event stream failed: the protocol, or the
/// transport under it.
///
/// `E` is the transport's error: [`io::Error`] (the default) for
/// [`SseCodec`](crate::SseCodec) over an `AsyncRead`/`AsyncWrite`, the body's
/// own error (`reqwest::Error`, `hyper::Error`, …) for
/// [`SseStream`](crate::SseStream). Keeping the two apart tells a client
/// whether to reconnect (the connection failed) or to log and read on (the
/// decoder rejected an event under its [`Limits`](sse_codec::Limits) and has
/// already resynchronised at the next blank line).
///
/// `Display` and [`source`](core::error::Error::source) are the wrapped
/// error's own.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E = io::Error> {
    /// The decoder or the encoder refused: a limit, strict UTF-8, or a value
    /// no event stream can carry. Decoding can go on after it.
    Codec(sse_codec::Error),
    /// The transport failed: a read or write, or the body stream's own error.
    Transport(E),
}

impl<E> Error<E> {
    /// The protocol error, if that is what this is.
    #[must_use]
    pub fn codec(&self) -> Option<&sse_codec::Error> {
        match self {
            Error::Codec(e) => Some(e),
            _ => None,
        }
    }

    /// The transport error, if that is what this is.
    #[must_use]
    pub fn transport(&self) -> Option<&E> {
        match self {
            Error::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl<E> From<sse_codec::Error> for Error<E> {
    fn from(e: sse_codec::Error) -> Self {
        Error::Codec(e)
    }
}

/// Required by `tokio_util::codec`: read and write errors of the framed I/O.
impl From<io::Error> for Error<io::Error> {
    fn from(e: io::Error) -> Self {
        Error::Transport(e)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Codec(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Codec(e) => e.source(),
            Error::Transport(e) => e.source(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_wrapped_errors() {
        let codec: Error = sse_codec::Error::InvalidId.into();
        assert_eq!(codec.to_string(), "id contains NUL, CR or LF");
        assert!(codec.transport().is_none());
        let io: Error = io::Error::new(io::ErrorKind::UnexpectedEof, "early eof").into();
        assert_eq!(io.to_string(), "early eof");
        assert_eq!(
            io.transport().map(io::Error::kind),
            Some(io::ErrorKind::UnexpectedEof)
        );
    }

    #[test]
    fn is_send_sync_and_static() {
        fn check<T: Send + Sync + 'static + core::error::Error>() {}
        check::<Error>();
    }
}
