//! Insiders and seized devices: a member's modified client, a revoked phone, a removed
//! member, a compelled relay. Each test drives the real engines and the relay's real
//! handler (in-process, [`huisclos_tests::sim`]) as the attacker would, through the
//! hooks of a modified client (`huisclos_core::engine::adversary`), and shows that every
//! honest device refuses what the attacker sends. One test per attack, named after what
//! it proves; `SECURITY.md` lists them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::engine::ClientEvent;
use huisclos_core::error::{Fault, Unverified};
use huisclos_core::space::{HistoryMode, Role};
use huisclos_protocol::ids::GroupId;
use huisclos_protocol::messages::{RequestBody, ResponseBody};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

/// Delivers a modified client's request; the relay (which cannot read MLS) takes it.
async fn deliver(relay: &SimRelay, attacker: &mut SimDevice, body: RequestBody) -> ResponseBody {
    attacker.send_raw(relay, body).await.expect("the relay takes what it cannot judge")
}

fn stalled(device: &SimDevice, space: &GroupId) -> bool {
    device.engine().spaces().iter().any(|s| &s.id == space && s.stalled)
}

fn member_names(device: &SimDevice, space: &GroupId) -> Vec<String> {
    let mut names: Vec<String> = device.engine().members(space).unwrap().into_iter().map(|m| m.name).collect();
    names.sort();
    names
}

/// Alice (space manager), Bob (contributor) and Rita (reader) in a space that keeps
/// history.
async fn three(relay: &SimRelay) -> (SimDevice, SimDevice, SimDevice, GroupId) {
    let mut alice = SimDevice::join(relay, "Alice").await;
    let mut bob = SimDevice::join(relay, "Bob").await;
    let mut rita = SimDevice::join(relay, "Rita").await;
    let space = space_with(
        relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut rita, Role::Reader)],
        HistoryMode::Keep,
    )
    .await;
    (alice, bob, rita, space)
}

