use proptest::prelude::*;

use super::*;

const GROUP: [u8; 16] = [7; 16];
const NOTE: [u8; 16] = [9; 16];

fn device(n: u8) -> NoteDoc {
    NoteDoc::new(client_id(&GROUP, &NOTE, &[n; 32]))
}

#[test]
fn client_ids_are_53_bits_and_differ_per_device_space_and_note() {
    let a = client_id(&GROUP, &NOTE, &[1; 32]);
    assert!(a <= CLIENT_ID_MASK);
    assert_ne!(a, client_id(&GROUP, &NOTE, &[2; 32]));
    assert_ne!(a, client_id(&[8; 16], &NOTE, &[1; 32]));
    assert_ne!(a, client_id(&GROUP, &[8; 16], &[1; 32]));
    assert_eq!(a, client_id(&GROUP, &NOTE, &[1; 32]));
    // The largest is kept back for the sentinel that reads the order of deleted items.
    assert_eq!(super::derived_client(&[0xff; 32]), CLIENT_ID_MASK - 1);
}

/// An update naming the sentinel's client, in a block or a deletion, is refused: a
/// key ground to that id would leave devices unable to read the order of deleted
/// items.
#[test]
fn an_update_naming_the_sentinels_client_is_refused() {
    let mut doc = device(1);
    let sentinel = CLIENT_ID_MASK;
    assert_eq!(doc.apply_remote(&hand_made(sentinel, 0, &[(None, "x")], &[]), sentinel), Err(NoteRefusal::Malformed));
    let client = doc.client();
    doc.edit(&[TextEdit { at: 0, delete: 0, insert: "ab".into() }]).unwrap().unwrap();
    let other = device(2).client();
    let mut deletion = Vec::new();
    for value in [0, 1, sentinel, 1, 0, 1] {
        var(&mut deletion, value);
    }
    assert_eq!(doc.apply_remote(&deletion, other), Err(NoteRefusal::Malformed));

    assert_eq!(doc.apply_remote(&hand_made(other, 0, &[(Some((client, 0)), "y")], &[]), other), Ok(true));
}

#[test]
fn two_people_typing_at_once_keep_both_texts() {
    let mut alice = device(1);
    let mut bob = device(2);
    let base = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "Hearing on Monday.".into() }]).unwrap().unwrap();
    assert!(bob.apply_remote(&base, alice.client()).unwrap());
    let from_alice = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "# Case\n".into() }]).unwrap().unwrap();
    let from_bob = bob.edit(&[TextEdit { at: 18, delete: 0, insert: " Bring the file.".into() }]).unwrap().unwrap();
    alice.apply_remote(&from_bob, bob.client()).unwrap();
    bob.apply_remote(&from_alice, alice.client()).unwrap();
    assert_eq!(alice.text(), "# Case\nHearing on Monday. Bring the file.");
    assert_eq!(alice.text(), bob.text());
}

#[test]
fn an_update_inserting_under_another_devices_id_is_refused_and_changes_nothing() {
    let mut alice = device(1);
    let mut mallory = device(3);
    let before = alice.state();
    // Mallory's own update, claimed as Alice's: its items carry Mallory's id.
    let update = mallory.edit(&[TextEdit { at: 0, delete: 0, insert: "signed by Alice".into() }]).unwrap().unwrap();
    assert_eq!(alice.apply_remote(&update, alice.client()), Err(NoteRefusal::ForeignClient));
    // And a document made with Alice's id by someone who is not Alice.
    let mut forged = NoteDoc::new(alice.client());
    let update = forged.edit(&[TextEdit { at: 0, delete: 0, insert: "mine".into() }]).unwrap().unwrap();
    assert_eq!(alice.apply_remote(&update, mallory.client()), Err(NoteRefusal::ForeignClient));
    assert_eq!(alice.state(), before);
    assert_eq!(alice.text(), "");
}

#[test]
fn bytes_that_are_no_update_or_too_large_are_refused_and_change_nothing() {
    let mut alice = device(1);
    alice.edit(&[TextEdit { at: 0, delete: 0, insert: "kept".into() }]).unwrap();
    let before = alice.state();
    for garbage in [&[0xff_u8; 40][..], &[1, 2, 3], &[0, 1, 255, 255, 255, 255, 15]] {
        assert!(alice.apply_remote(garbage, 5).is_err(), "{garbage:?}");
    }
    assert_eq!(alice.apply_remote(&vec![0; MAX_UPDATE_LEN + 1], 5), Err(NoteRefusal::TooLarge));
    assert_eq!(alice.state(), before);
    assert_eq!(alice.text(), "kept");
    assert!(NoteDoc::load(1, &[0xff; 12]).is_err());
}

#[test]
fn a_note_past_its_length_is_refused_locally_and_from_others() {
    let mut alice = device(1);
    let long = "x".repeat(MAX_NOTE_UNITS as usize);
    let mut writer = device(2);
    let update = writer.edit(&[TextEdit { at: 0, delete: 0, insert: long.clone() }]).unwrap();
    assert!(update.is_some());
    assert_eq!(writer.edit(&[TextEdit { at: 0, delete: 0, insert: "y".into() }]), Err(NoteRefusal::NoteTooLong));
    alice.edit(&[TextEdit { at: 0, delete: 0, insert: "z".into() }]).unwrap();
    // Too large for one update anyway; the length bound is checked on what merges.
    assert!(alice.apply_remote(&update.unwrap(), writer.client()).is_err());
    assert_eq!(alice.text(), "z");
}

#[test]
fn the_same_old_text_becomes_one_shared_first_item() {
    let mut alice = NoteDoc::with_base(client_id(&GROUP, &NOTE, &[1; 32]), &GROUP, &NOTE, "Minutes");
    let mut bob = NoteDoc::with_base(client_id(&GROUP, &NOTE, &[2; 32]), &GROUP, &NOTE, "Minutes");
    let a = alice.edit(&[TextEdit { at: 7, delete: 0, insert: " (draft)".into() }]).unwrap().unwrap();
    let b = bob.edit(&[TextEdit { at: 0, delete: 0, insert: "# ".into() }]).unwrap().unwrap();
    alice.apply_remote(&b, bob.client()).unwrap();
    bob.apply_remote(&a, alice.client()).unwrap();
    assert_eq!(alice.text(), "# Minutes (draft)");
    assert_eq!(alice.text(), bob.text());
}

#[test]
fn a_state_loads_as_the_same_document() {
    let mut alice = device(1);
    alice.edit(&[TextEdit { at: 0, delete: 0, insert: "héllo 👋 wörld".into() }]).unwrap();
    alice.edit(&[TextEdit { at: 6, delete: 2, insert: "".into() }]).unwrap();
    let loaded = NoteDoc::load(alice.client(), &alice.state()).unwrap();
    assert_eq!(loaded.text(), alice.text());
    assert_eq!(loaded.text(), "héllo  wörld");
}

#[test]
fn replacing_the_whole_text_keeps_what_others_typed_elsewhere() {
    let mut alice = device(1);
    let mut bob = device(2);
    let base = alice.replace_text("line one\nline two\nline three\n").unwrap().unwrap();
    bob.apply_remote(&base, alice.client()).unwrap();
    // Alice saves her editor's file with a change on line one; Bob meanwhile typed on
    // line three.
    let a = alice.replace_text("line ONE\nline two\nline three\n").unwrap().unwrap();
    let b = bob.replace_text("line one\nline two\nline three, with Bob\n").unwrap().unwrap();
    alice.apply_remote(&b, bob.client()).unwrap();
    bob.apply_remote(&a, alice.client()).unwrap();
    assert_eq!(alice.text(), "line ONE\nline two\nline three, with Bob\n");
    assert_eq!(alice.text(), bob.text());
    assert_eq!(alice.replace_text(&alice.text()).unwrap(), None);
}

#[test]
fn diff_edits_turn_one_text_into_the_other_in_utf16_offsets() {
    for (old, new) in [("", "abc"), ("abc", ""), ("a👋c", "a👋bc"), ("héllo", "hallo!"), ("same", "same")] {
        let mut doc = device(1);
        doc.edit(&[TextEdit { at: 0, delete: 0, insert: old.into() }]).unwrap();
        doc.edit(&diff_edits(old, new)).unwrap();
        assert_eq!(doc.text(), new);
    }
}

/// One step of a random editing session on one of three devices.
#[derive(Debug, Clone)]
enum Step {
    /// Device `who` types `text` at a position (a fraction of its text's length).
    Type { who: usize, at: u8, text: String },
    /// Device `who` deletes up to `len` units at a position.
    Delete { who: usize, at: u8, len: u8 },
    /// Device `to` reads the next update it has not read (in the relay's order), or,
    /// one time in four, one it has read already.
    Deliver { to: usize, which: u16 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, any::<u8>(), "[a-z😀é ]{1,6}").prop_map(|(who, at, text)| Step::Type { who, at, text }),
        1 => (0..3usize, any::<u8>(), 1..8u8).prop_map(|(who, at, len)| Step::Delete { who, at, len }),
        3 => (0..3usize, any::<u16>()).prop_map(|(to, which)| Step::Deliver { to, which }),
    ]
}

