//! What the relay's files say about people: a person's name, identity key and
//! certificates must never reach them. Names travel inside MLS (encrypted), inside
//! cards handed from person to person, and in key packages and own-device notices
//! that the client seals before the relay sees them.
//!
//! The scenario touches every path by which a certificate could reach the relay: key
//! packages uploaded and claimed, a device linked (grant, ready notice, roster), a
//! device revoked (roster again), an invitation (claim, commit, Welcome), posts, a
//! request to join through a space card, a recovery from the words and a readmission;
//! then
//! every byte of the relay's store files is searched, deleted records included (sled
//! keeps old bytes in its files until it reuses them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::space::{HistoryMode, Policy, Role};
use huisclos_tests::scan::{contains, files};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

const ALICE: &str = "Amira Haddad-Lindqvist";
const BOB: &str = "Bruno Okafor-Meyer";
const CAROL: &str = "Clara Nyambura-Ortiz";

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

    // Carol asks to join an on-request space through its card, and is admitted.
    let open = huisclos_tests::sim::create_space(&mut alice, "Legal aid", Policy::OnRequest, HistoryMode::Keep);
    alice.drive(&relay).await;
    let mut carol = SimDevice::join(&relay, CAROL).await;
    let card = alice.engine_mut().space_card(&open).unwrap();
    carol.engine_mut().request_to_join(&card, "Referred by the bar association").unwrap();
    carol.drive(&relay).await;
    alice.sync(&relay).await;
    let carol_id = carol.engine().identity();
    alice.engine_mut().approve_request(&open, &carol_id, Role::Reader).unwrap();
    settle(&relay, &mut [&mut alice, &mut carol]).await;
    assert!(carol.engine().spaces().iter().any(|s| s.id == open), "{:?}", carol.events);

    // Bob loses his phone and recovers from his words on a new one; Alice readmits him.
    let words = bob.engine().recovery_words().unwrap();
    let old_bob = bob;
    let mut bob = SimDevice::recover(&relay, BOB, &words).await;
    alice.engine_mut().readmit(&space, &bob.engine().contact_card().unwrap()).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert!(bob.texts(&space).iter().any(|(who, _)| who == BOB), "the recovered Bob reads the space");

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for name in [ALICE, BOB, CAROL] {
        needles.push((format!("the name {name}"), name.as_bytes().to_vec()));
        // A name's distinctive half, in case the whole is split across records.
        let half = name.split('-').next().unwrap();
        needles.push((format!("part of the name {name}"), half.as_bytes().to_vec()));
    }
    for (who, device) in [("Alice", &alice), ("Bob", &bob), ("Bob before recovery", &old_bob), ("Carol", &carol)] {
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
