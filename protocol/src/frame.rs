//! Frames: how messages travel on a byte stream, the same over a QUIC stream and over
//! a TCP+TLS stream.
//!
//! ```text
//! +---------+----------------+-----------------+-------------------+----------------+
//! | version | padded_len u32 | payload_len u32 | payload           | zero padding   |
//! | 1 byte  | big-endian     | big-endian      | payload_len bytes | padded_len -   |
//! |         |                |                 |                   | payload_len    |
//! +---------+----------------+-----------------+-------------------+----------------+
//! ```
//!
//! The payload is one encoded message. A sender may pad a frame so that its whole
//! length is one of a few sizes ([`Padding::SizeClasses`]); TLS then hides the exact
//! length of what is said from a network observer. Receivers accept any amount of
//! padding up to [`MAX_FRAME_LEN`], and refuse padding that is not all zero so that
//! padding cannot become a covert channel.

use crate::Error;
use crate::codec::Wire;
use crate::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN, MIN_PADDED_FRAME_LEN, PROTOCOL_VERSION};

/// How a sender pads its frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding: the frame is exactly header and payload. For loopback and tests.
    None,
    /// Pad the whole frame to the next power of two from [`MIN_PADDED_FRAME_LEN`] to
    /// [`MAX_FRAME_LEN`]: 13 sizes, never more than twice the unpadded length.
    #[default]
    SizeClasses,
}

impl Padding {
    /// The whole frame length this padding gives a payload of `payload_len` bytes.
    pub fn frame_len(self, payload_len: usize) -> usize {
        let unpadded = FRAME_HEADER_LEN + payload_len;
        match self {
            Self::None => unpadded,
            Self::SizeClasses => unpadded.max(MIN_PADDED_FRAME_LEN).next_power_of_two(),
        }
    }
}

/// A frame's validated header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    padded_len: u32,
    payload_len: u32,
}

impl FrameHeader {
    /// Parses and checks a header: known version, total length within
    /// [`MAX_FRAME_LEN`], payload within the padded length.
    ///
    /// # Errors
    /// [`Error::UnsupportedVersion`], [`Error::TooLong`] or [`Error::Invalid`].
    pub fn parse(bytes: &[u8; FRAME_HEADER_LEN]) -> Result<Self, Error> {
        let [version, p0, p1, p2, p3, l0, l1, l2, l3] = *bytes;
        if version != PROTOCOL_VERSION {
            return Err(Error::UnsupportedVersion { version });
        }
        let padded_len = u32::from_be_bytes([p0, p1, p2, p3]);
        let payload_len = u32::from_be_bytes([l0, l1, l2, l3]);
        let total = FRAME_HEADER_LEN as u64 + u64::from(padded_len);
        if total > MAX_FRAME_LEN as u64 {
            return Err(Error::TooLong { what: "frame", len: total, max: MAX_FRAME_LEN as u64 });
        }
        if payload_len > padded_len {
            return Err(Error::Invalid { what: "frame payload length" });
        }
        Ok(Self { padded_len, payload_len })
    }

    /// How many bytes follow the header: payload and padding.
    pub fn body_len(&self) -> usize {
        self.padded_len as usize
    }

    /// How many of those are payload.
    pub fn payload_len(&self) -> usize {
        self.payload_len as usize
    }

    /// Checks a frame's body (exactly [`Self::body_len`] bytes) and returns its payload.
    ///
    /// # Errors
    /// [`Error::Invalid`] if `body` has the wrong length, [`Error::NonZeroPadding`].
    pub fn open<'a>(&self, body: &'a [u8]) -> Result<&'a [u8], Error> {
        if body.len() != self.body_len() {
            return Err(Error::Invalid { what: "frame body length" });
        }
        let (payload, padding) = body.split_at(self.payload_len());
        if padding.iter().any(|&byte| byte != 0) {
            return Err(Error::NonZeroPadding);
        }
        Ok(payload)
    }
}

