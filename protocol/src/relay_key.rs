//! Rotating the relay's TLS key: how the key clients pin names the key that replaces it.
//!
//! Clients pin the relay's key (the SHA-256 of its SubjectPublicKeyInfo, from the
//! invitation). To replace that key without new invitations, the operator starts a
//! rotation: the relay signs, with its current key, a [`RelayKeyRotation`] naming the
//! next key's pin and the moment it takes over, and carries it in the certificate it
//! presents, as the X.509 extension [`RELAY_KEY_ROTATION_OID`]. A client that
//! connects during the overlap learns the next pin from the handshake itself (no
//! request, no round trip), checks the signature, and from then on accepts either key;
//! once it has seen the next key presented, it pins that one alone.
//!
//! The bytes signed:
//!
//! ```text
//! RELAY_KEY_ROTATION_LABEL || 0x00 || current pin (32) || next pin (32)
//!     || switch_at (8, big-endian Unix seconds)
//! ```
//!
//! What this gives, and what it does not: only the holder of the pinned key can name
//! its successor, so a relay that merely answers on the same address cannot. Whoever
//! holds the current key can, as it could already pose as the relay: rotation renews a
//! key that is still the operator's alone (a new machine, a key that has been in too
//! many backups); a key known to be stolen calls for new invitations, given out of
//! band. See `protocol-spec/relay.md` ("Rotating the relay's key").

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::ids::UnixSeconds;

/// Domain separation for the rotation statement's signature.
pub const RELAY_KEY_ROTATION_LABEL: &[u8] = b"huisclos/1 relay-key-rotation";

/// The object identifier of the certificate extension that carries the statement, in
/// the arc for identifiers made from random numbers (`2.25`, ITU-T X.667), as arcs.
pub const RELAY_KEY_ROTATION_OID: &[u64] = &[2, 25, 5_766_091_521_549_080_756];

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte public
/// key follows it. The relay's key is always Ed25519.
pub const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// The pin of a key: the SHA-256 of its DER SubjectPublicKeyInfo.
pub fn spki_pin(spki: &[u8]) -> [u8; 32] {
    Sha256::digest(spki).into()
}

/// The content octets of [`RELAY_KEY_ROTATION_OID`]'s DER encoding (without tag and
/// length), to compare with an extension's identifier.
pub fn rotation_oid_der() -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    // The first two arcs share one sub-identifier (X.690 8.19.4).
    let arcs = RELAY_KEY_ROTATION_OID;
    let mut subidentifiers = vec![arcs[0] * 40 + arcs[1]];
    subidentifiers.extend_from_slice(&arcs[2..]);
    for value in subidentifiers {
        let mut groups = Vec::new();
        let mut rest = value;
        loop {
            groups.push((rest & 0x7f) as u8);
            rest >>= 7;
            if rest == 0 {
                break;
            }
        }
        for (index, group) in groups.iter().enumerate().rev() {
            out.push(if index == 0 { *group } else { group | 0x80 });
        }
    }
    out
}

crate::codec::wire_struct!(
    /// The relay's current key naming the key that replaces it, and when.
    pub struct RelayKeyRotation {
        /// The pin of the key that signs (the one clients pin now).
        pub current: [u8; 32],
        /// The pin of the key that takes over.
        pub next: [u8; 32],
        /// When the relay starts presenting the next key, by its clock.
        pub switch_at: UnixSeconds,
        /// Ed25519 signature by the current key over [`RelayKeyRotation::signed_bytes`].
        pub signature: [u8; 64],
    }
);

impl RelayKeyRotation {
    /// Exactly the bytes the current key signs.
    pub fn signed_bytes(current: &[u8; 32], next: &[u8; 32], switch_at: UnixSeconds) -> Vec<u8> {
        let mut out = Vec::with_capacity(RELAY_KEY_ROTATION_LABEL.len() + 1 + 32 + 32 + 8);
        out.extend_from_slice(RELAY_KEY_ROTATION_LABEL);
        out.push(0);
        out.extend_from_slice(current);
        out.extend_from_slice(next);
        out.extend_from_slice(&switch_at.get().to_be_bytes());
        out
    }

