//! What the app implements: the listener that hears the engine's events, and the
//! keystore that holds the storage key. Both are foreign traits: the app passes an
//! object, Rust calls it.

use huisclos_core::engine::{ClientEvent, NotificationKind as CoreNotificationKind};
use huisclos_core::transfer::Direction as CoreDirection;

use crate::error::HuisClosError;
use crate::reasons::{RejectionKind, WarningKind};
use crate::types::{Direction, NoteTextEdit, NotificationKind, Transport};

/// Something that happened, for the app to show.
#[derive(Debug, Clone, uniffi::Enum)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ProfileEvent {
    /// The connection to the relay is up (this device logged in) or down.
    SyncState {
        /// Whether the relay is reachable now.
        online: bool,
        /// How it is reached, when online.
        transport: Option<Transport>,
        /// Why not, when offline (words, never a secret).
        reason: Option<String>,
        /// When offline: something answered at the relay's address with a key this
        /// profile does not pin (another server, or a key changed without the rotation
        /// this device would have learned). Warn, as of an impostor; the work stays
        /// queued and nothing is sent to it.
        relay_key_not_pinned: bool,
        /// When offline, in how many seconds the watching connection tries again.
        retry_in_seconds: Option<u32>,
    },
    /// The relay account was created with the invitation.
    AccountCreated {
        /// The account (hex).
        account: String,
    },
    /// An invitation to a space arrived.
    Invited {
        /// The space (hex).
        space: String,
        /// Its name.
        name: String,
        /// Who invited.
        by: String,
    },
    /// This device is now a member of the space.
    Joined {
        /// The space (hex).
        space: String,
    },
    /// The space's members or rules changed.
    SpaceChanged {
        /// The space (hex).
        space: String,
    },
    /// This device was removed from the space.
    RemovedFromSpace {
        /// The space (hex).
        space: String,
    },
    /// A stalled space was recreated without whoever stalled it.
    Recreated {
        /// The stalled space (hex; its feed stays readable).
        stalled: String,
        /// The space that continues it (hex).
        successor: String,
    },
    /// A new or changed post or comment.
    NewContent {
        /// The space (hex).
        space: String,
        /// The item (hex).
        item: String,
    },
    /// Something that deserves a notification, decided on the device.
    Notify {
        /// The space (hex).
        space: String,
        /// The item (hex).
        item: String,
        /// Why.
        kind: NotificationKind,
        /// Who.
        from: String,
    },
    /// An item this device wrote reached the relay.
    Delivered {
        /// The item (hex).
        item: String,
    },
    /// The space's library changed.
    LibraryChanged {
        /// The space (hex).
        space: String,
    },
    /// Others' edits were merged into a note (this profile's own `edit_note` raises
    /// none).
    NoteChanged {
        /// The space (hex).
        space: String,
        /// The note (hex).
        note: String,
        /// For the note this profile shows (`show_in_note`, as an editor does when it
        /// opens one), what changed, in UTF-16 units, each edit at its offset in the
        /// text the previous one left. Applied in order to the text as this profile had
        /// it just before (what was read, with this profile's own edits since), they
        /// give the text now: the editor applies them and keeps its caret. None for any
        /// other note: read it again.
        edits: Option<Vec<NoteTextEdit>>,
    },
    /// A version of a note was named: ask `note_versions` again.
    NoteVersionsChanged {
        /// The space (hex).
        space: String,
        /// The note (hex).
        note: String,
    },
    /// Who is in a note, or where their cursor is, changed: ask `note_presence` again.
    PresenceChanged {
        /// The space (hex).
        space: String,
        /// The note (hex).
        note: String,
    },
    /// A file transfer moved on.
    Transfer {
        /// The space (hex).
        space: String,
        /// The file (hex).
        node: String,
        /// Up or down.
        direction: Direction,
        /// Bytes done.
        done: u64,
        /// Bytes in all.
        total: u64,
        /// Whether it is finished.
        finished: bool,
    },
    /// Someone asked to join a space through a card this device issued.
    JoinRequested {
        /// The space (hex).
        space: String,
        /// Who asks.
        name: String,
        /// Their identity key (hex).
        identity: String,
        /// Whether they were admitted at once (an open space).
        admitted: bool,
    },
    /// A known person's account shows another identity key: show it prominently.
    IdentityChanged {
        /// The account (hex).
        account: String,
        /// The person's name.
        name: String,
        /// The key held until now (hex).
        previous: String,
        /// The key now shown (hex).
        current: String,
        /// Whether the key held until now had been verified.
        was_verified: bool,
    },
    /// A member's new device joined a space: it reads everything from now on. Show it.
    DeviceAdded {
        /// The space (hex).
        space: String,
        /// The person's identity key (hex).
        identity: String,
        /// Their name.
        name: String,
        /// The device (hex).
        device: String,
    },
    /// A person replaced their identity key with a transition signed by the old one
    /// (after a recovery, or a lost device that held it): show it, and ask for the
    /// safety numbers to be compared again.
    IdentityRotated {
        /// The account (hex).
        account: String,
        /// The person's name.
        name: String,
        /// The key replaced (hex).
        previous: String,
        /// The new key (hex).
        current: String,
    },
    /// An invitation's Welcome waits to be delivered (the invitee's inbox is full, or
    /// this account's quota); it is sent again later.
    DeliveryWaiting {
        /// The space (hex).
        space: String,
        /// Why.
        reason: String,
    },
    /// Something from the relay or a member was refused and not applied.
    Rejected {
        /// The space, if known (hex).
        space: Option<String>,
        /// What it is about, for the app to translate.
        kind: RejectionKind,
        /// Why, in the language set by `set_language` (English until then).
        reason: String,
    },
    /// A security fact the person must see (a stalled space, a forged item, a gap).
    SecurityWarning {
        /// The space, if any (hex).
        space: Option<String>,
        /// What happened, for the app to translate.
        kind: WarningKind,
        /// What happened, in the language set by `set_language` (English until then).
        warning: String,
    },
}

