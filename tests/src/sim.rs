//! An in-process relay and simulated devices, for deterministic engine tests.
//!
//! [`SimRelay`] is the relay's real request handler ([`huisclos_relay::service::Relay`])
//! over the real sled store in a temporary directory, called directly instead of over a
//! socket. [`SimDevice`] is one device: a real profile (an Argon2id vault on disk) and
//! its [`Engine`], whose requests the test moves one at a time. Nothing here reads the
//! wall clock for the engine: each device's clock starts at a fixed time and advances
//! one second per step, so a run repeats exactly.
//!
//! A test can hold a device's next request ([`SimDevice::hold`]) while other devices
//! act, then deliver it ([`SimDevice::step`]); or let the relay take a request and lose
//! the answer ([`SimDevice::lose_answer`]), as a dropped connection would; or play a
//! malicious relay, changing each true answer before the device sees it
//! ([`SimDevice::step_through`], [`SimDevice::sync_through`]).

// Test support: a failure here is a failed test, reported where it happens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use huisclos_core::engine::{ClientEvent, Engine, Now};
use huisclos_core::identity::DisplayName;
use huisclos_core::link::{LinkOffer, LinkRequest};
use huisclos_core::linker::{LinkStatus, Linker};
use huisclos_core::recovery::RecoveryWords;
use huisclos_core::vault::{KdfParams, Passphrase, Unlock, Vault};
use huisclos_protocol::auth::TlsExporter;
use huisclos_protocol::ids::RequestId;
use huisclos_protocol::messages::{RelayError, RelayMessage, Request, RequestBody, ResponseBody};
use huisclos_relay::config::PolicyLimits;
use huisclos_relay::hub::EventSink;
use huisclos_relay::service::{Connection, Relay, Stream};
use huisclos_relay::store::sled_store::SledStore;
use huisclos_transport::tls::SpkiPin;
use rand_core::{OsRng, RngCore};

/// The engine's clock in simulated runs starts here (2026-09-21).
pub const START: Now = 1_790_000_000;

/// Steps one device may take in [`SimDevice::drive`] before the run counts as a
/// livelock.
const MAX_STEPS: usize = 200_000;

/// Whether simulated devices keep their profiles in memory (`HUISCLOS_SIM_STORE=memory`)
/// rather than on disk: the same engine tests then run on the memory backend, to
/// compare the two. A test that closes and reopens a profile needs the disk.
pub fn in_memory() -> bool {
    std::env::var("HUISCLOS_SIM_STORE").is_ok_and(|store| store == "memory")
}

/// The relay's handler and store, in-process.
pub struct SimRelay {
    relay: Relay<SledStore>,
    dir: tempfile::TempDir,
    next_connection: AtomicU64,
}

impl Default for SimRelay {
    fn default() -> Self {
        Self::new()
    }
}

