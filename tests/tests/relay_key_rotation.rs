//! A profile follows its relay's key through a rotation: real engines, the real relay
//! binary and its `admin rotate-key`, real QUIC. A device that connects during the
//! overlap learns the next key (kept in its profile on disk), reaches the relay after
//! the switch with it, and from then on pins it alone; a device that slept through the
//! overlap is refused with an error that says so.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huisclos_core::CoreError;
use huisclos_core::client::Connection;
use huisclos_core::engine::Engine;
use huisclos_core::error::TransportFailure;
use huisclos_core::identity::DisplayName;
use huisclos_core::vault::{KdfParams, Passphrase, Unlock, Vault};
use huisclos_tests::process::RelayProcess;
use huisclos_transport::tls::RelayPins;

const PASSPHRASE: &str = "the keys stay under the old bridge";

fn unlock() -> Unlock {
    Unlock::Passphrase(Passphrase::new(PASSPHRASE))
}

fn profile(dir: &std::path::Path, name: &str) -> Engine {
    let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
    let vault = Arc::new(Vault::create(dir, &unlock(), params).unwrap());
    Engine::create(vault, DisplayName::new(name).unwrap()).unwrap()
}

/// The profile closed and opened again from disk, as an app started anew.
fn reopen(engine: Engine, dir: &std::path::Path) -> Engine {
    drop(engine);
    Engine::load(Arc::new(Vault::open(dir, &unlock()).unwrap())).unwrap()
}

/// Connects with the profile's own pins and drives it until it has nothing to do.
async fn sync(engine: &mut Engine) -> Result<(), CoreError> {
    let addresses = engine.relay().unwrap().resolve()?;
    let pins = engine.relay_pins().unwrap();
    let connection = Connection::open(engine, &addresses, pins).await?;
    engine.sync_all();
    connection.drive(engine).await?;
    connection.close(engine);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_follows_the_relay_key_it_learned_and_one_that_slept_through_is_told_why() {
    let mut relay = RelayProcess::start();
    let old = relay.pin;
    let (alice_dir, bob_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut alice = profile(alice_dir.path(), "Alice");
    let mut bob = profile(bob_dir.path(), "Bob");
    alice.join_relay(&relay.invite()).unwrap();
    bob.join_relay(&relay.invite()).unwrap();
    sync(&mut alice).await.unwrap();
    sync(&mut bob).await.unwrap();
    assert!(alice.account().is_some() && bob.account().is_some());
    assert_eq!(alice.relay_pins(), Some(RelayPins { current: old, next: None }));

    relay.admin(&["rotate-key", "--overlap", "12s"]);
    relay.restart();
    let (next, switch_at) = relay.next_pin.expect("the relay announces its next key");

    // Alice's app connects during the overlap: it learns the next key, and keeps it.
    sync(&mut alice).await.unwrap();
    assert_eq!(alice.relay_pins(), Some(RelayPins { current: old, next: Some(next) }));
    alice = reopen(alice, alice_dir.path());
    assert_eq!(alice.relay_pins(), Some(RelayPins { current: old, next: Some(next) }), "kept on disk");

    // Bob stays offline through the whole overlap.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    tokio::time::sleep(Duration::from_secs(switch_at.saturating_sub(now) + 1)).await;

    // After the switch (the same relay process, no restart): Alice reaches it, and
    // from now on pins the new key alone.
    sync(&mut alice).await.unwrap();
    assert_eq!(alice.relay_pins(), Some(RelayPins { current: next, next: None }));
    alice = reopen(alice, alice_dir.path());
    assert_eq!(alice.relay_pins(), Some(RelayPins { current: next, next: None }), "kept on disk");
    relay.restart();
    assert_eq!((relay.pin, relay.next_pin), (next, None), "the relay's files moved over");
    sync(&mut alice).await.unwrap();

    // Bob never learned it: refused, with the reason, and his profile unchanged.
    let refused = sync(&mut bob).await.unwrap_err();
    assert!(
        matches!(refused, CoreError::Transport(TransportFailure::RelayKeyNotPinned)),
        "a typed reason a client can explain: {refused:?}"
    );
    assert_eq!(bob.relay_pins(), Some(RelayPins { current: old, next: None }));
}
