//! The fuzz targets' bodies: every decoder a relay or a peer can reach, and the relay's
//! request handler. The cargo-fuzz targets in `fuzz/` call these; so does the normal
//! test suite, which replays every file of `fuzz/corpus/<target>/` through its target
//! (`tests/fuzz_corpus.rs`), so the targets never rot.
//!
//! A target returns normally on any input; it panics only when an invariant breaks:
//! a decoder that accepts bytes it would not produce (the encoding is canonical), or a
//! relay whose logs stop being dense and ordered.

// Harness code: a failure here is the finding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::sync::OnceLock;

use huisclos_protocol::codec::Wire;
use huisclos_protocol::ids::GroupId;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/` binary and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame", frame),
    ("request", request),
    ("relay_message", relay_message),
    ("texts", texts),
    ("content", content),
    ("chunk", chunk),
    ("image", image),
    ("vault_header", vault_header),
    ("vault_record", vault_record),
    ("relay", relay),
    ("note", note),
    ("note_together", note_together),
];

/// Decoding then encoding gives back the same bytes: one encoding per value.
fn canonical<T: Wire>(data: &[u8]) {
    if let Ok(value) = T::from_wire(data) {
        assert_eq!(value.to_wire(), data, "{} accepted a non-canonical encoding", std::any::type_name::<T>());
    }
}

/// The frame reader over the input cut into pieces, and one-shot frame decoding.
pub fn frame(data: &[u8]) {
    use huisclos_protocol::frame::{FrameReader, decode_message};
    use huisclos_protocol::messages::{RelayMessage, Request};
    let step = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let mut reader = FrameReader::new();
    for piece in data.chunks(step) {
        if reader.push(piece).is_err() {
            break;
        }
        while let Ok(Some(payload)) = reader.next_payload() {
            canonical::<Request>(&payload);
        }
        assert!(reader.buffered() <= FrameReader::MAX_BUFFERED);
    }
    let _ = decode_message::<RelayMessage>(data);
    let _ = decode_message::<Request>(data);
}

/// A client's request, as the relay decodes it.
pub fn request(data: &[u8]) {
    canonical::<huisclos_protocol::messages::Request>(data);
}

/// The relay's answers and events, as a client decodes them.
pub fn relay_message(data: &[u8]) {
    canonical::<huisclos_protocol::messages::RelayMessage>(data);
}

/// The texts people paste: invitations, contact and space cards, link offers and
/// requests.
pub fn texts(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    match selector % 5 {
        0 => drop(huisclos_protocol::invitation::Invitation::from_text(&text)),
        1 => drop(huisclos_core::identity::ContactCard::from_text(&text)),
        2 => drop(huisclos_core::join::SpaceCard::from_text(&text)),
        3 => drop(huisclos_core::link::LinkOffer::from_text(&text)),
        _ => drop(huisclos_core::link::LinkRequest::from_text(&text)),
    }
}

/// What members send each other inside MLS messages and sealed records.
pub fn content(data: &[u8]) {
    use huisclos_core::content::{AppPayload, ContentEnvelope, HistoryKey, ReferringEnvelope, SealedRecord};
    use huisclos_core::library::{Library, LibraryOp, Stamp};
    let Some((&selector, rest)) = data.split_first() else { return };
    let group = GroupId::from_bytes([7; 16]);
    match selector % 6 {
        0 => {
            canonical::<ContentEnvelope>(rest);
            canonical::<ReferringEnvelope>(rest);
            if let Ok(envelope) = ContentEnvelope::from_wire(rest) {
                let _ = envelope.verify(&group);
            }
        }
        1 => {
            if let Ok(record) = SealedRecord::from_bytes(rest) {
                let key = HistoryKey::from_parts(record.generation, [9; 32]);
                let id = huisclos_protocol::ids::ContentId::from_bytes([1; 16]);
                if let Ok(opened) = record.open(&key, &group, &id)
                    && let Ok(envelope) = opened.resolve(|_| None)
                {
                    let _ = envelope.verify(&group);
                }
            }
        }
        2 => canonical::<AppPayload>(rest),
        3 => canonical::<huisclos_core::link::InboxItem>(rest),
        4 => {
            // A series of library operations, each applied and the tree drawn.
            let mut library = Library::default();
            let mut reader = huisclos_protocol::codec::Reader::new(rest);
            while let Ok(op) = LibraryOp::decode(&mut reader) {
                let _ = library.apply(Stamp::default(), &op, 0);
            }
            let _ = library.listing();
            let _ = library.children(None);
        }
        _ => {
            if let Ok(sealed) = huisclos_core::join::SealedJoinRequest::new(rest.to_vec()) {
                let secret = x25519_dalek::StaticSecret::from([5; 32]);
                let _ = huisclos_core::join::JoinRequest::open(&sealed, &group, &secret);
            }
        }
    }
}

/// A file manifest and a chunk opened with it.
pub fn chunk(data: &[u8]) {
    use huisclos_core::chunk::{FileManifest, FileOpener};
    if data.len() < 3 {
        return;
    }
    let split = usize::from(u16::from_be_bytes([data[0], data[1]])).min(data.len() - 2);
    let (manifest, sealed) = data[2..].split_at(split);
    canonical::<FileManifest>(manifest);
    if let Ok(manifest) = FileManifest::from_wire(manifest)
        && let Ok(opener) = FileOpener::new(&manifest)
    {
        let index = usize::from(sealed.first().copied().unwrap_or(0));
        let _ = opener.open(index, sealed);
    }
}

/// An image's metadata taken out before upload: whatever the bytes, no panic; what
/// comes out is an image of the same kind that a second pass leaves as it is (nothing
/// left to take out).
pub fn image(data: &[u8]) {
    use huisclos_core::media::{SNIFF_LEN, sniff, strip_metadata};
    if let Ok(std::borrow::Cow::Owned(clean)) = strip_metadata(data) {
        assert_eq!(sniff(&clean[..clean.len().min(SNIFF_LEN)]), sniff(&data[..data.len().min(SNIFF_LEN)]));
        match strip_metadata(&clean) {
            Ok(again) => assert_eq!(again.as_ref(), clean.as_slice(), "a second pass changed the image"),
            Err(error) => panic!("a stripped image is refused: {error}"),
        }
    }
}

/// A profile's header file, as the store parses it before any key derivation.
pub fn vault_header(data: &[u8]) {
    if let Ok(again) = huisclos_core::vault::Vault::parse_header_for_fuzzing(data) {
        assert_eq!(again, data, "a header that does not encode back to itself");
    }
}

/// A value as the local store reads it from disk: authenticated against its slot and
/// opened, then, when that works, decoded as the engine's records are.
pub fn vault_record(data: &[u8]) {
    use huisclos_core::vault::{KdfParams, Passphrase, Unlock, Vault};
    static VAULT: OnceLock<(tempfile::TempDir, Vault)> = OnceLock::new();
    let (_, vault) = VAULT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
        let vault =
            Vault::create(dir.path(), &Unlock::Passphrase(Passphrase::new("fuzzing passphrase")), params).unwrap();
        (dir, vault)
    });
    let Some((&selector, rest)) = data.split_first() else { return };
    let namespace = ["profile", "groups", "outbox", "library"][usize::from(selector % 4)];
    let _ = vault.open_stored_for_fuzzing(namespace, b"me", rest);
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
}

/// A fresh relay (its real handler and sled store) and one authenticated device that
/// sends the input's requests, one after another; then the relay's invariants are
/// checked: every group's log is dense and each epoch closes with one commit.
pub fn relay(data: &[u8]) {
    use huisclos_protocol::messages::RequestBody;
    runtime().block_on(async {
        let relay = crate::sim::SimRelay::new();
        let session = relay.session().await;
        let mut reader = huisclos_protocol::codec::Reader::new(data);
        let mut groups = Vec::new();
        for _ in 0..64 {
            let Ok(body) = RequestBody::decode(&mut reader) else { break };
            if let RequestBody::CreateGroup(create) = &body {
                groups.push(create.group);
            }
            let _ = relay.session_request(&session, body).await;
        }
        relay.check_logs(&groups);
        relay.check_quota(&session);
    });
}

/// The clients of [`note`]'s document: two other devices and this one.
pub const NOTE_CLIENTS: [u64; 3] = [0x1a11ce, 0xb0b, 0x3e];

/// The most updates one [`note`] input is cut into.
const NOTE_UPDATES_PER_INPUT: usize = 4;

/// The stack [`note`] merges on: a fraction of a tokio worker's 2 MiB, so that an
/// update whose merge recurses deeply (as 15,000 empty sections once did, aborting
/// every device that read it) is found here, not on a phone.
pub const NOTE_STACK: usize = 256 * 1024;

/// The document every [`note`] input is merged into: a few edits by each client, one
/// of them deleted, so that updates can build on, and delete, each one's text.
pub fn note_base() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        use huisclos_core::note::{NoteDoc, TextEdit};
        let edit = |at, delete, insert: &str| TextEdit { at, delete, insert: insert.to_owned() };
        let [alice, bob, me] = NOTE_CLIENTS.map(NoteDoc::new);
        let mut docs = [alice, bob, me];
        let scripts: [&[TextEdit]; 3] = [
            &[edit(0, 0, "# Hearing\n\nThe witness ")],
            &[edit(23, 0, "**will not** "), edit(0, 0, "> ")],
            &[edit(2, 2, ""), edit(4, 0, "moved: 3 Dec, "), edit(10, 0, "🙂")],
        ];
        for (at, script) in scripts.iter().enumerate() {
            let update = docs[at].edit(script).unwrap().unwrap();
            for (other, doc) in docs.iter_mut().enumerate() {
                if other != at {
                    doc.apply_remote(&update, NOTE_CLIENTS[at]).unwrap();
                }
            }
        }
        docs[2].state()
    })
}

/// Updates merged into a note held by this device ([`note_base`]), each by one of
/// [`NOTE_CLIENTS`]: the first byte picks the author (and whether the delta is read),
/// then up to four updates, each a 16-bit big-endian length and its bytes. A refused
/// update must leave the text and the state as they were; a merged one must give the
/// text its delta describes, within the length bound, and a state that loads again to
/// the same text. All of it on a small stack ([`NOTE_STACK`]).
pub fn note(data: &[u8]) {
    on_note_stack(data, merge_note_updates);
}

/// Runs `check` on `data` in a thread of [`NOTE_STACK`], passing its panic on.
fn on_note_stack(data: &[u8], check: fn(&[u8])) {
    let data = data.to_vec();
    let checked = std::thread::Builder::new().stack_size(NOTE_STACK).spawn(move || check(&data));
    if let Err(panic) = checked.unwrap().join() {
        std::panic::resume_unwind(panic);
    }
}

fn merge_note_updates(data: &[u8]) {
    use huisclos_core::note::NoteDoc;
    let Some((&selector, mut rest)) = data.split_first() else { return };
    let author = NOTE_CLIENTS[usize::from((selector & 0x7f) % 3)];
    let with_delta = selector & 0x80 != 0;
    let me = NOTE_CLIENTS[2];
    let mut doc = NoteDoc::load(me, note_base()).unwrap();
    for _ in 0..NOTE_UPDATES_PER_INPUT {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else { return };
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (update, tail) = tail.split_at(len);
        rest = tail;
        let (text, state) = (doc.text(), doc.state_vector());
        let outcome = if with_delta {
            doc.apply_remote_with_delta(update, author).map(Some)
        } else {
            doc.apply_remote(update, author).map(|_| None)
        };
        if !merge_held(&doc, &text, |doc| doc.state_vector() == state, outcome) {
            return;
        }
    }
}

/// Checks what merging left in `doc`, which held `text` before (and whose state
/// `state_as_before` recognises): a refusal
/// that left it intact changed nothing; a merge kept the length bound, its delta (if
/// asked) gives the new text, and its state loads again to the same text. False if
/// the document is broken (the engine drops it and reads the note again).
fn merge_held(
    doc: &huisclos_core::note::NoteDoc,
    text: &str,
    state_as_before: impl Fn(&huisclos_core::note::NoteDoc) -> bool,
    outcome: Result<Option<Vec<huisclos_core::note::TextEdit>>, huisclos_core::note::NoteRefusal>,
) -> bool {
    use huisclos_core::note::{MAX_NOTE_UNITS, NoteDoc};
    {
        match outcome {
            Err(_) if doc.is_intact() => {
                assert_eq!(doc.text(), text, "a refused update changed the text");
                assert!(state_as_before(doc), "a refused update changed the state");
            }
            // Broken part of the way: the engine drops such a document (and the
            // record's whole step) and reads the note again from the store.
            Err(_) => return false,
            Ok(delta) => {
                assert!(doc.len_utf16() <= MAX_NOTE_UNITS, "a merged note passed its length bound");
                if let Some(edits) = delta {
                    let mut shown: Vec<u16> = text.encode_utf16().collect();
                    for edit in edits {
                        let at = edit.at as usize;
                        let end = at + edit.delete as usize;
                        assert!(end <= shown.len(), "a delta edit past the text's end");
                        shown.splice(at..end, edit.insert.encode_utf16());
                    }
                    // Offsets are UTF-16 units, and an update may cut a surrogate pair
                    // (an editor's text then holds half of one): the text reads it as
                    // U+FFFD, as yrs does. An update may also split a pair without a
                    // unit shown or taken (a deleted block typed between its halves):
                    // yrs then shows each half as U+FFFD, which no delta says, while
                    // the editor keeps the pair. Same length, same offsets; only those
                    // two units read differently until the editor reads the text again
                    // (spec: "What an editor is told").
                    let held: Vec<u16> = doc.text().encode_utf16().collect();
                    let alike = shown.len() == held.len()
                        && shown.iter().zip(&held).all(|(&shown, &held)| {
                            shown == held || (held == 0xfffd && (0xd800..0xe000).contains(&shown))
                        });
                    assert!(
                        alike,
                        "the delta does not give the text: {:?} against {:?}",
                        String::from_utf16_lossy(&shown),
                        doc.text()
                    );
                }
                let again = NoteDoc::load(NOTE_CLIENTS[2], &doc.state()).expect("a merged note's state loads again");
                assert_eq!(again.text(), doc.text(), "a merged note's state loads to another text");
            }
        }
    }
    true
}

/// Updates merged together into a note held by this device ([`note_base`]), as the
/// engine merges updates that waited: the first byte says whether the delta is read
/// (bit 7) and whether this device typed in the note first, so that it has undo
/// history and merges on a copy (bit 6); then up to four updates, each an author
/// byte (one of [`NOTE_CLIENTS`]), a 16-bit big-endian length and its bytes. Which
/// of them merge together is asked first, as the engine asks; then those are merged
/// together, with [`note`]'s checks; and the updates are compacted as a device
/// compacts its own, which must not fail but with an error. On [`NOTE_STACK`].
pub fn note_together(data: &[u8]) {
    on_note_stack(data, merge_note_updates_together);
}

fn merge_note_updates_together(data: &[u8]) {
    use huisclos_core::note::{MAX_UPDATE_LEN, NoteDoc, TextEdit, compact_updates};
    let Some((&selector, mut rest)) = data.split_first() else { return };
    let with_delta = selector & 0x80 != 0;
    let mut doc = NoteDoc::load(NOTE_CLIENTS[2], note_base()).unwrap();
    if selector & 0x40 != 0 {
        let typed = doc.edit(&[TextEdit { at: 2, delete: 1, insert: "§".to_owned() }]);
        assert!(matches!(typed, Ok(Some(_))), "typing into the base note");
    }
    let mut updates: Vec<(&[u8], u64)> = Vec::new();
    while updates.len() < NOTE_UPDATES_PER_INPUT {
        let Some((&author, tail)) = rest.split_first() else { break };
        let Some((len, tail)) = tail.split_first_chunk::<2>() else { break };
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (update, tail) = tail.split_at(len);
        rest = tail;
        updates.push((update, NOTE_CLIENTS[usize::from(author % 3)]));
    }
    let bytes: Vec<&[u8]> = updates.iter().map(|(update, _)| *update).collect();
    if let Ok(Some(compacted)) = compact_updates(&bytes) {
        assert!(compacted.len() <= MAX_UPDATE_LEN, "a compaction past an update's size");
    }
    let (text, state) = (doc.text(), doc.state_vector());
    let chosen = doc.mergeable_together(&updates);
    assert_eq!(doc.text(), text, "asking which merge changed the text");
    assert_eq!(doc.state_vector(), state, "asking which merge changed the state");
    assert!(chosen.windows(2).all(|pair| pair[0] < pair[1]) && chosen.iter().all(|&at| at < updates.len()));
    let together: Vec<(&[u8], u64)> = chosen.iter().map(|&at| updates[at]).collect();
    if together.is_empty() {
        return;
    }
    let outcome = doc.apply_remote_together(&together, with_delta).map(|merged| with_delta.then_some(merged.edits));
    merge_held(&doc, &text, |doc| doc.state_vector() == state, outcome);
}
