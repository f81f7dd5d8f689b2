//! # huisclos-tests — the end-to-end and adversarial suite
//!
//! Two ways to run the system, both with real parts:
//!
//! - `tests/spaces.rs` starts the real `huisclos-relay` binary and talks to it over QUIC
//!   on loopback, each person with a profile on disk.
//! - [`fuzzing`] holds the fuzz targets' bodies, replayed over their corpora by the
//!   normal test suite.
//! - [`netem`] puts a slow, lossy link (user-space UDP and TCP proxies) between a
//!   client and the relay.
//! - [`process`] starts the real `huisclos-relay` binary; [`process::Person`] talks to
//!   it over a real connection. The `huisclos` CLI's own tests (in `clients/desktop`)
//!   use it too.
//! - [`sim`] calls the same relay service and sled store in-process, with no socket and
//!   a clock that moves only when the test moves it, so a test decides exactly which
//!   request reaches the relay when. That is how concurrent commits, lost answers and
//!   long absences are tested deterministically (`tests/engine.rs`).
//!
//! The protocol crate's own tests live in `protocol/tests/`; the relay's, against its
//! binary, in `server/tests/`.
#![forbid(unsafe_code)]

pub mod fuzzing;
pub mod netem;
pub mod process;
pub mod scan;
pub mod sim;