// ---------------------------------------------------------------------------------
// 4. Commits are judged whole.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_cannot_take_another_identity_through_her_update_path() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut rita, space) = three(&relay).await;
    // Rita's modified client commits an update of her own leaf whose credential is a
    // certificate of her MLS key under a fresh identity key named "Alice": a stranger
    // with no role entry, who would get the space's default role (contributor).
    let stranger = rita.engine_mut().adversary().certificate_as_stranger("Alice").unwrap();
    let commit = rita.engine_mut().adversary().commit(&space, Vec::new(), Some(stranger)).unwrap();
    deliver(&relay, &mut rita, commit).await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert_eq!(member_names(device, &space), ["Alice", "Bob", "Rita"], "{}: no second Alice", device.name);
        assert!(stalled(device, &space), "{} refused the commit the relay accepted", device.name);
        assert_eq!(device.warnings().len(), 1, "{}: {:?}", device.name, device.warnings());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_credential_cannot_make_a_member_unremovable() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut rita, space) = three(&relay).await;
    let commit = rita.engine_mut().adversary().commit(&space, Vec::new(), Some(b"not a certificate".to_vec())).unwrap();
    deliver(&relay, &mut rita, commit).await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert_eq!(member_names(device, &space), ["Alice", "Bob", "Rita"], "{} still lists everyone", device.name);
        assert!(stalled(device, &space), "{}", device.name);
    }
    // The space is recreated without her, and the members go on there.
    let successor = alice.engine_mut().recreate_space(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    assert_eq!(member_names(&alice, &successor), ["Alice", "Bob"]);
    assert_eq!(member_names(&bob, &successor), ["Alice", "Bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_with_proposals_other_than_add_remove_and_rules_are_refused() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut rita, space) = three(&relay).await;
    // A pre-shared key proposal: a kind of change the space's rules say nothing about.
    // Every device is given the key, so that openmls itself would process the commit.
    for device in [&mut alice, &mut bob] {
        device.engine_mut().adversary().external_psk_proposal(b"shared earlier", &[0x11; 32]).unwrap();
    }
    let psk = rita.engine_mut().adversary().external_psk_proposal(b"shared earlier", &[0x11; 32]).unwrap();
    let commit = rita.engine_mut().adversary().commit(&space, vec![psk], None).unwrap();
    deliver(&relay, &mut rita, commit).await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert!(stalled(device, &space), "{}: {:?}", device.name, device.events);
    }
    let successor = alice.engine_mut().recreate_space(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().post(&successor, "Still here").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert_eq!(alice.texts(&successor), [("Bob".to_owned(), "Still here".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_no_device_can_process_stalls_the_space_so_it_can_be_recreated() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut rita, space) = three(&relay).await;
    // The relay cannot read commits: it takes any bytes as the epoch's commit.
    let garbage = rita.engine_mut().adversary().raw_commit(&space, vec![0x42; 300]).unwrap();
    deliver(&relay, &mut rita, garbage).await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert!(stalled(device, &space), "{} marks the space stalled: {:?}", device.name, device.events);
    }
    let successor = alice.engine_mut().recreate_space(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert!(bob.events.contains(&ClientEvent::Joined(successor)), "{:?}", bob.events);
    bob.engine_mut().post(&successor, "Back to work").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert_eq!(alice.texts(&successor), [("Bob".to_owned(), "Back to work".to_owned())]);
}

// ---------------------------------------------------------------------------------
// 1. A generation's history key cannot be chosen by a member.

/// Alice (space manager), Bob (contributor), Mallory (contributor) and Rita (reader)
/// in a space that keeps history.
async fn four(relay: &SimRelay) -> (SimDevice, SimDevice, SimDevice, SimDevice, GroupId) {
    let mut alice = SimDevice::join(relay, "Alice").await;
    let mut bob = SimDevice::join(relay, "Bob").await;
    let mut mallory = SimDevice::join(relay, "Mallory").await;
    let mut rita = SimDevice::join(relay, "Rita").await;
    let space = space_with(
        relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut mallory, Role::Contributor), (&mut rita, Role::Reader)],
        HistoryMode::Keep,
    )
    .await;
    (alice, bob, mallory, rita, space)
}

/// What `reader` opens of the space's records as the relay stores them (a compromised
/// relay hands a removed member everything), with its keys and `extra` ones.
fn readable(relay: &SimRelay, reader: &mut SimDevice, space: &GroupId, extra: &[(u32, [u8; 32])]) -> Vec<String> {
    relay
        .content_records(*space)
        .iter()
        .filter_map(|(id, sealed)| reader.engine_mut().adversary().open_record(space, id, sealed, extra))
        .collect()
}

fn texts(device: &SimDevice, space: &GroupId) -> Vec<String> {
    device.texts(space).into_iter().map(|(_, text)| text).collect()
}

async fn remove(relay: &SimRelay, manager: &mut SimDevice, person: &SimDevice, space: &GroupId) {
    let identity = person.engine().identity();
    manager.engine_mut().remove(space, &identity).unwrap();
    manager.drive(relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_about_to_be_removed_cannot_plant_the_next_history_key() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    // Mallory expects to be removed: her modified client hands every device her own
    // key for the next generation.
    let planted = [0x66; 32];
    let current = mallory.engine_mut().adversary().history_keys(&space).last().unwrap().0;
    let plant = mallory.engine_mut().adversary().plant_history_key(&space, current + 1, planted).unwrap();
    deliver(&relay, &mut mallory, plant).await;
    // Everyone but Alice reads it before her removal commit; Alice removes Mallory
    // before reading on.
    settle(&relay, &mut [&mut bob, &mut rita]).await;
    remove(&relay, &mut alice, &mallory, &space).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    bob.engine_mut().post(&space, "After Mallory left: the witness moved to Lyon").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut rita]).await;
    // A copy of the relay's store in Mallory's hands: nothing written after her
    // removal opens, with her keys or the one she planted.
    let opened = readable(&relay, &mut mallory, &space, &[(current + 1, planted)]);
    assert!(!opened.iter().any(|t| t.contains("Lyon")), "Mallory reads on: {opened:?}");
    assert!(texts(&alice, &space).contains(&"After Mallory left: the witness moved to Lyon".to_owned()));
    assert!(texts(&rita, &space).contains(&"After Mallory left: the witness moved to Lyon".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_generation_at_the_end_of_its_range_does_not_wrap() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let plant = mallory.engine_mut().adversary().plant_history_key(&space, u32::MAX, [0x77; 32]).unwrap();
    deliver(&relay, &mut mallory, plant).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    remove(&relay, &mut alice, &mallory, &space).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    bob.engine_mut().post(&space, "Generation numbers stay in range").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut rita]).await;
    assert!(texts(&alice, &space).contains(&"Generation numbers stay in range".to_owned()));
    let opened = readable(&relay, &mut mallory, &space, &[(u32::MAX, [0x77; 32]), (0, [0x77; 32])]);
    assert!(!opened.iter().any(|t| t.contains("in range")), "{opened:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withholding_the_removers_messages_keeps_no_device_on_the_old_key() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    // Alice's removal reaches the relay; whatever she would send next never does (the
    // relay drops it, or her connection dies).
    let identity = mallory.engine().identity();
    alice.engine_mut().remove(&space, &identity).unwrap();
    alice.hold_commit(&relay).await;
    assert!(alice.step(&relay).await);
    alice.disconnect(&relay);
    settle(&relay, &mut [&mut bob, &mut rita]).await;
    bob.engine_mut().post(&space, "Sealed right after the removal").unwrap();
    settle(&relay, &mut [&mut bob, &mut rita]).await;
    assert!(texts(&rita, &space).contains(&"Sealed right after the removal".to_owned()), "{:?}", rita.events);
    let opened = readable(&relay, &mut mallory, &space, &[]);
    assert!(!opened.iter().any(|t| t.contains("right after")), "{opened:?}");
}

// ---------------------------------------------------------------------------------
// 2. A record is accepted only from a device that was a member while its generation
// was current, and not after that generation ended.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_cannot_post_or_edit_with_an_insiders_access() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let before = mallory.engine_mut().post(&space, "Mallory, while a member").unwrap();
    settle(&relay, &mut [&mut mallory, &mut alice, &mut bob, &mut rita]).await;
    let (generation, key) = *mallory.engine_mut().adversary().history_keys(&space).last().unwrap();
    remove(&relay, &mut alice, &mallory, &space).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;

    // Rita, an insider, hands Mallory her access; Mallory seals under the generation
    // she belonged to, and her records land after her removal.
    let access = rita.engine_mut().adversary().access(&space).unwrap();
    let key = huisclos_core::content::HistoryKey::from_parts(generation, key);
    let bodies = [
        huisclos_core::content::ContentBody::Post(huisclos_core::content::Post {
            text: huisclos_core::content::Text::new("Mallory, after her removal").unwrap(),
        }),
        huisclos_core::content::ContentBody::Edit(huisclos_core::content::Edit {
            target: before,
            text: huisclos_core::content::Text::new("Mallory rewrote this after her removal").unwrap(),
        }),
    ];
    for body in bodies {
        let at = mallory.clock();
        let (id, sealed) = mallory.engine_mut().adversary().sealed_record(&space, &key, body, at).unwrap();
        let put = huisclos_core::engine::adversary::Adversary::put_record(access.clone(), id, sealed).unwrap();
        deliver(&relay, &mut mallory, put).await;
    }
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert_eq!(texts(device, &space), ["Mallory, while a member"], "{}", device.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_given_the_new_key_still_cannot_post() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    remove(&relay, &mut alice, &mallory, &space).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    // Rita hands Mallory the new generation's key and her access.
    let (generation, key) = *rita.engine_mut().adversary().history_keys(&space).last().unwrap();
    let access = rita.engine_mut().adversary().access(&space).unwrap();
    let key = huisclos_core::content::HistoryKey::from_parts(generation, key);
    let body = huisclos_core::content::ContentBody::Post(huisclos_core::content::Post {
        text: huisclos_core::content::Text::new("Mallory under the new key").unwrap(),
    });
    let at = mallory.clock();
    let (id, sealed) = mallory.engine_mut().adversary().sealed_record(&space, &key, body, at).unwrap();
    let put = huisclos_core::engine::adversary::Adversary::put_record(access, id, sealed).unwrap();
    deliver(&relay, &mut mallory, put).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert!(texts(device, &space).is_empty(), "{}: {:?}", device.name, texts(device, &space));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_removed_has_no_role_not_the_default_one() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    // Rita is a reader: she never could post. Once removed, she must not gain the
    // space's default role (contributor).
    let (generation, key) = *rita.engine_mut().adversary().history_keys(&space).last().unwrap();
    remove(&relay, &mut alice, &rita, &space).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory]).await;
    let access = mallory.engine_mut().adversary().access(&space).unwrap();
    let key = huisclos_core::content::HistoryKey::from_parts(generation, key);
    let body = huisclos_core::content::ContentBody::Post(huisclos_core::content::Post {
        text: huisclos_core::content::Text::new("A reader, posting once gone").unwrap(),
    });
    let at = rita.clock();
    let (id, sealed) = rita.engine_mut().adversary().sealed_record(&space, &key, body, at).unwrap();
    let put = huisclos_core::engine::adversary::Adversary::put_record(access, id, sealed).unwrap();
    deliver(&relay, &mut rita, put).await;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    for device in [&alice, &bob] {
        assert!(texts(device, &space).is_empty(), "{}: {:?}", device.name, texts(device, &space));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_cannot_post_in_its_persons_name() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice, &mut mallory, &mut rita]).await;
    assert_eq!(alice.engine().members(&space).unwrap().iter().find(|m| m.name == "Bob").unwrap().devices.len(), 2);
    // The laptop is seized; Bob revokes it from his phone.
    let laptop_id = laptop.engine().device_id();
    let (generation, key) = *laptop.engine_mut().adversary().history_keys(&space).last().unwrap();
    bob.engine_mut().revoke_device(&laptop_id).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut mallory, &mut rita]).await;
    // The seizer posts as Bob from the laptop with an insider's access, under the key
    // the laptop held and under the new one.
    let access = rita.engine_mut().adversary().access(&space).unwrap();
    let (new_generation, new_key) = *rita.engine_mut().adversary().history_keys(&space).last().unwrap();
    for (generation, key, text) in
        [(generation, key, "Bob says: meet at the old place"), (new_generation, new_key, "Bob says: bring the files")]
    {
        let key = huisclos_core::content::HistoryKey::from_parts(generation, key);
        let body = huisclos_core::content::ContentBody::Post(huisclos_core::content::Post {
            text: huisclos_core::content::Text::new(text).unwrap(),
        });
        let at = laptop.clock();
        let (id, sealed) = laptop.engine_mut().adversary().sealed_record(&space, &key, body, at).unwrap();
        let put = huisclos_core::engine::adversary::Adversary::put_record(access.clone(), id, sealed).unwrap();
        let _ = laptop.send_raw(&relay, put).await;
    }
    settle(&relay, &mut [&mut alice, &mut mallory, &mut rita]).await;
    for device in [&alice, &mallory, &rita] {
        assert!(texts(device, &space).is_empty(), "{}: {:?}", device.name, texts(device, &space));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adder_cannot_hand_a_new_member_a_history_the_members_did_not_agree_on() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    alice.engine_mut().post(&space, "Before Nour joined").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    let mut nour = SimDevice::join(&relay, "Nour").await;
    // Alice adds Nour; before her engine sends Nour's history, her modified client
    // sends one whose current key is a key of her choosing.
    let card = nour.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, Role::Contributor).unwrap();
    let epoch = alice.engine().spaces()[0].epoch;
    loop {
        let append = match alice.hold() {
            Some(body) => matches!(body, RequestBody::AppendMessage(_)),
            None => panic!("Alice sends no history"),
        };
        if append && alice.engine().spaces()[0].epoch == epoch + 1 {
            break;
        }
        assert!(alice.step(&relay).await);
    }
    let lie = alice.engine_mut().adversary().lying_grant(&space, epoch + 1, [0x99; 32]).unwrap();
    deliver(&relay, &mut alice, lie).await;
    alice.drive(&relay).await;
    nour.sync(&relay).await;
    nour.engine_mut().accept_invitation(&space).unwrap();
    // The lie is refused and reported; the honest history that follows is taken.
    assert_eq!(nour.warnings().len(), 1, "{:?}", nour.warnings());
    assert_eq!(texts(&nour, &space), ["Before Nour joined"]);
    let held: Vec<[u8; 32]> = nour.engine_mut().adversary().history_keys(&space).into_iter().map(|(_, k)| k).collect();
    assert!(!held.contains(&[0x99; 32]), "Nour never holds the planted key");
    nour.engine_mut().post(&space, "Nour, sealed under the members' key").unwrap();
    settle(&relay, &mut [&mut nour, &mut bob]).await;
    assert!(texts(&bob, &space).contains(&"Nour, sealed under the members' key".to_owned()));
}

