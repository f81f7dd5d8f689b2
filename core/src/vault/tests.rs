//! The vault's own tests: opening, passphrases, the duress decoy, the wipe, rollback
//! and reopening (the backends' shared suite is `conformance`).

use super::*;

fn passphrase(text: &str) -> Unlock {
    Unlock::Passphrase(Passphrase::new(text))
}

fn fast() -> KdfParams {
    KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap()
}

/// The length rule lives in the vault, so every front end inherits it: a short
/// passphrase creates nothing, changes nothing, and is not repeated in the error.
#[test]
fn a_short_passphrase_protects_no_profile() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let short = "seven c";
    let refused = Vault::create(&profile, &passphrase(short), fast()).unwrap_err();
    assert!(matches!(&refused, CoreError::Invalid(_)), "{refused:?}");
    assert!(!refused.to_string().contains(short));
    assert!(!Vault::exists(&profile), "nothing was created");
    // Enough characters (counted as characters, not bytes), and strong enough.
    let vault = Vault::create(&profile, &passphrase("dix mots été hiver"), fast()).unwrap();
    assert!(matches!(
        vault.change_unlock(&passphrase("dix mots été hiver"), &passphrase(short)),
        Err(CoreError::Invalid(_))
    ));
    assert!(matches!(
        vault.make_decoy(&passphrase("dix mots été hiver"), &Passphrase::new(short)),
        Err(CoreError::Invalid(_))
    ));
    drop(vault);
    assert!(Vault::open(&profile, &passphrase("dix mots été hiver")).is_ok(), "the passphrase is unchanged");
}

#[test]
fn a_duress_passphrase_opens_the_decoy_made_beforehand_and_destroys_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let duress = Passphrase::new("duress horse");
    let plain_header_len;
    {
        let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
        vault.put("ns", b"key", b"the real data").unwrap();
        vault.commit().unwrap();
        // A sealed chunk of the real profile's, waiting to be uploaded.
        std::fs::create_dir_all(profile.join(crate::transfer::STAGING_DIR)).unwrap();
        std::fs::write(profile.join(crate::transfer::STAGING_DIR).join("00aa"), [7u8; 64]).unwrap();
        plain_header_len = std::fs::read(profile.join(HEADER_FILE)).unwrap().len();
        assert!(matches!(vault.make_decoy(&passphrase("wrong horse"), &duress), Err(CoreError::WrongPassphrase)));
        assert!(vault.make_decoy(&passphrase("correct horse"), &Passphrase::new("correct horse")).is_err());
        let decoy = vault.make_decoy(&passphrase("correct horse"), &duress).unwrap();
        decoy.put("ns", b"key", b"the decoy's own data").unwrap();
        decoy.commit().unwrap();
        // Each profile reads only its own values.
        assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"the real data");
        assert_eq!(std::fs::read(profile.join(HEADER_FILE)).unwrap().len(), plain_header_len, "same shape");
        // Changing the passphrase keeps the decoy.
        vault.change_unlock(&passphrase("correct horse"), &passphrase("new horse on the hill")).unwrap();
    }
    assert_eq!(
        Vault::open(&profile, &passphrase("new horse on the hill"))
            .unwrap()
            .get("ns", b"key")
            .unwrap()
            .unwrap()
            .as_slice(),
        b"the real data"
    );
    match Vault::open_or_duress(&profile, &Unlock::Passphrase(duress.clone())).unwrap() {
        Opened::Duress { vault } => {
            assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"the decoy's own data");
            assert_eq!(vault.stored_rows(), 1, "only the decoy's values are left");
            assert!(vault.db.as_ref().unwrap().is_empty(), "the real profile's values are deleted");
            assert!(
                !profile.join(crate::transfer::STAGING_DIR).exists(),
                "the real profile's sealed chunks are deleted: their number and sizes would show it existed"
            );
        }
        _ => panic!("the duress passphrase did not open the decoy"),
    }
    // The real profile is gone; the duress passphrase now opens the decoy as a
    // profile.
    assert!(matches!(Vault::open(&profile, &passphrase("new horse on the hill")), Err(CoreError::WrongPassphrase)));
    assert!(matches!(Vault::open_or_duress(&profile, &Unlock::Passphrase(duress)).unwrap(), Opened::Profile(_)));
}

