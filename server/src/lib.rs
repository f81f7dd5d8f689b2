//! # huisclos-relay — the zero-knowledge relay
//!
//! The service a network's NGO runs without being trusted with what it stores. It
//! speaks the protocol of [`huisclos_protocol`] over QUIC and over TCP+TLS (for networks
//! that drop UDP), both TLS 1.3 with a self-made key that clients pin from their
//! invitation, and it keeps:
//!
//! - accounts, opened only with operator-issued invitations, and devices, which
//!   authenticate by signing a challenge bound to the TLS exporter of their connection;
//! - per group, an append-only log with dense sequence numbers and at most one commit
//!   per epoch, first come first served, readable with per-epoch access tokens, so that
//!   the relay serves a group's members without a membership list;
//! - the key-package directory, Welcome inboxes, the durable content store and the
//!   content-addressed chunk store, with per-account quotas.
//!
//! ## Map
//! - [`store`]: the storage trait (one atomic, durable method per protocol operation);
//!   [`store::sled_store::SledStore`], the embedded default;
//!   [`store::postgres_store::PostgresStore`], for several relay processes on one
//!   PostgreSQL database; [`store::migrate`], moving a relay from one to the other.
//! - [`service`]: the protocol's rules, request by request, independent of transport.
//! - [`net`]: listeners, streams, deadlines, per-connection limits, graceful shutdown.
//! - [`hub`]: in-memory subscriptions and connections, for push events and revocation;
//!   [`fanout`]: the same events between relay processes on one database.
//! - [`budget`]: the memory held for peers, bounded per connection, account and relay.
//! - [`integrity`]: the store's identity and manifest, checked at every start.
//! - [`config`], [`identity`], [`admin`], [`metrics`]: operations.
//!
//! ## What the relay learns
//! `SECURITY.md` lists it. In short: it stores ciphertext, per-epoch verifiers, device
//! keys and per-account byte counts, but never which account or device belongs to which
//! group; it sees in memory which connection presents which group's token.
//!
//! It depends on the protocol and transport crates only, never on the client engine.
#![forbid(unsafe_code)]

pub mod admin;
pub mod budget;
pub mod config;
pub mod fanout;
pub mod hub;
pub mod identity;
pub mod integrity;
pub mod metrics;
pub mod net;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use huisclos_protocol::ids::UnixSeconds;
use huisclos_protocol::messages::RelayError;
use huisclos_transport::tls::SpkiPin;
use tokio::sync::watch;

use crate::config::RelayConfig;
use crate::identity::RelayIdentity;
use crate::service::Relay;
use crate::store::RelayStore as _;
use crate::store::sled_store::SledStore;

/// What can go wrong in the relay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is refused by the protocol's rules; nothing changed.
    #[error("refused: {0}")]
    Refused(RelayError),
    /// The storage backend failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Stored data does not decode.
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// The data directory is damaged, incomplete or not the relay's own: the relay
    /// refuses to start on it. The text says what is wrong and what to do.
    #[error("the data directory is damaged: {0}")]
    Damaged(String),
    /// The configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// TLS could not be set up.
    #[error("tls: {0}")]
    Tls(String),
    /// The relay's certificate could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A file or socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// How long requests in flight may take to finish at shutdown.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);

/// What a started relay tells its operator.
#[derive(Debug, Clone)]
pub struct Started {
    /// The bound QUIC address.
    pub quic: SocketAddr,
    /// The bound TCP address.
    pub tcp: SocketAddr,
    /// The metrics endpoint, if enabled.
    pub metrics: Option<SocketAddr>,
    /// The pin clients must use.
    pub pin: SpkiPin,
    /// During a rotation of the relay's key: the next key's pin and when (Unix
    /// seconds) the relay presents it instead.
    pub next: Option<(SpkiPin, u64)>,
    /// The addresses written into invitations.
    pub addresses: Vec<String>,
    /// An invitation, issued on the relay's first start only.
    pub first_invitation: Option<String>,
}

/// How often the relay deletes the messages of `Expire` groups whose deadline passed.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);
/// Messages deleted per store call, so that a sweep never holds the store for long.
const SWEEP_BATCH: usize = 1024;

/// How often a relay process that shares its store checks its connected devices
/// against it, and closes the connections of those revoked or disabled elsewhere.
pub const CONNECTED_DEVICES_CHECK: Duration = Duration::from_secs(5);

/// Closes, every [`CONNECTED_DEVICES_CHECK`], the connections of devices revoked or of
/// accounts disabled through another relay process: the other process's event says so
/// at once, and this check makes it so even when that event was lost.
async fn close_devices_cut_off_elsewhere<S: store::RelayStore>(relay: Arc<Relay<S>>) {
    let mut interval = tokio::time::interval(CONNECTED_DEVICES_CHECK);
    loop {
        interval.tick().await;
        let devices = relay.hub.connected_devices();
        if devices.is_empty() {
            continue;
        }
        let store = relay.store().clone();
        match tokio::task::spawn_blocking(move || store.inactive_devices(&devices)).await {
            Ok(Ok(cut_off)) => {
                for device in cut_off {
                    relay.hub.close_device_here(device);
                }
            }
            Ok(Err(error)) => tracing::warn!(%error, "checking the connected devices failed; trying again"),
            Err(_) => {}
        }
    }
}

