//! The store's value cipher and index key: how values are sealed and database keys
//! blinded.

use super::*;

/// The store's two keys. Zeroized on drop.
#[derive(zeroize::ZeroizeOnDrop)]
pub(super) struct VaultKeys {
    pub(super) value_key: [u8; 32],
    pub(super) index_key: [u8; 32],
}

impl VaultKeys {
    pub(super) fn generate() -> Self {
        let mut keys = Self { value_key: [0; 32], index_key: [0; 32] };
        OsRng.fill_bytes(&mut keys.value_key);
        OsRng.fill_bytes(&mut keys.index_key);
        keys
    }

    /// Release 0.1's keys, derived from its data key.
    pub(super) fn expand(data_key: &[u8; 32]) -> Result<Self> {
        let hkdf = hkdf::Hkdf::<Sha256>::new(None, data_key);
        let mut keys = Self { value_key: [0; 32], index_key: [0; 32] };
        hkdf.expand(b"huisclos/1 store value-key", &mut keys.value_key)
            .and_then(|()| hkdf.expand(b"huisclos/1 store index-key", &mut keys.index_key))
            .map_err(|_| CoreError::damaged(StoredRecord::Keys, DamageKind::OutOfBounds))?;
        Ok(keys)
    }

    /// HMAC-SHA256 under the index key, written out so that nothing derived from the
    /// key outlives the call: the pads are zeroized, and each SHA-256 state is reset
    /// (to the public initial value) once its digest is taken.
    pub(super) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        use sha2::Digest;
        let mut ipad = Zeroizing::new([0x36u8; 64]);
        let mut opad = Zeroizing::new([0x5cu8; 64]);
        for (i, byte) in self.index_key.iter().enumerate() {
            ipad[i] ^= byte;
            opad[i] ^= byte;
        }
        let mut inner = Sha256::new();
        inner.update(ipad.as_ref());
        for part in parts {
            inner.update((part.len() as u64).to_be_bytes());
            inner.update(part);
        }
        let inner_digest = Zeroizing::new(inner.finalize_reset());
        let mut outer = Sha256::new();
        outer.update(opad.as_ref());
        outer.update(inner_digest.as_slice());
        let out = outer.finalize_reset().into();
        std::hint::black_box((&inner, &outer));
        out
    }

    pub(super) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.value_key).into())
    }

    pub(super) fn copy(&self) -> Self {
        Self { value_key: self.value_key, index_key: self.index_key }
    }
}

pub(super) fn open_with(keys: &VaultKeys, db_key: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CoreError::StoreTampered);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let aad = [VALUE_AAD_LABEL, db_key].concat();
    keys.cipher()
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map(Zeroizing::new)
        .map_err(|_| CoreError::StoreTampered)
}
