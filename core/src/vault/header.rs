//! The profile header's format: its slots, the key-encryption keys (Argon2id from a
//! passphrase, a keystore key, or both), the payloads they wrap, and how a header is
//! read, checked and rewritten.

use super::*;

/// One way into the profile: a key-encryption key's parameters and what it wraps.
pub(super) struct Slot {
    pub(super) kind: u8,
    pub(super) params: KdfParams,
    pub(super) salt: [u8; SALT_LEN],
    pub(super) nonce: [u8; NONCE_LEN],
    /// The wrapped payload and its tag.
    pub(super) wrapped: Vec<u8>,
}

/// What a slot opened to.
pub(super) enum Opening {
    /// The store's keys, and the tree holding the profile; with the value key being
    /// replaced, when a change of passphrase was interrupted.
    Keys { keys: VaultKeys, tree: u8, replacing: Option<Zeroizing<[u8; 32]>>, after_duress: bool },
    /// Release 0.1's duress marker.
    LegacyDuress { decoy_name: String },
}

/// The parsed `profile.key`: two slots, always. The first opens the profile; the
/// second opens a decoy, or is random bytes that look the same.
pub(super) struct Header {
    pub(super) version: u8,
    pub(super) slots: [Slot; 2],
}

impl Header {
    pub(super) fn payload_len(&self) -> usize {
        if self.version == HEADER_VERSION_V2 { PAYLOAD_LEN_V2 } else { PAYLOAD_LEN }
    }
}

