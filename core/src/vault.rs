//! The encrypted local store: a sled database in which every key is a keyed hash and
//! every value is sealed with XChaCha20-Poly1305.
//!
//! ## Layout of a profile directory
//! ```text
//! profile.key   the header: two slots of the same shape, each with KDF parameters, a
//!               salt (shared), and a wrapped payload: the first wraps the data key
//!               under the key-encryption key (from the passphrase through Argon2id,
//!               or handed in by the platform keystore); the second wraps a duress
//!               marker and a decoy name under the duress passphrase, or is random
//! store/        the sled database
//! ```
//! A random 256-bit *data key* encrypts the store. It never touches the disk unwrapped;
//! changing the passphrase rewraps it, and destroying `profile.key` makes the store
//! unreadable for good: the panic wipe ([`Vault::wipe`]) overwrites it, then removes
//! everything. The duress passphrase ([`Vault::set_duress`]) triggers that wipe and
//! opens a new, empty profile in its place.
//!
//! From the data key, HKDF-SHA256 derives a *value key* (XChaCha20-Poly1305, a random
//! 24-byte nonce per write) and an *index key* (HMAC-SHA256 over namespace and key, so
//! the database's keys say nothing about what they hold). Each sealed value is bound to
//! its slot as associated data, so values cannot be swapped between slots unnoticed.
//! What the files still show: the number and sizes of values and, for ordered
//! namespaces, how many entries each has. A disk attacker can roll a value back to an
//! older version of the same slot; the store does not detect that.
//!
//! ## Atomicity
//! Writes go to an in-memory overlay; [`Vault::commit`] applies the overlay as one sled
//! batch and flushes, so the engine persists the effect of one input (an MLS commit
//! merged, a cursor moved, a post stored) all at once or not at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CoreError, Result};

const HEADER_FILE: &str = "profile.key";
const STORE_DIR: &str = "store";
const HEADER_MAGIC: &[u8; 16] = b"HUISCLOS-PROFILE";
const HEADER_VERSION: u8 = 2;
const KIND_PASSPHRASE: u8 = 1;
const KIND_KEYSTORE: u8 = 2;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// What a slot wraps: a type byte and the data key, or a duress marker and the decoy
/// name, padded with random bytes.
const PAYLOAD_LEN: usize = 96;
const PAYLOAD_DATA_KEY: u8 = 1;
const PAYLOAD_DURESS: u8 = 2;
/// kind, three u32 parameters, salt.
const SLOT_AAD_LEN: usize = 1 + 12 + SALT_LEN;
const SLOT_LEN: usize = SLOT_AAD_LEN + NONCE_LEN + PAYLOAD_LEN + TAG_LEN;
/// magic, version, two slots.
const HEADER_LEN: usize = 16 + 1 + 2 * SLOT_LEN;
const WRAP_AAD_LABEL: &[u8] = b"huisclos/1 profile-key";
const VALUE_AAD_LABEL: &[u8] = b"huisclos/1 store";
const ORDERED_TAG_LEN: usize = 16;

/// A 256-bit key: the key-encryption key a platform keystore hands in.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct StorageKey([u8; 32]);

impl StorageKey {
    /// Wraps key bytes (for example from Android Keystore or the iOS Keychain). The caller
    /// should zeroize its own copy.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key, for a platform keystore to keep.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The key bytes, for handing to the platform keystore.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageKey(<redacted>)")
    }
}