impl From<ClientEvent> for ProfileEvent {
    fn from(event: ClientEvent) -> Self {
        match event {
            ClientEvent::Online => Self::SyncState {
                online: true,
                transport: None,
                reason: None,
                relay_key_not_pinned: false,
                retry_in_seconds: None,
            },
            ClientEvent::AccountCreated(account) => Self::AccountCreated { account: account.to_string() },
            ClientEvent::Invited { space, name, by } => Self::Invited { space: space.to_string(), name, by },
            ClientEvent::Joined(space) => Self::Joined { space: space.to_string() },
            ClientEvent::SpaceChanged(space) => Self::SpaceChanged { space: space.to_string() },
            ClientEvent::RemovedFromSpace(space) => Self::RemovedFromSpace { space: space.to_string() },
            ClientEvent::LibraryChanged(space) => Self::LibraryChanged { space: space.to_string() },
            ClientEvent::NoteChanged { space, note, edits } => Self::NoteChanged {
                space: space.to_string(),
                note: note.to_string(),
                edits: edits.map(|edits| {
                    edits
                        .into_iter()
                        .map(|edit| NoteTextEdit { at: edit.at, delete: edit.delete, insert: edit.insert })
                        .collect()
                }),
            },
            ClientEvent::NoteVersionsChanged { space, note } => {
                Self::NoteVersionsChanged { space: space.to_string(), note: note.to_string() }
            }
            ClientEvent::PresenceChanged { space, note } => {
                Self::PresenceChanged { space: space.to_string(), note: note.to_string() }
            }
            ClientEvent::Transfer { space, node, direction, done, total, finished } => Self::Transfer {
                space: space.to_string(),
                node: hex::encode(node),
                direction: match direction {
                    CoreDirection::Upload => Direction::Upload,
                    CoreDirection::Download => Direction::Download,
                },
                done,
                total,
                finished,
            },
            ClientEvent::Recreated { stalled, successor } => {
                Self::Recreated { stalled: stalled.to_string(), successor: successor.to_string() }
            }
            ClientEvent::Content { space, item } => {
                Self::NewContent { space: space.to_string(), item: item.to_string() }
            }
            ClientEvent::Notify { space, item, kind, from } => Self::Notify {
                space: space.to_string(),
                item: item.to_string(),
                kind: match kind {
                    CoreNotificationKind::Post => NotificationKind::Post,
                    CoreNotificationKind::Reply => NotificationKind::Reply,
                    CoreNotificationKind::Reaction => NotificationKind::Reaction,
                },
                from,
            },
            ClientEvent::Delivered(item) => Self::Delivered { item: item.to_string() },
            ClientEvent::DeliveryWaiting { space, reason } => {
                Self::DeliveryWaiting { space: space.to_string(), reason: crate::l10n::reason(&reason) }
            }
            ClientEvent::Rejected { space, reason } => Self::Rejected {
                space: space.map(|s| s.to_string()),
                kind: (&reason).into(),
                reason: crate::l10n::reason(&reason),
            },
            ClientEvent::JoinRequested { space, name, identity, admitted } => Self::JoinRequested {
                space: space.to_string(),
                name,
                identity: hex::encode(identity.as_bytes()),
                admitted,
            },
            ClientEvent::IdentityChanged { account, name, previous, current, was_verified } => Self::IdentityChanged {
                account: account.to_string(),
                name,
                previous: hex::encode(previous.as_bytes()),
                current: hex::encode(current.as_bytes()),
                was_verified,
            },
            ClientEvent::DeviceAdded { space, identity, name, device } => Self::DeviceAdded {
                space: space.to_string(),
                identity: hex::encode(identity.as_bytes()),
                name,
                device: device.to_string(),
            },
            ClientEvent::IdentityRotated { account, name, previous, current } => Self::IdentityRotated {
                account: account.to_string(),
                name,
                previous: hex::encode(previous.as_bytes()),
                current: hex::encode(current.as_bytes()),
            },
            ClientEvent::SecurityWarning { space, warning } => Self::SecurityWarning {
                space: space.map(|s| s.to_string()),
                kind: (&warning).into(),
                warning: crate::l10n::reason(&warning),
            },
        }
    }
}

/// The app's listener. Called on a background thread of the library's runtime (or
/// on the thread that gave a command); it should hand the event to the UI thread and
/// return quickly. It may call back into the profile.
#[uniffi::export(foreign)]
pub trait ProfileListener: Send + Sync {
    /// One event.
    fn on_event(&self, event: ProfileEvent);
}

/// The platform keystore (Android Keystore, iOS Keychain) holding a profile's
/// 32-byte storage key under a name, so no passphrase is needed to open it. The key
/// crosses the boundary once per call; the library zeroizes its own copies.
#[uniffi::export(foreign)]
pub trait Keystore: Send + Sync {
    /// Keeps `key` under `name`, replacing any key held under it.
    fn store_key(&self, name: String, key: Vec<u8>) -> Result<(), HuisClosError>;
    /// The key kept under `name`.
    fn load_key(&self, name: String) -> Result<Vec<u8>, HuisClosError>;
    /// Forgets the key kept under `name` (the panic wipe calls it).
    fn delete_key(&self, name: String) -> Result<(), HuisClosError>;
}