/// Deletes expired messages (`history: none` spaces) every [`SWEEP_INTERVAL`], until
/// the task is aborted at shutdown.
async fn sweep_expired_messages<S: store::RelayStore>(relay: Arc<Relay<S>>) {
    let store = relay.store().clone();
    let mut interval = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        interval.tick().await;
        if let Err(error) = relay.refund_expired(store::sled_store::now().get()).await {
            tracing::warn!(%error, "giving back the quota of expired messages failed; trying again");
        }
        let cutoff = store::sled_store::now().get().saturating_sub(relay.limits().upload_expiry_secs);
        let uploads = store.clone();
        match tokio::task::spawn_blocking(move || {
            uploads.expire_uploads(UnixSeconds::new(cutoff).unwrap_or(UnixSeconds::ZERO), SWEEP_BATCH)
        })
        .await
        {
            Ok(Ok(deleted)) if deleted > 0 => tracing::info!(deleted, "stalled uploads deleted"),
            Ok(Err(error)) => tracing::warn!(%error, "deleting stalled uploads failed; trying again at the next sweep"),
            _ => {}
        }
        loop {
            let batch = store.clone();
            let now = store::sled_store::now();
            match tokio::task::spawn_blocking(move || batch.expire_messages(now, SWEEP_BATCH)).await {
                Ok(Ok(deleted)) => {
                    if deleted > 0 {
                        tracing::info!(deleted, "expired messages deleted");
                    }
                    if deleted < SWEEP_BATCH {
                        break;
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "deleting expired messages failed; trying again at the next sweep");
                    break;
                }
                Err(_) => break,
            }
        }
    }
}

/// Runs the relay until `shutdown` turns true, then shuts down gracefully: no new
/// connections, requests in flight finished, the store flushed.
///
/// # Errors
/// Startup failures: configuration, data directory, TLS identity, sockets, store.
pub async fn run(
    config: RelayConfig,
    shutdown: watch::Receiver<bool>,
    on_ready: impl FnOnce(&Started),
) -> Result<(), Error> {
    create_private_dir(&config.data_dir)?;
    let key = config.store_key()?;
    match config.postgres_url.clone() {
        None => {
            let (identity, store, fresh) = open_data_dir(&config.data_dir, key.as_ref())?;
            serve(config, identity, Arc::new(store), fresh, None, shutdown, on_ready).await
        }
        Some(url) => {
            let data_dir = config.data_dir.clone();
            let opening = url.clone();
            let (identity, store, fresh) =
                tokio::task::spawn_blocking(move || open_shared_store(&data_dir, opening.expose(), key.as_ref()))
                    .await
                    .map_err(|_| Error::Storage("opening the store failed".into()))??;
            let fanout = fanout::FanoutKey::for_identity(&identity);
            serve(config, identity, Arc::new(store), fresh, Some((url, fanout)), shutdown, on_ready).await
        }
    }
}

