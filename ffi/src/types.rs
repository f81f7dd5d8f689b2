//! The records and enums that cross the boundary, and their conversions from the
//! engine's types. Ids cross as lowercase hex (the engine's own `Display`), so the
//! foreign side can keep, compare and print them without a type of its own.

use huisclos_core::contacts::Contact as CoreContact;
use huisclos_core::engine::{
    FeedItem as CoreFeedItem, JoinRequestSummary, MemberSummary, SpaceSummary as CoreSpaceSummary,
};
use huisclos_core::identity::{DeviceCertificate, IdentityPublicKey};
use huisclos_core::library::{Library, NodeKind as CoreNodeKind, NodeView};
use huisclos_core::space::{HistoryMode, Policy as CorePolicy, Role as CoreRole};
use huisclos_protocol::ids::{AccountId, ContentId, DeviceId, GroupId};

use crate::error::{HuisClosError, Result};

/// Reads a full-length hex id.
pub(crate) fn bytes<const N: usize>(text: &str, what: &str) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text.trim(), &mut out)
        .map_err(|_| HuisClosError::invalid(format!("not a {what} id: expected {} hex digits", N * 2)))?;
    Ok(out)
}

pub(crate) fn space_id(text: &str) -> Result<GroupId> {
    Ok(GroupId::from_bytes(bytes(text, "space")?))
}

pub(crate) fn content_id(text: &str) -> Result<ContentId> {
    Ok(ContentId::from_bytes(bytes(text, "item")?))
}

pub(crate) fn node_id(text: &str) -> Result<huisclos_core::library::NodeId> {
    Ok(huisclos_core::library::NodeId::from_bytes(bytes(text, "library item")?))
}

pub(crate) fn person(text: &str) -> Result<IdentityPublicKey> {
    Ok(IdentityPublicKey::from_bytes(bytes(text, "person")?))
}

pub(crate) fn device_id(text: &str) -> Result<DeviceId> {
    Ok(DeviceId::from_bytes(bytes(text, "device")?))
}

pub(crate) fn account_id(text: &str) -> Result<AccountId> {
    Ok(AccountId::from_bytes(bytes(text, "account")?))
}

/// Who may join a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Policy {
    /// Any member of the network may join; any member may invite.
    Open,
    /// People ask to join and a space manager approves.
    OnRequest,
    /// Invitation by a space manager only.
    Confidential,
}

impl From<Policy> for CorePolicy {
    fn from(policy: Policy) -> Self {
        match policy {
            Policy::Open => Self::Open,
            Policy::OnRequest => Self::OnRequest,
            Policy::Confidential => Self::Confidential,
        }
    }
}

impl From<CorePolicy> for Policy {
    fn from(policy: CorePolicy) -> Self {
        match policy {
            CorePolicy::Open => Self::Open,
            CorePolicy::OnRequest => Self::OnRequest,
            CorePolicy::Confidential => Self::Confidential,
        }
    }
}

/// What a member may do; each role may do all the earlier ones may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Role {
    /// Reads.
    Reader,
    /// Posts, comments, reacts; edits and deletes their own content.
    Contributor,
    /// Also edits and deletes anyone's content.
    ContentManager,
    /// Also invites, removes, changes roles, renames and describes the space.
    SpaceManager,
}

impl From<Role> for CoreRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Reader => Self::Reader,
            Role::Contributor => Self::Contributor,
            Role::ContentManager => Self::ContentManager,
            Role::SpaceManager => Self::SpaceManager,
        }
    }
}

impl From<CoreRole> for Role {
    fn from(role: CoreRole) -> Self {
        match role {
            CoreRole::Reader => Self::Reader,
            CoreRole::Contributor => Self::Contributor,
            CoreRole::ContentManager => Self::ContentManager,
            CoreRole::SpaceManager => Self::SpaceManager,
        }
    }
}

/// This device's own profile.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Me {
    /// The person's display name.
    pub name: String,
    /// Their identity key (hex).
    pub identity: String,
    /// This device (hex).
    pub device: String,
    /// The relay account, once the invitation was redeemed (hex).
    pub account: Option<String>,
    /// Whether this device holds the identity key (it created the identity, or was
    /// restored from the recovery words): only such a device links and revokes
    /// devices and shows the recovery words.
    pub holds_identity_key: bool,
}

/// A space as listed.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SpaceSummary {
    /// Its id (hex).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Who may join.
    pub policy: Policy,
    /// Whether later members read earlier content.
    pub keeps_history: bool,
    /// This person's role.
    pub my_role: Role,
    /// Items from others not yet marked read.
    pub unread: u32,
    /// Whether this device was removed or left.
    pub removed: bool,
    /// Whether a forbidden commit stopped it here (a space manager may recreate it).
    pub stalled: bool,
    /// The space that continues it, once recreated (hex).
    pub replaced_by: Option<String>,
    /// Whether new posts stay silent.
    pub muted: bool,
    /// Whether it is an invitation not accepted yet.
    pub invited: bool,
    /// When its newest item was written (Unix seconds), if it has any.
    pub last_activity: Option<u64>,
}