fn position(doc: &NoteDoc, fraction: u8) -> u32 {
    // Offsets are UTF-16 units; keep them on a character boundary.
    let text = doc.text();
    let chars: Vec<char> = text.chars().collect();
    let index = chars.len() * usize::from(fraction) / 256;
    chars[..index].iter().map(|c| c.len_utf16() as u32).sum()
}

fn deletable(doc: &NoteDoc, at: u32, len: u8) -> u32 {
    let text = doc.text();
    let mut units = 0u32;
    let mut taken = 0u32;
    for c in text.chars() {
        if units >= at && taken < u32::from(len) {
            taken += c.len_utf16() as u32;
        }
        units += c.len_utf16() as u32;
    }
    taken
}

/// `edits` applied in order to `text`, in UTF-16 units, as an editor would.
fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut units: Vec<u16> = text.encode_utf16().collect();
    for edit in edits {
        let at = (edit.at as usize).min(units.len());
        let end = (at + edit.delete as usize).min(units.len());
        units.splice(at..end, edit.insert.encode_utf16());
    }
    String::from_utf16(&units).expect("edits keep to character boundaries")
}

/// Merges `update` into `doc`, and checks that the delta it reports turns the text as it
/// was before into the text now: what an editor shows stays what the note holds.
fn merge(doc: &mut NoteDoc, update: &[u8], author: u64) {
    // Read in the relay's order, an honest update is known to merge cleanly from its
    // bytes: no trial on a copy of the note (which costs a load of it).
    assert_eq!(doc.precheck(update), Ok(true), "an update in order needs no trial");
    let before = doc.text();
    let edits = doc.apply_remote_with_delta(update, author).unwrap();
    assert_eq!(apply_edits(&before, &edits), doc.text(), "delta {edits:?} from {before:?}");
}

#[test]
fn a_merge_reports_its_delta_in_utf16_units_and_nothing_for_what_was_known() {
    let mut alice = device(1);
    let mut bob = device(2);
    let base = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "Witness 😀 at 9".into() }]).unwrap().unwrap();
    merge(&mut bob, &base, alice.client());
    // Alice replaces "9" with "10:30" after the emoji (two UTF-16 units), while Bob
    // types at the start.
    let from_alice = alice.edit(&[TextEdit { at: 14, delete: 1, insert: "10:30".into() }]).unwrap().unwrap();
    bob.edit(&[TextEdit { at: 0, delete: 0, insert: "› ".into() }]).unwrap();
    let edits = bob.apply_remote_with_delta(&from_alice, alice.client()).unwrap();
    assert_eq!(edits, vec![TextEdit { at: 16, delete: 1, insert: "10:30".into() }]);
    assert_eq!(bob.text(), "› Witness 😀 at 10:30");
    // The same update again, or this device's own coming back: nothing to show.
    assert!(bob.apply_remote_with_delta(&from_alice, alice.client()).unwrap().is_empty());
    assert!(!bob.apply_remote(&base, alice.client()).unwrap(), "an insert merged already brings nothing");
    let own = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "!".into() }]).unwrap().unwrap();
    assert!(alice.apply_remote_with_delta(&own, alice.client()).unwrap().is_empty());
}

fn run(steps: &[Step], deletions: bool) -> (Vec<NoteDoc>, Vec<String>) {
    let mut devices: Vec<NoteDoc> = (1..=3).map(device).collect();
    // Every update, in the relay's order; how far each device has read it.
    let mut sent: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut read = [0usize; 3];
    let mut typed = Vec::new();
    for step in steps {
        match step {
            Step::Type { who, at, text } => {
                let doc = &mut devices[*who];
                let at = position(doc, *at);
                if let Some(update) = doc.edit(&[TextEdit { at, delete: 0, insert: text.clone() }]).unwrap() {
                    sent.push((update, doc.client()));
                }
                typed.push(text.clone());
            }
            Step::Delete { who, at, len } if deletions => {
                let doc = &mut devices[*who];
                let at = position(doc, *at);
                let delete = deletable(doc, at, *len);
                if let Some(update) = doc.edit(&[TextEdit { at, delete, insert: String::new() }]).unwrap() {
                    sent.push((update, doc.client()));
                }
            }
            Step::Delete { .. } => {}
            Step::Deliver { to, which } => {
                if *which % 4 == 0 && read[*to] > 0 {
                    // A repeat of one already read.
                    let (update, author) = &sent[usize::from(*which) % read[*to]];
                    merge(&mut devices[*to], update, *author);
                } else if read[*to] < sent.len() {
                    // The next, whenever this device gets to it (late for some).
                    let (update, author) = &sent[read[*to]];
                    merge(&mut devices[*to], update, *author);
                    read[*to] += 1;
                }
            }
        }
    }
    // In the end every device reads the rest, then everything again.
    for (doc, from) in devices.iter_mut().zip(read) {
        for (update, author) in sent[from..].iter().chain(sent.iter()) {
            merge(doc, update, *author);
        }
    }
    (devices, typed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Three devices type at once; each reads the others' updates late, at its own pace,
    /// and some again: every device ends with the same text, and it holds every
    /// character anyone typed.
    #[test]
    fn devices_that_type_at_once_end_with_the_same_text_holding_every_character(
        steps in proptest::collection::vec(step(), 1..80)
    ) {
        let (devices, typed) = run(&steps, false);
        let text = devices[0].text();
        prop_assert!(devices.iter().all(|d| d.text() == text));
        let mut expected: Vec<char> = typed.concat().chars().collect();
        let mut got: Vec<char> = text.chars().collect();
        expected.sort_unstable();
        got.sort_unstable();
        prop_assert_eq!(got, expected);
    }

    /// With deletions too, devices still end with the same text, and it loads again
    /// from every device's state as the same text.
    #[test]
    fn devices_that_type_and_delete_at_once_converge(steps in proptest::collection::vec(step(), 1..80)) {
        let (devices, _) = run(&steps, true);
        let text = devices[0].text();
        for doc in &devices {
            prop_assert_eq!(doc.text(), text.clone());
            prop_assert_eq!(NoteDoc::load(doc.client(), &doc.state()).unwrap().text(), text.clone());
        }
    }

    /// Every order the index of what was typed where asserts, on any device and on a
    /// note loaded from its state, holds in the text: it only ever spares a walk.
    #[test]
    fn every_order_the_typed_index_asserts_holds_in_the_text(
        steps in proptest::collection::vec(step(), 1..60),
        picks in proptest::collection::vec((any::<u16>(), any::<u16>()), 64)
    ) {
        let (devices, _) = run(&steps, true);
        let loaded = NoteDoc::load(devices[0].client(), &devices[0].state()).unwrap();
        for doc in devices.iter().chain([&loaded]) {
            let ids: Vec<(u64, u64)> = doc
                .state_vector()
                .iter()
                .flat_map(|(client, clock)| (0..u64::from(*clock)).map(move |at| (client.get(), at)))
                .collect();
            if ids.is_empty() {
                continue;
            }
            for &(a, b) in &picks {
                let (left, right) = (ids[usize::from(a) % ids.len()], ids[usize::from(b) % ids.len()]);
                if doc.typed.in_order(left, right) {
                    let pair = TypedBetween { origin: left, right_origin: right, held: true };
                    prop_assert!(doc.walk_origins(&[pair]).is_ok(), "{left:?} before {right:?}");
                }
            }
        }
    }
}

#[test]
fn an_update_built_on_what_this_device_lacks_is_refused_and_the_stored_note_is_whole() {
    let mut alice = device(1);
    let mut bob = device(2);
    let first = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "abc".into() }]).unwrap().unwrap();
    let second = alice.edit(&[TextEdit { at: 3, delete: 0, insert: "def".into() }]).unwrap().unwrap();
    let deletion = alice.edit(&[TextEdit { at: 1, delete: 1, insert: String::new() }]).unwrap().unwrap();
    let stored = bob.state();
    // Text after text Bob does not have (seen in its bytes), and a deletion of text
    // Bob does not have (decided by a trial on a copy): Bob's document is as it was.
    assert_eq!(bob.precheck(&second), Err(NoteRefusal::Missing));
    assert_eq!(bob.precheck(&deletion), Ok(false));
    for update in [&second, &deletion] {
        assert_eq!(bob.apply_remote(update, alice.client()), Err(NoteRefusal::Missing));
        assert!(bob.is_intact());
        assert_eq!(bob.state(), stored, "nothing of it merged");
    }
    // In order, all merge.
    for update in [&first, &second, &deletion] {
        bob.apply_remote(update, alice.client()).unwrap();
    }
    assert_eq!(bob.text(), "acdef");
}

