//! A space's library: folders, files and notes, with versions and a trash, that every
//! device computes alike from the same operations, in whatever order it reads them.
//!
//! ## The merge rule
//! Every operation carries a [`Stamp`]: its author's clock, the author's identity key
//! and the operation's random id — a total order every device agrees on. Each node is a
//! set of last-writer-wins registers (name, parent folder, in the trash or not, a note's
//! text): a register takes an operation's value only if the operation's stamp is greater
//! than the stamp of the value it holds. A file's versions are a set: two uploads to one
//! file at the same time are both kept, ordered by stamp; the newest is the file's
//! content. So applying the same operations in any order, with repeats, gives the same
//! library (`operations_in_any_order_converge` checks it). A device dates a new
//! operation after every operation it has seen ([`Library::next_time`]), so a change
//! made after seeing another wins over it: the order people see is the order kept.
//!
//! Two concurrent moves can make folders each other's parent. The library is shown as a
//! tree: a node whose parent chain loops, or whose parent is missing or not a folder,
//! is shown at the top, and a cycle's nodes all are; the registers are not changed, so
//! the rule stays order-free. Trashing a folder takes what it holds out of sight with
//! it; restoring brings it all back.

use std::collections::{BTreeMap, BTreeSet};

use huisclos_protocol::codec::{Reader, Wire, put_varint};
use serde::{Deserialize, Serialize};

use crate::chunk::FileManifest;
use crate::error::{CoreError, InvalidInput, Limit, Result, Unverified};
use crate::space::bounded_text;

/// The most bytes of a node's name.
pub const MAX_NODE_NAME_LEN: usize = 255;
/// The most bytes of a note's text (so that the item, signed and sealed, fits a
/// content record).
pub const MAX_NOTE_LEN: usize = 192 * 1024;
/// The most versions kept per file.
pub const MAX_VERSIONS: usize = 1024;
/// The most nodes a space's library holds.
pub const MAX_NODES: usize = 100_000;
/// How far ahead of a receiving device's clock an operation may be dated: clocks
/// drift, and a device offline for a while dates its operations by its own. An
/// operation dated further ahead is refused, so that nobody wins every later change
/// (or exhausts the clock) by dating theirs in the future.
pub const MAX_CLOCK_SKEW_SECS: u64 = 24 * 3600;

/// A node's id: 16 random bytes chosen by its creator. It travels and is stored as
/// its raw bytes (the same bytes as before it had a type of its own).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct NodeId([u8; 16]);

impl NodeId {
    /// The length in bytes.
    pub const LEN: usize = 16;

    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// A fresh random id, for a node this device creates.
    pub fn random() -> Self {
        use rand_core::{OsRng, RngCore};
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl std::fmt::Debug for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeId({self})")
    }
}

impl AsRef<[u8]> for NodeId {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Wire for NodeId {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self(reader.take_array("node id")?))
    }
}

bounded_text!(
    /// The name of a folder, file or note.
    NodeName, MAX_NODE_NAME_LEN, NodeName = "name", allow_empty = false
);
bounded_text!(
    /// A note's text (markdown).
    NoteText, MAX_NOTE_LEN, Note = "note", allow_empty = true
);

huisclos_protocol::wire_tag_enum!(
    /// What a node is.
    pub enum NodeKind(what = "node kind") {
        /// Holds other nodes.
        Folder = 1,
        /// A file with versions.
        File = 2,
        /// A markdown note.
        Note = 3,
    }
);

huisclos_protocol::wire_struct!(
    /// Creates a node.
    pub struct CreateNode {
        /// Its id.
        pub node: NodeId,
        /// What it is.
        pub kind: NodeKind,
        /// Its name.
        pub name: NodeName,
        /// Its folder (`None`: the top of the library).
        pub parent: Option<NodeId>,
    }
);

huisclos_protocol::wire_struct!(
    /// Renames a node.
    pub struct RenameNode {
        /// The node.
        pub node: NodeId,
        /// The new name.
        pub name: NodeName,
    }
);

