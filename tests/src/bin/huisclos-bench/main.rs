//! `huisclos-bench`: benchmarks reported as ratios to a ceiling measured in the same run.
//!
//! ```text
//! cargo run --release -p huisclos-tests --bin huisclos-bench -- post [ITERATIONS]
//! cargo run --release -p huisclos-tests --bin huisclos-bench -- file [MIB]
//! ```
//!
//! `file` measures the file pipeline — cut into chunks, seal each (ChaCha20-Poly1305,
//! STREAM nonces), name each by its SHA-256 — against the ceiling of raw
//! ChaCha20-Poly1305 sealing the same chunks in place in one reused buffer (the cipher
//! alone), both in memory, in five alternating rounds; then,
//! in a child process each, the peak resident memory of sealing a file of MIB MiB
//! (1024 by default) into chunk files on disk as an upload does, and of opening them
//! back into one file as a download does.
//!
//! `post` measures one post of 256 bytes of text, sent by one device and read by
//! another, three ways, against the ceiling of bare openmls creating and processing an
//! application message of the same size in a two-member group (in-memory storage):
//!
//! - **content crypto**: what the core adds to each item before and after the network
//!   (sign the envelope, seal it under the history key; open, verify);
//! - **content over MLS**: a `history: none` item inside an MLS application message
//!   (sign, encode, encrypt; decrypt, decode, verify);
//! - **whole engine**: the engine posting through the in-process relay (real handler,
//!   real sled store) and the reader's engine receiving the push, fetching and opening
//!   it, with every step's writes committed and flushed on both sides and at the relay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod feed;
mod mls;
mod notes;
mod relay;
mod report;
mod sync2g;
mod wire;

use std::time::{Duration, Instant};

use huisclos_core::content::{ContentBody, ContentEnvelope, EnvelopeBody, HistoryKey, Post, SealedRecord, Text};
use huisclos_core::identity::{CertificateBody, DeviceCertificate, DeviceKeys, DisplayName, IdentityKey};
use huisclos_core::mls::{CIPHERSUITE, DeviceSigner};
use huisclos_core::space::{HistoryMode, Policy, Role, SpaceDescription, SpaceName};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::ids::{AccountId, ContentId, GroupId, UnixSeconds};
use huisclos_tests::sim::{SimDevice, SimRelay, settle};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_rust_crypto::OpenMlsRustCrypto;

const TEXT_LEN: usize = 256;

fn text() -> String {
    "Hearing moved to Thursday; bring the detention order. ".repeat(8)[..TEXT_LEN].to_owned()
}

/// Per-operation times of a send side and a receive side.
#[derive(Clone, Copy)]
struct Pair {
    send: Duration,
    receive: Duration,
}

fn per(total: Duration, n: usize) -> Duration {
    total / u32::try_from(n).unwrap()
}

struct BareMember {
    provider: OpenMlsRustCrypto,
    key: ed25519_dalek::SigningKey,
    group: Option<MlsGroup>,
}

fn bare_member(name: &str) -> (BareMember, CredentialWithKey) {
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let credential = CredentialWithKey {
        credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
        signature_key: key.verifying_key().to_bytes().to_vec().into(),
    };
    (BareMember { provider: OpenMlsRustCrypto::default(), key, group: None }, credential)
}

/// Two members of one bare openmls group: Alice created it and added Bob.
fn bare_pair() -> (BareMember, BareMember) {
    let (mut alice, alice_credential) = bare_member("alice");
    let (mut bob, bob_credential) = bare_member("bob");
    let package =
        KeyPackage::builder().build(CIPHERSUITE, &bob.provider, &DeviceSigner(&bob.key), bob_credential).unwrap();
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build();
    let mut group = MlsGroup::new(&alice.provider, &DeviceSigner(&alice.key), &config, alice_credential).unwrap();
    let (_, welcome, _) =
        group.add_members(&alice.provider, &DeviceSigner(&alice.key), &[package.key_package().clone()]).unwrap();
    group.merge_pending_commit(&alice.provider).unwrap();
    let welcome = MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().unwrap()).unwrap();
    let MlsMessageBodyIn::Welcome(welcome) = welcome.extract() else { panic!("not a Welcome") };
    let join = MlsGroupJoinConfig::builder().wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY).build();
    bob.group = Some(
        StagedWelcome::new_from_welcome(&bob.provider, &join, welcome, None)
            .unwrap()
            .into_group(&bob.provider)
            .unwrap(),
    );
    alice.group = Some(group);
    (alice, bob)
}

