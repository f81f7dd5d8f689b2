//! # huisclos-core — the client engine every Huis Clos client shares
//!
//! **Not built yet.** This crate will hold, once the client-core issues land:
//!
//! - identity: the person's Ed25519 identity key, per-device MLS signature keys and the
//!   device certificates that bind them, safety numbers and QR verification payloads;
//! - the encrypted local store (sled, every value sealed with XChaCha20-Poly1305 under a
//!   storage key from Argon2id or the platform keystore), which is also openmls's
//!   storage provider;
//! - spaces as MLS groups (RFC 9420, `openmls`) with policies, roles and history keys;
//! - content (posts, comments, reactions, library) and the sync engine: a sans-IO inner
//!   layer that takes frames, time and commands and returns frames and events, driven
//!   by a thin async layer over QUIC (falling back to TCP+TLS).
//!
//! It speaks to the relay only through the wire types of [`huisclos_protocol`], and it
//! must never depend on the relay crate. Today it exposes nothing.
#![forbid(unsafe_code)]
