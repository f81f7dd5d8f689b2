//! Notes written together, against bare yrs (the CRDT library) in the same run:
//!
//! - a note of about 100,000 characters built by 10,000 edits: merging another
//!   device's batch of typing (20 characters), through `core::note` (the checks of
//!   every update, then yrs's merge) and as the engine does it (merge into the note
//!   open in memory, then keep the update as one sealed row of the vault, committed),
//!   against bare yrs decoding and merging the same update;
//! - loading that note from its stored state, against bare yrs loading it;
//! - the bytes that cross the link per typed character while someone types, with the
//!   edits batched as an editor sends them (one update each 300 ms at about four
//!   characters a second), each in a signed envelope, sealed, and framed with the
//!   size-class padding of the wire.

use std::time::{Duration, Instant};

use huisclos_core::content::{
    ContentBody, ContentEnvelope, EnvelopeBody, HistoryKey, NoteEdit, NoteUpdateBytes, SealedRecord,
};
use huisclos_core::library::NodeId;
use huisclos_core::note::{NoteDoc, TextEdit, client_id};
use huisclos_protocol::access::AccessToken;
use huisclos_protocol::codec::Wire;
use huisclos_protocol::frame::Padding;
use huisclos_protocol::ids::{ContentId, Epoch, GroupId, RequestId, UnixSeconds};
use huisclos_protocol::messages::{ContentRecordBytes, GroupAccess, PutContent, Request, RequestBody};
use huisclos_tests::rng::Rng;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

const SAMPLES: usize = 21;
/// Merges take microseconds: more samples, for a stable median.
const MERGE_SAMPLES: usize = 101;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bare_load(state: &[u8]) -> Doc {
    let doc = Doc::new();
    doc.transact_mut().apply_update(Update::decode_v1(state).expect("state")).expect("integrates");
    doc
}

/// Benchmark: merging, loading, and bytes per typed character.
pub(crate) fn notes_bench(edits: usize) {
    let group = [0x61; 16];
    let note = [0x6e; 16];
    let alice = client_id(&group, &note, &[1; 32]);
    let bob = client_id(&group, &note, &[2; 32]);

    // The note: `edits` edits, each about ten characters typed somewhere, some words
    // deleted, to about 100,000 characters.
    let mut doc = NoteDoc::new(alice);
    let mut script = Rng::new(2026);
    for n in 0..edits {
        let len = doc.len_utf16();
        let at = (script.next_u64() % (u64::from(len) + 1)) as u32;
        let edit = if n % 10 == 9 && len > 20 {
            TextEdit { at: at.min(len - 5), delete: 5, insert: String::new() }
        } else {
            TextEdit { at, delete: 0, insert: format!("words {:05} ", n) }
        };
        doc.edit(&[edit]).expect("edit");
    }
    let state = doc.state();
    let chars = doc.text().chars().count();

    // Bob's batch: 20 characters typed at one place.
    let mut bobs = NoteDoc::load(bob, &state).expect("state");
    let at = bobs.len_utf16() / 2;
    let batch = bobs
        .edit(&[TextEdit { at, delete: 0, insert: "twenty characters!! ".into() }])
        .expect("edit")
        .expect("an update");

    let bare_merge = median(
        (0..MERGE_SAMPLES)
            .map(|_| {
                let target = bare_load(&state);
                let started = Instant::now();
                target.transact_mut().apply_update(Update::decode_v1(&batch).expect("update")).expect("merge");
                started.elapsed()
            })
            .collect(),
    );
    let core_merge = median(
        (0..MERGE_SAMPLES)
            .map(|_| {
                let mut target = NoteDoc::load(alice, &state).expect("state");
                let started = Instant::now();
                assert!(target.apply_remote(&batch, bob).expect("merge"));
                started.elapsed()
            })
            .collect(),
    );
    // As the engine merges: into the note open in memory, then the update kept as one
    // sealed row beside the note's state, committed (a vault in memory: sealing, no
    // disk; the disk's flush is the same for every record, see the store benchmarks).
    let vault_dir = tempfile::tempdir().expect("temporary directory");
    let vault = huisclos_core::vault::Vault::in_memory(vault_dir.path()).expect("vault");
    let engine_merge = median(
        (0..MERGE_SAMPLES)
            .enumerate()
            .map(|(n, _)| {
                let mut target = NoteDoc::load(alice, &state).expect("state");
                let started = Instant::now();
                assert!(target.apply_remote(&batch, bob).expect("merge"));
                vault.put_ordered("note-updates/bench", n as u64, &batch).expect("put");
                vault.commit().expect("commit");
                started.elapsed()
            })
            .collect(),
    );
    let bare_loading = median(
        (0..SAMPLES)
            .map(|_| {
                let started = Instant::now();
                let loaded = bare_load(&state);
                let took = started.elapsed();
                drop(loaded);
                took
            })
            .collect(),
    );
    let core_loading = median(
        (0..SAMPLES)
            .map(|_| {
                let started = Instant::now();
                let loaded = NoteDoc::load(alice, &state).expect("state");
                let took = started.elapsed();
                assert_eq!(loaded.len_utf16(), doc.len_utf16());
                took
            })
            .collect(),
    );

    println!(
        "a note of {chars} characters built by {edits} edits (stored state {} bytes); another device's batch of \
         20 typed characters ({} bytes) merged into it; median of {MERGE_SAMPLES} merges and {SAMPLES} loads; ceiling: bare yrs in the same run",
        state.len(),
        batch.len()
    );
    println!();
    println!("| what | ms | bare yrs ms | ratio |");
    println!("|---|---:|---:|---:|");
    let row = |what: &str, took: Duration, bare: Duration| {
        println!("| {what} | {:.3} | {:.3} | {:.2} |", ms(took), ms(bare), took.as_secs_f64() / bare.as_secs_f64());
    };
    row("merge a remote batch: core::note (checks, then yrs's merge)", core_merge, bare_merge);
    row(
        "merge a remote batch as the engine does: into the open note, then one sealed row committed",
        engine_merge,
        bare_merge,
    );
    row("load the note from its stored state", core_loading, bare_loading);
    println!();
    typing_bytes();
}

