//! The lists apps observe: a space's feed, the space list and a space's members. The
//! engine keeps what each observer was shown and hands out only the changes, as
//! [`VectorDiff`]s: a new post on a feed of ten thousand items is one item read and
//! one `Insert`, not a rescan.
//!
//! Its own state ([`Observed`]) is apart from the engine's: the engine only tells it
//! which feed items a step changed and that a step was committed. The diffs are
//! computed when asked ([`Engine::poll_list_update`]), from what the store holds
//! then, so a step that failed and was rolled back shows nothing.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::library::{NodeId, NodeView};
use crate::lists::{VectorDiff, diff_keyed, diff_sorted};

/// The most items one page of an observed feed loads.
pub const MAX_FEED_PAGE: usize = 500;

/// The most lists observed at once; one more is refused.
pub const MAX_OBSERVED_LISTS: usize = 256;

/// An observed list, named by the engine when it starts observing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListId(u64);

impl ListId {
    /// The number naming the list (unique for the engine's life).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Changes to one observed list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListUpdate {
    /// A space's feed, newest first.
    Feed {
        /// The list.
        list: ListId,
        /// Its changes, in order.
        diffs: Vec<VectorDiff<FeedItem>>,
    },
    /// The spaces, in the order of their ids.
    Spaces {
        /// The list.
        list: ListId,
        /// Its changes, in order.
        diffs: Vec<VectorDiff<SpaceSummary>>,
    },
    /// A space's members, in the order of their identity keys.
    Members {
        /// The list.
        list: ListId,
        /// Its changes, in order.
        diffs: Vec<VectorDiff<MemberSummary>>,
    },
    /// What a folder of a space's library shows, by name.
    Folder {
        /// The list.
        list: ListId,
        /// Its changes, in order.
        diffs: Vec<VectorDiff<NodeView>>,
    },
    /// A space's requests to join waiting for a decision, in the order they came.
    JoinRequests {
        /// The list.
        list: ListId,
        /// Its changes, in order.
        diffs: Vec<VectorDiff<JoinRequestSummary>>,
    },
}

impl ListUpdate {
    /// The list changed.
    pub fn list(&self) -> ListId {
        match self {
            Self::Feed { list, .. }
            | Self::Spaces { list, .. }
            | Self::Members { list, .. }
            | Self::Folder { list, .. }
            | Self::JoinRequests { list, .. } => *list,
        }
    }
}

/// What an observer of a feed was shown: the newest items down to the oldest page
/// loaded, newest first.
#[derive(Debug)]
struct FeedWindow {
    space: GroupId,
    items: Vec<FeedItem>,
    /// Whether the oldest item of the feed is loaded (so an older arrival belongs in
    /// the window rather than in a page not yet asked for).
    exhausted: bool,
}

impl FeedWindow {
    /// Where `item` belongs: `Ok` for the place of an item shown, `Err` for the place
    /// to insert a new one, `None` beyond the window (a page not loaded yet).
    fn place(&self, item: &FeedItem) -> Option<std::result::Result<usize, usize>> {
        // Positions are unique and the window is sorted by them, descending.
        match self.items.binary_search_by(|shown| item.position.cmp(&shown.position)) {
            Ok(index) => Some(Ok(index)),
            Err(index) if index < self.items.len() || self.exhausted || self.items.is_empty() => Some(Err(index)),
            Err(_) => None,
        }
    }
}

#[derive(Debug)]
struct MembersWindow {
    space: GroupId,
    /// The epoch the members were read in: members change only with a commit.
    epoch: u64,
    members: Vec<MemberSummary>,
}

#[derive(Debug)]
struct FolderWindow {
    space: GroupId,
    folder: Option<NodeId>,
    nodes: Vec<NodeView>,
}

#[derive(Debug)]
struct RequestsWindow {
    space: GroupId,
    requests: Vec<JoinRequestSummary>,
}

