//! Deterministic engine tests: the real relay handler and sled store in-process
//! ([`huisclos_tests::sim`]), real profiles on disk, real MLS; no socket and no wall
//! clock. Each test decides which request reaches the relay when.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::CoreError;
use huisclos_core::engine::{ClientEvent, ListUpdate};
use huisclos_core::lists::VectorDiff;
use huisclos_core::space::{HistoryMode, Policy, Role, SpaceDescription, SpaceName};
use huisclos_core::vault::{Passphrase, Unlock, Vault};
use huisclos_protocol::ids::GroupId;
use huisclos_protocol::messages::RequestBody;
use huisclos_tests::scan::{contains, files};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

fn create_space(device: &mut SimDevice, name: &str, history: HistoryMode) -> GroupId {
    huisclos_tests::sim::create_space(device, name, Policy::Confidential, history)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_that_commit_at_once_converge_without_help() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let mut dave = SimDevice::join(&relay, "Dave").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::SpaceManager)], HistoryMode::Keep).await;
    let epoch = alice.engine().spaces()[0].epoch;

    // Both space managers change the space on the same epoch: Alice invites Carol and
    // renames it, Bob invites Dave and describes it. Both commits are built before
    // either reaches the relay.
    alice.engine_mut().invite(&space, &carol.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    alice.engine_mut().rename(&space, SpaceName::new("Case 207 (appeal)").unwrap()).unwrap();
    bob.engine_mut().invite(&space, &dave.engine().contact_card().unwrap(), Role::Reader).unwrap();
    bob.engine_mut().describe(&space, SpaceDescription::new("Appeal filed 3 May").unwrap()).unwrap();
    alice.hold_commit(&relay).await;
    bob.hold_commit(&relay).await;
    assert!(alice.step(&relay).await, "Alice's commit is first");
    assert!(bob.step(&relay).await, "Bob's commit reaches the relay second, for the same epoch");

    // Nobody does anything but sync.
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol, &mut dave]).await;
    for device in [&mut carol, &mut dave] {
        device.engine_mut().accept_invitation(&space).unwrap();
    }

    let reference = alice.engine().epoch_authenticator(&space).unwrap();
    let summary = &alice.engine().spaces()[0];
    assert_eq!(summary.epoch, epoch + 4, "four commits, each on its own epoch");
    assert_eq!(summary.name, "Case 207 (appeal)");
    assert_eq!(summary.description, "Appeal filed 3 May", "Bob's change was rebuilt, not lost");
    for device in [&alice, &bob, &carol, &dave] {
        assert_eq!(device.engine().epoch_authenticator(&space).unwrap(), reference, "{} agrees", device.name);
        let members = device.engine().members(&space).unwrap();
        let mut names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Alice", "Bob", "Carol", "Dave"], "{} sees everyone", device.name);
        let spaces = device.engine().spaces();
        assert_eq!(
            (spaces[0].name.as_str(), spaces[0].description.as_str()),
            ("Case 207 (appeal)", "Appeal filed 3 May")
        );
        assert!(device.warnings().is_empty(), "{}: {:?}", device.name, device.warnings());
    }
    assert_eq!(dave.engine().spaces()[0].my_role, Role::Reader);

    // The space still works: a post from Carol reaches all.
    carol.engine_mut().post(&space, "Appeal hearing on the 12th").unwrap();
    settle(&relay, &mut [&mut carol, &mut alice, &mut bob, &mut dave]).await;
    for device in [&alice, &bob, &dave] {
        assert_eq!(device.texts(&space), [("Carol".to_owned(), "Appeal hearing on the 12th".to_owned())]);
    }
}

