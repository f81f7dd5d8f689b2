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
//! The engine keeps one request in flight. A group's log must be read, and its
//! commits merged, strictly in order, and an operation is only built on the state it
//! commits to; one request at a time makes both trivially true. Work waits in a queue
//! of jobs (sync a group, read the inbox, send the outbox). Round trips are saved by
//! asking for more in one request instead: the reads of every space queued together
//! (coming back online, a full sync) go as one `FetchMany`, each space's log and
//! content store, answered as their own requests would be and taken space by space in
//! the same order; a content store read page after page asks for each page after the
//! first with its log in a `FetchMany` too, one round trip a page. The one exception is a new connection: the subscription and that
//! `FetchMany` go right behind the one-round-trip `SignIn`, before its answer (the
//! relay finishes a sign-in and a subscription before reading on), so a device coming
//! back sees its news one round trip after connecting. Nothing that changes state goes
//! before the sign-in is answered.
//!
//! ## Durability
//! Each input's effects are written to the vault and committed together before the
//! engine answers, so a crash never leaves an MLS state merged with a cursor that did
//! not move, and the outbox survives restarts. Items carry random ids, so a resend
//! after a lost acknowledgement never shows twice.
//!
//! ## Where the engine lives
//! This file holds the engine's state and its life cycle (create, recover, load,
//! open, wipe). The state is split into sub-machines, each with its own struct and
//! file, and the behaviour into `impl Engine` blocks by concern:
//!
//! | file | state | what it does |
//! |---|---|---|
//! | `store` | `Store` | every persisted record, its version and migrations; typed queues |
//! | `requests` | `Requests` | the scheduler: jobs, the request in flight, follow-ups, back-off |
//! | `connection` | (the sign-in's `SignIn`) | connecting, signing in, planning each job into a request |
//! | `answers` | | dispatching answers and pushes; Welcomes, inbox items, key packages |
//! | `space_log` | | a space's log: commits judged against its rules, merged in order |
//! | `space_content` | | content records opened, checked and applied to feed or library |
//! | `outbox` | `OutboxState`, `WaitingMarks` | the outbox planned and answered; waiting marks |
//! | `deliveries` | | Welcomes left in inboxes; the device-level queue |
//! | `transfers` | `TransferState` | uploads and downloads, chunk by chunk |
//! | `identities` | | identity, devices, linking, rosters, recovery |
//! | `commands`, `library_commands` | | what a person does in a space and its library |
//! | `space_handle` | | [`SpaceHandle`]: a space's operations through one handle |
//! | `queries`, `views` | | what apps read, and the types they read it as |
//! | `observed` | `Observed` | the lists apps observe, and the diffs they are sent |
//! | `adversary` | | a modified client's hooks (feature `adversary`, never in a client) |

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
    FetchContent, FetchItem, FetchLog, FetchMany, FetchResult, FetchWelcomes, GetKeyPackageStatus, GroupAccess,
    KeyPackageBytes, LimitKind, LogPageEnd, LogRetention, MlsMessageBytes, PutContent, RelayError, RequestBody,
    ResponseBody, RevokeDevice, SubmitCommit, Subscribe, UploadKeyPackages,
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
    AppPayload, CertificateRef, Comment, ContentBody, ContentEnvelope, Delete, Edit, EnvelopeBody, GenerationMarker,
    OpenedRecord, Post, React, Reaction, SealedRecord, Text,
};
use crate::endpoint::RelayEndpoint;
use crate::error::{
    CoreError, DamageKind, Fault, InvalidInput, Limit, ManagerAction, Missing, MlsFailure, Refusal, Result,
    StoreFailure, StoredRecord, Unverified,
};
use crate::history::{History, HistoryLedger, Seat, Standing};
use crate::identity::{
    CertificateBody, ContactCard, DeviceCertificate, DeviceKeys, DisplayName, IdentityKey, IdentityPublicKey,
    IdentityTransition, SafetyNumber, VerificationCode, VerificationOutcome,
};
use crate::join::{
    JoinNote, JoinRequest, MAX_OPEN_REQUESTS, MAX_PENDING_JOIN_REQUESTS, SealedJoinRequest, SpaceCard, SpaceCardBody,
};
use crate::library::{
    AddVersion, CreateNode, Library, LibraryOp, MoveNode, NodeId, NodeKind, NodeName, RenameNode, RestoreNode, Stamp,
    TrashNode,
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

mod answers;
mod commands;
mod connection;
mod deliveries;
mod identities;
mod library_commands;
mod notes;
mod observed;
mod outbox;
mod presence;
mod queries;
mod requests;
mod space_content;
mod space_handle;
mod space_log;
mod store;
mod transfers;
mod views;

pub use views::*;

use store::*;

pub use observed::{ListId, ListUpdate, MAX_FEED_PAGE, MAX_OBSERVED_LISTS};
pub use space_handle::SpaceHandle;

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
/// Content records asked for per page when reading on after a page that had more
/// behind it (a long first sync, a device back after weeks): the most a page holds.
const READ_ON_PAGE: u16 = huisclos_protocol::limits::MAX_PAGE_ENTRIES as u16;

/// The most spaces read in one `FetchMany` (a log and a content store each).
const MAX_BATCH_SPACES: usize = huisclos_protocol::limits::MAX_FETCH_ITEMS / 2;

/// Device-ready notices and join requests remembered against replays.
const MAX_REPLAY_ENTRIES: usize = 4096;

/// The longest wait between two attempts to deliver a Welcome.
const MAX_DELIVERY_BACKOFF_SECS: u64 = 6 * 3600;

/// Seconds since the Unix epoch: the engine's only notion of time, handed in.
pub type Now = u64;

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
    /// Sending this device's presence in a space, if due.
    Presence(GroupId),
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
    /// A presence signal.
    Signal {
        group: GroupId,
    },
    FetchLog {
        group: GroupId,
    },
    FetchContent {
        group: GroupId,
    },
    /// Several spaces read at once: each space's log, and its content store from the
    /// position given when it was asked for too.
    FetchMany {
        reads: Vec<(GroupId, Option<u64>)>,
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

enum OutboxStage {
    Single,
    /// A record put in the space's store, sealed in `generation` with this device's
    /// certificate `author` carried or referred to.
    Sealed {
        author: CertificateRef,
        generation: u32,
    },
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

/// The client engine of one profile.
pub struct Engine {
    /// The profile's records, typed, in the encrypted vault.
    store: Store,
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
    /// The people met, and the identity key held for each.
    contacts: ContactBook,
    /// Where the relay is.
    relay: Option<RelayEndpoint>,
    /// The key the pinned relay key named as its successor, while it rotates.
    relay_next: Option<huisclos_protocol::relay_key::RelayKeyRotation>,
    /// The invitation being redeemed, as given (kept until the account exists).
    pending_invitation: Option<Invitation>,
    /// The link offer this device showed, until a request answers it.
    link_offer: Option<LinkOffer>,
    next_device_item: u64,
    invitation: Option<InvitationToken>,
    spaces: BTreeMap<GroupId, Space>,
    /// What to ask the relay next, what is in flight, and when to try again.
    requests: requests::Requests,
    /// The outbox's next index and the marks of the feed items it writes.
    outbox: outbox::OutboxState,
    events: VecDeque<ClientEvent>,
    /// The lists apps observe, and what each was last shown.
    observed: observed::Observed,
    session: SignIn,
    now: Now,
    /// The chunk being downloaded, and failures in a row.
    transfers: transfers::TransferState,
    /// Notes open in memory, so that merging an update costs what the merge costs.
    notes: notes::OpenNotes,
    /// The position, in its space's store, of the record being applied (none for one
    /// from an MLS message or this device's own): where a note's update from another
    /// device lies, which decides what this device may forget.
    reading_position: Option<u64>,
    /// Who is in which note now, and what this device shows (memory only).
    presence: presence::PresenceState,
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
    mls_refused(error)
}

/// openmls refused: its account goes to the debug log, the error says only that.
pub(crate) fn mls_refused(error: impl std::fmt::Display) -> CoreError {
    tracing::debug!(%error, "MLS refused");
    CoreError::Mls(MlsFailure::Refused)
}

fn encode<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>> {
    postcard::to_allocvec(value).map(Zeroizing::new).map_err(|_| CoreError::Store(StoreFailure::Encoding))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|_| CoreError::damaged(StoredRecord::Queued, DamageKind::DoesNotDecode))
}

fn openmls_group_id(group: &GroupId) -> openmls::group::GroupId {
    openmls::group::GroupId::from_slice(group.as_bytes())
}

fn our_group_id(group: &openmls::group::GroupId) -> Result<GroupId> {
    let bytes: [u8; 16] = group.as_slice().try_into().map_err(|_| CoreError::Verification(Unverified::Malformed))?;
    Ok(GroupId::from_bytes(bytes))
}

fn seq(value: u64) -> Result<Seq> {
    Seq::new(value).map_err(CoreError::Decode)
}

fn role_from(tag: u8) -> Result<Role> {
    Role::from_wire(&[tag]).map_err(CoreError::Decode)
}

/// A record id drawn at random, never of a forgettable record's form.
fn random_content_id() -> ContentId {
    loop {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let id = ContentId::from_bytes(bytes);
        if !id.is_forgettable() {
            return id;
        }
    }
}

impl Engine {
    /// Creates a new profile's engine state in an empty vault: a fresh identity key and
    /// device keys. The device becomes usable at the relay after
    /// [`Engine::set_invitation`] and a connection.
    ///
    /// # Errors
    /// [`CoreError::ProfileExists`] when the vault already holds a profile.
    pub fn create(vault: Arc<Vault>, name: DisplayName) -> Result<Self> {
        if Store::new(vault.clone()).holds_profile()? {
            return Err(CoreError::ProfileExists(vault.dir().display().to_string()));
        }
        let engine = Self::assemble(vault, IdentityKey::generate(), DeviceKeys::generate(), name, None, None, 0);
        engine.save_profile()?;
        engine.store.commit()?;
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
        if Store::new(vault.clone()).holds_profile()? {
            return Err(CoreError::ProfileExists(vault.dir().display().to_string()));
        }
        // The words' key may be in other hands too (on a seized phone): the restored
        // identity moves at once to a new key, with a transition signed by the old
        // one (when the account exists), which contacts see.
        let mut engine = Self::assemble(vault, IdentityKey::generate(), DeviceKeys::generate(), name, None, None, 0);
        engine.rotate_from = Some(words.identity_key()?);
        engine.save_profile()?;
        engine.store.commit()?;
        Ok(engine)
    }

    /// Loads the engine of an existing profile, with its spaces and outbox.
    ///
    /// # Errors
    /// [`CoreError::NoProfile`] when the vault is empty; store errors.
    pub fn load(vault: Arc<Vault>) -> Result<Self> {
        let store = Store::new(vault.clone());
        let (record, from_release01) = match store.profile()? {
            StoredProfile::Current(record) => (record, false),
            StoredProfile::Release01(old) => (Self::migrate_profile(&old)?, true),
        };
        let identity = IdentityPublicKey::from_bytes(record.identity);
        let identity_key = record.identity_secret.as_ref().map(IdentityKey::from_secret);
        if identity_key.as_ref().is_some_and(|k| k.public() != identity) {
            return Err(CoreError::damaged(StoredRecord::Profile, DamageKind::Mismatch));
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
        // Only advisory (the pinned key is in the profile): an unreadable record is
        // dropped, and the relay announces its next key again at the next connection.
        engine.relay_next = store.relay_next().unwrap_or_else(|error| {
            tracing::warn!(%error, "the relay's announced next key is unreadable; it is learned again");
            None
        });
        engine.replay = record.replay.iter().copied().collect();
        engine.transition = record
            .transition
            .as_deref()
            .map(IdentityTransition::from_wire)
            .transpose()
            .map_err(|_| CoreError::damaged(StoredRecord::IdentityTransition, DamageKind::DoesNotDecode))?;
        engine.rotate_from = record.rotate_from.as_ref().map(IdentityKey::from_secret);
        engine.link_offer = record
            .link_offer
            .as_deref()
            .map(LinkOffer::from_wire)
            .transpose()
            .map_err(|_| CoreError::damaged(StoredRecord::LinkOffer, DamageKind::DoesNotDecode))?;
        if let Some(bytes) = &record.invitation {
            let invitation = Invitation::from_wire(bytes)
                .map_err(|_| CoreError::damaged(StoredRecord::Invitation, DamageKind::DoesNotDecode))?;
            engine.invitation = Some(invitation.token().clone());
            engine.pending_invitation = Some(invitation);
        }
        if let Some(contacts) = store.contacts()? {
            engine.contacts = contacts;
        }
        if let Some(bytes) = &record.card {
            engine.adopt_own_card(ContactCard::from_wire(bytes)?)?;
        }
        if from_release01 {
            // Migrated from release 0.1: written in this release's form once.
            engine.save_profile()?;
            store.forget_release01_profile();
        }
        // The contact book may have been migrated too.
        store.commit()?;
        let groups = store.space_ids()?;
        if !groups.is_empty() {
            let mut migrated = Vec::new();
            for group_id in groups {
                let group = MlsGroup::load(engine.provider.storage(), &openmls_group_id(&group_id))
                    .map_err(mls_error)?
                    .ok_or(CoreError::damaged(StoredRecord::MlsState, DamageKind::Missing))?;
                let mut meta: GroupMeta = match store.space(&group_id)? {
                    StoredSpace::Current(meta) => meta,
                    StoredSpace::Version2(meta) => {
                        migrated.push(group_id);
                        meta
                    }
                    StoredSpace::Release01(old) => {
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
                    store.mark_applied(&group_id, &ContentId::from_bytes(item))?;
                }
                engine.spaces.insert(group_id, Space { group, meta });
            }
            for group in migrated {
                engine.save_group(&group)?;
                store.forget_release01_space(&group);
            }
            store.commit()?;
        }
        engine.mark_waiting_from_outbox()?;
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
        let decoy = Arc::new(self.store.vault().make_decoy(current, duress)?);
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
        self.store.vault().change_unlock(current, new)
    }

    /// Checks that `unlock` opens this profile, changing nothing: for an app that asks
    /// for the passphrase again before it shows something sensitive (the recovery
    /// words). A duress passphrase is not accepted here and triggers nothing.
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] otherwise.
    pub fn check_unlock(&self, unlock: &crate::vault::Unlock) -> Result<()> {
        self.store.vault().check_unlock(unlock)
    }

    /// The panic wipe: closes the engine and destroys the profile ([`Vault::wipe`]).
    /// Afterwards nothing in the profile directory can be read with any passphrase.
    ///
    /// # Errors
    /// I/O errors.
    pub fn panic_wipe(self) -> Result<()> {
        let dir = self.store.dir().to_path_buf();
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
            store: Store::new(vault),
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
            contacts: ContactBook::default(),
            relay: None,
            relay_next: None,
            pending_invitation: None,
            link_offer: None,
            next_device_item: 0,
            invitation: None,
            spaces: BTreeMap::new(),
            requests: requests::Requests::default(),
            outbox: outbox::OutboxState::starting_at(next_outbox),
            events: VecDeque::new(),
            observed: observed::Observed::default(),
            session: SignIn::Offline,
            now: 0,
            transfers: transfers::TransferState::default(),
            notes: notes::OpenNotes::default(),
            reading_position: None,
            presence: presence::PresenceState::default(),
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
            next_outbox: self.outbox.next,
            next_device_item: self.next_device_item,
            requested: self.requested.iter().map(|g| *g.as_bytes()).collect(),
            relay: self.relay.as_ref().map(Wire::to_wire),
            invitation: self.pending_invitation.as_ref().map(Wire::to_wire),
            link_offer: self.link_offer.as_ref().map(Wire::to_wire),
            replay: self.replay.iter().map(|(d, at)| (*d, *at)).collect(),
            transition: self.transition.as_ref().map(Wire::to_wire),
            rotate_from: self.rotate_from.as_ref().map(|k| *k.to_secret()),
        };
        self.store.put_profile(&record)
    }

    /// The identity key, on the device that holds it.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a linked device, which never holds it.
    fn identity_key(&self) -> Result<&IdentityKey> {
        self.identity_key.as_ref().ok_or(CoreError::Forbidden(Refusal::NoIdentityKey))
    }

    /// Takes `card` as this person's newest roster: the other devices it lists are
    /// this person's devices. A roster that does not list this device means another
    /// device revoked it.
    fn adopt_own_card(&mut self, card: ContactCard) -> Result<()> {
        if card.body.identity != self.identity {
            return Err(CoreError::Verification(Unverified::WrongPerson));
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
                self.warn(space, SecurityWarning::RevokedByNewIdentity);
                return Ok(());
            };
            if mine.body.mls_key != self.device.mls_public() || card.account() != self.account {
                return Err(CoreError::Verification(Unverified::WrongPerson));
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
                    return Err(CoreError::Verification(Unverified::WrongPerson));
                }
                let revoked = !card.body.devices.iter().any(|c| c.body.device == me);
                self.adopt_own_card(card.clone())?;
                self.save_profile()?;
                if revoked {
                    self.warn(space, SecurityWarning::RevokedByOwnDevice);
                }
            }
            return Ok(());
        }
        match self.contacts.observe_card(card, self.now)? {
            crate::contacts::CardSighting::Conflict => {
                self.warn(space, SecurityWarning::ConflictingRosters);
            }
            crate::contacts::CardSighting::Rotated { previous } => {
                let name = card.name().map(ToString::to_string).unwrap_or_default();
                // Names stay out of logs: a log is readable by whoever has the device.
                tracing::warn!(space = ?space, "a contact's identity key was replaced");
                self.events.push_back(ClientEvent::IdentityRotated {
                    account: card.account().ok_or(CoreError::Verification(Unverified::Malformed))?,
                    name,
                    previous,
                    current: card.body.identity,
                });
            }
            crate::contacts::CardSighting::Newer => {}
            _ => return Ok(()),
        }
        self.store.put_contacts(&self.contacts)?;
        Ok(())
    }

    /// Remembers a notice or request by `digest`, issued at `at`; refuses one seen
    /// before or older than [`crate::link::MAX_NOTICE_AGE_SECS`].
    fn check_fresh(&mut self, digest: [u8; 32], at: u64) -> Result<()> {
        let window = crate::link::MAX_NOTICE_AGE_SECS;
        if at.saturating_add(window) < self.now || at > self.now.saturating_add(window) {
            return Err(CoreError::Verification(Unverified::Stale));
        }
        if self.replay.contains_key(&digest) {
            return Err(CoreError::Verification(Unverified::Replay));
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
            self.store.put_contacts(&self.contacts)?;
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
            return Err(CoreError::Verification(Unverified::OutdatedCard));
        }
        Ok(())
    }

    fn save_group(&self, group: &GroupId) -> Result<()> {
        if let Some(space) = self.spaces.get(group) {
            self.store.put_space(group, &space.meta)?;
        }
        self.store.put_space_ids(self.spaces.keys().copied())
    }

    /// Commits this step's writes; on failure, forgets them so memory and disk agree on
    /// the last good state at the next load.
    fn persist(&self) -> Result<()> {
        self.store.commit().inspect_err(|_| {
            self.store.rollback();
            self.notes.mark_stale();
        })?;
        self.observed.committed();
        self.notes.committed();
        Ok(())
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
        return Err(CoreError::Forbidden(Refusal::LastManagerLeaving));
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
            return Err(CoreError::Invalid(InvalidInput::NothingToReadmit));
        }
        identity = Some(certificate.body.identity);
        devices.push(certificate);
    }
    Ok((identity.ok_or(CoreError::Invalid(InvalidInput::NothingToReadmit))?, devices))
}

fn chunk_offset(value: usize) -> Result<huisclos_protocol::ids::ChunkOffset> {
    let value = u32::try_from(value)
        .map_err(|_| CoreError::Invalid(InvalidInput::TooMany { limit: Limit::ChunkOffset, max: u32::MAX as u64 }))?;
    huisclos_protocol::ids::ChunkOffset::new(value).map_err(CoreError::Decode)
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
