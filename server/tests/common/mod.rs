//! The real relay binary on loopback, and protocol-level clients for it.
#![allow(dead_code, unreachable_pub)]

pub mod raw;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use huisclos_protocol::access::{AccessToken, InvitationToken};
use huisclos_protocol::codec::BoundedVec;
use huisclos_protocol::ids::{AccountId, DeviceId, Epoch, GroupId, PageLimit, Seq};
use huisclos_protocol::invitation::Invitation;
use huisclos_protocol::messages::*;
use huisclos_transport::TransportError;
use huisclos_transport::client::{RelayClient, TransportKind};
use huisclos_transport::tls::SpkiPin;
use rand_core::{OsRng, RngCore};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Policy limits small enough to exercise in a test run.
pub const TEST_CONFIG: &str = r#"
[limits]
frame_deadline_secs = 2
unauthenticated_secs = 4
quota_bytes = 200000000
"#;

/// The relay binary under test: this build's, unless `HUISCLOS_RELAY_BIN` names another
/// (for running the attacks against an earlier release, to watch them succeed).
pub fn relay_binary() -> PathBuf {
    std::env::var_os("HUISCLOS_RELAY_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_huisclos-relay")), PathBuf::from)
}

/// Set to `postgres` (with `HUISCLOS_TEST_POSTGRES` naming a server) to run the
/// relay's tests with its store in PostgreSQL instead of sled (`scripts/test.sh` does,
/// after the sled run).
pub const STORE_VAR: &str = "HUISCLOS_TEST_STORE";

/// Whether the relays of this run keep their store in PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(STORE_VAR).is_ok_and(|store| store == "postgres")
}

/// Says a test is left out on PostgreSQL, and why, and returns whether it is.
pub fn sled_only(why: &str) -> bool {
    let skip = on_postgres();
    if skip {
        eprintln!("not run on PostgreSQL: {why}");
    }
    skip
}

/// The test PostgreSQL server, if there is one (`scripts/postgres.sh` starts one and
/// sets `HUISCLOS_TEST_POSTGRES`).
///
/// # Panics
/// When none is named but `HUISCLOS_REQUIRE_POSTGRES` says the run needs one.
pub fn postgres_server() -> Option<String> {
    match std::env::var("HUISCLOS_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => Some(server),
        _ => {
            assert!(
                std::env::var_os("HUISCLOS_REQUIRE_POSTGRES").is_none(),
                "HUISCLOS_REQUIRE_POSTGRES is set but HUISCLOS_TEST_POSTGRES is not"
            );
            eprintln!("skipped: no PostgreSQL server (scripts/postgres.sh starts one)");
            None
        }
    }
}

/// Gives the relay on `data_dir` a database of its own (a new schema on the test
/// server, recorded in `<data_dir>.pg`); `None` without a server.
pub fn new_database(data_dir: &Path) -> Option<()> {
    let server = postgres_server()?;
    let schema = format!("r_{}", hex::encode(random::<8>()));
    // The blocking client runs a runtime of its own: not on a test's runtime thread.
    let create = format!("CREATE SCHEMA {schema}");
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&server, postgres::NoTls).expect("the test PostgreSQL server");
        client.batch_execute(&create).expect("a schema");
    })
    .join()
    .expect("the schema is made");
    std::fs::create_dir_all(data_dir.parent().expect("a parent directory")).expect("directory");
    std::fs::write(data_dir.with_extension("pg"), &schema).expect("schema file");
    Some(())
}

/// Makes the relay on `to` keep its store in the same database as the one on `from`
/// (several relay processes on one database).
pub fn share_database(from: &Path, to: &Path) {
    std::fs::copy(from.with_extension("pg"), to.with_extension("pg")).expect("the first relay's database");
}

/// The database of the relay on `data_dir`, if it keeps its store in PostgreSQL: the
/// one [`new_database`] or [`share_database`] gave it, or, in a run on PostgreSQL
/// ([`on_postgres`]), a new one made at its first start and kept for its restarts.
pub fn postgres_url_for(data_dir: &Path) -> Option<String> {
    let file = data_dir.with_extension("pg");
    if !file.exists() {
        if !on_postgres() {
            return None;
        }
        new_database(data_dir).expect("HUISCLOS_TEST_STORE=postgres needs HUISCLOS_TEST_POSTGRES");
    }
    let schema = std::fs::read_to_string(&file).expect("schema file");
    let server = std::env::var("HUISCLOS_TEST_POSTGRES").expect("a PostgreSQL server for a relay on one");
    Some(format!("{server} options='-c search_path={schema}'"))
}

/// Every row of every table of the relay's database on `data_dir`, as PostgreSQL
/// writes a row as text (`bytea` as `\\x` and lowercase hex), with its table's name;
/// empty when the store is sled.
pub fn database_rows(data_dir: &Path) -> Vec<(String, String)> {
    let Some(url) = postgres_url_for(data_dir) else { return Vec::new() };
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("the relay's database");
        let tables: Vec<String> = client
            .query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()", &[])
            .expect("tables")
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut rows = Vec::new();
        for table in tables {
            for row in client.query(&format!("SELECT t::text FROM {table} t"), &[]).expect("rows") {
                rows.push((table.clone(), row.get::<_, String>(0)));
            }
        }
        rows
    })
    .join()
    .expect("the database is read")
}