/// The observed lists and what each was last shown.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    next: u64,
    feeds: BTreeMap<ListId, FeedWindow>,
    spaces: BTreeMap<ListId, Vec<SpaceSummary>>,
    members: BTreeMap<ListId, MembersWindow>,
    folders: BTreeMap<ListId, FolderWindow>,
    requests: BTreeMap<ListId, RequestsWindow>,
    /// Spaces whose library changed since the last poll (observed folders only).
    libraries_changed: BTreeSet<GroupId>,
    /// Feed items changed by steps since the last poll, in the order they changed,
    /// for spaces with an observed feed only; each once (`changed_once`).
    changed_items: Vec<(GroupId, ContentId)>,
    changed_once: std::collections::HashSet<(GroupId, ContentId)>,
    /// Set by every committed step: the space list may have changed.
    spaces_stale: AtomicBool,
    ready: VecDeque<ListUpdate>,
}

impl Observed {
    fn new_id(&mut self) -> Result<ListId> {
        let observed =
            self.feeds.len() + self.spaces.len() + self.members.len() + self.folders.len() + self.requests.len();
        if observed >= MAX_OBSERVED_LISTS {
            return Err(CoreError::Invalid(InvalidInput::TooMany {
                limit: Limit::ObservedLists,
                max: MAX_OBSERVED_LISTS as u64,
            }));
        }
        self.next += 1;
        Ok(ListId(self.next))
    }

    /// A step changed this feed item (noted only where someone observes its feed).
    pub(crate) fn item_changed(&mut self, space: &GroupId, item: ContentId) {
        if self.feeds.values().any(|feed| feed.space == *space) && self.changed_once.insert((*space, item)) {
            self.changed_items.push((*space, item));
        }
    }

    /// A step changed this space's library (noted only where a folder is observed).
    pub(crate) fn library_changed(&mut self, space: &GroupId) {
        if self.folders.values().any(|folder| folder.space == *space) {
            self.libraries_changed.insert(*space);
        }
    }

    /// A step was committed.
    pub(crate) fn committed(&self) {
        self.spaces_stale.store(true, Ordering::Relaxed);
    }
}

impl Engine {
    /// Starts observing a space's feed: its newest `page` items (at most
    /// [`MAX_FEED_PAGE`]), newest first, as the list starts; its changes come from
    /// [`Engine::poll_list_update`], and older pages with [`Engine::extend_feed`].
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown space; [`CoreError::Invalid`] past
    /// [`MAX_OBSERVED_LISTS`]; store errors.
    pub fn observe_feed(&mut self, space: &GroupId, page: usize) -> Result<(ListId, Vec<FeedItem>)> {
        if !self.spaces.contains_key(space) {
            return Err(CoreError::NotFound(Missing::Space));
        }
        let page = page.clamp(1, MAX_FEED_PAGE);
        let items = self.feed_page(space, None, page)?;
        let list = self.observed.new_id()?;
        let exhausted = items.len() < page;
        self.observed.feeds.insert(list, FeedWindow { space: *space, items: items.clone(), exhausted });
        Ok((list, items))
    }

    /// Loads up to `count` older items (at most [`MAX_FEED_PAGE`]) into an observed
    /// feed; they reach the observer as one [`VectorDiff::Append`]. Returns whether
    /// older items may remain.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for a list not observed (or not a feed); store errors.
    pub fn extend_feed(&mut self, list: ListId, count: usize) -> Result<bool> {
        // Changes already made come first, so the page joins the window it follows.
        self.refresh_lists()?;
        let window = self.observed.feeds.get(&list).ok_or(CoreError::NotFound(Missing::ObservedList))?;
        if window.exhausted {
            return Ok(false);
        }
        let count = count.clamp(1, MAX_FEED_PAGE);
        let before = window.items.last().map(|item| item.position);
        let older = self.feed_page(&window.space, before, count)?;
        let exhausted = older.len() < count;
        let Some(window) = self.observed.feeds.get_mut(&list) else { return Ok(false) };
        window.exhausted = exhausted;
        if !older.is_empty() {
            window.items.extend(older.iter().cloned());
            self.observed.ready.push_back(ListUpdate::Feed { list, diffs: vec![VectorDiff::Append { values: older }] });
        }
        Ok(!exhausted)
    }

    /// Starts observing the space list (as [`Engine::spaces`]).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] past [`MAX_OBSERVED_LISTS`].
    pub fn observe_spaces(&mut self) -> Result<(ListId, Vec<SpaceSummary>)> {
        let list = self.observed.new_id()?;
        let spaces = self.spaces();
        self.observed.spaces.insert(list, spaces.clone());
        Ok((list, spaces))
    }