async fn catch_up_after(history: HistoryMode, count: usize) {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], history).await;

    bob.disconnect(&relay);
    for n in 0..count {
        alice.engine_mut().post(&space, &format!("dispatch {n:03}")).unwrap();
        alice.drive(&relay).await;
    }
    assert_eq!(alice.engine().outbox_len().unwrap(), 0);

    bob.restart(&relay);
    bob.connect(&relay);
    let (trips, before) = (bob.engine().round_trips(), bob.engine().requests_sent());
    bob.drive(&relay).await;
    let sent: Vec<(&str, u64)> = bob
        .engine()
        .requests_sent()
        .into_iter()
        .map(|(kind, n)| (kind, n - before.get(kind).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    eprintln!("{history:?}: {} round trips, {sent:?}", bob.engine().round_trips() - trips);
    if history == HistoryMode::Keep {
        // The content store spans several pages: after the first, each is asked for
        // with the log read that must come before it, in one round trip, not two.
        let count_of = |kind: &str| sent.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
        assert!(count_of("FetchMany") >= 2, "{sent:?}");
        assert!(
            count_of("FetchLog") <= 1 && count_of("FetchContent") <= 1,
            "pages read in one round trip each: {sent:?}"
        );
    }
    let texts = bob.texts(&space);
    assert_eq!(texts.len(), count, "{:?}", bob.rejections());
    for (n, (author, text)) in texts.iter().enumerate() {
        assert_eq!((author.as_str(), text.as_str()), ("Alice", format!("dispatch {n:03}").as_str()));
    }
    assert_eq!(bob.engine().spaces()[0].unread as usize, count);
    assert!(bob.rejections().is_empty() && bob.warnings().is_empty(), "{:?}", bob.events);
    assert_eq!(bob.engine().epoch_authenticator(&space).unwrap(), alice.engine().epoch_authenticator(&space).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_offline_for_500_posts_catches_up_from_the_history_store() {
    catch_up_after(HistoryMode::Keep, 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_offline_for_500_posts_catches_up_from_the_log_without_history() {
    catch_up_after(HistoryMode::None, 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_written_offline_is_delivered_after_a_restart_and_never_twice() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let quiet = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;

    // Offline: two posts and a comment in one space, a post in the other.
    alice.disconnect(&relay);
    let post = alice.engine_mut().post(&space, "Travel permit refused").unwrap();
    alice.engine_mut().comment(&space, &post, "Appeal within 10 days").unwrap();
    alice.engine_mut().post(&quiet, "Meet at the usual place").unwrap();
    alice.engine_mut().post(&space, "Second permit request filed").unwrap();
    assert_eq!(alice.engine().outbox_len().unwrap(), 4);
    // Each shows as waiting to be sent.
    let waiting = |device: &SimDevice, space: &GroupId| -> Vec<String> {
        device.engine().feed(space).unwrap().into_iter().filter(|i| i.waiting).map(|i| i.text).collect()
    };
    assert_eq!(waiting(&alice, &space).len(), 3);
    assert_eq!(waiting(&alice, &quiet), ["Meet at the usual place"]);

    // The app is closed and opened again; the outbox was on disk.
    alice.restart(&relay);
    assert_eq!(alice.engine().outbox_len().unwrap(), 4);
    assert_eq!(alice.texts(&space).len(), 3, "shown at once, before sending");
    assert_eq!(waiting(&alice, &space).len(), 3, "still marked waiting after the restart");
    let (feed, mut shown) = alice.engine_mut().observe_feed(&space, 10).unwrap();
    assert!(shown.iter().all(|i| i.waiting));

    // The first request after login reaches the relay, but its answer is lost.
    alice.connect(&relay);
    while !matches!(alice.hold(), Some(RequestBody::PutContent(_))) {
        assert!(alice.step(&relay).await);
    }
    alice.lose_answer(&relay).await;
    assert_eq!(alice.engine().outbox_len().unwrap(), 4, "not known to be delivered");

    // Reconnected, the engine sends it again; the relay already has it.
    alice.connect(&relay);
    alice.drive(&relay).await;
    assert_eq!(alice.engine().outbox_len().unwrap(), 0);
    let delivered = alice.events.iter().filter(|e| matches!(e, ClientEvent::Delivered(_))).count();
    assert_eq!(delivered, 4);
    // Delivered, the marks go: the observed feed hears one Set per item.
    assert!(waiting(&alice, &space).is_empty() && waiting(&alice, &quiet).is_empty());
    let mut sets = 0;
    while let Some(update) = alice.engine_mut().poll_list_update().unwrap() {
        if let ListUpdate::Feed { list, diffs } = update {
            assert_eq!(list, feed);
            for diff in diffs {
                sets += usize::from(matches!(diff, VectorDiff::Set { .. }));
                diff.apply(&mut shown).unwrap();
            }
        }
    }
    assert_eq!(sets, 3);
    assert_eq!(shown, alice.engine().feed_page(&space, None, 10).unwrap());
    // An edit written offline marks the item it changes, until it is sent.
    alice.disconnect(&relay);
    alice.engine_mut().edit(&space, &post, "Travel permit refused again").unwrap();
    assert_eq!(waiting(&alice, &space), ["Travel permit refused again"]);
    alice.connect(&relay);
    alice.drive(&relay).await;
    assert!(waiting(&alice, &space).is_empty());

    bob.sync(&relay).await;
    // The space list says when each space last had news: the time its newest arrival
    // was written, never later than the device's own clock (an author's clock is
    // theirs to set).
    for device in [&alice, &bob] {
        let newest = device.engine().feed(&space).unwrap().last().map(|i| i.created_at.min(device.clock()));
        let listed = device.engine().spaces().into_iter().find(|s| s.id == space).unwrap();
        assert!(newest.is_some() && listed.last_activity == newest, "{}: {listed:?} {newest:?}", device.name);
    }
    let texts: Vec<String> = bob.texts(&space).into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, ["Travel permit refused again", "Appeal within 10 days", "Second permit request filed"]);
    assert!(waiting(&bob, &space).is_empty(), "nothing of Alice's waits on Bob's device");
    assert_eq!(bob.texts(&quiet), [("Alice".to_owned(), "Meet at the usual place".to_owned())]);
    let comment = bob.engine().feed(&space).unwrap().into_iter().find(|i| i.text == "Appeal within 10 days").unwrap();
    assert_eq!(comment.parent, Some(post));
}

/// Every file under `dir`, recursively, with its bytes.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_holds_no_plaintext_and_no_key_and_opens_only_with_its_passphrase() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let quiet = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    let secret_text = "Witness Z. lives at 14 Rue des Oliviers";
    let post = alice.engine_mut().post(&space, secret_text).unwrap();
    alice.engine_mut().comment(&space, &post, "Move her before Friday").unwrap();
    alice.engine_mut().post(&quiet, "The second safe house is compromised").unwrap();
    // One item stays in the outbox, unsent.
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    alice.disconnect(&relay);
    alice.engine_mut().post(&space, "Unsent: the driver is Karim").unwrap();
    assert_eq!(bob.texts(&space).len(), 2);

    let needles: Vec<Vec<u8>> = [
        secret_text,
        "Witness Z.",
        "Rue des Oliviers",
        "Move her before Friday",
        "second safe house",
        "the driver is Karim",
        "Case 207",
        bob.passphrase(),
        alice.passphrase(),
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for device in [&alice, &bob] {
        let mut secrets: Vec<Vec<u8>> = device.engine().secrets_for_tests().iter().map(|s| s.to_vec()).collect();
        assert!(secrets.len() >= 6, "store keys, identity key, device keys, a history key");
        secrets.extend(needles.iter().cloned());
        let files = files(device.profile_dir());
        assert!(files.len() >= 2, "the profile has files");
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        assert!(total > 10_000, "the profile holds data ({total} bytes)");
        for (path, bytes) in &files {
            for secret in &secrets {
                assert!(!contains(bytes, secret), "{} holds a secret or plaintext", path.display());
            }
        }
    }
    // Nor does the relay's store.
    for (path, bytes) in files(&relay.data_dir()) {
        for needle in &needles[..7] {
            assert!(!contains(&bytes, needle), "relay file {} holds plaintext", path.display());
        }
    }

    // The profile opens only with its passphrase.
    alice.restart(&relay);
    let dir = alice.profile_dir().to_path_buf();
    let wrong = Unlock::Passphrase(Passphrase::new("Alice walks the long way home at dawn"));
    alice.close();
    assert!(matches!(Vault::open(&dir, &wrong), Err(CoreError::WrongPassphrase)));
    alice.reopen();
    let texts: Vec<String> = alice.texts(&space).into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, [secret_text, "Move her before Friday", "Unsent: the driver is Karim"]);
    assert_eq!(alice.engine().outbox_len().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_device_joins_every_space_of_its_person_and_reads_their_history() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let shared = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let own = create_space(&mut bob, "Bob's notes", HistoryMode::Keep);
    alice.engine_mut().post(&shared, "Detention review on Monday").unwrap();
    bob.engine_mut().post(&own, "Call the family first").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;

    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    assert_eq!(laptop.engine().identity(), bob.engine().identity());
    assert_eq!(laptop.engine().account(), bob.engine().account());
    assert_eq!(bob.engine().devices().len(), 2);
    assert_eq!(laptop.engine().devices().len(), 2);
    // Bob's phone reads the laptop's notice and adds it to both spaces.
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice]).await;

    let mut names: Vec<String> = laptop.engine().spaces().into_iter().map(|s| s.name).collect();
    names.sort_unstable();
    assert_eq!(names, ["Bob's notes", "Case 207"], "{:?}", laptop.events);
    assert!(laptop.events.contains(&ClientEvent::Joined(shared)), "no invitation to accept: {:?}", laptop.events);
    assert_eq!(laptop.texts(&shared), [("Alice".to_owned(), "Detention review on Monday".to_owned())]);
    assert_eq!(laptop.texts(&own), [("Bob".to_owned(), "Call the family first".to_owned())]);
    assert_eq!(laptop.engine().spaces().iter().find(|s| s.id == shared).unwrap().my_role, Role::Contributor);

    // Alice sees one Bob with two devices; what the laptop posts reaches everyone.
    let members = alice.engine().members(&shared).unwrap();
    let bob_entry = members.iter().find(|m| m.name == "Bob").unwrap();
    assert_eq!(bob_entry.devices.len(), 2);
    laptop.engine_mut().post(&shared, "Posted from the laptop").unwrap();
    settle(&relay, &mut [&mut laptop, &mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert!(device.texts(&shared).contains(&("Bob".to_owned(), "Posted from the laptop".to_owned())));
    }
    for device in [&alice, &bob, &laptop] {
        assert!(device.warnings().is_empty(), "{}: {:?}", device.name, device.warnings());
        assert_eq!(
            device.engine().epoch_authenticator(&shared).unwrap(),
            alice.engine().epoch_authenticator(&shared).unwrap()
        );
    }
    // Alice's contact card for Bob, taken now, lists both devices.
    assert_eq!(bob.engine().contact_card().unwrap().body.devices.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_leaves_takes_all_their_devices_and_reads_nothing_after() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut carol, Role::Contributor)],
        HistoryMode::Keep,
    )
    .await;
    settle(&relay, &mut [&mut laptop, &mut alice, &mut bob, &mut carol]).await;
    assert_eq!(laptop.engine().spaces().len(), 1, "the invitation reached Bob's laptop too");
    alice.engine_mut().post(&space, "Before Bob left").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut laptop, &mut carol]).await;

    // Alice, the only space manager, may not leave her space without naming another.
    assert!(matches!(alice.engine_mut().leave(&space), Err(CoreError::Forbidden(_))));

    // Bob leaves from his phone. His laptop follows; Alice and Carol commit the leaves
    // (whoever is first), with no one doing anything but sync.
    bob.engine_mut().leave(&space).unwrap();
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice, &mut carol]).await;
    for device in [&bob, &laptop] {
        assert!(device.events.contains(&ClientEvent::RemovedFromSpace(space)), "{:?}", device.events);
        assert!(device.engine().spaces()[0].removed);
    }
    for device in [&alice, &carol] {
        let names: Vec<String> = device.engine().members(&space).unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names.len(), 2, "{}: {names:?} {:?}", device.name, device.rejections());
        assert!(!names.contains(&"Bob".to_owned()));
        assert!(device.warnings().is_empty(), "{:?}", device.warnings());
    }
    assert_eq!(
        alice.engine().epoch_authenticator(&space).unwrap(),
        carol.engine().epoch_authenticator(&space).unwrap()
    );

    carol.engine_mut().post(&space, "After Bob left").unwrap();
    settle(&relay, &mut [&mut carol, &mut alice, &mut bob, &mut laptop]).await;
    assert!(alice.texts(&space).contains(&("Carol".to_owned(), "After Bob left".to_owned())));
    for device in [&bob, &laptop] {
        let texts = device.texts(&space);
        assert!(texts.contains(&("Alice".to_owned(), "Before Bob left".to_owned())));
        assert!(!texts.iter().any(|(_, t)| t == "After Bob left"), "{}: {texts:?}", device.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_relay_is_retried_with_growing_backoff_and_the_post_still_arrives() {
    use huisclos_protocol::messages::RelayError;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&space, "Sent through a struggling relay").unwrap();

    // The relay refuses again and again. Each time the engine waits longer, and sends
    // nothing while it waits.
    let mut delays = Vec::new();
    for _ in 0..12 {
        assert!(alice.refuse_next(RelayError::Internal), "the engine tries again once its wait is over");
        let retry_at = alice.engine().poll_timeout().expect("a retry is scheduled");
        let delay = retry_at - alice.clock();
        delays.push(delay);
        let just_before = retry_at - 1;
        assert!(alice.engine_mut().poll_request(just_before).is_none(), "nothing is sent before the retry time");
        alice.advance(delay);
    }
    assert!(delays.windows(2).all(|w| w[0] <= w[1]), "growing: {delays:?}");
    // The engine computed each delay one simulated second before the harness read it:
    // 2^i seconds, plus a per-device spread below 2^i.
    for (i, delay) in delays.iter().take(8).enumerate() {
        assert!((1u64 << i..2u64 << i).contains(&(delay + 1)), "exponential: {delays:?}");
    }
    assert!(*delays.last().unwrap() <= huisclos_core::engine::MAX_BACKOFF_SECS, "bounded: {delays:?}");

    // A rate limit's own delay is respected.
    assert!(alice.refuse_next(RelayError::RateLimited { retry_after_ms: 600_000 }));
    assert!(alice.engine().poll_timeout().unwrap() - alice.clock() >= 590);
    alice.advance(600);

    // The relay recovers: the post goes out once, and Bob reads it once.
    alice.drive(&relay).await;
    assert_eq!(alice.engine().outbox_len().unwrap(), 0);
    assert!(alice.engine().poll_timeout().is_none());
    assert!(alice.rejections().is_empty(), "transient refusals are not reported as refusals: {:?}", alice.rejections());
    bob.sync(&relay).await;
    assert_eq!(bob.texts(&space), [("Alice".to_owned(), "Sent through a struggling relay".to_owned())]);
}

fn space_of(device: &mut SimDevice, name: &str, policy: Policy) -> GroupId {
    device
        .engine_mut()
        .create_space(SpaceName::new(name).unwrap(), SpaceDescription::new("").unwrap(), policy, HistoryMode::Keep)
        .unwrap()
}

fn join_requests_seen(device: &SimDevice) -> Vec<(String, bool)> {
    device
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::JoinRequested { name, admitted, .. } => Some((name.clone(), *admitted)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_ask_to_join_and_are_admitted_by_a_manager_or_at_once_in_an_open_space() {
    use huisclos_core::join::SpaceCard;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let mut mallory = SimDevice::join(&relay, "Mallory").await;

    // An on-request space with some history. Its card travels as text.
    let space = space_of(&mut alice, "Legal aid network", Policy::OnRequest);
    alice.engine_mut().post(&space, "Read the intake guide first").unwrap();
    alice.drive(&relay).await;
    let card = SpaceCard::from_text(&alice.engine_mut().space_card(&space).unwrap().to_text()).unwrap();
    assert_eq!(card.body.name.as_str(), "Legal aid network");
    assert_eq!(alice.engine_mut().space_card(&space).unwrap().body.request_key, card.body.request_key, "one card");

    // Bob and Mallory ask. The relay carries the requests without reading them.
    bob.engine_mut().request_to_join(&card, "Lawyer in Beirut, referred by Dina").unwrap();
    bob.drive(&relay).await;
    mallory.engine_mut().request_to_join(&card, "Let me in").unwrap();
    mallory.drive(&relay).await;
    for (path, bytes) in files(&relay.data_dir()) {
        assert!(!contains(&bytes, b"referred by Dina"), "the note is readable in {}", path.display());
    }

    // Alice's device lists both, waiting for her; her app observes the list.
    let (requests, first) = alice.engine_mut().observe_join_requests(&space).unwrap();
    assert!(first.is_empty());
    let mut shown = first;
    let mut heard = Vec::new();
    let catch_up = |engine: &mut huisclos_core::engine::Engine, shown: &mut Vec<_>, heard: &mut Vec<&str>| {
        use huisclos_core::engine::ListUpdate;
        use huisclos_core::lists::VectorDiff;
        while let Some(update) = engine.poll_list_update().unwrap() {
            let ListUpdate::JoinRequests { list, diffs } = update else { panic!("only requests are observed") };
            assert_eq!(list, requests);
            for diff in diffs {
                heard.push(match &diff {
                    VectorDiff::Insert { .. } => "insert",
                    VectorDiff::Remove { .. } => "remove",
                    _ => "other",
                });
                diff.apply(shown).unwrap();
            }
        }
    };
    alice.sync(&relay).await;
    catch_up(alice.engine_mut(), &mut shown, &mut heard);
    assert_eq!(heard, ["insert", "insert"]);
    assert_eq!(shown, alice.engine().join_requests(&space).unwrap());
    assert_eq!(join_requests_seen(&alice), [("Bob".to_owned(), false), ("Mallory".to_owned(), false)]);
    let waiting = alice.engine().join_requests(&space).unwrap();
    assert_eq!(waiting.len(), 2);
    assert_eq!(waiting[0].name, "Bob");
    assert_eq!(waiting[0].note, "Lawyer in Beirut, referred by Dina");
    assert_eq!(waiting[0].devices, 1);
    let bob_id = bob.engine().identity();
    let mallory_id = mallory.engine().identity();

    // She admits Bob as a reader and declines Mallory.
    alice.engine_mut().approve_request(&space, &bob_id, Role::Reader).unwrap();
    alice.engine_mut().decline_request(&space, &mallory_id).unwrap();
    assert!(alice.engine().join_requests(&space).unwrap().is_empty());
    catch_up(alice.engine_mut(), &mut shown, &mut heard);
    assert_eq!(heard, ["insert", "insert", "remove", "remove"]);
    assert!(shown.is_empty(), "the list the app rebuilt is the engine's");
    alice.engine_mut().unobserve(requests);
    assert!(matches!(
        alice.engine_mut().approve_request(&space, &mallory_id, Role::Reader),
        Err(CoreError::NotFound(_))
    ));
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory]).await;

    // Bob is in, without an invitation to accept, reads the history, as a reader.
    assert!(bob.events.iter().any(|e| e == &ClientEvent::Joined(space)));
    assert!(!bob.events.iter().any(|e| matches!(e, ClientEvent::Invited { .. })));
    assert_eq!(bob.texts(&space), [("Alice".to_owned(), "Read the intake guide first".to_owned())]);
    assert_eq!(bob.engine().spaces()[0].my_role, Role::Reader);
    assert!(matches!(bob.engine_mut().space_card(&space), Err(CoreError::Forbidden(_))), "readers hand out no card");
    assert!(mallory.engine().spaces().is_empty());
    let members: Vec<String> = alice.engine().members(&space).unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&"Bob".to_owned()) && !members.contains(&"Mallory".to_owned()));
    // A second request from a member changes nothing.
    assert!(matches!(bob.engine_mut().request_to_join(&card, ""), Err(CoreError::Invalid(_))));

    // An open space admits whoever asks, with no one deciding.
    let open = space_of(&mut alice, "Newsroom", Policy::Open);
    alice.drive(&relay).await;
    let open_card = alice.engine_mut().space_card(&open).unwrap();
    carol.engine_mut().request_to_join(&open_card, "").unwrap();
    carol.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut carol]).await;
    assert!(join_requests_seen(&alice).contains(&("Carol".to_owned(), true)));
    assert!(carol.events.iter().any(|e| e == &ClientEvent::Joined(open)));
    carol.engine_mut().post(&open, "Hello from Carol").unwrap();
    settle(&relay, &mut [&mut carol, &mut alice]).await;
    assert_eq!(alice.texts(&open), [("Carol".to_owned(), "Hello from Carol".to_owned())]);

    // A confidential space hands out no card.
    let secret = space_of(&mut alice, "Witnesses", Policy::Confidential);
    assert!(matches!(alice.engine_mut().space_card(&secret), Err(CoreError::Forbidden(_))));
    for device in [&alice, &bob, &carol, &mallory] {
        assert!(device.warnings().is_empty(), "{}: {:?}", device.name, device.warnings());
        assert!(device.rejections().is_empty(), "{}: {:?}", device.name, device.rejections());
    }
}

