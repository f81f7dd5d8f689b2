//! Lists an app shows, and the changes to them as diffs.
//!
//! An app renders a list once and then applies [`VectorDiff`]s to it, as
//! `matrix-sdk-ui`'s timeline hands out `eyeball-im` diffs: a new post is one
//! [`VectorDiff::Insert`], not a new copy of a feed of ten thousand items. The engine
//! keeps the list each app observes and computes the diffs (see
//! [`Engine::observe_feed`](crate::engine::Engine::observe_feed)); this module holds
//! the diff type, how one applies to a list, and the diff between two sorted lists.

use std::cmp::Ordering;

/// One change to a list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VectorDiff<T> {
    /// These values were added at the end (an older page of a feed).
    Append {
        /// The values, in list order.
        values: Vec<T>,
    },
    /// A value was added at `index`; the values from `index` on move one place down.
    Insert {
        /// Where.
        index: usize,
        /// What.
        value: T,
    },
    /// The value at `index` changed.
    Set {
        /// Where.
        index: usize,
        /// Its new value.
        value: T,
    },
    /// The value at `index` went; the values after it move one place up.
    Remove {
        /// Where.
        index: usize,
    },
    /// The list is now exactly these values.
    Reset {
        /// The whole list.
        values: Vec<T>,
    },
}

/// A diff that names a place the list does not have: the list it was applied to is
/// not the list it was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a list diff at index {index} does not fit a list of {len} values")]
pub struct DiffOutOfRange {
    /// The index the diff named.
    pub index: usize,
    /// The list's length.
    pub len: usize,
}

impl<T> VectorDiff<T> {
    /// Applies this diff to `list`.
    ///
    /// # Errors
    /// [`DiffOutOfRange`], with `list` unchanged, when the index is out of range.
    pub fn apply(self, list: &mut Vec<T>) -> Result<(), DiffOutOfRange> {
        let len = list.len();
        match self {
            Self::Append { values } => list.extend(values),
            Self::Insert { index, value } if index <= len => list.insert(index, value),
            Self::Set { index, value } if index < len => list[index] = value,
            Self::Remove { index } if index < len => {
                list.remove(index);
            }
            Self::Reset { values } => *list = values,
            Self::Insert { index, .. } | Self::Set { index, .. } | Self::Remove { index } => {
                return Err(DiffOutOfRange { index, len });
            }
        }
        Ok(())
    }

    /// The same change with each value mapped (to the type an app or binding shows).
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> VectorDiff<U> {
        match self {
            Self::Append { values } => VectorDiff::Append { values: values.into_iter().map(f).collect() },
            Self::Insert { index, value } => VectorDiff::Insert { index, value: f(value) },
            Self::Set { index, value } => VectorDiff::Set { index, value: f(value) },
            Self::Remove { index } => VectorDiff::Remove { index },
            Self::Reset { values } => VectorDiff::Reset { values: values.into_iter().map(f).collect() },
        }
    }
}

/// The diffs that turn `old` into `new`, both sorted by `key` with no key twice: a
/// value whose key stays and which changed is one [`VectorDiff::Set`], a key that
/// went one [`VectorDiff::Remove`], a new key one [`VectorDiff::Insert`]. Linear in
/// the two lengths; nothing for two equal lists.
pub fn diff_sorted<T: Clone + PartialEq, K: Ord>(old: &[T], new: &[T], key: impl Fn(&T) -> K) -> Vec<VectorDiff<T>> {
    let mut diffs = Vec::new();
    let (mut i, mut j) = (0, 0);
    // The index in the list as the diffs so far have left it.
    let mut at = 0;
    loop {
        match (old.get(i), new.get(j)) {
            (None, None) => break,
            (Some(was), Some(is)) => match key(was).cmp(&key(is)) {
                Ordering::Equal => {
                    if was != is {
                        diffs.push(VectorDiff::Set { index: at, value: is.clone() });
                    }
                    (i, j, at) = (i + 1, j + 1, at + 1);
                }
                Ordering::Less => {
                    diffs.push(VectorDiff::Remove { index: at });
                    i += 1;
                }
                Ordering::Greater => {
                    diffs.push(VectorDiff::Insert { index: at, value: is.clone() });
                    (j, at) = (j + 1, at + 1);
                }
            },
            (Some(_), None) => {
                diffs.push(VectorDiff::Remove { index: at });
                i += 1;
            }
            (None, Some(is)) => {
                diffs.push(VectorDiff::Insert { index: at, value: is.clone() });
                (j, at) = (j + 1, at + 1);
            }
        }
    }
    diffs
}