/// A passphrase, zeroized on drop and redacted in `Debug`.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// The fewest characters a passphrase that protects a profile may have. A seized
    /// device's profile can be attacked offline; Argon2id slows each guess, but only a
    /// passphrase of some length makes the guesses too many. Every front end inherits
    /// this rule from the vault, rather than each remembering to apply it.
    pub const MIN_CHARS: usize = 8;

    /// Wraps a passphrase typed by the user. Any passphrase may be *tried*; one that
    /// is to protect a profile must pass [`Passphrase::check_new`].
    pub fn new(passphrase: impl Into<String>) -> Self {
        Self(passphrase.into())
    }

    /// Whether this passphrase may protect a profile (or serve as its duress
    /// passphrase).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when it has fewer than [`Passphrase::MIN_CHARS`]
    /// characters; the message does not repeat it.
    pub fn check_new(&self) -> Result<()> {
        if self.0.chars().count() < Self::MIN_CHARS {
            return Err(CoreError::Invalid(format!("a passphrase has at least {} characters", Self::MIN_CHARS)));
        }
        Ok(())
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// What opens a profile.
#[derive(Debug, Clone)]
pub enum Unlock {
    /// A passphrase, stretched with Argon2id.
    Passphrase(Passphrase),
    /// A key held by the platform keystore.
    Keystore(StorageKey),
}

impl Unlock {
    /// Whether this may protect a profile: a passphrase long enough, or a keystore
    /// key (always 32 random bytes).
    fn check_new(&self) -> Result<()> {
        match self {
            Self::Passphrase(passphrase) => passphrase.check_new(),
            Self::Keystore(_) => Ok(()),
        }
    }
}

/// Argon2id cost parameters, stored in the profile header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfParams {
    /// The least memory accepted, 8 MiB: below it a GPU guesses too cheaply.
    pub const MIN_MEMORY_KIB: u32 = 8 * 1024;
    /// The most memory accepted, 1 GiB, so a tampered header cannot exhaust a phone.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The most iterations accepted, for the same reason.
    pub const MAX_ITERATIONS: u32 = 16;

    /// The default: 64 MiB, 3 passes, one lane (OWASP's recommendation for Argon2id
    /// with ample margin; about a quarter of a second on a mid-range phone).
    pub const DEFAULT: Self = Self { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 };

    /// Parameters within the accepted bounds.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when a parameter is outside the bounds.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self> {
        if !(Self::MIN_MEMORY_KIB..=Self::MAX_MEMORY_KIB).contains(&memory_kib)
            || !(1..=Self::MAX_ITERATIONS).contains(&iterations)
            || !(1..=8).contains(&parallelism)
        {
            return Err(CoreError::Invalid("Argon2id parameters out of bounds".into()));
        }
        Ok(Self { memory_kib, iterations, parallelism })
    }

    fn derive(&self, passphrase: &Passphrase, salt: &[u8; SALT_LEN]) -> Result<Zeroizing<[u8; 32]>> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|_| CoreError::CorruptProfile("Argon2id parameters"))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|_| CoreError::Invalid("passphrase too long".into()))?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One way into the profile: a key-encryption key's parameters and what it wraps.
struct Slot {
    kind: u8,
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    wrapped: [u8; PAYLOAD_LEN + TAG_LEN],
}

/// What a slot opened to.
enum Opening {
    DataKey(Zeroizing<[u8; 32]>),
    Duress { decoy_name: String },
}

/// The parsed `profile.key`: two slots, always. The first opens the profile; the
/// second holds a duress passphrase, or random bytes that look the same.
struct Header {
    slots: [Slot; 2],
}