huisclos_protocol::wire_struct!(
    /// Moves a node to another folder.
    pub struct MoveNode {
        /// The node.
        pub node: NodeId,
        /// The folder (`None`: the top).
        pub parent: Option<NodeId>,
    }
);

huisclos_protocol::wire_struct!(
    /// Puts a node in the trash.
    pub struct TrashNode {
        /// The node.
        pub node: NodeId,
    }
);

huisclos_protocol::wire_struct!(
    /// Takes a node out of the trash.
    pub struct RestoreNode {
        /// The node.
        pub node: NodeId,
    }
);

huisclos_protocol::wire_struct!(
    /// Writes a note's whole text.
    pub struct WriteNote {
        /// The note.
        pub node: NodeId,
        /// Its text.
        pub text: NoteText,
    }
);

/// Adds a version to a file.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct AddVersion {
    /// The file.
    pub node: NodeId,
    /// The version's manifest (its key included: this travels only sealed).
    pub manifest: FileManifest,
}

impl Wire for AddVersion {
    fn encode(&self, out: &mut Vec<u8>) {
        self.node.encode(out);
        self.manifest.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self { node: Wire::decode(reader)?, manifest: Wire::decode(reader)? })
    }
}

huisclos_protocol::wire_enum!(
    /// One change to a space's library.
    pub enum LibraryOp(what = "library operation") {
        /// A new folder, file or note.
        0x01 => Create(CreateNode),
        /// A new name.
        0x02 => Rename(RenameNode),
        /// Another folder.
        0x03 => Move(MoveNode),
        /// Into the trash.
        0x04 => Trash(TrashNode),
        /// Out of the trash.
        0x05 => Restore(RestoreNode),
        /// A note's new text.
        0x06 => WriteNote(WriteNote),
        /// A file's new version.
        0x07 => AddVersion(AddVersion),
    }
);

impl LibraryOp {
    /// The node it changes.
    pub fn node(&self) -> NodeId {
        match self {
            Self::Create(op) => op.node,
            Self::Rename(op) => op.node,
            Self::Move(op) => op.node,
            Self::Trash(op) => op.node,
            Self::Restore(op) => op.node,
            Self::WriteNote(op) => op.node,
            Self::AddVersion(op) => op.node,
        }
    }
}

/// The total order of operations: the author's clock, then the author, then the
/// operation's id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default, Serialize, Deserialize)]
pub struct Stamp {
    /// When, by the author's clock (seconds).
    pub at: u64,
    /// The author's identity key.
    pub author: [u8; 32],
    /// The operation's id.
    pub op: [u8; 16],
}

/// A last-writer-wins register.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
struct Register<T> {
    value: T,
    stamp: Option<Stamp>,
}

impl<T: Ord> Register<T> {
    /// Keeps the write with the greatest stamp. Two writes with one stamp (a replay,
    /// or an author who reused an id) are settled by their values, so every device
    /// keeps the same one whatever order it read them in.
    fn set(&mut self, value: T, stamp: Stamp) {
        let wins = match self.stamp {
            None => true,
            Some(current) => stamp > current || (stamp == current && value > self.value),
        };
        if wins {
            self.value = value;
            self.stamp = Some(stamp);
        }
    }
}

/// One version of a file. `Debug` leaves out the manifest, which holds the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Who uploaded it, and when (the version's order).
    pub stamp: Stamp,
    /// Its length in bytes.
    pub length: u64,
    /// Its manifest, as wire bytes (holds the key; sealed wherever it is stored).
    manifest: Vec<u8>,
}

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Version").field("stamp", &self.stamp).field("length", &self.length).finish_non_exhaustive()
    }
}