/// Serves `store`, opened and checked, until `shutdown`; with `peers`, tells the other
/// relay processes on the same database what this one wrote, and hears theirs.
async fn serve<S: store::RelayStore>(
    config: RelayConfig,
    identity: RelayIdentity,
    store: Arc<S>,
    fresh: bool,
    peers: Option<(config::DatabaseUrl, fanout::FanoutKey)>,
    shutdown: watch::Receiver<bool>,
    on_ready: impl FnOnce(&Started),
) -> Result<(), Error> {
    let relay = Arc::new(Relay::new(store.clone(), config.limits.clone()));
    let mut background = Vec::new();
    if let Some((url, key)) = peers {
        let (outbound, receiver) = tokio::sync::mpsc::channel(fanout::QUEUED_EVENTS);
        if relay.hub.connect_peers(outbound).is_err() {
            return Err(Error::Config("the relay's events were connected twice".into()));
        }
        let identified = store.clone();
        let store_identity = tokio::task::spawn_blocking(move || identity_of(&*identified))
            .await
            .map_err(|_| Error::Storage("reading the store's identity failed".into()))??;
        let channel = fanout::channel(&store_identity.store_id);
        background.push(fanout::start(url.expose().to_owned(), channel, key, relay.hub.clone(), receiver).await?);
        background.push(tokio::spawn(close_devices_cut_off_elsewhere(relay.clone())));
    }
    identity.mark_announced(&config.data_dir)?;
    let tls = match &identity.next {
        None => huisclos_transport::tls::server_config(identity.certificate.clone(), identity.key.clone_key()),
        Some(next) => {
            tracing::info!(
                next = ?next.pin,
                switch_at = %next.rotation.switch_at.utc_minute(),
                "the relay's key is being rotated: clients learn the next key until it takes over"
            );
            huisclos_transport::tls::rotating_server_config(
                identity.certificate.clone(),
                identity.key.clone_key(),
                huisclos_transport::tls::NextRelayKey {
                    certificate: next.certificate.clone(),
                    key: next.key.clone_key(),
                    from: next.switch_at(),
                },
            )
        }
    }
    .map_err(|e| Error::Tls(e.to_string()))?;
    let (listeners, acceptor) = net::bind(tls, config.quic_listen, config.tcp_listen, &config.limits).await?;

    let addresses = if config.public_addresses.is_empty() {
        let mut addresses = vec![loopback_if_unspecified(listeners.quic)];
        if listeners.tcp.port() != listeners.quic.port() {
            addresses.push(loopback_if_unspecified(listeners.tcp));
        }
        addresses
    } else {
        config.public_addresses.clone()
    };

    background.push(tokio::spawn(sweep_expired_messages(relay.clone())));
    // Held by whoever writes the manifest; true once the relay is stopping. A
    // checkpoint's write, once begun, runs on a blocking thread that aborting its task
    // does not stop: without the gate it raced the last write (both wrote the same
    // temporary file, and the relay's stop failed), and could land after it, leaving
    // a `running` manifest behind a clean stop.
    let manifest_gate = Arc::new(std::sync::Mutex::new(false));
    background.push(tokio::spawn(checkpoint(store.clone(), config.data_dir.clone(), manifest_gate.clone())));
    let admin = admin::bind(&config.data_dir)?;
    let context = admin::AdminContext {
        addresses: addresses.clone(),
        pin: identity.pin,
        next: identity.next.as_ref().map(|next| (next.pin, next.switch_at())),
        data_dir: config.data_dir.clone(),
    };
    background.push(tokio::spawn(admin::serve(admin, relay.clone(), context)));
    let metrics_address = match config.metrics_listen {
        Some(address) => {
            let listener = metrics::bind(address).await?;
            let bound = listener.local_addr()?;
            background.push(tokio::spawn(metrics::serve(
                listener,
                relay.metrics.clone(),
                store.clone(),
                relay.hub.clone(),
                relay.budget.clone(),
            )));
            Some(bound)
        }
        None => None,
    };
    let first_invitation = if fresh {
        let lifetime = Duration::from_secs(config.limits.invitation_secs);
        let expires = std::time::SystemTime::now()
            .checked_add(lifetime)
            .ok_or_else(|| Error::Config("invitation lifetime".into()))?;
        let invitation = relay.invite(&addresses, identity.pin, expires).await?;
        Some(invitation.to_text())
    } else {
        None
    };

    on_ready(&Started {
        quic: listeners.quic,
        tcp: listeners.tcp,
        metrics: metrics_address,
        pin: identity.pin,
        next: identity.next.as_ref().map(|next| (next.pin, next.rotation.switch_at.get())),
        addresses,
        first_invitation,
    });
    listeners.serve(relay.clone(), acceptor, shutdown, SHUTDOWN_DRAIN).await;
    for task in background {
        task.abort();
    }
    // No request runs any more: what accounts hold in memory goes back to the store.
    if let Err(error) = relay.return_credit().await {
        tracing::warn!(%error, "giving back unspent quota failed; it is forfeited");
    }
    let _ = std::fs::remove_file(admin::socket_path(&config.data_dir));
    let data_dir = config.data_dir.clone();
    tokio::task::spawn_blocking(move || {
        let mut stopped = manifest_gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *stopped = true;
        store::RelayStore::flush(&*store)?;
        write_manifest(&*store, &data_dir, integrity::ManifestState::Clean)
    })
    .await
    .map_err(|_| Error::Storage("flush task failed".into()))??;
    tracing::info!("relay stopped; store flushed; manifest written");
    Ok(())
}

fn identity_of<S: store::RelayStore>(store: &S) -> Result<integrity::StoreIdentity, Error> {
    store.identity()?.ok_or(Error::Corrupt("store identity"))
}

/// Records what the store holds: counted first, then flushed, so that every record
/// counted is on disk before the manifest says so.
fn write_manifest<S: store::RelayStore>(
    store: &S,
    data_dir: &std::path::Path,
    state: integrity::ManifestState,
) -> Result<integrity::Census, Error> {
    let identity = identity_of(store)?;
    let census = store.census()?;
    store.flush()?;
    integrity::Manifest { identity, state, census }.write(data_dir)?;
    Ok(census)
}

/// Writes a `running` manifest every [`integrity::CHECKPOINT_INTERVAL`] when the store
/// has changed, until aborted at shutdown.
async fn checkpoint<S: store::RelayStore>(
    store: Arc<S>,
    data_dir: std::path::PathBuf,
    gate: Arc<std::sync::Mutex<bool>>,
) {
    let mut interval = tokio::time::interval(integrity::CHECKPOINT_INTERVAL);
    let mut last: Option<integrity::Census> = None;
    loop {
        interval.tick().await;
        let (store, dir, gate) = (store.clone(), data_dir.clone(), gate.clone());
        let previous = last;
        let written = tokio::task::spawn_blocking(move || {
            let stopped = gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *stopped {
                return Ok(None);
            }
            let census = store.census()?;
            if Some(census) == previous {
                return Ok(Some(census));
            }
            store.flush()?;
            let identity = identity_of(&*store)?;
            integrity::Manifest { identity, state: integrity::ManifestState::Running, census }.write(&dir)?;
            Ok::<_, Error>(Some(census))
        })
        .await;
        match written {
            Ok(Ok(Some(census))) => last = Some(census),
            // The relay is stopping: its last manifest is written, or about to be.
            Ok(Ok(None)) => return,
            Ok(Err(error)) => tracing::error!(%error, "writing the store manifest failed; trying again"),
            Err(_) => tracing::error!("the manifest task failed; trying again"),
        }
    }
}

