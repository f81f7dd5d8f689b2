//! The relay's rules, request by request (`protocol-spec/messages.md`), independent of
//! the transport that carried the request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use huisclos_protocol::access::InvitationToken;
use huisclos_protocol::auth::{
    AuthPurpose, ChallengeNonce, DeviceSignature, TlsExporter, verify_device_auth, verify_device_link,
};
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::ids::{AccountId, ByteCount, ChunkRef, DeviceId, GroupId, UnixSeconds};
use huisclos_protocol::invitation::{Invitation, RelayAddress};
use huisclos_protocol::limits::{MAX_CHUNK_PIECE_LEN, MAX_FRAME_PAYLOAD_LEN, MAX_INBOX_PAGE};
use huisclos_protocol::messages::*;
use rand_core::{OsRng, RngCore};
use tokio::sync::{Semaphore, watch};

use crate::Error;
use crate::config::PolicyLimits;
use crate::hub::{EventSink, Hub, StreamKey};
use crate::metrics::Metrics;
use crate::store::{
    AccountChange, AccountSettings, AccountSummary, ChunkPut, ClaimBudget, GroupPosition, PendingInvitation,
    RelayStore, StoreLimits,
};
use huisclos_transport::tls::SpkiPin;

/// Room left in a page's frame for the envelope around its entries.
const PAGE_ENVELOPE: usize = 64;

/// Pages whose answer is padded to a size class above this are ended at the class
/// below when more entries follow anyway (see [`entries_filling_class`]); smaller ones
/// are left whole, as the round trip for the rest would cost more than their padding.
const MIN_FILLED_CLASS: usize = 8 * 1024;

/// How many of a page's entries (their encoded sizes, in order) to keep so that the
/// answer, padded to its size class, is at least three quarters full: `None` to keep
/// them all. Asked only of a page after which more entries follow anyway, so ending
/// it earlier costs no extra round trip but for the last page; without it, a page of
/// records just past a class boundary (a power of two) would be padded to nearly
/// twice its size.
fn entries_filling_class(sizes: &[usize]) -> Option<usize> {
    entries_filling_class_beside(0, sizes)
}

/// As [`entries_filling_class`], for a page that shares its answer with `beside` bytes
/// of other answers (the earlier items of a `FetchMany`).
fn entries_filling_class_beside(beside: usize, sizes: &[usize]) -> Option<usize> {
    use huisclos_protocol::frame::Padding;
    // The answer's own bytes around its entries, generously: message and response
    // tags, request id, list length, the page's last fields.
    const AROUND: usize = 32;
    let around = AROUND + beside;
    let whole: usize = around + sizes.iter().sum::<usize>();
    let class = Padding::SizeClasses.frame_len(whole);
    let unpadded = huisclos_protocol::limits::FRAME_HEADER_LEN + whole;
    if class <= MIN_FILLED_CLASS || (class - unpadded) * 4 <= class {
        return None;
    }
    let lower = class / 2 - huisclos_protocol::limits::FRAME_HEADER_LEN;
    let mut used = around;
    let mut keep = 0;
    for size in sizes {
        if used + size > lower {
            break;
        }
        used += size;
        keep += 1;
    }
    (keep > 0 && keep < sizes.len()).then_some(keep)
}

