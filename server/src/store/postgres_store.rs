//! The store in PostgreSQL, for a relay that outgrows one machine or must survive the
//! loss of one: several relay processes share one database (`store = "postgres"` in
//! the configuration), and sled stays the embedded default.
//!
//! Every method is one transaction at `READ COMMITTED`, with the rows it decides on
//! locked (`FOR UPDATE`), so that two relay processes on one database keep the
//! protocol's promises exactly as one process does:
//!
//! - a group's row is locked by every write to the group: sequence numbers stay dense
//!   and at most one commit closes an epoch, whichever process receives it; the
//!   primary key of `verifiers` (group, epoch) refuses a second commit even if a future
//!   change forgot the lock;
//! - quotas are one conditional `UPDATE` (usage + amount ≤ quota), exact across
//!   processes;
//! - a transaction returns only once committed, and PostgreSQL commits to its
//!   write-ahead log before it answers (`synchronous_commit` is `on` unless an operator
//!   turned it off, which the relay refuses at start): durable before acknowledged.
//!   Concurrent commits share WAL flushes, as sled's appends share flushes.
//!
//! A transaction that meets a deadlock or a serialisation failure (two claims of key
//! packages taking devices in different orders, say) is run again, a few times.
//!
//! **What no table holds**, as in sled: which account or device belongs to which
//! group. Accounts and devices are in their own tables; groups, logs, content and
//! chunks name only the group. No foreign key, index or view joins them, and
//! `tests::no_table_or_index_links_an_account_to_a_group` reads the catalogue to
//! prove it. The store is not sealed at rest under the relay's store key: a
//! PostgreSQL store is protected by the database's own encryption of its disk, and the
//! relay refuses a store key with it rather than pretend (`SECURITY.md`).
//!
//! The methods block, as the trait says: the service calls them from
//! `spawn_blocking`. Each takes a connection from a small pool.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use huisclos_protocol::access::{AccessToken, EpochVerifier};
use huisclos_protocol::auth::DevicePublicKey;
use huisclos_protocol::codec::{BoundedVec, varint_len};
use huisclos_protocol::ids::{
    AccountId, ByteCount, ChunkOffset, ChunkRef, ContentId, ContentSeq, DeviceId, Epoch, ForgetKey, GroupId, InboxSeq,
    Seq, UnixSeconds,
};
use huisclos_protocol::messages::{
    ChunkData, ChunkPiece, ChunkStatus, ClaimedPackage, ContentPage, ContentRecord, ContentRecordBytes, DeviceRecord,
    EntryKind, InboxEntry, KeyPackageBytes, KeyPackageKind, KeyPackageStatus, LimitKind, LogEntry, LogPage, LogPageEnd,
    LogRetention, MlsMessageBytes, RelayError, WelcomeBytes, Welcomes, read_tombstone, tombstone,
};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Row, Transaction};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::migrate::Record;
use super::{
    AccountChange, AccountSettings, AccountSummary, BackupCopy, ChunkPut, ClaimBudget, DeviceEntry, GroupPosition,
    PendingInvitation, RelayStore, StoreLimits,
};
use crate::Error;
use crate::integrity::{Census, Counts, StoreIdentity};

/// The schema this release writes. A database whose schema is newer is refused; an
/// older one is brought up to it at start (version 2 added `claim_budgets`).
pub const SCHEMA_VERSION: i64 = 2;

/// Connections a relay process keeps to the database at most.
pub const POOL_SIZE: usize = 16;

/// How long a store call waits for a free connection before it fails.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Set on every connection: a lock or a statement stuck this long fails (and the call
/// with it) instead of holding a connection for ever, and a connection left idle in a
/// transaction is ended by the server.
const SESSION: &str = "SET lock_timeout = '10s'; SET statement_timeout = '60s'; \
                       SET idle_in_transaction_session_timeout = '60s'";

/// How many times a transaction that met a deadlock or a serialisation failure runs.
const ATTEMPTS: u32 = 5;

/// The advisory lock held while the schema is created or upgraded, so that relay
/// processes starting together do not race.
const SCHEMA_LOCK: i64 = 0x6875_6973_636c_6f73; // "huisclos"

