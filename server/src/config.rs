//! The relay's configuration: a TOML file, then `HUISCLOS_RELAY_*` environment
//! overrides, then safe defaults. Every policy limit of `protocol-spec/limits.md` is a
//! setting here, with the default that file documents.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::Error;
use crate::store::StoreLimits;

/// Everything the relay can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// Where the store, the TLS key and the admin socket live.
    pub data_dir: PathBuf,
    /// The UDP address for QUIC.
    pub quic_listen: SocketAddr,
    /// The TCP address for TLS over TCP.
    pub tcp_listen: SocketAddr,
    /// The Prometheus metrics endpoint; loopback only.
    pub metrics_listen: Option<SocketAddr>,
    /// Addresses (`host:port`) written into invitations; by default the listen
    /// addresses actually bound.
    pub public_addresses: Vec<String>,
    /// A file holding the key that seals the store at rest (64 hex digits; make one with
    /// `huisclos-relay admin store-key`). Without it the store is kept in clear, unless
    /// systemd passes the credential `huisclos-store-key`.
    pub store_key_file: Option<PathBuf>,
    /// Keep the store in PostgreSQL instead of sled: a libpq connection string
    /// (`host=… dbname=… user=…` or `postgresql://…`). Several relay processes may
    /// share one database (`docs/operators.md`). The data directory still holds the
    /// relay's key, its manifest and the admin socket.
    pub postgres_url: Option<DatabaseUrl>,
    /// Policy limits.
    pub limits: PolicyLimits,
}

/// A database connection string: it may hold a password, so it is never shown by
/// `Debug` and is wiped from memory when dropped.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The connection string.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The connection string, to connect with.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseUrl(…)")
    }
}

impl Drop for DatabaseUrl {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// The systemd credential (`LoadCredential=huisclos-store-key:/path`) read when no
/// `store_key_file` is set.
pub const STORE_KEY_CREDENTIAL: &str = "huisclos-store-key";

/// The relay's policy limits (`protocol-spec/limits.md`, "Relay policy limits").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyLimits {
    /// One-time key packages stored per device.
    pub key_packages_per_device: u32,
    /// Welcomes waiting per device.
    pub welcomes_per_device: u32,
    /// Welcomes waiting in one device's inbox that one account left there (counted in
    /// memory, since the relay started): a stranger cannot fill an inbox.
    pub welcomes_per_sender: u32,
    /// Devices per account.
    pub devices_per_account: u32,
    /// Storage quota per account, in bytes (content records, chunks, Welcomes).
    pub quota_bytes: u64,
    /// The largest chunk accepted, at most `MAX_CHUNK_LEN`.
    pub max_chunk_len: u32,
    /// Unfinished chunk uploads started on one connection.
    pub pending_uploads_per_connection: u32,
    /// Groups subscribed on one connection.
    pub subscriptions_per_connection: u32,
    /// Requests being processed at once on one connection.
    pub in_flight_per_connection: u32,
    /// Bidirectional QUIC streams a client may open at once.
    pub streams_per_connection: u32,
    /// Sustained requests per second on one connection.
    pub requests_per_second: u32,
    /// Requests that may come in a burst above the sustained rate.
    pub request_burst: u32,
    /// Sustained signals (`Signal`, forwarded and never stored) per second on one
    /// connection, besides the request rate.
    pub signals_per_second: u32,
    /// Signals that may come in a burst above the sustained rate.
    pub signal_burst: u32,
    /// Key packages one account may claim per hour.
    pub claims_per_hour: u32,
    /// Seconds a connection may stay unauthenticated.
    pub unauthenticated_secs: u64,
    /// Seconds a connection may stay idle.
    pub idle_secs: u64,
    /// Seconds a started frame may take to arrive.
    pub frame_deadline_secs: u64,
    /// Seconds an invitation stays valid.
    pub invitation_secs: u64,
    /// Seconds an unfinished chunk upload is kept without progress.
    pub upload_expiry_secs: u64,
    /// Seconds a message of an `Expire` group (a `history: none` space) stays after it
    /// arrived; commits stay.
    pub message_retention_secs: u64,
    /// Connections open at once, over both transports, handshaking or not; more are
    /// refused.
    pub max_connections: u32,
    /// Connections not yet authenticated (handshaking, or waiting for the device to
    /// sign in) open at once; more are refused.
    pub max_unauthenticated: u32,
    /// Connections open at once from one IP address.
    pub connections_per_address: u32,
    /// Connections not yet authenticated from one IP address.
    pub unauthenticated_per_address: u32,
    /// Authenticated connections of one account open at once; more are refused
    /// (`LimitExceeded { Connections }`).
    pub connections_per_account: u32,
    /// QUIC handshakes in progress above which a client must prove its address first
    /// (a stateless Retry), so that spoofed or abandoned handshakes keep no state.
    pub quic_retry_above: u32,
    /// Bytes of requests and answers one connection may have held in memory.
    pub memory_per_connection: u64,
    /// Bytes all connections of one account may have held in memory.
    pub memory_per_account: u64,
    /// Bytes the relay holds in memory for all peers together.
    pub memory_total: u64,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        Self {
            key_packages_per_device: 200,
            welcomes_per_device: 256,
            welcomes_per_sender: 32,
            devices_per_account: 16,
            quota_bytes: 2 << 30,
            max_chunk_len: huisclos_protocol::limits::MAX_CHUNK_LEN as u32,
            pending_uploads_per_connection: 64,
            subscriptions_per_connection: 1024,
            in_flight_per_connection: 64,
            streams_per_connection: 16,
            requests_per_second: 50,
            request_burst: 200,
            signals_per_second: 4,
            signal_burst: 16,
            claims_per_hour: 600,
            unauthenticated_secs: 30,
            idle_secs: 120,
            frame_deadline_secs: 30,
            invitation_secs: 7 * 24 * 3600,
            message_retention_secs: 14 * 24 * 3600,
            upload_expiry_secs: 7 * 24 * 3600,
            max_connections: 4096,
            max_unauthenticated: 512,
            connections_per_address: 256,
            unauthenticated_per_address: 32,
            connections_per_account: 32,
            quic_retry_above: 64,
            memory_per_connection: 4 << 20,
            memory_per_account: 16 << 20,
            memory_total: 128 << 20,
        }
    }
}

