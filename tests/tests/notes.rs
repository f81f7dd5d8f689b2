//! Notes written together: several devices type into one note at once, one of them
//! offline for a while, with real MLS, real signed and sealed records and the relay's
//! real request handler; and what a relay that reorders, repeats or holds back
//! updates can and cannot do to them. The last test does it over QUIC with the real
//! relay binary, one person behind the emulated 2G link.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::engine::Engine;
use huisclos_core::library::NodeId;
use huisclos_core::note::TextEdit;
use huisclos_core::space::{HistoryMode, Role};
use huisclos_protocol::codec::BoundedVec;
use huisclos_protocol::ids::GroupId;
use huisclos_protocol::messages::{RequestBody, ResponseBody};
use huisclos_tests::rng::Rng;
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with, type_at_end};

/// A word of 1 to 6 characters, some outside ASCII (UTF-16 offsets must hold).
fn random_word(script: &mut Rng) -> String {
    const LETTERS: [char; 8] = ['a', 'e', 'k', 'r', 'é', 'ü', 'ا', '😀'];
    let len = 1 + script.next_u64() % 6;
    (0..len).map(|_| LETTERS[(script.next_u64() % LETTERS.len() as u64) as usize]).collect()
}

/// Where to type in `text`: a UTF-16 offset on a character boundary.
fn somewhere(text: &str, pick: u64) -> u32 {
    let chars: Vec<char> = text.chars().collect();
    let index = (pick % (chars.len() as u64 + 1)) as usize;
    chars[..index].iter().map(|c| c.len_utf16() as u32).sum()
}

fn type_word(engine: &mut Engine, space: &GroupId, note: &NodeId, script: &mut Rng) -> String {
    let word = random_word(script);
    let text = engine.note_text(space, note).unwrap();
    let at = somewhere(&text, script.next_u64());
    engine.edit_note(space, note, &[TextEdit { at, delete: 0, insert: word.clone() }]).unwrap();
    word
}

fn sorted_chars(text: &str) -> Vec<char> {
    let mut chars: Vec<char> = text.chars().collect();
    chars.sort_unstable();
    chars
}

async fn three(relay: &SimRelay) -> (SimDevice, SimDevice, SimDevice, GroupId, NodeId) {
    let mut alice = SimDevice::join(relay, "Alice").await;
    let mut bob = SimDevice::join(relay, "Bob").await;
    let mut carol = SimDevice::join(relay, "Carol").await;
    let space = space_with(
        relay,
        &mut alice,
        &mut [(&mut bob, Role::Contributor), (&mut carol, Role::Contributor)],
        HistoryMode::Keep,
    )
    .await;
    let note = alice.engine_mut().create_note(&space, None, "Minutes", "").unwrap();
    settle(relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    (alice, bob, carol, space, note)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_typing_at_once_one_offline_end_with_one_text_holding_every_character() {
    for seed in [1u64, 2, 3] {
        let relay = SimRelay::new();
        let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
        let mut script = Rng::new(seed);
        let mut typed = String::new();
        for round in 0..10 {
            // Alice and Bob type and sync every round, in turns; Carol types offline
            // for the first seven rounds and only then comes back.
            typed += &type_word(alice.engine_mut(), &space, &note, &mut script);
            typed += &type_word(bob.engine_mut(), &space, &note, &mut script);
            typed += &type_word(carol.engine_mut(), &space, &note, &mut script);
            if round % 2 == 0 {
                alice.drive(&relay).await;
                bob.drive(&relay).await;
            } else {
                bob.drive(&relay).await;
                alice.drive(&relay).await;
            }
            if round >= 7 {
                carol.drive(&relay).await;
            }
        }
        settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
        let text = alice.engine().note_text(&space, &note).unwrap();
        for device in [&bob, &carol] {
            assert_eq!(device.engine().note_text(&space, &note).unwrap(), text, "seed {seed}: {}", device.name);
        }
        assert_eq!(sorted_chars(&text), sorted_chars(&typed), "seed {seed}: every character typed is there");
        // The text survives closing and opening the profile.
        carol.restart(&relay);
        assert_eq!(carol.engine().note_text(&space, &note).unwrap(), text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editors_whole_text_saved_over_others_edits_keeps_them() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    alice.engine_mut().write_note(&space, &note, "Hearing: Monday\nWitnesses: two\n").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    // Alice saves her editor's file with the day changed; Bob meanwhile adds a line.
    alice.engine_mut().write_note(&space, &note, "Hearing: Tuesday\nWitnesses: two\n").unwrap();
    bob.engine_mut().write_note(&space, &note, "Hearing: Monday\nWitnesses: two\nBring the statements\n").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        assert_eq!(
            device.engine().note_text(&space, &note).unwrap(),
            "Hearing: Tuesday\nWitnesses: two\nBring the statements\n",
            "{}",
            device.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_text_pasted_at_once_travels_in_several_updates() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, _carol, space, note) = three(&relay).await;
    let long: String = (0..6000).map(|i| format!("line {i} of the statement\n")).collect();
    assert!(long.len() > huisclos_core::note::MAX_UPDATE_LEN);
    alice.engine_mut().write_note(&space, &note, &long).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), long);
}

/// The relay answers Bob's reads of the space's content with the records of each page
/// reversed and every one repeated; Bob still ends with everyone's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_reorders_and_repeats_updates_cannot_make_devices_diverge() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    let mut script = Rng::new(7);
    let mut typed = String::new();
    for _ in 0..6 {
        typed += &type_word(alice.engine_mut(), &space, &note, &mut script);
        typed += &type_word(carol.engine_mut(), &space, &note, &mut script);
    }
    alice.drive(&relay).await;
    carol.drive(&relay).await;
    for _ in 0..3 {
        bob.sync_through(&relay, &mut |_request: &RequestBody, answer| {
            if let Ok(ResponseBody::ContentPage(page)) = answer {
                let mut records = page.records.to_vec();
                records.reverse();
                let doubled: Vec<_> = records.iter().cloned().chain(records.iter().cloned()).collect();
                page.records = BoundedVec::new(doubled).expect("within the page's bound");
            }
        })
        .await;
    }
    settle(&relay, &mut [&mut alice, &mut carol]).await;
    let text = alice.engine().note_text(&space, &note).unwrap();
    assert_eq!(carol.engine().note_text(&space, &note).unwrap(), text);
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), text, "Bob's text, read through the relay's disorder");
    assert_eq!(sorted_chars(&text), sorted_chars(&typed));
}

