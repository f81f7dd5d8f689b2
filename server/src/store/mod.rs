//! The relay's storage, behind a trait.
//!
//! Each method is one atomic, durable unit of work at the level of the protocol (an
//! append checked against the current epoch, a claim that removes a key package, an
//! account opened by consuming an invitation). A backend implements each as one
//! transaction — sled's multi-tree transactions here; a conditional write or a
//! serializable transaction in a distributed database — and returns only once the
//! result is on stable storage. Refusals are [`Error::Refused`] and change nothing.
//!
//! Whatever a method returns — written by it or read — is on stable storage before it
//! returns, so that no client ever sees, and acts on, a record a crash could undo.
//!
//! No method writes an account's row in the same transaction as a group's records:
//! quota is reserved in blocks by [`RelayStore::reserve_quota`], at other moments, and
//! spent in memory by the service, so that even the order of records in the store's
//! files does not tie an account to a group.
//!
//! The methods are blocking: the service calls them from `spawn_blocking`. What the
//! store keeps, and what it never keeps (which account or device belongs to which
//! group), is listed in `protocol-spec/relay.md`.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod migrate;
pub mod postgres_store;
pub mod sealing;
pub mod sled_store;

use huisclos_protocol::access::{AccessToken, EpochVerifier};
use huisclos_protocol::auth::DevicePublicKey;
use huisclos_protocol::ids::{
    AccountId, ByteCount, ChunkOffset, ChunkRef, ContentId, ContentSeq, DeviceId, Epoch, ForgetKey, GroupId, InboxSeq,
    Seq, UnixSeconds,
};
use huisclos_protocol::messages::{
    ChunkData, ChunkPiece, ChunkStatus, ClaimedPackage, ContentPage, ContentRecordBytes, DeviceRecord, KeyPackageBytes,
    KeyPackageStatus, LogPage, LogRetention, MlsMessageBytes, WelcomeBytes, Welcomes,
};

use crate::Error;

/// A registered device as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEntry {
    /// The device's account.
    pub account: AccountId,
    /// Its authentication key.
    pub key: DevicePublicKey,
    /// When it was registered.
    pub registered_at: UnixSeconds,
    /// Whether it was revoked (its key is then refused for ever).
    pub revoked: bool,
}

/// Where a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupPosition {
    /// The current epoch.
    pub epoch: Epoch,
    /// The sequence number the next entry gets.
    pub next_seq: Seq,
    /// Whether its messages expire ([`LogRetention::Expire`]).
    pub expiring: bool,
}

/// What a chunk upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPut {
    /// What the relay holds now.
    pub status: ChunkStatus,
    /// Whether this piece started a new upload.
    pub started: bool,
    /// Whether the upload was discarded: complete, but its hash did not match.
    pub discarded: bool,
}

/// The relay's policy limits that the store enforces inside its transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// One-time key packages stored per device.
    pub key_packages_per_device: u32,
    /// Welcomes waiting per device.
    pub welcomes_per_device: u32,
    /// Devices per account.
    pub devices_per_account: u32,
    /// Storage quota per account, in bytes.
    pub quota_bytes: u64,
    /// The largest chunk accepted (at most `MAX_CHUNK_LEN`).
    pub max_chunk_len: u32,
}

/// What an operator decided for one account (`huisclos-relay admin`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountSettings {
    /// Its devices cannot sign in; connections open when it was disabled are closed.
    pub disabled: bool,
    /// A storage quota of its own, in place of the relay's [`StoreLimits::quota_bytes`].
    pub quota: Option<u64>,
}

/// What [`RelayStore::take_claims`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClaimBudget {
    /// The store keeps no budget: the relay keeps it.
    KeptByRelay,
    /// Taken.
    Taken,
    /// Not enough left: so many claims come back after this long.
    Exhausted {
        /// When `count` claims will be there again.
        retry_after: std::time::Duration,
    },
}

/// A backup of the store ([`RelayStore::backup_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupCopy {
    /// What the copy holds (the store's census at the moment it was copied).
    pub census: crate::integrity::Census,
    /// How long writes waited while the rows were copied.
    pub paused: std::time::Duration,
}