#[test]
fn a_duress_opening_interrupted_anywhere_leaves_the_decoy_that_opens() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let duress = Unlock::Passphrase(Passphrase::new("duress horse"));
    {
        let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
        vault.put("ns", b"key", b"the real data").unwrap();
        vault.commit().unwrap();
        let decoy = vault.make_decoy(&passphrase("correct horse"), &Passphrase::new("duress horse")).unwrap();
        decoy.put("ns", b"key", b"decoy").unwrap();
        decoy.commit().unwrap();
    }
    // Killed right after the first step: the header already opens only the decoy,
    // the real profile's values are still on disk.
    let header = Vault::read_header(&profile).unwrap();
    let (index, Opening::Keys { keys, tree, .. }) = header.open(&duress).unwrap() else { panic!() };
    assert_eq!(index, 1);
    let mut first_step = header.with_slot(0, &duress, &after_duress_payload(&keys, tree)).unwrap();
    let (params, salt) = (first_step.slots[0].params, first_step.slots[0].salt);
    first_step.slots[1] = Slot::random(params, salt);
    write_atomically(&profile.join(HEADER_FILE), &first_step.to_bytes()).unwrap();
    assert!(matches!(Vault::open(&profile, &passphrase("correct horse")), Err(CoreError::WrongPassphrase)));
    // The next opening with the duress passphrase opens the decoy and finishes.
    let vault = Vault::open(&profile, &duress).unwrap();
    assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"decoy");
    assert!(vault.db.as_ref().unwrap().is_empty(), "the real profile's values are deleted");
}

#[test]
fn a_passphrase_change_replaces_the_key_that_seals_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let vault = Vault::create(&profile, &passphrase("old passphrase"), fast()).unwrap();
    vault.put("ns", b"k", b"written before").unwrap();
    vault.commit().unwrap();
    // What flash may keep: the old header.
    let old_header = std::fs::read(profile.join(HEADER_FILE)).unwrap();
    vault.change_unlock(&passphrase("old passphrase"), &passphrase("new passphrase")).unwrap();
    vault.put("ns", b"later", b"written after").unwrap();
    vault.commit().unwrap();
    drop(vault);
    let current_header = std::fs::read(profile.join(HEADER_FILE)).unwrap();
    // The old header and the old passphrase open the old header, but nothing
    // stored now.
    std::fs::write(profile.join(HEADER_FILE), &old_header).unwrap();
    let stale = Vault::open(&profile, &passphrase("old passphrase")).unwrap();
    assert!(matches!(stale.get("ns", b"k"), Err(CoreError::StoreTampered)));
    assert!(matches!(stale.get("ns", b"later"), Err(CoreError::StoreTampered)));
    drop(stale);
    std::fs::write(profile.join(HEADER_FILE), &current_header).unwrap();
    let vault = Vault::open(&profile, &passphrase("new passphrase")).unwrap();
    assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"written before");
    assert_eq!(vault.get("ns", b"later").unwrap().unwrap().as_slice(), b"written after");
}

#[test]
fn a_passphrase_change_interrupted_after_the_header_is_finished_at_the_next_opening() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    {
        let vault = Vault::create(&profile, &passphrase("old passphrase"), fast()).unwrap();
        vault.put("ns", b"k", b"kept").unwrap();
        vault.commit().unwrap();
        // Killed after the first header write: both keys in the header, the store
        // still sealed under the old one.
        let header = Vault::read_header(&profile).unwrap();
        let old = vault.keys().value_key;
        let mut next = vault.keys().copy();
        OsRng.fill_bytes(&mut next.value_key);
        let rotating = header.with_slot(0, &passphrase("new passphrase"), &keys_payload(&next, 0, Some(&old))).unwrap();
        write_atomically(&profile.join(HEADER_FILE), &rotating.to_bytes()).unwrap();
    }
    let vault = Vault::open(&profile, &passphrase("new passphrase")).unwrap();
    assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"kept");
    drop(vault);
    let header = Vault::read_header(&profile).unwrap();
    let (_, Opening::Keys { replacing, .. }) = header.open(&passphrase("new passphrase")).unwrap() else { panic!() };
    assert!(replacing.is_none(), "the change was finished");
}