/// A card in Bob's name, for Bob's account, under an identity key that is not his: what
/// an impostor (or a relay handing out cards) would produce.
fn impostor_card(real: &huisclos_core::identity::ContactCard) -> huisclos_core::identity::ContactCard {
    use huisclos_core::identity::{CertificateBody, ContactCard, DeviceCertificate, DeviceKeys, IdentityKey};
    let impostor = IdentityKey::generate();
    let keys = DeviceKeys::generate();
    let genuine = &real.body.devices.as_slice()[0].body;
    let body = CertificateBody {
        identity: impostor.public(),
        account: genuine.account,
        device: keys.device_id(),
        mls_key: keys.mls_public(),
        name: genuine.name.clone(),
        created_at: genuine.created_at,
    };
    let certificate = DeviceCertificate::issue(&impostor, body).unwrap();
    ContactCard::issue(&impostor, 1, vec![certificate], genuine.created_at, None).unwrap()
}

fn drain(device: &mut SimDevice) -> Vec<ClientEvent> {
    std::iter::from_fn(|| device.engine_mut().poll_event()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contacts_changed_identity_key_is_reported_and_refused_until_accepted() {
    use huisclos_core::identity::VerificationOutcome;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let bob_id = bob.engine().identity();
    let alice_id = alice.engine().identity();

    // Each knows the other from the space; Alice verifies Bob by scanning his code.
    let alice_contacts = alice.engine().contacts();
    assert_eq!(alice_contacts.len(), 1);
    assert_eq!((alice_contacts[0].name.as_str(), alice_contacts[0].identity), ("Bob", bob_id));
    assert!(!alice_contacts[0].verified);
    assert_eq!(bob.engine().contacts()[0].identity, alice_id);
    assert_eq!(alice.engine().safety_number(&bob_id), bob.engine().safety_number(&alice_id));
    let code = bob.engine().verification_code(&alice_id).to_bytes();
    assert_eq!(alice.engine_mut().check_scanned_code(&code, &bob_id).unwrap(), VerificationOutcome::Verified);
    assert!(alice.engine().contacts()[0].verified);

    // A card for Bob's account under another key is reported once and not used.
    let forged = impostor_card(&bob.engine().contact_card().unwrap());
    let second = create_space(&mut alice, "Case 208", HistoryMode::Keep);
    let refused = alice.engine_mut().invite(&second, &forged, Role::Contributor);
    assert!(matches!(&refused, Err(CoreError::IdentityChanged(name)) if name == "Bob"), "{refused:?}");
    let events = drain(&mut alice);
    assert_eq!(
        events,
        [ClientEvent::IdentityChanged {
            account: bob.engine().account().unwrap(),
            name: "Bob".into(),
            previous: bob_id,
            current: forged.body.identity,
            was_verified: true,
        }]
    );
    assert!(matches!(
        alice.engine_mut().invite(&second, &forged, Role::Contributor),
        Err(CoreError::IdentityChanged(_))
    ));
    assert!(drain(&mut alice).is_empty(), "reported once");
    assert_eq!(alice.engine().outbox_len().unwrap(), 1, "only the new space's creation is queued");

    // The real Bob is still trusted, and the change survives a restart undecided.
    alice.engine_mut().invite(&second, &bob.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    alice.disconnect(&relay);
    alice.close();
    alice.reopen();
    alice.connect(&relay);
    let contact = alice.engine().contacts().into_iter().next().unwrap();
    assert_eq!((contact.identity, contact.changed_to), (bob_id, Some(forged.body.identity)));
    assert!(matches!(alice.engine_mut().invite(&space, &forged, Role::Reader), Err(CoreError::IdentityChanged(_))));

    // Only the person's decision makes the new key Bob's, and then unverified.
    let accepted = alice.engine_mut().accept_identity_change(&contact.account).unwrap();
    assert_eq!((accepted.identity, accepted.verified), (forged.body.identity, false));
    alice.engine_mut().invite(&second, &forged, Role::Contributor).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_stalled_by_a_forbidden_commit_is_recreated_without_its_author() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut carol, Role::ContentManager)],
        HistoryMode::Keep,
    )
    .await;
    let mut laptop = SimDevice::link(&relay, &mut carol, "Carol").await;
    alice.engine_mut().post(&space, "Before the stall").unwrap();
    settle(&relay, &mut [&mut carol, &mut laptop, &mut alice, &mut bob]).await;
    assert_eq!(laptop.texts(&space), [("Alice".to_owned(), "Before the stall".to_owned())]);

    // Bob's modified client removes Carol, which his role does not allow. The relay
    // takes it as the epoch's commit; every honest device refuses it and stalls.
    let carol_id = carol.engine().identity();
    bob.engine_mut().adversary().remove_unchecked(&space, &carol_id).unwrap();
    bob.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut carol, &mut laptop]).await;
    for device in [&alice, &carol, &laptop] {
        assert!(device.engine().spaces()[0].stalled, "{} is stalled", device.name);
        assert_eq!(device.warnings().len(), 1, "{}: {:?}", device.name, device.warnings());
    }

    // Only a space manager recreates it.
    assert!(matches!(carol.engine_mut().recreate_space(&space), Err(CoreError::Forbidden(_))));
    let successor = alice.engine_mut().recreate_space(&space).unwrap();
    assert!(matches!(alice.engine_mut().recreate_space(&space), Err(CoreError::Invalid(_))), "once");
    settle(&relay, &mut [&mut alice, &mut carol, &mut laptop, &mut bob]).await;

    // Carol comes along with both devices and her role, without an invitation to
    // accept; Bob does not.
    for device in [&carol, &laptop] {
        let recreated = ClientEvent::Recreated { stalled: space, successor };
        assert!(device.events.contains(&recreated), "{}: {:?}", device.name, device.events);
        assert!(device.events.contains(&ClientEvent::Joined(successor)), "{}: {:?}", device.name, device.events);
        let invited = |e: &ClientEvent| matches!(e, ClientEvent::Invited { space: s, .. } if *s == successor);
        assert!(!device.events.iter().any(invited), "{}", device.name);
        let summary = device.engine().spaces().into_iter().find(|s| s.id == space).unwrap();
        assert_eq!(summary.replaced_by, Some(successor));
    }
    let members = alice.engine().members(&successor).unwrap();
    assert_eq!(members.len(), 2, "{members:?}");
    let carol_entry = members.iter().find(|m| m.identity == carol_id).unwrap();
    assert_eq!((carol_entry.devices.len(), carol_entry.role), (2, Role::ContentManager));
    assert!(bob.engine().spaces().iter().all(|s| s.id != successor));
    let names: Vec<String> = alice.engine().spaces().into_iter().map(|s| s.name).collect();
    assert_eq!(names.iter().filter(|n| *n == "Case 207").count(), 2, "same name: {names:?}");

    // The space works again; the stalled feed stays readable.
    laptop.engine_mut().post(&successor, "Moved here after Bob's removal attempt").unwrap();
    settle(&relay, &mut [&mut laptop, &mut alice, &mut carol]).await;
    for device in [&alice, &carol] {
        assert_eq!(
            device.texts(&successor),
            [("Carol".to_owned(), "Moved here after Bob's removal attempt".to_owned())]
        );
        assert_eq!(device.texts(&space), [("Alice".to_owned(), "Before the stall".to_owned())]);
    }
    for device in [&alice, &carol, &laptop] {
        assert_eq!(device.warnings().len(), 1, "no new warning on {}: {:?}", device.name, device.warnings());
        assert_eq!(
            device.engine().epoch_authenticator(&successor).unwrap(),
            alice.engine().epoch_authenticator(&successor).unwrap()
        );
    }
}