impl From<CoreSpaceSummary> for SpaceSummary {
    fn from(s: CoreSpaceSummary) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            description: s.description,
            policy: s.policy.into(),
            keeps_history: s.history == HistoryMode::Keep,
            my_role: s.my_role.into(),
            unread: s.unread,
            removed: s.removed,
            stalled: s.stalled,
            replaced_by: s.replaced_by.map(|g| g.to_string()),
            muted: s.muted,
            invited: !s.accepted,
            last_activity: s.last_activity,
        }
    }
}

/// A member of a space.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Member {
    /// Their identity key (hex).
    pub identity: String,
    /// Their display name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their devices in the space (hex).
    pub devices: Vec<String>,
}

impl From<MemberSummary> for Member {
    fn from(m: MemberSummary) -> Self {
        Self {
            identity: hex::encode(m.identity.as_bytes()),
            name: m.name,
            role: m.role.into(),
            devices: m.devices.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A request to join, waiting for a space manager.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct JoinRequest {
    /// Who asks (hex identity key).
    pub identity: String,
    /// Their name.
    pub name: String,
    /// What they wrote.
    pub note: String,
    /// When they asked, by their clock (Unix seconds).
    pub asked_at: u64,
    /// How many devices they would bring.
    pub devices: u32,
}

impl From<JoinRequestSummary> for JoinRequest {
    fn from(r: JoinRequestSummary) -> Self {
        Self {
            identity: hex::encode(r.identity.as_bytes()),
            name: r.name,
            note: r.note,
            asked_at: r.asked_at,
            devices: u32::try_from(r.devices).unwrap_or(u32::MAX),
        }
    }
}

/// One reaction on an item.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Reaction {
    /// The reaction (an emoji or a short word).
    pub reaction: String,
    /// Who gave it (hex identity keys).
    pub by: Vec<String>,
}

/// One post or comment of a space's feed.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FeedItem {
    /// Its id (hex).
    pub id: String,
    /// The author's identity key (hex).
    pub author: String,
    /// The author's name, from their certificate.
    pub author_name: String,
    /// When written, by the author's clock (Unix seconds).
    pub created_at: u64,
    /// The item answered, for comments (hex).
    pub parent: Option<String>,
    /// The current text (empty once deleted).
    pub text: String,
    /// Whether it was edited.
    pub edited: bool,
    /// Whether it was deleted.
    pub deleted: bool,
    /// Reactions, and who gave them.
    pub reactions: Vec<Reaction>,
    /// The content manager who replaced the text or removed the item, by name: the
    /// text is then theirs, and must be shown as theirs, not the author's.
    pub moderated_by: Option<String>,
    /// That content manager's identity key (hex).
    pub moderator: Option<String>,
    /// Its position in this device's feed (arrival order): the cursor of the next page.
    pub position: u64,
    /// Whether something this device wrote (the item, or an edit, deletion or reaction
    /// to it) still waits to reach the relay: show it as waiting to be sent.
    pub waiting: bool,
}

impl From<CoreFeedItem> for FeedItem {
    fn from(i: CoreFeedItem) -> Self {
        Self {
            id: i.id.to_string(),
            author: hex::encode(i.author.as_bytes()),
            author_name: i.author_name,
            created_at: i.created_at,
            parent: i.parent.map(|p| p.to_string()),
            text: i.text,
            edited: i.edited,
            deleted: i.deleted,
            reactions: i
                .reactions
                .into_iter()
                .map(|(reaction, by)| Reaction { reaction, by: by.iter().map(|p| hex::encode(p.as_bytes())).collect() })
                .collect(),
            moderator: i.moderated_by.as_ref().map(|m| hex::encode(m.identity.as_bytes())),
            moderated_by: i.moderated_by.map(|m| m.name),
            position: i.position,
            waiting: i.waiting,
        }
    }
}

/// What a library item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum NodeKind {
    /// Holds other items.
    Folder,
    /// A file with versions.
    File,
    /// A markdown note.
    Note,
}

impl From<CoreNodeKind> for NodeKind {
    fn from(kind: CoreNodeKind) -> Self {
        match kind {
            CoreNodeKind::Folder => Self::Folder,
            CoreNodeKind::File => Self::File,
            CoreNodeKind::Note => Self::Note,
        }
    }
}

/// One item of a space's library.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LibraryNode {
    /// Its id (hex).
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
    /// Its name.
    pub name: String,
    /// Its folder (hex; none at the top).
    pub parent: Option<String>,
    /// Whether it is in the trash.
    pub trashed: bool,
    /// For files: the newest version's length in bytes.
    pub length: Option<u64>,
    /// For files: how many versions it has.
    pub versions: u32,
    /// Who created it (hex identity key).
    pub created_by: String,
}

impl From<NodeView> for LibraryNode {
    fn from(v: NodeView) -> Self {
        Self {
            id: hex::encode(v.id),
            kind: v.kind.into(),
            name: v.name,
            parent: v.parent.map(hex::encode),
            trashed: v.trashed,
            length: v.length,
            versions: u32::try_from(v.versions).unwrap_or(u32::MAX),
            created_by: hex::encode(v.created_by.as_bytes()),
        }
    }
}

