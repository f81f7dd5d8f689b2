//! # huisclos-tests — the end-to-end and adversarial suite
//!
//! Two ways to run the system, both with real parts:
//!
//! - `tests/spaces.rs` starts the real `huisclos-relay` binary and talks to it over QUIC
//!   on loopback, each person with a profile on disk.
//! - [`process`] starts the real `huisclos-relay` and `huisclos` binaries.
//! - [`sim`] calls the same relay service and sled store in-process, with no socket and
//!   a clock that moves only when the test moves it, so a test decides exactly which
//!   request reaches the relay when. That is how concurrent commits, lost answers and
//!   long absences are tested deterministically (`tests/engine.rs`).
//!
//! The malicious relay and the slow, lossy link emulator come with the end-to-end
//! issue; the protocol crate's own tests live in `protocol/tests/`.
#![forbid(unsafe_code)]

pub mod process;
pub mod sim;
