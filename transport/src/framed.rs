//! Frames over an async byte stream (a QUIC stream or a TLS stream), with the deadlines
//! that keep a slow or silent peer from holding resources.

use std::time::Duration;

use huisclos_protocol::frame::{FrameHeader, Padding, encode_frame, frame_parts};
use huisclos_protocol::limits::FRAME_HEADER_LEN;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::TransportError;

/// How long a reader waits for frames.
#[derive(Debug, Clone, Copy)]
pub struct ReadDeadlines {
    /// How long to wait for the first byte of the next frame; `None` waits for ever
    /// (the connection's own idle timeout then applies).
    pub idle: Option<Duration>,
    /// How long a frame may take to arrive once its first byte has: the defence against
    /// peers that trickle a frame (slowloris).
    pub frame: Duration,
}

impl Default for ReadDeadlines {
    fn default() -> Self {
        Self { idle: None, frame: Duration::from_secs(30) }
    }
}

/// Reads one frame and returns its payload, or `None` at a clean end of stream between
/// frames.
///
/// The header is checked before the body is read, so no buffer larger than
/// `MAX_FRAME_LEN` is ever allocated, and only after the peer announced a valid frame.
///
/// # Errors
/// [`TransportError::Timeout`] past a deadline, [`TransportError::Protocol`] for a bad
/// header or padding, [`TransportError::Io`] for a stream that ends inside a frame.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    deadlines: ReadDeadlines,
) -> Result<Option<Vec<u8>>, TransportError> {
    let mut first = [0u8; 1];
    let read_first = reader.read(&mut first);
    let n = match deadlines.idle {
        Some(idle) => tokio::time::timeout(idle, read_first).await.map_err(|_| TransportError::Timeout)??,
        None => read_first.await?,
    };
    if n == 0 {
        return Ok(None);
    }
    let rest = async {
        let mut header = [0u8; FRAME_HEADER_LEN];
        header[0] = first[0];
        reader.read_exact(&mut header[1..]).await?;
        let header = FrameHeader::parse(&header)?;
        let mut body = vec![0u8; header.body_len()];
        reader.read_exact(&mut body).await?;
        let payload_len = header.open(&body)?.len();
        body.truncate(payload_len);
        Ok::<_, TransportError>(body)
    };
    let payload = tokio::time::timeout(deadlines.frame, rest).await.map_err(|_| TransportError::Timeout)??;
    Ok(Some(payload))
}

/// Frames `payload` with `padding` and writes it.
///
/// # Errors
/// [`TransportError::Protocol`] if it does not fit in a frame, [`TransportError::Io`].
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    payload: &[u8],
    padding: Padding,
) -> Result<usize, TransportError> {
    // A large frame's header, payload and padding are written in turn rather than
    // copied into one buffer, so that it costs no second megabyte while it waits to be
    // written; a small one goes out in one write (one TLS record, one packet).
    const ZEROS: [u8; 4096] = [0; 4096];
    const COPY_BELOW: usize = 16 * 1024;
    if padding.frame_len(payload.len()) <= COPY_BELOW {
        let frame = encode_frame(payload, padding)?;
        writer.write_all(&frame).await?;
        writer.flush().await?;
        return Ok(frame.len());
    }
    let (header, mut padding_len) = frame_parts(payload.len(), padding)?;
    writer.write_all(&header).await?;
    writer.write_all(payload).await?;
    let frame_len = header.len() + payload.len() + padding_len;
    while padding_len > 0 {
        let n = padding_len.min(ZEROS.len());
        writer.write_all(&ZEROS[..n]).await?;
        padding_len -= n;
    }
    writer.flush().await?;
    Ok(frame_len)
}
