//! Several real relay processes on one PostgreSQL database: clients spread across them
//! post and commit concurrently and read the same logs; a device on one is pushed what
//! a device on another appended; an operator's `disable` on one closes the account's
//! connections on the others; SIGKILL of one process loses nothing it acknowledged; and
//! a database that is not the one a relay served, or that lost records, is refused at
//! start as a damaged sled store is.
//!
//! Run when `HUISCLOS_TEST_POSTGRES` names a server (`scripts/test.sh` starts one with
//! `scripts/postgres.sh`); said to be skipped otherwise, unless
//! `HUISCLOS_REQUIRE_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use huisclos_protocol::messages::*;
use huisclos_transport::client::TransportKind;

/// `count` relay processes on one new database, in `temp`: the first makes the relay's
/// key, the others are given a copy of it, as an operator does.
fn relays_on_one_database(temp: &Path, count: usize) -> Option<Vec<RelayProcess>> {
    let first = temp.join("relay-0");
    new_database(&first)?;
    let mut relays = vec![RelayProcess::start_in(&first)];
    for n in 1..count {
        let dir = temp.join(format!("relay-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["relay-key.pk8", "relay-cert.der"] {
            std::fs::copy(first.join(file), dir.join(file)).unwrap();
        }
        share_database(&first, &dir);
        relays.push(RelayProcess::start_in(&dir));
    }
    assert!(relays.windows(2).all(|pair| pair[0].pin == pair[1].pin), "one relay key");
    Some(relays)
}

async fn whole_log(
    client: &huisclos_transport::client::RelayClient,
    keys: &[GroupKeys],
) -> Vec<(u64, EntryKind, Vec<u8>)> {
    let mut log = Vec::new();
    for epoch in keys {
        let mut from = seq(0);
        loop {
            let ResponseBody::LogPage(page) =
                client.request(FetchLog { access: epoch.access(), from, limit: page(256) }).await.expect("log page")
            else {
                panic!("log page")
            };
            log.extend(page.entries.iter().map(|e| (e.seq.get(), e.kind, e.message.as_bytes().to_vec())));
            from = page.next;
            if page.end != LogPageEnd::More {
                break;
            }
        }
    }
    log
}

/// Two and then three processes: each device posts through its own, commits race for
/// every epoch across processes with exactly one winner, every device reads the same
/// dense log from every process; a device watching on one is pushed, within a second,
/// what was appended through another; SIGKILL of one mid-load loses nothing it
/// acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_processes_on_one_database_serve_one_order_and_lose_nothing() -> TestResult {
    let temp = tempfile::tempdir()?;
    let Some(mut relays) = relays_on_one_database(temp.path(), 3) else { return Ok(()) };
    let kinds = [TransportKind::Quic, TransportKind::Tcp, TransportKind::Quic];
    let mut devices = Vec::new();
    for (n, relay) in relays.iter().enumerate() {
        for _ in 0..2 {
            devices.push((n, Arc::new(Device::register(relay, kinds[n]).await)));
        }
    }
    let mut epochs = vec![GroupKeys::new()];
    devices[0]
        .1
        .client
        .request(CreateGroup {
            group: epochs[0].group,
            verifier: epochs[0].token.verifier(),
            retention: LogRetention::Keep,
        })
        .await?;

    // A watcher on process 2 is pushed what is appended through process 0.
    let watcher = devices[5].1.reconnect(&relays[2], TransportKind::Tcp).await;
    watcher.request(Subscribe { groups: list(vec![epochs[0].access()]) }).await?;
    let sent = Instant::now();
    let ResponseBody::Appended(Appended { seq: first }) = devices[0]
        .1
        .client
        .request(AppendMessage { access: epochs[0].access(), message: mls(b"hello".to_vec()) })
        .await?
    else {
        panic!("appended")
    };
    let event = watcher.next_event(Duration::from_secs(5)).await;
    let pushed_after = sent.elapsed();
    assert!(
        matches!(event, Some(Event::LogAdvanced(LogAdvanced { latest, .. })) if latest == first),
        "the watcher on another process is told: {event:?}"
    );
    assert!(pushed_after < Duration::from_secs(1), "pushed promptly across processes: {pushed_after:?}");
    eprintln!("an append through process 0 reached a watcher on process 2 in {pushed_after:?}");

    // Five epochs: every device appends through its own process while one of each
    // process commits; exactly one commit per epoch wins.
    for round in 0..5u8 {
        let current = epochs.last().unwrap().clone();
        let next = current.next();
        let mut tasks = Vec::new();
        for (d, (_, device)) in devices.iter().enumerate() {
            let (device, access, next) = (device.clone(), current.access(), next.clone());
            tasks.push(tokio::spawn(async move {
                for m in 0..10u8 {
                    let message = mls(vec![round, d as u8, m, 0xaa]);
                    match device.client.request(AppendMessage { access: access.clone(), message }).await {
                        Ok(_) => {}
                        Err(huisclos_transport::TransportError::Relay(RelayError::StaleEpoch { .. })) => return None,
                        Err(other) => panic!("append: {other}"),
                    }
                }
                let commit = SubmitCommit {
                    access,
                    commit: mls(vec![0xc0, round, d as u8]),
                    next_verifier: next.token.verifier(),
                };
                match device.client.request(commit).await {
                    Ok(_) => Some(d),
                    Err(huisclos_transport::TransportError::Relay(RelayError::StaleEpoch { .. })) => None,
                    Err(other) => panic!("commit: {other}"),
                }
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            winners.extend(task.await?);
        }
        assert_eq!(winners.len(), 1, "one commit closes epoch {round}: {winners:?}");
        epochs.push(next);
    }

    // The same log from every process, dense, one commit per epoch.
    let mut logs = Vec::new();
    for (n, relay) in relays.iter().enumerate() {
        let reader = devices[n * 2].1.reconnect(relay, kinds[n]).await;
        logs.push(whole_log(&reader, &epochs).await);
    }
    assert!(logs.windows(2).all(|pair| pair[0] == pair[1]), "every process serves the same log");
    let log = &logs[0];
    assert!(log.iter().enumerate().all(|(n, entry)| entry.0 == n as u64), "dense");
    assert_eq!(log.iter().filter(|entry| entry.1 == EntryKind::Commit).count(), 5);
    eprintln!("three processes: {} entries in one order", log.len());

    // SIGKILL process 1 while devices on all three append: everything acknowledged,
    // through any process, is there afterwards.
    let current = epochs.last().unwrap().clone();
    let acknowledged = Arc::new(Mutex::new(BTreeMap::<u64, Vec<u8>>::new()));
    let mut tasks = Vec::new();
    for (d, (_, device)) in devices.iter().enumerate() {
        for n in 0..30u32 {
            let (device, access, acknowledged) = (device.clone(), current.access(), acknowledged.clone());
            tasks.push(tokio::spawn(async move {
                let message = format!("device {d} message {n}").into_bytes();
                if let Ok(ResponseBody::Appended(Appended { seq })) =
                    device.client.request(AppendMessage { access, message: mls(message.clone()) }).await
                {
                    acknowledged.lock().unwrap().insert(seq.get(), message);
                }
            }));
        }
    }
    for _ in 0..400 {
        if acknowledged.lock().unwrap().len() >= 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    relays[1].kill();
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let reader = devices[0].1.reconnect(&relays[0], TransportKind::Quic).await;
    let after: BTreeMap<u64, Vec<u8>> =
        whole_log(&reader, &epochs).await.into_iter().map(|(seq, _, message)| (seq, message)).collect();
    assert!(after.keys().copied().eq(0..after.len() as u64), "dense after the kill");
    for (seq, message) in &acknowledged {
        assert_eq!(after.get(seq), Some(message), "acknowledged entry {seq} survived the kill of a process");
    }
    eprintln!(
        "SIGKILL of one of three processes: {} appends acknowledged, all there ({} entries in the log)",
        acknowledged.len(),
        after.len()
    );
    // The killed process starts again on the database and serves the same log.
    let restarted = RelayProcess::start_in(&relays[1].data_dir.clone());
    let reader = devices[2].1.reconnect(&restarted, TransportKind::Tcp).await;
    let again: BTreeMap<u64, Vec<u8>> =
        whole_log(&reader, &epochs).await.into_iter().map(|(seq, _, message)| (seq, message)).collect();
    assert_eq!(again, after, "a restarted process serves the same log");
    Ok(())
}

/// An operator disables an account through one process (its admin socket): the
/// account's connections on every process close, and its devices are refused on all.
/// A device revoked through one process is cut off on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_on_one_process_cuts_devices_off_on_every_process() -> TestResult {
    let temp = tempfile::tempdir()?;
    let Some(relays) = relays_on_one_database(temp.path(), 2) else { return Ok(()) };
    let seized = Device::register(&relays[0], TransportKind::Quic).await;
    let on_other = seized.reconnect(&relays[1], TransportKind::Tcp).await;
    assert!(on_other.request(ListDevices {}).await.is_ok(), "connected to the second process");
    let mut admin = std::process::Command::new(relay_binary());
    admin
        .env("HUISCLOS_RELAY_POSTGRES_URL", postgres_url_for(&relays[0].data_dir).unwrap())
        .arg("--data-dir")
        .arg(&relays[0].data_dir)
        .args(["admin", "disable", &hex::encode(seized.account.as_bytes())]);
    let output = admin.output()?;
    assert!(output.status.success(), "admin disable: {}", String::from_utf8_lossy(&output.stderr));
    // At once through the event between processes; within the periodic check
    // (relay::CONNECTED_DEVICES_CHECK, 5 s) if the event is lost.
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(10) {
        if on_other.request(ListDevices {}).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the connection on the other process was closed");
    eprintln!("disabled through process 0, cut off on process 1 within {:?}", started.elapsed());
    let again = relays[1].connect(TransportKind::Quic).await;
    let refused = again.authenticate(&seized.key).await;
    assert!(refused.is_err(), "a disabled account's device cannot sign in on any process");

    // Revocation: a second device revoked from the first, through process 0, is cut
    // off on process 1.
    let owner = Device::register(&relays[0], TransportKind::Quic).await;
    let phone = signing_key();
    let phone_key = huisclos_protocol::auth::DevicePublicKey::from_signing_key(&phone);
    let possession = huisclos_protocol::auth::sign_device_link(&phone, &owner.account);
    owner.client.request(AddDevice { device_key: phone_key, possession }).await?;
    let phone_client = relays[1].connect(TransportKind::Tcp).await;
    phone_client.authenticate(&phone).await?;
    owner.client.request(RevokeDevice { device: phone_key.device_id() }).await?;
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(10) {
        if phone_client.request(ListDevices {}).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cut, "the revoked device's connection on the other process was closed");
    eprintln!("revoked through process 0, cut off on process 1 within {:?}", started.elapsed());
    Ok(())
}

/// A process whose connection for the other processes' events breaks (its backend
/// terminated, as a database restart or a network cut would) closes its devices'
/// connections, listens again, and its devices, once reconnected, are pushed what
/// another process stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_process_whose_feed_breaks_listens_again_and_its_devices_catch_up() -> TestResult {
    let temp = tempfile::tempdir()?;
    let Some(relays) = relays_on_one_database(temp.path(), 2) else { return Ok(()) };
    let writer = Device::register(&relays[0], TransportKind::Quic).await;
    let watcher = Device::register(&relays[1], TransportKind::Tcp).await;
    let group = GroupKeys::new();
    writer
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await?;
    watcher.client.request(Subscribe { groups: list(vec![group.access()]) }).await?;

    let name = format!("huisclos-relay events {}", relays[1].pid());
    sql(
        &relays[1].data_dir,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}'"),
    );
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(10) {
        if watcher.client.request(Ping {}).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the process closed its devices' connections when its feed broke");
    eprintln!("feed broken: connections closed after {:?}", started.elapsed());

    let again = watcher.reconnect(&relays[1], TransportKind::Tcp).await;
    again.request(Subscribe { groups: list(vec![group.access()]) }).await?;
    writer.client.request(AppendMessage { access: group.access(), message: mls(b"after the break".to_vec()) }).await?;
    let event = again.next_event(Duration::from_secs(5)).await;
    assert!(matches!(event, Some(Event::LogAdvanced(_))), "pushed across processes again: {event:?}");
    Ok(())
}

fn start_refused(dir: &Path, config: &str, says: &str) {
    match RelayProcess::try_start_in_with(dir, config) {
        Ok(_) => panic!("the relay started on a database it should refuse ({says})"),
        Err(failure) => assert!(failure.stderr.contains(says), "expected {says:?}: {failure}"),
    }
}

fn sql(dir: &Path, statements: &str) {
    let (url, statements) = (postgres_url_for(dir).unwrap(), statements.to_owned());
    std::thread::spawn(move || {
        postgres::Client::connect(&url, postgres::NoTls).unwrap().batch_execute(&statements).unwrap();
    })
    .join()
    .unwrap();
}

/// A database is refused as a damaged sled store is: emptied, replaced by another
/// relay's, holding less than the process counted, or served without the relay's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_that_is_not_what_it_was_is_refused() -> TestResult {
    let temp = tempfile::tempdir()?;
    let Some(mut relays) = relays_on_one_database(temp.path(), 1) else { return Ok(()) };
    let dir: PathBuf = relays[0].data_dir.clone();
    let device = Device::register(&relays[0], TransportKind::Quic).await;
    let group = GroupKeys::new();
    device
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await?;
    for n in 0..5u8 {
        device.client.request(AppendMessage { access: group.access(), message: mls(vec![n; 20]) }).await?;
    }
    device.client.abort();
    assert!(relays[0].terminate(), "stopped cleanly");
    drop(relays);

    // Records lost (an older dump restored, a table truncated): refused.
    sql(&dir, "CREATE TABLE saved_groups AS SELECT * FROM groups; DELETE FROM groups;");
    start_refused(&dir, TEST_CONFIG, "holds less than");
    sql(&dir, "INSERT INTO groups SELECT * FROM saved_groups; DROP TABLE saved_groups;");
    // Another store in its place (emptied and set up again by another relay): refused.
    sql(
        &dir,
        "CREATE TABLE saved_meta AS SELECT * FROM meta; UPDATE meta SET value = overlay(value placing '\\x00000000'::bytea from 1) WHERE name = 'identity';",
    );
    start_refused(&dir, TEST_CONFIG, "not the one");
    sql(&dir, "DELETE FROM meta; INSERT INTO meta SELECT * FROM saved_meta; DROP TABLE saved_meta;");
    // The relay's key missing: never a new key for a database that has a relay.
    let key = dir.join("relay-key.pk8");
    std::fs::rename(&key, dir.join("key.aside"))?;
    start_refused(&dir, TEST_CONFIG, "relay-key.pk8 is missing");
    std::fs::rename(dir.join("key.aside"), &key)?;
    // Put back as it was, it starts and serves what it held.
    let relay = RelayProcess::start_in(&dir);
    let reader = device.reconnect(&relay, TransportKind::Tcp).await;
    let ResponseBody::LogPage(held) =
        reader.request(FetchLog { access: group.access(), from: seq(0), limit: page(10) }).await?
    else {
        panic!("log page")
    };
    assert_eq!(held.entries.len(), 5, "what it held");

    // Another relay's key on this database: refused.
    let stranger = temp.path().join("stranger");
    new_database(&stranger).expect("server");
    drop(RelayProcess::start_in(&stranger));
    drop(relay);
    std::fs::copy(stranger.join("relay-key.pk8"), dir.join("relay-key.pk8"))?;
    std::fs::copy(stranger.join("relay-cert.der"), dir.join("relay-cert.der"))?;
    start_refused(&dir, TEST_CONFIG, "belongs to another relay key");
    Ok(())
}

/// An account's hourly budget of key-package claims (here 600 an hour, 100 at once) is
/// one budget for every process: 40 claimed through one process and 40 through the
/// other leave 20, so 40 more are refused wherever they are asked. (With a budget per
/// process, each would still hold 60.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_accounts_claim_budget_holds_across_processes() -> TestResult {
    use huisclos_protocol::ids::DeviceId;
    let temp = tempfile::tempdir()?;
    let Some(relays) = relays_on_one_database(temp.path(), 2) else { return Ok(()) };
    let claimer = Device::register(&relays[0], TransportKind::Quic).await;
    // Devices nobody registered: the budget is taken before packages are looked for,
    // and each claims a device only once (the budget per claimed device stays apart).
    let batch = || ClaimKeyPackages { devices: list((0..40).map(|_| DeviceId::from_bytes(random())).collect()) };
    let first = claimer.reconnect(&relays[0], TransportKind::Quic).await;
    first.request(batch()).await?;
    let second = claimer.reconnect(&relays[1], TransportKind::Tcp).await;
    second.request(batch()).await?;
    // A fresh connection on each process: the connections' own request budgets are
    // not what refuses.
    for relay in &relays {
        let again = claimer.reconnect(relay, TransportKind::Quic).await;
        let refused = refusal(again.request(batch()).await);
        assert!(
            matches!(refused, RelayError::RateLimited { retry_after_ms } if retry_after_ms > 60_000),
            "{refused:?}"
        );
    }
    // What is left is still there, from either process.
    let left = ClaimKeyPackages { devices: list((0..15).map(|_| DeviceId::from_bytes(random())).collect()) };
    claimer.reconnect(&relays[1], TransportKind::Quic).await.request(left).await?;
    Ok(())
}
