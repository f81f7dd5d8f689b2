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
//!   it over a real connection. The `huisclos` CLI's own tests (in `clients/cli`)
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
pub mod rng;
pub mod scan;
pub mod sim;

/// English prose in a value's `Debug` form: two lowercase words in a row, as in "the
/// relay refused", anywhere but in the quoted strings of fields that hold a person's or
/// a space's name (`name`, `by`, `from`: data the person typed). The core hands clients
/// typed values to translate; only the clients write sentences.
pub fn prose_in(debug: &str) -> Option<String> {
    let mut kept = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(open) = rest.find('"') {
        let (before, after) = rest.split_at(open);
        kept.push_str(before);
        // The closing quote, past escaped ones.
        let mut close = None;
        let mut escaped = false;
        for (at, c) in after.char_indices().skip(1) {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    close = Some(at);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(close) = close else {
            kept.push_str(after);
            rest = "";
            break;
        };
        let is_name = ["name: ", "by: ", "from: "].iter().any(|field| before.ends_with(field));
        kept.push(' ');
        if !is_name {
            kept.push_str(&after[1..close]);
        }
        kept.push(' ');
        rest = &after[close + 1..];
    }
    kept.push_str(rest);
    let words: Vec<&str> = kept.split(' ').collect();
    words.windows(2).find_map(|pair| {
        let word = |w: &str| w.len() >= 2 && w.chars().all(|c| c.is_ascii_lowercase());
        (word(pair[0]) && word(pair[1])).then(|| format!("{} {}", pair[0], pair[1]))
    })
}

/// Panics when `value` carries English prose (see [`prose_in`]): every event the
/// simulated and real-relay tests see goes through this.
///
/// # Panics
/// When it does.
pub fn assert_no_prose(value: &impl std::fmt::Debug) {
    let debug = format!("{value:?}");
    if let Some(prose) = prose_in(&debug) {
        panic!("prose ({prose:?}) below the clients: {debug}");
    }
}

#[cfg(test)]
mod tests {
    use super::prose_in;

    #[test]
    fn prose_is_found_everywhere_but_in_names() {
        assert_eq!(prose_in(r#"Rejected { space: None, reason: "a step failed" }"#).as_deref(), Some("step failed"));
        assert_eq!(prose_in("Rejected { space: None, reason: a step failed }").as_deref(), Some("step failed"));
        assert_eq!(prose_in("SecurityWarning { space: None, warning: LogEntriesSkipped { first: 1, last: 2 } }"), None);
        assert_eq!(prose_in(r#"Invited { space: G, name: "the \"quoted\" case", by: "Alice" }"#), None);
        assert_eq!(prose_in(r#"StalledBy { by: "dear mallory", fault: Mls }"#), None);
    }
}
