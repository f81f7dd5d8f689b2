//! The `Profile` object: one person's profile on this device, its engine behind a
//! lock, and its connection to the relay on the library's own runtime.
//!
//! Every method converts its arguments, takes the engine's lock for one engine call,
//! and hands the events and list diffs that call raised to the listeners after the
//! lock is released (so a listener may call back in). What the engine raised is queued
//! while its lock is held, so every listener hears it in the engine's order, whichever
//! thread delivers it. The connection takes the same lock only
//! between network waits ([`MachineCell`]), so the app's commands never wait on a
//! slow link.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use huisclos_core::CoreError;
use huisclos_core::client::{Connection, MachineCell, SyncService, SyncState};
use huisclos_core::engine::{Engine, ListUpdate};
use huisclos_core::error::Missing;
use huisclos_core::identity::DisplayName;
use huisclos_core::join::SpaceCard;
use huisclos_core::recovery::RecoveryWords;
use huisclos_core::space::{HistoryMode, SpaceDescription, SpaceName};
use huisclos_core::vault::{KdfParams, Passphrase, StorageKey, Unlock, Vault};
use huisclos_protocol::invitation::Invitation;
use huisclos_transport::client::TransportKind;
use zeroize::Zeroizing;

use crate::error::{HuisClosError, Result};
use crate::events::{Keystore, ProfileEvent, ProfileListener};
use crate::lists::ListListener;
use crate::runtime::runtime;
use crate::types::{self, *};

/// How long a sync waits for more once the engine is idle (answers that start more
/// work, events pushed meanwhile).
const SYNC_QUIET: Duration = Duration::from_millis(300);

