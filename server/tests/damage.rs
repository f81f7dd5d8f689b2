//! The relay binary started on damaged data directories: a store truncated, emptied,
//! deleted, overwritten, rolled back or paired with another key. For each, the relay
//! either refuses to start, saying what is wrong, or starts with every acknowledged
//! record still there. It never serves a damaged store as if it were new, and never
//! makes itself a new key while a store exists.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use huisclos_protocol::ids::{ContentId, Seq};
use huisclos_protocol::messages::*;
use huisclos_transport::client::TransportKind;

/// Messages the relay acknowledged, with their sequence numbers.
type Acknowledged = Vec<(u64, Vec<u8>)>;

/// What the scenario wrote and the relay acknowledged.
struct Written {
    /// A device of the scenario, to sign in again.
    device: Device,
    /// Groups and the messages acknowledged in each, by sequence number.
    groups: Vec<(GroupKeys, Acknowledged)>,
}

/// A relay with three accounts, three groups and 600 acknowledged entries, stopped
/// cleanly (or killed, if `kill`).
async fn scenario(dir: &Path, kill: bool) -> Written {
    let mut relay = RelayProcess::start_in(dir);
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(Device::register(&relay, TransportKind::Tcp).await);
    }
    let mut groups = Vec::new();
    for (g, device) in devices.iter().enumerate() {
        let keys = GroupKeys::new();
        device
            .client
            .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention: LogRetention::Keep })
            .await
            .expect("group");
        let mut acknowledged = Vec::new();
        for n in 0..200u32 {
            let message = format!("group {g} entry {n} {}", "x".repeat((n % 7) as usize * 300)).into_bytes();
            let ResponseBody::Appended(appended) = device
                .client
                .request(AppendMessage { access: keys.access(), message: mls(message.clone()) })
                .await
                .expect("append")
            else {
                panic!("appended")
            };
            acknowledged.push((appended.seq.get(), message));
        }
        device
            .client
            .request(PutContent {
                access: keys.access(),
                record: ContentId::from_bytes(random()),
                sealed: ContentRecordBytes::new(vec![g as u8 + 1; 500]).expect("record"),
            })
            .await
            .expect("content");
        groups.push((keys, acknowledged));
    }
    if kill {
        // Past a checkpoint, so that the manifest counts what was written.
        tokio::time::sleep(Duration::from_secs(7)).await;
        relay.kill();
    } else {
        assert!(relay.terminate(), "clean shutdown");
    }
    Written { device: devices.remove(0), groups }
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp runs");
    assert!(status.success());
}

/// A copy of the scenario's data directory to damage.
fn copy_of(original: &Path, temp: &Path, name: &str) -> PathBuf {
    let dir = temp.join(name);
    copy_dir(original, &dir);
    dir
}

fn db_file(dir: &Path) -> PathBuf {
    dir.join("store").join("db")
}

/// Asserts that the relay refuses to start on `dir`, with a message containing `says`,
/// and without a panic or a new key.
fn assert_refused(dir: &Path, says: &str) {
    let key_before = std::fs::read(dir.join("relay-key.pk8")).ok();
    let failure = match RelayProcess::try_start_in(dir) {
        Ok(_) => panic!("the relay started on a damaged data directory ({says})"),
        Err(failure) => failure,
    };
    let status = failure.status.expect("the relay exited");
    assert!(!status.success(), "a refusal is a failure exit");
    assert_ne!(status.code(), Some(101), "not a panic: {failure}");
    assert!(failure.stderr.contains(says), "the message says {says:?}: {failure}");
    assert!(!failure.stdout.contains("invitation"), "no new invitation: {failure}");
    assert_eq!(std::fs::read(dir.join("relay-key.pk8")).ok(), key_before, "no new key");
    println!("refused as expected: {}", failure.stderr.lines().last().unwrap_or_default());
}