/// One change an operator makes to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    /// Disable it.
    Disable,
    /// Enable it again.
    Enable,
    /// Give it a quota of its own (`None`: the relay's again).
    Quota(Option<u64>),
}

impl AccountChange {
    /// The settings after this change.
    pub fn apply(self, settings: AccountSettings) -> AccountSettings {
        match self {
            Self::Disable => AccountSettings { disabled: true, ..settings },
            Self::Enable => AccountSettings { disabled: false, ..settings },
            Self::Quota(quota) => AccountSettings { quota, ..settings },
        }
    }
}

/// An account as its operator sees it: no name, no group, only what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSummary {
    /// Its id.
    pub account: AccountId,
    /// Bytes reserved against its quota.
    pub usage: u64,
    /// Its devices that are not revoked.
    pub devices: u32,
    /// Its operator's settings.
    pub settings: AccountSettings,
}

/// An invitation not used yet, as the store keeps it: only its digest is kept, never
/// the invitation itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingInvitation {
    /// SHA-256 of the invitation's secret.
    pub digest: [u8; 32],
    /// Until when it opens an account.
    pub expires_at: UnixSeconds,
}

/// Refuses, before any store work, a chunk piece that no store takes (`PutChunk` in
/// `protocol-spec/messages.md`): an empty chunk, one larger than the relay's limit, or
/// a piece past the chunk's announced end. Every backend's `put_chunk` starts here.
///
/// # Errors
/// `Refused(BadRequest)`, `Refused(LimitExceeded{ChunkSize})`.
pub(crate) fn check_chunk_piece(
    total_len: ChunkOffset,
    offset: ChunkOffset,
    data: &ChunkPiece,
    limits: &StoreLimits,
) -> Result<(), Error> {
    let total = total_len.get();
    if total == 0 {
        return Err(Error::Refused(huisclos_protocol::messages::RelayError::BadRequest));
    }
    if total > limits.max_chunk_len {
        return Err(Error::Refused(huisclos_protocol::messages::RelayError::LimitExceeded {
            limit: huisclos_protocol::messages::LimitKind::ChunkSize,
        }));
    }
    if u64::from(offset.get()) + data.len() as u64 > u64::from(total) {
        return Err(Error::Refused(huisclos_protocol::messages::RelayError::BadRequest));
    }
    Ok(())
}

