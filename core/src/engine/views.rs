//! What the engine tells its apps: the events it queues ([`ClientEvent`]), with the
//! refusals and warnings in them as typed reasons (never sentences: each client
//! translates them), and the views it answers queries with (feed items, spaces,
//! members, join requests).

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// Something the user should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// This device is logged in at the relay.
    Online,
    /// The account was created with the invitation.
    AccountCreated(AccountId),
    /// An invitation to a space arrived; accept it with [`Engine::accept_invitation`].
    Invited {
        /// The space.
        space: GroupId,
        /// Its name.
        name: String,
        /// Who invited.
        by: String,
    },
    /// This device is now a member of the space.
    Joined(GroupId),
    /// The space's members or rules changed.
    SpaceChanged(GroupId),
    /// This device was removed from the space.
    RemovedFromSpace(GroupId),
    /// The space's library changed.
    LibraryChanged(GroupId),
    /// Others' edits were merged into a note's text (this device's own, made through
    /// `edit_note`, raise none).
    NoteChanged {
        /// The space.
        space: GroupId,
        /// The note.
        note: crate::library::NodeId,
        /// For the note this device shows (`show_in_note`), what changed, in UTF-16
        /// units, each edit at its offset in the text the previous one left: applied in
        /// order to the text as this device had it just before (what it read, with its
        /// own edits since), they give the text now, so an editor applies them and
        /// keeps its caret. `None` for any other note: read its text again. An editor
        /// that handed edits to the engine after this event was raised reads the text
        /// again too (the edits do not know of them).
        edits: Option<Vec<crate::note::TextEdit>>,
    },
    /// A version of a note was named (by anyone, this device included).
    NoteVersionsChanged {
        /// The space.
        space: GroupId,
        /// The note.
        note: crate::library::NodeId,
    },
    /// Who is in a note, or where their cursor is, changed.
    PresenceChanged {
        /// The space.
        space: GroupId,
        /// The note.
        note: crate::library::NodeId,
    },
    /// A file transfer moved on.
    Transfer {
        /// The space.
        space: GroupId,
        /// The file.
        node: crate::library::NodeId,
        /// Up or down.
        direction: Direction,
        /// Bytes of the file done.
        done: u64,
        /// Bytes in all.
        total: u64,
        /// Whether it is finished.
        finished: bool,
    },
    /// A space manager recreated a stalled space, without whoever stalled it; this
    /// device is in the new one.
    Recreated {
        /// The stalled space (its feed stays readable here).
        stalled: GroupId,
        /// The space that continues it.
        successor: GroupId,
    },
    /// A new or changed item.
    Content {
        /// The space.
        space: GroupId,
        /// The item.
        item: ContentId,
    },
    /// Something in a space that deserves the person's attention now (a phone shows it
    /// as a notification): decided on the device, never by the relay.
    Notify {
        /// The space.
        space: GroupId,
        /// The new item (the comment, or the item reacted to).
        item: ContentId,
        /// Why.
        kind: NotificationKind,
        /// Who, by the name on their certificate.
        from: String,
    },
    /// An outbox item reached the relay.
    Delivered(ContentId),
    /// An invitation's Welcome could not be left in the invitee's inbox yet (it is
    /// full, or this account's quota is spent); it is kept and sent again later.
    DeliveryWaiting {
        /// The space.
        space: GroupId,
        /// Why.
        reason: DeliveryDelay,
    },
    /// Something from the relay or a member was refused; it was not applied.
    Rejected {
        /// The space, if known.
        space: Option<GroupId>,
        /// Why (never content or keys).
        reason: Rejection,
    },
    /// Someone asked to join a space through a card this device issued.
    JoinRequested {
        /// The space.
        space: GroupId,
        /// Who asks, by the name on their certificate.
        name: String,
        /// Their identity key (to approve or decline with).
        identity: IdentityPublicKey,
        /// Whether they were admitted at once (an open space); otherwise the request
        /// waits for [`Engine::approve_request`] or [`Engine::decline_request`].
        admitted: bool,
    },
    /// A known person's account shows another identity key than the one held. The new
    /// key is not trusted for invitations until [`Engine::accept_identity_change`].
    IdentityChanged {
        /// The account.
        account: AccountId,
        /// The person's name as known.
        name: String,
        /// The key held until now.
        previous: IdentityPublicKey,
        /// The key now shown.
        current: IdentityPublicKey,
        /// Whether the key held until now had been verified.
        was_verified: bool,
    },
    /// A member's new device joined a space: it reads everything from now on.
    DeviceAdded {
        /// The space.
        space: GroupId,
        /// The person.
        identity: IdentityPublicKey,
        /// Their name, from the device's certificate.
        name: String,
        /// The device.
        device: DeviceId,
    },
    /// A person replaced their identity key, with a transition signed by the old one
    /// (after a recovery, or when a device that held it was lost). They are unverified
    /// until safety numbers are compared again.
    IdentityRotated {
        /// Their account (a restored identity has a new one).
        account: AccountId,
        /// Their name.
        name: String,
        /// The key replaced.
        previous: IdentityPublicKey,
        /// The new key.
        current: IdentityPublicKey,
    },
    /// A security-relevant fact the user must see: a changed identity key, a stalled
    /// space, a forged item.
    SecurityWarning {
        /// The space, if any.
        space: Option<GroupId>,
        /// What happened.
        warning: SecurityWarning,
    },
}

