//! The encrypted local store: a sled database in which every key is a keyed hash and
//! every value is sealed with XChaCha20-Poly1305.
//!
//! ## Layout of a profile directory
//! ```text
//! profile.key   the header: two slots of the same shape, each with KDF parameters, a
//!               salt (shared), and a wrapped payload. The first opens the profile: it
//!               wraps the store's keys under the key-encryption key (from the
//!               passphrase through Argon2id, from the platform keystore, or from both
//!               together). The second opens the decoy that a duress passphrase shows,
//!               or is random bytes of the same shape.
//! store/        the sled database: the profile's values in one tree, a decoy's (if
//!               one was made) in another
//! ```
//! The store has two keys: a *value key* (XChaCha20-Poly1305, a random 24-byte nonce
//! per write) and an *index key* (HMAC-SHA256 over namespace and key, so the
//! database's keys say nothing about what they hold). They never touch the disk
//! unwrapped. Each sealed value is bound to its slot as associated data, so values
//! cannot be swapped between slots unnoticed. What the files still show: the number and
//! sizes of values and, for ordered namespaces, how many entries each has; and whether
//! a decoy profile exists (a second tree). A disk attacker can roll a value back to an
//! older version of the same slot; the store does not detect that.
//!
//! ## Changing the passphrase rotates the value key
//! [`Vault::change_unlock`] draws a new value key and seals every value again under
//! it, so that an old copy of the header (flash keeps old blocks) and the old
//! passphrase open nothing that is stored now. It is crash-safe: the header first holds
//! both value keys, then the store is re-sealed in one batch, then the header holds the
//! new key alone; an interrupted change is finished at the next opening.
//!
//! ## Keys, and what destroys them
//! With [`Unlock::PassphraseAndKeystore`], the key-encryption key needs both the
//! passphrase and the platform keystore's key: destroying the keystore key (the panic
//! wipe does) makes the header useless even to someone who kept a copy of it and
//! knows the passphrase. [`Vault::wipe`] needs no passphrase: it overwrites the header
//! and removes everything. On a desktop without a keystore, the header is the only
//! wrapped copy of the keys: a copy of the disk taken before the wipe, with the
//! passphrase, opens the profile.
//!
//! ## The duress passphrase
//! [`Vault::make_decoy`] creates a second, complete profile in the same database under
//! the duress passphrase (the engine makes it a real profile, with its own account,
//! at that moment). Opening with the duress passphrase first rewrites the header so
//! that only the decoy opens (the real profile's keys are gone), then deletes the real
//! profile's values, then opens the decoy: a crash at any point leaves a header that
//! opens the decoy with the duress passphrase.
//!
//! ## Atomicity
//! Writes go to an in-memory overlay; [`Vault::commit`] applies the overlay as one sled
//! batch and flushes, so the engine persists the effect of one input (an MLS commit
//! merged, a cursor moved, a post stored) all at once or not at all.
//!
//! Over 350 lines of this file are its tests.

mod cipher;
#[cfg(test)]
mod conformance;
mod header;
mod rows;
mod secrets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{CoreError, InvalidInput, Result};

use cipher::*;
pub use header::Opened;
use header::*;
use rows::{Changes, MemoryRows, Rows, SledRows};
pub use secrets::{KdfParams, Passphrase, StorageKey, Unlock};

const HEADER_FILE: &str = "profile.key";
const STORE_DIR: &str = "store";
/// Files the engine keeps beside the store (sealed chunks waiting to be uploaded).
const STAGING_DIR: &str = "staging";
const HEADER_MAGIC: &[u8; 16] = b"HUISCLOS-PROFILE";
/// Release 0.1's header: payloads of [`PAYLOAD_LEN_V2`] bytes.
const HEADER_VERSION_V2: u8 = 2;
const HEADER_VERSION: u8 = 3;
const KIND_PASSPHRASE: u8 = 1;
const KIND_KEYSTORE: u8 = 2;
const KIND_BOTH: u8 = 3;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// What a slot of a release-0.1 header wraps.
const PAYLOAD_LEN_V2: usize = 96;
/// What a slot wraps: a type byte and its contents, padded with random bytes.
const PAYLOAD_LEN: usize = 128;
/// Release 0.1: the data key, from which the store's keys are derived.
const PAYLOAD_DATA_KEY: u8 = 1;
/// Release 0.1: a duress marker and the decoy's name.
const PAYLOAD_DURESS: u8 = 2;
/// The value key, the index key and the tree that holds the profile.
const PAYLOAD_KEYS: u8 = 3;
/// As [`PAYLOAD_KEYS`], then the value key being replaced (a change of passphrase
/// that was interrupted).
const PAYLOAD_ROTATING: u8 = 4;
/// As [`PAYLOAD_KEYS`], for the decoy a duress passphrase just opened: the other
/// profile's values are still to be deleted.
const PAYLOAD_AFTER_DURESS: u8 = 5;
/// kind, three u32 parameters, salt.
const SLOT_AAD_LEN: usize = 1 + 12 + SALT_LEN;
const WRAP_AAD_LABEL: &[u8] = b"huisclos/1 profile-key";
const VALUE_AAD_LABEL: &[u8] = b"huisclos/1 store";
const BOTH_KEK_LABEL: &[u8] = b"huisclos/1 profile-kek";
const ORDERED_TAG_LEN: usize = 16;

const fn slot_len(payload: usize) -> usize {
    SLOT_AAD_LEN + NONCE_LEN + payload + TAG_LEN
}

const fn header_len(payload: usize) -> usize {
    16 + 1 + 2 * slot_len(payload)
}

