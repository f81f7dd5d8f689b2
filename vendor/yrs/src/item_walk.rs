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

/// A run of characters one client typed, as the document holds them, read by
/// [`held_runs`]: one run per item (or collected range) that holds part of the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldRun<'a> {
    /// Its first character.
    pub id: ID,
    /// How many characters (clocks) it spans.
    pub len: u32,
    /// Whether it is a collected range: deleted, with nothing else of it kept.
    pub collected: bool,
    /// Whether it is deleted. A deleted item's text is usually dropped, but kept
    /// where this device's undo may restore it: whether `text` is there depends on
    /// the device.
    pub deleted: bool,
    /// What its first character was typed after: the character before it in the same
    /// item, or the item's origin. Splitting and squashing items leaves this as it
    /// was when typed.
    pub origin: Option<ID>,
    /// What its characters were typed before: the item's right origin, which every
    /// character of an item shares.
    pub right_origin: Option<ID>,
    /// The item's text, if it still holds it (a deleted item's is dropped); the run
    /// is UTF-16 units `offset..offset + len` of it.
    pub text: Option<&'a str>,
    /// Where the run starts in `text`, in UTF-16 units.
    pub offset: u32,
}

/// Visits, in clock order, what the document holds of `client`'s characters
/// `clock..clock + len`, stopping at the first it does not hold or when `visit`
/// returns false.
pub fn held_runs<T: ReadTxn>(txn: &T, client: crate::ClientID, clock: u32, len: u32, mut visit: impl FnMut(HeldRun<'_>) -> bool) {
    let store = txn.store();
    let end = clock.saturating_add(len);
    let mut at = clock;
    while at < end {
        let Some(block) = store.blocks.get_block(&ID::new(client, at)) else {
            return;
        };
        let whole = block.as_ref();
        let start = whole.id().clock;
        let block_end = start.saturating_add(whole.len());
        if block_end <= at {
            return;
        }
        let run_len = block_end.min(end) - at;
        let offset = at - start;
        let run = match block.as_item() {
            Some(item) => HeldRun {
                id: ID::new(client, at),
                len: run_len,
                collected: false,
                deleted: item.is_deleted(),
                origin: if offset == 0 { item.origin } else { Some(ID::new(client, at - 1)) },
                right_origin: item.right_origin,
                text: match &item.content {
                    crate::block::ItemContent::String(text) => Some(text.as_str()),
                    _ => None,
                },
                offset,
            },
            None => HeldRun {
                id: ID::new(client, at),
                len: run_len,
                collected: true,
                deleted: true,
                origin: None,
                right_origin: None,
                text: None,
                offset,
            },
        };
        if whole.is_skip() || !visit(run) {
            return;
        }
        at += run_len;
    }
}