/// The schema, version 1. Every table names either an account or device, or a group:
/// never both. Numbers are `bigint` (the protocol's are below 2^62).
const SCHEMA_V1: &str = r"
CREATE TABLE IF NOT EXISTS meta (name text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE IF NOT EXISTS invitations (digest bytea PRIMARY KEY, expires_at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id bytea PRIMARY KEY,
    usage bigint NOT NULL,
    devices integer NOT NULL,
    disabled boolean NOT NULL DEFAULT false,
    quota bigint
);
CREATE TABLE IF NOT EXISTS devices (
    id bytea PRIMARY KEY,
    account bytea NOT NULL,
    key bytea NOT NULL,
    registered_at bigint NOT NULL,
    revoked boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS devices_by_account ON devices (account);
CREATE TABLE IF NOT EXISTS key_package_queues (device bytea PRIMARY KEY, first bigint NOT NULL, next bigint NOT NULL);
CREATE TABLE IF NOT EXISTS key_packages (
    device bytea NOT NULL, slot bigint NOT NULL, package bytea NOT NULL, PRIMARY KEY (device, slot)
);
CREATE TABLE IF NOT EXISTS last_resort (device bytea PRIMARY KEY, package bytea NOT NULL);
CREATE TABLE IF NOT EXISTS inbox_queues (device bytea PRIMARY KEY, first bigint NOT NULL, next bigint NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (
    device bytea NOT NULL, position bigint NOT NULL, welcome bytea NOT NULL, PRIMARY KEY (device, position)
);
CREATE TABLE IF NOT EXISTS groups (
    id bytea PRIMARY KEY,
    epoch bigint NOT NULL,
    next_seq bigint NOT NULL,
    next_content bigint NOT NULL,
    expiring boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS verifiers (
    group_id bytea NOT NULL,
    epoch bigint NOT NULL,
    verifier bytea NOT NULL,
    first_seq bigint NOT NULL,
    PRIMARY KEY (group_id, epoch)
);
CREATE TABLE IF NOT EXISTS log (
    group_id bytea NOT NULL,
    seq bigint NOT NULL,
    epoch bigint NOT NULL,
    kind smallint NOT NULL,
    message bytea NOT NULL,
    digest bytea NOT NULL,
    expires_at bigint,
    PRIMARY KEY (group_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS log_resends ON log (group_id, epoch, digest) WHERE kind = 1;
CREATE INDEX IF NOT EXISTS log_expiry ON log (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS content (
    group_id bytea NOT NULL,
    seq bigint NOT NULL,
    record bytea NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (group_id, seq),
    UNIQUE (group_id, record)
);
CREATE TABLE IF NOT EXISTS chunks (
    group_id bytea NOT NULL,
    chunk bytea NOT NULL,
    total integer NOT NULL,
    received integer NOT NULL,
    verified boolean NOT NULL,
    progressed bigint NOT NULL,
    PRIMARY KEY (group_id, chunk)
);
CREATE TABLE IF NOT EXISTS chunk_pieces (
    group_id bytea NOT NULL,
    chunk bytea NOT NULL,
    start integer NOT NULL,
    piece bytea NOT NULL,
    PRIMARY KEY (group_id, chunk, start)
);
";

/// Version 2 adds each account's budget of key-package claims, shared by every relay
/// process (version 1 processes kept it in memory, each its own). It names an account
/// and no group; it is rate-limiting state, not data: `migrate`, exports and counts
/// leave it out.
const SCHEMA_V2: &str = r"
CREATE TABLE IF NOT EXISTS claim_budgets (
    account bytea PRIMARY KEY,
    tokens double precision NOT NULL,
    at double precision NOT NULL
);
";

/// The tables of the schema, in the order a census or a copy reads them.
pub const TABLES: [&str; 15] = [
    "meta",
    "invitations",
    "accounts",
    "devices",
    "key_package_queues",
    "key_packages",
    "last_resort",
    "inbox_queues",
    "inbox",
    "groups",
    "verifiers",
    "log",
    "content",
    "chunks",
    "chunk_pieces",
];

/// Tables of rate-limiting state rather than data: not counted, copied or compared by
/// `migrate`, and emptied with the rest by [`PostgresStore::erase`].
pub const STATE_TABLES: [&str; 1] = ["claim_budgets"];

/// An append in one statement: the group's row locked (so that sequence numbers stay
/// dense whichever process appends), a resend of a message of this epoch found, or the
/// entry stored and the group advanced; returns the group's epoch and next sequence
/// number as they were, the resent entry's number, the stored entry's number.
/// `$1` group, `$2` epoch, `$3` digest, `$4` message, `$5` deadline (kept in an
/// expiring group only).
const APPEND: &str = "
WITH g AS (
    SELECT epoch, next_seq, expiring FROM groups WHERE id = $1 FOR UPDATE
), resent AS (
    SELECT l.seq FROM log l, g
    WHERE l.group_id = $1 AND g.epoch = $2::bigint AND l.epoch = g.epoch AND l.kind = 1 AND l.digest = $3
), added AS (
    INSERT INTO log (group_id, seq, epoch, kind, message, digest, expires_at)
    SELECT $1, g.next_seq, g.epoch, 1, $4, $3, CASE WHEN g.expiring THEN $5::bigint END
    FROM g WHERE g.epoch = $2::bigint AND NOT EXISTS (SELECT 1 FROM resent)
    RETURNING seq
), advanced AS (
    UPDATE groups SET next_seq = next_seq + 1 WHERE id = $1 AND EXISTS (SELECT 1 FROM added)
)
SELECT g.epoch, g.next_seq, (SELECT seq FROM resent), (SELECT seq FROM added) FROM g";

const KIND_MESSAGE: i16 = 1;
const KIND_COMMIT: i16 = 2;

/// Reading a column with a typed error, never a panic, when the database holds something
/// other than the schema says (a damaged or altered database).
trait Column {
    fn col<'a, T: postgres::types::FromSql<'a>>(
        &'a self,
        index: impl postgres::row::RowIndex + std::fmt::Display,
    ) -> Result<T, Error>;
}

impl Column for Row {
    fn col<'a, T: postgres::types::FromSql<'a>>(
        &'a self,
        index: impl postgres::row::RowIndex + std::fmt::Display,
    ) -> Result<T, Error> {
        self.try_get(index).map_err(|_| Error::Corrupt("a database column of an unexpected type"))
    }
}

/// The PostgreSQL-backed [`RelayStore`].
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the connection string: it may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// A few connections, opened when first needed and reused.
struct Pool {
    config: postgres::Config,
    state: Mutex<PoolState>,
    returned: Condvar,
}

#[derive(Default)]
struct PoolState {
    /// Returned connections with when they were returned, oldest first; taken from the
    /// end, so that a quiet relay's extra connections age out.
    idle: Vec<(Connection, std::time::Instant)>,
    open: usize,
}

/// A connection unused this long is closed: a burst (an attack, a busy hour) leaves
/// no connections, nor the buffers they grew for large rows, behind it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection, with the statements it prepared for the hot paths.
struct Connection {
    client: Client,
    prepared: std::collections::HashMap<&'static str, postgres::Statement>,
}

/// A connection taken from the pool; back in it when dropped, unless it broke.
struct Pooled<'a> {
    pool: &'a Pool,
    connection: Option<Connection>,
}

impl Pooled<'_> {
    fn connection(&mut self) -> &mut Connection {
        self.connection.as_mut().unwrap_or_else(|| unreachable!("a pooled connection is taken only when dropped"))
    }

    /// `sql`, prepared once per connection: one round trip fewer each time it runs.
    fn prepared(&mut self, sql: &'static str) -> Result<postgres::Statement, postgres::Error> {
        let connection = self.connection();
        if let Some(statement) = connection.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = connection.client.prepare(sql)?;
        connection.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self
            .connection
            .as_ref()
            .unwrap_or_else(|| unreachable!("a pooled connection is taken only when dropped"))
            .client
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.connection().client
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.state.lock().unwrap_or_else(PoisonError::into_inner);
        match self.connection.take() {
            Some(connection) if !connection.client.is_closed() => {
                state.idle.push((connection, std::time::Instant::now()));
            }
            _ => state.open = state.open.saturating_sub(1),
        }
        self.pool.returned.notify_one();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A connection runs a runtime of its own, which must not be dropped on a
        // runtime's thread (the relay's last reference may go there at shutdown).
        let idle = std::mem::take(&mut self.state.get_mut().unwrap_or_else(PoisonError::into_inner).idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

impl Pool {
    fn get(&self) -> Result<Pooled<'_>, Error> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = state.idle.iter().take_while(|(_, since)| since.elapsed() > IDLE_TIMEOUT).count();
        if stale > 0 {
            let closed: Vec<_> = state.idle.drain(..stale).collect();
            state.open = state.open.saturating_sub(stale);
            drop(state);
            // Closed outside the lock; on this thread, which may block (a store call).
            drop(closed);
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        }
        loop {
            if let Some((connection, _)) = state.idle.pop() {
                return Ok(Pooled { pool: self, connection: Some(connection) });
            }
            if state.open < POOL_SIZE {
                state.open += 1;
                drop(state);
                let connected = self.config.connect(NoTls).and_then(|mut client| {
                    client.batch_execute(SESSION)?;
                    Ok(client)
                });
                return match connected {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        connection: Some(Connection { client, prepared: std::collections::HashMap::new() }),
                    }),
                    Err(error) => {
                        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                        state.open = state.open.saturating_sub(1);
                        self.returned.notify_one();
                        Err(storage(error))
                    }
                };
            }
            let (waited, timeout) =
                self.returned.wait_timeout(state, POOL_WAIT).unwrap_or_else(PoisonError::into_inner);
            state = waited;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= POOL_SIZE {
                return Err(Error::Storage(format!(
                    "no database connection came free within {} s: the database is stuck or overloaded",
                    POOL_WAIT.as_secs()
                )));
            }
        }
    }
}

/// The database's failure, in words: its code and message, never its detail (which
/// may quote a row's values, such as a group id, into the relay's log).
fn storage(error: postgres::Error) -> Error {
    match error.as_db_error() {
        Some(db) => match db.constraint() {
            // The constraint's name, whatever language the server answers in: the
            // refusals that follow from one are told apart by it.
            Some(constraint) => {
                Error::Storage(format!("postgresql: {} ({}, constraint {constraint})", db.message(), db.code().code()))
            }
            None => Error::Storage(format!("postgresql: {} ({})", db.message(), db.code().code())),
        },
        None => Error::Storage(format!("postgresql: {error}")),
    }
}

/// Whether running the transaction again may succeed.
fn retryable(error: &postgres::Error) -> bool {
    matches!(error.code(), Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED)
        // A resend that raced its original past the check for it: run again, it finds it.
        || error.as_db_error().and_then(|db| db.constraint()) == Some("log_resends")
}

/// A failure inside a transaction: the store's refusal or damage, or the database's.
enum Failure {
    Store(Error),
    Database(postgres::Error),
}

impl From<postgres::Error> for Failure {
    fn from(error: postgres::Error) -> Self {
        Self::Database(error)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Store(error)
    }
}

type Tx<'a, 'b> = &'a mut Transaction<'b>;

fn refuse<T>(error: RelayError) -> Result<T, Failure> {
    Err(Failure::Store(Error::Refused(error)))
}

fn corrupt(what: &'static str) -> Failure {
    Failure::Store(Error::Corrupt(what))
}

/// A number for the database: the protocol's are below 2^62.
fn db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A number from the database, refused if negative.
fn num(n: i64, what: &'static str) -> Result<u64, Error> {
    u64::try_from(n).map_err(|_| Error::Corrupt(what))
}

fn bytes16(bytes: &[u8], what: &'static str) -> Result<[u8; 16], Error> {
    bytes.try_into().map_err(|_| Error::Corrupt(what))
}

fn stale(epoch: i64, next_seq: i64) -> RelayError {
    RelayError::StaleEpoch {
        current: u64::try_from(epoch).ok().and_then(|e| Epoch::new(e).ok()).unwrap_or(Epoch::MAX),
        next_seq: u64::try_from(next_seq).ok().and_then(|n| Seq::new(n).ok()).unwrap_or(Seq::MAX),
    }
}

/// The current hour, rounded up, as chunks record their progress.
fn progress_stamp() -> i64 {
    db(super::sled_store::now().get().div_ceil(3600).saturating_mul(3600))
}

/// A group's row, locked for the rest of the transaction.
struct GroupRow {
    epoch: i64,
    next_seq: i64,
    next_content: i64,
}

fn lock_group(tx: Tx<'_, '_>, group: GroupId) -> Result<Option<GroupRow>, Failure> {
    let row = tx.query_opt(
        "SELECT epoch, next_seq, next_content FROM groups WHERE id = $1 FOR UPDATE",
        &[&group.as_bytes().as_slice()],
    )?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(GroupRow { epoch: row.col(0)?, next_seq: row.col(1)?, next_content: row.col(2)? }))
}

fn decode_device(row: &Row) -> Result<DeviceEntry, Error> {
    let account: Vec<u8> = row.col("account")?;
    let key: Vec<u8> = row.col("key")?;
    let key: [u8; 32] = key.as_slice().try_into().map_err(|_| Error::Corrupt("device key"))?;
    Ok(DeviceEntry {
        account: AccountId::from_bytes(bytes16(&account, "device row")?),
        key: DevicePublicKey::from_bytes(key).map_err(|_| Error::Corrupt("device key"))?,
        registered_at: UnixSeconds::new(num(row.col("registered_at")?, "device row")?)
            .map_err(|_| Error::Corrupt("device row"))?,
        revoked: row.col("revoked")?,
    })
}

fn summary(row: &Row) -> Result<AccountSummary, Error> {
    let id: Vec<u8> = row.col("id")?;
    let quota: Option<i64> = row.col("quota")?;
    Ok(AccountSummary {
        account: AccountId::from_bytes(bytes16(&id, "account key")?),
        usage: num(row.col("usage")?, "account usage")?,
        devices: u32::try_from(row.col::<i32>("devices")?).map_err(|_| Error::Corrupt("account row"))?,
        settings: AccountSettings {
            disabled: row.col("disabled")?,
            quota: quota.map(|quota| num(quota, "account quota")).transpose()?,
        },
    })
}

/// Whether `device` is an active device of `account`, its row held against a
/// concurrent revocation until the transaction ends.
fn active_device(tx: Tx<'_, '_>, device: DeviceId, account: AccountId) -> Result<bool, Failure> {
    let row = tx.query_opt(
        "SELECT 1 FROM devices WHERE id = $1 AND account = $2 AND NOT revoked FOR SHARE",
        &[&device.as_bytes().as_slice(), &account.as_bytes().as_slice()],
    )?;
    Ok(row.is_some())
}

/// `devices` with their places, in the order their rows are locked: by id, so that two
/// transactions over the same devices never wait for each other in a circle.
fn in_lock_order(devices: &[DeviceId]) -> Vec<(usize, DeviceId)> {
    let mut ordered: Vec<(usize, DeviceId)> = devices.iter().copied().enumerate().collect();
    ordered.sort_by_key(|&(index, device)| (device, index));
    ordered
}

/// A device's queue (of key packages or Welcomes), locked: (first, next).
fn lock_queue(tx: Tx<'_, '_>, table: &str, device: DeviceId) -> Result<(i64, i64), Failure> {
    let id = device.as_bytes().as_slice();
    tx.execute(&format!("INSERT INTO {table} (device, first, next) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING"), &[&id])?;
    let row = tx.query_one(&format!("SELECT first, next FROM {table} WHERE device = $1 FOR UPDATE"), &[&id])?;
    Ok((row.col(0)?, row.col(1)?))
}

fn device_active(tx: Tx<'_, '_>, device: DeviceId) -> Result<bool, Failure> {
    let row = tx.query_opt("SELECT revoked FROM devices WHERE id = $1 FOR SHARE", &[&device.as_bytes().as_slice()])?;
    match row {
        Some(row) => Ok(!row.col::<bool>(0)?),
        None => Ok(false),
    }
}

/// Hashes a chunk received whole and marks it verified, or deletes it (with its
/// pieces) when it is not what its reference announced. Returns whether it matched.
fn verify_chunk(tx: Tx<'_, '_>, group: GroupId, chunk: ChunkRef, total: i32) -> Result<bool, Failure> {
    let (g, c) = (group.as_bytes().as_slice(), chunk.as_bytes().as_slice());
    let mut hasher = Sha256::new();
    let mut hashed = 0u64;
    for row in
        tx.query("SELECT piece FROM chunk_pieces WHERE group_id = $1 AND chunk = $2 ORDER BY start", &[&g, &c])?
    {
        let piece: &[u8] = row.col(0)?;
        hashed += piece.len() as u64;
        hasher.update(piece);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    let matches = i64::try_from(hashed).ok() == Some(i64::from(total)) && &digest == chunk.as_bytes();
    if matches {
        tx.execute("UPDATE chunks SET verified = true WHERE group_id = $1 AND chunk = $2", &[&g, &c])?;
    } else {
        tx.execute("DELETE FROM chunk_pieces WHERE group_id = $1 AND chunk = $2", &[&g, &c])?;
        tx.execute("DELETE FROM chunks WHERE group_id = $1 AND chunk = $2", &[&g, &c])?;
    }
    Ok(matches)
}

/// How many of the rows, given by their sizes in order, a page takes: at most `limit`,
/// and past the first, only while their cost stays within `byte_budget`; and whether
/// rows were left.
fn fits(costs: impl IntoIterator<Item = usize>, limit: usize, byte_budget: usize) -> (usize, bool) {
    let (mut taken, mut used) = (0usize, 0usize);
    for cost in costs {
        if taken >= limit || (taken > 0 && used + cost > byte_budget) {
            return (taken, true);
        }
        used += cost;
        taken += 1;
    }
    (taken, false)
}

fn chunk_status(total: i32, received: i32, verified: bool) -> Result<ChunkStatus, Error> {
    let total = u32::try_from(total).map_err(|_| Error::Corrupt("chunk length"))?;
    let received = u32::try_from(received).map_err(|_| Error::Corrupt("chunk length"))?;
    // As in sled: "received == total_len" always means "complete and verified".
    let received = if received == total && !verified { total.saturating_sub(1) } else { received };
    Ok(ChunkStatus {
        total_len: ChunkOffset::new(total).map_err(|_| Error::Corrupt("chunk length"))?,
        received: ChunkOffset::new(received).map_err(|_| Error::Corrupt("chunk length"))?,
    })
}

impl PostgresStore {
    /// Connects to the database named by `url` (a libpq connection string, `host=…
    /// dbname=…` or `postgresql://…`), creates the schema in a new database, and checks
    /// an existing one: its version, and that commits are durable when acknowledged.
    ///
    /// # Errors
    /// [`Error::Config`] for a connection string that does not parse; [`Error::Damaged`]
    /// for a schema newer than this release's or `synchronous_commit` turned off;
    /// [`Error::Storage`] when the database cannot be reached.
    pub fn open(url: &str) -> Result<Self, Error> {
        let config: postgres::Config = url
            .parse()
            .map_err(|_| Error::Config("the PostgreSQL connection string (postgres_url) does not parse".into()))?;
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("huisclos-relay");
        // A connection whose peer vanished (a half-open TCP connection) is found out
        // in about a minute rather than two hours.
        config.keepalives(true).keepalives_idle(Duration::from_secs(30));
        let store = Self { pool: Pool { config, state: Mutex::default(), returned: Condvar::new() } };
        store.prepare_schema()?;
        Ok(store)
    }

    fn prepare_schema(&self) -> Result<(), Error> {
        let mut client = self.pool.get()?;
        let synchronous: String = client.query_one("SHOW synchronous_commit", &[]).map_err(storage)?.get(0);
        if synchronous == "off" {
            return Err(Error::Damaged(
                "the database has synchronous_commit = off: it would acknowledge commits a crash can undo. \
                 Turn it on for the relay's database (ALTER DATABASE … SET synchronous_commit = on)."
                    .into(),
            ));
        }
        let mut tx = client.transaction().map_err(storage)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).map_err(storage)?;
        tx.batch_execute(SCHEMA_V1).map_err(storage)?;
        tx.batch_execute(SCHEMA_V2).map_err(storage)?;
        let version = tx
            .query_opt("SELECT value FROM meta WHERE name = 'schema'", &[])
            .map_err(storage)?
            .map(|row| {
                let value: Vec<u8> = row.col(0)?;
                <[u8; 8]>::try_from(value.as_slice())
                    .map(i64::from_be_bytes)
                    .map_err(|_| Error::Corrupt("schema version"))
            })
            .transpose()?;
        match version {
            None => {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema', $1)",
                    &[&SCHEMA_VERSION.to_be_bytes().as_slice()],
                )
                .map_err(storage)?;
            }
            Some(version) if version > SCHEMA_VERSION => {
                return Err(Error::Damaged(format!(
                    "the database's schema is version {version}, newer than this release's ({SCHEMA_VERSION}): \
                     it was written by a later relay. Run that release, or restore a dump taken before it."
                )));
            }
            Some(version) if version < SCHEMA_VERSION => {
                // Every version's tables were created above (each `IF NOT EXISTS`).
                tx.execute(
                    "UPDATE meta SET value = $1 WHERE name = 'schema'",
                    &[&SCHEMA_VERSION.to_be_bytes().as_slice()],
                )
                .map_err(storage)?;
                tracing::info!(from = version, to = SCHEMA_VERSION, "the database's schema was brought up to date");
            }
            Some(_) => {}
        }
        tx.commit().map_err(storage)
    }

    /// Runs `work` in one transaction, again after a deadlock or a serialisation
    /// failure; a refusal or an error rolls everything back.
    fn write<T>(&self, mut work: impl FnMut(Tx<'_, '_>) -> Result<T, Failure>) -> Result<T, Error> {
        let mut client = self.pool.get()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = client.transaction().map_err(storage)?;
            let outcome = match work(&mut tx) {
                Ok(value) => tx.commit().map(|()| value).map_err(Failure::Database),
                Err(failure) => Err(failure),
            };
            match outcome {
                Ok(value) => return Ok(value),
                Err(Failure::Store(error)) => return Err(error),
                Err(Failure::Database(error)) if retryable(&error) && attempt < ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(
                        u64::from(attempt) * 5 + u64::from(OsRng.next_u32() % 10),
                    ));
                }
                Err(Failure::Database(error)) => return Err(storage(error)),
            }
        }
    }

    /// Runs `work` with a connection outside any explicit transaction: each statement
    /// sees what was committed (hence durable) before it started.
    fn read<T>(&self, work: impl FnOnce(&mut Client) -> Result<T, Failure>) -> Result<T, Error> {
        let mut client = self.pool.get()?;
        match work(&mut client) {
            Ok(value) => Ok(value),
            Err(Failure::Store(error)) => Err(error),
            Err(Failure::Database(error)) => Err(storage(error)),
        }
    }

    /// Every row of every table, in key order, as an order-independent count and an
    /// order-dependent digest: what `migrate` compares between a sled store and its copy.
    ///
    /// # Errors
    /// Database failures.
    pub fn table_counts(&self) -> Result<Vec<(&'static str, u64)>, Error> {
        self.read(|client| {
            let mut counts = Vec::new();
            for table in TABLES {
                let n: i64 = client.query_one(&format!("SELECT count(*) FROM {table}"), &[])?.get(0);
                counts.push((table, num(n, "row count")?));
            }
            Ok(counts)
        })
    }

    /// Records `identity` unless the database records one already, under the schema's
    /// lock, and returns the one recorded: two relay processes starting together on an
    /// empty database agree on one.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for an unreadable identity.
    pub fn claim_identity(&self, identity: StoreIdentity) -> Result<StoreIdentity, Error> {
        let value = [identity.store_id.as_slice(), identity.relay_pin.as_slice()].concat();
        self.write(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            tx.execute(
                "INSERT INTO meta (name, value) VALUES ('identity', $1) ON CONFLICT (name) DO NOTHING",
                &[&value],
            )?;
            let row = tx.query_one("SELECT value FROM meta WHERE name = 'identity'", &[])?;
            let value: &[u8] = row.col(0)?;
            let store_id = value.get(..16).and_then(|b| b.try_into().ok()).ok_or(corrupt("store identity"))?;
            let relay_pin = value.get(16..48).and_then(|b| b.try_into().ok()).ok_or(corrupt("store identity"))?;
            Ok(StoreIdentity { store_id, relay_pin })
        })
    }

    /// Whether the store holds nothing at all (a database a relay can be moved into).
    ///
    /// # Errors
    /// Database failures.
    pub fn holds_nothing(&self) -> Result<bool, Error> {
        self.read(|client| Ok(holds_nothing(client)?))
    }

    /// Deletes everything the store holds, keeping the schema: for tests, and for a
    /// `migrate` that failed half-way into a database it created.
    ///
    /// # Errors
    /// Database failures.
    pub fn erase(&self) -> Result<(), Error> {
        self.write(|tx| {
            let tables: Vec<&str> = TABLES[1..].iter().chain(&STATE_TABLES).copied().collect();
            tx.batch_execute(&format!("TRUNCATE {}", tables.join(", ")))?;
            tx.execute("DELETE FROM meta WHERE name <> 'schema'", &[])?;
            Ok(())
        })
    }
}

