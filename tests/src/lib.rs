//! # huisclos-tests — the end-to-end and adversarial suite
//!
//! **Not built yet.** This crate will start the real `huisclos-relay` binary on loopback
//! and drive several client profiles through the whole life of a space, against a
//! malicious relay (a proxy or wrapped store that drops, replays, reorders, forks and
//! forges) and over a seeded userspace link emulator (delay, jitter, loss, bandwidth,
//! cut-off, UDP blocked). Until the relay and the client core exist it holds no tests;
//! the protocol crate's own tests live in `protocol/tests/`.
#![forbid(unsafe_code)]
