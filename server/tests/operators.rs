//! The operator's everyday commands, through the real `huisclos-relay admin` binary:
//! against the running relay (its admin socket) and against the stopped relay's store.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use huisclos_protocol::ids::{AccountId, ChunkOffset, ChunkRef, ContentId, ContentSeq};
use huisclos_protocol::invitation::INVITATION_PREFIX;
use huisclos_protocol::limits::MAX_CHUNK_LEN;
use huisclos_protocol::messages::*;
use huisclos_transport::client::TransportKind;

/// Runs `huisclos-relay admin ARGS` on the data directory; returns its standard output,
/// or its standard error if it failed.
fn admin(data_dir: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(relay_binary());
    if let Some(url) = postgres_url_for(data_dir) {
        command.env("HUISCLOS_RELAY_POSTGRES_URL", url);
    }
    let output =
        command.arg("--data-dir").arg(data_dir).arg("admin").args(args).output().expect("the relay binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() { Ok(stdout) } else { Err(stderr) }
}

/// One row of `admin accounts`.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    used: u64,
    quota: String,
    devices: u32,
    state: String,
}

/// `admin accounts`, by account id in hex.
fn accounts(data_dir: &Path) -> std::collections::BTreeMap<String, Row> {
    let output = admin(data_dir, &["accounts"]).expect("admin accounts");
    let mut rows = std::collections::BTreeMap::new();
    let mut lines = output.lines();
    assert!(lines.next().is_some_and(|header| header.starts_with("account")), "a header: {output}");
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [id, used, quota, devices, state] = fields.as_slice() {
            rows.insert(
                (*id).to_owned(),
                Row {
                    used: used.parse().unwrap(),
                    quota: (*quota).to_owned(),
                    devices: devices.parse().unwrap(),
                    state: (*state).to_owned(),
                },
            );
        } else {
            assert_eq!(line, format!("{} accounts", rows.len()), "the count closes the list");
        }
    }
    rows
}

fn hex(account: &AccountId) -> String {
    account.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// `admin invitations`: digests in hex.
fn invitations(data_dir: &Path) -> Vec<String> {
    let output = admin(data_dir, &["invitations"]).expect("admin invitations");
    output
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().filter(|digest| digest.len() == 64).map(str::to_owned))
        .collect()
}

