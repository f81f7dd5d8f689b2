//! The typed reasons an error carries across the boundary, so that an app translates
//! them into the person's language instead of showing the library's English. Each
//! mirrors a `#[non_exhaustive]` enum of `huisclos_core::error`; a reason this release
//! does not know crosses as `Other` (the error's `reason` text still says it).

use huisclos_core::error as core;

/// What was looked for and is not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Missing {
    /// A space this device knows.
    Space,
    /// A device certificate.
    Certificate,
    /// A relay: the profile joined none yet.
    Relay,
    /// A person's device roster.
    Roster,
    /// A relay account: the profile has none yet.
    Account,
    /// A request to join.
    JoinRequest,
    /// This device's place in the space.
    OwnLeaf,
    /// A post or comment.
    Item,
    /// A member of the space.
    Member,
    /// A note of the library.
    Note,
    /// A file or one of its versions.
    File,
    /// One of this person's other devices.
    OwnDevice,
    /// A member's device waiting for approval.
    PendingDevice,
    /// A list the app observes.
    ObservedList,
    /// An invitation to a space.
    Invitation,
    /// A grant of history keys.
    Grant,
    /// A person met.
    Contact,
    /// A changed identity key waiting to be accepted.
    IdentityChange,
    /// Something this release does not name.
    Other,
}

impl From<core::Missing> for Missing {
    fn from(missing: core::Missing) -> Self {
        use core::Missing as M;
        match missing {
            M::Space => Self::Space,
            M::Certificate => Self::Certificate,
            M::Relay => Self::Relay,
            M::Roster => Self::Roster,
            M::Account => Self::Account,
            M::JoinRequest => Self::JoinRequest,
            M::OwnLeaf => Self::OwnLeaf,
            M::Item => Self::Item,
            M::Member => Self::Member,
            M::Note => Self::Note,
            M::File => Self::File,
            M::OwnDevice => Self::OwnDevice,
            M::PendingDevice => Self::PendingDevice,
            M::ObservedList => Self::ObservedList,
            M::Invitation => Self::Invitation,
            M::Grant => Self::Grant,
            M::Contact => Self::Contact,
            M::IdentityChange => Self::IdentityChange,
            _ => Self::Other,
        }
    }
}

/// What only a space manager does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ManagerAction {
    /// Invite people.
    Invite,
    /// Add people.
    AddPeople,
    /// Admit people who asked to join.
    Admit,
    /// Re-admit people.
    Readmit,
    /// Remove people.
    Remove,
    /// Rename the space.
    Rename,
    /// Describe the space.
    Describe,
    /// Change the space's rules.
    ChangeRules,
    /// Change roles.
    ChangeRoles,
    /// Decide how devices join.
    DeviceApproval,
    /// Add a device to someone else.
    AddOthersDevice,
    /// Recreate a stalled space.
    Recreate,
    /// Add the members of a recreated space.
    AddRecreatedMembers,
    /// Hand out the space's card.
    HandOutCard,
    /// Something this release does not name.
    Other,
}

impl From<core::ManagerAction> for ManagerAction {
    fn from(action: core::ManagerAction) -> Self {
        use core::ManagerAction as A;
        match action {
            A::Invite => Self::Invite,
            A::AddPeople => Self::AddPeople,
            A::Admit => Self::Admit,
            A::Readmit => Self::Readmit,
            A::Remove => Self::Remove,
            A::Rename => Self::Rename,
            A::Describe => Self::Describe,
            A::ChangeRules => Self::ChangeRules,
            A::ChangeRoles => Self::ChangeRoles,
            A::DeviceApproval => Self::DeviceApproval,
            A::AddOthersDevice => Self::AddOthersDevice,
            A::Recreate => Self::Recreate,
            A::AddRecreatedMembers => Self::AddRecreatedMembers,
            A::HandOutCard => Self::HandOutCard,
            _ => Self::Other,
        }
    }
}

