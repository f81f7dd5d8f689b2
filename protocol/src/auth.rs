//! Device authentication and device linking: exactly which bytes a device signs.
//!
//! A device proves itself to the relay by signing, with its Ed25519 device key, a
//! fresh challenge *and* the TLS exporter of the connection it is speaking on:
//!
//! ```text
//! DEVICE_AUTH_LABEL || 0x00 || exporter (32) || nonce (32) || purpose (1)
//!     || device key (32) [ || SHA-256 invitation digest (32), when creating an account ]
//! ```
//!
//! The exporter (RFC 8446 section 7.5, label [`TLS_EXPORTER_LABEL`], empty context, 32
//! bytes) differs on every TLS session, so a signature captured by a relay or a
//! man-in-the-middle cannot be replayed on another connection.
//!
//! A device of an existing account signs in in one round trip (`SignIn`, purpose 3):
//! the nonce is then 32 zero bytes, since the exporter alone already makes the
//! signature good for this connection only. TLS 1.3 derives the exporter from the
//! handshake's transcript (both hellos' random values and the key exchange), so two
//! connections never share it, a resumed session included; only an early (0-RTT)
//! exporter could repeat, and neither end accepts early data. Why this holds, and what
//! the relay's challenge still serves (opening an account, which spends an invitation),
//! is written down in `protocol-spec/relay.md` ("Device authentication").

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::access::{InvitationToken, labelled_sha256};
use crate::codec::{Reader, Wire};
use crate::ids::{AccountId, DeviceId};
use crate::{Error, access};

/// The TLS exporter label both ends use for device authentication.
pub const TLS_EXPORTER_LABEL: &[u8] = b"EXPORTER-huisclos-device-auth";

/// How many exporter bytes are signed.
pub const TLS_EXPORTER_LEN: usize = 32;

/// Domain separation for device-authentication signatures.
pub const DEVICE_AUTH_LABEL: &[u8] = b"huisclos/1 device-auth";

/// Domain separation for the proof that a new device holds its key.
pub const DEVICE_LINK_LABEL: &[u8] = b"huisclos/1 device-link";

/// Domain separation for deriving a [`DeviceId`] from a device key.
pub const DEVICE_ID_LABEL: &[u8] = b"huisclos/1 device-id";

/// A device's Ed25519 public key, checked to be a valid point of large order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DevicePublicKey([u8; 32]);

impl DevicePublicKey {
    /// Validates and wraps a compressed Ed25519 public key.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the bytes are not a point, or a point of small order.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, Error> {
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| Error::Invalid { what: "device public key" })?;
        // `from_bytes` reduces a non-canonical y (y >= p, or a negative zero x); a
        // canonical key encodes back to the same bytes, and every value has exactly one
        // valid encoding.
        if key.is_weak() || key.to_edwards().compress().to_bytes() != bytes {
            return Err(Error::Invalid { what: "device public key" });
        }
        Ok(Self(bytes))
    }

    /// The public half of `signing_key`.
    pub fn from_signing_key(signing_key: &SigningKey) -> Self {
        Self(signing_key.verifying_key().to_bytes())
    }

    /// The compressed key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The device id bound to this key:
    /// the first 16 bytes of `SHA-256(DEVICE_ID_LABEL || 0x00 || key)`.
    pub fn device_id(&self) -> DeviceId {
        let digest = labelled_sha256(DEVICE_ID_LABEL, &[&self.0]);
        let mut id = [0u8; DeviceId::LEN];
        id.copy_from_slice(&digest[..DeviceId::LEN]);
        DeviceId::from_bytes(id)
    }

    fn verify(&self, message: &[u8], signature: &DeviceSignature) -> Result<(), Error> {
        // Checked at construction, so this only fails if that check was bypassed.
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| Error::Invalid { what: "device public key" })?;
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        // `verify_strict` refuses malleable signatures and small-order keys.
        key.verify_strict(message, &signature).map_err(|_| Error::BadSignature)
    }
}

impl std::fmt::Debug for DevicePublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DevicePublicKey(")?;
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))?;
        write!(f, ")")
    }
}

impl Wire for DevicePublicKey {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Self::from_bytes(reader.take_array("device public key")?)
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for DevicePublicKey {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        proptest::arbitrary::any::<[u8; 32]>()
            .prop_map(|seed| Self::from_signing_key(&SigningKey::from_bytes(&seed)))
            .boxed()
    }
}