fn notifications(device: &SimDevice) -> Vec<(huisclos_core::engine::NotificationKind, String)> {
    device
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Notify { kind, from, .. } => Some((*kind, from.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_decided_on_the_device_for_news_replies_and_reactions_only() {
    use huisclos_core::engine::NotificationKind::{Post, Reaction, Reply};
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = create_space(&mut alice, "Case 207", HistoryMode::Keep);
    alice.engine_mut().post(&space, "Written before Bob joined").unwrap();
    alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    assert_eq!(bob.texts(&space).len(), 1);
    assert!(notifications(&bob).is_empty(), "history is not news: {:?}", notifications(&bob));

    let news = alice.engine_mut().post(&space, "Hearing moved to Thursday").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(notifications(&bob), [(Post, "Alice".to_owned())]);

    let reply = bob.engine_mut().comment(&space, &news, "I can attend").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    alice.engine_mut().react(&space, &reply, "👍", true).unwrap();
    alice.engine_mut().comment(&space, &news, "Bring the file").unwrap(); // under her own post
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(notifications(&alice), [(Reply, "Bob".to_owned())], "her own items never notify her");
    assert_eq!(notifications(&bob), [(Post, "Alice".to_owned()), (Reaction, "Alice".to_owned())]);

    // Muted: posts stay silent, an answer to Bob still reaches him.
    bob.engine_mut().set_muted(&space, true).unwrap();
    alice.engine_mut().post(&space, "Minutes of the meeting").unwrap();
    alice.engine_mut().comment(&space, &reply, "Thank you").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(
        notifications(&bob),
        [(Post, "Alice".to_owned()), (Reaction, "Alice".to_owned()), (Reply, "Alice".to_owned())]
    );
    let summary = &bob.engine().spaces()[0];
    assert!(summary.muted);
    assert_eq!(summary.unread, 6, "every item from others counts as unread, muted or not");
    bob.engine_mut().mark_read(&space).unwrap();
    assert_eq!(bob.engine().spaces()[0].unread, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_none_spaces_messages_expire_at_the_relay_and_a_returning_device_reads_on() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let ephemeral = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::None).await;
    let kept = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;

    // Bob is away while Alice writes in both spaces.
    bob.disconnect(&relay);
    alice.engine_mut().post(&ephemeral, "Said once, kept nowhere").unwrap();
    alice.engine_mut().post(&kept, "On the record").unwrap();
    alice.drive(&relay).await;

    // Nothing is deleted before the retention period (14 days by default) is over.
    assert_eq!(relay.sweep_expired_after_days(13), 0);
    assert_eq!(
        relay.sweep_expired_after_days(15),
        2,
        "the history-none space's messages: Alice's post, and Bob's roster she sent when she invited him"
    );
    alice.engine_mut().post(&ephemeral, "Said after the sweep").unwrap();
    alice.drive(&relay).await;

    // Bob comes back: the expired message is gone for good, the space goes on, and the
    // space with history lost nothing (its history keys travel in messages that stay).
    bob.connect(&relay);
    bob.sync(&relay).await;
    assert_eq!(bob.texts(&ephemeral), [("Alice".to_owned(), "Said after the sweep".to_owned())]);
    assert_eq!(bob.texts(&kept), [("Alice".to_owned(), "On the record".to_owned())]);
    assert!(bob.warnings().is_empty(), "{:?}", bob.warnings());
    assert!(bob.rejections().is_empty(), "{:?}", bob.rejections());
    bob.engine_mut().post(&ephemeral, "Back online").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert!(alice.texts(&ephemeral).contains(&("Bob".to_owned(), "Back online".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_person_can_be_invited_again() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&space, "Before").unwrap();
    let bob_id = bob.engine().identity();
    alice.engine_mut().remove(&space, &bob_id).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert!(bob.events.contains(&ClientEvent::RemovedFromSpace(space)));
    alice.engine_mut().post(&space, "While Bob was out").unwrap();

    alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Reader).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let summary = bob.engine().spaces().into_iter().find(|s| s.id == space).unwrap();
    assert!(!summary.removed, "{:?} {:?}", bob.rejections(), alice.rejections());
    assert_eq!(summary.my_role, Role::Reader);
    let texts: Vec<String> = bob.texts(&space).into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, ["Before", "While Bob was out"]);
    assert!(bob.rejections().is_empty(), "{:?}", bob.rejections());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_wipe_leaves_nothing_and_a_duress_passphrase_opens_a_decoy_made_beforehand() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&space, "Names of the witnesses").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(bob.texts(&space).len(), 1);

    // Alice's phone is about to be taken: she wipes it.
    let alice_dir = alice.profile_dir().to_path_buf();
    alice.panic_wipe(&relay);
    assert!(!alice_dir.exists(), "nothing is left of the profile directory");
    let unlock = Unlock::Passphrase(Passphrase::new(alice.passphrase()));
    assert!(matches!(Vault::open(&alice_dir, &unlock), Err(CoreError::NoProfile(_))));

    // Bob set a duress passphrase, with a decoy of his name and its own account, made
    // then; weeks later, forced to open his phone, he gives it.
    let secrets = bob.engine().secrets_for_tests();
    let identity = bob.engine().identity();
    let own = Unlock::Passphrase(Passphrase::new(bob.passphrase()));
    let invitation = relay.invitation().await;
    let name = bob.engine().name().clone();
    let set_at = bob.clock();
    let mut decoy = bob
        .engine()
        .set_duress_passphrase(&own, &Passphrase::new("I have nothing to hide"), &name, Some(&invitation))
        .unwrap();
    relay.drive_engine(&mut decoy, set_at).await;
    let decoy_account = decoy.account().expect("the decoy opened its own account when it was made");
    drop(decoy);
    bob.disconnect(&relay);
    bob.close();
    bob.open_with("I have nothing to hide");
    let decoy = bob.engine();
    assert_eq!(decoy.name().as_str(), "Bob", "it looks like his profile");
    assert_eq!(decoy.account(), Some(decoy_account), "with an account of its own");
    assert!(decoy.spaces().is_empty() && decoy.contacts().is_empty());
    assert_ne!(decoy.identity(), identity);
    let since = decoy.devices()[0].body.created_at.get();
    assert!(since <= set_at, "its age is its own: made when the duress passphrase was set");
    // Nothing of the real profile remains on disk, and its passphrase opens nothing.
    for (path, bytes) in files(bob.profile_dir()) {
        assert!(!contains(&bytes, b"Names of the witnesses"), "{}", path.display());
        for secret in &secrets {
            assert!(!contains(&bytes, secret), "{} holds a key of the real profile", path.display());
        }
    }
    bob.close();
    let real = Unlock::Passphrase(Passphrase::new(bob.passphrase()));
    assert!(matches!(Vault::open(bob.profile_dir(), &real), Err(CoreError::WrongPassphrase)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_leaves_every_space_and_is_refused_by_the_relay() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice]).await;
    let bob_in = |device: &SimDevice| {
        device.engine().members(&space).unwrap().into_iter().find(|m| m.name == "Bob").unwrap().devices.len()
    };
    assert_eq!(bob_in(&alice), 2);
    let epoch = alice.engine().spaces()[0].epoch;

    // The laptop is seized: Bob revokes it from his phone.
    let laptop_id = laptop.engine().device_id();
    let phone_id = bob.engine().device_id();
    assert!(matches!(bob.engine_mut().revoke_device(&phone_id), Err(CoreError::Invalid(_))));
    bob.engine_mut().revoke_device(&laptop_id).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert_eq!(bob_in(&alice), 1, "removed from the space");
    assert_eq!(bob.engine().devices().len(), 1);
    assert_eq!(bob.engine().contact_card().unwrap().body.devices.len(), 1, "no longer on his card");
    assert!(alice.engine().spaces()[0].epoch > epoch);

    // The relay no longer lets it in; nothing written after reaches it.
    alice.engine_mut().post(&space, "Written after the seizure").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    laptop.disconnect(&relay);
    laptop.connect(&relay);
    laptop.drive(&relay).await;
    assert!(!laptop.engine().is_online(), "refused at login");
    assert!(!laptop.texts(&space).iter().any(|(_, text)| text == "Written after the seizure"));
    assert!(bob.texts(&space).iter().any(|(_, text)| text == "Written after the seizure"));
    assert!(alice.warnings().is_empty() && bob.warnings().is_empty(), "{:?}", bob.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_renamed_on_one_device_and_moved_on_another_converges_everywhere() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut carol, Role::Reader)],
        HistoryMode::Keep,
    )
    .await;
    let evidence = alice.engine_mut().create_folder(&space, None, "Evidence").unwrap();
    let case = alice.engine_mut().create_folder(&space, None, "Case 207").unwrap();
    alice.engine_mut().create_note(&space, Some(evidence), "Chain of custody", "Received 3 May").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    assert_eq!(bob.engine().library(&space).unwrap().listing(), alice.engine().library(&space).unwrap().listing());

    // At the same time, offline from each other: Alice renames the folder, Bob moves it.
    alice.engine_mut().rename_node(&space, &evidence, "Evidence (sealed)").unwrap();
    bob.engine_mut().move_node(&space, &evidence, Some(case)).unwrap();
    assert!(
        matches!(bob.engine_mut().write_note(&space, &evidence, "not a note"), Err(CoreError::NotFound(_))),
        "a folder has no text to write"
    );
    bob.drive(&relay).await;
    alice.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;

    let expected = [
        "Case 207 Folder v0",
        "Case 207/Evidence (sealed) Folder v0",
        "Case 207/Evidence (sealed)/Chain of custody Note v0",
    ];
    for device in [&alice, &bob, &carol] {
        let library = device.engine().library(&space).unwrap();
        assert_eq!(library.listing(), expected, "{}", device.name);
        assert_eq!(library.note(&evidence), None, "a folder shows no note text");
    }
    // A reader's device refuses a reader's change, like every other device.
    assert!(matches!(carol.engine_mut().trash_node(&space, &case), Err(CoreError::Forbidden(_))));
    // Trash and restore travel too.
    bob.engine_mut().trash_node(&space, &case).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert_eq!(alice.engine().library(&space).unwrap().children(None).len(), 0);
    alice.engine_mut().restore_node(&space, &case).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(bob.engine().library(&space).unwrap().listing(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_cut_off_halfway_resumes_without_resending_and_arrives_byte_identical() {
    use huisclos_core::engine::ClientEvent;
    use huisclos_protocol::messages::RequestBody;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("statement.pdf");
    let content: Vec<u8> = (0..3 * huisclos_core::chunk::CHUNK_LEN + 12_345).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &content).unwrap();
    let sealed_len = (content.len() + 4 * huisclos_core::chunk::CHUNK_OVERHEAD) as u64;

    let node = alice.engine_mut().put_file(&space, None, "statement.pdf", None, &source).unwrap();
    // Upload until about half is at the relay, then the connection drops with the
    // last answer lost.
    let mut sent = 0u64;
    loop {
        match alice.hold() {
            Some(RequestBody::PutChunk(put)) => {
                sent += put.data.len() as u64;
                if sent > sealed_len / 2 {
                    alice.lose_answer(&relay).await;
                    break;
                }
                alice.step(&relay).await;
            }
            Some(_) => {
                alice.step(&relay).await;
            }
            None => panic!("the upload stopped early"),
        }
    }
    assert!(alice.engine().library(&space).unwrap().node(&node).is_none(), "not shown before it is all there");
    // Reconnected: it goes on from where the relay stopped.
    alice.connect(&relay);
    let mut resent = 0u64;
    while let Some(request) = alice.hold() {
        if let RequestBody::PutChunk(put) = request {
            resent += put.data.len() as u64;
        }
        alice.step(&relay).await;
    }
    assert_eq!(sent + resent, sealed_len, "nothing sent twice: {sent} + {resent}");
    assert_eq!(alice.engine().pending_transfers().unwrap(), (0, 0));
    let progress: Vec<(u64, u64)> = alice
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Transfer { done, total, .. } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows: {progress:?}");
    assert_eq!(progress.last(), Some(&(content.len() as u64, content.len() as u64)));

    // Bob sees it, downloads it, and has the same bytes.
    bob.sync(&relay).await;
    let file = bob.engine().library(&space).unwrap().node(&node).unwrap();
    assert_eq!((file.name.as_str(), file.length), ("statement.pdf", Some(content.len() as u64)));
    let dest = work.path().join("downloaded.pdf");
    bob.engine_mut().get_file(&space, &node, None, &dest).unwrap();
    bob.drive(&relay).await;
    assert_eq!(std::fs::read(&dest).unwrap(), content);
    assert!(!work.path().join("downloaded.pdf.part").exists());
    // The staging directory is empty again, and held only ciphertext.
    let staging = alice.profile_dir().join(huisclos_core::transfer::STAGING_DIR);
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
    for (path, bytes) in files(&relay.data_dir()) {
        assert!(!contains(&bytes, &content[..4096]), "plaintext at the relay in {}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_lost_every_device_recovers_from_the_words_and_is_readmitted() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut carol, Role::Reader)],
        HistoryMode::Keep,
    )
    .await;
    let post = alice.engine_mut().post(&space, "Witness list, before the raid").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    bob.engine_mut().comment(&space, &post, "Two more names, from Bob").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut carol]).await;
    let bob_identity = bob.engine().identity();
    let safety_number = alice.engine().safety_number(&bob_identity).to_string();
    let words = bob.engine().recovery_words().unwrap();

    // Bob's only phone is seized. From the words he wrote down, a new phone, with a new
    // invitation from the network: a new device and account, and a new identity key
    // (the seized phone holds the old one), which the old key signed over to.
    let seized = bob;
    let mut bob = SimDevice::recover(&relay, "Bob", &words).await;
    assert_ne!(bob.engine().identity(), bob_identity, "the identity key is replaced on recovery");
    assert_ne!(bob.engine().device_id(), seized.engine().device_id());
    assert!(bob.engine().spaces().is_empty(), "no space until re-admitted");

    // Only a space manager re-admits him, only with a card his identity key signed.
    let card = bob.engine().contact_card().unwrap();
    assert!(matches!(carol.engine_mut().readmit(&space, &card), Err(CoreError::Forbidden(_))));
    let stranger = SimDevice::join(&relay, "Mallory").await;
    assert!(matches!(
        alice.engine_mut().readmit(&space, &stranger.engine().contact_card().unwrap()),
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        alice.engine_mut().readmit(&space, &seized.engine().contact_card().unwrap()),
        Err(CoreError::Invalid(_))
    ));
    alice.engine_mut().readmit(&space, &card).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut carol]).await;

    // He is back with his role, on the new device only, and reads the history,
    // his own comment from the lost phone included.
    let members = alice.engine().members(&space).unwrap();
    assert!(!members.iter().any(|m| m.identity == bob_identity), "the old key is out");
    let bob_entry = members.iter().find(|m| m.identity == bob.engine().identity()).unwrap();
    assert_eq!((bob_entry.role, bob_entry.devices.clone()), (Role::Contributor, vec![bob.engine().device_id()]));
    // The change of key is shown, signed by the old key; the safety number is new, to
    // compare again.
    let rotated = alice.events.iter().any(|e| {
        matches!(e, ClientEvent::IdentityRotated { previous, current, .. }
            if *previous == bob_identity && *current == bob.engine().identity())
    });
    assert!(rotated, "{:?}", alice.events);
    assert_ne!(alice.engine().safety_number(&bob.engine().identity()).to_string(), safety_number);
    let texts: Vec<String> = bob.texts(&space).into_iter().map(|(_, text)| text).collect();
    assert!(texts.contains(&"Witness list, before the raid".to_owned()), "{texts:?}");
    assert!(texts.contains(&"Two more names, from Bob".to_owned()), "{texts:?}");
    assert_eq!(carol.engine().members(&space).unwrap().len(), 3);

    // He writes again; the seized phone reads nothing written after.
    bob.engine_mut().post(&space, "Back, on a new phone").unwrap();
    alice.engine_mut().post(&space, "Hearing moved to Monday").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut carol]).await;
    let mut seized = seized;
    settle(&relay, &mut [&mut seized]).await;
    assert!(alice.texts(&space).contains(&("Bob".to_owned(), "Back, on a new phone".to_owned())));
    assert!(carol.texts(&space).contains(&("Bob".to_owned(), "Back, on a new phone".to_owned())));
    let seized_texts: Vec<String> = seized.texts(&space).into_iter().map(|(_, text)| text).collect();
    assert!(!seized_texts.iter().any(|t| t == "Hearing moved to Monday" || t == "Back, on a new phone"));
    assert!(alice.warnings().is_empty() && carol.warnings().is_empty(), "{:?}", alice.warnings());
    assert!(bob.warnings().is_empty(), "{:?}", bob.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_to_a_full_inbox_waits_is_reported_and_arrives_once_there_is_room() {
    use huisclos_protocol::codec::BoundedVec;
    use huisclos_protocol::messages::{DepositWelcome, LimitKind, RelayError, WelcomeBytes};
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = create_space(&mut alice, "Case files", HistoryMode::Keep);
    alice.sync(&relay).await;
    // Strangers who learned Bob's device id fill his inbox: eight accounts, each as far
    // as the relay lets one account go.
    let deposit = |n: u8| DepositWelcome {
        recipients: BoundedVec::new(vec![bob.engine().device_id()]).unwrap(),
        welcome: WelcomeBytes::new(vec![n; 64]).unwrap(),
    };
    for _ in 0..8 {
        let stranger = relay.session().await;
        for n in 0..32 {
            relay.session_request(&stranger, deposit(n).into()).await.unwrap();
        }
        let refused = relay.session_request(&stranger, deposit(99).into()).await;
        assert_eq!(refused, Err(RelayError::LimitExceeded { limit: LimitKind::WelcomeInbox }));
    }
    alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    alice.sync(&relay).await;
    let waiting: Vec<&ClientEvent> =
        alice.events.iter().filter(|e| matches!(e, ClientEvent::DeliveryWaiting { .. })).collect();
    assert_eq!(waiting.len(), 1, "Alice is told the invitation waits: {:?}", alice.rejections());
    assert_eq!(alice.engine().outbox_len().unwrap(), 1, "and it is kept, not lost");
    // A restart loses nothing.
    alice.restart(&relay);
    assert_eq!(alice.engine().outbox_len().unwrap(), 1);
    alice.connect(&relay);
    // Bob comes online: his device reads (and drops) the junk, which frees the inbox.
    bob.sync(&relay).await;
    // Alice's device tries again on its own schedule (within minutes at first).
    alice.advance(120);
    alice.sync(&relay).await;
    assert_eq!(alice.engine().outbox_len().unwrap(), 0, "delivered once there was room: {:?}", alice.rejections());
    bob.sync(&relay).await;
    assert!(
        bob.events.iter().any(|e| matches!(e, ClientEvent::Invited { space: s, .. } if *s == space)),
        "Bob is invited: {:?}",
        bob.rejections()
    );
    bob.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert!(bob.engine().spaces().iter().any(|s| s.id == space && !s.removed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_read_in_pages_from_the_newest_is_the_whole_feed_reversed() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let space = create_space(&mut alice, "Case 207", HistoryMode::Keep);
    for n in 0..120 {
        alice.engine_mut().post(&space, &format!("note {n}")).unwrap();
    }
    alice.drive(&relay).await;
    let whole: Vec<String> = alice.engine().feed(&space).unwrap().into_iter().rev().map(|i| i.text).collect();
    assert_eq!(whole.len(), 120);
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = alice.engine().feed_page(&space, before, 50).unwrap();
        assert!(page.len() <= 50);
        let Some(last) = page.last() else { break };
        before = Some(last.position);
        paged.extend(page.into_iter().map(|i| i.text));
    }
    assert_eq!(paged, whole, "the pages, one after the other, are the feed from the newest");
    assert_eq!(paged[0], "note 119");
}

/// What a client shows of a refusal comes from typed values it translates: the errors
/// of everyday mistakes name their kind, and their `Debug` form holds no sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_errors_are_typed_and_carry_no_prose() {
    use huisclos_core::error::{Field, InvalidInput, Missing, Refusal, TextForm};
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Reader)], HistoryMode::Keep).await;
    // A space's operations go through its handle, looked up once.
    let mut handle = alice.engine_mut().space(&space).unwrap();
    let post = handle.post("The hearing moved").unwrap();
    assert_eq!(handle.item(&post).unwrap().unwrap().text, "The hearing moved");
    assert_eq!(handle.members().unwrap().len(), 2);
    let errors = [
        alice.engine_mut().space(&GroupId::from_bytes([9; 16])).unwrap_err(),
        bob.engine_mut().post(&GroupId::from_bytes([7; 16]), "hello").unwrap_err(),
        bob.engine_mut().post(&space, "a reader writes").unwrap_err(),
        alice.engine_mut().post(&space, &"x".repeat(1 << 20)).unwrap_err(),
        huisclos_core::identity::ContactCard::from_text("huisclos-contact:garbage").unwrap_err(),
        "boss".parse::<Role>().unwrap_err(),
        SpaceName::new("").unwrap_err(),
    ];
    assert!(matches!(errors[0], CoreError::NotFound(Missing::Space)), "{:?}", errors[0]);
    assert!(matches!(errors[1], CoreError::NotFound(Missing::Space)), "{:?}", errors[1]);
    assert!(matches!(errors[2], CoreError::Forbidden(Refusal::ReaderWrites)), "{:?}", errors[2]);
    assert!(matches!(errors[3], CoreError::Invalid(InvalidInput::Text { field: Field::Text, .. })), "{:?}", errors[3]);
    assert!(
        matches!(errors[4], CoreError::Invalid(InvalidInput::NotText(TextForm::ContactCard)) | CoreError::Decode(_)),
        "{:?}",
        errors[4]
    );
    assert!(matches!(errors[5], CoreError::Invalid(InvalidInput::UnknownRole)), "{:?}", errors[5]);
    assert!(matches!(errors[6], CoreError::Invalid(InvalidInput::Text { field: Field::SpaceName, .. })));
    for error in &errors {
        huisclos_tests::assert_no_prose(error);
        assert!(!error.to_string().is_empty(), "the default rendering the CLI shows");
    }
}