#[test]
fn an_update_holding_anything_but_text_is_refused() {
    use yrs::{Map, Text, Transact};
    let alice = device(1);
    let client = alice.client();
    // Another root beside the note's text.
    let forged = new_doc(client);
    let update = {
        let map = forged.get_or_insert_map("hidden");
        let mut txn = forged.transact_mut();
        map.insert(&mut txn, "k", "v");
        txn.encode_update_v1()
    };
    let mut target = device(2);
    assert_eq!(target.apply_remote(&update, client), Err(NoteRefusal::NotText));
    // An embedded value inside the text: not shown, but it shifts every offset.
    let forged = new_doc(client);
    let update = {
        let text = forged.get_or_insert_text(ROOT);
        let mut txn = forged.transact_mut();
        text.insert(&mut txn, 0, "ab");
        text.insert_embed(&mut txn, 1, yrs::Any::from(7.0));
        txn.encode_update_v1()
    };
    let mut target = device(2);
    assert_eq!(target.apply_remote(&update, client), Err(NoteRefusal::NotText));
}

#[test]
fn an_anchor_follows_its_character_through_others_edits_and_the_end_stays_the_end() {
    let mut alice = NoteDoc::new(1);
    let mut bob = NoteDoc::new(2);
    let update = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "Hearing at 9".into() }]).unwrap().unwrap();
    bob.apply_remote(&update, 1).unwrap();
    let (at, end) = (alice.anchor_at(8), alice.anchor_at(12));
    assert_eq!(end, NoteAnchor::End);
    assert_eq!(alice.anchor_at(400), NoteAnchor::End);
    assert_eq!((bob.offset_of(&at), bob.offset_of(&end)), (Some(8), Some(12)));
    // Bob types before it (with characters of two UTF-16 units): it moves with "at".
    let update = bob.edit(&[TextEdit { at: 0, delete: 0, insert: "😀 ".into() }]).unwrap().unwrap();
    alice.apply_remote(&update, 2).unwrap();
    assert_eq!((alice.offset_of(&at), alice.offset_of(&end)), (Some(11), Some(15)));
    // Its character deleted, it stays where the character was.
    let update = bob.edit(&[TextEdit { at: 11, delete: 2, insert: String::new() }]).unwrap().unwrap();
    alice.apply_remote(&update, 2).unwrap();
    assert_eq!(alice.text(), "😀 Hearing  9");
    assert_eq!(alice.offset_of(&at), Some(11));
    // A character never merged here, or an id no client can have, is nowhere.
    assert_eq!(alice.offset_of(&NoteAnchor::Before { client: 3, clock: 0 }), None);
    assert_eq!(alice.offset_of(&NoteAnchor::Before { client: u64::MAX, clock: 0 }), None);
    // The anchor's encoding round-trips and refuses client ids past 53 bits.
    use huisclos_protocol::codec::Wire;
    assert_eq!(NoteAnchor::from_wire(&at.to_wire()), Ok(at));
    let mut bad = vec![0];
    huisclos_protocol::codec::put_varint(&mut bad, 1 << 53);
    bad.push(0);
    assert!(NoteAnchor::from_wire(&bad).is_err());
}

#[test]
fn undo_takes_back_only_this_devices_own_edits_and_keeps_what_others_wrote_since() {
    let mut alice = device(1);
    let mut bob = device(2);
    let exchange = |from: &NoteDoc, to: &mut NoteDoc, update: &[u8]| merge(to, update, from.client());
    let first = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "Hearing at 9".into() }]).unwrap().unwrap();
    exchange(&alice, &mut bob, &first);
    let second = alice.edit(&[TextEdit { at: 12, delete: 0, insert: " in room 4".into() }]).unwrap().unwrap();
    exchange(&alice, &mut bob, &second);
    // Bob writes after Alice's edits, at the start and inside her words.
    let from_bob = bob
        .edit(&[
            TextEdit { at: 0, delete: 0, insert: "Note: ".into() },
            TextEdit { at: 14, delete: 0, insert: "🕘".into() },
        ])
        .unwrap()
        .unwrap();
    exchange(&bob, &mut alice, &from_bob);
    assert_eq!(alice.text(), "Note: Hearing 🕘at 9 in room 4");
    assert_eq!(alice.can_undo_redo(), (true, false));
    assert_eq!(bob.can_undo_redo(), (true, false), "Bob's own edit only");

    // Alice undoes her last edit: it goes everywhere; Bob's words stay.
    let undone = alice.undo().unwrap().unwrap();
    exchange(&alice, &mut bob, &undone);
    assert_eq!(alice.text(), "Note: Hearing 🕘at 9");
    assert_eq!(bob.text(), alice.text());
    // And her first: only Bob's words are left.
    let undone = alice.undo().unwrap().unwrap();
    exchange(&alice, &mut bob, &undone);
    assert_eq!(alice.text(), "Note: 🕘");
    assert_eq!(bob.text(), alice.text());
    // Nothing of hers is left to undo: Bob's edit is not hers to take back.
    assert_eq!(alice.undo().unwrap(), None);
    assert_eq!(alice.text(), "Note: 🕘");

    // Redo brings her words back, as new items under her own id (the update passes
    // every receiver's check).
    let redone = alice.redo().unwrap().unwrap();
    exchange(&alice, &mut bob, &redone);
    assert_eq!(alice.text(), "Note: Hearing 🕘at 9");
    assert_eq!(bob.text(), alice.text());

    // Bob's undo takes back his edit only.
    let undone = bob.undo().unwrap().unwrap();
    exchange(&bob, &mut alice, &undone);
    assert_eq!(bob.text(), "Hearing at 9");
    assert_eq!(alice.text(), bob.text());
}

/// An update refused only once merged (it builds on text this device lacks, or makes
/// the note too long) is decided by a trial on a copy: this device's document, its
/// text and its undo history stay as they were, and its undo goes on.
#[test]
fn an_update_refused_once_merged_leaves_the_note_and_its_undo_as_they_were() {
    let mut alice = device(1);
    let mut bob = device(2);
    alice.edit(&[TextEdit { at: 0, delete: 0, insert: "Hearing at 9.".into() }]).unwrap();
    alice.edit(&[TextEdit { at: 13, delete: 0, insert: " Room 4.".into() }]).unwrap();
    // Bob's second edit, alone, builds on his first, which Alice never had.
    bob.edit(&[TextEdit { at: 0, delete: 0, insert: "unsent".into() }]).unwrap();
    let built_on_unsent = bob.edit(&[TextEdit { at: 3, delete: 0, insert: "Alice lied.".into() }]).unwrap().unwrap();
    assert_eq!(alice.precheck(&built_on_unsent), Err(NoteRefusal::Missing), "it starts past what she holds");
    assert_eq!(alice.apply_remote(&built_on_unsent, bob.client()), Err(NoteRefusal::Missing));
    assert!(alice.is_intact());
    assert_eq!(alice.text(), "Hearing at 9. Room 4.");
    assert_eq!(alice.can_undo_redo(), (true, false), "her undo history is kept");

    // Alice's note grows to 100 units short of the bound; Carol, who had it short,
    // sends 200 characters.
    let filler = MAX_NOTE_UNITS - 100 - alice.len_utf16();
    alice.edit(&[TextEdit { at: u32::MAX, delete: 0, insert: ".".repeat(filler as usize) }]).unwrap();
    let mut carol = device(3);
    let too_long = carol.edit(&[TextEdit { at: 0, delete: 0, insert: "c".repeat(200) }]).unwrap().unwrap();
    let fits = carol.edit(&[TextEdit { at: 0, delete: 200, insert: "c".repeat(50) }]).unwrap().unwrap();
    assert_eq!(alice.precheck(&too_long), Ok(false), "a text that may pass the bound is tried first");
    assert_eq!(alice.apply_remote(&too_long, carol.client()), Err(NoteRefusal::NoteTooLong));
    assert!(alice.is_intact());
    assert_eq!(alice.len_utf16(), MAX_NOTE_UNITS - 100);
    // Carol's next update deletes her 200 and inserts 50: it builds on what Alice
    // refused, so it is refused too.
    assert_eq!(alice.apply_remote(&fits, carol.client()), Err(NoteRefusal::Missing));
    assert_eq!(alice.len_utf16(), MAX_NOTE_UNITS - 100);

    // Undo goes on where it was: the filler, her last sentence, her first.
    assert!(alice.undo().unwrap().is_some());
    assert_eq!(alice.text(), "Hearing at 9. Room 4.");
    assert!(alice.undo().unwrap().is_some());
    assert_eq!(alice.text(), "Hearing at 9.");
    assert!(alice.undo().unwrap().is_some());
    assert_eq!(alice.text(), "");
    // Short again, the 200 characters merge, without a trial.
    assert_eq!(alice.precheck(&too_long), Ok(true));
    alice.apply_remote(&too_long, carol.client()).unwrap();
    assert_eq!(alice.len_utf16(), 200);
}