/// An Ed25519 signature by a device key.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct DeviceSignature([u8; 64]);

impl DeviceSignature {
    /// Wraps signature bytes.
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The signature's bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl std::fmt::Debug for DeviceSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceSignature(..)")
    }
}

impl Wire for DeviceSignature {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self(reader.take_array("device signature")?))
    }
}

/// A fresh random value the relay hands out for one authentication.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct ChallengeNonce([u8; 32]);

impl ChallengeNonce {
    /// The nonce of a sign-in without a challenge ([`AuthPurpose::SignIn`]): none.
    pub const NONE: Self = Self([0; 32]);

    /// Wraps 32 random bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The nonce's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for ChallengeNonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChallengeNonce(..)")
    }
}

impl Wire for ChallengeNonce {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self(reader.take_array("challenge nonce")?))
    }
}

access::secret_bytes!(
    /// The TLS exporter value of one connection ([`TLS_EXPORTER_LABEL`], empty
    /// context, 32 bytes). Never sent: each end computes it from its TLS session.
    TlsExporter
);

/// What a device-authentication signature is for.
#[derive(Debug, Clone, Copy)]
pub enum AuthPurpose<'a> {
    /// Logging an existing device in (purpose byte 1).
    Authenticate,
    /// Logging an existing device in without a challenge (purpose byte 3), with the
    /// nonce [`ChallengeNonce::NONE`]: the exporter alone binds it to the connection.
    SignIn,
    /// Opening an account with an invitation (purpose byte 2); the invitation's digest
    /// is signed so the signature cannot be reused with another invitation.
    CreateAccount(&'a InvitationToken),
}

/// The exact bytes a device signs to authenticate on one connection.
pub fn device_auth_message(
    exporter: &TlsExporter,
    nonce: &ChallengeNonce,
    purpose: AuthPurpose<'_>,
    device_key: &DevicePublicKey,
) -> Vec<u8> {
    let mut message = Vec::with_capacity(DEVICE_AUTH_LABEL.len() + 1 + 32 * 4 + 1);
    message.extend_from_slice(DEVICE_AUTH_LABEL);
    message.push(0);
    message.extend_from_slice(exporter.expose_secret());
    message.extend_from_slice(&nonce.0);
    match purpose {
        AuthPurpose::Authenticate => {
            message.push(1);
            message.extend_from_slice(&device_key.0);
        }
        AuthPurpose::SignIn => {
            message.push(3);
            message.extend_from_slice(&device_key.0);
        }
        AuthPurpose::CreateAccount(invitation) => {
            message.push(2);
            message.extend_from_slice(&device_key.0);
            message.extend_from_slice(&invitation.digest());
        }
    }
    message
}

/// Signs a device-authentication message with the device's key.
pub fn sign_device_auth(
    signing_key: &SigningKey,
    exporter: &TlsExporter,
    nonce: &ChallengeNonce,
    purpose: AuthPurpose<'_>,
) -> DeviceSignature {
    let device_key = DevicePublicKey::from_signing_key(signing_key);
    let message = device_auth_message(exporter, nonce, purpose, &device_key);
    DeviceSignature(signing_key.sign(&message).to_bytes())
}

/// Checks a device-authentication signature, as the relay does.
///
/// # Errors
/// [`Error::BadSignature`] if it was not made by `device_key` over this connection's
/// exporter, this nonce and this purpose.
pub fn verify_device_auth(
    device_key: &DevicePublicKey,
    signature: &DeviceSignature,
    exporter: &TlsExporter,
    nonce: &ChallengeNonce,
    purpose: AuthPurpose<'_>,
) -> Result<(), Error> {
    device_key.verify(&device_auth_message(exporter, nonce, purpose, device_key), signature)
}

/// The bytes a new device signs to prove it holds its key before an existing device of
/// `account` registers it: `DEVICE_LINK_LABEL || 0x00 || account || new device key`.
pub fn device_link_message(account: &AccountId, new_device_key: &DevicePublicKey) -> Vec<u8> {
    let mut message = Vec::with_capacity(DEVICE_LINK_LABEL.len() + 1 + 16 + 32);
    message.extend_from_slice(DEVICE_LINK_LABEL);
    message.push(0);
    message.extend_from_slice(account.as_bytes());
    message.extend_from_slice(&new_device_key.0);
    message
}

