//! The real binaries, as separate processes: the relay on a fresh sled store with
//! loopback ports chosen by the system, and the `huisclos` CLI.

// Test harness: a failure here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use huisclos_protocol::invitation::Invitation;
use huisclos_transport::tls::SpkiPin;

/// A workspace binary next to the running test's build output, built first if missing
/// (`cargo test` builds a package's binaries only for that package's own tests).
pub fn binary(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target dir").to_path_buf();
    let binary = dir.join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo).args(["build", "-p", package, "--bin", name]).status();
        assert!(status.map(|s| s.success()).unwrap_or(false), "building {name} failed");
    }
    binary
}

/// The `huisclos-relay` binary.
pub fn relay_binary() -> PathBuf {
    binary("huisclos-relay", "huisclos-relay")
}

/// The `huisclos` CLI binary.
pub fn cli_binary() -> PathBuf {
    binary("huisclos", "huisclos-desktop")
}

/// A running relay process, killed on drop.
pub struct RelayProcess {
    child: Child,
    _dir: tempfile::TempDir,
    /// Its data directory (store, key).
    pub data_dir: PathBuf,
    /// Its QUIC address.
    pub address: SocketAddr,
    /// Its key's pin.
    pub pin: SpkiPin,
    /// The invitation it printed on first start.
    pub first_invitation: String,
}

impl RelayProcess {
    /// Starts a relay on a fresh data directory and waits until it is ready.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("relay");
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let mut child = Command::new(relay_binary())
            .arg("--data-dir")
            .arg(&data_dir)
            .env("HUISCLOS_RELAY_QUIC_LISTEN", "127.0.0.1:0")
            .env("HUISCLOS_RELAY_TCP_LISTEN", "127.0.0.1:0")
            .env("HUISCLOS_RELAY_METRICS_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("relay starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (mut address, mut pin, mut first_invitation) = (None, None, None);
        for line in lines.by_ref() {
            let line = line.expect("relay output");
            let Some(rest) = line.strip_prefix("huisclos-relay: ") else { continue };
            let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
            match key {
                "quic" => address = Some(value.parse().expect("address")),
                "pin" => {
                    let bytes: [u8; 32] = hex::decode(value).expect("hex pin").try_into().expect("32-byte pin");
                    pin = Some(SpkiPin(bytes));
                }
                "invitation" => first_invitation = Some(value.to_owned()),
                "ready" => break,
                _ => {}
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            _dir: dir,
            data_dir,
            address: address.expect("relay printed its address"),
            pin: pin.expect("relay printed its pin"),
            first_invitation: first_invitation.expect("relay printed its first invitation"),
        }
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