/// lib0 version-1 bytes of an update, written out by hand: what a modified client can
/// send that yrs never writes.
fn var(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// One client's section of string items, each `(info, origin, text)`, then a delete set.
/// A block's parent written out: the note's root text, by name.
fn root_parent(out: &mut Vec<u8>) {
    var(out, 1);
    var(out, ROOT.len() as u64);
    out.extend_from_slice(ROOT.as_bytes());
}

fn hand_made(client: u64, clock: u64, items: &[(Option<(u64, u64)>, &str)], deletes: &[(u64, u64, u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    var(&mut out, 1);
    var(&mut out, items.len() as u64);
    var(&mut out, client);
    var(&mut out, clock);
    for (origin, text) in items {
        match origin {
            Some((of, at)) => {
                out.push(0b1000_0000 | 4);
                var(&mut out, *of);
                var(&mut out, *at);
            }
            None => {
                out.push(4);
                root_parent(&mut out);
            }
        }
        var(&mut out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
    var(&mut out, deletes.len() as u64);
    for (of, at, len) in deletes {
        var(&mut out, *of);
        var(&mut out, 1);
        var(&mut out, *at);
        var(&mut out, *len);
    }
    out
}

/// What yrs would read otherwise than it looks, or take with a hole in it, is refused
/// from the bytes, before anything is merged: a deleted range of no length, a clock
/// or length past 32 bits (yrs wraps it), the same client in two sections, blocks
/// starting past what is held (yrs would fill the gap and take them) or skipping a
/// range. The note, and its undo, stay as they were.
#[test]
fn updates_yrs_would_read_otherwise_or_take_with_a_gap_are_refused_from_their_bytes() {
    let mut bob = device(2);
    bob.edit(&[TextEdit { at: 0, delete: 0, insert: "kept".into() }]).unwrap();
    let before = bob.state();
    let alice = device(1).client();
    // Honest-looking, hand-made: two characters after Bob's last.
    let fine = hand_made(alice, 0, &[(Some((bob.client(), 3)), "ok")], &[]);
    assert_eq!(bob.precheck(&fine), Ok(true));
    let cases: Vec<(&str, Vec<u8>, NoteRefusal)> = vec![
        ("an empty deleted range", hand_made(alice, 0, &[(None, "a")], &[(alice, 5, 0)]), NoteRefusal::Malformed),
        (
            "a deleted range past 32 bits",
            hand_made(alice, 0, &[(None, "a")], &[(alice, 0, 1 << 32)]),
            NoteRefusal::Malformed,
        ),
        ("a clock past 32 bits", hand_made(alice, 1 << 32, &[(None, "a")], &[]), NoteRefusal::Malformed),
        ("a client past 53 bits", hand_made(alice | (1 << 53), 0, &[(None, "a")], &[]), NoteRefusal::Malformed),
        (
            "blocks past what is held",
            hand_made(alice, 7, &[(Some((bob.client(), 3)), "gap")], &[]),
            NoteRefusal::Missing,
        ),
        (
            "a deleted range of text not held",
            hand_made(alice, 0, &[(None, "a")], &[(bob.client(), 2, 9)]),
            NoteRefusal::Missing,
        ),
    ];
    for (what, update, refusal) in cases {
        assert_eq!(bob.apply_remote(&update, alice), Err(refusal), "{what}");
        assert!(bob.is_intact(), "{what}");
        assert_eq!(bob.state(), before, "{what}: nothing merged");
    }
    // The same client in two sections (yrs would integrate held clocks again).
    let mut twice = Vec::new();
    var(&mut twice, 2);
    for clock in [0, 0] {
        var(&mut twice, 1);
        var(&mut twice, alice);
        var(&mut twice, clock);
        twice.push(4);
        root_parent(&mut twice);
        var(&mut twice, 1);
        twice.push(b'x');
    }
    var(&mut twice, 0);
    assert_eq!(bob.apply_remote(&twice, alice), Err(NoteRefusal::Malformed));
    // Thousands of empty sections, a few bytes each: refused at the first. Merged, they
    // overflowed yrs's stack (release a0fb877: every device that read the record
    // aborted, and again at each restart, since the record was never taken).
    let mut empty = Vec::new();
    var(&mut empty, 15_000);
    for n in 0..15_000u64 {
        var(&mut empty, 0);
        var(&mut empty, n);
        var(&mut empty, 0);
    }
    var(&mut empty, 0);
    assert!(empty.len() < MAX_UPDATE_LEN);
    let started = std::time::Instant::now();
    assert!(matches!(bob.apply_remote(&empty, alice), Err(NoteRefusal::Malformed | NoteRefusal::ForeignClient)));
    assert!(bob.precheck(&empty).is_err());
    eprintln!("15,000 empty sections refused in {:?}", started.elapsed());
    // A skipped range (yrs's `Skip` block, 10) before a character.
    let mut skipping = Vec::new();
    for value in [1, 2, alice, 0] {
        var(&mut skipping, value);
    }
    skipping.extend_from_slice(&[10, 3, 4, 1]);
    var(&mut skipping, ROOT.len() as u64);
    skipping.extend_from_slice(ROOT.as_bytes());
    skipping.extend_from_slice(&[1, b'x', 0]);
    assert_eq!(bob.apply_remote(&skipping, alice), Err(NoteRefusal::Missing));
    assert_eq!(bob.state(), before);
    // A collected range (yrs's `GC` block, 0), which a note's one root text never has:
    // it would take up the author's clocks with nothing in the text.
    let mut collected = Vec::new();
    for value in [1, 1, alice, 0, 0, 3, 0] {
        var(&mut collected, value);
    }
    assert_eq!(bob.apply_remote(&collected, alice), Err(NoteRefusal::Malformed));
    assert_eq!(bob.state(), before);
    assert_eq!(bob.can_undo_redo(), (true, false));
    bob.apply_remote(&fine, alice).unwrap();
    assert_eq!(bob.text(), "keptok");
}

/// An update of one new item typed between `origin` and `right_origin`.
fn typed_between(client: u64, clock: u64, origin: (u64, u64), right_origin: (u64, u64), text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for value in [1, 1, client, clock] {
        var(&mut out, value);
    }
    out.push(0b1100_0000 | 4);
    for value in [origin.0, origin.1, right_origin.0, right_origin.1, text.len() as u64] {
        var(&mut out, value);
    }
    out.extend_from_slice(text.as_bytes());
    var(&mut out, 0);
    out
}

/// A modified client names a right origin on the left of the origin. yrs then places
/// the text by how the receiving document's blocks happen to be split: a note merged
/// live and the same note loaded from its state (a device after a restart, a device
/// that merged in another order) showed it in different places, for good (found by the
/// `note` fuzz target). Refused, and the note stays as it was; the same text typed
/// between two characters in order is taken.
#[test]
fn an_update_typed_between_characters_out_of_order_is_refused_so_devices_cannot_diverge() {
    let mut alice = device(1);
    let mut bob = device(2);
    let mallory = device(3).client();
    let typed = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "moved: 3 Dec, ".into() }]).unwrap().unwrap();
    bob.apply_remote(&typed, alice.client()).unwrap();
    // Split alice's item in bob's document the way editing does.
    let split = alice.edit(&[TextEdit { at: 2, delete: 1, insert: "!".into() }]).unwrap().unwrap();
    bob.apply_remote(&split, alice.client()).unwrap();
    let (text, state) = (bob.text(), bob.state());
    let (can_undo, _) = bob.can_undo_redo();
    let a = alice.client();
    let crossed = typed_between(mallory, 0, (a, 4), (a, 1), "Thursday");
    assert_eq!(bob.apply_remote(&crossed, mallory), Err(NoteRefusal::Malformed));
    assert!(bob.is_intact(), "refused on a copy or from a merge: {:?}", bob.precheck(&crossed));
    assert_eq!((bob.text(), bob.state()), (text, state));
    assert_eq!(bob.can_undo_redo().0, can_undo);
    let honest = typed_between(mallory, 0, (a, 4), (a, 5), "Thursday");
    assert!(bob.apply_remote(&honest, mallory).unwrap());
    assert_eq!(bob.text(), "mo!edThursday: 3 Dec, ");
    let again = NoteDoc::load(bob.client(), &bob.state()).unwrap();
    assert_eq!(again.text(), bob.text());
}

/// The same crossing hidden in a block that starts with what the receiver holds: yrs
/// cuts off the held part and merges the rest after the last character held, before the
/// block's right origin. The pair checked is that one, not the block's header.
#[test]
fn a_crossing_hidden_behind_characters_already_held_is_refused() {
    let mut mallory = device(3);
    let mut bob = device(2);
    let m = mallory.client();
    for edit in
        [TextEdit { at: 0, delete: 0, insert: "moved".into() }, TextEdit { at: 2, delete: 1, insert: String::new() }]
    {
        let update = mallory.edit(&[edit]).unwrap().unwrap();
        bob.apply_remote(&update, m).unwrap();
    }
    assert_eq!(bob.text(), "moed");
    // M:0..6 "moved!" with only a right origin, M:1: bob holds M:0..5, so what merges
    // is M:5 "!", after M:4 "d" and before M:1 "o".
    let mut crossed = Vec::new();
    for value in [1, 1, m, 0] {
        var(&mut crossed, value);
    }
    crossed.push(0b0100_0000 | 4);
    for value in [m, 1, 6] {
        var(&mut crossed, value);
    }
    crossed.extend_from_slice(b"moved!");
    var(&mut crossed, 0);
    let state = bob.state();
    assert_eq!(bob.apply_remote(&crossed, m), Err(NoteRefusal::Malformed));
    assert!(bob.is_intact());
    assert_eq!(bob.state(), state);
    // Its held part says otherwise than what Bob holds (typed with no right origin),
    // but it was refused: nothing merged, nothing reported.
    assert!(!bob.take_contradicted());
}

/// Each block typed between two characters costs a receiver two walks over the note: an
/// update names at most [`MAX_TYPED_BETWEEN`] (refused as too large past it, before
/// anything is merged), a device cuts its own batches there, and refuses to make more.
#[test]
fn an_update_typing_between_more_characters_than_a_receiver_checks_is_refused() {
    let mut alice = device(1);
    let mut bob = device(2);
    let base = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "x".repeat(200) }]).unwrap().unwrap();
    bob.apply_remote(&base, alice.client()).unwrap();
    let many: Vec<TextEdit> =
        (0..=MAX_TYPED_BETWEEN as u32).map(|n| TextEdit { at: n * 2 + 1, delete: 0, insert: "y".into() }).collect();
    assert_eq!(alice.edit(&many), Err(NoteRefusal::TooLarge));
    let cut = batches(&many, 32 * 1024);
    assert_eq!(cut.iter().map(Vec::len).collect::<Vec<_>>(), [MAX_TYPED_BETWEEN, 1]);
    let a = alice.client();
    let mut crafted = Vec::new();
    for value in [1, MAX_TYPED_BETWEEN as u64 + 1, a, 200] {
        var(&mut crafted, value);
    }
    for n in 0..=MAX_TYPED_BETWEEN as u64 {
        crafted.push(0b1100_0000 | 4);
        for value in [a, n * 2, a, n * 2 + 1, 1] {
            var(&mut crafted, value);
        }
        crafted.push(b'y');
    }
    var(&mut crafted, 0);
    let (text, state) = (bob.text(), bob.state());
    assert_eq!(bob.precheck(&crafted), Err(NoteRefusal::TooLarge));
    assert_eq!(bob.apply_remote(&crafted, a), Err(NoteRefusal::TooLarge));
    assert_eq!((bob.text(), bob.state()), (text, state));
    for batch in cut {
        let update = alice.edit(&batch).unwrap().unwrap();
        bob.apply_remote(&update, a).unwrap();
    }
    assert_eq!(bob.text(), alice.text());
    assert_eq!(bob.text().matches('y').count(), MAX_TYPED_BETWEEN + 1);
    // Blocks naming one origin count too: each costs a walk once merged. Refused from
    // the bytes, before anything is merged.
    let mut one_sided = Vec::new();
    for value in [1, MAX_TYPED_BETWEEN as u64 + 1, a, 200 + MAX_TYPED_BETWEEN as u64 + 1] {
        var(&mut one_sided, value);
    }
    for n in 0..=MAX_TYPED_BETWEEN as u64 {
        one_sided.push(0b1000_0000 | 4);
        for value in [a, n, 1] {
            var(&mut one_sided, value);
        }
        one_sided.push(b'z');
    }
    var(&mut one_sided, 0);
    let (text, state) = (bob.text(), bob.state());
    assert_eq!(bob.precheck(&one_sided), Err(NoteRefusal::TooLarge));
    assert_eq!(bob.apply_remote(&one_sided, a), Err(NoteRefusal::TooLarge));
    assert_eq!((bob.text(), bob.state()), (text, state));
}