// ---------------------------------------------------------------------------------
// 5. Roles end with membership; only a stalled space is continued without a prompt.

fn role_entry(device: &mut SimDevice, space: &GroupId, person: &SimDevice) -> Option<Role> {
    let identity = person.engine().identity();
    let rules = device.engine_mut().adversary().rules(space).unwrap();
    rules.roles.iter().find(|e| e.identity == identity).map(|e| e.role)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_leaves_takes_their_role_with_them() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let identity = mallory.engine().identity();
    alice.engine_mut().set_role(&space, &identity, Role::ContentManager).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    assert_eq!(role_entry(&mut bob, &space, &mallory), Some(Role::ContentManager));
    // She leaves; Bob, a contributor, commits her leaving.
    mallory.engine_mut().leave(&space).unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut bob, &mut alice, &mut rita]).await;
    for device in [&mut alice, &mut bob, &mut rita] {
        assert_eq!(member_names(device, &space), ["Alice", "Bob", "Rita"]);
        assert_eq!(role_entry(device, &space, &mallory), None, "{} still lists her role", device.name);
        assert!(!stalled(device, &space), "{}: {:?}", device.name, device.warnings());
    }
    // Invited back with the default role, she has that role, not her old one.
    alice.engine_mut().invite(&space, &mallory.engine().contact_card().unwrap(), Role::Contributor).unwrap();
    settle(&relay, &mut [&mut alice, &mut mallory, &mut bob]).await;
    let back = bob.engine().members(&space).unwrap().into_iter().find(|m| m.identity == identity).unwrap();
    assert_eq!(back.role, Role::Contributor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_that_keeps_the_removed_persons_role_is_refused() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let identity = bob.engine().identity();
    alice.engine_mut().set_role(&space, &identity, Role::SpaceManager).unwrap();
    let mallory_id = mallory.engine().identity();
    alice.engine_mut().set_role(&space, &mallory_id, Role::ContentManager).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    // Bob's modified client removes Mallory but keeps her role entry: her role would
    // come back with her, whoever invited her again and with whatever role.
    let commit = bob.engine_mut().adversary().removal_keeping_role(&space, &mallory_id).unwrap();
    deliver(&relay, &mut bob, commit).await;
    settle(&relay, &mut [&mut alice, &mut rita]).await;
    for device in [&alice, &rita] {
        assert!(stalled(device, &space), "{}: {:?}", device.name, device.events);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departed_manager_cannot_pull_members_into_a_continuation_of_a_healthy_space() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let identity = mallory.engine().identity();
    alice.engine_mut().set_role(&space, &identity, Role::SpaceManager).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    mallory.engine_mut().leave(&space).unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut bob, &mut alice, &mut rita]).await;
    // Gone, she founds her "continuation" of the healthy space and invites everyone.
    let cards = [bob.engine().contact_card().unwrap(), rita.engine().contact_card().unwrap()];
    let successor = mallory.engine_mut().adversary().found_continuation(&space, &cards).unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut bob, &mut rita]).await;
    for device in [&bob, &rita] {
        let invited =
            device.events.iter().any(|e| matches!(e, ClientEvent::Invited { space: s, .. } if *s == successor));
        assert!(invited, "{} is asked, as for any invitation: {:?}", device.name, device.events);
        assert!(!device.events.contains(&ClientEvent::Joined(successor)), "{} was pulled in", device.name);
        assert!(!device.events.iter().any(|e| matches!(e, ClientEvent::Recreated { .. })));
    }
    // The same from a current space manager: a healthy space is not continued either.
    let cards = [bob.engine().contact_card().unwrap()];
    let again = alice.engine_mut().adversary().found_continuation(&space, &cards).unwrap();
    alice.drive(&relay).await;
    bob.sync(&relay).await;
    assert!(!bob.events.contains(&ClientEvent::Joined(again)), "{:?}", bob.events);
}