impl PostgresStore {
    /// Writes the records `fill` gives into this store, which must hold nothing yet, in
    /// one transaction: a failure half-way leaves it empty (`huisclos-relay migrate`).
    ///
    /// # Errors
    /// [`Error::Damaged`] if the database holds a store already; database failures;
    /// what `fill` returns.
    pub fn import(
        &self,
        fill: impl FnOnce(&mut dyn FnMut(Record) -> Result<(), Error>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut client = self.pool.get()?;
        let mut tx = client.transaction().map_err(storage)?;
        if !holds_nothing(&mut tx).map_err(storage)? {
            return Err(Error::Damaged(
                "the database holds a relay's store already (migrated before?): nothing was copied. Migrate into \
                 an empty database."
                    .into(),
            ));
        }
        fill(&mut |record| insert(&mut tx, &record).map_err(storage))?;
        tx.commit().map_err(storage)
    }

    /// Every record the store keeps, in the terms both backends share ([`Record`]).
    ///
    /// # Errors
    /// Database failures, [`Error::Corrupt`] for a row that does not decode, and what
    /// `each` returns.
    pub fn export(&self, each: &mut dyn FnMut(Record) -> Result<(), Error>) -> Result<(), Error> {
        fn id<const N: usize>(row: &Row, column: usize, what: &'static str) -> Result<[u8; N], Error> {
            row.col::<&[u8]>(column)?.try_into().map_err(|_| Error::Corrupt(what))
        }
        let mut client = self.pool.get()?;
        let mut tx = client
            .build_transaction()
            .read_only(true)
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(storage)?;
        stream(&mut tx, "SELECT value FROM meta WHERE name = 'identity'", &mut |row| {
            each(Record::Identity(row.col(0)?))?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT digest, expires_at FROM invitations", &mut |row| {
            each(Record::Invitation {
                digest: id(row, 0, "invitation")?,
                expires_at: num(row.col(1)?, "invitation")?,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT id, usage, devices, disabled, quota FROM accounts", &mut |row| {
            let summary = summary(row)?;
            each(Record::Account {
                id: *summary.account.as_bytes(),
                usage: summary.usage,
                devices: summary.devices,
                disabled: summary.settings.disabled,
                quota: summary.settings.quota,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT id, account, key, registered_at, revoked FROM devices", &mut |row| {
            let entry = decode_device(row)?;
            each(Record::Device {
                id: id(row, 0, "device")?,
                account: *entry.account.as_bytes(),
                key: *entry.key.as_bytes(),
                registered_at: entry.registered_at.get(),
                revoked: entry.revoked,
            })?;
            Ok(())
        })?;
        for (table, inbox) in [("key_package_queues", false), ("inbox_queues", true)] {
            stream(&mut tx, &format!("SELECT device, first, next FROM {table}"), &mut |row| {
                each(Record::Queue {
                    inbox,
                    device: id(row, 0, "queue")?,
                    first: num(row.col(1)?, "queue")?,
                    next: num(row.col(2)?, "queue")?,
                })
            })?;
        }
        stream(&mut tx, "SELECT device, slot, package FROM key_packages", &mut |row| {
            let (device, slot) = (id(row, 0, "key package")?, num(row.col(1)?, "key package")?);
            each(Record::KeyPackage { device, slot, package: row.col(2)? })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT device, package FROM last_resort", &mut |row| {
            each(Record::LastResort { device: id(row, 0, "last resort")?, package: row.col(1)? })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT device, position, welcome FROM inbox", &mut |row| {
            let (device, position) = (id(row, 0, "inbox")?, num(row.col(1)?, "inbox")?);
            each(Record::Welcome { device, position, welcome: row.col(2)? })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT id, epoch, next_seq, next_content, expiring FROM groups", &mut |row| {
            each(Record::Group {
                id: id(row, 0, "group")?,
                epoch: num(row.col(1)?, "group")?,
                next_seq: num(row.col(2)?, "group")?,
                next_content: num(row.col(3)?, "group")?,
                expiring: row.col(4)?,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT group_id, epoch, verifier, first_seq FROM verifiers", &mut |row| {
            each(Record::Epoch {
                group: id(row, 0, "verifier")?,
                epoch: num(row.col(1)?, "verifier")?,
                verifier: id(row, 2, "verifier")?,
                first_seq: num(row.col(3)?, "verifier")?,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT group_id, seq, epoch, kind, message, expires_at FROM log", &mut |row| {
            each(Record::Entry {
                group: id(row, 0, "log entry")?,
                seq: num(row.col(1)?, "log entry")?,
                epoch: num(row.col(2)?, "log entry")?,
                commit: row.col::<i16>(3)? == KIND_COMMIT,
                message: row.col(4)?,
                expires_at: row.col::<Option<i64>>(5)?.map(|at| num(at, "log entry")).transpose()?,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT group_id, seq, record, sealed FROM content", &mut |row| {
            each(Record::Content {
                group: id(row, 0, "content")?,
                seq: num(row.col(1)?, "content")?,
                record: id(row, 2, "content")?,
                sealed: row.col(3)?,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT group_id, chunk, total, received, verified, progressed FROM chunks", &mut |row| {
            let size = |n: i32| u32::try_from(n).map_err(|_| Error::Corrupt("chunk"));
            each(Record::Chunk {
                group: id(row, 0, "chunk")?,
                chunk: id(row, 1, "chunk")?,
                total: size(row.col(2)?)?,
                received: size(row.col(3)?)?,
                verified: row.col(4)?,
                progressed: num(row.col(5)?, "chunk")?,
            })?;
            Ok(())
        })?;
        stream(&mut tx, "SELECT group_id, chunk, start, piece FROM chunk_pieces", &mut |row| {
            each(Record::Piece {
                group: id(row, 0, "chunk piece")?,
                chunk: id(row, 1, "chunk piece")?,
                start: u32::try_from(row.col::<i32>(2)?).map_err(|_| Error::Corrupt("chunk piece"))?,
                bytes: row.col(3)?,
            })?;
            Ok(())
        })?;
        tx.commit().map_err(storage)
    }
}

/// Whether no table holds a row (but the schema's version).
fn holds_nothing(client: &mut impl postgres::GenericClient) -> Result<bool, postgres::Error> {
    let counts: Vec<String> = TABLES
        .iter()
        .map(|table| {
            if *table == "meta" {
                "(SELECT count(*) FROM meta WHERE name <> 'schema')".to_owned()
            } else {
                format!("(SELECT count(*) FROM {table})")
            }
        })
        .collect();
    let held: i64 = client.query_one(&format!("SELECT {}", counts.join(" + ")), &[])?.get(0);
    Ok(held == 0)
}

/// Runs `sql` and hands each row to `each` as it arrives, without holding them all.
fn stream(tx: &mut Transaction<'_>, sql: &str, each: &mut dyn FnMut(&Row) -> Result<(), Error>) -> Result<(), Error> {
    use postgres::fallible_iterator::FallibleIterator as _;
    let none: [&(dyn postgres::types::ToSql + Sync); 0] = [];
    let mut rows = tx.query_raw(sql, none).map_err(storage)?;
    while let Some(row) = rows.next().map_err(storage)? {
        each(&row)?;
    }
    Ok(())
}

/// Writes one record as the schema keeps it (with the digest a log entry is found by).
fn insert(tx: &mut Transaction<'_>, record: &Record) -> Result<(), postgres::Error> {
    let big = |n: u64| db(n);
    let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    match record {
        Record::Identity(value) => {
            tx.execute("INSERT INTO meta (name, value) VALUES ('identity', $1)", &[value])?;
        }
        Record::Invitation { digest, expires_at } => {
            tx.execute("INSERT INTO invitations VALUES ($1, $2)", &[&digest.as_slice(), &big(*expires_at)])?;
        }
        Record::Account { id, usage, devices, disabled, quota } => {
            tx.execute(
                "INSERT INTO accounts (id, usage, devices, disabled, quota) VALUES ($1, $2, $3, $4, $5)",
                &[&id.as_slice(), &big(*usage), &int(*devices), disabled, &quota.map(big)],
            )?;
        }
        Record::Device { id, account, key, registered_at, revoked } => {
            tx.execute(
                "INSERT INTO devices (id, account, key, registered_at, revoked) VALUES ($1, $2, $3, $4, $5)",
                &[&id.as_slice(), &account.as_slice(), &key.as_slice(), &big(*registered_at), revoked],
            )?;
        }
        Record::Queue { inbox, device, first, next } => {
            let table = if *inbox { "inbox_queues" } else { "key_package_queues" };
            tx.execute(
                &format!("INSERT INTO {table} (device, first, next) VALUES ($1, $2, $3)"),
                &[&device.as_slice(), &big(*first), &big(*next)],
            )?;
        }
        Record::KeyPackage { device, slot, package } => {
            tx.execute("INSERT INTO key_packages VALUES ($1, $2, $3)", &[&device.as_slice(), &big(*slot), package])?;
        }
        Record::LastResort { device, package } => {
            tx.execute("INSERT INTO last_resort VALUES ($1, $2)", &[&device.as_slice(), package])?;
        }
        Record::Welcome { device, position, welcome } => {
            tx.execute("INSERT INTO inbox VALUES ($1, $2, $3)", &[&device.as_slice(), &big(*position), welcome])?;
        }
        Record::Group { id, epoch, next_seq, next_content, expiring } => {
            tx.execute(
                "INSERT INTO groups (id, epoch, next_seq, next_content, expiring) VALUES ($1, $2, $3, $4, $5)",
                &[&id.as_slice(), &big(*epoch), &big(*next_seq), &big(*next_content), expiring],
            )?;
        }
        Record::Epoch { group, epoch, verifier, first_seq } => {
            tx.execute(
                "INSERT INTO verifiers (group_id, epoch, verifier, first_seq) VALUES ($1, $2, $3, $4)",
                &[&group.as_slice(), &big(*epoch), &verifier.as_slice(), &big(*first_seq)],
            )?;
        }
        Record::Entry { group, seq, epoch, commit, message, expires_at } => {
            let digest: [u8; 32] = Sha256::digest(message).into();
            let kind = if *commit { KIND_COMMIT } else { KIND_MESSAGE };
            tx.execute(
                "INSERT INTO log (group_id, seq, epoch, kind, message, digest, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &group.as_slice(),
                    &big(*seq),
                    &big(*epoch),
                    &kind,
                    message,
                    &digest.as_slice(),
                    &expires_at.map(big),
                ],
            )?;
        }
        Record::Content { group, seq, record, sealed } => {
            tx.execute(
                "INSERT INTO content (group_id, seq, record, sealed) VALUES ($1, $2, $3, $4)",
                &[&group.as_slice(), &big(*seq), &record.as_slice(), sealed],
            )?;
        }
        Record::Chunk { group, chunk, total, received, verified, progressed } => {
            tx.execute(
                "INSERT INTO chunks (group_id, chunk, total, received, verified, progressed)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&group.as_slice(), &chunk.as_slice(), &int(*total), &int(*received), verified, &big(*progressed)],
            )?;
        }
        Record::Piece { group, chunk, start, bytes } => {
            tx.execute(
                "INSERT INTO chunk_pieces (group_id, chunk, start, piece) VALUES ($1, $2, $3, $4)",
                &[&group.as_slice(), &chunk.as_slice(), &int(*start), bytes],
            )?;
        }
    }
    Ok(())
}

impl RelayStore for PostgresStore {
    fn accounts(&self) -> Result<Vec<AccountSummary>, Error> {
        self.read(|client| {
            let rows = client.query("SELECT id, usage, devices, disabled, quota FROM accounts ORDER BY id", &[])?;
            Ok(rows.iter().map(summary).collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn account(&self, account: AccountId) -> Result<Option<AccountSummary>, Error> {
        self.read(|client| {
            let row = client.query_opt(
                "SELECT id, usage, devices, disabled, quota FROM accounts WHERE id = $1",
                &[&account.as_bytes().as_slice()],
            )?;
            Ok(row.as_ref().map(summary).transpose()?)
        })
    }

    fn change_account(&self, account: AccountId, change: AccountChange) -> Result<AccountSettings, Error> {
        let id = account.as_bytes().as_slice();
        self.write(|tx| {
            let Some(row) = tx.query_opt(
                "SELECT id, usage, devices, disabled, quota FROM accounts WHERE id = $1 FOR UPDATE",
                &[&id],
            )?
            else {
                return refuse(RelayError::NotFound);
            };
            let settings = change.apply(summary(&row)?.settings);
            let quota = settings.quota.map(db);
            tx.execute(
                "UPDATE accounts SET disabled = $2, quota = $3 WHERE id = $1",
                &[&id, &settings.disabled, &quota],
            )?;
            Ok(settings)
        })
    }

    fn invitations(&self) -> Result<Vec<PendingInvitation>, Error> {
        self.read(|client| {
            let rows = client.query("SELECT digest, expires_at FROM invitations ORDER BY digest", &[])?;
            let mut invitations = Vec::with_capacity(rows.len());
            for row in rows {
                let digest: Vec<u8> = row.col(0)?;
                invitations.push(PendingInvitation {
                    digest: digest.as_slice().try_into().map_err(|_| corrupt("invitation key"))?,
                    expires_at: UnixSeconds::new(num(row.col(1)?, "invitation row")?)
                        .map_err(|_| corrupt("invitation row"))?,
                });
            }
            Ok(invitations)
        })
    }

    fn revoke_invitation(&self, digest: [u8; 32]) -> Result<bool, Error> {
        self.write(|tx| Ok(tx.execute("DELETE FROM invitations WHERE digest = $1", &[&digest.as_slice()])? > 0))
    }

    fn add_invitation(&self, digest: [u8; 32], expires_at: UnixSeconds) -> Result<(), Error> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO invitations (digest, expires_at) VALUES ($1, $2)
                 ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at",
                &[&digest.as_slice(), &db(expires_at.get())],
            )?;
            Ok(())
        })
    }

    fn create_account(
        &self,
        invitation_digest: [u8; 32],
        key: &DevicePublicKey,
        now: UnixSeconds,
        _limits: &StoreLimits,
    ) -> Result<AccountId, Error> {
        let device = key.device_id();
        self.write(|tx| {
            let mut account = [0u8; 16];
            OsRng.fill_bytes(&mut account);
            let account = AccountId::from_bytes(account);
            if tx.query_opt("SELECT 1 FROM devices WHERE id = $1", &[&device.as_bytes().as_slice()])?.is_some() {
                return refuse(RelayError::Conflict);
            }
            // Deleted in the transaction: used once, even by two processes at once.
            let Some(row) = tx.query_opt(
                "DELETE FROM invitations WHERE digest = $1 RETURNING expires_at",
                &[&invitation_digest.as_slice()],
            )?
            else {
                return refuse(RelayError::InvitationInvalid);
            };
            if num(row.col(0)?, "invitation row")? < now.get() {
                // Rolled back with the refusal: an expired invitation stays listed.
                return refuse(RelayError::InvitationInvalid);
            }
            tx.execute(
                "INSERT INTO accounts (id, usage, devices) VALUES ($1, 0, 1)",
                &[&account.as_bytes().as_slice()],
            )?;
            tx.execute(
                "INSERT INTO devices (id, account, key, registered_at, revoked) VALUES ($1, $2, $3, $4, false)",
                &[
                    &device.as_bytes().as_slice(),
                    &account.as_bytes().as_slice(),
                    &key.as_bytes().as_slice(),
                    &db(now.get()),
                ],
            )?;
            Ok(account)
        })
        .map_err(|error| match error {
            // Two first devices with one key, at once: the second is a conflict.
            Error::Storage(text) if text.contains("constraint devices_pkey") => Error::Refused(RelayError::Conflict),
            other => other,
        })
    }

    fn device(&self, device: DeviceId) -> Result<Option<DeviceEntry>, Error> {
        self.read(|client| {
            let row = client.query_opt(
                "SELECT account, key, registered_at, revoked FROM devices WHERE id = $1",
                &[&device.as_bytes().as_slice()],
            )?;
            Ok(row.as_ref().map(decode_device).transpose()?)
        })
    }

    fn add_device(
        &self,
        account: AccountId,
        caller: DeviceId,
        key: &DevicePublicKey,
        now: UnixSeconds,
        limits: &StoreLimits,
    ) -> Result<DeviceId, Error> {
        let device = key.device_id();
        let id = account.as_bytes().as_slice();
        self.write(|tx| {
            if !active_device(tx, caller, account)? {
                return refuse(RelayError::AuthFailed);
            }
            if tx.query_opt("SELECT 1 FROM devices WHERE id = $1", &[&device.as_bytes().as_slice()])?.is_some() {
                return refuse(RelayError::Conflict);
            }
            let Some(row) = tx.query_opt("SELECT devices FROM accounts WHERE id = $1 FOR UPDATE", &[&id])? else {
                return Err(corrupt("account row"));
            };
            let devices: i32 = row.col(0)?;
            if i64::from(devices) >= i64::from(limits.devices_per_account) {
                return refuse(RelayError::LimitExceeded { limit: LimitKind::Devices });
            }
            tx.execute("UPDATE accounts SET devices = devices + 1 WHERE id = $1", &[&id])?;
            tx.execute(
                "INSERT INTO devices (id, account, key, registered_at, revoked) VALUES ($1, $2, $3, $4, false)",
                &[&device.as_bytes().as_slice(), &id, &key.as_bytes().as_slice(), &db(now.get())],
            )?;
            Ok(device)
        })
        .map_err(|error| match error {
            Error::Storage(text) if text.contains("constraint devices_pkey") => Error::Refused(RelayError::Conflict),
            other => other,
        })
    }

    fn revoke_device(&self, account: AccountId, caller: DeviceId, device: DeviceId) -> Result<(), Error> {
        let id = device.as_bytes().as_slice();
        self.write(|tx| {
            if !active_device(tx, caller, account)? {
                return refuse(RelayError::AuthFailed);
            }
            let Some(row) = tx.query_opt("SELECT account, revoked FROM devices WHERE id = $1 FOR UPDATE", &[&id])?
            else {
                return refuse(RelayError::NotFound);
            };
            let owner: Vec<u8> = row.col(0)?;
            if owner.as_slice() != account.as_bytes().as_slice() {
                return refuse(RelayError::NotFound);
            }
            if row.col::<bool>(1)? {
                return Ok(());
            }
            tx.execute("UPDATE devices SET revoked = true WHERE id = $1", &[&id])?;
            tx.execute(
                "UPDATE accounts SET devices = greatest(devices - 1, 0) WHERE id = $1",
                &[&account.as_bytes().as_slice()],
            )?;
            tx.execute("DELETE FROM key_packages WHERE device = $1", &[&id])?;
            tx.execute("DELETE FROM key_package_queues WHERE device = $1", &[&id])?;
            tx.execute("DELETE FROM last_resort WHERE device = $1", &[&id])?;
            tx.execute("DELETE FROM inbox WHERE device = $1", &[&id])?;
            // The inbox counter stays, so that positions are never reused.
            tx.execute("UPDATE inbox_queues SET first = next WHERE device = $1", &[&id])?;
            Ok(())
        })
    }

    fn list_devices(&self, account: AccountId) -> Result<Vec<DeviceRecord>, Error> {
        self.read(|client| {
            let rows = client.query(
                "SELECT id, account, key, registered_at, revoked FROM devices
                 WHERE account = $1 AND NOT revoked ORDER BY registered_at, id",
                &[&account.as_bytes().as_slice()],
            )?;
            let mut records = Vec::with_capacity(rows.len());
            for row in rows {
                let id: Vec<u8> = row.col("id")?;
                let entry = decode_device(&row)?;
                records.push(DeviceRecord {
                    device: DeviceId::from_bytes(bytes16(&id, "device key")?),
                    device_key: entry.key,
                    registered_at: entry.registered_at,
                });
            }
            Ok(records)
        })
    }

    fn release_quota(&self, account: AccountId, amount: u64) -> Result<(), Error> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE accounts SET usage = greatest(usage - $2, 0) WHERE id = $1",
                &[&account.as_bytes().as_slice(), &db(amount)],
            )?;
            if changed == 0 {
                return Err(corrupt("account row"));
            }
            Ok(())
        })
    }

    fn usage(&self, account: AccountId) -> Result<ByteCount, Error> {
        self.read(|client| {
            let row = client
                .query_opt("SELECT usage FROM accounts WHERE id = $1", &[&account.as_bytes().as_slice()])?
                .ok_or(corrupt("account row"))?;
            ByteCount::new(num(row.col(0)?, "account usage")?).map_err(|_| corrupt("account usage"))
        })
    }

    fn reserve_quota(&self, account: AccountId, amount: u64, quota: u64) -> Result<(), Error> {
        let id = account.as_bytes().as_slice();
        self.write(|tx| {
            // One conditional update: exact whichever relay process reserves.
            let reserved = tx.execute(
                "UPDATE accounts SET usage = usage + $2 WHERE id = $1 AND usage <= coalesce(quota, $3) - $2",
                &[&id, &db(amount), &db(quota)],
            )?;
            if reserved == 1 {
                return Ok(());
            }
            let Some(row) = tx.query_opt("SELECT usage, quota FROM accounts WHERE id = $1", &[&id])? else {
                return Err(corrupt("account row"));
            };
            let used = num(row.col(0)?, "account usage")?;
            let quota = row.col::<Option<i64>>(1)?.map_or(Ok(quota), |own| num(own, "account quota"))?;
            refuse(RelayError::QuotaExceeded {
                used: ByteCount::new(used).unwrap_or(ByteCount::MAX),
                quota: ByteCount::new(quota).unwrap_or(ByteCount::MAX),
            })
        })
    }

    fn upload_key_packages(
        &self,
        device: DeviceId,
        one_time: &[KeyPackageBytes],
        last_resort: Option<&KeyPackageBytes>,
        limits: &StoreLimits,
    ) -> Result<KeyPackageStatus, Error> {
        let id = device.as_bytes().as_slice();
        self.write(|tx| {
            let (first, mut next) = lock_queue(tx, "key_package_queues", device)?;
            let held = num(next - first, "key package queue")?;
            if held + one_time.len() as u64 > u64::from(limits.key_packages_per_device) {
                return refuse(RelayError::LimitExceeded { limit: LimitKind::KeyPackages });
            }
            for package in one_time {
                tx.execute(
                    "INSERT INTO key_packages (device, slot, package) VALUES ($1, $2, $3)",
                    &[&id, &next, &package.as_bytes()],
                )?;
                next += 1;
            }
            tx.execute("UPDATE key_package_queues SET next = $2 WHERE device = $1", &[&id, &next])?;
            if let Some(package) = last_resort {
                tx.execute(
                    "INSERT INTO last_resort (device, package) VALUES ($1, $2)
                     ON CONFLICT (device) DO UPDATE SET package = excluded.package",
                    &[&id, &package.as_bytes()],
                )?;
            }
            let has_last_resort = tx.query_opt("SELECT 1 FROM last_resort WHERE device = $1", &[&id])?.is_some();
            let left = u32::try_from(next - first).map_err(|_| corrupt("key package queue"))?;
            Ok(KeyPackageStatus { one_time_left: left, has_last_resort })
        })
    }

    fn key_package_status(&self, device: DeviceId) -> Result<KeyPackageStatus, Error> {
        let id = device.as_bytes().as_slice();
        self.read(|client| {
            let left = client
                .query_opt("SELECT next - first FROM key_package_queues WHERE device = $1", &[&id])?
                .map_or(Ok(0), |row| row.col::<i64>(0))?;
            let has_last_resort = client.query_opt("SELECT 1 FROM last_resort WHERE device = $1", &[&id])?.is_some();
            Ok(KeyPackageStatus {
                one_time_left: u32::try_from(left).map_err(|_| corrupt("key package queue"))?,
                has_last_resort,
            })
        })
    }

    fn claim_key_packages(&self, devices: &[DeviceId]) -> Result<Vec<Option<ClaimedPackage>>, Error> {
        self.write(|tx| {
            let mut claimed = vec![None; devices.len()];
            for (index, device) in in_lock_order(devices) {
                if !device_active(tx, device)? {
                    continue;
                }
                let id = device.as_bytes().as_slice();
                let (first, next) = lock_queue(tx, "key_package_queues", device)?;
                if next > first {
                    let Some(row) = tx.query_opt(
                        "DELETE FROM key_packages WHERE device = $1 AND slot = $2 RETURNING package",
                        &[&id, &first],
                    )?
                    else {
                        return Err(corrupt("key package queue"));
                    };
                    tx.execute("UPDATE key_package_queues SET first = first + 1 WHERE device = $1", &[&id])?;
                    claimed[index] = Some((KeyPackageKind::OneTime, row.col::<Vec<u8>>(0)?));
                } else {
                    let row = tx.query_opt("SELECT package FROM last_resort WHERE device = $1", &[&id])?;
                    claimed[index] = match row {
                        Some(row) => Some((KeyPackageKind::LastResort, row.col::<Vec<u8>>(0)?)),
                        None => None,
                    };
                }
            }
            Ok(claimed)
        })?
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
        let positions = self.write(|tx| {
            let mut positions = vec![0; recipients.len()];
            for (index, recipient) in in_lock_order(recipients) {
                if !device_active(tx, recipient)? {
                    return refuse(RelayError::NotFound);
                }
                let (first, next) = lock_queue(tx, "inbox_queues", recipient)?;
                if num(next - first, "inbox queue")? >= u64::from(limits.welcomes_per_device) {
                    return refuse(RelayError::LimitExceeded { limit: LimitKind::WelcomeInbox });
                }
                let id = recipient.as_bytes().as_slice();
                tx.execute(
                    "INSERT INTO inbox (device, position, welcome) VALUES ($1, $2, $3)",
                    &[&id, &next, &welcome.as_bytes()],
                )?;
                tx.execute("UPDATE inbox_queues SET next = next + 1 WHERE device = $1", &[&id])?;
                positions[index] = next;
            }
            Ok(positions)
        })?;
        positions
            .into_iter()
            .map(|n| {
                num(n, "inbox position").and_then(|n| InboxSeq::new(n).map_err(|_| Error::Corrupt("inbox position")))
            })
            .collect()
    }

    fn fetch_welcomes(
        &self,
        device: DeviceId,
        after: Option<InboxSeq>,
        limit: usize,
        byte_budget: usize,
    ) -> Result<Welcomes, Error> {
        let start = after.map_or(0, |after| after.get().saturating_add(1));
        self.read(|client| {
            let mut tx = client
                .build_transaction()
                .read_only(true)
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .start()?;
            let d = device.as_bytes().as_slice();
            let sizes = tx.query(
                "SELECT position, octet_length(welcome) FROM inbox WHERE device = $1 AND position >= $2
                 ORDER BY position LIMIT $3",
                &[&d, &db(start), &db(limit as u64 + 1)],
            )?;
            let costs = sizes
                .iter()
                .map(|row| Ok(usize::try_from(row.col::<i32>(1)?).unwrap_or(usize::MAX / 4) + 16))
                .collect::<Result<Vec<usize>, Error>>()?;
            let (taken, more) = fits(costs, limit, byte_budget);
            let rows = match (sizes.first(), taken) {
                (Some(first), 1..) => tx.query(
                    "SELECT position, welcome FROM inbox WHERE device = $1 AND position >= $2 AND position <= $3
                     ORDER BY position",
                    &[&d, &first.col::<i64>(0)?, &sizes[taken - 1].col::<i64>(0)?],
                )?,
                _ => Vec::new(),
            };
            tx.commit()?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let position = InboxSeq::new(num(row.col(0)?, "inbox key")?).map_err(|_| corrupt("inbox key"))?;
                let welcome = WelcomeBytes::new(row.col::<Vec<u8>>(1)?).map_err(|_| corrupt("stored Welcome"))?;
                entries.push(InboxEntry { position, welcome });
            }
            let entries = BoundedVec::new(entries).map_err(|_| corrupt("inbox page"))?;
            Ok(Welcomes { entries, more })
        })
    }

    fn ack_welcomes(&self, device: DeviceId, up_to: InboxSeq) -> Result<(), Error> {
        let id = device.as_bytes().as_slice();
        self.write(|tx| {
            let (first, next) = lock_queue(tx, "inbox_queues", device)?;
            let end = db(up_to.get().saturating_add(1)).min(next);
            if end > first {
                tx.execute("DELETE FROM inbox WHERE device = $1 AND position < $2", &[&id, &end])?;
                tx.execute("UPDATE inbox_queues SET first = $2 WHERE device = $1", &[&id, &end])?;
            }
            Ok(())
        })
    }

    fn create_group(&self, group: GroupId, verifier: EpochVerifier, retention: LogRetention) -> Result<bool, Error> {
        let id = group.as_bytes().as_slice();
        self.write(|tx| {
            let created = tx.execute(
                "INSERT INTO groups (id, epoch, next_seq, next_content, expiring) VALUES ($1, 0, 0, 0, $2)
                 ON CONFLICT DO NOTHING",
                &[&id, &(retention == LogRetention::Expire)],
            )?;
            if created == 0 {
                let first = tx.query_opt("SELECT verifier FROM verifiers WHERE group_id = $1 AND epoch = 0", &[&id])?;
                return match first {
                    Some(row) if row.col::<&[u8]>(0)? == verifier.as_bytes().as_slice() => Ok(false),
                    _ => refuse(RelayError::Conflict),
                };
            }
            tx.execute(
                "INSERT INTO verifiers (group_id, epoch, verifier, first_seq) VALUES ($1, 0, $2, 0)",
                &[&id, &verifier.as_bytes().as_slice()],
            )?;
            Ok(true)
        })
    }

    fn check_access(&self, group: GroupId, epoch: Epoch, token: &AccessToken) -> Result<GroupPosition, Error> {
        self.read(|client| {
            let row = client.query_opt(
                "SELECT v.verifier, g.epoch, g.next_seq, g.expiring FROM groups g
                 LEFT JOIN verifiers v ON v.group_id = g.id AND v.epoch = $2 WHERE g.id = $1",
                &[&group.as_bytes().as_slice(), &db(epoch.get())],
            )?;
            let verifier = match &row {
                Some(row) => row.col::<Option<Vec<u8>>>(0)?,
                None => None,
            };
            let stored: Option<[u8; 32]> = verifier.and_then(|bytes| bytes.as_slice().try_into().ok());
            // Hash the token whether or not the group and epoch exist, so that the time
            // taken does not tell a non-member which groups exist.
            let compared = EpochVerifier::from_bytes(stored.unwrap_or([0; 32])).admits(token);
            let (Some(row), true, true) = (row, stored.is_some(), compared) else {
                return refuse(RelayError::Forbidden);
            };
            Ok(GroupPosition {
                epoch: Epoch::new(num(row.col(1)?, "group epoch")?).map_err(|_| corrupt("group epoch"))?,
                next_seq: Seq::new(num(row.col(2)?, "group sequence")?).map_err(|_| corrupt("group sequence"))?,
                expiring: row.col(3)?,
            })
        })
    }

    fn append(
        &self,
        group: GroupId,
        epoch: Epoch,
        message: &MlsMessageBytes,
        expires_at: UnixSeconds,
    ) -> Result<(Seq, bool), Error> {
        let id = group.as_bytes().as_slice();
        let digest: [u8; 32] = Sha256::digest(message.as_bytes()).into();
        let deadline = db(expires_at.get());
        let mut connection = self.pool.get()?;
        let mut attempt = 0;
        // One statement, committed on its own: one round trip for the hot path.
        let row = loop {
            attempt += 1;
            let outcome = connection.prepared(APPEND).and_then(|statement| {
                connection
                    .query_opt(&statement, &[&id, &db(epoch.get()), &digest.as_slice(), &message.as_bytes(), &deadline])
            });
            match outcome {
                Ok(row) => break row,
                Err(error) if retryable(&error) && attempt < ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(u64::from(attempt) * 5));
                }
                Err(error) => return Err(storage(error)),
            }
        };
        let Some(row) = row else { return Err(Error::Refused(RelayError::Forbidden)) };
        let (current, next_seq): (i64, i64) = (row.col(0)?, row.col(1)?);
        let (resent, added): (Option<i64>, Option<i64>) = (row.col(2)?, row.col(3)?);
        let (seq, wrote) = match (resent, added) {
            (Some(seq), _) => (seq, false),
            (None, Some(seq)) => (seq, true),
            (None, None) if current != db(epoch.get()) => return Err(Error::Refused(stale(current, next_seq))),
            (None, None) => return Err(Error::Corrupt("an append neither stored nor found")),
        };
        Ok((Seq::new(num(seq, "sequence number")?).map_err(|_| Error::Corrupt("sequence number"))?, wrote))
    }

    fn expire_messages(&self, now: UnixSeconds, limit: usize) -> Result<usize, Error> {
        self.write(|tx| {
            let deleted = tx.execute(
                "DELETE FROM log WHERE (group_id, seq) IN (
                     SELECT group_id, seq FROM log WHERE expires_at <= $1 AND kind = 1 ORDER BY expires_at LIMIT $2
                 )",
                &[&db(now.get()), &db(limit as u64)],
            )?;
            Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
        })
    }

    fn expire_uploads(&self, stalled_before: UnixSeconds, limit: usize) -> Result<usize, Error> {
        self.write(|tx| {
            let stale = tx.query(
                // The conditions again outside: an upload that made progress (or was
                // completed) after the inner scan's snapshot is rechecked and kept.
                "DELETE FROM chunks WHERE (group_id, chunk) IN (
                     SELECT group_id, chunk FROM chunks WHERE NOT verified AND progressed < $1 LIMIT $2
                     FOR UPDATE SKIP LOCKED
                 ) AND NOT verified AND progressed < $1 RETURNING group_id, chunk",
                &[&db(stalled_before.get()), &db(limit as u64)],
            )?;
            for row in &stale {
                let (group, chunk): (&[u8], &[u8]) = (row.col(0)?, row.col(1)?);
                tx.execute("DELETE FROM chunk_pieces WHERE group_id = $1 AND chunk = $2", &[&group, &chunk])?;
            }
            Ok(stale.len())
        })
    }

    fn commit(
        &self,
        group: GroupId,
        epoch: Epoch,
        commit: &MlsMessageBytes,
        next_verifier: EpochVerifier,
    ) -> Result<(Seq, Epoch), Error> {
        let Some(next_epoch) = epoch.next() else { return Err(Error::Refused(RelayError::BadRequest)) };
        let id = group.as_bytes().as_slice();
        let digest: [u8; 32] = Sha256::digest(commit.as_bytes()).into();
        let seq = self
            .write(|tx| {
                let Some(row) = lock_group(tx, group)? else { return refuse(RelayError::Forbidden) };
                if row.epoch != db(epoch.get()) {
                    return refuse(stale(row.epoch, row.next_seq));
                }
                tx.execute(
                    "INSERT INTO log (group_id, seq, epoch, kind, message, digest) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&id, &row.next_seq, &row.epoch, &KIND_COMMIT, &commit.as_bytes(), &digest.as_slice()],
                )?;
                // The primary key (group, epoch) holds one verifier per epoch: a second
                // commit closing this epoch could not be stored even without the lock.
                tx.execute(
                    "INSERT INTO verifiers (group_id, epoch, verifier, first_seq) VALUES ($1, $2, $3, $4)",
                    &[&id, &db(next_epoch.get()), &next_verifier.as_bytes().as_slice(), &(row.next_seq + 1)],
                )?;
                tx.execute("UPDATE groups SET epoch = epoch + 1, next_seq = next_seq + 1 WHERE id = $1", &[&id])?;
                Ok(row.next_seq)
            })
            .map_err(|error| match error {
                Error::Storage(text) if text.contains("constraint verifiers_pkey") => {
                    Error::Refused(RelayError::StaleEpoch { current: next_epoch, next_seq: Seq::MAX })
                }
                other => other,
            })?;
        Ok((Seq::new(num(seq, "sequence number")?).map_err(|_| Error::Corrupt("sequence number"))?, next_epoch))
    }

    fn fetch_log(
        &self,
        group: GroupId,
        epoch: Epoch,
        from: Seq,
        limit: usize,
        byte_budget: usize,
    ) -> Result<LogPage, Error> {
        let id = group.as_bytes().as_slice();
        let e = db(epoch.get());
        self.read(|client| {
            // One snapshot for the group's row, its epoch's bounds and its entries.
            let mut tx = client.build_transaction().read_only(true).isolation_level(postgres::IsolationLevel::RepeatableRead).start()?;
            let Some(group_row) = tx.query_opt("SELECT epoch, next_seq FROM groups WHERE id = $1", &[&id])? else {
                return refuse(RelayError::Forbidden);
            };
            let (current, next_seq): (i64, i64) = (group_row.col(0)?, group_row.col(1)?);
            let bounds = tx.query(
                "SELECT epoch, first_seq FROM verifiers WHERE group_id = $1 AND epoch IN ($2::bigint, $2::bigint + 1) ORDER BY epoch",
                &[&id, &e],
            )?;
            let mut epochs = Vec::with_capacity(bounds.len());
            for row in &bounds {
                epochs.push((row.col::<i64>(0)?, row.col::<i64>(1)?));
            }
            let Some(&(_, first)) = epochs.first().filter(|(epoch, _)| *epoch == e) else {
                return refuse(RelayError::Forbidden);
            };
            let start = db(from.get()).max(first);
            // The epoch ends where the next one starts: the scan stops there, rather than
            // walk the later epochs' entries.
            let epoch_end = if e < current { epochs.get(1).map_or(next_seq, |&(_, start)| start) } else { next_seq };
            // Sizes first, then only the entries the page takes: a page never loads
            // more than its budget, however large the entries after it are.
            let sizes = tx.query(
                "SELECT seq, kind, octet_length(message) FROM log
                 WHERE group_id = $1 AND epoch = $2 AND seq >= $3 AND seq < $5
                 ORDER BY seq LIMIT $4",
                &[&id, &e, &start, &db(limit as u64 + 1), &epoch_end],
            )?;
            // A commit ends the page: nothing after it belongs to this epoch.
            let mut until_commit = sizes.len();
            for (n, row) in sizes.iter().enumerate() {
                if row.col::<i16>(1)? == KIND_COMMIT {
                    until_commit = n + 1;
                    break;
                }
            }
            let mut costs = Vec::with_capacity(until_commit);
            for row in &sizes[..until_commit] {
                let (seq, len) = (num(row.col(0)?, "log key")?, num(i64::from(row.col::<i32>(2)?), "log entry")?);
                costs.push(varint_len(seq) + 1 + varint_len(len) + len as usize);
            }
            let (taken, stopped_early) = fits(costs, limit, byte_budget);
            let rows = match (sizes.first(), taken) {
                (Some(first), 1..) => tx.query(
                    "SELECT seq, kind, message FROM log WHERE group_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
                    &[&id, &first.col::<i64>(0)?, &sizes[taken - 1].col::<i64>(0)?],
                )?,
                _ => Vec::new(),
            };
            tx.commit()?;
            let mut entries = Vec::with_capacity(rows.len());
            let mut closed = false;
            for row in rows {
                let seq = num(row.col(0)?, "log key")?;
                let kind = match row.col::<i16>(1)? {
                    KIND_MESSAGE => EntryKind::Message,
                    KIND_COMMIT => EntryKind::Commit,
                    _ => return Err(corrupt("log entry")),
                };
                let message = MlsMessageBytes::new(row.col::<Vec<u8>>(2)?).map_err(|_| corrupt("stored message"))?;
                entries.push(LogEntry { seq: Seq::new(seq).map_err(|_| corrupt("log key"))?, kind, message });
                closed |= kind == EntryKind::Commit;
            }
            // An empty page's `next` never points past the epoch's end.
            let next = match entries.last() {
                Some(entry) => entry.seq.get() + 1,
                None => num(start.min(epoch_end), "sequence number")?,
            };
            let next = Seq::new(next).map_err(|_| corrupt("sequence number"))?;
            let end = if closed || (entries.is_empty() && e < current) {
                LogPageEnd::EpochClosed
            } else if stopped_early || e < current {
                LogPageEnd::More
            } else {
                LogPageEnd::UpToDate
            };
            let entries = BoundedVec::new(entries).map_err(|_| corrupt("log page"))?;
            Ok(LogPage { entries, next, end })
        })
    }

    fn put_content(
        &self,
        group: GroupId,
        epoch: Epoch,
        record: ContentId,
        sealed: &ContentRecordBytes,
    ) -> Result<(ContentSeq, bool), Error> {
        let id = group.as_bytes().as_slice();
        let (seq, wrote) = self.write(|tx| {
            // Locked: a member removed by a concurrent commit cannot slip a record in
            // after it.
            let Some(row) = lock_group(tx, group)? else { return refuse(RelayError::Forbidden) };
            if row.epoch != db(epoch.get()) {
                return refuse(stale(row.epoch, row.next_seq));
            }
            let existing = tx.query_opt(
                "SELECT seq, sealed FROM content WHERE group_id = $1 AND record = $2",
                &[&id, &record.as_bytes().as_slice()],
            )?;
            if let Some(existing) = existing {
                // A record forgotten since is a resend's too: its bytes are gone.
                let held = existing.col::<&[u8]>(1)?;
                return if held == sealed.as_bytes()
                    || read_tombstone(&group, &record, held).is_some_and(|key| key.is_ok())
                {
                    Ok((existing.col::<i64>(0)?, false))
                } else {
                    refuse(RelayError::Conflict)
                };
            }
            tx.execute(
                "INSERT INTO content (group_id, seq, record, sealed) VALUES ($1, $2, $3, $4)",
                &[&id, &row.next_content, &record.as_bytes().as_slice(), &sealed.as_bytes()],
            )?;
            tx.execute("UPDATE groups SET next_content = next_content + 1 WHERE id = $1", &[&id])?;
            Ok((row.next_content, true))
        })?;
        Ok((ContentSeq::new(num(seq, "content sequence")?).map_err(|_| Error::Corrupt("content sequence"))?, wrote))
    }

    fn forget_content(
        &self,
        group: GroupId,
        epoch: Epoch,
        record: ContentId,
        key: &ForgetKey,
    ) -> Result<(ContentSeq, u64), Error> {
        if key.record(&group) != record {
            return Err(Error::Refused(RelayError::BadRequest));
        }
        let id = group.as_bytes().as_slice();
        let tomb = tombstone(key);
        let (seq, freed) = self.write(|tx| {
            let Some(row) = lock_group(tx, group)? else { return refuse(RelayError::Forbidden) };
            if row.epoch != db(epoch.get()) {
                return refuse(stale(row.epoch, row.next_seq));
            }
            let Some(existing) = tx.query_opt(
                "SELECT seq, octet_length(sealed) FROM content WHERE group_id = $1 AND record = $2",
                &[&id, &record.as_bytes().as_slice()],
            )?
            else {
                return refuse(RelayError::NotFound);
            };
            let seq = existing.col::<i64>(0)?;
            let held = u64::try_from(existing.col::<i32>(1)?).unwrap_or(0);
            let changed = tx.execute(
                "UPDATE content SET sealed = $3 WHERE group_id = $1 AND seq = $2 AND sealed <> $3",
                &[&id, &seq, &tomb.as_bytes()],
            )?;
            let freed = if changed == 0 { 0 } else { held.saturating_sub(tomb.len() as u64) };
            Ok((seq, freed))
        })?;
        Ok((ContentSeq::new(num(seq, "content sequence")?).map_err(|_| Error::Corrupt("content sequence"))?, freed))
    }

    fn fetch_content(
        &self,
        group: GroupId,
        from: ContentSeq,
        limit: usize,
        byte_budget: usize,
    ) -> Result<ContentPage, Error> {
        self.read(|client| {
            let mut tx = client
                .build_transaction()
                .read_only(true)
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .start()?;
            let g = group.as_bytes().as_slice();
            let sizes = tx.query(
                "SELECT seq, octet_length(sealed) FROM content WHERE group_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
                &[&g, &db(from.get()), &db(limit as u64 + 1)],
            )?;
            // As sled counts it: the record id, the bytes, and 16 for the rest.
            let costs = sizes
                .iter()
                .map(|row| Ok(16 + usize::try_from(row.col::<i32>(1)?).unwrap_or(usize::MAX / 4) + 16))
                .collect::<Result<Vec<usize>, Error>>()?;
            let (taken, more) = fits(costs, limit, byte_budget);
            let rows = match (sizes.first(), taken) {
                (Some(first), 1..) => tx.query(
                    "SELECT seq, record, sealed FROM content WHERE group_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
                    &[&g, &first.col::<i64>(0)?, &sizes[taken - 1].col::<i64>(0)?],
                )?,
                _ => Vec::new(),
            };
            tx.commit()?;
            let mut records = Vec::with_capacity(rows.len());
            for row in rows {
                let seq = ContentSeq::new(num(row.col(0)?, "content key")?).map_err(|_| corrupt("content key"))?;
                let record = ContentId::from_bytes(bytes16(row.col::<&[u8]>(1)?, "content row")?);
                let sealed = ContentRecordBytes::new(row.col::<Vec<u8>>(2)?).map_err(|_| corrupt("content row"))?;
                records.push(ContentRecord { seq, record, sealed });
            }
            let records = BoundedVec::new(records).map_err(|_| corrupt("content page"))?;
            Ok(ContentPage { records, more })
        })
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
        let total = total_len.get();
        super::check_chunk_piece(total_len, offset, data, limits)?;
        let total = i32::try_from(total).map_err(|_| Error::Refused(RelayError::BadRequest))?;
        let start = i32::try_from(offset.get()).map_err(|_| Error::Refused(RelayError::BadRequest))?;
        let (g, c) = (group.as_bytes().as_slice(), chunk.as_bytes().as_slice());
        self.write(|tx| {
            let Some(group_row) = lock_group(tx, group)? else { return refuse(RelayError::Forbidden) };
            if group_row.epoch != db(epoch.get()) {
                return refuse(stale(group_row.epoch, group_row.next_seq));
            }
            let existing = tx.query_opt(
                "SELECT total, received, verified FROM chunks WHERE group_id = $1 AND chunk = $2 FOR UPDATE",
                &[&g, &c],
            )?;
            let unchanged = |total: i32, received: i32, verified: bool| -> Result<ChunkPut, Failure> {
                Ok(ChunkPut { status: chunk_status(total, received, verified)?, started: false, discarded: false })
            };
            if let Some(row) = &existing {
                let (had_total, received, verified): (i32, i32, bool) = (row.col(0)?, row.col(1)?, row.col(2)?);
                if had_total != total {
                    return refuse(RelayError::BadRequest);
                }
                if verified || start != received {
                    return unchanged(had_total, received, verified);
                }
            } else if start != 0 {
                return unchanged(total, 0, false);
            }
            let started = existing.is_none();
            let received = start + i32::try_from(data.len()).map_err(|_| Failure::Store(Error::Refused(RelayError::BadRequest)))?;
            if !data.is_empty() {
                tx.execute(
                    "INSERT INTO chunk_pieces (group_id, chunk, start, piece) VALUES ($1, $2, $3, $4)",
                    &[&g, &c, &start, &data.as_bytes()],
                )?;
            }
            tx.execute(
                "INSERT INTO chunks (group_id, chunk, total, received, verified, progressed)
                 VALUES ($1, $2, $3, $4, false, $5)
                 ON CONFLICT (group_id, chunk) DO UPDATE SET received = excluded.received, progressed = excluded.progressed",
                &[&g, &c, &total, &received, &progress_stamp()],
            )?;
            if received == total {
                // Checked in the same transaction: a chunk is never complete and unchecked.
                if !verify_chunk(tx, group, chunk, total)? {
                    let status = ChunkStatus { total_len, received: ChunkOffset::ZERO };
                    return Ok(ChunkPut { status, started, discarded: true });
                }
                return Ok(ChunkPut { status: chunk_status(total, total, true)?, started, discarded: false });
            }
            Ok(ChunkPut { status: chunk_status(total, received, false)?, started, discarded: false })
        })
    }

    fn chunk_status(&self, group: GroupId, chunk: ChunkRef) -> Result<ChunkStatus, Error> {
        let (g, c) = (group.as_bytes().as_slice(), chunk.as_bytes().as_slice());
        self.write(|tx| {
            let row = tx
                .query_opt(
                    "SELECT total, received, verified FROM chunks WHERE group_id = $1 AND chunk = $2 FOR UPDATE",
                    &[&g, &c],
                )?
                .ok_or(Failure::Store(Error::Refused(RelayError::NotFound)))?;
            let (total, received, verified): (i32, i32, bool) = (row.col(0)?, row.col(1)?, row.col(2)?);
            if received == total && !verified {
                // Received whole but never checked (a store moved from sled after a
                // crash there): checked now, kept or gone, as sled does.
                return if verify_chunk(tx, group, chunk, total)? {
                    Ok(chunk_status(total, total, true)?)
                } else {
                    refuse(RelayError::NotFound)
                };
            }
            Ok(chunk_status(total, received, verified)?)
        })
    }

    fn read_chunk(
        &self,
        group: GroupId,
        chunk: ChunkRef,
        offset: ChunkOffset,
        max_len: usize,
    ) -> Result<ChunkData, Error> {
        let (g, c) = (group.as_bytes().as_slice(), chunk.as_bytes().as_slice());
        self.read(|client| {
            let row = client
                .query_opt("SELECT total, verified FROM chunks WHERE group_id = $1 AND chunk = $2", &[&g, &c])?
                .ok_or(Failure::Store(Error::Refused(RelayError::NotFound)))?;
            let (total, verified): (i32, bool) = (row.col(0)?, row.col(1)?);
            if !verified {
                return refuse(RelayError::NotFound);
            }
            let total = u32::try_from(total).map_err(|_| corrupt("chunk length"))?;
            let start = offset.get();
            if start > total {
                return refuse(RelayError::BadRequest);
            }
            let end = u64::from(start).saturating_add(max_len as u64).min(u64::from(total)) as u32;
            let (from, to) = (i32::try_from(start).unwrap_or(i32::MAX), i32::try_from(end).unwrap_or(i32::MAX));
            // The pieces that overlap [start, end): the one holding `start`, and those after.
            let rows = client.query(
                "SELECT start, piece FROM chunk_pieces WHERE group_id = $1 AND chunk = $2
                 AND start < $4 AND start + octet_length(piece) > $3 ORDER BY start",
                &[&g, &c, &from, &to],
            )?;
            let mut data = Vec::with_capacity((end - start) as usize);
            for row in rows {
                let piece_start = u32::try_from(row.col::<i32>(0)?).map_err(|_| corrupt("chunk piece key"))?;
                let bytes: &[u8] = row.col(1)?;
                let piece_end = u32::try_from(bytes.len())
                    .ok()
                    .and_then(|n| piece_start.checked_add(n))
                    .ok_or(corrupt("chunk piece"))?;
                let (take_from, take_to) = (start.max(piece_start), end.min(piece_end));
                if take_from < take_to {
                    let slice = bytes
                        .get((take_from - piece_start) as usize..(take_to - piece_start) as usize)
                        .ok_or(corrupt("chunk piece"))?;
                    data.extend_from_slice(slice);
                }
            }
            Ok(ChunkData {
                total_len: ChunkOffset::new(total).map_err(|_| corrupt("chunk length"))?,
                offset,
                data: ChunkPiece::new(data).map_err(|_| corrupt("chunk piece"))?,
            })
        })
    }

    fn identity(&self) -> Result<Option<StoreIdentity>, Error> {
        self.read(|client| {
            let Some(row) = client.query_opt("SELECT value FROM meta WHERE name = 'identity'", &[])? else {
                return Ok(None);
            };
            let value: &[u8] = row.col(0)?;
            let store_id = value.get(..16).and_then(|b| b.try_into().ok()).ok_or(corrupt("store identity"))?;
            let relay_pin = value.get(16..48).and_then(|b| b.try_into().ok()).ok_or(corrupt("store identity"))?;
            Ok(Some(StoreIdentity { store_id, relay_pin }))
        })
    }

    fn take_claims(&self, account: AccountId, count: u32, per_second: f64, burst: f64) -> Result<ClaimBudget, Error> {
        let count = f64::from(count);
        if count > burst {
            return Ok(ClaimBudget::Exhausted { retry_after: Duration::from_secs(3600) });
        }
        // One statement: the bucket refilled by the database's clock (the same for
        // every process), then taken from only if it holds enough. No row back: not
        // enough, and the second statement says when there will be.
        self.write(|tx| {
            let taken = tx.query_opt(
                "INSERT INTO claim_budgets AS b (account, tokens, at)
                 VALUES ($1, $3::float8 - $2::float8, extract(epoch FROM clock_timestamp())::float8)
                 ON CONFLICT (account) DO UPDATE
                    SET tokens = least($3::float8,
                            b.tokens + (extract(epoch FROM clock_timestamp())::float8 - b.at) * $4::float8) - $2::float8,
                        at = extract(epoch FROM clock_timestamp())::float8
                  WHERE least($3::float8,
                            b.tokens + (extract(epoch FROM clock_timestamp())::float8 - b.at) * $4::float8) >= $2::float8
                 RETURNING tokens",
                &[&account.as_bytes().as_slice(), &count, &burst, &per_second],
            )?;
            if taken.is_some() {
                return Ok(ClaimBudget::Taken);
            }
            let available: f64 = tx
                .query_one(
                    "SELECT least($2::float8, tokens + (extract(epoch FROM clock_timestamp())::float8 - at) * $3::float8)
                       FROM claim_budgets WHERE account = $1",
                    &[&account.as_bytes().as_slice(), &burst, &per_second],
                )?
                .col(0)?;
            let wait = ((count - available).max(0.0) / per_second.max(f64::MIN_POSITIVE)).min(86_400.0);
            Ok(ClaimBudget::Exhausted { retry_after: Duration::from_secs_f64(wait) })
        })
    }

    fn set_identity(&self, identity: StoreIdentity) -> Result<(), Error> {
        let value = [identity.store_id.as_slice(), identity.relay_pin.as_slice()].concat();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta (name, value) VALUES ('identity', $1)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[&value],
            )?;
            Ok(())
        })
    }