/// Every item of a library: folders before their contents, then the trash.
pub(crate) fn library_nodes(library: &Library) -> Vec<LibraryNode> {
    let mut out = Vec::new();
    let mut folders = vec![None];
    while let Some(folder) = folders.pop() {
        for view in library.children(folder) {
            if view.kind == CoreNodeKind::Folder {
                folders.push(Some(view.id));
            }
            out.push(view.into());
        }
    }
    out.extend(library.trash().into_iter().map(LibraryNode::from));
    out
}

/// One version of a file.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FileVersion {
    /// Its position, counted from the oldest (to download it).
    pub index: u32,
    /// Who uploaded it (hex identity key).
    pub author: String,
    /// When, by the author's clock (Unix seconds).
    pub at: u64,
    /// Its length in bytes.
    pub length: u64,
}

/// A person met in a space.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Contact {
    /// Their relay account (hex).
    pub account: String,
    /// The identity key held for them (hex).
    pub identity: String,
    /// Their name.
    pub name: String,
    /// Whether safety numbers were compared (or a code scanned).
    pub verified: bool,
    /// Another identity key shown for the same account, waiting for a decision (hex).
    pub changed_to: Option<String>,
}

impl From<CoreContact> for Contact {
    fn from(c: CoreContact) -> Self {
        Self {
            account: c.account.to_string(),
            identity: hex::encode(c.identity.as_bytes()),
            name: c.name,
            verified: c.verified,
            changed_to: c.changed_to.map(|k| hex::encode(k.as_bytes())),
        }
    }
}

/// One of this person's devices.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Device {
    /// Its id (hex).
    pub id: String,
    /// The name on its certificate.
    pub name: String,
    /// When it was certified (Unix seconds).
    pub created_at: u64,
    /// Whether it is this device.
    pub this_device: bool,
}

impl Device {
    pub(crate) fn from_certificate(certificate: &DeviceCertificate, this_device: &DeviceId) -> Self {
        Self {
            id: certificate.body.device.to_string(),
            name: certificate.body.name.to_string(),
            created_at: certificate.body.created_at.get(),
            this_device: certificate.body.device == *this_device,
        }
    }
}

/// The result of scanning a contact's verification code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Verification {
    /// The codes match: the contact is now verified.
    Verified,
    /// They do not match: someone may be in between.
    Mismatch,
}

/// Which way a file moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Direction {
    /// From this device to the relay.
    Upload,
    /// From the relay to this device.
    Download,
}

/// How the connection reaches the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Transport {
    /// QUIC over UDP.
    Quic,
    /// TLS over TCP (when UDP is blocked).
    Tcp,
}

/// Why a notification is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum NotificationKind {
    /// A new post in a space that is not muted.
    Post,
    /// A comment answering one of this person's items.
    Reply,
    /// A reaction to one of this person's items.
    Reaction,
}

/// What a sync did.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SyncOutcome {
    /// How the relay was reached (none when a watching connection did the work).
    pub transport: Option<Transport>,
    /// Items still waiting to be sent.
    pub outbox: u64,
    /// Uploads not finished.
    pub uploads: u32,
    /// Downloads not finished.
    pub downloads: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_full_length_lowercase_or_uppercase_hex_and_nothing_else() {
        let id = "00112233445566778899aabbccddeeff";
        assert_eq!(space_id(id).map(|g| g.to_string()).ok().as_deref(), Some(id));
        assert_eq!(space_id(&id.to_uppercase()).map(|g| g.to_string()).ok().as_deref(), Some(id));
        for bad in
            ["", "0011", &format!("{id}00"), "zz112233445566778899aabbccddeeff", "0x112233445566778899aabbccddeeff"]
        {
            match space_id(bad) {
                Err(HuisClosError::Invalid { reason }) => assert!(reason.contains("space")),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert!(matches!(person(id), Err(HuisClosError::Invalid { .. })), "a person is 32 bytes");
    }
}

/// Another person's device in a note now.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NotePeer {
    /// The person's identity key (hex).
    pub identity: String,
    /// Their display name.
    pub name: String,
    /// Where their selection starts, in UTF-16 code units of the text as this device
    /// holds it; none when they show no cursor (or it is in text not merged here yet).
    pub anchor: Option<u32>,
    /// Where their caret is (equal to `anchor` for a caret without a selection).
    pub head: Option<u32>,
}

/// One edit of a note's text, in UTF-16 code units (as JavaScript, Kotlin and Yjs
/// count): delete `delete` units at `at`, then insert `insert` there.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NoteTextEdit {
    /// Where.
    pub at: u32,
    /// How many units to delete.
    pub delete: u32,
    /// What to insert.
    pub insert: String,
}

/// A named version of a note.
#[derive(Debug, Clone, uniffi::Record)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NoteVersionInfo {
    /// Its id (hex), to read or restore it by.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Who named it: their identity key (hex).
    pub author: String,
    /// Their name.
    pub author_name: String,
    /// When, by their clock (Unix seconds).
    pub created_at: u64,
    /// The text's length then, in UTF-16 units.
    pub units: u32,
}
