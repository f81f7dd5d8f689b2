//! The sans-IO engine: MLS state, content state and sync decisions, with no socket and
//! no clock.
//!
//! The engine takes inputs — user commands ([`Engine::create_space`], [`Engine::post`],
//! …), answers and events from the relay ([`Engine::handle_response`],
//! [`Engine::handle_event`]), the connection's state ([`Engine::connected`]) and the
//! time (every call that needs it takes `now`) — and returns outputs: the next request
//! to send ([`Engine::poll_request`]) and what happened ([`Engine::poll_event`]). The
//! async layer in [`crate::client`] moves requests over QUIC or TCP+TLS; tests drive
//! the engine directly.
//!
//! ## One request at a time
//! The engine keeps at most one request in flight. A group's log must be read, and
//! its commits merged, strictly in order, and an operation is only built on the state
//! it commits to; one request at a time makes both trivially true. Work waits in a
//! queue of jobs (sync a group, read the inbox, send the outbox).
//!
//! ## Durability
//! Each input's effects are written to the vault and committed together before the
//! engine answers, so a crash never leaves an MLS state merged with a cursor that did
//! not move, and the outbox survives restarts. Items carry random ids, so a resend
//! after a lost acknowledgement never shows twice.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use huisclos_protocol::access::{ACCESS_TOKEN_EXPORTER_LABEL, AccessToken, EpochVerifier, InvitationToken};
use huisclos_protocol::auth::TlsExporter;
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::ids::{
    AccountId, ContentId, ContentSeq, DeviceId, Epoch, GroupId, PageLimit, RequestId, Seq, UnixSeconds,
};
use huisclos_protocol::messages::{
    AckWelcomes, AddDevice, AppendMessage, ClaimKeyPackages, ContentRecordBytes, CreateGroup, DepositWelcome, Event,
    FetchContent, FetchLog, FetchWelcomes, GetKeyPackageStatus, GroupAccess, KeyPackageBytes, LogPageEnd, LogRetention,
    MlsMessageBytes, PutContent, RelayError, RequestBody, ResponseBody, RevokeDevice, SubmitCommit, Subscribe,
    UploadKeyPackages,
};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_traits::OpenMlsProvider;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::chunk::{FileManifest, FileOpener};
use crate::contacts::{Contact, ContactBook, Sighting};
use crate::content::{
    AppPayload, Comment, ContentBody, ContentEnvelope, Delete, Edit, EnvelopeBody, GenerationMarker, Post, React,
    Reaction, SealedRecord, Text,
};
use crate::endpoint::RelayEndpoint;
use crate::error::{CoreError, Result};
use crate::history::{History, HistoryLedger, Seat, Standing};
use crate::identity::{
    CertificateBody, ContactCard, DeviceCertificate, DeviceKeys, DisplayName, IdentityKey, IdentityPublicKey,
    IdentityTransition, SafetyNumber, VerificationCode, VerificationOutcome,
};
use crate::join::{
    JoinNote, JoinRequest, MAX_OPEN_REQUESTS, MAX_PENDING_JOIN_REQUESTS, SealedJoinRequest, SpaceCard, SpaceCardBody,
};
use crate::library::{
    AddVersion, CreateNode, Library, LibraryOp, MoveNode, NodeId, NodeKind, NodeName, NoteText, RenameNode,
    RestoreNode, Stamp, TrashNode, WriteNote,
};
use crate::link::{DeviceGrant, DeviceReady, InboxItem, InboxWelcome, LinkOffer, LinkRequest, PendingLink};
use crate::mls::{DeviceSigner, Provider};
use crate::mls_storage::MlsStorage;
use crate::recovery::RecoveryWords;
use crate::signin::{Credential, SignIn, SignInOutcome, SignInStep};
use crate::space::{ChangeRequest, HistoryMode, Policy, Role, SpaceDescription, SpaceName, SpaceRules, check_commit};
use crate::transfer::{Direction, DownloadRecord, NewFile, UploadRecord};
use crate::vault::Vault;
use huisclos_protocol::invitation::Invitation;

#[cfg(feature = "adversary")]
pub mod adversary;

/// How many one-time key packages a device keeps at the relay.
pub const KEY_PACKAGE_TARGET: u32 = 20;
/// The longest wait before asking the relay again after transient refusals.
pub const MAX_BACKOFF_SECS: u64 = 300;
/// The longest wait a relay's rate limit can impose before the next try.
pub const MAX_RELAY_BACKOFF_SECS: u64 = 3600;
/// "Your epoch is stale" answers in one epoch, each followed by a read that found no
/// newer commit, before the engine reports the relay and backs off.
pub const MAX_STALE_IN_EPOCH: u32 = 3;
/// Log entries and content records asked for per page.
const PAGE: u16 = 128;

const NS_PROFILE: &str = "profile";
/// The profile record's key in [`NS_PROFILE`]; release 0.1 kept it under `me`.
const PROFILE_KEY: &[u8] = b"me2";
/// The version of the profile record.
const PROFILE_RECORD_VERSION: u8 = 2;
/// The contact book's key in [`NS_PROFILE`]; release 0.1 kept it under `contacts`.
const CONTACTS_KEY: &[u8] = b"contacts2";
/// Device-ready notices and join requests remembered against replays.
const MAX_REPLAY_ENTRIES: usize = 4096;
const NS_GROUPS: &str = "groups";
/// Each space's record ([`GroupMeta`]) by group id, as [`SPACE_RECORD_VERSION`] and its
/// encoding. Release 0.1 kept an older record under [`NS_GROUPS`], migrated on load.
const NS_SPACES: &str = "spaces";
/// The version of the records under [`NS_SPACES`]. Version 3 has version 2's layout,
/// with its `seen` set always empty: the ids of items applied are kept by key under
/// [`seen_namespace`], one row each, instead of in the record rewritten at every step.
/// Version 2 records are read, and their ids moved there, at the first open.
const SPACE_RECORD_VERSION: u8 = 3;
/// The earlier version of the same layout.
const SPACE_RECORD_VERSION_2: u8 = 2;
const NS_OUTBOX: &str = "outbox";
/// Each space's library state, by group id.
const NS_LIBRARY: &str = "library";
/// Uploads waiting to finish, in order.
const NS_UPLOADS: &str = "uploads";
/// Downloads waiting to finish, in order.
const NS_DOWNLOADS: &str = "downloads";
/// Device-level work (linking, announcing), apart from any space.
const NS_DEVICE_OUTBOX: &str = "device-outbox";
/// Inbox deposits (Welcomes) waiting for the relay to take them, each retried on its
/// own schedule: an invitee's full inbox holds up neither the space nor other deposits.
const NS_DELIVERIES: &str = "deliveries";

/// The longest wait between two attempts to deliver a Welcome.
const MAX_DELIVERY_BACKOFF_SECS: u64 = 6 * 3600;

/// Seconds since the Unix epoch: the engine's only notion of time, handed in.
pub type Now = u64;

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
    /// A file transfer moved on.
    Transfer {
        /// The space.
        space: GroupId,
        /// The file.
        node: [u8; 16],
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
        /// Why, in words.
        reason: String,
    },
    /// Something from the relay or a member was refused; it was not applied.
    Rejected {
        /// The space, if known.
        space: Option<GroupId>,
        /// Why, in words (never content or keys).
        reason: String,
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
        warning: String,
    },
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

/// One item of a space's feed, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The item's id.
    pub id: [u8; 16],
    /// The author's identity key.
    pub author: [u8; 32],
    /// The author's display name, from their certificate.
    pub author_name: String,
    /// When written, by the author's clock.
    pub created_at: u64,
    /// The post or comment answered, for comments.
    pub parent: Option<[u8; 16]>,
    /// The current text (empty once deleted).
    pub text: String,
    /// Whether it was edited.
    pub edited: bool,
    /// Whether it was deleted.
    pub deleted: bool,
    /// Reactions and who gave them.
    pub reactions: BTreeMap<String, BTreeSet<[u8; 32]>>,
    /// Position in this device's feed (arrival order).
    pub position: u64,
    /// Who, other than the author, wrote the current text or deleted the item (a
    /// content manager moderating it): the text is then theirs, not the author's, and
    /// shown as such.
    pub moderated_by: Option<Moderator>,
}

/// A content manager who changed someone else's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moderator {
    /// Their identity key.
    pub identity: [u8; 32],
    /// Their display name, from their certificate.
    pub name: String,
}

/// A feed item as release 0.1 stored it (under `feed/`), read to be migrated.
#[derive(Deserialize)]
struct FeedItemV1 {
    id: [u8; 16],
    author: [u8; 32],
    author_name: String,
    created_at: u64,
    parent: Option<[u8; 16]>,
    text: String,
    edited: bool,
    deleted: bool,
    reactions: BTreeMap<String, BTreeSet<[u8; 32]>>,
    position: u64,
}

impl From<FeedItemV1> for FeedItem {
    fn from(old: FeedItemV1) -> Self {
        Self {
            id: old.id,
            author: old.author,
            author_name: old.author_name,
            created_at: old.created_at,
            parent: old.parent,
            text: old.text,
            edited: old.edited,
            deleted: old.deleted,
            reactions: old.reactions,
            position: old.position,
            moderated_by: None,
        }
    }
}

impl FeedItem {
    /// The item's id.
    pub fn content_id(&self) -> ContentId {
        ContentId::from_bytes(self.id)
    }
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

/// What the engine persists about its own profile (sealed in the vault, under
/// [`PROFILE_KEY`], as [`PROFILE_RECORD_VERSION`] and its encoding).
#[derive(Serialize, Deserialize)]
struct ProfileRecord {
    /// The person's identity key.
    identity: [u8; 32],
    /// Its secret, on the device that holds it (the one that created the identity, or
    /// one restored from the recovery words); linked devices never have it.
    identity_secret: Option<[u8; 32]>,
    auth: [u8; 32],
    mls: [u8; 32],
    name: String,
    account: Option<[u8; 16]>,
    certificate: Option<Vec<u8>>,
    /// The person's newest roster (contact card, wire bytes).
    card: Option<Vec<u8>>,
    next_outbox: u64,
    next_device_item: u64,
    /// Spaces this person asked to join: their invitations are accepted on arrival.
    requested: Vec<[u8; 16]>,
    /// Where the relay is ([`RelayEndpoint`] wire bytes).
    relay: Option<Vec<u8>>,
    /// The relay invitation, until it opened the account (wire bytes).
    invitation: Option<Vec<u8>>,
    /// The link offer shown, until a request answers it (wire bytes).
    link_offer: Option<Vec<u8>>,
    /// Digests of device-ready notices and join requests already taken, with when
    /// they were issued: the same one again is refused.
    replay: Vec<([u8; 32], u64)>,
    /// The signed transition by which this identity key replaced the previous one
    /// (wire bytes); every roster carries it.
    transition: Option<Vec<u8>>,
    /// A profile restored from the recovery words: the old identity key's secret,
    /// kept only until the account exists and the transition to the new key is
    /// signed with it.
    rotate_from: Option<[u8; 32]>,
}

impl Drop for ProfileRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.identity_secret.zeroize();
        self.rotate_from.zeroize();
        self.auth.zeroize();
        self.mls.zeroize();
    }
}

/// The profile as release 0.1 stored it (under `me`), read once to be migrated: every
/// device held the identity key then.
#[derive(Serialize, Deserialize)]
struct ProfileRecordV1 {
    identity: [u8; 32],
    auth: [u8; 32],
    mls: [u8; 32],
    name: String,
    account: Option<[u8; 16]>,
    certificate: Option<Vec<u8>>,
    /// The certificates of this person's other devices.
    devices: Vec<Vec<u8>>,
    next_outbox: u64,
    next_device_item: u64,
    /// Spaces this person asked to join: their invitations are accepted on arrival.
    requested: Vec<[u8; 16]>,
    /// Where the relay is ([`RelayEndpoint`] wire bytes).
    relay: Option<Vec<u8>>,
    /// The relay invitation, until it opened the account (wire bytes).
    invitation: Option<Vec<u8>>,
    /// The link offer shown, until a request answers it (wire bytes).
    link_offer: Option<Vec<u8>>,
}

impl Drop for ProfileRecordV1 {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.identity.zeroize();
        self.auth.zeroize();
        self.mls.zeroize();
    }
}

/// What the engine persists about each space besides MLS state.
#[derive(Serialize, Deserialize, Clone)]
struct GroupMeta {
    /// The next log position to read in the current epoch.
    next_seq: u64,
    /// The next content-store position to read.
    content_next: u64,
    /// Log positions of this device's own entries not yet passed by the cursor.
    own_seqs: BTreeSet<u64>,
    /// Whether the relay holds the group's log yet.
    relay_created: bool,
    removed: bool,
    /// Set when a commit the relay accepted was refused here: the space cannot advance.
    stalled: bool,
    /// Who made that commit.
    stalled_by: Option<[u8; 32]>,
    /// The space that continues this one, once a space manager recreated it.
    replaced_by: Option<[u8; 16]>,
    /// Whether this device finished its first read of the space: what it reads
    /// before is history, and does not notify.
    caught_up: bool,
    /// Whether `next_seq` is a position this device has read up to (a device that
    /// joined by Welcome learns where its first epoch starts from its first entry).
    cursor_known: bool,
    /// Whether new posts stay silent (replies and reactions to this person still
    /// notify).
    muted: bool,
    /// The log position of this device's own commit, accepted by the relay but merged
    /// only when the cursor reaches it (entries before it are read in the old epoch).
    pending_commit_seq: Option<u64>,
    /// Whether the user accepted the invitation (spaces this device created: true).
    accepted: bool,
    /// Who invited this device, as shown.
    invited_by: String,
    unread: u32,
    feed_len: u64,
    /// The space's history: generations, keys, rosters, the ledger's chain.
    history: History,
    /// Ids of items already applied, as records of version 2 and earlier kept them;
    /// empty since (they are kept by key under [`seen_namespace`]), kept for the layout.
    seen: BTreeSet<[u8; 16]>,
    /// The secret of the request key on this device's space card, once one was issued.
    request_secret: Option<[u8; 32]>,
    /// Its public key's id, which incoming requests name (found without the secret).
    request_key_id: Option<[u8; 8]>,
    /// Requests to join waiting for a decision (wire bytes of verified requests).
    join_requests: Vec<Vec<u8>>,
}

impl Drop for GroupMeta {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.request_secret.zeroize();
    }
}

impl GroupMeta {
    fn new(history: History) -> Self {
        Self {
            next_seq: 0,
            content_next: 0,
            own_seqs: BTreeSet::new(),
            relay_created: false,
            removed: false,
            stalled: false,
            stalled_by: None,
            replaced_by: None,
            caught_up: false,
            cursor_known: false,
            muted: false,
            pending_commit_seq: None,
            accepted: false,
            invited_by: String::new(),
            unread: 0,
            feed_len: 0,
            history,
            seen: BTreeSet::new(),
            request_secret: None,
            request_key_id: None,
            join_requests: Vec::new(),
        }
    }

    /// A release-0.1 record: everything kept; the history keys become a legacy
    /// history (no ledger, no rosters), which leaves the space read-only until a space
    /// manager recreates it.
    fn from_v1(old: &GroupMetaV1) -> Self {
        let mut meta = Self::new(History::legacy(&old.history));
        meta.next_seq = old.next_seq;
        meta.content_next = old.content_next;
        meta.own_seqs = old.own_seqs.clone();
        meta.relay_created = old.relay_created;
        meta.removed = old.removed;
        meta.stalled = old.stalled;
        meta.stalled_by = old.stalled_by;
        meta.replaced_by = old.replaced_by;
        meta.caught_up = old.caught_up;
        meta.cursor_known = old.cursor_known;
        meta.muted = old.muted;
        meta.pending_commit_seq = old.pending_commit_seq;
        meta.accepted = old.accepted;
        meta.invited_by = old.invited_by.clone();
        meta.unread = old.unread;
        meta.feed_len = old.feed_len;
        meta.seen = old.seen.clone();
        meta.request_secret = old.request_secret;
        meta.request_key_id = old.request_key_id;
        meta.join_requests = old.join_requests.clone();
        meta
    }
}

/// A space's record as release 0.1 stored it (under [`NS_GROUPS`]), read once to be
/// migrated.
#[derive(Serialize, Deserialize, Default, Clone)]
struct GroupMetaV1 {
    /// The next log position to read in the current epoch.
    next_seq: u64,
    /// The next content-store position to read.
    content_next: u64,
    /// Log positions of this device's own entries not yet passed by the cursor.
    own_seqs: BTreeSet<u64>,
    /// Whether the relay holds the group's log yet.
    relay_created: bool,
    removed: bool,
    /// Set when a commit the relay accepted was refused here: the space cannot advance.
    stalled: bool,
    /// Who made that commit.
    stalled_by: Option<[u8; 32]>,
    /// The space that continues this one, once a space manager recreated it.
    replaced_by: Option<[u8; 16]>,
    /// Whether this device finished its first read of the space: what it reads
    /// before is history, and does not notify.
    caught_up: bool,
    /// Whether `next_seq` is a position this device has read up to (a device that
    /// joined by Welcome learns where its first epoch starts from its first entry).
    cursor_known: bool,
    /// Whether new posts stay silent (replies and reactions to this person still
    /// notify).
    muted: bool,
    /// The log position of this device's own commit, accepted by the relay but merged
    /// only when the cursor reaches it (entries before it are read in the old epoch).
    pending_commit_seq: Option<u64>,
    /// Whether the user accepted the invitation (spaces this device created: true).
    accepted: bool,
    /// Who invited this device, as shown.
    invited_by: String,
    unread: u32,
    feed_len: u64,
    /// History-key generations, sealed in the vault with the rest of this record.
    history: Vec<(u32, [u8; 32])>,
    /// Ids of items already applied (de-duplication across resends and the two paths).
    seen: BTreeSet<[u8; 16]>,
    /// The secret of the request key on this device's space card, once one was issued.
    request_secret: Option<[u8; 32]>,
    /// Its public key's id, which incoming requests name (found without the secret).
    request_key_id: Option<[u8; 8]>,
    /// Requests to join waiting for a decision (wire bytes of verified requests).
    join_requests: Vec<Vec<u8>>,
}

impl Drop for GroupMetaV1 {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, key) in &mut self.history {
            key.zeroize();
        }
        self.request_secret.zeroize();
    }
}

/// A queued intention, persisted until done.
// No `Debug`: an outbox item holds a signed item's plaintext.
#[derive(Serialize, Deserialize, Clone)]
enum OutboxItem {
    /// Create the group's log at the relay.
    CreateGroup { group: [u8; 16] },
    /// Publish an item (sealed under the history key, or in an MLS message).
    Content { group: [u8; 16], envelope: Vec<u8> },
    /// Release 0.1's "send history keys": dropped when its turn comes (keys are
    /// derived from MLS epochs since).
    HistoryKeys { group: [u8; 16] },
    /// Change membership or rules: built into a commit when its turn comes, on the
    /// newest state.
    Operation { group: [u8; 16], operation: Operation },
    /// Hand new members the space's history: one part of a [`HistoryGrant`] (the
    /// application payload's bytes), computed when the adding commit was accepted.
    HistoryGrant { group: [u8; 16], payload: Vec<u8> },
    /// Mark, in the content store, the start of the generation this device's commit
    /// started.
    Marker { group: [u8; 16] },
    /// Send a person's roster (contact card, wire bytes) to the space's members: this
    /// person's newest, or an invitee's.
    Roster { group: [u8; 16], card: Vec<u8> },
}

impl OutboxItem {
    fn group(&self) -> GroupId {
        match self {
            Self::CreateGroup { group }
            | Self::Content { group, .. }
            | Self::HistoryKeys { group }
            | Self::Operation { group, .. }
            | Self::HistoryGrant { group, .. }
            | Self::Roster { group, .. }
            | Self::Marker { group } => GroupId::from_bytes(*group),
        }
    }
}

/// A Welcome to leave in invitees' inboxes, until the relay takes it.
#[derive(Serialize, Deserialize, Clone)]
struct Delivery {
    group: [u8; 16],
    recipients: Vec<[u8; 16]>,
    /// The inbox item's bytes.
    item: Vec<u8>,
    attempts: u32,
    /// When to try next.
    due: Now,
    /// Whether the person was told it waits.
    reported: bool,
}

#[derive(Serialize, Deserialize, Clone)]
enum Operation {
    Invite {
        card: Vec<u8>,
        role: u8,
    },
    /// Add one of this person's own devices (certificate bytes).
    AddDevice {
        certificate: Vec<u8>,
    },
    /// Remove one of this person's own devices (revoked).
    RemoveDevice {
        device: [u8; 16],
    },
    /// Propose this device's own removal (a member cannot commit its own removal).
    Leave,
    /// Commit the proposals waiting in the group (members' leaves).
    CommitProposals,
    /// Add a person known only by their devices' certificates (a member of the
    /// stalled space this one continues).
    Readd {
        certificates: Vec<Vec<u8>>,
        role: u8,
    },
    Remove {
        identity: [u8; 32],
    },
    SetRole {
        identity: [u8; 32],
        role: u8,
    },
    Rename {
        name: String,
    },
    Describe {
        description: String,
    },
    /// Move this device's place in the space to its certificate under the person's new
    /// identity key (an update of its own leaf), the person's role moved with it.
    RotateIdentity,
    /// A space manager adds a new device of a member (certificate bytes), in a space
    /// where new devices need approval.
    AddMemberDevice {
        certificate: Vec<u8>,
    },
    /// Whether new devices of members need a space manager's approval.
    SetDeviceApproval {
        on: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Deliveries,
    Welcomes,
    KeyPackages,
    Sync(GroupId),
    Subscribe,
    Outbox,
    Devices,
    Transfers,
}

/// What the request in flight was for.
enum Step {
    /// Signing in ([`crate::signin`]).
    SignIn(SignInStep),
    KeyPackageStatus,
    KeyPackageUpload,
    FetchWelcomes,
    AckWelcomes,
    Subscribe,
    FetchLog {
        group: GroupId,
    },
    FetchContent {
        group: GroupId,
    },
    Outbox {
        index: u64,
        stage: OutboxStage,
    },
    Device {
        index: u64,
        stage: DeviceStage,
    },
    /// Depositing the waiting Welcome `index` of [`NS_DELIVERIES`].
    Delivery {
        index: u64,
    },
    /// Uploading chunk `chunk` of upload record `index`.
    Upload {
        index: u64,
        chunk: usize,
    },
    /// Downloading chunk `chunk` of download record `index`.
    Download {
        index: u64,
        chunk: usize,
    },
}

enum DeviceStage {
    /// Registering a new device at the relay.
    Register,
    /// Leaving its sealed grant in its inbox.
    Grant,
    /// Telling the person's other devices that this one is ready.
    Announce,
    /// Leaving a join request in a space card issuer's inbox.
    Request,
    /// Revoking a device at the relay.
    Revoke,
}

/// Device-level work, persisted until done.
#[derive(Serialize, Deserialize)]
enum DeviceItem {
    /// Register the device of this link request and send it its grant.
    Link { request: Vec<u8> },
    /// Tell the person's other devices that this (newly linked) one is ready.
    Announce,
    /// Leave a sealed join request in a space card issuer's inbox.
    JoinRequest { device: [u8; 16], item: Vec<u8> },
    /// Revoke one of this person's devices at the relay.
    Revoke { device: [u8; 16] },
    /// Leave the person's newest roster (a contact card) in their other devices'
    /// inboxes.
    Roster { card: Vec<u8> },
    /// The same, for the roster that replaced the identity key: sealed also under the
    /// devices' `previous` certificates, the ones they hold until they read it.
    RosterAfterRotation { card: Vec<u8>, previous: Vec<Vec<u8>> },
}

enum OutboxStage {
    Single,
    Claim {
        operation: Operation,
    },
    Commit {
        welcome: Option<(Vec<DeviceId>, Vec<u8>)>,
        /// The history grant for the people added, in parts (application payloads).
        grants: Vec<Vec<u8>>,
    },
    /// This device's leave proposal.
    Leave,
}

struct Space {
    group: MlsGroup,
    meta: GroupMeta,
}

/// What a commit judged acceptable brings: the certificates it adds, and this
/// person's devices it removes (revoked by another of them).
struct CommitVerdict {
    added: Vec<DeviceCertificate>,
    revoked: Vec<DeviceId>,
}

/// The connection's state as the engine sees it.
/// The client engine of one profile.
pub struct Engine {
    vault: Arc<Vault>,
    provider: Provider,
    /// The person's identity key.
    identity: IdentityPublicKey,
    /// Its secret, on the device that holds it; `None` on a linked device.
    identity_key: Option<IdentityKey>,
    /// The person's newest roster (contact card) this device holds.
    card: Option<ContactCard>,
    /// Device-ready notices and join requests taken: digest and issue time.
    replay: BTreeMap<[u8; 32], u64>,
    /// How this identity key replaced the previous one, if it did.
    transition: Option<IdentityTransition>,
    /// After a recovery: the old key, until the transition is signed with it.
    rotate_from: Option<IdentityKey>,
    device: DeviceKeys,
    name: DisplayName,
    account: Option<AccountId>,
    certificate: Option<DeviceCertificate>,
    /// The certificates of this person's other devices.
    devices: Vec<DeviceCertificate>,
    /// Spaces this person asked to join.
    requested: BTreeSet<GroupId>,
    /// Per space: the epoch of the last "stale epoch" answers, and how many came in it.
    stale: BTreeMap<GroupId, (Option<u64>, u32)>,
    /// The people met, and the identity key held for each.
    contacts: ContactBook,
    /// Where the relay is.
    relay: Option<RelayEndpoint>,
    /// The invitation being redeemed, as given (kept until the account exists).
    pending_invitation: Option<Invitation>,
    /// The link offer this device showed, until a request answers it.
    link_offer: Option<LinkOffer>,
    next_device_item: u64,
    invitation: Option<InvitationToken>,
    spaces: BTreeMap<GroupId, Space>,
    jobs: VecDeque<Job>,
    in_flight: Option<(RequestId, Step)>,
    /// A request that continues the step just answered; sent before other jobs.
    follow_up: Option<(RequestBody, Step)>,
    next_request: u64,
    next_outbox: u64,
    events: VecDeque<ClientEvent>,
    session: SignIn,
    now: Now,
    /// After a transient refusal (rate limit, relay failure): when to try again, and
    /// how many times in a row it happened.
    retry_at: Option<Now>,
    failures: u32,
    /// The sealed chunk being downloaded: record, chunk, bytes so far.
    download_buffer: Option<(u64, usize, Vec<u8>)>,
    /// Chunks refused (or missing) in a row.
    transfer_failures: u32,
    /// Build commits without checking this person's own role, as a modified client
    /// would, to show that the other devices refuse them. Only `adversary` (a feature no
    /// client enables) sets it: in a client it stays `false`.
    skip_own_checks: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("identity", &self.identity).field("spaces", &self.spaces.len()).finish()
    }
}