pub(crate) struct Inner {
    dir: PathBuf,
    /// `None` once closed or wiped.
    engine: Mutex<Option<Engine>>,
    listener: Mutex<Option<Arc<dyn ProfileListener>>>,
    /// The listeners of observed lists, by the engine's list number.
    pub(crate) list_listeners: Mutex<HashMap<u64, ListListener>>,
    /// What the engine raised, in its order, waiting to reach the listeners.
    deliveries: Mutex<VecDeque<Delivery>>,
    /// Whether a thread is delivering (the others leave their deliveries to it).
    delivering: AtomicBool,
    /// The keystore holding the storage key, for profiles opened by one.
    keystore: Option<Arc<dyn Keystore>>,
    /// One connection at a time: a sync waits for another sync to finish.
    connection: tokio::sync::Mutex<()>,
    /// The watching connection (core's one loop), woken when a command queued work.
    sync: SyncService,
    /// Held (shared) while a file is sealed into the profile's directory outside the
    /// engine's lock, and (exclusive) by the panic wipe: a wipe never runs while chunks
    /// are being written into the directory it removes.
    pub(crate) sealing: std::sync::RwLock<()>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in an engine call is caught at the boundary; the engine's state is
    // written atomically per step, so what the lock guards stays usable.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Something the engine raised, for a listener.
enum Delivery {
    Event(ProfileEvent),
    List(ListUpdate),
}

/// Ends a delivery round even if a listener panicked in it.
struct Delivering<'a>(&'a AtomicBool);

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Inner {
    /// The profile's directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs one engine call, then hands its events and list diffs to the listeners.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Engine) -> huisclos_core::Result<R>) -> Result<R> {
        let outcome = {
            let mut guard = lock(&self.engine);
            let engine = guard.as_mut().ok_or_else(HuisClosError::closed)?;
            let outcome = f(engine);
            self.queue(engine);
            outcome
        };
        self.deliver();
        Ok(outcome?)
    }

    /// Queues what the engine raised; called with the engine's lock held, so the
    /// queue keeps the engine's order.
    fn queue(&self, engine: &mut Engine) {
        let mut deliveries = lock(&self.deliveries);
        deliveries.extend(std::iter::from_fn(|| engine.poll_event()).map(|event| Delivery::Event(event.into())));
        // A store error leaves the changes noted in the engine, for the next step.
        while let Ok(Some(update)) = engine.poll_list_update() {
            deliveries.push_back(Delivery::List(update));
        }
    }

    /// Hands the queue to the listeners, unless another thread is at it (it then
    /// delivers what was queued here too, after what was queued before).
    pub(crate) fn deliver(&self) {
        loop {
            if self.delivering.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
                return;
            }
            let round = Delivering(&self.delivering);
            loop {
                let next = lock(&self.deliveries).pop_front();
                match next {
                    None => break,
                    Some(Delivery::Event(event)) => {
                        let listener = lock(&self.listener).clone();
                        if let Some(listener) = listener {
                            listener.on_event(event);
                        }
                    }
                    Some(Delivery::List(update)) => {
                        let listener = lock(&self.list_listeners).get(&update.list().get()).cloned();
                        if let Some(listener) = listener {
                            listener.hand(update);
                        }
                    }
                }
            }
            drop(round);
            // Queued after this round's last look and left to it: deliver it now.
            if lock(&self.deliveries).is_empty() {
                return;
            }
        }
    }

    /// Queues a list's first state for its listener (with the engine's lock held, so
    /// it comes before any diff of the list).
    pub(crate) fn queue_first(&self, update: ListUpdate) {
        lock(&self.deliveries).push_back(Delivery::List(update));
    }

    /// As [`Inner::with`], for a call that queued work for the relay.
    pub(crate) fn act<R>(&self, f: impl FnOnce(&mut Engine) -> huisclos_core::Result<R>) -> Result<R> {
        let outcome = self.with(f);
        self.sync.wake();
        outcome
    }

    fn dispatch(&self, events: Vec<ProfileEvent>) {
        lock(&self.deliveries).extend(events.into_iter().map(Delivery::Event));
        self.deliver();
    }

    /// Tells the listener the watching connection's state (not its attempts to
    /// connect, which say nothing new).
    fn report(&self, state: &SyncState) {
        let (online, transport, reason, relay_key_not_pinned, retry_in_seconds) = match state {
            SyncState::Online(kind) => (true, Some(transport(*kind)), None, false, None),
            SyncState::Offline { error, relay_key_not_pinned, retry_in } => (
                false,
                None,
                // A refused key is said in the person's language, as the error says it:
                // the app shows it as a security notice.
                Some(if *relay_key_not_pinned {
                    crate::l10n::reason(&CoreError::Transport(
                        huisclos_core::error::TransportFailure::RelayKeyNotPinned,
                    ))
                } else {
                    error.clone()
                }),
                *relay_key_not_pinned,
                Some(u32::try_from(retry_in.as_secs().max(1)).unwrap_or(u32::MAX)),
            ),
            SyncState::Stopped => (false, None, None, false, None),
            _ => return,
        };
        self.dispatch(vec![ProfileEvent::SyncState {
            online,
            transport,
            reason,
            relay_key_not_pinned,
            retry_in_seconds,
        }]);
    }

    async fn connect(self: &Arc<Self>, cell: &mut SharedEngine) -> Result<Connection> {
        let (endpoint, pins) = self.with(|engine| {
            let missing = || CoreError::NotFound(Missing::Relay);
            Ok((engine.relay().cloned().ok_or_else(missing)?, engine.relay_pins().ok_or_else(missing)?))
        })?;
        let addresses = endpoint.resolve()?;
        Ok(Connection::open(cell, &addresses, pins).await?)
    }

    async fn sync_once(self: Arc<Self>) -> Result<SyncOutcome> {
        let _one_connection = self.connection.lock().await;
        let mut cell = SharedEngine(self.clone());
        let connection = self.connect(&mut cell).await?;
        let transport = transport(connection.kind());
        let outcome = connection.sync_until_quiet(&mut cell, SYNC_QUIET).await;
        connection.close(&mut cell);
        outcome?;
        self.outcome(Some(transport))
    }

    fn outcome(&self, transport: Option<Transport>) -> Result<SyncOutcome> {
        self.with(|engine| {
            let (uploads, downloads) = engine.pending_transfers()?;
            Ok(SyncOutcome {
                transport,
                outbox: u64::try_from(engine.outbox_len()?).unwrap_or(u64::MAX),
                uploads: u32::try_from(uploads).unwrap_or(u32::MAX),
                downloads: u32::try_from(downloads).unwrap_or(u32::MAX),
            })
        })
    }

    /// Stays connected through [`SyncService`] until told to stop or the profile is
    /// closed; one connection at a time (a sync started before waits).
    async fn watch(self: Arc<Self>) {
        let _one_connection = self.connection.lock().await;
        let mut cell = SharedEngine(self.clone());
        let relay = |cell: &mut SharedEngine| -> huisclos_core::Result<_> {
            let (endpoint, pins) = cell.step(|engine| (engine.relay().cloned(), engine.relay_pins()))?;
            let endpoint = endpoint.ok_or(CoreError::NotFound(Missing::Relay))?;
            let pins = pins.ok_or(CoreError::NotFound(Missing::Relay))?;
            Ok((endpoint.resolve()?, pins))
        };
        // `Closed`: the profile was locked or wiped; there is no one left to tell.
        let _ = self.sync.run(&mut cell, relay, |_| {}).await;
    }
}