/// A device that undid a deletion holds a link from the deleted text to its restored
/// copy, and yrs reads offsets through it; no other device has it. The order of two
/// characters is read on every device as on one without the link, so all decide alike.
#[test]
fn the_device_whose_undo_restored_text_decides_an_order_as_every_other_does() {
    let mut alice = device(1);
    let mut bob = device(2);
    let mut carol = device(4);
    let mallory = device(3).client();
    let (a, b) = (alice.client(), bob.client());
    let typed = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "abc".into() }]).unwrap().unwrap();
    bob.apply_remote(&typed, a).unwrap();
    carol.apply_remote(&typed, a).unwrap();
    let deleted = bob.edit(&[TextEdit { at: 0, delete: 3, insert: String::new() }]).unwrap().unwrap();
    let restored = bob.undo().unwrap().unwrap();
    assert_eq!(bob.text(), "abc");
    carol.apply_remote(&deleted, b).unwrap();
    carol.apply_remote(&restored, b).unwrap();
    // Typed after alice's deleted "a" and before bob's restored "c", which is on its
    // left (yrs restores text on the left of what was deleted): crossed. The index does
    // not know their order, and bob's yrs reads "a" through its link, as the restored
    // "a", on the left of "c": bob alone took it, before the check read offsets as
    // every device does.
    let pair = ((a, 0), (b, 2));
    assert!(!carol.typed.in_order(pair.0, pair.1) && !bob.typed.in_order(pair.0, pair.1));
    let between = typed_between(mallory, 0, pair.0, pair.1, "Z");
    let verdicts: Vec<_> = [&mut carol, &mut bob].into_iter().map(|doc| doc.apply_remote(&between, mallory)).collect();
    assert_eq!(verdicts, [Err(NoteRefusal::Malformed), Err(NoteRefusal::Malformed)]);
    assert_eq!(carol.text(), bob.text());
}

/// Alice types "ad"; bob and carol each type after "a" at once, neither seeing the
/// other's; dave merges all three. Returns dave's note and the clients of alice, bob,
/// carol and mallory (who has typed nothing).
fn typed_at_once(from_bob: &str, from_carol: &str) -> (NoteDoc, [u64; 4]) {
    let mut alice = device(1);
    let mut bob = device(2);
    let mut carol = device(4);
    let mut dave = device(5);
    let clients = [alice.client(), bob.client(), carol.client(), device(3).client()];
    let typed = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "ad".into() }]).unwrap().unwrap();
    for doc in [&mut bob, &mut carol, &mut dave] {
        doc.apply_remote(&typed, clients[0]).unwrap();
    }
    for (doc, text, client) in [(&mut bob, from_bob, clients[1]), (&mut carol, from_carol, clients[2])] {
        let update = doc.edit(&[TextEdit { at: 1, delete: 0, insert: text.into() }]).unwrap().unwrap();
        dave.apply_remote(&update, client).unwrap();
    }
    (dave, clients)
}

/// Two deleted characters in one run of deleted text share an offset, and nothing
/// merged may say their order: it is then read from the order of the note's items
/// (deleted ones included). A crossing inside such a run is refused, also where the
/// run reaches the end of the text; a block between them in order is taken, and what
/// the index learns of it is true. A character between another and itself is always
/// refused.
#[test]
fn a_crossing_inside_a_run_of_deleted_text_is_refused() {
    // Bob and carol type after "a" at once: neither saw the other's.
    let (mut dave, [a, b, c, m]) = typed_at_once("b", "c");
    let (first, second) = if dave.text() == "abcd" { (b, c) } else { (c, b) };
    dave.edit(&[TextEdit { at: 1, delete: 2, insert: String::new() }]).unwrap().unwrap();
    assert_eq!(dave.text(), "ad");
    let itself = typed_between(m, 0, (b, 0), (b, 0), "X");
    assert_eq!(dave.precheck(&itself), Err(NoteRefusal::Malformed));
    assert_eq!(dave.apply_remote(&itself, m), Err(NoteRefusal::Malformed));
    // Known from what was merged: alice's "d" is right of bob's "b".
    assert_eq!(dave.apply_remote(&typed_between(m, 0, (a, 1), (b, 0), "X"), m), Err(NoteRefusal::Malformed));
    // Unknown to the index: bob's and carol's deleted characters.
    assert!(!dave.typed.in_order((b, 0), (c, 0)) && !dave.typed.in_order((c, 0), (b, 0)));
    let state = dave.state();
    assert_eq!(dave.apply_remote(&typed_between(m, 0, (second, 0), (first, 0), "X"), m), Err(NoteRefusal::Malformed));
    assert_eq!(dave.state(), state);
    // The run reaching the end of the text: nothing shown after either.
    let mut tail = NoteDoc::load(dave.client(), &dave.state()).unwrap();
    tail.edit(&[TextEdit { at: 1, delete: 1, insert: String::new() }]).unwrap().unwrap();
    assert_eq!(tail.text(), "a");
    assert_eq!(tail.apply_remote(&typed_between(m, 0, (second, 0), (first, 0), "X"), m), Err(NoteRefusal::Malformed));
    assert_eq!(tail.apply_remote(&typed_between(m, 0, (a, 1), (first, 0), "X"), m), Err(NoteRefusal::Malformed));
    // In order: taken, and the index learns only what holds.
    assert!(dave.apply_remote(&typed_between(m, 0, (first, 0), (second, 0), "X"), m).unwrap());
    assert_eq!(dave.text(), "aXd");
    assert!(dave.typed.in_order((first, 0), (m, 0)) && dave.typed.in_order((m, 0), (second, 0)));
    assert!(tail.apply_remote(&typed_between(m, 0, (first, 0), (a, 1), "X"), m).unwrap());
    assert_eq!(tail.text(), "aX");
}

