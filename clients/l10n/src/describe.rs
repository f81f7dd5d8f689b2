//! What each typed error, reason and event of the core says: its [`Message`].
//!
//! The core's enums are `#[non_exhaustive]`, so every match here ends with a general
//! message for a reason a later core adds; `tests::every_id_named_here_exists` keeps
//! each id named here present in every language.

use crate::Message;
use huisclos_core::engine::{ClientEvent, DeliveryDelay, NotificationKind, Rejection, SecurityWarning};
use huisclos_core::error::{
    CoreError, Fault, Field, FixedRule, InvalidInput, Limit, ManagerAction, Missing, RecoveryWordsError, Refusal,
    Signed, TextForm, TransportFailure, Unverified,
};
use huisclos_core::history::RecordRefusal;
use huisclos_core::media::StripRefusal;
use huisclos_core::space::{HistoryMode, Policy, Role};
use huisclos_protocol::ids::GroupId;
use huisclos_protocol::messages::RelayError;

/// A typed value that says something to a person: an error, a reason, a role.
pub trait Describe {
    /// What it says, as a message to render in the person's language.
    fn message(&self) -> Message;
}

impl Describe for CoreError {
    fn message(&self) -> Message {
        match self {
            CoreError::WrongPassphrase => Message::new("error-wrong-passphrase"),
            CoreError::NoProfile(dir) => Message::new("error-no-profile").with("dir", dir),
            CoreError::ProfileExists(dir) => Message::new("error-profile-exists").with("dir", dir),
            CoreError::CorruptProfile(damage) => {
                Message::new("error-corrupt-profile").with("detail", damage.to_string())
            }
            CoreError::StoreTampered => Message::new("error-store-tampered"),
            CoreError::Store(failure) => Message::new("error-store").with("detail", failure.to_string()),
            CoreError::Io(error) => Message::new("error-io").with("detail", error.to_string()),
            CoreError::Verification(what) => Message::new("error-verification").with("reason", what.message()),
            CoreError::Forbidden(why) => Message::new("error-forbidden").with("reason", why.message()),
            CoreError::IdentityChanged(name) => Message::new("error-identity-changed").with("name", name),
            CoreError::SpaceStalled => Message::new("error-space-stalled"),
            CoreError::NotFound(what) => Message::new("error-not-found").with("what", what.message()),
            CoreError::Invalid(what) => Message::new("error-invalid").with("reason", what.message()),
            CoreError::Mls(failure) => Message::new("error-mls").with("detail", failure.to_string()),
            CoreError::Decode(error) => Message::new("error-decode").with("detail", error.to_string()),
            CoreError::Relay(error) => Message::new("error-relay").with("reason", error.message()),
            CoreError::Transport(TransportFailure::RelayKeyNotPinned) => Message::new("error-relay-key-not-pinned"),
            CoreError::Transport(failure) => Message::new("error-transport").with("detail", failure.to_string()),
            CoreError::RecoveryWords(why) => Message::new("error-recovery-words").with("reason", why.message()),
            CoreError::Closed => Message::new("error-closed"),
            other => Message::new("error-other").with("detail", other.to_string()),
        }
    }
}

impl Describe for Missing {
    fn message(&self) -> Message {
        Message::new(match self {
            Missing::Space => "missing-space",
            Missing::Certificate => "missing-certificate",
            Missing::Relay => "missing-relay",
            Missing::Roster => "missing-roster",
            Missing::Account => "missing-account",
            Missing::JoinRequest => "missing-join-request",
            Missing::OwnLeaf => "missing-own-leaf",
            Missing::Item => "missing-item",
            Missing::Member => "missing-member",
            Missing::Note => "missing-note",
            Missing::File => "missing-file",
            Missing::OwnDevice => "missing-own-device",
            Missing::PendingDevice => "missing-pending-device",
            Missing::ObservedList => "missing-observed-list",
            Missing::Invitation => "missing-invitation",
            Missing::Grant => "missing-grant",
            Missing::Contact => "missing-contact",
            Missing::IdentityChange => "missing-identity-change",
            _ => "missing-other",
        })
    }
}

