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

use crate::error::{CoreError, DamageKind, InvalidInput, Result, StoredRecord};

use cipher::*;
pub use header::Opened;
use header::*;
use rows::{Changes, MemoryRows, Rows, SledRows};
pub use secrets::{KdfParams, Passphrase, StorageKey, Unlock};

const HEADER_FILE: &str = "profile.key";
const STORE_DIR: &str = "store";
/// Files the engine keeps beside the store (sealed chunks waiting to be uploaded).
/// (Until this release the duress opening deleted a `staging` directory that nothing
/// writes, and left the real profile's sealed chunks in place.)
const STAGING_DIR: &str = crate::transfer::STAGING_DIR;
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
            .map_err(|_| CoreError::Store(crate::error::StoreFailure::Sealing))?;
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
        .ok_or(CoreError::damaged(StoredRecord::OrderedKey, DamageKind::DoesNotDecode))?;
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
/// moment is waited out, up to two seconds, instead of failing the unlock. sled 0.34
/// reports a held lock as an I/O error of kind `Other` ("could not acquire lock on
/// …"), not `WouldBlock`.
fn open_store(path: &Path) -> Result<sled::Db> {
    let held = |error: &std::io::Error| {
        error.kind() == std::io::ErrorKind::WouldBlock || error.to_string().contains("could not acquire lock")
    };
    let mut tries = 0;
    loop {
        match sled::Config::new().path(path).mode(sled::Mode::HighThroughput).open() {
            Err(sled::Error::Io(error)) if held(&error) && tries < 40 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            opened => return Ok(opened?),
        }
    }
}

#[cfg(test)]
mod tests;

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
