//! Where a vault keeps its rows: sealed values under blinded keys, ordered by key
//! bytes. The vault above seals, blinds, batches a step's writes and commits them
//! at once; a backend only stores bytes and applies a batch atomically.
//!
//! Two backends: [`SledRows`] (a profile on disk, one sled tree, flushed at every
//! commit) and [`MemoryRows`] (nothing on disk: for tests, previews and benchmarks,
//! where the engine runs exactly as on disk without paying for it). The conformance
//! suite in `vault::tests` runs the same checks against both.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::RwLock;

use crate::error::Result;

/// A batch of changes: a sealed value to store, or `None` to delete.
pub(crate) type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Stored rows, ordered by key bytes.
pub(crate) trait Rows: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// At most `limit` rows with `start <= key < end` (no end bound when `end` is
    /// `None`), in key order, or from the last backwards when `backwards`.
    fn range(&self, start: &[u8], end: Option<&[u8]>, backwards: bool, limit: usize)
    -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Applies every change at once: after a crash, all of them or none. Durable when
    /// it returns (for a backend that persists at all).
    fn apply(&self, changes: &Changes) -> Result<()>;

    /// How many rows are stored (for tests of what a profile leaves behind).
    #[cfg(test)]
    fn len(&self) -> usize;
}

/// A range of keys, as sled and `BTreeMap` take it.
type KeyRange<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// The bounds of `start <= key < end`, or `None` for a range that holds nothing (which
/// both sled and `BTreeMap` would refuse with a panic when `end < start`).
fn bounds<'a>(start: &'a [u8], end: Option<&'a [u8]>) -> Option<KeyRange<'a>> {
    if end.is_some_and(|end| end <= start) {
        return None;
    }
    Some((Bound::Included(start), end.map_or(Bound::Unbounded, Bound::Excluded)))
}

/// Rows in one sled tree.
pub(crate) struct SledRows(pub(crate) sled::Tree);

impl Rows for SledRows {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(key)?.map(|value| value.to_vec()))
    }

    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        backwards: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let Some(bounds) = bounds(start, end) else { return Ok(Vec::new()) };
        let range = self.0.range::<&[u8], _>(bounds);
        let rows: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            if backwards { Box::new(range.rev()) } else { Box::new(range) };
        rows.take(limit).map(|row| row.map(|(key, value)| (key.to_vec(), value.to_vec())).map_err(Into::into)).collect()
    }

    fn apply(&self, changes: &Changes) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (key, value) in changes {
            match value {
                Some(value) => batch.insert(key.as_slice(), value.as_slice()),
                None => batch.remove(key.as_slice()),
            }
        }
        self.0.apply_batch(batch)?;
        self.0.flush()?;
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Rows in memory only: gone when the vault is dropped.
#[derive(Default)]
pub(crate) struct MemoryRows(RwLock<BTreeMap<Vec<u8>, Vec<u8>>>);

impl MemoryRows {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic while holding the lock leaves a usable map: `apply` only inserts and
        // removes whole entries (a batch cut short by a panic is the caller's failed
        // commit, as with any store that fails mid-write).
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Rows for MemoryRows {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.read().get(key).cloned())
    }

    fn range(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        backwards: bool,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let Some(bounds) = bounds(start, end) else { return Ok(Vec::new()) };
        let rows = self.read();
        let range = rows.range::<[u8], _>(bounds);
        let pick = |(key, value): (&Vec<u8>, &Vec<u8>)| (key.clone(), value.clone());
        Ok(if backwards { range.rev().take(limit).map(pick).collect() } else { range.take(limit).map(pick).collect() })
    }

    fn apply(&self, changes: &Changes) -> Result<()> {
        let mut rows = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, value) in changes {
            match value {
                Some(value) => rows.insert(key.clone(), value.clone()),
                None => rows.remove(key),
            };
        }
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.read().len()
    }
}
