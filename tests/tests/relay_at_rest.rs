//! What the relay's files say about people: a person's name, identity key and
//! certificates must never reach them. Names travel inside MLS (encrypted), inside
//! cards handed from person to person, and in key packages and own-device notices
//! that the client seals before the relay sees them.
//!
//! The scenario touches every path by which a certificate could reach the relay: key
//! packages uploaded and claimed, a device linked (grant, ready notice, roster), a
//! device revoked (roster again), an invitation (claim, commit, Welcome), posts; then
//! every byte of the relay's store files is searched, deleted records included (sled
//! keeps old bytes in its files until it reuses them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::space::{HistoryMode, Role};
use huisclos_tests::scan::{contains, files};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

const ALICE: &str = "Amira Haddad-Lindqvist";
const BOB: &str = "Bruno Okafor-Meyer";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relays_files_hold_no_name_no_identity_key_and_no_certificate() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, ALICE).await;
    let mut bob = SimDevice::join(&relay, BOB).await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let mut laptop = SimDevice::link(&relay, &mut alice, ALICE).await;
    settle(&relay, &mut [&mut alice, &mut laptop, &mut bob]).await;
    bob.engine_mut().post(&space, "Hearing moved to Thursday").unwrap();
    settle(&relay, &mut [&mut alice, &mut laptop, &mut bob]).await;
    assert!(laptop.texts(&space).iter().any(|(who, _)| who == BOB), "{:?}", laptop.events);
    assert!(bob.texts(&space).iter().any(|(who, _)| who == BOB));
    // Alice revokes her laptop: a new roster goes to her phone's other devices (none
    // left but itself) and into the space.
    let laptop_id = laptop.engine().device_id();
    alice.engine_mut().revoke_device(&laptop_id).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let members = bob.engine().members(&space).unwrap();
    let alice_entry = members.iter().find(|m| m.name == ALICE).expect("Bob sees Alice by name");
    assert_eq!(alice_entry.devices.len(), 1, "the laptop is gone");

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for name in [ALICE, BOB] {
        needles.push((format!("the name {name}"), name.as_bytes().to_vec()));
        // A name's distinctive half, in case the whole is split across records.
        let half = name.split('-').next().unwrap();
        needles.push((format!("part of the name {name}"), half.as_bytes().to_vec()));
    }
    for (who, device) in [("Alice", &alice), ("Bob", &bob)] {
        let identity = device.engine().identity();
        needles.push((format!("{who}'s identity key"), identity.as_bytes().to_vec()));
        let card = device.engine().contact_card().unwrap();
        for certificate in card.body.devices.iter() {
            needles.push((format!("{who}'s certificate signature"), certificate.signature.as_bytes().to_vec()));
        }
    }
    let stored = files(&relay.data_dir());
    let bytes: usize = stored.iter().map(|(_, b)| b.len()).sum();
    assert!(bytes > 64 * 1024, "the scan reads the store's files ({bytes} bytes)");
    let mut found = Vec::new();
    for (path, content) in &stored {
        for (what, needle) in &needles {
            if contains(content, needle) {
                found.push(format!("{what} in {}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "the relay's files name people:\n{}", found.join("\n"));
}
