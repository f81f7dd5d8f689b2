//! The relay binary with its store sealed at rest under the operator's key: a copy of
//! the data directory of a stopped relay holds no account, device or group id, no chunk
//! hash and none of the bytes clients stored; the store opens only with its key; a store
//! kept in clear is sealed by `admin seal-store` without losing a record.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use huisclos_protocol::ids::{ChunkRef, ContentId, ContentSeq, Seq};
use huisclos_protocol::messages::*;
use huisclos_transport::client::TransportKind;
use sha2::{Digest, Sha256};

/// What the scenario wrote: whom and what the files must not show, and what must still
/// be read back.
struct Written {
    needles: Vec<(String, Vec<u8>)>,
    device: Device,
    groups: Vec<(GroupKeys, Vec<Vec<u8>>)>,
}

/// Three accounts, each with a group, messages, a content record, a chunk, key packages
/// and a Welcome for the next; every stored payload carries a marker to search for.
async fn scenario(relay: &RelayProcess) -> Written {
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(Device::register(relay, TransportKind::Tcp).await);
    }
    let mut needles = Vec::new();
    let mut groups = Vec::new();
    for (n, device) in devices.iter().enumerate() {
        needles.push((format!("device {n}"), device.id.as_bytes().to_vec()));
        needles.push((format!("account {n}"), device.account.as_bytes().to_vec()));
        let keys = GroupKeys::new();
        needles.push((format!("group {n}"), keys.group.as_bytes().to_vec()));
        let retention = if n == 0 { LogRetention::Expire } else { LogRetention::Keep };
        device
            .client
            .request(CreateGroup { group: keys.group, verifier: keys.token.verifier(), retention })
            .await
            .expect("group");
        let mut messages = Vec::new();
        for m in 0..20 {
            let message = format!("statement of witness {n}-{m}").into_bytes();
            device
                .client
                .request(AppendMessage { access: keys.access(), message: mls(message.clone()) })
                .await
                .unwrap();
            messages.push(message);
        }
        needles.push(("a message".into(), format!("statement of witness {n}-").into_bytes()));
        let record = ContentId::from_bytes(random());
        let sealed = format!("record of detention {n}").into_bytes();
        device
            .client
            .request(PutContent {
                access: keys.access(),
                record,
                sealed: ContentRecordBytes::new(sealed.clone()).unwrap(),
            })
            .await
            .unwrap();
        needles.push(("a content record".into(), sealed));
        needles.push(("a content id".into(), record.as_bytes().to_vec()));
        let chunk_bytes = format!("scanned passport page {n} ").repeat(50).into_bytes();
        let chunk = ChunkRef::from_bytes(Sha256::digest(&chunk_bytes).into());
        device
            .client
            .request(PutChunk {
                access: keys.access(),
                chunk,
                total_len: huisclos_protocol::ids::ChunkOffset::new(chunk_bytes.len() as u32).unwrap(),
                offset: huisclos_protocol::ids::ChunkOffset::new(0).unwrap(),
                data: ChunkPiece::new(chunk_bytes.clone()).unwrap(),
            })
            .await
            .unwrap();
        needles.push(("a chunk".into(), format!("scanned passport page {n}").into_bytes()));
        needles.push(("a chunk hash".into(), chunk.as_bytes().to_vec()));
        let package = [&[SEALED_KEY_PACKAGE_TAG][..], format!("key package of device {n}").as_bytes()].concat();
        device
            .client
            .request(UploadKeyPackages {
                one_time: list(vec![KeyPackageBytes::new(package).unwrap()]),
                last_resort: None,
            })
            .await
            .unwrap();
        needles.push(("a key package".into(), format!("key package of device {n}").into_bytes()));
        let next = &devices[(n + 1) % devices.len()];
        device
            .client
            .request(DepositWelcome {
                recipients: list(vec![next.id]),
                welcome: WelcomeBytes::new(format!("welcome into group {n}").into_bytes()).unwrap(),
            })
            .await
            .unwrap();
        needles.push(("a Welcome".into(), format!("welcome into group {n}").into_bytes()));
        groups.push((keys, messages));
    }
    Written { needles, device: devices.remove(0), groups }
}

fn admin(dir: &Path, config: &Path, command: &str) -> std::process::Output {
    Command::new(relay_binary())
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .args(["admin", command])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the relay binary runs")
}