/// Opens the data directory's key and store, refusing any that is damaged, missing or
/// not the other's ([`integrity`]), and returns them with whether the store is new.
/// A new data directory gets its key, its store and its manifest.
///
/// # Errors
/// [`Error::Damaged`] saying what is wrong and what to do; I/O and store failures.
pub fn open_data_dir(
    data_dir: &std::path::Path,
    key: Option<&store::sealing::StoreKey>,
) -> Result<(RelayIdentity, SledStore, bool), Error> {
    use integrity::{Manifest, ManifestState, STORE_DIR, StoreIdentity};
    let manifest = Manifest::read(data_dir)?;
    let store_dir = data_dir.join(STORE_DIR);
    let key_path = data_dir.join(identity::KEY_FILE);
    let has_store = store_dir.exists();
    if !key_path.exists() && (has_store || manifest.is_some()) {
        return Err(Error::Damaged(format!(
            "the relay's key {} is missing, but the data directory holds {}. The relay will not make itself a \
             new key: every invitation and every client pins this one. Restore {} from a backup.",
            key_path.display(),
            if has_store { "a store" } else { "a store manifest" },
            identity::KEY_FILE
        )));
    }
    if key_path.exists() && !has_store && data_dir.join(MIGRATED_STORE_DIR).exists() {
        return Err(Error::Damaged(
            "this relay was moved to PostgreSQL (`huisclos-relay migrate`): set postgres_url (or \
             HUISCLOS_RELAY_POSTGRES_URL) to its database; it no longer runs on sled"
                .into(),
        ));
    }
    if key_path.exists() && !has_store {
        return Err(Error::Damaged(format!(
            "the store {} is missing, but the relay's key is there: its accounts, groups and logs are gone. \
             Restore the store from a backup (or, to start a new relay with no accounts, move the whole data \
             directory aside).",
            store_dir.display()
        )));
    }
    let identity = RelayIdentity::load_or_create(data_dir, key)?;
    let store = open_store_guarded(&store_dir, key)?;
    let (stored, census) = guarded("reading the store", || Ok((store.identity()?, store.census()?)))?;
    let stored = follow_rotation(&store, &identity, stored)?;
    let pin = identity.pin.0;
    if let Some(stored) = stored
        && stored.relay_pin != pin
    {
        return Err(Error::Damaged(format!(
            "the store belongs to another relay key than {}: the key and the store do not belong together. \
             Restore the key that served this store.",
            key_path.display()
        )));
    }
    let fresh = match (&manifest, stored) {
        (Some(manifest), _) => {
            manifest.check(stored, &census)?;
            false
        }
        (None, Some(_)) => {
            return Err(Error::Damaged(format!(
                "{} is missing: nothing says what the store held at the last shutdown. Restore it from a \
                 backup, or accept the store as it is with `huisclos-relay admin accept-store`.",
                Manifest::path(data_dir).display()
            )));
        }
        (None, None) => {
            // A new store, or one written before stores recorded their identity.
            let mut store_id = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut store_id);
            store.set_identity(StoreIdentity { store_id, relay_pin: pin })?;
            let fresh = identity.created && census.counts == integrity::Counts::default();
            if !fresh {
                tracing::info!("the store had no identity (written by an earlier release): recorded it");
            }
            fresh
        }
    };
    let dropped = guarded("sealing the key packages", || store.drop_unsealed_key_packages())?;
    if dropped > 0 {
        tracing::info!(
            dropped,
            "deleted key packages stored in clear by an earlier release; devices upload sealed ones"
        );
    }
    write_manifest(&store, data_dir, ManifestState::Running)?;
    Ok((identity, store, fresh))
}

/// A store that recorded the key this relay's key replaced by a rotation records the
/// new one from now on (the same store id). Returns the identity the store now holds.
fn follow_rotation<S: store::RelayStore>(
    store: &S,
    identity: &RelayIdentity,
    stored: Option<integrity::StoreIdentity>,
) -> Result<Option<integrity::StoreIdentity>, Error> {
    match stored {
        Some(recorded) if identity.previous_pins.iter().any(|previous| previous.0 == recorded.relay_pin) => {
            let now = integrity::StoreIdentity { store_id: recorded.store_id, relay_pin: identity.pin.0 };
            store.set_identity(now)?;
            tracing::info!(pin = ?identity.pin, "the store now records the relay's new key");
            Ok(Some(now))
        }
        other => Ok(other),
    }
}

