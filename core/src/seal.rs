//! Sealing bytes to one X25519 key: what travels through a relay inbox to a device
//! that holds no MLS state with the sender (a device being linked, the device that
//! receives a space's join requests).
//!
//! `ephemeral (32) || nonce (24) || XChaCha20-Poly1305 ciphertext`, with the key from
//! HKDF-SHA256 over the X25519 shared secret (salt: ephemeral and recipient public
//! keys; info: the label and a context naming what is sealed to whom) and the label
//! and both public keys as associated data. Only the holder of the recipient's secret
//! opens it; the relay carrying it learns its length.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{CoreError, InvalidInput, Result, Unverified};

/// Bytes a sealed message adds to its plaintext.
pub const SEAL_OVERHEAD: usize = 32 + 24 + 16;

fn derive_key(
    label: &[u8],
    context: &[u8],
    shared: &[u8; 32],
    ephemeral: &x25519_dalek::PublicKey,
    recipient: &x25519_dalek::PublicKey,
) -> Result<Zeroizing<[u8; 32]>> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral.as_bytes());
    salt[32..].copy_from_slice(recipient.as_bytes());
    let mut info = label.to_vec();
    info.extend_from_slice(context);
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf::Hkdf::<Sha256>::new(Some(&salt), shared)
        .expand(&info, key.as_mut())
        .map_err(|_| CoreError::Verification(Unverified::InvalidKey))?;
    Ok(key)
}

fn associated_data(label: &[u8], ephemeral: &x25519_dalek::PublicKey, recipient: &x25519_dalek::PublicKey) -> Vec<u8> {
    let mut aad = label.to_vec();
    aad.extend_from_slice(ephemeral.as_bytes());
    aad.extend_from_slice(recipient.as_bytes());
    aad
}

/// Seals `plaintext` to `recipient` under `label` and `context`.
///
/// # Errors
/// [`CoreError::Invalid`] if the cipher refuses (it does not for inputs under 256 GiB).
pub fn seal_to(label: &[u8], context: &[u8], recipient: &[u8; 32], plaintext: &[u8]) -> Result<Vec<u8>> {
    let recipient = x25519_dalek::PublicKey::from(*recipient);
    let ephemeral_secret = x25519_dalek::EphemeralSecret::random_from_rng(OsRng);
    let ephemeral = x25519_dalek::PublicKey::from(&ephemeral_secret);
    let shared = Zeroizing::new(ephemeral_secret.diffie_hellman(&recipient).to_bytes());
    let key = derive_key(label, context, &shared, &ephemeral, &recipient)?;
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload { msg: plaintext, aad: &associated_data(label, &ephemeral, &recipient) },
        )
        .map_err(|_| CoreError::Invalid(InvalidInput::SealingFailed))?;
    let mut sealed = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    sealed.extend_from_slice(ephemeral.as_bytes());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens what [`seal_to`] sealed to the public half of `secret` with the same `label`
/// and `context`.
///
/// # Errors
/// [`CoreError::Verification`] (`what`) when it is too short or does not open.
pub fn open_with(
    label: &[u8],
    context: &[u8],
    secret: &x25519_dalek::StaticSecret,
    sealed: &[u8],
    what: Unverified,
) -> Result<Zeroizing<Vec<u8>>> {
    if sealed.len() < SEAL_OVERHEAD {
        return Err(CoreError::Verification(what));
    }
    let (ephemeral, rest) = sealed.split_at(32);
    let (nonce, ciphertext) = rest.split_at(24);
    let ephemeral: [u8; 32] = ephemeral.try_into().map_err(|_| CoreError::Verification(what))?;
    let ephemeral = x25519_dalek::PublicKey::from(ephemeral);
    let recipient = x25519_dalek::PublicKey::from(secret);
    let shared = Zeroizing::new(secret.diffie_hellman(&ephemeral).to_bytes());
    let key = derive_key(label, context, &shared, &ephemeral, &recipient)?;
    XChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload { msg: ciphertext, aad: &associated_data(label, &ephemeral, &recipient) },
        )
        .map(Zeroizing::new)
        .map_err(|_| CoreError::Verification(what))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn opens_only_with_the_same_key_label_and_context() {
        let secret = x25519_dalek::StaticSecret::random_from_rng(OsRng);
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        let sealed = seal_to(b"label", b"ctx", &public, b"hello").unwrap();
        assert_eq!(sealed.len(), SEAL_OVERHEAD + 5);
        assert_eq!(
            open_with(b"label", b"ctx", &secret, &sealed, Unverified::DoesNotOpen).unwrap().as_slice(),
            b"hello"
        );
        assert!(open_with(b"other", b"ctx", &secret, &sealed, Unverified::DoesNotOpen).is_err());
        assert!(open_with(b"label", b"other", &secret, &sealed, Unverified::DoesNotOpen).is_err());
        let stranger = x25519_dalek::StaticSecret::random_from_rng(OsRng);
        assert!(open_with(b"label", b"ctx", &stranger, &sealed, Unverified::DoesNotOpen).is_err());
        for i in [0, 40, sealed.len() - 1] {
            let mut flipped = sealed.clone();
            flipped[i] ^= 1;
            assert!(open_with(b"label", b"ctx", &secret, &flipped, Unverified::DoesNotOpen).is_err());
        }
        assert!(open_with(b"label", b"ctx", &secret, &sealed[..SEAL_OVERHEAD - 1], Unverified::DoesNotOpen).is_err());
    }
}