/// Something from the relay or a member this device refused, or work it dropped: what
/// a client translates and shows. Names in it are data (a person's name as their
/// certificate gives it), never sentences.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// An answer's step failed; nothing of it was kept.
    #[error("a step failed: {0}")]
    StepFailed(Fault),
    /// Signing in could not start.
    #[error("could not sign in: {0}")]
    SignInFailed(Fault),
    /// A request could not be prepared.
    #[error("could not prepare a request: {0}")]
    RequestNotPrepared(Fault),
    /// An invitation received was refused.
    #[error("an invitation was refused: {0}")]
    InvitationRefused(Fault),
    /// A log entry of a space was refused.
    #[error("log entry {position} refused: {fault}")]
    LogEntry {
        /// Its position in the log.
        position: u64,
        /// Why.
        fault: Fault,
    },
    /// A content record of a space was refused.
    #[error("content record {seq} refused: {fault}")]
    ContentRecord {
        /// Its sequence number.
        seq: u64,
        /// Why.
        fault: Fault,
    },
    /// None of an invitee's devices had a usable key package.
    #[error("the invitation failed: none of the person's devices has a usable key package")]
    NoUsableKeyPackage,
    /// An invitation could not be delivered to one of the invitee's devices.
    #[error("an invitation could not be delivered to one device: {0}")]
    DeliveryFailed(Fault),
    /// A request to join could not be delivered.
    #[error("the request to join could not be delivered: {0}")]
    JoinRequestUndelivered(Fault),
    /// An upload was dropped: this device can no longer write in the space.
    #[error("an upload was dropped: this device can no longer write in the space")]
    UploadDropped,
    /// A download was dropped: this device is no longer in the space.
    #[error("a download was dropped: this device is no longer in the space")]
    DownloadDropped,
    /// An unsent item was dropped: this device is no longer in the space.
    #[error("an unsent item was dropped: this device is no longer in the space")]
    UnsentItemDropped,
    /// A queued operation was dropped.
    #[error("an operation was dropped: {0}")]
    OperationDropped(Fault),
}

impl Rejection {
    /// The kind of failure behind the refusal, when there is one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Self::StepFailed(fault)
            | Self::SignInFailed(fault)
            | Self::RequestNotPrepared(fault)
            | Self::InvitationRefused(fault)
            | Self::DeliveryFailed(fault)
            | Self::JoinRequestUndelivered(fault)
            | Self::OperationDropped(fault)
            | Self::LogEntry { fault, .. }
            | Self::ContentRecord { fault, .. } => Some(fault),
            Self::NoUsableKeyPackage | Self::UploadDropped | Self::DownloadDropped | Self::UnsentItemDropped => None,
        }
    }
}