impl PolicyLimits {
    /// The limits the store enforces inside its transactions.
    pub fn store(&self) -> StoreLimits {
        StoreLimits {
            key_packages_per_device: self.key_packages_per_device,
            welcomes_per_device: self.welcomes_per_device,
            devices_per_account: self.devices_per_account,
            quota_bytes: self.quota_bytes,
            max_chunk_len: self.max_chunk_len.min(huisclos_protocol::limits::MAX_CHUNK_LEN as u32),
        }
    }

    /// When a message appended at `now` may be deleted, in an `Expire` group: after
    /// the retention period, rounded up to the hour so the stored deadline says little
    /// about the arrival time.
    pub fn message_deadline(&self, now: u64) -> u64 {
        now.saturating_add(self.message_retention_secs).div_ceil(3600).saturating_mul(3600)
    }

    /// The memory budget's limits.
    pub fn budget(&self) -> crate::budget::BudgetLimits {
        let bytes = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        crate::budget::BudgetLimits {
            per_connection: bytes(self.memory_per_connection),
            per_account: bytes(self.memory_per_account),
            total: bytes(self.memory_total),
            connections_per_account: self.connections_per_account,
        }
    }

    /// How long a connection may stay idle.
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_secs)
    }

    /// How long a started frame may take.
    pub fn frame_deadline(&self) -> Duration {
        Duration::from_secs(self.frame_deadline_secs)
    }
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("huisclos-relay-data"),
            quic_listen: ([0, 0, 0, 0], 4433).into(),
            tcp_listen: ([0, 0, 0, 0], 4433).into(),
            metrics_listen: Some(([127, 0, 0, 1], 9433).into()),
            public_addresses: Vec::new(),
            store_key_file: None,
            postgres_url: None,
            limits: PolicyLimits::default(),
        }
    }
}