/// The encrypted store of one profile.
pub struct Vault {
    dir: PathBuf,
    /// The sled database of a profile on disk; `None` for one in memory.
    db: Option<sled::Db>,
    /// The tree of the database that holds this profile (0: the default tree).
    tree_id: u8,
    /// Where the sealed rows are (the tree, or memory).
    rows: Box<dyn Rows>,
    keys: std::sync::RwLock<VaultKeys>,
    /// Sealed values (or deletions) written since the last commit, by database key.
    overlay: Mutex<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// The name of tree `id` of the database (0 is sled's default tree).
fn tree_name(id: u8) -> Vec<u8> {
    format!("profile-{id}").into_bytes()
}

fn open_tree(db: &sled::Db, id: u8) -> Result<sled::Tree> {
    Ok(if id == 0 { (**db).clone() } else { db.open_tree(tree_name(id))? })
}

impl Vault {
    /// The store's own keys, for tests that search the files for them.
    #[cfg(feature = "test-secrets")]
    #[doc(hidden)]
    pub fn keys_for_tests(&self) -> Vec<Zeroizing<Vec<u8>>> {
        let keys = self.keys();
        vec![Zeroizing::new(keys.value_key.to_vec()), Zeroizing::new(keys.index_key.to_vec())]
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, VaultKeys> {
        // A panic while holding the lock leaves whole keys (they are replaced at once).
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates a new profile in `dir` (created if missing; it must not hold a profile).
    ///
    /// # Errors
    /// [`CoreError::ProfileExists`]; [`CoreError::Invalid`] for a passphrase that may
    /// not protect a profile (nothing is created); I/O and store errors.
    pub fn create(dir: &Path, unlock: &Unlock, params: KdfParams) -> Result<Self> {
        unlock.check_new()?;
        std::fs::create_dir_all(dir)?;
        restrict_permissions(dir)?;
        let header_path = dir.join(HEADER_FILE);
        if header_path.exists() || dir.join(STORE_DIR).exists() {
            return Err(CoreError::ProfileExists(dir.display().to_string()));
        }
        let keys = VaultKeys::generate();
        let header = Header::new(unlock, params, &keys, 0)?;
        write_atomically(&header_path, &header.to_bytes())?;
        Self::open_with_keys(dir, keys, 0)
    }

    /// Opens the profile in `dir`. A duress passphrase destroys the profile and opens
    /// the decoy (see [`Vault::open_or_duress`] to learn which happened).
    ///
    /// # Errors
    /// [`CoreError::NoProfile`] when there is none, [`CoreError::WrongPassphrase`] when
    /// `unlock` does not open it (nothing is changed), [`CoreError::CorruptProfile`].
    pub fn open(dir: &Path, unlock: &Unlock) -> Result<Self> {
        match Self::open_or_duress(dir, unlock)? {
            Opened::Profile(vault) | Opened::Duress { vault } | Opened::LegacyDuress { vault, .. } => Ok(vault),
        }
    }

    /// Opens the profile in `dir`, or — given its duress passphrase — destroys it and
    /// opens the decoy. A change of passphrase that was interrupted is finished first.
    ///
    /// # Errors
    /// As [`Vault::open`].
    pub fn open_or_duress(dir: &Path, unlock: &Unlock) -> Result<Opened> {
        let header = Self::read_header(dir)?;
        match header.open(unlock)? {
            (0, Opening::Keys { keys, tree, replacing, after_duress }) => {
                let vault = Self::open_with_keys(dir, keys, tree)?;
                if let Some(old) = replacing {
                    // A change of passphrase stopped half-way: the store is sealed
                    // again (values still under the old key too), then the header
                    // holds the new key alone.
                    vault.reseal(&old)?;
                    let header = header.with_slot(0, unlock, &keys_payload(&vault.keys(), tree, None))?;
                    write_atomically(&dir.join(HEADER_FILE), &header.to_bytes())?;
                }
                if after_duress {
                    // A duress opening stopped after its first step: it is finished.
                    vault.finish_duress(&header, unlock)?;
                    return Ok(Opened::Duress { vault });
                }
                Ok(Opened::Profile(vault))
            }
            (_, Opening::Keys { keys, tree, .. }) => {
                // The duress passphrase. First the header: only the decoy opens, with
                // that passphrase (the real profile's keys are gone from it); then the
                // real profile's values; then the decoy. Interrupted anywhere, the
                // header opens the decoy.
                let mut header = header.with_slot(0, unlock, &after_duress_payload(&keys, tree))?;
                let (params, salt) = (header.slots[0].params, header.slots[0].salt);
                header.slots[1] = Slot::random(params, salt);
                write_atomically(&dir.join(HEADER_FILE), &header.to_bytes())?;
                let vault = Self::open_with_keys(dir, keys, tree)?;
                vault.finish_duress(&header, unlock)?;
                Ok(Opened::Duress { vault })
            }
            (_, Opening::LegacyDuress { decoy_name }) => {
                let params = header.slots[1].params;
                Self::wipe(dir)?;
                let vault = Self::create(dir, unlock, params)?;
                Ok(Opened::LegacyDuress { vault, decoy_name })
            }
        }
    }

    fn read_header(dir: &Path) -> Result<Header> {
        match std::fs::read(dir.join(HEADER_FILE)) {
            Ok(bytes) => Header::parse(&bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(CoreError::NoProfile(dir.display().to_string()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Checks that `unlock` opens this profile (its first slot).
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] otherwise.
    pub fn check_unlock(&self, unlock: &Unlock) -> Result<()> {
        match Self::read_header(&self.dir)?.open(unlock)? {
            (0, Opening::Keys { keys, .. }) if keys.index_key == self.keys().index_key => Ok(()),
            _ => Err(CoreError::WrongPassphrase),
        }
    }

    /// Makes the decoy a duress passphrase opens: a second profile in this database,
    /// with keys of its own, wrapped in the header's second slot under `duress` (with
    /// the same salt and parameters as the first, so that opening costs the same
    /// whichever passphrase is given). A decoy made before is replaced. Returns the
    /// decoy's (empty) vault, for the engine to make a profile in.
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] unless `current` opens this profile;
    /// [`CoreError::Invalid`] for a duress passphrase that may not protect a profile
    /// or opens this profile itself.
    pub fn make_decoy(&self, current: &Unlock, duress: &Passphrase) -> Result<Vault> {
        duress.check_new()?;
        self.check_unlock(current)?;
        let header = Self::read_header(&self.dir)?;
        let duress = Unlock::Passphrase(duress.clone());
        if matches!(header.open(&duress), Ok((0, _))) {
            return Err(CoreError::Invalid(InvalidInput::DuressSameAsPassphrase));
        }
        let db = self.db.as_ref().ok_or(CoreError::Invalid(InvalidInput::NoDuressInMemory))?;
        let tree = if self.tree_id == 1 { 2 } else { 1 };
        open_tree(db, tree)?.clear()?;
        let keys = VaultKeys::generate();
        let header = header.with_slot(1, &duress, &keys_payload(&keys, tree, None))?;
        write_atomically(&self.dir.join(HEADER_FILE), &header.to_bytes())?;
        db.flush()?;
        Ok(Self {
            dir: self.dir.clone(),
            db: Some(db.clone()),
            tree_id: tree,
            rows: Box::new(SledRows(open_tree(db, tree)?)),
            keys: std::sync::RwLock::new(keys),
            overlay: Mutex::new(BTreeMap::new()),
        })
    }

    /// The rest of a duress opening, after the header opens only the decoy: the
    /// other profile's values and staged files are deleted, then the header marks the
    /// decoy as an ordinary profile.
    fn finish_duress(&self, header: &Header, unlock: &Unlock) -> Result<()> {
        self.drop_other_trees()?;
        match std::fs::remove_dir_all(self.dir.join(STAGING_DIR)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
        let header = header.with_slot(0, unlock, &keys_payload(&self.keys(), self.tree_id, None))?;
        write_atomically(&self.dir.join(HEADER_FILE), &header.to_bytes())
    }

    /// Deletes every tree of the database but this profile's (what a duress opening
    /// leaves of the real profile, or an old decoy).
    fn drop_other_trees(&self) -> Result<()> {
        let Some(db) = &self.db else { return Ok(()) };
        let mut changed = false;
        if self.tree_id != 0 && !db.is_empty() {
            db.clear()?;
            changed = true;
        }
        for name in db.tree_names() {
            if name.starts_with(b"profile-") && name.as_ref() != tree_name(self.tree_id).as_slice() {
                db.drop_tree(&name)?;
                changed = true;
            }
        }
        if changed {
            db.flush()?;
        }
        Ok(())
    }

    /// The panic wipe: destroys the profile in `dir` so that nothing in it can be read
    /// again, with any passphrase. It needs none: the header — the only place the
    /// store's keys exist, wrapped — is overwritten with random bytes and synced before
    /// anything is removed; then every file and the directory go. Close every handle
    /// on the vault first (drop the engine). Where a platform keystore holds a key of
    /// the profile, destroy it too (the app's part).
    ///
    /// # Errors
    /// I/O errors; whatever was done stays done.
    pub fn wipe(dir: &Path) -> Result<()> {
        use std::io::Write;
        let header_path = dir.join(HEADER_FILE);
        if let Ok(metadata) = std::fs::metadata(&header_path) {
            let len = usize::try_from(metadata.len()).unwrap_or(0).max(header_len(PAYLOAD_LEN));
            let mut noise = vec![0u8; len];
            OsRng.fill_bytes(&mut noise);
            let mut file = std::fs::OpenOptions::new().write(true).open(&header_path)?;
            file.write_all(&noise)?;
            file.sync_all()?;
            drop(file);
            std::fs::remove_file(&header_path)?;
        }
        match std::fs::remove_dir_all(dir) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        if let Some(parent) = dir.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    }

    /// Parses a header as [`Vault::open`] does before any key derivation, and encodes
    /// it again (for the fuzz harness).
    ///
    /// # Errors
    /// [`CoreError::CorruptProfile`] for anything that is not a header.
    #[doc(hidden)]
    pub fn parse_header_for_fuzzing(bytes: &[u8]) -> Result<Vec<u8>> {
        // What a parsed header encodes back to (the harness checks it is the input).
        Ok(Header::parse(bytes)?.to_bytes())
    }

    /// Whether `dir` holds a profile.
    pub fn exists(dir: &Path) -> bool {
        dir.join(HEADER_FILE).exists()
    }

    fn open_with_keys(dir: &Path, keys: VaultKeys, tree: u8) -> Result<Self> {
        let db = open_store(&dir.join(STORE_DIR))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            rows: Box::new(SledRows(open_tree(&db, tree)?)),
            db: Some(db),
            tree_id: tree,
            keys: std::sync::RwLock::new(keys),
            overlay: Mutex::new(BTreeMap::new()),
        })
    }

    /// A profile whose rows live in memory only, under fresh keys: the engine runs on
    /// it exactly as on disk (every value sealed, every step committed at once) but
    /// nothing of the store survives the vault. For tests, previews and benchmarks.
    /// `dir` holds only what the engine stages as files (chunks of uploads); it is
    /// created if missing. No passphrase opens it, and it has no duress decoy.
    ///
    /// # Errors
    /// I/O errors creating `dir`.
    pub fn in_memory(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        restrict_permissions(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            db: None,
            tree_id: 0,
            rows: Box::new(MemoryRows::default()),
            keys: std::sync::RwLock::new(VaultKeys::generate()),
            overlay: Mutex::new(BTreeMap::new()),
        })
    }

    /// Whether this vault keeps its rows in memory only ([`Vault::in_memory`]).
    pub fn is_in_memory(&self) -> bool {
        self.db.is_none()
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn slot(&self, namespace: &str, key: &[u8]) -> Vec<u8> {
        self.keys().mac(&[b"slot", namespace.as_bytes(), key]).to_vec()
    }

    fn ordered_prefix(&self, namespace: &str) -> [u8; ORDERED_TAG_LEN] {
        let mac = self.keys().mac(&[b"ordered", namespace.as_bytes()]);
        let mut prefix = [0u8; ORDERED_TAG_LEN];
        prefix.copy_from_slice(&mac[..ORDERED_TAG_LEN]);
        prefix
    }

    fn ordered_key(&self, namespace: &str, index: u64) -> Vec<u8> {
        let mut key = self.ordered_prefix(namespace).to_vec();
        key.extend_from_slice(&index.to_be_bytes());
        key
    }

    fn seal(&self, db_key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = [VALUE_AAD_LABEL, db_key].concat();
        let ciphertext = self
            .keys()
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
            .map_err(|_| CoreError::Store("sealing failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    fn open_sealed(&self, db_key: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CoreError::StoreTampered);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let aad = [VALUE_AAD_LABEL, db_key].concat();
        self.keys()
            .cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| CoreError::StoreTampered)
    }

    fn overlay(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Option<Vec<u8>>>> {
        // A panic while holding the lock leaves a consistent map (inserts are atomic).
        self.overlay.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads `stored` as if the disk held it under `key` in `namespace`: opened and
    /// checked as every stored value is (for the fuzz harness). Nothing is written.
    ///
    /// # Errors
    /// [`CoreError::StoreTampered`] for anything that is not a value sealed there.
    #[doc(hidden)]
    pub fn open_stored_for_fuzzing(&self, namespace: &str, key: &[u8], stored: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.open_sealed(&self.slot(namespace, key), stored)
    }

    fn read_raw(&self, db_key: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let sealed = match self.overlay().get(db_key) {
            Some(Some(sealed)) => Some(sealed.clone()),
            Some(None) => None,
            None => self.rows.get(db_key)?,
        };
        sealed.map(|sealed| self.open_sealed(db_key, &sealed)).transpose()
    }

    /// The value stored under `key` in `namespace`, decrypted.
    ///
    /// # Errors
    /// [`CoreError::StoreTampered`] when the stored bytes do not authenticate.
    pub fn get(&self, namespace: &str, key: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.read_raw(&self.slot(namespace, key))
    }

    /// Stores `value` under `key` in `namespace` (visible to reads at once, durable at
    /// the next [`Vault::commit`]).
    ///
    /// # Errors
    /// Only if sealing fails.
    pub fn put(&self, namespace: &str, key: &[u8], value: &[u8]) -> Result<()> {
        let db_key = self.slot(namespace, key);
        let sealed = self.seal(&db_key, value)?;
        self.overlay().insert(db_key, Some(sealed));
        Ok(())
    }

    /// Deletes `key` from `namespace` (at the next commit).
    pub fn remove(&self, namespace: &str, key: &[u8]) {
        let db_key = self.slot(namespace, key);
        self.overlay().insert(db_key, None);
    }

    /// Stores `value` at position `index` of the ordered `namespace`.
    ///
    /// # Errors
    /// Only if sealing fails.
    pub fn put_ordered(&self, namespace: &str, index: u64, value: &[u8]) -> Result<()> {
        let db_key = self.ordered_key(namespace, index);
        let sealed = self.seal(&db_key, value)?;
        self.overlay().insert(db_key, Some(sealed));
        Ok(())
    }

    /// The value at position `index` of the ordered `namespace`.
    ///
    /// # Errors
    /// [`CoreError::StoreTampered`] when the stored bytes do not authenticate.
    pub fn get_ordered(&self, namespace: &str, index: u64) -> Result<Option<Zeroizing<Vec<u8>>>> {
        self.read_raw(&self.ordered_key(namespace, index))
    }

    /// Deletes position `index` of the ordered `namespace` (at the next commit).
    pub fn remove_ordered(&self, namespace: &str, index: u64) {
        let db_key = self.ordered_key(namespace, index);
        self.overlay().insert(db_key, None);
    }

    /// Positions and values of the ordered `namespace` from `from` on, in order, at most
    /// `limit` of them.
    ///
    /// # Errors
    /// [`CoreError::StoreTampered`] when a stored value does not authenticate.
    pub fn scan_ordered(&self, namespace: &str, from: u64, limit: usize) -> Result<Vec<(u64, Zeroizing<Vec<u8>>)>> {
        let prefix = self.ordered_prefix(namespace);
        let start = self.ordered_key(namespace, from);
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        {
            let overlay = self.overlay();
            for (key, value) in overlay.range(start.clone()..) {
                if !key.starts_with(&prefix) {
                    break;
                }
                merged.insert(key.clone(), value.clone());
            }
        }
        // Read enough from disk to fill `limit` after overlay deletions.
        let deletions = merged.values().filter(|v| v.is_none()).count();
        let end = ordered_end(&prefix);
        for (key, value) in self.rows.range(&start, Some(&end), false, limit.saturating_add(deletions))? {
            merged.entry(key).or_insert(Some(value));
        }
        self.open_ordered(merged, limit)
    }

    /// Positions and values of the ordered `namespace` before `before` (all, if `None`),
    /// newest first, at most `limit` of them: reads about `limit` rows, however long
    /// the namespace.
    ///
    /// # Errors
    /// [`CoreError::StoreTampered`] when a stored value does not authenticate.
    pub fn scan_ordered_back(
        &self,
        namespace: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<(u64, Zeroizing<Vec<u8>>)>> {
        let prefix = self.ordered_prefix(namespace);
        let start = self.ordered_key(namespace, 0);
        let end = match before {
            Some(before) => self.ordered_key(namespace, before),
            None => ordered_end(&prefix),
        };
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        {
            let overlay = self.overlay();
            for (key, value) in overlay.range(start.clone()..end.clone()) {
                merged.insert(key.clone(), value.clone());
            }
        }
        // Read enough from disk to fill `limit` after overlay deletions.
        let deletions = merged.values().filter(|v| v.is_none()).count();
        for (key, value) in self.rows.range(&start, Some(&end), true, limit.saturating_add(deletions))? {
            merged.entry(key).or_insert(Some(value));
        }
        self.open_ordered(merged.into_iter().rev(), limit)
    }

    /// The first `limit` live rows of `rows` (merged overlay and disk rows of an ordered
    /// namespace; `None` is a pending deletion), with their positions, opened.
    fn open_ordered(
        &self,
        rows: impl IntoIterator<Item = (Vec<u8>, Option<Vec<u8>>)>,
        limit: usize,
    ) -> Result<Vec<(u64, Zeroizing<Vec<u8>>)>> {
        let mut out = Vec::new();
        for (key, value) in rows {
            let Some(sealed) = value else { continue };
            if out.len() == limit {
                break;
            }
            out.push((ordered_index(&key)?, self.open_sealed(&key, &sealed)?));
        }
        Ok(out)
    }

    /// The highest position used in the ordered `namespace`, if any.
    ///
    /// # Errors
    /// Store errors.
    pub fn last_ordered(&self, namespace: &str) -> Result<Option<u64>> {
        let prefix = self.ordered_prefix(namespace);
        let mut last = None;
        if let Some((key, _)) = self.rows.range(&prefix, Some(&ordered_end(&prefix)), true, 1)?.pop() {
            last = Some(ordered_index(&key)?);
        }
        for (key, value) in self.overlay().range(prefix.to_vec()..) {
            if !key.starts_with(&prefix) {
                break;
            }
            let index = ordered_index(key)?;
            if value.is_some() && last.is_none_or(|l| index > l) {
                last = Some(index);
            }
        }
        Ok(last)
    }

    /// Makes every write since the last commit durable, all at once.
    ///
    /// # Errors
    /// Store errors; the writes stay pending and a later commit retries them.
    pub fn commit(&self) -> Result<()> {
        let mut overlay = self.overlay();
        if overlay.is_empty() {
            return Ok(());
        }
        self.rows.apply(&overlay)?;
        overlay.clear();
        Ok(())
    }

    /// Forgets every write since the last commit.
    pub fn rollback(&self) {
        self.overlay().clear();
    }

    /// Changes what opens the profile, and replaces the value key: every value is
    /// sealed again under a new one, so that an old copy of the header (flash keeps
    /// old blocks) with the old passphrase opens nothing stored now. Crash-safe: the
    /// header first holds both value keys, then the store is sealed again in one
    /// batch, then the header holds the new key alone; an interruption is finished at
    /// the next opening. A duress decoy stays (a release-0.1 duress passphrase does
    /// not: set it again). Pending writes are committed first.
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] if `current` does not open it;
    /// [`CoreError::Invalid`] if `new` is a passphrase that may not protect a profile.
    pub fn change_unlock(&self, current: &Unlock, new: &Unlock) -> Result<()> {
        new.check_new()?;
        self.check_unlock(current)?;
        self.commit()?;
        let header = Self::read_header(&self.dir)?;
        let old = Zeroizing::new(self.keys().value_key);
        let mut next = self.keys().copy();
        OsRng.fill_bytes(&mut next.value_key);
        let rotating = header.with_slot(0, new, &keys_payload(&next, self.tree_id, Some(&old)))?;
        write_atomically(&self.dir.join(HEADER_FILE), &rotating.to_bytes())?;
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        self.reseal(&old)?;
        let done = rotating.with_slot(0, new, &keys_payload(&self.keys(), self.tree_id, None))?;
        write_atomically(&self.dir.join(HEADER_FILE), &done.to_bytes())
    }

    /// Seals every value of the profile again under the current value key; values
    /// still sealed under `old` are opened with it. One batch, flushed.
    fn reseal(&self, old: &[u8; 32]) -> Result<()> {
        let old = VaultKeys { value_key: *old, index_key: self.keys().index_key };
        let mut batch = Changes::new();
        for (key, sealed) in self.rows.range(&[], None, false, usize::MAX)? {
            let plaintext = match self.open_sealed(&key, &sealed) {
                Ok(plaintext) => plaintext,
                Err(_) => open_with(&old, &key, &sealed)?,
            };
            let resealed = self.seal(&key, &plaintext)?;
            batch.insert(key, Some(resealed));
        }
        self.rows.apply(&batch)
    }

    /// How many rows the store holds (committed ones), for tests of what a profile
    /// leaves behind.
    #[cfg(test)]
    pub(crate) fn stored_rows(&self) -> usize {
        self.rows.len()
    }
}

/// A key past every position of the ordered namespace with this prefix.
fn ordered_end(prefix: &[u8; ORDERED_TAG_LEN]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    end.extend_from_slice(&[0xff; 9]);
    end
}

/// The position an ordered namespace's database key ends with.
fn ordered_index(key: &[u8]) -> Result<u64> {
    let index: [u8; 8] = key
        .get(ORDERED_TAG_LEN..)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(CoreError::CorruptProfile("ordered key"))?;
    Ok(u64::from_be_bytes(index))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        restrict_file(&file)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(unix)]
fn restrict_permissions(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_permissions(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn restrict_file(file: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_file(_file: &std::fs::File) -> Result<()> {
    Ok(())
}

/// Opens the sled store. sled's flusher thread can hold the store's file lock for a
/// moment after the last handle is dropped (a lock followed at once by an unlock): that
/// moment is waited out, up to two seconds, instead of failing the unlock.
fn open_store(path: &Path) -> Result<sled::Db> {
    let mut tries = 0;
    loop {
        match sled::Config::new().path(path).mode(sled::Mode::HighThroughput).open() {
            Err(sled::Error::Io(error)) if error.kind() == std::io::ErrorKind::WouldBlock && tries < 40 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            opened => return Ok(opened?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passphrase(text: &str) -> Unlock {
        Unlock::Passphrase(Passphrase::new(text))
    }

    fn fast() -> KdfParams {
        KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap()
    }

    /// The length rule lives in the vault, so every front end inherits it: a short
    /// passphrase creates nothing, changes nothing, and is not repeated in the error.
    #[test]
    fn a_short_passphrase_protects_no_profile() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        let short = "seven c";
        let refused = Vault::create(&profile, &passphrase(short), fast()).unwrap_err();
        assert!(matches!(&refused, CoreError::Invalid(_)), "{refused:?}");
        assert!(!refused.to_string().contains(short));
        assert!(!Vault::exists(&profile), "nothing was created");
        // Enough characters (counted as characters, not bytes), and strong enough.
        let vault = Vault::create(&profile, &passphrase("dix mots été hiver"), fast()).unwrap();
        assert!(matches!(
            vault.change_unlock(&passphrase("dix mots été hiver"), &passphrase(short)),
            Err(CoreError::Invalid(_))
        ));
        assert!(matches!(
            vault.make_decoy(&passphrase("dix mots été hiver"), &Passphrase::new(short)),
            Err(CoreError::Invalid(_))
        ));
        drop(vault);
        assert!(Vault::open(&profile, &passphrase("dix mots été hiver")).is_ok(), "the passphrase is unchanged");
    }

    #[test]
    fn a_duress_passphrase_opens_the_decoy_made_beforehand_and_destroys_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        let duress = Passphrase::new("duress horse");
        let plain_header_len;
        {
            let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
            vault.put("ns", b"key", b"the real data").unwrap();
            vault.commit().unwrap();
            plain_header_len = std::fs::read(profile.join(HEADER_FILE)).unwrap().len();
            assert!(matches!(vault.make_decoy(&passphrase("wrong horse"), &duress), Err(CoreError::WrongPassphrase)));
            assert!(vault.make_decoy(&passphrase("correct horse"), &Passphrase::new("correct horse")).is_err());
            let decoy = vault.make_decoy(&passphrase("correct horse"), &duress).unwrap();
            decoy.put("ns", b"key", b"the decoy's own data").unwrap();
            decoy.commit().unwrap();
            // Each profile reads only its own values.
            assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"the real data");
            assert_eq!(std::fs::read(profile.join(HEADER_FILE)).unwrap().len(), plain_header_len, "same shape");
            // Changing the passphrase keeps the decoy.
            vault.change_unlock(&passphrase("correct horse"), &passphrase("new horse on the hill")).unwrap();
        }
        assert_eq!(
            Vault::open(&profile, &passphrase("new horse on the hill"))
                .unwrap()
                .get("ns", b"key")
                .unwrap()
                .unwrap()
                .as_slice(),
            b"the real data"
        );
        match Vault::open_or_duress(&profile, &Unlock::Passphrase(duress.clone())).unwrap() {
            Opened::Duress { vault } => {
                assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"the decoy's own data");
                assert_eq!(vault.stored_rows(), 1, "only the decoy's values are left");
                assert!(vault.db.as_ref().unwrap().is_empty(), "the real profile's values are deleted");
            }
            _ => panic!("the duress passphrase did not open the decoy"),
        }
        // The real profile is gone; the duress passphrase now opens the decoy as a
        // profile.
        assert!(matches!(Vault::open(&profile, &passphrase("new horse on the hill")), Err(CoreError::WrongPassphrase)));
        assert!(matches!(Vault::open_or_duress(&profile, &Unlock::Passphrase(duress)).unwrap(), Opened::Profile(_)));
    }

    #[test]
    fn a_duress_opening_interrupted_anywhere_leaves_the_decoy_that_opens() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        let duress = Unlock::Passphrase(Passphrase::new("duress horse"));
        {
            let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
            vault.put("ns", b"key", b"the real data").unwrap();
            vault.commit().unwrap();
            let decoy = vault.make_decoy(&passphrase("correct horse"), &Passphrase::new("duress horse")).unwrap();
            decoy.put("ns", b"key", b"decoy").unwrap();
            decoy.commit().unwrap();
        }
        // Killed right after the first step: the header already opens only the decoy,
        // the real profile's values are still on disk.
        let header = Vault::read_header(&profile).unwrap();
        let (index, Opening::Keys { keys, tree, .. }) = header.open(&duress).unwrap() else { panic!() };
        assert_eq!(index, 1);
        let mut first_step = header.with_slot(0, &duress, &after_duress_payload(&keys, tree)).unwrap();
        let (params, salt) = (first_step.slots[0].params, first_step.slots[0].salt);
        first_step.slots[1] = Slot::random(params, salt);
        write_atomically(&profile.join(HEADER_FILE), &first_step.to_bytes()).unwrap();
        assert!(matches!(Vault::open(&profile, &passphrase("correct horse")), Err(CoreError::WrongPassphrase)));
        // The next opening with the duress passphrase opens the decoy and finishes.
        let vault = Vault::open(&profile, &duress).unwrap();
        assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"decoy");
        assert!(vault.db.as_ref().unwrap().is_empty(), "the real profile's values are deleted");
    }

    #[test]
    fn a_passphrase_change_replaces_the_key_that_seals_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        let vault = Vault::create(&profile, &passphrase("old passphrase"), fast()).unwrap();
        vault.put("ns", b"k", b"written before").unwrap();
        vault.commit().unwrap();
        // What flash may keep: the old header.
        let old_header = std::fs::read(profile.join(HEADER_FILE)).unwrap();
        vault.change_unlock(&passphrase("old passphrase"), &passphrase("new passphrase")).unwrap();
        vault.put("ns", b"later", b"written after").unwrap();
        vault.commit().unwrap();
        drop(vault);
        let current_header = std::fs::read(profile.join(HEADER_FILE)).unwrap();
        // The old header and the old passphrase open the old header, but nothing
        // stored now.
        std::fs::write(profile.join(HEADER_FILE), &old_header).unwrap();
        let stale = Vault::open(&profile, &passphrase("old passphrase")).unwrap();
        assert!(matches!(stale.get("ns", b"k"), Err(CoreError::StoreTampered)));
        assert!(matches!(stale.get("ns", b"later"), Err(CoreError::StoreTampered)));
        drop(stale);
        std::fs::write(profile.join(HEADER_FILE), &current_header).unwrap();
        let vault = Vault::open(&profile, &passphrase("new passphrase")).unwrap();
        assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"written before");
        assert_eq!(vault.get("ns", b"later").unwrap().unwrap().as_slice(), b"written after");
    }

    #[test]
    fn a_passphrase_change_interrupted_after_the_header_is_finished_at_the_next_opening() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        {
            let vault = Vault::create(&profile, &passphrase("old passphrase"), fast()).unwrap();
            vault.put("ns", b"k", b"kept").unwrap();
            vault.commit().unwrap();
            // Killed after the first header write: both keys in the header, the store
            // still sealed under the old one.
            let header = Vault::read_header(&profile).unwrap();
            let old = vault.keys().value_key;
            let mut next = vault.keys().copy();
            OsRng.fill_bytes(&mut next.value_key);
            let rotating =
                header.with_slot(0, &passphrase("new passphrase"), &keys_payload(&next, 0, Some(&old))).unwrap();
            write_atomically(&profile.join(HEADER_FILE), &rotating.to_bytes()).unwrap();
        }
        let vault = Vault::open(&profile, &passphrase("new passphrase")).unwrap();
        assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"kept");
        drop(vault);
        let header = Vault::read_header(&profile).unwrap();
        let (_, Opening::Keys { replacing, .. }) = header.open(&passphrase("new passphrase")).unwrap() else {
            panic!()
        };
        assert!(replacing.is_none(), "the change was finished");
    }

    #[test]
    fn a_profile_under_passphrase_and_keystore_needs_both() {
        let dir = tempfile::tempdir().unwrap();
        let key = StorageKey::generate();
        let both = Unlock::PassphraseAndKeystore(Passphrase::new("plain passphrase"), key.clone());
        {
            let vault = Vault::create(dir.path(), &both, fast()).unwrap();
            vault.put("ns", b"k", b"v").unwrap();
            vault.commit().unwrap();
        }
        for wrong in [
            passphrase("plain passphrase"),
            Unlock::Keystore(key.clone()),
            Unlock::PassphraseAndKeystore(Passphrase::new("plain passphrase"), StorageKey::generate()),
            Unlock::PassphraseAndKeystore(Passphrase::new("other passphrase"), key.clone()),
        ] {
            assert!(matches!(Vault::open(dir.path(), &wrong), Err(CoreError::WrongPassphrase)));
        }
        assert_eq!(Vault::open(dir.path(), &both).unwrap().get("ns", b"k").unwrap().unwrap().as_slice(), b"v");
    }

    #[test]
    fn a_wiped_profile_is_gone_for_every_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        {
            let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
            vault.put("ns", b"key", b"value").unwrap();
            vault.commit().unwrap();
        }
        Vault::wipe(&profile).unwrap();
        assert!(!profile.exists());
        assert!(matches!(Vault::open(&profile, &passphrase("correct horse")), Err(CoreError::NoProfile(_))));
        Vault::wipe(&profile).unwrap();
    }

    #[test]
    fn values_survive_reopen_and_only_the_right_passphrase_opens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let vault = Vault::create(dir.path(), &passphrase("correct horse"), fast()).unwrap();
            vault.put("ns", b"key", b"value one").unwrap();
            vault.put_ordered("list", 7, b"seven").unwrap();
            vault.commit().unwrap();
        }
        assert!(matches!(Vault::open(dir.path(), &passphrase("wrong horse")), Err(CoreError::WrongPassphrase)));
        assert!(matches!(
            Vault::open(dir.path(), &Unlock::Keystore(StorageKey::generate())),
            Err(CoreError::WrongPassphrase)
        ));
        let vault = Vault::open(dir.path(), &passphrase("correct horse")).unwrap();
        assert_eq!(vault.get("ns", b"key").unwrap().unwrap().as_slice(), b"value one");
        assert_eq!(vault.get("other", b"key").unwrap(), None);
        assert_eq!(vault.get_ordered("list", 7).unwrap().unwrap().as_slice(), b"seven");
    }

