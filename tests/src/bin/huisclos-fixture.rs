//! Writes a profile as the current release stores it, for the upgrade tests: a person
//! with a relay account, a contact, a space that keeps history (posts, a comment, a
//! reaction, an edit, a note in the library) and a space without history. The note
//! is written by both people, with a named version; Alice's updates were compacted
//! and the ones covered forgotten at the relay, and more of them, with a compaction
//! whose covered updates are still to be forgotten, wait in her outbox (typed
//! offline). Bob's profile and the relay's store are written beside hers, so that
//! the test can bring everyone back online with today's code.
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
use huisclos_tests::sim::{SimDevice, SimRelay, copy_dir, settle, space_with, type_at_end};

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
    let note = alice.engine_mut().create_note(&space, None, "Minutes", "Hearing on Thursday at 9").unwrap();
    alice.engine_mut().post(&quiet, "Meet at the usual place").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for word in 0..5 {
        type_at_end(bob.engine_mut(), &space, &note, &format!(" bob{word}"));
        bob.drive(&relay).await;
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    // More than a compaction's worth, online: compacted and forgotten.
    for word in 0..70 {
        type_at_end(alice.engine_mut(), &space, &note, &format!(" on{word}"));
        alice.drive(&relay).await;
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    alice.engine_mut().name_note_version(&space, &note, "Before the hearing").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.disconnect(&relay);
    bob.close();
    // One post and a compaction's worth of note updates wait in the outbox, as if
    // written offline.
    alice.disconnect(&relay);
    alice.engine_mut().post(&space, "Written offline: the court changed rooms").unwrap();
    for word in 0..70 {
        type_at_end(alice.engine_mut(), &space, &note, &format!(" off{word}"));
    }
    let alice_text = alice.engine().note_text(&space, &note).unwrap();
    alice.close();

    std::fs::create_dir_all(&out).unwrap();
    copy_dir(alice.profile_dir(), &out.join("alice"));
    std::fs::write(out.join("passphrase"), alice.passphrase()).unwrap();
    std::fs::write(out.join("note-alice.txt"), alice_text).unwrap();
    copy_dir(bob.profile_dir(), &out.join("bob"));
    std::fs::write(out.join("bob-passphrase"), bob.passphrase()).unwrap();
    relay.copy_store_to(&out.join("relay"));
    println!("wrote {}", out.display());
}