/// Bob's editor shows the note: each merge of others' edits tells him what changed, in
/// UTF-16 units, and applying it to what he showed (his own typing included) gives the
/// note's text. Carol, who shows no note, is told only that it changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_showing_a_note_is_told_each_merges_edits_and_others_to_read_again() {
    use huisclos_core::engine::ClientEvent;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    bob.engine_mut().show_in_note(&space, Some(&note), Some((0, 0))).unwrap();
    let mut shown = bob.engine().note_text(&space, &note).unwrap();
    let (bob_seen, carol_seen) = (bob.events.len(), carol.events.len());
    let mut script = Rng::new(21);
    for _ in 0..8 {
        type_word(alice.engine_mut(), &space, &note, &mut script);
        type_word(carol.engine_mut(), &space, &note, &mut script);
        // Bob types too: his own edits raise nothing, and his editor has them.
        let word = random_word(&mut script);
        let at = somewhere(&shown, script.next_u64());
        bob.engine_mut().edit_note(&space, &note, &[TextEdit { at, delete: 0, insert: word.clone() }]).unwrap();
        shown = apply(&shown, &[TextEdit { at, delete: 0, insert: word }]);
        settle(&relay, &mut [&mut alice, &mut carol, &mut bob]).await;
        for event in bob.events.drain(bob_seen..) {
            if let ClientEvent::NoteChanged { note: changed, edits, .. } = event {
                assert_eq!(changed, note);
                shown = apply(&shown, &edits.expect("the note Bob shows comes with its edits"));
            }
        }
    }
    assert_eq!(shown, bob.engine().note_text(&space, &note).unwrap(), "Bob's editor shows the note as it is");
    assert_eq!(shown, alice.engine().note_text(&space, &note).unwrap());
    let carol_told: Vec<_> = carol.events[carol_seen..]
        .iter()
        .filter_map(|event| match event {
            ClientEvent::NoteChanged { edits, .. } => Some(edits.is_none()),
            _ => None,
        })
        .collect();
    assert!(!carol_told.is_empty() && carol_told.iter().all(|none| *none), "Carol is told to read again");
}

/// `edits` applied in order to `text`, in UTF-16 units, as an editor does.
fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut units: Vec<u16> = text.encode_utf16().collect();
    for edit in edits {
        let at = (edit.at as usize).min(units.len());
        let end = (at + edit.delete as usize).min(units.len());
        units.splice(at..end, edit.insert.encode_utf16());
    }
    String::from_utf16(&units).unwrap()
}