/// Opens the PostgreSQL store at `url` for the relay whose data directory is
/// `data_dir`, with the checks [`open_data_dir`] makes, as far as they hold for a store
/// that other relay processes write too:
///
/// - a database that records a relay's identity is served only with that relay's key:
///   a second process is set up with a copy of the first one's `relay-key.pk8` and
///   `relay-cert.der` (every invitation and client pins that key), and of its
///   rotation's files, if any ([`identity::IDENTITY_FILES`]); without a key, the
///   process refuses rather than make itself a new one;
/// - a store key seals the relay's key file only (the database is not sealed by the
///   relay: PostgreSQL's own encryption at rest protects it);
/// - a process that served this database before (its manifest says so) refuses one
///   that is another, or emptied, or holds less than it counted (records lost: the
///   counts never go down). That the store differs from a clean shutdown's is no
///   damage here: the other processes went on writing.
///
/// Blocking: call it from `spawn_blocking`.
///
/// # Errors
/// [`Error::Damaged`] saying what is wrong and what to do; database and I/O failures.
pub fn open_shared_store(
    data_dir: &std::path::Path,
    url: &str,
    key: Option<&store::sealing::StoreKey>,
) -> Result<(RelayIdentity, store::postgres_store::PostgresStore, bool), Error> {
    use integrity::{Manifest, ManifestState, StoreIdentity};
    let store = store::postgres_store::PostgresStore::open(url)?;
    let stored = store.identity()?;
    let key_path = data_dir.join(identity::KEY_FILE);
    if stored.is_some() && !key_path.exists() {
        return Err(Error::Damaged(format!(
            "the database is a relay's store, but {} is missing. A relay process on a database serves it with \
             that relay's key: copy relay-key.pk8 and relay-cert.der (and any relay-key-rotation, relay-key-history \
             and relay-*.next.* files) from a process that serves it (or restore \
             them from a backup) into {}.",
            key_path.display(),
            data_dir.display()
        )));
    }
    // A store key seals the relay's key file, as with sled; the database itself is
    // protected by PostgreSQL's own encryption at rest, not by the relay.
    let identity = RelayIdentity::load_for_store(data_dir, key, stored.map(|stored| stored.relay_pin))?;
    let stored = follow_rotation(&store, &identity, stored)?;
    if let Some(stored) = stored
        && stored.relay_pin != identity.pin.0
    {
        return Err(Error::Damaged(format!(
            "the database belongs to another relay key than {}: the key and the store do not belong together. \
             Use the key of the relay that serves this database.",
            key_path.display()
        )));
    }
    let census = store.census()?;
    let manifest = Manifest::read(data_dir)?;
    let fresh = match (manifest, stored) {
        (Some(manifest), _) => {
            manifest.check_shared(stored, &census)?;
            false
        }
        (None, Some(_)) => {
            tracing::info!("serving a database that another relay process set up");
            false
        }
        (None, None) => {
            if !identity.created {
                return Err(Error::Damaged(format!(
                    "the database records no relay, but {} holds a relay's key: this process served another \
                     store. Point postgres_url at that store's database, or use a new data directory for a new \
                     relay.",
                    data_dir.display()
                )));
            }
            let mut store_id = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut store_id);
            // Another process starting on the same empty database at the same moment
            // may have recorded its own key first: then this one's is not the relay's.
            let recorded = store.claim_identity(StoreIdentity { store_id, relay_pin: identity.pin.0 })?;
            if recorded.relay_pin != identity.pin.0 {
                return Err(Error::Damaged(format!(
                    "another relay process set this database up with its own key at the same moment: copy its \
                     relay-key.pk8 and relay-cert.der into {} (and delete the ones this process made).",
                    data_dir.display()
                )));
            }
            census.counts == integrity::Counts::default()
        }
    };
    write_manifest(&store, data_dir, ManifestState::Running)?;
    Ok((identity, store, fresh))
}

/// Where a migrated relay's sled store is kept, beside the data directory's other files.
pub const MIGRATED_STORE_DIR: &str = "store.migrated";

/// Moves the stopped relay on `data_dir` from its sled store to the empty PostgreSQL
/// database at `url`: checks the store as at start; copies every record in one
/// transaction; reads them back and compares them kind by kind, by count and by
/// digest ([`store::migrate::Tally`]); then moves the sled store aside into
/// [`MIGRATED_STORE_DIR`], so that the relay can start only on the database from now
/// on (and `migrate` cannot run twice). Returns what was done, in words.
///
/// # Errors
/// [`Error::Damaged`] for a damaged store, a database that holds a store already, or a
/// copy that differs (the database is emptied again and the sled store left as it
/// was); store, database and I/O failures.
pub fn migrate_to_postgres(
    data_dir: &std::path::Path,
    key: Option<&store::sealing::StoreKey>,
    url: &str,
) -> Result<String, Error> {
    use store::migrate::Tally;
    let moved = data_dir.join(MIGRATED_STORE_DIR);
    if moved.exists() {
        return Err(Error::Damaged(format!(
            "this relay was moved to PostgreSQL already ({} holds its sled store): nothing to migrate",
            moved.display()
        )));
    }
    let (_, sled, _) = open_data_dir(data_dir, key)?;
    let census = guarded("reading the store", || sled.census())?;
    close_store(&sled, data_dir)?;
    drop(sled);
    let target = store::postgres_store::PostgresStore::open(url)?;
    if !target.holds_nothing()? {
        return Err(Error::Damaged(
            "the database holds a relay's store already (migrated before?): nothing was copied. Migrate into an \
             empty database."
                .into(),
        ));
    }
    // Moved aside first: whatever happens from here, the relay never starts on both the
    // sled store and its copy (after a crash half-way, the database holds all of it or
    // nothing, and `store.migrated` says where the original is).
    let original = data_dir.join(integrity::STORE_DIR);
    std::fs::rename(&original, &moved)?;
    let copied = (|| {
        let sled = open_store_guarded(&moved, key)?;
        let mut copied = Tally::default();
        target.import(|sink| {
            guarded("reading the store", || {
                sled.export(&mut |record| {
                    copied.add(&record);
                    sink(record)
                })
            })
        })?;
        let mut read_back = Tally::default();
        target.export(&mut |record| {
            read_back.add(&record);
            Ok(())
        })?;
        let differences = copied.differences(&read_back);
        let counts = target.census()?.counts;
        if !differences.is_empty() || counts != census.counts {
            let what: Vec<String> =
                differences.iter().map(|(kind, had, have)| format!("{kind}: {have} of {had}")).collect();
            return Err(Error::Damaged(format!(
                "the copy in the database differs from the sled store ({}); the database was emptied again and \
                 the sled store left as it was",
                if what.is_empty() { "its counts".to_owned() } else { what.join(", ") }
            )));
        }
        Ok(copied)
    })();
    let copied = match copied {
        Ok(copied) => copied,
        Err(error) => {
            // The database held nothing before: emptying it removes only this copy.
            let emptied = target.erase();
            std::fs::rename(&moved, &original)?;
            emptied?;
            return Err(error);
        }
    };
    Ok(format!(
        "copied into PostgreSQL and checked: {}. The sled store is kept in {} (delete it once the relay runs on \
         the database). Start the relay with postgres_url set to this database from now on.",
        copied.summary(),
        moved.display()
    ))
}