impl SimRelay {
    /// A fresh relay with an empty store. Rate limits are lifted (a simulated device
    /// sends as fast as the test runs); every other limit is the default.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("relay")).unwrap();
        Self { relay: Relay::new(Arc::new(store), Self::limits()), dir, next_connection: AtomicU64::new(1) }
    }

    /// Rate limits lifted; every other limit the default.
    fn limits() -> PolicyLimits {
        PolicyLimits {
            requests_per_second: 1_000_000,
            request_burst: 1_000_000,
            claims_per_hour: 1_000_000,
            signals_per_second: 1_000_000,
            signal_burst: 1_000_000,
            ..PolicyLimits::default()
        }
    }

    /// A relay whose store starts as a copy of the sled directory `from` (a relay
    /// store an earlier release wrote: a fixture), opened with today's code. The
    /// copy lives in a new temporary directory; `from` is left as it was.
    pub fn open_copy(from: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(from, &dir.path().join("relay"));
        let store = SledStore::open(&dir.path().join("relay")).unwrap();
        Self { relay: Relay::new(Arc::new(store), Self::limits()), dir, next_connection: AtomicU64::new(1) }
    }

    /// Writes everything the store holds to disk and copies its directory to `to`,
    /// as a fixture of this release's relay store.
    pub fn copy_store_to(&self, to: &Path) {
        use huisclos_relay::store::RelayStore;
        self.relay.store().flush().unwrap();
        copy_dir(&self.dir.path().join("relay"), to);
    }

    /// Runs the relay's sweep of expired messages as if `days` had passed since now
    /// (the relay dates messages by the wall clock); returns how many it deleted.
    pub fn sweep_expired_after_days(&self, days: u64) -> usize {
        use huisclos_relay::store::RelayStore;
        let later = huisclos_relay::store::sled_store::now().get() + days * 24 * 3600;
        let later = huisclos_protocol::ids::UnixSeconds::new(later).unwrap();
        self.relay.store().expire_messages(later, usize::MAX).unwrap()
    }

    /// What the store hands out for a claim of `device`'s key package, taken directly
    /// from the store (a malicious relay can serve it to anyone).
    pub fn take_key_package(
        &self,
        device: huisclos_protocol::ids::DeviceId,
    ) -> huisclos_protocol::messages::ClaimedPackage {
        use huisclos_relay::store::RelayStore;
        self.relay.store().claim_key_packages(&[device]).unwrap().remove(0).expect("the device has key packages")
    }

    /// Connects `engine` (one that no [`SimDevice`] holds, such as a duress decoy) on
    /// a fresh connection, drives it until it has nothing left to send at `now`, and
    /// disconnects it.
    pub async fn drive_engine(&self, engine: &mut Engine, now: Now) {
        let link = self.connect();
        engine.connected(link.exporter.clone(), now);
        for _ in 0..MAX_STEPS {
            let Some((id, body)) = engine.poll_request(now) else { break };
            let answer = self.answer(&link, id, body).await;
            engine.handle_response(id, answer, now);
        }
        while engine.poll_event().is_some() {}
        engine.disconnected();
        self.disconnect(&link);
    }

    /// Every content record the store holds for `group`, in order: what a compromised
    /// relay (or anyone who copied its database) has of a space.
    pub fn content_records(
        &self,
        group: huisclos_protocol::ids::GroupId,
    ) -> Vec<(huisclos_protocol::ids::ContentId, Vec<u8>)> {
        use huisclos_relay::store::RelayStore;
        let mut out = Vec::new();
        let mut from = 0;
        loop {
            let page = self
                .relay
                .store()
                .fetch_content(group, huisclos_protocol::ids::ContentSeq::new(from).unwrap(), 256, 1 << 22)
                .unwrap();
            for record in page.records.iter() {
                from = record.seq.get() + 1;
                out.push((record.record, record.sealed.as_bytes().to_vec()));
            }
            if !page.more {
                return out;
            }
        }
    }

    /// The directory holding the relay's store files.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("relay")
    }

    /// A new single-use invitation (its address and pin are placeholders: simulated
    /// devices reach the relay without a socket).
    pub async fn invitation(&self) -> huisclos_protocol::invitation::Invitation {
        self.relay
            .invite(
                &["127.0.0.1:4433".to_owned()],
                SpkiPin([0; 32]),
                std::time::SystemTime::now() + Duration::from_secs(3600),
            )
            .await
            .unwrap()
    }

    fn connect(&self) -> SimLink {
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let mut exporter = [0u8; 32];
        OsRng.fill_bytes(&mut exporter);
        let exporter = TlsExporter::from_bytes(exporter);
        let connection =
            Connection::new(id, exporter.clone(), self.relay.limits(), self.relay.budget.connection_share());
        let stream = Stream { key: (id, 0), sink: Arc::new(EventSink::default()) };
        SimLink { connection, stream, exporter }
    }

    fn disconnect(&self, link: &SimLink) {
        if let Some((device, _)) = link.connection.device() {
            self.relay.hub.device_disconnected(device, link.connection.id);
        }
        self.relay.hub.forget_stream(link.stream.key);
    }

    async fn answer(&self, link: &SimLink, id: RequestId, body: RequestBody) -> Result<ResponseBody, RelayError> {
        match self.relay.handle(&link.connection, &link.stream, Request { id, body }).await {
            RelayMessage::Response(response) => Ok(response.body),
            RelayMessage::Failure(failure) => Err(failure.error),
            RelayMessage::Event(_) => Err(RelayError::Internal),
        }
    }
}