/// Alice names a version of the minutes; Bob rewrites them; every device lists the
/// version with its author, reads its text, and Carol restores it as a new edit, which
/// she can undo: nothing earlier is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_version_is_listed_read_and_restored_on_every_device() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    alice.engine_mut().write_note(&space, &note, "Hearing at 9, room 4.").unwrap();
    let version = alice.engine_mut().name_note_version(&space, &note, "Before the hearing").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    bob.engine_mut().write_note(&space, &note, "Hearing postponed.").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        let versions = device.engine().note_versions(&space, &note).unwrap();
        assert_eq!(versions.len(), 1, "{}", device.name);
        assert_eq!((versions[0].id, versions[0].name.as_str()), (version, "Before the hearing"));
        assert_eq!(versions[0].author_name, "Alice");
        assert_eq!(versions[0].units, 21);
        assert_eq!(device.engine().note_version_text(&space, &note, &version).unwrap(), "Hearing at 9, room 4.");
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Hearing postponed.");
    }
    assert!(bob.events.iter().any(|e| matches!(e, huisclos_core::engine::ClientEvent::NoteVersionsChanged { .. })));

    carol.engine_mut().restore_note_version(&space, &note, &version).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Hearing at 9, room 4.", "{}", device.name);
    }
    // The restore is Carol's edit: she can take it back.
    assert!(carol.engine_mut().undo_note(&space, &note).unwrap());
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), "Hearing postponed.");
    // A modified client's version of something that is not a note is refused
    // everywhere (it would sit on every device, listed nowhere).
    let nowhere = huisclos_core::library::NodeId::from_bytes([0x77; 16]);
    let forged = huisclos_core::content::ContentBody::NoteVersion(huisclos_core::content::NoteVersion {
        note: nowhere,
        name: huisclos_core::content::VersionName::new("Ghost").unwrap(),
        text: huisclos_core::content::NoteVersionText::new(b"kept by everyone".to_vec()).unwrap(),
    });
    let at = bob.clock();
    bob.engine_mut().adversary().publish_dated(&space, forged, at).unwrap();
    settle(&relay, &mut [&mut bob, &mut alice, &mut carol]).await;
    for device in [&alice, &carol] {
        assert!(
            device.refusals().iter().any(|r| format!("{r:?}").contains("NotFound(Note)")),
            "{}: {:?}",
            device.name,
            device.refusals()
        );
    }
    // A version nobody named is not found; a name must say something.
    let unknown = huisclos_protocol::ids::ContentId::from_bytes([3; 16]);
    assert!(alice.engine().note_version_text(&space, &note, &unknown).is_err());
    assert!(alice.engine_mut().name_note_version(&space, &note, "  ").is_err());
}

/// The Yjs client id of `device`'s first device in `note`.
fn note_client(device: &SimDevice, space: &GroupId, note: &NodeId) -> u64 {
    let key = device.engine().contact_card().unwrap().body.devices.iter().next().unwrap().body.mls_key;
    huisclos_core::note::client_id(space.as_bytes(), note.as_bytes(), &key)
}

/// `device`'s modified client publishes `update` to `note` as it is, sealed and signed
/// as a real one, past the engine's own checks.
fn publish_note_update(device: &mut SimDevice, space: &GroupId, note: &NodeId, update: Vec<u8>) {
    let body = huisclos_core::content::ContentBody::NoteEdit(huisclos_core::content::NoteEdit {
        note: *note,
        update: huisclos_core::content::NoteUpdateBytes::new(update).unwrap(),
    });
    let at = device.clock();
    device.engine_mut().adversary().publish_dated(space, body, at).unwrap();
}

/// Alice undoes her own edits: on every device her words go and come back, while
/// what Bob and Carol wrote around them, before and after, stays; nobody can undo
/// another's words, and a reader has nothing to undo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_takes_back_only_ones_own_edits_on_every_device() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    let end = |device: &SimDevice| device.engine().note_text(&space, &note).unwrap().encode_utf16().count() as u32;
    let type_at_end = |device: &mut SimDevice, words: &str| {
        let at = end(device);
        device.engine_mut().edit_note(&space, &note, &[TextEdit { at, delete: 0, insert: words.into() }]).unwrap();
    };
    type_at_end(&mut alice, "Hearing at 9.");
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    type_at_end(&mut bob, " Bring the file.");
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    type_at_end(&mut alice, " Room 4.");
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    // Carol writes at the start after all of it.
    carol.engine_mut().edit_note(&space, &note, &[TextEdit { at: 0, delete: 0, insert: "Agenda: ".into() }]).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), "Agenda: Hearing at 9. Bring the file. Room 4.");

    // A record that fails its checks is refused and its step rolled back (here Carol's
    // modified client writes under Alice's client id): Alice's undo history outlives it.
    let forged = huisclos_core::note::NoteDoc::new(note_client(&alice, &space, &note))
        .edit(&[TextEdit { at: 0, delete: 0, insert: "Alice agrees. ".into() }])
        .unwrap()
        .unwrap();
    publish_note_update(&mut carol, &space, &note, forged);
    settle(&relay, &mut [&mut carol, &mut alice, &mut bob]).await;
    assert_eq!(alice.refusals().len(), 1, "the forged update is refused");
    // One that passes every check made from its bytes but builds on text of Carol's
    // that nobody has (her modified client sends the second of two edits alone): it
    // waits, as an update that another device's compaction read later would let merge,
    // and nothing of it shows. Alice's open note, and her undo history, are as they
    // were.
    let mut unseen = huisclos_core::note::NoteDoc::new(note_client(&carol, &space, &note));
    unseen.edit(&[TextEdit { at: 0, delete: 0, insert: "x".repeat(40) }]).unwrap();
    let built_on_it = unseen.edit(&[TextEdit { at: 20, delete: 0, insert: "Alice lied. ".into() }]).unwrap().unwrap();
    publish_note_update(&mut carol, &space, &note, built_on_it);
    settle(&relay, &mut [&mut carol, &mut alice, &mut bob]).await;
    assert_eq!(alice.refusals().len(), 1, "the update built on what nobody has waits");
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), "Agenda: Hearing at 9. Bring the file. Room 4.");

    // Alice undoes twice: her two edits go, everywhere; Bob's and Carol's stay.
    assert!(alice.engine_mut().undo_note(&space, &note).unwrap());
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Agenda: Hearing at 9. Bring the file.");
    }
    assert!(alice.engine_mut().undo_note(&space, &note).unwrap());
    assert!(!alice.engine_mut().undo_note(&space, &note).unwrap(), "Bob's and Carol's words are not hers to undo");
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Agenda:  Bring the file.", "{}", device.name);
    }
    // Redo brings her first edit back everywhere.
    assert!(alice.engine_mut().redo_note(&space, &note).unwrap());
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Agenda: Hearing at 9. Bring the file.");
    }
    // Bob undoes his: only his sentence goes.
    assert!(bob.engine_mut().undo_note(&space, &note).unwrap());
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    for device in [&alice, &bob, &carol] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), "Agenda: Hearing at 9.");
    }
    for device in [&alice, &bob] {
        let refusals = device.refusals();
        assert!(
            refusals.iter().all(|r| ["ForeignClient", "Missing"].iter().any(|why| format!("{r:?}").contains(why))),
            "{}: {refusals:?}",
            device.name
        );
    }
}

