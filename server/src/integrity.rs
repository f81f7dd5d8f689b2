//! The store's integrity across restarts: the relay refuses to serve a store that is
//! missing, emptied, truncated, rolled back or not its own, instead of serving it as if
//! it were new.
//!
//! Two things make that possible:
//!
//! - **The store knows whose it is.** On creation it records a random store id and the
//!   pin of the relay key that serves it ([`StoreIdentity`]). A key without its store,
//!   a store without its key, or a store with another relay's key is refused, and the
//!   relay never makes itself a new key while a store or manifest exists.
//! - **A manifest beside the store says what it held.** `store.manifest`, in the data
//!   directory, is rewritten atomically at every clean shutdown (state `clean`: exact
//!   counts and a digest of the accounts, devices and groups) and every
//!   [`CHECKPOINT_INTERVAL`] while the relay runs (state `running`: counts of records
//!   known to be on disk). At start the store must match a `clean` manifest exactly, and
//!   hold at least what a `running` one counted.
//!
//! What a manifest cannot see: after a crash, records acknowledged in the last
//! checkpoint interval and then lost to damage of the store's files. `SECURITY.md` says
//! so. An operator who restored an older copy of the store on purpose accepts what it
//! lacks with `huisclos-relay admin accept-store`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Error;

/// The manifest's file name in the data directory.
pub const MANIFEST_FILE: &str = "store.manifest";

/// The store's directory name in the data directory.
pub const STORE_DIR: &str = "store";

/// How often a running relay records what its store holds.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5);

const MAGIC: &str = "huisclos-relay store manifest 1";

/// Who a store belongs to, recorded in the store itself when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreIdentity {
    /// Random, made with the store.
    pub store_id: [u8; 16],
    /// The pin of the relay key that serves it.
    pub relay_pin: [u8; 32],
}

/// Counts of what a store holds. Each only grows: nothing the relay does deletes an
/// account, a device, a group, or a group's place in its log or content sequence
/// (expired messages leave their sequence numbers behind).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Accounts opened.
    pub accounts: u64,
    /// Devices registered, revoked or not.
    pub devices: u64,
    /// Groups created.
    pub groups: u64,
    /// Log entries appended, over all groups (the sum of their next sequence numbers).
    pub log_entries: u64,
    /// Content records stored, over all groups.
    pub content_records: u64,
}

impl Counts {
    const FIELDS: [&'static str; 5] = ["accounts", "devices", "groups", "log_entries", "content_records"];

    fn values(self) -> [u64; 5] {
        [self.accounts, self.devices, self.groups, self.log_entries, self.content_records]
    }

    fn from_values(values: [u64; 5]) -> Self {
        let [accounts, devices, groups, log_entries, content_records] = values;
        Self { accounts, devices, groups, log_entries, content_records }
    }

    /// The fields where `self` holds less than `other`, with both values.
    pub(crate) fn shortfalls(self, other: Self) -> Vec<(&'static str, u64, u64)> {
        Self::FIELDS
            .iter()
            .zip(self.values().into_iter().zip(other.values()))
            .filter(|(_, (have, had))| have < had)
            .map(|(name, (have, had))| (*name, have, had))
            .collect()
    }
}

/// What a store holds, as its manifest records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    /// The counts.
    pub counts: Counts,
    /// A digest of every account, device and group row.
    pub digest: [u8; 32],
}

/// Whether the relay stopped cleanly after writing the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestState {
    /// Written at a clean shutdown: the store must match it exactly.
    Clean,
    /// Written while running: the store holds at least what it counts.
    Running,
}