/// A chunk upload announcing a whole chunk: the relay charges its length up front.
fn whole_chunk(group: &GroupKeys) -> PutChunk {
    PutChunk {
        access: group.access(),
        chunk: ChunkRef::from_bytes(random()),
        total_len: ChunkOffset::new(MAX_CHUNK_LEN as u32).unwrap(),
        offset: ChunkOffset::ZERO,
        data: ChunkPiece::new(vec![]).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_lists_limits_disables_and_enables_accounts() -> TestResult {
    let mut relay = RelayProcess::start();
    let data_dir = relay.data_dir.clone();
    let alice = Device::register(&relay, TransportKind::Quic).await;
    let bob = Device::register(&relay, TransportKind::Tcp).await;
    let group = GroupKeys::new();
    alice
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await?;
    let record = ContentId::from_bytes(random());
    let sealed = ContentRecordBytes::new(vec![7u8; 20_000])?;
    alice.client.request(PutContent { access: group.access(), record, sealed: sealed.clone() }).await?;

    // Both accounts, with what each uses as the relay tells its own devices.
    let rows = accounts(&data_dir);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let alice_row = &rows[&hex(&alice.account)];
    assert_eq!(alice_row.used, usage(&alice.client).await, "the operator sees what the account is told");
    assert!(alice_row.used >= 20_000);
    assert_eq!((alice_row.quota.as_str(), alice_row.devices, alice_row.state.as_str()), ("default", 1, "enabled"));
    assert_eq!(rows[&hex(&bob.account)].used, usage(&bob.client).await);

    // A quota of its own, named by a prefix of the id: at once, credit reserved before
    // included.
    let prefix = &hex(&alice.account)[..10];
    admin(&data_dir, &["quota", prefix, "300K"]).expect("quota set");
    let ResponseBody::Usage(told) = alice.client.request(GetUsage {}).await? else { panic!("usage") };
    assert_eq!(told.quota.get(), 300 * 1024, "the account is told its own quota");
    match refusal(alice.client.request(whole_chunk(&group)).await) {
        RelayError::QuotaExceeded { quota, .. } => assert_eq!(quota.get(), 300 * 1024),
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    assert_eq!(accounts(&data_dir)[&hex(&alice.account)].quota, (300 * 1024).to_string());
    // Bob is not touched.
    bob.client.request(whole_chunk(&GroupKeys::new())).await.expect_err("Bob's group does not exist");
    admin(&data_dir, &["quota", prefix, "default"]).expect("quota back to the relay's");
    let ResponseBody::ChunkStatus(_) = alice.client.request(whole_chunk(&group)).await? else { panic!("chunk") };

    // Disabled: its connection closes at once, and its device cannot sign in, with the
    // answer a revoked device gets. Bob goes on.
    admin(&data_dir, &["disable", &hex(&alice.account)]).expect("disabled");
    let mut closed = false;
    for _ in 0..50 {
        if alice.client.request(Ping {}).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "a disabled account's connection is closed");
    let again = relay.connect(TransportKind::Tcp).await;
    let error = again.authenticate(&alice.key).await.expect_err("a disabled account cannot sign in");
    assert!(format!("{error:?}").contains("AuthFailed"), "{error:?}");
    assert!(matches!(bob.client.request(Ping {}).await?, ResponseBody::Pong(_)));
    assert_eq!(accounts(&data_dir)[&hex(&alice.account)].state, "disabled");

    // The same commands with the relay stopped, on its store.
    assert!(relay.terminate(), "the relay stops cleanly");
    let offline = accounts(&data_dir);
    assert_eq!(offline[&hex(&alice.account)].state, "disabled");
    admin(&data_dir, &["enable", &hex(&alice.account)[..8]]).expect("enabled while stopped");
    let error = admin(&data_dir, &["disable", "00"]).expect_err("too short a prefix");
    assert!(error.contains("hex digits"), "{error}");
    let error = admin(&data_dir, &["quota", &hex(&alice.account), "lots"]).expect_err("not bytes");
    assert!(error.contains("expected bytes"), "{error}");

    // Enabled again: she signs in, and what she stored is all there.
    let relay = RelayProcess::start_in(&data_dir);
    let alice_again = Device { client: alice.reconnect(&relay, TransportKind::Quic).await, ..alice };
    let page =
        alice_again.client.request(FetchContent { access: group.access(), from: ContentSeq::ZERO, limit: page(10) });
    let ResponseBody::ContentPage(page) = page.await? else { panic!("content") };
    assert_eq!(page.records.len(), 1);
    assert_eq!((page.records[0].record, &page.records[0].sealed), (record, &sealed));
    assert_eq!(accounts(&data_dir)[&hex(&alice_again.account)].state, "enabled");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_lists_and_revokes_invitations() -> TestResult {
    let relay = RelayProcess::start();
    let data_dir = relay.data_dir.clone();
    let before = invitations(&data_dir);
    let kept = relay.invite();
    let revoked = relay.invite();
    let listed = invitations(&data_dir);
    assert_eq!(listed.len(), before.len() + 2, "{listed:?}");
    let digest = |token: &huisclos_protocol::access::InvitationToken| -> String {
        token.digest().iter().map(|b| format!("{b:02x}")).collect()
    };
    assert!(listed.contains(&digest(&kept)) && listed.contains(&digest(&revoked)));
    // Nothing listed is an invitation itself: only digests are kept.
    let output = admin(&data_dir, &["invitations"]).expect("listed");
    assert!(!output.contains(INVITATION_PREFIX), "an invitation itself is never shown");

    let answer = admin(&data_dir, &["revoke-invitation", &digest(&revoked)[..12]]).expect("revoked");
    assert!(answer.contains(&digest(&revoked)), "{answer}");
    let error = admin(&data_dir, &["revoke-invitation", &digest(&revoked)[..12]]).expect_err("gone");
    assert!(error.contains("NotFound") || error.contains("not found"), "{error}");
    assert_eq!(invitations(&data_dir).len(), before.len() + 1);

    let client = relay.connect(TransportKind::Quic).await;
    let refused = client.create_account(&revoked, &signing_key()).await.expect_err("a revoked invitation");
    assert!(format!("{refused:?}").contains("InvitationInvalid"), "{refused:?}");
    let client = relay.connect(TransportKind::Quic).await;
    client.create_account(&kept, &signing_key()).await.expect("the other still opens an account");
    assert_eq!(invitations(&data_dir).len(), before.len());
    Ok(())
}

/// Every entry of the group's log at its epoch, in order.
async fn whole_log(client: &huisclos_transport::client::RelayClient, group: &GroupKeys) -> Vec<(u64, Vec<u8>)> {
    let mut entries = Vec::new();
    let mut from = seq(0);
    loop {
        let answer = client.request(FetchLog { access: group.access(), from, limit: page(200) }).await;
        let Ok(ResponseBody::LogPage(page)) = answer else { panic!("log page: {answer:?}") };
        entries.extend(page.entries.iter().map(|entry| (entry.seq.get(), entry.message.as_bytes().to_vec())));
        if page.end != LogPageEnd::More {
            return entries;
        }
        from = page.next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_members_write_restores_to_one_moment() -> TestResult {
    if sled_only("admin backup copies a sled store; PostgreSQL is backed up with pg_dump (docs/operators.md)") {
        return Ok(());
    }
    let relay = RelayProcess::start();
    let mut relay = relay;
    let data_dir = relay.data_dir.clone();
    let backups = tempfile::tempdir()?;
    // A path longer than a short read would take whole, with spaces (one at its end):
    // the backup lands exactly there.
    let long = "a directory name that goes on and on ".repeat(4);
    let backup = backups.path().join(&long).join(&long).join("relay backup ");
    assert!(backup.to_str().unwrap().len() > 256);
    let alice = Device::register(&relay, TransportKind::Quic).await;
    let group = GroupKeys::new();
    alice
        .client
        .request(CreateGroup { group: group.group, verifier: group.token.verifier(), retention: LogRetention::Keep })
        .await?;

    // Four writers append without pause while the backup is taken.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4u8 {
        let client = alice.reconnect(&relay, TransportKind::Quic).await;
        let (stop, access) = (stop.clone(), group.access());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let message = [&[writer][..], &n.to_be_bytes()[..], &[0x5a; 300][..]].concat();
                let answer = client.request(AppendMessage { access: access.clone(), message: mls(message.clone()) });
                if let Ok(ResponseBody::Appended(appended)) = answer.await {
                    acknowledged.push((appended.seq.get(), message));
                }
                n += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let target = backup.clone();
    let dir = data_dir.clone();
    let report = tokio::task::spawn_blocking(move || admin(&dir, &["backup", target.to_str().unwrap()])).await?;
    let report = report.expect("a backup while the relay runs and members write");
    println!("backup: {}", report.trim());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await?);
    }
    acknowledged.sort();
    let record = ContentId::from_bytes(random());
    alice
        .client
        .request(PutContent { access: group.access(), record, sealed: ContentRecordBytes::new(vec![1; 500])? })
        .await?;
    assert!(backup.join("relay-key.pk8").exists() && backup.join("store.manifest").exists());
    assert!(report.contains(backup.to_str().unwrap()), "{report}");

    // A command on a directory that holds no relay is refused, and makes none there.
    let elsewhere = backups.path().join("not-a-relay");
    let error = admin(&elsewhere, &["accounts"]).expect_err("no relay there");
    assert!(error.contains("holds no relay's data"), "{error}");
    assert!(!elsewhere.join("relay-key.pk8").exists() && !elsewhere.join("store").exists());

    // Into a directory that is not empty: refused. A restore while the relay runs:
    // refused, and nothing moves.
    let error = admin(&data_dir, &["backup", backup.to_str().unwrap()]).expect_err("not empty");
    assert!(error.contains("not empty"), "{error}");
    let error = admin(&data_dir, &["restore", backup.to_str().unwrap()]).expect_err("the relay runs");
    assert!(error.contains("stop it first"), "{error}");

    assert!(relay.terminate());
    let restored = admin(&data_dir, &["restore", backup.to_str().unwrap()]).expect("restored");
    println!("restore: {}", restored.trim());
    assert!(restored.contains("held more"), "the report says what the restore gave up: {restored}");
    let aside: Vec<_> = std::fs::read_dir(&data_dir)?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "what the data directory held is kept aside");
    assert!(aside[0].path().join("store").is_dir());

    // The relay starts on the backup (its integrity checks pass), and the log is one
    // moment's: a dense run of entries, each what was acknowledged at that place.
    let relay = RelayProcess::start_in(&data_dir);
    let client = alice.reconnect(&relay, TransportKind::Tcp).await;
    let log = whole_log(&client, &group).await;
    assert!(!log.is_empty() && log.len() < acknowledged.len(), "{} of {}", log.len(), acknowledged.len());
    for (place, (seq, message)) in log.iter().enumerate() {
        assert_eq!(*seq, place as u64, "dense");
        assert_eq!(Some(message), acknowledged.get(place).map(|(_, m)| m), "entry {seq} is what was acknowledged");
        assert_eq!(acknowledged[place].0, *seq);
    }
    let page = client.request(FetchContent { access: group.access(), from: ContentSeq::ZERO, limit: page(10) });
    let ResponseBody::ContentPage(page) = page.await? else { panic!("content") };
    assert!(page.records.is_empty(), "the record put after the backup is not in it");
    println!("restored log: {} entries of {} acknowledged in all", log.len(), acknowledged.len());
    Ok(())
}

/// The pin in `admin rotate-key`'s output line that starts with `label`.
fn pin_after(output: &str, label: &str) -> [u8; 32] {
    let line = output.lines().find_map(|line| line.strip_prefix(label)).unwrap_or_else(|| panic!("{label}: {output}"));
    hex::decode(line.trim()).expect("hex").try_into().expect("32 bytes")
}

/// Rotating the relay's key: during the overlap the relay presents its current key,
/// with the statement, signed by it, that names the next; a client pinning the current
/// key learns the next one from the handshake, over QUIC and TCP alike. At the switch
/// the running relay presents the next key (no restart); clients that learned it get
/// in, clients that did not are refused, as is anyone pinning a key no statement
/// named. The next start moves the key files over and the store follows: the accounts
/// made before sign in with the new key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_key_rotates_with_an_overlap_in_which_clients_learn_the_next_key() -> TestResult {
    use huisclos_protocol::invitation::Invitation;
    use huisclos_transport::TransportError;
    use huisclos_transport::client::RelayClient;
    use huisclos_transport::tls::{PresentedKey, RelayPins, SpkiPin};

    let temp = tempfile::tempdir()?;
    let data_dir = temp.path().join("relay");
    let mut relay = RelayProcess::start_in(&data_dir);
    let old = relay.pin;
    let device = Device::register(&relay, TransportKind::Quic).await;
    let plain = relay.connect(TransportKind::Quic).await;
    assert_eq!(plain.presented_key(), Some(&PresentedKey { pin: old, rotation: None }), "nothing announced yet");
    let old_key_file = std::fs::read(data_dir.join("relay-key.pk8"))?;

    // Started beside the running relay; announced from its next start.
    let started = admin(&data_dir, &["rotate-key", "--overlap", "15s"]).expect("rotate-key");
    let next = SpkiPin(pin_after(&started, "next key: "));
    assert!(admin(&data_dir, &["rotate-key"]).expect_err("a second rotation").contains("already under way"));
    let status = admin(&data_dir, &["rotate-key", "--status"]).expect("status");
    assert!(status.contains("rotation under way"), "{status}");
    assert!(relay.terminate(), "a clean stop");
    relay = RelayProcess::start_in(&data_dir);
    assert_eq!(relay.pin, old, "the current key is still the relay's");
    let (announced, switch_at) = relay.next_pin.expect("the relay says it is rotating");
    assert_eq!(announced, next);

    for (kind, address) in [(TransportKind::Quic, relay.address), (TransportKind::Tcp, relay.tcp_address)] {
        let client = RelayClient::connect(kind, address, old).await?;
        let presented = client.presented_key().expect("a handshake's key").clone();
        assert_eq!(presented.pin, old, "{kind:?}");
        let rotation = presented.rotation.expect("the statement, verified against the old key");
        assert_eq!((rotation.current, rotation.next, rotation.switch_at.get()), (old.0, next.0, switch_at));
    }
    // Before the switch the next key is not presented: pinning it alone gets nobody in.
    let refused = RelayClient::connect(TransportKind::Quic, relay.address, next).await;
    assert!(matches!(refused, Err(TransportError::KeyNotPinned)), "{:?}", refused.err());
    // Accounts sign in as before.
    device.reconnect(&relay, TransportKind::Quic).await;
    // An invitation issued during the overlap expires at the switch at the latest.
    let invitation = Invitation::from_text(admin(&data_dir, &["invite", "--valid-hours", "24"])?.trim())?;
    assert_eq!(invitation.spki_pin(), &old.0);
    let listed = admin(&data_dir, &["invitations"])?;
    let until = huisclos_protocol::ids::UnixSeconds::new(switch_at)?.utc_minute();
    assert!(listed.contains(&until), "valid until the switch ({until}): {listed}");

    // The switch, in the same process.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    tokio::time::sleep(std::time::Duration::from_secs(switch_at.saturating_sub(now) + 1)).await;
    for (kind, address) in [(TransportKind::Quic, relay.address), (TransportKind::Tcp, relay.tcp_address)] {
        let refused = RelayClient::connect(kind, address, old).await;
        assert!(
            matches!(refused, Err(TransportError::KeyNotPinned)),
            "a client that never learned the next key is refused, and told why ({kind:?}): {:?}",
            refused.err()
        );
    }
    let both = RelayPins { current: old, next: Some(next) };
    for (kind, address) in [(TransportKind::Quic, relay.address), (TransportKind::Tcp, relay.tcp_address)] {
        let client = RelayClient::connect(kind, address, both).await?;
        assert_eq!(client.presented_key(), Some(&PresentedKey { pin: next, rotation: None }), "{kind:?}");
    }
    let unknown = RelayPins { current: old, next: Some(SpkiPin([7; 32])) };
    assert!(RelayClient::connect(TransportKind::Quic, relay.address, unknown).await.is_err());
    let invitation = Invitation::from_text(admin(&data_dir, &["invite"])?.trim())?;
    assert_eq!(invitation.spki_pin(), &next.0, "invitations now pin the next key");

    // The next start moves the files: the old key is gone, the store follows.
    assert!(relay.terminate(), "a clean stop");
    relay = RelayProcess::start_in(&data_dir);
    assert_eq!((relay.pin, relay.next_pin), (next, None));
    assert_ne!(std::fs::read(data_dir.join("relay-key.pk8"))?, old_key_file);
    assert!(!data_dir.join("relay-key.next.pk8").exists() && !data_dir.join("relay-cert.next.der").exists());
    let status = admin(&data_dir, &["rotate-key", "--status"])?;
    assert_eq!(pin_after(&status, "the relay's key: "), next.0);
    assert!(status.contains(&format!("the last one replaced {}", hex::encode(old.0))), "{status}");
    device.reconnect(&relay, TransportKind::Tcp).await;
    assert!(relay.terminate(), "a clean stop");
    let again = RelayProcess::start_in(&data_dir);
    assert_eq!(again.pin, next, "and it stays so");
    Ok(())
}