/// Why the space's rules, or this device's standing, refuse an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Refusal {
    /// Only a space manager does this.
    NotSpaceManager {
        /// What.
        action: ManagerAction,
    },
    /// Readers do not post, comment, react or change the library.
    ReaderWrites,
    /// Only the author or a content manager changes an item.
    NotAuthorOrContentManager,
    /// The last space manager names another before leaving.
    LastManagerLeaving,
    /// The space has had as many generations as a space may have.
    GenerationsExhausted,
    /// This device is no longer in the space.
    NoLongerInSpace,
    /// A confidential space takes no requests to join.
    ConfidentialSpace,
    /// The space no longer takes requests to join.
    RequestsClosed,
    /// A space manager approves every new device in this space.
    DeviceApprovalRequired,
    /// Only a person's own devices are added this way.
    OnlyOwnDevices,
    /// Only the device holding the identity key does this.
    NoIdentityKey,
    /// A member's commit broke the space's rules (the kind is in the core's
    /// `Refusal`; an app shows them alike).
    CommitRefused,
    /// Something this release does not name.
    Other,
}

impl From<core::Refusal> for Refusal {
    fn from(refusal: core::Refusal) -> Self {
        use core::Refusal as R;
        match refusal {
            R::NotSpaceManager(action) => Self::NotSpaceManager { action: action.into() },
            R::ReaderWrites => Self::ReaderWrites,
            R::NotAuthorOrContentManager => Self::NotAuthorOrContentManager,
            R::LastManagerLeaving => Self::LastManagerLeaving,
            R::GenerationsExhausted => Self::GenerationsExhausted,
            R::NoLongerInSpace => Self::NoLongerInSpace,
            R::ConfidentialSpace => Self::ConfidentialSpace,
            R::RequestsClosed => Self::RequestsClosed,
            R::DeviceApprovalRequired => Self::DeviceApprovalRequired,
            R::OnlyOwnDevices => Self::OnlyOwnDevices,
            R::NoIdentityKey => Self::NoIdentityKey,
            R::FixedAtCreation(_)
            | R::ContextIncomplete
            | R::UnknownExtension
            | R::LedgerMismatch
            | R::LedgerDropped
            | R::DepartingRoleKept
            | R::UnknownChange
            | R::IdentityChangedInUpdate
            | R::DeviceNotOnRoster => Self::CommitRefused,
            _ => Self::Other,
        }
    }
}

/// What a refusal event is about, for the app to translate (the event's `reason` says
/// it in English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum RejectionKind {
    /// An answer's step failed; nothing of it was kept.
    StepFailed,
    /// Signing in could not start.
    SignInFailed,
    /// A request could not be prepared.
    RequestNotPrepared,
    /// An invitation received was refused.
    InvitationRefused,
    /// A log entry of a space was refused.
    LogEntryRefused,
    /// A content record of a space was refused.
    ContentRecordRefused,
    /// None of an invitee's devices had a usable key package.
    NoUsableKeyPackage,
    /// An invitation could not be delivered to one of the invitee's devices.
    DeliveryFailed,
    /// A request to join could not be delivered.
    JoinRequestUndelivered,
    /// An upload was dropped: this device can no longer write in the space.
    UploadDropped,
    /// A download was dropped: this device is no longer in the space.
    DownloadDropped,
    /// An unsent item was dropped: this device is no longer in the space.
    UnsentItemDropped,
    /// A queued operation was dropped.
    OperationDropped,
    /// Something this release does not name.
    Other,
}