    fn census(&self) -> Result<Census, Error> {
        self.read(|client| {
            // One snapshot, so that the counts and the digest describe one moment.
            let mut tx = client
                .build_transaction()
                .read_only(true)
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .start()?;
            let mut counts = Counts::default();
            let mut digest = Sha256::new();
            // Each row as it arrives, into the digest, with `also` for what it counts.
            let mut rows = |tx: &mut Transaction<'_>,
                            name: &str,
                            query: &str,
                            also: &mut dyn FnMut(&Row) -> Result<(), Error>|
             -> Result<u64, Error> {
                digest.update(name.as_bytes());
                let mut n = 0u64;
                stream(tx, query, &mut |row| {
                    for column in 0..row.len() {
                        let part: Vec<u8> = match row.columns()[column].type_().name() {
                            "bytea" => row.col::<Vec<u8>>(column)?,
                            "int8" => row.col::<Option<i64>>(column)?.map_or(vec![0xff], |n| n.to_be_bytes().to_vec()),
                            "int4" => row.col::<i32>(column)?.to_be_bytes().to_vec(),
                            "bool" => vec![u8::from(row.col::<bool>(column)?)],
                            _ => return Err(Error::Corrupt("census column")),
                        };
                        digest.update((part.len() as u64).to_be_bytes());
                        digest.update(&part);
                    }
                    n += 1;
                    also(row)
                })?;
                Ok(n)
            };
            let nothing = &mut |_: &Row| Ok(());
            counts.accounts = rows(
                &mut tx,
                "accounts",
                "SELECT id, usage, devices, disabled, quota FROM accounts ORDER BY id",
                nothing,
            )?;
            counts.devices = rows(
                &mut tx,
                "devices",
                "SELECT id, account, key, registered_at, revoked FROM devices ORDER BY id",
                nothing,
            )?;
            let (mut log_entries, mut content_records) = (0u64, 0u64);
            counts.groups = rows(
                &mut tx,
                "groups",
                "SELECT id, epoch, next_seq, next_content, expiring FROM groups ORDER BY id",
                &mut |group| {
                    log_entries = log_entries.saturating_add(num(group.col(2)?, "group row")?);
                    content_records = content_records.saturating_add(num(group.col(3)?, "group row")?);
                    Ok(())
                },
            )?;
            (counts.log_entries, counts.content_records) = (log_entries, content_records);
            tx.commit()?;
            Ok(Census { counts, digest: digest.finalize().into() })
        })
    }