/// An authenticated connection of a device that has just opened an account, for
/// requests sent by hand (the fuzz harness).
pub struct SimSession {
    link: SimLink,
    next: AtomicU64,
    account: huisclos_protocol::ids::AccountId,
}

impl SimRelay {
    /// A new account's device, logged in on a fresh connection.
    pub async fn session(&self) -> SimSession {
        use huisclos_protocol::auth::{AuthPurpose, DevicePublicKey, sign_device_auth};
        use huisclos_protocol::messages::{CreateAccount, GetChallenge};
        let link = self.connect();
        let invitation = self.invitation().await;
        let Ok(ResponseBody::Challenge(challenge)) =
            self.answer(&link, RequestId::new(1).unwrap(), GetChallenge {}.into()).await
        else {
            panic!("no challenge")
        };
        let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
        let token = invitation.token().clone();
        let signature = sign_device_auth(&key, &link.exporter, &challenge.nonce, AuthPurpose::CreateAccount(&token));
        let body = CreateAccount { invitation: token, device_key: DevicePublicKey::from_signing_key(&key), signature };
        let Ok(ResponseBody::AccountCreated(created)) =
            self.answer(&link, RequestId::new(2).unwrap(), body.into()).await
        else {
            panic!("the account does not open")
        };
        SimSession { link, next: AtomicU64::new(3), account: created.account }
    }

    /// Sends `body` on `session` and returns the relay's answer.
    pub async fn session_request(&self, session: &SimSession, body: RequestBody) -> Result<ResponseBody, RelayError> {
        let id = RequestId::new(session.next.fetch_add(1, Ordering::Relaxed)).unwrap();
        self.answer(&session.link, id, body).await
    }

    /// Checks that the session's account has not stored more than its quota.
    pub fn check_quota(&self, session: &SimSession) {
        use huisclos_relay::store::RelayStore;
        let used = self.relay.store().usage(session.account).unwrap();
        assert!(used.get() <= self.relay.limits().quota_bytes, "an account stored past its quota: {used:?}");
    }

    /// Checks the store's invariants for `groups`: each log's sequence numbers are dense
    /// from 0, and each epoch holds at most one commit, which closes it.
    pub fn check_logs(&self, groups: &[huisclos_protocol::ids::GroupId]) {
        use huisclos_protocol::ids::{Epoch, Seq};
        use huisclos_protocol::messages::{EntryKind, LogPageEnd};
        use huisclos_relay::store::RelayStore;
        let store = self.relay.store();
        for group in groups {
            let mut expected = 0u64;
            for epoch in 0u64.. {
                let epoch = Epoch::new(epoch).unwrap();
                let (mut exists, mut commits) = (false, 0);
                while let Ok(page) = store.fetch_log(*group, epoch, Seq::new(expected).unwrap(), 1024, 1 << 20) {
                    exists = true;
                    for entry in page.entries.iter() {
                        assert_eq!(entry.seq.get(), expected, "the log of a group is dense");
                        assert_eq!(commits, 0, "nothing follows an epoch's commit in that epoch");
                        expected += 1;
                        if entry.kind == EntryKind::Commit {
                            commits += 1;
                        }
                    }
                    if page.end != LogPageEnd::More {
                        break;
                    }
                }
                if !exists || commits == 0 {
                    break;
                }
            }
        }
    }
}