/// Bare openmls: create, serialize / deserialize, process an application message.
/// `n` application messages from Alice to Bob in a bare openmls pair: `make` builds
/// each payload and `check` reads it, each timed with its own side.
fn mls_round_trips(n: usize, mut make: impl FnMut(usize) -> Vec<u8>, mut check: impl FnMut(&[u8])) -> Pair {
    let (mut alice, mut bob) = bare_pair();
    let (mut send, mut receive) = (Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        let start = Instant::now();
        let payload = make(i);
        let message =
            alice.group.as_mut().unwrap().create_message(&alice.provider, &DeviceSigner(&alice.key), &payload).unwrap();
        let bytes = message.tls_serialize_detached().unwrap();
        send += start.elapsed();

        let start = Instant::now();
        let message = MlsMessageIn::tls_deserialize_exact(&bytes).unwrap().try_into_protocol_message().unwrap();
        let processed = bob.group.as_mut().unwrap().process_message(&bob.provider, message).unwrap();
        let ProcessedMessageContent::ApplicationMessage(application) = processed.into_content() else { panic!() };
        check(&application.into_bytes());
        receive += start.elapsed();
    }
    Pair { send: per(send, n), receive: per(receive, n) }
}

/// Bare openmls: create, serialize / deserialize, process an application message.
fn bare_openmls(n: usize) -> Pair {
    let payload = text().into_bytes();
    mls_round_trips(n, |_| payload.clone(), |bytes| assert_eq!(bytes.len(), TEXT_LEN))
}

pub(crate) fn author() -> (DeviceCertificate, DeviceKeys) {
    let identity = IdentityKey::generate();
    let keys = DeviceKeys::generate();
    let certificate = DeviceCertificate::issue(
        &identity,
        CertificateBody {
            identity: identity.public(),
            account: AccountId::from_bytes([1; 16]),
            device: keys.device_id(),
            mls_key: keys.mls_public(),
            name: DisplayName::new("Alice").unwrap(),
            created_at: UnixSeconds::new(1_790_000_000).unwrap(),
        },
    )
    .unwrap();
    (certificate, keys)
}

fn envelope(certificate: &DeviceCertificate, keys: &DeviceKeys, group: GroupId, id: ContentId) -> ContentEnvelope {
    let body = EnvelopeBody {
        id,
        group,
        author: certificate.clone(),
        created_at: UnixSeconds::new(1_790_000_000).unwrap(),
        body: ContentBody::Post(Post { text: Text::new(text()).unwrap() }),
    };
    ContentEnvelope::sign(body, &keys.mls).unwrap()
}

/// The core's own work per item, with no MLS and no I/O: sign and seal; open and
/// verify.
fn content_crypto(n: usize) -> Pair {
    let (certificate, keys) = author();
    let group = GroupId::from_bytes([2; 16]);
    let key = HistoryKey::generate(0);
    let (mut send, mut receive) = (Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let id = ContentId::from_bytes(id);
        let start = Instant::now();
        // As most records of a space travel: referring to the author's certificate.
        let sealed =
            SealedRecord::seal_referring(&key, &group, &id, &envelope(&certificate, &keys, group, id).referring())
                .unwrap();
        let bytes = sealed.to_bytes();
        send += start.elapsed();

        let start = Instant::now();
        let opened = SealedRecord::from_bytes(&bytes)
            .unwrap()
            .open(&key, &group, &id)
            .unwrap()
            .resolve(|_| Some(certificate.clone()))
            .unwrap();
        opened.verify(&group).unwrap();
        receive += start.elapsed();
    }
    Pair { send: per(send, n), receive: per(receive, n) }
}

/// A `history: none` item in an MLS application message: the bare path plus the
/// envelope's signature, encoding and verification.
fn content_over_mls(n: usize) -> Pair {
    let (certificate, keys) = author();
    let group_id = GroupId::from_bytes([3; 16]);
    mls_round_trips(
        n,
        |i| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            envelope(&certificate, &keys, group_id, ContentId::from_bytes(id)).to_wire()
        },
        |bytes| ContentEnvelope::from_wire(bytes).unwrap().verify(&group_id).unwrap(),
    )
}