/// A file is sealed without the engine (an app seals a large file while its other
/// commands go on), then queued; a reader's sealed file is refused when queued and
/// its sealed chunks are removed from the staging directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sealed_outside_the_engine_is_queued_or_discarded() {
    use huisclos_core::transfer::{STAGING_DIR, seal_for_upload};
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Reader)], HistoryMode::Keep).await;
    let staged =
        |device: &SimDevice| std::fs::read_dir(device.profile_dir().join(STAGING_DIR)).map_or(0, |d| d.count());
    let text = vec![7u8; 300_000];

    let sealed = seal_for_upload(alice.profile_dir(), text.as_slice(), text.len() as u64).unwrap();
    assert!(staged(&alice) >= 1, "the chunks are sealed into the staging directory");
    let node = alice.engine_mut().space(&space).unwrap().queue_upload(None, "affidavit.pdf", None, sealed).unwrap();
    assert_eq!(alice.engine().pending_transfers().unwrap(), (1, 0));
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let library = bob.engine().library(&space).unwrap();
    assert_eq!(library.versions(&node).len(), 1, "the file sealed outside the engine reached Bob's library");

    assert!(matches!(
        bob.engine_mut().space(&space).unwrap().check_upload("notes.txt"),
        Err(CoreError::Forbidden(huisclos_core::error::Refusal::ReaderWrites))
    ));
    let sealed = seal_for_upload(bob.profile_dir(), text.as_slice(), text.len() as u64).unwrap();
    assert!(staged(&bob) >= 1);
    let refused = bob.engine_mut().space(&space).unwrap().queue_upload(None, "notes.txt", None, sealed);
    assert!(matches!(refused, Err(CoreError::Forbidden(_))), "{refused:?}");
    assert_eq!(staged(&bob), 0, "a refused upload leaves no sealed chunk behind");
    assert_eq!(bob.engine().pending_transfers().unwrap(), (0, 0));

    // Sealed and never queued (the profile locked meanwhile, the space gone): dropping
    // it removes its chunks; a file that ends early leaves none.
    let before = staged(&alice);
    let sealed = seal_for_upload(alice.profile_dir(), text.as_slice(), text.len() as u64).unwrap();
    assert!(staged(&alice) > before);
    drop(sealed);
    assert_eq!(staged(&alice), before, "a sealed file dropped unqueued leaves no chunk");
    let short = seal_for_upload(alice.profile_dir(), &text[..1000], text.len() as u64);
    assert!(matches!(short, Err(CoreError::Io(_))), "{short:?}");
    assert_eq!(staged(&alice), before, "a file that ended early leaves no chunk");
    // A wiped profile is not brought back as a directory of chunks.
    let gone = tempfile::tempdir().unwrap().path().join("wiped");
    assert!(seal_for_upload(&gone, text.as_slice(), text.len() as u64).is_err());
    assert!(!gone.exists());
}