struct SimLink {
    connection: Connection,
    stream: Stream,
    exporter: TlsExporter,
}

/// One simulated device: a profile on disk and its engine.
pub struct SimDevice {
    /// Its display name.
    pub name: String,
    engine: Option<Engine>,
    link: Option<SimLink>,
    held: Option<(RequestId, RequestBody)>,
    /// Every event the engine reported, in order.
    pub events: Vec<ClientEvent>,
    /// The bytes of the frames the relay pushed to this device, padded to their size
    /// classes.
    pub pushed_bytes: usize,
    dir: tempfile::TempDir,
    passphrase: String,
    clock: Now,
}

impl SimDevice {
    /// A new profile, not yet at any relay.
    pub fn create(name: &str) -> Self {
        let mut device = Self::create_empty(name);
        let vault = device.new_vault();
        device.engine = Some(Engine::create(vault, DisplayName::new(name).unwrap()).unwrap());
        device
    }

    /// The device's vault, new: on disk (opened with its passphrase), or in memory
    /// when `HUISCLOS_SIM_STORE=memory`.
    fn new_vault(&self) -> Arc<Vault> {
        if in_memory() {
            return Arc::new(Vault::in_memory(self.dir.path()).unwrap());
        }
        let unlock = Unlock::Passphrase(Passphrase::new(self.passphrase.clone()));
        Arc::new(Vault::open(self.dir.path(), &unlock).unwrap())
    }

    /// An empty vault and no engine yet.
    fn create_empty(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let passphrase = format!("{name} walks the long way home at dusk");
        let unlock = Unlock::Passphrase(Passphrase::new(passphrase.clone()));
        let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
        if !in_memory() {
            drop(Vault::create(dir.path(), &unlock, params).unwrap());
        }
        Self::unopened(name, dir, passphrase, START)
    }

    /// A device with its profile in `dir`, not opened and not connected.
    fn unopened(name: &str, dir: tempfile::TempDir, passphrase: String, clock: Now) -> Self {
        Self {
            name: name.to_owned(),
            engine: None,
            link: None,
            held: None,
            events: Vec::new(),
            pushed_bytes: 0,
            dir,
            passphrase,
            clock,
        }
    }

    /// A profile that starts as a copy of the profile directory `from` (one an
    /// earlier release wrote: a fixture), opened with `passphrase` by today's code and
    /// not connected. `from` is left as it was.
    pub fn open_copy(name: &str, from: &Path, passphrase: &str) -> Self {
        assert!(!in_memory(), "a fixture is a profile on disk");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(from, dir.path());
        // Its clock later than any time the fixture's device saw.
        let mut device = Self::unopened(name, dir, passphrase.to_owned(), START + 10_000_000);
        device.reopen();
        device
    }

    /// A new profile that redeems an invitation at `relay` and comes online.
    pub async fn join(relay: &SimRelay, name: &str) -> Self {
        let mut device = Self::create(name);
        device.engine_mut().join_relay(&relay.invitation().await).unwrap();
        device.connect(relay);
        device.drive(relay).await;
        assert!(device.engine().account().is_some(), "{name} has an account");
        device
    }

    /// A new device restored from recovery words (every other device of the person
    /// lost), joined to `relay` with a new invitation and online.
    pub async fn recover(relay: &SimRelay, name: &str, words: &RecoveryWords) -> Self {
        let mut device = Self::create_empty(name);
        let vault = device.new_vault();
        device.engine = Some(Engine::recover(vault, DisplayName::new(name).unwrap(), words).unwrap());
        device.engine_mut().join_relay(&relay.invitation().await).unwrap();
        device.connect(relay);
        device.drive(relay).await;
        assert!(device.engine().account().is_some(), "{name} has an account again");
        device
    }