impl Describe for ManagerAction {
    fn message(&self) -> Message {
        Message::new(match self {
            ManagerAction::Invite => "refusal-manager-invite",
            ManagerAction::AddPeople => "refusal-manager-add-people",
            ManagerAction::Admit => "refusal-manager-admit",
            ManagerAction::Readmit => "refusal-manager-readmit",
            ManagerAction::Remove => "refusal-manager-remove",
            ManagerAction::Rename => "refusal-manager-rename",
            ManagerAction::Describe => "refusal-manager-describe",
            ManagerAction::ChangeRules => "refusal-manager-change-rules",
            ManagerAction::ChangeRoles => "refusal-manager-change-roles",
            ManagerAction::DeviceApproval => "refusal-manager-device-approval",
            ManagerAction::AddOthersDevice => "refusal-manager-add-others-device",
            ManagerAction::Recreate => "refusal-manager-recreate",
            ManagerAction::AddRecreatedMembers => "refusal-manager-add-recreated-members",
            ManagerAction::HandOutCard => "refusal-manager-hand-out-card",
            _ => "refusal-manager-other",
        })
    }
}

impl Describe for Refusal {
    fn message(&self) -> Message {
        Message::new(match self {
            Refusal::NotSpaceManager(action) => return action.message(),
            Refusal::ReaderWrites => "refusal-reader-writes",
            Refusal::NotTheVersionsAuthor => "refusal-not-the-versions-author",
            Refusal::NotAuthorOrContentManager => "refusal-not-author-or-content-manager",
            Refusal::LastManagerLeaving => "refusal-last-manager-leaving",
            Refusal::GenerationsExhausted => "refusal-generations-exhausted",
            Refusal::NoLongerInSpace => "refusal-no-longer-in-space",
            Refusal::ConfidentialSpace => "refusal-confidential-space",
            Refusal::RequestsClosed => "refusal-requests-closed",
            Refusal::DeviceApprovalRequired => "refusal-device-approval-required",
            Refusal::OnlyOwnDevices => "refusal-only-own-devices",
            Refusal::NoIdentityKey => "refusal-no-identity-key",
            Refusal::FixedAtCreation(FixedRule::HistoryMode) => "refusal-fixed-history-mode",
            Refusal::FixedAtCreation(FixedRule::Continues) => "refusal-fixed-continues",
            Refusal::ContextIncomplete => "refusal-context-incomplete",
            Refusal::UnknownExtension => "refusal-unknown-extension",
            Refusal::LedgerMismatch => "refusal-ledger-mismatch",
            Refusal::LedgerDropped => "refusal-ledger-dropped",
            Refusal::DepartingRoleKept => "refusal-departing-role-kept",
            Refusal::UnknownChange => "refusal-unknown-change",
            Refusal::IdentityChangedInUpdate => "refusal-identity-changed-in-update",
            Refusal::DeviceNotOnRoster => "refusal-device-not-on-roster",
            _ => "refusal-other",
        })
    }
}

impl Describe for Unverified {
    fn message(&self) -> Message {
        Message::new(match self {
            Unverified::Signature(signed) => match signed {
                Signed::DeviceCertificate => "unverified-signature-device-certificate",
                Signed::Content => "unverified-signature-content",
                Signed::Presence => "unverified-signature-presence",
                Signed::ContactCard => "unverified-signature-contact-card",
                Signed::SpaceCard => "unverified-signature-space-card",
                Signed::LinkRequest => "unverified-signature-link-request",
                Signed::JoinRequest => "unverified-signature-join-request",
                Signed::IdentityTransition => "unverified-signature-identity-transition",
                Signed::DeviceReady => "unverified-signature-device-ready",
                _ => "unverified-signature-other",
            },
            Unverified::InvalidKey => "unverified-invalid-key",
            Unverified::WrongSender => "unverified-wrong-sender",
            Unverified::NotOnRoster => "unverified-not-on-roster",
            Unverified::UnknownAuthor => "unverified-unknown-author",
            Unverified::WrongPerson => "unverified-wrong-person",
            Unverified::WrongPlace => "unverified-wrong-place",
            Unverified::DoesNotOpen => "unverified-does-not-open",
            Unverified::Malformed => "unverified-malformed",
            Unverified::Stale => "unverified-stale",
            Unverified::Replay => "unverified-replay",
            Unverified::History => "unverified-history",
            Unverified::Chunk => "unverified-chunk",
            Unverified::NoLinkOffer => "unverified-no-link-offer",
            Unverified::LinkSecretMissing => "unverified-link-secret-missing",
            Unverified::NotALinkOffer => "unverified-not-a-link-offer",
            Unverified::NotALinkRequest => "unverified-not-a-link-request",
            Unverified::OutdatedCard => "unverified-outdated-card",
            Unverified::NoteUpdate(_) => "unverified-note-update",
            Unverified::Record(refusal) => match refusal {
                RecordRefusal::UnknownGeneration => "unverified-record-unknown-generation",
                RecordRefusal::AfterItsGeneration => "unverified-record-after-its-generation",
                RecordRefusal::NotAMember => "unverified-record-not-a-member",
                _ => "unverified-other",
            },
            _ => "unverified-other",
        })
    }
}