/// Starts the relay on `dir` and checks that every acknowledged entry is there.
async fn assert_everything_there(dir: &Path, written: &Written) -> RelayProcess {
    let relay = RelayProcess::start_in(dir);
    let client = relay.connect(TransportKind::Tcp).await;
    client.authenticate(&written.device.key).await.expect("the account is still there");
    for (keys, acknowledged) in &written.groups {
        let mut found = Vec::new();
        let mut from = 0;
        loop {
            let ResponseBody::LogPage(page) = client
                .request(FetchLog { access: keys.access(), from: Seq::new(from).expect("seq"), limit: page(256) })
                .await
                .expect("fetch")
            else {
                panic!("log page")
            };
            found.extend(page.entries.iter().map(|e| (e.seq.get(), e.message.as_bytes().to_vec())));
            if page.end != LogPageEnd::More {
                break;
            }
            from = page.next.get();
        }
        assert_eq!(&found, acknowledged, "every acknowledged entry, in order");
    }
    relay
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_damaged_store_is_refused_and_nothing_acknowledged_goes_missing() -> TestResult {
    if sled_only("it damages sled's files (PostgreSQL's damage: postgres.rs)") {
        return Ok(());
    }
    let temp = tempfile::tempdir()?;
    let original = temp.path().join("original");
    let written = scenario(&original, false).await;
    let db_len = std::fs::metadata(db_file(&original))?.len();

    // Truncated to 90 %, 50 % and nothing.
    for (name, keep) in [("ninety", db_len * 9 / 10), ("half", db_len / 2), ("zero", 0)] {
        let dir = copy_of(&original, temp.path(), name);
        std::fs::OpenOptions::new().write(true).open(db_file(&dir))?.set_len(keep)?;
        assert_refused(&dir, "damaged");
    }

    // The store deleted.
    let dir = copy_of(&original, temp.path(), "deleted");
    std::fs::remove_dir_all(dir.join("store"))?;
    assert_refused(&dir, "store");

    // The last 4 KiB overwritten, and 64 KiB in the middle.
    for (name, at) in [("tail", db_len.saturating_sub(4096)), ("middle", db_len / 2)] {
        let dir = copy_of(&original, temp.path(), name);
        let mut bytes = std::fs::read(db_file(&dir))?;
        let end = (at as usize + 65536).min(bytes.len());
        for (i, byte) in bytes[at as usize..end].iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        std::fs::write(db_file(&dir), bytes)?;
        match RelayProcess::try_start_in(&dir) {
            // Refused, saying so…
            Err(failure) => {
                assert_ne!(failure.status.and_then(|s| s.code()), Some(101), "not a panic: {failure}");
                assert!(failure.stderr.contains("damaged"), "{failure}");
                println!("{name}: refused: {}", failure.stderr.lines().last().unwrap_or_default());
            }
            // …or every acknowledged entry is still there.
            Ok(relay) => {
                drop(relay);
                drop(assert_everything_there(&dir, &written).await);
                println!("{name}: started, with every acknowledged entry");
            }
        }
    }

    // The key deleted: no new key, no new first invitation.
    let dir = copy_of(&original, temp.path(), "no-key");
    std::fs::remove_file(dir.join("relay-key.pk8"))?;
    assert_refused(&dir, "relay-key.pk8");
    assert!(!dir.join("relay-key.pk8").exists());

    // Another relay's key.
    let other = temp.path().join("other");
    drop(RelayProcess::start_in(&other));
    let dir = copy_of(&original, temp.path(), "other-key");
    for file in ["relay-key.pk8", "relay-cert.der"] {
        std::fs::copy(other.join(file), dir.join(file))?;
    }
    assert_refused(&dir, "another relay key");

    // The certificate lost: made again from the key; clients see the same pin.
    let dir = copy_of(&original, temp.path(), "no-certificate");
    std::fs::remove_file(dir.join("relay-cert.der"))?;
    let relay = assert_everything_there(&dir, &written).await;
    let original_pin = {
        let relay = RelayProcess::start_in(&copy_of(&original, temp.path(), "pin"));
        relay.pin
    };
    assert_eq!(relay.pin, original_pin, "the same key, the same pin");
    drop(relay);

    // The manifest deleted: refused until the operator accepts the store.
    let dir = copy_of(&original, temp.path(), "no-manifest");
    std::fs::remove_file(dir.join("store.manifest"))?;
    assert_refused(&dir, "accept-store");
    accept(&dir);
    drop(assert_everything_there(&dir, &written).await);

    // The untouched copy starts, with everything.
    drop(assert_everything_there(&original, &written).await);
    Ok(())
}

fn accept(dir: &Path) {
    let output = Command::new(relay_binary())
        .arg("--data-dir")
        .arg(dir)
        .args(["admin", "accept-store"])
        .output()
        .expect("accept-store runs");
    assert!(output.status.success(), "accept-store: {}", String::from_utf8_lossy(&output.stderr));
    println!("{}", String::from_utf8_lossy(&output.stdout).trim());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_older_copy_of_the_store_is_refused_until_accepted() -> TestResult {
    if sled_only("it copies sled's files (an older database: postgres.rs)") {
        return Ok(());
    }
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("relay");
    let written = scenario(&dir, false).await;
    // A backup of the store, then more entries, then the backup put back.
    copy_dir(&dir.join("store"), &temp.path().join("backup"));
    {
        let relay = RelayProcess::start_in(&dir);
        let client = relay.connect(TransportKind::Tcp).await;
        client.authenticate(&written.device.key).await?;
        let keys = &written.groups[0].0;
        client.request(AppendMessage { access: keys.access(), message: mls("after the backup") }).await?;
        let mut relay = relay;
        assert!(relay.terminate());
    }
    std::fs::remove_dir_all(dir.join("store"))?;
    copy_dir(&temp.path().join("backup"), &dir.join("store"));
    assert_refused(&dir, "log_entries: 600 of 601");
    accept(&dir);
    drop(assert_everything_there(&dir, &written).await);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_crash_a_truncated_store_is_refused_and_an_intact_one_starts() -> TestResult {
    if sled_only("it truncates sled's files") {
        return Ok(());
    }
    let temp = tempfile::tempdir()?;
    let original = temp.path().join("original");
    let written = scenario(&original, true).await;
    let dir = copy_of(&original, temp.path(), "truncated");
    std::fs::OpenOptions::new().write(true).open(db_file(&dir))?.set_len(0)?;
    assert_refused(&dir, "damaged");
    drop(assert_everything_there(&original, &written).await);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_from_before_manifests_is_adopted() -> TestResult {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("relay");
    let written = scenario(&dir, false).await;
    // What an earlier release left: no manifest, no identity in the store.
    std::fs::remove_file(dir.join("store.manifest"))?;
    {
        let db = sled::open(dir.join("store"))?;
        db.drop_tree("meta")?;
        db.flush()?;
    }
    drop(assert_everything_there(&dir, &written).await);
    assert!(dir.join("store.manifest").exists(), "the adopted store has its manifest");
    Ok(())
}
