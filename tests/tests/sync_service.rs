//! Core's `SyncService`, the one loop the CLI's `watch` and the UniFFI profile's
//! watching both run, against the real relay binary: offline with a growing wait while
//! there is no network, online when it comes back (at once when woken), content pushed
//! to it as it happens, commands sent when they are given (not at the next idle
//! check), and a clean stop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use huisclos_core::client::{MachineCell, SyncService, SyncState};
use huisclos_core::engine::{ClientEvent, Engine};
use huisclos_core::space::Role;
use huisclos_tests::process::{Person, RelayProcess};
use huisclos_transport::tls::SpkiPin;

/// Bob's engine behind a lock, as an app holds it: the service takes it for one step
/// at a time, the test gives commands in between.
#[derive(Clone)]
struct Shared(Arc<Mutex<Engine>>);

impl MachineCell for Shared {
    type Inner = Engine;
    fn step<R>(&mut self, f: impl FnOnce(&mut Engine) -> R) -> huisclos_core::Result<R> {
        Ok(f(&mut self.0.lock().unwrap()))
    }
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_service_waits_offline_comes_online_when_woken_takes_pushes_and_stops() {
    let relay = RelayProcess::start();
    let mut alice = Person::join(&relay, "Alice").await;
    let bob_person = Person::join(&relay, "Bob").await;
    let bob_card = bob_person.engine.contact_card().unwrap();
    let endpoint = bob_person.engine.relay().unwrap().clone();
    let (addresses, pin): (Vec<SocketAddr>, SpkiPin) = (endpoint.resolve().unwrap(), endpoint.spki_pin());
    // Bob's device, driven only by the service from here on.
    let bob = Shared(Arc::new(Mutex::new(bob_person.into_engine())));

    let states: Arc<Mutex<Vec<SyncState>>> = Arc::default();
    let seen = states.clone();
    // Idle checks every 30 s: anything sooner came from a push or a wake.
    let service = Arc::new(SyncService::new(move |state| seen.lock().unwrap().push(state.clone())).with_waits(
        Duration::from_millis(200),
        Duration::from_secs(5),
        Duration::from_secs(30),
    ));
    let network_up = Arc::new(Mutex::new(false));
    let events: Arc<Mutex<Vec<ClientEvent>>> = Arc::default();
    assert!(service.start());
    assert!(!service.start(), "started once");
    let task = {
        let (service, network_up, events, mut cell) =
            (service.clone(), network_up.clone(), events.clone(), bob.clone());
        tokio::spawn(async move {
            let relay = move |_: &mut Shared| -> huisclos_core::Result<_> {
                if *network_up.lock().unwrap() {
                    Ok((addresses.clone(), pin.into()))
                } else {
                    Err(huisclos_core::CoreError::Transport(huisclos_core::error::TransportFailure::Offline))
                }
            };
            let collect = move |cell: &mut Shared| {
                let mut engine = cell.0.lock().unwrap();
                events.lock().unwrap().extend(std::iter::from_fn(|| engine.poll_event()));
            };
            service.run(&mut cell, relay, collect).await
        })
    };

    // No network: offline, each wait twice the one before.
    until("two failed attempts", || {
        states.lock().unwrap().iter().filter(|s| matches!(s, SyncState::Offline { .. })).count() >= 2
    })
    .await;
    let waits: Vec<Duration> = states
        .lock()
        .unwrap()
        .iter()
        .filter_map(|s| match s {
            SyncState::Offline { error, relay_key_not_pinned, retry_in } => {
                assert!(error.contains("offline"), "{error}");
                assert!(!relay_key_not_pinned, "nothing answered: no key was refused");
                Some(*retry_in)
            }
            _ => None,
        })
        .collect();
    assert_eq!(waits[..2], [Duration::from_millis(200), Duration::from_millis(400)]);

    // The network is back: a wake makes it try at once, not after its wait.
    *network_up.lock().unwrap() = true;
    service.wake();
    until("online", || matches!(service.state(), SyncState::Online(_))).await;
    assert!(service.is_running());

    // Alice invites Bob: the relay pushes it, and Bob's device takes it with no command.
    let space = huisclos_tests::process::case_207(&mut alice.engine);
    alice.engine.invite(&space, &bob_card, Role::Contributor).unwrap();
    alice.sync().await;
    until("the invitation pushed to Bob", || {
        events.lock().unwrap().iter().any(|e| matches!(e, ClientEvent::Invited { .. }))
    })
    .await;

    // Bob accepts and posts; the wake sends it now (the idle check is 30 s away).
    let started = std::time::Instant::now();
    bob.0.lock().unwrap().accept_invitation(&space).unwrap();
    bob.0.lock().unwrap().post(&space, "Hearing moved to Thursday").unwrap();
    service.wake();
    let mut delivered = false;
    for _ in 0..40 {
        alice.sync().await;
        if alice.texts(&space).iter().any(|(_, text)| text == "Hearing moved to Thursday") {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "Bob's post reached Alice");
    assert!(started.elapsed() < Duration::from_secs(20), "sent when given, not at the idle check");

    service.stop();
    task.await.unwrap().unwrap();
    assert_eq!(service.state(), SyncState::Stopped);
    assert!(!service.is_running());
    let states = states.lock().unwrap();
    assert!(matches!(states.first(), Some(SyncState::Connecting)), "{states:?}");
    assert_eq!(states.last(), Some(&SyncState::Stopped));
}
