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
//! - [`store`]: the storage trait (one atomic, durable method per protocol operation)
//!   and [`store::sled_store::SledStore`], the embedded default.
//! - [`service`]: the protocol's rules, request by request, independent of transport.
//! - [`net`]: listeners, streams, deadlines, per-connection limits, graceful shutdown.
//! - [`hub`]: in-memory subscriptions and connections, for push events and revocation.
//! - [`budget`]: the memory held for peers, bounded per connection, account and relay.
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
pub mod hub;
pub mod identity;
pub mod metrics;
pub mod net;
pub mod service;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use huisclos_protocol::messages::RelayError;
use huisclos_transport::tls::SpkiPin;
use tokio::sync::watch;

use crate::config::RelayConfig;
use crate::identity::RelayIdentity;
use crate::service::Relay;
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
    /// The addresses written into invitations.
    pub addresses: Vec<String>,
    /// An invitation, issued on the relay's first start only.
    pub first_invitation: Option<String>,
}

/// How often the relay deletes the messages of `Expire` groups whose deadline passed.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);
/// Messages deleted per store call, so that a sweep never holds the store for long.
const SWEEP_BATCH: usize = 1024;

/// Deletes expired messages (`history: none` spaces) every [`SWEEP_INTERVAL`], until
/// the task is aborted at shutdown.
async fn sweep_expired_messages<S: store::RelayStore>(store: Arc<S>) {
    let mut interval = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        interval.tick().await;
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
    let identity = RelayIdentity::load_or_create(&config.data_dir)?;
    let store = Arc::new(SledStore::open(&config.data_dir.join("store"))?);
    let relay = Arc::new(Relay::new(store.clone(), config.limits.clone()));
    let tls = huisclos_transport::tls::server_config(identity.certificate.clone(), identity.key.clone_key())
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

    let mut background = Vec::new();
    background.push(tokio::spawn(sweep_expired_messages(store.clone())));
    let admin = admin::bind(&config.data_dir)?;
    background.push(tokio::spawn(admin::serve(admin, relay.clone(), addresses.clone(), identity.pin)));
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
    let first_invitation = if identity.created {
        let invitation =
            relay.invite(&addresses, identity.pin, Duration::from_secs(config.limits.invitation_secs)).await?;
        Some(invitation.to_text())
    } else {
        None
    };

    on_ready(&Started {
        quic: listeners.quic,
        tcp: listeners.tcp,
        metrics: metrics_address,
        pin: identity.pin,
        addresses,
        first_invitation,
    });
    listeners.serve(relay, acceptor, shutdown, SHUTDOWN_DRAIN).await;
    for task in background {
        task.abort();
    }
    let _ = std::fs::remove_file(admin::socket_path(&config.data_dir));
    tokio::task::spawn_blocking(move || store::RelayStore::flush(&*store))
        .await
        .map_err(|_| Error::Storage("flush task failed".into()))??;
    tracing::info!("relay stopped; store flushed");
    Ok(())
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