/// The diffs that turn `old` into `new`, lists in an order of their own (arrival, say)
/// with no key twice: keys that went are [`VectorDiff::Remove`]s, changed values
/// [`VectorDiff::Set`]s, new keys [`VectorDiff::Insert`]s at their place. When the
/// values kept changed their order among themselves, one [`VectorDiff::Reset`].
pub fn diff_keyed<T: Clone + PartialEq, K: Ord>(old: &[T], new: &[T], key: impl Fn(&T) -> K) -> Vec<VectorDiff<T>> {
    use std::collections::BTreeSet;
    let new_keys: BTreeSet<K> = new.iter().map(&key).collect();
    let old_keys: BTreeSet<K> = old.iter().map(&key).collect();
    let mut diffs = Vec::new();
    let mut current: Vec<T> = Vec::with_capacity(new.len());
    for value in old {
        if new_keys.contains(&key(value)) {
            current.push(value.clone());
        } else {
            diffs.push(VectorDiff::Remove { index: current.len() });
        }
    }
    let kept_in_new = new.iter().filter(|value| old_keys.contains(&key(value)));
    if !current.iter().map(&key).eq(kept_in_new.map(&key)) {
        return vec![VectorDiff::Reset { values: new.to_vec() }];
    }
    for (index, value) in new.iter().enumerate() {
        match current.get(index) {
            Some(shown) if key(shown) == key(value) => {
                if shown != value {
                    diffs.push(VectorDiff::Set { index, value: value.clone() });
                    current[index] = value.clone();
                }
            }
            _ => {
                diffs.push(VectorDiff::Insert { index, value: value.clone() });
                current.insert(index, value.clone());
            }
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn applied(mut list: Vec<(u8, u8)>, diffs: Vec<VectorDiff<(u8, u8)>>) -> Vec<(u8, u8)> {
        for diff in diffs {
            diff.apply(&mut list).expect("in range");
        }
        list
    }

    #[test]
    fn a_changed_kept_value_is_one_set_and_equal_lists_give_nothing() {
        let old = vec![(1, 0), (2, 0), (3, 0)];
        let new = vec![(1, 0), (2, 9), (3, 0)];
        assert_eq!(diff_sorted(&old, &new, |v| v.0), vec![VectorDiff::Set { index: 1, value: (2, 9) }]);
        assert!(diff_sorted(&old, &old, |v| v.0).is_empty());
    }

    #[test]
    fn a_diff_out_of_range_changes_nothing() {
        let mut list = vec![1, 2];
        assert_eq!(VectorDiff::Remove { index: 2 }.apply(&mut list), Err(DiffOutOfRange { index: 2, len: 2 }));
        assert_eq!(
            VectorDiff::Insert { index: 3, value: 0 }.apply(&mut list),
            Err(DiffOutOfRange { index: 3, len: 2 })
        );
        assert_eq!(list, vec![1, 2]);
    }

    #[test]
    fn a_list_in_its_own_order_gets_removes_sets_and_inserts_or_one_reset() {
        let old = vec![(5, 0), (1, 0), (3, 0)];
        let new = vec![(5, 1), (3, 0), (9, 0)];
        let diffs = diff_keyed(&old, &new, |v| v.0);
        assert_eq!(
            diffs,
            vec![
                VectorDiff::Remove { index: 1 },
                VectorDiff::Set { index: 0, value: (5, 1) },
                VectorDiff::Insert { index: 2, value: (9, 0) }
            ]
        );
        assert_eq!(applied(old.clone(), diffs), new);
        let reordered = vec![(3, 0), (5, 0)];
        assert_eq!(diff_keyed(&old, &reordered, |v| v.0), vec![VectorDiff::Reset { values: reordered.clone() }]);
    }

    proptest! {
        /// Whatever two lists with unique keys, the keyed diffs rebuild the second.
        #[test]
        fn the_keyed_diffs_of_two_lists_rebuild_the_second(
            old in proptest::collection::vec((0u8..30, any::<u8>()), 0..20),
            new in proptest::collection::vec((0u8..30, any::<u8>()), 0..20),
        ) {
            let unique = |list: Vec<(u8, u8)>| {
                let mut seen = std::collections::BTreeSet::new();
                list.into_iter().filter(|v| seen.insert(v.0)).collect::<Vec<_>>()
            };
            let (old, new) = (unique(old), unique(new));
            prop_assert_eq!(applied(old.clone(), diff_keyed(&old, &new, |v| v.0)), new);
        }

        /// Whatever two sorted lists, the diffs applied to the first give the second,
        /// with no more diffs than the values that differ.
        #[test]
        fn the_diffs_of_two_sorted_lists_rebuild_the_second(
            old in proptest::collection::btree_map(any::<u8>(), any::<u8>(), 0..40),
            new in proptest::collection::btree_map(any::<u8>(), any::<u8>(), 0..40),
        ) {
            let old: Vec<(u8, u8)> = old.into_iter().collect();
            let new: Vec<(u8, u8)> = new.into_iter().collect();
            let diffs = diff_sorted(&old, &new, |v| v.0);
            let changed = old.iter().filter(|v| !new.contains(v)).count() + new.iter().filter(|v| !old.contains(v)).count();
            prop_assert!(diffs.len() <= changed);
            prop_assert_eq!(applied(old, diffs), new);
        }
    }
}