    /// A new device linked to `existing`'s identity, the way a person does it: the
    /// existing device shows an offer, the new one answers with a request, the
    /// existing one approves it and sends the grant through the relay, and the new
    /// device, once it has read the grant, comes online and announces itself. Both
    /// devices are driven until idle; the existing device adds the new one to its
    /// spaces at its next sync.
    pub async fn link(relay: &SimRelay, existing: &mut SimDevice, name: &str) -> Self {
        let mut device = Self::create_empty(name);
        let vault = device.new_vault();
        let offer_shown = existing.engine_mut().link_offer().unwrap();
        let offer = LinkOffer::from_text(&offer_shown.to_text()).unwrap();
        let mut linker = Linker::create(vault, offer, DisplayName::new(name).unwrap()).unwrap();
        let request = LinkRequest::from_text(&linker.request().to_text()).unwrap();
        assert_eq!(request.confirmation_code(&offer_shown), linker.confirmation_code());
        existing.engine_mut().approve_link(&request).unwrap();
        existing.drive(relay).await;

        let link = relay.connect();
        linker.connected(link.exporter.clone(), device.tick());
        while let Some((id, body)) = linker.poll_request(device.tick()) {
            let answer = relay.answer(&link, id, body).await;
            linker.handle_response(id, answer, device.tick());
        }
        relay.disconnect(&link);
        assert_eq!(linker.status(), LinkStatus::Linked, "{:?}", linker.take_refusal());
        device.engine = Some(linker.take_engine().unwrap());
        device.connect(relay);
        device.drive(relay).await;
        device
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }

    /// The engine, to give it commands.
    pub fn engine_mut(&mut self) -> &mut Engine {
        self.engine.as_mut().unwrap()
    }

    /// The profile's directory.
    pub fn profile_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The profile's passphrase.
    pub fn passphrase(&self) -> &str {
        &self.passphrase
    }

    fn tick(&mut self) -> Now {
        self.clock += 1;
        self.clock
    }

    /// Opens a connection to `relay` (a new TLS session, as far as the engine knows).
    pub fn connect(&mut self, relay: &SimRelay) {
        self.disconnect(relay);
        let link = relay.connect();
        let now = self.tick();
        let exporter = link.exporter.clone();
        self.link = Some(link);
        self.engine_mut().connected(exporter, now);
    }

    /// Drops the connection; a held request is lost with it.
    pub fn disconnect(&mut self, relay: &SimRelay) {
        self.held = None;
        if let Some(link) = self.link.take() {
            relay.disconnect(&link);
            self.engine_mut().disconnected();
        }
    }

    /// Whether the device is connected.
    pub fn is_connected(&self) -> bool {
        self.link.is_some()
    }

    /// Closes the profile and opens it again from disk with its passphrase, as after a
    /// restart of the app. The connection is dropped.
    pub fn restart(&mut self, relay: &SimRelay) {
        self.disconnect(relay);
        self.close();
        self.reopen();
    }

    /// Closes the profile (the vault's files are released). Disconnect first.
    pub fn close(&mut self) {
        assert!(self.link.is_none(), "disconnect before closing");
        self.engine = None;
    }

    /// The panic wipe, from this device: disconnects, closes and destroys the profile.
    pub fn panic_wipe(&mut self, relay: &SimRelay) {
        if self.link.is_some() {
            self.disconnect(relay);
        }
        self.engine.take().expect("an open profile").panic_wipe().unwrap();
    }

    /// Opens the closed profile with `passphrase` (the profile's own, or its duress
    /// passphrase).
    pub fn open_with(&mut self, passphrase: &str) {
        let unlock = Unlock::Passphrase(Passphrase::new(passphrase));
        self.engine = Some(Engine::open(self.dir.path(), &unlock).unwrap());
    }

    /// Opens the closed profile again with its passphrase.
    pub fn reopen(&mut self) {
        let unlock = Unlock::Passphrase(Passphrase::new(self.passphrase.clone()));
        let vault = Arc::new(Vault::open(self.dir.path(), &unlock).unwrap());
        self.engine = Some(Engine::load(vault).unwrap());
    }