    /// Checks the statement against the certificate key that presented it (its DER
    /// SubjectPublicKeyInfo): that key is the one it names as current, it signed it
    /// (strict Ed25519 verification), and it names another key as next.
    ///
    /// # Errors
    /// [`Error::Invalid`] if any of that does not hold.
    pub fn verify(&self, current_spki: &[u8]) -> Result<(), Error> {
        let invalid = Error::Invalid { what: "relay key rotation" };
        if spki_pin(current_spki) != self.current || self.next == self.current {
            return Err(invalid);
        }
        let public = current_spki
            .strip_prefix(&ED25519_SPKI_PREFIX[..])
            .and_then(|key| <[u8; 32]>::try_from(key).ok())
            .ok_or(Error::Invalid { what: "relay key rotation" })?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| Error::Invalid { what: "relay key rotation" })?;
        let signed = Self::signed_bytes(&self.current, &self.next, self.switch_at);
        key.verify_strict(&signed, &Signature::from_bytes(&self.signature)).map_err(|_| invalid)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;
    use crate::codec::Wire;

    fn spki(key: &SigningKey) -> Vec<u8> {
        [&ED25519_SPKI_PREFIX[..], key.verifying_key().as_bytes()].concat()
    }

    fn statement(current: &SigningKey, next: [u8; 32], switch_at: u64) -> RelayKeyRotation {
        let current_pin = spki_pin(&spki(current));
        let switch_at = UnixSeconds::new(switch_at).unwrap();
        let signature = current.sign(&RelayKeyRotation::signed_bytes(&current_pin, &next, switch_at)).to_bytes();
        RelayKeyRotation { current: current_pin, next, switch_at, signature }
    }

    #[test]
    fn a_statement_verifies_against_the_key_that_signed_it_only() {
        let current = SigningKey::from_bytes(&[1; 32]);
        let next = SigningKey::from_bytes(&[2; 32]);
        let rotation = statement(&current, spki_pin(&spki(&next)), 1_800_000_000);
        rotation.verify(&spki(&current)).unwrap();
        assert_eq!(RelayKeyRotation::from_wire(&rotation.to_wire()).unwrap(), rotation);

        // Presented by another key, or changed in any field: refused.
        assert!(rotation.verify(&spki(&next)).is_err());
        let mut later = rotation.clone();
        later.switch_at = UnixSeconds::new(1_900_000_000).unwrap();
        assert!(later.verify(&spki(&current)).is_err());
        let mut elsewhere = rotation.clone();
        elsewhere.next = [7; 32];
        assert!(elsewhere.verify(&spki(&current)).is_err());
        // A statement the next key signed for itself names nothing new.
        let forged = statement(&next, spki_pin(&spki(&next)), 1_800_000_000);
        assert!(forged.verify(&spki(&next)).is_err());
        // Signed by a key that is not Ed25519's SubjectPublicKeyInfo: refused.
        let mut odd = spki(&current);
        odd[0] = 0x31;
        assert!(rotation.verify(&odd).is_err());
    }

    #[test]
    fn the_identifier_encodes_as_der_says() {
        // 2.25 is one sub-identifier, 2 * 40 + 25 = 105; the third arc in base 128.
        let der = rotation_oid_der();
        assert_eq!(der[0], 105);
        let mut value = 0u64;
        for (index, byte) in der[1..].iter().enumerate() {
            value = (value << 7) | u64::from(byte & 0x7f);
            assert_eq!(byte & 0x80 == 0, index == der.len() - 2, "only the last group ends");
        }
        assert_eq!(value, RELAY_KEY_ROTATION_OID[2]);
    }
}
