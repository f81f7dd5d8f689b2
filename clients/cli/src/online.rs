//! Talking to the relay: connect (QUIC, then TCP+TLS), drive the engine until it has
//! nothing left to send, and show what happened.

use std::time::Duration;

use huisclos_core::CoreError;
use huisclos_core::client::{Connection, SyncService, SyncState};
use huisclos_core::engine::{ClientEvent, Engine};
use huisclos_core::error::Missing;
use huisclos_protocol::ids::{ContentId, GroupId};

use crate::CliError;
use crate::text::{self, Say};

/// Connects the engine to its relay, unless `offline`; `None` (and a line saying why)
/// when the relay cannot be reached: the caller's work stays queued.
pub(crate) async fn connect(engine: &mut Engine, offline: bool) -> Result<Option<Connection>, CliError> {
    if offline {
        return Ok(None);
    }
    let endpoint = engine.relay().cloned().ok_or(crate::text::Problem::NoRelay)?;
    let addresses = match endpoint.resolve() {
        Ok(addresses) => addresses,
        Err(error) => {
            eprintln!("{}", Say::Offline { why: &error.to_string() });
            return Ok(None);
        }
    };
    let pins = engine.relay_pins().unwrap_or_else(|| endpoint.spki_pin().into());
    match Connection::open(engine, &addresses, pins).await {
        Ok(connection) => Ok(Some(connection)),
        Err(error) => {
            eprintln!("{}", Say::Offline { why: &error.to_string() });
            Ok(None)
        }
    }
}

/// Connects, sends and reads everything, prints the events (not each new item: the
/// notifications say what deserves attention), and closes.
pub(crate) async fn sync(engine: &mut Engine, offline: bool) -> Result<bool, CliError> {
    let Some(connection) = connect(engine, offline).await? else {
        print_events(engine, false);
        return Ok(false);
    };
    let outcome = run(engine, &connection).await;
    connection.close(engine);
    print_events(engine, false);
    outcome.map(|()| true)
}

async fn run(engine: &mut Engine, connection: &Connection) -> Result<(), CliError> {
    // Logging in queues a full sync: welcomes, every space, the outbox.
    Ok(connection.sync_until_quiet(engine, Duration::from_millis(300)).await?)
}

/// Stays connected and prints events as they come, reconnecting after a failure
/// (core's [`SyncService`]), until Ctrl-C.
pub(crate) async fn watch(engine: &mut Engine) -> Result<(), CliError> {
    engine.relay().ok_or(crate::text::Problem::NoRelay)?;
    println!("{}", Say::Watching);
    let service = std::sync::Arc::new(SyncService::new(|state| {
        if let SyncState::Offline { error, .. } = state {
            eprintln!("{}", Say::Offline { why: error });
        }
    }));
    service.start();
    let stopper = service.clone();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stopper.stop();
        }
    });
    let relay = |engine: &mut Engine| -> huisclos_core::Result<_> {
        let endpoint = engine.relay().cloned().ok_or(CoreError::NotFound(Missing::Relay))?;
        let pins = engine.relay_pins().ok_or(CoreError::NotFound(Missing::Relay))?;
        Ok((endpoint.resolve()?, pins))
    };
    let outcome = service.run(engine, relay, |engine| print_events(engine, true)).await;
    ctrl_c.abort();
    Ok(outcome?)
}

/// Prints every event the engine reported, one line each; new items too when
/// `content`.
pub(crate) fn print_events(engine: &mut Engine, content: bool) {
    print_events_to(engine, content, false);
}

/// Prints only what concerns security among the events waiting (on standard error),
/// and forgets the rest: for a command's own events, which are not news.
pub(crate) fn print_security_events(engine: &mut Engine) {
    print_events_to(engine, false, true);
}

/// Connects, sends and reads everything, and closes, printing only what concerns
/// security (on standard error): for commands whose standard output is data.
pub(crate) async fn sync_quietly(engine: &mut Engine, offline: bool) -> Result<bool, CliError> {
    let Some(connection) = connect(engine, offline).await? else {
        print_events_to(engine, false, true);
        return Ok(false);
    };
    let outcome = run(engine, &connection).await;
    connection.close(engine);
    print_events_to(engine, false, true);
    outcome.map(|()| true)
}

fn print_events_to(engine: &mut Engine, content: bool, security_only: bool) {
    let mut printed = std::collections::BTreeSet::new();
    let mut events = Vec::new();
    while let Some(event) = engine.poll_event() {
        events.push(event);
    }
    // The spaces' names, read once for all the events.
    let names: std::collections::BTreeMap<GroupId, String> =
        engine.spaces().into_iter().map(|s| (s.id, s.name)).collect();
    for event in &events {
        let space_name = |space: &GroupId| names.get(space).cloned().unwrap_or_else(|| text::short(space.as_bytes()));
        let item_line = |space: &GroupId, item: &ContentId| {
            let item = engine.item(space, item).ok()??;
            Some(format!("[{}] {}: {}", space_name(space), item.author_name, item.text))
        };
        if matches!(event, ClientEvent::Content { .. }) && !content {
            continue;
        }
        if let Some(line) = text::event(event, &space_name, &item_line) {
            let security = matches!(
                event,
                ClientEvent::SecurityWarning { .. }
                    | ClientEvent::IdentityChanged { .. }
                    | ClientEvent::IdentityRotated { .. }
                    | ClientEvent::DeviceAdded { .. }
                    | ClientEvent::Rejected { .. }
                    | ClientEvent::DeliveryWaiting { .. }
            );
            // One line for many changes of the same kind (a library's many operations).
            if !printed.insert(line.clone()) || (security_only && !security) {
                continue;
            }
            if security {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        }
    }
}
