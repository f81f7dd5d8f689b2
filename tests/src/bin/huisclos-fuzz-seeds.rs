//! `huisclos-fuzz-seeds`: writes the fuzz targets' seed corpora into `fuzz/corpus/`,
//! from the protocol's known-answer vectors and from traffic recorded in a scenario.
//!
//! ```text
//! cargo run -p huisclos-tests --bin huisclos-fuzz-seeds
//! ```
//!
//! Seeds are named `seed-*`; what the fuzzers add beside them keeps its own names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};

use huisclos_core::content::{
    AppPayload, ContentBody, ContentEnvelope, EnvelopeBody, HistoryKey, Post, SealedRecord, Text,
};
use huisclos_core::identity::{CertificateBody, DeviceCertificate, DeviceKeys, DisplayName, IdentityKey};
use huisclos_core::library::{CreateNode, LibraryOp, NodeKind, NodeName, RenameNode};
use huisclos_core::space::{HistoryMode, Policy, Role};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::ids::{AccountId, ContentId, GroupId, UnixSeconds};
use huisclos_protocol::messages::RequestBody;
use huisclos_tests::sim::{SimDevice, SimRelay, create_space, space_with};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus().join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn vectors(file: &str) -> Vec<(String, Vec<u8>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol-spec/vectors").join(file);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(' '))
        .map(|(name, hex)| (name.to_owned(), hex::decode(hex.trim()).unwrap()))
        .collect()
}

fn author() -> (IdentityKey, DeviceCertificate, DeviceKeys) {
    let identity = IdentityKey::generate();
    let keys = DeviceKeys::generate();
    let body = CertificateBody {
        identity: identity.public(),
        account: AccountId::from_bytes([3; 16]),
        device: keys.device_id(),
        mls_key: keys.mls_public(),
        name: DisplayName::new("Alice").unwrap(),
        created_at: UnixSeconds::new(1_790_000_000).unwrap(),
    };
    let certificate = DeviceCertificate::issue(&identity, body).unwrap();
    (identity, certificate, keys)
}

fn content_seeds() {
    let (_, certificate, keys) = author();
    let group = GroupId::from_bytes([7; 16]);
    let id = ContentId::from_bytes([1; 16]);
    let body = ContentBody::Post(Post { text: Text::new("The hearing moved to Thursday").unwrap() });
    let signed = EnvelopeBody { id, group, author: certificate, created_at: UnixSeconds::new(1).unwrap(), body };
    let envelope = ContentEnvelope::sign(signed, &keys.mls).unwrap();
    write("content", "envelope", &[[0u8].as_slice(), &envelope.to_wire()].concat());
    let sealed = SealedRecord::seal(&HistoryKey::from_parts(0, [9; 32]), &group, &id, &envelope).unwrap();
    write("content", "sealed-record", &[[1u8].as_slice(), &sealed.to_bytes()].concat());
    write("content", "app-payload", &[[2u8].as_slice(), &AppPayload::Content(envelope).to_wire()].concat());
    let ops = [
        LibraryOp::Create(CreateNode {
            node: huisclos_core::library::NodeId::from_bytes([1; 16]),
            kind: NodeKind::Folder,
            name: NodeName::new("Evidence").unwrap(),
            parent: None,
        }),
        LibraryOp::Rename(RenameNode {
            node: huisclos_core::library::NodeId::from_bytes([1; 16]),
            name: NodeName::new("Sealed").unwrap(),
        }),
    ];
    let mut library = vec![4u8];
    for op in &ops {
        op.encode(&mut library);
    }
    write("content", "library", &library);
}

fn chunk_seeds() {
    for (name, len) in [("empty", 0usize), ("small", 100)] {
        let data = vec![0x5au8; len];
        let mut chunks = Vec::new();
        let manifest = huisclos_core::chunk::seal_stream(&data[..], len as u64, |c| {
            chunks.push(c.bytes.clone());
            Ok(())
        })
        .unwrap();
        let manifest = manifest.to_wire();
        let mut seed = u16::try_from(manifest.len()).unwrap().to_be_bytes().to_vec();
        seed.extend_from_slice(&manifest);
        seed.extend_from_slice(&chunks[0]);
        write("chunk", name, &seed);
    }
}