impl Slot {
    fn aad(&self, index: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 2 + SLOT_AAD_LEN + WRAP_AAD_LABEL.len());
        out.extend_from_slice(HEADER_MAGIC);
        out.push(HEADER_VERSION);
        out.push(index);
        out.extend_from_slice(&self.fields());
        out.extend_from_slice(WRAP_AAD_LABEL);
        out
    }

    fn fields(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SLOT_AAD_LEN);
        out.push(self.kind);
        out.extend_from_slice(&self.params.memory_kib.to_be_bytes());
        out.extend_from_slice(&self.params.iterations.to_be_bytes());
        out.extend_from_slice(&self.params.parallelism.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.fields();
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.wrapped);
        out
    }

    fn parse(bytes: &[u8]) -> Result<Self> {
        let kind = bytes[0];
        if kind != KIND_PASSPHRASE && kind != KIND_KEYSTORE {
            return Err(CoreError::CorruptProfile("profile.key has an unknown kind"));
        }
        let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let params = KdfParams::new(word(1), word(5), word(9))
            .map_err(|_| CoreError::CorruptProfile("profile.key has out-of-bounds parameters"))?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&bytes[13..13 + SALT_LEN]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[SLOT_AAD_LEN..SLOT_AAD_LEN + NONCE_LEN]);
        let mut wrapped = [0u8; PAYLOAD_LEN + TAG_LEN];
        wrapped.copy_from_slice(&bytes[SLOT_AAD_LEN + NONCE_LEN..SLOT_LEN]);
        Ok(Self { kind, params, salt, nonce, wrapped })
    }

    /// A slot of random bytes under passphrase parameters: what an unused duress slot
    /// looks like.
    fn random(params: KdfParams) -> Self {
        let mut slot = Self {
            kind: KIND_PASSPHRASE,
            params,
            salt: [0; SALT_LEN],
            nonce: [0; NONCE_LEN],
            wrapped: [0; PAYLOAD_LEN + TAG_LEN],
        };
        OsRng.fill_bytes(&mut slot.salt);
        OsRng.fill_bytes(&mut slot.nonce);
        OsRng.fill_bytes(&mut slot.wrapped);
        slot
    }

    /// A slot at `index` wrapping `payload` (type byte and contents) under the key
    /// from `unlock` with `salt`.
    fn wrap(index: u8, unlock: &Unlock, params: KdfParams, salt: [u8; SALT_LEN], payload: &[u8]) -> Result<Self> {
        let mut slot = Self::random(params);
        slot.salt = salt;
        slot.kind = match unlock {
            Unlock::Passphrase(_) => KIND_PASSPHRASE,
            Unlock::Keystore(_) => KIND_KEYSTORE,
        };
        let mut padded = Zeroizing::new([0u8; PAYLOAD_LEN]);
        OsRng.fill_bytes(padded.as_mut());
        padded[..payload.len()].copy_from_slice(payload);
        let kek = slot.key_encryption_key(unlock)?.ok_or(CoreError::WrongPassphrase)?;
        let mut wrapped = XChaCha20Poly1305::new(kek.as_ref().into())
            .encrypt(XNonce::from_slice(&slot.nonce), Payload { msg: padded.as_ref(), aad: &slot.aad(index) })
            .map_err(|_| CoreError::CorruptProfile("key wrapping"))?;
        slot.wrapped.copy_from_slice(&wrapped);
        wrapped.zeroize();
        Ok(slot)
    }

    /// The key-encryption key `unlock` gives for this slot; `None` when it is the
    /// other kind of secret.
    fn key_encryption_key(&self, unlock: &Unlock) -> Result<Option<Zeroizing<[u8; 32]>>> {
        match (unlock, self.kind) {
            (Unlock::Passphrase(passphrase), KIND_PASSPHRASE) => self.params.derive(passphrase, &self.salt).map(Some),
            (Unlock::Keystore(key), KIND_KEYSTORE) => Ok(Some(Zeroizing::new(*key.expose_secret()))),
            _ => Ok(None),
        }
    }

    fn unwrap_payload(&self, index: u8, kek: &[u8; 32]) -> Option<Zeroizing<Vec<u8>>> {
        XChaCha20Poly1305::new(kek.into())
            .decrypt(XNonce::from_slice(&self.nonce), Payload { msg: &self.wrapped, aad: &self.aad(index) })
            .ok()
            .map(Zeroizing::new)
    }
}

