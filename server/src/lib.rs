//! # huisclos-relay — the zero-knowledge relay
//!
//! **Not built yet.** This crate will hold, once the relay issue lands, the service the
//! NGO runs without being trusted with what it stores:
//!
//! - QUIC (quinn, TLS 1.3 via rustls, ALPN `huisclos/1`) and TCP+TLS listeners carrying
//!   the frames of [`huisclos_protocol`], with a self-generated key that clients pin;
//! - accounts created only from operator-issued invitation tokens, and device
//!   authentication bound to the TLS exporter of each connection;
//! - per-group append-only logs ordered first come first served with at most one commit
//!   per (group, epoch), key-package directory, Welcome inboxes, the durable content
//!   store and the content-addressed chunk store;
//! - storage behind a trait, with sled as the embedded default.
//!
//! It depends on `huisclos-protocol` only — never on the client engine. Today it exposes
//! nothing and ships no binary.
#![forbid(unsafe_code)]