    #[test]
    fn uncommitted_writes_are_lost_and_rollback_forgets_them() {
        let dir = tempfile::tempdir().unwrap();
        let key = StorageKey::generate();
        {
            let vault = Vault::create(dir.path(), &Unlock::Keystore(key.clone()), fast()).unwrap();
            vault.put("ns", b"a", b"1").unwrap();
            vault.commit().unwrap();
            vault.put("ns", b"b", b"2").unwrap();
            vault.remove("ns", b"a");
            vault.rollback();
            assert_eq!(vault.get("ns", b"a").unwrap().unwrap().as_slice(), b"1");
            vault.put("ns", b"c", b"3").unwrap();
        }
        let vault = Vault::open(dir.path(), &Unlock::Keystore(key)).unwrap();
        assert!(vault.get("ns", b"b").unwrap().is_none());
        assert!(vault.get("ns", b"c").unwrap().is_none());
        assert!(vault.get("ns", b"a").unwrap().is_some());
    }

    #[test]
    fn ordered_scan_merges_pending_writes_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::create(dir.path(), &passphrase("plain passphrase"), fast()).unwrap();
        for i in 0..10u64 {
            vault.put_ordered("log", i, &i.to_be_bytes()).unwrap();
        }
        vault.put_ordered("other", 3, b"x").unwrap();
        vault.commit().unwrap();
        vault.remove_ordered("log", 2);
        vault.put_ordered("log", 10, b"ten").unwrap();
        let got: Vec<u64> = vault.scan_ordered("log", 1, 4).unwrap().into_iter().map(|(i, _)| i).collect();
        assert_eq!(got, vec![1, 3, 4, 5]);
        let all: Vec<u64> = vault.scan_ordered("log", 0, 100).unwrap().into_iter().map(|(i, _)| i).collect();
        assert_eq!(all, vec![0, 1, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(vault.last_ordered("log").unwrap(), Some(10));
        assert_eq!(vault.last_ordered("empty").unwrap(), None);
        // Backwards, newest first, pending writes and deletions included.
        let back = |before, limit| -> Vec<u64> {
            vault.scan_ordered_back("log", before, limit).unwrap().into_iter().map(|(i, _)| i).collect()
        };
        assert_eq!(back(None, 4), vec![10, 9, 8, 7]);
        assert_eq!(back(Some(7), 4), vec![6, 5, 4, 3]);
        assert_eq!(back(Some(4), 10), vec![3, 1, 0]);
        assert_eq!(back(Some(0), 10), Vec::<u64>::new());
        assert_eq!(vault.scan_ordered_back("other", None, 10).unwrap().len(), 1);
        assert!(vault.scan_ordered_back("empty", None, 10).unwrap().is_empty());
    }

    #[test]
    fn a_value_moved_to_another_slot_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::create(dir.path(), &passphrase("plain passphrase"), fast()).unwrap();
        vault.put("ns", b"a", b"secret a").unwrap();
        vault.put("ns", b"b", b"secret b").unwrap();
        vault.commit().unwrap();
        let slot_a = vault.slot("ns", b"a");
        let slot_b = vault.slot("ns", b"b");
        let sealed_a = vault.db.as_ref().unwrap().get(&slot_a).unwrap().unwrap();
        vault.db.as_ref().unwrap().insert(&slot_b, sealed_a).unwrap();
        assert!(matches!(vault.get("ns", b"b"), Err(CoreError::StoreTampered)));
    }

