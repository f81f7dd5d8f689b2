//! # huisclos-protocol — the wire between Huis Clos clients and the relay
//!
//! This crate defines every message a client and the relay exchange, their canonical
//! encoding, and the framing that carries them over a QUIC stream or a TCP+TLS stream.
//! It performs no I/O and depends on no runtime: the client engine (`huisclos-core`)
//! and the relay (`huisclos-relay`) both build on it, and neither depends on the other.
//! The normative text is `protocol-spec/` at the repository root; this crate and the
//! specification change together.
//!
//! ## Map
//! - [`codec`]: the canonical encoding (QUIC varints, bounded byte strings and lists).
//! - [`frame`]: versioned, length-prefixed, optionally padded frames.
//! - [`messages`]: requests, responses, push events and the relay's typed errors.
//! - [`ids`]: typed identifiers and counters (`GroupId`, `DeviceId`, `Seq`, `Epoch`, …).
//! - [`access`]: epoch access tokens and the verifiers the relay stores.
//! - [`auth`]: the exact bytes a device signs to authenticate or to be linked.
//! - [`invitation`]: the operator's invitation (addresses, key pin, token).
//! - [`limits`]: every bound a peer's input is held to, by name.
//! - [`relay_key`]: the statement by which the relay's pinned key names its successor.
//!
//! ## Security properties
//! - Decoding is total: any byte string yields a value or a typed [`Error`], never a
//!   panic, and allocation is bounded by the input's length and the named limits.
//! - Every value has exactly one encoding (minimal varints, no optional fields without
//!   a presence byte, zero padding), so encodings can be compared and signed.
//! - Secrets carried on the wire ([`access::AccessToken`], [`access::InvitationToken`])
//!   are zeroized on drop, compared in constant time and redacted from `Debug`.
//! - Device authentication signs the connection's TLS exporter, so it cannot be
//!   replayed on another connection ([`auth`]).
//!
//! ## What it does not provide
//! Confidentiality and integrity of content come from MLS and from TLS, not from this
//! crate: the payloads it carries ([`messages::MlsMessageBytes`],
//! [`messages::ContentRecordBytes`], chunk pieces) are opaque here. It does not hide
//! *that* a message was sent, its timing, or its size class; see `SECURITY.md`.
#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod codec;
mod error;
pub mod frame;
pub mod ids;
pub mod invitation;
pub mod limits;
pub mod messages;
pub mod relay_key;

pub use error::Error;