impl Header {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(HEADER_MAGIC);
        out.push(HEADER_VERSION);
        for slot in &self.slots {
            out.extend_from_slice(&slot.to_bytes());
        }
        out
    }

    fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 17 || &bytes[..16] != HEADER_MAGIC {
            return Err(CoreError::CorruptProfile("profile.key is not a profile header"));
        }
        if bytes[16] != HEADER_VERSION || bytes.len() != HEADER_LEN {
            return Err(CoreError::CorruptProfile("profile.key has an unknown version"));
        }
        let first = Slot::parse(&bytes[17..17 + SLOT_LEN])?;
        let second = Slot::parse(&bytes[17 + SLOT_LEN..])?;
        Ok(Self { slots: [first, second] })
    }

    /// A new header with `data_key` in the first slot and random bytes (under the same
    /// salt and parameters) in the second.
    fn new(unlock: &Unlock, params: KdfParams, data_key: &[u8; 32]) -> Result<Self> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let first = Slot::wrap(0, unlock, params, salt, &data_key_payload(data_key))?;
        let mut second = Slot::random(params);
        second.salt = salt;
        Ok(Self { slots: [first, second] })
    }

    /// What `unlock` opens. Both slots share their salt and parameters, so one
    /// derivation serves both and the time taken does not tell whether a duress
    /// passphrase is set, or which slot opened; every slot is tried.
    fn open(&self, unlock: &Unlock) -> Result<Opening> {
        let mut opened = None;
        let mut derived: Option<(Vec<u8>, Zeroizing<[u8; 32]>)> = None;
        for (index, slot) in self.slots.iter().enumerate() {
            let fields = slot.fields();
            let kek = match &derived {
                Some((for_fields, kek)) if *for_fields == fields => kek.clone(),
                _ => {
                    let Some(kek) = slot.key_encryption_key(unlock)? else { continue };
                    derived = Some((fields, kek.clone()));
                    kek
                }
            };
            let payload = slot.unwrap_payload(index as u8, &kek);
            if opened.is_none() {
                opened = payload;
            }
        }
        let payload = opened.ok_or(CoreError::WrongPassphrase)?;
        match payload[0] {
            PAYLOAD_DATA_KEY => {
                let mut key = Zeroizing::new([0u8; 32]);
                key.copy_from_slice(&payload[1..33]);
                Ok(Opening::DataKey(key))
            }
            PAYLOAD_DURESS => {
                let len = usize::from(payload[1]).min(PAYLOAD_LEN - 2);
                let decoy_name = String::from_utf8(payload[2..2 + len].to_vec())
                    .map_err(|_| CoreError::CorruptProfile("profile.key's decoy name"))?;
                Ok(Opening::Duress { decoy_name })
            }
            _ => Err(CoreError::CorruptProfile("profile.key wraps an unknown payload")),
        }
    }
}

fn data_key_payload(data_key: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    let mut payload = Zeroizing::new(Vec::with_capacity(33));
    payload.push(PAYLOAD_DATA_KEY);
    payload.extend_from_slice(data_key);
    payload
}

/// The longest decoy name a duress slot holds, in bytes.
pub const MAX_DECOY_NAME_LEN: usize = PAYLOAD_LEN - 2;

/// What opening a profile gave.
pub enum Opened {
    /// The profile.
    Profile(Vault),
    /// A duress passphrase: the real profile is destroyed, and this is a new empty
    /// profile that opens with that passphrase. Show it under `decoy_name`.
    Duress {
        /// The new, empty profile.
        vault: Vault,
        /// The name the person chose for it.
        decoy_name: String,
    },
}

/// The keys the data key expands into.
#[derive(zeroize::ZeroizeOnDrop)]
struct VaultKeys {
    value_key: [u8; 32],
    index_key: [u8; 32],
}

impl VaultKeys {
    fn expand(data_key: &[u8; 32]) -> Result<Self> {
        let hkdf = hkdf::Hkdf::<Sha256>::new(None, data_key);
        let mut keys = Self { value_key: [0; 32], index_key: [0; 32] };
        hkdf.expand(b"huisclos/1 store value-key", &mut keys.value_key)
            .and_then(|()| hkdf.expand(b"huisclos/1 store index-key", &mut keys.index_key))
            .map_err(|_| CoreError::CorruptProfile("key expansion"))?;
        Ok(keys)
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC zero-pads a short key to the hash's block size, so padding it here gives
        // the same MAC as `new_from_slice` without its (never taken) error path.
        let mut block = Zeroizing::new([0u8; 64]);
        block[..32].copy_from_slice(&self.index_key);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(block.as_ref().into());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.value_key).into())
    }
}