/// A relay pushes what it likes (messages.md 8.3): the update Bob reads next twice, an
/// old one again, one while log entries it announced are unread, one past a gap. Bob
/// takes a push only at the position he reads next, with the log read as far as
/// announced, through the checks a page gets, and reads the rest from the store, the
/// log first: he ends with everyone's text, each word once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_pushed_out_of_place_or_repeated_cannot_make_devices_diverge() {
    use huisclos_protocol::ids::{ContentSeq, Epoch, Seq};
    use huisclos_protocol::messages::{ContentPushed, Event, LogAdvanced, PushedRecordBytes};
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    alice.engine_mut().write_note(&space, &note, "Hearing at 9").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let before = relay.content_records(space).len() as u64;

    // Bob is away while Alice types three words; the relay's pushes are its own.
    bob.disconnect(&relay);
    let words = [" in room 4", " bring the file", " judge: Amrani"];
    for word in words {
        let at = alice.engine().note_text(&space, &note).unwrap().encode_utf16().count() as u32;
        alice.engine_mut().edit_note(&space, &note, &[TextEdit { at, delete: 0, insert: word.into() }]).unwrap();
    }
    alice.drive(&relay).await;
    let records = relay.content_records(space);
    assert_eq!(records.len() as u64, before + 3, "one record per word");
    let push = |seq: u64| {
        let (record, sealed) = records[seq as usize].clone();
        Event::ContentPushed(ContentPushed {
            group: space,
            seq: ContentSeq::new(seq).unwrap(),
            record,
            sealed: PushedRecordBytes::new(sealed).unwrap(),
        })
    };
    let text = |bob: &SimDevice| bob.engine().note_text(&space, &note).unwrap();

    // The next one, twice: taken once. An old one again: nothing.
    let now = bob.clock();
    bob.engine_mut().handle_event(push(before), now);
    bob.engine_mut().handle_event(push(before), now);
    bob.engine_mut().handle_event(push(before - 1), now);
    assert_eq!(text(&bob), "Hearing at 9 in room 4");
    assert!(bob.refusals().is_empty(), "{:?}", bob.refusals());
    // The next one, while the log holds entries announced and not read yet (one could
    // revoke the author's device, or remove them): not taken, the log is read first.
    let announced = LogAdvanced { group: space, epoch: Epoch::new(9).unwrap(), latest: Seq::new(1 << 20).unwrap() };
    bob.engine_mut().handle_event(Event::LogAdvanced(announced), now);
    bob.engine_mut().handle_event(push(before + 1), now);
    assert_eq!(text(&bob), "Hearing at 9 in room 4", "a push waits for the log announced before it");
    // The newest, a record ahead of what Bob reads next: not taken either.
    bob.engine_mut().handle_event(push(before + 2), now);
    assert_eq!(text(&bob), "Hearing at 9 in room 4", "a push past a gap is read from the store instead");

    // Back online, Bob reads what he was not pushed in place.
    bob.connect(&relay);
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let expected = "Hearing at 9 in room 4 bring the file judge: Amrani";
    for device in [&alice, &bob, &carol] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), expected, "{}", device.name);
    }
    assert!(bob.warnings().is_empty(), "{:?}", bob.warnings());
}