// ---------------------------------------------------------------------------------
// 7. The library's clock is bounded.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_change_from_the_far_future_is_refused_and_blocks_nothing() {
    use huisclos_core::library::{LibraryOp, NodeName, RenameNode};
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let note = alice.engine_mut().create_note(&space, None, "Minutes", "Hearing at 9").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    // Mallory's rename, dated 2^62 - 1 seconds: it would win every later rename.
    let rename = LibraryOp::Rename(RenameNode { node: note, name: NodeName::new("Mallory was here").unwrap() });
    let far = (1u64 << 62) - 1;
    mallory
        .engine_mut()
        .adversary()
        .publish_dated(&space, huisclos_core::content::ContentBody::Library(rename), far)
        .unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert_eq!(device.engine().library(&space).unwrap().listing(), ["Minutes Note v0"], "{}", device.name);
    }
    // Later changes still work, and win as they should.
    alice.engine_mut().rename_node(&space, &note, "Minutes (final)").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert_eq!(device.engine().library(&space).unwrap().listing(), ["Minutes (final) Note v0"], "{}", device.name);
    }
}

/// Mallory posts under an id of the form only a note's update may have (whose key she
/// keeps, to have the relay forget it later, so that devices reading later would never
/// see what devices reading now show): every device refuses it. Her forgetting it then
/// changes nothing anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_other_than_a_notes_update_cannot_be_made_forgettable() {
    use huisclos_core::content::{ContentBody, Post, Text};
    use huisclos_protocol::ids::ForgetKey;
    use huisclos_protocol::messages::ForgetContent;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let posts = |device: &SimDevice| device.engine().feed(&space).unwrap().len();
    let before: Vec<usize> = [&alice, &bob, &rita].iter().map(|d| posts(d)).collect();
    let key = ForgetKey::from_bytes([0x4d; 32]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let body = ContentBody::Post(Post { text: Text::new("Only those who read now will see this").unwrap() });
    mallory.engine_mut().adversary().publish_as(&space, body, now, key.record(&space)).unwrap();
    // And one under an id drawn at random, which everyone shows.
    mallory.engine_mut().post(&space, "Hello").unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for (device, before) in [&alice, &bob, &rita].into_iter().zip(before) {
        assert_eq!(posts(device), before + 1, "{} shows only the post that cannot be forgotten", device.name);
    }
    // Forgotten at the relay: a tombstone in its place, which every reader passes.
    let access = mallory.engine_mut().adversary().access(&space).unwrap();
    let forget = RequestBody::ForgetContent(ForgetContent { access, record: key.record(&space), key });
    assert!(matches!(deliver(&relay, &mut mallory, forget).await, ResponseBody::ContentForgotten(_)));
    let mut dave = SimDevice::join(&relay, "Dave").await;
    let card = dave.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, Role::Contributor).unwrap();
    alice.drive(&relay).await;
    dave.sync(&relay).await;
    dave.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut dave]).await;
    assert_eq!(posts(&dave), posts(&alice), "Dave, reading later, shows what Alice shows");
}

/// A file version's preview comes from whoever uploaded that version, and no one else:
/// a member cannot show everyone another picture for someone's photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_for_someone_elses_file_is_refused_on_every_device() {
    use huisclos_core::content::{ContentBody, FilePreview, PreviewImage};
    use huisclos_protocol::ids::ContentId;
    const PHOTO: &[u8] = include_bytes!("../fixtures/photo-with-gps.jpg");
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let source = alice.profile_dir().join("IMG_2041.jpg");
    std::fs::write(&source, PHOTO).unwrap();
    let photo = alice.engine_mut().put_file(&space, None, "IMG_2041.jpg", None, &source).unwrap();
    std::fs::remove_file(&source).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    let genuine = alice.engine().file_preview(&space, &photo, None).unwrap().expect("Alice's preview");
    for device in [&bob, &rita] {
        assert_eq!(
            device.engine().file_preview(&space, &photo, None).unwrap().as_ref(),
            Some(&genuine),
            "{}",
            device.name
        );
    }

    // Mallory sends another picture as the preview of Alice's version, and one for a
    // version that does not exist.
    let version = mallory.engine().library(&space).unwrap().versions(&photo).last().unwrap().stamp.op;
    // A plain preview of another picture: refused only for who sends it.
    let png = include_bytes!("../fixtures/image-with-metadata.png");
    let clean = huisclos_core::media::strip_metadata(png).unwrap();
    let other = huisclos_core::media::make_preview(&clean).unwrap();
    assert!(huisclos_core::media::is_plain_preview(&other));
    let refused_before: Vec<usize> = [&alice, &bob, &rita].iter().map(|d| d.rejections().len()).collect();
    let at = mallory.clock();
    for version in [ContentId::from_bytes(version), ContentId::from_bytes([7; 16])] {
        let forged = ContentBody::FilePreview(FilePreview {
            node: photo,
            version,
            image: PreviewImage::new(other.clone()).unwrap(),
        });
        mallory.engine_mut().adversary().publish_dated(&space, forged, at).unwrap();
    }
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for (device, before) in [&alice, &bob, &rita].into_iter().zip(refused_before) {
        let shown = device.engine().file_preview(&space, &photo, None).unwrap();
        assert_eq!(shown.as_ref(), Some(&genuine), "{}", device.name);
        let refused = &device.rejections()[before..];
        assert_eq!(refused.len(), 2, "{}: {refused:?}", device.name);
        assert!(refused.iter().all(|r| r.contains("only whoever uploaded")), "{}: {refused:?}", device.name);
    }
}