    fn size_on_disk(&self) -> u64 {
        self.read(|client| Ok(client.query_one("SELECT pg_database_size(current_database())", &[])?.col::<i64>(0)?))
            .ok()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0)
    }

    fn backup_to(&self, _to: &std::path::Path) -> Result<BackupCopy, Error> {
        Err(Error::Config(
            "a relay on PostgreSQL is backed up with the database's own tools: pg_dump (one consistent snapshot), \
             or continuous archiving; see docs/operators.md. `admin backup` copies a sled store."
                .into(),
        ))
    }

    fn inactive_devices(&self, devices: &[DeviceId]) -> Result<Vec<DeviceId>, Error> {
        let ids: Vec<&[u8]> = devices.iter().map(|device| device.as_bytes().as_slice()).collect();
        self.read(|client| {
            // The active ones in one query; the rest (revoked, unknown, disabled) close.
            let rows = client.query(
                "SELECT d.id FROM devices d JOIN accounts a ON a.id = d.account
                 WHERE d.id = ANY($1) AND NOT d.revoked AND NOT a.disabled",
                &[&ids],
            )?;
            let active =
                rows.iter().map(|row| row.col::<Vec<u8>>(0)).collect::<Result<std::collections::HashSet<_>, _>>()?;
            Ok(devices.iter().copied().filter(|device| !active.contains(device.as_bytes().as_slice())).collect())
        })
    }

    fn flush(&self) -> Result<(), Error> {
        // Every transaction was committed, hence written to the WAL, before it returned.
        Ok(())
    }
}