#[test]
fn a_profile_under_passphrase_and_keystore_needs_both() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::generate();
    let both = Unlock::PassphraseAndKeystore(Passphrase::new("plain passphrase"), key.clone());
    {
        let vault = Vault::create(dir.path(), &both, fast()).unwrap();
        vault.put("ns", b"k", b"v").unwrap();
        vault.commit().unwrap();
    }
    for wrong in [
        passphrase("plain passphrase"),
        Unlock::Keystore(key.clone()),
        Unlock::PassphraseAndKeystore(Passphrase::new("plain passphrase"), StorageKey::generate()),
        Unlock::PassphraseAndKeystore(Passphrase::new("other passphrase"), key.clone()),
    ] {
        assert!(matches!(Vault::open(dir.path(), &wrong), Err(CoreError::WrongPassphrase)));
    }
    assert_eq!(Vault::open(dir.path(), &both).unwrap().get("ns", b"k").unwrap().unwrap().as_slice(), b"v");
}

#[test]
fn a_wiped_profile_is_gone_for_every_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    {
        let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
        vault.put("ns", b"key", b"value").unwrap();
        vault.commit().unwrap();
    }
    Vault::wipe(&profile).unwrap();
    assert!(!profile.exists());
    assert!(matches!(Vault::open(&profile, &passphrase("correct horse")), Err(CoreError::NoProfile(_))));
    Vault::wipe(&profile).unwrap();
}

#[test]
fn values_survive_reopen_and_only_the_right_passphrase_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let vault = Vault::create(dir.path(), &passphrase("correct horse"), fast()).unwrap();
        vault.put("ns", b"key", b"value one").unwrap();
        vault.put_ordered("list", 7, b"seven").unwrap();
        vault.commit().unwrap();
    }
    assert!(matches!(Vault::open(dir.path(), &passphrase("wrong horse")), Err(CoreError::WrongPassphrase)));
    assert!(matches!(
        Vault::open(dir.path(), &Unlock::Keystore(StorageKey::generate())),
        Err(CoreError::WrongPassphrase)
    ));
    let vault = Vault::open(dir.path(), &passphrase("correct horse")).unwrap();
    assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"value one");
    assert_eq!(vault.get("other", b"key").unwrap(), None);
    assert_eq!(vault.get_ordered("list", 7).unwrap().unwrap().as_slice(), b"seven");
}

#[test]
fn uncommitted_writes_are_lost_and_rollback_forgets_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::generate();
    {
        let vault = Vault::create(dir.path(), &Unlock::Keystore(key.clone()), fast()).unwrap();
        vault.put("ns", b"a", b"1").unwrap();
        vault.commit().unwrap();
        vault.put("ns", b"b", b"2").unwrap();
        vault.remove("ns", b"a");
        vault.rollback();
        assert_eq!(vault.get("ns", b"a").unwrap().unwrap().as_slice(), b"1");
        vault.put("ns", b"c", b"3").unwrap();
    }
    let vault = Vault::open(dir.path(), &Unlock::Keystore(key)).unwrap();
    assert!(vault.get("ns", b"b").unwrap().is_none());
    assert!(vault.get("ns", b"c").unwrap().is_none());
    assert!(vault.get("ns", b"a").unwrap().is_some());
}

