//! Observed lists: a space's feed, the space list and a space's members, each handed
//! to an app's listener first whole (one `Reset`) and then as diffs, in the engine's
//! order. The app keeps one array per list and applies each diff to it; it never asks
//! for the whole list again. A subscription stops when told or when the app lets go
//! of it.

use std::sync::{Arc, Mutex, Weak};

use huisclos_core::engine::{ListId, ListUpdate};
use huisclos_core::lists::VectorDiff;

use crate::error::Result;
use crate::profile::{Inner, Profile, lock};
use crate::space::{Feed, Members, SpaceLibrary};
use crate::types::{self, FeedItem, JoinRequest, LibraryNode, Member, SpaceSummary};

macro_rules! diff_enum {
    ($(#[$doc:meta])* $name:ident, $value:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, uniffi::Enum)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize))]
        pub enum $name {
            /// These values were added at the end.
            Append {
                /// In list order.
                values: Vec<$value>,
            },
            /// A value was added at `index`; those from `index` on move one place down.
            Insert {
                /// Where.
                index: u32,
                /// What.
                value: $value,
            },
            /// The value at `index` changed.
            Set {
                /// Where.
                index: u32,
                /// Its new value.
                value: $value,
            },
            /// The value at `index` went; those after it move one place up.
            Remove {
                /// Where.
                index: u32,
            },
            /// The list is now exactly these values.
            Reset {
                /// The whole list.
                values: Vec<$value>,
            },
        }

        impl $name {
            fn from_core<T>(diff: VectorDiff<T>) -> Option<Self>
            where
                $value: From<T>,
            {
                let index = |index: usize| u32::try_from(index).unwrap_or(u32::MAX);
                Some(match diff {
                    VectorDiff::Append { values } => Self::Append { values: values.into_iter().map(Into::into).collect() },
                    VectorDiff::Insert { index: at, value } => Self::Insert { index: index(at), value: value.into() },
                    VectorDiff::Set { index: at, value } => Self::Set { index: index(at), value: value.into() },
                    VectorDiff::Remove { index: at } => Self::Remove { index: index(at) },
                    VectorDiff::Reset { values } => Self::Reset { values: values.into_iter().map(Into::into).collect() },
                    // A kind of change this release does not know: the next `Reset`
                    // (at the next subscription) is the only safe answer.
                    _ => return None,
                })
            }
        }
    };
}

diff_enum!(
    /// A change to an observed feed (newest first).
    FeedDiff,
    FeedItem
);
diff_enum!(
    /// A change to the observed space list (in the order of the spaces' ids).
    SpaceDiff,
    SpaceSummary
);
diff_enum!(
    /// A change to a space's observed members (in the order of their identity keys).
    MemberDiff,
    Member
);
diff_enum!(
    /// A change to an observed folder of a library (by name).
    FolderDiff,
    LibraryNode
);
diff_enum!(
    /// A change to a space's observed requests to join (in the order they came).
    JoinRequestDiff,
    JoinRequest
);

/// Hears the changes to a space's feed. Called on a library thread or on the thread
/// that gave a command, one call at a time and in order; it should hand the diffs to
/// the UI thread and return quickly. It may call back into the profile.
#[uniffi::export(foreign)]
pub trait FeedListener: Send + Sync {
    /// Changes to apply, in order.
    fn on_diffs(&self, diffs: Vec<FeedDiff>);
}

/// Hears the changes to the space list (as [`FeedListener`]).
#[uniffi::export(foreign)]
pub trait SpaceListListener: Send + Sync {
    /// Changes to apply, in order.
    fn on_diffs(&self, diffs: Vec<SpaceDiff>);
}

/// Hears the changes to a space's members (as [`FeedListener`]).
#[uniffi::export(foreign)]
pub trait MemberListListener: Send + Sync {
    /// Changes to apply, in order.
    fn on_diffs(&self, diffs: Vec<MemberDiff>);
}

/// Hears the changes to a folder of a library (as [`FeedListener`]).
#[uniffi::export(foreign)]
pub trait FolderListener: Send + Sync {
    /// Changes to apply, in order.
    fn on_diffs(&self, diffs: Vec<FolderDiff>);
}

/// Hears the changes to a space's requests to join (as [`FeedListener`]).
#[uniffi::export(foreign)]
pub trait JoinRequestListener: Send + Sync {
    /// Changes to apply, in order.
    fn on_diffs(&self, diffs: Vec<JoinRequestDiff>);
}

/// The listener of one observed list.
#[derive(Clone)]
pub(crate) enum ListListener {
    Feed(Arc<dyn FeedListener>),
    Spaces(Arc<dyn SpaceListListener>),
    Members(Arc<dyn MemberListListener>),
    Folder(Arc<dyn FolderListener>),
    JoinRequests(Arc<dyn JoinRequestListener>),
}

impl ListListener {
    /// Hands an update to the listener, if it is of the listener's kind.
    pub(crate) fn hand(&self, update: ListUpdate) {
        fn convert<T, D>(diffs: Vec<VectorDiff<T>>, f: impl Fn(VectorDiff<T>) -> Option<D>) -> Vec<D> {
            diffs.into_iter().filter_map(f).collect()
        }
        match (self, update) {
            (Self::Feed(listener), ListUpdate::Feed { diffs, .. }) => {
                listener.on_diffs(convert(diffs, FeedDiff::from_core));
            }
            (Self::Spaces(listener), ListUpdate::Spaces { diffs, .. }) => {
                listener.on_diffs(convert(diffs, SpaceDiff::from_core));
            }
            (Self::Members(listener), ListUpdate::Members { diffs, .. }) => {
                listener.on_diffs(convert(diffs, MemberDiff::from_core));
            }
            (Self::Folder(listener), ListUpdate::Folder { diffs, .. }) => {
                listener.on_diffs(convert(diffs, FolderDiff::from_core));
            }
            (Self::JoinRequests(listener), ListUpdate::JoinRequests { diffs, .. }) => {
                listener.on_diffs(convert(diffs, JoinRequestDiff::from_core));
            }
            _ => {}
        }
    }
}

/// One observed list: stops when told, or when the app lets go of it.
#[derive(uniffi::Object)]
pub struct ListSubscription {
    inner: Weak<Inner>,
    /// `None` once stopped.
    list: Mutex<Option<ListId>>,
}

impl std::fmt::Debug for ListSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListSubscription").finish_non_exhaustive()
    }
}

