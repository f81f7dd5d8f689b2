//! The real relay binary as a separate process, on a fresh sled store with loopback
//! ports chosen by the system, and [`Person`], a device that talks to it over a real
//! connection.

// Test harness: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use huisclos_protocol::invitation::Invitation;
use huisclos_transport::tls::SpkiPin;

/// The `huisclos-relay` binary of the running test's (or benchmark's) build profile,
/// brought up to date first, once per process (`cargo test` builds a package's binaries
/// only for that package's own tests, and a release benchmark needs a release relay; a
/// binary merely present may be older than the code under test).
pub fn relay_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test path");
            // Tests run from `target/<profile>/deps/`, binaries from `target/<profile>/`.
            let parent = exe.parent().expect("exe dir");
            let profile_dir = if parent.ends_with("deps") { parent.parent().expect("target dir") } else { parent };
            let binary = profile_dir.join("huisclos-relay");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command.args(["build", "-q", "-p", "huisclos-relay", "--bin", "huisclos-relay"]);
            if profile_dir.ends_with("release") {
                command.arg("--release");
            }
            let built = command.status().map(|s| s.success()).unwrap_or(false);
            // Without cargo (a copied test binary), a relay already there is used, and
            // said so: it may be older than the code under test.
            assert!(built || binary.exists(), "building the relay failed");
            if !built {
                eprintln!("warning: could not build the relay; using {}, which may be stale", binary.display());
            }
            binary
        })
        .clone()
}

/// A running relay process, killed on drop.
pub struct RelayProcess {
    child: Child,
    _dir: tempfile::TempDir,
    data_dir: PathBuf,
    /// Its QUIC address.
    pub address: SocketAddr,
    /// Its TCP+TLS address.
    pub tcp_address: SocketAddr,
    /// Its key's pin.
    pub pin: SpkiPin,
    /// During a rotation of its key: the next key's pin and when it takes over.
    pub next_pin: Option<(SpkiPin, u64)>,
    /// The invitation it printed on first start.
    pub first_invitation: String,
}

impl RelayProcess {
    /// Starts a relay on a fresh data directory and waits until it is ready.
    pub fn start() -> Self {
        Self::start_with_config("")
    }

    /// As [`RelayProcess::start`], with a configuration file holding `config` (TOML;
    /// the listening addresses still come from the environment).
    pub fn start_with_config(config: &str) -> Self {
        Self::start_serving(config, None)
    }

    /// Another process of the relay `first`: its key and certificate copied into a new
    /// data directory, as an operator sets up a second process on one PostgreSQL
    /// database (`config` names the database: `postgres_url = "…"`).
    pub fn start_beside(first: &RelayProcess, config: &str) -> Self {
        Self::start_serving(config, Some(first))
    }

    fn start_serving(config: &str, beside: Option<&RelayProcess>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("relay");
        std::fs::create_dir_all(&data_dir).expect("data dir");
        if let Some(first) = beside {
            for file in ["relay-key.pk8", "relay-cert.der"] {
                std::fs::copy(first.data_dir.join(file), data_dir.join(file)).expect("the first process's key");
            }
        }
        let config_path = dir.path().join("relay.toml");
        std::fs::write(&config_path, config).expect("config file");
        let launched = launch(&config_path, &data_dir, None);
        // A second process of a relay prints no first invitation: the relay has one.
        let first_invitation = match (beside, launched.first_invitation) {
            (Some(_), _) => String::new(),
            (None, invitation) => invitation.expect("relay printed its first invitation"),
        };
        Self {
            child: launched.child,
            _dir: dir,
            data_dir,
            address: launched.address,
            tcp_address: launched.tcp_address,
            pin: launched.pin,
            next_pin: launched.next_pin,
            first_invitation,
        }
    }

    /// Stops the relay (SIGTERM, as systemd does) and starts it again on the same data
    /// directory and the same addresses, so that profiles reach it where they did.
    pub fn restart(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        let launched =
            launch(&self._dir.path().join("relay.toml"), &self.data_dir, Some((self.address, self.tcp_address)));
        self.child = launched.child;
        self.pin = launched.pin;
        self.next_pin = launched.next_pin;
    }