/// Alice (direct), Bob (behind the emulated 2G link: 64 kbit/s, 800 ms, 5 % loss) and
/// Carol (offline for most of it) type into one note over QUIC, through the real relay
/// binary: every device ends with the same text, holding every character typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_people_type_into_one_note_over_quic_one_on_2g_one_offline_for_a_while() {
    use huisclos_tests::netem::{Link, LinkConfig};
    use huisclos_tests::process::{Person, RelayProcess, settle as settle_all, shared_space};
    let relay = RelayProcess::start();
    let link = Link::start(relay.address, relay.tcp_address, LinkConfig::poor_2g(21)).await;
    let mut alice = Person::join(&relay, "Alice").await;
    let mut bob = Person::join_via(&relay, "Bob", vec![link.address()]).await;
    let mut carol = Person::join(&relay, "Carol").await;
    let space = shared_space(&mut alice, &mut bob).await;
    alice.engine.invite(&space, &carol.engine.contact_card().unwrap(), Role::Contributor).unwrap();
    settle_all(&mut [&mut alice, &mut bob, &mut carol]).await;
    carol.engine.accept_invitation(&space).unwrap();
    settle_all(&mut [&mut alice, &mut bob, &mut carol]).await;
    let note = alice.engine.create_note(&space, None, "Minutes", "").unwrap();
    settle_all(&mut [&mut alice, &mut bob, &mut carol]).await;

    let mut script = Rng::new(21);
    let mut typed = String::new();
    let bytes = link.bytes();
    for round in 0..4 {
        typed += &type_word(&mut alice.engine, &space, &note, &mut script);
        typed += &type_word(&mut bob.engine, &space, &note, &mut script);
        typed += &type_word(&mut carol.engine, &space, &note, &mut script);
        alice.sync().await;
        bob.sync().await;
        if round == 3 {
            carol.sync().await;
        }
    }
    settle_all(&mut [&mut alice, &mut bob, &mut carol]).await;
    let text = alice.engine.note_text(&space, &note).unwrap();
    assert_eq!(bob.engine.note_text(&space, &note).unwrap(), text, "Bob, on 2G");
    assert_eq!(carol.engine.note_text(&space, &note).unwrap(), text, "Carol, back online");
    assert_eq!(sorted_chars(&text), sorted_chars(&typed));
    eprintln!(
        "12 edits by three people; {} bytes crossed Bob's link, {} packets lost",
        link.bytes() - bytes,
        link.lost()
    );
    assert!(bob.warnings().is_empty() && alice.warnings().is_empty() && carol.warnings().is_empty());
}

/// More updates than a note keeps beside its state: they are folded into it, and the
/// note reads the same before and after a restart, on the writer's device and on a
/// reader's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_folds_its_updates_into_its_state_and_reads_the_same_after_a_restart() {
    let relay = SimRelay::new();
    let (mut alice, mut bob, _carol, space, note) = three(&relay).await;
    let mut expected = String::new();
    for n in 0..300u32 {
        let piece = if n % 10 == 9 { "\n".to_owned() } else { char::from(b'a' + (n % 26) as u8).to_string() };
        let at = expected.encode_utf16().count() as u32;
        alice.engine_mut().edit_note(&space, &note, &[TextEdit { at, delete: 0, insert: piece.clone() }]).unwrap();
        expected.push_str(&piece);
        if n % 100 == 99 {
            alice.drive(&relay).await;
        }
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), expected);
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), expected);
    alice.restart(&relay);
    bob.restart(&relay);
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), expected, "Alice, after a restart");
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), expected, "Bob, after a restart");
    // And editing goes on from there.
    alice.connect(&relay);
    bob.connect(&relay);
    bob.engine_mut().edit_note(&space, &note, &[TextEdit { at: 0, delete: 0, insert: "# ".into() }]).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), format!("# {expected}"), "Bob");
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), format!("# {expected}"), "Alice");
}

/// Sets every device's clock to the latest of them (each simulated step moves its own
/// device's clock by a second, so devices that did more work are ahead).
fn same_time(devices: &mut [&mut SimDevice]) {
    let latest = devices.iter().map(|d| d.clock()).max().unwrap();
    for device in devices.iter_mut() {
        let behind = latest - device.clock();
        device.advance(behind);
    }
}

/// Alice's next request, which must be her presence signal: delivered, and its bytes
/// returned (as a relay would have them).
async fn send_presence(relay: &SimRelay, alice: &mut SimDevice) -> huisclos_protocol::messages::SignalBytes {
    let payload = match alice.hold() {
        Some(RequestBody::Signal(signal)) => signal.payload.clone(),
        other => panic!("expected Alice's presence signal, got {other:?}"),
    };
    assert!(alice.step(relay).await);
    payload
}

fn presence(device: &SimDevice, space: &GroupId, note: &NodeId) -> Vec<(String, Option<(u32, u32)>)> {
    device.engine().note_presence(space, note).unwrap().into_iter().map(|p| (p.name, p.selection)).collect()
}