impl Drop for ListSubscription {
    fn drop(&mut self) {
        self.stop();
    }
}

#[uniffi::export]
impl ListSubscription {
    /// Stops the listener; no diff reaches it after this returns (but for one being
    /// delivered on another thread right now). Stopping twice does nothing.
    pub fn stop(&self) {
        let Some(list) = lock(&self.list).take() else { return };
        if let Some(inner) = self.inner.upgrade() {
            lock(&inner.list_listeners).remove(&list.get());
            // A closed profile observes nothing any more.
            let _ = inner.with(|engine| {
                engine.unobserve(list);
                Ok(())
            });
        }
    }

    /// For a feed: loads up to `count` older items (at most 500), which reach the
    /// listener as one `Append`. Returns whether older items may remain; `false` once
    /// stopped, and for lists that are not feeds.
    pub fn load_more(&self, count: u32) -> Result<bool> {
        let Some(list) = *lock(&self.list) else { return Ok(false) };
        let Some(inner) = self.inner.upgrade() else { return Ok(false) };
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        match inner.with(|engine| engine.extend_feed(list, count)) {
            Err(crate::HuisClosError::NotFound { .. }) => Ok(false),
            other => other,
        }
    }
}

/// Observes a list: registers the listener and queues the list's first state, with
/// the engine's lock held, so the listener hears it before any diff.
pub(crate) fn subscribe(
    inner: &Arc<Inner>,
    listener: ListListener,
    observe: impl FnOnce(&mut huisclos_core::engine::Engine) -> huisclos_core::Result<ListUpdate>,
) -> Result<Arc<ListSubscription>> {
    let list = inner.with(|engine| {
        let first = observe(engine)?;
        let list = first.list();
        lock(&inner.list_listeners).insert(list.get(), listener);
        inner.queue_first(first);
        Ok(list)
    })?;
    Ok(Arc::new(ListSubscription { inner: Arc::downgrade(inner), list: Mutex::new(Some(list)) }))
}