/// The header of the frame that carries `payload` with `padding`, and how many zero
/// bytes of padding follow the payload: for writers that send the three parts without
/// copying the payload into one buffer.
///
/// # Errors
/// [`Error::TooLong`] if the frame would exceed [`MAX_FRAME_LEN`].
pub fn frame_parts(payload_len: usize, padding: Padding) -> Result<([u8; FRAME_HEADER_LEN], usize), Error> {
    let frame_len = padding.frame_len(payload_len);
    if frame_len > MAX_FRAME_LEN {
        return Err(Error::TooLong { what: "frame", len: frame_len as u64, max: MAX_FRAME_LEN as u64 });
    }
    let padded_len = frame_len - FRAME_HEADER_LEN;
    let mut header = [0u8; FRAME_HEADER_LEN];
    header[0] = PROTOCOL_VERSION;
    // Both lengths are below MAX_FRAME_LEN (1 MiB), so they fit in u32.
    header[1..5].copy_from_slice(&(padded_len as u32).to_be_bytes());
    header[5..9].copy_from_slice(&(payload_len as u32).to_be_bytes());
    Ok((header, padded_len - payload_len))
}

/// Frames an encoded payload.
///
/// # Errors
/// [`Error::TooLong`] if the frame would exceed [`MAX_FRAME_LEN`].
pub fn encode_frame(payload: &[u8], padding: Padding) -> Result<Vec<u8>, Error> {
    let (header, padding_len) = frame_parts(payload.len(), padding)?;
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + payload.len() + padding_len);
    frame.extend_from_slice(&header);
    frame.extend_from_slice(payload);
    frame.resize(frame.len() + padding_len, 0);
    Ok(frame)
}

/// Encodes `message` and frames it.
///
/// # Errors
/// [`Error::TooLong`] if the message does not fit in one frame.
pub fn encode_message<M: Wire>(message: &M, padding: Padding) -> Result<Vec<u8>, Error> {
    encode_frame(&message.to_wire(), padding)
}

/// Decodes one complete frame holding one message, and nothing else.
///
/// # Errors
/// Any header, padding or message error; [`Error::Truncated`] or
/// [`Error::TrailingBytes`] if `frame` is not exactly one frame.
pub fn decode_message<M: Wire>(frame: &[u8]) -> Result<M, Error> {
    let Some((header, body)) = frame.split_first_chunk::<FRAME_HEADER_LEN>() else {
        return Err(Error::Truncated { what: "frame header" });
    };
    let header = FrameHeader::parse(header)?;
    if body.len() < header.body_len() {
        return Err(Error::Truncated { what: "frame body" });
    }
    if body.len() > header.body_len() {
        return Err(Error::TrailingBytes { what: "frame", count: body.len() - header.body_len() });
    }
    M::from_wire(header.open(body)?)
}

/// A sans-IO frame reader for a byte stream: push bytes as they arrive, take payloads
/// out as frames complete.
///
/// A bad header is reported as soon as its nine bytes are in, before the body is
/// waited for, and the reader never holds more than two frames' worth of bytes.
#[derive(Debug, Default)]
pub struct FrameReader {
    buffer: Vec<u8>,
    /// The header of the frame being received, once parsed.
    pending: Option<FrameHeader>,
}