/// Presence: who has a note open, and where their selection is, reaches the others
/// through the relay, which stores none of it; a selection follows the text through
/// others' edits; a replayed or old-generation message changes nothing; a removed
/// member cannot send one; and someone not heard from for 45 s is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_shows_who_is_where_follows_edits_and_cannot_be_replayed_or_kept_by_the_removed() {
    use huisclos_core::engine::ClientEvent;
    use huisclos_protocol::messages::{Event, GroupSignal};
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    alice.engine_mut().write_note(&space, &note, "Hearing at 9").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let records = relay.content_records(space).len();
    same_time(&mut [&mut alice, &mut bob, &mut carol]);

    // Alice selects "at 9"; Bob and Carol see it.
    alice.engine_mut().show_in_note(&space, Some(&note), Some((8, 12))).unwrap();
    let first = send_presence(&relay, &mut alice).await;
    bob.drive(&relay).await;
    carol.drive(&relay).await;
    assert_eq!(presence(&bob, &space, &note), vec![("Alice".to_owned(), Some((8, 12)))]);
    assert_eq!(presence(&carol, &space, &note), vec![("Alice".to_owned(), Some((8, 12)))]);
    assert!(bob.events.iter().any(|e| matches!(e, ClientEvent::PresenceChanged { note: n, .. } if *n == note)));
    assert!(presence(&alice, &space, &note).is_empty(), "her own presence is not shown to her");
    assert_eq!(relay.content_records(space).len(), records, "the relay stored nothing of it");

    // Bob types before her selection: in his view it moves with the text it was on.
    bob.engine_mut().edit_note(&space, &note, &[TextEdit { at: 0, delete: 0, insert: "Urgent: ".into() }]).unwrap();
    assert_eq!(presence(&bob, &space, &note), vec![("Alice".to_owned(), Some((16, 20)))]);
    bob.drive(&relay).await;
    carol.drive(&relay).await;
    assert_eq!(presence(&carol, &space, &note), vec![("Alice".to_owned(), Some((16, 20)))]);

    // Alice moves her caret to the start; the relay then replays her first message:
    // Bob keeps the newer one.
    same_time(&mut [&mut alice, &mut bob, &mut carol]);
    alice.drive(&relay).await;
    alice.advance(2);
    alice.engine_mut().show_in_note(&space, Some(&note), Some((0, 0))).unwrap();
    send_presence(&relay, &mut alice).await;
    bob.drive(&relay).await;
    assert_eq!(presence(&bob, &space, &note), vec![("Alice".to_owned(), Some((0, 0)))]);
    let now = bob.clock();
    bob.engine_mut().handle_event(Event::Signal(GroupSignal { group: space, payload: first.clone() }), now);
    assert_eq!(presence(&bob, &space, &note), vec![("Alice".to_owned(), Some((0, 0)))], "a replay is dropped");

    // Carol is removed: the history key rotates. Her connection's access is stale, so
    // the relay forwards nothing she sends; and a message sealed under the old key,
    // replayed by a relay, opens for no one.
    let carol_id = carol.engine().identity();
    alice.engine_mut().remove(&space, &carol_id).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    assert!(carol.events.iter().any(|e| matches!(e, ClientEvent::RemovedFromSpace(s) if *s == space)));
    let stale = carol
        .send_raw(
            &relay,
            huisclos_protocol::messages::Signal {
                access: huisclos_protocol::messages::GroupAccess {
                    group: space,
                    epoch: huisclos_protocol::ids::Epoch::ZERO,
                    token: huisclos_protocol::access::AccessToken::from_bytes([0; 32]),
                },
                payload: first.clone(),
            }
            .into(),
        )
        .await;
    assert!(stale.is_err(), "a removed member's signal is refused: {stale:?}");
    same_time(&mut [&mut alice, &mut bob]);
    alice.engine_mut().show_in_note(&space, Some(&note), Some((3, 3))).unwrap();
    alice.drive(&relay).await;
    bob.drive(&relay).await;
    let shown = presence(&bob, &space, &note);
    assert_eq!(shown, vec![("Alice".to_owned(), Some((3, 3)))], "presence under the new key is taken");
    let now = bob.clock();
    bob.engine_mut().handle_event(Event::Signal(GroupSignal { group: space, payload: first }), now);
    assert_eq!(presence(&bob, &space, &note), shown, "an old generation's message is dropped");

    // Alice leaves the note: Bob sees her go at once. Then she comes back and goes
    // silent: after 45 s without her heartbeat, she is gone too.
    alice.engine_mut().show_in_note(&space, None, None).unwrap();
    alice.advance(2);
    alice.drive(&relay).await;
    bob.drive(&relay).await;
    assert!(presence(&bob, &space, &note).is_empty());
    same_time(&mut [&mut alice, &mut bob]);
    alice.engine_mut().show_in_note(&space, Some(&note), None).unwrap();
    alice.advance(2);
    let last = send_presence(&relay, &mut alice).await;
    alice.disconnect(&relay);
    bob.drive(&relay).await;
    assert_eq!(presence(&bob, &space, &note), vec![("Alice".to_owned(), None)]);
    bob.advance(huisclos_core::presence::PRESENCE_TTL_SECS + 2);
    bob.drive(&relay).await;
    assert!(presence(&bob, &space, &note).is_empty(), "a silent peer is forgotten");
    // Her last message, replayed while it would still pass as fresh, does not bring
    // her back: the sequence taken is remembered past the peer's expiry.
    let now = bob.clock();
    bob.engine_mut().handle_event(Event::Signal(GroupSignal { group: space, payload: last }), now);
    assert!(presence(&bob, &space, &note).is_empty(), "a replay after expiry is dropped");

    // While the engine waits after a refusal, a heartbeat falling due does not wake it
    // early (it would find nothing it may send, again and again).
    alice.connect(&relay);
    alice.drive(&relay).await;
    alice.engine_mut().sync_all();
    assert!(!matches!(alice.hold(), Some(RequestBody::Signal(_)) | None));
    let relay_busy = huisclos_protocol::messages::RelayError::RateLimited { retry_after_ms: 60_000 };
    assert!(alice.refuse_next(relay_busy));
    alice.advance(huisclos_core::presence::PRESENCE_HEARTBEAT_SECS + 5);
    let wake = alice.engine().poll_timeout().expect("the wait ends");
    assert!(wake > alice.clock(), "woken at {wake}, now {}: it would spin", alice.clock());
    assert!(relay.content_records(space).len() > records, "the note's edits were stored (and nothing else)");
}