/// The whole engine through the in-process relay, for either history mode.
async fn whole_engine(n: usize, history: HistoryMode) -> Pair {
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = alice
        .engine_mut()
        .create_space(
            SpaceName::new("Bench").unwrap(),
            SpaceDescription::new("").unwrap(),
            Policy::Confidential,
            history,
        )
        .unwrap();
    let card = bob.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, Role::Contributor).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    bob.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;

    let text = text();
    let (mut send, mut receive) = (Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        let start = Instant::now();
        alice.engine_mut().post(&space, &text).unwrap();
        alice.drive(&relay).await;
        send += start.elapsed();

        // Bob reacts to the relay's push, as a connected device does.
        let start = Instant::now();
        bob.drive(&relay).await;
        receive += start.elapsed();
        assert_eq!(bob.engine().feed(&space).unwrap().len(), i + 1, "Bob received post {i}");
    }
    Pair { send: per(send, n), receive: per(receive, n) }
}

/// Bytes of a made-up file, produced as they are read (no file on disk, nothing held).
struct Generated {
    left: u64,
    state: u64,
}

impl std::io::Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = (out.len() as u64).min(self.left) as usize;
        for byte in &mut out[..n] {
            self.state = self.state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            *byte = (self.state >> 56) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// `left` bytes made of `block` repeated.
struct Repeat<'a> {
    block: &'a [u8],
    left: u64,
}

impl std::io::Read for Repeat<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = (out.len() as u64).min(self.left).min(self.block.len() as u64) as usize;
        out[..n].copy_from_slice(&self.block[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

fn throughput(bytes: u64, taken: Duration) -> f64 {
    bytes as f64 / taken.as_secs_f64() / 1e6
}

/// One round of the file measurements, each in MB/s over `bytes`.
struct FileRound {
    /// Raw ChaCha20-Poly1305 sealing each chunk in place in one reused buffer: the
    /// cipher alone, no allocation, no copy (the ceiling).
    in_place: f64,
    /// Raw ChaCha20-Poly1305 through `Aead::encrypt`, which allocates the output and
    /// copies the plaintext into it.
    encrypt: f64,
    /// `Aead::encrypt`, then SHA-256 of each sealed chunk, on one thread.
    hashed: f64,
    /// The core's pipeline: read, seal, name (on a second thread).
    pipeline: f64,
}

fn file_round(bytes: u64) -> FileRound {
    use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit};
    use huisclos_core::chunk::CHUNK_LEN;
    use sha2::Digest;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&[7u8; 32].into());
    let mut block = vec![0u8; CHUNK_LEN];
    std::io::Read::read_exact(&mut Generated { left: CHUNK_LEN as u64, state: 1 }, &mut block).unwrap();
    let chunks = bytes.div_ceil(CHUNK_LEN as u64);
    let measured = chunks * CHUNK_LEN as u64;
    let nonce = |i: u64| {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&i.to_be_bytes());
        nonce
    };
    let mut buffer = block.clone();
    let start = Instant::now();
    for i in 0..chunks {
        let tag = cipher.encrypt_in_place_detached(&nonce(i).into(), b"", &mut buffer).unwrap();
        std::hint::black_box(tag);
    }
    let in_place = throughput(measured, start.elapsed());
    let start = Instant::now();
    for i in 0..chunks {
        std::hint::black_box(cipher.encrypt(&nonce(i).into(), block.as_slice()).unwrap());
    }
    let encrypt = throughput(measured, start.elapsed());
    let start = Instant::now();
    for i in 0..chunks {
        let sealed = cipher.encrypt(&nonce(i).into(), block.as_slice()).unwrap();
        std::hint::black_box(sha2::Sha256::digest(&sealed));
    }
    let hashed = throughput(measured, start.elapsed());
    // The pipeline reads the same block over and over (a copy, far faster than either).
    let start = Instant::now();
    huisclos_core::chunk::seal_stream(Repeat { block: &block, left: bytes }, bytes, |chunk| {
        std::hint::black_box(chunk);
        Ok(())
    })
    .unwrap();
    let pipeline = throughput(bytes, start.elapsed());
    FileRound { in_place, encrypt, hashed, pipeline }
}

