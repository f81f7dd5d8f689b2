//! # huisclos-transport — protocol frames over QUIC and TCP+TLS
//!
//! The I/O edge shared by the relay and the client engine: it moves the frames of
//! [`huisclos_protocol`] over a QUIC stream or a TLS 1.3 stream, with deadlines, and
//! nothing else. It holds no relay logic and no client logic, so that both
//! `huisclos-relay` and `huisclos-core` can use it without depending on each other.
//!
//! - [`tls`]: TLS 1.3-only configurations with ALPN `huisclos/1`; the client side pins
//!   the relay's key (SHA-256 of its SubjectPublicKeyInfo) instead of trusting any
//!   certificate authority; the TLS exporter that device authentication signs.
//! - [`framed`]: reading frames with an idle deadline and a per-frame deadline (against
//!   slow senders), the header checked before any body buffer is allocated.
//! - [`client`]: a pipelined request/response connection to a relay, with push events.
//!
//! ## Security properties
//! - A client connects only to the relay whose key the invitation pinned; SNI is not
//!   sent; TLS 1.2 and 0-RTT are refused.
//! - No read allocates more than `MAX_FRAME_LEN`, and no partial frame is waited on for
//!   longer than its deadline.
#![forbid(unsafe_code)]

pub mod client;
pub mod framed;
pub mod tls;

use huisclos_protocol::messages::RelayError;

/// QUIC's round-trip estimate before a connection has measured one, on both ends.
///
/// A first flight crosses a 2G link (64 kbit/s, 800 ms round trip) and is answered
/// after about 1.1 s: the handshake's packets each take 150 ms to send. quinn's
/// default estimate (333 ms, RFC 9002's) fires the first retransmission timer at 1 s,
/// before that answer, so every connection over such a link resent its first flight
/// for nothing, and the backoff it left doubled every later timer until the handshake
/// was confirmed. A lost handshake completion then cost over 10 s (the cold start's
/// slow seeds, `docs/benchmarks.md`). At 600 ms the first timer fires at 1.8 s; a fast
/// network pays the 0.8 s more only when the very first packet of a connection is lost.
pub const QUIC_INITIAL_RTT: std::time::Duration = std::time::Duration::from_millis(600);

/// What can go wrong moving frames.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The socket or stream failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS layer failed or was misconfigured.
    #[error("tls: {0}")]
    Tls(String),
    /// The QUIC layer failed.
    #[error("quic: {0}")]
    Quic(String),
    /// A certificate could not be parsed.
    #[error("certificate does not parse")]
    Certificate,
    /// The relay presented a key that is not pinned: another server, or a relay whose
    /// key was rotated while this client did not connect (it needs a new invitation).
    #[error("the relay presented a key that is not the pinned one")]
    KeyNotPinned,
    /// A frame or message broke the protocol.
    #[error("protocol: {0}")]
    Protocol(#[from] huisclos_protocol::Error),
    /// A deadline passed.
    #[error("timed out")]
    Timeout,
    /// The connection ended.
    #[error("connection closed")]
    Closed,
    /// The relay refused the request.
    #[error("relay refused: {0}")]
    Relay(RelayError),
    /// The relay answered with a response of the wrong kind.
    #[error("unexpected response from the relay")]
    UnexpectedResponse,
}
