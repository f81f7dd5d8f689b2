//! Profiles written by earlier releases open with today's code, and nothing a person
//! had is lost. Each fixture under `tests/fixtures/` is the bytes an earlier release
//! left on disk (`huisclos-fixture` wrote them once, at that release); a test copies it
//! to a temporary directory and opens it there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use huisclos_core::engine::Engine;
use huisclos_core::vault::{Passphrase, Unlock};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

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
    // The items applied moved out of the record (now one row each); a new post goes on
    // after them, and all of it is there when opened again.
    engine.post(&kept.id, "After the upgrade").unwrap();
    let dir = engine_dir(&engine);
    drop(engine);
    let reopened = Engine::open(&dir, &unlock("profile-0.2-2026-11")).unwrap();
    assert_eq!(texts(&reopened).last().map(String::as_str), Some("After the upgrade"));
    assert_eq!(texts(&reopened).len(), 4);
    assert_eq!(reopened.feed_page(&kept.id, None, 2).unwrap().len(), 2);
}

fn unlock(name: &str) -> Unlock {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    Unlock::Passphrase(Passphrase::new(std::fs::read_to_string(fixture.join("passphrase")).unwrap()))
}

fn engine_dir(engine: &Engine) -> std::path::PathBuf {
    engine.profile_dir().to_path_buf()
}