/// Alice and Bob write in sessions (each types 90 words while the other reads), far
/// past the updates a device keeps before compacting its own: each device's updates
/// are replaced at the relay by compactions and forgotten (tombstones in their place,
/// whose keys hash to the records' ids). Then they type in turns, each word building
/// on the other's: nothing of that is forgotten (but the update each compaction is made
/// with, just before it), since a device that reads later would find the other's words
/// before the compaction they build on. Carol, who reads only
/// once it is done, and Dave, invited afterwards, read the same text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_joiner_reads_a_note_from_compactions_once_the_updates_are_forgotten() {
    use huisclos_protocol::messages::read_tombstone;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    let forgotten = |relay: &SimRelay| {
        let records = relay.content_records(space);
        let forgotten =
            records.iter().filter(|(id, sealed)| matches!(read_tombstone(&space, id, sealed), Some(Ok(_)))).count();
        (forgotten, records.len())
    };
    let mut script = Rng::new(11);
    let mut typed = String::new();
    for _ in 0..2 {
        for _ in 0..90 {
            typed += &type_word(alice.engine_mut(), &space, &note, &mut script);
            alice.drive(&relay).await;
        }
        bob.sync(&relay).await;
        for _ in 0..90 {
            typed += &type_word(bob.engine_mut(), &space, &note, &mut script);
            bob.drive(&relay).await;
        }
        alice.sync(&relay).await;
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let (after_sessions, records_then) = forgotten(&relay);
    // Of each device's 180 updates, those compacted (but the first, which carried its
    // certificate) and the first compactions with them.
    assert!(after_sessions >= 200, "{after_sessions} of {records_then} records forgotten");
    for _ in 0..80 {
        typed += &type_word(alice.engine_mut(), &space, &note, &mut script);
        alice.drive(&relay).await;
        bob.sync(&relay).await;
        typed += &type_word(bob.engine_mut(), &space, &note, &mut script);
        bob.drive(&relay).await;
        alice.sync(&relay).await;
    }
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let records = relay.content_records(space);
    let typed_in_turns = &records[records_then..];
    assert!(typed_in_turns.len() >= 160);
    let forgotten_of_turns =
        typed_in_turns.iter().filter(|(id, sealed)| matches!(read_tombstone(&space, id, sealed), Some(Ok(_)))).count();
    // But the update a compaction was made with, stored just before it (at most two
    // compactions per device in 80 updates).
    assert!(forgotten_of_turns <= 4, "{forgotten_of_turns} typed in turns forgotten");
    assert!(forgotten(&relay).0 >= after_sessions);
    let text = alice.engine().note_text(&space, &note).unwrap();
    assert_eq!(sorted_chars(&text), sorted_chars(&typed));
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), text);
    assert_eq!(carol.engine().note_text(&space, &note).unwrap(), text, "Carol, who read late, too");

    let mut dave = SimDevice::join(&relay, "Dave").await;
    let card = dave.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, Role::Contributor).unwrap();
    alice.drive(&relay).await;
    dave.sync(&relay).await;
    dave.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol, &mut dave]).await;
    assert_eq!(dave.engine().note_text(&space, &note).unwrap(), text, "Dave read the note from its compactions");
    dave.restart(&relay);
    assert_eq!(dave.engine().note_text(&space, &note).unwrap(), text, "and it is kept");
    dave.connect(&relay);
    // Typing goes on for everyone, Dave included.
    typed += &type_word(dave.engine_mut(), &space, &note, &mut script);
    typed += &type_word(alice.engine_mut(), &space, &note, &mut script);
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol, &mut dave]).await;
    let text = alice.engine().note_text(&space, &note).unwrap();
    assert_eq!(sorted_chars(&text), sorted_chars(&typed));
    for device in [&bob, &carol, &dave] {
        assert_eq!(device.engine().note_text(&space, &note).unwrap(), text, "{}", device.name);
    }
}

/// Types `count` letters in one update, each between two characters of the text,
/// spread over it (from the end, so that each offset holds as the edits are made).
fn type_scattered(engine: &mut Engine, space: &GroupId, note: &NodeId, count: u32, letter: &str) {
    let units = engine.note_text(space, note).unwrap().encode_utf16().count() as u32;
    assert!(units > 2 * count, "room to type between characters");
    let edits: Vec<TextEdit> = (1..=count)
        .rev()
        .map(|k| TextEdit { at: k * units / (count + 1), delete: 0, insert: letter.to_owned() })
        .collect();
    engine.edit_note(space, note, &edits).unwrap();
}