/// A new store key from `admin store-key`, written to `path` (outside the data
/// directory, as a systemd credential would be).
fn new_key(scratch: &Path, path: &Path) {
    let config = scratch.join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let out = admin(&scratch.join("unused"), &config, "store-key");
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap();
    assert_eq!(key.trim().len(), 64, "64 hex digits");
    std::fs::write(path, key).unwrap();
}

fn config_with_key(key: &Path) -> String {
    format!("store_key_file = {:?}\n{TEST_CONFIG}", key.display().to_string())
}

fn refused(dir: &Path, config: &str, says: &str) {
    match RelayProcess::try_start_in_with(dir, config) {
        Ok(_) => panic!("the relay started ({says})"),
        Err(failure) => {
            assert!(failure.stderr.contains(says), "the message says {says:?}: {failure}");
            assert_ne!(failure.status.and_then(|s| s.code()), Some(101), "not a panic");
            println!("refused as expected: {}", failure.stderr.lines().last().unwrap_or_default());
        }
    }
}

/// Signs in again and reads back every message and the content record of each group.
async fn everything_there(relay: &RelayProcess, written: &Written) {
    let client = relay.connect(TransportKind::Quic).await;
    client.authenticate(&written.device.key).await.expect("the account is still there");
    for (keys, messages) in &written.groups {
        let ResponseBody::LogPage(log) = client
            .request(FetchLog { access: keys.access(), from: Seq::new(0).unwrap(), limit: page(100) })
            .await
            .unwrap()
        else {
            panic!("log page")
        };
        let read: Vec<Vec<u8>> = log.entries.iter().map(|e| e.message.as_bytes().to_vec()).collect();
        assert_eq!(&read, messages, "every message, in order");
        let ResponseBody::ContentPage(content) = client
            .request(FetchContent { access: keys.access(), from: ContentSeq::new(0).unwrap(), limit: page(10) })
            .await
            .unwrap()
        else {
            panic!("content page")
        };
        assert_eq!(content.records.len(), 1);
    }
    let ResponseBody::Welcomes(inbox) = client.request(FetchWelcomes { after: None, limit: page(10) }).await.unwrap()
    else {
        panic!("inbox")
    };
    assert_eq!(inbox.entries.len(), 1, "the Welcome left for this device");
}

fn key_file_sealed(dir: &Path) -> bool {
    std::fs::read(dir.join("relay-key.pk8")).unwrap().starts_with(b"huisclos sealed 1\n")
}

