//! Benchmark 3: MLS operations in groups of 10 to 10,000 leaves, the core's MLS stack
//! against bare openmls.
//!
//! - **Bare openmls**: the in-memory `OpenMlsRustCrypto` provider, basic credentials,
//!   the same ciphersuite and wire-format policy.
//! - **Core**: the core's provider (openmls storage inside the encrypted vault on
//!   disk, committed and flushed after each operation, as the engine does after each
//!   step), its group configuration (encrypted handshakes, ratchet tree in Welcomes,
//!   capabilities for the space rules) and device certificates as credentials.
//!
//! Each group is built by one commit adding every member; the committer then times
//! adding one member, removing one, and a self-update commit, and a second member times
//! processing that commit (decrypting the path secret and merging).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use huisclos_core::identity::{CertificateBody, DeviceCertificate, DisplayName, IdentityKey};
use huisclos_core::mls::{CIPHERSUITE, DeviceSigner, Provider};
use huisclos_core::mls_storage::MlsStorage;
use huisclos_core::vault::{KdfParams, Passphrase, Unlock, Vault};
use huisclos_protocol::auth::DevicePublicKey;
use huisclos_protocol::ids::{AccountId, UnixSeconds};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::*;
use openmls_rust_crypto::OpenMlsRustCrypto;
use rand_core::OsRng;

/// What differs between the two stacks.
trait Stack {
    type P: OpenMlsProvider;
    fn provider(&self) -> (Self::P, Option<Arc<Vault>>, Option<tempfile::TempDir>);
    fn credential(&self, key: &SigningKey, n: usize) -> CredentialWithKey;
    fn capabilities(&self) -> Option<Capabilities>;
    fn create_config(&self) -> MlsGroupCreateConfig;
    fn join_config(&self) -> MlsGroupJoinConfig;
}

struct Bare;
struct Core;

fn bare_create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build()
}

impl Stack for Bare {
    type P = OpenMlsRustCrypto;
    fn provider(&self) -> (OpenMlsRustCrypto, Option<Arc<Vault>>, Option<tempfile::TempDir>) {
        (OpenMlsRustCrypto::default(), None, None)
    }
    fn credential(&self, key: &SigningKey, n: usize) -> CredentialWithKey {
        CredentialWithKey {
            credential: BasicCredential::new(format!("member {n}").into_bytes()).into(),
            signature_key: key.verifying_key().as_bytes().to_vec().into(),
        }
    }
    fn capabilities(&self) -> Option<Capabilities> {
        None
    }
    fn create_config(&self) -> MlsGroupCreateConfig {
        bare_create_config()
    }
    fn join_config(&self) -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build()
    }
}

impl Stack for Core {
    type P = Provider;
    fn provider(&self) -> (Provider, Option<Arc<Vault>>, Option<tempfile::TempDir>) {
        let dir = tempfile::tempdir().unwrap();
        let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
        let unlock = Unlock::Passphrase(Passphrase::new("benchmark passphrase"));
        let vault = Arc::new(Vault::create(dir.path(), &unlock, params).unwrap());
        (Provider::new(MlsStorage::new(vault.clone())), Some(vault), Some(dir))
    }
    fn credential(&self, key: &SigningKey, n: usize) -> CredentialWithKey {
        let identity = IdentityKey::generate();
        let body = CertificateBody {
            identity: identity.public(),
            account: AccountId::from_bytes([1; 16]),
            device: DevicePublicKey::from_signing_key(key).device_id(),
            mls_key: key.verifying_key().to_bytes(),
            name: DisplayName::new(format!("Member {n}")).unwrap(),
            created_at: UnixSeconds::new(1_790_000_000).unwrap(),
        };
        huisclos_core::mls::credential_with_key(&DeviceCertificate::issue(&identity, body).unwrap())
    }
    fn capabilities(&self) -> Option<Capabilities> {
        Some(huisclos_core::mls::capabilities())
    }
    fn create_config(&self) -> MlsGroupCreateConfig {
        huisclos_core::mls::create_config()
    }
    fn join_config(&self) -> MlsGroupJoinConfig {
        huisclos_core::mls::join_config()
    }
}

/// Times of one group size.
#[derive(Default, Clone, Copy)]
pub(crate) struct Times {
    build: Duration,
    add: Duration,
    remove: Duration,
    commit: Duration,
    process: Duration,
}

fn key_package<S: Stack>(stack: &S, provider: &impl OpenMlsProvider, n: usize) -> KeyPackage {
    let key = SigningKey::generate(&mut OsRng);
    let mut builder = KeyPackage::builder();
    if let Some(capabilities) = stack.capabilities() {
        builder = builder.leaf_node_capabilities(capabilities);
    }
    builder.build(CIPHERSUITE, provider, &DeviceSigner(&key), stack.credential(&key, n)).unwrap().key_package().clone()
}

fn wire<M: tls_codec::Serialize>(message: &M) -> Vec<u8> {
    message.tls_serialize_detached().unwrap()
}

fn protocol_message(bytes: &[u8]) -> ProtocolMessage {
    MlsMessageIn::tls_deserialize_exact(bytes).unwrap().try_into_protocol_message().unwrap()
}