impl FrameReader {
    /// The most unread bytes the reader holds.
    pub const MAX_BUFFERED: usize = 2 * MAX_FRAME_LEN;

    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream.
    ///
    /// # Errors
    /// [`Error::TooLong`] if the caller pushes more than [`Self::MAX_BUFFERED`] bytes
    /// without taking frames out; the bytes are not added.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let buffered = self.buffer.len() + bytes.len();
        if buffered > Self::MAX_BUFFERED {
            return Err(Error::TooLong {
                what: "unread stream bytes",
                len: buffered as u64,
                max: Self::MAX_BUFFERED as u64,
            });
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// Takes the next complete frame's payload, if one is complete.
    ///
    /// # Errors
    /// A header or padding error. The stream is then unusable: after an error the
    /// connection must be closed, because frame boundaries are lost.
    pub fn next_payload(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let header = match self.pending {
            Some(header) => header,
            None => {
                let Some(bytes) = self.buffer.first_chunk::<FRAME_HEADER_LEN>() else {
                    return Ok(None);
                };
                let header = FrameHeader::parse(bytes)?;
                self.pending = Some(header);
                header
            }
        };
        let frame_len = FRAME_HEADER_LEN + header.body_len();
        if self.buffer.len() < frame_len {
            return Ok(None);
        }
        let payload = header.open(&self.buffer[FRAME_HEADER_LEN..frame_len])?.to_vec();
        self.buffer.drain(..frame_len);
        self.pending = None;
        Ok(Some(payload))
    }

    /// How many bytes are buffered and not yet returned.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_are_powers_of_two_within_bounds() {
        for payload_len in [0, 1, 100, 247, 248, 1000, 70_000, MAX_FRAME_LEN - FRAME_HEADER_LEN] {
            let len = Padding::SizeClasses.frame_len(payload_len);
            assert!(len.is_power_of_two());
            assert!(len >= FRAME_HEADER_LEN + payload_len);
            assert!((MIN_PADDED_FRAME_LEN..=MAX_FRAME_LEN).contains(&len));
        }
        let all_classes: std::collections::BTreeSet<usize> =
            (0..=MAX_FRAME_LEN - FRAME_HEADER_LEN).step_by(97).map(|n| Padding::SizeClasses.frame_len(n)).collect();
        assert_eq!(all_classes.len(), 13, "256 B to 1 MiB in powers of two");
        assert_eq!(Padding::SizeClasses.frame_len(247), 256);
        assert_eq!(Padding::SizeClasses.frame_len(248), 512);
    }

    #[test]
    fn oversized_payload_is_refused() {
        let payload = vec![0u8; MAX_FRAME_LEN - FRAME_HEADER_LEN + 1];
        assert!(matches!(encode_frame(&payload, Padding::None), Err(Error::TooLong { .. })));
        let fits = vec![0u8; MAX_FRAME_LEN - FRAME_HEADER_LEN];
        assert_eq!(encode_frame(&fits, Padding::SizeClasses).map(|f| f.len()), Ok(MAX_FRAME_LEN));
    }

    #[test]
    fn header_announcing_too_much_is_refused_before_the_body() {
        let mut reader = FrameReader::new();
        let mut header = vec![PROTOCOL_VERSION];
        header.extend_from_slice(&(MAX_FRAME_LEN as u32).to_be_bytes());
        header.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(reader.push(&header), Ok(()));
        assert!(matches!(reader.next_payload(), Err(Error::TooLong { what: "frame", .. })));
    }

    #[test]
    fn reader_reassembles_frames_split_anywhere() {
        let frames: Vec<Vec<u8>> = [b"one".as_slice(), b"", b"three"]
            .iter()
            .map(|p| encode_frame(p, Padding::SizeClasses))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        let stream: Vec<u8> = frames.concat();
        for split in 1..stream.len() {
            let mut reader = FrameReader::new();
            let mut payloads = Vec::new();
            for piece in stream.chunks(split) {
                assert_eq!(reader.push(piece), Ok(()));
                while let Ok(Some(payload)) = reader.next_payload() {
                    payloads.push(payload);
                }
            }
            assert_eq!(payloads, vec![b"one".to_vec(), Vec::new(), b"three".to_vec()]);
            assert_eq!(reader.buffered(), 0);
        }
    }

    #[test]
    fn nonzero_padding_is_refused() {
        let mut frame = encode_frame(b"hi", Padding::SizeClasses).unwrap_or_default();
        if let Some(last) = frame.last_mut() {
            *last = 1;
        }
        let header: [u8; FRAME_HEADER_LEN] = frame[..FRAME_HEADER_LEN].try_into().unwrap_or_default();
        let header = FrameHeader::parse(&header);
        assert_eq!(
            header.and_then(|h| h.open(&frame[FRAME_HEADER_LEN..]).map(<[u8]>::len)),
            Err(Error::NonZeroPadding)
        );
    }
}