fn mls_error(error: impl std::fmt::Display) -> CoreError {
    CoreError::Mls(error.to_string())
}

fn encode<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>> {
    postcard::to_allocvec(value).map(Zeroizing::new).map_err(|_| CoreError::Store("a record did not encode".into()))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|_| CoreError::CorruptProfile("a stored record does not decode"))
}

fn openmls_group_id(group: &GroupId) -> openmls::group::GroupId {
    openmls::group::GroupId::from_slice(group.as_bytes())
}

fn our_group_id(group: &openmls::group::GroupId) -> Result<GroupId> {
    let bytes: [u8; 16] =
        group.as_slice().try_into().map_err(|_| CoreError::Verification("group id is not 16 bytes"))?;
    Ok(GroupId::from_bytes(bytes))
}

fn seq(value: u64) -> Result<Seq> {
    Seq::new(value).map_err(CoreError::Decode)
}

fn role_from(tag: u8) -> Result<Role> {
    Role::from_wire(&[tag]).map_err(CoreError::Decode)
}

fn random_content_id() -> ContentId {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    ContentId::from_bytes(bytes)
}

impl Engine {
    /// Creates a new profile's engine state in an empty vault: a fresh identity key and
    /// device keys. The device becomes usable at the relay after
    /// [`Engine::set_invitation`] and a connection.
    ///
    /// # Errors
    /// [`CoreError::ProfileExists`] when the vault already holds a profile.
    pub fn create(vault: Arc<Vault>, name: DisplayName) -> Result<Self> {
        if vault.get(NS_PROFILE, PROFILE_KEY)?.is_some() || vault.get(NS_PROFILE, b"me")?.is_some() {
            return Err(CoreError::ProfileExists(vault.dir().display().to_string()));
        }
        let engine = Self::assemble(vault, IdentityKey::generate(), DeviceKeys::generate(), name, None, None, 0);
        engine.save_profile()?;
        engine.vault.commit()?;
        Ok(engine)
    }

    /// Creates the engine of a profile restored from recovery words after every device
    /// of the person was lost: the same identity key, a new device, no relay account
    /// yet (join a relay with a new invitation) and no space until a space manager of
    /// each re-admits it ([`Engine::readmit`]) from its contact card.
    ///
    /// # Errors
    /// [`CoreError::ProfileExists`] if the vault already holds a profile; store errors.
    pub fn recover(vault: Arc<Vault>, name: DisplayName, words: &RecoveryWords) -> Result<Self> {
        if vault.get(NS_PROFILE, PROFILE_KEY)?.is_some() || vault.get(NS_PROFILE, b"me")?.is_some() {
            return Err(CoreError::ProfileExists(vault.dir().display().to_string()));
        }
        // The words' key may be in other hands too (on a seized phone): the restored
        // identity moves at once to a new key, with a transition signed by the old
        // one (when the account exists), which contacts see.
        let mut engine = Self::assemble(vault, IdentityKey::generate(), DeviceKeys::generate(), name, None, None, 0);
        engine.rotate_from = Some(words.identity_key()?);
        engine.save_profile()?;
        engine.vault.commit()?;
        Ok(engine)
    }

    /// Loads the engine of an existing profile, with its spaces and outbox.
    ///
    /// # Errors
    /// [`CoreError::NoProfile`] when the vault is empty; store errors.
    pub fn load(vault: Arc<Vault>) -> Result<Self> {
        let record = match vault.get(NS_PROFILE, PROFILE_KEY)? {
            Some(bytes) => match bytes.split_first() {
                Some((&PROFILE_RECORD_VERSION, rest)) => decode::<ProfileRecord>(rest)?,
                _ => return Err(CoreError::CorruptProfile("a profile record of an unknown version")),
            },
            None => {
                let bytes = vault
                    .get(NS_PROFILE, b"me")?
                    .ok_or_else(|| CoreError::NoProfile(vault.dir().display().to_string()))?;
                Self::migrate_profile(&decode::<ProfileRecordV1>(&bytes)?)?
            }
        };
        let identity = IdentityPublicKey::from_bytes(record.identity);
        let identity_key = record.identity_secret.as_ref().map(IdentityKey::from_secret);
        if identity_key.as_ref().is_some_and(|k| k.public() != identity) {
            return Err(CoreError::CorruptProfile("the identity key does not match the profile"));
        }
        let device = DeviceKeys {
            auth: ed25519_dalek::SigningKey::from_bytes(&record.auth),
            mls: ed25519_dalek::SigningKey::from_bytes(&record.mls),
        };
        let certificate = record.certificate.as_deref().map(DeviceCertificate::from_verified_bytes).transpose()?;
        let mut engine = Self::assemble_with(
            vault.clone(),
            identity,
            identity_key,
            device,
            DisplayName::new(record.name.clone())?,
            record.account.map(AccountId::from_bytes),
            certificate,
            record.next_outbox,
        );
        engine.next_device_item = record.next_device_item;
        engine.requested = record.requested.iter().map(|g| GroupId::from_bytes(*g)).collect();
        engine.relay = record.relay.as_deref().map(RelayEndpoint::from_stored).transpose()?;
        engine.replay = record.replay.iter().copied().collect();
        engine.transition = record
            .transition
            .as_deref()
            .map(IdentityTransition::from_wire)
            .transpose()
            .map_err(|_| CoreError::CorruptProfile("the stored identity transition does not decode"))?;
        engine.rotate_from = record.rotate_from.as_ref().map(IdentityKey::from_secret);
        engine.link_offer = record
            .link_offer
            .as_deref()
            .map(LinkOffer::from_wire)
            .transpose()
            .map_err(|_| CoreError::CorruptProfile("the stored link offer does not decode"))?;
        if let Some(bytes) = &record.invitation {
            let invitation = Invitation::from_wire(bytes)
                .map_err(|_| CoreError::CorruptProfile("the stored invitation does not decode"))?;
            engine.invitation = Some(invitation.token().clone());
            engine.pending_invitation = Some(invitation);
        }
        if let Some(bytes) = vault.get(NS_PROFILE, CONTACTS_KEY)? {
            engine.contacts = ContactBook::from_bytes(&bytes)?;
        } else if let Some(bytes) = vault.get(NS_PROFILE, b"contacts")? {
            engine.contacts = ContactBook::from_bytes_v1(&bytes)?;
            vault.put(NS_PROFILE, CONTACTS_KEY, &engine.contacts.to_bytes()?)?;
            vault.remove(NS_PROFILE, b"contacts");
        }
        if let Some(bytes) = &record.card {
            engine.adopt_own_card(ContactCard::from_wire(bytes)?)?;
        }
        if vault.get(NS_PROFILE, PROFILE_KEY)?.is_none() {
            // Migrated from release 0.1: written in this release's form once.
            engine.save_profile()?;
            vault.remove(NS_PROFILE, b"me");
            vault.commit()?;
        }
        if let Some(list) = vault.get(NS_GROUPS, b"list")? {
            let groups: Vec<[u8; 16]> = decode(&list)?;
            let mut migrated = Vec::new();
            for id in groups {
                let group_id = GroupId::from_bytes(id);
                let group = MlsGroup::load(engine.provider.storage(), &openmls_group_id(&group_id))
                    .map_err(mls_error)?
                    .ok_or(CoreError::CorruptProfile("MLS state of a space is missing"))?;
                let mut meta: GroupMeta = match vault.get(NS_SPACES, &id)? {
                    Some(bytes) => match bytes.split_first() {
                        Some((&SPACE_RECORD_VERSION, rest)) => decode(rest)?,
                        Some((&SPACE_RECORD_VERSION_2, rest)) => {
                            migrated.push(group_id);
                            decode(rest)?
                        }
                        _ => return Err(CoreError::CorruptProfile("a space record of an unknown version")),
                    },
                    None => {
                        let old: GroupMetaV1 = decode(
                            &vault.get(NS_GROUPS, &id)?.ok_or(CoreError::CorruptProfile("group record missing"))?,
                        )?;
                        migrated.push(group_id);
                        let mut meta = GroupMeta::from_v1(&old);
                        if crate::mls::ledger_of(group.extensions())?.is_none() {
                            // Its history keys were chosen by members: it is read-only
                            // until a space manager recreates it.
                            meta.stalled = true;
                            meta.stalled_by = None;
                        }
                        meta
                    }
                };
                // Items applied, as earlier records listed them: one row each now.
                for item in std::mem::take(&mut meta.seen) {
                    vault.put(&seen_namespace(&group_id), &item, &[])?;
                }
                engine.spaces.insert(group_id, Space { group, meta });
            }
            for group in migrated {
                engine.save_group(&group)?;
                vault.remove(NS_GROUPS, group.as_bytes());
            }
            vault.commit()?;
        }
        Ok(engine)
    }

    /// Opens the profile in `dir`: its engine, or — given the profile's duress
    /// passphrase — the engine of the decoy profile made when the duress passphrase was
    /// set, the real one destroyed.
    ///
    /// # Errors
    /// As [`Vault::open`] and [`Engine::load`].
    pub fn open(dir: &std::path::Path, unlock: &crate::vault::Unlock) -> Result<Self> {
        match Vault::open_or_duress(dir, unlock)? {
            crate::vault::Opened::Profile(vault) | crate::vault::Opened::Duress { vault } => {
                Self::load(Arc::new(vault))
            }
            crate::vault::Opened::LegacyDuress { vault, decoy_name } => {
                Self::create(Arc::new(vault), DisplayName::new(decoy_name)?)
            }
        }
    }