/// How a relay that did not start ended, and what it printed.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<std::process::ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}; stdout: {}; stderr: {}", self.status, self.stdout, self.stderr)
    }
}

/// A running `huisclos-relay` process with its own data directory.
pub struct RelayProcess {
    child: Option<Child>,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    pub address: SocketAddr,
    /// Where TCP+TLS listens: the QUIC port when it was free for TCP too, else another.
    pub tcp_address: SocketAddr,
    pub metrics: Option<SocketAddr>,
    pub pin: SpkiPin,
    /// During a rotation of its key: the next key's pin and when it takes over.
    pub next_pin: Option<(SpkiPin, u64)>,
    pub first_invitation: Option<InvitationToken>,
}

impl RelayProcess {
    pub fn start() -> Self {
        Self::start_with(TEST_CONFIG)
    }

    /// Starts a relay in a new temporary directory with this configuration file.
    pub fn start_with(config: &str) -> Self {
        let temp = tempfile::tempdir().expect("temporary directory");
        let dir = temp.path().join("relay");
        let mut relay = Self::start_in_with(&dir, config);
        relay._temp = Some(temp);
        relay
    }

    /// Starts (or restarts) a relay on `data_dir`.
    pub fn start_in(data_dir: &Path) -> Self {
        Self::start_in_with(data_dir, TEST_CONFIG)
    }

    /// Starts (or restarts) a relay on `data_dir` with this configuration file.
    pub fn start_in_with(data_dir: &Path, config_text: &str) -> Self {
        match Self::try_start_in_with(data_dir, config_text) {
            Ok(relay) => relay,
            Err(failure) => panic!("the relay did not start: {failure}"),
        }
    }

    /// Starts a relay on `data_dir`, or returns what it printed (both streams) and how it
    /// exited, if it stopped before saying it was ready.
    pub fn try_start_in(data_dir: &Path) -> Result<Self, StartFailure> {
        Self::try_start_in_with(data_dir, TEST_CONFIG)
    }

    /// As [`Self::try_start_in`], with this configuration file.
    pub fn try_start_in_with(data_dir: &Path, config_text: &str) -> Result<Self, StartFailure> {
        std::fs::create_dir_all(data_dir).expect("data directory");
        let config = data_dir.with_extension("toml");
        std::fs::write(&config, config_text).expect("config file");
        let mut command = Command::new(relay_binary());
        if let Some(url) = postgres_url_for(data_dir) {
            command.env("HUISCLOS_RELAY_POSTGRES_URL", url);
        }
        let mut child = command
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(data_dir)
            .env("HUISCLOS_RELAY_QUIC_LISTEN", "127.0.0.1:0")
            .env("HUISCLOS_RELAY_TCP_LISTEN", "127.0.0.1:0")
            .env("HUISCLOS_RELAY_METRICS_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the relay binary starts");
        // Echo the relay's log, and keep it for a report if it stops.
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if let Ok(mut kept) = kept.lock() {
                    kept.push_str(&line);
                    kept.push('\n');
                }
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut address, mut tcp_address, mut metrics, mut pin, mut first_invitation) = (None, None, None, None, None);
        let mut next_pin = None;
        let mut ready = false;
        let mut printed = String::new();
        for line in lines.by_ref() {
            let line = line.expect("relay output");
            printed.push_str(&line);
            printed.push('\n');
            let Some(rest) = line.strip_prefix("huisclos-relay: ") else { continue };
            let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
            match key {
                "quic" => address = Some(value.parse().expect("quic address")),
                "tcp" => tcp_address = Some(value.parse().expect("tcp address")),
                "metrics" => {
                    metrics =
                        Some(value.trim_start_matches("http://").trim_end_matches("/metrics").parse().expect("metrics"))
                }
                "pin" => {
                    let bytes: [u8; 32] = hex::decode(value).expect("hex pin").try_into().expect("32 bytes");
                    pin = Some(SpkiPin(bytes));
                }
                "next" => {
                    let mut words = value.split(' ');
                    let (Some("pin"), Some(hex_pin), Some("from"), Some(at)) =
                        (words.next(), words.next(), words.next(), words.next())
                    else {
                        panic!("a next key line: {value}")
                    };
                    let bytes: [u8; 32] = hex::decode(hex_pin).expect("hex pin").try_into().expect("32 bytes");
                    next_pin = Some((SpkiPin(bytes), at.parse().expect("seconds")));
                }
                "invitation" => {
                    first_invitation = Some(Invitation::from_text(value).expect("invitation").token().clone())
                }
                "ready" => {
                    ready = true;
                    break;
                }
                _ => {}
            }
        }
        if !ready {
            let status = child.wait().ok();
            // Let the log thread catch up with the last lines.
            std::thread::sleep(Duration::from_millis(100));
            let stderr = log.lock().map(|l| l.clone()).unwrap_or_default();
            return Err(StartFailure { status, stdout: printed, stderr });
        }
        // Keep draining stdout so the relay never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Self {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            _temp: None,
            address: address.expect("the relay printed its address"),
            tcp_address: tcp_address.expect("the relay printed its TCP address"),
            metrics,
            pin: pin.expect("the relay printed its pin"),
            next_pin,
            first_invitation,
        })
    }

    /// A fresh invitation, from the running relay through `admin invite`.
    pub fn invite(&self) -> InvitationToken {
        let mut command = Command::new(relay_binary());
        if let Some(url) = postgres_url_for(&self.data_dir) {
            command.env("HUISCLOS_RELAY_POSTGRES_URL", url);
        }
        let output = command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["admin", "invite", "--valid-hours", "1"])
            .output()
            .expect("admin invite runs");
        assert!(output.status.success(), "admin invite failed: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8(output.stdout).expect("utf-8");
        let invitation = Invitation::from_text(&text).expect("a valid invitation");
        assert_eq!(invitation.spki_pin(), &self.pin.0, "the invitation pins this relay's key");
        invitation.token().clone()
    }

    pub async fn connect(&self, kind: TransportKind) -> RelayClient {
        let address = match kind {
            TransportKind::Quic => self.address,
            TransportKind::Tcp => self.tcp_address,
        };
        RelayClient::connect(kind, address, self.pin).await.expect("connects to the relay")
    }

    /// The relay's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The relay's resident memory, in MiB, and its thread count (from `/proc`).
    pub fn memory(&self) -> (f64, u32) {
        raw::memory_of(self.pid())
    }

    /// Kills the relay with SIGKILL: no flush, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the relay with SIGTERM and returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        for _ in 0..200 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        false
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A device with an account at the relay, connected and authenticated.
pub struct Device {
    pub key: SigningKey,
    pub id: DeviceId,
    pub account: AccountId,
    pub client: RelayClient,
}