impl Describe for InvalidInput {
    fn message(&self) -> Message {
        let id = match self {
            InvalidInput::Text { field, max, may_be_empty } => {
                let id = match field {
                    Field::DisplayName => "invalid-text-display-name",
                    Field::SpaceName => "invalid-text-space-name",
                    Field::SpaceDescription => "invalid-text-space-description",
                    Field::NodeName => "invalid-text-node-name",
                    Field::Note => "invalid-text-note",
                    Field::Text => "invalid-text-text",
                    Field::Reaction => "invalid-text-reaction",
                    Field::JoinNote => "invalid-text-join-note",
                    _ => "invalid-text-other",
                };
                return Message::new(id).with("max", *max).with("may_be_empty", *may_be_empty);
            }
            InvalidInput::TooMany { limit, max } => {
                let id = match limit {
                    Limit::FileBytes => "invalid-too-many-file-bytes",
                    Limit::LibraryItems => "invalid-too-many-library-items",
                    Limit::FileVersions => "invalid-too-many-file-versions",
                    Limit::ExplicitRoles => "invalid-too-many-explicit-roles",
                    Limit::ObservedLists => "invalid-too-many-observed-lists",
                    Limit::PendingJoinRequests => "invalid-too-many-pending-join-requests",
                    Limit::Devices => "invalid-too-many-devices",
                    Limit::Contacts => "invalid-too-many-contacts",
                    Limit::HistoryGenerations => "invalid-too-many-history-generations",
                    Limit::SealedBytes => "invalid-too-many-sealed-bytes",
                    Limit::NoteLength => "invalid-too-many-note-length",
                    Limit::NoteVersions => "invalid-too-many-note-versions",
                    Limit::ChunkOffset => "invalid-too-many-chunk-offset",
                    _ => "invalid-too-many-other",
                };
                return Message::new(id).with("max", *max);
            }
            InvalidInput::NotText(form) => match form {
                TextForm::ContactCard => "invalid-not-text-contact-card",
                TextForm::SpaceCard => "invalid-not-text-space-card",
                TextForm::VerificationCode => "invalid-not-text-verification-code",
                _ => "invalid-not-text-other",
            },
            InvalidInput::UnknownRole => "invalid-unknown-role",
            InvalidInput::PassphraseTooShort { min } => {
                return Message::new("invalid-passphrase-too-short").with("min", *min);
            }
            InvalidInput::PassphraseTooWeak => "invalid-passphrase-too-weak",
            InvalidInput::PassphraseTooLong => "invalid-passphrase-too-long",
            InvalidInput::KdfParams => "invalid-kdf-params",
            InvalidInput::DuressSameAsPassphrase => "invalid-duress-same-as-passphrase",
            InvalidInput::NoDuressInMemory => "invalid-no-duress-in-memory",
            InvalidInput::UnexpectedAnswer => "invalid-unexpected-answer",
            InvalidInput::OwnSignerMismatch => "invalid-own-signer-mismatch",
            InvalidInput::SealingFailed => "invalid-sealing-failed",
            InvalidInput::SealedRecordMalformed => "invalid-sealed-record-malformed",
            InvalidInput::NothingToReadmit => "invalid-nothing-to-readmit",
            InvalidInput::ReadmitSelf => "invalid-readmit-self",
            InvalidInput::AwaitingHistory => "invalid-awaiting-history",
            InvalidInput::NotStalled => "invalid-not-stalled",
            InvalidInput::AlreadyRecreated => "invalid-already-recreated",
            InvalidInput::AlreadyMember => "invalid-already-member",
            InvalidInput::NotInSpace => "invalid-not-in-space",
            InvalidInput::ItemTooLarge { max_kib } => {
                return Message::new("invalid-item-too-large").with("max_kib", *max_kib);
            }
            InvalidInput::NotAWelcome => "invalid-not-a-welcome",
            InvalidInput::SpaceFromOlderRelease => "invalid-space-from-older-release",
            InvalidInput::UnsupportedOperation => "invalid-unsupported-operation",
            InvalidInput::NotAKeyPackage => "invalid-not-a-key-package",
            InvalidInput::AlreadyMoved => "invalid-already-moved",
            InvalidInput::RevokeSelf => "invalid-revoke-self",
            InvalidInput::AlreadyLinked => "invalid-already-linked",
            InvalidInput::AlreadyHasAccount => "invalid-already-has-account",
            InvalidInput::ManifestMismatch => "invalid-manifest-mismatch",
            InvalidInput::FileChanged => "invalid-file-changed",
            InvalidInput::ImageMetadata { format, reason } => {
                let id = match reason {
                    StripRefusal::Unsupported => "invalid-image-metadata-unsupported",
                    StripRefusal::Malformed => "invalid-image-metadata-malformed",
                    StripRefusal::TooLarge => "invalid-image-metadata-too-large",
                };
                return Message::new(id).with("format", format.to_string());
            }
            InvalidInput::NoRecipient => "invalid-no-recipient",
            InvalidInput::NoRecoveryWords => "invalid-no-recovery-words",
            InvalidInput::RulesMalformed => "invalid-rules-malformed",
            _ => "invalid-other",
        };
        Message::new(id)
    }
}