/// Something that may mean an attack, by the relay or a member: what a client
/// translates and shows prominently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecurityWarning {
    /// This person's identity key was replaced, and this device was left out.
    #[error("this person's identity key was replaced, and this device was left out: it was revoked")]
    RevokedByNewIdentity,
    /// Another device of this person revoked this device.
    #[error("another device of this person revoked this device")]
    RevokedByOwnDevice,
    /// Two different device lists of one person under the same version.
    #[error(
        "two different device lists of one person under the same version: their identity key may be in other hands"
    )]
    ConflictingRosters,
    /// The relay says the space moved on but serves no commit that leads there.
    #[error(
        "the relay says this space moved on but serves no commit that leads there: it may be withholding the space's changes from this device"
    )]
    CommitsWithheld,
    /// The relay refused this device's access to the space's log.
    #[error("the relay refused this device's access to the space's log")]
    LogAccessRefused,
    /// The relay skipped log entries.
    #[error("the relay skipped log entries {first} to {last}: messages may have been withheld")]
    LogEntriesSkipped {
        /// The first skipped.
        first: u64,
        /// The last skipped.
        last: u64,
    },
    /// The relay skipped content records.
    #[error("the relay skipped content records {first} to {last}: items may have been withheld")]
    ContentRecordsSkipped {
        /// The first skipped.
        first: u64,
        /// The last skipped.
        last: u64,
    },
    /// A member handed this device a history that does not match the ledger.
    #[error("{from} handed this device a history that does not match the space's ledger ({fault}); it was refused")]
    HistoryGrantRefused {
        /// Who, by the name on their certificate.
        from: String,
        /// Why.
        fault: Fault,
    },
    /// A member made a change their role does not allow; the relay accepted it, so the
    /// space is stalled until a space manager recreates it without them.
    #[error(
        "{by} made a change their role does not allow ({fault}); it was refused, and the space is stalled until a space manager recreates it without them"
    )]
    StalledBy {
        /// Who, by the name on their certificate.
        by: String,
        /// Why it was refused.
        fault: Fault,
    },
    /// A change no device can apply was accepted by the relay: the space is stalled
    /// until a space manager recreates it.
    #[error(
        "a change no device can apply was accepted by the relay ({fault}); the space is stalled until a space manager recreates it"
    )]
    Stalled {
        /// Why it was refused.
        fault: Fault,
    },
    /// An item claimed another author than its sender.
    #[error("an item claimed another author than its sender; it was refused")]
    AuthorNotSender,
    /// A member sent a second version of text of a note this device holds (other
    /// text, or typed elsewhere, under the same ids): this device keeps the first,
    /// while a device that reads the note later, if the first is gone from the relay,
    /// shows the second.
    #[error(
        "{by} sent a second version of text they wrote in a note; this device keeps the first, but someone who reads the note later may see the second"
    )]
    NoteContradicted {
        /// Who, by the name on their certificate.
        by: String,
        /// The note.
        note: crate::library::NodeId,
    },
    /// The relay answered a claim with a device that was not asked for.
    #[error("the relay answered a claim with a device that was not asked for")]
    UnaskedDevice,
    /// The relay served a key package that is not the invited person's device.
    #[error("the relay served a key package that is not the invited person's device: {0}")]
    ForeignKeyPackage(Fault),
}

/// Why an invitation's Welcome waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryDelay {
    /// This account's storage at the relay is full.
    #[error(
        "an invitation could not be delivered yet (this account's storage at the relay is full); it will be sent again"
    )]
    QuotaFull,
    /// The invitee's inbox at the relay is full.
    #[error(
        "an invitation could not be delivered yet (the invitee's inbox at the relay is full); it will be sent again"
    )]
    InboxFull,
}