/// Flushes a store opened with [`open_data_dir`] and records it as cleanly closed.
///
/// # Errors
/// Store and I/O failures.
pub fn close_store<S: store::RelayStore>(store: &S, data_dir: &std::path::Path) -> Result<(), Error> {
    write_manifest(store, data_dir, integrity::ManifestState::Clean).map(|_| ())
}

/// Accepts the store of a stopped relay as it is: records its identity if it lost it
/// (keeping the relay's key), and writes a clean manifest of what it holds now. Returns
/// what the operator accepted, in words.
///
/// # Errors
/// [`Error::Damaged`] if the key is missing or belongs to another store, store and I/O
/// failures (including another process holding the store).
pub fn accept_store(data_dir: &std::path::Path, key: Option<&store::sealing::StoreKey>) -> Result<String, Error> {
    use integrity::{Manifest, STORE_DIR, StoreIdentity};
    let key_path = data_dir.join(identity::KEY_FILE);
    if !key_path.exists() {
        return Err(Error::Damaged(format!(
            "the relay's key {} is missing; a store is accepted only with its own key",
            key_path.display()
        )));
    }
    let store_dir = data_dir.join(STORE_DIR);
    if !store_dir.exists() {
        return Err(Error::Damaged(format!("there is no store at {} to accept", store_dir.display())));
    }
    let identity = RelayIdentity::load_or_create(data_dir, key)?;
    let store = open_store_guarded(&store_dir, key)?;
    let (stored, census) = guarded("reading the store", || Ok((store.identity()?, store.census()?)))?;
    let stored = follow_rotation(&store, &identity, stored)?;
    match stored {
        Some(stored) if stored.relay_pin != identity.pin.0 => {
            return Err(Error::Damaged(
                "the store belongs to another relay key; accepting it would not make the two belong together".into(),
            ));
        }
        Some(_) => {}
        None => {
            let mut store_id = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut store_id);
            store.set_identity(StoreIdentity { store_id, relay_pin: identity.pin.0 })?;
        }
    }
    let before = Manifest::read(data_dir).ok().flatten();
    close_store(&store, data_dir)?;
    let counts = census.counts;
    let now = format!(
        "{} accounts, {} devices, {} groups, {} log entries, {} content records",
        counts.accounts, counts.devices, counts.groups, counts.log_entries, counts.content_records
    );
    Ok(match before {
        Some(before) => {
            let had = before.census.counts;
            format!(
                "accepted the store as it is: {now} (the manifest recorded {} accounts, {} devices, {} groups, {} \
                 log entries, {} content records)",
                had.accounts, had.devices, had.groups, had.log_entries, had.content_records
            )
        }
        None => format!("accepted the store as it is: {now}"),
    })
}