impl Describe for RecoveryWordsError {
    fn message(&self) -> Message {
        match self {
            RecoveryWordsError::WrongCount { expected, given } => {
                Message::new("recovery-wrong-count").with("expected", *expected).with("given", *given)
            }
            RecoveryWordsError::UnknownWord { position } => {
                Message::new("recovery-unknown-word").with("position", *position)
            }
            RecoveryWordsError::Mismatch => Message::new("recovery-mismatch"),
            RecoveryWordsError::NotASet => Message::new("recovery-not-a-set"),
            _ => Message::new("recovery-other"),
        }
    }
}

impl Describe for RelayError {
    fn message(&self) -> Message {
        match self {
            RelayError::BadRequest => Message::new("relay-bad-request"),
            RelayError::UnsupportedVersion { supported } => {
                Message::new("relay-unsupported-version").with("supported", u64::from(*supported))
            }
            RelayError::AuthRequired => Message::new("relay-auth-required"),
            RelayError::AuthFailed => Message::new("relay-auth-failed"),
            RelayError::InvitationInvalid => Message::new("relay-invitation-invalid"),
            RelayError::Forbidden => Message::new("relay-forbidden"),
            RelayError::NotFound => Message::new("relay-not-found"),
            RelayError::Conflict => Message::new("relay-conflict"),
            RelayError::StaleEpoch { current, .. } => Message::new("relay-stale-epoch").with("current", current.get()),
            RelayError::QuotaExceeded { used, quota } => {
                Message::new("relay-quota-exceeded").with("used", used.get()).with("quota", quota.get())
            }
            RelayError::LimitExceeded { .. } => Message::new("relay-limit-exceeded"),
            RelayError::RateLimited { retry_after_ms } => {
                Message::new("relay-rate-limited").with("seconds", u64::from(retry_after_ms.div_ceil(1000)))
            }
            RelayError::Internal => Message::new("relay-internal"),
            #[allow(unreachable_patterns)]
            _ => Message::new("relay-other"),
        }
    }
}

