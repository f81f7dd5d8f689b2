//! The runtime the library owns: network work runs here, whatever executor the
//! foreign side's async functions use (Kotlin coroutines, Python asyncio, Swift
//! tasks). Two worker threads: a phone has few cores and the work is I/O.

use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::error::{HuisClosError, Result};

static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// The library's runtime, started on first use.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("huisclos")
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| HuisClosError::Internal { reason: format!("the runtime did not start: {error}") })
}