fn run<S: Stack>(stack: &S, leaves: usize, repeats: u32) -> Times {
    let durable = |vault: &Option<Arc<Vault>>| {
        if let Some(vault) = vault {
            vault.commit().unwrap();
        }
    };
    // Members other than the two measured: their private keys are never used again.
    let others = OpenMlsRustCrypto::default();
    let (committer_provider, committer_vault, _committer_dir) = stack.provider();
    let (receiver_provider, receiver_vault, _receiver_dir) = stack.provider();
    let committer_key = SigningKey::generate(&mut OsRng);
    let receiver_key = SigningKey::generate(&mut OsRng);
    let committer_signer = DeviceSigner(&committer_key);
    let receiver_package = {
        let mut builder = KeyPackage::builder();
        if let Some(capabilities) = stack.capabilities() {
            builder = builder.leaf_node_capabilities(capabilities);
        }
        builder
            .build(CIPHERSUITE, &receiver_provider, &DeviceSigner(&receiver_key), stack.credential(&receiver_key, 1))
            .unwrap()
            .key_package()
            .clone()
    };
    durable(&receiver_vault);
    let mut packages = vec![receiver_package];
    packages.extend((2..leaves).map(|n| key_package(stack, &others, n)));

    let start = Instant::now();
    let mut committer = MlsGroup::new(
        &committer_provider,
        &committer_signer,
        &stack.create_config(),
        stack.credential(&committer_key, 0),
    )
    .unwrap();
    let (_, welcome, _) = committer.add_members(&committer_provider, &committer_signer, &packages).unwrap();
    committer.merge_pending_commit(&committer_provider).unwrap();
    durable(&committer_vault);
    let build = start.elapsed();
    let welcome = MlsMessageIn::tls_deserialize_exact(wire(&welcome)).unwrap();
    let MlsMessageBodyIn::Welcome(welcome) = welcome.extract() else { panic!("not a Welcome") };
    let mut receiver = StagedWelcome::new_from_welcome(&receiver_provider, &stack.join_config(), welcome, None)
        .unwrap()
        .into_group(&receiver_provider)
        .unwrap();
    durable(&receiver_vault);
    assert_eq!(receiver.members().count(), leaves);

    let receive = |receiver: &mut MlsGroup, bytes: &[u8]| {
        let processed = receiver.process_message(&receiver_provider, protocol_message(bytes)).unwrap();
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else { panic!() };
        receiver.merge_staged_commit(&receiver_provider, *staged).unwrap();
        durable(&receiver_vault);
    };
    let mut times = Times { build, ..Times::default() };
    for round in 0..repeats {
        let newcomer = key_package(stack, &others, leaves + round as usize);
        let start = Instant::now();
        let (commit, _, _) = committer.add_members(&committer_provider, &committer_signer, &[newcomer]).unwrap();
        committer.merge_pending_commit(&committer_provider).unwrap();
        durable(&committer_vault);
        times.add += start.elapsed();
        receive(&mut receiver, &wire(&commit));

        let last = LeafNodeIndex::new(u32::try_from(leaves).unwrap());
        let start = Instant::now();
        let (commit, _, _) = committer.remove_members(&committer_provider, &committer_signer, &[last]).unwrap();
        committer.merge_pending_commit(&committer_provider).unwrap();
        durable(&committer_vault);
        times.remove += start.elapsed();
        receive(&mut receiver, &wire(&commit));

        let start = Instant::now();
        let bundle =
            committer.self_update(&committer_provider, &committer_signer, LeafNodeParameters::default()).unwrap();
        committer.merge_pending_commit(&committer_provider).unwrap();
        durable(&committer_vault);
        times.commit += start.elapsed();
        let bytes = wire(bundle.commit());

        let start = Instant::now();
        receive(&mut receiver, &bytes);
        times.process += start.elapsed();
    }
    assert_eq!(receiver.epoch_authenticator().as_slice(), committer.epoch_authenticator().as_slice());
    times.add /= repeats;
    times.remove /= repeats;
    times.commit /= repeats;
    times.process /= repeats;
    times
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn mls_bench(sizes: &[usize]) {
    println!(
        "MLS in groups of growing size: the committer adds one member, removes one and commits a self-update \
         (each with its merge); a second member processes the self-update commit (decrypt the path secret, merge). \
         Core: the core's provider (storage in the encrypted vault, committed to disk after each operation), group \
         configuration and certificate credentials; ceiling: bare openmls in memory. Milliseconds per operation."
    );
    println!();
    println!(
        "| leaves | build (one commit adding all) core / bare | add core / bare | remove core / bare | commit core / bare \
         | process-commit core / bare | worst ratio | target ≤ 1.2× |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut process_at_largest = None;
    for &leaves in sizes {
        let repeats = if leaves >= 10_000 {
            2
        } else if leaves >= 1000 {
            3
        } else {
            10
        };
        let bare = run(&Bare, leaves, repeats);
        let core = run(&Core, leaves, repeats);
        let pair = |c: Duration, b: Duration| format!("{:.2} / {:.2} ({:.2}×)", ms(c), ms(b), ms(c) / ms(b));
        let ratios = [
            ms(core.add) / ms(bare.add),
            ms(core.remove) / ms(bare.remove),
            ms(core.commit) / ms(bare.commit),
            ms(core.process) / ms(bare.process),
        ];
        let worst = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "| {leaves} | {:.0} / {:.0} ms | {} | {} | {} | {} | {worst:.2}× | {} |",
            ms(core.build),
            ms(bare.build),
            pair(core.add, bare.add),
            pair(core.remove, bare.remove),
            pair(core.commit, bare.commit),
            pair(core.process, bare.process),
            if worst <= 1.2 { "met" } else { "missed" }
        );
        process_at_largest = Some((leaves, core.process));
    }
    if let Some((leaves, process)) = process_at_largest {
        println!();
        println!(
            "A commit processed in a {leaves}-leaf group by the core: {:.1} ms (target under 50 ms: {}).",
            ms(process),
            if ms(process) < 50.0 { "met" } else { "missed" }
        );
    }
}
