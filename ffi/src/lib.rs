//! # huisclos-ffi — the UniFFI surface of the client engine
//!
//! The Android, iOS and desktop apps reach [`huisclos_core`] through this crate, built
//! as a `cdylib` (Android's `jniLibs`, Python, Kotlin on the JVM through JNA) and a
//! `staticlib` (the iOS XCFramework). Bindings are generated from the library itself
//! by `huisclos-bindgen` (`scripts/bindings.sh`) and never edited by hand.
//!
//! It holds conversions only, never a decision of its own:
//!
//! - The API is organised by noun, as the apps think of it:
//!   - [`Profile`]: create, open (passphrase or platform keystore), lock and wipe a
//!     profile; join a relay; create and list spaces; sync and watch;
//!   - [`Space`] (`profile.space(id)`): a space's own settings and life (rename,
//!     mute, leave, its card, device approval), and the nouns inside it:
//!     [`Feed`] (`space.feed()`: post, comment, react, edit, delete, pages, observe),
//!     [`SpaceLibrary`] (`space.library()`: folders, notes, files and their transfers) and
//!     [`Members`] (`space.members()`: invite, remove, roles, requests to join);
//!   - [`Devices`] (`profile.devices()`) and [`Contacts`] (`profile.contacts()`).
//!
//!   Each method converts its arguments (ids as hex, cards and invitations as their
//!   text forms) and makes one engine call.
//! - `sync` is async and runs on the runtime this crate owns; `start_watching` keeps
//!   a connection in the background on the same runtime.
//! - [`ProfileListener`] (implemented by the app) hears every event: new content,
//!   notifications, transfers, sync state, security warnings.
//! - Observed lists ([`Feed::subscribe`], [`Profile::subscribe_spaces`],
//!   [`Members::subscribe`], [`SpaceLibrary::subscribe_folder`]): the app's [`FeedListener`] (and the others) hears the
//!   list once whole and then only its changes, as diffs, in the engine's order; the
//!   [`ListSubscription`] stops it.
//! - [`LinkingDevice`]: the new device's side of linking a device to an existing
//!   person (request, confirmation code, waiting for the approval), which ends as a
//!   [`Profile`].
//! - [`Keystore`] (implemented by the app over Android Keystore or the iOS Keychain)
//!   holds the storage key of a profile opened without a passphrase.
//! - [`HuisClosError`]: every failure crosses as a typed exception with a message.
//!   A panic is caught at the boundary by UniFFI and raised as an internal error; it
//!   never unwinds into foreign code.
//!
//! ## Security properties
//! - Passphrases and keystore keys are moved into zeroizing types on arrival; no
//!   message of [`HuisClosError`] carries a secret or content.
//! - What the foreign side does with a `String` or byte array after the call (a
//!   garbage-collected copy of the passphrase) is outside this crate's reach.
//!
//! ## `unsafe`
//! The workspace forbids `unsafe`; this crate cannot, because UniFFI's scaffolding
//! macros generate the `extern "C"` functions. The crate's own code has none.

mod error;
mod events;
mod l10n;
mod linking;
mod lists;
mod people;
mod profile;
mod reasons;
mod runtime;
mod space;
mod types;

pub use error::{HuisClosError, Result};
pub use events::{Keystore, ProfileEvent, ProfileListener};
pub use l10n::{
    Localizer, MessageArg, PassphraseCheck, available_languages, check_passphrase, set_language, suggest_passphrase,
};
pub use linking::LinkingDevice;
pub use lists::{
    FeedDiff, FeedListener, FolderDiff, FolderListener, JoinRequestDiff, JoinRequestListener, ListSubscription,
    MemberDiff, MemberListListener, SpaceDiff, SpaceListListener,
};
pub use people::{Contacts, Devices};
pub use profile::{Profile, profile_exists, wipe_profile};
pub use reasons::{ManagerAction, Missing, Refusal, RejectionKind, WarningKind};
pub use space::{Feed, Members, Space, SpaceLibrary};
pub use types::{
    Contact, Device, Direction, FeedItem, FileVersion, JoinRequest, LibraryNode, Me, Member, NodeKind, NotePeer,
    NoteTextEdit, NoteVersionInfo, NotificationKind, Policy, Reaction, Role, SpaceSummary, SyncOutcome, Transport,
    Verification,
};

uniffi::setup_scaffolding!("huisclos");