impl Version {
    /// The manifest to fetch and open it with.
    ///
    /// # Errors
    /// [`CoreError::Decode`] if the stored bytes do not decode.
    pub fn manifest(&self) -> Result<FileManifest> {
        Ok(FileManifest::from_wire(&self.manifest)?)
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
struct NodeState {
    /// Set by the node's creation (first stamp wins: ids are random, so only a replay
    /// repeats one).
    kind: Option<(u8, Stamp)>,
    created_by: Option<[u8; 32]>,
    name: Register<String>,
    parent: Register<Option<NodeId>>,
    trashed: Register<bool>,
    note: Register<String>,
    versions: BTreeMap<Stamp, Version>,
}

/// A node as shown.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NodeView {
    /// Its id.
    pub id: NodeId,
    /// What it is.
    pub kind: NodeKind,
    /// Its name.
    pub name: String,
    /// Its folder as shown (`None`: the top).
    pub parent: Option<NodeId>,
    /// Whether it is in the trash.
    pub trashed: bool,
    /// For files: the newest version's length.
    pub length: Option<u64>,
    /// For files: how many versions it has.
    pub versions: usize,
    /// Who created it.
    pub created_by: crate::identity::IdentityPublicKey,
}

/// A space's library.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Library {
    nodes: BTreeMap<NodeId, NodeState>,
    /// The latest time in any stamp applied.
    clock: u64,
}