impl Slot {
    pub(super) fn aad(&self, version: u8, index: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 2 + SLOT_AAD_LEN + WRAP_AAD_LABEL.len());
        out.extend_from_slice(HEADER_MAGIC);
        out.push(version);
        out.push(index);
        out.extend_from_slice(&self.fields());
        out.extend_from_slice(WRAP_AAD_LABEL);
        out
    }

    pub(super) fn fields(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SLOT_AAD_LEN);
        out.push(self.kind);
        out.extend_from_slice(&self.params.memory_kib.to_be_bytes());
        out.extend_from_slice(&self.params.iterations.to_be_bytes());
        out.extend_from_slice(&self.params.parallelism.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out
    }

    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.fields();
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.wrapped);
        out
    }

    pub(super) fn parse(bytes: &[u8], payload_len: usize) -> Result<Self> {
        let corrupt = CoreError::damaged(StoredRecord::Header, DamageKind::DoesNotDecode);
        if bytes.len() != slot_len(payload_len) {
            return Err(corrupt);
        }
        let kind = bytes[0];
        if !(KIND_PASSPHRASE..=KIND_BOTH).contains(&kind) {
            return Err(CoreError::damaged(StoredRecord::Header, DamageKind::UnknownVersion));
        }
        let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let params = KdfParams::new(word(1), word(5), word(9))
            .map_err(|_| CoreError::damaged(StoredRecord::KdfParameters, DamageKind::OutOfBounds))?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&bytes[13..13 + SALT_LEN]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[SLOT_AAD_LEN..SLOT_AAD_LEN + NONCE_LEN]);
        let wrapped = bytes[SLOT_AAD_LEN + NONCE_LEN..].to_vec();
        Ok(Self { kind, params, salt, nonce, wrapped })
    }

    /// A slot of random bytes under passphrase parameters: what an unused duress slot
    /// looks like.
    pub(super) fn random(params: KdfParams, salt: [u8; SALT_LEN]) -> Self {
        let mut slot = Self {
            kind: KIND_PASSPHRASE,
            params,
            salt,
            nonce: [0; NONCE_LEN],
            wrapped: vec![0; PAYLOAD_LEN + TAG_LEN],
        };
        OsRng.fill_bytes(&mut slot.nonce);
        OsRng.fill_bytes(&mut slot.wrapped);
        slot
    }

    /// A slot at `index` of a current header wrapping `payload` (type byte and
    /// contents) under the key from `unlock` with `params` and `salt`.
    pub(super) fn wrap(
        index: u8,
        unlock: &Unlock,
        params: KdfParams,
        salt: [u8; SALT_LEN],
        payload: &[u8],
    ) -> Result<Self> {
        let mut slot = Self::random(params, salt);
        slot.kind = unlock.kind();
        let mut padded = Zeroizing::new([0u8; PAYLOAD_LEN]);
        OsRng.fill_bytes(padded.as_mut());
        padded[..payload.len()].copy_from_slice(payload);
        let kek = slot.key_encryption_key(unlock)?.ok_or(CoreError::WrongPassphrase)?;
        let wrapped = XChaCha20Poly1305::new(kek.as_ref().into())
            .encrypt(
                XNonce::from_slice(&slot.nonce),
                Payload { msg: padded.as_ref(), aad: &slot.aad(HEADER_VERSION, index) },
            )
            .map_err(|_| CoreError::damaged(StoredRecord::Keys, DamageKind::Mismatch))?;
        slot.wrapped = wrapped;
        Ok(slot)
    }

    /// The key-encryption key `unlock` gives for this slot; `None` when it is another
    /// kind of secret.
    pub(super) fn key_encryption_key(&self, unlock: &Unlock) -> Result<Option<Zeroizing<[u8; 32]>>> {
        match (unlock, self.kind) {
            (Unlock::Passphrase(passphrase), KIND_PASSPHRASE) => self.params.derive(passphrase, &self.salt).map(Some),
            (Unlock::Keystore(key), KIND_KEYSTORE) => Ok(Some(Zeroizing::new(*key.expose_secret()))),
            (Unlock::PassphraseAndKeystore(passphrase, key), KIND_BOTH) => {
                let stretched = self.params.derive(passphrase, &self.salt)?;
                let mut ikm = Zeroizing::new([0u8; 64]);
                ikm[..32].copy_from_slice(stretched.as_ref());
                ikm[32..].copy_from_slice(key.expose_secret());
                let hkdf = hkdf::Hkdf::<Sha256>::new(Some(&self.salt), ikm.as_ref());
                let mut kek = Zeroizing::new([0u8; 32]);
                hkdf.expand(BOTH_KEK_LABEL, kek.as_mut())
                    .map_err(|_| CoreError::damaged(StoredRecord::Keys, DamageKind::OutOfBounds))?;
                Ok(Some(kek))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn unwrap_payload(&self, version: u8, index: u8, kek: &[u8; 32]) -> Option<Zeroizing<Vec<u8>>> {
        XChaCha20Poly1305::new(kek.into())
            .decrypt(XNonce::from_slice(&self.nonce), Payload { msg: &self.wrapped, aad: &self.aad(version, index) })
            .ok()
            .map(Zeroizing::new)
    }
}

/// The payload of a slot holding `keys` for `tree`, and `replacing` when a change of
/// passphrase is under way.
pub(super) fn keys_payload(keys: &VaultKeys, tree: u8, replacing: Option<&[u8; 32]>) -> Zeroizing<Vec<u8>> {
    let mut payload = Zeroizing::new(Vec::with_capacity(PAYLOAD_LEN));
    payload.push(if replacing.is_some() { PAYLOAD_ROTATING } else { PAYLOAD_KEYS });
    payload.extend_from_slice(&keys.value_key);
    payload.extend_from_slice(&keys.index_key);
    payload.push(tree);
    if let Some(old) = replacing {
        payload.extend_from_slice(old);
    }
    payload
}

/// The payload of the decoy a duress passphrase just opened (the other profile's
/// values are still to be deleted).
pub(super) fn after_duress_payload(keys: &VaultKeys, tree: u8) -> Zeroizing<Vec<u8>> {
    let mut payload = Zeroizing::new(Vec::with_capacity(PAYLOAD_LEN));
    payload.push(PAYLOAD_AFTER_DURESS);
    payload.extend_from_slice(&keys.value_key);
    payload.extend_from_slice(&keys.index_key);
    payload.push(tree);
    payload
}

impl Header {
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(header_len(self.payload_len()));
        out.extend_from_slice(HEADER_MAGIC);
        out.push(self.version);
        for slot in &self.slots {
            out.extend_from_slice(&slot.to_bytes());
        }
        out
    }

    pub(super) fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 17 || &bytes[..16] != HEADER_MAGIC {
            return Err(CoreError::damaged(StoredRecord::Header, DamageKind::DoesNotDecode));
        }
        let version = bytes[16];
        let payload_len = match version {
            HEADER_VERSION_V2 => PAYLOAD_LEN_V2,
            HEADER_VERSION => PAYLOAD_LEN,
            _ => return Err(CoreError::damaged(StoredRecord::Header, DamageKind::UnknownVersion)),
        };
        if bytes.len() != header_len(payload_len) {
            return Err(CoreError::damaged(StoredRecord::Header, DamageKind::UnknownVersion));
        }
        let split = 17 + slot_len(payload_len);
        let first = Slot::parse(&bytes[17..split], payload_len)?;
        let second = Slot::parse(&bytes[split..], payload_len)?;
        Ok(Self { version, slots: [first, second] })
    }

    /// A new header whose first slot opens `keys` in `tree` with `unlock`, and whose
    /// second is random bytes (under the same salt and parameters).
    pub(super) fn new(unlock: &Unlock, params: KdfParams, keys: &VaultKeys, tree: u8) -> Result<Self> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let first = Slot::wrap(0, unlock, params, salt, &keys_payload(keys, tree, None))?;
        Ok(Self { version: HEADER_VERSION, slots: [first, Slot::random(params, salt)] })
    }

    /// What `unlock` opens, and through which slot. Both slots share their salt and
    /// parameters, so one derivation serves both and the time taken does not tell
    /// whether a decoy exists, or which slot opened; every slot is tried.
    pub(super) fn open(&self, unlock: &Unlock) -> Result<(usize, Opening)> {
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
            let payload = slot.unwrap_payload(self.version, index as u8, &kek);
            if opened.is_none() {
                opened = payload.map(|p| (index, p));
            }
        }
        let (index, payload) = opened.ok_or(CoreError::WrongPassphrase)?;
        let key = |at: usize| -> Zeroizing<[u8; 32]> {
            let mut key = Zeroizing::new([0u8; 32]);
            key.copy_from_slice(&payload[at..at + 32]);
            key
        };
        let opening = match payload[0] {
            PAYLOAD_DATA_KEY => {
                Opening::Keys { keys: VaultKeys::expand(&key(1))?, tree: 0, replacing: None, after_duress: false }
            }
            PAYLOAD_DURESS => {
                let len = usize::from(payload[1]).min(PAYLOAD_LEN_V2 - 2);
                let decoy_name = String::from_utf8(payload[2..2 + len].to_vec())
                    .map_err(|_| CoreError::damaged(StoredRecord::DecoyName, DamageKind::DoesNotDecode))?;
                Opening::LegacyDuress { decoy_name }
            }
            kind @ (PAYLOAD_KEYS | PAYLOAD_ROTATING | PAYLOAD_AFTER_DURESS) => Opening::Keys {
                keys: VaultKeys { value_key: *key(1), index_key: *key(33) },
                tree: payload[65],
                replacing: (kind == PAYLOAD_ROTATING).then(|| key(66)),
                after_duress: kind == PAYLOAD_AFTER_DURESS,
            },
            _ => return Err(CoreError::damaged(StoredRecord::Header, DamageKind::UnknownVersion)),
        };
        Ok((index, opening))
    }

    /// The header with slot `index` rewritten to wrap `payload` under `unlock`, keeping
    /// the shared salt and parameters (a release-0.1 header becomes a current one,
    /// its other slot random again).
    pub(super) fn with_slot(&self, index: usize, unlock: &Unlock, payload: &[u8]) -> Result<Self> {
        let (params, salt) = (self.slots[0].params, self.slots[0].salt);
        let slot = Slot::wrap(index as u8, unlock, params, salt, payload)?;
        let other = if self.version == HEADER_VERSION {
            let other = &self.slots[1 - index];
            Slot {
                kind: other.kind,
                params: other.params,
                salt: other.salt,
                nonce: other.nonce,
                wrapped: other.wrapped.clone(),
            }
        } else {
            Slot::random(params, salt)
        };
        let slots = if index == 0 { [slot, other] } else { [other, slot] };
        Ok(Self { version: HEADER_VERSION, slots })
    }
}

/// What opening a profile gave.
pub enum Opened {
    /// The profile.
    Profile(Vault),
    /// A duress passphrase: the real profile is destroyed, and this is the decoy
    /// profile made when the duress passphrase was set, which now opens with it.
    Duress {
        /// The decoy (a profile made by [`Vault::make_decoy`]).
        vault: Vault,
    },
    /// A duress passphrase set by release 0.1, which made no decoy: the real profile is
    /// destroyed and this is a new, empty profile (show it under `decoy_name`).
    LegacyDuress {
        /// The new, empty profile.
        vault: Vault,
        /// The name the person chose for it.
        decoy_name: String,
    },
}