/// A damaged profile says which record is damaged and how, as codes a support person
/// can read whatever the language, never as a sentence.
#[test]
fn a_damaged_profile_names_the_record_and_how_as_codes() {
    use huisclos_core::{Damage, DamageKind, StoredRecord};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("store")).unwrap();
    // A header file that is no header: too short to hold one.
    std::fs::write(dir.path().join("profile.key"), b"huisclos").unwrap();
    let error = huisclos_core::engine::Engine::open(dir.path(), &Unlock::Passphrase(Passphrase::new("x"))).unwrap_err();
    let CoreError::CorruptProfile(damage) = error else { panic!("{error:?}") };
    assert_eq!(damage.record, StoredRecord::Header);
    assert_eq!(
        damage.to_string(),
        format!(
            "header/{}",
            if damage.how == DamageKind::DoesNotDecode { "does-not-decode" } else { "unknown-version" }
        )
    );
    huisclos_tests::assert_no_prose(&CoreError::CorruptProfile(damage));
    let code = Damage::new(StoredRecord::Space, DamageKind::UnknownVersion).to_string();
    assert_eq!(code, "space-record/unknown-version");
}

/// Steps `inviter` through an invitation it queued (the commit, the Welcome) and stops
/// before the history grant it owes the new member: that grant is held back.
async fn send_up_to_the_history_grant(inviter: &mut SimDevice, relay: &SimRelay) {
    let mut welcomed = false;
    loop {
        match inviter.hold() {
            Some(RequestBody::AppendMessage(_)) if welcomed => return,
            Some(RequestBody::DepositWelcome(_)) => welcomed = true,
            Some(_) => {}
            None => panic!("{} sent no grant after the Welcome", inviter.name),
        }
        inviter.step(relay).await;
    }
}