/// Bytes on the link per typed character: 200 characters typed at about four a second,
/// one update each 300 ms (one or two characters), each sent as a `PutContent` of a
/// sealed, signed `NoteEdit` in a padded frame.
fn typing_bytes() {
    let (certificate, keys) = crate::author();
    let group = GroupId::from_bytes([0x61; 16]);
    let note = NodeId::from_bytes([0x6e; 16]);
    let key = HistoryKey::generate(0);
    let mut doc = NoteDoc::new(client_id(group.as_bytes(), note.as_bytes(), &certificate.body.mls_key));
    let text = "The hearing of the detained journalists is moved to Thursday at nine; bring the \
                statements of the two witnesses and the medical report, and tell the families. \
                Ask the clerk for room 4 and a copy of the";
    let typed: Vec<char> = text.chars().take(200).collect();
    let (mut padded, mut unpadded, mut updates, mut sealed_total) = (0usize, 0usize, 0usize, 0usize);
    let mut at = 0u32;
    let mut n = 0usize;
    while n < typed.len() {
        // At four characters a second, a 300 ms batch holds one or two.
        let take = if updates % 5 == 4 { 2 } else { 1 };
        let piece: String = typed[n..(n + take).min(typed.len())].iter().collect();
        n += take;
        let update = doc.edit(&[TextEdit { at, delete: 0, insert: piece.clone() }]).expect("edit").expect("update");
        at += piece.encode_utf16().count() as u32;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(updates as u64).to_be_bytes());
        let id = ContentId::from_bytes(id);
        let body = EnvelopeBody {
            id,
            group,
            author: certificate.clone(),
            created_at: UnixSeconds::new(1_790_000_000).unwrap(),
            body: ContentBody::NoteEdit(NoteEdit { note, update: NoteUpdateBytes::new(update).unwrap() }),
        };
        let envelope = ContentEnvelope::sign(body, &keys.mls).unwrap();
        let sealed = SealedRecord::seal(&key, &group, &id, &envelope).unwrap().to_bytes();
        sealed_total += sealed.len();
        let request = Request {
            id: RequestId::new(1 + updates as u64).unwrap(),
            body: RequestBody::PutContent(PutContent {
                access: GroupAccess { group, epoch: Epoch::new(3).unwrap(), token: AccessToken::from_bytes([7; 32]) },
                record: id,
                sealed: ContentRecordBytes::new(sealed).unwrap(),
            }),
        };
        let payload = request.to_wire().len();
        unpadded += payload;
        padded += Padding::SizeClasses.frame_len(payload);
        updates += 1;
    }
    let chars = typed.len();
    println!(
        "typing {chars} characters, one update each 300 ms at about four characters a second ({updates} updates); \
         each a PutContent of a sealed, signed NoteEdit"
    );
    println!();
    println!("| per typed character | bytes |");
    println!("|---|---:|");
    println!("| sealed record | {:.0} |", sealed_total as f64 / chars as f64);
    println!("| request, unpadded | {:.0} |", unpadded as f64 / chars as f64);
    println!("| frame on the link, size-class padding | {:.0} |", padded as f64 / chars as f64);
}
