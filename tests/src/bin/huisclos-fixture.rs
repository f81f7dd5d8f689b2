//! Writes a profile as the current release stores it, for the upgrade tests: a person
//! with a relay account, a contact, a space that keeps history (posts, a comment, a
//! reaction, an edit, a note in the library) and a space without history.
//!
//! ```sh
//! cargo run -p huisclos-tests --bin huisclos-fixture -- tests/fixtures/profile-<release>
//! ```
//!
//! The directory it writes is committed and never regenerated: a fixture is the bytes
//! an earlier release left on a person's disk, and `tests/tests/upgrade.rs` opens them
//! with today's code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::space::{HistoryMode, Role};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: huisclos-fixture <directory>"));
    assert!(!out.exists(), "{} exists: a fixture is written once", out.display());
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let quiet = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Reader)], HistoryMode::None).await;
    let post = alice.engine_mut().post(&space, "The hearing moved to Thursday").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let comment = bob.engine_mut().comment(&space, &post, "I will bring the witness statement").unwrap();
    bob.engine_mut().react(&space, &post, "👍", true).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().edit(&space, &comment, "I will bring both witness statements").unwrap();
    alice.engine_mut().create_note(&space, None, "Minutes", "Hearing on Thursday at 9").unwrap();
    alice.engine_mut().post(&quiet, "Meet at the usual place").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    // One post waits in the outbox, as if written offline.
    alice.disconnect(&relay);
    alice.engine_mut().post(&space, "Written offline: the court changed rooms").unwrap();
    alice.close();

    std::fs::create_dir_all(&out).unwrap();
    copy_dir(alice.profile_dir(), &out.join("alice"));
    std::fs::write(out.join("passphrase"), alice.passphrase()).unwrap();
    println!("wrote {}", out.display());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