/// Why a notification is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// A new post in a space that is not muted.
    Post,
    /// A comment answering one of this person's posts or comments.
    Reply,
    /// A reaction to one of this person's items.
    Reaction,
}

/// One item of a space's feed, as shown. (Stored as the engine's own record, with the
/// same fields as bytes; see the typed store.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The item's id.
    pub id: ContentId,
    /// The author's identity key.
    pub author: IdentityPublicKey,
    /// The author's display name, from their certificate.
    pub author_name: String,
    /// When written, by the author's clock.
    pub created_at: u64,
    /// The post or comment answered, for comments.
    pub parent: Option<ContentId>,
    /// The current text (empty once deleted).
    pub text: String,
    /// Whether it was edited.
    pub edited: bool,
    /// Whether it was deleted.
    pub deleted: bool,
    /// Reactions and who gave them.
    pub reactions: BTreeMap<String, BTreeSet<IdentityPublicKey>>,
    /// Position in this device's feed (arrival order).
    pub position: u64,
    /// Who, other than the author, wrote the current text or deleted the item (a
    /// content manager moderating it): the text is then theirs, not the author's, and
    /// shown as such.
    pub moderated_by: Option<Moderator>,
    /// Whether something this device wrote (the item itself, or an edit, a deletion or
    /// a reaction to it) still waits in the outbox for the relay. Worked out when the
    /// item is read, never stored.
    pub waiting: bool,
}

/// A content manager who changed someone else's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderator {
    /// Their identity key.
    pub identity: IdentityPublicKey,
    /// Their display name, from their certificate.
    pub name: String,
}

/// A space as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceSummary {
    /// The space.
    pub id: GroupId,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Who may join.
    pub policy: Policy,
    /// Whether later members read earlier content.
    pub history: HistoryMode,
    /// This person's role.
    pub my_role: Role,
    /// Items from others not yet marked read.
    pub unread: u32,
    /// The MLS epoch.
    pub epoch: u64,
    /// Whether this device was removed.
    pub removed: bool,
    /// Whether a forbidden commit stopped the space here (see [`Engine::recreate_space`]).
    pub stalled: bool,
    /// The space that continues this one, once recreated.
    pub replaced_by: Option<GroupId>,
    /// Whether new posts stay silent.
    pub muted: bool,
    /// Whether this person accepted the space's invitation: until then the space is an
    /// invitation, shown for them to accept.
    pub accepted: bool,
    /// When the newest item of its feed was written (Unix seconds, by its author's
    /// clock, never later than this device's), if it has any.
    pub last_activity: Option<u64>,
}

/// A member of a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// Their identity key.
    pub identity: IdentityPublicKey,
    /// Their display name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their devices in the space.
    pub devices: Vec<DeviceId>,
}

/// A request to join waiting for a space manager's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequestSummary {
    /// Who asks.
    pub identity: IdentityPublicKey,
    /// Their name, from their newest certificate.
    pub name: String,
    /// What they say about themself.
    pub note: String,
    /// When they asked, by their clock.
    pub asked_at: u64,
    /// How many devices they would bring.
    pub devices: usize,
}

/// Another device in a note now, as [`Engine::note_presence`](super::Engine::note_presence)
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotePeer {
    /// The person.
    pub identity: IdentityPublicKey,
    /// Their display name, from their device certificate.
    pub name: String,
    /// Their selection `(anchor, head)` in UTF-16 units of the text as this device
    /// holds it; `None` if they show none or it is in text not merged here yet.
    pub selection: Option<(u32, u32)>,
}

/// A named version of a note, as every member's device lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVersionView {
    /// The record that named it (to read or restore it by).
    pub id: ContentId,
    /// Its name.
    pub name: String,
    /// Who named it.
    pub author: IdentityPublicKey,
    /// Their name, from their certificate then.
    pub author_name: String,
    /// When, by the author's clock (Unix seconds).
    pub created_at: u64,
    /// The text's length then, in UTF-16 units.
    pub units: u32,
}
