//! Read access to a sequence's items, deleted ones included, in list order.
//!
//! Not part of yrs 0.28.1: added where Huis Clos vendors it (`VENDORED.md`), because
//! a receiver of an update from an untrusted peer must know what lies between the two
//! characters a block names as its origins, and yrs exposes no item list.

use crate::transaction::ReadTxn;
use crate::ID;

/// A run of characters of one item, as [`walk_between`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRun {
    /// Its first character.
    pub id: ID,
    /// How many characters (clocks) it spans.
    pub len: u32,
    /// Whether it is deleted.
    pub deleted: bool,
}

/// Visits, left to right, the characters strictly between `from` and `to` in the
/// sequence of the root type `root` (`None`: its start, or its end), one run per item
/// (the items holding `from` and `to` contribute the part between them). Stops early
/// when `visit` returns false.
///
/// Returns false if `from` or `to` is not a character of that sequence, or `to` is not
/// on the right of `from` (the walk then ran to the end).
pub fn walk_between<T: ReadTxn>(
    txn: &T,
    root: &str,
    from: Option<&ID>,
    to: Option<&ID>,
    mut visit: impl FnMut(ItemRun) -> bool,
) -> bool {
    let store = txn.store();
    let Some(branch) = store.types.get(root) else {
        return false;
    };
    let mut current = match from {
        None => branch.start,
        Some(id) => {
            let Some(item) = store.blocks.get_item(id) else {
                return false;
            };
            if !item.parent.as_branch().is_some_and(|parent| parent.name.as_deref() == Some(root)) {
                return false;
            }
            // The rest of the item holding `from`, then what follows it.
            let rest = item.id.clock + item.len - (id.clock + 1);
            if rest > 0 {
                let run_start = ID::new(id.client, id.clock + 1);
                if let Some(to) = to {
                    if to.client == id.client && to.clock > id.clock && to.clock < item.id.clock + item.len {
                        let len = to.clock - run_start.clock;
                        if len > 0 {
                            visit(ItemRun { id: run_start, len, deleted: item.is_deleted() });
                        }
                        return true;
                    }
                }
                if !visit(ItemRun { id: run_start, len: rest, deleted: item.is_deleted() }) {
                    return true;
                }
            }
            item.right
        }
    };
    while let Some(item) = current {
        if let Some(to) = to {
            if item.contains(to) {
                let len = to.clock - item.id.clock;
                if len > 0 {
                    visit(ItemRun { id: item.id, len, deleted: item.is_deleted() });
                }
                return true;
            }
        }
        if !visit(ItemRun { id: item.id, len: item.len, deleted: item.is_deleted() }) {
            return true;
        }
        current = item.right;
    }
    to.is_none()
}