    fn feed_events(&mut self) {
        let now = self.tick();
        let pushed = self.link.as_ref().map(|link| link.stream.sink.drain()).unwrap_or_default();
        let engine = self.engine.as_mut().unwrap();
        for event in pushed {
            let message = huisclos_protocol::messages::RelayMessage::Event(event.clone());
            let frame = huisclos_protocol::codec::Wire::to_wire(&message).len();
            self.pushed_bytes += huisclos_protocol::frame::Padding::SizeClasses.frame_len(frame);
            engine.handle_event(event, now);
        }
        while let Some(event) = engine.poll_event() {
            crate::assert_no_prose(&event);
            self.events.push(event);
        }
    }

    /// The request the device would send next, kept until [`SimDevice::step`] delivers
    /// it.
    pub fn hold(&mut self) -> Option<&RequestBody> {
        if self.held.is_none() && self.link.is_some() {
            self.feed_events();
            let now = self.tick();
            self.held = self.engine_mut().poll_request(now);
        }
        self.held.as_ref().map(|(_, body)| body)
    }

    /// Delivers the next request to the relay and feeds the answer back. Returns
    /// `false` when the device had nothing to send.
    pub async fn step(&mut self, relay: &SimRelay) -> bool {
        if self.hold().is_none() {
            return false;
        }
        let (id, body) = self.held.take().unwrap();
        let answer = relay.answer(self.link.as_ref().unwrap(), id, body).await;
        let now = self.tick();
        self.engine_mut().handle_response(id, answer, now);
        self.feed_events();
        true
    }

    /// Sends `body` on this device's connection outside its engine, as a modified
    /// client would, and returns the relay's answer. The engine never sees it.
    pub async fn send_raw(&mut self, relay: &SimRelay, body: RequestBody) -> Result<ResponseBody, RelayError> {
        // Far above the engine's own request ids, so the two never meet.
        static NEXT: AtomicU64 = AtomicU64::new(1 << 40);
        let id = RequestId::new(NEXT.fetch_add(1, Ordering::Relaxed)).unwrap();
        relay.answer(self.link.as_ref().expect("connected"), id, body).await
    }

    /// Steps until the next request is a commit, and keeps it held; returns the commit.
    pub async fn hold_commit(&mut self, relay: &SimRelay) -> huisclos_protocol::messages::MlsMessageBytes {
        loop {
            match self.hold() {
                Some(RequestBody::SubmitCommit(submit)) => return submit.commit.clone(),
                Some(_) => {
                    self.step(relay).await;
                }
                None => panic!("{} has no commit to send", self.name),
            }
        }
    }

    /// Delivers the next request to the relay, lets `tamper` change the relay's answer
    /// as a malicious relay would, and feeds the result to the device. Returns `false`
    /// when the device had nothing to send.
    pub async fn step_through(&mut self, relay: &SimRelay, tamper: &mut Tamper<'_>) -> bool {
        if self.hold().is_none() {
            return false;
        }
        let (id, body) = self.held.take().unwrap();
        let mut answer = relay.answer(self.link.as_ref().unwrap(), id, body.clone()).await;
        tamper_each_read(&body, &mut answer, tamper);
        let now = self.tick();
        self.engine_mut().handle_response(id, answer, now);
        self.feed_events();
        true
    }

    /// As [`SimDevice::step_through`], but `tamper` gets the whole answer, a `Fetched`
    /// as it is (to attack the shape of an answer to reads sent together).
    pub async fn step_through_whole(&mut self, relay: &SimRelay, tamper: &mut Tamper<'_>) -> bool {
        if self.hold().is_none() {
            return false;
        }
        let (id, body) = self.held.take().unwrap();
        let mut answer = relay.answer(self.link.as_ref().unwrap(), id, body.clone()).await;
        tamper(&body, &mut answer);
        let now = self.tick();
        self.engine_mut().handle_response(id, answer, now);
        self.feed_events();
        true
    }