/// The encrypted store of one profile.
pub struct Vault {
    dir: PathBuf,
    db: sled::Db,
    keys: VaultKeys,
    /// Sealed values (or deletions) written since the last commit, by database key.
    overlay: Mutex<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Vault {
    /// The store's own keys, for tests that search the files for them.
    #[cfg(feature = "test-secrets")]
    #[doc(hidden)]
    pub fn keys_for_tests(&self) -> Vec<Zeroizing<Vec<u8>>> {
        vec![Zeroizing::new(self.keys.value_key.to_vec()), Zeroizing::new(self.keys.index_key.to_vec())]
    }

    /// Creates a new profile in `dir` (created if missing; it must not hold a profile).
    ///
    /// # Errors
    /// [`CoreError::ProfileExists`]; [`CoreError::Invalid`] for a passphrase shorter
    /// than [`Passphrase::MIN_CHARS`] (nothing is created); I/O and store errors.
    pub fn create(dir: &Path, unlock: &Unlock, params: KdfParams) -> Result<Self> {
        unlock.check_new()?;
        std::fs::create_dir_all(dir)?;
        restrict_permissions(dir)?;
        let header_path = dir.join(HEADER_FILE);
        if header_path.exists() || dir.join(STORE_DIR).exists() {
            return Err(CoreError::ProfileExists(dir.display().to_string()));
        }
        let mut data_key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(data_key.as_mut());
        let header = Header::new(unlock, params, &data_key)?;
        write_atomically(&header_path, &header.to_bytes())?;
        Self::open_with_data_key(dir, &data_key)
    }

    /// Opens the profile in `dir`. A duress passphrase destroys the profile and opens
    /// a new, empty one (see [`Vault::open_or_duress`] to learn which happened).
    ///
    /// # Errors
    /// [`CoreError::NoProfile`] when there is none, [`CoreError::WrongPassphrase`] when
    /// `unlock` does not open it (nothing is changed), [`CoreError::CorruptProfile`].
    pub fn open(dir: &Path, unlock: &Unlock) -> Result<Self> {
        match Self::open_or_duress(dir, unlock)? {
            Opened::Profile(vault) | Opened::Duress { vault, .. } => Ok(vault),
        }
    }

    /// Opens the profile in `dir`, or — given its duress passphrase — destroys it
    /// ([`Vault::wipe`]) and creates in its place a new, empty profile that opens with
    /// that passphrase.
    ///
    /// # Errors
    /// As [`Vault::open`].
    pub fn open_or_duress(dir: &Path, unlock: &Unlock) -> Result<Opened> {
        let header = Self::read_header(dir)?;
        match header.open(unlock)? {
            Opening::DataKey(key) => Ok(Opened::Profile(Self::open_with_data_key(dir, &key)?)),
            Opening::Duress { decoy_name } => {
                let params = header.slots[1].params;
                Self::wipe(dir)?;
                let vault = Self::create(dir, unlock, params)?;
                Ok(Opened::Duress { vault, decoy_name })
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

    /// Sets (or replaces) the duress passphrase: opening the profile with it destroys
    /// the profile and shows a new, empty one named `decoy_name`. The header keeps the
    /// same size and shape whether or not a duress passphrase is set.
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] unless `current` opens the profile;
    /// [`CoreError::Invalid`] for a decoy name longer than [`MAX_DECOY_NAME_LEN`] or a
    /// duress passphrase that opens the profile itself or is shorter than
    /// [`Passphrase::MIN_CHARS`].
    pub fn set_duress(dir: &Path, current: &Unlock, duress: &Passphrase, decoy_name: &str) -> Result<()> {
        if decoy_name.len() > MAX_DECOY_NAME_LEN {
            return Err(CoreError::Invalid(format!("a decoy name has at most {MAX_DECOY_NAME_LEN} bytes")));
        }
        duress.check_new()?;
        let mut header = Self::read_header(dir)?;
        if !matches!(header.open(current)?, Opening::DataKey(_)) {
            return Err(CoreError::WrongPassphrase);
        }
        let duress = Unlock::Passphrase(duress.clone());
        if matches!(header.slots[0].key_encryption_key(&duress)?, Some(kek) if header.slots[0].unwrap_payload(0, &kek).is_some())
        {
            return Err(CoreError::Invalid("the duress passphrase must differ from the profile's".into()));
        }
        let mut payload = Zeroizing::new(Vec::with_capacity(2 + decoy_name.len()));
        payload.push(PAYLOAD_DURESS);
        payload.push(decoy_name.len() as u8);
        payload.extend_from_slice(decoy_name.as_bytes());
        // Under the first slot's salt and parameters, so that opening costs one
        // derivation whichever passphrase is given.
        let (params, salt) = (header.slots[0].params, header.slots[0].salt);
        header.slots[1] = Slot::wrap(1, &duress, params, salt, &payload)?;
        write_atomically(&dir.join(HEADER_FILE), &header.to_bytes())
    }

    /// The panic wipe: destroys the profile in `dir` so that nothing in it can be read
    /// again, with any passphrase. The header — the only place the data key exists,
    /// wrapped — is overwritten with random bytes and synced before anything is
    /// removed; then every file and the directory go. Close every handle on the vault
    /// first (drop the engine).
    ///
    /// # Errors
    /// I/O errors; whatever was done stays done.
    pub fn wipe(dir: &Path) -> Result<()> {
        use std::io::Write;
        let header_path = dir.join(HEADER_FILE);
        if let Ok(metadata) = std::fs::metadata(&header_path) {
            let mut noise = vec![0u8; usize::try_from(metadata.len()).unwrap_or(HEADER_LEN).max(HEADER_LEN)];
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

    fn open_with_data_key(dir: &Path, data_key: &[u8; 32]) -> Result<Self> {
        let keys = VaultKeys::expand(data_key)?;
        let db = sled::Config::new().path(dir.join(STORE_DIR)).mode(sled::Mode::HighThroughput).open()?;
        Ok(Self { dir: dir.to_path_buf(), db, keys, overlay: Mutex::new(BTreeMap::new()) })
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn slot(&self, namespace: &str, key: &[u8]) -> Vec<u8> {
        self.keys.mac(&[b"slot", namespace.as_bytes(), key]).to_vec()
    }

    fn ordered_prefix(&self, namespace: &str) -> [u8; ORDERED_TAG_LEN] {
        let mac = self.keys.mac(&[b"ordered", namespace.as_bytes()]);
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
            .keys
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
        self.keys
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
            None => self.db.get(db_key)?.map(|v| v.to_vec()),
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
        for item in self.db.range(start..).take(limit.saturating_add(deletions)) {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            merged.entry(key.to_vec()).or_insert_with(|| Some(value.to_vec()));
        }
        let mut out = Vec::new();
        for (key, value) in merged {
            let Some(sealed) = value else { continue };
            if out.len() == limit {
                break;
            }
            let index_bytes: [u8; 8] =
                key[ORDERED_TAG_LEN..].try_into().map_err(|_| CoreError::CorruptProfile("ordered key"))?;
            out.push((u64::from_be_bytes(index_bytes), self.open_sealed(&key, &sealed)?));
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
        if let Some(item) = self.db.scan_prefix(prefix).next_back() {
            let (key, _) = item?;
            let index_bytes: [u8; 8] =
                key[ORDERED_TAG_LEN..].try_into().map_err(|_| CoreError::CorruptProfile("ordered key"))?;
            last = Some(u64::from_be_bytes(index_bytes));
        }
        for (key, value) in self.overlay().range(prefix.to_vec()..) {
            if !key.starts_with(&prefix) {
                break;
            }
            let index_bytes: [u8; 8] =
                key[ORDERED_TAG_LEN..].try_into().map_err(|_| CoreError::CorruptProfile("ordered key"))?;
            let index = u64::from_be_bytes(index_bytes);
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
        let mut batch = sled::Batch::default();
        for (key, value) in overlay.iter() {
            match value {
                Some(sealed) => batch.insert(key.as_slice(), sealed.as_slice()),
                None => batch.remove(key.as_slice()),
            }
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        overlay.clear();
        Ok(())
    }

    /// Forgets every write since the last commit.
    pub fn rollback(&self) {
        self.overlay().clear();
    }

    /// Changes what opens the profile; the data key, and so the store, stay the same.
    ///
    /// # Errors
    /// [`CoreError::WrongPassphrase`] if `current` does not open it;
    /// [`CoreError::Invalid`] if `new` is a passphrase shorter than
    /// [`Passphrase::MIN_CHARS`].
    pub fn change_unlock(dir: &Path, current: &Unlock, new: &Unlock, params: KdfParams) -> Result<()> {
        new.check_new()?;
        let mut header = Self::read_header(dir)?;
        let Opening::DataKey(data_key) = header.open(current)? else {
            return Err(CoreError::WrongPassphrase);
        };
        // The duress slot stays as it is; the salt too, so both slots still share it.
        let salt = header.slots[0].salt;
        header.slots[0] = Slot::wrap(0, new, params, salt, &data_key_payload(&data_key))?;
        write_atomically(&dir.join(HEADER_FILE), &header.to_bytes())
    }
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
        // Eight characters, counted as characters rather than bytes.
        let vault = Vault::create(&profile, &passphrase("huit été"), fast()).unwrap();
        drop(vault);
        assert!(matches!(
            Vault::change_unlock(&profile, &passphrase("huit été"), &passphrase(short), fast()),
            Err(CoreError::Invalid(_))
        ));
        assert!(matches!(
            Vault::set_duress(&profile, &passphrase("huit été"), &Passphrase::new(short), "Bob"),
            Err(CoreError::Invalid(_))
        ));
        assert!(Vault::open(&profile, &passphrase("huit été")).is_ok(), "the passphrase is unchanged");
    }

    #[test]
    fn a_duress_passphrase_destroys_the_profile_and_opens_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        let plain_header_len;
        {
            let vault = Vault::create(&profile, &passphrase("correct horse"), fast()).unwrap();
            vault.put("ns", b"key", b"the real data").unwrap();
            vault.commit().unwrap();
            plain_header_len = std::fs::read(profile.join(HEADER_FILE)).unwrap().len();
        }
        let duress = Passphrase::new("duress horse");
        assert!(matches!(
            Vault::set_duress(&profile, &passphrase("wrong"), &duress, "Bob"),
            Err(CoreError::WrongPassphrase)
        ));
        assert!(
            Vault::set_duress(&profile, &passphrase("correct horse"), &Passphrase::new("correct horse"), "Bob")
                .is_err()
        );
        assert!(Vault::set_duress(&profile, &passphrase("correct horse"), &duress, &"x".repeat(200)).is_err());
        Vault::set_duress(&profile, &passphrase("correct horse"), &duress, "Bob").unwrap();
        assert_eq!(std::fs::read(profile.join(HEADER_FILE)).unwrap().len(), plain_header_len, "same shape");
        // Changing the passphrase keeps the duress passphrase.
        Vault::change_unlock(&profile, &passphrase("correct horse"), &passphrase("new horse"), fast()).unwrap();
        assert_eq!(
            Vault::open(&profile, &passphrase("new horse")).unwrap().get("ns", b"key").unwrap().unwrap().as_slice(),
            b"the real data"
        );

        match Vault::open_or_duress(&profile, &Unlock::Passphrase(duress.clone())).unwrap() {
            Opened::Duress { vault, decoy_name } => {
                assert_eq!(decoy_name, "Bob");
                assert!(vault.get("ns", b"key").unwrap().is_none(), "an empty profile");
            }
            Opened::Profile(_) => panic!("the duress passphrase opened the real profile"),
        }
        // The real profile is gone; the duress passphrase now opens the empty one.
        assert!(matches!(Vault::open(&profile, &passphrase("new horse")), Err(CoreError::WrongPassphrase)));
        assert!(matches!(Vault::open_or_duress(&profile, &Unlock::Passphrase(duress)).unwrap(), Opened::Profile(_)));
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
        let sealed_a = vault.db.get(&slot_a).unwrap().unwrap();
        vault.db.insert(&slot_b, sealed_a).unwrap();
        assert!(matches!(vault.get("ns", b"b"), Err(CoreError::StoreTampered)));
    }

    #[test]
    fn changing_the_passphrase_keeps_the_data() {
        let dir = tempfile::tempdir().unwrap();
        {
            let vault = Vault::create(dir.path(), &passphrase("old passphrase"), fast()).unwrap();
            vault.put("ns", b"k", b"v").unwrap();
            vault.commit().unwrap();
        }
        assert!(matches!(
            Vault::change_unlock(dir.path(), &passphrase("bad passphrase"), &passphrase("new passphrase"), fast()),
            Err(CoreError::WrongPassphrase)
        ));
        Vault::change_unlock(dir.path(), &passphrase("old passphrase"), &passphrase("new passphrase"), fast()).unwrap();
        assert!(matches!(Vault::open(dir.path(), &passphrase("old passphrase")), Err(CoreError::WrongPassphrase)));
        let vault = Vault::open(dir.path(), &passphrase("new passphrase")).unwrap();
        assert_eq!(vault.get("ns", b"k").unwrap().unwrap().as_slice(), b"v");
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
