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
use huisclos_core::identity::{ContactCard, DisplayName, VerificationOutcome};
use huisclos_core::join::SpaceCard;
use huisclos_core::link::LinkRequest;
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
    fn act<R>(&self, f: impl FnOnce(&mut Engine) -> huisclos_core::Result<R>) -> Result<R> {
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
        let (online, transport, reason, retry_in_seconds) = match state {
            SyncState::Online(kind) => (true, Some(transport(*kind)), None, None),
            SyncState::Offline { error, retry_in } => {
                (false, None, Some(error.clone()), Some(u32::try_from(retry_in.as_secs().max(1)).unwrap_or(u32::MAX)))
            }
            SyncState::Stopped => (false, None, None, None),
            _ => return,
        };
        self.dispatch(vec![ProfileEvent::SyncState { online, transport, reason, retry_in_seconds }]);
    }

    async fn connect(self: &Arc<Self>, cell: &mut SharedEngine) -> Result<Connection> {
        let endpoint = self.with(|engine| engine.relay().cloned().ok_or(CoreError::NotFound(Missing::Relay)))?;
        let addresses = endpoint.resolve()?;
        Ok(Connection::open(cell, &addresses, endpoint.spki_pin()).await?)
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
            let endpoint = cell.step(|engine| engine.relay().cloned())?;
            let endpoint = endpoint.ok_or(CoreError::NotFound(Missing::Relay))?;
            Ok((endpoint.resolve()?, endpoint.spki_pin()))
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

    /// Re-admits a member who recovered their identity on a new device (their new
    /// contact card): their old devices are removed, the new ones added with the same
    /// role.
    pub fn readmit(&self, space: String, contact_card: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let card = ContactCard::from_text(&contact_card)?;
        self.inner.act(|engine| engine.space(&space)?.readmit(&card))
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
    pub fn spaces(&self) -> Result<Vec<Space>> {
        self.inner.with(|engine| Ok(engine.spaces().into_iter().map(Space::from).collect()))
    }

    /// A space's members.
    pub fn members(&self, space: String) -> Result<Vec<Member>> {
        let space = types::space_id(&space)?;
        self.inner.with(|engine| Ok(engine.space(&space)?.members()?.into_iter().map(Member::from).collect()))
    }

    /// Invites the person of a contact card to a space with a role.
    pub fn invite(&self, space: String, contact_card: String, role: Role) -> Result<()> {
        let space = types::space_id(&space)?;
        let card = ContactCard::from_text(&contact_card)?;
        self.inner.act(|engine| engine.space(&space)?.invite(&card, role.into()))
    }

    /// Accepts an invitation to a space.
    pub fn accept_invitation(&self, space: String) -> Result<()> {
        let space = types::space_id(&space)?;
        self.inner.act(|engine| engine.accept_invitation(&space))
    }

    /// Removes a member (with all their devices) from a space.
    pub fn remove_member(&self, space: String, person: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&space)?.remove(&person))
    }

    /// Leaves a space.
    pub fn leave(&self, space: String) -> Result<()> {
        let space = types::space_id(&space)?;
        self.inner.act(|engine| engine.space(&space)?.leave())
    }

    /// Changes a member's role.
    pub fn set_role(&self, space: String, person: String, role: Role) -> Result<()> {
        let space = types::space_id(&space)?;
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&space)?.set_role(&person, role.into()))
    }

    /// Renames a space.
    pub fn rename_space(&self, space: String, name: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let name = SpaceName::new(name)?;
        self.inner.act(|engine| engine.space(&space)?.rename(name))
    }

    /// Describes a space.
    pub fn describe_space(&self, space: String, description: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let description = SpaceDescription::new(description)?;
        self.inner.act(|engine| engine.space(&space)?.describe(description))
    }

    /// Mutes or unmutes a space's new-post notifications.
    pub fn set_muted(&self, space: String, muted: bool) -> Result<()> {
        let space = types::space_id(&space)?;
        self.inner.with(|engine| engine.space(&space)?.set_muted(muted))
    }

    /// Marks everything in a space read.
    pub fn mark_read(&self, space: String) -> Result<()> {
        let space = types::space_id(&space)?;
        self.inner.with(|engine| engine.space(&space)?.mark_read())
    }

    /// A space card (`huisclos-space:` text) to hand out, for open and on-request
    /// spaces.
    pub fn space_card(&self, space: String) -> Result<String> {
        let space = types::space_id(&space)?;
        self.inner.act(|engine| Ok(engine.space(&space)?.card()?.to_text()))
    }

    /// Asks to join the space of a card, with a note.
    pub fn request_to_join(&self, space_card: String, note: String) -> Result<()> {
        let card = SpaceCard::from_text(&space_card)?;
        self.inner.act(|engine| engine.request_to_join(&card, &note))
    }

    /// Requests to join a space waiting for a decision.
    pub fn join_requests(&self, space: String) -> Result<Vec<JoinRequest>> {
        let space = types::space_id(&space)?;
        self.inner
            .with(|engine| Ok(engine.space(&space)?.join_requests()?.into_iter().map(JoinRequest::from).collect()))
    }

    /// Admits a person who asked to join, with a role.
    pub fn approve_request(&self, space: String, person: String, role: Role) -> Result<()> {
        let space = types::space_id(&space)?;
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&space)?.approve_request(&person, role.into()))
    }

    /// Declines a request to join.
    pub fn decline_request(&self, space: String, person: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&space)?.decline_request(&person))
    }

    /// Recreates a stalled space without whoever stalled it; returns the new space.
    pub fn recreate_space(&self, space: String) -> Result<String> {
        let space = types::space_id(&space)?;
        self.inner.act(|engine| Ok(engine.recreate_space(&space)?.to_string()))
    }

    /// Posts to a space; returns the item's id.
    pub fn post(&self, space: String, text: String) -> Result<String> {
        let space = types::space_id(&space)?;
        self.inner.act(|engine| Ok(engine.space(&space)?.post(&text)?.to_string()))
    }

    /// Comments on a post or comment; returns the comment's id.
    pub fn comment(&self, space: String, parent: String, text: String) -> Result<String> {
        let space = types::space_id(&space)?;
        let parent = types::content_id(&parent)?;
        self.inner.act(|engine| Ok(engine.space(&space)?.comment(&parent, &text)?.to_string()))
    }

    /// Adds (`on`) or takes back a reaction.
    pub fn react(&self, space: String, item: String, reaction: String, on: bool) -> Result<()> {
        let space = types::space_id(&space)?;
        let item = types::content_id(&item)?;
        self.inner.act(|engine| engine.space(&space)?.react(&item, &reaction, on).map(drop))
    }

    /// Replaces an item's text.
    pub fn edit(&self, space: String, item: String, text: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let item = types::content_id(&item)?;
        self.inner.act(|engine| engine.space(&space)?.edit(&item, &text).map(drop))
    }

    /// Deletes an item.
    pub fn delete(&self, space: String, item: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let item = types::content_id(&item)?;
        self.inner.act(|engine| engine.space(&space)?.delete(&item).map(drop))
    }

    /// A space's posts and comments, in this device's arrival order.
    pub fn feed(&self, space: String) -> Result<Vec<FeedItem>> {
        let space = types::space_id(&space)?;
        self.inner.with(|engine| Ok(engine.feed(&space)?.into_iter().map(FeedItem::from).collect()))
    }

    /// A page of a space's feed, newest first: at most `limit` items (up to 500) that
    /// arrived before `before` (the newest, if none). The next page is asked with the
    /// last item's `position`. Opening a long feed costs one page, not the feed.
    pub fn feed_page(&self, space: String, before: Option<u64>, limit: u32) -> Result<Vec<FeedItem>> {
        let space = types::space_id(&space)?;
        let limit = usize::try_from(limit.min(500)).unwrap_or(500);
        self.inner.with(|engine| {
            Ok(engine.space(&space)?.feed_page(before, limit)?.into_iter().map(FeedItem::from).collect())
        })
    }

    /// Every item of a space's library: folders before their contents, then the trash.
    pub fn library(&self, space: String) -> Result<Vec<LibraryNode>> {
        let space = types::space_id(&space)?;
        self.inner.with(|engine| Ok(types::library_nodes(&engine.space(&space)?.library()?)))
    }

    /// A file's versions, oldest first.
    pub fn versions(&self, space: String, file: String) -> Result<Vec<FileVersion>> {
        let space = types::space_id(&space)?;
        let file = types::node_id(&file)?;
        self.inner.with(|engine| {
            Ok(engine
                .library(&space)?
                .versions(&file)
                .into_iter()
                .zip(0u32..)
                .map(|(v, index)| FileVersion {
                    index,
                    author: hex::encode(v.stamp.author),
                    at: v.stamp.at,
                    length: v.length,
                })
                .collect())
        })
    }

    /// A note's text.
    pub fn read_note(&self, space: String, note: String) -> Result<String> {
        let space = types::space_id(&space)?;
        let note = types::node_id(&note)?;
        self.inner.with(|engine| engine.space(&space)?.library()?.note(&note).ok_or(CoreError::NotFound(Missing::Note)))
    }

    /// Creates a folder (at the top when `parent` is none); returns its id.
    pub fn create_folder(&self, space: String, parent: Option<String>, name: String) -> Result<String> {
        let space = types::space_id(&space)?;
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| Ok(hex::encode(engine.space(&space)?.create_folder(parent, &name)?)))
    }

    /// Creates a note; returns its id.
    pub fn create_note(&self, space: String, parent: Option<String>, name: String, text: String) -> Result<String> {
        let space = types::space_id(&space)?;
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| Ok(hex::encode(engine.space(&space)?.create_note(parent, &name, &text)?)))
    }

    /// Replaces a note's text.
    pub fn write_note(&self, space: String, note: String, text: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let note = types::node_id(&note)?;
        self.inner.act(|engine| engine.space(&space)?.write_note(&note, &text))
    }

    /// Renames a library item.
    pub fn rename_node(&self, space: String, node: String, name: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let node = types::node_id(&node)?;
        self.inner.act(|engine| engine.space(&space)?.rename_node(&node, &name))
    }

    /// Moves a library item into a folder (to the top when `parent` is none).
    pub fn move_node(&self, space: String, node: String, parent: Option<String>) -> Result<()> {
        let space = types::space_id(&space)?;
        let node = types::node_id(&node)?;
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| engine.space(&space)?.move_node(&node, parent))
    }

    /// Puts a library item in the trash.
    pub fn trash_node(&self, space: String, node: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let node = types::node_id(&node)?;
        self.inner.act(|engine| engine.space(&space)?.trash_node(&node))
    }

    /// Takes a library item out of the trash.
    pub fn restore_node(&self, space: String, node: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let node = types::node_id(&node)?;
        self.inner.act(|engine| engine.space(&space)?.restore_node(&node))
    }

    /// Seals the file at `source` into the profile, chunk by chunk, and queues its
    /// upload (as a new version of `version_of`, or a new file named `name` in
    /// `parent`); returns the file's id. The upload runs at the next sync (or at once
    /// while watching), with `Transfer` events; the file shows in the library once
    /// every chunk is at the relay.
    pub fn put_file(
        &self,
        space: String,
        parent: Option<String>,
        name: String,
        version_of: Option<String>,
        source: String,
    ) -> Result<String> {
        let space = types::space_id(&space)?;
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        let version_of = version_of.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| {
            Ok(hex::encode(engine.space(&space)?.put_file(parent, &name, version_of, Path::new(&source))?))
        })
    }

    /// As [`Profile::put_file`], for an app that holds the file's bytes rather than a
    /// path (a phone's content URI, a desktop's drop): they go straight into sealing,
    /// and are wiped from memory once sealed; nothing of them is written in clear.
    pub fn put_file_bytes(
        &self,
        space: String,
        parent: Option<String>,
        name: String,
        version_of: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<String> {
        let bytes = zeroize::Zeroizing::new(bytes);
        let space = types::space_id(&space)?;
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        let version_of = version_of.as_deref().map(types::node_id).transpose()?;
        let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.inner.act(|engine| {
            let node = engine.space(&space)?.put_file_from(parent, &name, version_of, bytes.as_slice(), length)?;
            Ok(hex::encode(node))
        })
    }

    /// Queues the download of a file's newest version (or version `version`, counted
    /// from the oldest) to `dest`. Each chunk is checked before it is written; `dest`
    /// appears only once complete.
    pub fn get_file(&self, space: String, file: String, version: Option<u32>, dest: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let file = types::node_id(&file)?;
        let version = version.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        self.inner.act(|engine| engine.space(&space)?.get_file(&file, version, Path::new(&dest)))
    }

    /// This person's devices.
    pub fn devices(&self) -> Result<Vec<Device>> {
        self.inner.with(|engine| {
            let this = engine.device_id();
            Ok(engine.devices().iter().map(|c| Device::from_certificate(c, &this)).collect())
        })
    }

    /// A link offer (`huisclos-link-offer:` text, or a QR code of it) for a new
    /// device of this person's.
    pub fn link_offer(&self) -> Result<String> {
        self.inner.act(|engine| Ok(engine.link_offer()?.to_text()))
    }

    /// Approves a new device's link request (after the person compared the code both
    /// devices show); returns the new device.
    pub fn approve_link(&self, request: String) -> Result<Device> {
        let request = LinkRequest::from_text(&request)?;
        self.inner.act(|engine| {
            let certificate = engine.approve_link(&request)?;
            Ok(Device::from_certificate(&certificate, &engine.device_id()))
        })
    }

    /// Revokes one of this person's other devices: removed from every space, refused
    /// by the relay.
    pub fn revoke_device(&self, device: String) -> Result<()> {
        let device = types::device_id(&device)?;
        self.inner.act(|engine| engine.revoke_device(&device))
    }

    /// The six digits to compare with those the new device shows, for its link
    /// request (text), before approving it.
    pub fn link_confirmation_code(&self, request: String) -> Result<String> {
        let request = LinkRequest::from_text(&request)?;
        self.inner.with(|engine| engine.link_confirmation_code(&request))
    }

    /// When the device that held the identity key is lost or seized: from the 24
    /// recovery words, this device becomes the holder and replaces the key at once
    /// (contacts see the change, signed by the old key), revoking the `lost` devices
    /// (hex ids). Show the new recovery words afterwards.
    pub fn restore_identity_key(&self, words: String, lost: Vec<String>) -> Result<()> {
        let words = RecoveryWords::parse(&Zeroizing::new(words))?;
        let lost = lost.iter().map(|d| types::device_id(d)).collect::<Result<Vec<_>>>()?;
        self.inner.act(|engine| engine.restore_identity_key(&words, &lost))
    }

    /// Whether new devices of members need a space manager's approval in `space`.
    pub fn set_device_approval(&self, space: String, on: bool) -> Result<()> {
        let space = types::space_id(&space)?;
        self.inner.act(|engine| engine.space(&space)?.set_device_approval(on))
    }

    /// Members' new devices waiting for a space manager's approval in `space`.
    pub fn pending_devices(&self, space: String) -> Result<Vec<Device>> {
        let space = types::space_id(&space)?;
        self.inner.with(|engine| {
            let this = engine.device_id();
            Ok(engine.space(&space)?.pending_devices()?.iter().map(|c| Device::from_certificate(c, &this)).collect())
        })
    }

    /// Adds a member's pending device to `space` (a space manager's approval).
    pub fn approve_device(&self, space: String, device: String) -> Result<()> {
        let space = types::space_id(&space)?;
        let device = types::device_id(&device)?;
        self.inner.act(|engine| engine.space(&space)?.approve_device(&device))
    }

    /// The people met in spaces.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        self.inner.with(|engine| Ok(engine.contacts().into_iter().map(Contact::from).collect()))
    }

    /// The safety number shared with a person, to compare in person or by call.
    pub fn safety_number(&self, person: String) -> Result<String> {
        let person = types::person(&person)?;
        self.inner.with(|engine| Ok(engine.safety_number(&person).to_string()))
    }

    /// The bytes of the QR code to show a person, for them to scan.
    pub fn verification_code(&self, person: String) -> Result<Vec<u8>> {
        let person = types::person(&person)?;
        self.inner.with(|engine| Ok(engine.verification_code(&person).to_bytes()))
    }

    /// Checks a code scanned from a person's screen; a match marks them verified.
    pub fn check_scanned_code(&self, person: String, scanned: Vec<u8>) -> Result<Verification> {
        let person = types::person(&person)?;
        self.inner.with(|engine| {
            Ok(match engine.check_scanned_code(&scanned, &person)? {
                VerificationOutcome::Verified => Verification::Verified,
                VerificationOutcome::Mismatch => Verification::Mismatch,
            })
        })
    }

    /// Marks a person verified after comparing safety numbers.
    pub fn mark_verified(&self, person: String) -> Result<()> {
        let person = types::person(&person)?;
        self.inner.with(|engine| engine.mark_verified(&person))
    }

    /// Accepts the new identity key an account now shows (after comparing safety
    /// numbers again); the contact starts unverified.
    pub fn accept_identity_change(&self, account: String) -> Result<Contact> {
        let account = types::account_id(&account)?;
        self.inner.with(|engine| Ok(engine.accept_identity_change(&account)?.into()))
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