#[test]
fn ordered_scan_merges_pending_writes_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(dir.path(), &passphrase("plain passphrase"), fast()).unwrap();
    for i in 0..10u64 {
        vault.put_ordered("log", i, &i.to_be_bytes()).unwrap();
    }
    vault.put_ordered("other", 3, b"x").unwrap();
    vault.commit().unwrap();
    vault.remove_ordered("log", 2);
    vault.put_ordered("log", 10, b"ten").unwrap();
    let got: Vec<u64> = vault.scan_ordered("log", 1, 4).unwrap().into_iter().map(|(i, _)| i).collect();
    assert_eq!(got, vec![1, 3, 4, 5]);
    let all: Vec<u64> = vault.scan_ordered("log", 0, 100).unwrap().into_iter().map(|(i, _)| i).collect();
    assert_eq!(all, vec![0, 1, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(vault.last_ordered("log").unwrap(), Some(10));
    assert_eq!(vault.last_ordered("empty").unwrap(), None);
    // Backwards, newest first, pending writes and deletions included.
    let back = |before, limit| -> Vec<u64> {
        vault.scan_ordered_back("log", before, limit).unwrap().into_iter().map(|(i, _)| i).collect()
    };
    assert_eq!(back(None, 4), vec![10, 9, 8, 7]);
    assert_eq!(back(Some(7), 4), vec![6, 5, 4, 3]);
    assert_eq!(back(Some(4), 10), vec![3, 1, 0]);
    assert_eq!(back(Some(0), 10), Vec::<u64>::new());
    assert_eq!(vault.scan_ordered_back("other", None, 10).unwrap().len(), 1);
    assert!(vault.scan_ordered_back("empty", None, 10).unwrap().is_empty());
}

#[test]
fn a_value_moved_to_another_slot_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::create(dir.path(), &passphrase("plain passphrase"), fast()).unwrap();
    vault.put("ns", b"a", b"secret a").unwrap();
    vault.put("ns", b"b", b"secret b").unwrap();
    vault.commit().unwrap();
    let slot_a = vault.slot("ns", b"a");
    let slot_b = vault.slot("ns", b"b");
    let sealed_a = vault.db.as_ref().unwrap().get(&slot_a).unwrap().unwrap();
    vault.db.as_ref().unwrap().insert(&slot_b, sealed_a).unwrap();
    assert!(matches!(vault.get("ns", b"b"), Err(CoreError::StoreTampered)));
}

#[test]
fn changing_the_passphrase_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let vault = Vault::create(dir.path(), &passphrase("old passphrase"), fast()).unwrap();
        vault.put("ns", b"k", b"v").unwrap();
        vault.commit().unwrap();
        assert!(matches!(
            vault.change_unlock(&passphrase("bad passphrase"), &passphrase("new passphrase")),
            Err(CoreError::WrongPassphrase)
        ));
        vault.change_unlock(&passphrase("old passphrase"), &passphrase("new passphrase")).unwrap();
    }
    assert!(matches!(Vault::open(dir.path(), &passphrase("old passphrase")), Err(CoreError::WrongPassphrase)));
    let vault = Vault::open(dir.path(), &passphrase("new passphrase")).unwrap();
    assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"v");
}

#[test]
fn the_index_key_is_hmac_sha256() {
    // The slot names are the same as release 0.1's (the `hmac` crate's): a profile
    // written then finds its values.
    use hmac::{Hmac, Mac};
    let keys = VaultKeys { value_key: [1; 32], index_key: [2; 32] };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&keys.index_key).unwrap();
    for part in [b"slot".as_slice(), b"ns", b"key"] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    assert_eq!(keys.mac(&[b"slot", b"ns", b"key"]), expected);
}

#[test]
fn a_damaged_header_is_a_typed_error_and_creating_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Vault::create(dir.path(), &passphrase("plain passphrase"), fast()).unwrap());
    assert!(matches!(
        Vault::create(dir.path(), &passphrase("plain passphrase"), fast()),
        Err(CoreError::ProfileExists(_))
    ));
    let path = dir.path().join(HEADER_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[18] ^= 0xff; // the memory parameter's top byte: now out of bounds
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(Vault::open(dir.path(), &passphrase("plain passphrase")), Err(CoreError::CorruptProfile(_))));
    std::fs::write(&path, b"short").unwrap();
    assert!(matches!(Vault::open(dir.path(), &passphrase("plain passphrase")), Err(CoreError::CorruptProfile(_))));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(Vault::open(empty.path(), &passphrase("plain passphrase")), Err(CoreError::NoProfile(_))));
}

/// A profile still held open (sled's flusher keeps its file lock a moment after the
/// last handle goes) is waited for when opened again, not refused: sled reports the
/// held lock as an error of kind `Other`, which the wait did not recognise, and an
/// unlock right after a lock failed now and then.
#[test]
fn opening_a_profile_waits_for_the_store_lock_held_a_moment() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::generate();
    let held = Vault::create(dir.path(), &Unlock::Keystore(key.clone()), fast()).unwrap();
    held.put("ns", b"a", b"1").unwrap();
    held.commit().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    let vault = Vault::open(dir.path(), &Unlock::Keystore(key)).unwrap();
    release.join().unwrap();
    assert_eq!(vault.get("ns", b"a").unwrap().unwrap().as_slice(), b"1");
}