/// A post written while the joiner still waits for its history grant leaves as soon as
/// the grant is taken. Here Alice's grant reaches the log only after Bob, just joined,
/// has read the log once; Bob posts, his outbox finds no key yet, then the grant comes.
/// Before, nothing sent the outbox again until the next connection or command, and
/// the post waited (this is what made `sync_service` fail now and then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_written_before_the_history_grant_leaves_when_the_grant_comes() {
    use huisclos_tests::sim::create_space;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = create_space(&mut alice, "Case 207", Policy::Confidential, HistoryMode::Keep);
    alice.drive(&relay).await;
    alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    // Alice commits and leaves the Welcome; the grant she owes Bob is held back.
    send_up_to_the_history_grant(&mut alice, &relay).await;
    // Bob takes the Welcome and reads the space's log once; only then does the grant
    // reach the log.
    while !bob.events.iter().any(|e| matches!(e, ClientEvent::Invited { .. })) {
        assert!(bob.step(&relay).await, "Bob's Welcome arrives");
    }
    loop {
        let reads = matches!(bob.hold(), Some(RequestBody::FetchLog(_)));
        assert!(bob.step(&relay).await, "Bob reads the space's log");
        if reads {
            break;
        }
    }
    alice.drive(&relay).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    bob.engine_mut().post(&space, "I will be there").unwrap();
    bob.drive(&relay).await;
    assert_eq!(bob.engine().outbox_len().unwrap(), 0, "Bob's post left once he held the key");
    alice.sync(&relay).await;
    assert!(alice.texts(&space).iter().any(|(_, text)| text == "I will be there"));
}