/// Seals the store of a stopped relay at rest under `key`: checks it as at start,
/// copies every row into a sealed store, checks that the copy holds what the original
/// held (the same census), and puts it in the original's place. The original, in
/// clear, is moved aside to `store.clear` for the operator to destroy once the relay
/// runs on the sealed store. Returns what was done, in words.
///
/// # Errors
/// [`Error::Damaged`] when the store is damaged, sealed already, or the copy differs;
/// store and I/O failures (including another process holding the store).
pub fn seal_store(data_dir: &std::path::Path, key: &store::sealing::StoreKey) -> Result<String, Error> {
    use integrity::STORE_DIR;
    let store_dir = data_dir.join(STORE_DIR);
    let sealing_dir = data_dir.join("store.sealing");
    let clear_dir = data_dir.join("store.clear");
    for leftover in [&sealing_dir, &clear_dir] {
        if leftover.exists() {
            return Err(Error::Damaged(format!(
                "{} exists (left by an earlier attempt?): move it away first",
                leftover.display()
            )));
        }
    }
    if store_dir.exists() && guarded("opening the store", || SledStore::sealed_at(&store_dir))? {
        return Err(Error::Damaged("the store is sealed already".into()));
    }
    let (census, original) = {
        let (_, store, _) = open_data_dir(data_dir, None)?;
        if store.is_sealed()? {
            return Err(Error::Damaged("the store is sealed already".into()));
        }
        let census = guarded("reading the store", || Ok((store.census()?, store.contents_digest()?)))?;
        close_store(&store, data_dir)?;
        census
    };
    let rows = guarded("copying the store", || SledStore::copy_sealed(&store_dir, &sealing_dir, key))?;
    {
        let sealed = open_store_guarded(&sealing_dir, Some(key))?;
        let copied = guarded("reading the sealed copy", || Ok((sealed.census()?.counts, sealed.contents_digest()?)))?;
        if copied != (census.counts, original) {
            return Err(Error::Damaged(format!(
                "the sealed copy in {} does not hold what the store holds; the store was left as it was",
                sealing_dir.display()
            )));
        }
    }
    std::fs::rename(&store_dir, &clear_dir)?;
    std::fs::rename(&sealing_dir, &store_dir)?;
    identity::seal_key_file(data_dir, key)?;
    // The manifest's digest follows the order the store keeps its rows in, which
    // sealing changed: record the sealed store as cleanly closed.
    let sealed = open_store_guarded(&store_dir, Some(key))?;
    close_store(&sealed, data_dir)?;
    drop(sealed);
    Ok(format!(
        "sealed the store ({rows} rows; {} accounts, {} devices, {} groups, {} log entries, {} content records). \
         The relay's key is sealed too. The copy in clear is in {}: destroy it once the relay runs on the sealed \
         store, and start the relay with the same store key from now on.",
        census.counts.accounts,
        census.counts.devices,
        census.counts.groups,
        census.counts.log_entries,
        census.counts.content_records,
        clear_dir.display()
    ))
}

/// The files of a data directory besides the store itself: what a backup copies and a
/// restore puts back.
const DATA_FILES: [&str; 8] = [
    identity::KEY_FILE,
    identity::CERT_FILE,
    identity::NEXT_KEY_FILE,
    identity::NEXT_CERT_FILE,
    identity::ROTATION_FILE,
    identity::ANNOUNCED_FILE,
    identity::HISTORY_FILE,
    integrity::MANIFEST_FILE,
];

/// Backs up a relay's data directory into `to` (new, or an empty directory) while it
/// runs: the store as it was at one moment ([`store::RelayStore::backup_to`]), the
/// relay's key and certificate (sealed under the store key if the store is), and a
/// manifest of the copy, so that `to` is itself a data directory the relay starts on.
/// Returns what was copied, in words.
///
/// # Errors
/// [`Error::Damaged`] if `to` is not empty or the copy differs; I/O and store failures.
pub fn backup<S: store::RelayStore>(
    store: &S,
    data_dir: &std::path::Path,
    to: &std::path::Path,
) -> Result<String, Error> {
    use integrity::{Manifest, ManifestState, STORE_DIR};
    if to.exists() && std::fs::read_dir(to)?.next().is_some() {
        return Err(Error::Damaged(format!("{} is not empty: back up into a new directory", to.display())));
    }
    let existed = to.exists();
    std::fs::create_dir_all(to)?;
    let written = (|| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700))?;
        }
        let identity = identity_of(store)?;
        let copy = store.backup_to(&to.join(STORE_DIR))?;
        for name in identity::IDENTITY_FILES {
            // The rotation's files are there only while one is under way or after one.
            if name == identity::KEY_FILE || name == identity::CERT_FILE || data_dir.join(name).exists() {
                std::fs::copy(data_dir.join(name), to.join(name))?;
            }
        }
        Manifest { identity, state: ManifestState::Clean, census: copy.census }.write(to)?;
        Ok(copy)
    })();
    let copy = match written {
        Ok(copy) => copy,
        Err(error) => {
            // Nothing half-written is left to pass for a backup (the directory was
            // empty or new: everything in it is this attempt's). A directory the
            // operator made (a mount point, say) stays.
            if existed {
                for entry in std::fs::read_dir(to).into_iter().flatten().flatten() {
                    let _ = std::fs::remove_dir_all(entry.path()).or_else(|_| std::fs::remove_file(entry.path()));
                }
            } else {
                let _ = std::fs::remove_dir_all(to);
            }
            return Err(error);
        }
    };
    let counts = copy.census.counts;
    Ok(format!(
        "backed up {} accounts, {} devices, {} groups, {} log entries and {} content records into {} \
         (writes waited {} ms while the store was copied). It holds the relay's key: keep it as safe as the data \
         directory.",
        counts.accounts,
        counts.devices,
        counts.groups,
        counts.log_entries,
        counts.content_records,
        to.display(),
        copy.paused.as_millis()
    ))
}