fn transport(kind: TransportKind) -> Transport {
    match kind {
        TransportKind::Quic => Transport::Quic,
        TransportKind::Tcp => Transport::Tcp,
    }
}

/// The engine as a connection reaches it: the lock for one step, then the step's
/// events and diffs to the listeners.
struct SharedEngine(Arc<Inner>);

impl MachineCell for SharedEngine {
    type Inner = Engine;

    fn step<R>(&mut self, f: impl FnOnce(&mut Engine) -> R) -> huisclos_core::Result<R> {
        let outcome = {
            let mut guard = lock(&self.0.engine);
            let engine = guard.as_mut().ok_or(CoreError::Closed)?;
            let outcome = f(engine);
            self.0.queue(engine);
            outcome
        };
        self.0.deliver();
        Ok(outcome)
    }
}

/// What will unlock a profile being created.
enum NewSecret {
    Passphrase(Passphrase),
    Keystore(Arc<dyn Keystore>),
    Both(Passphrase, Arc<dyn Keystore>),
}

/// One person's profile on this device.
#[derive(uniffi::Object)]
pub struct Profile {
    pub(crate) inner: Arc<Inner>,
}

/// A profile the app lets go of stops its watching connection (which holds the engine
/// otherwise, for ever).
impl Drop for Profile {
    fn drop(&mut self) {
        self.inner.sync.stop();
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

impl Profile {
    fn from_engine(dir: PathBuf, mut engine: Engine, keystore: Option<Arc<dyn Keystore>>) -> Arc<Self> {
        engine.set_now(huisclos_core::client::now());
        Arc::new(Self {
            inner: Arc::new_cyclic(|reporter: &std::sync::Weak<Inner>| {
                let reporter = reporter.clone();
                Inner {
                    dir,
                    engine: Mutex::new(Some(engine)),
                    listener: Mutex::new(None),
                    list_listeners: Mutex::new(HashMap::new()),
                    deliveries: Mutex::new(VecDeque::new()),
                    delivering: AtomicBool::new(false),
                    keystore,
                    connection: tokio::sync::Mutex::new(()),
                    sealing: std::sync::RwLock::new(()),
                    sync: SyncService::new(move |state| {
                        if let Some(inner) = reporter.upgrade() {
                            inner.report(state);
                        }
                    }),
                }
            }),
        })
    }

    /// Creates a new profile in `dir` (restored from `words`, if given), unlocked by a
    /// passphrase or by a random key the keystore keeps. Everything is checked before
    /// the keystore is asked to keep a key, so a refused call leaves nothing behind.
    fn create(dir: &str, name: &str, words: Option<&RecoveryWords>, secret: NewSecret) -> Result<Arc<Self>> {
        let path = PathBuf::from(dir);
        let name = DisplayName::new(name)?;
        if Vault::exists(&path) {
            return Err(CoreError::ProfileExists(dir.to_owned()).into());
        }
        let (unlock, keystore) = match secret {
            NewSecret::Passphrase(passphrase) => (Unlock::Passphrase(passphrase), None),
            NewSecret::Keystore(keystore) => {
                let key = StorageKey::generate();
                keystore.store_key(dir.to_owned(), Zeroizing::new(key.expose_secret().to_vec()).to_vec())?;
                (Unlock::Keystore(key), Some(keystore))
            }
            NewSecret::Both(passphrase, keystore) => {
                passphrase.check_new()?;
                let key = StorageKey::generate();
                keystore.store_key(dir.to_owned(), Zeroizing::new(key.expose_secret().to_vec()).to_vec())?;
                (Unlock::PassphraseAndKeystore(passphrase, key), Some(keystore))
            }
        };
        let vault = Arc::new(Vault::create(&path, &unlock, KdfParams::DEFAULT)?);
        let engine = match words {
            Some(words) => Engine::recover(vault, name, words)?,
            None => Engine::create(vault, name)?,
        };
        Ok(Self::from_engine(path, engine, keystore))
    }

    fn open(dir: &str, unlock: &Unlock, keystore: Option<Arc<dyn Keystore>>) -> Result<Arc<Self>> {
        let path = PathBuf::from(dir);
        if !Vault::exists(&path) {
            return Err(CoreError::NoProfile(dir.to_owned()).into());
        }
        let engine = Engine::open(&path, unlock)?;
        Ok(Self::from_engine(path, engine, keystore))
    }

    /// The profile a link handed over (see [`crate::LinkingDevice`]).
    pub(crate) fn linked(dir: PathBuf, engine: Engine) -> Arc<Self> {
        Self::from_engine(dir, engine, None)
    }

    fn keystore_key(keystore: &dyn Keystore, dir: &str) -> Result<StorageKey> {
        let key = Zeroizing::new(keystore.load_key(dir.to_owned())?);
        let bytes: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| HuisClosError::Keystore { reason: "the keystore gave a key that is not 32 bytes".into() })?;
        Ok(StorageKey::from_bytes(bytes))
    }
}

#[uniffi::export]
impl Profile {
    /// Creates a new profile in `dir` (which must not hold one), sealed under a key
    /// stretched from `passphrase` with Argon2id.
    #[uniffi::constructor]
    pub fn create_with_passphrase(dir: String, name: String, passphrase: String) -> Result<Arc<Self>> {
        Self::create(&dir, &name, None, NewSecret::Passphrase(Passphrase::new(passphrase)))
    }