/// A block whose two origins are in order but were never side by side (characters
/// lie between them that its author must have seen) would be placed by the order yrs
/// merges blocks in: the note merged live and the same note loaded from its state
/// differed ("abecd" and "abdec" here, found by review). It is refused; the note it was
/// merged into is dropped (the engine reads it again from its store).
#[test]
fn a_block_between_origins_never_side_by_side_is_refused() {
    let mut live = device(9);
    // "abc" typed one after the other; "d" typed after "b" by someone who had not
    // seen "c".
    let typed = hand_made(1, 0, &[(None, "a"), (Some((1, 0)), "b"), (Some((1, 1)), "c")], &[]);
    let concurrent = hand_made(2, 0, &[(Some((1, 1)), "d")], &[]);
    assert_eq!(live.apply_remote(&typed, 1), Ok(true));
    assert_eq!(live.apply_remote(&concurrent, 2), Ok(true));
    let state = live.state();
    assert_eq!(NoteDoc::load(live.client(), &state).unwrap().text(), live.text());
    // "e" between "a" and "c", over "b", which "c" was typed after: its author knew it.
    assert_eq!(live.apply_remote(&typed_between(3, 0, (1, 0), (1, 2), "e"), 3), Err(NoteRefusal::Malformed));
    assert!(!live.is_intact());
    // Read again from the store, the note is as it was, and takes honest text there.
    let mut again = NoteDoc::load(live.client(), &state).unwrap();
    assert_eq!(again.text(), "abcd");
    // Typed right after "a", before "b" (side by side when typed): taken.
    assert_eq!(again.apply_remote(&typed_between(3, 0, (1, 0), (1, 1), "e"), 3), Ok(true));
    assert_eq!(NoteDoc::load(again.client(), &again.state()).unwrap().text(), again.text());
    // The smallest case review found: no origin, right origin "c", over "a", "b", "d".
    let mut other = NoteDoc::load(live.client(), &state).unwrap();
    let mut one_sided = Vec::new();
    for value in [1, 1, 4, 0] {
        var(&mut one_sided, value);
    }
    one_sided.push(0b0100_0000 | 4);
    for value in [1, 2, 1] {
        var(&mut one_sided, value);
    }
    one_sided.extend_from_slice(b"f");
    var(&mut one_sided, 0);
    assert_eq!(other.apply_remote(&one_sided, 4), Err(NoteRefusal::Malformed));
}

/// Inside one item (characters typed at once, then deleted together) the order is the
/// order they were typed in: read by splitting the item at both characters.
#[test]
fn the_order_inside_one_deleted_item_is_the_order_it_was_typed_in() {
    let mut alice = device(1);
    let a = alice.client();
    alice.edit(&[TextEdit { at: 0, delete: 0, insert: "abcdefg".into() }]).unwrap().unwrap();
    alice.edit(&[TextEdit { at: 1, delete: 5, insert: String::new() }]).unwrap().unwrap();
    assert_eq!(alice.text(), "ag");
    for origin in 1..6 {
        for right_origin in 1..6 {
            let pair = TypedBetween { origin: (a, origin), right_origin: (a, right_origin), held: true };
            let read = alice.in_item_order(&[pair]);
            assert_eq!(read.is_ok(), origin < right_origin, "{origin} then {right_origin}: {read:?}");
        }
    }
}

/// An update that deletes the text between two crossed origins, merged on a copy (one
/// of its blocks builds on another), had them read alike there. The order is read
/// before anything is deleted: in this note for origins it holds.
#[test]
fn an_update_cannot_delete_the_text_between_two_crossed_origins_to_hide_them() {
    // Typed after "a" at once: nothing merged says which of the two runs comes first.
    let (mut dave, [a, b, c, m]) = typed_at_once("bbbb", "cccc");
    let (first, second) = if dave.text().starts_with("ab") { (b, c) } else { (c, b) };
    assert!(!dave.typed.in_order((first, 1), (second, 2)) && !dave.typed.in_order((second, 2), (first, 1)));
    // After the second run's third character, before the first run's second; a second
    // block after the first (so merged on a copy); both runs deleted.
    let mut update = Vec::new();
    for value in [1, 2, m, 0] {
        var(&mut update, value);
    }
    for (origin, right_origin, text) in [((second, 2), (first, 1), b"Q"), ((m, 0), (a, 1), b"R")] {
        update.push(0b1100_0000 | 4);
        for value in [origin.0, origin.1, right_origin.0, right_origin.1, 1] {
            var(&mut update, value);
        }
        update.extend_from_slice(text);
    }
    var(&mut update, 2);
    for client in [b, c] {
        for value in [client, 1, 0, 4] {
            var(&mut update, value);
        }
    }
    assert_eq!(dave.precheck(&update), Ok(false));
    let state = dave.state();
    assert_eq!(dave.apply_remote(&update, m), Err(NoteRefusal::Malformed));
    assert_eq!(dave.state(), state);
}