    /// Starts observing a space's members (as [`Engine::members`]).
    ///
    /// # Errors
    /// As [`Engine::members`]; [`CoreError::Invalid`] past [`MAX_OBSERVED_LISTS`].
    pub fn observe_members(&mut self, space: &GroupId) -> Result<(ListId, Vec<MemberSummary>)> {
        let members = self.members(space)?;
        let epoch = self.spaces.get(space).map_or(0, |entry| entry.group.epoch().as_u64());
        let list = self.observed.new_id()?;
        self.observed.members.insert(list, MembersWindow { space: *space, epoch, members: members.clone() });
        Ok((list, members))
    }

    /// Starts observing what a folder of a space's library shows (`None`: its top), by
    /// name, as [`Library::children`](crate::library::Library::children).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown space; [`CoreError::Invalid`] past
    /// [`MAX_OBSERVED_LISTS`]; store errors.
    pub fn observe_folder(&mut self, space: &GroupId, folder: Option<NodeId>) -> Result<(ListId, Vec<NodeView>)> {
        if !self.spaces.contains_key(space) {
            return Err(CoreError::NotFound(Missing::Space));
        }
        let nodes = self.library(space)?.children(folder);
        let list = self.observed.new_id()?;
        self.observed.folders.insert(list, FolderWindow { space: *space, folder, nodes: nodes.clone() });
        Ok((list, nodes))
    }

    /// Starts observing a space's requests to join (as [`Engine::join_requests`]).
    ///
    /// # Errors
    /// As [`Engine::join_requests`]; [`CoreError::Invalid`] past [`MAX_OBSERVED_LISTS`].
    pub fn observe_join_requests(&mut self, space: &GroupId) -> Result<(ListId, Vec<JoinRequestSummary>)> {
        let requests = self.join_requests(space)?;
        let list = self.observed.new_id()?;
        self.observed.requests.insert(list, RequestsWindow { space: *space, requests: requests.clone() });
        Ok((list, requests))
    }

    /// Stops observing a list; its pending changes are dropped. Unknown lists are
    /// ignored.
    pub fn unobserve(&mut self, list: ListId) {
        self.observed.feeds.remove(&list);
        self.observed.spaces.remove(&list);
        self.observed.members.remove(&list);
        self.observed.folders.remove(&list);
        self.observed.requests.remove(&list);
        self.observed.ready.retain(|update| update.list() != list);
        let observed: BTreeSet<GroupId> = self.observed.feeds.values().map(|feed| feed.space).collect();
        self.observed.changed_items.retain(|(space, _)| observed.contains(space));
        self.observed.changed_once.retain(|(space, _)| observed.contains(space));
    }

    /// The next change to an observed list, computed from what the store holds now.
    /// An app asks after each engine call (the FFI does) and applies each update to
    /// the list it shows, in order.
    ///
    /// # Errors
    /// Store errors (the changes stay noted, to be computed at the next call).
    pub fn poll_list_update(&mut self) -> Result<Option<ListUpdate>> {
        if self.observed.ready.is_empty() {
            self.refresh_lists()?;
        }
        Ok(self.observed.ready.pop_front())
    }