/// Scratch schemas on a test PostgreSQL server, for this crate's tests and the relay's
/// integration tests (feature `conformance`).
#[cfg(any(test, feature = "conformance"))]
pub mod scratch {
    use super::{Error, PostgresStore, storage};

    /// The variable naming the test server (a libpq connection string); the test
    /// scripts start one and set it (`scripts/postgres.sh`).
    pub const SERVER_VAR: &str = "HUISCLOS_TEST_POSTGRES";
    /// Set by the test command: without a server, PostgreSQL tests fail instead of
    /// being skipped.
    pub const REQUIRED_VAR: &str = "HUISCLOS_REQUIRE_POSTGRES";

    /// The test server's connection string, or `None` when there is none and none is
    /// required (the test then says it was skipped).
    ///
    /// # Panics
    /// When [`REQUIRED_VAR`] is set and [`SERVER_VAR`] is not.
    #[allow(clippy::panic)]
    pub fn server() -> Option<String> {
        match std::env::var(SERVER_VAR) {
            Ok(url) if !url.is_empty() => Some(url),
            _ if std::env::var_os(REQUIRED_VAR).is_some() => {
                panic!("{REQUIRED_VAR} is set but {SERVER_VAR} is not: start one with scripts/postgres.sh")
            }
            _ => {
                eprintln!("skipped: no PostgreSQL server ({SERVER_VAR} is not set; scripts/postgres.sh starts one)");
                None
            }
        }
    }

