//! The typed store's conformance cases, written once and run against each of the
//! vault's backends (beside the vault's own byte-level suite in `vault::conformance`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::vault::{KdfParams, Passphrase, Unlock};

fn item(id: u8, position: u64, text: &str) -> FeedRecord {
    FeedRecord {
        id: [id; 16],
        author: [7; 32],
        author_name: "Amal".into(),
        created_at: 1_700_000_000 + position,
        parent: None,
        text: text.into(),
        edited: false,
        deleted: false,
        reactions: BTreeMap::new(),
        position,
        moderated_by: None,
    }
}

fn delivery(due: Now) -> Delivery {
    Delivery { group: [1; 16], recipients: vec![[2; 16]], item: vec![3; 40], attempts: 0, due, reported: false }
}

macro_rules! store_conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            fn store() -> (tempfile::TempDir, Store) {
                let dir = tempfile::tempdir().unwrap();
                let make: fn(&std::path::Path) -> Vault = $make;
                let store = Store::new(Arc::new(make(&dir.path().join("profile"))));
                (dir, store)
            }

            #[test]
            fn a_queue_keeps_its_records_in_order_by_index_and_a_rollback_forgets_a_step() {
                let (_dir, store) = store();
                let deliveries = store.deliveries();
                assert_eq!(deliveries.len().unwrap(), 0);
                assert_eq!(deliveries.push(&delivery(30)).unwrap(), 0);
                assert_eq!(deliveries.push(&delivery(10)).unwrap(), 1);
                deliveries.put(7, &delivery(20)).unwrap();
                assert_eq!(deliveries.push(&delivery(40)).unwrap(), 8, "a push goes after the last index");
                store.commit().unwrap();
                let dues: Vec<(u64, Now)> =
                    deliveries.first(10).unwrap().iter().map(|(index, d)| (*index, d.due)).collect();
                assert_eq!(dues, [(0, 30), (1, 10), (7, 20), (8, 40)]);
                assert_eq!(deliveries.first(2).unwrap().len(), 2);
                deliveries.remove(1);
                let mut changed = deliveries.get(7).unwrap().unwrap();
                changed.attempts = 3;
                deliveries.put(7, &changed).unwrap();
                assert_eq!(deliveries.len().unwrap(), 3, "a step's changes show before its commit");
                store.rollback();
                assert_eq!(deliveries.len().unwrap(), 4);
                assert_eq!(deliveries.get(7).unwrap().unwrap().attempts, 0);
                assert!(store.outbox().first(10).unwrap().is_empty(), "queues are apart");
            }

            #[test]
            fn a_record_that_does_not_decode_is_refused_by_first_and_skipped_by_first_readable() {
                let (_dir, store) = store();
                store.deliveries().put(0, &delivery(5)).unwrap();
                // Another type's bytes at index 1 of the same queue.
                store.vault().put_ordered(NS_DELIVERIES, 1, b"\xff\xff\xff").unwrap();
                store.deliveries().put(2, &delivery(6)).unwrap();
                assert!(matches!(store.deliveries().first(10), Err(CoreError::CorruptProfile(_))));
                let readable = store.deliveries().first_readable(10).unwrap();
                assert_eq!(readable.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 2]);
                assert!(matches!(store.deliveries().get(1), Err(CoreError::CorruptProfile(_))));
            }

            #[test]
            fn feed_items_and_their_order_are_read_back_newest_first_in_pages() {
                let (_dir, store) = store();
                let group = GroupId::from_bytes([9; 16]);
                assert_eq!(store.newest_in_feed(&group).unwrap(), None);
                for position in 0..120u64 {
                    let id = (position % 250) as u8;
                    let item = item(id, position, "Hearing moved to Thursday");
                    store.put_feed_item(&group, &item).unwrap();
                    store.put_feed_position(&group, position, &ContentId::from_bytes(item.id)).unwrap();
                    if position == 60 {
                        store.commit().unwrap();
                    }
                }
                let (newest, id) = store.newest_in_feed(&group).unwrap().unwrap();
                assert_eq!((newest, id), (119, ContentId::from_bytes([119; 16])));
                let page = store.feed_ids_before(&group, None, 50).unwrap();
                assert_eq!(page.first().map(|(p, _)| *p), Some(119));
                assert_eq!(page.last().map(|(p, _)| *p), Some(70));
                let next = store.feed_ids_before(&group, Some(70), 50).unwrap();
                assert_eq!(next.first().map(|(p, _)| *p), Some(69));
                assert_eq!(store.feed_ids(&group).unwrap().len(), 120);
                let read = store.feed_item(&group, &ContentId::from_bytes([42; 16])).unwrap().unwrap();
                assert_eq!((read.position, read.text.as_str()), (42, "Hearing moved to Thursday"));
                let other = GroupId::from_bytes([8; 16]);
                assert_eq!(store.feed_item(&other, &ContentId::from_bytes([42; 16])).unwrap().map(|i| i.id), None);
                assert!(store.feed_ids(&other).unwrap().is_empty(), "feeds are apart");
            }

            #[test]
            fn items_applied_are_remembered_one_by_one_per_space() {
                let (_dir, store) = store();
                let group = GroupId::from_bytes([9; 16]);
                let id = ContentId::from_bytes([4; 16]);
                assert!(!store.was_applied(&group, &id).unwrap());
                store.mark_applied(&group, &id).unwrap();
                assert!(store.was_applied(&group, &id).unwrap());
                assert!(!store.was_applied(&GroupId::from_bytes([8; 16]), &id).unwrap());
                store.rollback();
                assert!(!store.was_applied(&group, &id).unwrap());
            }

            #[test]
            fn an_empty_store_holds_no_profile_no_space_and_an_empty_library() {
                let (_dir, store) = store();
                assert!(!store.holds_profile().unwrap());
                assert!(matches!(store.profile(), Err(CoreError::NoProfile(_))));
                assert!(store.space_ids().unwrap().is_empty());
                assert!(store.contacts().unwrap().is_none());
                let group = GroupId::from_bytes([9; 16]);
                assert_eq!(store.library(&group).unwrap(), Library::default());
                assert!(matches!(store.space(&group), Err(CoreError::CorruptProfile(_))));
            }

            #[test]
            fn records_of_an_unknown_version_are_refused_not_guessed() {
                let (_dir, store) = store();
                let group = GroupId::from_bytes([9; 16]);
                store.vault().put(NS_SPACES, group.as_bytes(), &[SPACE_RECORD_VERSION + 1, 0, 0]).unwrap();
                assert!(matches!(store.space(&group), Err(CoreError::CorruptProfile(_))));
                store.vault().put(NS_PROFILE, PROFILE_KEY, &[PROFILE_RECORD_VERSION + 1]).unwrap();
                assert!(matches!(store.profile(), Err(CoreError::CorruptProfile(_))));
                let id = ContentId::from_bytes([4; 16]);
                store.vault().put(&feed_namespace(&group), id.as_bytes(), &[FEED_RECORD_VERSION + 1]).unwrap();
                assert!(matches!(store.feed_item(&group, &id), Err(CoreError::CorruptProfile(_))));
            }
        }
    };
}

store_conformance!(on_disk, |dir| {
    let unlock = Unlock::Passphrase(Passphrase::new("correct horse battery staple"));
    Vault::create(dir, &unlock, KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap()).unwrap()
});
store_conformance!(in_memory, |dir| Vault::in_memory(dir).unwrap());