#[uniffi::export]
impl Profile {
    /// Observes the space list: a `Reset`, then every change (a space joined, left or
    /// renamed, its unread count).
    pub fn subscribe_spaces(&self, listener: Arc<dyn SpaceListListener>) -> Result<Arc<ListSubscription>> {
        subscribe(&self.inner, ListListener::Spaces(listener), |engine| {
            let (list, values) = engine.observe_spaces()?;
            Ok(ListUpdate::Spaces { list, diffs: vec![VectorDiff::Reset { values }] })
        })
    }
}

#[uniffi::export]
impl Feed {
    /// Observes a space's feed, newest first: the listener first hears a `Reset` with
    /// the newest `page_size` items (at most 500), then every change as it happens (a
    /// new post or comment is an `Insert`, an edit, reaction or deletion a `Set`).
    /// Older pages come with [`ListSubscription::load_more`].
    pub fn subscribe(&self, page_size: u32, listener: Arc<dyn FeedListener>) -> Result<Arc<ListSubscription>> {
        let page = usize::try_from(page_size).unwrap_or(usize::MAX);
        subscribe(&self.inner, ListListener::Feed(listener), |engine| {
            let (list, values) = engine.space(&self.id)?.observe_feed(page)?;
            Ok(ListUpdate::Feed { list, diffs: vec![VectorDiff::Reset { values }] })
        })
    }
}

#[uniffi::export]
impl SpaceLibrary {
    /// Observes what a folder of a space's library shows (`folder` as hex; none for the
    /// top), by name: a `Reset`, then every change (a new item is an `Insert`, a renamed
    /// one a `Remove` and an `Insert`, a trashed one a `Remove`).
    pub fn subscribe_folder(
        &self,
        folder: Option<String>,
        listener: Arc<dyn FolderListener>,
    ) -> Result<Arc<ListSubscription>> {
        let folder = folder.as_deref().map(types::node_id).transpose()?;
        subscribe(&self.inner, ListListener::Folder(listener), |engine| {
            let (list, values) = engine.space(&self.id)?.observe_folder(folder)?;
            Ok(ListUpdate::Folder { list, diffs: vec![VectorDiff::Reset { values }] })
        })
    }
}

#[uniffi::export]
impl Members {
    /// Observes a space's members: a `Reset`, then every change (someone added or
    /// removed, a role changed, a device added).
    pub fn subscribe(&self, listener: Arc<dyn MemberListListener>) -> Result<Arc<ListSubscription>> {
        subscribe(&self.inner, ListListener::Members(listener), |engine| {
            let (list, values) = engine.space(&self.id)?.observe_members()?;
            Ok(ListUpdate::Members { list, diffs: vec![VectorDiff::Reset { values }] })
        })
    }

    /// Observes a space's requests to join waiting for a decision: a `Reset`, then every
    /// change (a request arrives: `Insert`; approved or declined: `Remove`).
    pub fn subscribe_join_requests(&self, listener: Arc<dyn JoinRequestListener>) -> Result<Arc<ListSubscription>> {
        subscribe(&self.inner, ListListener::JoinRequests(listener), |engine| {
            let (list, values) = engine.space(&self.id)?.observe_join_requests()?;
            Ok(ListUpdate::JoinRequests { list, diffs: vec![VectorDiff::Reset { values }] })
        })
    }
}