// ---------------------------------------------------------------------------------
// 6. A moderator's words are never shown as the author's.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_managers_text_in_someone_elses_post_is_shown_as_the_managers() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let identity = mallory.engine().identity();
    alice.engine_mut().set_role(&space, &identity, Role::ContentManager).unwrap();
    let post = bob.engine_mut().post(&space, "The hearing is on Thursday").unwrap();
    let other = bob.engine_mut().post(&space, "Bring the statements").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    // Mallory, a content manager, rewrites one of Bob's posts and removes the other.
    mallory.engine_mut().edit(&space, &post, "Bob confesses everything").unwrap();
    mallory.engine_mut().delete(&space, &other).unwrap();
    settle(&relay, &mut [&mut mallory, &mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        let feed = device.engine().feed(&space).unwrap();
        let edited = feed.iter().find(|i| i.id == post).unwrap();
        assert_eq!(edited.author_name, "Bob");
        assert_eq!(edited.text, "Bob confesses everything");
        let moderator = edited.moderated_by.as_ref().expect("the text is shown as the moderator's");
        assert_eq!((moderator.name.as_str(), moderator.identity), ("Mallory", identity));
        let removed = feed.iter().find(|i| i.id == other).unwrap();
        assert!(removed.deleted && removed.text.is_empty());
        assert_eq!(removed.moderated_by.as_ref().map(|m| m.name.as_str()), Some("Mallory"), "{}", device.name);
    }
    // Bob's own edit is his again.
    bob.engine_mut().edit(&space, &post, "The hearing is on Friday").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    let item = alice.engine().item(&space, &post).unwrap().unwrap();
    assert_eq!((item.text.as_str(), item.moderated_by.is_none()), ("The hearing is on Friday", true));
}

// ---------------------------------------------------------------------------------
// 3. Revoking a seized phone changes everything it could do.