pub fn signing_key() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Device {
    /// Opens an account with a new invitation.
    pub async fn register(relay: &RelayProcess, kind: TransportKind) -> Self {
        let key = signing_key();
        let client = relay.connect(kind).await;
        let (account, id) = client.create_account(&relay.invite(), &key).await.expect("account created");
        Self { key, id, account, client }
    }

    /// A second connection for the same device.
    pub async fn reconnect(&self, relay: &RelayProcess, kind: TransportKind) -> RelayClient {
        let client = relay.connect(kind).await;
        client.authenticate(&self.key).await.expect("authenticated");
        client
    }
}

/// A group as its members see it: the current epoch and its token.
#[derive(Clone)]
pub struct GroupKeys {
    pub group: GroupId,
    pub epoch: Epoch,
    pub token: AccessToken,
}

impl GroupKeys {
    pub fn new() -> Self {
        Self { group: GroupId::from_bytes(random()), epoch: Epoch::ZERO, token: AccessToken::from_bytes(random()) }
    }

    pub fn access(&self) -> GroupAccess {
        GroupAccess { group: self.group, epoch: self.epoch, token: self.token.clone() }
    }

    /// The keys of the next epoch (a new token, as a commit's exporter would give).
    pub fn next(&self) -> Self {
        Self { group: self.group, epoch: self.epoch.next().expect("epoch"), token: AccessToken::from_bytes(random()) }
    }
}

pub fn mls(bytes: impl Into<Vec<u8>>) -> MlsMessageBytes {
    MlsMessageBytes::new(bytes.into()).expect("fits")
}

pub fn page(n: u16) -> PageLimit {
    PageLimit::new(n).expect("page limit")
}

pub fn seq(n: u64) -> Seq {
    Seq::new(n).expect("seq")
}

pub fn list<T, const MAX: usize>(items: Vec<T>) -> BoundedVec<T, MAX> {
    BoundedVec::new(items).expect("bounded")
}

/// The relay's refusal, or a panic for any other outcome.
pub fn refusal(result: Result<ResponseBody, TransportError>) -> RelayError {
    match result {
        Err(TransportError::Relay(error)) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub const BOTH: [TransportKind; 2] = [TransportKind::Quic, TransportKind::Tcp];

/// The account's storage use, as the relay counts it.
pub async fn usage(client: &huisclos_transport::client::RelayClient) -> u64 {
    match client.request(GetUsage {}).await.expect("usage") {
        ResponseBody::Usage(usage) => usage.used.get(),
        other => panic!("usage: {other:?}"),
    }
}

/// Every needle found in the files under `dir`, which must hold at least `at_least`
/// bytes (so that a scan of the wrong place, or of nothing, does not pass).
pub fn found_in(dir: &Path, needles: &[(String, Vec<u8>)], at_least: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    let mut bytes_read = 0;
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            bytes_read += bytes.len();
            for (what, needle) in needles {
                if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                    found.push(format!("{what} in {}", path.display()));
                }
            }
        }
    }
    assert!(bytes_read >= at_least, "the scan read the store ({bytes_read} bytes)");
    found.sort();
    found.dedup();
    found
}