impl RelayConfig {
    /// The key that seals the store at rest, read from `store_key_file`, if set.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file when it cannot be read or holds no key.
    pub fn store_key(&self) -> Result<Option<crate::store::sealing::StoreKey>, Error> {
        self.store_key_file.as_deref().map(crate::store::sealing::StoreKey::read_file).transpose()
    }

    /// Reads `file` (if given), then applies environment overrides.
    ///
    /// # Errors
    /// [`Error::Config`] for an unreadable file, unknown keys or bad values.
    pub fn load(file: Option<&Path>) -> Result<Self, Error> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Config(format!("reading {}: {e}", path.display())))?;
                toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?
            }
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.check()?;
        Ok(config)
    }

    /// Applies `HUISCLOS_RELAY_DATA_DIR`, `_QUIC_LISTEN`, `_TCP_LISTEN`,
    /// `_METRICS_LISTEN` (`off` disables it), `_PUBLIC_ADDRESSES` (comma-separated),
    /// `_POSTGRES_URL` and `_STORE_KEY_FILE`; without a store key file, systemd's `$CREDENTIALS_DIRECTORY`
    /// is searched for [`STORE_KEY_CREDENTIAL`].
    ///
    /// # Errors
    /// [`Error::Config`] for an address that does not parse.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let addr = |name: &str, value: String| {
            value.parse::<SocketAddr>().map_err(|e| Error::Config(format!("{name}={value:?}: {e}")))
        };
        if let Some(dir) = var("HUISCLOS_RELAY_DATA_DIR") {
            self.data_dir = PathBuf::from(dir);
        }
        if let Some(value) = var("HUISCLOS_RELAY_QUIC_LISTEN") {
            self.quic_listen = addr("HUISCLOS_RELAY_QUIC_LISTEN", value)?;
        }
        if let Some(value) = var("HUISCLOS_RELAY_TCP_LISTEN") {
            self.tcp_listen = addr("HUISCLOS_RELAY_TCP_LISTEN", value)?;
        }
        if let Some(value) = var("HUISCLOS_RELAY_METRICS_LISTEN") {
            self.metrics_listen =
                if value == "off" { None } else { Some(addr("HUISCLOS_RELAY_METRICS_LISTEN", value)?) };
        }
        if let Some(url) = var("HUISCLOS_RELAY_POSTGRES_URL") {
            self.postgres_url = (!url.is_empty()).then(|| DatabaseUrl::new(url));
        }
        if let Some(path) = var("HUISCLOS_RELAY_STORE_KEY_FILE") {
            self.store_key_file = Some(PathBuf::from(path));
        }
        if self.store_key_file.is_none()
            && let Some(dir) = var("CREDENTIALS_DIRECTORY")
        {
            let credential = Path::new(&dir).join(STORE_KEY_CREDENTIAL);
            if credential.exists() {
                self.store_key_file = Some(credential);
            }
        }
        if let Some(value) = var("HUISCLOS_RELAY_PUBLIC_ADDRESSES") {
            self.public_addresses =
                value.split(',').map(str::trim).filter(|a| !a.is_empty()).map(String::from).collect();
        }
        Ok(())
    }

    /// Refuses settings that would be unsafe.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(metrics) = self.metrics_listen
            && !metrics.ip().is_loopback()
        {
            return Err(Error::Config(format!("metrics_listen {metrics} must be a loopback address")));
        }
        let limits = &self.limits;
        if limits.requests_per_second == 0 || limits.in_flight_per_connection == 0 || limits.streams_per_connection == 0
        {
            return Err(Error::Config("rates, in-flight and stream limits must be at least 1".into()));
        }
        if limits.frame_deadline_secs == 0 || limits.idle_secs == 0 || limits.unauthenticated_secs == 0 {
            return Err(Error::Config("timeouts must be at least one second".into()));
        }
        if limits.signals_per_second == 0 || limits.signal_burst == 0 {
            return Err(Error::Config("signals_per_second and signal_burst must be at least 1".into()));
        }
        if limits.request_burst == 0 || limits.max_connections == 0 || limits.claims_per_hour == 0 {
            return Err(Error::Config("request_burst, max_connections and claims_per_hour must be at least 1".into()));
        }
        let heaviest =
            huisclos_protocol::limits::MAX_SUBSCRIBE_GROUPS.div_ceil(crate::service::ITEMS_PER_REQUEST_WEIGHT);
        if (limits.request_burst as usize) < heaviest {
            return Err(Error::Config(format!(
                "request_burst must be at least {heaviest}, the weight of the largest request (a Subscribe to {} groups)",
                huisclos_protocol::limits::MAX_SUBSCRIBE_GROUPS
            )));
        }
        if limits.welcomes_per_sender == 0 || limits.welcomes_per_sender > limits.welcomes_per_device {
            return Err(Error::Config("welcomes_per_sender must be between 1 and welcomes_per_device".into()));
        }
        if limits.max_unauthenticated == 0
            || limits.connections_per_address == 0
            || limits.unauthenticated_per_address == 0
            || limits.connections_per_account == 0
        {
            return Err(Error::Config("connection limits must be at least 1".into()));
        }
        // A request and its answer must fit in each share; the semaphores count in u32.
        let two_frames = 2 * huisclos_protocol::limits::MAX_FRAME_LEN as u64;
        if limits.memory_per_connection < two_frames
            || limits.memory_per_account < limits.memory_per_connection
            || limits.memory_total < limits.memory_per_account
            || limits.memory_total > u64::from(u32::MAX)
        {
            return Err(Error::Config(format!(
                "memory limits must satisfy {two_frames} <= memory_per_connection <= memory_per_account <= \
                 memory_total < 4 GiB"
            )));
        }
        if limits.devices_per_account as usize > huisclos_protocol::limits::MAX_DEVICES_PER_ACCOUNT {
            return Err(Error::Config(format!(
                "devices_per_account must be at most {} (the wire limit MAX_DEVICES_PER_ACCOUNT)",
                huisclos_protocol::limits::MAX_DEVICES_PER_ACCOUNT
            )));
        }
        if limits.quota_bytes > huisclos_protocol::codec::VARINT_MAX {
            return Err(Error::Config("quota_bytes must be below 2^62".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_environment_override_defaults() -> Result<(), Error> {
        let mut config: RelayConfig = toml::from_str("data_dir = \"/srv/relay\"\n[limits]\nquota_bytes = 1000\n")
            .map_err(|e| Error::Config(e.to_string()))?;
        assert_eq!(config.limits.quota_bytes, 1000);
        assert_eq!(config.limits.devices_per_account, 16, "unset keys keep their defaults");
        config.apply_env(|name| match name {
            "HUISCLOS_RELAY_QUIC_LISTEN" => Some("127.0.0.1:7000".into()),
            "HUISCLOS_RELAY_METRICS_LISTEN" => Some("off".into()),
            _ => None,
        })?;
        assert_eq!(config.quic_listen, "127.0.0.1:7000".parse().map_err(|_| Error::Config("addr".into()))?);
        assert_eq!(config.metrics_listen, None);
        assert_eq!(config.data_dir, PathBuf::from("/srv/relay"));
        Ok(())
    }

    #[test]
    fn the_example_file_states_the_defaults() -> Result<(), Error> {
        let text = include_str!("../relay.example.toml");
        let example: RelayConfig = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        let defaults = RelayConfig::default();
        assert_eq!(format!("{:?}", example.limits), format!("{:?}", defaults.limits));
        assert_eq!(example.quic_listen, defaults.quic_listen);
        assert_eq!(example.metrics_listen, defaults.metrics_listen);
        Ok(())
    }

    #[test]
    fn unknown_keys_and_public_metrics_are_refused() {
        assert!(toml::from_str::<RelayConfig>("quota = 1").is_err());
        let config = RelayConfig { metrics_listen: Some(([0, 0, 0, 0], 9000).into()), ..RelayConfig::default() };
        assert!(config.check().is_err());
    }
}