/// Restores a backup into the data directory of a stopped relay: the backup is copied
/// in and checked as at start (its key, store and manifest belong together) before
/// anything is moved; then what the data directory held is moved aside, never
/// deleted, into `before-restore-SECONDS`, and the copy takes its place. Returns what
/// was restored and how it compares with what it replaced, in words.
///
/// # Errors
/// [`Error::Damaged`] for a backup that does not open, or a relay still running on the
/// data directory; I/O and store failures. On an error the data directory is as it was.
pub fn restore(
    data_dir: &std::path::Path,
    backup: &std::path::Path,
    key: Option<&store::sealing::StoreKey>,
) -> Result<String, Error> {
    use integrity::{Manifest, STORE_DIR};
    let store_dir = data_dir.join(STORE_DIR);
    if store_dir.exists() {
        // sled locks its files: this fails while a relay runs on them.
        guarded("checking the store is not in use", || SledStore::sealed_at(&store_dir)).map_err(|_| {
            Error::Damaged(format!("the store {} is in use: stop the relay first", store_dir.display()))
        })?;
    }
    let incoming = data_dir.join("restore.incoming");
    if incoming.exists() {
        return Err(Error::Damaged(format!(
            "{} exists (left by an earlier attempt?): move it away",
            incoming.display()
        )));
    }
    let copied = copy_dir(backup, &incoming).and_then(|()| {
        let (_, store, _) = open_data_dir(&incoming, key)?;
        let census = guarded("reading the backup", || store.census())?;
        close_store(&store, &incoming)?;
        Ok(census)
    });
    let census = match copied {
        Ok(census) => census,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&incoming);
            return Err(match error {
                Error::Damaged(reason) => {
                    Error::Damaged(format!("the backup {} does not open: {reason}", backup.display()))
                }
                other => other,
            });
        }
    };
    let replaced = Manifest::read(data_dir).ok().flatten();
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let aside = data_dir.join(format!("before-restore-{seconds}"));
    std::fs::create_dir(&aside)?;
    // Renames within one directory: each is atomic, and on a failure the ones made are
    // undone, so that the data directory is as it was.
    let mut moved: Vec<(std::path::PathBuf, std::path::PathBuf)> = Vec::new();
    let mut swap = || -> Result<(), Error> {
        for name in std::iter::once(STORE_DIR).chain(DATA_FILES) {
            if data_dir.join(name).exists() {
                std::fs::rename(data_dir.join(name), aside.join(name))?;
                moved.push((aside.join(name), data_dir.join(name)));
            }
        }
        for name in std::iter::once(STORE_DIR).chain(DATA_FILES) {
            if incoming.join(name).exists() {
                std::fs::rename(incoming.join(name), data_dir.join(name))?;
                moved.push((data_dir.join(name), incoming.join(name)));
            }
        }
        Ok(())
    };
    if let Err(error) = swap() {
        for (now, was) in moved.iter().rev() {
            let _ = std::fs::rename(now, was);
        }
        let _ = std::fs::remove_dir(&aside);
        let _ = std::fs::remove_dir_all(&incoming);
        return Err(error);
    }
    std::fs::File::open(data_dir)?.sync_all()?;
    // What is left of the copy is empty: a failure to remove it is no failure to
    // restore.
    if let Err(error) = std::fs::remove_dir_all(&incoming) {
        tracing::warn!(%error, "could not remove the emptied restore.incoming");
    }
    let now = census.counts;
    let mut report = format!(
        "restored {} accounts, {} devices, {} groups, {} log entries and {} content records from {}. What the data \
         directory held is in {}.",
        now.accounts,
        now.devices,
        now.groups,
        now.log_entries,
        now.content_records,
        backup.display(),
        aside.display()
    );
    if let Some(replaced) = replaced {
        let had = replaced.census.counts;
        let lost = now.shortfalls(had);
        if !lost.is_empty() {
            let lost: Vec<String> =
                lost.iter().map(|(name, restored, had)| format!("{name}: {restored} of {had}")).collect();
            report.push_str(&format!(
                " The store it replaced held more ({}): what was written after the backup is not in it, and devices \
                 that read it will find the relay behind them.",
                lost.join(", ")
            ));
        }
    }
    Ok(report)
}

/// Copies a directory tree (files and directories only), files synced.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<(), Error> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            std::fs::File::open(&target)?.sync_all()?;
        }
    }
    Ok(())
}

/// Opens the sled store, turning a panic inside sled (a damaged file) into an error.
fn open_store_guarded(path: &std::path::Path, key: Option<&store::sealing::StoreKey>) -> Result<SledStore, Error> {
    guarded("opening the store", || SledStore::open_with(path, key))
}

/// Runs `work`, turning a panic (sled's answer to some damaged files) into
/// [`Error::Damaged`].
fn guarded<T>(what: &str, work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    // The panic is reported as an error below: the default hook's message and
    // backtrace would only bury it. (Called at start, before anything else runs.)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    std::panic::set_hook(hook);
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no reason given");
            Err(Error::Damaged(format!(
                "{what} failed: the store's files are damaged ({reason}). Restore the data directory from a \
                 backup."
            )))
        }
    }
}

fn loopback_if_unspecified(address: SocketAddr) -> String {
    let ip = if address.ip().is_unspecified() {
        if address.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() }
    } else {
        address.ip()
    };
    SocketAddr::new(ip, address.port()).to_string()
}

/// Creates the data directory readable by its owner only.
///
/// # Errors
/// [`Error::Io`].
pub fn create_private_dir(path: &std::path::Path) -> Result<(), Error> {
    std::fs::create_dir_all(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
