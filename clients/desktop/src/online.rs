//! Talking to the relay: connect (QUIC, then TCP+TLS), drive the engine until it has
//! nothing left to send, and show what happened.

use std::time::Duration;

use huisclos_core::client::Connection;
use huisclos_core::engine::{ClientEvent, Engine};
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
    match Connection::open(engine, &addresses, endpoint.spki_pin()).await {
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

/// Stays connected and prints events as they come, reconnecting after a failure,
/// until Ctrl-C.
pub(crate) async fn watch(engine: &mut Engine) -> Result<(), CliError> {
    println!("{}", Say::Watching);
    let mut delay = Duration::from_secs(1);
    loop {
        let connection = tokio::select! {
            connected = connect(engine, false) => connected?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(connection) = connection else {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
            delay = (delay * 2).min(Duration::from_secs(60));
            continue;
        };
        delay = Duration::from_secs(1);
        let failed = loop {
            print_events(engine, true);
            let step = tokio::select! {
                step = connection.wait_and_drive(engine, Duration::from_secs(30)) => step,
                _ = tokio::signal::ctrl_c() => {
                    connection.close(engine);
                    return Ok(());
                }
            };
            if let Err(error) = step {
                break error;
            }
        };
        eprintln!("{}", Say::Offline { why: &failed.to_string() });
    }
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