/// One character `text` under `client` at `clock`, typed between `origin` and
/// `right_origin` (either may be absent), as a modified client may send it.
fn one_block(client: u64, clock: u64, origin: Option<CharId>, right_origin: Option<CharId>, text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for value in [1, 1, client, clock] {
        var(&mut out, value);
    }
    let flags = if origin.is_some() { 0b1000_0000 } else { 0 } | if right_origin.is_some() { 0b0100_0000 } else { 0 };
    out.push(flags | 4);
    for (of, at) in origin.into_iter().chain(right_origin) {
        var(&mut out, of);
        var(&mut out, at);
    }
    if origin.is_none() && right_origin.is_none() {
        root_parent(&mut out);
    }
    var(&mut out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
    var(&mut out, 0);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Whatever blocks modified clients send (each character typed between any two
    /// held, or next to one, or with no origin; some deleted), every one a device takes
    /// leaves its note as the same note loaded from its state reads: the order of
    /// merging decides nothing, so devices cannot diverge. A refused block found once
    /// merged leaves the note to be read again from its last state, as the engine does.
    /// Review found "abecd" live and "abdec" loaded before blocks over characters their
    /// author knew were refused.
    #[test]
    fn whatever_blocks_are_sent_a_note_merged_live_reads_as_it_loads(
        script in proptest::collection::vec((0usize..3, any::<u16>(), any::<u16>(), 0u8..4, any::<bool>()), 1..24)
    ) {
        let mut live = device(9);
        let mut good = live.state();
        let mut typed: Vec<CharId> = Vec::new();
        let mut clocks = [0u64; 3];
        let mut letters = ('a'..='z').chain('A'..='Z').cycle();
        for (who, first, second, shape, delete) in script {
            let client = [1u64, 2, 3][who];
            let pick = |n: u16| typed.get(usize::from(n) % typed.len().max(1)).copied();
            let deleting = delete && !typed.is_empty();
            let update = if deleting {
                let (of, at) = pick(first).unwrap();
                let mut deletion = Vec::new();
                for value in [0, 1, of, 1, at, 1] {
                    var(&mut deletion, value);
                }
                deletion
            } else {
                let (origin, right_origin) = match shape {
                    0 => (pick(first), pick(second)),
                    1 => (pick(first), None),
                    2 => (None, pick(second)),
                    _ => (None, None),
                };
                let letter = letters.next().unwrap().to_string();
                one_block(client, clocks[who], origin, right_origin, &letter)
            };
            match live.apply_remote(&update, client) {
                Ok(_) => {
                    if !deleting {
                        typed.push((client, clocks[who]));
                        clocks[who] += 1;
                    }
                    good = live.state();
                }
                Err(_) if live.is_intact() => {}
                Err(_) => live = NoteDoc::load(live.client(), &good).unwrap(),
            }
            let loaded = NoteDoc::load(live.client(), &live.state()).unwrap();
            prop_assert_eq!(loaded.text(), live.text());
        }
    }
}

/// An undo that would type more blocks again than an update may hold is not sent: the
/// device refuses it as every receiver would, and reads the note again. (Counted
/// against what the device holds, its own undo's blocks read as held, not against an
/// empty note, where every block but the first reads as missing and none was counted.)
#[test]
fn an_undo_retyping_more_blocks_than_an_update_holds_is_not_sent() {
    let mut alice = device(1);
    alice.edit(&[TextEdit { at: 0, delete: 0, insert: "x".repeat(200) }]).unwrap().unwrap();
    for n in 0..=MAX_TYPED_BETWEEN as u32 {
        alice.edit(&[TextEdit { at: n * 3 + 1, delete: 0, insert: "y".into() }]).unwrap().unwrap();
    }
    let len = alice.len_utf16();
    alice.edit(&[TextEdit { at: 0, delete: len, insert: String::new() }]).unwrap().unwrap();
    assert_eq!(alice.text(), "");
    // Before the count was fixed, 131 blocks went out, which every receiver refused.
    let blocks_sent = alice.undo().map(|update| {
        let mut blocks = 0;
        let _ = super::read_blocks(&update.unwrap_or_default(), |_, _, _, _, _| blocks += 1);
        blocks
    });
    assert_eq!(blocks_sent, Err(NoteRefusal::TooLarge));
    assert!(!alice.is_intact());
}

/// Alice types "x", Bob "y" after it, Alice "z" after that; each then compacts their
/// own updates. A device that reads only the compactions finds each builds on the
/// other: refused alone, in either order; merged together, the note reads as live.
#[test]
fn compactions_that_build_on_each_other_merge_together_as_the_note_reads_live() {
    let mut alice = device(1);
    let mut bob = device(2);
    let a1 = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "x".into() }]).unwrap().unwrap();
    bob.apply_remote(&a1, alice.client()).unwrap();
    let b1 = bob.edit(&[TextEdit { at: 1, delete: 0, insert: "y".into() }]).unwrap().unwrap();
    alice.apply_remote(&b1, bob.client()).unwrap();
    let a2 = alice.edit(&[TextEdit { at: 2, delete: 0, insert: "z".into() }]).unwrap().unwrap();
    let a3 = alice.edit(&[TextEdit { at: 0, delete: 1, insert: String::new() }]).unwrap().unwrap();
    bob.apply_remote(&a2, alice.client()).unwrap();
    bob.apply_remote(&a3, alice.client()).unwrap();
    let b2 = bob.edit(&[TextEdit { at: 2, delete: 0, insert: "w".into() }]).unwrap().unwrap();
    alice.apply_remote(&b2, bob.client()).unwrap();
    assert_eq!(alice.text(), "yzw");

    let from_alice = compact_updates(&[&a1, &a2, &a3]).unwrap().expect("small enough");
    let from_bob = compact_updates(&[&b1, &b2]).unwrap().expect("small enough");
    for first in [0, 1] {
        let mut joiner = device(3);
        let parts = [(from_alice.as_slice(), alice.client()), (from_bob.as_slice(), bob.client())];
        let (one, other) = (parts[first], parts[1 - first]);
        assert_eq!(joiner.apply_remote(one.0, one.1), Err(NoteRefusal::Missing));
        assert_eq!(joiner.apply_remote(other.0, other.1), Err(NoteRefusal::Missing));
        assert!(joiner.is_intact());
        let merged = joiner.apply_remote_together(&[one, other], true).unwrap();
        assert_eq!(joiner.text(), "yzw");
        assert_eq!(apply_edits("", &merged.edits), "yzw", "the delta of the merge");
        // What is kept beside the note, replayed at the next load, is the same text.
        let replayed = NoteDoc::load(joiner.client(), &merged.update).unwrap();
        assert_eq!(replayed.text(), "yzw");
        // Each author's own compaction, and nobody else's characters in it.
        assert_eq!(
            joiner.apply_remote_together(&[(&from_alice, bob.client())], false).map(|merged| merged.edits),
            Err(NoteRefusal::ForeignClient)
        );
        // Merged where everything is held already, they change nothing.
        assert!(alice.apply_remote_together(&[one, other], false).unwrap().edits.is_empty());
        assert_eq!(alice.text(), "yzw");
        let reloaded = NoteDoc::load(joiner.client(), &joiner.state()).unwrap();
        assert_eq!(reloaded.text(), "yzw");
    }
}

/// A modified client's update that deletes what nobody ever sent waits for good; two
/// compactions that each build on the other still merge together beside it, and an
/// update that yrs cannot read is left out the same way.
#[test]
fn waiting_junk_does_not_hold_back_compactions_that_merge_together() {
    let mut alice = device(1);
    let mut bob = device(2);
    let a1 = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "x".into() }]).unwrap().unwrap();
    bob.apply_remote(&a1, alice.client()).unwrap();
    let b1 = bob.edit(&[TextEdit { at: 1, delete: 0, insert: "y".into() }]).unwrap().unwrap();
    alice.apply_remote(&b1, bob.client()).unwrap();
    let a2 = alice.edit(&[TextEdit { at: 2, delete: 0, insert: "z".into() }]).unwrap().unwrap();
    let from_alice = compact_updates(&[&a1, &a2]).unwrap().unwrap();
    let mallory = device(4).client();
    // No blocks; deletes 3 characters of a client nobody has heard of.
    let junk_deletion = {
        let mut out = Vec::new();
        for value in [0, 1, 12345, 1, 0, 3] {
            var(&mut out, value);
        }
        out
    };
    let mut joiner = device(3);
    assert_eq!(joiner.apply_remote(&junk_deletion, mallory), Err(NoteRefusal::Missing));
    let waiting: [(&[u8], u64); 4] =
        [(&junk_deletion, mallory), (&from_alice, alice.client()), (&[0xff, 0xff, 0x01], mallory), (&b1, bob.client())];
    let chosen = joiner.mergeable_together(&waiting);
    assert_eq!(chosen, vec![1, 3], "the compactions, without the junk");
    let together: Vec<(&[u8], u64)> = chosen.iter().map(|&at| waiting[at]).collect();
    joiner.apply_remote_together(&together, false).unwrap();
    assert_eq!(joiner.text(), "xyz");
    assert_eq!(
        joiner.apply_remote_together(&waiting, false).map(|merged| merged.edits),
        Err(NoteRefusal::Malformed),
        "all of them, junk included"
    );
}

/// A modified client's update that builds on two compactions which merge only
/// together (so it waits with them), and that is refused once merged (typed between
/// two of Alice's characters over Bob's, which she had seen): it alone is dropped,
/// and the compactions merge without it. Were all dropped, a member could make every
/// late reader lose what others wrote; were none, they would wait for good.
#[test]
fn an_update_that_breaks_a_set_waiting_together_is_the_only_one_dropped() {
    let mut alice = device(1);
    let mut bob = device(2);
    let (a, b) = (alice.client(), bob.client());
    let a1 = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "x".into() }]).unwrap().unwrap();
    bob.apply_remote(&a1, a).unwrap();
    let b1 = bob.edit(&[TextEdit { at: 1, delete: 0, insert: "y".into() }]).unwrap().unwrap();
    alice.apply_remote(&b1, b).unwrap();
    let a2 = alice.edit(&[TextEdit { at: 2, delete: 0, insert: "z".into() }]).unwrap().unwrap();
    let from_alice = compact_updates(&[&a1, &a2]).unwrap().unwrap();
    let mallory = device(4).client();
    // "e" between "x" and "z", over "y", which "z" was typed after.
    let crossing = typed_between(mallory, 0, (a, 0), (a, 1), "e");
    let joiner = device(3);
    for culprit_at in [0, 1, 2] {
        let mut waiting: Vec<(&[u8], u64)> = vec![(&from_alice, a), (&b1, b)];
        waiting.insert(culprit_at, (&crossing, mallory));
        assert_eq!(joiner.mergeable_together(&waiting), vec![0, 1, 2], "the crossing waits with them");
        assert_eq!(joiner.refused_together(&waiting), Some(vec![culprit_at]), "at {culprit_at}");
        assert_eq!(joiner.text(), "", "tried on copies only");
        waiting.remove(culprit_at);
        assert_eq!(joiner.refused_together(&waiting), None, "the rest merge");
        let mut merged = joiner.copy().unwrap();
        merged.apply_remote_together(&waiting, false).unwrap();
        assert_eq!(merged.text(), "xyz");
    }
    // Two that break it: no single one to blame, so all of them.
    let other_crossing = typed_between(mallory, 1, (a, 0), (a, 1), "f");
    let waiting: [(&[u8], u64); 4] = [(&from_alice, a), (&crossing, mallory), (&b1, b), (&other_crossing, mallory)];
    assert_eq!(joiner.refused_together(&waiting), Some(vec![0, 1, 2, 3]));
}