impl Library {
    /// Applies one operation received at `now` (this device's clock). Applying it
    /// again, or out of order, changes nothing more.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when it is dated more than
    /// [`MAX_CLOCK_SKEW_SECS`] after `now`; [`CoreError::Invalid`] when the library or
    /// a file is full, or a kind does not fit (a note's text on a file).
    pub fn apply(&mut self, stamp: Stamp, op: &LibraryOp, now: u64) -> Result<()> {
        if stamp.at > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return Err(CoreError::Verification(Unverified::Stale));
        }
        let id = op.node();
        if !self.nodes.contains_key(&id) && self.nodes.len() >= MAX_NODES {
            return Err(CoreError::Invalid(InvalidInput::TooMany {
                limit: Limit::LibraryItems,
                max: MAX_NODES as u64,
            }));
        }
        self.clock = self.clock.max(stamp.at);
        let node = self.nodes.entry(id).or_default();
        match op {
            LibraryOp::Create(create) => {
                // The earliest creation sets the kind; one stamp used twice is
                // settled by the kind, so the order of reading does not matter.
                if node.kind.is_none_or(|(kind, first)| (stamp, create.kind as u8) < (first, kind)) {
                    node.kind = Some((create.kind as u8, stamp));
                    node.created_by = Some(stamp.author);
                }
                // A creation is the earliest write of its fields: later renames and
                // moves win over it even if they were read first.
                node.name.set(create.name.as_str().to_owned(), stamp);
                node.parent.set(create.parent, stamp);
            }
            LibraryOp::Rename(rename) => node.name.set(rename.name.as_str().to_owned(), stamp),
            LibraryOp::Move(mv) => node.parent.set(mv.parent, stamp),
            LibraryOp::Trash(_) => node.trashed.set(true, stamp),
            LibraryOp::Restore(_) => node.trashed.set(false, stamp),
            // A note's text or a file's version is kept whatever the node turns out to
            // be (its creation may come later), and shown only on a note or a file: so
            // the outcome does not depend on the order.
            LibraryOp::WriteNote(write) => node.note.set(write.text.as_str().to_owned(), stamp),
            LibraryOp::AddVersion(add) => {
                add.manifest.check()?;
                if !node.versions.contains_key(&stamp) && node.versions.len() >= MAX_VERSIONS {
                    return Err(CoreError::Invalid(InvalidInput::TooMany {
                        limit: Limit::FileVersions,
                        max: MAX_VERSIONS as u64,
                    }));
                }
                let version = Version { stamp, length: add.manifest.length, manifest: add.manifest.to_wire() };
                // One stamp used for two versions keeps the greater manifest, whatever
                // the order they were read in.
                match node.versions.get(&stamp) {
                    Some(kept) if (kept.length, &kept.manifest) >= (version.length, &version.manifest) => {}
                    _ => {
                        node.versions.insert(stamp, version);
                    }
                }
            }
        }
        Ok(())
    }

    fn view(&self, id: &NodeId, shown_parent: Option<NodeId>) -> Option<NodeView> {
        let node = self.nodes.get(id)?;
        let kind = NodeKind::from_wire(&[node.kind?.0]).ok()?;
        let file = kind == NodeKind::File;
        Some(NodeView {
            id: *id,
            kind,
            name: node.name.value.clone(),
            parent: shown_parent,
            trashed: node.trashed.value,
            length: node.versions.values().next_back().filter(|_| file).map(|v| v.length),
            versions: if file { node.versions.len() } else { 0 },
            created_by: crate::identity::IdentityPublicKey::from_bytes(node.created_by.unwrap_or_default()),
        })
    }

    /// The folder a node is shown in: its parent, unless that is missing, not a folder,
    /// or leads back to the node. (What is in a trashed folder stays in it, out of
    /// sight, and comes back with it.)
    fn shown_parent(&self, id: &NodeId) -> Option<NodeId> {
        let parent = self.nodes.get(id)?.parent.value?;
        let parent_node = self.nodes.get(&parent)?;
        if parent_node.kind.is_none_or(|(kind, _)| kind != NodeKind::Folder as u8) {
            return None;
        }
        // Walk up; a loop puts every node on it at the top.
        let mut seen = BTreeSet::from([*id]);
        let mut at = parent;
        loop {
            if !seen.insert(at) {
                return None;
            }
            match self.nodes.get(&at).and_then(|n| n.parent.value) {
                Some(next) => at = next,
                None => return Some(parent),
            }
        }
    }

    /// The time a new operation should carry so that it comes after every operation
    /// this library has seen: `now`, or one more than the latest stamp if a clock was
    /// ahead. An operation made after seeing another then always wins over it, even
    /// within one second or against a clock running fast.
    pub fn next_time(&self, now: u64) -> u64 {
        now.max(self.clock.saturating_add(1))
    }

    /// The node `id`, as shown.
    pub fn node(&self, id: &NodeId) -> Option<NodeView> {
        self.view(id, self.shown_parent(id))
    }

    /// What a folder (`None`: the top) shows, not trashed, by name then id.
    pub fn children(&self, folder: Option<NodeId>) -> Vec<NodeView> {
        let mut children: Vec<NodeView> = self
            .nodes
            .keys()
            .filter_map(|id| {
                let parent = self.shown_parent(id);
                (parent == folder).then(|| self.view(id, parent)).flatten()
            })
            .filter(|view| !view.trashed)
            .collect();
        children.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        children
    }

    /// Everything in the trash.
    pub fn trash(&self) -> Vec<NodeView> {
        self.nodes.keys().filter_map(|id| self.node(id)).filter(|view| view.trashed).collect()
    }

    /// A file's versions, oldest first.
    pub fn versions(&self, file: &NodeId) -> Vec<Version> {
        match self.nodes.get(file) {
            Some(node) if node.kind.is_some_and(|(kind, _)| kind == NodeKind::File as u8) => {
                node.versions.values().cloned().collect()
            }
            _ => Vec::new(),
        }
    }

    /// A note's text.
    pub fn note(&self, note: &NodeId) -> Option<String> {
        let node = self.nodes.get(note)?;
        node.kind.is_some_and(|(kind, _)| kind == NodeKind::Note as u8).then(|| node.note.value.clone())
    }

    /// The whole library, one line per node (`path/of/name kind`), sorted: what two
    /// devices compare to see that they agree.
    pub fn listing(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .nodes
            .keys()
            .filter_map(|id| {
                let view = self.node(id)?;
                let mut path = vec![view.name.clone()];
                let mut at = view.parent;
                while let Some(parent) = at {
                    let parent_view = self.node(&parent)?;
                    path.push(parent_view.name.clone());
                    at = parent_view.parent;
                }
                path.reverse();
                Some(format!(
                    "{}{} {:?} v{}",
                    path.join("/"),
                    if view.trashed { " (trash)" } else { "" },
                    view.kind,
                    view.versions
                ))
            })
            .collect();
        lines.sort();
        lines
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_node_id_is_stored_and_sent_as_the_bytes_it_was_before_it_had_a_type() {
        let raw = [7u8; 16];
        let id = NodeId::from_bytes(raw);
        // At rest (postcard, as the store encodes the library and transfers).
        assert_eq!(postcard::to_allocvec(&id).unwrap(), postcard::to_allocvec(&raw).unwrap());
        assert_eq!(postcard::to_allocvec(&Some(id)).unwrap(), postcard::to_allocvec(&Some(raw)).unwrap());
        let map: BTreeMap<NodeId, u8> = [(id, 1)].into();
        let old: BTreeMap<[u8; 16], u8> = [(raw, 1)].into();
        assert_eq!(postcard::to_allocvec(&map).unwrap(), postcard::to_allocvec(&old).unwrap());
        assert_eq!(postcard::from_bytes::<NodeId>(&postcard::to_allocvec(&raw).unwrap()).unwrap(), id);
        // On the wire.
        assert_eq!(id.to_wire(), raw.to_vec());
    }

    /// The receiving device's clock in these tests: after every stamp they use.
    const NOW: u64 = 1 << 40;

    fn stamp(at: u64, author: u8, op: u8) -> Stamp {
        Stamp { at, author: [author; 32], op: [op; 16] }
    }

    fn create(node: u8, kind: NodeKind, name: &str, parent: Option<u8>) -> LibraryOp {
        LibraryOp::Create(CreateNode {
            node: NodeId::from_bytes([node; 16]),
            kind,
            name: NodeName::new(name).unwrap(),
            parent: parent.map(|p| NodeId::from_bytes([p; 16])),
        })
    }

    fn manifest(length: u64) -> FileManifest {
        crate::chunk::seal_stream(&vec![7u8; length as usize][..], length, |_| Ok(())).unwrap()
    }

    #[test]
    fn concurrent_rename_and_move_converge_and_concurrent_uploads_keep_both() {
        let ops = vec![
            (stamp(1, 1, 1), create(1, NodeKind::Folder, "Evidence", None)),
            (stamp(2, 1, 2), create(2, NodeKind::Folder, "Case 207", None)),
            (stamp(3, 1, 3), create(3, NodeKind::File, "statement.pdf", Some(1))),
            // Two devices, at once: one renames the folder, the other moves it.
            (
                stamp(10, 1, 4),
                LibraryOp::Rename(RenameNode {
                    node: NodeId::from_bytes([1; 16]),
                    name: NodeName::new("Evidence (sealed)").unwrap(),
                }),
            ),
            (
                stamp(10, 2, 5),
                LibraryOp::Move(MoveNode {
                    node: NodeId::from_bytes([1; 16]),
                    parent: Some(NodeId::from_bytes([2; 16])),
                }),
            ),
            // Two uploads to one file.
            (
                stamp(11, 1, 6),
                LibraryOp::AddVersion(AddVersion { node: NodeId::from_bytes([3; 16]), manifest: manifest(10) }),
            ),
            (
                stamp(11, 2, 7),
                LibraryOp::AddVersion(AddVersion { node: NodeId::from_bytes([3; 16]), manifest: manifest(20) }),
            ),
        ];
        let mut forward = Library::default();
        for (s, op) in &ops {
            forward.apply(*s, op, NOW).unwrap();
        }
        let mut backward = Library::default();
        for (s, op) in ops.iter().rev() {
            backward.apply(*s, op, NOW).unwrap();
        }
        assert_eq!(forward.listing(), backward.listing());
        assert_eq!(
            forward.listing(),
            [
                "Case 207 Folder v0",
                "Case 207/Evidence (sealed) Folder v0",
                "Case 207/Evidence (sealed)/statement.pdf File v2"
            ]
        );
        let versions = forward.versions(&NodeId::from_bytes([3; 16]));
        assert_eq!(versions.iter().map(|v| v.length).collect::<Vec<_>>(), [10, 20], "both kept, newest last");
        assert_eq!(forward.node(&NodeId::from_bytes([3; 16])).unwrap().length, Some(20));
    }

    #[test]
    fn a_move_cycle_shows_its_folders_at_the_top_and_trash_hides_without_losing() {
        let mut library = Library::default();
        library.apply(stamp(1, 1, 1), &create(1, NodeKind::Folder, "A", None), NOW).unwrap();
        library.apply(stamp(2, 1, 2), &create(2, NodeKind::Folder, "B", None), NOW).unwrap();
        library
            .apply(
                stamp(5, 1, 3),
                &LibraryOp::Move(MoveNode {
                    node: NodeId::from_bytes([1; 16]),
                    parent: Some(NodeId::from_bytes([2; 16])),
                }),
                NOW,
            )
            .unwrap();
        library
            .apply(
                stamp(5, 2, 4),
                &LibraryOp::Move(MoveNode {
                    node: NodeId::from_bytes([2; 16]),
                    parent: Some(NodeId::from_bytes([1; 16])),
                }),
                NOW,
            )
            .unwrap();
        let top: Vec<String> = library.children(None).into_iter().map(|n| n.name).collect();
        assert_eq!(top, ["A", "B"]);
        library.apply(stamp(6, 1, 5), &LibraryOp::Trash(TrashNode { node: NodeId::from_bytes([1; 16]) }), NOW).unwrap();
        assert_eq!(library.children(None).len(), 1);
        assert_eq!(library.trash().len(), 1);
        library
            .apply(stamp(7, 1, 6), &LibraryOp::Restore(RestoreNode { node: NodeId::from_bytes([1; 16]) }), NOW)
            .unwrap();
        assert_eq!(library.children(None).len(), 2);
        library.apply(stamp(1, 1, 9), &create(9, NodeKind::Note, "Minutes", None), NOW).unwrap();
        library
            .apply(
                stamp(8, 1, 10),
                &LibraryOp::WriteNote(WriteNote {
                    node: NodeId::from_bytes([9; 16]),
                    text: NoteText::new("# Minutes").unwrap(),
                }),
                NOW,
            )
            .unwrap();
        assert_eq!(library.note(&NodeId::from_bytes([9; 16])).as_deref(), Some("# Minutes"));
        let version = LibraryOp::AddVersion(AddVersion { node: NodeId::from_bytes([9; 16]), manifest: manifest(1) });
        library.apply(stamp(9, 1, 11), &version, NOW).unwrap();
        assert!(library.versions(&NodeId::from_bytes([9; 16])).is_empty(), "a note shows no file versions");
    }

    #[test]
    fn a_change_dated_beyond_the_skew_is_refused_and_the_clock_stays_bounded() {
        let mut library = Library::default();
        library.apply(stamp(100, 1, 1), &create(1, NodeKind::Folder, "Evidence", None), 1000).unwrap();
        let far =
            LibraryOp::Rename(RenameNode { node: NodeId::from_bytes([1; 16]), name: NodeName::new("Taken").unwrap() });
        let refused = library.apply(stamp(1000 + MAX_CLOCK_SKEW_SECS + 1, 2, 2), &far, 1000);
        assert!(matches!(refused, Err(CoreError::Verification(_))));
        assert_eq!(library.listing(), ["Evidence Folder v0"]);
        assert_eq!(library.next_time(1000), 1000, "the refused date moved no clock");
        // Within the skew (a fast clock), it applies.
        library.apply(stamp(1000 + MAX_CLOCK_SKEW_SECS, 2, 3), &far, 1000).unwrap();
        assert_eq!(library.listing(), ["Taken Folder v0"]);
    }

    #[test]
    fn a_change_made_after_seeing_another_wins_even_with_a_slow_clock() {
        let mut library = Library::default();
        library.apply(stamp(100, 9, 1), &create(1, NodeKind::Folder, "Evidence", None), NOW).unwrap();
        // This device's clock says 40, behind the creator's: its rename is dated after.
        let at = library.next_time(40);
        assert_eq!(at, 101);
        let rename =
            LibraryOp::Rename(RenameNode { node: NodeId::from_bytes([1; 16]), name: NodeName::new("Sealed").unwrap() });
        library.apply(stamp(at, 1, 2), &rename, NOW).unwrap();
        assert_eq!(library.node(&NodeId::from_bytes([1; 16])).unwrap().name, "Sealed");
        assert_eq!(library.next_time(500), 500, "a clock ahead is used as it is");
    }

    #[test]
    fn one_stamp_used_twice_settles_the_same_way_in_either_order() {
        let rename = |name| {
            LibraryOp::Rename(RenameNode { node: NodeId::from_bytes([1; 16]), name: NodeName::new(name).unwrap() })
        };
        let folder = create(1, NodeKind::Folder, "Evidence", None);
        let note = create(1, NodeKind::Note, "Evidence", None);
        let (first, second) = (stamp(5, 1, 7), stamp(6, 1, 8));
        let mut one = Library::default();
        let mut other = Library::default();
        for (library, order) in [
            (&mut one, [(&folder, &rename("a")), (&note, &rename("b"))]),
            (&mut other, [(&note, &rename("b")), (&folder, &rename("a"))]),
        ] {
            for (creation, renaming) in order {
                library.apply(first, creation, NOW).unwrap();
                library.apply(second, renaming, NOW).unwrap();
            }
        }
        assert_eq!(one.listing(), other.listing());
        assert_eq!(one.listing(), ["b Folder v0"], "the lesser kind and the greater name are kept");
    }

    fn arbitrary_op() -> impl Strategy<Value = (Stamp, LibraryOp)> {
        let node = 0u8..6;
        let stamp = (0u64..8, 0u8..3, any::<u8>()).prop_map(|(at, author, op)| stamp(at, author, op));
        let parent = proptest::option::of(0u8..6);
        let name = prop_oneof![Just("a"), Just("b"), Just("c")];
        let op = prop_oneof![
            (
                node.clone(),
                prop_oneof![Just(NodeKind::Folder), Just(NodeKind::Note), Just(NodeKind::File)],
                name.clone(),
                parent.clone()
            )
                .prop_map(|(n, k, name, p)| create(n, k, name, p)),
            (node.clone(), name).prop_map(|(n, name)| LibraryOp::Rename(RenameNode {
                node: NodeId::from_bytes([n; 16]),
                name: NodeName::new(name).unwrap()
            })),
            (node.clone(), parent).prop_map(|(n, p)| LibraryOp::Move(MoveNode {
                node: NodeId::from_bytes([n; 16]),
                parent: p.map(|p| NodeId::from_bytes([p; 16]))
            })),
            node.clone().prop_map(|n| LibraryOp::Trash(TrashNode { node: NodeId::from_bytes([n; 16]) })),
            node.clone().prop_map(|n| LibraryOp::Restore(RestoreNode { node: NodeId::from_bytes([n; 16]) })),
            (node.clone(), 0u64..3).prop_map(|(n, len)| LibraryOp::AddVersion(AddVersion {
                node: NodeId::from_bytes([n; 16]),
                manifest: manifest(len)
            })),
            node.prop_map(|n| LibraryOp::WriteNote(WriteNote {
                node: NodeId::from_bytes([n; 16]),
                text: NoteText::new("text").unwrap()
            })),
        ];
        (stamp, op)
    }

    proptest! {
        #[test]
        fn operations_in_any_order_converge(
            ops in proptest::collection::vec(arbitrary_op(), 0..40),
            seed in any::<u64>(),
        ) {
            let mut forward = Library::default();
            for (s, op) in &ops {
                let _ = forward.apply(*s, op, NOW);
            }
            // Another device reads them shuffled, some twice.
            let mut shuffled = ops.clone();
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            shuffled.extend(ops.iter().take(3).cloned());
            let mut other = Library::default();
            for (s, op) in &shuffled {
                let _ = other.apply(*s, op, NOW);
            }
            prop_assert_eq!(forward.listing(), other.listing());
            prop_assert_eq!(forward.children(None), other.children(None));
            for n in 0u8..6 {
                prop_assert_eq!(forward.note(&NodeId::from_bytes([n; 16])), other.note(&NodeId::from_bytes([n; 16])));
                prop_assert_eq!(forward.versions(&NodeId::from_bytes([n; 16])), other.versions(&NodeId::from_bytes([n; 16])));
            }
        }
    }
}