    /// A new empty schema on `server`, and a connection string whose sessions use it:
    /// each test has a store of its own on one server.
    ///
    /// # Errors
    /// Database failures.
    pub fn schema(server: &str) -> Result<String, Error> {
        let mut name = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut name);
        let name = format!("t_{}", hex::encode(name));
        let mut client =
            server.parse::<postgres::Config>().map_err(storage)?.connect(postgres::NoTls).map_err(storage)?;
        client.batch_execute(&format!("CREATE SCHEMA {name}")).map_err(storage)?;
        Ok(url(server, &name, ""))
    }

    /// A connection string for `server` whose sessions use `schema`, with more server
    /// settings (`-c name=value`) in `settings`.
    pub fn url(server: &str, schema: &str, settings: &str) -> String {
        format!("{server} options='-c search_path={schema} {settings}'")
    }

    /// A new store in a schema of its own on the test server, or `None` (skipped).
    ///
    /// # Errors
    /// Database failures.
    pub fn store() -> Result<Option<(PostgresStore, String)>, Error> {
        let Some(server) = server() else { return Ok(None) };
        let url = schema(&server)?;
        Ok(Some((PostgresStore::open(&url)?, url)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use huisclos_protocol::access::AccessToken;
    use proptest::prelude::*;

    use super::*;
    use crate::store::conformance::{self, op};

    fn limits() -> StoreLimits {
        StoreLimits {
            key_packages_per_device: 8,
            welcomes_per_device: 8,
            devices_per_account: 4,
            quota_bytes: 1 << 20,
            max_chunk_len: 1 << 20,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The conformance suite every store passes ([`conformance`]), on PostgreSQL.
        #[test]
        fn the_store_follows_the_model(ops in proptest::collection::vec(op(), 1..60)) {
            let Some((store, _)) = scratch::store().unwrap() else { return Ok(()) };
            conformance::follows_the_model(&store, &ops)?;
        }
    }

    /// A store with one account of two devices, one group, and something in every
    /// table: the rows an at-rest scan looks through.
    fn populated(store: &PostgresStore) -> (AccountId, [DeviceId; 2], GroupId) {
        let limits = limits();
        let now = UnixSeconds::new(1_000).unwrap();
        let far = UnixSeconds::new(1 << 40).unwrap();
        store.add_invitation([7; 32], far).unwrap();
        let first = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let second = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        let key = |k: &ed25519_dalek::SigningKey| DevicePublicKey::from_bytes(k.verifying_key().to_bytes()).unwrap();
        let account = store.create_account([7; 32], &key(&first), now, &limits).unwrap();
        let one = key(&first).device_id();
        let two = store.add_device(account, one, &key(&second), now, &limits).unwrap();
        store.reserve_quota(account, 4096, limits.quota_bytes).unwrap();
        let package = KeyPackageBytes::new(vec![9; 40]).unwrap();
        store.upload_key_packages(two, std::slice::from_ref(&package), Some(&package), &limits).unwrap();
        store.deposit_welcome(&[two], &WelcomeBytes::new(vec![8; 40]).unwrap(), &limits).unwrap();
        let group = GroupId::from_bytes([0x5a; 16]);
        let token = AccessToken::from_bytes([4; 32]);
        store.create_group(group, token.verifier(), LogRetention::Expire).unwrap();
        store.append(group, Epoch::ZERO, &MlsMessageBytes::new(vec![1; 30]).unwrap(), far).unwrap();
        store.commit(group, Epoch::ZERO, &MlsMessageBytes::new(vec![2; 30]).unwrap(), token.verifier()).unwrap();
        let epoch = Epoch::new(1).unwrap();
        store
            .put_content(group, epoch, ContentId::from_bytes([3; 16]), &ContentRecordBytes::new(vec![3; 50]).unwrap())
            .unwrap();
        let data = vec![6u8; 100];
        let chunk = ChunkRef::from_bytes(Sha256::digest(&data).into());
        let piece = ChunkPiece::new(data).unwrap();
        let total = ChunkOffset::new(100).unwrap();
        store.put_chunk(group, epoch, chunk, total, ChunkOffset::ZERO, &piece, &limits).unwrap();
        (account, [one, two], group)
    }

    /// The at-rest promise on PostgreSQL: no table, no index and no constraint holds an
    /// account or device beside a group, read from the catalogue and from every row.
    #[test]
    fn no_table_or_index_links_an_account_to_a_group() {
        let Some((store, url)) = scratch::store().unwrap() else { return };
        let (account, devices, group) = populated(&store);
        let mut client = url.parse::<postgres::Config>().unwrap().connect(NoTls).unwrap();
        let schema: String = client.query_one("SELECT current_schema()", &[]).unwrap().get(0);

        // Every table of the schema is one the store knows, and each is scanned.
        let tables: Vec<String> = client
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                &[&schema],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut known: Vec<String> = TABLES.iter().chain(&STATE_TABLES).map(|t| (*t).to_string()).collect();
        known.sort();
        assert_eq!(tables, known, "a table the scan does not know");
        let group_hex = hex::encode(group.as_bytes());
        let people: Vec<String> = std::iter::once(hex::encode(account.as_bytes()))
            .chain(devices.iter().map(|d| hex::encode(d.as_bytes())))
            .collect();
        let mut rows_seen = 0;
        let mut group_rows = 0;
        for table in &tables {
            for row in client.query(&format!("SELECT t::text FROM {table} t"), &[]).unwrap() {
                let text: String = row.get(0);
                rows_seen += 1;
                let names_group = text.contains(&group_hex);
                group_rows += usize::from(names_group);
                let names_someone = people.iter().any(|p| text.contains(p.as_str()));
                assert!(!(names_group && names_someone), "{table} holds a group beside an account or device: {text}");
            }
        }
        assert!(
            rows_seen > 15 && group_rows >= 6,
            "the scan read too little: {rows_seen} rows, {group_rows} of the group"
        );

        // No index or constraint spans the two, and no foreign key ties tables at all.
        let group_columns = ["group_id"];
        let people_columns = ["account", "device"];
        for row in client
            .query(
                "SELECT c.relname::text, array_agg(a.attname::text) FROM pg_index i
                 JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                 WHERE n.nspname = $1 GROUP BY c.relname",
                &[&schema],
            )
            .unwrap()
        {
            let (index, columns): (String, Vec<String>) = (row.get(0), row.get(1));
            let grouped = columns.iter().any(|c| group_columns.contains(&c.as_str()));
            let personal = columns.iter().any(|c| people_columns.contains(&c.as_str()));
            assert!(!(grouped && personal), "index {index} spans a group and a person: {columns:?}");
        }
        for table in &tables {
            let columns: Vec<String> = client
                .query(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
                    &[&schema, table],
                )
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            let grouped = columns.iter().any(|c| group_columns.contains(&c.as_str()));
            let personal = columns.iter().any(|c| people_columns.contains(&c.as_str()));
            assert!(!(grouped && personal), "table {table} has a group and a person column: {columns:?}");
        }
        let foreign: i64 = client
            .query_one(
                "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = $1 AND constraint_type = 'FOREIGN KEY'",
                &[&schema],
            )
            .unwrap()
            .get(0);
        assert_eq!(foreign, 0, "a foreign key");
        let views: i64 = client
            .query_one("SELECT count(*) FROM information_schema.views WHERE table_schema = $1", &[&schema])
            .unwrap()
            .get(0);
        assert_eq!(views, 0, "a view");
    }

    /// Two stores on one database (as two relay processes): commits racing for one
    /// epoch have exactly one winner, appends racing in one group take dense numbers,
    /// and quota reservations racing for one account never pass its quota.
    #[test]
    fn two_processes_on_one_database_keep_the_order_and_the_quota() {
        let Some((first, url)) = scratch::store().unwrap() else { return };
        let second = PostgresStore::open(&url).unwrap();
        let stores = [Arc::new(first), Arc::new(second)];
        let group = GroupId::from_bytes([1; 16]);
        let token = AccessToken::from_bytes([4; 32]);
        stores[0].create_group(group, token.verifier(), LogRetention::Keep).unwrap();
        assert!(!stores[1].create_group(group, token.verifier(), LogRetention::Keep).unwrap(), "a resend");
        let far = UnixSeconds::new(1 << 40).unwrap();
        for round in 0u64..5 {
            let epoch = Epoch::new(round).unwrap();
            let threads: Vec<_> = (0..8u8)
                .map(|n| {
                    let store = stores[usize::from(n % 2)].clone();
                    let verifier = token.verifier();
                    std::thread::spawn(move || {
                        let mut appended = Vec::new();
                        for m in 0..5u8 {
                            let message = MlsMessageBytes::new(vec![n, m, round as u8, 0, 0, 0, 0, 0]).unwrap();
                            match store.append(group, epoch, &message, far) {
                                Ok((seq, _)) => appended.push(seq.get()),
                                // Another thread's commit closed the epoch first.
                                Err(Error::Refused(RelayError::StaleEpoch { .. })) => break,
                                Err(other) => panic!("an append failed: {other}"),
                            }
                        }
                        let commit = MlsMessageBytes::new(vec![0xc0, n, round as u8, 1, 1, 1, 1, 1]).unwrap();
                        (appended, store.commit(group, epoch, &commit, verifier))
                    })
                })
                .collect();
            let mut winners = 0;
            for thread in threads {
                let (_, committed) = thread.join().unwrap();
                match committed {
                    Ok(_) => winners += 1,
                    Err(Error::Refused(RelayError::StaleEpoch { .. })) => {}
                    Err(other) => panic!("a commit failed: {other}"),
                }
            }
            assert_eq!(winners, 1, "one commit closes epoch {round}");
        }
        // The log is dense, each epoch ends with exactly one commit, and both stores
        // read the same.
        let read = |store: &PostgresStore| {
            let mut all = Vec::new();
            for epoch in 0..=5u64 {
                let page = store.fetch_log(group, Epoch::new(epoch).unwrap(), Seq::ZERO, 1000, 1 << 24).unwrap();
                all.extend(page.entries.iter().map(|e| (e.seq.get(), e.kind, epoch)));
            }
            all
        };
        let log = read(&stores[0]);
        assert_eq!(log, read(&stores[1]));
        for (n, entry) in log.iter().enumerate() {
            assert_eq!(entry.0, n as u64, "dense");
        }
        assert_eq!(log.iter().filter(|e| e.1 == EntryKind::Commit).count(), 5);

        // Quota: 16 reservations of 100 racing against a quota of 1,000.
        let now = UnixSeconds::new(1_000).unwrap();
        stores[0].add_invitation([9; 32], far).unwrap();
        let key =
            DevicePublicKey::from_bytes(ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key().to_bytes())
                .unwrap();
        let account = stores[0].create_account([9; 32], &key, now, &limits()).unwrap();
        let threads: Vec<_> = (0..16)
            .map(|n| {
                let store = stores[n % 2].clone();
                std::thread::spawn(move || store.reserve_quota(account, 100, 1_000).is_ok())
            })
            .collect();
        let granted = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(granted, 10);
        assert_eq!(stores[1].usage(account).unwrap().get(), 1_000);
    }

    /// A database that would acknowledge commits a crash can undo is refused, and so is
    /// a schema newer than this release's.
    #[test]
    fn a_database_that_would_lose_acknowledged_writes_or_is_newer_is_refused() {
        let Some((store, url)) = scratch::store().unwrap() else { return };
        let server = scratch::server().unwrap();
        let schema = url.rsplit("search_path=").next().unwrap().split(' ').next().unwrap().to_string();
        let unsafe_url = scratch::url(&server, &schema, "-c synchronous_commit=off");
        let refused = PostgresStore::open(&unsafe_url).unwrap_err().to_string();
        assert!(refused.contains("synchronous_commit"), "{refused}");
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE meta SET value = $1 WHERE name = 'schema'",
                    &[&(SCHEMA_VERSION + 1).to_be_bytes().as_slice()],
                )?;
                Ok(())
            })
            .unwrap();
        let refused = PostgresStore::open(&url).unwrap_err().to_string();
        assert!(refused.contains("newer than this release"), "{refused}");
    }

    #[test]
    fn a_version_1_database_is_brought_up_to_date() {
        let Some((store, url)) = scratch::store().unwrap() else { return };
        store
            .write(|tx| {
                tx.batch_execute("DROP TABLE claim_budgets")?;
                tx.execute("UPDATE meta SET value = $1 WHERE name = 'schema'", &[&1i64.to_be_bytes().as_slice()])?;
                Ok(())
            })
            .unwrap();
        let upgraded = PostgresStore::open(&url).unwrap();
        let version: Vec<u8> = upgraded
            .read(|client| Ok(client.query_one("SELECT value FROM meta WHERE name = 'schema'", &[])?.col(0)?))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION.to_be_bytes());
        let account = AccountId::from_bytes([3; 16]);
        assert_eq!(upgraded.take_claims(account, 1, 1.0, 10.0).unwrap(), ClaimBudget::Taken);
    }

    #[test]
    fn an_accounts_claim_budget_is_one_for_every_process() {
        let Some((first, url)) = scratch::store().unwrap() else { return };
        let second = PostgresStore::open(&url).unwrap();
        let account = AccountId::from_bytes([5; 16]);
        // 100 per hour, 16 at once: two processes together give 16, not 32.
        let (rate, burst) = (100.0 / 3600.0, 16.0);
        let mut taken = 0;
        for round in 0..20 {
            let store = if round % 2 == 0 { &first } else { &second };
            match store.take_claims(account, 1, rate, burst).unwrap() {
                ClaimBudget::Taken => taken += 1,
                ClaimBudget::Exhausted { retry_after } => {
                    assert!(retry_after > Duration::from_secs(20) && retry_after <= Duration::from_secs(37));
                }
                ClaimBudget::KeptByRelay => panic!("a shared store keeps the budget"),
            }
        }
        assert_eq!(taken, 16, "one budget across both processes");
        // All or nothing, and every account its own.
        assert!(matches!(second.take_claims(account, 2, rate, burst).unwrap(), ClaimBudget::Exhausted { .. }));
        let other = AccountId::from_bytes([6; 16]);
        assert_eq!(first.take_claims(other, 16, rate, burst).unwrap(), ClaimBudget::Taken);
    }
}