fn bob_device_count(device: &SimDevice, space: &GroupId) -> usize {
    device.engine().members(space).unwrap().iter().find(|m| m.name == "Bob").map_or(0, |m| m.devices.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_device_never_holds_the_identity_key() {
    let relay = SimRelay::new();
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    assert!(bob.engine().holds_identity_key());
    assert!(!laptop.engine().holds_identity_key(), "the grant carried no identity key");
    // Nothing a seizer could use to certify devices or make rosters: not in the
    // engine, not on disk.
    assert!(matches!(laptop.engine_mut().link_offer(), Err(huisclos_core::CoreError::Forbidden(_))));
    assert!(laptop.engine().recovery_words().is_err());
    let words = bob.engine().recovery_words().unwrap();
    let secret = words.identity_key().unwrap().to_secret();
    for (path, bytes) in huisclos_tests::scan::files(laptop.profile_dir()) {
        assert!(!huisclos_tests::scan::contains(&bytes, secret.as_slice()), "{}", path.display());
    }
    let identity = bob.engine().identity();
    laptop
        .engine_mut()
        .adversary()
        .certify_stranger(
            &huisclos_core::identity::DeviceKeys::generate(),
            bob.engine().account().unwrap(),
            vec![bob.engine().device_id()],
        )
        .expect_err("no identity key to certify with");
    assert_eq!(laptop.engine().identity(), identity);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_devices_replayed_ready_notice_does_not_bring_it_back() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice]).await;
    assert_eq!(bob_device_count(&alice, &space), 2);
    let laptop_id = laptop.engine().device_id();
    bob.engine_mut().revoke_device(&laptop_id).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut mallory, &mut rita]).await;
    assert_eq!(bob_device_count(&alice, &space), 1);
    // The seized laptop tells Bob's phone again that it is ready (its key is refused
    // at the relay, so someone with another account deposits it for it).
    let notice = laptop.engine_mut().adversary().ready_notice().unwrap();
    deliver(&relay, &mut mallory, notice).await;
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    assert_eq!(bob_device_count(&alice, &space), 1, "the laptop stays out");
    assert!(!bob.engine().devices().iter().any(|c| c.body.device == laptop_id));
    // Refused by the phone itself (not only by the relay, which a compelled relay
    // would not do): the notice's device is not on the roster it holds.
    assert!(
        bob.refusals().iter().any(|r| r.fault() == Some(&Fault::Unverified(Unverified::NotOnRoster))),
        "{:?}",
        bob.refusals()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_certified_under_another_account_is_never_added() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice, &mut mallory, &mut rita]).await;
    // Whoever holds Bob's identity key (here his phone, as a thief would) certifies a
    // device registered under Mallory's account, and tells the laptop it is ready.
    let stranger = huisclos_core::identity::DeviceKeys::generate();
    let account = mallory.engine().account().unwrap();
    let notice =
        bob.engine_mut().adversary().certify_stranger(&stranger, account, vec![laptop.engine().device_id()]).unwrap();
    deliver(&relay, &mut mallory, notice).await;
    settle(&relay, &mut [&mut laptop, &mut alice]).await;
    assert_eq!(bob_device_count(&alice, &space), 2, "no third device for Bob");
    assert!(!laptop.engine().devices().iter().any(|c| c.body.device == stranger.device_id()));
    assert!(!laptop.rejections().is_empty(), "{:?}", laptop.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_offer_is_answered_once_and_only_by_who_read_it() {
    use huisclos_core::identity::DisplayName;
    use huisclos_core::link::{LinkOffer, PendingLink};
    let relay = SimRelay::new();
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let offer = bob.engine_mut().link_offer().unwrap();
    // Someone who saw the offer's public parts (not the QR code's secret) answers.
    let mut seen = LinkOffer::new(offer.account, offer.identity, offer.relay.clone());
    seen.offer = offer.offer;
    let forged = PendingLink::new(seen, DisplayName::new("Bob's laptop").unwrap()).request();
    assert!(bob.engine_mut().approve_link(&forged).is_err());
    // The genuine request is approved once; the same request again is refused.
    let genuine = PendingLink::new(offer, DisplayName::new("Bob's laptop").unwrap()).request();
    bob.engine_mut().approve_link(&genuine).unwrap();
    assert!(bob.engine_mut().approve_link(&genuine).is_err(), "an offer is answered once");
    assert_eq!(bob.engine().devices().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seized_phone_that_held_the_identity_key_is_cut_off_by_a_new_key() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let old_identity = bob.engine().identity();
    alice.engine_mut().set_role(&space, &old_identity, Role::ContentManager).unwrap();
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice, &mut mallory, &mut rita]).await;
    assert_eq!(bob_device_count(&alice, &space), 2);
    // Bob's phone, which holds his identity key, is seized. On his laptop, from the
    // recovery words, he restores the key, replaces it, and revokes the phone.
    let words = bob.engine().recovery_words().unwrap();
    let phone = bob.engine().device_id();
    laptop.engine_mut().restore_identity_key(&words, &[phone]).unwrap();
    let new_identity = laptop.engine().identity();
    assert_ne!(new_identity, old_identity);
    settle(&relay, &mut [&mut laptop, &mut alice, &mut mallory, &mut rita]).await;
    for device in [&alice, &mallory, &rita] {
        let members = device.engine().members(&space).unwrap();
        let entry = members.iter().find(|m| m.name == "Bob").unwrap();
        assert_eq!(entry.identity, new_identity, "{}", device.name);
        assert_eq!(entry.devices, vec![laptop.engine().device_id()], "{}: only the laptop", device.name);
        assert_eq!(entry.role, Role::ContentManager, "{}: the role moved with the key", device.name);
        assert!(!stalled(device, &space), "{}: {:?}", device.name, device.warnings());
        let rotated = device
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::IdentityRotated { current, .. } if *current == new_identity));
        assert!(rotated, "{} is shown the change of key", device.name);
    }
    // The phone, with the old key, signs a newer roster of itself, and Mallory (an
    // insider) spreads it in the space.
    let roster = bob.engine_mut().adversary().roster_message(40).unwrap();
    let message = mallory.engine_mut().adversary().app_message(&space, &roster).unwrap();
    deliver(&relay, &mut mallory, message).await;
    settle(&relay, &mut [&mut alice, &mut rita]).await;
    for device in [&alice, &rita] {
        let entry = device.engine().members(&space).unwrap().into_iter().find(|m| m.name == "Bob").unwrap();
        assert_eq!((entry.identity, entry.devices.len()), (new_identity, 1), "{}", device.name);
    }
    // The laptop writes as Bob; everyone reads it.
    laptop.engine_mut().post(&space, "Bob, from the laptop, with a new key").unwrap();
    settle(&relay, &mut [&mut laptop, &mut alice, &mut rita]).await;
    assert!(texts(&alice, &space).contains(&"Bob, from the laptop, with a new key".to_owned()));
    assert!(texts(&rita, &space).contains(&"Bob, from the laptop, with a new key".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_is_shown_to_everyone_and_waits_for_a_manager_where_the_space_asks() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    // In an ordinary space, Bob adds his new device himself, and everyone is told.
    let mut laptop = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut laptop, &mut alice, &mut mallory, &mut rita]).await;
    assert_eq!(bob_device_count(&alice, &space), 2);
    let added = |d: &SimDevice, device| {
        d.events.iter().any(|e| matches!(e, ClientEvent::DeviceAdded { device: x, .. } if *x == device))
    };
    let laptop_id = laptop.engine().device_id();
    for device in [&alice, &mallory, &rita] {
        assert!(added(device, laptop_id), "{} is told of Bob's new device", device.name);
    }
    // Alice makes the space approve every new device; Bob links a tablet.
    alice.engine_mut().set_device_approval(&space, true).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut laptop, &mut mallory, &mut rita]).await;
    let mut tablet = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut tablet, &mut laptop, &mut alice, &mut mallory, &mut rita]).await;
    let tablet_id = tablet.engine().device_id();
    assert_eq!(bob_device_count(&alice, &space), 2, "the tablet waits");
    assert!(tablet.engine().spaces().iter().all(|s| s.id != space));
    let pending: Vec<_> = alice.engine().pending_devices(&space).unwrap().into_iter().map(|c| c.body.device).collect();
    assert_eq!(pending, [tablet_id]);
    // Only a space manager approves it.
    assert!(matches!(
        rita.engine_mut().approve_device(&space, &tablet_id),
        Err(huisclos_core::CoreError::Forbidden(_))
    ));
    alice.engine_mut().approve_device(&space, &tablet_id).unwrap();
    settle(&relay, &mut [&mut alice, &mut tablet, &mut bob, &mut mallory, &mut rita]).await;
    assert_eq!(bob_device_count(&rita, &space), 3);
    assert!(added(&rita, tablet_id));
    let invited = tablet.events.iter().any(|e| matches!(e, ClientEvent::Invited { space: s, .. } if *s == space));
    assert!(invited, "the approved tablet is in: {:?}", tablet.events);
}