/// Storage for the relay. See the module documentation for the contract.
pub trait RelayStore: Send + Sync + 'static {
    /// Every account, in id order.
    ///
    /// # Errors
    /// Backend failures, `Corrupt` for a row that does not decode.
    fn accounts(&self) -> Result<Vec<AccountSummary>, Error>;

    /// One account, if it exists.
    ///
    /// # Errors
    /// As [`RelayStore::accounts`].
    fn account(&self, account: AccountId) -> Result<Option<AccountSummary>, Error>;

    /// Changes one of an account's operator settings, in one transaction with reading
    /// the others (two operators' changes at once both hold), and returns them all.
    ///
    /// # Errors
    /// `Refused(NotFound)` for an unknown account.
    fn change_account(&self, account: AccountId, change: AccountChange) -> Result<AccountSettings, Error>;

    /// The invitations not used yet (expired ones included, until they are used or
    /// revoked), in digest order.
    ///
    /// # Errors
    /// Backend failures.
    fn invitations(&self) -> Result<Vec<PendingInvitation>, Error>;

    /// Deletes an invitation, so that it opens no account; says whether there was one.
    ///
    /// # Errors
    /// Backend failures.
    fn revoke_invitation(&self, digest: [u8; 32]) -> Result<bool, Error>;

    /// Records an invitation by its digest, valid until `expires_at`.
    ///
    /// # Errors
    /// Backend failures.
    fn add_invitation(&self, digest: [u8; 32], expires_at: UnixSeconds) -> Result<(), Error>;

    /// Consumes an invitation and opens an account whose first device has `key`.
    ///
    /// # Errors
    /// `Refused(Conflict)` for a known or revoked key, `Refused(InvitationInvalid)`.
    fn create_account(
        &self,
        invitation_digest: [u8; 32],
        key: &DevicePublicKey,
        now: UnixSeconds,
        limits: &StoreLimits,
    ) -> Result<AccountId, Error>;

    /// The device with this id, revoked or not.
    ///
    /// # Errors
    /// Backend failures.
    fn device(&self, device: DeviceId) -> Result<Option<DeviceEntry>, Error>;

    /// Registers another device of `account`, on behalf of its active device `caller`.
    ///
    /// # Errors
    /// `Refused(Conflict)` for a known key, `Refused(LimitExceeded{Devices})`,
    /// `Refused(AuthFailed)` if `caller` was revoked meanwhile.
    fn add_device(
        &self,
        account: AccountId,
        caller: DeviceId,
        key: &DevicePublicKey,
        now: UnixSeconds,
        limits: &StoreLimits,
    ) -> Result<DeviceId, Error>;

    /// Revokes a device of `account`, on behalf of its active device `caller`, deleting
    /// the revoked device's key packages and inbox. Revoking a revoked device of the
    /// same account succeeds and changes nothing.
    ///
    /// # Errors
    /// `Refused(NotFound)` if it is not a device of that account,
    /// `Refused(AuthFailed)` if `caller` was revoked meanwhile.
    fn revoke_device(&self, account: AccountId, caller: DeviceId, device: DeviceId) -> Result<(), Error>;

    /// The account's devices that are not revoked.
    ///
    /// # Errors
    /// Backend failures.
    fn list_devices(&self, account: AccountId) -> Result<Vec<DeviceRecord>, Error>;

    /// Gives back `amount` of the account's reserved bytes (never below zero).
    ///
    /// # Errors
    /// Backend failures.
    fn release_quota(&self, account: AccountId, amount: u64) -> Result<(), Error>;

    /// Bytes reserved by the account so far (its quota counter).
    ///
    /// # Errors
    /// Backend failures.
    fn usage(&self, account: AccountId) -> Result<ByteCount, Error>;

    /// Adds `amount` to the account's reserved bytes, unless that passes its quota: the
    /// account's own ([`AccountSettings::quota`]) if an operator set one, else `quota`.
    ///
    /// # Errors
    /// `Refused(QuotaExceeded)`, nothing reserved.
    fn reserve_quota(&self, account: AccountId, amount: u64, quota: u64) -> Result<(), Error>;

    /// Adds one-time key packages and replaces the last-resort one.
    ///
    /// # Errors
    /// `Refused(LimitExceeded{KeyPackages})`, nothing stored.
    fn upload_key_packages(
        &self,
        device: DeviceId,
        one_time: &[KeyPackageBytes],
        last_resort: Option<&KeyPackageBytes>,
        limits: &StoreLimits,
    ) -> Result<KeyPackageStatus, Error>;

    /// The device's key packages at the relay.
    ///
    /// # Errors
    /// Backend failures.
    fn key_package_status(&self, device: DeviceId) -> Result<KeyPackageStatus, Error>;

    /// For each device in order, removes and returns one one-time package, or returns
    /// its last-resort one, or nothing; all in one transaction.
    ///
    /// # Errors
    /// Backend failures (and then nothing was claimed).
    fn claim_key_packages(&self, devices: &[DeviceId]) -> Result<Vec<Option<ClaimedPackage>>, Error>;

    /// Leaves one Welcome in every recipient's inbox and returns its position in each.
    ///
    /// # Errors
    /// `Refused(NotFound)` for an unknown or revoked recipient,
    /// `Refused(LimitExceeded{WelcomeInbox})`; then nothing is deposited.
    fn deposit_welcome(
        &self,
        recipients: &[DeviceId],
        welcome: &WelcomeBytes,
        limits: &StoreLimits,
    ) -> Result<Vec<InboxSeq>, Error>;

    /// The device's Welcomes after `after`, oldest first.
    ///
    /// # Errors
    /// Backend failures.
    fn fetch_welcomes(
        &self,
        device: DeviceId,
        after: Option<InboxSeq>,
        limit: usize,
        byte_budget: usize,
    ) -> Result<Welcomes, Error>;

    /// Deletes the device's Welcomes up to and including `up_to`.
    ///
    /// # Errors
    /// Backend failures.
    fn ack_welcomes(&self, device: DeviceId, up_to: InboxSeq) -> Result<(), Error>;

    /// Creates a group's log at epoch 0, and says whether this call created it: creating
    /// it again with the same first verifier (a resend whose answer was lost) succeeds
    /// and changes nothing.
    ///
    /// # Errors
    /// `Refused(Conflict)` if the group exists with another first verifier.
    fn create_group(&self, group: GroupId, verifier: EpochVerifier, retention: LogRetention) -> Result<bool, Error>;

    /// Checks an access token for `(group, epoch)` and returns where the group is.
    ///
    /// # Errors
    /// `Refused(Forbidden)` if the token verifies for no such epoch (or no such group).
    fn check_access(&self, group: GroupId, epoch: Epoch, token: &AccessToken) -> Result<GroupPosition, Error>;

    /// Appends an application message or proposal in the current epoch; an identical
    /// message already in this epoch returns its sequence number. The flag says
    /// whether this call stored it. In a group created with [`LogRetention::Expire`]
    /// the entry may be deleted from `expires_at` on ([`RelayStore::expire_messages`]).
    ///
    /// # Errors
    /// `Refused(StaleEpoch)` if `epoch` is not current.
    fn append(
        &self,
        group: GroupId,
        epoch: Epoch,
        message: &MlsMessageBytes,
        expires_at: UnixSeconds,
    ) -> Result<(Seq, bool), Error>;

    /// Deletes up to `limit` message entries of `Expire` groups whose deadline is at
    /// or before `now` (never commits), and returns how many. A resend of a deleted
    /// message is appended again as new.
    ///
    /// # Errors
    /// Backend failures.
    fn expire_messages(&self, now: UnixSeconds, limit: usize) -> Result<usize, Error>;

    /// Deletes up to `limit` unfinished chunk uploads that made no progress since
    /// `stalled_before`, with their pieces, and returns how many. A later piece of one
    /// starts it again from the beginning.
    ///
    /// # Errors
    /// Backend failures.
    fn expire_uploads(&self, stalled_before: UnixSeconds, limit: usize) -> Result<usize, Error>;

    /// Appends the commit closing `epoch` and registers the next epoch's verifier.
    ///
    /// # Errors
    /// `Refused(StaleEpoch)` if `epoch` is not current (another commit won).
    fn commit(
        &self,
        group: GroupId,
        epoch: Epoch,
        commit: &MlsMessageBytes,
        next_verifier: EpochVerifier,
    ) -> Result<(Seq, Epoch), Error>;

    /// Entries of `epoch` from `from` (see `FetchLog` in `protocol-spec/messages.md`).
    ///
    /// # Errors
    /// Backend failures.
    fn fetch_log(
        &self,
        group: GroupId,
        epoch: Epoch,
        from: Seq,
        limit: usize,
        byte_budget: usize,
    ) -> Result<LogPage, Error>;

    /// Stores a content record in `epoch`, which must be current, idempotently by id.
    /// The flag says whether this call stored it.
    ///
    /// # Errors
    /// `Refused(Conflict)` for an id reused with other bytes, `Refused(StaleEpoch)`.
    fn put_content(
        &self,
        group: GroupId,
        epoch: Epoch,
        record: ContentId,
        sealed: &ContentRecordBytes,
    ) -> Result<(ContentSeq, bool), Error>;

    /// Replaces the record `record` by its tombstone (`tombstone(key)`, at the same
    /// position), in `epoch`, which must be current. Returns its position and the
    /// bytes freed on disk (none if it was forgotten already). A record put again once
    /// forgotten is a resend: [`RelayStore::put_content`] answers its position.
    ///
    /// # Errors
    /// `Refused(BadRequest)` if `key` is not `record`'s in the group ([`ForgetKey::record`]),
    /// `Refused(NotFound)` if the group holds no such record, `Refused(StaleEpoch)`.
    fn forget_content(
        &self,
        group: GroupId,
        epoch: Epoch,
        record: ContentId,
        key: &ForgetKey,
    ) -> Result<(ContentSeq, u64), Error>;

    /// Content records from `from`.
    ///
    /// # Errors
    /// Backend failures.
    fn fetch_content(
        &self,
        group: GroupId,
        from: ContentSeq,
        limit: usize,
        byte_budget: usize,
    ) -> Result<ContentPage, Error>;

    /// Stores a piece of a chunk in `epoch`, which must be current (see `PutChunk` in
    /// `protocol-spec/messages.md`).
    ///
    /// # Errors
    /// `Refused(BadRequest)`, `Refused(LimitExceeded{ChunkSize})`, `Refused(StaleEpoch)`.
    #[allow(clippy::too_many_arguments)]
    fn put_chunk(
        &self,
        group: GroupId,
        epoch: Epoch,
        chunk: ChunkRef,
        total_len: ChunkOffset,
        offset: ChunkOffset,
        data: &ChunkPiece,
        limits: &StoreLimits,
    ) -> Result<ChunkPut, Error>;

    /// What the relay holds of a chunk.
    ///
    /// # Errors
    /// `Refused(NotFound)` if no upload has started.
    fn chunk_status(&self, group: GroupId, chunk: ChunkRef) -> Result<ChunkStatus, Error>;

    /// Bytes of a complete chunk from `offset`.
    ///
    /// # Errors
    /// `Refused(NotFound)` unless complete, `Refused(BadRequest)` past its end.
    fn read_chunk(
        &self,
        group: GroupId,
        chunk: ChunkRef,
        offset: ChunkOffset,
        max_len: usize,
    ) -> Result<ChunkData, Error>;

    /// Who the store belongs to, if recorded ([`crate::integrity`]).
    ///
    /// # Errors
    /// Backend failures; [`Error::Corrupt`] for an unreadable record.
    fn identity(&self) -> Result<Option<crate::integrity::StoreIdentity>, Error>;

    /// Records who the store belongs to, durably.
    ///
    /// # Errors
    /// Backend failures.
    fn set_identity(&self, identity: crate::integrity::StoreIdentity) -> Result<(), Error>;

    /// Counts what the store holds, and digests its account, device and group rows,
    /// for the manifest ([`crate::integrity`]). Reads every such row: cheap next to the
    /// logs, content and chunks it does not read.
    ///
    /// # Errors
    /// Backend failures; [`Error::Corrupt`] for a row that does not decode.
    fn census(&self) -> Result<crate::integrity::Census, Error>;

    /// Bytes the store takes on disk, for metrics.
    fn size_on_disk(&self) -> u64;

    /// Writes a copy of the whole store, as it is at one moment, into `to` (a new or
    /// empty directory), and returns its census and how long writes waited. Writes wait while the rows are copied
    /// (reads go on); the copy is checked byte for byte against the store before this
    /// returns. A store kept sealed at rest is copied sealed: the copy opens with the
    /// same store key and no other.
    ///
    /// # Errors
    /// [`Error::Damaged`] if `to` holds a store already or the copy differs; backend
    /// failures.
    fn backup_to(&self, to: &std::path::Path) -> Result<BackupCopy, Error>;

    /// Of `devices`, those revoked, unknown, or of a disabled account: whose connections
    /// must close. A store several relay processes share checks its connected devices
    /// with this, in case another process's word of a revocation was lost.
    ///
    /// # Errors
    /// Backend failures.
    fn inactive_devices(&self, devices: &[DeviceId]) -> Result<Vec<DeviceId>, Error> {
        let mut inactive = Vec::new();
        for &device in devices {
            let active = match self.device(device)? {
                Some(entry) if !entry.revoked => {
                    self.account(entry.account)?.is_some_and(|account| !account.settings.disabled)
                }
                _ => false,
            };
            if !active {
                inactive.push(device);
            }
        }
        Ok(inactive)
    }

    /// Takes `count` key-package claims from `account`'s hourly budget (a token bucket
    /// refilled at `per_second`, holding `burst` at most), when the store keeps that
    /// budget for every relay process that shares it; all or nothing.
    /// [`ClaimBudget::KeptByRelay`] when it does not (a store one process owns: the
    /// relay keeps the budget in memory).
    ///
    /// # Errors
    /// Backend failures.
    fn take_claims(&self, account: AccountId, count: u32, per_second: f64, burst: f64) -> Result<ClaimBudget, Error> {
        let _ = (account, count, per_second, burst);
        Ok(ClaimBudget::KeptByRelay)
    }

    /// Writes everything to stable storage (at shutdown; every method already does).
    ///
    /// # Errors
    /// Backend failures.
    fn flush(&self) -> Result<(), Error>;
}