    /// Steps through `tamper` until the device has nothing left to send.
    pub async fn drive_through(&mut self, relay: &SimRelay, tamper: &mut Tamper<'_>) {
        for _ in 0..MAX_STEPS {
            if !self.step_through(relay, tamper).await {
                return;
            }
        }
        panic!("{} still sends after {MAX_STEPS} steps through a tampering relay: a livelock", self.name);
    }

    /// Asks for a full sync and drives it through `tamper`.
    pub async fn sync_through(&mut self, relay: &SimRelay, tamper: &mut Tamper<'_>) {
        if self.link.is_some() {
            self.engine_mut().sync_all();
            self.drive_through(relay, tamper).await;
        }
    }

    /// Answers the next request with `error` in the relay's place (an overloaded or
    /// failing relay); the relay never sees it.
    pub fn refuse_next(&mut self, error: RelayError) -> bool {
        if self.hold().is_none() {
            return false;
        }
        let (id, _) = self.held.take().unwrap();
        let now = self.tick();
        self.engine_mut().handle_response(id, Err(error), now);
        self.feed_events();
        true
    }

    /// The device's clock.
    pub fn clock(&self) -> Now {
        self.clock
    }

    /// Moves the device's clock forward.
    pub fn advance(&mut self, seconds: u64) {
        self.clock += seconds;
    }

    /// Delivers the next request to the relay, which acts on it, and loses the answer
    /// with the connection.
    pub async fn lose_answer(&mut self, relay: &SimRelay) {
        if self.hold().is_none() {
            return;
        }
        let (id, body) = self.held.take().unwrap();
        let _ = relay.answer(self.link.as_ref().unwrap(), id, body).await;
        self.disconnect(relay);
    }

    /// Steps until the device has nothing left to send.
    pub async fn drive(&mut self, relay: &SimRelay) {
        for _ in 0..MAX_STEPS {
            if !self.step(relay).await {
                return;
            }
        }
        panic!("{} still sends after {MAX_STEPS} steps: a livelock", self.name);
    }

    /// Asks for a full sync and drives it to the end.
    pub async fn sync(&mut self, relay: &SimRelay) {
        if self.link.is_some() {
            self.engine_mut().sync_all();
            self.drive(relay).await;
        }
    }

    /// The texts of a space's feed, as `(author, text)`.
    pub fn texts(&self, space: &huisclos_protocol::ids::GroupId) -> Vec<(String, String)> {
        self.engine().feed(space).unwrap().into_iter().map(|i| (i.author_name, i.text)).collect()
    }

    /// The security warnings reported so far.
    pub fn warnings(&self) -> Vec<String> {
        warnings(&self.events)
    }

    /// The refusals reported so far, as their default English rendering.
    pub fn rejections(&self) -> Vec<String> {
        self.refusals().iter().map(ToString::to_string).collect()
    }

    /// The refusals reported so far.
    pub fn refusals(&self) -> Vec<huisclos_core::engine::Rejection> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Rejected { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }
}

/// What a malicious relay does to one answer: it sees the request and changes the true
/// answer at will.
pub type Tamper<'a> = dyn FnMut(&RequestBody, &mut Result<ResponseBody, RelayError>) + Send + 'a;

