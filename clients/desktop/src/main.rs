//! `huisclos` — the desktop command-line client.
//!
//! **Not built yet.** The CLI (`init`, `join`, `space …`, `post`, `feed`, library and
//! device commands, `watch`) arrives with the desktop-client issue, on top of
//! `huisclos-core`. Until then this binary says so and exits with status 2, so that no
//! script mistakes it for a working client.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "huisclos: the desktop client is not built yet. \
         What works today is the wire protocol: see README.md."
    );
    ExitCode::from(2)
}