impl Describe for Fault {
    fn message(&self) -> Message {
        match self {
            Fault::Unverified(what) => Message::new("fault-unverified").with("reason", what.message()),
            Fault::Forbidden(why) => Message::new("fault-forbidden").with("reason", why.message()),
            Fault::NotFound(what) => Message::new("fault-not-found").with("what", what.message()),
            Fault::Relay(error) => Message::new("fault-relay").with("reason", error.message()),
            Fault::Malformed => Message::new("fault-malformed"),
            Fault::Mls => Message::new("fault-mls"),
            Fault::Invalid(what) => Message::new("fault-invalid").with("reason", what.message()),
            Fault::SpaceStalled => Message::new("fault-space-stalled"),
            Fault::IdentityChanged => Message::new("fault-identity-changed"),
            Fault::Store => Message::new("fault-store"),
            Fault::Connection => Message::new("fault-connection"),
            _ => Message::new("fault-other"),
        }
    }
}

impl Describe for Rejection {
    fn message(&self) -> Message {
        let with_fault = |id: &'static str, fault: &Fault| Message::new(id).with("reason", fault.message());
        match self {
            Rejection::StepFailed(fault) => with_fault("rejection-step-failed", fault),
            Rejection::SignInFailed(fault) => with_fault("rejection-sign-in-failed", fault),
            Rejection::RequestNotPrepared(fault) => with_fault("rejection-request-not-prepared", fault),
            Rejection::InvitationRefused(fault) => with_fault("rejection-invitation-refused", fault),
            Rejection::LogEntry { position, fault } => {
                with_fault("rejection-log-entry", fault).with("position", *position)
            }
            Rejection::ContentRecord { seq, fault } => with_fault("rejection-content-record", fault).with("seq", *seq),
            Rejection::NoUsableKeyPackage => Message::new("rejection-no-usable-key-package"),
            Rejection::DeliveryFailed(fault) => with_fault("rejection-delivery-failed", fault),
            Rejection::JoinRequestUndelivered(fault) => with_fault("rejection-join-request-undelivered", fault),
            Rejection::UploadDropped => Message::new("rejection-upload-dropped"),
            Rejection::DownloadDropped => Message::new("rejection-download-dropped"),
            Rejection::UnsentItemDropped => Message::new("rejection-unsent-item-dropped"),
            Rejection::OperationDropped(fault) => with_fault("rejection-operation-dropped", fault),
            _ => Message::new("rejection-other"),
        }
    }
}

impl Describe for SecurityWarning {
    fn message(&self) -> Message {
        match self {
            SecurityWarning::RevokedByNewIdentity => Message::new("warning-revoked-by-new-identity"),
            SecurityWarning::RevokedByOwnDevice => Message::new("warning-revoked-by-own-device"),
            SecurityWarning::ConflictingRosters => Message::new("warning-conflicting-rosters"),
            SecurityWarning::CommitsWithheld => Message::new("warning-commits-withheld"),
            SecurityWarning::LogAccessRefused => Message::new("warning-log-access-refused"),
            SecurityWarning::LogEntriesSkipped { first, last } => {
                Message::new("warning-log-entries-skipped").with("first", *first).with("last", *last)
            }
            SecurityWarning::ContentRecordsSkipped { first, last } => {
                Message::new("warning-content-records-skipped").with("first", *first).with("last", *last)
            }
            SecurityWarning::HistoryGrantRefused { from, fault } => {
                Message::new("warning-history-grant-refused").with("from", from).with("reason", fault.message())
            }
            SecurityWarning::StalledBy { by, fault } => {
                Message::new("warning-stalled-by").with("by", by).with("reason", fault.message())
            }
            SecurityWarning::Stalled { fault } => Message::new("warning-stalled").with("reason", fault.message()),
            SecurityWarning::AuthorNotSender => Message::new("warning-author-not-sender"),
            SecurityWarning::NoteContradicted { by, .. } => Message::new("warning-note-contradicted").with("by", by),
            SecurityWarning::UnaskedDevice => Message::new("warning-unasked-device"),
            SecurityWarning::ForeignKeyPackage(fault) => {
                Message::new("warning-foreign-key-package").with("reason", fault.message())
            }
            _ => Message::new("warning-other"),
        }
    }
}

impl Describe for DeliveryDelay {
    fn message(&self) -> Message {
        Message::new(match self {
            DeliveryDelay::QuotaFull => "delay-quota-full",
            DeliveryDelay::InboxFull => "delay-inbox-full",
            #[allow(unreachable_patterns)]
            _ => "delay-other",
        })
    }
}

