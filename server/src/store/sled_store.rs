//! The embedded default store: sled, one tree per kind of record, multi-tree
//! transactions for every update that touches more than one key, and a flush before
//! every method that wrote returns.
//!
//! Rows are fixed layouts of big-endian integers and raw bytes; keys start with the
//! owning group or device so that each owner's records are one contiguous range.
//! A row that does not decode is reported as [`Error::Corrupt`], never unwrapped.

use std::path::Path;
use std::sync::Arc;

use huisclos_protocol::access::{AccessToken, EpochVerifier};

use super::sealing::{Batch, Cipher, Part, SealedTransactional, SealedTree, StoreKey};
use huisclos_protocol::auth::DevicePublicKey;
use huisclos_protocol::codec::{BoundedVec, varint_len};
use huisclos_protocol::ids::{
    AccountId, ByteCount, ChunkOffset, ChunkRef, ContentId, ContentSeq, DeviceId, Epoch, ForgetKey, GroupId, InboxSeq,
    Seq, UnixSeconds,
};
use huisclos_protocol::messages::{
    ChunkData, ChunkPiece, ChunkStatus, ClaimedPackage, ContentPage, ContentRecord, ContentRecordBytes, DeviceRecord,
    EntryKind, InboxEntry, KeyPackageBytes, KeyPackageKind, KeyPackageStatus, LimitKind, LogEntry, LogPage, LogPageEnd,
    LogRetention, MlsMessageBytes, RelayError, SEALED_KEY_PACKAGE_TAG, WelcomeBytes, Welcomes, read_tombstone,
    tombstone,
};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use sled::transaction::{ConflictableTransactionError, ConflictableTransactionResult, TransactionError};

use super::migrate::Record;
use super::{
    AccountChange, AccountSettings, AccountSummary, BackupCopy, ChunkPut, DeviceEntry, GroupPosition,
    PendingInvitation, RelayStore, StoreLimits,
};
use crate::Error;
use crate::integrity::{Census, Counts, StoreIdentity};

/// The key of the store's identity in the `meta` tree.
const IDENTITY_KEY: &[u8] = b"identity";
/// Set in `meta` once the key packages of earlier releases, stored in clear, are gone.
const KEY_PACKAGES_SEALED_KEY: &[u8] = b"key_packages_sealed";
/// Set in `meta` of a store sealed at rest: the check value of its key.
const STORE_KEY_CHECK: &[u8] = b"store_key_check";