    /// Computes the changes noted since the last call into updates.
    fn refresh_lists(&mut self) -> Result<()> {
        self.observed.changed_once.clear();
        let mut changed = std::mem::take(&mut self.observed.changed_items).into_iter();
        while let Some((space, id)) = changed.next() {
            let item = match self.item(&space, &id) {
                Ok(Some(item)) => item,
                // Not stored (a step that failed): nothing to show.
                Ok(None) => continue,
                Err(error) => {
                    // Noted again, to be tried at the next call.
                    for (space, id) in std::iter::once((space, id)).chain(changed) {
                        self.observed.item_changed(&space, id);
                    }
                    return Err(error);
                }
            };
            for (list, window) in self.observed.feeds.iter_mut().filter(|(_, window)| window.space == space) {
                let diff = match window.place(&item) {
                    Some(Ok(index)) if window.items[index] == item => continue,
                    Some(Ok(index)) => {
                        window.items[index] = item.clone();
                        VectorDiff::Set { index, value: item.clone() }
                    }
                    Some(Err(index)) => {
                        window.items.insert(index, item.clone());
                        VectorDiff::Insert { index, value: item.clone() }
                    }
                    None => continue,
                };
                match self.observed.ready.back_mut() {
                    Some(ListUpdate::Feed { list: last, diffs }) if last == list => diffs.push(diff),
                    _ => self.observed.ready.push_back(ListUpdate::Feed { list: *list, diffs: vec![diff] }),
                }
            }
        }
        let committed = self.observed.spaces_stale.swap(false, Ordering::Relaxed);
        for space in std::mem::take(&mut self.observed.libraries_changed) {
            let library = self.library(&space)?;
            for (list, window) in self.observed.folders.iter_mut().filter(|(_, window)| window.space == space) {
                let now = library.children(window.folder);
                // Shown by name: a renamed item leaves its place and takes another.
                let diffs = diff_sorted(&window.nodes, &now, |node| (node.name.clone(), node.id));
                window.nodes = now;
                if !diffs.is_empty() {
                    self.observed.ready.push_back(ListUpdate::Folder { list: *list, diffs });
                }
            }
        }
        if committed && !self.observed.requests.is_empty() {
            let lists: Vec<(ListId, GroupId)> =
                self.observed.requests.iter().map(|(list, window)| (*list, window.space)).collect();
            for (list, space) in lists {
                // A space this device left has no requests to show.
                let now = self.join_requests(&space).unwrap_or_default();
                let Some(window) = self.observed.requests.get_mut(&list) else { continue };
                let diffs = diff_keyed(&window.requests, &now, |request| request.identity);
                window.requests = now;
                if !diffs.is_empty() {
                    self.observed.ready.push_back(ListUpdate::JoinRequests { list, diffs });
                }
            }
        }
        if committed && !self.observed.spaces.is_empty() {
            let now = self.spaces();
            for (list, shown) in &mut self.observed.spaces {
                let diffs = diff_sorted(shown, &now, |space| space.id);
                if !diffs.is_empty() {
                    shown.clone_from(&now);
                    self.observed.ready.push_back(ListUpdate::Spaces { list: *list, diffs });
                }
            }
        }
        let stale: Vec<(ListId, GroupId, u64)> = self
            .observed
            .members
            .iter()
            .filter_map(|(list, window)| {
                let epoch = self.spaces.get(&window.space)?.group.epoch().as_u64();
                (epoch != window.epoch).then_some((*list, window.space, epoch))
            })
            .collect();
        for (list, space, epoch) in stale {
            let now = self.members(&space)?;
            let Some(window) = self.observed.members.get_mut(&list) else { continue };
            let diffs = diff_sorted(&window.members, &now, |member| member.identity);
            window.epoch = epoch;
            window.members = now;
            if !diffs.is_empty() {
                self.observed.ready.push_back(ListUpdate::Members { list, diffs });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(position: u64) -> FeedItem {
        FeedItem {
            id: ContentId::from_bytes([position as u8; 16]),
            author: IdentityPublicKey::from_bytes([0; 32]),
            author_name: String::new(),
            created_at: 0,
            parent: None,
            text: String::new(),
            edited: false,
            deleted: false,
            reactions: BTreeMap::new(),
            position,
            moderated_by: None,
            waiting: false,
        }
    }

    #[test]
    fn an_item_finds_its_place_in_a_window_newest_first() {
        let window = FeedWindow {
            space: GroupId::from_bytes([0; 16]),
            items: vec![item(30), item(20), item(10)],
            exhausted: false,
        };
        assert_eq!(window.place(&item(20)), Some(Ok(1)));
        assert_eq!(window.place(&item(40)), Some(Err(0)));
        assert_eq!(window.place(&item(15)), Some(Err(2)));
        // Older than the oldest loaded: it comes with the page that holds it.
        assert_eq!(window.place(&item(5)), None);
        let whole = FeedWindow { exhausted: true, ..window };
        assert_eq!(whole.place(&item(5)), Some(Err(3)));
    }
}