    #[test]
    fn changing_the_passphrase_keeps_the_data() {
        let dir = tempfile::tempdir().unwrap();
        {
            let vault = Vault::create(dir.path(), &passphrase("old passphrase"), fast()).unwrap();
            vault.put("ns", b"k", b"v").unwrap();
            vault.commit().unwrap();
            assert!(matches!(
                vault.change_unlock(&passphrase("bad passphrase"), &passphrase("new passphrase")),
                Err(CoreError::WrongPassphrase)
            ));
            vault.change_unlock(&passphrase("old passphrase"), &passphrase("new passphrase")).unwrap();
        }
        assert!(matches!(Vault::open(dir.path(), &passphrase("old passphrase")), Err(CoreError::WrongPassphrase)));
        let vault = Vault::open(dir.path(), &passphrase("new passphrase")).unwrap();
        assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"v");
    }

    #[test]
    fn the_index_key_is_hmac_sha256() {
        // The slot names are the same as release 0.1's (the `hmac` crate's): a profile
        // written then finds its values.
        use hmac::{Hmac, Mac};
        let keys = VaultKeys { value_key: [1; 32], index_key: [2; 32] };
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&keys.index_key).unwrap();
        for part in [b"slot".as_slice(), b"ns", b"key"] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(keys.mac(&[b"slot", b"ns", b"key"]), expected);
    }

    #[test]
    fn a_damaged_header_is_a_typed_error_and_creating_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Vault::create(dir.path(), &passphrase("plain passphrase"), fast()).unwrap());
        assert!(matches!(
            Vault::create(dir.path(), &passphrase("plain passphrase"), fast()),
            Err(CoreError::ProfileExists(_))
        ));
        let path = dir.path().join(HEADER_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[18] ^= 0xff; // the memory parameter's top byte: now out of bounds
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(Vault::open(dir.path(), &passphrase("plain passphrase")), Err(CoreError::CorruptProfile(_))));
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(Vault::open(dir.path(), &passphrase("plain passphrase")), Err(CoreError::CorruptProfile(_))));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(Vault::open(empty.path(), &passphrase("plain passphrase")), Err(CoreError::NoProfile(_))));
    }
}

#[cfg(test)]
mod strength {
    use super::*;

    #[test]
    fn weak_passphrases_protect_no_new_profile_and_the_suggestion_is_strong() {
        for weak in ["password123", "qwertyuiop", "aaaaaaaaaaaa", "iloveyou2026", "Summer2026!"] {
            assert!(Passphrase::new(weak).check_new().is_err(), "{weak}");
        }
        for strong in [
            "correct horse battery staple",
            "Alice walks the long way home at dusk",
            "a passphrase for the CLI test",
            "nothing to see here",
            "demo passphrase, not for real use",
            "open sesame, they are watching",
            "I have nothing to hide",
        ] {
            assert!(Passphrase::new(strong).check_new().is_ok(), "{strong}");
        }
        for _ in 0..20 {
            let suggested = Passphrase::suggest();
            assert_eq!(suggested.split(' ').count(), 6);
            assert!(Passphrase::new(suggested.as_str()).check_new().is_ok(), "{}", suggested.as_str());
        }
    }
}