fn peak_resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In a child process: seal `mib` MiB into chunk files in `dir` (as an upload stages
/// them), or open them back into one file (as a download does); print the peak RSS.
fn file_memory(side: &str, mib: u64, dir: &std::path::Path) {
    use huisclos_core::chunk::{FileManifest, FileOpener};
    let bytes = mib * 1024 * 1024;
    let manifest_path = dir.join("manifest");
    match side {
        "seal" => {
            let manifest = huisclos_core::chunk::seal_stream(Generated { left: bytes, state: 1 }, bytes, |chunk| {
                std::fs::write(dir.join(hex::encode(chunk.reference.as_bytes())), &chunk.bytes)?;
                Ok(())
            })
            .unwrap();
            std::fs::write(&manifest_path, manifest.to_wire()).unwrap();
        }
        _ => {
            let manifest = FileManifest::from_wire(&std::fs::read(&manifest_path).unwrap()).unwrap();
            let opener = FileOpener::new(&manifest).unwrap();
            let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("opened")).unwrap());
            for (i, reference) in manifest.chunks.iter().enumerate() {
                let sealed = std::fs::read(dir.join(hex::encode(reference.as_bytes()))).unwrap();
                std::io::Write::write_all(&mut out, &opener.open(i, &sealed).unwrap()).unwrap();
            }
        }
    }
    println!("{}", peak_resident_kib());
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn file_bench(mib: u64) {
    // Throughput on a quarter of the size (at least 256 MiB): enough to be steady.
    let measured = (mib / 4).max(256) * 1024 * 1024;
    let _ = file_round(64 * 1024 * 1024);
    // Five rounds, alternating the four paths so that a burst of load elsewhere on the
    // machine falls on all of them; each path's best round is reported, and every
    // ratio is taken to the ceiling's best round.
    let rounds: Vec<FileRound> = (0..5).map(|_| file_round(measured / 5)).collect();
    let best = |f: fn(&FileRound) -> f64| rounds.iter().map(f).fold(0.0, f64::max);
    let ceiling = best(|r| r.in_place);
    let pipeline_each: Vec<String> = rounds.iter().map(|r| format!("{:.2}", r.pipeline / r.in_place)).collect();
    println!(
        "file pipeline over {} MiB in five rounds; ceiling: raw ChaCha20-Poly1305 in place on the same chunks",
        measured >> 20
    );
    println!();
    println!("| path | MB/s (best round) | ratio |");
    println!("|---|---:|---:|");
    println!(
        "| raw ChaCha20-Poly1305 in place, {} KiB chunks, one reused buffer (ceiling) | {ceiling:.0} | 1.00 |",
        huisclos_core::chunk::CHUNK_LEN >> 10
    );
    let encrypt = best(|r| r.encrypt);
    println!("| raw ChaCha20-Poly1305 `encrypt` (allocates, copies) | {encrypt:.0} | {:.2} |", encrypt / ceiling);
    let hashed = best(|r| r.hashed);
    println!("| raw `encrypt` then SHA-256 of each sealed chunk, one thread | {hashed:.0} | {:.2} |", hashed / ceiling);
    let pipeline = best(|r| r.pipeline);
    println!("| chunk + seal + SHA-256 name (core::chunk) | {pipeline:.0} | {:.2} |", pipeline / ceiling);
    println!();
    let mut ratios: Vec<f64> = rounds.iter().map(|r| r.pipeline / r.in_place).collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "pipeline / ceiling in each round: {} (median {:.2}; target at least 0.80)",
        pipeline_each.join(", "),
        ratios[ratios.len() / 2]
    );
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let run = |side: &str| -> u64 {
        let output = std::process::Command::new(&exe)
            .args(["file-memory", side, &mib.to_string(), dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().parse().unwrap()
    };
    let seal = run("seal");
    let open = run("open");
    println!();
    println!("| a {mib} MiB file | peak resident memory |");
    println!("|---|---:|");
    println!("| sealed into chunk files (upload side) | {:.1} MiB |", seal as f64 / 1024.0);
    println!("| chunk files opened into one file (download side) | {:.1} MiB |", open as f64 / 1024.0);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("post") => {}
        Some("file") => return file_bench(args.get(2).map_or(1024, |v| v.parse().expect("MIB is a number"))),
        Some("relay") => {
            let payload = args.get(2).map_or(256, |v| v.parse().expect("BYTES is a number"));
            return relay::round_trips_bench(payload, 3.0).await;
        }
        Some("wire") => {
            wire::wire_bench().await;
            println!();
            return wire::classes_bench().await;
        }
        Some("fanout") => {
            let sizes: Vec<usize> = if args.len() > 2 {
                args[2..].iter().map(|v| v.parse().expect("DEVICES")).collect()
            } else {
                vec![10, 100, 1000]
            };
            return relay::fanout_bench(&sizes, 256).await;
        }
        Some("mls") => {
            let sizes: Vec<usize> = if args.len() > 2 {
                args[2..].iter().map(|v| v.parse().expect("LEAVES")).collect()
            } else {
                vec![10, 100, 1000, 10_000]
            };
            return mls::mls_bench(&sizes);
        }
        Some("sync2g") => {
            return sync2g::first_sync_bench(args.get(2).map_or(1000, |v| v.parse().expect("POSTS")), 200).await;
        }
        Some("feed") => {
            let sizes: Vec<usize> = if args.len() > 2 {
                args[2..].iter().map(|v| v.parse().expect("POSTS")).collect()
            } else {
                vec![1_000, 10_000]
            };
            return feed::feed_bench(&sizes).await;
        }
        Some("notes") => return notes::notes_bench(args.get(2).map_or(10_000, |v| v.parse().expect("EDITS"))),
        Some("notes-2g") => {
            return notes::edit_to_device_bench(args.get(2).map_or(10, |v| v.parse().expect("EDITS"))).await;
        }
        Some("all") => return report::run_all(&args[2..]),
        Some("echo-server") => return relay::echo_server(args[2].parse().expect("response length")).await,
        Some("store") => return relay::store_bench(args.get(2).map_or(2000, |v| v.parse().expect("COUNT")), 256),
        // The PostgreSQL client blocks on a runtime of its own: off this one's threads.
        Some("store-postgres") => {
            let count = args.get(2).map_or(2000, |v| v.parse().expect("COUNT"));
            return tokio::task::spawn_blocking(move || relay::postgres_store_bench(count)).await.expect("bench");
        }
        Some("store-postgres-process") => {
            let rest = args[2..].to_vec();
            return tokio::task::spawn_blocking(move || relay::postgres_store_process(&rest)).await.expect("bench");
        }
        Some("idle") => return relay::idle_bench(args.get(2).map_or(10_000, |v| v.parse().expect("COUNT"))).await,
        Some("file-memory") => {
            let mib = args[3].parse().expect("MIB");
            return file_memory(&args[2], mib, std::path::Path::new(&args[4]));
        }
        _ => {
            eprintln!(
                "usage: huisclos-bench all [NAME…] | relay [BYTES] | file [MIB] | store [COUNT] | store-postgres [COUNT] \
                 | wire | idle [COUNT] \
                 | post [ITERATIONS] | feed [POSTS…] | notes [EDITS] | notes-2g [EDITS]"
            );
            std::process::exit(2);
        }
    }
    let n: usize = args.get(2).map_or(300, |v| v.parse().expect("ITERATIONS is a number"));
    // Warm up allocators and caches once, then measure.
    let _ = bare_openmls(20);
    let bare = bare_openmls(n);
    let crypto = content_crypto(n);
    let over_mls = content_over_mls(n);
    let engine_keep = whole_engine(n, HistoryMode::Keep).await;
    let engine_none = whole_engine(n, HistoryMode::None).await;

    println!("post of {TEXT_LEN} bytes, {n} iterations; ceiling: bare openmls application message (in memory)");
    println!();
    println!("| path | send µs | receive µs | send ratio | receive ratio |");
    println!("|---|---:|---:|---:|---:|");
    let row = |name: &str, pair: Pair| {
        println!(
            "| {name} | {:.1} | {:.1} | {:.2} | {:.2} |",
            micros(pair.send),
            micros(pair.receive),
            pair.send.as_secs_f64() / bare.send.as_secs_f64(),
            pair.receive.as_secs_f64() / bare.receive.as_secs_f64()
        );
    };
    row("bare openmls create / process (ceiling)", bare);
    row("content crypto: sign+seal / open+verify (no MLS, no I/O)", crypto);
    row("history none: envelope in MLS message, no I/O", over_mls);
    row("whole engine, history keep, in-process relay, durable", engine_keep);
    row("whole engine, history none, in-process relay, durable", engine_none);
}