impl Describe for Role {
    fn message(&self) -> Message {
        Message::new(match self {
            Role::Reader => "role-reader",
            Role::Contributor => "role-contributor",
            Role::ContentManager => "role-content-manager",
            Role::SpaceManager => "role-space-manager",
        })
    }
}

impl Describe for Policy {
    fn message(&self) -> Message {
        Message::new(match self {
            Policy::Open => "policy-open",
            Policy::OnRequest => "policy-on-request",
            Policy::Confidential => "policy-confidential",
        })
    }
}

impl Describe for HistoryMode {
    fn message(&self) -> Message {
        Message::new(match self {
            HistoryMode::Keep => "history-keep",
            HistoryMode::None => "history-none",
        })
    }
}

/// The first eight hex digits of an id, as every client shows ids to people.
pub fn short_id(bytes: &[u8]) -> String {
    hex::encode(bytes).chars().take(8).collect()
}

/// What an engine event says, or `None` for an event that says nothing by itself
/// (going online, a delivery, a space's state, a new item, whose text the app shows,
/// a transfer still under way). `space_name` names a space by its id.
pub fn event(event: &ClientEvent, space_name: &dyn Fn(&GroupId) -> String) -> Option<Message> {
    use huisclos_core::transfer::Direction;
    Some(match event {
        ClientEvent::AccountCreated(_) => Message::new("event-account-created"),
        ClientEvent::Invited { name, by, .. } => Message::new("event-invited").with("by", by).with("space", name),
        ClientEvent::Joined(space) => Message::new("event-joined").with("space", space_name(space)),
        ClientEvent::RemovedFromSpace(space) => Message::new("event-removed").with("space", space_name(space)),
        ClientEvent::Recreated { stalled, successor } => Message::new("event-recreated")
            .with("space", space_name(stalled))
            .with("successor", short_id(successor.as_bytes())),
        ClientEvent::Transfer { space, direction, total, finished: true, .. } => {
            let id = match direction {
                Direction::Upload => "event-uploaded",
                Direction::Download => "event-downloaded",
            };
            Message::new(id).with("bytes", *total).with("space", space_name(space))
        }
        ClientEvent::LibraryChanged(space) => Message::new("event-library-changed").with("space", space_name(space)),
        ClientEvent::NoteChanged { space, .. } => Message::new("event-note-changed").with("space", space_name(space)),
        ClientEvent::NoteVersionsChanged { space, .. } => {
            Message::new("event-note-version-named").with("space", space_name(space))
        }
        ClientEvent::Notify { space, kind, from, .. } => {
            let id = match kind {
                NotificationKind::Post => "event-notify-post",
                NotificationKind::Reply => "event-notify-reply",
                NotificationKind::Reaction => "event-notify-reaction",
            };
            Message::new(id).with("from", from).with("space", space_name(space))
        }
        ClientEvent::JoinRequested { space, name, identity, admitted } => {
            let id = if *admitted { "event-join-admitted" } else { "event-join-requested" };
            Message::new(id).with("name", name).with("identity", identity.short()).with("space", space_name(space))
        }
        ClientEvent::IdentityChanged { name, previous, current, was_verified, .. } => {
            Message::new("event-identity-changed")
                .with("name", name)
                .with("previous", previous.short())
                .with("current", current.short())
                .with("was_verified", *was_verified)
        }
        ClientEvent::DeviceAdded { space, name, device, .. } => Message::new("event-device-added")
            .with("name", name)
            .with("device", short_id(device.as_bytes()))
            .with("space", space_name(space)),
        ClientEvent::IdentityRotated { name, previous, current, .. } => Message::new("event-identity-rotated")
            .with("name", name)
            .with("previous", previous.short())
            .with("current", current.short()),
        ClientEvent::DeliveryWaiting { space, reason } => {
            Message::new("event-delivery-waiting").with("space", space_name(space)).with("reason", reason.message())
        }
        ClientEvent::Rejected { reason, .. } => Message::new("event-rejected").with("reason", reason.message()),
        ClientEvent::SecurityWarning { space: Some(space), warning } => {
            Message::new("event-security-warning-in").with("space", space_name(space)).with("reason", warning.message())
        }
        ClientEvent::SecurityWarning { space: None, warning } => {
            Message::new("event-security-warning").with("reason", warning.message())
        }
        _ => return None,
    })
}