/// A member's modified client sends a second version of text it sent before, under the
/// same ids (as it could once the relay has forgotten the first: a substitute
/// compaction). yrs skips what it holds, so a device that read the first keeps it
/// while one that reads only the second shows the second, for good. A device holding
/// the first says so, whether the second changes the text or where it was typed, and
/// merges what else it brings (refusing that alone would set it apart for good).
#[test]
fn a_second_version_of_text_already_held_is_reported() {
    let mut alice = device(1);
    let mut mallory = device(2);
    let m = mallory.client();
    let base = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "ab".into() }]).unwrap().unwrap();
    mallory.apply_remote(&base, alice.client()).unwrap();
    let sent = mallory.edit(&[TextEdit { at: 1, delete: 0, insert: "meet at 9 👍".into() }]).unwrap().unwrap();
    alice.apply_remote(&sent, m).unwrap();
    assert_eq!(alice.text(), "ameet at 9 👍b");
    assert!(!alice.take_contradicted());
    let text = alice.text();

    let second_version = |insert: &str, at: u32| {
        let mut other = device(2);
        other.apply_remote(&base, alice.client()).unwrap();
        let first = other.edit(&[TextEdit { at, delete: 0, insert: insert.into() }]).unwrap().unwrap();
        let more = other.edit(&[TextEdit { at: 0, delete: 0, insert: "!".into() }]).unwrap().unwrap();
        compact_updates(&[&first, &more]).unwrap().unwrap()
    };
    let cases = [
        ("other text", second_version("meet at 7 👍", 1)),
        ("another astral character", second_version("meet at 9 👎", 1)),
        ("typed elsewhere", second_version("meet at 9 👍", 2)),
    ];
    for (what, substitute) in &cases {
        // A device that reads only the substitute shows it: the difference is real.
        let mut joiner = device(3);
        joiner.apply_remote(&base, alice.client()).unwrap();
        joiner.apply_remote(substitute, m).unwrap();
        assert_ne!(joiner.text(), format!("!{text}"), "{what}");
        let mut holder = alice.copy().unwrap();
        assert_eq!(holder.apply_remote(substitute, m), Ok(true), "{what}: what else it brings is merged");
        assert_eq!(holder.text(), format!("!{text}"), "{what}: the first version kept");
        assert!(holder.take_contradicted(), "{what}");
        assert!(!holder.take_contradicted(), "{what}: said once");
        // Merged with another update, as a set that waited: said all the same.
        let mut holder = alice.copy().unwrap();
        holder.apply_remote_together(&[(substitute, m), (&base, alice.client())], false).unwrap();
        assert!(holder.take_contradicted(), "{what}, merged together");
    }
    // The same update again, and Mallory's own compaction of what she sent: nothing said.
    assert_eq!(alice.apply_remote(&sent, m), Ok(false));
    let more = mallory.edit(&[TextEdit { at: 13, delete: 0, insert: "!".into() }]).unwrap().unwrap();
    let compaction = compact_updates(&[&sent, &more]).unwrap().unwrap();
    assert_eq!(alice.apply_remote(&compaction, m), Ok(true));
    assert_eq!(alice.text(), "ameet at 9 👍!b");
    assert!(!alice.take_contradicted());
}

/// Text sent as deleted (its length only) that the same update does not delete: yrs
/// takes it as deleted where it is new and skips it where it is held and shown, so a
/// member could empty her text for later readers alone. Refused from its bytes; honest
/// updates that carry deleted text delete it too.
#[test]
fn text_sent_as_deleted_must_be_deleted_by_the_same_update() {
    let mut alice = device(1);
    let mut mallory = device(2);
    let m = mallory.client();
    let sent = mallory.edit(&[TextEdit { at: 0, delete: 0, insert: "abc".into() }]).unwrap().unwrap();
    alice.apply_remote(&sent, m).unwrap();
    let deleted_block = |deletes: &[(u64, u64, u64)]| {
        let mut out = Vec::new();
        for value in [1, 1, m, 0] {
            var(&mut out, value);
        }
        out.push(1);
        root_parent(&mut out);
        var(&mut out, 3);
        var(&mut out, deletes.len() as u64);
        for (of, at, len) in deletes {
            for value in [*of, 1, *at, *len] {
                var(&mut out, value);
            }
        }
        out
    };
    for holder in [alice.copy().unwrap(), device(3)] {
        let mut holder = holder;
        let before = holder.text();
        assert_eq!(holder.apply_remote(&deleted_block(&[]), m), Err(NoteRefusal::Malformed));
        assert_eq!(holder.apply_remote(&deleted_block(&[(m, 0, 2)]), m), Err(NoteRefusal::Malformed));
        assert_eq!(holder.text(), before);
        assert!(holder.is_intact());
    }
    // Deleted by the same update: a deletion of her own text, the same everywhere.
    let mut joiner = device(3);
    joiner.apply_remote(&deleted_block(&[(m, 0, 3)]), m).unwrap();
    alice.apply_remote(&deleted_block(&[(m, 0, 3)]), m).unwrap();
    assert_eq!((alice.text(), joiner.text()), (String::new(), String::new()));
    // An honest update that types and deletes at once, and a state, pass.
    let typed_and_deleted = mallory
        .edit(&[
            TextEdit { at: 0, delete: 0, insert: "xyz".into() },
            TextEdit { at: 0, delete: 3, insert: String::new() },
        ])
        .unwrap();
    if let Some(update) = typed_and_deleted {
        assert!(well_formed(&update).is_ok());
    }
    assert!(well_formed(&mallory.state()).is_ok());
    // A state whose deleted text yrs has collected to its length (Alice's copy, deleted
    // by Mallory's update) sends it as deleted text, and deletes it too.
    let state = alice.state();
    let mut deleted_blocks = 0;
    read_structs(
        &mut Lib0(&state),
        |_, _, _| Ok(()),
        |raw| {
            deleted_blocks += usize::from(raw.content == RawContent::Deleted);
            Ok(())
        },
    )
    .unwrap();
    assert!(deleted_blocks > 0, "the state holds deleted text as a length");
    assert!(well_formed(&state).is_ok());
}

/// Bytes that make yrs fail part of the way through a merge (found by the
/// `note_together` fuzz target, on a release build: a collected range whose clocks wrap
/// past 32 bits), waiting beside two compactions that merge only together. Before, the
/// trial on a copy gave up and chose nothing, so such an update held back every set
/// waiting with it for good; now it is left out from its bytes (and it never waits:
/// `well_formed`), and were yrs to fail on another, that one alone would be left out.
/// In a debug build, as here, yrs already fails while decoding these bytes (an overflow
/// check), which was skipped before too: only a release build (the fuzz target's, the
/// apps') shows the failure this guards against.
#[test]
fn an_update_yrs_fails_on_does_not_hold_back_those_waiting_with_it() {
    // The bytes name client 0x1a11ce's characters: a note that holds some.
    let mut first = NoteDoc::new(0x1a11ce);
    first.edit(&[TextEdit { at: 0, delete: 0, insert: "# Hearing".into() }]).unwrap().unwrap();
    let base = first.state();
    let mut alice = NoteDoc::load(device(1).client(), &base).unwrap();
    let mut bob = NoteDoc::load(device(2).client(), &base).unwrap();
    let a1 = alice.edit(&[TextEdit { at: 0, delete: 0, insert: "x".into() }]).unwrap().unwrap();
    bob.apply_remote(&a1, alice.client()).unwrap();
    let b1 = bob.edit(&[TextEdit { at: 1, delete: 0, insert: "y".into() }]).unwrap().unwrap();
    alice.apply_remote(&b1, bob.client()).unwrap();
    let a2 = alice.edit(&[TextEdit { at: 2, delete: 0, insert: "z".into() }]).unwrap().unwrap();
    let from_alice = compact_updates(&[&a1, &a2]).unwrap().unwrap();
    let poison = hex::decode("01018b16fcfcfcfcfcfcfcfcfcfc2f00cea36800008000").unwrap();
    assert!(well_formed(&poison).is_err());
    let mallory = device(4).client();
    let joiner = NoteDoc::load(device(3).client(), &base).unwrap();
    let waiting: [(&[u8], u64); 3] = [(&from_alice, alice.client()), (&poison, mallory), (&b1, bob.client())];
    assert_eq!(joiner.mergeable_together(&waiting), vec![0, 2]);
    let mut merged = joiner.copy().unwrap();
    merged.apply_remote_together(&[waiting[0], waiting[2]], false).unwrap();
    assert_eq!(merged.text(), "xyz# Hearing");
    // Honest updates, waiting or not, are well formed.
    for update in [&a1, &a2, &b1, &from_alice] {
        assert_eq!(well_formed(update), Ok(()));
    }
}
