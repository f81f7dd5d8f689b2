//! # huisclos-ffi — the UniFFI surface of the client engine
//!
//! **Not built yet.** This crate will become a thin UniFFI layer (cdylib and staticlib)
//! over [`huisclos_core`] for the Android, iOS and desktop apps, and for the Python and
//! Kotlin suites that prove the bindings. It will hold conversions of types and errors
//! only, never business logic. Today it exposes nothing.
#![forbid(unsafe_code)]