    /// Creates a new profile in `dir` whose storage key is random and kept by the
    /// platform keystore under the name `dir`.
    #[uniffi::constructor]
    pub fn create_with_keystore(dir: String, name: String, keystore: Arc<dyn Keystore>) -> Result<Arc<Self>> {
        Self::create(&dir, &name, None, NewSecret::Keystore(keystore))
    }

    /// Creates a new profile in `dir` sealed under a key that needs both `passphrase`
    /// and a random key the platform keystore keeps under the name `dir`: the panic
    /// wipe destroys the keystore's key, and a copy of the disk opens with neither
    /// alone.
    #[uniffi::constructor]
    pub fn create_with_passphrase_and_keystore(
        dir: String,
        name: String,
        passphrase: String,
        keystore: Arc<dyn Keystore>,
    ) -> Result<Arc<Self>> {
        Self::create(&dir, &name, None, NewSecret::Both(Passphrase::new(passphrase), keystore))
    }

    /// Opens a profile made by `create_with_passphrase_and_keystore`.
    #[uniffi::constructor]
    pub fn open_with_passphrase_and_keystore(
        dir: String,
        passphrase: String,
        keystore: Arc<dyn Keystore>,
    ) -> Result<Arc<Self>> {
        let key = Self::keystore_key(keystore.as_ref(), &dir)?;
        Self::open(&dir, &Unlock::PassphraseAndKeystore(Passphrase::new(passphrase), key), Some(keystore))
    }

    /// Restores an identity from its 24 recovery words into a new profile in `dir`,
    /// after every device was lost: join a relay with a new invitation next, then hand
    /// the contact card to a manager of each space, who re-admits it (`readmit`).
    #[uniffi::constructor]
    pub fn recover_with_passphrase(dir: String, name: String, words: String, passphrase: String) -> Result<Arc<Self>> {
        let words = RecoveryWords::parse(&Zeroizing::new(words))?;
        Self::create(&dir, &name, Some(&words), NewSecret::Passphrase(Passphrase::new(passphrase)))
    }

    /// As `recover_with_passphrase`, with the storage key held by the keystore.
    #[uniffi::constructor]
    pub fn recover_with_keystore(
        dir: String,
        name: String,
        words: String,
        keystore: Arc<dyn Keystore>,
    ) -> Result<Arc<Self>> {
        let words = RecoveryWords::parse(&Zeroizing::new(words))?;
        Self::create(&dir, &name, Some(&words), NewSecret::Keystore(keystore))
    }

    /// Opens the profile in `dir` with its passphrase. The profile's duress
    /// passphrase opens a new, empty profile instead and destroys the real one,
    /// saying nothing.
    #[uniffi::constructor]
    pub fn open_with_passphrase(dir: String, passphrase: String) -> Result<Arc<Self>> {
        Self::open(&dir, &Unlock::Passphrase(Passphrase::new(passphrase)), None)
    }

    /// Opens the profile in `dir` with the storage key the keystore keeps for it.
    #[uniffi::constructor]
    pub fn open_with_keystore(dir: String, keystore: Arc<dyn Keystore>) -> Result<Arc<Self>> {
        let key = Self::keystore_key(keystore.as_ref(), &dir)?;
        Self::open(&dir, &Unlock::Keystore(key), Some(keystore))
    }