/// Refuses a wrong key, a missing one, or one given for a store kept in clear; records
/// the key's check value in a new store.
fn check_store_key(db: &sled::Db, meta: &sled::Tree, cipher: Option<&Cipher>) -> Result<(), Error> {
    let recorded = meta.get(STORE_KEY_CHECK).map_err(storage)?;
    let holds_rows = || -> Result<bool, Error> {
        for name in db.tree_names() {
            if name.as_ref() != b"meta" && !db.open_tree(&name).map_err(storage)?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    };
    match (recorded, cipher) {
        (Some(recorded), Some(cipher)) if recorded.as_ref() == cipher.check_value() => Ok(()),
        (Some(_), Some(_)) => Err(Error::Damaged(
            "the store key given does not open this store: it was sealed under another key. Start the relay \
             with the key the store was created with."
                .into(),
        )),
        (Some(_), None) => Err(Error::Damaged(
            "the store is sealed at rest and no store key was given: start the relay with its key (store_key_file \
             in the configuration, HUISCLOS_RELAY_STORE_KEY_FILE, or the systemd credential huisclos-store-key)."
                .into(),
        )),
        (None, Some(cipher)) => {
            if holds_rows()? {
                return Err(Error::Damaged(
                    "a store key was given, but this store was written in clear. Seal it first with \
                     `huisclos-relay admin seal-store` (the relay stopped), or start without a key."
                        .into(),
                ));
            }
            meta.insert(STORE_KEY_CHECK, &cipher.check_value()[..]).map_err(storage)?;
            meta.flush().map_err(storage)?;
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

/// The sled-backed [`RelayStore`].
pub struct SledStore {
    db: sled::Db,
    invitations: SealedTree,
    accounts: SealedTree,
    devices: SealedTree,
    account_devices: SealedTree,
    key_packages: SealedTree,
    key_package_meta: SealedTree,
    last_resort: SealedTree,
    inbox: SealedTree,
    inbox_meta: SealedTree,
    groups: SealedTree,
    verifiers: SealedTree,
    log: SealedTree,
    log_dedup: SealedTree,
    /// deadline (8) || group (16) || seq (8) -> epoch (8) || digest (32): the
    /// `Message` entries of `Expire` groups, by when they may be deleted.
    expiry: SealedTree,
    epoch_starts: SealedTree,
    content: SealedTree,
    content_ids: SealedTree,
    chunks: SealedTree,
    chunk_pieces: SealedTree,
    /// Who the store belongs to ([`crate::integrity`]): `identity` -> store id (16) ||
    /// relay pin (32).
    meta: SealedTree,
    group_commit: GroupCommit,
    appends: AppendBatches,
    /// Every write holds it shared; a backup holds it alone, so that the copy is of
    /// one moment ([`RelayStore::backup_to`]). Reads never take it.
    pause: std::sync::RwLock<()>,
}

/// Group commit: a write is durable once a flush that *started after it* has ended.
/// Concurrent writers share one flush instead of queueing one each, so many clients'
/// appends cost about one disk flush per round rather than one per append.
#[derive(Default)]
struct GroupCommit {
    state: std::sync::Mutex<CommitState>,
    flushed: std::sync::Condvar,
}

#[derive(Default)]
struct CommitState {
    /// Tickets handed out: one per write that asked to be made durable.
    written: u64,
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// Whether a flush is running now.
    flushing: bool,
}

impl GroupCommit {
    /// Returns once everything written before the call is on disk.
    fn wait_durable(&self, db: &sled::Db) -> Result<(), Error> {
        let lock = || self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut state = lock();
        state.written += 1;
        let ticket = state.written;
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if !state.flushing {
                // This caller flushes for everyone whose write came before it.
                state.flushing = true;
                let covers = state.written;
                drop(state);
                let outcome = db.flush();
                state = lock();
                state.flushing = false;
                if outcome.is_ok() {
                    state.durable = state.durable.max(covers);
                }
                self.flushed.notify_all();
                outcome.map_err(storage)?;
                continue;
            }
            state = self.flushed.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Appends written together: one sled transaction and one flush for every append that
/// arrived while the previous batch was being written.
///
/// sled serialises its atomic multi-key writes (transactions and batches) against each
/// other and against flushes, so one transaction and one flush per append caps
/// concurrent appenders near the rate of a single one, however the flushes are shared.
/// Here the first appender to find no batch running writes the queue as one batch —
/// its own append with everyone else's — hands each appender its outcome, and passes
/// the lead to the oldest appender still queued, if any. With one client this is one
/// transaction and one flush, as before; with many, both are shared.
#[derive(Default)]
struct AppendBatches {
    state: std::sync::Mutex<BatchState>,
}

#[derive(Default)]
struct BatchState {
    queue: Vec<QueuedAppend>,
    /// Whether a batch is being written now (or its lead is being handed over).
    writing: bool,
}

struct QueuedAppend {
    group: GroupId,
    epoch: Epoch,
    message: MlsMessageBytes,
    expires_at: UnixSeconds,
    turn: Arc<Turn>,
}

/// Where one appender waits: for its outcome, or to lead the next batch.
#[derive(Default)]
struct Turn {
    state: std::sync::Mutex<TurnState>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
enum TurnState {
    #[default]
    Waiting,
    Lead,
    Done(Result<(Seq, bool), Error>),
}

impl Turn {
    fn set(&self, state: TurnState) {
        *self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = state;
        self.changed.notify_one();
    }

    /// Waits until this appender has its outcome (`Some`) or must lead (`None`).
    fn wait(&self) -> Option<Result<(Seq, bool), Error>> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            match std::mem::take(&mut *state) {
                TurnState::Waiting => {}
                TurnState::Lead => return None,
                TurnState::Done(outcome) => return Some(outcome),
            }
            state = self.changed.wait(state).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// The bytes of pages sled keeps in memory.
const CACHE_CAPACITY: u64 = 64 << 20;

/// At most this many appends share a transaction: a bound on the transaction's size
/// (each message is at most one frame) and on the latency of the batch.
const MAX_APPEND_BATCH: usize = 256;

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

fn storage(error: sled::Error) -> Error {
    Error::Storage(error.to_string())
}

fn finish<T>(result: Result<T, TransactionError<Error>>) -> Result<T, Error> {
    match result {
        Ok(value) => Ok(value),
        Err(TransactionError::Abort(error)) => Err(error),
        Err(TransactionError::Storage(error)) => Err(storage(error)),
    }
}

fn refuse<T>(error: RelayError) -> ConflictableTransactionResult<T, Error> {
    Err(ConflictableTransactionError::Abort(Error::Refused(error)))
}

fn corrupt<T>(what: &'static str) -> ConflictableTransactionResult<T, Error> {
    Err(ConflictableTransactionError::Abort(Error::Corrupt(what)))
}

/// `prefix || n` (big-endian), so keys of one owner sort by `n`.
fn key(prefix: &[u8], n: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&n.to_be_bytes());
    key
}

fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    [a, b].concat()
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// A queue's bounds: items live at keys `first..next`.
#[derive(Clone, Copy, Default)]
struct Queue {
    first: u64,
    next: u64,
}

impl Queue {
    fn decode(bytes: Option<&[u8]>) -> Option<Self> {
        match bytes {
            None => Some(Self::default()),
            Some(bytes) => Some(Self { first: u64_at(bytes, 0)?, next: u64_at(bytes, 8)? }),
        }
    }
    fn encode(self) -> Vec<u8> {
        [self.first.to_be_bytes(), self.next.to_be_bytes()].concat()
    }
    fn len(self) -> u64 {
        self.next.saturating_sub(self.first)
    }
}

/// A group's position and content counter.
#[derive(Clone, Copy)]
/// epoch (8) || next_seq (8) || next_content (8) || expiring (1, absent = no)
struct GroupRow {
    epoch: u64,
    next_seq: u64,
    next_content: u64,
    /// Created with [`LogRetention::Expire`].
    expiring: bool,
}

impl GroupRow {
    fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Self {
            epoch: u64_at(bytes, 0)?,
            next_seq: u64_at(bytes, 8)?,
            next_content: u64_at(bytes, 16)?,
            expiring: bytes.get(24) == Some(&1),
        })
    }
    fn encode(self) -> Vec<u8> {
        let mut row = [self.epoch.to_be_bytes(), self.next_seq.to_be_bytes(), self.next_content.to_be_bytes()].concat();
        row.push(u8::from(self.expiring));
        row
    }
    fn position(self) -> Result<GroupPosition, Error> {
        Ok(GroupPosition {
            epoch: Epoch::new(self.epoch).map_err(|_| Error::Corrupt("group epoch"))?,
            next_seq: Seq::new(self.next_seq).map_err(|_| Error::Corrupt("group sequence"))?,
            expiring: self.expiring,
        })
    }
}

/// account (16) || key (32) || registered_at (8) || revoked (1)
fn encode_device(entry: &DeviceEntry) -> Vec<u8> {
    let mut row = Vec::with_capacity(57);
    row.extend_from_slice(entry.account.as_bytes());
    row.extend_from_slice(entry.key.as_bytes());
    row.extend_from_slice(&entry.registered_at.get().to_be_bytes());
    row.push(u8::from(entry.revoked));
    row
}

fn decode_device(row: &[u8]) -> Option<DeviceEntry> {
    let account = AccountId::from_bytes(row.get(0..16)?.try_into().ok()?);
    let key = DevicePublicKey::from_bytes(row.get(16..48)?.try_into().ok()?).ok()?;
    let registered_at = UnixSeconds::new(u64_at(row, 48)?).ok()?;
    let revoked = *row.get(56)? == 1;
    Some(DeviceEntry { account, key, registered_at, revoked })
}

/// An account's row: usage (8) || active devices (4), then its operator's settings,
/// flags (1: 0x01 disabled, 0x02 a quota of its own) || quota (8), written only once an
/// operator set them: a row of 12 bytes (as every release before operator settings
/// wrote them) is an enabled account under the relay's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AccountRow {
    usage: u64,
    devices: u32,
    settings: AccountSettings,
}

fn summary(account: AccountId, row: &[u8]) -> Result<AccountSummary, Error> {
    let row = AccountRow::decode(Some(row)).ok_or(Error::Corrupt("account row"))?;
    Ok(AccountSummary { account, usage: row.usage, devices: row.devices, settings: row.settings })
}

const ACCOUNT_DISABLED: u8 = 0x01;
const ACCOUNT_QUOTA: u8 = 0x02;

impl AccountRow {
    fn new() -> Self {
        Self { usage: 0, devices: 1, settings: AccountSettings::default() }
    }

    fn decode(row: Option<&[u8]>) -> Option<Self> {
        let row = row?;
        let (usage, devices) = (u64_at(row, 0)?, u32_at(row, 8)?);
        let settings = match row.len() {
            12 => AccountSettings::default(),
            21 => {
                let flags = row[12];
                if flags & !(ACCOUNT_DISABLED | ACCOUNT_QUOTA) != 0 {
                    return None;
                }
                let quota = u64_at(row, 13)?;
                AccountSettings {
                    disabled: flags & ACCOUNT_DISABLED != 0,
                    quota: (flags & ACCOUNT_QUOTA != 0).then_some(quota),
                }
            }
            _ => return None,
        };
        Some(Self { usage, devices, settings })
    }

    fn encode(&self) -> Vec<u8> {
        let mut row = [&self.usage.to_be_bytes()[..], &self.devices.to_be_bytes()[..]].concat();
        if self.settings != AccountSettings::default() {
            let mut flags = 0;
            if self.settings.disabled {
                flags |= ACCOUNT_DISABLED;
            }
            if self.settings.quota.is_some() {
                flags |= ACCOUNT_QUOTA;
            }
            row.push(flags);
            row.extend_from_slice(&self.settings.quota.unwrap_or(0).to_be_bytes());
        }
        row
    }
}

/// epoch (8) || kind (1) || message
fn decode_entry(row: &[u8]) -> Option<(u64, EntryKind, &[u8])> {
    let epoch = u64_at(row, 0)?;
    let kind = match *row.get(8)? {
        1 => EntryKind::Message,
        2 => EntryKind::Commit,
        _ => return None,
    };
    Some((epoch, kind, row.get(9..)?))
}

fn encode_entry(epoch: u64, kind: EntryKind, message: &[u8]) -> Vec<u8> {
    let mut row = Vec::with_capacity(9 + message.len());
    row.extend_from_slice(&epoch.to_be_bytes());
    row.push(kind as u8);
    row.extend_from_slice(message);
    row
}

/// total (4) || received (4) || verified (1) || progressed (8)
#[derive(Clone, Copy)]
struct ChunkRow {
    total: u32,
    received: u32,
    verified: bool,
    /// When the upload last made progress, rounded up to the hour; 0 in rows written by
    /// releases that did not record it (stamped at the next sweep).
    progressed: u64,
}

impl ChunkRow {
    fn decode(row: &[u8]) -> Option<Self> {
        Some(Self {
            total: u32_at(row, 0)?,
            received: u32_at(row, 4)?,
            verified: *row.get(8)? == 1,
            progressed: if row.len() >= 17 { u64_at(row, 9)? } else { 0 },
        })
    }
    fn encode(self) -> Vec<u8> {
        let mut row = [&self.total.to_be_bytes()[..], &self.received.to_be_bytes()[..]].concat();
        row.push(u8::from(self.verified));
        row.extend_from_slice(&self.progressed.to_be_bytes());
        row
    }
    fn status(self) -> Result<ChunkStatus, Error> {
        let total_len = ChunkOffset::new(self.total).map_err(|_| Error::Corrupt("chunk length"))?;
        let received = ChunkOffset::new(self.received).map_err(|_| Error::Corrupt("chunk length"))?;
        // An unverified chunk reports one byte short until its hash has been checked,
        // so "received == total_len" always means "complete and verified".
        let received = if self.received == self.total && !self.verified {
            ChunkOffset::new(self.total.saturating_sub(1)).map_err(|_| Error::Corrupt("chunk length"))?
        } else {
            received
        };
        Ok(ChunkStatus { total_len, received })
    }
}

/// Now, rounded up to the hour: when an upload last progressed, saying little more.
fn progress_stamp() -> u64 {
    now_unix().div_ceil(3600).saturating_mul(3600)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl SledStore {
    /// Opens (or creates) the store in `path`.
    ///
    /// # Errors
    /// [`Error::Storage`] if sled cannot open it (for example, another relay holds it).
    pub fn open(path: &Path) -> Result<Self, Error> {
        Self::open_with(path, None)
    }

    /// Opens (or creates) the store in `path`, sealed at rest under `key` if one is
    /// given ([`sealing`](super::sealing)). A new store takes the key it is created
    /// with; an existing one opens only with the key it was created with, or with none
    /// if it was created without.
    ///
    /// # Errors
    /// [`Error::Storage`] if sled cannot open it (for example, another relay holds it);
    /// [`Error::Damaged`] for a wrong or missing key, or a key given for a store kept
    /// in clear.
    pub fn open_with(path: &Path, key: Option<&StoreKey>) -> Result<Self, Error> {
        let db = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            // sled caches up to 1 GiB by default; the relay serves mostly recent
            // entries, and its memory must stay predictable on a small server.
            .cache_capacity(CACHE_CAPACITY)
            .open()
            .map_err(storage)?;
        let meta = db.open_tree("meta").map_err(storage)?;
        let cipher = key.map(|key| Arc::new(Cipher::new(key)));
        check_store_key(&db, &meta, cipher.as_deref())?;
        let tree = |name: &'static str, parts: &'static [Part]| -> Result<SealedTree, Error> {
            Ok(SealedTree::new(db.open_tree(name).map_err(storage)?, name, parts, cipher.clone()))
        };
        use Part::{Id, Number};
        Ok(Self {
            invitations: tree("invitations", &[Id(32)])?,
            accounts: tree("accounts", &[Id(16)])?,
            devices: tree("devices", &[Id(16)])?,
            account_devices: tree("account_devices", &[Id(16), Id(16)])?,
            key_packages: tree("key_packages", &[Id(16), Number(8)])?,
            key_package_meta: tree("key_package_meta", &[Id(16)])?,
            last_resort: tree("last_resort", &[Id(16)])?,
            inbox: tree("inbox", &[Id(16), Number(8)])?,
            inbox_meta: tree("inbox_meta", &[Id(16)])?,
            groups: tree("groups", &[Id(16)])?,
            verifiers: tree("verifiers", &[Id(16), Number(8)])?,
            log: tree("log", &[Id(16), Number(8)])?,
            log_dedup: tree("log_dedup", &[Id(16), Number(8), Id(32)])?,
            expiry: tree("expiry", &[Number(8), Id(16), Number(8)])?,
            epoch_starts: tree("epoch_starts", &[Id(16), Number(8)])?,
            content: tree("content", &[Id(16), Number(8)])?,
            content_ids: tree("content_ids", &[Id(16), Id(16)])?,
            chunks: tree("chunks", &[Id(16), Id(32)])?,
            chunk_pieces: tree("chunk_pieces", &[Id(16), Id(32), Number(4)])?,
            meta: SealedTree::new(meta, "meta", &[], None),
            db,
            group_commit: GroupCommit::default(),
            appends: AppendBatches::default(),
            pause: std::sync::RwLock::new(()),
        })
    }

    /// Whether the store in `path` is sealed at rest, without opening it.
    ///
    /// # Errors
    /// [`Error::Storage`] (for example, another relay holds it).
    pub fn sealed_at(path: &Path) -> Result<bool, Error> {
        let db = sled::Config::new().path(path).open().map_err(storage)?;
        db.open_tree("meta").map_err(storage)?.contains_key(STORE_KEY_CHECK).map_err(storage)
    }

    /// Whether the store is sealed at rest (it was created with a key).
    ///
    /// # Errors
    /// [`Error::Storage`].
    pub fn is_sealed(&self) -> Result<bool, Error> {
        self.meta.contains_key(STORE_KEY_CHECK).map_err(storage)
    }

    /// Copies every row of the store in `from` (kept in clear) into a new store in `to`,
    /// sealed under `key`: how an existing relay's store is sealed (`admin seal-store`).
    /// The census of the copy is the original's.
    ///
    /// # Errors
    /// [`Error::Damaged`] if `from` is sealed already or `to` is not empty; store
    /// failures.
    pub fn copy_sealed(from: &Path, to: &Path, key: &StoreKey) -> Result<u64, Error> {
        let source = Self::open(from)?;
        if source.is_sealed()? {
            return Err(Error::Damaged(format!("the store {} is sealed already", from.display())));
        }
        let target = Self::open_with(to, Some(key))?;
        if target.db.tree_names().iter().any(|name| {
            target.db.open_tree(name).map(|tree| !tree.is_empty()).unwrap_or(true) && name.as_ref() != b"meta"
        }) {
            return Err(Error::Damaged(format!("{} is not empty", to.display())));
        }
        let mut rows = 0u64;
        for (from_tree, to_tree) in source.trees().into_iter().zip(target.trees()) {
            for row in from_tree.iter() {
                let (key, value) = row.map_err(storage)?;
                to_tree.insert(key, value).map_err(storage)?;
                rows += 1;
            }
        }
        for row in source.meta.iter() {
            let (key, value) = row.map_err(storage)?;
            if key.as_ref() != STORE_KEY_CHECK {
                target.meta.insert(key, value).map_err(storage)?;
            }
        }
        target.db.flush().map_err(storage)?;
        Ok(rows)
    }

    /// How many rows the store holds and a digest of them all (real keys, values in
    /// clear), whatever order the trees keep them in: a sealed copy of a store has the
    /// same as the original.
    ///
    /// # Errors
    /// [`Error::Storage`], and for a value that does not open.
    pub fn contents_digest(&self) -> Result<(u64, [u8; 32]), Error> {
        let mut rows = 0u64;
        let mut digest = Sha256::new();
        for tree in self.trees() {
            let mut hashes = Vec::new();
            for row in tree.iter() {
                let (key, value) = row.map_err(storage)?;
                let mut hash = Sha256::new();
                for part in [&key[..], &value[..]] {
                    hash.update((part.len() as u64).to_be_bytes());
                    hash.update(part);
                }
                hashes.push(<[u8; 32]>::from(hash.finalize()));
            }
            hashes.sort_unstable();
            rows += hashes.len() as u64;
            digest.update((hashes.len() as u64).to_be_bytes());
            for hash in hashes {
                digest.update(hash);
            }
        }
        Ok((rows, digest.finalize().into()))
    }

    /// Every tree but `meta`, in a fixed order.
    /// Held by every write for its whole length: a backup waits for the writes in
    /// progress and holds back new ones.
    fn unpaused(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.pause.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A digest of every row of every tree, as stored (sealed or not), tree by tree in
    /// name order and row by row in key order: two stores with the same bytes have the
    /// same, and any byte changed, missing or added changes it.
    fn raw_digest(db: &sled::Db) -> Result<(u64, [u8; 32]), Error> {
        let mut names = db.tree_names();
        names.sort();
        let mut digest = Sha256::new();
        let mut rows = 0u64;
        for name in names {
            digest.update((name.len() as u64).to_be_bytes());
            digest.update(&name);
            for row in db.open_tree(&name).map_err(storage)?.iter() {
                let (key, value) = row.map_err(storage)?;
                for part in [&key[..], &value[..]] {
                    digest.update((part.len() as u64).to_be_bytes());
                    digest.update(part);
                }
                rows += 1;
            }
        }
        Ok((rows, digest.finalize().into()))
    }

    fn trees(&self) -> [&SealedTree; 19] {
        [
            &self.invitations,
            &self.accounts,
            &self.devices,
            &self.account_devices,
            &self.key_packages,
            &self.key_package_meta,
            &self.last_resort,
            &self.inbox,
            &self.inbox_meta,
            &self.groups,
            &self.verifiers,
            &self.log,
            &self.log_dedup,
            &self.expiry,
            &self.epoch_starts,
            &self.content,
            &self.content_ids,
            &self.chunks,
            &self.chunk_pieces,
        ]
    }

    /// Deletes the key packages that earlier releases stored in clear (each carries its
    /// device's certificate, and so its person's name); the sealed ones stay, in their
    /// order. Their devices upload sealed packages at their next sign-in, seeing fewer
    /// left. Runs once per store: returns how many it deleted (0 on later starts).
    ///
    /// # Errors
    /// [`Error::Storage`], and [`Error::Corrupt`] for a damaged queue row.
    pub fn drop_unsealed_key_packages(&self) -> Result<u64, Error> {
        if self.meta.contains_key(KEY_PACKAGES_SEALED_KEY).map_err(storage)? {
            return Ok(0);
        }
        let sealed = |bytes: &[u8]| bytes.first() == Some(&SEALED_KEY_PACKAGE_TAG);
        let mut dropped = 0u64;
        for item in self.key_package_meta.iter() {
            let (device, row) = item.map_err(storage)?;
            let queue = Queue::decode(Some(&row)).ok_or(Error::Corrupt("key package queue"))?;
            let mut kept = Vec::new();
            for slot in queue.first..queue.next {
                if let Some(bytes) = self.key_packages.get(key(&device, slot)).map_err(storage)? {
                    if sealed(&bytes) {
                        kept.push(bytes);
                    }
                }
            }
            if kept.len() as u64 == queue.len() {
                continue;
            }
            dropped += queue.len() - kept.len() as u64;
            let mut batch = Batch::default();
            for slot in queue.first..queue.next {
                batch.remove(key(&device, slot));
            }
            for (n, bytes) in kept.iter().enumerate() {
                batch.insert(key(&device, queue.first + n as u64), bytes.clone());
            }
            self.key_packages.apply_batch(batch).map_err(storage)?;
            let rewritten = Queue { first: queue.first, next: queue.first + kept.len() as u64 };
            self.key_package_meta.insert(&device, rewritten.encode()).map_err(storage)?;
        }
        for item in self.last_resort.iter() {
            let (device, bytes) = item.map_err(storage)?;
            if !sealed(&bytes) {
                self.last_resort.remove(&device).map_err(storage)?;
                dropped += 1;
            }
        }
        self.meta.insert(KEY_PACKAGES_SEALED_KEY, &[1u8][..]).map_err(storage)?;
        self.durable()?;
        Ok(dropped)
    }

    fn durable(&self) -> Result<(), Error> {
        self.group_commit.wait_durable(&self.db)
    }

    /// Writes `batch` in one transaction, in order, then makes it durable: the outcome
    /// of each append by its ticket. A refused append refuses only itself; a failure of
    /// the store fails the whole batch, and nothing of it is written.
    fn write_appends(&self, batch: &[QueuedAppend]) -> Vec<Result<(Seq, bool), Error>> {
        let prepared: Vec<_> = batch
            .iter()
            .map(|item| {
                let digest: [u8; 32] = Sha256::digest(item.message.as_bytes()).into();
                let dedup_key = [item.group.as_bytes().as_slice(), &item.epoch.get().to_be_bytes(), &digest].concat();
                (digest, dedup_key)
            })
            .collect();
        let trees = (&self.groups, &self.log, &self.log_dedup, &self.expiry);
        let result = trees.transaction(|(groups, log, dedup, expiry)| {
            let mut outcomes = Vec::with_capacity(batch.len());
            // Reads see this transaction's earlier writes, so appends to one group in
            // one batch take consecutive numbers, and a repeat finds its first copy.
            for (item, (digest, dedup_key)) in batch.iter().zip(&prepared) {
                let outcome = (|| {
                    let Some(row) = groups.get(item.group.as_bytes())? else {
                        return Ok(Err(Error::Refused(RelayError::Forbidden)));
                    };
                    let Some(mut row) = GroupRow::decode(&row) else { return Ok(Err(Error::Corrupt("group row"))) };
                    if row.epoch != item.epoch.get() {
                        return Ok(Err(Error::Refused(stale(row))));
                    }
                    if let Some(seq) = dedup.get(dedup_key)? {
                        return Ok(u64_at(&seq, 0).map(|seq| (seq, false)).ok_or(Error::Corrupt("dedup row")));
                    }
                    let seq = row.next_seq;
                    log.insert(
                        key(item.group.as_bytes(), seq),
                        encode_entry(row.epoch, EntryKind::Message, item.message.as_bytes()),
                    )?;
                    dedup.insert(dedup_key.as_slice(), &seq.to_be_bytes())?;
                    if row.expiring {
                        let slot =
                            [&item.expires_at.get().to_be_bytes()[..], item.group.as_bytes(), &seq.to_be_bytes()]
                                .concat();
                        expiry.insert(slot, [&item.epoch.get().to_be_bytes()[..], digest].concat())?;
                    }
                    row.next_seq += 1;
                    groups.insert(item.group.as_bytes(), row.encode())?;
                    Ok::<_, ConflictableTransactionError<Error>>(Ok((seq, true)))
                })()?;
                outcomes.push(outcome);
            }
            Ok(outcomes)
        });
        // Also for appends already there: they may not be on disk yet.
        let outcomes = finish(result).and_then(|outcomes| self.durable().map(|()| outcomes));
        match outcomes {
            Ok(outcomes) => outcomes
                .into_iter()
                .map(|outcome| {
                    let (seq, wrote) = outcome?;
                    Ok((Seq::new(seq).map_err(|_| Error::Corrupt("sequence number"))?, wrote))
                })
                .collect(),
            Err(error) => {
                let text = error.to_string();
                batch.iter().map(|_| Err(Error::Storage(text.clone()))).collect()
            }
        }
    }

    /// Returns `value`, read from the store, once everything written before it was
    /// read is on disk: a reader never acts on a record that a crash could still undo.
    /// When nothing is waiting to be written this costs no disk access.
    fn settled<T>(&self, value: T) -> Result<T, Error> {
        self.durable()?;
        Ok(value)
    }

    fn active_device(
        devices: &super::sealing::SealedTx,
        device: DeviceId,
        account: AccountId,
    ) -> ConflictableTransactionResult<bool, Error> {
        Ok(devices
            .get(device.as_bytes())?
            .as_deref()
            .and_then(decode_device)
            .is_some_and(|entry| !entry.revoked && entry.account == account))
    }

    fn group_row(&self, group: GroupId) -> Result<Option<GroupRow>, Error> {
        match self.groups.get(group.as_bytes()).map_err(storage)? {
            None => Ok(None),
            Some(row) => GroupRow::decode(&row).map(Some).ok_or(Error::Corrupt("group row")),
        }
    }

    /// Hashes a fully received chunk; marks it verified, or discards it on mismatch.
    fn verify_chunk(&self, group: GroupId, chunk: ChunkRef, row: ChunkRow) -> Result<ChunkStatus, Error> {
        let prefix = join(group.as_bytes(), chunk.as_bytes());
        let mut hasher = Sha256::new();
        let mut hashed = 0u64;
        for piece in self.chunk_pieces.scan_prefix(&prefix) {
            let (_, bytes) = piece.map_err(storage)?;
            hashed += bytes.len() as u64;
            hasher.update(&bytes);
        }
        let digest: [u8; 32] = hasher.finalize().into();
        let matches = hashed == u64::from(row.total) && &digest == chunk.as_bytes();
        // Decide against the row as it is now: a concurrent check may have done it.
        let expected = row.encode();
        let outcome = self.chunks.transaction(|chunks| {
            let current = chunks.get(&prefix)?;
            if current.as_deref() != Some(expected.as_slice()) {
                return Ok(current.as_deref().and_then(ChunkRow::decode));
            }
            if matches {
                let verified = ChunkRow { verified: true, ..row };
                chunks.insert(prefix.as_slice(), verified.encode())?;
                Ok(Some(verified))
            } else {
                chunks.remove(prefix.as_slice())?;
                Ok(None)
            }
        });
        let outcome = finish(outcome)?;
        if !matches && outcome.is_none() {
            // Not what was announced: the upload is discarded (its row is gone, so no
            // new upload can have started); the reservation is not refunded.
            let mut batch = Batch::default();
            for piece in self.chunk_pieces.scan_prefix(&prefix).keys() {
                batch.remove(piece.map_err(storage)?);
            }
            self.chunk_pieces.apply_batch(batch).map_err(storage)?;
            self.durable()?;
            return Err(Error::Refused(RelayError::BadRequest));
        }
        self.durable()?;
        match outcome {
            Some(row) => row.status(),
            None => Err(Error::Refused(RelayError::NotFound)),
        }
    }
}

impl SledStore {
    /// Every record the store keeps, in the terms both backends share, for
    /// `huisclos-relay migrate` ([`super::migrate`]); a sealed store's are opened.
    ///
    /// # Errors
    /// Backend failures, [`Error::Corrupt`] for a row that does not decode, and what
    /// `each` returns.
    pub fn export(&self, each: &mut dyn FnMut(Record) -> Result<(), Error>) -> Result<(), Error> {
        fn id<const N: usize>(bytes: &[u8], at: usize, what: &'static str) -> Result<[u8; N], Error> {
            bytes.get(at..at + N).and_then(|b| b.try_into().ok()).ok_or(Error::Corrupt(what))
        }
        let number = |bytes: &[u8], at: usize, what: &'static str| u64_at(bytes, at).ok_or(Error::Corrupt(what));
        if let Some(row) = self.meta.get(IDENTITY_KEY).map_err(storage)? {
            each(Record::Identity(row.to_vec()))?;
        }
        for item in self.invitations.iter() {
            let (key, value) = item.map_err(storage)?;
            each(Record::Invitation {
                digest: id(&key, 0, "invitation key")?,
                expires_at: number(&value, 0, "invitation row")?,
            })?;
        }
        for item in self.accounts.iter() {
            let (key, value) = item.map_err(storage)?;
            let row = AccountRow::decode(Some(&value)).ok_or(Error::Corrupt("account row"))?;
            each(Record::Account {
                id: id(&key, 0, "account key")?,
                usage: row.usage,
                devices: row.devices,
                disabled: row.settings.disabled,
                quota: row.settings.quota,
            })?;
        }
        for item in self.devices.iter() {
            let (key, value) = item.map_err(storage)?;
            let entry = decode_device(&value).ok_or(Error::Corrupt("device row"))?;
            each(Record::Device {
                id: id(&key, 0, "device key")?,
                account: *entry.account.as_bytes(),
                key: *entry.key.as_bytes(),
                registered_at: entry.registered_at.get(),
                revoked: entry.revoked,
            })?;
        }
        for (tree, inbox) in [(&self.key_package_meta, false), (&self.inbox_meta, true)] {
            for item in tree.iter() {
                let (key, value) = item.map_err(storage)?;
                let queue = Queue::decode(Some(&value)).ok_or(Error::Corrupt("queue row"))?;
                each(Record::Queue { inbox, device: id(&key, 0, "queue key")?, first: queue.first, next: queue.next })?;
            }
        }
        for item in self.key_packages.iter() {
            let (key, value) = item.map_err(storage)?;
            let (device, slot) = (id(&key, 0, "key package key")?, number(&key, 16, "key package key")?);
            each(Record::KeyPackage { device, slot, package: value.to_vec() })?;
        }
        for item in self.last_resort.iter() {
            let (key, value) = item.map_err(storage)?;
            each(Record::LastResort { device: id(&key, 0, "last-resort key")?, package: value.to_vec() })?;
        }
        for item in self.inbox.iter() {
            let (key, value) = item.map_err(storage)?;
            let (device, position) = (id(&key, 0, "inbox key")?, number(&key, 16, "inbox key")?);
            each(Record::Welcome { device, position, welcome: value.to_vec() })?;
        }
        for item in self.groups.iter() {
            let (key, value) = item.map_err(storage)?;
            let row = GroupRow::decode(&value).ok_or(Error::Corrupt("group row"))?;
            each(Record::Group {
                id: id(&key, 0, "group key")?,
                epoch: row.epoch,
                next_seq: row.next_seq,
                next_content: row.next_content,
                expiring: row.expiring,
            })?;
        }
        for item in self.verifiers.iter() {
            let (key, value) = item.map_err(storage)?;
            let first = self.epoch_starts.get(&key).map_err(storage)?.ok_or(Error::Corrupt("epoch without start"))?;
            each(Record::Epoch {
                group: id(&key, 0, "verifier key")?,
                epoch: number(&key, 16, "verifier key")?,
                verifier: id(&value, 0, "verifier row")?,
                first_seq: number(&first, 0, "epoch start row")?,
            })?;
        }
        // deadline (8) || group (16) || seq (8): the deadline of each expiring message.
        let mut deadlines = std::collections::HashMap::new();
        for item in self.expiry.iter() {
            let (key, _) = item.map_err(storage)?;
            let group: [u8; 16] = id(&key, 8, "expiry key")?;
            deadlines.insert((group, number(&key, 24, "expiry key")?), number(&key, 0, "expiry key")?);
        }
        for item in self.log.iter() {
            let (key, value) = item.map_err(storage)?;
            let (group, seq) = (id(&key, 0, "log key")?, number(&key, 16, "log key")?);
            let (epoch, kind, message) = decode_entry(&value).ok_or(Error::Corrupt("log entry"))?;
            let expires_at = deadlines.get(&(group, seq)).copied();
            let commit = kind == EntryKind::Commit;
            each(Record::Entry { group, seq, epoch, commit, message: message.to_vec(), expires_at })?;
        }
        for item in self.content.iter() {
            let (key, value) = item.map_err(storage)?;
            each(Record::Content {
                group: id(&key, 0, "content key")?,
                seq: number(&key, 16, "content key")?,
                record: id(&value, 0, "content row")?,
                sealed: value.get(16..).ok_or(Error::Corrupt("content row"))?.to_vec(),
            })?;
        }
        for item in self.chunks.iter() {
            let (key, value) = item.map_err(storage)?;
            let row = ChunkRow::decode(&value).ok_or(Error::Corrupt("chunk row"))?;
            each(Record::Chunk {
                group: id(&key, 0, "chunk key")?,
                chunk: id(&key, 16, "chunk key")?,
                total: row.total,
                received: row.received,
                verified: row.verified,
                // Uploads from before progress was recorded start their clock now.
                progressed: if row.progressed == 0 { progress_stamp() } else { row.progressed },
            })?;
        }
        for item in self.chunk_pieces.iter() {
            let (key, value) = item.map_err(storage)?;
            each(Record::Piece {
                group: id(&key, 0, "chunk piece key")?,
                chunk: id(&key, 16, "chunk piece key")?,
                start: u32_at(&key, 48).ok_or(Error::Corrupt("chunk piece key"))?,
                bytes: value.to_vec(),
            })?;
        }
        Ok(())
    }
}

impl RelayStore for SledStore {
    fn accounts(&self) -> Result<Vec<AccountSummary>, Error> {
        let mut accounts = Vec::new();
        for item in self.accounts.iter() {
            let (id, row) = item.map_err(storage)?;
            let id: [u8; 16] = id.as_ref().try_into().map_err(|_| Error::Corrupt("account key"))?;
            accounts.push(summary(AccountId::from_bytes(id), &row)?);
        }
        // A sealed store keeps them in the order of their blinded ids.
        accounts.sort_by_key(|summary| summary.account);
        self.settled(accounts)
    }

    fn account(&self, account: AccountId) -> Result<Option<AccountSummary>, Error> {
        let summary = match self.accounts.get(account.as_bytes()).map_err(storage)? {
            None => None,
            Some(row) => Some(summary(account, &row)?),
        };
        self.settled(summary)
    }

    fn change_account(&self, account: AccountId, change: AccountChange) -> Result<AccountSettings, Error> {
        let _unpaused = self.unpaused();
        let result = self.accounts.transaction(|accounts| {
            let Some(row) = accounts.get(account.as_bytes())? else { return refuse(RelayError::NotFound) };
            let Some(mut row) = AccountRow::decode(Some(&row)) else { return corrupt("account row") };
            row.settings = change.apply(row.settings);
            accounts.insert(account.as_bytes(), row.encode())?;
            Ok(row.settings)
        });
        let settings = finish(result)?;
        self.durable()?;
        Ok(settings)
    }

    fn invitations(&self) -> Result<Vec<PendingInvitation>, Error> {
        let mut invitations = Vec::new();
        for item in self.invitations.iter() {
            let (digest, expires) = item.map_err(storage)?;
            let digest: [u8; 32] = digest.as_ref().try_into().map_err(|_| Error::Corrupt("invitation key"))?;
            let expires_at =
                u64_at(&expires, 0).and_then(|at| UnixSeconds::new(at).ok()).ok_or(Error::Corrupt("invitation row"))?;
            invitations.push(PendingInvitation { digest, expires_at });
        }
        invitations.sort_by_key(|invitation| invitation.digest);
        self.settled(invitations)
    }

    fn revoke_invitation(&self, digest: [u8; 32]) -> Result<bool, Error> {
        let _unpaused = self.unpaused();
        let removed = self.invitations.remove(digest).map_err(storage)?.is_some();
        self.durable()?;
        Ok(removed)
    }

    fn add_invitation(&self, digest: [u8; 32], expires_at: UnixSeconds) -> Result<(), Error> {
        let _unpaused = self.unpaused();
        self.invitations.insert(digest, &expires_at.get().to_be_bytes()).map_err(storage)?;
        self.durable()
    }

    fn create_account(
        &self,
        invitation_digest: [u8; 32],
        key: &DevicePublicKey,
        now: UnixSeconds,
        _limits: &StoreLimits,
    ) -> Result<AccountId, Error> {
        let _unpaused = self.unpaused();
        let mut account = [0u8; 16];
        OsRng.fill_bytes(&mut account);
        let account = AccountId::from_bytes(account);
        let device = key.device_id();
        let entry = DeviceEntry { account, key: *key, registered_at: now, revoked: false };
        let result = (&self.invitations, &self.accounts, &self.devices, &self.account_devices).transaction(
            |(invitations, accounts, devices, account_devices)| {
                if devices.get(device.as_bytes())?.is_some() {
                    return refuse(RelayError::Conflict);
                }
                let Some(expires) = invitations.get(invitation_digest)? else {
                    return refuse(RelayError::InvitationInvalid);
                };
                let Some(expires) = u64_at(&expires, 0) else { return corrupt("invitation row") };
                if expires < now.get() {
                    return refuse(RelayError::InvitationInvalid);
                }
                invitations.remove(&invitation_digest[..])?;
                accounts.insert(account.as_bytes(), AccountRow::new().encode())?;
                devices.insert(device.as_bytes(), encode_device(&entry))?;
                account_devices.insert(join(account.as_bytes(), device.as_bytes()), &[])?;
                Ok(())
            },
        );
        finish(result)?;
        self.durable()?;
        Ok(account)
    }

    fn device(&self, device: DeviceId) -> Result<Option<DeviceEntry>, Error> {
        let entry = match self.devices.get(device.as_bytes()).map_err(storage)? {
            None => None,
            Some(row) => Some(decode_device(&row).ok_or(Error::Corrupt("device row"))?),
        };
        self.settled(entry)
    }

    fn add_device(
        &self,
        account: AccountId,
        caller: DeviceId,
        key: &DevicePublicKey,
        now: UnixSeconds,
        limits: &StoreLimits,
    ) -> Result<DeviceId, Error> {
        let _unpaused = self.unpaused();
        let device = key.device_id();
        let entry = DeviceEntry { account, key: *key, registered_at: now, revoked: false };
        let result = (&self.accounts, &self.devices, &self.account_devices).transaction(
            |(accounts, devices, account_devices)| {
                if !Self::active_device(devices, caller, account)? {
                    return refuse(RelayError::AuthFailed);
                }
                if devices.get(device.as_bytes())?.is_some() {
                    return refuse(RelayError::Conflict);
                }
                let Some(mut row) = AccountRow::decode(accounts.get(account.as_bytes())?.as_deref()) else {
                    return corrupt("account row");
                };
                if row.devices >= limits.devices_per_account {
                    return refuse(RelayError::LimitExceeded { limit: LimitKind::Devices });
                }
                row.devices += 1;
                accounts.insert(account.as_bytes(), row.encode())?;
                devices.insert(device.as_bytes(), encode_device(&entry))?;
                account_devices.insert(join(account.as_bytes(), device.as_bytes()), &[])?;
                Ok(())
            },
        );
        finish(result)?;
        self.durable()?;
        Ok(device)
    }

    fn revoke_device(&self, account: AccountId, caller: DeviceId, device: DeviceId) -> Result<(), Error> {
        let _unpaused = self.unpaused();
        let trees = (
            &self.accounts,
            &self.devices,
            &self.key_packages,
            &self.key_package_meta,
            &self.last_resort,
            &self.inbox,
            &self.inbox_meta,
        );
        let result = trees.transaction(|(accounts, devices, key_packages, kp_meta, last_resort, inbox, inbox_meta)| {
            if !Self::active_device(devices, caller, account)? {
                return refuse(RelayError::AuthFailed);
            }
            let Some(row) = devices.get(device.as_bytes())? else { return refuse(RelayError::NotFound) };
            let Some(mut entry) = decode_device(&row) else { return corrupt("device row") };
            if entry.account != account {
                return refuse(RelayError::NotFound);
            }
            if entry.revoked {
                return Ok(());
            }
            entry.revoked = true;
            devices.insert(device.as_bytes(), encode_device(&entry))?;
            let Some(mut row) = AccountRow::decode(accounts.get(account.as_bytes())?.as_deref()) else {
                return corrupt("account row");
            };
            row.devices = row.devices.saturating_sub(1);
            accounts.insert(account.as_bytes(), row.encode())?;
            let Some(packages) = Queue::decode(kp_meta.get(device.as_bytes())?.as_deref()) else {
                return corrupt("key package queue");
            };
            for n in packages.first..packages.next {
                key_packages.remove(key(device.as_bytes(), n))?;
            }
            kp_meta.remove(device.as_bytes())?;
            last_resort.remove(device.as_bytes())?;
            let Some(welcomes) = Queue::decode(inbox_meta.get(device.as_bytes())?.as_deref()) else {
                return corrupt("inbox queue");
            };
            for n in welcomes.first..welcomes.next {
                inbox.remove(key(device.as_bytes(), n))?;
            }
            // Keep the inbox counter so positions are never reused.
            inbox_meta.insert(device.as_bytes(), Queue { first: welcomes.next, next: welcomes.next }.encode())?;
            Ok(())
        });
        finish(result)?;
        self.durable()
    }

    fn list_devices(&self, account: AccountId) -> Result<Vec<DeviceRecord>, Error> {
        let mut records = Vec::new();
        for item in self.account_devices.scan_prefix(account.as_bytes()).keys() {
            let item = item.map_err(storage)?;
            let id: [u8; 16] = item.get(16..32).and_then(|b| b.try_into().ok()).ok_or(Error::Corrupt("device link"))?;
            let device = DeviceId::from_bytes(id);
            if let Some(entry) = self.device(device)?.filter(|entry| !entry.revoked) {
                records.push(DeviceRecord { device, device_key: entry.key, registered_at: entry.registered_at });
            }
        }
        // In order of registration (messages.md 4.6); the same second, by id.
        records.sort_by_key(|record| (record.registered_at, record.device));
        self.settled(records)
    }

    fn usage(&self, account: AccountId) -> Result<ByteCount, Error> {
        let row = self.accounts.get(account.as_bytes()).map_err(storage)?;
        let row = AccountRow::decode(row.as_deref()).ok_or(Error::Corrupt("account row"))?;
        self.settled(ByteCount::new(row.usage).map_err(|_| Error::Corrupt("account usage"))?)
    }

    fn release_quota(&self, account: AccountId, amount: u64) -> Result<(), Error> {
        let _unpaused = self.unpaused();
        let result = self.accounts.transaction(|accounts| {
            let Some(mut row) = AccountRow::decode(accounts.get(account.as_bytes())?.as_deref()) else {
                return corrupt("account row");
            };
            row.usage = row.usage.saturating_sub(amount);
            accounts.insert(account.as_bytes(), row.encode())?;
            Ok(())
        });
        finish(result)?;
        self.durable()
    }

    fn reserve_quota(&self, account: AccountId, amount: u64, quota: u64) -> Result<(), Error> {
        let _unpaused = self.unpaused();
        let result = self.accounts.transaction(|accounts| {
            let Some(mut row) = AccountRow::decode(accounts.get(account.as_bytes())?.as_deref()) else {
                return corrupt("account row");
            };
            // An operator's quota for this account takes the place of the relay's.
            let quota = row.settings.quota.unwrap_or(quota);
            match row.usage.checked_add(amount) {
                Some(total) if total <= quota => {
                    row.usage = total;
                    accounts.insert(account.as_bytes(), row.encode())?;
                    Ok(())
                }
                _ => refuse(RelayError::QuotaExceeded {
                    used: ByteCount::new(row.usage).unwrap_or(ByteCount::MAX),
                    quota: ByteCount::new(quota).unwrap_or(ByteCount::MAX),
                }),
            }
        });
        finish(result)?;
        self.durable()
    }

    fn upload_key_packages(
        &self,
        device: DeviceId,
        one_time: &[KeyPackageBytes],
        last_resort: Option<&KeyPackageBytes>,
        limits: &StoreLimits,
    ) -> Result<KeyPackageStatus, Error> {
        let _unpaused = self.unpaused();
        let result = (&self.key_packages, &self.key_package_meta, &self.last_resort).transaction(
            |(key_packages, kp_meta, last)| {
                let Some(mut queue) = Queue::decode(kp_meta.get(device.as_bytes())?.as_deref()) else {
                    return corrupt("key package queue");
                };
                if queue.len() + one_time.len() as u64 > u64::from(limits.key_packages_per_device) {
                    return refuse(RelayError::LimitExceeded { limit: LimitKind::KeyPackages });
                }
                for package in one_time {
                    key_packages.insert(key(device.as_bytes(), queue.next), package.as_bytes())?;
                    queue.next += 1;
                }
                kp_meta.insert(device.as_bytes(), queue.encode())?;
                if let Some(package) = last_resort {
                    last.insert(device.as_bytes(), package.as_bytes())?;
                }
                let has_last_resort = last.get(device.as_bytes())?.is_some();
                Ok(KeyPackageStatus { one_time_left: queue.len() as u32, has_last_resort })
            },
        );
        let status = finish(result)?;
        self.durable()?;
        Ok(status)
    }

    fn key_package_status(&self, device: DeviceId) -> Result<KeyPackageStatus, Error> {
        let row = self.key_package_meta.get(device.as_bytes()).map_err(storage)?;
        let queue = Queue::decode(row.as_deref()).ok_or(Error::Corrupt("key package queue"))?;
        let has_last_resort = self.last_resort.contains_key(device.as_bytes()).map_err(storage)?;
        self.settled(KeyPackageStatus { one_time_left: queue.len() as u32, has_last_resort })
    }

    fn claim_key_packages(&self, devices: &[DeviceId]) -> Result<Vec<Option<ClaimedPackage>>, Error> {
        let _unpaused = self.unpaused();
        let result = (&self.devices, &self.key_packages, &self.key_package_meta, &self.last_resort).transaction(
            |(device_rows, key_packages, kp_meta, last)| {
                let mut claimed = Vec::with_capacity(devices.len());
                for device in devices {
                    let active = device_rows
                        .get(device.as_bytes())?
                        .as_deref()
                        .and_then(decode_device)
                        .is_some_and(|d| !d.revoked);
                    if !active {
                        claimed.push(None);
                        continue;
                    }
                    let Some(mut queue) = Queue::decode(kp_meta.get(device.as_bytes())?.as_deref()) else {
                        return corrupt("key package queue");
                    };
                    if queue.len() > 0 {
                        let slot = key(device.as_bytes(), queue.first);
                        let Some(bytes) = key_packages.remove(slot)? else { return corrupt("key package queue") };
                        queue.first += 1;
                        kp_meta.insert(device.as_bytes(), queue.encode())?;
                        claimed.push(Some((KeyPackageKind::OneTime, bytes.to_vec())));
                    } else {
                        claimed.push(last.get(device.as_bytes())?.map(|b| (KeyPackageKind::LastResort, b.to_vec())));
                    }
                }
                Ok(claimed)
            },
        );
        let claimed = finish(result)?;
        self.durable()?;
        claimed
            .into_iter()
            .map(|claim| {
                claim
                    .map(|(kind, bytes)| {
                        let package = KeyPackageBytes::new(bytes).map_err(|_| Error::Corrupt("stored key package"))?;
                        Ok(ClaimedPackage { kind, package })
                    })
                    .transpose()
            })
            .collect()
    }

    fn deposit_welcome(
        &self,
        recipients: &[DeviceId],
        welcome: &WelcomeBytes,
        limits: &StoreLimits,
    ) -> Result<Vec<InboxSeq>, Error> {
        let _unpaused = self.unpaused();
        let result = (&self.devices, &self.inbox, &self.inbox_meta).transaction(|(devices, inbox, inbox_meta)| {
            let mut positions = Vec::with_capacity(recipients.len());
            for recipient in recipients {
                let active =
                    devices.get(recipient.as_bytes())?.as_deref().and_then(decode_device).is_some_and(|d| !d.revoked);
                if !active {
                    return refuse(RelayError::NotFound);
                }
                let Some(mut queue) = Queue::decode(inbox_meta.get(recipient.as_bytes())?.as_deref()) else {
                    return corrupt("inbox queue");
                };
                if queue.len() >= u64::from(limits.welcomes_per_device) {
                    return refuse(RelayError::LimitExceeded { limit: LimitKind::WelcomeInbox });
                }
                inbox.insert(key(recipient.as_bytes(), queue.next), welcome.as_bytes())?;
                positions.push(queue.next);
                queue.next += 1;
                inbox_meta.insert(recipient.as_bytes(), queue.encode())?;
            }
            Ok(positions)
        });
        let positions = finish(result)?;
        self.durable()?;
        positions.into_iter().map(|n| InboxSeq::new(n).map_err(|_| Error::Corrupt("inbox position"))).collect()
    }

    fn fetch_welcomes(
        &self,
        device: DeviceId,
        after: Option<InboxSeq>,
        limit: usize,
        byte_budget: usize,
    ) -> Result<Welcomes, Error> {
        let start = after.map_or(0, |after| after.get().saturating_add(1));
        let mut entries = Vec::new();
        let mut used = 0usize;
        let mut more = false;
        for item in self.inbox.range(key(device.as_bytes(), start)..key(device.as_bytes(), u64::MAX)) {
            let (slot, bytes) = item.map_err(storage)?;
            let cost = bytes.len() + 16;
            if entries.len() >= limit || (!entries.is_empty() && used + cost > byte_budget) {
                more = true;
                break;
            }
            used += cost;
            let position = InboxSeq::new(u64_at(&slot, 16).ok_or(Error::Corrupt("inbox key"))?)
                .map_err(|_| Error::Corrupt("inbox key"))?;
            let welcome = WelcomeBytes::new(bytes.to_vec()).map_err(|_| Error::Corrupt("stored Welcome"))?;
            entries.push(InboxEntry { position, welcome });
        }
        let entries = BoundedVec::new(entries).map_err(|_| Error::Corrupt("inbox page"))?;
        self.settled(Welcomes { entries, more })
    }

    fn ack_welcomes(&self, device: DeviceId, up_to: InboxSeq) -> Result<(), Error> {
        let _unpaused = self.unpaused();
        let result = (&self.inbox, &self.inbox_meta).transaction(|(inbox, inbox_meta)| {
            let Some(mut queue) = Queue::decode(inbox_meta.get(device.as_bytes())?.as_deref()) else {
                return corrupt("inbox queue");
            };
            let end = up_to.get().saturating_add(1).min(queue.next);
            while queue.first < end {
                inbox.remove(key(device.as_bytes(), queue.first))?;
                queue.first += 1;
            }
            inbox_meta.insert(device.as_bytes(), queue.encode())?;
            Ok(())
        });
        finish(result)?;
        self.durable()
    }

    fn create_group(&self, group: GroupId, verifier: EpochVerifier, retention: LogRetention) -> Result<bool, Error> {
        let _unpaused = self.unpaused();
        let result = (&self.groups, &self.verifiers, &self.epoch_starts).transaction(|(groups, verifiers, starts)| {
            if groups.get(group.as_bytes())?.is_some() {
                let first = verifiers.get(key(group.as_bytes(), 0))?;
                return if first.as_deref() == Some(&verifier.as_bytes()[..]) {
                    Ok(false)
                } else {
                    refuse(RelayError::Conflict)
                };
            }
            let expiring = retention == LogRetention::Expire;
            groups.insert(group.as_bytes(), GroupRow { epoch: 0, next_seq: 0, next_content: 0, expiring }.encode())?;
            verifiers.insert(key(group.as_bytes(), 0), &verifier.as_bytes()[..])?;
            starts.insert(key(group.as_bytes(), 0), &0u64.to_be_bytes())?;
            Ok(true)
        });
        let created = finish(result)?;
        self.durable()?;
        Ok(created)
    }

    fn check_access(&self, group: GroupId, epoch: Epoch, token: &AccessToken) -> Result<GroupPosition, Error> {
        let stored = self.verifiers.get(key(group.as_bytes(), epoch.get())).map_err(storage)?;
        let stored = stored.and_then(|bytes| <[u8; 32]>::try_from(&bytes[..]).ok());
        // Hash the token whether or not the group and epoch exist, so that the time
        // taken does not tell a non-member which groups exist.
        let compared = EpochVerifier::from_bytes(stored.unwrap_or([0; 32])).admits(token);
        let admitted = stored.is_some() && compared;
        if !admitted {
            return Err(Error::Refused(RelayError::Forbidden));
        }
        let position = self.group_row(group)?.ok_or(Error::Corrupt("verifier without group"))?.position()?;
        self.settled(position)
    }

    fn append(
        &self,
        group: GroupId,
        epoch: Epoch,
        message: &MlsMessageBytes,
        expires_at: UnixSeconds,
    ) -> Result<(Seq, bool), Error> {
        let _unpaused = self.unpaused();
        let lock = || self.appends.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let turn = Arc::new(Turn::default());
        let mut state = lock();
        state.queue.push(QueuedAppend { group, epoch, message: message.clone(), expires_at, turn: turn.clone() });
        let lead = !std::mem::replace(&mut state.writing, true);
        drop(state);
        if !lead && let Some(outcome) = turn.wait() {
            return outcome;
        }
        // This appender leads: its own append is the oldest queued, so it is in the batch.
        let batch: Vec<QueuedAppend> = {
            let mut state = lock();
            let take = state.queue.len().min(MAX_APPEND_BATCH);
            state.queue.drain(..take).collect()
        };
        let mut own = None;
        for (item, outcome) in batch.iter().zip(self.write_appends(&batch)) {
            if Arc::ptr_eq(&item.turn, &turn) {
                own = Some(outcome);
            } else {
                item.turn.set(TurnState::Done(outcome));
            }
        }
        {
            let mut state = lock();
            match state.queue.first() {
                Some(next) => next.turn.set(TurnState::Lead),
                None => state.writing = false,
            }
        }
        own.ok_or(Error::Corrupt("an append left out of its own batch"))?
    }

    fn expire_messages(&self, now: UnixSeconds, limit: usize) -> Result<usize, Error> {
        let _unpaused = self.unpaused();
        let mut due = Vec::new();
        for item in self.expiry.range(..(now.get().saturating_add(1)).to_be_bytes().to_vec()).take(limit) {
            let (slot, value) = item.map_err(storage)?;
            due.push((slot, value));
        }
        for (slot, value) in &due {
            let group = slot.get(8..24).ok_or(Error::Corrupt("expiry key"))?;
            let seq = u64_at(slot, 24).ok_or(Error::Corrupt("expiry key"))?;
            let epoch = value.get(0..8).ok_or(Error::Corrupt("expiry row"))?;
            let digest = value.get(8..40).ok_or(Error::Corrupt("expiry row"))?;
            let dedup_key = [group, epoch, digest].concat();
            let result = (&self.log, &self.log_dedup, &self.expiry).transaction(|(log, dedup, expiry)| {
                log.remove(key(group, seq))?;
                dedup.remove(dedup_key.as_slice())?;
                expiry.remove(slot)?;
                Ok(())
            });
            finish(result)?;
        }
        if !due.is_empty() {
            self.durable()?;
        }
        Ok(due.len())
    }

    fn expire_uploads(&self, stalled_before: UnixSeconds, limit: usize) -> Result<usize, Error> {
        let _unpaused = self.unpaused();
        let mut stale = Vec::new();
        let mut unstamped = Vec::new();
        for item in self.chunks.iter() {
            let (chunk_key, bytes) = item.map_err(storage)?;
            let row = ChunkRow::decode(&bytes).ok_or(Error::Corrupt("chunk row"))?;
            if row.verified {
                continue;
            }
            if row.progressed == 0 {
                unstamped.push((chunk_key, bytes));
            } else if row.progressed < stalled_before.get() {
                stale.push((chunk_key, bytes));
                if stale.len() >= limit {
                    break;
                }
            }
        }
        for (chunk_key, bytes) in unstamped {
            // Written before uploads recorded their progress: their clock starts now.
            let Some(row) = ChunkRow::decode(&bytes) else { continue };
            let stamped = ChunkRow { progressed: progress_stamp(), ..row };
            let _ = self.chunks.compare_and_swap(&chunk_key, Some(bytes), Some(stamped.encode())).map_err(storage)?;
        }
        let mut deleted = 0;
        for (chunk_key, bytes) in stale {
            // Only if it made no progress meanwhile.
            if self.chunks.compare_and_swap(&chunk_key, Some(bytes), None::<&[u8]>).map_err(storage)?.is_err() {
                continue;
            }
            let mut batch = Batch::default();
            for piece in self.chunk_pieces.scan_prefix(&chunk_key).keys() {
                batch.remove(piece.map_err(storage)?);
            }
            self.chunk_pieces.apply_batch(batch).map_err(storage)?;
            deleted += 1;
        }
        self.durable()?;
        Ok(deleted)
    }

    fn commit(
        &self,
        group: GroupId,
        epoch: Epoch,
        commit: &MlsMessageBytes,
        next_verifier: EpochVerifier,
    ) -> Result<(Seq, Epoch), Error> {
        let _unpaused = self.unpaused();
        let Some(next_epoch) = epoch.next() else { return Err(Error::Refused(RelayError::BadRequest)) };
        let result = (&self.groups, &self.log, &self.verifiers, &self.epoch_starts).transaction(
            |(groups, log, verifiers, starts)| {
                let Some(row) = groups.get(group.as_bytes())? else { return refuse(RelayError::Forbidden) };
                let Some(mut row) = GroupRow::decode(&row) else { return corrupt("group row") };
                if row.epoch != epoch.get() {
                    return refuse(stale(row));
                }
                let seq = row.next_seq;
                log.insert(key(group.as_bytes(), seq), encode_entry(row.epoch, EntryKind::Commit, commit.as_bytes()))?;
                verifiers.insert(key(group.as_bytes(), next_epoch.get()), &next_verifier.as_bytes()[..])?;
                starts.insert(key(group.as_bytes(), next_epoch.get()), &(seq + 1).to_be_bytes())?;
                row.epoch = next_epoch.get();
                row.next_seq += 1;
                groups.insert(group.as_bytes(), row.encode())?;
                Ok(seq)
            },
        );
        let seq = finish(result)?;
        self.durable()?;
        Ok((Seq::new(seq).map_err(|_| Error::Corrupt("sequence number"))?, next_epoch))
    }

    fn fetch_log(
        &self,
        group: GroupId,
        epoch: Epoch,
        from: Seq,
        limit: usize,
        byte_budget: usize,
    ) -> Result<LogPage, Error> {
        let row = self.group_row(group)?.ok_or(Error::Refused(RelayError::Forbidden))?;
        let first = self
            .epoch_starts
            .get(key(group.as_bytes(), epoch.get()))
            .map_err(storage)?
            .and_then(|bytes| u64_at(&bytes, 0))
            .ok_or(Error::Refused(RelayError::Forbidden))?;
        let start = from.get().max(first);
        let mut entries = Vec::new();
        let mut used = 0usize;
        let mut closed = false;
        let mut stopped_early = false;
        for item in self.log.range(key(group.as_bytes(), start)..key(group.as_bytes(), u64::MAX)) {
            let (slot, bytes) = item.map_err(storage)?;
            let (entry_epoch, kind, message) = decode_entry(&bytes).ok_or(Error::Corrupt("log entry"))?;
            if entry_epoch != epoch.get() {
                break;
            }
            let seq = u64_at(&slot, 16).ok_or(Error::Corrupt("log key"))?;
            let cost = varint_len(seq) + 1 + varint_len(message.len() as u64) + message.len();
            if entries.len() >= limit || (!entries.is_empty() && used + cost > byte_budget) {
                stopped_early = true;
                break;
            }
            used += cost;
            let message = MlsMessageBytes::new(message.to_vec()).map_err(|_| Error::Corrupt("stored message"))?;
            entries.push(LogEntry { seq: Seq::new(seq).map_err(|_| Error::Corrupt("log key"))?, kind, message });
            if kind == EntryKind::Commit {
                closed = true;
                break;
            }
        }
        // An empty page's `next` never points past the epoch's end: a client that takes
        // it as its cursor stays within the log.
        let epoch_end = if epoch.get() < row.epoch {
            self.epoch_starts
                .get(key(group.as_bytes(), epoch.get().saturating_add(1)))
                .map_err(storage)?
                .and_then(|bytes| u64_at(&bytes, 0))
                .unwrap_or(row.next_seq)
        } else {
            row.next_seq
        };
        let next = entries
            .last()
            .map_or(Ok(start.min(epoch_end)), |entry| Ok(entry.seq.get() + 1))
            .and_then(|n: u64| Seq::new(n).map_err(|_: huisclos_protocol::Error| Error::Corrupt("sequence number")))?;
        let end = if closed || (entries.is_empty() && epoch.get() < row.epoch) {
            LogPageEnd::EpochClosed
        } else if stopped_early || epoch.get() < row.epoch {
            LogPageEnd::More
        } else {
            LogPageEnd::UpToDate
        };
        let entries = BoundedVec::new(entries).map_err(|_| Error::Corrupt("log page"))?;
        self.settled(LogPage { entries, next, end })
    }

    fn put_content(
        &self,
        group: GroupId,
        epoch: Epoch,
        record: ContentId,
        sealed: &ContentRecordBytes,
    ) -> Result<(ContentSeq, bool), Error> {
        let _unpaused = self.unpaused();
        let id_key = join(group.as_bytes(), record.as_bytes());
        let result = (&self.groups, &self.content, &self.content_ids).transaction(|(groups, content, ids)| {
            let Some(row) = groups.get(group.as_bytes())? else { return refuse(RelayError::Forbidden) };
            let Some(mut row) = GroupRow::decode(&row) else { return corrupt("group row") };
            // Checked inside the transaction: a member removed by a concurrent commit
            // cannot slip a record in after it.
            if row.epoch != epoch.get() {
                return refuse(stale(row));
            }
            if let Some(seq) = ids.get(&id_key)? {
                let Some(seq) = u64_at(&seq, 0) else { return corrupt("content id row") };
                let Some(stored) = content.get(key(group.as_bytes(), seq))? else { return corrupt("content row") };
                // A record forgotten since is a resend's too: its bytes are gone.
                return if stored.get(16..) == Some(sealed.as_bytes())
                    || stored
                        .get(16..)
                        .and_then(|bytes| read_tombstone(&group, &record, bytes))
                        .is_some_and(|key| key.is_ok())
                {
                    Ok((seq, false))
                } else {
                    refuse(RelayError::Conflict)
                };
            }
            let seq = row.next_content;
            content.insert(key(group.as_bytes(), seq), join(record.as_bytes(), sealed.as_bytes()))?;
            ids.insert(id_key.as_slice(), &seq.to_be_bytes())?;
            row.next_content += 1;
            groups.insert(group.as_bytes(), row.encode())?;
            Ok((seq, true))
        });
        let (seq, wrote) = finish(result)?;
        self.durable()?;
        Ok((ContentSeq::new(seq).map_err(|_| Error::Corrupt("content sequence"))?, wrote))
    }

    fn forget_content(
        &self,
        group: GroupId,
        epoch: Epoch,
        record: ContentId,
        forget: &ForgetKey,
    ) -> Result<(ContentSeq, u64), Error> {
        let _unpaused = self.unpaused();
        if forget.record(&group) != record {
            return Err(Error::Refused(RelayError::BadRequest));
        }
        let id_key = join(group.as_bytes(), record.as_bytes());
        let tomb = join(record.as_bytes(), tombstone(forget).as_bytes());
        let result = (&self.groups, &self.content, &self.content_ids).transaction(|(groups, content, ids)| {
            let Some(row) = groups.get(group.as_bytes())? else { return refuse(RelayError::Forbidden) };
            let Some(row) = GroupRow::decode(&row) else { return corrupt("group row") };
            if row.epoch != epoch.get() {
                return refuse(stale(row));
            }
            let Some(seq) = ids.get(&id_key)? else { return refuse(RelayError::NotFound) };
            let Some(seq) = u64_at(&seq, 0) else { return corrupt("content id row") };
            let slot = key(group.as_bytes(), seq);
            let Some(stored) = content.get(&slot)? else { return corrupt("content row") };
            if stored.as_ref() == tomb.as_slice() {
                return Ok((seq, 0));
            }
            content.insert(&slot, tomb.as_slice())?;
            Ok((seq, (stored.len() as u64).saturating_sub(tomb.len() as u64)))
        });
        let (seq, freed) = finish(result)?;
        self.durable()?;
        Ok((ContentSeq::new(seq).map_err(|_| Error::Corrupt("content sequence"))?, freed))
    }

    fn fetch_content(
        &self,
        group: GroupId,
        from: ContentSeq,
        limit: usize,
        byte_budget: usize,
    ) -> Result<ContentPage, Error> {
        let mut records = Vec::new();
        let mut used = 0usize;
        let mut more = false;
        for item in self.content.range(key(group.as_bytes(), from.get())..key(group.as_bytes(), u64::MAX)) {
            let (slot, bytes) = item.map_err(storage)?;
            let cost = bytes.len() + 16;
            if records.len() >= limit || (!records.is_empty() && used + cost > byte_budget) {
                more = true;
                break;
            }
            used += cost;
            let seq = ContentSeq::new(u64_at(&slot, 16).ok_or(Error::Corrupt("content key"))?)
                .map_err(|_| Error::Corrupt("content key"))?;
            let id: [u8; 16] = bytes.get(..16).and_then(|b| b.try_into().ok()).ok_or(Error::Corrupt("content row"))?;
            let sealed = ContentRecordBytes::new(bytes[16..].to_vec()).map_err(|_| Error::Corrupt("content row"))?;
            records.push(ContentRecord { seq, record: ContentId::from_bytes(id), sealed });
        }
        let records = BoundedVec::new(records).map_err(|_| Error::Corrupt("content page"))?;
        self.settled(ContentPage { records, more })
    }

    fn put_chunk(
        &self,
        group: GroupId,
        epoch: Epoch,
        chunk: ChunkRef,
        total_len: ChunkOffset,
        offset: ChunkOffset,
        data: &ChunkPiece,
        limits: &StoreLimits,
    ) -> Result<ChunkPut, Error> {
        let _unpaused = self.unpaused();
        let total = total_len.get();
        super::check_chunk_piece(total_len, offset, data, limits)?;
        let chunk_key = join(group.as_bytes(), chunk.as_bytes());
        let piece_key = [chunk_key.as_slice(), &offset.get().to_be_bytes()].concat();
        let result = (&self.groups, &self.chunks, &self.chunk_pieces).transaction(|(groups, chunks, pieces)| {
            let Some(group_row) = groups.get(group.as_bytes())? else { return refuse(RelayError::Forbidden) };
            let Some(group_row) = GroupRow::decode(&group_row) else { return corrupt("group row") };
            if group_row.epoch != epoch.get() {
                return refuse(stale(group_row));
            }
            let existing = match chunks.get(&chunk_key)? {
                None => None,
                Some(row) => match ChunkRow::decode(&row) {
                    Some(row) => Some(row),
                    None => return corrupt("chunk row"),
                },
            };
            if let Some(row) = existing {
                if row.total != total {
                    return refuse(RelayError::BadRequest);
                }
                if row.verified || offset.get() != row.received {
                    return Ok((row, false, false));
                }
            } else if offset.get() != 0 {
                return Ok((ChunkRow { total, received: 0, verified: false, progressed: 0 }, false, false));
            }
            let started = existing.is_none();
            let received = offset.get() + data.len() as u32;
            if !data.is_empty() {
                pieces.insert(piece_key.as_slice(), data.as_bytes())?;
            }
            let row = ChunkRow { total, received, verified: false, progressed: progress_stamp() };
            chunks.insert(chunk_key.as_slice(), row.encode())?;
            Ok((row, started, true))
        });
        let (row, started, _wrote) = finish(result)?;
        self.durable()?;
        let status = if row.received == row.total && !row.verified {
            match self.verify_chunk(group, chunk, row) {
                // Not what was announced: discarded, and said so to the service, which
                // keeps the reservation (messages.md 10.1).
                Err(Error::Refused(RelayError::BadRequest)) => {
                    let status = ChunkStatus { total_len, received: ChunkOffset::ZERO };
                    return Ok(ChunkPut { status, started, discarded: true });
                }
                other => other?,
            }
        } else {
            row.status()?
        };
        Ok(ChunkPut { status, started, discarded: false })
    }

    fn chunk_status(&self, group: GroupId, chunk: ChunkRef) -> Result<ChunkStatus, Error> {
        // A read that may write (a chunk received whole before a crash is checked, and
        // kept or deleted): a backup must not copy it half-way.
        let _unpaused = self.unpaused();
        let chunk_key = join(group.as_bytes(), chunk.as_bytes());
        let row = self.chunks.get(&chunk_key).map_err(storage)?.ok_or(Error::Refused(RelayError::NotFound))?;
        let row = ChunkRow::decode(&row).ok_or(Error::Corrupt("chunk row"))?;
        if row.received == row.total && !row.verified {
            // Received in full before a crash, not yet checked: check it now. A chunk
            // whose hash does not match is gone, as if it had never been started.
            return self.verify_chunk(group, chunk, row).map_err(|error| match error {
                Error::Refused(RelayError::BadRequest) => Error::Refused(RelayError::NotFound),
                other => other,
            });
        }
        self.settled(row.status()?)
    }

    fn read_chunk(
        &self,
        group: GroupId,
        chunk: ChunkRef,
        offset: ChunkOffset,
        max_len: usize,
    ) -> Result<ChunkData, Error> {
        let chunk_key = join(group.as_bytes(), chunk.as_bytes());
        let row = self.chunks.get(&chunk_key).map_err(storage)?.ok_or(Error::Refused(RelayError::NotFound))?;
        let row = ChunkRow::decode(&row).ok_or(Error::Corrupt("chunk row"))?;
        if !row.verified {
            return Err(Error::Refused(RelayError::NotFound));
        }
        let start = offset.get();
        if start > row.total {
            return Err(Error::Refused(RelayError::BadRequest));
        }
        let end = u64::from(start).saturating_add(max_len as u64).min(u64::from(row.total)) as u32;
        let mut data = Vec::with_capacity((end - start) as usize);
        // The piece holding `start` is the last one that begins at or before it.
        let first_piece = self
            .chunk_pieces
            .range(chunk_key.clone()..=[chunk_key.as_slice(), &start.to_be_bytes()].concat())
            .next_back()
            .transpose()
            .map_err(storage)?
            .and_then(|(k, _)| u32_at(&k, chunk_key.len()))
            .unwrap_or(0);
        let from_key = [chunk_key.as_slice(), &first_piece.to_be_bytes()].concat();
        for item in self.chunk_pieces.range(from_key..) {
            let (piece_key, bytes) = item.map_err(storage)?;
            if !piece_key.starts_with(&chunk_key) || data.len() as u32 >= end - start {
                break;
            }
            let piece_start = u32_at(&piece_key, chunk_key.len()).ok_or(Error::Corrupt("chunk piece key"))?;
            let piece_end = u32::try_from(bytes.len())
                .ok()
                .and_then(|n| piece_start.checked_add(n))
                .ok_or(Error::Corrupt("chunk piece"))?;
            let take_from = start.max(piece_start);
            let take_to = end.min(piece_end);
            if take_from < take_to {
                let slice = bytes
                    .get((take_from - piece_start) as usize..(take_to - piece_start) as usize)
                    .ok_or(Error::Corrupt("chunk piece"))?;
                data.extend_from_slice(slice);
            }
        }
        self.settled(ChunkData {
            total_len: ChunkOffset::new(row.total).map_err(|_| Error::Corrupt("chunk length"))?,
            offset,
            data: ChunkPiece::new(data).map_err(|_| Error::Corrupt("chunk piece"))?,
        })
    }

    fn identity(&self) -> Result<Option<StoreIdentity>, Error> {
        let Some(row) = self.meta.get(IDENTITY_KEY).map_err(storage)? else { return Ok(None) };
        let store_id = row.get(..16).and_then(|b| b.try_into().ok()).ok_or(Error::Corrupt("store identity"))?;
        let relay_pin = row.get(16..48).and_then(|b| b.try_into().ok()).ok_or(Error::Corrupt("store identity"))?;
        Ok(Some(StoreIdentity { store_id, relay_pin }))
    }

    fn set_identity(&self, identity: StoreIdentity) -> Result<(), Error> {
        let _unpaused = self.unpaused();
        self.meta.insert(IDENTITY_KEY, join(&identity.store_id, &identity.relay_pin)).map_err(storage)?;
        self.durable()
    }

    fn census(&self) -> Result<Census, Error> {
        let mut counts = Counts::default();
        let mut digest = Sha256::new();
        let mut rows = |tree: &SealedTree, name: &str, each: &mut dyn FnMut(&[u8]) -> Result<(), Error>| {
            digest.update(name.as_bytes());
            let mut n = 0u64;
            for item in tree.iter() {
                let (key, value) = item.map_err(storage)?;
                each(&value)?;
                for part in [&key[..], &value[..]] {
                    digest.update((part.len() as u64).to_be_bytes());
                    digest.update(part);
                }
                n += 1;
            }
            Ok::<_, Error>(n)
        };
        counts.accounts = rows(&self.accounts, "accounts", &mut |_| Ok(()))?;
        counts.devices = rows(&self.devices, "devices", &mut |_| Ok(()))?;
        let (mut log_entries, mut content_records) = (0u64, 0u64);
        counts.groups = rows(&self.groups, "groups", &mut |value| {
            let row = GroupRow::decode(value).ok_or(Error::Corrupt("group row"))?;
            log_entries = log_entries.saturating_add(row.next_seq);
            content_records = content_records.saturating_add(row.next_content);
            Ok(())
        })?;
        counts.log_entries = log_entries;
        counts.content_records = content_records;
        Ok(Census { counts, digest: digest.finalize().into() })
    }

    fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    fn backup_to(&self, to: &Path) -> Result<BackupCopy, Error> {
        let copy = sled::Config::new().path(to).mode(sled::Mode::HighThroughput).open().map_err(storage)?;
        if copy.tree_names().iter().any(|name| copy.open_tree(name).map(|tree| !tree.is_empty()).unwrap_or(true)) {
            return Err(Error::Damaged(format!("{} is not empty", to.display())));
        }
        let paused = self.pause.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let started = std::time::Instant::now();
        // Every write that returned is durable already; none runs now.
        self.db.flush().map_err(storage)?;
        let census = self.census()?;
        let original = Self::raw_digest(&self.db)?;
        for name in self.db.tree_names() {
            let from = self.db.open_tree(&name).map_err(storage)?;
            let into = copy.open_tree(&name).map_err(storage)?;
            // In batches: one atomic write per thousand rows rather than one each.
            let mut batch = sled::Batch::default();
            let mut batched = 0;
            for row in from.iter() {
                let (key, value) = row.map_err(storage)?;
                batch.insert(key, value);
                batched += 1;
                if batched == 1000 {
                    into.apply_batch(std::mem::take(&mut batch)).map_err(storage)?;
                    batched = 0;
                }
            }
            into.apply_batch(batch).map_err(storage)?;
        }
        let paused_for = started.elapsed();
        drop(paused);
        copy.flush().map_err(storage)?;
        let copied = Self::raw_digest(&copy)?;
        if copied != original {
            return Err(Error::Damaged(format!(
                "the copy in {} differs from the store ({} rows against {}): it is not a backup",
                to.display(),
                copied.0,
                original.0
            )));
        }
        Ok(BackupCopy { census, paused: paused_for })
    }

    fn flush(&self) -> Result<(), Error> {
        self.durable()
    }
}

fn stale(row: GroupRow) -> RelayError {
    RelayError::StaleEpoch {
        current: Epoch::new(row.epoch).unwrap_or(Epoch::MAX),
        next_seq: Seq::new(row.next_seq).unwrap_or(Seq::MAX),
    }
}

/// The current time as the store records it.
pub fn now() -> UnixSeconds {
    UnixSeconds::new(now_unix()).unwrap_or(UnixSeconds::ZERO)
}

#[cfg(test)]
mod tests {
    use huisclos_protocol::access::AccessToken;

    use super::*;

    fn message(text: &str) -> Result<MlsMessageBytes, Error> {
        MlsMessageBytes::new(text.as_bytes().to_vec()).map_err(|_| Error::Corrupt("test message"))
    }

    fn seqs(page: &LogPage) -> Vec<u64> {
        page.entries.iter().map(|e| e.seq.get()).collect()
    }

    /// A store on disk, shared between threads, with one group at epoch 0.
    fn store_with_one_group() -> Result<(tempfile::TempDir, std::sync::Arc<SledStore>, GroupId, Epoch), Error> {
        let dir = tempfile::tempdir()?;
        let store = std::sync::Arc::new(SledStore::open(dir.path())?);
        let group = GroupId::from_bytes([3; 16]);
        store.create_group(group, AccessToken::from_bytes([7; 32]).verifier(), LogRetention::Keep)?;
        let epoch = Epoch::new(0).map_err(|_| Error::Corrupt("epoch"))?;
        Ok((dir, store, group, epoch))
    }

    /// An account row written before operators could set anything (12 bytes) still
    /// opens, as an enabled account under the relay's quota; settings survive every
    /// later write of the row (usage, devices); a row with unknown flags is damage.
    #[test]
    fn account_rows_of_earlier_releases_open_and_settings_survive_usage() -> Result<(), Error> {
        let earlier = [&5000u64.to_be_bytes()[..], &2u32.to_be_bytes()[..]].concat();
        let row = AccountRow::decode(Some(&earlier)).ok_or(Error::Corrupt("earlier row"))?;
        assert_eq!(row, AccountRow { usage: 5000, devices: 2, settings: AccountSettings::default() });
        assert_eq!(row.encode(), earlier, "an untouched account keeps the earlier format");
        let set = AccountRow { settings: AccountSettings { disabled: true, quota: Some(1 << 30) }, ..row };
        assert_eq!(AccountRow::decode(Some(&set.encode())), Some(set));
        let mut unknown = set.encode();
        unknown[12] |= 0x80;
        assert_eq!(AccountRow::decode(Some(&unknown)), None);
        assert_eq!(AccountRow::decode(Some(&earlier[..11])), None);

        let dir = tempfile::tempdir()?;
        let store = SledStore::open(dir.path())?;
        let now = UnixSeconds::new(1).map_err(|_| Error::Corrupt("time"))?;
        let limits = StoreLimits {
            key_packages_per_device: 1,
            welcomes_per_device: 1,
            devices_per_account: 4,
            quota_bytes: 10_000,
            max_chunk_len: 1,
        };
        let later = UnixSeconds::new(u64::from(u32::MAX)).map_err(|_| Error::Corrupt("time"))?;
        store.add_invitation([9; 32], later)?;
        let key =
            DevicePublicKey::from_bytes(ed25519_dalek::SigningKey::from_bytes(&[4; 32]).verifying_key().to_bytes())
                .map_err(|_| Error::Corrupt("key"))?;
        let account = store.create_account([9; 32], &key, now, &limits)?;
        let settings = store.change_account(account, AccountChange::Quota(Some(20_000)))?;
        assert_eq!(settings, AccountSettings { disabled: false, quota: Some(20_000) });
        let disabled = store.change_account(account, AccountChange::Disable)?;
        assert_eq!(disabled, AccountSettings { disabled: true, quota: Some(20_000) }, "one change keeps the other");
        let settings = store.change_account(account, AccountChange::Enable)?;
        store.reserve_quota(account, 15_000, limits.quota_bytes)?;
        let refused = store.reserve_quota(account, 6_000, limits.quota_bytes);
        assert!(
            matches!(refused, Err(Error::Refused(RelayError::QuotaExceeded { quota, .. })) if quota.get() == 20_000)
        );
        store.release_quota(account, 5_000)?;
        let summary = store.account(account)?.ok_or(Error::Corrupt("account"))?;
        assert_eq!((summary.usage, summary.devices, summary.settings), (10_000, 1, settings));
        let unknown = AccountId::from_bytes([1; 16]);
        assert!(matches!(
            store.change_account(unknown, AccountChange::Disable),
            Err(Error::Refused(RelayError::NotFound))
        ));
        assert_eq!(store.accounts()?.len(), 1);
        Ok(())
    }

    #[test]
    fn concurrent_appends_share_flushes_and_each_returns_only_once_durable() -> Result<(), Error> {
        let (_dir, store, group, epoch) = store_with_one_group()?;
        let expires = UnixSeconds::new(1).map_err(|_| Error::Corrupt("time"))?;
        let writers: Vec<_> = (0..8)
            .map(|writer| {
                let store = store.clone();
                std::thread::spawn(move || -> Result<Vec<u64>, Error> {
                    (0..50)
                        .map(|i| Ok(store.append(group, epoch, &message(&format!("{writer}/{i}"))?, expires)?.0.get()))
                        .collect()
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for writer in writers {
            seqs.extend(writer.join().map_err(|_| Error::Corrupt("writer panicked"))??);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..400).collect::<Vec<u64>>(), "every append got its own place");
        let state = store.group_commit.state.lock().map_err(|_| Error::Corrupt("lock"))?;
        assert_eq!(state.durable, state.written, "every ticket was covered by a flush");
        assert!(!state.flushing);
        Ok(())
    }

    /// Appends written in one batch keep their own outcomes: copies of one message from
    /// many writers at once land once, and refused appends refuse only themselves.
    #[test]
    fn appends_batched_together_keep_their_own_outcomes() -> Result<(), Error> {
        let (_dir, store, group, epoch) = store_with_one_group()?;
        let stale = Epoch::new(1).map_err(|_| Error::Corrupt("epoch"))?;
        let expires = UnixSeconds::new(1).map_err(|_| Error::Corrupt("time"))?;
        let writers: Vec<_> = (0..24u8)
            .map(|writer| {
                let store = store.clone();
                std::thread::spawn(move || match writer % 3 {
                    0 => store.append(group, epoch, &message("the same words")?, expires),
                    1 => store.append(GroupId::from_bytes([9; 16]), epoch, &message(&format!("{writer}"))?, expires),
                    _ => store.append(group, stale, &message(&format!("{writer}"))?, expires),
                })
            })
            .collect();
        let outcomes: Vec<_> = writers
            .into_iter()
            .map(|w| w.join().map_err(|_| Error::Corrupt("writer panicked")))
            .collect::<Result<_, _>>()?;
        let mut landed = Vec::new();
        for (writer, outcome) in outcomes.into_iter().enumerate() {
            match (writer % 3, outcome) {
                (0, Ok((seq, wrote))) => landed.push((seq.get(), wrote)),
                (1, Err(Error::Refused(RelayError::Forbidden))) => {}
                (2, Err(Error::Refused(RelayError::StaleEpoch { .. }))) => {}
                (kind, outcome) => panic!("writer of kind {kind}: unexpected {outcome:?}"),
            }
        }
        assert_eq!(landed.len(), 8);
        assert_eq!(landed.iter().filter(|(_, wrote)| *wrote).count(), 1, "written once");
        assert!(landed.iter().all(|(seq, _)| *seq == 0), "every copy points at the one entry");
        let next = store.append(group, epoch, &message("next")?, expires)?;
        assert_eq!((next.0.get(), next.1), (1, true), "nothing else was written");
        Ok(())
    }

    #[test]
    fn a_sealed_store_opens_only_with_its_key_and_a_clear_one_only_without() -> Result<(), Error> {
        let dir = tempfile::tempdir()?;
        let (sealed, clear) = (dir.path().join("sealed"), dir.path().join("clear"));
        let key = StoreKey::generate();
        for (path, key) in [(&sealed, Some(&key)), (&clear, None)] {
            let store = SledStore::open_with(path, key)?;
            store.create_group(
                GroupId::from_bytes([3; 16]),
                AccessToken::from_bytes([7; 32]).verifier(),
                LogRetention::Keep,
            )?;
            assert_eq!(store.is_sealed()?, key.is_some());
        }
        let refusal = |result: Result<SledStore, Error>| match result {
            Err(Error::Damaged(message)) => message,
            Err(other) => panic!("refused as damaged, not {other:?}"),
            Ok(_) => panic!("opened"),
        };
        assert!(refusal(SledStore::open_with(&sealed, Some(&StoreKey::generate()))).contains("another key"));
        assert!(refusal(SledStore::open_with(&sealed, None)).contains("no store key was given"));
        assert!(refusal(SledStore::open_with(&clear, Some(&key))).contains("written in clear"));
        assert!(SledStore::sealed_at(&sealed)?);
        assert!(SledStore::open_with(&sealed, Some(&key))?.groups.contains_key([3; 16]).map_err(storage)?);
        Ok(())
    }

    #[test]
    fn key_packages_in_clear_from_earlier_releases_are_deleted_once_and_sealed_ones_stay_in_order() -> Result<(), Error>
    {
        let dir = tempfile::tempdir()?;
        let store = SledStore::open(dir.path())?;
        let limits = StoreLimits {
            key_packages_per_device: 10,
            welcomes_per_device: 1,
            devices_per_account: 1,
            quota_bytes: u64::MAX,
            max_chunk_len: 1 << 20,
        };
        let package = |sealed: bool, n: u8| {
            let first = if sealed { SEALED_KEY_PACKAGE_TAG } else { 0 };
            KeyPackageBytes::new(vec![first, n, 1, 2, 3]).map_err(|_| Error::Corrupt("package"))
        };
        let (old, mixed, new) =
            (DeviceId::from_bytes([1; 16]), DeviceId::from_bytes([2; 16]), DeviceId::from_bytes([3; 16]));
        // A device of an earlier release; one that upgraded (clear ones first, then
        // sealed); one of this release.
        store.upload_key_packages(
            old,
            &[package(false, 1)?, package(false, 2)?],
            Some(&package(false, 9)?),
            &limits,
        )?;
        store.upload_key_packages(mixed, &[package(false, 1)?, package(true, 2)?, package(true, 3)?], None, &limits)?;
        store.upload_key_packages(new, &[package(true, 1)?], Some(&package(true, 9)?), &limits)?;
        assert_eq!(store.drop_unsealed_key_packages()?, 4);
        let status = |device| store.key_package_status(device);
        assert_eq!(status(old)?, KeyPackageStatus { one_time_left: 0, has_last_resort: false });
        assert_eq!(status(mixed)?, KeyPackageStatus { one_time_left: 2, has_last_resort: false });
        assert_eq!(status(new)?, KeyPackageStatus { one_time_left: 1, has_last_resort: true });
        let queue = Queue::decode(store.key_package_meta.get(mixed.as_bytes()).map_err(storage)?.as_deref())
            .ok_or(Error::Corrupt("queue"))?;
        let kept: Vec<u8> = (queue.first..queue.next)
            .map(|slot| store.key_packages.get(key(mixed.as_bytes(), slot)).map_err(storage))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|row| row.map_or(0, |bytes| bytes[1]))
            .collect();
        assert_eq!(kept, [2, 3], "the sealed ones, in their order, with no hole");
        // No clear byte of the first device's packages is left in a tree.
        assert_eq!(store.key_packages.scan_prefix(old.as_bytes()).count(), 0);
        // Once done, never again: a later start deletes nothing.
        store.upload_key_packages(old, &[package(false, 5)?], None, &limits)?;
        assert_eq!(store.drop_unsealed_key_packages()?, 0);
        Ok(())
    }

    #[test]
    fn unfinished_uploads_without_progress_are_deleted_and_finished_ones_stay() -> Result<(), Error> {
        let (_dir, store, group, epoch) = store_with_one_group()?;
        let limits = StoreLimits {
            key_packages_per_device: 1,
            welcomes_per_device: 1,
            devices_per_account: 1,
            quota_bytes: u64::MAX,
            max_chunk_len: 1 << 20,
        };
        let piece = |bytes: &[u8]| ChunkPiece::new(bytes.to_vec()).map_err(|_| Error::Corrupt("piece"));
        let offset = |n: u32| ChunkOffset::new(n).map_err(|_| Error::Corrupt("offset"));
        // One upload left half done, one finished.
        let partial = ChunkRef::from_bytes([1; 32]);
        store.put_chunk(group, epoch, partial, offset(100)?, offset(0)?, &piece(&[5; 50])?, &limits)?;
        let whole = [6u8; 40];
        let finished = ChunkRef::from_bytes(Sha256::digest(whole).into());
        store.put_chunk(group, epoch, finished, offset(40)?, offset(0)?, &piece(&whole)?, &limits)?;
        let at = |t: u64| UnixSeconds::new(t).map_err(|_| Error::Corrupt("time"));
        assert_eq!(store.expire_uploads(at(1000)?, 10)?, 0, "recent progress is kept");
        assert_eq!(store.expire_uploads(at(u64::from(u32::MAX) * 4)?, 10)?, 1, "a stalled upload goes");
        assert!(matches!(store.chunk_status(group, partial), Err(Error::Refused(RelayError::NotFound))));
        assert_eq!(store.chunk_pieces.scan_prefix(join(group.as_bytes(), partial.as_bytes())).count(), 0);
        assert_eq!(store.chunk_status(group, finished)?.received.get(), 40, "a finished chunk stays");
        // A row from before progress was recorded gets stamped, not deleted.
        let old = ChunkRow { total: 100, received: 10, verified: false, progressed: 0 };
        let old_key = join(group.as_bytes(), &[2; 32]);
        store.chunks.insert(&old_key, &old.encode()[..9]).map_err(storage)?;
        assert_eq!(store.expire_uploads(at(u64::from(u32::MAX) * 4)?, 10)?, 0);
        let stamped = store.chunks.get(&old_key).map_err(storage)?.and_then(|row| ChunkRow::decode(&row));
        assert!(stamped.is_some_and(|row| row.progressed > 0));
        Ok(())
    }

    #[test]
    fn messages_of_expire_groups_are_deleted_after_their_deadline_and_commits_stay() -> Result<(), Error> {
        let dir = tempfile::tempdir()?;
        let store = SledStore::open(dir.path())?;
        let (keep, expire) = (GroupId::from_bytes([1; 16]), GroupId::from_bytes([2; 16]));
        let token = AccessToken::from_bytes([7; 32]);
        store.create_group(keep, token.verifier(), LogRetention::Keep)?;
        store.create_group(expire, token.verifier(), LogRetention::Expire)?;
        let epoch = Epoch::new(0).map_err(|_| Error::Corrupt("epoch"))?;
        let at = |t: u64| UnixSeconds::new(t).map_err(|_| Error::Corrupt("time"));
        for group in [keep, expire] {
            store.append(group, epoch, &message("early")?, at(1000)?)?;
            store.append(group, epoch, &message("late")?, at(5000)?)?;
            store.commit(group, epoch, &message("commit")?, token.verifier())?;
        }
        let from = Seq::new(0).map_err(|_| Error::Corrupt("seq"))?;

        // Nothing is due before its deadline.
        assert_eq!(store.expire_messages(at(999)?, 100)?, 0);
        assert_eq!(store.expire_messages(at(1000)?, 100)?, 1);
        assert_eq!(seqs(&store.fetch_log(expire, epoch, from, 100, 1 << 20)?), [1, 2], "the early one is gone");
        assert_eq!(store.expire_messages(at(10_000)?, 100)?, 1);
        let page = store.fetch_log(expire, epoch, from, 100, 1 << 20)?;
        assert_eq!(seqs(&page), [2], "the commit stays");
        assert_eq!(page.entries.as_slice()[0].kind, EntryKind::Commit);
        assert_eq!(seqs(&store.fetch_log(keep, epoch, from, 100, 1 << 20)?), [0, 1, 2], "Keep groups lose nothing");
        assert_eq!(store.expire_messages(at(u64::MAX >> 2)?, 100)?, 0, "each once");

        // The batch limit holds; what is left is taken by the next call.
        let next = Epoch::new(1).map_err(|_| Error::Corrupt("epoch"))?;
        for n in 0..5 {
            store.append(expire, next, &message(&format!("m{n}"))?, at(2000)?)?;
        }
        assert_eq!(store.expire_messages(at(3000)?, 2)?, 2);
        assert_eq!(store.expire_messages(at(3000)?, 100)?, 3);
        assert!(store.fetch_log(expire, next, from, 100, 1 << 20)?.entries.is_empty());
        Ok(())
    }
}

/// The store against a model of the protocol's rules, on random operation sequences.
#[cfg(test)]
mod conformance_tests {
    use proptest::prelude::*;

    use super::*;
    use crate::store::conformance::{self, op};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The conformance suite every store passes ([`conformance`]), on sled sealed at
        /// rest and in clear.
        #[test]
        fn the_store_follows_the_model(ops in proptest::collection::vec(op(), 1..60), sealed in any::<bool>()) {
            let dir = tempfile::tempdir().unwrap();
            let key = sealed.then(StoreKey::generate);
            let store = SledStore::open_with(dir.path(), key.as_ref()).unwrap();
            conformance::follows_the_model(&store, &ops)?;
        }
    }
}
