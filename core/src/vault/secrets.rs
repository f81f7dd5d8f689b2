//! What unlocks a profile: a passphrase, a keystore's key, the Argon2id parameters.

use super::*;

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
    pub const MIN_CHARS: usize = 10;

    /// Wraps a passphrase typed by the user. Any passphrase may be *tried*; one that
    /// is to protect a profile must pass [`Passphrase::check_new`].
    pub fn new(passphrase: impl Into<String>) -> Self {
        Self(passphrase.into())
    }

    /// The least [`Passphrase::strength`] a new passphrase must have (zxcvbn's score
    /// 3: "safely unguessable", about 10^8 guesses and more, each of them an
    /// Argon2id derivation).
    pub const MIN_STRENGTH: u8 = 3;

    /// Whether this passphrase may protect a profile (or serve as its duress
    /// passphrase): at least [`Passphrase::MIN_CHARS`] characters, and a strength of
    /// at least [`Passphrase::MIN_STRENGTH`]. A profile made under an older, weaker
    /// rule still opens.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] otherwise; the message does not repeat it, and
    /// [`Passphrase::suggest`] offers a strong one.
    pub fn check_new(&self) -> Result<()> {
        if self.0.chars().count() < Self::MIN_CHARS {
            return Err(CoreError::Invalid(InvalidInput::PassphraseTooShort { min: Self::MIN_CHARS }));
        }
        if self.strength() < Self::MIN_STRENGTH {
            return Err(CoreError::Invalid(InvalidInput::PassphraseTooWeak));
        }
        Ok(())
    }

    /// How hard the passphrase is to guess, from 0 (trivial) to 4 (very strong), as
    /// zxcvbn estimates it (dictionaries, common passwords, keyboard patterns, dates),
    /// for a strength meter.
    pub fn strength(&self) -> u8 {
        zxcvbn::zxcvbn(&self.0, &[]).score() as u8
    }

    /// A strong passphrase to offer: six words drawn at random from the BIP-39
    /// English list (about 66 bits).
    pub fn suggest() -> Zeroizing<String> {
        let words = bip39::Language::English.word_list();
        let mut chosen = Zeroizing::new(String::new());
        for i in 0..6 {
            let mut index = [0u8; 2];
            OsRng.fill_bytes(&mut index);
            // 2048 words: the low 11 bits of two random bytes, uniform.
            let word = words[usize::from(u16::from_be_bytes(index) & 0x07ff)];
            if i > 0 {
                chosen.push(' ');
            }
            chosen.push_str(word);
        }
        chosen
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
    /// Both: the key-encryption key needs the passphrase and the keystore's key, so
    /// that destroying the keystore key destroys the profile, and a seized device's
    /// header opens with neither alone.
    PassphraseAndKeystore(Passphrase, StorageKey),
}

impl Unlock {
    /// Whether this may protect a profile: a passphrase strong enough, or a keystore
    /// key (always 32 random bytes).
    pub(super) fn check_new(&self) -> Result<()> {
        match self {
            Self::Passphrase(passphrase) | Self::PassphraseAndKeystore(passphrase, _) => passphrase.check_new(),
            Self::Keystore(_) => Ok(()),
        }
    }

    pub(super) fn kind(&self) -> u8 {
        match self {
            Self::Passphrase(_) => KIND_PASSPHRASE,
            Self::Keystore(_) => KIND_KEYSTORE,
            Self::PassphraseAndKeystore(..) => KIND_BOTH,
        }
    }
}

/// Argon2id cost parameters, stored in the profile header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub(super) memory_kib: u32,
    pub(super) iterations: u32,
    pub(super) parallelism: u32,
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
            return Err(CoreError::Invalid(InvalidInput::KdfParams));
        }
        Ok(Self { memory_kib, iterations, parallelism })
    }

    pub(super) fn derive(&self, passphrase: &Passphrase, salt: &[u8; SALT_LEN]) -> Result<Zeroizing<[u8; 32]>> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|_| CoreError::damaged(StoredRecord::KdfParameters, DamageKind::OutOfBounds))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
            .map_err(|_| CoreError::Invalid(InvalidInput::PassphraseTooLong))?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}