    /// Sets the listener that hears every event from now on (replacing any other).
    pub fn set_listener(&self, listener: Arc<dyn ProfileListener>) {
        *lock(&self.inner.listener) = Some(listener);
    }

    /// Stops telling the listener.
    pub fn clear_listener(&self) {
        *lock(&self.inner.listener) = None;
    }

    /// This device's profile.
    pub fn whoami(&self) -> Result<Me> {
        self.inner.with(|engine| {
            Ok(Me {
                name: engine.name().to_string(),
                identity: hex::encode(engine.identity().as_bytes()),
                device: engine.device_id().to_string(),
                account: engine.account().map(|a| a.to_string()),
                holds_identity_key: engine.holds_identity_key(),
            })
        })
    }

    /// Remembers the relay of an invitation (`huisclos-invite:` text); the next sync
    /// opens the account with it.
    pub fn join_relay(&self, invitation: String) -> Result<()> {
        let invitation = Invitation::from_text(invitation.trim())?;
        self.inner.act(|engine| engine.join_relay(&invitation))
    }

    /// Connects to the relay, sends everything queued and reads everything new (events
    /// reach the listener meanwhile), then disconnects. Runs on the library's runtime.
    /// While watching, the watching connection does this: a sync only wakes it.
    pub async fn sync(&self) -> Result<SyncOutcome> {
        if self.inner.sync.is_running() {
            self.inner.sync.wake();
            return self.inner.outcome(None);
        }
        let inner = self.inner.clone();
        runtime()?
            .spawn(inner.sync_once())
            .await
            .map_err(|error| HuisClosError::Internal { reason: format!("the sync task failed: {error}") })?
    }

    /// Stays connected in the background (reconnecting after failures) so that new
    /// content and sync state reach the listener as they happen.
    pub fn start_watching(&self) -> Result<()> {
        let runtime = runtime()?;
        if !self.inner.sync.start() {
            return Ok(());
        }
        runtime.spawn(self.inner.clone().watch());
        Ok(())
    }

    /// Closes the watching connection (after any request in flight is answered).
    pub fn stop_watching(&self) {
        self.inner.sync.stop();
    }

    /// Whether the profile is watching.
    pub fn is_watching(&self) -> bool {
        self.inner.sync.is_running()
    }

    /// Locks the profile: the connection stops and the store is closed, so only the
    /// passphrase or the keystore opens it again. Every later call fails with
    /// `Closed`. (Not `close`: Kotlin's `AutoCloseable.close` frees the handle.)
    pub fn lock(&self) {
        self.stop_watching();
        drop(lock(&self.inner.engine).take());
    }

    /// The panic wipe: closes the profile and destroys it, and has the keystore
    /// forget its key. Afterwards nothing in the profile directory opens with any
    /// passphrase or key.
    pub fn wipe(&self) -> Result<()> {
        self.stop_watching();
        // Waits for a file being sealed (seconds at most); a poisoned lock still wipes.
        let _no_sealing = self.inner.sealing.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let engine = lock(&self.inner.engine).take().ok_or_else(HuisClosError::closed)?;
        let wiped = engine.panic_wipe();
        if let Some(keystore) = &self.inner.keystore {
            keystore.delete_key(self.inner.dir.display().to_string())?;
        }
        Ok(wiped?)
    }

    /// Sets the duress passphrase (passphrase profiles only): opening with it later
    /// destroys this profile and opens a decoy made now — named `decoy_name` (this
    /// person's name if none), with its own relay account when `invitation` is given
    /// (the decoy opens it now, so that it has an age of its own).
    pub async fn set_duress_passphrase(
        &self,
        current: String,
        duress: String,
        decoy_name: Option<String>,
        invitation: Option<String>,
    ) -> Result<()> {
        let current = Unlock::Passphrase(Passphrase::new(current));
        let duress = Passphrase::new(duress);
        let invitation = invitation.as_deref().map(Invitation::from_text).transpose().map_err(CoreError::from)?;
        let mut decoy = self.inner.with(|engine| {
            let name = match &decoy_name {
                Some(name) => DisplayName::new(name.clone())?,
                None => engine.name().clone(),
            };
            engine.set_duress_passphrase(&current, &duress, &name, invitation.as_ref())
        })?;
        if invitation.is_none() {
            return Ok(());
        }
        runtime()?
            .spawn(async move {
                let endpoint = decoy.relay().cloned().ok_or(CoreError::NotFound(Missing::Relay))?;
                let addresses = endpoint.resolve()?;
                let connection = Connection::open(&mut decoy, &addresses, endpoint.spki_pin()).await?;
                let outcome = connection.sync_until_quiet(&mut decoy, SYNC_QUIET).await;
                connection.close(&mut decoy);
                Ok::<(), HuisClosError>(outcome?)
            })
            .await
            .map_err(|error| HuisClosError::Internal { reason: format!("the decoy's task failed: {error}") })?
    }