/// A watching device hears a space's new posts after the space's epoch moved. The relay
/// ends every subscription of an epoch when a commit closes it (it is told of that
/// commit first), so a device that commits (here Alice, adding Bob) or reads another's
/// commit must subscribe again at the new epoch, and read what came in between. Before,
/// nothing subscribed again: after any change of members, a watching app heard nothing
/// more of that space until it reconnected.
#[tokio::test]
async fn a_watching_device_hears_new_posts_after_the_epoch_moved() {
    use huisclos_tests::sim::create_space;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let space = create_space(&mut alice, "Case 207", Policy::Confidential, HistoryMode::Keep);
    alice.drive(&relay).await;
    // Alice adds Bob: her commit closes the epoch she subscribed at.
    alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    alice.drive(&relay).await;
    bob.sync(&relay).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    bob.engine_mut().post(&space, "The hearing moved to Thursday").unwrap();
    bob.drive(&relay).await;
    // Alice is only driven: she learns of the post by the relay's push, or not at all.
    alice.drive(&relay).await;
    assert!(
        alice.texts(&space).iter().any(|(_, text)| text == "The hearing moved to Thursday"),
        "Alice, watching, heard Bob's post after her own commit"
    );
    // Bob adds Carol (he may not: a contributor in a confidential space) — so Alice
    // does, and Bob, who reads her commit, must subscribe again too.
    alice.engine_mut().invite(&space, &carol.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    alice.drive(&relay).await;
    bob.drive(&relay).await;
    carol.sync(&relay).await;
    carol.engine_mut().accept_invitation(&space).unwrap();
    carol.engine_mut().post(&space, "I have the file").unwrap();
    carol.drive(&relay).await;
    bob.drive(&relay).await;
    alice.drive(&relay).await;
    for (who, device) in [("Alice", &alice), ("Bob", &bob)] {
        assert!(
            device.texts(&space).iter().any(|(_, text)| text == "I have the file"),
            "{who}, watching, heard Carol's post after another's commit"
        );
    }
}

/// Everything `device` sends on a new connection before any answer comes, as over a
/// real connection: the sign-in and what goes behind it.
fn sent_before_any_answer(device: &mut SimDevice, now: u64) -> Vec<(huisclos_protocol::ids::RequestId, RequestBody)> {
    std::iter::from_fn(|| device.engine_mut().poll_request(now)).collect()
}

/// Feeds `device`'s engine the relay's answer to `body`, sent under the engine's `id`.
async fn answer_as_relay(
    device: &mut SimDevice,
    relay: &SimRelay,
    id: huisclos_protocol::ids::RequestId,
    body: RequestBody,
) {
    let answer = device.send_raw(relay, body).await;
    let now = device.clock();
    device.engine_mut().handle_response(id, answer, now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_carries_the_first_reads_with_it_and_a_relay_without_sign_in_still_signs_the_device_in() {
    use huisclos_protocol::messages::RelayError;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let shared = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    create_space(&mut alice, "Notes", HistoryMode::Keep);
    alice.drive(&relay).await;
    alice.disconnect(&relay);
    bob.engine_mut().post(&shared, "The hearing moved to Monday").unwrap();
    bob.drive(&relay).await;

    // Coming back: the sign-in, the subscription, the reads of both spaces, the inbox
    // and the key packages' count go out back to back, before any answer, in one round
    // trip; and only once.
    alice.connect(&relay);
    let (trips, now, before) = (alice.engine().round_trips(), alice.clock(), alice.engine().requests_sent());
    let sent = sent_before_any_answer(&mut alice, now);
    let names: Vec<&str> = sent.iter().map(|(_, body)| body.name()).collect();
    assert_eq!(names, ["SignIn", "Subscribe", "FetchMany", "FetchWelcomes", "GetKeyPackageStatus"]);
    assert_eq!(alice.engine().round_trips() - trips, 1);
    for (id, body) in sent {
        answer_as_relay(&mut alice, &relay, id, body).await;
    }
    assert!(alice.engine().is_online());
    assert!(
        alice.texts(&shared).contains(&("Bob".into(), "The hearing moved to Monday".into())),
        "the news is shown once they are answered"
    );
    alice.drive(&relay).await;
    assert!(alice.rejections().is_empty(), "{:?}", alice.rejections());
    let after = alice.engine().requests_sent();
    for kind in ["SignIn", "Subscribe", "FetchMany", "FetchWelcomes", "GetKeyPackageStatus"] {
        assert_eq!(after[kind] - before.get(kind).copied().unwrap_or(0), 1, "{kind} sent once");
    }

    // A relay that allows fewer requests in flight refuses the reads sent behind the
    // sign-in: they are asked again once the answers are in.
    alice.disconnect(&relay);
    bob.engine_mut().post(&shared, "The judge asked for the affidavit").unwrap();
    bob.drive(&relay).await;
    alice.connect(&relay);
    let (now, before) = (alice.clock(), alice.engine().requests_sent());
    let sent = sent_before_any_answer(&mut alice, now);
    let too_many = RelayError::LimitExceeded { limit: huisclos_protocol::messages::LimitKind::InFlight };
    for (id, body) in sent {
        if ["FetchMany", "FetchWelcomes", "GetKeyPackageStatus"].contains(&body.name()) {
            alice.engine_mut().handle_response(id, Err(too_many.clone()), now);
        } else {
            answer_as_relay(&mut alice, &relay, id, body).await;
        }
    }
    alice.drive(&relay).await;
    assert!(alice.texts(&shared).contains(&("Bob".into(), "The judge asked for the affidavit".into())));
    for kind in ["FetchMany", "FetchWelcomes", "GetKeyPackageStatus"] {
        assert_eq!(alice.engine().requests_sent()[kind] - before[kind], 2, "the refused {kind} asked again");
    }
    assert!(alice.rejections().is_empty(), "{:?}", alice.rejections());

    // A relay of a release before `SignIn` refuses it, and the requests behind it (not
    // signed in): those answers are dropped, the device signs in with a challenge and
    // reads again, and on its next connections it signs in before reading.
    alice.disconnect(&relay);
    bob.engine_mut().post(&shared, "Bring the witness list").unwrap();
    bob.drive(&relay).await;
    alice.connect(&relay);
    let now = alice.clock();
    let before = alice.engine().requests_sent();
    let sent = sent_before_any_answer(&mut alice, now);
    assert_eq!(sent.len(), 5);
    for (n, (id, _)) in sent.into_iter().enumerate() {
        let refusal = if n == 0 { RelayError::BadRequest } else { RelayError::AuthRequired };
        alice.engine_mut().handle_response(id, Err(refusal), now);
    }
    assert!(!alice.engine().is_online());
    assert!(matches!(alice.hold(), Some(RequestBody::GetChallenge(_))), "signed in the old way");
    alice.drive(&relay).await;
    assert!(alice.engine().is_online());
    assert!(alice.texts(&shared).contains(&("Bob".into(), "Bring the witness list".into())));
    let after = alice.engine().requests_sent();
    for kind in ["Subscribe", "FetchMany", "FetchWelcomes", "GetKeyPackageStatus"] {
        assert_eq!(after[kind] - before[kind], 2, "{kind} sent again once signed in");
    }
    assert!(alice.rejections().is_empty(), "the refusals of what went behind the sign-in are not errors");
    alice.disconnect(&relay);
    alice.connect(&relay);
    let now = alice.clock();
    assert!(matches!(alice.engine_mut().poll_request(now), Some((_, RequestBody::SignIn(_)))));
    assert!(alice.engine_mut().poll_request(now).is_none(), "nothing behind the sign-in after an old relay");
}

/// Behind a sign-in, several answers each continue with a request of their own: a lone
/// space's content store after its log, the acknowledgement of the inbox's Welcome,
/// and an upload of the key package that Welcome used. All go out, once each: a second
/// one overwrote the first (the upload took the acknowledgement's place, the Welcome
/// stayed at the relay and was read again, its key package spent), found by review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_that_continues_an_answer_behind_the_sign_in_goes_out() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let shared = space_with(&relay, &mut bob, &mut [(&mut alice, Role::Contributor)], HistoryMode::Keep).await;
    alice.disconnect(&relay);
    // Overnight: a post in the one space Alice is in, and Bob invites her to another,
    // which uses one of her key packages and leaves a Welcome in her inbox.
    bob.engine_mut().post(&shared, "Hearing at 9").unwrap();
    let second = huisclos_tests::sim::create_space(&mut bob, "Case 208", Policy::Confidential, HistoryMode::Keep);
    let card = alice.engine().contact_card().unwrap();
    bob.engine_mut().invite(&second, &card, Role::Contributor).unwrap();
    bob.drive(&relay).await;

    alice.connect(&relay);
    let (now, before) = (alice.clock(), alice.engine().requests_sent());
    // Everything behind the sign-in is sent before any answer (as over a real
    // connection), then the answers come in order.
    let sent = sent_before_any_answer(&mut alice, now);
    let names: Vec<&str> = sent.iter().map(|(_, body)| body.name()).collect();
    assert_eq!(names, ["SignIn", "Subscribe", "FetchLog", "FetchWelcomes", "GetKeyPackageStatus"]);
    for (id, body) in sent {
        answer_as_relay(&mut alice, &relay, id, body).await;
    }
    alice.drive(&relay).await;
    let after = alice.engine().requests_sent();
    let sent = |kind: &str| after.get(kind).copied().unwrap_or(0) - before.get(kind).copied().unwrap_or(0);
    assert!(sent("FetchContent") >= 1, "the space's content read after its log");
    for kind in ["FetchWelcomes", "AckWelcomes", "GetKeyPackageStatus", "UploadKeyPackages"] {
        assert_eq!(sent(kind), 1, "{kind} once: {:?}", after.keys().map(|k| (*k, sent(k))).collect::<Vec<_>>());
    }
    assert!(alice.texts(&shared).contains(&("Bob".into(), "Hearing at 9".into())));
    assert!(alice.rejections().is_empty(), "{:?}", alice.rejections());
    // The invitation is there to accept, and nothing comes back from the inbox.
    alice.engine_mut().accept_invitation(&second).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().post(&second, "Welcome to the case").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert!(alice.texts(&second).contains(&("Bob".into(), "Welcome to the case".into())));
    assert!(alice.rejections().is_empty(), "{:?}", alice.rejections());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_refused_for_the_rate_is_made_again_after_the_wait() {
    use huisclos_protocol::messages::RelayError;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.disconnect(&relay);
    alice.connect(&relay);
    assert!(matches!(alice.hold(), Some(RequestBody::SignIn(_))));
    alice.step(&relay).await;
    assert!(matches!(alice.hold(), Some(RequestBody::Subscribe(_))));
    // Counted when sent: `before` holds the refused one.
    let before = alice.engine().requests_sent()["Subscribe"];
    assert!(alice.refuse_next(RelayError::RateLimited { retry_after_ms: 2_000 }));
    assert!(alice.engine().poll_timeout().is_some(), "the device waits");
    alice.advance(600);
    alice.drive(&relay).await;
    assert_eq!(
        alice.engine().requests_sent()["Subscribe"],
        before + 1,
        "subscribed again after the wait: without it the device would hear of nothing until it reconnects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_too_large_to_send_before_sign_in_waits_for_its_answer() {
    // Each space adds about 50 bytes to a subscription: 90 spaces make one larger than
    // the 4 KiB frame a relay accepts before sign-in (`UNAUTHENTICATED_FRAME_LEN`).
    use huisclos_protocol::codec::Wire as _;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    for n in 0..90 {
        create_space(&mut alice, &format!("Case {n}"), HistoryMode::Keep);
    }
    alice.drive(&relay).await;
    alice.disconnect(&relay);
    alice.connect(&relay);
    let now = alice.clock();
    let (sign_in, body) = alice.engine_mut().poll_request(now).unwrap();
    assert!(matches!(body, RequestBody::SignIn(_)));
    assert!(alice.engine_mut().poll_request(now).is_none(), "the subscription does not fit before sign-in");
    answer_as_relay(&mut alice, &relay, sign_in, body).await;
    let (subscribe, body) = alice.engine_mut().poll_request(now).unwrap();
    let RequestBody::Subscribe(subscription) = &body else { panic!("the subscription, first: {}", body.name()) };
    assert_eq!(subscription.groups.len(), 90);
    let frame = huisclos_protocol::frame::Padding::SizeClasses.frame_len(body.to_wire().len());
    assert!(frame > huisclos_protocol::limits::UNAUTHENTICATED_FRAME_LEN, "{frame}");
    answer_as_relay(&mut alice, &relay, subscribe, body).await;
    alice.drive(&relay).await;
    assert!(alice.rejections().is_empty(), "{:?}", alice.rejections());
}

/// A history grant that reaches the log while a joiner pages through a long content
/// store sends the reading back to the start of the store (the records before it were
/// sealed with keys the joiner did not hold yet). The page asked for beside that log
/// read, from the old position, must then be left: taking it moved the position past
/// the records to read again, lost them for good and warned that the relay withheld
/// them. A relay choosing when to reveal the grant could do that on purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_grant_read_beside_a_later_page_sends_the_reading_back_to_the_start() {
    use huisclos_tests::sim::create_space;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = create_space(&mut alice, "Case 207", Policy::Confidential, HistoryMode::Keep);
    alice.drive(&relay).await;
    const POSTS: usize = 300;
    for n in 0..POSTS {
        alice.engine_mut().post(&space, &format!("dispatch {n:03}")).unwrap();
    }
    alice.drive(&relay).await;
    alice.engine_mut().invite(&space, &bob.engine().contact_card().unwrap(), Role::Reader).unwrap();
    // Alice commits and leaves the Welcome; the grant she owes Bob is held back.
    send_up_to_the_history_grant(&mut alice, &relay).await;
    while !bob.events.iter().any(|e| matches!(e, ClientEvent::Invited { .. })) {
        assert!(bob.step(&relay).await, "Bob's Welcome arrives");
    }
    bob.engine_mut().accept_invitation(&space).unwrap();
    // Bob reads the store's first page (keys he does not hold yet), and only then does
    // the grant reach the log: his next read asks for the log and the next page at once.
    loop {
        let first_page = matches!(bob.hold(), Some(RequestBody::FetchContent(_)));
        assert!(bob.step(&relay).await, "Bob reads the store's first page");
        if first_page {
            break;
        }
    }
    alice.drive(&relay).await;
    assert!(matches!(bob.hold(), Some(RequestBody::FetchMany(_))), "the log and the next page together");
    bob.drive(&relay).await;
    let texts = bob.texts(&space);
    assert_eq!(texts.len(), POSTS, "every post, read again from the start once the keys came");
    assert!(bob.warnings().is_empty(), "no record was withheld: {:?}", bob.warnings());
}