    /// Runs `huisclos-relay admin ARGS` on this relay's data directory; its output.
    pub fn admin(&self, args: &[&str]) -> String {
        let output = Command::new(relay_binary())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("admin")
            .args(args)
            .output()
            .expect("admin runs");
        assert!(output.status.success(), "admin {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A new single-use invitation, from the relay's admin command.
    pub fn invite(&self) -> Invitation {
        let output = Command::new(relay_binary())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["admin", "invite", "--valid-hours", "1"])
            .output()
            .expect("admin invite runs");
        assert!(output.status.success(), "admin invite: {}", String::from_utf8_lossy(&output.stderr));
        Invitation::from_text(String::from_utf8_lossy(&output.stdout).trim()).expect("an invitation")
    }

    /// The relay's process id (to read its resident memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A relay process just started, as its output described it.
struct Launched {
    child: Child,
    address: SocketAddr,
    tcp_address: SocketAddr,
    pin: SpkiPin,
    next_pin: Option<(SpkiPin, u64)>,
    first_invitation: Option<String>,
}

/// Starts the relay binary on `data_dir` (on free ports, or on `listen`) and waits
/// until it says it is ready.
fn launch(config_path: &Path, data_dir: &Path, listen: Option<(SocketAddr, SocketAddr)>) -> Launched {
    let (quic_listen, tcp_listen) = listen
        .map_or_else(|| ("127.0.0.1:0".to_owned(), "127.0.0.1:0".to_owned()), |(q, t)| (q.to_string(), t.to_string()));
    // A profiler may wrap the relay (`HUISCLOS_RELAY_WRAPPER="heaptrack"`, say);
    // then `pid()` is the wrapper's.
    let wrapper = std::env::var("HUISCLOS_RELAY_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(relay_binary());
            command
        }
        None => Command::new(relay_binary()),
    };
    let mut child = command
        .arg("--config")
        .arg(config_path)
        .arg("--data-dir")
        .arg(data_dir)
        .env("HUISCLOS_RELAY_QUIC_LISTEN", quic_listen)
        .env("HUISCLOS_RELAY_TCP_LISTEN", tcp_listen)
        .env("HUISCLOS_RELAY_METRICS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("relay starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut address, mut tcp_address, mut pin, mut first_invitation) = (None, None, None, None);
    let mut next_pin = None;
    for line in lines.by_ref() {
        let line = line.expect("relay output");
        let Some(rest) = line.strip_prefix("huisclos-relay: ") else { continue };
        let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
        match key {
            "quic" => address = Some(value.parse().expect("address")),
            "tcp" => tcp_address = Some(value.parse().expect("address")),
            "pin" => {
                let bytes: [u8; 32] = hex::decode(value).expect("hex pin").try_into().expect("32-byte pin");
                pin = Some(SpkiPin(bytes));
            }
            "next" => {
                // `pin HEX from SECONDS`
                let words: Vec<&str> = value.split(' ').collect();
                let bytes: [u8; 32] = hex::decode(words[1]).expect("hex pin").try_into().expect("32-byte pin");
                next_pin = Some((SpkiPin(bytes), words[3].parse().expect("seconds")));
            }
            "invitation" => first_invitation = Some(value.to_owned()),
            "ready" => break,
            _ => {}
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Launched {
        child,
        address: address.expect("relay printed its address"),
        tcp_address: tcp_address.expect("relay printed its TCP address"),
        pin: pin.expect("relay printed its pin"),
        next_pin,
        first_invitation,
    }
}

/// One person's device talking to a [`RelayProcess`] over a real connection: a profile
/// on disk, its engine, its connection (reopened after a failure, as a client does).
pub struct Person {
    /// The engine.
    pub engine: huisclos_core::engine::Engine,
    /// Every event reported so far.
    pub events: Vec<huisclos_core::engine::ClientEvent>,
    /// How many times the connection failed and was opened again.
    pub reconnects: u32,
    connection: Option<huisclos_core::client::Connection>,
    via: Vec<SocketAddr>,
    pin: SpkiPin,
    _dir: tempfile::TempDir,
}

impl Person {
    fn vault(name: &str) -> (tempfile::TempDir, std::sync::Arc<huisclos_core::vault::Vault>) {
        use huisclos_core::vault::{KdfParams, Unlock, Vault};
        let dir = tempfile::tempdir().unwrap();
        let unlock = Unlock::Passphrase(Self::passphrase(name));
        let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
        let vault = std::sync::Arc::new(Vault::create(dir.path(), &unlock, params).unwrap());
        (dir, vault)
    }

    fn passphrase(name: &str) -> huisclos_core::vault::Passphrase {
        huisclos_core::vault::Passphrase::new(format!("{name} keeps the keys under the old bridge"))
    }

    /// A new person who joins `relay` with an invitation, reaching it at the addresses
    /// the invitation names.
    pub async fn join(relay: &RelayProcess, name: &str) -> Self {
        let (dir, vault) = Self::vault(name);
        let mut engine =
            huisclos_core::engine::Engine::create(vault, huisclos_core::identity::DisplayName::new(name).unwrap())
                .unwrap();
        engine.join_relay(&relay.invite()).unwrap();
        // The profile keeps the relay's address and pin from the invitation, as a real
        // client does.
        let endpoint = engine.relay().unwrap().clone();
        assert_eq!(endpoint.spki_pin(), relay.pin);
        Self::start(engine, endpoint.resolve().unwrap(), endpoint.spki_pin(), dir).await
    }

    /// As [`Person::join`], but reaching the relay only through `via` (an emulated
    /// link in front of it).
    pub async fn join_via(relay: &RelayProcess, name: &str, via: Vec<SocketAddr>) -> Self {
        let (dir, vault) = Self::vault(name);
        let mut engine =
            huisclos_core::engine::Engine::create(vault, huisclos_core::identity::DisplayName::new(name).unwrap())
                .unwrap();
        engine.join_relay(&relay.invite()).unwrap();
        Self::start(engine, via, relay.pin, dir).await
    }

    /// A second device of `existing`'s person, linked through the relay.
    pub async fn link(relay: &RelayProcess, existing: &mut Person, name: &str) -> Self {
        use huisclos_core::link::{LinkOffer, LinkRequest};
        use huisclos_core::linker::{LinkStatus, Linker};
        let (dir, vault) = Self::vault(&format!("{name} (second device)"));
        let offer = LinkOffer::from_text(&existing.engine.link_offer().unwrap().to_text()).unwrap();
        let mut linker =
            Linker::create(vault, offer, huisclos_core::identity::DisplayName::new(name).unwrap()).unwrap();
        let request = LinkRequest::from_text(&linker.request().to_text()).unwrap();
        existing.engine.approve_link(&request).unwrap();
        existing.sync().await;

        // The offer tells the new device where the relay is and which key to pin.
        let endpoint = linker.offer().relay.clone();
        assert_eq!(endpoint.spki_pin(), relay.pin);
        let addresses = endpoint.resolve().unwrap();
        let connection =
            huisclos_core::client::Connection::open(&mut linker, &addresses, endpoint.spki_pin()).await.unwrap();
        connection.drive(&mut linker).await.unwrap();
        assert_eq!(linker.status(), LinkStatus::Linked, "{:?}", linker.take_refusal());
        connection.close(&mut linker);
        let engine = linker.take_engine().unwrap();
        Self::start(engine, addresses, endpoint.spki_pin(), dir).await
    }

    async fn start(
        engine: huisclos_core::engine::Engine,
        via: Vec<SocketAddr>,
        pin: SpkiPin,
        dir: tempfile::TempDir,
    ) -> Self {
        let mut person = Self { engine, events: Vec::new(), reconnects: 0, connection: None, via, pin, _dir: dir };
        person.sync().await;
        assert!(person.engine.account().is_some(), "{} has an account", person.engine.name());
        person
    }

    /// The engine, its connection closed: for a test that drives it another way.
    pub fn into_engine(mut self) -> huisclos_core::engine::Engine {
        self.drop_connection();
        self.engine
    }

    /// From now on reaches the relay through `via` (an emulated link put in front of
    /// it, say): the connection is closed, and opened there at the next sync.
    pub fn reach_via(&mut self, via: Vec<SocketAddr>) {
        self.drop_connection();
        self.via = via;
    }

    /// Drops the connection at once, as a lost network does, whatever is in flight.
    pub fn drop_connection(&mut self) {
        if let Some(connection) = self.connection.take() {
            connection.close(&mut self.engine);
        }
    }

    /// The transport in use, if connected.
    pub fn transport(&self) -> Option<huisclos_transport::client::TransportKind> {
        self.connection.as_ref().map(huisclos_core::client::Connection::kind)
    }

    /// Sends everything queued and reads everything new. A failed connection is opened
    /// again (up to ten times) and the work resumes, as a client on a bad network does.
    pub async fn sync(&mut self) {
        for _ in 0..10 {
            if self.connection.is_none() {
                // The profile's pins, as a real client's: they follow the relay's key
                // when it rotates.
                let pins = self.engine.relay_pins().unwrap_or_else(|| self.pin.into());
                match huisclos_core::client::Connection::open(&mut self.engine, &self.via, pins).await {
                    Ok(connection) => self.connection = Some(connection),
                    Err(_) => {
                        self.reconnects += 1;
                        continue;
                    }
                }
            }
            let connection = self.connection.as_ref().unwrap();
            self.engine.sync_all();
            match connection.drive(&mut self.engine).await {
                Ok(()) => break,
                Err(_) => {
                    self.connection = None;
                    self.reconnects += 1;
                }
            }
        }
        while let Some(event) = self.engine.poll_event() {
            crate::assert_no_prose(&event);
            self.events.push(event);
        }
    }

    /// As [`Person::sync`], noting the first moment at which `shown` holds of the
    /// engine (checked after every step: an answer fed, an event taken): for timing
    /// what the person sees before the sync ends. Returns that moment, if it came.
    pub async fn sync_noting(
        &mut self,
        shown: impl Fn(&huisclos_core::engine::Engine) -> bool,
    ) -> Option<std::time::Instant> {
        /// The engine, watched after every step.
        struct Noting<'a, F> {
            engine: &'a mut huisclos_core::engine::Engine,
            shown: F,
            at: Option<std::time::Instant>,
        }
        impl<F: Fn(&huisclos_core::engine::Engine) -> bool> huisclos_core::client::MachineCell for Noting<'_, F> {
            type Inner = huisclos_core::engine::Engine;
            fn step<R>(&mut self, f: impl FnOnce(&mut Self::Inner) -> R) -> huisclos_core::Result<R> {
                let result = f(self.engine);
                if self.at.is_none() && (self.shown)(self.engine) {
                    self.at = Some(std::time::Instant::now());
                }
                Ok(result)
            }
        }
        let mut noting = Noting { engine: &mut self.engine, shown, at: None };
        for _ in 0..10 {
            if self.connection.is_none() {
                let pins = noting.engine.relay_pins().unwrap_or_else(|| self.pin.into());
                match huisclos_core::client::Connection::open(noting.engine, &self.via, pins).await {
                    Ok(connection) => self.connection = Some(connection),
                    Err(_) => {
                        self.reconnects += 1;
                        continue;
                    }
                }
            }
            let connection = self.connection.as_ref().unwrap();
            noting.engine.sync_all();
            match connection.drive(&mut noting).await {
                Ok(()) => break,
                Err(_) => {
                    self.connection = None;
                    self.reconnects += 1;
                }
            }
        }
        let at = noting.at;
        while let Some(event) = self.engine.poll_event() {
            crate::assert_no_prose(&event);
            self.events.push(event);
        }
        at
    }

    /// Watches the open connection for up to `timeout`, as a client with the app open
    /// does: pushed events (and the engine's own timers) are fed and the engine driven
    /// until idle. Returns whether anything came. Connects first if need be.
    pub async fn watch(&mut self, timeout: std::time::Duration) -> bool {
        if self.connection.is_none() {
            self.sync().await;
        }
        let Some(connection) = self.connection.as_ref() else { return false };
        let woke = match connection.wait_and_drive(&mut self.engine, timeout).await {
            Ok(woke) => woke,
            Err(_) => {
                self.connection = None;
                self.reconnects += 1;
                false
            }
        };
        while let Some(event) = self.engine.poll_event() {
            crate::assert_no_prose(&event);
            self.events.push(event);
        }
        woke
    }

    /// The texts of a space's feed, as `(author, text)`.
    pub fn texts(&self, space: &huisclos_protocol::ids::GroupId) -> Vec<(String, String)> {
        self.engine.feed(space).unwrap().into_iter().map(|i| (i.author_name, i.text)).collect()
    }

    /// The security warnings reported so far.
    pub fn warnings(&self) -> Vec<String> {
        crate::sim::warnings(&self.events)
    }
}

/// Syncs everyone three times over: what one sends in a round, the others read in the
/// next.
pub async fn settle(people: &mut [&mut Person]) {
    for _ in 0..3 {
        for person in people.iter_mut() {
            person.sync().await;
        }
    }
}

/// A confidential space "Case 207" (history kept) of `owner`, with `member` invited as a
/// contributor and the invitation accepted; both settled.
pub async fn shared_space(owner: &mut Person, member: &mut Person) -> huisclos_protocol::ids::GroupId {
    let space = case_207(&mut owner.engine);
    share(owner, member, space).await
}

/// As [`shared_space`], with another name.
pub async fn shared_space_named(
    owner: &mut Person,
    member: &mut Person,
    name: &str,
) -> huisclos_protocol::ids::GroupId {
    use huisclos_core::space::{HistoryMode, Policy, SpaceDescription, SpaceName};
    let space = owner
        .engine
        .create_space(
            SpaceName::new(name).unwrap(),
            SpaceDescription::new("A case file").unwrap(),
            Policy::Confidential,
            HistoryMode::Keep,
        )
        .unwrap();
    share(owner, member, space).await
}

async fn share(
    owner: &mut Person,
    member: &mut Person,
    space: huisclos_protocol::ids::GroupId,
) -> huisclos_protocol::ids::GroupId {
    use huisclos_core::space::Role;
    owner.engine.invite(&space, &member.engine.contact_card().unwrap(), Role::Contributor).unwrap();
    settle(&mut [&mut *owner, &mut *member]).await;
    member.engine.accept_invitation(&space).unwrap();
    space
}

/// A confidential space "Case 207" that keeps its history, created by `engine` (queued
/// for the relay, not sent).
pub fn case_207(engine: &mut huisclos_core::engine::Engine) -> huisclos_protocol::ids::GroupId {
    use huisclos_core::space::{HistoryMode, Policy, SpaceDescription, SpaceName};
    engine
        .create_space(
            SpaceName::new("Case 207").unwrap(),
            SpaceDescription::new("").unwrap(),
            Policy::Confidential,
            HistoryMode::Keep,
        )
        .unwrap()
}