    /// Checks that `passphrase` opens this profile, changing nothing: ask for it again
    /// before showing the recovery words. A duress passphrase is refused here like any
    /// other wrong one, and destroys nothing.
    pub fn verify_passphrase(&self, passphrase: String) -> Result<()> {
        let unlock = Unlock::Passphrase(Passphrase::new(passphrase));
        self.inner.with(|engine| engine.check_unlock(&unlock))
    }

    /// Changes the passphrase, and replaces the key that seals the profile's store, so
    /// that an old copy of its header and the old passphrase open nothing stored from
    /// now on.
    pub fn change_passphrase(&self, current: String, new: String) -> Result<()> {
        let current = Unlock::Passphrase(Passphrase::new(current));
        let new = Unlock::Passphrase(Passphrase::new(new));
        self.inner.with(|engine| engine.change_unlock(&current, &new))
    }

    /// The 24 recovery words of this person's identity, to be written on paper and kept
    /// away from the device. Whoever reads them can become this person: show them only
    /// when asked, never log them.
    pub fn recovery_words(&self) -> Result<String> {
        self.inner.with(|engine| Ok(engine.recovery_words()?.as_str().to_owned()))
    }

    /// This person's contact card (`huisclos-contact:` text), to be invited with.
    pub fn contact_card(&self) -> Result<String> {
        self.inner.with(|engine| Ok(engine.contact_card()?.to_text()))
    }

    /// Creates a space; returns its id.
    pub fn create_space(
        &self,
        name: String,
        description: String,
        policy: Policy,
        keep_history: bool,
    ) -> Result<String> {
        let name = SpaceName::new(name)?;
        let description = SpaceDescription::new(description)?;
        let history = if keep_history { HistoryMode::Keep } else { HistoryMode::None };
        self.inner.act(|engine| Ok(engine.create_space(name, description, policy.into(), history)?.to_string()))
    }

    /// Every space this device knows.
    pub fn spaces(&self) -> Result<Vec<SpaceSummary>> {
        self.inner.with(|engine| Ok(engine.spaces().into_iter().map(SpaceSummary::from).collect()))
    }

    /// One space (`id` as hex), with its feed, library and members.
    ///
    /// # Errors
    /// `NotFound` when this device holds no such space.
    pub fn space(&self, id: String) -> Result<Arc<crate::Space>> {
        let id = types::space_id(&id)?;
        self.inner.with(|engine| engine.space(&id).map(drop))?;
        Ok(Arc::new(crate::Space { inner: self.inner.clone(), id }))
    }

    /// This person's devices.
    pub fn devices(&self) -> Arc<crate::Devices> {
        Arc::new(crate::Devices { inner: self.inner.clone() })
    }

    /// The people met in spaces.
    pub fn contacts(&self) -> Arc<crate::Contacts> {
        Arc::new(crate::Contacts { inner: self.inner.clone() })
    }

    /// Asks to join the space of a card, with a note.
    pub fn request_to_join(&self, space_card: String, note: String) -> Result<()> {
        let card = SpaceCard::from_text(&space_card)?;
        self.inner.act(|engine| engine.request_to_join(&card, &note))
    }
}

/// Whether `dir` holds a profile.
#[uniffi::export]
pub fn profile_exists(dir: String) -> bool {
    Vault::exists(Path::new(&dir))
}

/// The panic wipe of a profile that is locked (or was never opened in this run): no
/// passphrase is needed. The profile's header is overwritten and everything in `dir`
/// removed; the keystore, if given, forgets its key. An open `Profile` of the same
/// directory must be locked first.
#[uniffi::export]
pub fn wipe_profile(dir: String, keystore: Option<Arc<dyn Keystore>>) -> Result<()> {
    let wiped = Vault::wipe(Path::new(&dir));
    if let Some(keystore) = keystore {
        keystore.delete_key(dir)?;
    }
    Ok(wiped?)
}