/// Updates as devices make them on the `note` target's document, and the update of
/// thousands of empty sections that once overflowed the stack.
fn note_seeds() {
    use huisclos_core::note::{NoteDoc, TextEdit};
    use huisclos_tests::fuzzing::{NOTE_CLIENTS, note_base};
    let edit = |at, delete, insert: &str| TextEdit { at, delete, insert: insert.to_owned() };
    let seed = |selector: u8, updates: &[&[u8]]| {
        let mut bytes = vec![selector];
        for update in updates {
            bytes.extend_from_slice(&u16::try_from(update.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(update);
        }
        bytes
    };
    for (who, client) in NOTE_CLIENTS.iter().enumerate() {
        let mut doc = NoteDoc::load(*client, note_base()).unwrap();
        let typed = doc.edit(&[edit(5, 0, "Thursday"), edit(0, 3, "")]).unwrap().unwrap();
        let deleted = doc.edit(&[edit(1, 6, "")]).unwrap().unwrap();
        let selector = u8::try_from(who).unwrap();
        write("note", &format!("typed-{who}"), &seed(selector | 0x80, &[&typed, &deleted]));
        write("note", &format!("reversed-{who}"), &seed(selector, &[&deleted, &typed]));
    }
    let mut empty = Vec::new();
    let mut var = |mut value: u64| loop {
        let byte = u8::try_from(value & 0x7f).unwrap();
        value >>= 7;
        if value == 0 {
            empty.push(byte);
            break;
        }
        empty.push(byte | 0x80);
    };
    var(15_000);
    for n in 0..15_000u64 {
        var(0);
        var(n);
        var(0);
    }
    var(0);
    write("note", "empty-sections", &seed(0, &[&empty]));
    note_together_seeds();
}

/// Compactions that each build on the other's text, as two devices typing in turns
/// make them: neither merges alone, both merge together. Typed into the
/// `note_together` target's document, with the update that waits last and first.
fn note_together_seeds() {
    use huisclos_core::note::{NoteDoc, TextEdit, compact_updates};
    use huisclos_tests::fuzzing::{NOTE_CLIENTS, note_base};
    let edit = |at, insert: &str| TextEdit { at, delete: 0, insert: insert.to_owned() };
    let [alice, bob] = [0, 1].map(|who| NoteDoc::load(NOTE_CLIENTS[who], note_base()).unwrap());
    let (mut alice, mut bob) = (alice, bob);
    let first = alice.edit(&[edit(0, "On ")]).unwrap().unwrap();
    bob.apply_remote(&first, NOTE_CLIENTS[0]).unwrap();
    let answer = bob.edit(&[edit(3, "Monday, ")]).unwrap().unwrap();
    alice.apply_remote(&answer, NOTE_CLIENTS[1]).unwrap();
    let second = alice.edit(&[edit(11, "at nine, ")]).unwrap().unwrap();
    let compacted = compact_updates(&[&first, &second]).unwrap().unwrap();
    let seed = |selector: u8, updates: &[(u8, &[u8])]| {
        let mut bytes = vec![selector];
        for (author, update) in updates {
            bytes.push(*author);
            bytes.extend_from_slice(&u16::try_from(update.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(update);
        }
        bytes
    };
    write("note_together", "compaction-then-answer", &seed(0x80, &[(0, &compacted), (1, &answer)]));
    write("note_together", "answer-then-compaction", &seed(0x40, &[(1, &answer), (0, &compacted)]));
    write("note_together", "updates-in-turns", &seed(0xc0, &[(0, &second), (1, &answer), (0, &first)]));
}

/// The images the tests strip (`tests/fixtures/make_*.py`).
fn image_seeds() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in ["photo-with-gps.jpg", "image-with-metadata.png", "image-with-metadata.webp", "image-with-metadata.gif"]
    {
        write("image", name, &std::fs::read(fixtures.join(name)).unwrap());
    }
}

fn vault_seed() {
    use huisclos_core::vault::{KdfParams, Passphrase, Unlock, Vault};
    let dir = tempfile::tempdir().unwrap();
    let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
    drop(Vault::create(dir.path(), &Unlock::Passphrase(Passphrase::new("seed passphrase")), params).unwrap());
    write("vault_header", "profile-key", &std::fs::read(dir.path().join("profile.key")).unwrap());
    // A stored value's shape: a nonce, a ciphertext, a tag (it does not open: only the
    // vault's own key seals values that do).
    write("vault_record", "shape", &[[0u8].as_slice(), &[0x42; 24 + 33 + 16]].concat());
}

/// Texts as people paste them, and a scenario's requests as a device sends them.
async fn scenario_seeds() {
    let relay = SimRelay::new();
    let invitation = relay.invitation().await;
    write("texts", "invitation", &[[0u8].as_slice(), invitation.to_text().as_bytes()].concat());
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let card = bob.engine().contact_card().unwrap();
    write("texts", "contact-card", &[[1u8].as_slice(), card.to_text().as_bytes()].concat());
    let open = create_space(&mut alice, "Newsroom", Policy::Open, HistoryMode::Keep);
    alice.drive(&relay).await;
    let space_card = alice.engine_mut().space_card(&open).unwrap();
    write("texts", "space-card", &[[2u8].as_slice(), space_card.to_text().as_bytes()].concat());
    let offer = alice.engine_mut().link_offer().unwrap();
    write("texts", "link-offer", &[[3u8].as_slice(), offer.to_text().as_bytes()].concat());

    // Alice's requests, recorded as she creates a space, invites Bob and posts: the
    // relay seed replays them after its own login.
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    alice.engine_mut().post(&space, "Recorded for the fuzzer").unwrap();
    let fresh = create_space(&mut alice, "Case 208", Policy::Confidential, HistoryMode::None);
    alice.engine_mut().post(&fresh, "In an MLS message").unwrap();
    let mut recorded = Vec::new();
    while let Some(body) = alice.hold() {
        let keep = !matches!(
            body,
            RequestBody::GetChallenge(_) | RequestBody::Authenticate(_) | RequestBody::CreateAccount(_)
        );
        if keep {
            body.encode(&mut recorded);
        }
        if let RequestBody::AppendMessage(append) = body {
            write("content", "mls-message", &[[2u8].as_slice(), append.message.as_bytes()].concat());
        }
        alice.step(&relay).await;
    }
    write("relay", "scenario", &recorded);
}

fn protocol_seeds() {
    for (name, bytes) in vectors("messages.txt") {
        let target = if name.starts_with("Request") { "request" } else { "relay_message" };
        write(target, &name, &bytes);
    }
    for (name, bytes) in vectors("frames.txt") {
        write("frame", &name, &bytes);
    }
}

fn clear_seeds(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("seed-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for (target, _) in huisclos_tests::fuzzing::TARGETS {
        clear_seeds(&corpus().join(target));
    }
    protocol_seeds();
    content_seeds();
    chunk_seeds();
    image_seeds();
    vault_seed();
    note_seeds();
    scenario_seeds().await;
    for (target, _) in huisclos_tests::fuzzing::TARGETS {
        let count = std::fs::read_dir(corpus().join(target)).map(Iterator::count).unwrap_or(0);
        println!("{target}: {count} files");
    }
}