/// Signs, on the new device, the proof that it holds its key.
pub fn sign_device_link(new_device: &SigningKey, account: &AccountId) -> DeviceSignature {
    let key = DevicePublicKey::from_signing_key(new_device);
    DeviceSignature(new_device.sign(&device_link_message(account, &key)).to_bytes())
}

/// Checks a new device's proof of possession, as the relay does.
///
/// # Errors
/// [`Error::BadSignature`] if the signature does not verify.
pub fn verify_device_link(
    new_device_key: &DevicePublicKey,
    possession: &DeviceSignature,
    account: &AccountId,
) -> Result<(), Error> {
    new_device_key.verify(&device_link_message(account, new_device_key), possession)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn signature_binds_the_connection() {
        let device = key(1);
        let public = DevicePublicKey::from_signing_key(&device);
        let nonce = ChallengeNonce::from_bytes([9; 32]);
        let here = TlsExporter::from_bytes([1; 32]);
        let elsewhere = TlsExporter::from_bytes([2; 32]);
        let signature = sign_device_auth(&device, &here, &nonce, AuthPurpose::Authenticate);

        assert_eq!(verify_device_auth(&public, &signature, &here, &nonce, AuthPurpose::Authenticate), Ok(()));
        assert_eq!(
            verify_device_auth(&public, &signature, &elsewhere, &nonce, AuthPurpose::Authenticate),
            Err(Error::BadSignature),
            "a signature replayed on another TLS session must fail"
        );
        let other_nonce = ChallengeNonce::from_bytes([8; 32]);
        assert_eq!(
            verify_device_auth(&public, &signature, &here, &other_nonce, AuthPurpose::Authenticate),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn account_creation_signature_binds_the_invitation() {
        let device = key(3);
        let public = DevicePublicKey::from_signing_key(&device);
        let nonce = ChallengeNonce::from_bytes([4; 32]);
        let exporter = TlsExporter::from_bytes([5; 32]);
        let invitation = InvitationToken::from_bytes([6; 32]);
        let other = InvitationToken::from_bytes([7; 32]);
        let signature = sign_device_auth(&device, &exporter, &nonce, AuthPurpose::CreateAccount(&invitation));
        let check = |purpose| verify_device_auth(&public, &signature, &exporter, &nonce, purpose);
        assert_eq!(check(AuthPurpose::CreateAccount(&invitation)), Ok(()));
        assert_eq!(check(AuthPurpose::CreateAccount(&other)), Err(Error::BadSignature));
        assert_eq!(check(AuthPurpose::Authenticate), Err(Error::BadSignature));
    }

    #[test]
    fn device_link_proof_is_bound_to_the_account() {
        let new_device = key(10);
        let public = DevicePublicKey::from_signing_key(&new_device);
        let account = AccountId::from_bytes([1; 16]);
        let proof = sign_device_link(&new_device, &account);
        assert_eq!(verify_device_link(&public, &proof, &account), Ok(()));
        let other = AccountId::from_bytes([2; 16]);
        assert_eq!(verify_device_link(&public, &proof, &other), Err(Error::BadSignature));
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point: a valid encoding of a small-order point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(DevicePublicKey::from_bytes(identity).is_err());
    }

    #[test]
    fn device_id_is_derived_from_the_key() {
        let a = DevicePublicKey::from_signing_key(&key(1));
        let b = DevicePublicKey::from_signing_key(&key(2));
        assert_eq!(a.device_id(), a.device_id());
        assert_ne!(a.device_id(), b.device_id());
    }
}

#[cfg(test)]
mod canonical_tests {
    use super::*;

    /// `p = 2^255 - 19`, little-endian, plus `n`.
    fn p_plus(n: u8) -> [u8; 32] {
        let mut bytes = [0xff; 32];
        bytes[0] = 0xed + n;
        bytes[31] = 0x7f;
        bytes
    }

    #[test]
    fn a_device_key_has_exactly_one_valid_encoding() {
        // y and y + p name the same point; only the encoding with y < p is valid.
        let mut checked = 0;
        for y in 2u8..=18 {
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            let Ok(key) = DevicePublicKey::from_bytes(canonical) else { continue };
            assert_eq!(key.as_bytes(), &canonical);
            assert!(DevicePublicKey::from_bytes(p_plus(y)).is_err(), "y + p for y = {y} is refused");
            checked += 1;
        }
        assert!(checked > 0, "some small y is a valid key");
    }
}
