//! `huisclos-bench`: benchmarks reported as ratios to a ceiling measured in the same run.
//!
//! ```text
//! cargo run --release -p huisclos-tests --bin huisclos-bench -- post [ITERATIONS]
//! ```
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

fn author() -> (DeviceCertificate, DeviceKeys) {
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
        let sealed = SealedRecord::seal(&key, &group, &id, &envelope(&certificate, &keys, group, id)).unwrap();
        let bytes = sealed.to_bytes();
        send += start.elapsed();

        let start = Instant::now();
        let opened = SealedRecord::from_bytes(&bytes).unwrap().open(&key, &group, &id).unwrap();
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

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("post") => {}
        _ => {
            eprintln!("usage: huisclos-bench post [ITERATIONS]");
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