// ---------------------------------------------------------------------------------
// 11. Smaller ones.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_space_manager_cannot_leave_even_with_a_modified_client() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    // Alice's own engine refuses; her modified client proposes it anyway.
    assert!(matches!(alice.engine_mut().leave(&space), Err(huisclos_core::CoreError::Forbidden(_))));
    let proposal = alice.engine_mut().adversary().leave_proposal(&space).unwrap();
    deliver(&relay, &mut alice, proposal).await;
    settle(&relay, &mut [&mut bob, &mut mallory, &mut rita]).await;
    for device in [&bob, &mallory, &rita] {
        assert_eq!(member_names(device, &space), ["Alice", "Bob", "Mallory", "Rita"], "{}", device.name);
        assert!(!stalled(device, &space));
    }
    // The space goes on: nothing waits on a proposal nobody takes.
    bob.engine_mut().post(&space, "Still a manager here").unwrap();
    settle(&relay, &mut [&mut bob, &mut rita]).await;
    assert!(texts(&rita, &space).contains(&"Still a manager here".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_join_request_is_taken_once() {
    use huisclos_core::space::Policy;
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut nour = SimDevice::join(&relay, "Nour").await;
    let space = huisclos_tests::sim::create_space(&mut alice, "Open clinic", Policy::OnRequest, HistoryMode::Keep);
    alice.drive(&relay).await;
    let card = alice.engine_mut().space_card(&space).unwrap();
    nour.engine_mut().request_to_join(&card, "Lawyer in Tunis").unwrap();
    // The relay keeps a copy of Nour's deposit and delivers it again later.
    let deposit = loop {
        match nour.hold() {
            Some(RequestBody::DepositWelcome(deposit)) => break deposit.clone(),
            Some(_) => assert!(nour.step(&relay).await),
            None => panic!("no request sent"),
        }
    };
    nour.drive(&relay).await;
    alice.sync(&relay).await;
    assert_eq!(alice.engine().join_requests(&space).unwrap().len(), 1);
    alice.engine_mut().decline_request(&space, &nour.engine().identity()).unwrap();
    deliver(&relay, &mut nour, deposit.into()).await;
    alice.sync(&relay).await;
    assert!(alice.engine().join_requests(&space).unwrap().is_empty(), "a declined request does not come back");
    assert!(!alice.rejections().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_ledger_differs_from_the_members_history_is_refused() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    // Mallory commits a ledger that commits to a key of her choosing for the current
    // generation: whoever joins later would take it from a lying adder.
    let commit = mallory
        .engine_mut()
        .adversary()
        .commit_with_ledger(&space, |ledger| ledger.key_commitment = Some([0x66; 32]))
        .unwrap();
    deliver(&relay, &mut mallory, commit).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert!(stalled(device, &space), "{} refused it: {:?}", device.name, device.events);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_added_by_its_person_where_a_manager_must_approve_is_refused() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    alice.engine_mut().set_device_approval(&space, true).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    let tablet = SimDevice::link(&relay, &mut bob, "Bob").await;
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    // Bob's modified client adds his tablet itself.
    let certificate =
        bob.engine().devices().into_iter().find(|c| c.body.device == tablet.engine().device_id()).unwrap();
    bob.engine_mut().adversary().add_own_device_unchecked(&space, &certificate).unwrap();
    bob.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut mallory, &mut rita]).await;
    for device in [&alice, &mallory, &rita] {
        assert!(stalled(device, &space), "{} refused it", device.name);
        assert_eq!(bob_device_count(device, &space), 1, "{}", device.name);
    }
}

// ---------------------------------------------------------------------------------
// 8. Notes written together: every update is judged like every record.

/// A note Alice wrote, everyone settled, and its text.
async fn minutes(relay: &SimRelay, devices: [&mut SimDevice; 4], space: &GroupId) -> huisclos_core::library::NodeId {
    let [alice, bob, mallory, rita] = devices;
    let note = alice.engine_mut().create_note(space, None, "Minutes", "Hearing at 9").unwrap();
    settle(relay, &mut [alice, bob, mallory, rita]).await;
    note
}

/// A note edit inserting `text` into `note`, made by a document whose client id is
/// `client` (whoever's it is).
fn note_edit(client: u64, note: huisclos_core::library::NodeId, text: &str) -> huisclos_core::content::ContentBody {
    use huisclos_core::note::{NoteDoc, TextEdit};
    let update = NoteDoc::new(client).edit(&[TextEdit { at: 0, delete: 0, insert: text.to_owned() }]).unwrap().unwrap();
    huisclos_core::content::ContentBody::NoteEdit(huisclos_core::content::NoteEdit {
        note,
        update: huisclos_core::content::NoteUpdateBytes::new(update).unwrap(),
    })
}

/// Every one of `devices` reads `expected` as the note's text.
fn assert_note_everywhere(
    devices: &[&SimDevice],
    space: &GroupId,
    note: &huisclos_core::library::NodeId,
    expected: &str,
) {
    for device in devices {
        assert_eq!(device.engine().note_text(space, note).unwrap(), expected, "{}", device.name);
    }
}

fn mls_key(device: &SimDevice) -> [u8; 32] {
    let card = device.engine().contact_card().unwrap();
    card.body.devices.iter().next().unwrap().body.mls_key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readers_and_a_removed_members_note_updates_are_refused_on_every_device() {
    use huisclos_core::note::client_id;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let note = minutes(&relay, [&mut alice, &mut bob, &mut mallory, &mut rita], &space).await;

    // Rita, a reader, with a client that skips the role check, under her own id.
    let rita_client = client_id(space.as_bytes(), note.as_bytes(), &mls_key(&rita));
    let at = rita.clock();
    rita.engine_mut().adversary().publish_dated(&space, note_edit(rita_client, note, "Rita: "), at).unwrap();
    // And names a version of her own text, to be restored by someone.
    let forged = huisclos_core::content::ContentBody::NoteVersion(huisclos_core::content::NoteVersion {
        note,
        name: huisclos_core::content::VersionName::new("Approved").unwrap(),
        text: huisclos_core::content::NoteVersionText::new(b"Hearing cancelled".to_vec()).unwrap(),
    });
    rita.engine_mut().adversary().publish_dated(&space, forged, at).unwrap();
    rita.drive(&relay).await;

    // Mallory, removed, seals an update under the generation she belonged to, with an
    // insider's access, so that it lands after her removal.
    let (generation, key) = *mallory.engine_mut().adversary().history_keys(&space).last().unwrap();
    remove(&relay, &mut alice, &mallory, &space).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    let access = rita.engine_mut().adversary().access(&space).unwrap();
    let key = huisclos_core::content::HistoryKey::from_parts(generation, key);
    let mallory_client = client_id(space.as_bytes(), note.as_bytes(), &mls_key(&mallory));
    let body = note_edit(mallory_client, note, "Mallory after her removal: ");
    let at = mallory.clock();
    let (id, sealed) = mallory.engine_mut().adversary().sealed_record(&space, &key, body, at).unwrap();
    let put = huisclos_core::engine::adversary::Adversary::put_record(access, id, sealed).unwrap();
    deliver(&relay, &mut mallory, put).await;

    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    assert_note_everywhere(&[&alice, &bob, &rita], &space, &note, "Hearing at 9");
    for device in [&alice, &bob] {
        assert!(
            device.engine().note_versions(&space, &note).unwrap().is_empty(),
            "{}: a reader names no version",
            device.name
        );
    }
    // And a contributor's update still goes everywhere.
    bob.engine_mut().write_note(&space, &note, "Hearing at 9, room 4").unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut rita]).await;
    assert_note_everywhere(&[&alice, &bob, &rita], &space, &note, "Hearing at 9, room 4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_update_inserting_text_under_another_devices_id_is_refused_everywhere() {
    use huisclos_core::note::client_id;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let note = minutes(&relay, [&mut alice, &mut bob, &mut mallory, &mut rita], &space).await;
    // Mallory, a contributor, makes items under Alice's client id (computed from her
    // public MLS key): text passed off as Alice's, and items that would collide with
    // Alice's next ones (devices keeping one or the other would diverge).
    let alice_client = client_id(space.as_bytes(), note.as_bytes(), &mls_key(&alice));
    let at = mallory.clock();
    mallory
        .engine_mut()
        .adversary()
        .publish_dated(&space, note_edit(alice_client, note, "Alice agrees: "), at)
        .unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Hearing at 9", "{}", device.name);
        assert!(
            device.refusals().iter().any(|r| format!("{r:?}").contains("NoteUpdate(ForeignClient)")),
            "{}: {:?}",
            device.name,
            device.refusals()
        );
    }
    // Alice's own next edit goes through, on every device alike.
    alice.engine_mut().write_note(&space, &note, "Hearing at 9 (confirmed)").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    assert_note_everywhere(&[&alice, &bob, &rita], &space, &note, "Hearing at 9 (confirmed)");
}