/// Ends the last page of a `FetchMany` answer early, as a page read alone is (see
/// [`entries_filling_class`]), when more entries follow it anyway: the whole answer is
/// what is padded, so the earlier results count as the page's surroundings. Without
/// it, a content store read page after page in `FetchMany`s (one round trip a page,
/// the log read alongside) was padded to nearly twice the bytes of the same pages
/// read alone. `sizes` are the answered results' encoded sizes, in order; deferred
/// results follow the answered ones and weigh next to nothing.
fn end_last_page_filling_class(results: &mut [FetchResult], sizes: &[usize]) -> Result<(), Error> {
    let answered = sizes.len();
    let Some(last) = answered.checked_sub(1) else { return Ok(()) };
    let beside: usize = sizes[..last].iter().sum::<usize>() + 4 * results.len();
    match results.get_mut(last) {
        Some(FetchResult::Content(page)) if page.more => {
            let entry_sizes: Vec<usize> = page.records.iter().map(|r| Wire::to_wire(r).len()).collect();
            if let Some(keep) = entries_filling_class_beside(beside, &entry_sizes) {
                let records: Vec<_> = page.records.iter().take(keep).cloned().collect();
                page.records = BoundedVec::new(records).map_err(|_| Error::Corrupt("content page"))?;
            }
        }
        Some(FetchResult::Log(page)) if page.end == LogPageEnd::More => {
            let entry_sizes: Vec<usize> = page.entries.iter().map(|e| Wire::to_wire(e).len()).collect();
            if let Some(keep) = entries_filling_class_beside(beside, &entry_sizes) {
                let entries: Vec<_> = page.entries.iter().take(keep).cloned().collect();
                if let Some(end) = entries.last() {
                    page.next = end.seq.next().ok_or(Error::Corrupt("log page"))?;
                }
                page.entries = BoundedVec::new(entries).map_err(|_| Error::Corrupt("log page"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Below this many bytes left in a `FetchMany` answer, the remaining items are deferred
/// rather than read for a page that could hold nothing.
const MIN_FETCH_ROOM: usize = 1024;

/// Quota is reserved in the store in blocks of this size and spent in memory, so that
/// no write of a group's records also writes the paying account's row (see
/// [`crate::store`]). Unspent credit is lost at restart: at most one block per account.
pub const QUOTA_BLOCK: u64 = 16 << 20;

/// What creating a group stores besides its log: its row, its first verifier and the
/// start of its first epoch, with the store's overhead. Charged to the creator.
pub const GROUP_COST: u64 = 1024;

/// What a commit stores besides its bytes: the next epoch's verifier and start.
pub const COMMIT_OVERHEAD: u64 = 128;

/// How long every refused authentication takes at least, so that its timing does not
/// tell which device ids exist.
const AUTH_FAILURE_FLOOR: Duration = Duration::from_millis(100);

/// Claims of one device's key packages one account may make per hour: enough to add
/// the device to a few groups, not to drain its one-time packages.
const CLAIMS_PER_DEVICE_PER_HOUR: f64 = 20.0;

#[derive(Debug, Default)]
struct Credit {
    bytes: u64,
    refilling: bool,
}

/// How many accounts' claim buckets are kept before full ones are dropped.
const CLAIM_BUCKETS_BEFORE_PRUNING: usize = 4096;

/// A valid key that no device has, for checks that must take the usual time.
fn dummy_device_key() -> huisclos_protocol::auth::DevicePublicKey {
    static KEY: std::sync::OnceLock<huisclos_protocol::auth::DevicePublicKey> = std::sync::OnceLock::new();
    *KEY.get_or_init(|| {
        huisclos_protocol::auth::DevicePublicKey::from_signing_key(&ed25519_dalek::SigningKey::from_bytes(&[0x5a; 32]))
    })
}

/// A token bucket: `rate` per second, up to `burst` at once.
#[derive(Debug)]
pub struct RateBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl RateBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Self {
        Self { tokens: burst, rate, burst, last: Instant::now() }
    }

    /// Whether the bucket has refilled completely.
    pub fn is_full(&mut self) -> bool {
        let _ = self.take(0.0);
        self.tokens >= self.burst
    }

    /// Whether `n` tokens are there, without taking them.
    ///
    /// # Errors
    /// How long until they are.
    pub fn check(&mut self, n: f64) -> Result<(), Duration> {
        self.take(0.0)?;
        if self.tokens >= n { Ok(()) } else { Err(Duration::from_secs_f64((n - self.tokens) / self.rate)) }
    }

    /// Takes `n` tokens, or says how long until they are there.
    pub fn take(&mut self, n: f64) -> Result<(), Duration> {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((n - self.tokens) / self.rate))
        }
    }
}

#[derive(Debug, Default)]
struct AuthState {
    challenge: Option<ChallengeNonce>,
    device: Option<(DeviceId, AccountId)>,
}

/// One client connection as the relay sees it: its TLS exporter, whether and as whom it
/// is authenticated, and its per-connection limits. Held in memory only.
pub struct Connection {
    /// A number unique within this relay process.
    pub id: u64,
    exporter: TlsExporter,
    auth: Mutex<AuthState>,
    rate: Mutex<RateBucket>,
    signals: Mutex<RateBucket>,
    /// Requests being processed.
    pub in_flight: Arc<Semaphore>,
    pending_uploads: Mutex<HashSet<(GroupId, ChunkRef)>>,
    /// Set to `true` to close the connection (revocation, shutdown, timeout).
    pub close: watch::Sender<bool>,
    /// The connection's share of the memory budget.
    pub memory: Arc<Semaphore>,
    /// Its account's share, once authenticated.
    account_memory: std::sync::OnceLock<Arc<Semaphore>>,
    /// Run once, when the connection authenticates (the transport lifts the limits it
    /// keeps on connections that have not).
    on_sign_in: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Connection {
    /// A new, unauthenticated connection.
    pub fn new(id: u64, exporter: TlsExporter, limits: &PolicyLimits, memory: Arc<Semaphore>) -> Self {
        Self {
            memory,
            account_memory: std::sync::OnceLock::new(),
            on_sign_in: Mutex::new(None),
            id,
            exporter,
            auth: Mutex::default(),
            rate: Mutex::new(RateBucket::new(f64::from(limits.requests_per_second), f64::from(limits.request_burst))),
            signals: Mutex::new(RateBucket::new(f64::from(limits.signals_per_second), f64::from(limits.signal_burst))),
            in_flight: Arc::new(Semaphore::new(limits.in_flight_per_connection as usize)),
            pending_uploads: Mutex::default(),
            close: watch::channel(false).0,
        }
    }

    /// The account's share of the memory budget, once authenticated.
    pub fn account_memory(&self) -> Option<&Arc<Semaphore>> {
        self.account_memory.get()
    }

    /// Sets what runs when the connection authenticates.
    pub fn on_sign_in(&self, hook: impl FnOnce() + Send + 'static) {
        if let Ok(mut slot) = self.on_sign_in.lock() {
            *slot = Some(Box::new(hook));
        }
    }

    /// The authenticated device and its account.
    pub fn device(&self) -> Option<(DeviceId, AccountId)> {
        self.auth.lock().ok().and_then(|auth| auth.device)
    }

    /// Takes `weight` requests' worth of the rate budget.
    ///
    /// # Errors
    /// How long to wait, when the budget is spent.
    pub fn take_rate(&self, weight: u32) -> Result<(), Duration> {
        self.rate.lock().map_or(Ok(()), |mut bucket| bucket.take(f64::from(weight)))
    }

    /// Takes one signal from the connection's signal budget.
    ///
    /// # Errors
    /// How long to wait, when the budget is spent.
    pub fn take_signal(&self) -> Result<(), Duration> {
        self.signals.lock().map_or(Ok(()), |mut bucket| bucket.take(1.0))
    }
}

/// One stream of a connection: where its answers and events go.
#[derive(Debug)]
pub struct Stream {
    /// Which connection and stream.
    pub key: StreamKey,
    /// Events for subscriptions made on this stream.
    pub sink: Arc<EventSink>,
}

/// Groups or devices named in one request that weigh as much as one more request.
pub const ITEMS_PER_REQUEST_WEIGHT: usize = 8;

/// What a request weighs against the connection's rate limit, beyond the one its frame
/// costs: a request naming `n` groups or devices weighs `ceil(n / 8)` requests in all,
/// since each is a store read or write.
pub fn extra_weight(body: &RequestBody) -> u32 {
    let items = match body {
        RequestBody::Subscribe(Subscribe { groups }) => groups.len(),
        RequestBody::Unsubscribe(Unsubscribe { groups }) => groups.len(),
        RequestBody::ClaimKeyPackages(ClaimKeyPackages { devices }) => devices.len(),
        RequestBody::DepositWelcome(DepositWelcome { recipients, .. }) => recipients.len(),
        RequestBody::UploadKeyPackages(UploadKeyPackages { one_time, .. }) => one_time.len(),
        // Each read costs what its own request would: a round trip saved is not a
        // store read saved.
        RequestBody::FetchMany(FetchMany { items }) => {
            return u32::try_from(items.len().saturating_sub(1)).unwrap_or(u32::MAX);
        }
        _ => 1,
    };
    u32::try_from(items.div_ceil(ITEMS_PER_REQUEST_WEIGHT).saturating_sub(1)).unwrap_or(u32::MAX)
}

/// Whether a request changes the connection's state, so that the relay must finish it
/// before starting the next request of the same stream.
pub fn is_sequential(body: &RequestBody) -> bool {
    matches!(
        body,
        RequestBody::GetChallenge(_)
            | RequestBody::CreateAccount(_)
            | RequestBody::Authenticate(_)
            | RequestBody::SignIn(_)
            | RequestBody::Subscribe(_)
            | RequestBody::Unsubscribe(_)
    )
}

/// The relay: its store, limits, subscriptions and counters.
pub struct Relay<S> {
    store: Arc<S>,
    limits: PolicyLimits,
    store_limits: StoreLimits,
    /// Subscriptions and authenticated connections.
    pub hub: Arc<Hub>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The memory held for peers.
    pub budget: Arc<crate::budget::MemoryBudget>,
    claims: Mutex<HashMap<AccountId, RateBucket>>,
    /// Claims per (claiming account, claimed device), in memory only.
    device_claims: Mutex<HashMap<(AccountId, DeviceId), RateBucket>>,
    credits: Arc<Mutex<HashMap<AccountId, Credit>>>,
    /// Held while quota moves between the store and the credits, so that a reading of
    /// the usage never sees a block reserved but not yet credited.
    quota_books: Arc<tokio::sync::Mutex<()>>,
    /// Bytes of `Expire` groups' messages to give back to their payers once the
    /// messages are deleted: (deadline, account) -> bytes. In memory only: the store
    /// never links an account to a group, nor to when it wrote.
    expiry_refunds: Mutex<std::collections::BTreeMap<(u64, AccountId), u64>>,
    /// Who left each waiting inbox item, by device and position: in memory only (the
    /// store never says who wrote to whom), so that one account may hold only
    /// `welcomes_per_sender` places in an inbox. Items left before a restart are no
    /// one's.
    inbox_senders: Mutex<HashMap<DeviceId, std::collections::BTreeMap<u64, AccountId>>>,
    /// Held from the check of the senders' places to their recording.
    deposits: tokio::sync::Mutex<()>,
}

impl<S> std::fmt::Debug for Relay<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("limits", &self.limits).finish_non_exhaustive()
    }
}

fn refused<T>(error: RelayError) -> Result<T, Error> {
    Err(Error::Refused(error))
}

impl<S: RelayStore> Relay<S> {
    /// A relay over `store` with `limits`.
    pub fn new(store: Arc<S>, limits: PolicyLimits) -> Self {
        Self {
            store,
            budget: Arc::new(crate::budget::MemoryBudget::new(limits.budget())),
            store_limits: limits.store(),
            limits,
            hub: Arc::default(),
            metrics: Arc::default(),
            claims: Mutex::default(),
            device_claims: Mutex::default(),
            credits: Arc::default(),
            quota_books: Arc::default(),
            expiry_refunds: Mutex::default(),
            inbox_senders: Mutex::default(),
            deposits: tokio::sync::Mutex::default(),
        }
    }

    /// Spends `cost` bytes of the account's quota, reserving a block in the store when
    /// the account's credit runs short.
    /// Takes `cost` from the account's credit in memory, if the credit covers it
    /// (the common case: no store access).
    fn take_credit(&self, account: AccountId, cost: u64) -> bool {
        let taken = self.credits.lock().is_ok_and(|mut credits| {
            let credit = credits.entry(account).or_default();
            let covered = credit.bytes >= cost;
            if covered {
                credit.bytes -= cost;
            }
            covered
        });
        if taken {
            self.top_up(account);
        }
        taken
    }

    async fn charge(&self, account: AccountId, cost: u64) -> Result<(), Error> {
        if cost == 0 {
            return Ok(());
        }
        loop {
            let need = {
                let mut credits = self.credits.lock().map_err(|_| Error::Refused(RelayError::Internal))?;
                let credit = credits.entry(account).or_default();
                if credit.bytes >= cost {
                    credit.bytes -= cost;
                    drop(credits);
                    self.top_up(account);
                    return Ok(());
                }
                cost - credit.bytes
            };
            // Short: reserve now. A whole block if the quota allows, else just enough.
            let quota = self.limits.quota_bytes;
            let block = need.max(QUOTA_BLOCK);
            let _books = self.quota_books.lock().await;
            let reserved = match self.blocking(move |store| store.reserve_quota(account, block, quota)).await {
                Ok(()) => block,
                Err(Error::Refused(RelayError::QuotaExceeded { .. })) => {
                    match self.blocking(move |store| store.reserve_quota(account, need, quota)).await {
                        Ok(()) => need,
                        Err(Error::Refused(RelayError::QuotaExceeded { quota, .. })) => {
                            let used = self.used_while_booking(account).await?;
                            return refused(RelayError::QuotaExceeded { used, quota });
                        }
                        Err(other) => return Err(other),
                    }
                }
                Err(other) => return Err(other),
            };
            if let Ok(mut credits) = self.credits.lock() {
                credits.entry(account).or_default().bytes += reserved;
            }
        }
    }

    /// Gives back bytes charged for something that was not stored.
    fn refund(&self, account: AccountId, cost: u64) {
        if cost == 0 {
            return;
        }
        if let Ok(mut credits) = self.credits.lock() {
            credits.entry(account).or_default().bytes += cost;
        }
    }

    /// Reserves a block in the background, at a moment unrelated to any group write,
    /// when the account's credit is below half a block and no reservation is running.
    /// Credit never grows past about a block and a half, so little is forfeited at a
    /// restart however often the account's devices reconnect.
    fn top_up(&self, account: AccountId) {
        let start = self.credits.lock().is_ok_and(|mut credits| {
            let credit = credits.entry(account).or_default();
            let start = credit.bytes < QUOTA_BLOCK / 2 && !credit.refilling;
            credit.refilling |= start;
            start
        });
        if !start {
            return;
        }
        let store = self.store.clone();
        let credits = self.credits.clone();
        let books = self.quota_books.clone();
        let quota = self.limits.quota_bytes;
        tokio::spawn(async move {
            let _books = books.lock().await;
            let reserved = tokio::task::spawn_blocking(move || store.reserve_quota(account, QUOTA_BLOCK, quota)).await;
            if let Ok(mut credits) = credits.lock() {
                let credit = credits.entry(account).or_default();
                credit.refilling = false;
                if matches!(reserved, Ok(Ok(()))) {
                    credit.bytes += QUOTA_BLOCK;
                }
            }
        });
    }

    /// Bytes the account has spent: reserved in the store, less unspent credit.
    async fn used(&self, account: AccountId) -> Result<ByteCount, Error> {
        let _books = self.quota_books.lock().await;
        self.used_while_booking(account).await
    }

    /// As [`Relay::used`], for a caller that holds the quota books already (the lock is
    /// not reentrant: taking it again would wait for ever).
    async fn used_while_booking(&self, account: AccountId) -> Result<ByteCount, Error> {
        let reserved = self.blocking(move |store| store.usage(account)).await?.get();
        let credit = self.credits.lock().map(|c| c.get(&account).map_or(0, |c| c.bytes)).unwrap_or(0);
        Ok(ByteCount::new(reserved.saturating_sub(credit)).unwrap_or(ByteCount::MAX))
    }

    /// Gives unspent credit back to the store, account by account, so that a restart
    /// forfeits nothing; and gives back early what expiring messages will free. Called
    /// once, at shutdown, when no request runs any more.
    ///
    /// # Errors
    /// Store failures (what was not given back is forfeited, as after a crash).
    pub async fn return_credit(&self) -> Result<(), Error> {
        let _books = self.quota_books.lock().await;
        let mut owed: HashMap<AccountId, u64> = HashMap::new();
        if let Ok(mut credits) = self.credits.lock() {
            for (account, credit) in credits.drain() {
                *owed.entry(account).or_default() += credit.bytes;
            }
        }
        if let Ok(mut refunds) = self.expiry_refunds.lock() {
            for ((_, account), bytes) in std::mem::take(&mut *refunds) {
                *owed.entry(account).or_default() += bytes;
            }
        }
        let owed: Vec<(AccountId, u64)> = owed.into_iter().filter(|(_, bytes)| *bytes > 0).collect();
        self.blocking(move |store| owed.iter().try_for_each(|(account, bytes)| store.release_quota(*account, *bytes)))
            .await
    }

    /// Gives back the quota of expiring messages whose deadline has passed (they are
    /// deleted by the same sweep).
    pub async fn refund_expired(&self, now: u64) -> Result<(), Error> {
        let due: Vec<(AccountId, u64)> = match self.expiry_refunds.lock() {
            Ok(mut refunds) => {
                let later = refunds.split_off(&(now.saturating_add(1), AccountId::from_bytes([0; 16])));
                let due = std::mem::replace(&mut *refunds, later);
                due.into_iter().map(|((_, account), bytes)| (account, bytes)).collect()
            }
            Err(_) => Vec::new(),
        };
        if due.is_empty() {
            return Ok(());
        }
        let _books = self.quota_books.lock().await;
        self.blocking(move |store| due.iter().try_for_each(|(account, bytes)| store.release_quota(*account, *bytes)))
            .await
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The policy limits.
    pub fn limits(&self) -> &PolicyLimits {
        &self.limits
    }

    /// Issues an invitation to the relay at `addresses`, accepted until `expires`
    /// (counted in whole seconds, rounded down).
    ///
    /// # Errors
    /// [`Error::Config`] for a bad address or a moment before 1970, store failures.
    pub async fn invite(&self, addresses: &[String], pin: SpkiPin, expires: SystemTime) -> Result<Invitation, Error> {
        let addresses = addresses
            .iter()
            .map(|a| RelayAddress::new(a.clone()).map_err(|e| Error::Config(format!("address {a:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(secret.as_mut());
        let token = InvitationToken::from_bytes(*secret);
        let expires = expires
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .and_then(|since| UnixSeconds::new(since.as_secs()).ok())
            .ok_or_else(|| Error::Config("invitation lifetime".into()))?;
        let digest = token.digest();
        self.blocking(move |store| store.add_invitation(digest, expires)).await?;
        Invitation::new(addresses, pin.0, token).map_err(|e| Error::Config(e.to_string()))
    }

    /// Answers each read of a `FetchMany` as its own request would be answered, in
    /// order, within one frame: an item refused is answered `Refused` and the others
    /// still are; once the answer is full, the rest are `Deferred`.
    async fn fetch_many(&self, items: Vec<FetchItem>) -> Result<ResponseBody, Error> {
        // The answer's own envelope, and a tag and a length for each result.
        let mut room = MAX_FRAME_PAYLOAD_LEN - PAGE_ENVELOPE - 4 * huisclos_protocol::limits::MAX_FETCH_ITEMS;
        let mut results = Vec::with_capacity(items.len());
        // The encoded size of each result answered (not deferred), in order.
        let mut sizes = Vec::with_capacity(items.len());
        for item in items {
            if room < MIN_FETCH_ROOM {
                results.push(FetchResult::Deferred(Deferred {}));
                continue;
            }
            let budget = room;
            let result = match item {
                FetchItem::Log(FetchLog { access, from, limit }) => match self.check(&access).await {
                    Err(Error::Refused(error)) => FetchResult::Refused(error),
                    Err(other) => return Err(other),
                    Ok(_) => {
                        let (group, epoch, limit) = (access.group, access.epoch, usize::from(limit.get()));
                        // Refused by the store as its own request would be: this item alone.
                        match self.blocking(move |store| store.fetch_log(group, epoch, from, limit, budget)).await {
                            Ok(page) => FetchResult::Log(page),
                            Err(Error::Refused(error)) => FetchResult::Refused(error),
                            Err(other) => return Err(other),
                        }
                    }
                },
                FetchItem::Content(FetchContent { access, from, limit }) => match self.current(&access).await {
                    Err(Error::Refused(error)) => FetchResult::Refused(error),
                    Err(other) => return Err(other),
                    Ok(_) => {
                        let (group, limit) = (access.group, usize::from(limit.get()));
                        match self.blocking(move |store| store.fetch_content(group, from, limit, budget)).await {
                            Ok(page) => FetchResult::Content(page),
                            Err(Error::Refused(error)) => FetchResult::Refused(error),
                            Err(other) => return Err(other),
                        }
                    }
                },
            };
            // A page always holds one entry if one is due, even past its budget: past
            // the room left, it waits for the next asking (the first item always fits a
            // frame, as its own request's answer does).
            let size = huisclos_protocol::codec::Wire::to_wire(&result).len();
            if size > room && !results.is_empty() {
                results.push(FetchResult::Deferred(Deferred {}));
                room = 0;
                continue;
            }
            room = room.saturating_sub(size);
            results.push(result);
            sizes.push(size);
        }
        end_last_page_filling_class(&mut results, &sizes)?;
        let results = BoundedVec::new(results).map_err(|_| Error::Corrupt("fetch results"))?;
        Ok(Fetched { results }.into())
    }

    /// The account's quota: its operator's, or the relay's.
    async fn quota_of(&self, account: AccountId) -> Result<ByteCount, Error> {
        let own = self.blocking(move |store| store.account(account)).await?.and_then(|summary| summary.settings.quota);
        Ok(ByteCount::new(own.unwrap_or(self.limits.quota_bytes)).unwrap_or(ByteCount::MAX))
    }

    /// Every account, with the bytes it uses (reserved, less what it has not spent
    /// yet), its devices and its operator's settings (`admin accounts`).
    ///
    /// # Errors
    /// Store failures.
    pub async fn accounts(&self) -> Result<Vec<AccountSummary>, Error> {
        let _books = self.quota_books.lock().await;
        let mut accounts = self.blocking(|store| store.accounts()).await?;
        if let Ok(credits) = self.credits.lock() {
            for summary in &mut accounts {
                let credit = credits.get(&summary.account).map_or(0, |credit| credit.bytes);
                summary.usage = summary.usage.saturating_sub(credit);
            }
        }
        Ok(accounts)
    }

    /// Changes an account's operator settings; returns them all. Disabling it closes
    /// every connection its devices have open; they cannot sign in again until it is
    /// enabled.
    ///
    /// # Errors
    /// `Refused(NotFound)` for an unknown account; store failures (a disabled account
    /// whose connections could not be listed says so: run it again).
    pub async fn change_account(&self, account: AccountId, change: AccountChange) -> Result<AccountSettings, Error> {
        let settings = {
            // The account's unspent credit goes back to the store with the change, so
            // that what it stores next is reserved against its new quota.
            let _books = self.quota_books.lock().await;
            let settings = self.blocking(move |store| store.change_account(account, change)).await?;
            let credit = self
                .credits
                .lock()
                .map(|mut credits| credits.get_mut(&account).map_or(0, |credit| std::mem::take(&mut credit.bytes)))
                .unwrap_or(0);
            if credit > 0
                && let Err(error) = self.blocking(move |store| store.release_quota(account, credit)).await
            {
                // Not given back: the account keeps it to spend, as before.
                if let Ok(mut credits) = self.credits.lock() {
                    credits.entry(account).or_default().bytes += credit;
                }
                return Err(error);
            }
            settings
        };
        if settings.disabled {
            // After the store: a sign-in racing this either reads the account disabled
            // or was registered with the hub before, and is closed here.
            let devices = self.blocking(move |store| store.list_devices(account)).await.map_err(|error| {
                Error::Storage(format!(
                    "the account is disabled, but its connections could not be listed to close them ({error}): \
                     run the command again"
                ))
            })?;
            for device in devices {
                self.hub.close_device(device.device);
            }
        }
        Ok(settings)
    }

    /// Backs up the data directory into `to` while the relay runs ([`crate::backup`]).
    ///
    /// # Errors
    /// As [`crate::backup`].
    pub async fn backup(&self, data_dir: &std::path::Path, to: &std::path::Path) -> Result<String, Error> {
        let (data_dir, to) = (data_dir.to_owned(), to.to_owned());
        self.blocking(move |store| crate::backup(store, &data_dir, &to)).await
    }

    /// The invitations not used yet.
    ///
    /// # Errors
    /// Store failures.
    pub async fn invitations(&self) -> Result<Vec<PendingInvitation>, Error> {
        self.blocking(|store| store.invitations()).await
    }

    /// Revokes the one invitation whose digest, in hex, starts with `prefix` (at least
    /// 8 digits, as `admin invitations` shows them).
    ///
    /// # Errors
    /// `Refused(NotFound)` if none matches, `Refused(Conflict)` if several do.
    pub async fn revoke_invitation(&self, prefix: &str) -> Result<[u8; 32], Error> {
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return refused(RelayError::BadRequest);
        }
        let invitations = self.invitations().await?;
        let mut matching = invitations.iter().filter(|invitation| hex::encode(invitation.digest).starts_with(&prefix));
        let (Some(found), None) = (matching.next(), matching.next()) else {
            let any = invitations.iter().any(|invitation| hex::encode(invitation.digest).starts_with(&prefix));
            return refused(if any { RelayError::Conflict } else { RelayError::NotFound });
        };
        let digest = found.digest;
        if !self.blocking(move |store| store.revoke_invitation(digest)).await? {
            return refused(RelayError::NotFound);
        }
        Ok(digest)
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&S) -> Result<T, Error> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|_| Error::Storage("store task failed".into()))?
    }

    /// Answers one request.
    pub async fn handle(&self, connection: &Connection, stream: &Stream, request: Request) -> RelayMessage {
        let id = request.id;
        self.metrics.request(request.body.tag());
        match self.dispatch(connection, stream, request.body).await {
            Ok(body) => RelayMessage::Response(Response { id, body }),
            Err(error) => {
                let error = match error {
                    Error::Refused(error) => error,
                    other => {
                        // Store and I/O failures: logged for the operator (no content, no
                        // keys: these errors carry neither), answered as `Internal`.
                        tracing::error!(error = %other, "request failed");
                        RelayError::Internal
                    }
                };
                self.metrics.error(&error);
                RelayMessage::Failure(Failure { id, error })
            }
        }
    }

    /// The access check for requests that need the current epoch.
    async fn current(&self, access: &GroupAccess) -> Result<GroupPosition, Error> {
        let position = self.check(access).await?;
        if position.epoch != access.epoch {
            return refused(RelayError::StaleEpoch { current: position.epoch, next_seq: position.next_seq });
        }
        Ok(position)
    }

    /// The access check: the token must verify for `access.epoch`.
    async fn check(&self, access: &GroupAccess) -> Result<GroupPosition, Error> {
        let access = access.clone();
        self.blocking(move |store| store.check_access(access.group, access.epoch, &access.token)).await
    }

    async fn dispatch(
        &self,
        connection: &Connection,
        stream: &Stream,
        body: RequestBody,
    ) -> Result<ResponseBody, Error> {
        match body {
            RequestBody::Ping(Ping {}) => return Ok(Pong {}.into()),
            RequestBody::GetChallenge(GetChallenge {}) => {
                let mut nonce = [0u8; 32];
                OsRng.fill_bytes(&mut nonce);
                let nonce = ChallengeNonce::from_bytes(nonce);
                if let Ok(mut auth) = connection.auth.lock() {
                    auth.challenge = Some(nonce);
                }
                return Ok(Challenge { nonce }.into());
            }
            RequestBody::CreateAccount(request) => return self.create_account(connection, stream, request).await,
            RequestBody::Authenticate(request) => return self.authenticate(connection, stream, request).await,
            RequestBody::SignIn(SignIn { device, signature }) => {
                return self.authenticate_with(connection, stream, device, signature, false).await;
            }
            _ => {}
        }
        let Some((device, account)) = connection.device() else { return refused(RelayError::AuthRequired) };
        let limits = self.store_limits;
        match body {
            RequestBody::AddDevice(AddDevice { device_key, possession }) => {
                verify_device_link(&device_key, &possession, &account)
                    .map_err(|_| Error::Refused(RelayError::AuthFailed))?;
                let now = crate::store::sled_store::now();
                let device =
                    self.blocking(move |store| store.add_device(account, device, &device_key, now, &limits)).await?;
                Ok(DeviceAdded { device }.into())
            }
            RequestBody::RevokeDevice(RevokeDevice { device: revoked }) => {
                self.blocking(move |store| store.revoke_device(account, device, revoked)).await?;
                self.forget_senders(revoked, None);
                if revoked == device {
                    // Let this answer reach the device before its connections close.
                    let hub = self.hub.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        hub.close_device(revoked);
                    });
                } else {
                    self.hub.close_device(revoked);
                }
                Ok(DeviceRevoked {}.into())
            }
            RequestBody::ListDevices(ListDevices {}) => {
                let devices = self.blocking(move |store| store.list_devices(account)).await?;
                let devices = BoundedVec::new(devices).map_err(|_| Error::Corrupt("device list"))?;
                Ok(DeviceList { devices }.into())
            }
            RequestBody::GetUsage(GetUsage {}) => {
                let used = self.used(account).await?;
                let quota = self.quota_of(account).await?;
                Ok(Usage { used, quota }.into())
            }
            RequestBody::UploadKeyPackages(UploadKeyPackages { one_time, last_resort }) => {
                if !one_time.iter().chain(last_resort.iter()).all(KeyPackageBytes::is_sealed) {
                    // A package in clear carries its person's certificate, name and
                    // all: the relay keeps no such thing.
                    return refused(RelayError::BadRequest);
                }
                let status = self
                    .blocking(move |store| store.upload_key_packages(device, &one_time, last_resort.as_ref(), &limits))
                    .await?;
                Ok(status.into())
            }
            RequestBody::GetKeyPackageStatus(GetKeyPackageStatus {}) => {
                Ok(self.blocking(move |store| store.key_package_status(device)).await?.into())
            }
            RequestBody::ClaimKeyPackages(ClaimKeyPackages { devices }) => {
                let mut seen = HashSet::new();
                if !devices.iter().all(|device| seen.insert(*device)) {
                    // One package per device per claim: a list naming a device twice
                    // would drain it.
                    return refused(RelayError::BadRequest);
                }
                self.take_claims(account, &devices).await?;
                let claimed = devices.clone();
                let packages = self.blocking(move |store| store.claim_key_packages(&claimed)).await?;
                let claims: Vec<DeviceClaim> =
                    devices.iter().zip(packages).map(|(&device, package)| DeviceClaim { device, package }).collect();
                let claims = BoundedVec::new(claims).map_err(|_| Error::Corrupt("claims"))?;
                Ok(ClaimedKeyPackages { claims }.into())
            }
            RequestBody::DepositWelcome(DepositWelcome { recipients, welcome }) => {
                let mut seen = HashSet::new();
                let recipients: Vec<DeviceId> = recipients.iter().copied().filter(|d| seen.insert(*d)).collect();
                if recipients.is_empty() || welcome.is_empty() {
                    return refused(RelayError::BadRequest);
                }
                let notify = recipients.clone();
                let _turn = self.deposits.lock().await;
                // A stranger who learned a device's id cannot fill its inbox: each
                // account holds only so many of its places.
                let full = self.inbox_senders.lock().map(|senders| {
                    recipients.iter().any(|recipient| {
                        senders.get(recipient).is_some_and(|waiting| {
                            waiting.values().filter(|sender| **sender == account).count()
                                >= self.limits.welcomes_per_sender as usize
                        })
                    })
                });
                if full.unwrap_or(true) {
                    return refused(RelayError::LimitExceeded { limit: LimitKind::WelcomeInbox });
                }
                let cost = welcome.len() as u64 * recipients.len() as u64;
                self.charge(account, cost).await?;
                let deposited = self.blocking(move |store| store.deposit_welcome(&recipients, &welcome, &limits)).await;
                if deposited.is_err() {
                    self.refund(account, cost);
                }
                let positions = deposited?;
                if let Ok(mut senders) = self.inbox_senders.lock() {
                    for (recipient, position) in notify.iter().zip(positions) {
                        senders.entry(*recipient).or_default().insert(position.get(), account);
                    }
                }
                for recipient in notify {
                    self.hub.welcome_available(recipient);
                }
                Ok(WelcomeDeposited {}.into())
            }
            RequestBody::FetchWelcomes(FetchWelcomes { after, limit }) => {
                let limit = usize::from(limit.get()).min(MAX_INBOX_PAGE);
                let page = self
                    .blocking(move |store| {
                        store.fetch_welcomes(device, after, limit, MAX_FRAME_PAYLOAD_LEN - PAGE_ENVELOPE)
                    })
                    .await?;
                Ok(page.into())
            }
            RequestBody::AckWelcomes(AckWelcomes { up_to }) => {
                self.blocking(move |store| store.ack_welcomes(device, up_to)).await?;
                self.forget_senders(device, Some(up_to.get()));
                Ok(WelcomesAcked {}.into())
            }
            RequestBody::CreateGroup(CreateGroup { group, verifier, retention }) => {
                self.charge(account, GROUP_COST).await?;
                let created = self.blocking(move |store| store.create_group(group, verifier, retention)).await;
                if !matches!(created, Ok(true)) {
                    self.refund(account, GROUP_COST);
                }
                created?;
                Ok(GroupCreated {}.into())
            }
            RequestBody::AppendMessage(AppendMessage { access, message }) => {
                let (group, epoch) = (access.group, access.epoch);
                let cost = message.len() as u64;
                let deadline = self.limits.message_deadline(crate::store::sled_store::now().get());
                let expires_at = UnixSeconds::new(deadline).map_err(|_| Error::Corrupt("clock"))?;
                // The hot path: the credit covers the message, so the access check and
                // the append share one trip to a store thread (a refused one is
                // refunded below). Otherwise the check comes first, as for any request,
                // so a stranger learns nothing about the account's quota.
                let appended = if self.take_credit(account, cost) {
                    self.blocking(move |store| {
                        let position = store.check_access(group, epoch, &access.token)?;
                        Ok((store.append(group, epoch, &message, expires_at)?, position.expiring))
                    })
                    .await
                } else {
                    let position = self.check(&access).await?;
                    self.charge(account, cost).await?;
                    self.blocking(move |store| store.append(group, epoch, &message, expires_at))
                        .await
                        .map(|appended| (appended, position.expiring))
                };
                let stored = matches!(&appended, Ok(((_, true), _)));
                match &appended {
                    Ok(((_, true), true)) => {
                        // The message will be deleted at its deadline: its bytes are
                        // given back to the payer then.
                        if let Ok(mut refunds) = self.expiry_refunds.lock() {
                            *refunds.entry((expires_at.get(), account)).or_default() += cost;
                        }
                    }
                    Ok(((_, true), false)) => {}
                    _ => self.refund(account, cost),
                }
                let ((seq, _), _) = appended?;
                // A resend stored nothing: no event (its `latest` would go back).
                if stored {
                    self.hub.log_advanced(group, epoch, seq, EntryKind::Message);
                }
                Ok(Appended { seq }.into())
            }
            RequestBody::SubmitCommit(SubmitCommit { access, commit, next_verifier }) => {
                self.check(&access).await?;
                let (group, epoch) = (access.group, access.epoch);
                let cost = commit.len() as u64 + COMMIT_OVERHEAD;
                self.charge(account, cost).await?;
                let committed = self.blocking(move |store| store.commit(group, epoch, &commit, next_verifier)).await;
                if committed.is_err() {
                    self.refund(account, cost);
                }
                let (seq, new_epoch) = committed?;
                self.hub.log_advanced(group, epoch, seq, EntryKind::Commit);
                Ok(CommitAccepted { seq, epoch: new_epoch }.into())
            }
            RequestBody::FetchLog(FetchLog { access, from, limit }) => {
                self.check(&access).await?;
                let (group, epoch, limit) = (access.group, access.epoch, usize::from(limit.get()));
                let mut page = self
                    .blocking(move |store| {
                        store.fetch_log(group, epoch, from, limit, MAX_FRAME_PAYLOAD_LEN - PAGE_ENVELOPE)
                    })
                    .await?;
                if page.end == LogPageEnd::More {
                    let sizes: Vec<usize> = page.entries.iter().map(|e| Wire::to_wire(e).len()).collect();
                    if let Some(keep) = entries_filling_class(&sizes) {
                        let mut entries = page.entries.into_vec();
                        entries.truncate(keep);
                        if let Some(last) = entries.last() {
                            page.next = last.seq.next().ok_or(Error::Corrupt("log page"))?;
                        }
                        page.entries = BoundedVec::new(entries).map_err(|_| Error::Corrupt("log page"))?;
                    }
                }
                Ok(page.into())
            }
            RequestBody::FetchMany(FetchMany { items }) => self.fetch_many(items.into_vec()).await,
            RequestBody::Subscribe(Subscribe { groups }) => self.subscribe(connection, stream, groups.into_vec()).await,
            RequestBody::Unsubscribe(Unsubscribe { groups }) => {
                for group in groups.iter() {
                    self.hub.unsubscribe(*group, stream.key);
                }
                Ok(Unsubscribed {}.into())
            }
            RequestBody::Signal(Signal { access, payload }) => {
                // The budget first: a signal over it costs no store read.
                if let Err(wait) = connection.take_signal() {
                    let retry_after_ms = u32::try_from(wait.as_millis().max(1)).unwrap_or(u32::MAX);
                    return refused(RelayError::RateLimited { retry_after_ms });
                }
                self.current(&access).await?;
                // Forwarded from memory, never written: not to the store, not to the log.
                self.hub.signal(access.group, connection.id, &payload);
                self.metrics.signals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(Signalled {}.into())
            }
            RequestBody::PutContent(PutContent { access, record, sealed }) => {
                // Only the relay writes a tombstone, in a forgotten record's place.
                if sealed.as_bytes().first() == Some(&TOMBSTONE_TAG) {
                    return refused(RelayError::BadRequest);
                }
                self.current(&access).await?;
                let group = access.group;
                let cost = sealed.len() as u64;
                self.charge(account, cost).await?;
                let sealed = std::sync::Arc::new(sealed);
                let stored = {
                    let (epoch, sealed) = (access.epoch, sealed.clone());
                    self.blocking(move |store| store.put_content(group, epoch, record, &sealed)).await
                };
                if !matches!(stored, Ok((_, true))) {
                    self.refund(account, cost);
                }
                let (seq, wrote) = stored?;
                if wrote {
                    self.hub.content_stored(group, seq, record, &sealed, connection.id);
                }
                Ok(ContentStored { seq }.into())
            }
            RequestBody::ForgetContent(ForgetContent { access, record, key }) => {
                self.current(&access).await?;
                let (group, epoch) = (access.group, access.epoch);
                // The bytes freed are not given back to the account: its quota bounds
                // what it ever made other devices store, which they keep.
                let (seq, _freed) =
                    self.blocking(move |store| store.forget_content(group, epoch, record, &key)).await?;
                Ok(ContentForgotten { seq }.into())
            }
            RequestBody::FetchContent(FetchContent { access, from, limit }) => {
                self.current(&access).await?;
                let (group, limit) = (access.group, usize::from(limit.get()));
                let mut page = self
                    .blocking(move |store| {
                        store.fetch_content(group, from, limit, MAX_FRAME_PAYLOAD_LEN - PAGE_ENVELOPE)
                    })
                    .await?;
                if page.more {
                    let sizes: Vec<usize> = page.records.iter().map(|r| Wire::to_wire(r).len()).collect();
                    if let Some(keep) = entries_filling_class(&sizes) {
                        let mut records = page.records.into_vec();
                        records.truncate(keep);
                        page.records = BoundedVec::new(records).map_err(|_| Error::Corrupt("content page"))?;
                    }
                }
                Ok(page.into())
            }
            RequestBody::PutChunk(PutChunk { access, chunk, total_len, offset, data }) => {
                self.current(&access).await?;
                let group = access.group;
                let upload = (group, chunk);
                let (known, pending) =
                    connection.pending_uploads.lock().map(|p| (p.contains(&upload), p.len())).unwrap_or((false, 0));
                if !known && pending >= self.limits.pending_uploads_per_connection as usize {
                    return refused(RelayError::LimitExceeded { limit: LimitKind::PendingUploads });
                }
                // An upload that this call may start is paid for in full, up front; the
                // payment is returned if it did not start one.
                let cost = if known { 0 } else { u64::from(total_len.get()) };
                self.charge(account, cost).await?;
                let put = {
                    let epoch = access.epoch;
                    self.blocking(move |store| store.put_chunk(group, epoch, chunk, total_len, offset, &data, &limits))
                        .await
                };
                // Refunded if nothing started; kept if it started, also when the whole
                // chunk came at once and its hash did not match.
                if !matches!(put, Ok(ChunkPut { started: true, .. })) {
                    self.refund(account, cost);
                }
                let put = put?;
                if put.discarded {
                    if let Ok(mut pending) = connection.pending_uploads.lock() {
                        pending.remove(&upload);
                    }
                    return refused(RelayError::BadRequest);
                }
                if let Ok(mut pending) = connection.pending_uploads.lock() {
                    if put.status.received == put.status.total_len {
                        pending.remove(&upload);
                    } else if put.started || known {
                        pending.insert(upload);
                    }
                }
                Ok(put.status.into())
            }
            RequestBody::GetChunkStatus(GetChunkStatus { access, chunk }) => {
                self.current(&access).await?;
                let group = access.group;
                Ok(self.blocking(move |store| store.chunk_status(group, chunk)).await?.into())
            }
            RequestBody::GetChunk(GetChunk { access, chunk, offset, max_len }) => {
                self.current(&access).await?;
                let group = access.group;
                let max_len = (max_len.get() as usize).min(MAX_CHUNK_PIECE_LEN);
                Ok(self.blocking(move |store| store.read_chunk(group, chunk, offset, max_len)).await?.into())
            }
            RequestBody::Ping(_)
            | RequestBody::GetChallenge(_)
            | RequestBody::CreateAccount(_)
            | RequestBody::Authenticate(_)
            | RequestBody::SignIn(_) => refused(RelayError::BadRequest),
        }
    }

    /// Forgets who left a device's inbox items, up to a position (acknowledged) or all
    /// (its inbox was emptied).
    fn forget_senders(&self, device: DeviceId, up_to: Option<u64>) {
        if let Ok(mut senders) = self.inbox_senders.lock() {
            match (senders.get_mut(&device), up_to) {
                (Some(waiting), Some(up_to)) => {
                    *waiting = waiting.split_off(&up_to.saturating_add(1));
                    if waiting.is_empty() {
                        senders.remove(&device);
                    }
                }
                (Some(_), None) => {
                    senders.remove(&device);
                }
                (None, _) => {}
            }
        }
    }

    fn take_challenge(connection: &Connection) -> Result<ChallengeNonce, Error> {
        let mut auth = connection.auth.lock().map_err(|_| Error::Refused(RelayError::Internal))?;
        if auth.device.is_some() {
            return refused(RelayError::BadRequest);
        }
        // One use only, whatever happens next.
        auth.challenge.take().ok_or(Error::Refused(RelayError::AuthFailed))
    }

    /// Marks the connection as `device`'s. The connection is registered with the hub
    /// first and the device's revocation checked after, so that a revocation racing
    /// this authentication either is seen here or closes the connection.
    async fn authenticated(
        &self,
        connection: &Connection,
        stream: &Stream,
        device: DeviceId,
        account: AccountId,
    ) -> Result<(), Error> {
        self.hub.device_connected(device, connection.id, &stream.sink, connection.close.clone());
        // A disabled account is refused as a revoked device is, with the same answer
        // and the same time: whoever holds a seized device learns nothing from it.
        let entry = self.blocking(move |store| Ok((store.device(device)?, store.account(account)?))).await;
        let active = matches!(&entry, Ok((Some(entry), Some(summary)))
            if !entry.revoked && entry.account == account && !summary.settings.disabled);
        let mut share = None;
        let mut refusal = if active { RelayError::BadRequest } else { RelayError::AuthFailed };
        if active && connection.device().is_none() {
            match self.budget.admit(account) {
                Ok(admitted) => share = Some(admitted),
                Err(crate::budget::TooManyConnections) => {
                    refusal = RelayError::LimitExceeded { limit: LimitKind::Connections };
                }
            }
        }
        let set = share.is_some()
            && connection.auth.lock().is_ok_and(|mut auth| {
                // At most once per connection, even across streams.
                if auth.device.is_some() {
                    return false;
                }
                auth.device = Some((device, account));
                true
            });
        if !set {
            if share.is_some() {
                self.budget.leave(account);
            }
            self.hub.device_disconnected(device, connection.id);
            entry?;
            if matches!(refusal, RelayError::LimitExceeded { .. }) {
                // The account has all the connections it may: this one is of no use to
                // it, and must not linger as an unauthenticated one. Closed once the
                // answer has had time to leave.
                let close = connection.close.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let _ = close.send(true);
                });
            }
            return refused(refusal);
        }
        if let Some(share) = share {
            let _ = connection.account_memory.set(share);
        }
        let hook = connection.on_sign_in.lock().ok().and_then(|mut hook| hook.take());
        if let Some(hook) = hook {
            hook();
        }
        // Reserve quota now, at a moment unrelated to any group write.
        self.top_up(account);
        Ok(())
    }

    async fn create_account(
        &self,
        connection: &Connection,
        stream: &Stream,
        request: CreateAccount,
    ) -> Result<ResponseBody, Error> {
        let nonce = Self::take_challenge(connection)?;
        let CreateAccount { invitation, device_key, signature } = request;
        verify_device_auth(
            &device_key,
            &signature,
            &connection.exporter,
            &nonce,
            AuthPurpose::CreateAccount(&invitation),
        )
        .map_err(|_| Error::Refused(RelayError::AuthFailed))?;
        let digest = invitation.digest();
        let now = crate::store::sled_store::now();
        let limits = self.store_limits;
        let account = self.blocking(move |store| store.create_account(digest, &device_key, now, &limits)).await?;
        let device = device_key.device_id();
        self.authenticated(connection, stream, device, account).await?;
        tracing::info!("account opened");
        Ok(AccountCreated { account, device }.into())
    }

    async fn authenticate(
        &self,
        connection: &Connection,
        stream: &Stream,
        request: Authenticate,
    ) -> Result<ResponseBody, Error> {
        let Authenticate { device, signature } = request;
        self.authenticate_with(connection, stream, device, signature, true).await
    }

    /// Checks a device's signature over this connection's exporter: after a challenge
    /// (`Authenticate`, `challenged`: its nonce is used up here) or without one
    /// (`SignIn`).
    async fn authenticate_with(
        &self,
        connection: &Connection,
        stream: &Stream,
        device: DeviceId,
        signature: DeviceSignature,
        challenged: bool,
    ) -> Result<ResponseBody, Error> {
        let started = tokio::time::Instant::now();
        let outcome = self.try_authenticate(connection, stream, device, signature, challenged).await;
        if matches!(outcome, Err(Error::Refused(RelayError::AuthFailed))) {
            // Known device or not, revoked or not, bad signature or not: a refusal takes
            // the same time.
            tokio::time::sleep_until(started + AUTH_FAILURE_FLOOR).await;
        }
        outcome
    }

    async fn try_authenticate(
        &self,
        connection: &Connection,
        stream: &Stream,
        device: DeviceId,
        signature: DeviceSignature,
        challenged: bool,
    ) -> Result<ResponseBody, Error> {
        if connection.device().is_some() {
            // Once per connection, with a challenge or without.
            return refused(RelayError::BadRequest);
        }
        let (nonce, purpose) = if challenged {
            (Self::take_challenge(connection)?, AuthPurpose::Authenticate)
        } else {
            (ChallengeNonce::NONE, AuthPurpose::SignIn)
        };
        let entry = self.blocking(move |store| store.device(device)).await?;
        let Some(entry) = entry.filter(|entry| !entry.revoked) else {
            // Spend the time a real check takes, so that timing does not tell which
            // device ids exist.
            let _ = verify_device_auth(&dummy_device_key(), &signature, &connection.exporter, &nonce, purpose);
            return refused(RelayError::AuthFailed);
        };
        verify_device_auth(&entry.key, &signature, &connection.exporter, &nonce, purpose)
            .map_err(|_| Error::Refused(RelayError::AuthFailed))?;
        self.authenticated(connection, stream, device, entry.account).await?;
        Ok(Authenticated { account: entry.account }.into())
    }

    async fn subscribe(
        &self,
        connection: &Connection,
        stream: &Stream,
        groups: Vec<GroupAccess>,
    ) -> Result<ResponseBody, Error> {
        let mut named = HashSet::new();
        if !groups.iter().all(|access| named.insert(access.group)) {
            // One group, one subscription: a list naming one twice is malformed.
            return refused(RelayError::BadRequest);
        }
        let limit = self.limits.subscriptions_per_connection as usize;
        let new = groups.iter().filter(|a| !self.hub.is_subscribed(a.group, stream.key)).count();
        if self.hub.connection_subscriptions(connection.id) + new > limit {
            return refused(RelayError::LimitExceeded { limit: LimitKind::Subscriptions });
        }
        let mut refused_groups = Vec::new();
        for access in groups {
            match self.check(&access).await {
                Ok(position) if position.epoch == access.epoch => {
                    self.hub.subscribe(access.group, access.epoch, stream.key, &stream.sink);
                }
                Ok(_) | Err(Error::Refused(_)) => refused_groups.push(access.group),
                Err(other) => return Err(other),
            }
        }
        let refused = BoundedVec::new(refused_groups).map_err(|_| Error::Refused(RelayError::BadRequest))?;
        Ok(Subscribed { refused }.into())
    }

    /// Takes claims from the account's hourly budget and from its budget for each
    /// device claimed; all or nothing. The account's budget is the store's when
    /// several relay processes share it (exact across them), the relay's otherwise.
    /// The budgets per claimed device stay in each process's memory: a row saying
    /// which account claimed which device's keys would record who adds whom, at rest.
    async fn take_claims(&self, account: AccountId, devices: &[DeviceId]) -> Result<(), Error> {
        let limited = |wait: Duration| {
            Error::Refused(RelayError::RateLimited {
                retry_after_ms: wait.as_millis().min(u128::from(u32::MAX)) as u32,
            })
        };
        let new_bucket = || RateBucket::new(CLAIMS_PER_DEVICE_PER_HOUR / 3600.0, CLAIMS_PER_DEVICE_PER_HOUR);
        {
            let mut per_device = self.device_claims.lock().map_err(|_| Error::Refused(RelayError::Internal))?;
            if per_device.len() >= CLAIM_BUCKETS_BEFORE_PRUNING {
                per_device.retain(|_, bucket| !bucket.is_full());
            }
            for device in devices {
                let bucket = per_device.entry((account, *device)).or_insert_with(new_bucket);
                bucket.check(1.0).map_err(limited)?;
            }
        }
        let per_hour = f64::from(self.limits.claims_per_hour.max(1));
        let burst = (per_hour / 6.0).max(huisclos_protocol::limits::MAX_CLAIM_BATCH as f64);
        let count = u32::try_from(devices.len()).unwrap_or(u32::MAX);
        match self.blocking(move |store| store.take_claims(account, count, per_hour / 3600.0, burst)).await? {
            ClaimBudget::Taken => {}
            ClaimBudget::Exhausted { retry_after } => return Err(limited(retry_after)),
            ClaimBudget::KeptByRelay => {
                let mut claims = self.claims.lock().map_err(|_| Error::Refused(RelayError::Internal))?;
                if claims.len() >= CLAIM_BUCKETS_BEFORE_PRUNING {
                    // A full bucket carries no state worth keeping.
                    claims.retain(|_, bucket| !bucket.is_full());
                }
                let bucket = claims.entry(account).or_insert_with(|| RateBucket::new(per_hour / 3600.0, burst));
                bucket.take(devices.len() as f64).map_err(limited)?;
            }
        }
        let mut per_device = self.device_claims.lock().map_err(|_| Error::Refused(RelayError::Internal))?;
        for device in devices {
            // Checked above; a claim of the same device racing this one may have taken
            // the last token since, and then this one is not charged twice.
            let _ = per_device.entry((account, *device)).or_insert_with(new_bucket).take(1.0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sled_store::{SledStore, now};

    #[tokio::test]
    async fn logging_in_again_and_again_reserves_one_block() -> Result<(), Error> {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(SledStore::open(&dir.path().join("store"))?);
        let key = huisclos_protocol::auth::DevicePublicKey::from_signing_key(&ed25519_dalek::SigningKey::from_bytes(
            &[3; 32],
        ));
        store.add_invitation([9; 32], UnixSeconds::MAX)?;
        let limits = PolicyLimits::default();
        let account = store.create_account([9; 32], &key, now(), &limits.store())?;
        let relay = Relay::new(store.clone(), limits);
        for _ in 0..20 {
            relay.top_up(account);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.usage(account)?.get(), QUOTA_BLOCK, "one block, however many logins");
        assert_eq!(relay.used(account).await?.get(), 0);
        // At shutdown the unspent block goes back: a restart forfeits nothing.
        relay.return_credit().await?;
        assert_eq!(store.usage(account)?.get(), 0);
        Ok(())
    }

    #[tokio::test]
    async fn expiring_messages_are_refunded_at_their_deadline() -> Result<(), Error> {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(SledStore::open(&dir.path().join("store"))?);
        let key = huisclos_protocol::auth::DevicePublicKey::from_signing_key(&ed25519_dalek::SigningKey::from_bytes(
            &[4; 32],
        ));
        store.add_invitation([8; 32], UnixSeconds::MAX)?;
        let limits = PolicyLimits::default();
        let account = store.create_account([8; 32], &key, now(), &limits.store())?;
        let relay = Relay::new(store.clone(), limits);
        relay.charge(account, 3000).await?;
        // Two messages of an expiring group, due at 1000 and 2000.
        if let Ok(mut refunds) = relay.expiry_refunds.lock() {
            refunds.insert((1000, account), 1000);
            refunds.insert((2000, account), 2000);
        }
        assert_eq!(relay.used(account).await?.get(), 3000);
        relay.refund_expired(999).await?;
        assert_eq!(relay.used(account).await?.get(), 3000, "nothing is due yet");
        relay.refund_expired(1000).await?;
        assert_eq!(relay.used(account).await?.get(), 2000, "the first is given back at its deadline");
        relay.refund_expired(5000).await?;
        assert_eq!(relay.used(account).await?.get(), 0);
        Ok(())
    }

    #[test]
    fn a_fetch_many_answer_ends_its_last_page_where_the_whole_answer_fills_its_class() {
        use huisclos_protocol::frame::Padding;
        use huisclos_protocol::ids::{ContentId, ContentSeq, RequestId, Seq};
        use huisclos_protocol::messages::{ContentPage, ContentRecord, ContentRecordBytes, LogPage, Response};
        let padded = |results: &[FetchResult]| -> usize {
            let results = BoundedVec::new(results.to_vec()).expect("bounded");
            let response = Response { id: RequestId::new(7).expect("id"), body: Fetched { results }.into() };
            Padding::SizeClasses.frame_len(Wire::to_wire(&response).len())
        };
        // A space's log, read to its end, then 128 records of 380 bytes with more
        // behind them: 48.7 KB, which a 64 KiB frame would carry at 26 % padding.
        let log = FetchResult::Log(LogPage {
            entries: BoundedVec::new(Vec::new()).expect("empty"),
            next: Seq::new(12).expect("seq"),
            end: LogPageEnd::UpToDate,
        });
        let record = |n: u64| ContentRecord {
            seq: ContentSeq::new(n).expect("seq"),
            record: ContentId::from_bytes([n as u8; 16]),
            sealed: ContentRecordBytes::new(vec![0x5a; 380 - 8 - 16 - 4]).expect("record"),
        };
        let page = |records: Vec<ContentRecord>, more| {
            FetchResult::Content(ContentPage { records: BoundedVec::new(records).expect("page"), more })
        };
        let mut results = vec![log.clone(), page((0..128).map(record).collect(), true)];
        assert_eq!(padded(&results), 65536);
        let sizes: Vec<usize> = results.iter().map(|r| Wire::to_wire(r).len()).collect();
        end_last_page_filling_class(&mut results, &sizes).expect("ended");
        let FetchResult::Content(ended) = &results[1] else { panic!("a content page") };
        assert!(ended.more);
        let kept = ended.records.len();
        assert!((80..128).contains(&kept), "{kept}");
        assert_eq!(ended.records.last().map(|r| r.seq.get()), Some(kept as u64 - 1), "the first ones, in order");
        assert_eq!(padded(&results), 32768, "the answer fills 32 KiB");
        // The last page of the store, with nothing behind it, is left whole.
        let mut last = vec![log, page((0..128).map(record).collect(), false)];
        let sizes: Vec<usize> = last.iter().map(|r| Wire::to_wire(r).len()).collect();
        end_last_page_filling_class(&mut last, &sizes).expect("left");
        assert_eq!(padded(&last), 65536);
    }

    #[test]
    fn a_page_past_a_size_class_ends_at_the_class_below_when_more_follows() {
        use huisclos_protocol::frame::Padding;
        // 128 records of 537 bytes: 68.8 KB, padded to 128 KiB (47 % padding). Ended at
        // 64 KiB, with every byte of its frame but the last record's worth used.
        let keep = entries_filling_class(&[537; 128]).expect("ended earlier");
        assert_eq!(keep, (65536 - 9 - 32) / 537);
        assert_eq!(Padding::SizeClasses.frame_len(32 + keep * 537), 65536);
        // 128 records of 400 bytes: 51 KB in 64 KiB (22 % padding): left whole.
        assert_eq!(entries_filling_class(&[400; 128]), None);
        // Small pages are left whole: the round trip for the rest costs more.
        assert_eq!(entries_filling_class(&[400; 12]), None);
        // One record always stays, however large.
        assert_eq!(entries_filling_class(&[70_000]), None);
        assert_eq!(entries_filling_class(&[70_000, 70_000]), Some(1));
    }
}
