//! A space's life across several people, each with their own profile on disk, talking to
//! the real `huisclos-relay` binary over QUIC on loopback.

// Test helpers outside `#[test]` functions: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::engine::ClientEvent;
use huisclos_core::space::{HistoryMode, Policy, Role, SpaceDescription, SpaceName};
use huisclos_tests::process::{Person, RelayProcess, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_space_from_creation_to_removal() {
    let relay = RelayProcess::start();
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join(&relay, "Bob").await;
    let mut carol = Person::join(&relay, "Carol").await;
    let mut dave = Person::join(&relay, "Dave").await;
    // Bob works from his phone and his laptop.
    let mut laptop = Person::link(&relay, &mut bob, "Bob").await;
    assert_eq!(laptop.engine.identity(), bob.engine.identity());
    bob.sync().await;

    let space = alice
        .engine
        .create_space(
            SpaceName::new("Case 114").unwrap(),
            SpaceDescription::new("Detention hearings").unwrap(),
            Policy::Confidential,
            HistoryMode::Keep,
        )
        .unwrap();
    alice.engine.invite(&space, &bob.engine.contact_card().unwrap(), Role::Contributor).unwrap();
    alice.engine.invite(&space, &carol.engine.contact_card().unwrap(), Role::Contributor).unwrap();
    settle(&mut [&mut alice, &mut bob, &mut laptop, &mut carol]).await;
    for person in [&mut bob, &mut laptop, &mut carol] {
        assert!(
            person
                .events
                .iter()
                .any(|e| matches!(e, ClientEvent::Invited { space: s, by, .. } if *s == space && by == "Alice")),
            "invitation reached: {:?}",
            person.events
        );
        person.engine.accept_invitation(&space).unwrap();
    }
    assert_eq!(alice.engine.members(&space).unwrap().len(), 3);
    let bob_devices = alice.engine.members(&space).unwrap().into_iter().find(|m| m.name == "Bob").unwrap().devices;
    assert_eq!(bob_devices.len(), 2, "the invitation added both of Bob's devices");

    let post = alice.engine.post(&space, "Hearing moved to Thursday").unwrap();
    settle(&mut [&mut alice, &mut bob, &mut laptop, &mut carol]).await;
    bob.engine.comment(&space, &post, "I will attend").unwrap();
    laptop.engine.comment(&space, &post, "Sent from my laptop").unwrap();
    carol.engine.post(&space, "Witness statement ready").unwrap();
    settle(&mut [&mut alice, &mut bob, &mut laptop, &mut carol]).await;
    let expected_len = 4;
    for person in [&alice, &bob, &laptop, &carol] {
        let texts = person.texts(&space);
        assert_eq!(texts.len(), expected_len, "{texts:?} {:?}", person.events);
        assert!(texts.contains(&("Alice".into(), "Hearing moved to Thursday".into())));
        assert!(texts.contains(&("Bob".into(), "I will attend".into())));
        assert!(texts.contains(&("Bob".into(), "Sent from my laptop".into())));
        assert!(texts.contains(&("Carol".into(), "Witness statement ready".into())));
    }

    // The library: a folder, a note and a file from three people, seen by all four
    // devices; the file downloads byte for byte on Carol's.
    let evidence = alice.engine.create_folder(&space, None, "Evidence").unwrap();
    bob.engine.create_note(&space, None, "Minutes", "Hearing on Thursday at 9").unwrap();
    let work = tempfile::tempdir().unwrap();
    let statement: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(work.path().join("statement.pdf"), &statement).unwrap();
    let file = laptop
        .engine
        .put_file(&space, Some(evidence), "statement.pdf", None, &work.path().join("statement.pdf"))
        .unwrap();
    settle(&mut [&mut alice, &mut bob, &mut laptop, &mut carol]).await;
    let listing = alice.engine.library(&space).unwrap().listing();
    assert_eq!(listing, ["Evidence Folder v0", "Evidence/statement.pdf File v1", "Minutes Note v0"]);
    for person in [&bob, &laptop, &carol] {
        assert_eq!(person.engine.library(&space).unwrap().listing(), listing);
    }
    carol.engine.get_file(&space, &file, None, &work.path().join("copy.pdf")).unwrap();
    carol.sync().await;
    assert_eq!(std::fs::read(work.path().join("copy.pdf")).unwrap(), statement);

    // Dave joins later and reads the whole feed from the history store.
    alice.engine.invite(&space, &dave.engine.contact_card().unwrap(), Role::Reader).unwrap();
    settle(&mut [&mut alice, &mut dave, &mut bob, &mut laptop, &mut carol]).await;
    dave.engine.accept_invitation(&space).unwrap();
    assert_eq!(dave.texts(&space).len(), 4, "Dave reads history: {:?}", dave.events);
    assert_eq!(dave.engine.library(&space).unwrap().listing(), listing, "and the library");
    assert!(dave.engine.post(&space, "readers do not post").is_err());

    // Carol is removed; what follows is unreadable to her.
    alice.engine.remove(&space, &carol.engine.identity()).unwrap();
    settle(&mut [&mut alice, &mut bob, &mut laptop, &mut carol, &mut dave]).await;
    alice.engine.post(&space, "After Carol left").unwrap();
    settle(&mut [&mut alice, &mut bob, &mut laptop, &mut carol, &mut dave]).await;
    assert!(carol.events.contains(&ClientEvent::RemovedFromSpace(space)), "{:?}", carol.events);
    for person in [&alice, &bob, &laptop, &dave] {
        assert!(person.texts(&space).contains(&("Alice".into(), "After Carol left".into())));
        assert_eq!(person.engine.members(&space).unwrap().len(), 3);
    }
    assert!(!carol.texts(&space).iter().any(|(_, t)| t == "After Carol left"));

    // Bob, a contributor, runs a modified client that removes Dave: every other device
    // refuses the commit and says so.
    bob.engine.adversary().remove_unchecked(&space, &dave.engine.identity()).unwrap();
    settle(&mut [&mut bob, &mut alice, &mut laptop, &mut dave]).await;
    // Every other device refuses it, Bob's own laptop included.
    for person in [&alice, &dave, &laptop] {
        assert!(
            person.warnings().iter().any(|w| w.contains("Bob") && w.contains("refused")),
            "{:?}",
            person.warnings()
        );
        assert_eq!(person.engine.members(&space).unwrap().len(), 3, "Dave is still a member here");
    }
    // The all devices agree on the epoch before the forbidden commit.
    assert_eq!(alice.engine.epoch_authenticator(&space).unwrap(), dave.engine.epoch_authenticator(&space).unwrap());
}

/// A client pins the relay's key from its invitation: a relay with any other key (an
/// impostor with a certificate any authority would sign, or a relay whose key was
/// replaced) is refused on both transports before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_with_another_key_than_the_pinned_one_is_refused() {
    use huisclos_transport::client::{RelayClient, TransportKind};
    let relay = RelayProcess::start();
    let mut wrong = relay.pin.0;
    wrong[0] ^= 1;
    let wrong = huisclos_transport::tls::SpkiPin(wrong);
    for (kind, address) in [(TransportKind::Quic, relay.address), (TransportKind::Tcp, relay.tcp_address)] {
        assert!(RelayClient::connect(kind, address, wrong).await.is_err(), "{kind:?} with a wrong pin");
        assert!(RelayClient::connect(kind, address, relay.pin).await.is_ok(), "{kind:?} with its pin");
    }
    // An engine whose invitation carries another relay's pin never logs in.
    let invitation = relay.invite();
    let forged = huisclos_protocol::invitation::Invitation::new(
        invitation.addresses().to_vec(),
        wrong.0,
        invitation.token().clone(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let unlock = huisclos_core::vault::Unlock::Passphrase(huisclos_core::vault::Passphrase::new(
        "Nadia keeps the keys under the old bridge",
    ));
    let params = huisclos_core::vault::KdfParams::new(huisclos_core::vault::KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
    let vault = std::sync::Arc::new(huisclos_core::vault::Vault::create(dir.path(), &unlock, params).unwrap());
    let name = huisclos_core::identity::DisplayName::new("Nadia").unwrap();
    let mut engine = huisclos_core::engine::Engine::create(vault, name).unwrap();
    engine.join_relay(&forged).unwrap();
    let endpoint = engine.relay().unwrap().clone();
    let addresses = endpoint.resolve().unwrap();
    let opened = huisclos_core::client::Connection::open(&mut engine, &addresses, endpoint.spki_pin()).await;
    assert!(opened.is_err(), "the engine refuses a relay whose key is not the invitation's");
    assert!(engine.account().is_none());
}

/// Bob comes back after a night away to news in each of his five spaces: his device
/// reads every space's log and content store in one request (`FetchMany`), not two
/// requests a space, and shows every post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coming_back_reads_every_space_in_one_round_trip() {
    let relay = RelayProcess::start();
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join(&relay, "Bob").await;
    let mut spaces = Vec::new();
    for n in 0..5 {
        spaces.push(huisclos_tests::process::shared_space_named(&mut alice, &mut bob, &format!("Case {n}")).await);
    }
    settle(&mut [&mut alice, &mut bob]).await;

    // The night: Bob's phone is off; Alice posts in every space.
    bob.drop_connection();
    for (n, space) in spaces.iter().enumerate() {
        for k in 0..3 {
            alice.engine.post(space, &format!("News {k} in case {n}")).unwrap();
        }
    }
    alice.sync().await;

    let before = bob.engine.requests_sent();
    bob.sync().await;
    let mut asked = bob.engine.requests_sent();
    for (kind, count) in before {
        if let Some(now) = asked.get_mut(kind) {
            *now -= count;
        }
    }
    asked.retain(|_, count| *count > 0);
    for (n, space) in spaces.iter().enumerate() {
        let texts = bob.texts(space);
        for k in 0..3 {
            assert!(texts.contains(&("Alice".into(), format!("News {k} in case {n}"))), "{texts:?}");
        }
    }
    eprintln!("requests Bob sent coming back to 5 spaces: {asked:?}");
    assert_eq!(asked.get("FetchMany"), Some(&1), "every space read at once: {asked:?}");
    assert!(!asked.contains_key("FetchLog") && !asked.contains_key("FetchContent"), "{asked:?}");
    assert!(bob.warnings().is_empty(), "{:?}", bob.warnings());
}