/// In a space that keeps no history, a member's modified client seals a post under the
/// space's history key and puts it in the relay's content store, which would keep it
/// for good. Bob is pushed it whole: his device does not read a content store the space
/// does not keep, by page or by push. (Watched taking it without the check.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_pushed_in_a_space_that_keeps_no_history_is_not_taken() {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let mut mallory = SimDevice::join(&relay, "Mallory").await;
    let mut dan = SimDevice::join(&relay, "Dan").await;
    let space = space_with(
        &relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut mallory, Role::Contributor), (&mut dan, Role::Contributor)],
        HistoryMode::None,
    )
    .await;
    // A removal starts a new generation: every device derives its history key, even in
    // a space that keeps no history.
    remove(&relay, &mut alice, &dan, &space).await;
    alice.engine_mut().post(&space, "Meeting at the usual place").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory]).await;
    let keys = mallory.engine_mut().adversary().history_keys(&space);
    let (generation, key) = *keys.last().expect("devices hold a history key even here");
    let key = huisclos_core::content::HistoryKey::from_parts(generation, key);
    use huisclos_core::content::{ContentBody, Post, Text};
    let body = ContentBody::Post(Post { text: Text::new("Kept at the relay forever").unwrap() });
    let at = mallory.clock();
    let (id, sealed) = mallory.engine_mut().adversary().sealed_record(&space, &key, body, at).unwrap();
    let access = mallory.engine_mut().adversary().access(&space).unwrap();
    let put = huisclos_core::engine::adversary::Adversary::put_record(access, id, sealed).unwrap();
    deliver(&relay, &mut mallory, put).await;
    // The relay (or one that wants the record kept) pushes it to Bob whole.
    let records = relay.content_records(space);
    let (record, sealed) = records.last().cloned().expect("the relay took it");
    let pushed = huisclos_protocol::messages::ContentPushed {
        group: space,
        seq: huisclos_protocol::ids::ContentSeq::new(records.len() as u64 - 1).unwrap(),
        record,
        sealed: huisclos_protocol::messages::PushedRecordBytes::new(sealed).unwrap(),
    };
    let now = bob.clock();
    bob.engine_mut().handle_event(huisclos_protocol::messages::Event::ContentPushed(pushed), now);
    settle(&relay, &mut [&mut bob, &mut alice]).await;
    for device in [&alice, &bob] {
        let texts: Vec<String> = device.texts(&space).into_iter().map(|(_, text)| text).collect();
        assert_eq!(texts, ["Meeting at the usual place"], "{}", device.name);
    }
}

/// A member's modified client has the relay forget one of her notes' updates and sends
/// a second version of the same text under the same ids (as a compaction would be):
/// "meet at 7" where everyone read "meet at 9". Devices that read the first keep it
/// and warn, naming her; what else the second brings is merged everywhere, so they do
/// not drift apart on it. (A device that reads the note only later finds the second
/// alone: SECURITY.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_version_of_a_members_note_text_is_reported_by_every_device_that_read_the_first() {
    use huisclos_core::content::{ContentBody, NoteEdit, NoteUpdateBytes};
    use huisclos_core::note::TextEdit;
    use huisclos_protocol::ids::ForgetKey;
    use huisclos_protocol::messages::ForgetContent;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut mallory, mut rita, space) = four(&relay).await;
    let note = alice.engine_mut().create_note(&space, None, "Plan", "We ").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut mallory, &mut rita]).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let typed = |mallory: &mut SimDevice, edits: &[TextEdit]| {
        let mut doc = mallory.engine_mut().adversary().note_doc(&space, &note).unwrap();
        let updates: Vec<Vec<u8>> =
            edits.iter().map(|edit| doc.edit(std::slice::from_ref(edit)).unwrap().unwrap()).collect();
        let parts: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
        let update = huisclos_core::note::compact_updates(&parts).unwrap().unwrap();
        ContentBody::NoteEdit(NoteEdit { note, update: NoteUpdateBytes::new(update).unwrap() })
    };
    let edit = |at, insert: &str| TextEdit { at, delete: 0, insert: insert.into() };
    let first = ForgetKey::from_bytes([0x91; 32]);
    let meet_at_9 = typed(&mut mallory, &[edit(3, "meet at 9")]);
    // The second version, and more text after it.
    let meet_at_7 = typed(&mut mallory, &[edit(3, "meet at 7"), edit(12, " (room 4)")]);
    mallory.engine_mut().adversary().publish_as(&space, meet_at_9, now, first.record(&space)).unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "We meet at 9", "{}", device.name);
    }
    let access = mallory.engine_mut().adversary().access(&space).unwrap();
    let forget = RequestBody::ForgetContent(ForgetContent { access, record: first.record(&space), key: first });
    assert!(matches!(deliver(&relay, &mut mallory, forget).await, ResponseBody::ContentForgotten(_)));
    let second = ForgetKey::from_bytes([0x92; 32]);
    mallory.engine_mut().adversary().publish_as(&space, meet_at_7, now, second.record(&space)).unwrap();
    mallory.drive(&relay).await;
    settle(&relay, &mut [&mut alice, &mut bob, &mut rita]).await;
    for device in [&alice, &bob, &rita] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "We meet at 9 (room 4)", "{}", device.name);
        assert!(
            device.warnings().iter().any(|w| w.starts_with("Mallory sent a second version of text")),
            "{} warns: {:?}",
            device.name,
            device.warnings()
        );
        assert!(device.rejections().is_empty(), "{}: {:?}", device.name, device.rejections());
    }
}