/// Lets `tamper` change the answer to `request`; the reads of a `FetchMany` are each
/// handed to it as their own request and answer (a `FetchLog` and its `LogPage`, a
/// `FetchContent` and its `ContentPage`, or the error it was refused with), so that
/// every attack on a read is made on reads sent together as well.
pub fn tamper_each_read(request: &RequestBody, answer: &mut Result<ResponseBody, RelayError>, tamper: &mut Tamper<'_>) {
    use huisclos_protocol::messages::{FetchItem, FetchResult};
    let (RequestBody::FetchMany(many), Ok(ResponseBody::Fetched(fetched))) = (request, &mut *answer) else {
        tamper(request, answer);
        return;
    };
    let mut results = fetched.results.to_vec();
    for (item, result) in many.items.iter().zip(results.iter_mut()) {
        let single = match item {
            FetchItem::Log(read) => RequestBody::FetchLog(read.clone()),
            FetchItem::Content(read) => RequestBody::FetchContent(read.clone()),
        };
        let mut single_answer = match result.clone() {
            FetchResult::Log(page) => Ok(ResponseBody::LogPage(page)),
            FetchResult::Content(page) => Ok(ResponseBody::ContentPage(page)),
            FetchResult::Refused(error) => Err(error),
            FetchResult::Deferred(_) => continue,
        };
        tamper(&single, &mut single_answer);
        *result = match single_answer {
            Ok(ResponseBody::LogPage(page)) => FetchResult::Log(page),
            Ok(ResponseBody::ContentPage(page)) => FetchResult::Content(page),
            Err(error) => FetchResult::Refused(error),
            // An attack that answers a read with another kind of answer cannot be put
            // inside a `Fetched`: it would pass untried, so the test stops here.
            Ok(other) => panic!("a tampered read answered with {other:?} cannot go back into a Fetched answer"),
        };
    }
    fetched.results = huisclos_protocol::codec::BoundedVec::new(results).unwrap();
}

/// Creates a space of `device` with a name, policy and history mode.
pub fn create_space(
    device: &mut SimDevice,
    name: &str,
    policy: huisclos_core::space::Policy,
    history: huisclos_core::space::HistoryMode,
) -> huisclos_protocol::ids::GroupId {
    use huisclos_core::space::{SpaceDescription, SpaceName};
    device
        .engine_mut()
        .create_space(SpaceName::new(name).unwrap(), SpaceDescription::new("").unwrap(), policy, history)
        .unwrap()
}

/// Alice's confidential space "Case 207" with the others in it, each with a role and
/// their invitation accepted; everyone settled.
pub async fn space_with(
    relay: &SimRelay,
    alice: &mut SimDevice,
    others: &mut [(&mut SimDevice, huisclos_core::space::Role)],
    history: huisclos_core::space::HistoryMode,
) -> huisclos_protocol::ids::GroupId {
    let space = create_space(alice, "Case 207", huisclos_core::space::Policy::Confidential, history);
    for (other, role) in others.iter() {
        let card = other.engine().contact_card().unwrap();
        alice.engine_mut().invite(&space, &card, *role).unwrap();
    }
    alice.drive(relay).await;
    for (other, _) in others.iter_mut() {
        other.sync(relay).await;
        other.engine_mut().accept_invitation(&space).unwrap();
    }
    let mut all: Vec<&mut SimDevice> = vec![alice];
    all.extend(others.iter_mut().map(|(d, _)| &mut **d));
    settle(relay, &mut all).await;
    space
}

/// The security warnings among `events`, as their default English rendering.
pub fn warnings(events: &[ClientEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::SecurityWarning { warning, .. } => Some(warning.to_string()),
            _ => None,
        })
        .collect()
}

/// Syncs every device until a whole round changes nothing.
pub async fn settle(relay: &SimRelay, devices: &mut [&mut SimDevice]) {
    for _ in 0..3 {
        for device in devices.iter_mut() {
            device.sync(relay).await;
        }
    }
}

/// Copies the directory `from` to `to`, creating `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Types `text` at the end of a note (an edit as an editor reports it).
pub fn type_at_end(
    engine: &mut Engine,
    space: &huisclos_protocol::ids::GroupId,
    note: &huisclos_core::library::NodeId,
    text: &str,
) {
    let end = engine.note_text(space, note).unwrap().encode_utf16().count() as u32;
    let edit = huisclos_core::note::TextEdit { at: end, delete: 0, insert: text.to_owned() };
    engine.edit_note(space, note, &[edit]).unwrap();
}