/// The manifest file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Whose store.
    pub identity: StoreIdentity,
    /// Clean or running.
    pub state: ManifestState,
    /// What the store held.
    pub census: Census,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Manifest {
    /// The manifest's path in a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(MANIFEST_FILE)
    }

    /// The text written to the file.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{MAGIC}\nstore_id {}\nrelay_pin {}\nstate {}\n",
            hex(&self.identity.store_id),
            hex(&self.identity.relay_pin),
            match self.state {
                ManifestState::Clean => "clean",
                ManifestState::Running => "running",
            }
        );
        for (name, value) in Counts::FIELDS.iter().zip(self.census.counts.values()) {
            let _ = writeln!(text, "{name} {value}");
        }
        let _ = writeln!(text, "digest {}", hex(&self.census.digest));
        text
    }

    /// Parses the file's text.
    ///
    /// # Errors
    /// [`Error::Damaged`] naming what is wrong.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let bad = |what: &str| Error::Damaged(format!("{MANIFEST_FILE} is unreadable ({what})"));
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(bad("unknown format"));
        }
        let mut fields = std::collections::HashMap::new();
        for line in lines {
            let (key, value) = line.split_once(' ').ok_or_else(|| bad("a line without a value"))?;
            fields.insert(key, value);
        }
        let field = |name: &str| fields.get(name).copied().ok_or_else(|| bad(&format!("no {name}")));
        let store_id = unhex::<16>(field("store_id")?).ok_or_else(|| bad("store_id"))?;
        let relay_pin = unhex::<32>(field("relay_pin")?).ok_or_else(|| bad("relay_pin"))?;
        let state = match field("state")? {
            "clean" => ManifestState::Clean,
            "running" => ManifestState::Running,
            _ => return Err(bad("state")),
        };
        let mut values = [0u64; 5];
        for (value, name) in values.iter_mut().zip(Counts::FIELDS) {
            *value = field(name)?.parse().map_err(|_| bad(name))?;
        }
        let digest = unhex::<32>(field("digest")?).ok_or_else(|| bad("digest"))?;
        Ok(Self {
            identity: StoreIdentity { store_id, relay_pin },
            state,
            census: Census { counts: Counts::from_values(values), digest },
        })
    }

    /// Reads the manifest of a data directory, if there is one.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, [`Error::Damaged`] if it does not parse.
    pub fn read(data_dir: &Path) -> Result<Option<Self>, Error> {
        let path = Self::path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_text(&text).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(Error::Config(format!("reading {}: {error}", path.display()))),
        }
    }

    /// Replaces the manifest atomically: a new file, synced, renamed over the old one,
    /// and the directory synced.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write(&self, data_dir: &Path) -> Result<(), Error> {
        let path = Self::path(data_dir);
        let temporary = data_dir.join(format!("{MANIFEST_FILE}.new"));
        {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(self.to_text().as_bytes())?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(data_dir)?.sync_all()?;
        Ok(())
    }

    /// Checks a store against this manifest.
    ///
    /// # Errors
    /// [`Error::Damaged`] saying what differs and what to do.
    pub fn check(&self, identity: Option<StoreIdentity>, census: &Census) -> Result<(), Error> {
        self.check_shared(identity, census)?;
        if self.state == ManifestState::Clean && census != &self.census {
            return Err(Error::Damaged(
                "the store differs from what it held at the last clean shutdown (its accounts, devices or \
                 groups changed while the relay was stopped). Restore the data directory from a backup, or, if \
                 this copy of the store is the one to keep, accept its contents with `huisclos-relay admin \
                 accept-store`."
                    .into(),
            ));
        }
        Ok(())
    }

    /// [`Manifest::check`] for a store that other relay processes write too (a
    /// PostgreSQL database): the same store, holding no less than counted, but maybe
    /// more, and changed since a clean shutdown.
    ///
    /// # Errors
    /// [`Error::Damaged`] saying what is wrong and what to do.
    pub fn check_shared(&self, identity: Option<StoreIdentity>, census: &Census) -> Result<(), Error> {
        let advice = "Restore the data directory from a backup, or, if this copy of the store is \
                      the one to keep, accept its contents with `huisclos-relay admin accept-store`.";
        let Some(identity) = identity else {
            return Err(Error::Damaged(format!(
                "the store holds no record of its identity although {MANIFEST_FILE} describes one: it was \
                 emptied, truncated or replaced. {advice}"
            )));
        };
        if identity.store_id != self.identity.store_id {
            return Err(Error::Damaged(format!(
                "the store is not the one {MANIFEST_FILE} describes (store id {} instead of {}). {advice}",
                hex(&identity.store_id),
                hex(&self.identity.store_id)
            )));
        }
        let shortfalls = census.counts.shortfalls(self.census.counts);
        if !shortfalls.is_empty() {
            let missing: Vec<String> =
                shortfalls.iter().map(|(name, have, had)| format!("{name}: {have} of {had}")).collect();
            return Err(Error::Damaged(format!(
                "the store holds less than {MANIFEST_FILE} recorded ({}): records were lost. {advice}",
                missing.join(", ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(state: ManifestState) -> Manifest {
        Manifest {
            identity: StoreIdentity { store_id: [7; 16], relay_pin: [9; 32] },
            state,
            census: Census {
                counts: Counts { accounts: 3, devices: 5, groups: 2, log_entries: 600, content_records: 40 },
                digest: [1; 32],
            },
        }
    }

    #[test]
    fn the_text_round_trips_and_a_damaged_one_is_refused() -> Result<(), Error> {
        let written = manifest(ManifestState::Clean);
        assert_eq!(Manifest::from_text(&written.to_text())?, written);
        let truncated = written.to_text()[..60].to_owned();
        assert!(matches!(Manifest::from_text(&truncated), Err(Error::Damaged(_))));
        Ok(())
    }

    #[test]
    fn a_store_with_fewer_records_or_another_identity_is_refused() {
        let running = manifest(ManifestState::Running);
        let identity = Some(running.identity);
        let mut census = running.census;
        assert!(running.check(identity, &census).is_ok());
        census.counts.log_entries += 10;
        census.digest = [2; 32];
        assert!(running.check(identity, &census).is_ok(), "a running manifest is a floor");
        census.counts.log_entries = 593;
        let refused = running.check(identity, &census);
        assert!(
            matches!(&refused, Err(Error::Damaged(text)) if text.contains("log_entries: 593 of 600")),
            "{refused:?}"
        );
        assert!(running.check(None, &running.census).is_err(), "an emptied store");
        let other = Some(StoreIdentity { store_id: [8; 16], relay_pin: [9; 32] });
        assert!(running.check(other, &running.census).is_err(), "another store");
        let clean = manifest(ManifestState::Clean);
        let mut changed = clean.census;
        changed.digest = [3; 32];
        assert!(clean.check(Some(clean.identity), &changed).is_err(), "a clean manifest is exact");
    }
}
