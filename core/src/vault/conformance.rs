//! The conformance suite every vault backend passes: the same checks, written once,
//! run against a profile on disk (sled) and one in memory, as matrix-rust-sdk runs
//! one store suite against each of its stores. A new backend adds one line at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

macro_rules! vault_conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            fn vault() -> (tempfile::TempDir, Vault) {
                let dir = tempfile::tempdir().unwrap();
                let make: fn(&Path) -> Vault = $make;
                let vault = make(&dir.path().join("profile"));
                (dir, vault)
            }

            fn text(value: Option<Zeroizing<Vec<u8>>>) -> Option<String> {
                value.map(|v| String::from_utf8(v.to_vec()).unwrap())
            }

            fn positions(rows: &[(u64, Zeroizing<Vec<u8>>)]) -> Vec<u64> {
                rows.iter().map(|(index, _)| *index).collect()
            }

            #[test]
            fn a_value_is_read_back_before_and_after_its_commit_and_a_rollback_forgets_it() {
                let (_dir, vault) = vault();
                vault.put("spaces", b"a", b"Case 207").unwrap();
                assert_eq!(text(vault.get("spaces", b"a").unwrap()).as_deref(), Some("Case 207"));
                vault.commit().unwrap();
                assert_eq!(text(vault.get("spaces", b"a").unwrap()).as_deref(), Some("Case 207"));
                vault.put("spaces", b"a", b"Case 208").unwrap();
                vault.put("spaces", b"b", b"Case 209").unwrap();
                vault.rollback();
                assert_eq!(text(vault.get("spaces", b"a").unwrap()).as_deref(), Some("Case 207"));
                assert_eq!(vault.get("spaces", b"b").unwrap(), None);
                vault.remove("spaces", b"a");
                assert_eq!(vault.get("spaces", b"a").unwrap(), None, "a removal shows before its commit");
                vault.commit().unwrap();
                assert_eq!(vault.get("spaces", b"a").unwrap(), None);
                assert_eq!(vault.get("other", b"a").unwrap(), None, "namespaces are apart");
            }

            #[test]
            fn ordered_rows_scan_forwards_and_backwards_over_disk_and_pending_writes() {
                let (_dir, vault) = vault();
                // Written out of order, half committed, half pending.
                for index in (0..100u64).rev().step_by(2).chain((0..100u64).step_by(2)) {
                    vault.put_ordered("feed", index, &index.to_be_bytes()).unwrap();
                    if index == 1 {
                        vault.commit().unwrap();
                    }
                }
                vault.put_ordered("feed-other", 5, b"elsewhere").unwrap();
                assert_eq!(positions(&vault.scan_ordered("feed", 10, 5).unwrap()), [10, 11, 12, 13, 14]);
                assert_eq!(positions(&vault.scan_ordered_back("feed", None, 3).unwrap()), [99, 98, 97]);
                assert_eq!(positions(&vault.scan_ordered_back("feed", Some(50), 3).unwrap()), [49, 48, 47]);
                assert_eq!(vault.last_ordered("feed").unwrap(), Some(99));
                // Pending removals are skipped and the page filled from further on.
                vault.commit().unwrap();
                vault.remove_ordered("feed", 98);
                vault.remove_ordered("feed", 11);
                assert_eq!(positions(&vault.scan_ordered_back("feed", None, 3).unwrap()), [99, 97, 96]);
                assert_eq!(positions(&vault.scan_ordered("feed", 10, 3).unwrap()), [10, 12, 13]);
                vault.commit().unwrap();
                assert_eq!(vault.scan_ordered("feed", 0, usize::MAX).unwrap().len(), 98);
                let (_, value) = &vault.scan_ordered("feed", 42, 1).unwrap()[0];
                assert_eq!(value.as_slice(), 42u64.to_be_bytes());
                assert_eq!(positions(&vault.scan_ordered("feed-other", 0, 10).unwrap()), [5]);
                assert_eq!(vault.last_ordered("nothing").unwrap(), None);
                assert!(vault.scan_ordered_back("nothing", None, 10).unwrap().is_empty());
                assert!(vault.scan_ordered_back("feed", Some(0), 10).unwrap().is_empty());
            }

            #[test]
            fn rows_hold_no_name_and_no_value_in_clear() {
                let (_dir, vault) = vault();
                vault.put("contacts", b"Nadia Haddad", b"witness, Beirut").unwrap();
                vault.put_ordered("feed/Case 207", 1, b"The hearing moved").unwrap();
                vault.commit().unwrap();
                let rows = vault.rows.range(&[], None, false, usize::MAX).unwrap();
                assert_eq!(rows.len(), 2);
                assert_eq!(vault.stored_rows(), 2);
                for needle in [&b"Nadia"[..], b"Beirut", b"Case 207", b"hearing", b"contacts", b"feed"] {
                    for (key, value) in &rows {
                        assert!(!key.windows(needle.len()).any(|w| w == needle));
                        assert!(!value.windows(needle.len()).any(|w| w == needle));
                    }
                }
            }

            #[test]
            fn a_row_moved_to_another_key_is_refused_as_tampering() {
                let (_dir, vault) = vault();
                vault.put("spaces", b"a", b"one").unwrap();
                vault.put("spaces", b"b", b"two").unwrap();
                vault.commit().unwrap();
                let sealed_a = vault.rows.get(&vault.slot("spaces", b"a")).unwrap().unwrap();
                let mut swap = Changes::new();
                swap.insert(vault.slot("spaces", b"b"), Some(sealed_a));
                vault.rows.apply(&swap).unwrap();
                assert!(matches!(vault.get("spaces", b"b"), Err(CoreError::StoreTampered)));
                assert_eq!(text(vault.get("spaces", b"a").unwrap()).as_deref(), Some("one"));
            }

            #[test]
            fn one_commit_lands_every_write_of_a_step() {
                let (_dir, vault) = vault();
                for n in 0..300u64 {
                    vault.put("seen", &n.to_be_bytes(), b"1").unwrap();
                    vault.put_ordered("order", n, &n.to_be_bytes()).unwrap();
                }
                assert_eq!(vault.stored_rows(), 0, "nothing stored before the commit");
                vault.commit().unwrap();
                assert_eq!(vault.stored_rows(), 600);
                vault.commit().unwrap();
                assert_eq!(vault.stored_rows(), 600, "an empty commit changes nothing");
            }
        }
    };
}

vault_conformance!(on_disk, |dir| {
    let unlock = Unlock::Passphrase(Passphrase::new("correct horse battery staple"));
    Vault::create(dir, &unlock, KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap()).unwrap()
});
vault_conformance!(in_memory, |dir| Vault::in_memory(dir).unwrap());

/// What only a profile on disk does: it opens again with everything committed.
#[test]
fn a_profile_on_disk_opens_again_with_what_was_committed() {
    let dir = tempfile::tempdir().unwrap();
    let unlock = Unlock::Passphrase(Passphrase::new("correct horse battery staple"));
    let vault = Vault::create(dir.path(), &unlock, KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap()).unwrap();
    assert!(!vault.is_in_memory());
    vault.put_ordered("feed", 7, b"kept").unwrap();
    vault.commit().unwrap();
    vault.put_ordered("feed", 8, b"not committed").unwrap();
    drop(vault);
    let vault = Vault::open(dir.path(), &unlock).unwrap();
    assert_eq!(vault.scan_ordered("feed", 0, 10).unwrap().len(), 1);
    let memory = Vault::in_memory(&dir.path().join("memory")).unwrap();
    assert!(memory.is_in_memory());
    assert!(memory.make_decoy(&unlock, &Passphrase::new("another long passphrase here")).is_err());
}
