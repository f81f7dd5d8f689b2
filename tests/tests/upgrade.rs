//! Profiles written by earlier releases open with today's code, and nothing a person
//! had is lost. Each fixture under `tests/fixtures/` is the bytes an earlier release
//! left on disk (`huisclos-fixture` wrote them once, at that release); a test copies it
//! to a temporary directory and opens it there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use huisclos_core::engine::Engine;
use huisclos_core::note::TextEdit;
use huisclos_core::vault::{Passphrase, Unlock};
use huisclos_protocol::ids::GroupId;
use huisclos_tests::sim::{SimDevice, SimRelay, copy_dir, settle, type_at_end};

fn open_fixture(name: &str) -> (tempfile::TempDir, Engine) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    let work = tempfile::tempdir().unwrap();
    copy_dir(&fixture.join("alice"), &work.path().join("alice"));
    let passphrase = std::fs::read_to_string(fixture.join("passphrase")).unwrap();
    let engine = Engine::open(&work.path().join("alice"), &Unlock::Passphrase(Passphrase::new(passphrase))).unwrap();
    (work, engine)
}

#[test]
fn a_profile_from_release_0_1_opens_with_everything_it_held() {
    let (_work, engine) = open_fixture("profile-0.1-2026-11");
    assert_eq!(engine.name().as_str(), "Alice");
    assert!(engine.account().is_some(), "the relay account is kept");
    let spaces = engine.spaces();
    assert_eq!(spaces.len(), 2, "both spaces are kept");
    let kept = spaces.iter().find(|s| s.history == huisclos_core::space::HistoryMode::Keep).unwrap();
    let feed = engine.feed(&kept.id).unwrap();
    let texts: Vec<&str> = feed.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "The hearing moved to Thursday",
            "I will bring both witness statements",
            "Written offline: the court changed rooms"
        ]
    );
    assert_eq!(feed[0].reactions.get("👍").map(|who| who.len()), Some(1));
    assert!(feed[1].edited);
    assert_eq!(engine.library(&kept.id).unwrap().listing(), ["Minutes Note v0"]);
    let note = only_note(&engine, &kept.id);
    assert_eq!(engine.note_text(&kept.id, &note).unwrap(), "Hearing on Thursday at 9");
    let quiet = spaces.iter().find(|s| s.history == huisclos_core::space::HistoryMode::None).unwrap();
    assert_eq!(engine.feed(&quiet.id).unwrap().len(), 1);
    assert_eq!(engine.outbox_len().unwrap(), 1, "the post written offline still waits to be sent");
    assert_eq!(engine.contacts().len(), 1, "Bob is still a contact");
}

#[test]
fn a_space_from_release_0_1_is_read_only_until_its_manager_recreates_it() {
    let (_work, mut engine) = open_fixture("profile-0.1-2026-11");
    // Its history keys were chosen by members (release 0.1): it takes nothing new,
    // and says what to do.
    for space in engine.spaces() {
        assert!(space.stalled, "{} is stalled", space.name);
        assert!(matches!(engine.post(&space.id, "Anything new"), Err(huisclos_core::CoreError::SpaceStalled)));
    }
    let kept = engine.spaces().into_iter().find(|s| s.history == huisclos_core::space::HistoryMode::Keep).unwrap();
    // Alice manages it: she recreates it (the relay learns of it at her next sync),
    // and the old feed stays readable.
    let successor = engine.recreate_space(&kept.id).unwrap();
    let summary = engine.spaces().into_iter().find(|s| s.id == kept.id).unwrap();
    assert_eq!(summary.replaced_by, Some(successor));
    assert_eq!(engine.feed(&kept.id).unwrap().len(), 3);
    engine.post(&successor, "The space goes on here").unwrap();
    assert_eq!(engine.feed(&successor).unwrap().len(), 1);
    // Reopened, everything is as it was left: the migration ran once.
    let dir = engine_dir(&engine);
    drop(engine);
    let reopened = Engine::open(&dir, &unlock("profile-0.1-2026-11")).unwrap();
    assert_eq!(reopened.spaces().len(), 3);
    assert_eq!(reopened.feed(&kept.id).unwrap().len(), 3);
}

#[test]
fn a_profile_with_version_2_space_records_opens_and_goes_on() {
    let (_work, mut engine) = open_fixture("profile-0.2-2026-11");
    assert_eq!(engine.name().as_str(), "Alice");
    let spaces = engine.spaces();
    assert_eq!(spaces.len(), 2, "both spaces are kept");
    assert!(spaces.iter().all(|s| !s.stalled), "current spaces stay current");
    let kept = spaces.iter().find(|s| s.history == huisclos_core::space::HistoryMode::Keep).unwrap();
    let texts =
        |engine: &Engine| -> Vec<String> { engine.feed(&kept.id).unwrap().into_iter().map(|i| i.text).collect() };
    assert_eq!(
        texts(&engine),
        [
            "The hearing moved to Thursday",
            "I will bring both witness statements",
            "Written offline: the court changed rooms"
        ]
    );
    assert_eq!(engine.library(&kept.id).unwrap().listing(), ["Minutes Note v0"]);
    assert_eq!(engine.outbox_len().unwrap(), 1, "the post written offline still waits to be sent");
    // The note was one field then (last writer wins); it is now a shared document
    // whose text starts from that field, and it takes edits.
    let note = only_note(&engine, &kept.id);
    assert_eq!(engine.note_text(&kept.id, &note).unwrap(), "Hearing on Thursday at 9");
    engine.edit_note(&kept.id, &note, &[TextEdit { at: 24, delete: 0, insert: ", room 4".into() }]).unwrap();
    // The items applied moved out of the record (now one row each); a new post goes on
    // after them, and all of it is there when opened again.
    engine.post(&kept.id, "After the upgrade").unwrap();
    let dir = engine_dir(&engine);
    drop(engine);
    let reopened = Engine::open(&dir, &unlock("profile-0.2-2026-11")).unwrap();
    assert_eq!(texts(&reopened).last().map(String::as_str), Some("After the upgrade"));
    assert_eq!(texts(&reopened).len(), 4);
    assert_eq!(reopened.feed_page(&kept.id, None, 2).unwrap().len(), 2);
    assert_eq!(reopened.note_text(&kept.id, &note).unwrap(), "Hearing on Thursday at 9, room 4");
}