impl From<&huisclos_core::engine::Rejection> for RejectionKind {
    fn from(rejection: &huisclos_core::engine::Rejection) -> Self {
        use huisclos_core::engine::Rejection as R;
        match rejection {
            R::StepFailed(_) => Self::StepFailed,
            R::SignInFailed(_) => Self::SignInFailed,
            R::RequestNotPrepared(_) => Self::RequestNotPrepared,
            R::InvitationRefused(_) => Self::InvitationRefused,
            R::LogEntry { .. } => Self::LogEntryRefused,
            R::ContentRecord { .. } => Self::ContentRecordRefused,
            R::NoUsableKeyPackage => Self::NoUsableKeyPackage,
            R::DeliveryFailed(_) => Self::DeliveryFailed,
            R::JoinRequestUndelivered(_) => Self::JoinRequestUndelivered,
            R::UploadDropped => Self::UploadDropped,
            R::DownloadDropped => Self::DownloadDropped,
            R::UnsentItemDropped => Self::UnsentItemDropped,
            R::OperationDropped(_) => Self::OperationDropped,
            _ => Self::Other,
        }
    }
}

/// What a security warning is about, for the app to translate (the event's `warning`
/// says it in English).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum WarningKind {
    /// This person's identity key was replaced, and this device was left out.
    RevokedByNewIdentity,
    /// Another device of this person revoked this device.
    RevokedByOwnDevice,
    /// Two different device lists of one person under the same version.
    ConflictingRosters,
    /// The relay may be withholding the space's changes.
    CommitsWithheld,
    /// The relay refused this device's access to the space's log.
    LogAccessRefused,
    /// The relay skipped log entries.
    LogEntriesSkipped {
        /// The first skipped.
        first: u64,
        /// The last skipped.
        last: u64,
    },
    /// The relay skipped content records.
    ContentRecordsSkipped {
        /// The first skipped.
        first: u64,
        /// The last skipped.
        last: u64,
    },
    /// A member handed this device a history that does not match the ledger.
    HistoryGrantRefused {
        /// Who, by name.
        from: String,
    },
    /// The space is stalled: a change the rules refuse was accepted by the relay.
    SpaceStalled {
        /// Who made it, by name, when known.
        by: Option<String>,
    },
    /// An item claimed another author than its sender.
    AuthorNotSender,
    /// A member sent a second version of text they wrote in a note: this device keeps
    /// the first; someone who reads the note later may see the second.
    NoteContradicted {
        /// Who, by name.
        by: String,
        /// The note.
        note: Vec<u8>,
    },
    /// The relay answered a claim with a device that was not asked for.
    UnaskedDevice,
    /// The relay served a key package that is not the invited person's device.
    ForeignKeyPackage,
    /// Something this release does not name.
    Other,
}

impl From<&huisclos_core::engine::SecurityWarning> for WarningKind {
    fn from(warning: &huisclos_core::engine::SecurityWarning) -> Self {
        use huisclos_core::engine::SecurityWarning as W;
        match warning {
            W::RevokedByNewIdentity => Self::RevokedByNewIdentity,
            W::RevokedByOwnDevice => Self::RevokedByOwnDevice,
            W::ConflictingRosters => Self::ConflictingRosters,
            W::CommitsWithheld => Self::CommitsWithheld,
            W::LogAccessRefused => Self::LogAccessRefused,
            W::LogEntriesSkipped { first, last } => Self::LogEntriesSkipped { first: *first, last: *last },
            W::ContentRecordsSkipped { first, last } => Self::ContentRecordsSkipped { first: *first, last: *last },
            W::HistoryGrantRefused { from, .. } => Self::HistoryGrantRefused { from: from.clone() },
            W::StalledBy { by, .. } => Self::SpaceStalled { by: Some(by.clone()) },
            W::Stalled { .. } => Self::SpaceStalled { by: None },
            W::AuthorNotSender => Self::AuthorNotSender,
            W::NoteContradicted { by, note } => {
                Self::NoteContradicted { by: by.clone(), note: note.as_bytes().to_vec() }
            }
            W::UnaskedDevice => Self::UnaskedDevice,
            W::ForeignKeyPackage(_) => Self::ForeignKeyPackage,
            _ => Self::Other,
        }
    }
}