fn data_dir(temp: &tempfile::TempDir, name: &str) -> PathBuf {
    temp.path().join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sealed_store_says_nothing_and_opens_only_with_its_key() {
    if sled_only("sealing a store at rest under a store key is sled's") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let key = temp.path().join("huisclos-store-key");
    new_key(temp.path(), &key);
    let sealed_config = config_with_key(&key);

    // The control: the same scenario on a store in clear shows everything searched for.
    let clear = data_dir(&temp, "clear");
    let mut relay = RelayProcess::start_in(&clear);
    let written = scenario(&relay).await;
    assert!(relay.terminate());
    let shown = found_in(&clear, &written.needles, 10_001);
    let hidden: Vec<&str> = written
        .needles
        .iter()
        .filter(|(what, _)| !shown.iter().any(|s| s.starts_with(what.as_str())))
        .map(|(what, _)| what.as_str())
        .collect();
    println!("a store in clear shows {} things searched for; not found there: {hidden:?}", shown.len());
    assert!(hidden.is_empty(), "the control finds every kind of thing searched for");

    let dir = data_dir(&temp, "sealed");
    let mut relay = RelayProcess::start_in_with(&dir, &sealed_config);
    let written = scenario(&relay).await;
    everything_there(&relay, &written).await;
    assert!(relay.terminate(), "clean shutdown");
    let shown = found_in(&dir, &written.needles, 10_001);
    assert!(shown.is_empty(), "a sealed store's files show:\n{}", shown.join("\n"));
    assert!(key_file_sealed(&dir), "the relay's TLS key is sealed too");
    assert!(!key_file_sealed(&clear), "and in clear without a store key");

    refused(&dir, TEST_CONFIG, "sealed at rest and no store key was given");
    let other = temp.path().join("another-key");
    new_key(temp.path(), &other);
    refused(&dir, &config_with_key(&other), "sealed under another");
    let relay = RelayProcess::start_in_with(&dir, &sealed_config);
    everything_there(&relay, &written).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_in_clear_is_sealed_by_admin_seal_store_and_loses_nothing() {
    if sled_only("seal-store seals a sled store") {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let key = temp.path().join("huisclos-store-key");
    new_key(temp.path(), &key);
    let sealed_config = config_with_key(&key);
    let dir = data_dir(&temp, "relay");
    let mut relay = RelayProcess::start_in(&dir);
    let written = scenario(&relay).await;
    assert!(relay.terminate());

    // A key given for a store in clear is refused: nothing is half sealed.
    refused(&dir, &sealed_config, "written in clear");
    let config_file = temp.path().join("sealed.toml");
    std::fs::write(&config_file, &sealed_config).unwrap();
    let out = admin(&dir, &config_file, "seal-store");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said} {}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("sealed the store") && said.contains("3 accounts"), "{said}");
    println!("{}", said.trim());

    assert!(key_file_sealed(&dir), "seal-store sealed the relay's TLS key");
    let shown = found_in(&dir.join("store"), &written.needles, 10_001);
    assert!(shown.is_empty(), "the sealed store's files show:\n{}", shown.join("\n"));
    assert!(!found_in(&dir.join("store.clear"), &written.needles, 10_001).is_empty(), "the copy in clear is set aside");
    let out = admin(&dir, &config_file, "seal-store");
    assert!(!out.status.success(), "not twice");
    std::fs::remove_dir_all(dir.join("store.clear")).unwrap();
    let out = admin(&dir, &config_file, "seal-store");
    assert!(String::from_utf8_lossy(&out.stderr).contains("sealed already"), "{out:?}");

    let relay = RelayProcess::start_in_with(&dir, &sealed_config);
    everything_there(&relay, &written).await;
}

/// `admin migrate` moves a relay, sealed at rest, from sled to PostgreSQL: every
/// record is there afterwards (the accounts with their usage and an operator's
/// settings, logs, content, chunks, key packages, Welcomes, invitations), the copy is
/// checked before the sled store is moved aside, it cannot run twice, and the relay
/// then starts only on the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sealed_sled_relay_moves_to_postgres_and_loses_nothing() {
    if sled_only("it starts on sled, then moves") {
        return;
    }
    if postgres_server().is_none() {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let key = temp.path().join("huisclos-store-key");
    new_key(temp.path(), &key);
    let config_text = config_with_key(&key);
    let config = temp.path().join("relay.toml");
    std::fs::write(&config, &config_text).unwrap();
    let dir = data_dir(&temp, "relay");
    let mut relay = RelayProcess::start_in_with(&dir, &config_text);
    let written = scenario(&relay).await;
    let pending = relay.invite();
    assert!(relay.terminate(), "clean shutdown");
    // As the stopped relay's store holds them (a running relay also counts what it
    // holds in memory).
    let accounts_before = String::from_utf8(admin(&dir, &config, "accounts").stdout).unwrap();

    // The target: an empty schema on the test server.
    new_database(&dir).unwrap();
    let url = postgres_url_for(&dir).unwrap();
    // Not started on the database yet: the relay would start there with an empty store.
    std::fs::rename(dir.with_extension("pg"), dir.with_extension("pg.later")).unwrap();
    let migrate = |dir: &Path| {
        Command::new(relay_binary())
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir)
            .args(["admin", "migrate", "--to", &url])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = migrate(&dir);
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout).unwrap();
    println!("{report}");
    assert!(report.contains("3 accounts") && report.contains("60 log entries"), "{report}");
    assert!(dir.join("store.migrated").exists(), "the sled store is kept aside");

    let again = migrate(&dir);
    assert!(!again.status.success(), "a second migrate is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("moved to PostgreSQL already"));
    refused(&dir, &config_text, "moved to PostgreSQL");

    // On the database: everything there, the same accounts, and the pending invitation
    // still opens an account.
    std::fs::rename(dir.with_extension("pg.later"), dir.with_extension("pg")).unwrap();
    let relay = RelayProcess::start_in_with(&dir, &config_text);
    everything_there(&relay, &written).await;
    let accounts_after = Command::new(relay_binary())
        .env("HUISCLOS_RELAY_POSTGRES_URL", &url)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&dir)
        .args(["admin", "accounts"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(accounts_after.stdout).unwrap(), accounts_before, "the same accounts and usage");
    let newcomer = relay.connect(TransportKind::Tcp).await;
    newcomer.create_account(&pending, &signing_key()).await.expect("an invitation issued before the move");
    let rows = database_rows(&dir);
    assert!(rows.iter().any(|(table, _)| table == "chunk_pieces"), "the chunks moved too");
}