/// The one note a fixture's library holds.
fn only_note(engine: &Engine, space: &GroupId) -> huisclos_core::library::NodeId {
    let notes: Vec<_> = engine
        .library(space)
        .unwrap()
        .children(None)
        .into_iter()
        .filter(|node| node.kind == huisclos_core::library::NodeKind::Note)
        .collect();
    assert_eq!(notes.len(), 1, "one note");
    notes[0].id
}

#[tokio::test]
async fn a_note_written_by_release_0_3_goes_on_with_its_compactions_and_what_waits_to_be_forgotten() {
    use huisclos_protocol::messages::read_tombstone;
    let fixture = fixture_dir("profile-0.3-2026-12");
    let read = |file: &str| std::fs::read_to_string(fixture.join(file)).unwrap();
    // The relay's store, Alice's and Bob's profiles, as that release left them.
    let relay = SimRelay::open_copy(&fixture.join("relay"));
    let mut alice = SimDevice::open_copy("Alice", &fixture.join("alice"), &read("passphrase"));
    let mut bob = SimDevice::open_copy("Bob", &fixture.join("bob"), &read("bob-passphrase"));
    let space =
        alice.engine().spaces().into_iter().find(|s| s.history == huisclos_core::space::HistoryMode::Keep).unwrap().id;
    let note = only_note(alice.engine(), &space);
    let written = read("note-alice.txt");
    assert_eq!(alice.engine().note_text(&space, &note).unwrap(), written);
    // Bob has all but what Alice typed offline, which is also the version she named.
    let (online, _) = written.split_once(" off0").unwrap();
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), online);
    let versions = bob.engine().note_versions(&space, &note).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].name, "Before the hearing");
    assert_eq!(bob.engine().note_version_text(&space, &note, &versions[0].id).unwrap(), online);
    let waiting = alice.engine().outbox_len().unwrap();
    assert!(waiting > 70, "the offline post and note updates wait: {waiting}");

    let forgotten = |relay: &SimRelay| {
        relay
            .content_records(space)
            .iter()
            .filter(|(id, sealed)| matches!(read_tombstone(&space, id, sealed), Some(Ok(_))))
            .count()
    };
    let forgotten_before = forgotten(&relay);
    assert!(forgotten_before > 0, "the updates compacted online were forgotten then");
    alice.connect(&relay);
    bob.connect(&relay);
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    assert_eq!(alice.engine().outbox_len().unwrap(), 0);
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), written);
    assert!(
        bob.engine().feed(&space).unwrap().iter().any(|item| item.text == "Written offline: the court changed rooms")
    );
    // The compaction made offline went out, and the updates it covers, typed
    // offline by that release and kept in its store with their keys, are forgotten
    // now.
    let forgotten_after = forgotten(&relay);
    assert!(forgotten_after >= forgotten_before + 60, "{forgotten_before} then {forgotten_after} forgotten");

    // Someone invited now reads the note from what the relay kept.
    let mut carol = SimDevice::join(&relay, "Carol").await;
    let card = carol.engine().contact_card().unwrap();
    alice.engine_mut().invite(&space, &card, huisclos_core::space::Role::Contributor).unwrap();
    alice.drive(&relay).await;
    carol.sync(&relay).await;
    carol.engine_mut().accept_invitation(&space).unwrap();
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    assert_eq!(carol.engine().note_text(&space, &note).unwrap(), written);

    // Alice goes on typing, compacting with updates that release kept, and after a
    // restart everyone still reads the same note.
    for word in 0..70 {
        type_at_end(alice.engine_mut(), &space, &note, &format!(" after{word}"));
        alice.drive(&relay).await;
    }
    alice.restart(&relay);
    alice.connect(&relay);
    settle(&relay, &mut [&mut alice, &mut bob, &mut carol]).await;
    let now = alice.engine().note_text(&space, &note).unwrap();
    assert!(now.starts_with(&written) && now.ends_with(" after69"));
    assert_eq!(bob.engine().note_text(&space, &note).unwrap(), now);
    assert_eq!(carol.engine().note_text(&space, &note).unwrap(), now);
    assert!(forgotten(&relay) >= forgotten_after + 60, "the updates typed after the upgrade are forgotten too");
}

fn fixture_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn unlock(name: &str) -> Unlock {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    Unlock::Passphrase(Passphrase::new(std::fs::read_to_string(fixture.join("passphrase")).unwrap()))
}

fn engine_dir(engine: &Engine) -> std::path::PathBuf {
    engine.profile_dir().to_path_buf()
}