    /// Sets the duress passphrase: opening the profile with it destroys this profile
    /// and opens a decoy in its place. The decoy is made now, so that it is there before
    /// anything is ever wiped and its age is its own: a complete profile named
    /// `decoy_name`, which joins the relay with `invitation` when given (connect the
    /// returned engine once, so that it opens its own account now), and holds no
    /// space, no contact, nothing of this one. A decoy set before is replaced.
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] unless `current` opens the profile;
    /// [`CoreError::Invalid`] for a duress passphrase that may not protect a profile
    /// or is the profile's own.
    pub fn set_duress_passphrase(
        &self,
        current: &crate::vault::Unlock,
        duress: &crate::vault::Passphrase,
        decoy_name: &DisplayName,
        invitation: Option<&Invitation>,
    ) -> Result<Engine> {
        let decoy = Arc::new(self.vault.make_decoy(current, duress)?);
        let mut engine = Self::create(decoy, decoy_name.clone())?;
        engine.set_now(self.now);
        if let Some(invitation) = invitation {
            engine.join_relay(invitation)?;
        }
        Ok(engine)
    }

    /// Changes what opens the profile (a new passphrase, a keystore key, or both), and
    /// replaces the key that seals the store: an old copy of the profile's header and
    /// the old passphrase open nothing stored from now on ([`Vault::change_unlock`]).
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] unless `current` opens the profile;
    /// [`CoreError::Invalid`] for a passphrase that may not protect a profile.
    pub fn change_unlock(&self, current: &crate::vault::Unlock, new: &crate::vault::Unlock) -> Result<()> {
        self.vault.change_unlock(current, new)
    }

    /// The panic wipe: closes the engine and destroys the profile ([`Vault::wipe`]).
    /// Afterwards nothing in the profile directory can be read with any passphrase.
    ///
    /// # Errors
    /// I/O errors.
    pub fn panic_wipe(self) -> Result<()> {
        let dir = self.vault.dir().to_path_buf();
        drop(self);
        Vault::wipe(&dir)
    }

    /// Release 0.1's profile record in this release's form: every device held the
    /// identity key then, so a migrated device is an identity holder; its roster is the
    /// card of its devices as they were, at version 1.
    fn migrate_profile(old: &ProfileRecordV1) -> Result<ProfileRecord> {
        let identity = IdentityKey::from_secret(&old.identity);
        let mut devices: Vec<DeviceCertificate> = Vec::new();
        for bytes in old.certificate.iter().chain(old.devices.iter()) {
            devices.push(DeviceCertificate::from_verified_bytes(bytes)?);
        }
        let card = if devices.is_empty() {
            None
        } else {
            let at = devices
                .iter()
                .map(|c| c.body.created_at)
                .max()
                .unwrap_or(UnixSeconds::new(0).map_err(CoreError::Decode)?);
            Some(ContactCard::issue(&identity, 1, devices, at, None)?.to_wire())
        };
        Ok(ProfileRecord {
            identity: *identity.public().as_bytes(),
            identity_secret: Some(*identity.to_secret()),
            auth: old.auth,
            mls: old.mls,
            name: old.name.clone(),
            account: old.account,
            certificate: old.certificate.clone(),
            card,
            next_outbox: old.next_outbox,
            next_device_item: old.next_device_item,
            requested: old.requested.clone(),
            relay: old.relay.clone(),
            invitation: old.invitation.clone(),
            link_offer: None,
            replay: Vec::new(),
            transition: None,
            rotate_from: None,
        })
    }

    fn assemble(
        vault: Arc<Vault>,
        identity: IdentityKey,
        device: DeviceKeys,
        name: DisplayName,
        account: Option<AccountId>,
        certificate: Option<DeviceCertificate>,
        next_outbox: u64,
    ) -> Self {
        Self::assemble_with(vault, identity.public(), Some(identity), device, name, account, certificate, next_outbox)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble_with(
        vault: Arc<Vault>,
        identity: IdentityPublicKey,
        identity_key: Option<IdentityKey>,
        device: DeviceKeys,
        name: DisplayName,
        account: Option<AccountId>,
        certificate: Option<DeviceCertificate>,
        next_outbox: u64,
    ) -> Self {
        let provider = Provider::new(MlsStorage::new(vault.clone()));
        Self {
            vault,
            provider,
            identity,
            identity_key,
            card: None,
            replay: BTreeMap::new(),
            transition: None,
            rotate_from: None,
            device,
            name,
            account,
            certificate,
            devices: Vec::new(),
            requested: BTreeSet::new(),
            stale: BTreeMap::new(),
            contacts: ContactBook::default(),
            relay: None,
            pending_invitation: None,
            link_offer: None,
            next_device_item: 0,
            invitation: None,
            spaces: BTreeMap::new(),
            jobs: VecDeque::new(),
            in_flight: None,
            follow_up: None,
            next_request: 1,
            next_outbox,
            events: VecDeque::new(),
            session: SignIn::Offline,
            now: 0,
            retry_at: None,
            failures: 0,
            download_buffer: None,
            transfer_failures: 0,
            skip_own_checks: false,
        }
    }

    fn save_profile(&self) -> Result<()> {
        let record = ProfileRecord {
            identity: *self.identity.as_bytes(),
            identity_secret: self.identity_key.as_ref().map(|k| *k.to_secret()),
            auth: self.device.auth.to_bytes(),
            mls: self.device.mls.to_bytes(),
            name: self.name.as_str().to_owned(),
            account: self.account.map(|a| *a.as_bytes()),
            certificate: self.certificate.as_ref().map(Wire::to_wire),
            card: self.card.as_ref().map(Wire::to_wire),
            next_outbox: self.next_outbox,
            next_device_item: self.next_device_item,
            requested: self.requested.iter().map(|g| *g.as_bytes()).collect(),
            relay: self.relay.as_ref().map(Wire::to_wire),
            invitation: self.pending_invitation.as_ref().map(Wire::to_wire),
            link_offer: self.link_offer.as_ref().map(Wire::to_wire),
            replay: self.replay.iter().map(|(d, at)| (*d, *at)).collect(),
            transition: self.transition.as_ref().map(Wire::to_wire),
            rotate_from: self.rotate_from.as_ref().map(|k| *k.to_secret()),
        };
        let mut bytes = Zeroizing::new(vec![PROFILE_RECORD_VERSION]);
        bytes.extend_from_slice(&encode(&record)?);
        self.vault.put(NS_PROFILE, PROFILE_KEY, &bytes)
    }

    /// The identity key, on the device that holds it.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a linked device, which never holds it.
    fn identity_key(&self) -> Result<&IdentityKey> {
        self.identity_key.as_ref().ok_or(CoreError::Forbidden(
            "only the device that holds the identity key does this (the one that created it, or one restored from the recovery words)",
        ))
    }

    /// Takes `card` as this person's newest roster: the other devices it lists are
    /// this person's devices. A roster that does not list this device means another
    /// device revoked it.
    fn adopt_own_card(&mut self, card: ContactCard) -> Result<()> {
        if card.body.identity != self.identity {
            return Err(CoreError::Verification("a roster of another person"));
        }
        if self.card.as_ref().is_some_and(|held| held.body.version > card.body.version) {
            return Ok(());
        }
        let me = self.device.device_id();
        self.devices = card.body.devices.iter().filter(|c| c.body.device != me).cloned().collect();
        self.card = Some(card);
        Ok(())
    }

    /// The next roster of this person, with `devices` (this device's certificate
    /// first), signed by the identity key; taken as this person's own.
    fn issue_roster(&mut self, devices: Vec<DeviceCertificate>) -> Result<ContactCard> {
        let version = self.card.as_ref().map_or(1, |c| c.body.version.saturating_add(1));
        let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
        let card = ContactCard::issue(self.identity_key()?, version, devices, at, self.transition.clone())?;
        self.adopt_own_card(card.clone())?;
        Ok(card)
    }

    /// Whether the device of `certificate` may speak for its person: on this
    /// person's own newest roster, or on the newest roster seen of its person.
    fn device_allowed(&self, certificate: &CertificateBody) -> bool {
        let previous = self.transition.as_ref().map(|t| t.body.previous);
        if certificate.identity == self.identity || Some(certificate.identity) == previous {
            return self.card.as_ref().is_none_or(|card| card.lists(&certificate.device, &certificate.mls_key));
        }
        self.contacts.allows(certificate)
    }

    /// Sends this person's newest roster to every space this device is in, so that
    /// members refuse the devices it no longer lists (and take those it adds).
    fn announce_roster(&mut self) -> Result<()> {
        let Some(card) = self.card.clone() else { return Ok(()) };
        let spaces: Vec<GroupId> =
            self.spaces.iter().filter(|(_, s)| !s.meta.removed && !s.meta.stalled).map(|(id, _)| *id).collect();
        for space in spaces {
            self.enqueue(OutboxItem::Roster { group: *space.as_bytes(), card: card.to_wire() })?;
        }
        Ok(())
    }

    /// Takes a roster seen in a space or an inbox: this person's own, or a contact's.
    fn observe_roster(&mut self, card: &ContactCard, space: Option<GroupId>) -> Result<()> {
        card.verify()?;
        if let Some(transition) = &card.body.transition
            && transition.body.previous == self.identity
            && card.body.identity != self.identity
        {
            // The holder of this person's identity key replaced it: this device takes
            // its new certificate and moves its place in every space to it.
            let me = self.device.device_id();
            let Some(mine) = card.body.devices.iter().find(|c| c.body.device == me).cloned() else {
                self.warn(
                    space,
                    "this person's identity key was replaced, and this device was left out: it was revoked",
                );
                return Ok(());
            };
            if mine.body.mls_key != self.device.mls_public() || card.account() != self.account {
                return Err(CoreError::Verification("a new roster that certifies another key for this device"));
            }
            self.identity = card.body.identity;
            self.transition = Some(transition.clone());
            self.certificate = Some(mine);
            self.card = None;
            self.adopt_own_card(card.clone())?;
            self.move_to_new_identity()?;
            self.save_profile()?;
            return Ok(());
        }
        if card.body.identity == self.identity {
            let me = self.device.device_id();
            let newer = self.card.as_ref().is_none_or(|held| card.body.version > held.body.version);
            if newer {
                if self.account.is_some() && card.account() != self.account {
                    return Err(CoreError::Verification("a roster of this person under another account"));
                }
                let revoked = !card.body.devices.iter().any(|c| c.body.device == me);
                self.adopt_own_card(card.clone())?;
                self.save_profile()?;
                if revoked {
                    self.warn(space, "another device of this person revoked this device");
                }
            }
            return Ok(());
        }
        match self.contacts.observe_card(card, self.now)? {
            crate::contacts::CardSighting::Conflict => {
                self.warn(space, "two different device lists of one person under the same version: their identity key may be in other hands");
            }
            crate::contacts::CardSighting::Rotated { previous } => {
                let name = card.name().map(ToString::to_string).unwrap_or_default();
                // Names stay out of logs: a log is readable by whoever has the device.
                tracing::warn!(space = ?space, "a contact's identity key was replaced");
                self.events.push_back(ClientEvent::IdentityRotated {
                    account: card.account().ok_or(CoreError::Verification("a card without devices"))?,
                    name,
                    previous,
                    current: card.body.identity,
                });
            }
            crate::contacts::CardSighting::Newer => {}
            _ => return Ok(()),
        }
        self.vault.put(NS_PROFILE, CONTACTS_KEY, &self.contacts.to_bytes()?)?;
        Ok(())
    }

    /// Remembers a notice or request by `digest`, issued at `at`; refuses one seen
    /// before or older than [`crate::link::MAX_NOTICE_AGE_SECS`].
    fn check_fresh(&mut self, digest: [u8; 32], at: u64) -> Result<()> {
        let window = crate::link::MAX_NOTICE_AGE_SECS;
        if at.saturating_add(window) < self.now || at > self.now.saturating_add(window) {
            return Err(CoreError::Verification("a notice too old, or dated in the future"));
        }
        if self.replay.contains_key(&digest) {
            return Err(CoreError::Verification("a notice already taken (a replay)"));
        }
        let now = self.now;
        self.replay.retain(|_, issued| issued.saturating_add(window) >= now);
        if self.replay.len() >= MAX_REPLAY_ENTRIES
            && let Some(oldest) = self.replay.iter().min_by_key(|(_, at)| **at).map(|(d, _)| *d)
        {
            self.replay.remove(&oldest);
        }
        self.replay.insert(digest, at);
        Ok(())
    }

    /// Records a certificate seen (a member, an invitee, someone asking to join); a
    /// known account shown with another identity key is reported once.
    fn observe(&mut self, certificate: &CertificateBody, space: Option<GroupId>) -> Result<()> {
        if certificate.identity == self.identity {
            return Ok(());
        }
        let sighting = self.contacts.observe(certificate, self.now)?;
        if let Sighting::Changed { previous, was_verified } = sighting {
            let name = self.contacts.get(&certificate.account).map(|c| c.name.clone()).unwrap_or_default();
            tracing::warn!(space = ?space, "a contact's identity key changed");
            self.events.push_back(ClientEvent::IdentityChanged {
                account: certificate.account,
                name,
                previous,
                current: certificate.identity,
                was_verified,
            });
        }
        if sighting != Sighting::StillChanged {
            self.vault.put(NS_PROFILE, CONTACTS_KEY, &self.contacts.to_bytes()?)?;
        }
        Ok(())
    }

    /// Records a contact card's devices and refuses it while its person's account is
    /// known under another identity key.
    fn trust_card(&mut self, card: &ContactCard) -> Result<()> {
        for certificate in card.body.devices.as_slice() {
            self.observe(&certificate.body, None)?;
        }
        for certificate in card.body.devices.as_slice() {
            self.contacts.check(&certificate.body.account, &certificate.body.identity)?;
        }
        self.observe_roster(card, None)?;
        if !card.body.devices.iter().any(|c| self.device_allowed(&c.body)) {
            return Err(CoreError::Verification(
                "a contact card older than the person's newest roster: ask them for a new one",
            ));
        }
        Ok(())
    }

    fn save_group(&self, group: &GroupId) -> Result<()> {
        if let Some(space) = self.spaces.get(group) {
            let mut record = Zeroizing::new(vec![SPACE_RECORD_VERSION]);
            record.extend_from_slice(&encode(&space.meta)?);
            self.vault.put(NS_SPACES, group.as_bytes(), &record)?;
        }
        let list: Vec<[u8; 16]> = self.spaces.keys().map(|g| *g.as_bytes()).collect();
        self.vault.put(NS_GROUPS, b"list", &encode(&list)?)
    }

    /// Commits this step's writes; on failure, forgets them so memory and disk agree on
    /// the last good state at the next load.
    fn persist(&self) -> Result<()> {
        self.vault.commit().inspect_err(|_| self.vault.rollback())
    }

    // -----------------------------------------------------------------------------
    // Identity.

    /// This person's identity key.
    pub fn identity(&self) -> IdentityPublicKey {
        self.identity
    }

    /// The profile's directory.
    pub fn profile_dir(&self) -> &std::path::Path {
        self.vault.dir()
    }

    /// This device's id at the relay.
    pub fn device_id(&self) -> DeviceId {
        self.device.device_id()
    }

    /// This person's display name.
    pub fn name(&self) -> &DisplayName {
        &self.name
    }

    /// The relay account, once created.
    pub fn account(&self) -> Option<AccountId> {
        self.account
    }

    /// The device's authentication key, for the transport's login.
    pub fn auth_key(&self) -> &ed25519_dalek::SigningKey {
        &self.device.auth
    }

    /// This person's recovery words: the identity key as 24 words, to be written down
    /// and kept away from the device ([`crate::recovery`]).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a linked device, which does not hold the identity
    /// key.
    pub fn recovery_words(&self) -> Result<RecoveryWords> {
        RecoveryWords::of(self.identity_key()?)
    }

    /// Whether this device holds the person's identity key (it created the identity,
    /// or was restored from the recovery words). Only such a device links and revokes
    /// devices and shows the recovery words.
    pub fn holds_identity_key(&self) -> bool {
        self.identity_key.is_some()
    }

    /// The contact card to hand to people who will invite this person: the person's
    /// newest roster.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] before the account exists.
    pub fn contact_card(&self) -> Result<ContactCard> {
        self.card.clone().ok_or(CoreError::NotFound("no account yet: join a relay first"))
    }

    /// The certificates of this person's devices, this one first.
    pub fn devices(&self) -> Vec<DeviceCertificate> {
        self.certificate.iter().chain(self.devices.iter()).cloned().collect()
    }

    /// The people this device has met in its spaces, with the identity key held for
    /// each and whether it was verified.
    pub fn contacts(&self) -> Vec<Contact> {
        self.contacts.all()
    }

    /// The sixty digits to compare with `person` (the same on both phones).
    pub fn safety_number(&self, person: &IdentityPublicKey) -> SafetyNumber {
        SafetyNumber::between(&self.identity, person)
    }

    /// The code to show `person` as a QR code, for them to scan.
    pub fn verification_code(&self, person: &IdentityPublicKey) -> VerificationCode {
        VerificationCode::new(self.identity, *person)
    }

    /// Checks a code scanned from `person`'s screen; on a match, the contact is marked
    /// verified.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the bytes are not a code; [`CoreError::NotFound`]
    /// when `person` is no contact.
    pub fn check_scanned_code(&mut self, scanned: &[u8], person: &IdentityPublicKey) -> Result<VerificationOutcome> {
        let outcome = VerificationCode::check_scanned(scanned, &self.identity, person)?;
        if outcome == VerificationOutcome::Verified {
            self.mark_verified(person)?;
        }
        Ok(outcome)
    }

    /// Marks `person` verified: the safety numbers were compared and are the same.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when `person` is no contact.
    pub fn mark_verified(&mut self, person: &IdentityPublicKey) -> Result<()> {
        self.contacts.mark_verified(person)?;
        self.vault.put(NS_PROFILE, CONTACTS_KEY, &self.contacts.to_bytes()?)?;
        self.persist()
    }

    /// Takes the changed identity key of `account` as the person's (unverified), after
    /// the person compared safety numbers with them.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when no change waits for that account.
    pub fn accept_identity_change(&mut self, account: &AccountId) -> Result<Contact> {
        let contact = self.contacts.accept_change(account)?;
        self.vault.put(NS_PROFILE, CONTACTS_KEY, &self.contacts.to_bytes()?)?;
        self.persist()?;
        Ok(contact)
    }

    /// Revokes another of this person's devices (lost, seized): the relay refuses it
    /// from then on, and it is removed from every space this device shares with it,
    /// each removal rotating the space's history key. Contact cards no longer list it.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when it is not one of this person's other devices.
    pub fn revoke_device(&mut self, device: &DeviceId) -> Result<()> {
        if device == &self.device.device_id() {
            return Err(CoreError::Invalid("a device does not revoke itself: use the panic wipe".into()));
        }
        self.identity_key()?;
        if !self.devices.iter().any(|c| &c.body.device == device) {
            return Err(CoreError::NotFound("one of this person's other devices"));
        }
        // The next roster, without it: every member refuses it from the moment they
        // read that roster, before its removal from each space is even committed.
        let remaining: Vec<DeviceCertificate> = self
            .certificate
            .iter()
            .cloned()
            .chain(self.devices.iter().filter(|c| &c.body.device != device).cloned())
            .collect();
        let card = self.issue_roster(remaining)?;
        let index = self.next_device_item;
        self.next_device_item += 1;
        self.vault.put_ordered(
            NS_DEVICE_OUTBOX,
            index,
            &encode(&DeviceItem::Revoke { device: *device.as_bytes() })?,
        )?;
        self.queue_roster_notice(&card)?;
        self.announce_roster()?;
        let spaces: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(_, s)| !s.meta.removed && !s.meta.stalled && Self::has_device(&s.group, device))
            .map(|(id, _)| *id)
            .collect();
        for space in spaces {
            self.enqueue(OutboxItem::Operation {
                group: *space.as_bytes(),
                operation: Operation::RemoveDevice { device: *device.as_bytes() },
            })?;
        }
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(())
    }

    /// Replaces this person's identity key (on the device that holds it): a new key,
    /// a transition signed by the old and the new, every device of the person
    /// certified again under the new key (same devices, same keys), a new roster that
    /// carries the transition, sent to every space and every device of the person;
    /// then each device moves its own place in every space to its new certificate,
    /// keeping its role. Contacts see the change of key, signed by the old one.
    ///
    /// Do it when a device that held the identity key is lost or seized (see
    /// [`Engine::restore_identity_key`]), then revoke that device. Show the person the
    /// new recovery words: the old ones no longer make a roster anyone takes.
    ///
    /// The devices in `lost` are left out of the new roster and revoked (at the relay
    /// and in every space).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a device that does not hold the identity key;
    /// [`CoreError::Invalid`] when `lost` names this device.
    pub fn rotate_identity(&mut self, lost: &[DeviceId]) -> Result<()> {
        if lost.contains(&self.device.device_id()) {
            return Err(CoreError::Invalid("a device does not revoke itself: use the panic wipe".into()));
        }
        let old = self.identity_key()?;
        let next = IdentityKey::generate();
        let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
        let transition = IdentityTransition::sign(old, &next, at);
        let mut devices = Vec::new();
        for certificate in self.devices().into_iter().filter(|c| !lost.contains(&c.body.device)) {
            let body = CertificateBody { identity: next.public(), created_at: at, ..certificate.body };
            devices.push(DeviceCertificate::issue(&next, body)?);
        }
        let previous: Vec<Vec<u8>> = self.devices.iter().map(Wire::to_wire).collect();
        let gone: Vec<DeviceId> = self.devices.iter().map(|c| c.body.device).filter(|d| lost.contains(d)).collect();
        for device in &gone {
            let index = self.next_device_item;
            self.next_device_item += 1;
            self.vault.put_ordered(
                NS_DEVICE_OUTBOX,
                index,
                &encode(&DeviceItem::Revoke { device: *device.as_bytes() })?,
            )?;
        }
        self.identity = next.public();
        self.identity_key = Some(next);
        self.transition = Some(transition);
        self.certificate = devices.first().cloned();
        let card = self.issue_roster(devices)?;
        let index = self.next_device_item;
        self.next_device_item += 1;
        self.vault.put_ordered(
            NS_DEVICE_OUTBOX,
            index,
            &encode(&DeviceItem::RosterAfterRotation { card: card.to_wire(), previous })?,
        )?;
        self.move_to_new_identity()?;
        for device in gone {
            let spaces: Vec<GroupId> = self
                .spaces
                .iter()
                .filter(|(_, s)| !s.meta.removed && !s.meta.stalled && Self::has_device(&s.group, &device))
                .map(|(id, _)| *id)
                .collect();
            for space in spaces {
                self.enqueue(OutboxItem::Operation {
                    group: *space.as_bytes(),
                    operation: Operation::RemoveDevice { device: *device.as_bytes() },
                })?;
            }
        }
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(())
    }

    /// Makes this device, which lost the identity key's holder (seized, or gone), the
    /// holder again from the recovery words, and replaces the key at once
    /// ([`Engine::rotate_identity`]), revoking the `lost` devices: whoever has the old
    /// key (the seized device) can no longer make a roster anyone takes.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the words are not this person's identity key.
    pub fn restore_identity_key(&mut self, words: &RecoveryWords, lost: &[DeviceId]) -> Result<()> {
        let key = words.identity_key()?;
        if key.public() != self.identity {
            return Err(CoreError::Verification("these recovery words are another person's"));
        }
        self.identity_key = Some(key);
        self.rotate_identity(lost)
    }

    /// After this person's identity key was replaced: the new roster goes to every
    /// space, and this device moves its place in each to its new certificate.
    fn move_to_new_identity(&mut self) -> Result<()> {
        self.announce_roster()?;
        let spaces: Vec<GroupId> =
            self.spaces.iter().filter(|(_, s)| !s.meta.removed && !s.meta.stalled).map(|(id, _)| *id).collect();
        for space in spaces {
            self.enqueue(OutboxItem::Operation { group: *space.as_bytes(), operation: Operation::RotateIdentity })?;
        }
        Ok(())
    }

    /// Whether a signed transition from `previous` to `next` is known here.
    fn transition_known(&self, previous: &IdentityPublicKey, next: &IdentityPublicKey) -> bool {
        self.transition.as_ref().is_some_and(|t| &t.body.previous == previous && &t.body.next == next)
            || self.contacts.knows_transition(previous, next)
    }

    /// Queues the person's newest roster for their other devices' inboxes.
    fn queue_roster_notice(&mut self, card: &ContactCard) -> Result<()> {
        let index = self.next_device_item;
        self.next_device_item += 1;
        self.vault.put_ordered(NS_DEVICE_OUTBOX, index, &encode(&DeviceItem::Roster { card: card.to_wire() })?)
    }

    /// Starts linking a new device: the offer to show it (QR code or text). A new offer
    /// replaces the previous one.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] before the account exists.
    pub fn link_offer(&mut self) -> Result<LinkOffer> {
        self.identity_key()?;
        let account = self.account.ok_or(CoreError::NotFound("no account yet: join a relay first"))?;
        let relay = self.relay.clone().ok_or(CoreError::NotFound("the relay's address: join a relay first"))?;
        let offer = LinkOffer::new(account, self.identity, relay);
        self.link_offer = Some(offer.clone());
        // Kept until answered, so the request may come after a restart.
        self.save_profile()?;
        self.persist()?;
        Ok(offer)
    }

    /// The six digits the new device shows for `request`, computed with this device's
    /// open offer, for the person to compare before approving.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when no offer is open here.
    pub fn link_confirmation_code(&self, request: &LinkRequest) -> Result<String> {
        let offer = self.link_offer.as_ref().ok_or(CoreError::Verification("no link offer is open on this device"))?;
        Ok(request.confirmation_code(offer))
    }

    /// Approves the new device's request (the person confirmed its name and
    /// [`LinkRequest::confirmation_code`]): certifies it, registers it at the relay and
    /// sends it the identity key, sealed to it, through its inbox. Returns its
    /// certificate.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the request does not answer this device's
    /// current offer or does not verify.
    pub fn approve_link(&mut self, request: &LinkRequest) -> Result<DeviceCertificate> {
        self.identity_key()?;
        let offer = self.link_offer.as_ref().ok_or(CoreError::Verification("no link offer is open on this device"))?;
        request.verify(offer)?;
        let account = self.account.ok_or(CoreError::NotFound("account"))?;
        let device = request.device();
        if self.devices().iter().any(|c| c.body.device == device) {
            return Err(CoreError::Invalid("that device is already linked".into()));
        }
        if self.devices().len() >= crate::identity::MAX_CARD_DEVICES {
            return Err(CoreError::Invalid("this person has as many devices as an account may hold".into()));
        }
        let body = CertificateBody {
            identity: self.identity,
            account,
            device,
            mls_key: request.body.mls_key,
            name: request.body.name.clone(),
            created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        let certificate = DeviceCertificate::issue(self.identity_key()?, body)?;
        // Answered once: the offer is gone.
        self.link_offer = None;
        let mut devices = self.devices();
        devices.push(certificate.clone());
        let card = self.issue_roster(devices)?;
        let index = self.next_device_item;
        self.next_device_item += 1;
        self.vault.put_ordered(NS_DEVICE_OUTBOX, index, &encode(&DeviceItem::Link { request: request.to_wire() })?)?;
        self.queue_roster_notice(&card)?;
        self.announce_roster()?;
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(certificate)
    }

    /// The engine of a device that was just linked: the grant's roster with the
    /// pending link's device keys, in `vault`. It does not hold the identity key. It
    /// tells the person's other devices it is ready once online.
    pub(crate) fn from_grant(vault: Arc<Vault>, pending: &PendingLink, grant: DeviceGrant) -> Result<Self> {
        let device = pending.device.device_id();
        let certificate = grant.own_certificate(&device)?.clone();
        let device_keys = DeviceKeys { auth: pending.device.auth.clone(), mls: pending.device.mls.clone() };
        let name = certificate.body.name.clone();
        let account = certificate.body.account;
        let mut engine = Self::assemble_with(
            vault,
            grant.card.body.identity,
            None,
            device_keys,
            name,
            Some(account),
            Some(certificate),
            0,
        );
        engine.relay = Some(pending.offer.relay.clone());
        engine.adopt_own_card(grant.card)?;
        engine.next_device_item = 1;
        engine.vault.put_ordered(NS_DEVICE_OUTBOX, 0, &encode(&DeviceItem::Announce)?)?;
        engine.save_profile()?;
        Ok(engine)
    }

    /// Every long-term secret of the profile (identity key, device keys, history keys,
    /// the store's keys), for tests that search the store's files for them.
    #[cfg(feature = "test-secrets")]
    #[doc(hidden)]
    pub fn secrets_for_tests(&self) -> Vec<Zeroizing<Vec<u8>>> {
        let mut secrets = self.vault.keys_for_tests();
        if let Some(key) = &self.identity_key {
            secrets.push(Zeroizing::new(key.to_secret().to_vec()));
        }
        secrets.push(Zeroizing::new(self.device.auth.to_bytes().to_vec()));
        secrets.push(Zeroizing::new(self.device.mls.to_bytes().to_vec()));
        for space in self.spaces.values() {
            for key in space.history_keys() {
                secrets.push(Zeroizing::new(key.expose_for_storage().to_vec()));
            }
        }
        secrets
    }

    /// Tells the engine the time, for commands given between inputs (a post written
    /// offline is dated with it). Every input that carries `now` sets it too.
    pub fn set_now(&mut self, now: Now) {
        self.now = now;
    }

    /// Remembers the invitation to redeem at the next connection.
    pub fn set_invitation(&mut self, invitation: InvitationToken) {
        self.invitation = Some(invitation);
    }

    /// Joins the relay of `invitation`: its address and key are kept in the profile,
    /// and the invitation is redeemed at the next connection (kept, sealed, until then).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when this profile already has an account.
    pub fn join_relay(&mut self, invitation: &Invitation) -> Result<()> {
        if self.account.is_some() {
            return Err(CoreError::Invalid("this profile already has an account at a relay".into()));
        }
        self.relay = Some(RelayEndpoint::from_invitation(invitation));
        self.invitation = Some(invitation.token().clone());
        self.pending_invitation = Some(invitation.clone());
        self.save_profile()?;
        self.persist()
    }

    /// Where this profile's relay is, once it joined one.
    pub fn relay(&self) -> Option<&RelayEndpoint> {
        self.relay.as_ref()
    }

    // -----------------------------------------------------------------------------
    // Connection.

    /// The transport connected; `exporter` is its TLS exporter value. The engine logs
    /// in (or redeems the invitation) and then syncs everything.
    pub fn connected(&mut self, exporter: TlsExporter, now: Now) {
        self.now = now;
        self.session.connected(exporter);
        // An answer that never came is repeated by the jobs below.
        self.retry_at = None;
        self.in_flight = None;
        self.follow_up = None;
        self.jobs.clear();
    }

    /// The transport disconnected.
    pub fn disconnected(&mut self) {
        self.session.disconnected();
        self.in_flight = None;
        self.follow_up = None;
        self.jobs.clear();
    }

    /// Whether the engine is logged in.
    pub fn is_online(&self) -> bool {
        self.session.is_signed_in()
    }

    /// Whether the engine waits for an answer or has work queued.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some() || self.follow_up.is_some() || !self.jobs.is_empty()
    }

    /// Asks for a full sync of everything (after a push event was lost, or periodically).
    pub fn sync_all(&mut self) {
        if self.is_online() {
            self.push_job(Job::Deliveries);
            self.push_job(Job::Welcomes);
            let groups: Vec<GroupId> = self.spaces.keys().copied().collect();
            for group in groups {
                self.push_job(Job::Sync(group));
            }
            self.push_job(Job::Outbox);
            self.push_job(Job::Devices);
            self.push_job(Job::Transfers);
        }
    }

    fn push_job(&mut self, job: Job) {
        if !self.jobs.contains(&job) {
            self.jobs.push_back(job);
        }
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn warn(&mut self, space: Option<GroupId>, warning: impl Into<String>) {
        let warning = warning.into();
        // The warning's words may name people: they go to the person, not the log.
        tracing::warn!(space = ?space, "security warning");
        self.events.push_back(ClientEvent::SecurityWarning { space, warning });
    }

    fn reject(&mut self, space: Option<GroupId>, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::info!(space = ?space, %reason, "refused input");
        self.events.push_back(ClientEvent::Rejected { space, reason });
    }

    /// The next request to send, if any; the engine then waits for its answer.
    pub fn poll_request(&mut self, now: Now) -> Option<(RequestId, RequestBody)> {
        self.now = now;
        if self.in_flight.is_some() {
            return None;
        }
        if let Some(at) = self.retry_at {
            if now < at {
                return None;
            }
            self.retry_at = None;
            self.sync_all();
        }
        let signing_in = self.session.next_request(|| match (&self.account, &self.invitation) {
            (Some(_), _) => Ok(Credential::Device(&self.device.auth)),
            (None, Some(invitation)) => Ok(Credential::NewAccount { key: &self.device.auth, invitation }),
            (None, None) => Err(CoreError::NotFound("no account and no invitation: join a relay with an invitation")),
        });
        let (body, step) = match signing_in {
            Some(Ok((body, step))) => (body, Step::SignIn(step)),
            Some(Err(error)) => {
                self.session.disconnected();
                self.reject(None, error.to_string());
                return None;
            }
            None if !self.session.is_signed_in() => return None,
            None if self.follow_up.is_some() => self.follow_up.take()?,
            None => loop {
                if self.jobs.is_empty() && self.delivery_due().is_some_and(|due| due <= now) {
                    self.push_job(Job::Deliveries);
                }
                let job = self.jobs.pop_front()?;
                match self.plan(job) {
                    Ok(Some(planned)) => break planned,
                    Ok(None) => continue,
                    Err(error) => {
                        self.reject(None, format!("could not prepare a request: {error}"));
                        continue;
                    }
                }
            },
        };
        let id = RequestId::new(self.next_request).ok()?;
        self.next_request += 1;
        self.in_flight = Some((id, step));
        Some((id, body))
    }

    fn access(&self, group: &GroupId) -> Result<GroupAccess> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
        let token = space
            .group
            .export_secret(self.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, group.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls("exporter length".into()))?;
        Ok(GroupAccess {
            group: *group,
            epoch: Epoch::new(space.group.epoch().as_u64()).map_err(CoreError::Decode)?,
            token: AccessToken::from_bytes(token),
        })
    }

    fn plan(&mut self, job: Job) -> Result<Option<(RequestBody, Step)>> {
        Ok(match job {
            Job::Welcomes => Some((
                FetchWelcomes { after: None, limit: PageLimit::new(16).map_err(CoreError::Decode)? }.into(),
                Step::FetchWelcomes,
            )),
            Job::KeyPackages => Some((GetKeyPackageStatus {}.into(), Step::KeyPackageStatus)),
            Job::Subscribe => {
                let mut groups = Vec::new();
                let ids: Vec<GroupId> = self.spaces.keys().copied().collect();
                for group in ids {
                    let space = &self.spaces[&group];
                    if space.meta.removed || space.meta.stalled || !space.meta.relay_created {
                        continue;
                    }
                    groups.push(self.access(&group)?);
                }
                if groups.is_empty() {
                    return Ok(None);
                }
                groups.truncate(huisclos_protocol::limits::MAX_SUBSCRIBE_GROUPS);
                Some((Subscribe { groups: BoundedVec::new(groups)? }.into(), Step::Subscribe))
            }
            Job::Sync(group) => {
                let Some(space) = self.spaces.get(&group) else { return Ok(None) };
                if space.meta.removed || space.meta.stalled || !space.meta.relay_created {
                    return Ok(None);
                }
                let from = seq(space.meta.next_seq)?;
                Some((
                    FetchLog {
                        access: self.access(&group)?,
                        from,
                        limit: PageLimit::new(PAGE).map_err(CoreError::Decode)?,
                    }
                    .into(),
                    Step::FetchLog { group },
                ))
            }
            Job::Outbox => self.plan_outbox()?,
            Job::Deliveries => self.plan_delivery()?,
            Job::Devices => self.plan_device_item()?,
            Job::Transfers => self.plan_transfer()?,
        })
    }

    /// The first waiting Welcome whose time has come.
    fn plan_delivery(&mut self) -> Result<Option<(RequestBody, Step)>> {
        for (index, bytes) in self.vault.scan_ordered(NS_DELIVERIES, 0, 64)? {
            let delivery: Delivery = decode(&bytes)?;
            if delivery.due > self.now {
                continue;
            }
            let recipients: Vec<DeviceId> = delivery.recipients.iter().map(|d| DeviceId::from_bytes(*d)).collect();
            let body = DepositWelcome {
                recipients: BoundedVec::new(recipients)?,
                welcome: huisclos_protocol::messages::WelcomeBytes::new(delivery.item)?,
            };
            return Ok(Some((body.into(), Step::Delivery { index })));
        }
        Ok(None)
    }

    /// When the next waiting Welcome is due, if any.
    fn delivery_due(&self) -> Option<Now> {
        let items = self.vault.scan_ordered(NS_DELIVERIES, 0, 64).ok()?;
        items.iter().filter_map(|(_, bytes)| decode::<Delivery>(bytes).ok()).map(|d| d.due).min()
    }

    fn queue_delivery(&mut self, group: GroupId, recipients: &[DeviceId], item: Vec<u8>) -> Result<()> {
        let index = self.next_outbox;
        self.next_outbox += 1;
        let delivery = Delivery {
            group: *group.as_bytes(),
            recipients: recipients.iter().map(|d| *d.as_bytes()).collect(),
            item,
            attempts: 0,
            due: self.now,
            reported: false,
        };
        self.vault.put_ordered(NS_DELIVERIES, index, &encode(&delivery)?)?;
        self.push_job(Job::Deliveries);
        Ok(())
    }

    fn on_delivery_answer(&mut self, index: u64, answer: std::result::Result<ResponseBody, RelayError>) -> Result<()> {
        let Some(bytes) = self.vault.get_ordered(NS_DELIVERIES, index)? else { return Ok(()) };
        let mut delivery: Delivery = decode(&bytes)?;
        let group = GroupId::from_bytes(delivery.group);
        match answer {
            Ok(_) => {
                self.vault.remove_ordered(NS_DELIVERIES, index);
            }
            // Full, or out of quota, or busy: kept, and tried again later.
            Err(
                error @ (RelayError::LimitExceeded { limit: huisclos_protocol::messages::LimitKind::WelcomeInbox }
                | RelayError::QuotaExceeded { .. }
                | RelayError::RateLimited { .. }
                | RelayError::Internal),
            ) => {
                delivery.attempts = delivery.attempts.saturating_add(1);
                let wait = (30u64 << delivery.attempts.min(12)).min(MAX_DELIVERY_BACKOFF_SECS);
                delivery.due = self.now.saturating_add(wait);
                let transient = matches!(error, RelayError::RateLimited { .. } | RelayError::Internal);
                if !transient && !delivery.reported {
                    delivery.reported = true;
                    let reason = match error {
                        RelayError::QuotaExceeded { .. } => "this account's storage at the relay is full",
                        _ => "the invitee's inbox at the relay is full",
                    };
                    self.events.push_back(ClientEvent::DeliveryWaiting {
                        space: group,
                        reason: format!("an invitation could not be delivered yet ({reason}); it will be sent again"),
                    });
                }
                self.vault.put_ordered(NS_DELIVERIES, index, &encode(&delivery)?)?;
            }
            // A recipient is gone (revoked): the others are tried one by one, so that
            // the one gone does not hold them up.
            Err(RelayError::NotFound) if delivery.recipients.len() > 1 => {
                self.vault.remove_ordered(NS_DELIVERIES, index);
                let recipients: Vec<DeviceId> = delivery.recipients.iter().map(|d| DeviceId::from_bytes(*d)).collect();
                for recipient in recipients {
                    self.queue_delivery(group, &[recipient], delivery.item.clone())?;
                }
            }
            Err(error) => {
                self.vault.remove_ordered(NS_DELIVERIES, index);
                self.reject(Some(group), format!("an invitation could not be delivered to one device: {error}"));
            }
        }
        self.persist()?;
        self.push_job(Job::Deliveries);
        Ok(())
    }

    fn plan_device_item(&mut self) -> Result<Option<(RequestBody, Step)>> {
        let Some((index, bytes)) = self.vault.scan_ordered(NS_DEVICE_OUTBOX, 0, 1)?.into_iter().next() else {
            return Ok(None);
        };
        let item: DeviceItem = decode(&bytes)?;
        Ok(Some(match item {
            DeviceItem::Link { request } => {
                let request = LinkRequest::from_wire(&request)?;
                let body = AddDevice { device_key: request.body.device_key, possession: request.body.possession };
                (body.into(), Step::Device { index, stage: DeviceStage::Register })
            }
            DeviceItem::Announce => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound("certificate"))?;
                let recipients: Vec<DeviceId> = self.devices.iter().map(|c| c.body.device).collect();
                if recipients.is_empty() {
                    self.vault.remove_ordered(NS_DEVICE_OUTBOX, index);
                    self.persist()?;
                    return Ok(None);
                }
                let card = self.card.clone().ok_or(CoreError::NotFound("roster"))?;
                let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
                let notice =
                    InboxItem::DeviceReady(DeviceReady::sign(card, certificate.body.device, at, &self.device.mls));
                let welcome = Self::sealed_notice(&self.devices, &notice)?;
                let body = DepositWelcome { recipients: BoundedVec::new(recipients)?, welcome };
                (body.into(), Step::Device { index, stage: DeviceStage::Announce })
            }
            DeviceItem::Revoke { device } => {
                let body = RevokeDevice { device: DeviceId::from_bytes(device) };
                (body.into(), Step::Device { index, stage: DeviceStage::Revoke })
            }
            DeviceItem::Roster { card } => {
                let Some(body) = self.roster_deposit(index, &card, &[])? else { return Ok(None) };
                (body, Step::Device { index, stage: DeviceStage::Announce })
            }
            DeviceItem::RosterAfterRotation { card, previous } => {
                let Some(body) = self.roster_deposit(index, &card, &previous)? else { return Ok(None) };
                (body, Step::Device { index, stage: DeviceStage::Announce })
            }
            DeviceItem::JoinRequest { device, item } => {
                let body = DepositWelcome {
                    recipients: BoundedVec::new(vec![DeviceId::from_bytes(device)])?,
                    welcome: huisclos_protocol::messages::WelcomeBytes::new(item)?,
                };
                (body.into(), Step::Device { index, stage: DeviceStage::Request })
            }
        }))
    }

    /// The deposit of roster `card` into the person's other devices' inboxes, sealed
    /// for each under the certificate the card lists and any of `previous` (the
    /// certificates they held before the identity key was replaced); `None` (and the
    /// item done) when there is no other device.
    fn roster_deposit(&mut self, index: u64, card: &[u8], previous: &[Vec<u8>]) -> Result<Option<RequestBody>> {
        let card = ContactCard::from_wire(card)?;
        // Every device the roster lists but this one (a revoked device is not told:
        // the relay refuses it anyway).
        let me = self.device.device_id();
        let listed: Vec<DeviceCertificate> =
            card.body.devices.iter().filter(|c| c.body.device != me).cloned().collect();
        if listed.is_empty() {
            self.vault.remove_ordered(NS_DEVICE_OUTBOX, index);
            self.persist()?;
            return Ok(None);
        }
        let recipients: Vec<DeviceId> = listed.iter().map(|c| c.body.device).collect();
        let mut sealed_for = listed;
        for bytes in previous {
            let certificate = DeviceCertificate::from_wire(bytes)?;
            if recipients.contains(&certificate.body.device) && !sealed_for.contains(&certificate) {
                sealed_for.push(certificate);
            }
        }
        let welcome = Self::sealed_notice(&sealed_for, &InboxItem::Roster(card))?;
        Ok(Some(DepositWelcome { recipients: BoundedVec::new(recipients)?, welcome }.into()))
    }

    fn on_device_answer(
        &mut self,
        index: u64,
        stage: DeviceStage,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(bytes) = self.vault.get_ordered(NS_DEVICE_OUTBOX, index)? else { return Ok(()) };
        let item: DeviceItem = decode(&bytes)?;
        match (stage, item, answer) {
            // `Conflict`: registered by an earlier attempt whose answer was lost.
            (
                DeviceStage::Register,
                DeviceItem::Link { request },
                Ok(ResponseBody::DeviceAdded(_)) | Err(RelayError::Conflict),
            ) => {
                let request = LinkRequest::from_wire(&request)?;
                let card = self.card.clone().ok_or(CoreError::NotFound("roster"))?;
                if !card.lists(&request.device(), &request.body.mls_key) {
                    // Revoked meanwhile: nothing is sent.
                    self.vault.remove_ordered(NS_DEVICE_OUTBOX, index);
                    self.persist()?;
                    self.push_job(Job::Devices);
                    return Ok(());
                }
                let grant = DeviceGrant { card };
                let body = DepositWelcome {
                    recipients: BoundedVec::new(vec![request.device()])?,
                    welcome: InboxItem::DeviceGrant(grant.seal(&request)?).to_welcome_bytes()?,
                };
                self.follow_up = Some((body.into(), Step::Device { index, stage: DeviceStage::Grant }));
                Ok(())
            }
            (DeviceStage::Request, _, Err(error))
                if !matches!(error, RelayError::RateLimited { .. } | RelayError::Internal) =>
            {
                // The card's device is gone or refuses: asking again will not help.
                self.vault.remove_ordered(NS_DEVICE_OUTBOX, index);
                self.persist()?;
                self.push_job(Job::Devices);
                self.reject(None, format!("the request to join could not be delivered: {error}"));
                Ok(())
            }
            // `NotFound`: revoked already, by an earlier attempt or another device.
            (DeviceStage::Revoke, _, Err(RelayError::NotFound))
            | (DeviceStage::Grant | DeviceStage::Announce | DeviceStage::Request | DeviceStage::Revoke, _, Ok(_)) => {
                self.vault.remove_ordered(NS_DEVICE_OUTBOX, index);
                self.persist()?;
                self.push_job(Job::Devices);
                Ok(())
            }
            (_, _, Err(error)) => Err(CoreError::Relay(error)),
            (_, _, Ok(_)) => Err(CoreError::Invalid("unexpected answer to a device request".into())),
        }
    }

    /// The next request of the first unfinished transfer (uploads first: they free the
    /// staging space); finishes transfers whose chunks are all done on the way.
    fn plan_transfer(&mut self) -> Result<Option<(RequestBody, Step)>> {
        while let Some((index, bytes)) = self.vault.scan_ordered(NS_UPLOADS, 0, 1)?.into_iter().next() {
            let record: UploadRecord = decode(&bytes)?;
            let group = GroupId::from_bytes(record.group);
            let usable = self.spaces.get(&group).is_some_and(|s| !s.meta.removed && !s.meta.stalled);
            let manifest = FileManifest::from_wire(&record.manifest)?;
            if !usable {
                self.drop_upload(index, &manifest)?;
                self.reject(Some(group), "an upload was dropped: this device can no longer write in the space");
                continue;
            }
            let chunk = record.done as usize;
            if chunk >= manifest.chunks.len() {
                self.publish_upload(index, record, manifest)?;
                continue;
            }
            let Some(space) = self.spaces.get(&group) else { continue };
            if !space.meta.relay_created {
                return Ok(None);
            }
            let reference = manifest.chunks[chunk];
            let body = huisclos_protocol::messages::GetChunkStatus { access: self.access(&group)?, chunk: reference };
            return Ok(Some((body.into(), Step::Upload { index, chunk })));
        }
        while let Some((index, bytes)) = self.vault.scan_ordered(NS_DOWNLOADS, 0, 1)?.into_iter().next() {
            let record: DownloadRecord = decode(&bytes)?;
            let group = GroupId::from_bytes(record.group);
            let manifest = FileManifest::from_wire(&record.manifest)?;
            if self.spaces.get(&group).is_none_or(|s| s.meta.removed) {
                self.vault.remove_ordered(NS_DOWNLOADS, index);
                self.persist()?;
                self.reject(Some(group), "a download was dropped: this device is no longer in the space");
                continue;
            }
            let chunk = record.done as usize;
            if chunk >= manifest.chunks.len() {
                let part = crate::transfer::part_path(&record.dest);
                if !part.exists() {
                    // An empty file: one empty chunk, nothing written yet.
                    crate::transfer::write_chunk(&part, 0, &[])?;
                }
                std::fs::rename(&part, &record.dest)?;
                self.vault.remove_ordered(NS_DOWNLOADS, index);
                self.persist()?;
                self.events.push_back(ClientEvent::Transfer {
                    space: group,
                    node: record.node,
                    direction: Direction::Download,
                    done: manifest.length,
                    total: manifest.length,
                    finished: true,
                });
                continue;
            }
            let offset = match &self.download_buffer {
                Some((i, c, buffer)) if *i == index && *c == chunk => buffer.len(),
                _ => {
                    self.download_buffer = Some((index, chunk, Vec::new()));
                    0
                }
            };
            let body = huisclos_protocol::messages::GetChunk {
                access: self.access(&group)?,
                chunk: manifest.chunks[chunk],
                offset: chunk_offset(offset)?,
                max_len: chunk_offset(huisclos_protocol::limits::MAX_CHUNK_PIECE_LEN)?,
            };
            return Ok(Some((body.into(), Step::Download { index, chunk })));
        }
        Ok(None)
    }

    /// Waits before the transfer is tried again, longer each time it fails: other
    /// requests succeeding meanwhile do not shorten the wait.
    fn back_off_transfer(&mut self) {
        self.transfer_failures = self.transfer_failures.saturating_add(1);
        self.failures = self.failures.max(self.transfer_failures - 1);
        self.back_off(0);
    }

    fn drop_upload(&mut self, index: u64, manifest: &FileManifest) -> Result<()> {
        for chunk in manifest.chunks.iter() {
            let _ = std::fs::remove_file(crate::transfer::staged_path(self.vault.dir(), chunk));
        }
        self.vault.remove_ordered(NS_UPLOADS, index);
        self.persist()
    }

    /// Every chunk is at the relay: the file (or its new version) is published.
    fn publish_upload(&mut self, index: u64, record: UploadRecord, manifest: FileManifest) -> Result<()> {
        let group = GroupId::from_bytes(record.group);
        if let Some(create) = &record.create {
            let op = LibraryOp::Create(CreateNode {
                node: record.node,
                kind: NodeKind::File,
                name: NodeName::new(create.name.clone())?,
                parent: create.parent,
            });
            self.library_op(&group, op)?;
        }
        let (length, node) = (manifest.length, record.node);
        self.library_op(&group, LibraryOp::AddVersion(AddVersion { node, manifest: manifest.clone() }))?;
        self.drop_upload(index, &manifest)?;
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node,
            direction: Direction::Upload,
            done: length,
            total: length,
            finished: true,
        });
        Ok(())
    }

    fn on_upload_answer(
        &mut self,
        index: u64,
        chunk: usize,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(bytes) = self.vault.get_ordered(NS_UPLOADS, index)? else { return Ok(()) };
        let mut record: UploadRecord = decode(&bytes)?;
        let group = GroupId::from_bytes(record.group);
        let manifest = FileManifest::from_wire(&record.manifest)?;
        let received = match answer {
            Ok(ResponseBody::ChunkStatus(status)) => status.received.get() as usize,
            // Not started at the relay (or dropped before it was complete).
            Err(RelayError::NotFound) => 0,
            Err(RelayError::StaleEpoch { .. }) => {
                self.on_stale(group);
                self.push_job(Job::Transfers);
                return Ok(());
            }
            Err(error) => return Err(CoreError::Relay(error)),
            Ok(_) => return Err(CoreError::Invalid("unexpected answer to an upload".into())),
        };
        let reference = manifest.chunks.get(chunk).ok_or(CoreError::CorruptProfile("an upload's chunk"))?;
        let sealed = std::fs::read(crate::transfer::staged_path(self.vault.dir(), reference))?;
        // Progress in the file's own bytes, as the person knows its size.
        let before: u64 = (0..chunk).map(|i| manifest.chunk_len(i) as u64).sum();
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node: record.node,
            direction: Direction::Upload,
            done: before + received.min(manifest.chunk_len(chunk)) as u64,
            total: manifest.length,
            finished: false,
        });
        if received >= sealed.len() {
            record.done = chunk as u64 + 1;
            self.vault.put_ordered(NS_UPLOADS, index, &encode(&record)?)?;
            self.persist()?;
            self.jobs.push_front(Job::Transfers);
            return Ok(());
        }
        let end = (received + huisclos_protocol::limits::MAX_CHUNK_PIECE_LEN).min(sealed.len());
        let body = huisclos_protocol::messages::PutChunk {
            access: self.access(&group)?,
            chunk: *reference,
            total_len: chunk_offset(sealed.len())?,
            offset: chunk_offset(received)?,
            data: huisclos_protocol::messages::ChunkPiece::new(sealed[received..end].to_vec())?,
        };
        self.follow_up = Some((body.into(), Step::Upload { index, chunk }));
        Ok(())
    }

    fn on_download_answer(
        &mut self,
        index: u64,
        chunk: usize,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(bytes) = self.vault.get_ordered(NS_DOWNLOADS, index)? else { return Ok(()) };
        let mut record: DownloadRecord = decode(&bytes)?;
        let group = GroupId::from_bytes(record.group);
        let data = match answer {
            Ok(ResponseBody::ChunkData(data)) => data,
            Err(RelayError::StaleEpoch { .. }) => {
                self.on_stale(group);
                self.push_job(Job::Transfers);
                return Ok(());
            }
            Err(RelayError::NotFound) => {
                // Not (yet) at the relay: the download waits, and is tried again later.
                self.download_buffer = None;
                self.back_off_transfer();
                return Ok(());
            }
            Err(error) => return Err(CoreError::Relay(error)),
            Ok(_) => return Err(CoreError::Invalid("unexpected answer to a download".into())),
        };
        let manifest = FileManifest::from_wire(&record.manifest)?;
        let expected = manifest.chunk_len(chunk) + crate::chunk::CHUNK_OVERHEAD;
        let Some((_, _, buffer)) = self.download_buffer.as_mut().filter(|(i, c, _)| *i == index && *c == chunk) else {
            return Ok(());
        };
        if data.offset.get() as usize != buffer.len()
            || data.total_len.get() as usize != expected
            || buffer.len() + data.data.len() > expected
        {
            // Refused, and asked for again after a wait: a relay that keeps serving
            // wrong pieces is not asked in a loop.
            self.download_buffer = None;
            self.back_off_transfer();
            return Err(CoreError::Verification("the relay served a chunk piece that does not fit"));
        }
        buffer.extend_from_slice(data.data.as_bytes());
        if buffer.len() < expected {
            self.jobs.push_front(Job::Transfers);
            return Ok(());
        }
        let sealed = std::mem::take(buffer);
        self.download_buffer = None;
        let opened = FileOpener::new(&manifest).and_then(|opener| opener.open(chunk, &sealed));
        let plaintext = match opened {
            Ok(plaintext) => plaintext,
            Err(error) => {
                // Not the chunk the file names: refused, and asked for again later.
                self.back_off_transfer();
                return Err(error);
            }
        };
        crate::transfer::write_chunk(&crate::transfer::part_path(&record.dest), chunk, &plaintext)?;
        self.transfer_failures = 0;
        record.done = chunk as u64 + 1;
        self.vault.put_ordered(NS_DOWNLOADS, index, &encode(&record)?)?;
        self.persist()?;
        let done = (0..=chunk).map(|i| manifest.chunk_len(i) as u64).sum();
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node: record.node,
            direction: Direction::Download,
            done,
            total: manifest.length,
            finished: false,
        });
        self.jobs.push_front(Job::Transfers);
        Ok(())
    }

    fn plan_outbox(&mut self) -> Result<Option<(RequestBody, Step)>> {
        // Items are sent in order; an item whose space cannot advance waits.
        let items = self.vault.scan_ordered(NS_OUTBOX, 0, 64)?;
        for (index, bytes) in items {
            let item: OutboxItem = decode(&bytes)?;
            let group = item.group();
            let Some(space) = self.spaces.get(&group) else {
                self.vault.remove_ordered(NS_OUTBOX, index);
                self.persist()?;
                continue;
            };
            if space.meta.removed {
                self.vault.remove_ordered(NS_OUTBOX, index);
                self.persist()?;
                self.reject(Some(group), "an unsent item was dropped: this device is no longer in the space");
                continue;
            }
            if space.meta.stalled || (!space.meta.relay_created && !matches!(item, OutboxItem::CreateGroup { .. })) {
                continue;
            }
            if matches!(item, OutboxItem::HistoryKeys { .. }) {
                self.vault.remove_ordered(NS_OUTBOX, index);
                self.persist()?;
                continue;
            }
            // A device that joined and waits for the history its adder owes it commits
            // nothing (a commit's ledger needs the rosters it lacks) and seals nothing
            // until it holds the current key (below).
            if !space.meta.history.is_complete()
                && matches!(&item, OutboxItem::Operation { operation, .. } if !matches!(operation, Operation::Leave))
            {
                continue;
            }
            // MLS sends no application message while proposals wait for a commit: items
            // wait, operations (which commit them) go first.
            let proposals_pending = space.group.pending_proposals().next().is_some();
            if proposals_pending && !matches!(item, OutboxItem::Operation { .. }) {
                continue;
            }
            if !proposals_pending && matches!(item, OutboxItem::Operation { operation: Operation::CommitProposals, .. })
            {
                // Someone else committed them first.
                self.vault.remove_ordered(NS_OUTBOX, index);
                self.persist()?;
                continue;
            }
            let planned = match item {
                OutboxItem::CreateGroup { .. } => {
                    let access = self.access(&group)?;
                    let verifier = EpochVerifier::for_token(&access.token);
                    // A space without history keeps its content only in MLS messages,
                    // which the relay then deletes after its retention period.
                    let retention = match space.meta_history_mode()? {
                        HistoryMode::Keep => LogRetention::Keep,
                        HistoryMode::None => LogRetention::Expire,
                    };
                    (CreateGroup { group, verifier, retention }.into(), OutboxStage::Single)
                }
                OutboxItem::Content { envelope, .. } => {
                    let envelope = ContentEnvelope::from_wire(&envelope)?;
                    if space.meta_history_mode()? == HistoryMode::Keep {
                        let Some(key) = space.meta.history.sealing_key() else { continue };
                        let record = envelope.signed.id;
                        let sealed = SealedRecord::seal(&key, &group, &record, &envelope)?;
                        let access = self.access(&group)?;
                        (
                            PutContent { access, record, sealed: ContentRecordBytes::new(sealed.to_bytes())? }.into(),
                            OutboxStage::Single,
                        )
                    } else {
                        let message = self.application_message(&group, &AppPayload::Content(envelope))?;
                        (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                    }
                }
                OutboxItem::HistoryKeys { .. } => continue,
                OutboxItem::Roster { card, .. } => {
                    let payload = AppPayload::Roster(ContactCard::from_wire(&card)?);
                    let message = self.application_message(&group, &payload)?;
                    (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                }
                OutboxItem::HistoryGrant { payload, .. } => {
                    let message = self.application_bytes(&group, &payload)?;
                    (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                }
                OutboxItem::Marker { .. } => {
                    let Some(key) = space.meta.history.sealing_key() else { continue };
                    let certificate = self.certificate.clone().ok_or(CoreError::NotFound("certificate"))?;
                    let record = random_content_id();
                    let signed = EnvelopeBody {
                        id: record,
                        group,
                        author: certificate,
                        created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
                        body: ContentBody::Marker(GenerationMarker { generation: key.generation() }),
                    };
                    let envelope = ContentEnvelope::sign(signed, &self.device.mls)?;
                    let sealed = SealedRecord::seal(&key, &group, &record, &envelope)?;
                    let access = self.access(&group)?;
                    (
                        PutContent { access, record, sealed: ContentRecordBytes::new(sealed.to_bytes())? }.into(),
                        OutboxStage::Single,
                    )
                }
                OutboxItem::Operation { operation, .. } => match self.plan_operation(&group, operation) {
                    Ok(planned) => planned,
                    Err(error) => {
                        // An operation that cannot be built on the current state (the
                        // person already left, the role was taken away) is dropped.
                        self.vault.remove_ordered(NS_OUTBOX, index);
                        self.persist()?;
                        self.reject(Some(group), format!("an operation was dropped: {error}"));
                        continue;
                    }
                },
            };
            let (body, stage) = planned;
            self.persist()?;
            return Ok(Some((body, Step::Outbox { index, stage })));
        }
        Ok(None)
    }

    fn application_message(&mut self, group: &GroupId, payload: &AppPayload) -> Result<MlsMessageBytes> {
        let plaintext = Zeroizing::new(payload.to_wire());
        self.application_bytes(group, &plaintext)
    }

    fn application_bytes(&mut self, group: &GroupId, plaintext: &[u8]) -> Result<MlsMessageBytes> {
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
        let message = space
            .group
            .create_message(&self.provider, &DeviceSigner(&self.device.mls), plaintext)
            .map_err(mls_error)?;
        Ok(MlsMessageBytes::new(message.tls_serialize_detached().map_err(mls_error)?)?)
    }

    fn plan_operation(&mut self, group: &GroupId, operation: Operation) -> Result<(RequestBody, OutboxStage)> {
        let rules = self.rules(group)?;
        let me = self.identity;
        match &operation {
            Operation::Invite { card, .. } => {
                if !(rules.role_of(&me).may_manage_space()
                    || rules.policy == Policy::Open && rules.role_of(&me).may_contribute())
                {
                    return Err(CoreError::Forbidden("only a space manager may invite to this space"));
                }
                let card = ContactCard::from_wire(card)?;
                // Only the devices the person's newest roster lists.
                let devices: Vec<DeviceId> =
                    card.body.devices.iter().filter(|c| self.device_allowed(&c.body)).map(|c| c.body.device).collect();
                if devices.is_empty() {
                    return Err(CoreError::Verification("none of the card's devices is on the person's newest roster"));
                }
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::Readd { certificates, .. } => {
                if !rules.role_of(&me).may_manage_space() {
                    return Err(CoreError::Forbidden("only a space manager adds the members of a recreated space"));
                }
                let (_, certificates) = readd_devices(certificates)?;
                let devices = certificates.iter().map(|c| c.body.device).collect();
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::AddMemberDevice { certificate } => {
                if !rules.role_of(&me).may_manage_space() {
                    return Err(CoreError::Forbidden("only a space manager adds a device to someone else"));
                }
                let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
                if Self::has_device(&space.group, &certificate.body.device) {
                    return Err(CoreError::Invalid("the device is already in the space".into()));
                }
                let devices = vec![certificate.body.device];
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::AddDevice { certificate } => {
                let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                if certificate.body.identity != me {
                    return Err(CoreError::Forbidden("only a person's own devices are added this way"));
                }
                let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
                if Self::has_device(&space.group, &certificate.body.device) {
                    return Err(CoreError::Invalid("the device is already in the space".into()));
                }
                let devices = vec![certificate.body.device];
                Ok((ClaimKeyPackages { devices: BoundedVec::new(devices)? }.into(), OutboxStage::Claim { operation }))
            }
            Operation::Leave => {
                let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
                let proposal =
                    space.group.leave_group(&self.provider, &DeviceSigner(&self.device.mls)).map_err(mls_error)?;
                let message = MlsMessageBytes::new(proposal.tls_serialize_detached().map_err(mls_error)?)?;
                Ok((AppendMessage { access: self.access(group)?, message }.into(), OutboxStage::Leave))
            }
            _ => self.build_commit(group, &operation, Vec::new()),
        }
    }

    fn rules(&self, group: &GroupId) -> Result<SpaceRules> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
        crate::mls::rules_of(space.group.extensions())
    }

    /// The key of history generation `generation`, derived from the epoch `group` is
    /// in (the epoch that starts it).
    fn derive_history_key(&self, group: &MlsGroup, id: &GroupId, generation: u32) -> Result<Zeroizing<[u8; 32]>> {
        let mut context = id.as_bytes().to_vec();
        context.extend_from_slice(&generation.to_be_bytes());
        let secret = Zeroizing::new(
            group
                .export_secret(self.provider.crypto(), crate::history::HISTORY_KEY_EXPORTER_LABEL, &context, 32)
                .map_err(mls_error)?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        if secret.len() != 32 {
            return Err(CoreError::Mls("exporter length".into()));
        }
        key.copy_from_slice(&secret);
        Ok(key)
    }

    /// Who sits in `group` now: each device's person and MLS key.
    fn seats(group: &MlsGroup) -> Vec<Seat> {
        group
            .members()
            .filter_map(|m| crate::mls::certificate_of(&m.credential, &m.signature_key).ok())
            .map(|c| Seat { identity: c.body.identity, mls_key: c.body.mls_key })
            .collect()
    }

    /// After a commit is merged (this device's or another's): the history moves on —
    /// with `rotates`, the generation closes with `rules_before`' roles and the next
    /// one's key is derived from the new epoch — and the devices now in the group sit
    /// on the current roster. A rotation this device committed is marked in the
    /// content store, so that nothing sealed under the closed generation is accepted
    /// after it.
    fn after_merge(&mut self, group: &GroupId, rotates: bool, rules_before: &SpaceRules, own: bool) -> Result<()> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
        let Some(ledger) = crate::mls::ledger_of(space.group.extensions())? else { return Ok(()) };
        let key = if rotates { Some(*self.derive_history_key(&space.group, group, ledger.generation)?) } else { None };
        let seats = Self::seats(&space.group);
        let keeps_history = space.meta_history_mode()? == HistoryMode::Keep;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
        space.meta.history.merged(&ledger, rotates, key, &seats, rules_before);
        if rotates && own && keeps_history && !space.meta.removed {
            self.enqueue(OutboxItem::Marker { group: *group.as_bytes() })?;
        }
        Ok(())
    }

    /// Builds the commit for an operation on the current state (as a pending commit)
    /// and the request submitting it.
    fn build_commit(
        &mut self,
        group: &GroupId,
        operation: &Operation,
        key_packages: Vec<(KeyPackage, DeviceId)>,
    ) -> Result<(RequestBody, OutboxStage)> {
        let rules = self.rules(group)?;
        let me = self.identity;
        let members = self.members(group)?;
        let mut removals = Vec::new();
        let mut next_rules = rules.clone();
        // Every removal starts a history generation.
        let mut rotates_history = false;
        let adds = !key_packages.is_empty();
        let mut changes = Vec::new();
        // A move of this device to the person's new identity key: the update of its own
        // leaf, and the role renamed.
        let mut rotation: Option<(IdentityPublicKey, IdentityPublicKey)> = None;
        let mut self_update = None;
        // Leaves removed by this commit, its own removals and the proposals it carries.
        let mut removed_leaves = Vec::new();
        // Waiting proposals (members leaving) go into any commit this device makes.
        {
            let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
            for queued in space.group.pending_proposals() {
                if let (Proposal::Remove(remove), Sender::Member(sender)) = (queued.proposal(), queued.sender()) {
                    removed_leaves.push(remove.removed());
                    let identity_at = |index: LeafNodeIndex| -> Result<IdentityPublicKey> {
                        let m = space.group.member_at(index).ok_or(CoreError::Verification("an empty leaf"))?;
                        Ok(crate::mls::certificate_of(&m.credential, &m.signature_key)?.body.identity)
                    };
                    changes.push(ChangeRequest::Remove {
                        identity: identity_at(remove.removed())?,
                        proposer: identity_at(*sender)?,
                    });
                    rotates_history = true;
                }
            }
        }
        match operation {
            Operation::Invite { card, role } => {
                let card = ContactCard::from_wire(card)?;
                let role = role_from(*role)?;
                if role != rules.default_role || rules.roles.iter().any(|e| e.identity == card.body.identity) {
                    next_rules = next_rules.with_role(card.body.identity, role)?;
                }
                changes.push(ChangeRequest::Add { identity: card.body.identity });
            }
            Operation::Readd { certificates, role } => {
                let (identity, _) = readd_devices(certificates)?;
                let role = role_from(*role)?;
                if role != rules.default_role || rules.roles.iter().any(|e| e.identity == identity) {
                    next_rules = next_rules.with_role(identity, role)?;
                }
                changes.push(ChangeRequest::Add { identity });
            }
            Operation::AddDevice { .. } => changes.push(ChangeRequest::Add { identity: me }),
            Operation::AddMemberDevice { certificate } => {
                let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                changes.push(ChangeRequest::Add { identity: certificate.body.identity });
            }
            Operation::SetDeviceApproval { on } => next_rules.devices_need_approval = *on,
            Operation::RemoveDevice { device } => {
                let device = DeviceId::from_bytes(*device);
                let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
                let previous = self.transition.as_ref().map(|t| t.body.previous);
                for m in space.group.members() {
                    let cert = crate::mls::certificate_of(&m.credential, &m.signature_key)?;
                    let mine = cert.body.identity == me || Some(cert.body.identity) == previous;
                    if mine && cert.body.device == device {
                        removals.push(m.index);
                    }
                }
                if removals.is_empty() {
                    return Err(CoreError::Invalid("the revoked device is no longer in the space".into()));
                }
                rotates_history = true;
                changes.push(ChangeRequest::Remove { identity: me, proposer: me });
            }
            Operation::CommitProposals => {}
            Operation::Leave => return Err(CoreError::Invalid("a leave is a proposal, not a commit".into())),
            Operation::Remove { identity } => {
                let identity = IdentityPublicKey::from_bytes(*identity);
                let member = members.iter().find(|m| m.identity == identity).ok_or(CoreError::NotFound("member"))?;
                let space = &self.spaces[group];
                for m in space.group.members() {
                    let cert = crate::mls::certificate_of(&m.credential, &m.signature_key)?;
                    if cert.body.identity == member.identity {
                        removals.push(m.index);
                    }
                }
                rotates_history = true;
                changes.push(ChangeRequest::Remove { identity, proposer: me });
            }
            Operation::SetRole { identity, role } => {
                next_rules = next_rules.with_role(IdentityPublicKey::from_bytes(*identity), role_from(*role)?)?;
            }
            Operation::Rename { name } => next_rules.name = SpaceName::new(name.clone())?,
            Operation::Describe { description } => next_rules.description = SpaceDescription::new(description.clone())?,
            Operation::RotateIdentity => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound("certificate"))?;
                let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
                let own = space.group.own_leaf().ok_or(CoreError::NotFound("this device's leaf"))?;
                let current = crate::mls::certificate_of(own.credential(), own.signature_key().as_slice())?;
                if current == certificate {
                    return Err(CoreError::Invalid("this device already moved to its new identity here".into()));
                }
                rotation = Some((current.body.identity, certificate.body.identity));
                self_update = Some(crate::mls::credential_with_key(&certificate));
            }
        }
        if let Some((previous, next)) = rotation {
            next_rules = next_rules.renamed(&previous, &next);
        }
        // A person whose last device this commit removes leaves the space, and their
        // role with them: every device requires it.
        removed_leaves.extend(removals.iter().copied());
        let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
        let departing = departing(&space.group, &removed_leaves);
        let mut base = rules.clone();
        if let Some((previous, next)) = rotation {
            base = base.renamed(&previous, &next);
        }
        for identity in &departing {
            base = base.without_role(identity);
            next_rules = next_rules.without_role(identity);
        }
        if next_rules != base {
            changes.push(ChangeRequest::Rules(Box::new(next_rules.clone())));
        }
        let member_ids: Vec<IdentityPublicKey> = members.iter().map(|m| m.identity).collect();
        if !self.skip_own_checks {
            check_commit(&rules, &me, &changes, &member_ids)?;
            check_managers_remain(&rules, &next_rules, &member_ids, &departing)?;
        }

        // Every commit writes the ledger of the history it leaves behind, and hands
        // the people it adds the history they need, as this device holds it now.
        let new_epoch = space.group.epoch().as_u64() + 1;
        let ledger = space.meta.history.next_ledger(group, rotates_history, new_epoch, &rules)?;
        let grants = if adds && rules.history == HistoryMode::Keep {
            let mut payloads = Vec::new();
            for grant in space.meta.history.grant(new_epoch, rotates_history, &rules)? {
                payloads.push(AppPayload::HistoryGrant(grant).to_wire());
            }
            payloads
        } else {
            Vec::new()
        };
        let extensions = crate::mls::group_context_extensions(&next_rules, &ledger)?;
        let recipients: Vec<DeviceId> = key_packages.iter().map(|(_, d)| *d).collect();
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
        let mut builder = space
            .group
            .commit_builder()
            .propose_adds(key_packages.into_iter().map(|(kp, _)| kp))
            .propose_removals(removals)
            .propose_group_context_extensions(extensions)
            .map_err(mls_error)?;
        if let Some(credential) = self_update {
            builder = builder
                .force_self_update(true)
                .leaf_node_parameters(LeafNodeParameters::builder().with_credential_with_key(credential).build());
        }
        let bundle = builder
            .load_psks(self.provider.storage())
            .map_err(mls_error)?
            .build(self.provider.rand(), self.provider.crypto(), &DeviceSigner(&self.device.mls), |_| true)
            .map_err(mls_error)?
            .stage_commit(&self.provider)
            .map_err(mls_error)?;
        let (commit, welcome, _) = bundle.into_messages();
        let staged = space.group.pending_commit().ok_or(CoreError::Mls("no pending commit".into()))?;
        let token = staged
            .export_secret(self.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, group.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls("exporter length".into()))?;
        let next_verifier = EpochVerifier::for_token(&AccessToken::from_bytes(token));
        let welcome = match welcome {
            Some(welcome) => Some((recipients, welcome.tls_serialize_detached().map_err(mls_error)?)),
            None => None,
        };
        let access = self.access(group)?;
        let commit = MlsMessageBytes::new(commit.tls_serialize_detached().map_err(mls_error)?)?;
        Ok((SubmitCommit { access, commit, next_verifier }.into(), OutboxStage::Commit { welcome, grants }))
    }

    // -----------------------------------------------------------------------------
    // Answers and events.

    /// Feeds the relay's push event.
    pub fn handle_event(&mut self, event: Event, now: Now) {
        self.now = now;
        match event {
            Event::LogAdvanced(advanced) => {
                if self.spaces.contains_key(&advanced.group) {
                    self.push_job(Job::Sync(advanced.group));
                }
            }
            Event::ContentAdvanced(advanced) => {
                if self.spaces.contains_key(&advanced.group) {
                    self.push_job(Job::Sync(advanced.group));
                }
            }
            Event::WelcomeAvailable(_) => self.push_job(Job::Welcomes),
        }
    }

    /// Pushed events were lost: syncs everything, as after reconnecting.
    pub fn events_missed(&mut self) {
        self.sync_all();
    }

    /// Feeds the answer to the request `id`.
    pub fn handle_response(&mut self, id: RequestId, answer: std::result::Result<ResponseBody, RelayError>, now: Now) {
        self.now = now;
        let Some((expected, step)) = self.in_flight.take() else { return };
        if expected != id {
            self.in_flight = Some((expected, step));
            return;
        }
        let transient = match &answer {
            Err(RelayError::RateLimited { retry_after_ms }) => Some(u64::from(*retry_after_ms).div_ceil(1000)),
            Err(RelayError::Internal) => Some(0),
            _ => None,
        };
        if let Err(error) = self.apply_answer(step, answer) {
            // Nothing half-done stays: the step's writes are forgotten, and its job is
            // tried again later if still needed.
            self.vault.rollback();
            if transient.is_none() {
                self.reject(None, format!("a step failed: {error}"));
            }
        }
        match transient {
            Some(hint) => self.back_off(hint),
            // The step itself may have decided to wait (a relay that keeps saying the
            // epoch is stale): then the count of failures goes on growing.
            None if self.retry_at.is_none() => self.failures = 0,
            None => {}
        }
    }

    /// Waits before asking the relay again: exponential from 1 s to 5 min, or what the
    /// relay asked (up to an hour) if longer, spread by a per-device offset so that devices refused
    /// together do not come back together. Everything queued is planned again then.
    fn back_off(&mut self, relay_hint: u64) {
        let exponential = 1u64 << self.failures.min(9);
        let spread = u64::from(self.device.device_id().as_bytes()[0]) % exponential.max(1);
        // A relay may ask for longer (its own rate limit), but not for ever: it could
        // silence a device as well by refusing everything.
        let delay = (exponential + spread).min(MAX_BACKOFF_SECS).max(relay_hint.min(MAX_RELAY_BACKOFF_SECS));
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(self.now.saturating_add(delay));
        self.jobs.clear();
        self.follow_up = None;
    }

    /// The relay says the space moved past this device's epoch: read what was missed,
    /// then send again. A relay that says so while serving no commit to read would
    /// have the device ask for ever; after [`MAX_STALE_IN_EPOCH`] such answers in one
    /// epoch the engine reports it and waits as after any refusal.
    fn on_stale(&mut self, group: GroupId) {
        let epoch = self.spaces.get(&group).map(|s| s.group.epoch().as_u64());
        let entry = self.stale.entry(group).or_insert((epoch, 0));
        if entry.0 != epoch {
            *entry = (epoch, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let count = entry.1;
        if count == MAX_STALE_IN_EPOCH {
            self.warn(
                Some(group),
                "the relay says this space moved on but serves no commit that leads there: it may be withholding \
                 the space's changes from this device",
            );
        }
        if count >= MAX_STALE_IN_EPOCH {
            // Other requests may well succeed meanwhile: the wait grows with this
            // space's refusals, not only with consecutive failures.
            self.failures = self.failures.max(count - MAX_STALE_IN_EPOCH);
            self.back_off(0);
        } else {
            self.jobs.push_front(Job::Outbox);
            self.jobs.push_front(Job::Sync(group));
        }
    }

    /// When the engine wants to be polled again even if nothing arrives (a retry after
    /// a backoff); `None` when it only waits for the relay or the user.
    pub fn poll_timeout(&self) -> Option<Now> {
        // A Welcome waiting to be delivered again wakes the engine too.
        let delivery = if self.is_online() { self.delivery_due() } else { None };
        match (self.retry_at, delivery) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn apply_answer(&mut self, step: Step, answer: std::result::Result<ResponseBody, RelayError>) -> Result<()> {
        match (step, answer) {
            (Step::SignIn(step), answer) => match self.session.on_answer(step, answer) {
                SignInOutcome::Challenged => Ok(()),
                SignInOutcome::SignedIn => self.go_online(),
                SignInOutcome::AccountCreated(account) => {
                    self.account = Some(account);
                    self.invitation = None;
                    self.pending_invitation = None;
                    self.issue_certificate()?;
                    self.events.push_back(ClientEvent::AccountCreated(account));
                    self.go_online()
                }
                SignInOutcome::Refused(error) => {
                    // The engine does not wait on a refusal: the next connection tries.
                    self.session.disconnected();
                    Err(CoreError::Relay(error))
                }
                SignInOutcome::Unexpected => {
                    Err(CoreError::Invalid("the relay answered with the wrong kind of response".into()))
                }
            },
            (Step::KeyPackageStatus, Ok(ResponseBody::KeyPackageStatus(status))) => self.top_up_key_packages(&status),
            (Step::KeyPackageUpload, Ok(_)) => Ok(()),
            (Step::Subscribe, Ok(ResponseBody::Subscribed(subscribed))) => {
                for group in subscribed.refused.iter() {
                    self.push_job(Job::Sync(*group));
                }
                Ok(())
            }
            (Step::FetchWelcomes, Ok(ResponseBody::Welcomes(welcomes))) => self.on_welcomes(welcomes),
            (Step::AckWelcomes, Ok(_)) => Ok(()),
            (Step::FetchLog { group }, Ok(ResponseBody::LogPage(page))) => self.on_log_page(group, page),
            (Step::FetchLog { group }, Err(RelayError::Forbidden)) => {
                // Our epoch's token is refused: we were removed, or the relay lies.
                self.warn(Some(group), "the relay refused this device's access to the space's log");
                Ok(())
            }
            (Step::FetchContent { group }, Ok(ResponseBody::ContentPage(page))) => self.on_content_page(group, page),
            (Step::FetchContent { group }, Err(RelayError::StaleEpoch { .. })) => {
                self.on_stale(group);
                Ok(())
            }
            (Step::Outbox { index, stage }, answer) => self.on_outbox_answer(index, stage, answer),
            (Step::Device { index, stage }, answer) => self.on_device_answer(index, stage, answer),
            (Step::Delivery { index }, answer) => self.on_delivery_answer(index, answer),
            (Step::Upload { index, chunk }, answer) => self.on_upload_answer(index, chunk, answer),
            (Step::Download { index, chunk }, answer) => self.on_download_answer(index, chunk, answer),
            (_, Err(error)) => Err(CoreError::Relay(error)),
            (_, Ok(_)) => Err(CoreError::Invalid("the relay answered with the wrong kind of response".into())),
        }
    }

    /// Uploads only what the relay lacks: one-time packages up to
    /// [`KEY_PACKAGE_TARGET`], and a last-resort package if none is stored. Each
    /// package's private keys are written to the vault before the upload.
    fn top_up_key_packages(&mut self, status: &huisclos_protocol::messages::KeyPackageStatus) -> Result<()> {
        let missing = KEY_PACKAGE_TARGET.saturating_sub(status.one_time_left);
        if missing == 0 && status.has_last_resort {
            return Ok(());
        }
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound("certificate"))?;
        let mut one_time = Vec::new();
        // Sealed under this device's certificate: the package carries it, name and all,
        // and the relay stores it for anyone who claims it (see `conceal`).
        let sealed = |package: Vec<u8>| -> Result<KeyPackageBytes> {
            Ok(KeyPackageBytes::new(crate::conceal::seal_key_package(&certificate, &package)?)?)
        };
        for _ in 0..missing {
            one_time.push(sealed(crate::mls::key_package(&self.provider, &self.device.mls, &certificate, false)?)?);
        }
        let last_resort = if status.has_last_resort {
            None
        } else {
            Some(sealed(crate::mls::key_package(&self.provider, &self.device.mls, &certificate, true)?)?)
        };
        self.persist()?;
        let body = UploadKeyPackages { one_time: BoundedVec::new(one_time)?, last_resort };
        self.follow_up = Some((body.into(), Step::KeyPackageUpload));
        Ok(())
    }

    fn issue_certificate(&mut self) -> Result<()> {
        let account = self.account.ok_or(CoreError::NotFound("account"))?;
        let body = CertificateBody {
            identity: self.identity,
            account,
            device: self.device.device_id(),
            mls_key: self.device.mls_public(),
            name: self.name.clone(),
            created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        if let Some(old) = self.rotate_from.take() {
            let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
            self.transition = Some(IdentityTransition::sign(&old, self.identity_key()?, at));
        }
        let certificate = DeviceCertificate::issue(self.identity_key()?, body)?;
        self.certificate = Some(certificate.clone());
        // The person's first roster: this device. A restored identity starts a roster
        // of its own (its old devices are gone).
        self.issue_roster(vec![certificate])?;
        self.save_profile()?;
        self.persist()
    }

    fn go_online(&mut self) -> Result<()> {
        debug_assert!(self.session.is_signed_in());
        self.events.push_back(ClientEvent::Online);
        self.push_job(Job::KeyPackages);
        self.push_job(Job::Welcomes);
        let groups: Vec<GroupId> = self.spaces.keys().copied().collect();
        for group in groups {
            self.push_job(Job::Sync(group));
        }
        self.push_job(Job::Subscribe);
        self.push_job(Job::Outbox);
        self.push_job(Job::Devices);
        self.push_job(Job::Transfers);
        Ok(())
    }

    fn on_welcomes(&mut self, welcomes: huisclos_protocol::messages::Welcomes) -> Result<()> {
        let mut last = None;
        for item in welcomes.entries.iter() {
            last = Some(item.position);
            if let Err(error) = self.on_inbox_item(item.welcome.as_bytes()) {
                self.vault.rollback();
                self.reject(None, format!("an invitation was refused: {error}"));
            } else {
                self.persist()?;
            }
        }
        if let Some(up_to) = last {
            self.in_flight_follow_up(AckWelcomes { up_to }.into(), Step::AckWelcomes)?;
        }
        if welcomes.more {
            self.push_job(Job::Welcomes);
        }
        Ok(())
    }

    /// Sends a request that continues the step just answered, before other jobs.
    fn in_flight_follow_up(&mut self, body: RequestBody, step: Step) -> Result<()> {
        self.follow_up = Some((body, step));
        Ok(())
    }

    fn on_inbox_item(&mut self, bytes: &[u8]) -> Result<()> {
        match InboxItem::from_wire(bytes)? {
            InboxItem::Welcome(welcome) => self.join_from_welcome(welcome.as_bytes()),
            // Only a device being linked reads grants; one that reaches a linked device
            // (a resend) has nothing to add.
            InboxItem::DeviceGrant(_) => Ok(()),
            // In clear: left by a device of an earlier release (this one seals them).
            InboxItem::DeviceReady(notice) => self.on_device_ready(&notice),
            InboxItem::Roster(card) => self.on_roster_notice(&card),
            InboxItem::JoinRequest(sealed) => self.on_join_request(&sealed),
            InboxItem::Sealed(notice) => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound("certificate"))?;
                let inner = notice.open(&certificate)?;
                match InboxItem::from_wire(&inner)? {
                    InboxItem::DeviceReady(notice) => self.on_device_ready(&notice),
                    InboxItem::Roster(card) => self.on_roster_notice(&card),
                    _ => Err(CoreError::Verification("a sealed notice holds a roster or a ready notice, nothing else")),
                }
            }
        }
    }

    /// A roster in this device's inbox: this person's newest, or the one by which the
    /// holder of their identity key replaced it.
    fn on_roster_notice(&mut self, card: &ContactCard) -> Result<()> {
        let rotated_from_ours = card.body.transition.as_ref().is_some_and(|t| t.body.previous == self.identity);
        if card.body.identity != self.identity && !rotated_from_ours {
            return Err(CoreError::Verification("a roster of another person in this device's inbox"));
        }
        self.observe_roster(card, None)
    }

    /// `item`, sealed for the devices of `recipients` (see [`crate::conceal`]), as the
    /// relay's inbox carries it.
    fn sealed_notice(
        recipients: &[DeviceCertificate],
        item: &InboxItem,
    ) -> Result<huisclos_protocol::messages::WelcomeBytes> {
        let inner = Zeroizing::new(item.to_wire());
        InboxItem::Sealed(crate::conceal::SealedNotice::seal(recipients, &inner)?).to_welcome_bytes()
    }

    /// A request to join through this device's space card: checked, then admitted at
    /// once in an open space, or kept for a space manager's decision.
    fn on_join_request(&mut self, sealed: &SealedJoinRequest) -> Result<()> {
        let key_id = sealed.key_id().ok_or(CoreError::Verification("a join request without a key id"))?;
        let space_id = self
            .spaces
            .iter()
            .find(|(_, s)| s.meta.request_key_id == Some(key_id))
            .map(|(id, _)| *id)
            .ok_or(CoreError::Verification("a join request for a space card this device did not issue"))?;
        let space = self.spaces.get(&space_id).ok_or(CoreError::NotFound("space"))?;
        if space.meta.removed || space.meta.stalled {
            return Err(CoreError::Forbidden("a join request for a space this device can no longer change"));
        }
        let secret = space
            .meta
            .request_secret
            .map(|s| Zeroizing::new(x25519_dalek::StaticSecret::from(s)))
            .ok_or(CoreError::NotFound("request key"))?;
        let request = JoinRequest::open(sealed, &space_id, &secret)?;
        // A request taken once, or an old one replayed, is refused.
        self.check_fresh(request.digest(), request.body.created_at.get())?;
        self.save_profile()?;
        let identity = request.body.card.body.identity;
        let name = request.body.card.name().map(|n| n.to_string()).unwrap_or_default();
        if self.members(&space_id)?.iter().any(|m| m.identity == identity) {
            return Ok(()); // already in: a resend, or admitted by someone else
        }
        self.trust_card(&request.body.card)?;
        let rules = self.rules(&space_id)?;
        let my_role = rules.role_of(&self.identity);
        match rules.policy {
            Policy::Confidential => Err(CoreError::Forbidden("the space no longer takes requests to join")),
            Policy::Open if my_role.may_contribute() => {
                self.enqueue(OutboxItem::Operation {
                    group: *space_id.as_bytes(),
                    operation: Operation::Invite { card: request.body.card.to_wire(), role: rules.default_role as u8 },
                })?;
                self.events.push_back(ClientEvent::JoinRequested { space: space_id, name, identity, admitted: true });
                Ok(())
            }
            _ => {
                let space = self.spaces.get_mut(&space_id).ok_or(CoreError::NotFound("space"))?;
                let waiting = &mut space.meta.join_requests;
                // One request per person: the newest replaces an older one.
                waiting
                    .retain(|bytes| JoinRequest::from_wire(bytes).is_ok_and(|r| r.body.card.body.identity != identity));
                if waiting.len() >= MAX_PENDING_JOIN_REQUESTS {
                    waiting.remove(0);
                }
                waiting.push(request.to_wire());
                self.save_group(&space_id)?;
                self.events.push_back(ClientEvent::JoinRequested { space: space_id, name, identity, admitted: false });
                Ok(())
            }
        }
    }

    /// Another device of this person is linked and ready: it is added to every space
    /// this device is in.
    fn on_device_ready(&mut self, notice: &DeviceReady) -> Result<()> {
        let certificate = notice.verify()?.clone();
        let card = &notice.body.card;
        if card.body.identity != self.identity || card.account() != self.account {
            return Err(CoreError::Verification("a device-ready notice from another person's device"));
        }
        if certificate.body.device == self.device.device_id() {
            return Ok(());
        }
        self.check_fresh(notice.digest(), notice.body.issued_at.get())?;
        // The roster it carries was signed by the identity key's holder, who approved
        // the device on the person's existing device; a newer one than held is taken.
        self.observe_roster(card, None)?;
        // Only a device on the newest roster is added: a revoked device's notice (its
        // roster older than the one held) brings nothing back.
        if !self.device_allowed(&certificate.body) {
            return Err(CoreError::Verification(
                "a device-ready notice of a device this person's roster no longer lists",
            ));
        }
        self.save_profile()?;
        let spaces: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(_, s)| !s.meta.removed && !s.meta.stalled)
            .filter(|(_, s)| !Self::has_device(&s.group, &certificate.body.device))
            .map(|(id, _)| *id)
            .collect();
        for space in spaces {
            // The roster goes first, so that every member knows the device is the
            // person's before the commit adds it.
            self.enqueue(OutboxItem::Roster { group: *space.as_bytes(), card: card.to_wire() })?;
            let rules = self.rules(&space)?;
            if rules.devices_need_approval && !rules.role_of(&self.identity).may_manage_space() {
                // A space manager approves it there (it shows among their pending
                // devices once they read the roster).
                continue;
            }
            self.enqueue(OutboxItem::Operation {
                group: *space.as_bytes(),
                operation: Operation::AddDevice { certificate: certificate.to_wire() },
            })?;
        }
        Ok(())
    }

    fn has_device(group: &MlsGroup, device: &DeviceId) -> bool {
        group.members().any(|m| {
            crate::mls::certificate_of(&m.credential, &m.signature_key).is_ok_and(|c| &c.body.device == device)
        })
    }

    fn join_from_welcome(&mut self, bytes: &[u8]) -> Result<()> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(CoreError::Invalid("an inbox item is not a Welcome".into()));
        };
        let builder = StagedWelcome::build_from_welcome(&self.provider, &crate::mls::join_config(), welcome)
            .map_err(mls_error)?;
        let joining = our_group_id(builder.processed_welcome().unverified_group_info().group_id())?;
        if let Some(earlier) = self.spaces.get_mut(&joining)
            && earlier.meta.removed
        {
            // Invited again after a removal: the old group's state goes first (in this
            // step's writes, so a Welcome that fails leaves it as it was).
            earlier.group.delete(self.provider.storage()).map_err(mls_error)?;
        }
        let staged = builder.build().map_err(mls_error)?;
        let inviter = staged.welcome_sender().map_err(mls_error)?;
        let inviter = crate::mls::certificate_of(inviter.credential(), inviter.signature_key().as_slice())?;
        // Every member's certificate must verify before we trust anything they send.
        let mut certificates = Vec::new();
        for member in staged.members() {
            certificates.push(crate::mls::certificate_of(&member.credential, &member.signature_key)?);
        }
        let rules = crate::mls::rules_of(staged.group_context().extensions())?;
        crate::mls::check_context_extensions(staged.group_context().extensions())?;
        let ledger = crate::mls::ledger_of(staged.group_context().extensions())?
            .ok_or(CoreError::Invalid("a space from an older release: ask its manager to recreate it".into()))?;
        let group = staged.into_group(&self.provider).map_err(mls_error)?;
        let id = our_group_id(group.group_id())?;
        let join_epoch = group.epoch().as_u64();
        let seats = Self::seats(&group);
        let history = History::joined(join_epoch, &ledger, &seats, rules.history == HistoryMode::Keep, |generation| {
            Ok(*self.derive_history_key(&group, &id, generation)?)
        })?;
        let mut meta = GroupMeta::new(history);
        if let Some(earlier) = self.spaces.get(&id) {
            if !earlier.meta.removed {
                return Err(CoreError::Invalid("a Welcome for a space this device is already in".into()));
            }
            // Invited again after a removal: the feed read before stays, and items
            // already shown are not shown twice; everything about the group is new.
            // (The items applied stay under the group's `seen_namespace`.)
            meta.feed_len = earlier.meta.feed_len;
            meta.unread = earlier.meta.unread;
            meta.muted = earlier.meta.muted;
        }
        meta.relay_created = true;
        meta.invited_by = inviter.body.name.to_string();
        // Added by another of this person's devices: the person is already in the
        // space, so there is nothing to accept. (A device a space manager approved is
        // asked, like any invitation: the person sees it on the new device.)
        let own_device = inviter.body.identity == self.identity;
        // Asked for by this person: admitted, so there is nothing left to accept.
        let asked = self.requested.remove(&id);
        // The continuation of a space this device is in and that is stalled here, made
        // by a current member who is a space manager there (as this device last knew
        // its rules) and did not stall it. Anything else that claims to continue a
        // space is an ordinary invitation, for the person to accept or not.
        let continues = rules.replaces.filter(|old| {
            self.spaces.get(old).is_some_and(|s| {
                s.meta.stalled
                    && !s.meta.removed
                    && s.meta.replaced_by.is_none()
                    && Self::seats(&s.group).iter().any(|seat| seat.identity == inviter.body.identity)
                    && crate::mls::rules_of(s.group.extensions())
                        .is_ok_and(|r| r.role_of(&inviter.body.identity).may_manage_space())
                    && s.meta.stalled_by != Some(*inviter.body.identity.as_bytes())
            })
        });
        meta.accepted = own_device || asked || continues.is_some();
        if asked {
            self.save_profile()?;
        }
        self.spaces.insert(id, Space { group, meta });
        self.save_group(&id)?;
        for certificate in &certificates {
            self.observe(&certificate.body, Some(id))?;
        }
        if let Some(old) = continues {
            if let Some(stalled) = self.spaces.get_mut(&old) {
                stalled.meta.replaced_by = Some(*id.as_bytes());
            }
            self.save_group(&old)?;
            self.events.push_back(ClientEvent::Recreated { stalled: old, successor: id });
        }
        if own_device || asked || continues.is_some() {
            self.events.push_back(ClientEvent::Joined(id));
        } else {
            self.events.push_back(ClientEvent::Invited {
                space: id,
                name: rules.name.as_str().to_owned(),
                by: inviter.body.name.to_string(),
            });
        }
        self.push_job(Job::Sync(id));
        self.push_job(Job::Subscribe);
        Ok(())
    }

    fn on_log_page(&mut self, group: GroupId, page: huisclos_protocol::messages::LogPage) -> Result<()> {
        // Sequence numbers are dense; only a space without history loses messages to
        // the relay's retention. Anywhere else a gap is the relay withholding entries.
        let dense = self.spaces.get(&group).map(Space::meta_history_mode).transpose()? == Some(HistoryMode::Keep);
        for entry in page.entries.iter() {
            let position = entry.seq.get();
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
            if position < space.meta.next_seq || space.meta.removed || space.meta.stalled {
                continue;
            }
            let skipped = (dense && space.meta.cursor_known && position > space.meta.next_seq)
                .then(|| (space.meta.next_seq, position - 1));
            space.meta.next_seq = position + 1;
            space.meta.cursor_known = true;
            if let Some((first, last)) = skipped {
                self.warn(
                    Some(group),
                    format!("the relay skipped log entries {first} to {last}: messages may have been withheld"),
                );
            }
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
            if space.meta.pending_commit_seq == Some(position) {
                space.meta.pending_commit_seq = None;
                space.meta.own_seqs.remove(&position);
                let rotates = space.group.pending_commit().is_some_and(|c| c.remove_proposals().next().is_some());
                let rules_before = crate::mls::rules_of(space.group.extensions())?;
                space.group.merge_pending_commit(&self.provider).map_err(mls_error)?;
                self.after_merge(&group, rotates, &rules_before, true)?;
                self.events.push_back(ClientEvent::SpaceChanged(group));
                self.save_group(&group)?;
                self.persist()?;
                continue;
            }
            if space.meta.own_seqs.remove(&position) {
                self.save_group(&group)?;
                self.persist()?;
                continue;
            }
            match self.process_entry(&group, entry.message.as_bytes()) {
                Ok(()) => {
                    self.save_group(&group)?;
                    self.persist()?;
                }
                Err(error) => {
                    // A bad message is skipped and reported; the rest of the log goes
                    // on. A commit cannot be skipped: the relay closed its epoch with
                    // it, so a device that cannot apply it cannot go on either, and
                    // says so (a space manager recreates the space).
                    self.vault.rollback();
                    if let Some(space) = self.spaces.get_mut(&group) {
                        space.meta.next_seq = position + 1;
                    }
                    if entry.kind == huisclos_protocol::messages::EntryKind::Commit {
                        self.stall(&group, None, "", &error);
                    } else {
                        self.reject(Some(group), format!("log entry {position} refused: {error}"));
                    }
                    self.save_group(&group)?;
                    self.persist()?;
                }
            }
        }
        match page.end {
            LogPageEnd::More | LogPageEnd::EpochClosed => self.jobs.push_front(Job::Sync(group)),
            LogPageEnd::UpToDate => {
                let Some(space) = self.spaces.get(&group) else { return Ok(()) };
                if space.meta.pending_commit_seq.is_some() {
                    // Our accepted commit is further on: keep reading.
                    self.jobs.push_front(Job::Sync(group));
                } else if space.meta_history_mode()? == HistoryMode::None && !space.meta.caught_up {
                    if let Some(space) = self.spaces.get_mut(&group) {
                        space.meta.caught_up = true;
                    }
                    self.save_group(&group)?;
                    self.persist()?;
                } else if space.meta_history_mode()? == HistoryMode::Keep && !space.meta.removed && !space.meta.stalled
                {
                    let from = ContentSeq::new(space.meta.content_next).map_err(CoreError::Decode)?;
                    let body = FetchContent {
                        access: self.access(&group)?,
                        from,
                        limit: PageLimit::new(PAGE).map_err(CoreError::Decode)?,
                    };
                    self.in_flight_follow_up(body.into(), Step::FetchContent { group })?;
                }
            }
        }
        Ok(())
    }

    fn process_entry(&mut self, group: &GroupId, bytes: &[u8]) -> Result<()> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let protocol = message.try_into_protocol_message().map_err(mls_error)?;
        let rules = self.rules(group)?;
        let members = self.members(group)?;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
        let processed = space.group.process_message(&self.provider, protocol).map_err(mls_error)?;
        let sender = match processed.sender() {
            Sender::Member(index) => *index,
            _ => return Err(CoreError::Verification("a message not sent by a member")),
        };
        let sender_member = space.group.member_at(sender).ok_or(CoreError::Verification("unknown sender"))?;
        let sender_cert = crate::mls::certificate_of(&sender_member.credential, &sender_member.signature_key)?;
        // A device its person's newest roster no longer lists (revoked) speaks for
        // nobody, even before the commit that removes it from the space.
        let sender_allowed = self.device_allowed(&sender_cert.body);
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(_) | ProcessedMessageContent::ProposalMessage(_)
                if !sender_allowed =>
            {
                Err(CoreError::Verification("a message from a device its person's roster no longer lists"))
            }
            ProcessedMessageContent::ApplicationMessage(application) => {
                let bytes = Zeroizing::new(application.into_bytes());
                match AppPayload::from_wire(&bytes)? {
                    AppPayload::HistoryKeys(_) => {
                        // Release 0.1's keys chosen by a member: a key is derived from
                        // the epoch that starts its generation, never taken from anyone.
                        Err(CoreError::Verification("a history key chosen by a member"))
                    }
                    AppPayload::HistoryGrant(grant) => {
                        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
                        match space.meta.history.take_grant(group, &grant) {
                            Ok(true) => {
                                // Records sealed before this device held their keys are
                                // read again from the start of the content store.
                                space.meta.content_next = 0;
                                self.push_job(Job::Sync(*group));
                                Ok(())
                            }
                            Ok(false) => Ok(()),
                            Err(error) => {
                                let name = sender_cert.body.name.to_string();
                                self.warn(
                                    Some(*group),
                                    format!("{name} handed this device a history that does not match the space's ledger ({error}); it was refused"),
                                );
                                Ok(())
                            }
                        }
                    }
                    AppPayload::Content(envelope) => self.apply_envelope(group, &envelope, Some(&sender_cert), None),
                    AppPayload::Roster(card) => self.observe_roster(&card, Some(*group)),
                }
            }
            ProcessedMessageContent::ProposalMessage(queued) => {
                // The one standalone proposal in use: a member's device leaving.
                let Proposal::Remove(remove) = queued.proposal() else {
                    return Err(CoreError::Invalid("a standalone proposal other than a leave".into()));
                };
                if remove.removed() != sender {
                    return Err(CoreError::Verification("a proposal to remove another member"));
                }
                // The last space manager may not leave while others remain: every
                // device refuses it, not only the leaver's own.
                let identity = sender_cert.body.identity;
                let others: Vec<&MemberSummary> = members.iter().filter(|m| m.identity != identity).collect();
                if rules.role_of(&identity).may_manage_space()
                    && !others.is_empty()
                    && !others.iter().any(|m| m.role.may_manage_space())
                {
                    return Err(CoreError::Forbidden("the last space manager names another before leaving"));
                }
                let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
                space.group.store_pending_proposal(self.provider.storage(), *queued).map_err(mls_error)?;
                let operation = if sender_cert.body.identity == self.identity {
                    // Another device of this person left: the person leaves, so this
                    // device proposes its own removal too.
                    Operation::Leave
                } else {
                    Operation::CommitProposals
                };
                self.enqueue(OutboxItem::Operation { group: *group.as_bytes(), operation })?;
                self.events.push_back(ClientEvent::SpaceChanged(*group));
                Ok(())
            }
            ProcessedMessageContent::OwnPendingCommit | ProcessedMessageContent::OwnPrivateMessage => {
                // Our own entries are recognised by position before processing; one that
                // reaches here was replayed at another position.
                Err(CoreError::Verification("this device's own message at a position it was not given"))
            }
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => {
                Err(CoreError::Invalid("external joins are not allowed".into()))
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let verdict = if sender_allowed {
                    self.judge_commit(group, &rules, &members, &sender_member, &staged)
                } else {
                    Err(CoreError::Forbidden("a commit from a device its person's roster no longer lists"))
                };
                let CommitVerdict { added, revoked } = match verdict {
                    Ok(verdict) => verdict,
                    Err(error) => {
                        // The relay accepted it as this epoch's commit, so the space
                        // cannot advance past it here. Nobody honest applies it.
                        self.stall(group, Some(sender_cert.body.identity), &sender_cert.body.name.to_string(), &error);
                        return Ok(());
                    }
                };
                let before: Vec<IdentityPublicKey> = members.iter().map(|m| m.identity).collect();
                for certificate in &added {
                    self.observe(&certificate.body, Some(*group))?;
                    // A new device of someone already in the space: shown to everyone,
                    // since it reads everything from now on.
                    if before.contains(&certificate.body.identity) {
                        self.events.push_back(ClientEvent::DeviceAdded {
                            space: *group,
                            identity: certificate.body.identity,
                            name: certificate.body.name.to_string(),
                            device: certificate.body.device,
                        });
                    }
                }
                if self.devices.iter().any(|c| revoked.contains(&c.body.device)) {
                    self.devices.retain(|c| !revoked.contains(&c.body.device));
                    self.save_profile()?;
                }
                let removed_me = staged.self_removed();
                let rotates = staged.remove_proposals().next().is_some();
                let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
                space.group.merge_staged_commit(&self.provider, *staged).map_err(mls_error)?;
                if removed_me {
                    space.meta.removed = true;
                    self.events.push_back(ClientEvent::RemovedFromSpace(*group));
                } else {
                    self.after_merge(group, rotates, &rules, false)?;
                    self.events.push_back(ClientEvent::SpaceChanged(*group));
                }
                Ok(())
            }
        }
    }

    /// Marks a space stalled: a commit the relay sequenced was refused here, so this
    /// device cannot go past it. `by` is its committer when known.
    fn stall(&mut self, group: &GroupId, by: Option<IdentityPublicKey>, name: &str, error: &CoreError) {
        let Some(space) = self.spaces.get_mut(group) else { return };
        space.meta.stalled = true;
        space.meta.stalled_by = by.map(|identity| *identity.as_bytes());
        let warning = if name.is_empty() {
            format!(
                "a change no device can apply was accepted by the relay ({error}); the space is stalled until a space manager recreates it"
            )
        } else {
            format!(
                "{name} made a change their role does not allow ({error}); it was refused, and the space is stalled until a space manager recreates it without them"
            )
        };
        self.warn(Some(*group), warning);
    }

    /// Judges a commit whole before it is merged: every proposal is of a kind the
    /// space uses (add, remove, the group context's extensions), every credential it
    /// brings verifies, the committer's new leaf (its update path) keeps its
    /// credential and signature key, the group context holds only the extensions every
    /// space has, and the changes are allowed by the rules of the epoch it closes.
    fn judge_commit(
        &self,
        group: &GroupId,
        rules: &SpaceRules,
        members: &[MemberSummary],
        sender: &Member,
        staged: &StagedCommit,
    ) -> Result<CommitVerdict> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound("space"))?;
        let sender_cert = crate::mls::certificate_of(&sender.credential, &sender.signature_key)?;
        for queued in staged.queued_proposals() {
            match queued.proposal() {
                Proposal::Add(_) | Proposal::Remove(_) | Proposal::GroupContextExtensions(_) => {}
                _ => return Err(CoreError::Forbidden("a kind of change spaces do not use")),
            }
        }
        // Across an update only the leaf's encryption key may change: never the
        // device or the key that signs for it, and the person only by a signed
        // transition to their new identity key (the same device, certified again).
        let mut rotation = None;
        if let Some(leaf) = staged.update_path_leaf_node()
            && (leaf.credential() != &sender.credential || leaf.signature_key().as_slice() != sender.signature_key)
        {
            let moved = crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())
                .map_err(|_| CoreError::Forbidden("a member's update changes who they are"))?;
            let same_device = leaf.signature_key().as_slice() == sender.signature_key
                && moved.body.device == sender_cert.body.device
                && moved.body.account == sender_cert.body.account
                && moved.body.mls_key == sender_cert.body.mls_key;
            if !same_device || !self.transition_known(&sender_cert.body.identity, &moved.body.identity) {
                return Err(CoreError::Forbidden("a member's update changes who they are"));
            }
            rotation = Some((sender_cert.body.identity, moved.body.identity));
        }
        crate::mls::check_context_extensions(staged.group_context().extensions())?;
        let mut changes = Vec::new();
        let mut added = Vec::new();
        for add in staged.add_proposals() {
            let leaf = add.add_proposal().key_package().leaf_node();
            let cert = crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())?;
            // Only a device its person approved (on their newest roster) joins.
            if !self.device_allowed(&cert.body) {
                return Err(CoreError::Forbidden("an added device its person's roster does not list"));
            }
            changes.push(ChangeRequest::Add { identity: cert.body.identity });
            added.push(cert);
        }
        // Devices of this person removed by another of its devices: revoked.
        let mut revoked = Vec::new();
        for remove in staged.remove_proposals() {
            let removed = space
                .group
                .member_at(remove.remove_proposal().removed())
                .ok_or(CoreError::Verification("removal of an empty leaf"))?;
            let removed = crate::mls::certificate_of(&removed.credential, &removed.signature_key)?;
            let proposer = match remove.sender() {
                Sender::Member(index) => {
                    let m = space.group.member_at(*index).ok_or(CoreError::Verification("unknown proposer"))?;
                    crate::mls::certificate_of(&m.credential, &m.signature_key)?
                }
                _ => return Err(CoreError::Verification("a removal proposed from outside")),
            };
            if removed.body.identity == self.identity
                && proposer.body.identity == removed.body.identity
                && proposer.body.device != removed.body.device
            {
                revoked.push(removed.body.device);
            }
            // A device still certified under the proposer's previous identity key is
            // the proposer's own (a person removing their lost device after replacing
            // the key).
            let removed_identity = if self.transition_known(&removed.body.identity, &proposer.body.identity) {
                proposer.body.identity
            } else {
                removed.body.identity
            };
            changes.push(ChangeRequest::Remove { identity: removed_identity, proposer: proposer.body.identity });
        }
        // A person this commit takes out of the space leaves with their role: the
        // commit must drop it, and dropping it is no change of the rules that needs a
        // space manager.
        let removed_leaves: Vec<LeafNodeIndex> =
            staged.remove_proposals().map(|r| r.remove_proposal().removed()).collect();
        let departing = departing(&space.group, &removed_leaves);
        let next_rules = crate::mls::rules_of(staged.group_context().extensions())?;
        let mut base = rules.clone();
        if let Some((previous, next)) = rotation {
            base = base.renamed(&previous, &next);
        }
        for identity in &departing {
            if next_rules.roles.iter().any(|e| &e.identity == identity) {
                return Err(CoreError::Forbidden("the commit keeps the role of someone it takes out of the space"));
            }
            base = base.without_role(identity);
        }
        if next_rules != base {
            changes.push(ChangeRequest::Rules(Box::new(next_rules.clone())));
        }
        let member_ids: Vec<IdentityPublicKey> = members.iter().map(|m| m.identity).collect();
        check_commit(rules, &sender_cert.body.identity, &changes, &member_ids)?;
        check_managers_remain(rules, &next_rules, &member_ids, &departing)?;
        // The ledger says what every member holds of the history; a commit that says
        // otherwise is refused.
        let ledger = crate::mls::ledger_of(staged.group_context().extensions())?
            .ok_or(CoreError::Forbidden("the commit drops the space's history ledger"))?;
        let rotates = !removed_leaves.is_empty();
        space.meta.history.check_ledger(group, &ledger, rotates, staged.group_context().epoch().as_u64(), rules)?;
        Ok(CommitVerdict { added, revoked })
    }

    fn on_content_page(&mut self, group: GroupId, page: huisclos_protocol::messages::ContentPage) -> Result<()> {
        for record in page.records.iter() {
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
            let position = record.seq.get();
            if position < space.meta.content_next {
                continue;
            }
            // Content records are never deleted: a gap is the relay withholding some.
            let skipped = (position > space.meta.content_next).then(|| (space.meta.content_next, position - 1));
            space.meta.content_next = position + 1;
            if let Some((first, last)) = skipped {
                self.warn(
                    Some(group),
                    format!("the relay skipped content records {first} to {last}: items may have been withheld"),
                );
            }
            let outcome = (|| -> Result<()> {
                let sealed = SealedRecord::from_bytes(record.sealed.as_bytes())?;
                let space = self.spaces.get(&group).ok_or(CoreError::NotFound("space"))?;
                let key = space
                    .meta
                    .history
                    .key(sealed.generation)
                    .ok_or(crate::history::RecordRefusal::UnknownGeneration.to_error())?;
                let envelope = sealed.open(&key, &group, &record.record)?;
                if envelope.signed.id != record.record {
                    return Err(CoreError::Verification("record id differs from the item's id"));
                }
                envelope.verify(&group)?;
                // Who may have sealed it: a device on its generation's roster (a member
                // now, for the current generation), and never after a later
                // generation's records.
                let author = &envelope.signed.author.body;
                // The device is in the group now (its MLS key signs its leaf; whose it
                // is, the roster check below says, across a change of identity key).
                let member_now = space.group.members().any(|m| m.signature_key.as_slice() == author.mls_key);
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound("space"))?;
                let standing = space
                    .meta
                    .history
                    .admit_record(sealed.generation, &author.identity, &author.mls_key, member_now)
                    .map_err(crate::history::RecordRefusal::to_error)?;
                if let ContentBody::Marker(marker) = &envelope.signed.body
                    && marker.generation != sealed.generation
                {
                    return Err(CoreError::Verification("a generation marker sealed under another generation"));
                }
                self.apply_envelope(&group, &envelope, None, Some(standing))
            })();
            if let Err(error) = outcome {
                self.vault.rollback();
                self.reject(Some(group), format!("content record {} refused: {error}", record.seq));
            }
            self.save_group(&group)?;
            self.persist()?;
        }
        if page.more {
            self.jobs.push_front(Job::Sync(group));
        } else if let Some(space) = self.spaces.get_mut(&group)
            && !space.meta.caught_up
        {
            space.meta.caught_up = true;
            self.save_group(&group)?;
            self.persist()?;
        }
        Ok(())
    }

    /// Applies a verified item. `standing` says where the author of a sealed record
    /// stands in its generation (the role at its close, for a closed one); items from
    /// MLS messages and this device's own are judged by the current rules.
    fn apply_envelope(
        &mut self,
        group: &GroupId,
        envelope: &ContentEnvelope,
        mls_sender: Option<&DeviceCertificate>,
        standing: Option<Standing>,
    ) -> Result<()> {
        envelope.verify(group)?;
        let author = &envelope.signed.author.body;
        // In the current generation, a device its person's newest roster no longer
        // lists (revoked) speaks for nobody. A record of a closed generation was
        // judged by that generation's roster, as it stood then.
        if !matches!(standing, Some(Standing::Closed(_))) && !self.device_allowed(author) {
            return Err(CoreError::Verification("an item from a device its person's roster no longer lists"));
        }
        if let Some(sender) = mls_sender
            && (sender.body.identity != author.identity || sender.body.mls_key != author.mls_key)
        {
            self.warn(Some(*group), "an item claimed another author than its sender; it was refused");
            return Err(CoreError::Verification("author is not the sender"));
        }
        let rules = self.rules(group)?;
        let role = match standing {
            Some(Standing::Closed(role)) => role,
            Some(Standing::Current) | None => rules.role_of(&author.identity),
        };
        let me = self.identity;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound("space"))?;
        let seen = seen_namespace(group);
        if self.vault.get(&seen, envelope.signed.id.as_bytes())?.is_some() {
            return Ok(()); // a resend, or the same item by both paths
        }
        self.vault.put(&seen, envelope.signed.id.as_bytes(), &[])?;
        if let ContentBody::Marker(_) = &envelope.signed.body {
            // The start of a generation: it raised the content floor when admitted;
            // nothing is shown.
            return Ok(());
        }
        if let ContentBody::Library(op) = &envelope.signed.body {
            if !role.may_contribute() {
                return Err(CoreError::Forbidden("a reader's change to the library"));
            }
            let stamp = Stamp {
                at: envelope.signed.created_at.get(),
                author: *author.identity.as_bytes(),
                op: *envelope.signed.id.as_bytes(),
            };
            let mut library = self.library(group)?;
            library.apply(stamp, op, self.now)?;
            self.vault.put(NS_LIBRARY, group.as_bytes(), &encode(&library)?)?;
            self.events.push_back(ClientEvent::LibraryChanged(*group));
            return Ok(());
        }
        let load = |vault: &Vault, id: &ContentId| load_feed_item(vault, group, id);
        let moderator = Moderator { identity: *author.identity.as_bytes(), name: author.name.to_string() };
        let (target, mut item) = match &envelope.signed.body {
            ContentBody::Post(Post { text }) | ContentBody::Comment(Comment { text, .. }) => {
                if !role.may_contribute() {
                    return Err(CoreError::Forbidden("a reader's post or comment"));
                }
                let parent = match &envelope.signed.body {
                    ContentBody::Comment(comment) => Some(*comment.parent.as_bytes()),
                    _ => None,
                };
                let position = space.meta.feed_len;
                space.meta.feed_len += 1;
                let item = FeedItem {
                    id: *envelope.signed.id.as_bytes(),
                    author: *author.identity.as_bytes(),
                    author_name: author.name.to_string(),
                    created_at: envelope.signed.created_at.get(),
                    parent,
                    text: text.as_str().to_owned(),
                    edited: false,
                    deleted: false,
                    reactions: BTreeMap::new(),
                    position,
                    moderated_by: None,
                };
                self.vault.put_ordered(&order_namespace(group), position, envelope.signed.id.as_bytes())?;
                (envelope.signed.id, item)
            }
            ContentBody::React(React { target, reaction, on }) => {
                if !role.may_contribute() {
                    return Err(CoreError::Forbidden("a reader's reaction"));
                }
                let mut item = load(&self.vault, target)?.ok_or(CoreError::NotFound("reacted item"))?;
                let who = item.reactions.entry(reaction.as_str().to_owned()).or_default();
                if *on {
                    who.insert(*author.identity.as_bytes());
                } else {
                    who.remove(author.identity.as_bytes());
                }
                item.reactions.retain(|_, who| !who.is_empty());
                (*target, item)
            }
            ContentBody::Edit(Edit { target, text }) => {
                let mut item = load(&self.vault, target)?.ok_or(CoreError::NotFound("edited item"))?;
                let by_author = item.author == *author.identity.as_bytes();
                if !by_author && !role.may_manage_content() {
                    return Err(CoreError::Forbidden("an edit of someone else's item"));
                }
                if !item.deleted {
                    // A content manager's text is theirs: it is never shown as the
                    // author's words.
                    item.text = text.as_str().to_owned();
                    item.edited = true;
                    item.moderated_by = (!by_author).then_some(moderator);
                }
                (*target, item)
            }
            ContentBody::Delete(Delete { target }) => {
                let mut item = load(&self.vault, target)?.ok_or(CoreError::NotFound("deleted item"))?;
                let by_author = item.author == *author.identity.as_bytes();
                if !by_author && !role.may_manage_content() {
                    return Err(CoreError::Forbidden("a deletion of someone else's item"));
                }
                item.deleted = true;
                item.text.clear();
                item.moderated_by = (!by_author).then_some(moderator);
                (*target, item)
            }
            ContentBody::Library(_) | ContentBody::Marker(_) => {
                return Err(CoreError::Invalid("a library change is not a feed item".into()));
            }
        };
        let mut notify = None;
        if author.identity != me {
            if let Some(space) = self.spaces.get_mut(group) {
                space.meta.unread = space.meta.unread.saturating_add(1);
                // What the first read after joining brings is history, not news.
                if space.meta.caught_up {
                    let mine = |vault: &Vault, id: &ContentId| -> Result<bool> {
                        Ok(load(vault, id)?.is_some_and(|i| i.author == *me.as_bytes()))
                    };
                    notify = match &envelope.signed.body {
                        ContentBody::Post(_) if !space.meta.muted => Some(NotificationKind::Post),
                        ContentBody::Comment(comment) if mine(&self.vault, &comment.parent)? => {
                            Some(NotificationKind::Reply)
                        }
                        ContentBody::React(react) if react.on && item.author == *me.as_bytes() => {
                            Some(NotificationKind::Reaction)
                        }
                        _ => None,
                    };
                }
            }
        }
        item.id = *target.as_bytes();
        store_feed_item(&self.vault, group, &item)?;
        self.events.push_back(ClientEvent::Content { space: *group, item: target });
        if let Some(kind) = notify {
            let from = author.name.to_string();
            self.events.push_back(ClientEvent::Notify { space: *group, item: target, kind, from });
        }
        Ok(())
    }

    fn on_outbox_answer(
        &mut self,
        index: u64,
        stage: OutboxStage,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(bytes) = self.vault.get_ordered(NS_OUTBOX, index)? else { return Ok(()) };
        let item: OutboxItem = decode(&bytes)?;
        let group = item.group();
        match (stage, answer) {
            (OutboxStage::Claim { operation }, Ok(ResponseBody::ClaimedKeyPackages(claims))) => {
                // The certificates of the devices claimed: each package opens only
                // under its own device's certificate.
                let (identity, wanted) = match &operation {
                    Operation::Invite { card, .. } => {
                        let card = ContactCard::from_wire(card)?;
                        (card.body.identity, card.body.devices.as_slice().to_vec())
                    }
                    Operation::AddDevice { certificate } | Operation::AddMemberDevice { certificate } => {
                        let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                        (certificate.body.identity, vec![certificate])
                    }
                    Operation::Readd { certificates, .. } => readd_devices(certificates)?,
                    _ => return Err(CoreError::Invalid("claim for an operation that adds no one".into())),
                };
                let mut packages = Vec::new();
                for claim in claims.claims.iter() {
                    let Some(package) = &claim.package else { continue };
                    let Some(certificate) = wanted.iter().find(|c| c.body.device == claim.device) else {
                        self.warn(Some(group), "the relay answered a claim with a device that was not asked for");
                        continue;
                    };
                    let present = self.spaces.get(&group).is_some_and(|s| Self::has_device(&s.group, &claim.device));
                    if present {
                        continue;
                    }
                    let opened = crate::conceal::open_key_package(certificate, package.package.as_bytes())
                        .and_then(|bytes| self.validate_key_package(&bytes, &identity, &claim.device));
                    match opened {
                        Ok(kp) => packages.push((kp, claim.device)),
                        Err(error) => self.warn(
                            Some(group),
                            format!("the relay served a key package that is not the invited person's device: {error}"),
                        ),
                    }
                }
                if packages.is_empty() {
                    self.vault.remove_ordered(NS_OUTBOX, index);
                    self.persist()?;
                    self.reject(
                        Some(group),
                        "the invitation failed: none of the person's devices has a usable key package",
                    );
                    return Ok(());
                }
                let (body, stage) = self.build_commit(&group, &operation, packages)?;
                self.follow_up = Some((body, Step::Outbox { index, stage }));
                Ok(())
            }
            (OutboxStage::Commit { welcome, grants }, Ok(ResponseBody::CommitAccepted(accepted))) => {
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound("space"))?;
                space.meta.pending_commit_seq = Some(accepted.seq.get());
                space.meta.own_seqs.insert(accepted.seq.get());
                self.vault.remove_ordered(NS_OUTBOX, index);
                for payload in grants {
                    self.enqueue(OutboxItem::HistoryGrant { group: *group.as_bytes(), payload })?;
                }
                // The Welcome is kept with the commit's outcome, in one write: it is
                // delivered (again and again if it must) even if the app stops now.
                if let Some((recipients, welcome)) = welcome {
                    let item = InboxItem::Welcome(InboxWelcome::new(welcome)?).to_welcome_bytes()?;
                    self.queue_delivery(group, &recipients, item.as_bytes().to_vec())?;
                    self.jobs.retain(|job| *job != Job::Deliveries);
                    self.jobs.push_front(Job::Deliveries);
                }
                self.save_group(&group)?;
                self.persist()?;
                self.jobs.push_front(Job::Sync(group));
                self.push_job(Job::Outbox);
                Ok(())
            }
            (OutboxStage::Leave, Ok(ResponseBody::Appended(appended))) => {
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound("space"))?;
                space.meta.own_seqs.insert(appended.seq.get());
                space.meta.removed = true;
                self.vault.remove_ordered(NS_OUTBOX, index);
                self.save_group(&group)?;
                self.persist()?;
                self.events.push_back(ClientEvent::RemovedFromSpace(group));
                self.push_job(Job::Outbox);
                Ok(())
            }
            (OutboxStage::Leave, Err(RelayError::StaleEpoch { .. })) => {
                // The proposal was for an epoch that closed: read on, then propose again.
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound("space"))?;
                space.group.clear_pending_proposals(self.provider.storage()).map_err(mls_error)?;
                self.persist()?;
                self.on_stale(group);
                Ok(())
            }
            (OutboxStage::Commit { .. }, Err(RelayError::StaleEpoch { .. })) => {
                // Another commit won this epoch: forget ours, read what we missed, and
                // build the operation again on the new state.
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound("space"))?;
                space.group.clear_pending_commit(self.provider.storage()).map_err(mls_error)?;
                self.persist()?;
                self.on_stale(group);
                Ok(())
            }
            (OutboxStage::Commit { .. }, Err(error)) => {
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound("space"))?;
                space.group.clear_pending_commit(self.provider.storage()).map_err(mls_error)?;
                self.persist()?;
                Err(CoreError::Relay(error))
            }
            (OutboxStage::Single, Err(RelayError::Conflict))
                if matches!(item, OutboxItem::Content { .. } | OutboxItem::CreateGroup { .. }) =>
            {
                // A resend of something the relay took before the answer was lost: the
                // record id (or group id) is already there, so it was delivered.
                let answer = match item {
                    OutboxItem::CreateGroup { .. } => {
                        Some(ResponseBody::GroupCreated(huisclos_protocol::messages::GroupCreated {}))
                    }
                    _ => None,
                };
                self.finish_single(index, &item, group, answer)
            }
            (OutboxStage::Single, Ok(answer)) => self.finish_single(index, &item, group, Some(answer)),
            (OutboxStage::Single, Err(RelayError::StaleEpoch { .. })) => {
                self.on_stale(group);
                Ok(())
            }
            (_, Err(error)) => Err(CoreError::Relay(error)),
            (_, Ok(_)) => Err(CoreError::Invalid("unexpected answer to an outbox request".into())),
        }
    }

    /// Ends a one-request outbox item: records what the relay answered and drops the
    /// item.
    fn finish_single(
        &mut self,
        index: u64,
        item: &OutboxItem,
        group: GroupId,
        answer: Option<ResponseBody>,
    ) -> Result<()> {
        match answer {
            Some(ResponseBody::Appended(appended)) => {
                if let Some(space) = self.spaces.get_mut(&group) {
                    space.meta.own_seqs.insert(appended.seq.get());
                }
            }
            Some(ResponseBody::GroupCreated(_)) => {
                if let Some(space) = self.spaces.get_mut(&group) {
                    space.meta.relay_created = true;
                }
                self.push_job(Job::Subscribe);
            }
            _ => {}
        }
        if let OutboxItem::Content { envelope, .. } = item {
            let envelope = ContentEnvelope::from_wire(envelope)?;
            self.events.push_back(ClientEvent::Delivered(envelope.signed.id));
        }
        self.vault.remove_ordered(NS_OUTBOX, index);
        self.save_group(&group)?;
        self.persist()?;
        self.push_job(Job::Outbox);
        Ok(())
    }

    fn validate_key_package(
        &self,
        bytes: &[u8],
        identity: &IdentityPublicKey,
        device: &DeviceId,
    ) -> Result<KeyPackage> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let MlsMessageBodyIn::KeyPackage(package) = message.extract() else {
            return Err(CoreError::Invalid("not a key package".into()));
        };
        let package = package.validate(self.provider.crypto(), ProtocolVersion::Mls10).map_err(mls_error)?;
        let leaf = package.leaf_node();
        let cert = crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())?;
        if &cert.body.identity != identity || &cert.body.device != device {
            return Err(CoreError::Verification("key package of another person or device"));
        }
        Ok(package)
    }

    fn enqueue(&mut self, item: OutboxItem) -> Result<()> {
        let index = self.next_outbox;
        self.next_outbox += 1;
        self.vault.put_ordered(NS_OUTBOX, index, &encode(&item)?)?;
        self.save_profile()?;
        self.push_job(Job::Outbox);
        Ok(())
    }

    // -----------------------------------------------------------------------------
    // Commands.

    /// Creates a space; this person becomes its first space manager. The relay learns
    /// of it when the outbox is sent.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] before the account exists; MLS and store errors.
    pub fn create_space(
        &mut self,
        name: SpaceName,
        description: SpaceDescription,
        policy: Policy,
        history: HistoryMode,
    ) -> Result<GroupId> {
        let rules = SpaceRules::new(name, description, policy, history, self.identity);
        self.found_space(rules)
    }

    /// Creates the MLS group of a new space with `rules`, its first history key, and
    /// queues its creation at the relay.
    fn found_space(&mut self, rules: SpaceRules) -> Result<GroupId> {
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound("no account yet: join a relay first"))?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let id = GroupId::from_bytes(id);
        let ledger = HistoryLedger {
            generation: 0,
            start_epoch: Epoch::new(0).map_err(CoreError::Decode)?,
            key_commitment: None,
            closed: crate::history::initial_chain(&id),
        };
        let group = MlsGroup::builder()
            .with_group_id(openmls_group_id(&id))
            .ciphersuite(crate::mls::CIPHERSUITE)
            .with_wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .max_past_epochs(crate::mls::MAX_PAST_EPOCHS)
            .with_capabilities(crate::mls::capabilities())
            .with_group_context_extensions(crate::mls::group_context_extensions(&rules, &ledger)?)
            .build(&self.provider, &DeviceSigner(&self.device.mls), crate::mls::credential_with_key(&certificate))
            .map_err(mls_error)?;
        // Generation 0's key is epoch 0's: the creator alone holds it until it adds
        // someone, who receives it in a grant checked against the ledger.
        let key = self.derive_history_key(&group, &id, 0)?;
        let creator = Seat { identity: self.identity, mls_key: self.device.mls_public() };
        let keeps = rules.history == HistoryMode::Keep;
        let mut meta = GroupMeta::new(History::new_space(&id, *key, creator, keeps));
        meta.accepted = true;
        meta.caught_up = true;
        meta.cursor_known = true;
        self.spaces.insert(id, Space { group, meta });
        self.save_group(&id)?;
        self.enqueue(OutboxItem::CreateGroup { group: *id.as_bytes() })?;
        self.persist()?;
        Ok(id)
    }

    /// Recreates a space that a forbidden commit stalled: a new space with the same
    /// name, description, policy, history mode and roles, and every member but the one
    /// whose commit stalled it, each with all the devices they had. Members' devices
    /// join it without an invitation to accept and link it to the stalled one, whose
    /// feed stays readable where it was read. Content from before lives on in those
    /// feeds; people added later read the new space's history only.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] unless the space is stalled and not yet recreated;
    /// [`CoreError::Forbidden`] unless this person is a space manager in it.
    pub fn recreate_space(&mut self, stalled: &GroupId) -> Result<GroupId> {
        let entry = self.spaces.get(stalled).ok_or(CoreError::NotFound("space"))?;
        if !entry.meta.stalled || entry.meta.removed {
            return Err(CoreError::Invalid("only a stalled space is recreated".into()));
        }
        if let Some(successor) = entry.meta.replaced_by {
            return Err(CoreError::Invalid(format!("the space was already recreated as {}", hex::encode(successor))));
        }
        let offender = entry.meta.stalled_by.map(IdentityPublicKey::from_bytes);
        let old_rules = self.rules(stalled)?;
        let me = self.identity;
        if !old_rules.role_of(&me).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager may recreate a space"));
        }
        // Who comes along, device by device, as the stalled group last agreed.
        let mut people: BTreeMap<IdentityPublicKey, Vec<Vec<u8>>> = BTreeMap::new();
        let mut own_devices = Vec::new();
        for member in entry.group.members() {
            let certificate = crate::mls::certificate_of(&member.credential, &member.signature_key)?;
            if Some(certificate.body.identity) == offender {
                continue;
            }
            if certificate.body.identity == me {
                if certificate.body.device != self.device.device_id() {
                    own_devices.push(certificate.to_wire());
                }
            } else {
                people.entry(certificate.body.identity).or_default().push(certificate.to_wire());
            }
        }
        let mut rules = match offender {
            Some(offender) => old_rules.without_role(&offender),
            None => old_rules.clone(),
        };
        rules.replaces = Some(*stalled);
        let successor = self.found_space(rules)?;
        for certificate in own_devices {
            self.enqueue(OutboxItem::Operation {
                group: *successor.as_bytes(),
                operation: Operation::AddDevice { certificate },
            })?;
        }
        for (identity, certificates) in people {
            let role = old_rules.role_of(&identity) as u8;
            self.enqueue(OutboxItem::Operation {
                group: *successor.as_bytes(),
                operation: Operation::Readd { certificates, role },
            })?;
        }
        let entry = self.spaces.get_mut(stalled).ok_or(CoreError::NotFound("space"))?;
        entry.meta.replaced_by = Some(*successor.as_bytes());
        self.save_group(stalled)?;
        self.persist()?;
        self.events.push_back(ClientEvent::Recreated { stalled: *stalled, successor });
        Ok(successor)
    }

    fn queue_operation(&mut self, space: &GroupId, operation: Operation) -> Result<()> {
        if !self.spaces.contains_key(space) {
            return Err(CoreError::NotFound("space"));
        }
        self.enqueue(OutboxItem::Operation { group: *space.as_bytes(), operation })?;
        self.persist()
    }

    /// Invites a person (all the devices on their contact card) with a role.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] when this person may not invite here.
    pub fn invite(&mut self, space: &GroupId, card: &ContactCard, role: Role) -> Result<()> {
        card.verify()?;
        let rules = self.rules(space)?;
        let my_role = rules.role_of(&self.identity);
        if !(my_role.may_manage_space() || rules.policy == Policy::Open && my_role.may_contribute()) {
            return Err(CoreError::Forbidden("only a space manager may invite to this space"));
        }
        if let Err(error) = self.trust_card(card) {
            // The sighting itself is kept (and was reported); the invitation is not.
            self.persist()?;
            return Err(error);
        }
        // The members learn the invitee's roster before the commit adding its devices.
        self.enqueue(OutboxItem::Roster { group: *space.as_bytes(), card: card.to_wire() })?;
        self.queue_operation(space, Operation::Invite { card: card.to_wire(), role: role as u8 })
    }

    /// Re-admits a member who lost every device and restored their identity from the
    /// recovery words on a new one: in two commits, their old devices are removed (the
    /// history key rotates, so a seized phone reads nothing newer) and the devices on
    /// `card` are added with the role the person had. The card must be signed by the
    /// member's own identity key, so only the holder of the words can make one.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager;
    /// [`CoreError::NotFound`] if the card's person is not a member here;
    /// [`CoreError::Invalid`] for this person's own card, or a card with no new device.
    pub fn readmit(&mut self, space: &GroupId, card: &ContactCard) -> Result<()> {
        card.verify()?;
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager may re-admit people"));
        }
        let person = card.body.identity;
        if person == self.identity {
            return Err(CoreError::Invalid("a person re-admits someone else, not themself".into()));
        }
        // The person as a member: under this card's key, or under the key it replaced
        // (a person restored from the recovery words moves to a new key).
        let previous = card.body.transition.as_ref().map(|t| t.body.previous);
        let member = self
            .members(space)?
            .into_iter()
            .find(|m| m.identity == person || Some(m.identity) == previous)
            .ok_or(CoreError::NotFound("that person is not a member of this space"))?;
        if card.body.devices.as_slice().iter().all(|c| member.devices.contains(&c.body.device)) {
            return Err(CoreError::Invalid("that card shows no new device: nothing to re-admit".into()));
        }
        if let Err(error) = self.trust_card(card) {
            self.persist()?;
            return Err(error);
        }
        self.queue_operation(space, Operation::Remove { identity: *member.identity.as_bytes() })?;
        self.queue_operation(space, Operation::Invite { card: card.to_wire(), role: member.role as u8 })
    }

    /// Removes a person (all their devices) from the space and rotates its history key.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager (or removes
    /// themself).
    pub fn remove(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<()> {
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_manage_space() && person != &self.identity {
            return Err(CoreError::Forbidden("only a space manager may remove people"));
        }
        self.queue_operation(space, Operation::Remove { identity: *person.as_bytes() })
    }

    /// Leaves the space, with all of this person's devices: each proposes its own
    /// removal, and the next member online commits it (a member cannot commit its own
    /// removal). The history key is rotated by that commit.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for the last space manager while others remain (name
    /// another first).
    pub fn leave(&mut self, space: &GroupId) -> Result<()> {
        let rules = self.rules(space)?;
        let me = self.identity;
        let members = self.members(space)?;
        let other_managers = members.iter().any(|m| m.identity != me && m.role.may_manage_space());
        let others = members.iter().any(|m| m.identity != me);
        if rules.role_of(&me).may_manage_space() && others && !other_managers {
            return Err(CoreError::Forbidden("the last space manager names another before leaving"));
        }
        self.queue_operation(space, Operation::Leave)
    }

    /// Changes a person's role.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn set_role(&mut self, space: &GroupId, person: &IdentityPublicKey, role: Role) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager may change roles"));
        }
        self.queue_operation(space, Operation::SetRole { identity: *person.as_bytes(), role: role as u8 })
    }

    /// Whether new devices of members need a space manager's approval in the space
    /// (meant for confidential spaces): a space manager's change.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn set_device_approval(&mut self, space: &GroupId, on: bool) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager decides how devices join"));
        }
        self.queue_operation(space, Operation::SetDeviceApproval { on })
    }

    /// The devices of members that their person's newest roster lists but that are
    /// not in the space: in a space where new devices need approval, what a space
    /// manager approves with [`Engine::approve_device`].
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown space.
    pub fn pending_devices(&self, space: &GroupId) -> Result<Vec<DeviceCertificate>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound("space"))?;
        let mut pending = Vec::new();
        for member in self.members(space)? {
            let card = if member.identity == self.identity {
                self.card.clone()
            } else {
                self.contacts.card_of(&member.identity)
            };
            let Some(card) = card else { continue };
            for certificate in card.body.devices.iter() {
                if !Self::has_device(&entry.group, &certificate.body.device) && self.device_allowed(&certificate.body) {
                    pending.push(certificate.clone());
                }
            }
        }
        Ok(pending)
    }

    /// Adds a member's new device to the space (a space manager's approval).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager;
    /// [`CoreError::NotFound`] unless the device is among [`Engine::pending_devices`].
    pub fn approve_device(&mut self, space: &GroupId, device: &DeviceId) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager adds a device to someone else"));
        }
        let certificate = self
            .pending_devices(space)?
            .into_iter()
            .find(|c| &c.body.device == device)
            .ok_or(CoreError::NotFound("a pending device of a member"))?;
        self.queue_operation(space, Operation::AddMemberDevice { certificate: certificate.to_wire() })
    }

    /// Renames the space.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn rename(&mut self, space: &GroupId, name: SpaceName) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager may rename the space"));
        }
        self.queue_operation(space, Operation::Rename { name: name.as_str().to_owned() })
    }

    /// Changes the space's description.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless this person is a space manager.
    pub fn describe(&mut self, space: &GroupId, description: SpaceDescription) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_manage_space() {
            return Err(CoreError::Forbidden("only a space manager may describe the space"));
        }
        self.queue_operation(space, Operation::Describe { description: description.as_str().to_owned() })
    }

    /// Accepts an invitation: the space shows among this person's spaces.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such space.
    pub fn accept_invitation(&mut self, space: &GroupId) -> Result<()> {
        let entry = self.spaces.get_mut(space).ok_or(CoreError::NotFound("invitation"))?;
        entry.meta.accepted = true;
        self.save_group(space)?;
        self.persist()?;
        self.events.push_back(ClientEvent::Joined(*space));
        Ok(())
    }

    /// The card to hand to people who may ask to join the space (text or QR code).
    /// Requests reach this device, sealed to a key whose secret only it holds; the
    /// same card is returned each time.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a confidential space, or when this person may not
    /// admit people (a space manager; in an open space, any contributor).
    pub fn space_card(&mut self, space: &GroupId) -> Result<SpaceCard> {
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound("no account yet"))?;
        let rules = self.rules(space)?;
        let role = rules.role_of(&self.identity);
        if !(role.may_manage_space() || rules.policy == Policy::Open && role.may_contribute()) {
            return Err(CoreError::Forbidden("only a space manager may hand out this space's card"));
        }
        if rules.policy == Policy::Confidential {
            return Err(CoreError::Forbidden("a confidential space takes no requests to join"));
        }
        let entry = self.spaces.get_mut(space).ok_or(CoreError::NotFound("space"))?;
        if entry.meta.removed || entry.meta.stalled {
            return Err(CoreError::Forbidden("this device can no longer change the space"));
        }
        let secret = match entry.meta.request_secret {
            Some(secret) => Zeroizing::new(x25519_dalek::StaticSecret::from(secret)),
            None => {
                let secret = x25519_dalek::StaticSecret::random_from_rng(OsRng);
                entry.meta.request_secret = Some(secret.to_bytes());
                let public = x25519_dalek::PublicKey::from(&secret);
                entry.meta.request_key_id = Some(crate::join::request_key_id(public.as_bytes()));
                self.save_group(space)?;
                self.persist()?;
                Zeroizing::new(secret)
            }
        };
        let body = SpaceCardBody {
            space: *space,
            name: rules.name,
            description: rules.description,
            policy: rules.policy,
            issuer: certificate,
            request_key: x25519_dalek::PublicKey::from(&*secret).to_bytes(),
            issued_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        SpaceCard::issue(body, &self.device.mls)
    }

    /// Asks to join the space of `card`, with a note for the space manager. The
    /// request goes, sealed, to the device that issued the card; once admitted, the
    /// space shows among this person's spaces without an invitation to accept.
    ///
    /// # Errors
    /// [`CoreError::Verification`] for a card that does not verify;
    /// [`CoreError::Invalid`] when already a member or the note is too long.
    pub fn request_to_join(&mut self, card: &SpaceCard, note: &str) -> Result<()> {
        card.verify()?;
        if self.spaces.get(&card.body.space).is_some_and(|s| !s.meta.removed) {
            return Err(CoreError::Invalid("this device is already in that space".into()));
        }
        if !self.requested.contains(&card.body.space) && self.requested.len() >= MAX_OPEN_REQUESTS {
            return Err(CoreError::Invalid("too many requests to join are waiting for an answer".into()));
        }
        let note = JoinNote::new(note)?;
        let request = JoinRequest::sign(
            self.device.device_id(),
            &self.device.mls,
            card,
            self.contact_card()?,
            note,
            UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        )?;
        let item = InboxItem::JoinRequest(request.seal()?).to_welcome_bytes()?;
        let index = self.next_device_item;
        self.next_device_item += 1;
        self.vault.put_ordered(
            NS_DEVICE_OUTBOX,
            index,
            &encode(&DeviceItem::JoinRequest {
                device: *card.body.issuer.body.device.as_bytes(),
                item: item.as_bytes().to_vec(),
            })?,
        )?;
        self.requested.insert(card.body.space);
        self.save_profile()?;
        self.persist()?;
        self.push_job(Job::Devices);
        Ok(())
    }

    /// The requests to join the space waiting on this device for a decision.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such space.
    pub fn join_requests(&self, space: &GroupId) -> Result<Vec<JoinRequestSummary>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound("space"))?;
        let mut requests = Vec::new();
        for bytes in &entry.meta.join_requests {
            let request = JoinRequest::from_wire(bytes)?;
            requests.push(JoinRequestSummary {
                identity: request.body.card.body.identity,
                name: request.body.card.name().map(|n| n.to_string()).unwrap_or_default(),
                note: request.body.note.as_str().to_owned(),
                asked_at: request.body.created_at.get(),
                devices: request.body.card.body.devices.len(),
            });
        }
        Ok(requests)
    }

    fn take_join_request(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<JoinRequest> {
        let entry = self.spaces.get_mut(space).ok_or(CoreError::NotFound("space"))?;
        let position = entry
            .meta
            .join_requests
            .iter()
            .position(|bytes| JoinRequest::from_wire(bytes).is_ok_and(|r| &r.body.card.body.identity == person))
            .ok_or(CoreError::NotFound("request to join"))?;
        let bytes = entry.meta.join_requests.remove(position);
        Ok(JoinRequest::from_wire(&bytes)?)
    }

    /// Admits the person who asked to join, with `role`: all the devices on their
    /// request's contact card are invited.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] without such a request; [`CoreError::Forbidden`] unless
    /// this person may invite.
    pub fn approve_request(&mut self, space: &GroupId, person: &IdentityPublicKey, role: Role) -> Result<()> {
        let rules = self.rules(space)?;
        let my_role = rules.role_of(&self.identity);
        if !(my_role.may_manage_space() || rules.policy == Policy::Open && my_role.may_contribute()) {
            return Err(CoreError::Forbidden("only a space manager may admit people to this space"));
        }
        let waiting = self.join_requests(space)?.into_iter().any(|r| &r.identity == person);
        if !waiting {
            return Err(CoreError::NotFound("request to join"));
        }
        let request = self.take_join_request(space, person)?;
        if let Err(error) = self.trust_card(&request.body.card) {
            // The request stays for a decision once the key is settled; the sighting
            // is kept (and was reported).
            self.spaces.get_mut(space).ok_or(CoreError::NotFound("space"))?.meta.join_requests.push(request.to_wire());
            self.persist()?;
            return Err(error);
        }
        self.save_group(space)?;
        self.queue_operation(space, Operation::Invite { card: request.body.card.to_wire(), role: role as u8 })
    }

    /// Declines a request to join; the person is not told.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] without such a request.
    pub fn decline_request(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<()> {
        self.take_join_request(space, person)?;
        self.save_group(space)?;
        self.persist()
    }

    fn publish(&mut self, space: &GroupId, body: ContentBody) -> Result<ContentId> {
        self.publish_at(space, body, self.now)
    }

    fn publish_at(&mut self, space: &GroupId, body: ContentBody, at: Now) -> Result<ContentId> {
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound("no account yet"))?;
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_contribute() {
            return Err(CoreError::Forbidden("readers do not post, comment or react"));
        }
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound("space"))?;
        if entry.meta.removed {
            return Err(CoreError::Forbidden("this device is no longer in the space"));
        }
        if entry.meta.stalled {
            return Err(CoreError::SpaceStalled);
        }
        let id = random_content_id();
        let signed = EnvelopeBody {
            id,
            group: *space,
            author: certificate,
            created_at: UnixSeconds::new(at).map_err(CoreError::Decode)?,
            body,
        };
        let envelope = ContentEnvelope::sign(signed, &self.device.mls)?;
        // Refused now, with a clear error, rather than stuck in the outbox: an item must
        // fit the relay's content record (sealed) and an MLS message.
        let fits =
            huisclos_protocol::limits::MAX_CONTENT_RECORD_LEN.min(huisclos_protocol::limits::MAX_MLS_MESSAGE_LEN);
        if envelope.to_wire().len() + crate::content::SEALED_RECORD_OVERHEAD > fits {
            return Err(CoreError::Invalid(format!("an item has at most about {} KiB", fits / 1024 - 1)));
        }
        // Shown here at once, and sent when the relay is reachable.
        self.apply_envelope(space, &envelope, None, None)?;
        self.enqueue(OutboxItem::Content { group: *space.as_bytes(), envelope: envelope.to_wire() })?;
        self.save_group(space)?;
        self.persist()?;
        Ok(id)
    }

    /// Posts news.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; [`CoreError::Invalid`] for bad text.
    pub fn post(&mut self, space: &GroupId, text: &str) -> Result<ContentId> {
        self.publish(space, ContentBody::Post(Post { text: Text::new(text)? }))
    }

    /// Comments under a post or comment.
    ///
    /// # Errors
    /// As [`Engine::post`]; [`CoreError::NotFound`] when the parent is unknown.
    pub fn comment(&mut self, space: &GroupId, parent: &ContentId, text: &str) -> Result<ContentId> {
        if self.item(space, parent)?.is_none() {
            return Err(CoreError::NotFound("the post or comment answered"));
        }
        self.publish(space, ContentBody::Comment(Comment { parent: *parent, text: Text::new(text)? }))
    }

    /// Adds or withdraws a reaction.
    ///
    /// # Errors
    /// As [`Engine::comment`].
    pub fn react(&mut self, space: &GroupId, target: &ContentId, reaction: &str, on: bool) -> Result<ContentId> {
        if self.item(space, target)?.is_none() {
            return Err(CoreError::NotFound("the item reacted to"));
        }
        self.publish(space, ContentBody::React(React { target: *target, reaction: Reaction::new(reaction)?, on }))
    }

    /// Edits an item (the author's own, or any for content managers).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] otherwise.
    pub fn edit(&mut self, space: &GroupId, target: &ContentId, text: &str) -> Result<ContentId> {
        self.check_may_change(space, target)?;
        self.publish(space, ContentBody::Edit(Edit { target: *target, text: Text::new(text)? }))
    }

    /// Deletes an item (the author's own, or any for content managers).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] otherwise.
    pub fn delete(&mut self, space: &GroupId, target: &ContentId) -> Result<ContentId> {
        self.check_may_change(space, target)?;
        self.publish(space, ContentBody::Delete(Delete { target: *target }))
    }

    fn check_may_change(&self, space: &GroupId, target: &ContentId) -> Result<()> {
        let item = self.item(space, target)?.ok_or(CoreError::NotFound("item"))?;
        let me = self.identity;
        if item.author != *me.as_bytes() && !self.rules(space)?.role_of(&me).may_manage_content() {
            return Err(CoreError::Forbidden("only the author or a content manager may change this item"));
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------
    // The library.

    /// The space's library, as this device knows it.
    ///
    /// # Errors
    /// Store errors.
    pub fn library(&self, space: &GroupId) -> Result<Library> {
        Ok(self.vault.get(NS_LIBRARY, space.as_bytes())?.map(|b| decode(&b)).transpose()?.unwrap_or_default())
    }

    fn library_op(&mut self, space: &GroupId, op: LibraryOp) -> Result<()> {
        let at = self.library(space)?.next_time(self.now);
        self.publish_at(space, ContentBody::Library(op), at).map(|_| ())
    }

    fn new_node(&mut self, space: &GroupId, kind: NodeKind, parent: Option<NodeId>, name: &str) -> Result<NodeId> {
        let mut node = [0u8; 16];
        OsRng.fill_bytes(&mut node);
        let name = NodeName::new(name)?;
        self.library_op(space, LibraryOp::Create(CreateNode { node, kind, name, parent }))?;
        Ok(node)
    }

    /// Creates a folder in `parent` (`None`: the top of the library).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; [`CoreError::Invalid`] for a bad name.
    pub fn create_folder(&mut self, space: &GroupId, parent: Option<NodeId>, name: &str) -> Result<NodeId> {
        self.new_node(space, NodeKind::Folder, parent, name)
    }

    /// Creates a note with its text.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn create_note(&mut self, space: &GroupId, parent: Option<NodeId>, name: &str, text: &str) -> Result<NodeId> {
        let node = self.new_node(space, NodeKind::Note, parent, name)?;
        self.write_note(space, &node, text)?;
        Ok(node)
    }

    /// Replaces a note's text.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn write_note(&mut self, space: &GroupId, note: &NodeId, text: &str) -> Result<()> {
        self.library_op(space, LibraryOp::WriteNote(WriteNote { node: *note, text: NoteText::new(text)? }))
    }

    /// Renames a folder, file or note.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn rename_node(&mut self, space: &GroupId, node: &NodeId, name: &str) -> Result<()> {
        self.library_op(space, LibraryOp::Rename(RenameNode { node: *node, name: NodeName::new(name)? }))
    }

    /// Moves a folder, file or note into `parent` (`None`: the top).
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn move_node(&mut self, space: &GroupId, node: &NodeId, parent: Option<NodeId>) -> Result<()> {
        self.library_op(space, LibraryOp::Move(MoveNode { node: *node, parent }))
    }

    /// Uploads the file at `source` as a new file in `parent` named `name`, or — with
    /// `version_of` — as a new version of that file. The file is sealed chunk by chunk
    /// into the profile (ciphertext only) at once; the chunks go to the relay in the
    /// background, resuming where they stopped after any interruption, with
    /// [`ClientEvent::Transfer`] events; the file appears in the library once all its
    /// chunks are there. Returns the file's node.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; I/O errors reading `source`.
    pub fn put_file(
        &mut self,
        space: &GroupId,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        source: &std::path::Path,
    ) -> Result<NodeId> {
        let rules = self.rules(space)?;
        if !rules.role_of(&self.identity).may_contribute() {
            return Err(CoreError::Forbidden("readers do not add files"));
        }
        let name = NodeName::new(name)?;
        let length = std::fs::metadata(source)?.len();
        let staging = self.vault.dir().join(crate::transfer::STAGING_DIR);
        std::fs::create_dir_all(&staging)?;
        let reader = std::io::BufReader::new(std::fs::File::open(source)?);
        let manifest = crate::chunk::seal_stream(reader, length, |chunk| {
            std::fs::write(crate::transfer::staged_path(self.vault.dir(), &chunk.reference), &chunk.bytes)?;
            Ok(())
        })?;
        let (node, create) = match version_of {
            Some(node) => (node, None),
            None => {
                let mut node = [0u8; 16];
                OsRng.fill_bytes(&mut node);
                (node, Some(NewFile { name: name.as_str().to_owned(), parent }))
            }
        };
        let record = UploadRecord { group: *space.as_bytes(), node, create, manifest: manifest.to_wire(), done: 0 };
        let index = self.vault.last_ordered(NS_UPLOADS)?.map_or(0, |last| last + 1);
        self.vault.put_ordered(NS_UPLOADS, index, &encode(&record)?)?;
        self.persist()?;
        self.push_job(Job::Transfers);
        Ok(node)
    }

    /// Downloads the newest version of the file `node` (or version `version`, counted
    /// from the oldest) to `dest`: chunk by chunk, each checked and opened before it is
    /// written to `<dest>.part`, which becomes `dest` once complete. A download cut off
    /// goes on from the last whole chunk.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such file or version.
    pub fn get_file(
        &mut self,
        space: &GroupId,
        node: &NodeId,
        version: Option<usize>,
        dest: &std::path::Path,
    ) -> Result<()> {
        let versions = self.library(space)?.versions(node);
        let chosen = match version {
            Some(v) => versions.get(v),
            None => versions.last(),
        }
        .ok_or(CoreError::NotFound("that file or version"))?;
        let manifest = chosen.manifest()?;
        let record = DownloadRecord {
            group: *space.as_bytes(),
            node: *node,
            manifest: manifest.to_wire(),
            dest: dest.to_path_buf(),
            done: 0,
        };
        let _ = std::fs::remove_file(crate::transfer::part_path(dest));
        let index = self.vault.last_ordered(NS_DOWNLOADS)?.map_or(0, |last| last + 1);
        self.vault.put_ordered(NS_DOWNLOADS, index, &encode(&record)?)?;
        self.persist()?;
        self.push_job(Job::Transfers);
        Ok(())
    }

    /// Transfers not finished yet (uploads, downloads).
    ///
    /// # Errors
    /// Store errors.
    pub fn pending_transfers(&self) -> Result<(usize, usize)> {
        Ok((
            self.vault.scan_ordered(NS_UPLOADS, 0, usize::MAX)?.len(),
            self.vault.scan_ordered(NS_DOWNLOADS, 0, usize::MAX)?.len(),
        ))
    }

    /// Puts a folder, file or note in the trash (it can be restored).
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn trash_node(&mut self, space: &GroupId, node: &NodeId) -> Result<()> {
        self.library_op(space, LibraryOp::Trash(TrashNode { node: *node }))
    }

    /// Takes a folder, file or note out of the trash.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn restore_node(&mut self, space: &GroupId, node: &NodeId) -> Result<()> {
        self.library_op(space, LibraryOp::Restore(RestoreNode { node: *node }))
    }

    // -----------------------------------------------------------------------------
    // Queries.

    /// The spaces this device is in, with invitations not yet accepted among them.
    pub fn spaces(&self) -> Vec<SpaceSummary> {
        self.spaces
            .iter()
            .filter_map(|(id, space)| {
                let rules = crate::mls::rules_of(space.group.extensions()).ok()?;
                Some(SpaceSummary {
                    id: *id,
                    name: rules.name.as_str().to_owned(),
                    description: rules.description.as_str().to_owned(),
                    policy: rules.policy,
                    history: rules.history,
                    my_role: rules.role_of(&self.identity),
                    unread: space.meta.unread,
                    epoch: space.group.epoch().as_u64(),
                    removed: space.meta.removed,
                    stalled: space.meta.stalled,
                    replaced_by: space.meta.replaced_by.map(GroupId::from_bytes),
                    muted: space.meta.muted,
                })
            })
            .collect()
    }

    /// The members of a space, one entry per person.
    ///
    /// # Errors
    /// [`CoreError::NotFound`]; [`CoreError::Verification`] if a stored credential
    /// does not verify.
    pub fn members(&self, space: &GroupId) -> Result<Vec<MemberSummary>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound("space"))?;
        let rules = crate::mls::rules_of(entry.group.extensions())?;
        let mut people: BTreeMap<IdentityPublicKey, MemberSummary> = BTreeMap::new();
        for member in entry.group.members() {
            let cert = crate::mls::certificate_of(&member.credential, &member.signature_key)?;
            people
                .entry(cert.body.identity)
                .or_insert_with(|| MemberSummary {
                    identity: cert.body.identity,
                    name: cert.body.name.to_string(),
                    role: rules.role_of(&cert.body.identity),
                    devices: Vec::new(),
                })
                .devices
                .push(cert.body.device);
        }
        Ok(people.into_values().collect())
    }

    /// The space's items (posts and comments), in arrival order.
    ///
    /// # Errors
    /// Store errors.
    pub fn feed(&self, space: &GroupId) -> Result<Vec<FeedItem>> {
        let mut items = Vec::new();
        for (_, id) in self.vault.scan_ordered(&order_namespace(space), 0, usize::MAX)? {
            let id: [u8; 16] = id.as_slice().try_into().map_err(|_| CoreError::CorruptProfile("feed order"))?;
            if let Some(item) = self.item(space, &ContentId::from_bytes(id))? {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// A page of the space's feed, newest first: at most `limit` items that arrived
    /// before position `before` (the newest, if `None`). The next page is asked with
    /// the last item's `position`. Reads about `limit` items, however long the feed.
    ///
    /// # Errors
    /// Store errors.
    pub fn feed_page(&self, space: &GroupId, before: Option<u64>, limit: usize) -> Result<Vec<FeedItem>> {
        let mut items = Vec::with_capacity(limit.min(1024));
        let mut cursor = before;
        // An id in the order whose item is gone (never, today) is skipped, and the page
        // filled from further back.
        while items.len() < limit {
            let wanted = limit - items.len();
            let ids = self.vault.scan_ordered_back(&order_namespace(space), cursor, wanted)?;
            let Some((oldest, _)) = ids.last() else { break };
            cursor = Some(*oldest);
            let exhausted = ids.len() < wanted;
            for (_, id) in ids {
                let id: [u8; 16] = id.as_slice().try_into().map_err(|_| CoreError::CorruptProfile("feed order"))?;
                if let Some(item) = self.item(space, &ContentId::from_bytes(id))? {
                    items.push(item);
                }
            }
            if exhausted {
                break;
            }
        }
        Ok(items)
    }

    /// One item.
    ///
    /// # Errors
    /// Store errors.
    pub fn item(&self, space: &GroupId, id: &ContentId) -> Result<Option<FeedItem>> {
        load_feed_item(&self.vault, space, id)
    }

    /// Mutes or unmutes a space's new posts; replies and reactions to this person
    /// still notify.
    ///
    /// # Errors
    /// [`CoreError::NotFound`]; store errors.
    pub fn set_muted(&mut self, space: &GroupId, muted: bool) -> Result<()> {
        self.spaces.get_mut(space).ok_or(CoreError::NotFound("space"))?.meta.muted = muted;
        self.save_group(space)?;
        self.persist()
    }

    /// Marks everything in the space read.
    ///
    /// # Errors
    /// Store errors.
    pub fn mark_read(&mut self, space: &GroupId) -> Result<()> {
        if let Some(entry) = self.spaces.get_mut(space) {
            entry.meta.unread = 0;
        }
        self.save_group(space)?;
        self.persist()
    }

    /// Items waiting in the outbox, and Welcomes waiting to be delivered.
    ///
    /// # Errors
    /// Store errors.
    pub fn outbox_len(&self) -> Result<usize> {
        Ok(self.vault.scan_ordered(NS_OUTBOX, 0, usize::MAX)?.len()
            + self.vault.scan_ordered(NS_DELIVERIES, 0, usize::MAX)?.len())
    }

    /// The MLS epoch authenticator of a space, to compare out of band: two devices that
    /// show the same value share the same group state (no fork).
    ///
    /// # Errors
    /// [`CoreError::NotFound`].
    pub fn epoch_authenticator(&self, space: &GroupId) -> Result<Vec<u8>> {
        let entry = self.spaces.get(space).ok_or(CoreError::NotFound("space"))?;
        Ok(entry.group.epoch_authenticator().as_slice().to_vec())
    }
}

/// The people all of whose leaves in `group` are among `removed`: those a commit
/// removing these leaves takes out of the space.
fn departing(group: &MlsGroup, removed: &[LeafNodeIndex]) -> Vec<IdentityPublicKey> {
    let mut leaves: BTreeMap<IdentityPublicKey, (usize, usize)> = BTreeMap::new();
    for member in group.members() {
        let Ok(certificate) = crate::mls::certificate_of(&member.credential, &member.signature_key) else { continue };
        let entry = leaves.entry(certificate.body.identity).or_default();
        entry.0 += 1;
        if removed.contains(&member.index) {
            entry.1 += 1;
        }
    }
    leaves.into_iter().filter(|(_, (all, gone))| *gone > 0 && gone == all).map(|(identity, _)| identity).collect()
}

/// A commit may not leave members without a space manager when one was there.
fn check_managers_remain(
    rules: &SpaceRules,
    next_rules: &SpaceRules,
    members: &[IdentityPublicKey],
    departing: &[IdentityPublicKey],
) -> Result<()> {
    let had_manager = members.iter().any(|m| rules.role_of(m).may_manage_space());
    let remaining: Vec<&IdentityPublicKey> = members.iter().filter(|m| !departing.contains(m)).collect();
    if had_manager && !remaining.is_empty() && !remaining.iter().any(|m| next_rules.role_of(m).may_manage_space()) {
        return Err(CoreError::Forbidden("the last space manager names another before leaving"));
    }
    Ok(())
}

/// The person and the devices of a [`Operation::Readd`], its certificates verified and
/// all of one person.
fn readd_devices(certificates: &[Vec<u8>]) -> Result<(IdentityPublicKey, Vec<DeviceCertificate>)> {
    let mut identity = None;
    let mut devices = Vec::new();
    for bytes in certificates {
        let certificate = DeviceCertificate::from_verified_bytes(bytes)?;
        if identity.is_some_and(|i| i != certificate.body.identity) {
            return Err(CoreError::Invalid("a re-added member's devices belong to several people".into()));
        }
        identity = Some(certificate.body.identity);
        devices.push(certificate);
    }
    Ok((identity.ok_or(CoreError::Invalid("a re-added member without devices".into()))?, devices))
}

fn chunk_offset(value: usize) -> Result<huisclos_protocol::ids::ChunkOffset> {
    let value = u32::try_from(value).map_err(|_| CoreError::Invalid("a chunk offset out of range".into()))?;
    huisclos_protocol::ids::ChunkOffset::new(value).map_err(CoreError::Decode)
}

/// Where release 0.1 kept a space's feed items ([`FeedItemV1`]).
fn feed_namespace_v1(group: &GroupId) -> String {
    format!("feed/{}", hex::encode(group.as_bytes()))
}

/// Where a space's feed items are kept, as [`FEED_RECORD_VERSION`] and their encoding.
fn feed_namespace(group: &GroupId) -> String {
    format!("feed2/{}", hex::encode(group.as_bytes()))
}

/// The version of the records under [`feed_namespace`].
const FEED_RECORD_VERSION: u8 = 2;

/// A feed item, from where this release keeps it or, failing that, where release 0.1
/// did (migrated when next written).
fn load_feed_item(vault: &Vault, group: &GroupId, id: &ContentId) -> Result<Option<FeedItem>> {
    if let Some(bytes) = vault.get(&feed_namespace(group), id.as_bytes())? {
        return match bytes.split_first() {
            Some((&FEED_RECORD_VERSION, rest)) => decode(rest).map(Some),
            _ => Err(CoreError::CorruptProfile("a feed item of an unknown version")),
        };
    }
    match vault.get(&feed_namespace_v1(group), id.as_bytes())? {
        Some(bytes) => Ok(Some(decode::<FeedItemV1>(&bytes)?.into())),
        None => Ok(None),
    }
}

fn store_feed_item(vault: &Vault, group: &GroupId, item: &FeedItem) -> Result<()> {
    let mut record = Zeroizing::new(vec![FEED_RECORD_VERSION]);
    record.extend_from_slice(&encode(item)?);
    vault.put(&feed_namespace(group), &item.id, &record)?;
    vault.remove(&feed_namespace_v1(group), &item.id);
    Ok(())
}

/// The ids of a space's items this device applied, one row each (de-duplication across
/// resends and the two paths, log and content store). They outlive a removal from the
/// space, so that items shown before a new invitation are not shown twice.
fn seen_namespace(group: &GroupId) -> String {
    format!("seen/{}", hex::encode(group.as_bytes()))
}

fn order_namespace(group: &GroupId) -> String {
    format!("order/{}", hex::encode(group.as_bytes()))
}

impl Space {
    fn meta_history_mode(&self) -> Result<HistoryMode> {
        Ok(crate::mls::rules_of(self.group.extensions())?.history)
    }

    #[cfg(any(feature = "test-secrets", feature = "adversary"))]
    fn history_keys(&self) -> Vec<crate::content::HistoryKey> {
        self.meta.history.keys()
    }
}
