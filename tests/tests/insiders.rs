//! Insiders and seized devices: a member's modified client, a revoked phone, a removed
//! member, a compelled relay. Each test drives the real engines and the relay's real
//! handler (in-process, [`huisclos_tests::sim`]) as the attacker would, through the
//! hooks of a modified client (`huisclos_core::engine::adversary`), and shows that every
//! honest device refuses what the attacker sends. One test per attack, named after what
//! it proves; `SECURITY.md` lists them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::engine::ClientEvent;
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
    let space =
        space_with(relay, &mut alice, &mut [(&mut bob, Role::Contributor), (&mut rita, Role::Reader)], HistoryMode::Keep)
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