/// One of a device's updates that compacts with neither neighbour (60 characters
/// typed between others, next to runs of 10: past the 64 a compaction may hold) is
/// kept at the relay as it is. It may build on the text of the run compacted before
/// it, whose compaction is stored after it: so that run is not forgotten (a reader
/// would find the kept update before what it builds on), while the run after it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_kept_amid_compacted_runs_keeps_the_run_before_it_at_the_relay() {
    use huisclos_protocol::messages::read_tombstone;
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    let stored = |relay: &SimRelay| relay.content_records(space);
    let mut words = 0;
    let append = |engine: &mut Engine, words: &mut u32| {
        type_at_end(engine, &space, &note, &format!(" w{words:02}"));
        *words += 1;
    };
    // Alice's records, in the order typed: each drive stores one.
    let mut records_of = Vec::new();
    for step in 0..64 {
        let before = stored(&relay).len();
        match step {
            30 => type_scattered(alice.engine_mut(), &space, &note, 10, "p"),
            31 => type_scattered(alice.engine_mut(), &space, &note, 60, "s"),
            32 => type_scattered(alice.engine_mut(), &space, &note, 10, "n"),
            _ => append(alice.engine_mut(), &mut words),
        }
        alice.drive(&relay).await;
        let records = stored(&relay);
        // The 64th stores the update and, after it, the compactions.
        let update = records[before].0;
        records_of.push(update);
        if step < 63 {
            assert_eq!(records.len(), before + 1);
        }
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let records = stored(&relay);
    let forgotten: std::collections::HashSet<_> = records
        .iter()
        .filter(|(id, sealed)| matches!(read_tombstone(&space, id, sealed), Some(Ok(_))))
        .map(|(id, _)| *id)
        .collect();
    let kept_before = records_of[..31].iter().filter(|id| !forgotten.contains(id)).count();
    let forgotten_after = records_of[32..].iter().filter(|id| forgotten.contains(id)).count();
    assert_eq!(kept_before, 31, "the run before the kept update stays");
    assert!(!forgotten.contains(&records_of[31]), "the kept update stays");
    assert_eq!(forgotten_after, 32, "the run after it is forgotten");
    // Carol, who reads everything only now, and Bob read what Alice reads.
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let text = alice.engine().note_text(&space, &note).unwrap();
    assert_eq!(text.matches('s').count(), 60);
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), text);
    assert_eq!(carol.engine().note_text(&space, &note).unwrap(), text);
}

/// A compaction whose storing the relay answers `Conflict` (as it answers a resend of
/// a record it took before the answer was lost): where it lies is not known, so the
/// updates it covers are never forgotten; and the next compaction, stored as usual,
/// still has its own run forgotten. (The position kept as lost mostly tidies: with
/// it not kept, the position stays unknown, which holds the same records back.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_covered_by_a_compaction_answered_conflict_are_never_forgotten() {
    use huisclos_protocol::messages::{RelayError, read_tombstone};
    let relay = SimRelay::new();
    let (mut alice, mut bob, mut carol, space, note) = three(&relay).await;
    let mut words = 0;
    let mut append = |alice: &mut SimDevice| {
        type_at_end(alice.engine_mut(), &space, &note, &format!(" w{words:03}"));
        words += 1;
    };
    let mut first_round = Vec::new();
    for _ in 0..63 {
        let before = relay.content_records(space).len();
        append(&mut alice);
        alice.drive(&relay).await;
        first_round.push(relay.content_records(space)[before].0);
    }
    // The 64th: its update, then the compaction of all 64, answered `Conflict`.
    let before = relay.content_records(space).len();
    append(&mut alice);
    let mut stores = 0;
    alice
        .drive_through(&relay, &mut |request: &RequestBody, answer: &mut Result<ResponseBody, RelayError>| {
            if matches!(request, RequestBody::PutContent(_)) {
                stores += 1;
                if stores == 2 {
                    assert!(matches!(answer, Ok(ResponseBody::ContentStored(_))));
                    *answer = Err(RelayError::Conflict);
                }
            }
        })
        .await;
    assert_eq!(stores, 2, "the update and its compaction");
    let records = relay.content_records(space);
    first_round.push(records[before].0);
    let compaction = records[before + 1].0;
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    // A second round, stored as usual.
    let mut second_round = Vec::new();
    for _ in 0..64 {
        let before = relay.content_records(space).len();
        append(&mut alice);
        alice.drive(&relay).await;
        second_round.push(relay.content_records(space)[before].0);
    }
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let forgotten: std::collections::HashSet<_> = relay
        .content_records(space)
        .iter()
        .filter(|(id, sealed)| matches!(read_tombstone(&space, id, sealed), Some(Ok(_))))
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(first_round.iter().filter(|id| forgotten.contains(id)).count(), 0, "the first round stays");
    assert!(!forgotten.contains(&compaction), "so does the compaction answered Conflict");
    // The compaction answered Conflict was itself compacted with the next 63 updates,
    // which are forgotten; the 64th waits for the next round.
    assert_eq!(second_round[..63].iter().filter(|id| forgotten.contains(id)).count(), 63, "the second round goes");
    assert!(!forgotten.contains(&second_round[63]));
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let text = alice.engine().note_text(&space, &note).unwrap();
    assert!(text.ends_with(" w127"));
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), text);
    assert_eq!(carol.engine().note_text(&space, &note).unwrap(), text);
}
