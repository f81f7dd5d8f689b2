//! Who a person is, which devices speak for them, and how two people verify each other.
//!
//! - A person has one Ed25519 [`IdentityKey`]. It never signs content; it signs
//!   [`DeviceCertificate`]s.
//! - Each device has two keys of its own ([`DeviceKeys`]): an authentication key that
//!   logs it in at the relay (its relay [`DeviceId`] is derived from it) and an MLS
//!   signature key that signs its MLS leaf, its commits and its content records.
//! - A device certificate binds both to the identity key, the person's relay account and
//!   a display name. It travels as the MLS credential of the device's leaf, so every
//!   member checks it when the device is added.
//! - Two people verify each other's identity keys out of band with a [`SafetyNumber`]
//!   (the same 60 digits on both phones) or by scanning a [`VerificationCode`].
//! - A [`ContactCard`] is what one person gives another to be invited: the identity key
//!   and the certificates of all the person's devices, signed by the identity key.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use huisclos_protocol::auth::DevicePublicKey;
use huisclos_protocol::codec::{BoundedVec, Reader, Wire};
use huisclos_protocol::ids::{AccountId, DeviceId, UnixSeconds};
use rand_core::OsRng;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::error::{CoreError, Field, InvalidInput, Result, Signed, TextForm, Unverified};

/// Domain separation for device certificates' signatures.
pub const DEVICE_CERTIFICATE_LABEL: &[u8] = b"huisclos/1 device-certificate";
/// Domain separation for contact cards' signatures.
pub const CONTACT_CARD_LABEL: &[u8] = b"huisclos/1 contact-card";
/// The safety-number fingerprint's domain separation (hashed first, with the version).
pub const SAFETY_NUMBER_LABEL: &[u8] = b"huisclos/1 safety-number";
/// How many times the safety-number fingerprint is hashed (as in Signal's scheme), so
/// that finding a key with a colliding number costs 2^112 hash computations and more.
pub const SAFETY_NUMBER_ITERATIONS: u32 = 5200;
/// Domain separation for an identity transition's signatures.
pub const IDENTITY_TRANSITION_LABEL: &[u8] = b"huisclos/1 identity-transition";
/// The text form's prefix of a contact card.
pub const CONTACT_CARD_PREFIX: &str = "huisclos-contact:";
/// The most bytes in a display name.
pub const MAX_DISPLAY_NAME_LEN: usize = 64;
/// The most devices on a contact card (the relay's per-account bound).
pub const MAX_CARD_DEVICES: usize = huisclos_protocol::limits::MAX_DEVICES_PER_ACCOUNT;

/// A person's public identity key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct IdentityPublicKey([u8; 32]);

impl IdentityPublicKey {
    /// Wraps key bytes (not checked until used to verify).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn verifying_key(&self) -> Result<VerifyingKey> {
        strict_key(&self.0).ok_or(CoreError::Verification(Unverified::InvalidKey))
    }

    /// A short, non-secret form for logs and lists (first 8 bytes in hex).
    pub fn short(&self) -> String {
        hex::encode(&self.0[..8])
    }
}

impl std::fmt::Debug for IdentityPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentityPublicKey({})", self.short())
    }
}

impl Wire for IdentityPublicKey {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self(reader.take_array("identity key")?))
    }
}

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureBytes([u8; 64]);

impl SignatureBytes {
    /// Wraps signature bytes.
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The signature bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl std::fmt::Debug for SignatureBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignatureBytes(..)")
    }
}

impl Wire for SignatureBytes {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self(reader.take_array("signature")?))
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for SignatureBytes {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        proptest::collection::vec(proptest::arbitrary::any::<u8>(), 64)
            .prop_map(|v| {
                let mut bytes = [0u8; 64];
                bytes.copy_from_slice(&v);
                Self(bytes)
            })
            .boxed()
    }
}

/// A display name: 1 to [`MAX_DISPLAY_NAME_LEN`] bytes of UTF-8 without control
/// characters.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks and wraps a name.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when empty, too long or holding control characters.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        if name.trim().is_empty() || name.len() > MAX_DISPLAY_NAME_LEN || name.chars().any(char::is_control) {
            return Err(CoreError::Invalid(InvalidInput::Text {
                field: Field::DisplayName,
                max: MAX_DISPLAY_NAME_LEN,
                may_be_empty: false,
            }));
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Wire for DisplayName {
    fn encode(&self, out: &mut Vec<u8>) {
        huisclos_protocol::codec::put_varint(out, self.0.len() as u64);
        out.extend_from_slice(self.0.as_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        let len = reader.take_len(MAX_DISPLAY_NAME_LEN, "display name")?;
        let bytes = reader.take(len, "display name")?;
        let text =
            std::str::from_utf8(bytes).map_err(|_| huisclos_protocol::Error::Invalid { what: "display name" })?;
        Self::new(text).map_err(|_| huisclos_protocol::Error::Invalid { what: "display name" })
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for DisplayName {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        "[a-zA-Z\u{600}-\u{6ff} ]{0,20}[a-z]".prop_map(Self).boxed()
    }
}

/// A person's identity key pair. Zeroized on drop; `Debug` shows the public half.
pub struct IdentityKey(SigningKey);

impl IdentityKey {
    /// A fresh random identity.
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut OsRng))
    }

    /// Rebuilds the key from its secret bytes (from the encrypted store).
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(secret))
    }

    /// The secret bytes, for the encrypted store only.
    pub fn to_secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key.
    pub fn public(&self) -> IdentityPublicKey {
        IdentityPublicKey(self.0.verifying_key().to_bytes())
    }

    pub(crate) fn sign(&self, label: &[u8], body: &[u8]) -> SignatureBytes {
        SignatureBytes(self.0.sign(&labelled(label, body)).to_bytes())
    }
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentityKey({})", self.public().short())
    }
}

/// `label || 0 || body`: what every signature of this crate covers.
pub(crate) fn labelled(label: &[u8], body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(label.len() + 1 + body.len());
    message.extend_from_slice(label);
    message.push(0);
    message.extend_from_slice(body);
    message
}

/// Ed25519 verification as every signature of Huis Clos is checked: strict (no
/// non-canonical encodings, no small-order keys or points), so that one message has
/// one valid signature and a weak key signs nothing.
pub(crate) fn verify(key: &VerifyingKey, label: &[u8], body: &[u8], signature: &SignatureBytes) -> bool {
    !key.is_weak() && key.verify_strict(&labelled(label, body), &Signature::from_bytes(&signature.0)).is_ok()
}

/// An Ed25519 public key from its bytes, refused when it is not a canonical encoding
/// of a point or is of small order (a weak key).
pub(crate) fn strict_key(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    // `from_bytes` reduces a non-canonical y; a canonical key encodes back the same.
    (!key.is_weak() && key.to_edwards().compress().to_bytes() == *bytes).then_some(key)
}

/// The two private keys of one device. Zeroized on drop.
pub struct DeviceKeys {
    /// Logs the device in at the relay.
    pub auth: SigningKey,
    /// Signs the device's MLS leaf, commits and content records.
    pub mls: SigningKey,
}

impl DeviceKeys {
    /// Fresh random keys.
    pub fn generate() -> Self {
        Self { auth: SigningKey::generate(&mut OsRng), mls: SigningKey::generate(&mut OsRng) }
    }

    /// The device's id at the relay.
    pub fn device_id(&self) -> DeviceId {
        DevicePublicKey::from_signing_key(&self.auth).device_id()
    }

    /// The public MLS signature key.
    pub fn mls_public(&self) -> [u8; 32] {
        self.mls.verifying_key().to_bytes()
    }
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKeys({})", self.device_id())
    }
}

huisclos_protocol::wire_struct!(
    /// What a device certificate states.
    pub struct CertificateBody {
        /// The person's identity key, which signs the certificate.
        pub identity: IdentityPublicKey,
        /// The person's account at the relay.
        pub account: AccountId,
        /// The device's relay id (derived from its authentication key).
        pub device: DeviceId,
        /// The device's MLS signature key.
        pub mls_key: [u8; 32],
        /// The person's display name when the device was certified.
        pub name: DisplayName,
        /// When the device was certified, by its own clock.
        pub created_at: UnixSeconds,
    }
);

huisclos_protocol::wire_struct!(
    /// An identity key's statement that a device speaks for the person. Carried as the
    /// MLS credential of the device's leaf.
    pub struct DeviceCertificate {
        /// The statement.
        pub body: CertificateBody,
        /// The identity key's signature over [`DEVICE_CERTIFICATE_LABEL`] and the body.
        pub signature: SignatureBytes,
    }
);

impl DeviceCertificate {
    /// Certifies a device.
    pub fn issue(identity: &IdentityKey, body: CertificateBody) -> Result<Self> {
        if body.identity != identity.public() {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        let signature = identity.sign(DEVICE_CERTIFICATE_LABEL, &body.to_wire());
        Ok(Self { body, signature })
    }

    /// Decodes a certificate and checks its signature.
    ///
    /// # Errors
    /// [`CoreError::Decode`] when malformed, [`CoreError::Verification`] when the
    /// signature does not verify under the identity key it names.
    pub fn from_verified_bytes(bytes: &[u8]) -> Result<Self> {
        let certificate = Self::from_wire(bytes)?;
        certificate.verify()?;
        if strict_key(&certificate.body.mls_key).is_none() {
            return Err(CoreError::Verification(Unverified::InvalidKey));
        }
        Ok(certificate)
    }

    /// Checks the signature.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when it does not verify.
    pub fn verify(&self) -> Result<()> {
        let key = self.body.identity.verifying_key()?;
        if verify(&key, DEVICE_CERTIFICATE_LABEL, &self.body.to_wire(), &self.signature) {
            Ok(())
        } else {
            Err(CoreError::Verification(Unverified::Signature(Signed::DeviceCertificate)))
        }
    }
}

huisclos_protocol::wire_struct!(
    /// What an identity transition states: the person's identity key `previous` is
    /// replaced by `next` (after a recovery, or when a device that held the key was
    /// revoked).
    pub struct TransitionBody {
        /// The key replaced.
        pub previous: IdentityPublicKey,
        /// The key that replaces it.
        pub next: IdentityPublicKey,
        /// When, by the rotating device's clock.
        pub at: UnixSeconds,
    }
);

huisclos_protocol::wire_struct!(
    /// A person's move from one identity key to the next, signed by both: the old key
    /// says who succeeds it, the new key that it accepts. Contacts see it as a change
    /// of key, never a silent one.
    pub struct IdentityTransition {
        /// The statement.
        pub body: TransitionBody,
        /// The previous key's signature over [`IDENTITY_TRANSITION_LABEL`] and the body.
        pub by_previous: SignatureBytes,
        /// The next key's signature over the same.
        pub by_next: SignatureBytes,
    }
);

impl IdentityTransition {
    /// The transition from `previous` to `next`, signed by both.
    pub fn sign(previous: &IdentityKey, next: &IdentityKey, at: UnixSeconds) -> Self {
        let body = TransitionBody { previous: previous.public(), next: next.public(), at };
        let bytes = body.to_wire();
        Self {
            by_previous: previous.sign(IDENTITY_TRANSITION_LABEL, &bytes),
            by_next: next.sign(IDENTITY_TRANSITION_LABEL, &bytes),
            body,
        }
    }

    /// Checks both signatures.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when either does not verify.
    pub fn verify(&self) -> Result<()> {
        let bytes = self.body.to_wire();
        let previous = self.body.previous.verifying_key()?;
        let next = self.body.next.verifying_key()?;
        if self.body.previous == self.body.next
            || !verify(&previous, IDENTITY_TRANSITION_LABEL, &bytes, &self.by_previous)
            || !verify(&next, IDENTITY_TRANSITION_LABEL, &bytes, &self.by_next)
        {
            return Err(CoreError::Verification(Unverified::Signature(Signed::IdentityTransition)));
        }
        Ok(())
    }
}

huisclos_protocol::wire_struct!(
    /// What a contact card states: the person's device roster at one version.
    pub struct ContactCardBody {
        /// The person's identity key.
        pub identity: IdentityPublicKey,
        /// The roster's version: one more at every change of the person's devices (a
        /// device linked or revoked). Members keep the highest version they see, and
        /// refuse every device that is not on it.
        pub version: u32,
        /// Every device of the person, each certified.
        pub devices: BoundedVec<DeviceCertificate, MAX_CARD_DEVICES>,
        /// When the card was made.
        pub issued_at: UnixSeconds,
        /// When the identity key was replaced: how this key succeeds the previous one.
        pub transition: Option<IdentityTransition>,
    }
);

huisclos_protocol::wire_struct!(
    /// What a person hands out to be invited into spaces, and what members keep of
    /// each other: the identity key and the certificates of all the person's devices
    /// (their roster, versioned), signed by the identity key.
    pub struct ContactCard {
        /// The statement.
        pub body: ContactCardBody,
        /// The identity key's signature over [`CONTACT_CARD_LABEL`] and the body.
        pub signature: SignatureBytes,
    }
);

impl ContactCard {
    /// Makes and signs a card.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when a certificate is not this identity's or there are
    /// too many.
    pub fn issue(
        identity: &IdentityKey,
        version: u32,
        devices: Vec<DeviceCertificate>,
        issued_at: UnixSeconds,
        transition: Option<IdentityTransition>,
    ) -> Result<Self> {
        if devices.iter().any(|d| d.body.identity != identity.public()) {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        if transition.as_ref().is_some_and(|t| t.body.next != identity.public()) {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        let devices = BoundedVec::new(devices)?;
        let body = ContactCardBody { identity: identity.public(), version, devices, issued_at, transition };
        let signature = identity.sign(CONTACT_CARD_LABEL, &body.to_wire());
        Ok(Self { body, signature })
    }

    /// Checks the card's signature and every certificate on it.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not verify or belongs to another
    /// identity.
    pub fn verify(&self) -> Result<()> {
        let key = self.body.identity.verifying_key()?;
        if !verify(&key, CONTACT_CARD_LABEL, &self.body.to_wire(), &self.signature) {
            return Err(CoreError::Verification(Unverified::Signature(Signed::ContactCard)));
        }
        for certificate in self.body.devices.as_slice() {
            if certificate.body.identity != self.body.identity {
                return Err(CoreError::Verification(Unverified::WrongPerson));
            }
            certificate.verify()?;
        }
        if self.body.devices.is_empty() {
            return Err(CoreError::Verification(Unverified::Malformed));
        }
        let devices = self.body.devices.as_slice();
        if devices.iter().enumerate().any(|(i, c)| devices[..i].iter().any(|d| d.body.device == c.body.device)) {
            return Err(CoreError::Verification(Unverified::Malformed));
        }
        if devices.iter().any(|c| c.body.account != devices[0].body.account) {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        if let Some(transition) = &self.body.transition {
            transition.verify()?;
            if transition.body.next != self.body.identity {
                return Err(CoreError::Verification(Unverified::WrongPerson));
            }
        }
        Ok(())
    }

    /// The person's relay account (every device on a card names the same one).
    pub fn account(&self) -> Option<AccountId> {
        self.body.devices.as_slice().first().map(|c| c.body.account)
    }

    /// Whether the device `device` with MLS key `mls_key` is on this card (roster).
    pub fn lists(&self, device: &DeviceId, mls_key: &[u8; 32]) -> bool {
        self.body.devices.iter().any(|c| &c.body.device == device && &c.body.mls_key == mls_key)
    }

    /// The card as text (`huisclos-contact:` and base64url), for a message or a QR code.
    pub fn to_text(&self) -> String {
        use base64::Engine;
        format!("{CONTACT_CARD_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_wire()))
    }

    /// Parses and verifies the text form.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when it is not a card, [`CoreError::Verification`] when
    /// it does not verify.
    pub fn from_text(text: &str) -> Result<Self> {
        use base64::Engine;
        let encoded = text
            .trim()
            .strip_prefix(CONTACT_CARD_PREFIX)
            .ok_or(CoreError::Invalid(InvalidInput::NotText(TextForm::ContactCard)))?;
        // Base64 of the largest card: 32 certificates of about 250 bytes.
        if encoded.len() > 16 * 1024 {
            return Err(CoreError::Invalid(InvalidInput::NotText(TextForm::ContactCard)));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CoreError::Invalid(InvalidInput::NotText(TextForm::ContactCard)))?;
        let card = Self::from_wire(&bytes)?;
        card.verify()?;
        Ok(card)
    }

    /// The person's display name, from their newest certificate.
    pub fn name(&self) -> Option<&DisplayName> {
        self.body.devices.as_slice().iter().max_by_key(|c| c.body.created_at.get()).map(|c| &c.body.name)
    }
}

/// Sixty digits that two people compare to verify each other's identity keys; the same
/// on both sides.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SafetyNumber(String);

impl SafetyNumber {
    /// The safety number between two identities (order does not matter).
    pub fn between(a: &IdentityPublicKey, b: &IdentityPublicKey) -> Self {
        let mut halves = [fingerprint_digits(a), fingerprint_digits(b)];
        halves.sort();
        Self(halves.concat())
    }

    /// The sixty digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SafetyNumber {
    /// Twelve groups of five digits, as people read them aloud.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let groups: Vec<&str> =
            self.0.as_bytes().chunks(5).map(|c| std::str::from_utf8(c).unwrap_or("?????")).collect();
        f.write_str(&groups.join(" "))
    }
}

/// Thirty digits for one identity key: an iterated SHA-512 (Signal's construction).
fn fingerprint_digits(key: &IdentityPublicKey) -> String {
    let mut hash = Sha512::new();
    hash.update(SAFETY_NUMBER_LABEL);
    hash.update([0]);
    hash.update(key.as_bytes());
    let mut digest = hash.finalize();
    for _ in 1..SAFETY_NUMBER_ITERATIONS {
        let mut hash = Sha512::new();
        hash.update(digest);
        hash.update(key.as_bytes());
        digest = hash.finalize();
    }
    let mut out = String::with_capacity(30);
    for chunk in digest[..30].chunks(5) {
        let mut value = 0u64;
        for byte in chunk {
            value = (value << 8) | u64::from(*byte);
        }
        out.push_str(&format!("{:05}", value % 100_000));
    }
    out
}

/// What one person's phone shows as a QR code for the other to scan: the version, the
/// shower's identity key and the identity key the shower holds for the scanner.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerificationCode {
    shower: IdentityPublicKey,
    scanner_as_seen: IdentityPublicKey,
}

/// The outcome of scanning a [`VerificationCode`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VerificationOutcome {
    /// Both sides hold each other's real keys.
    Verified,
    /// The keys differ: someone is in the middle, or a key changed. Do not trust.
    Mismatch,
}

impl VerificationCode {
    const VERSION: u8 = 1;
    const LEN: usize = 1 + 32 + 32;

    /// The code `me` shows to `them`.
    pub fn new(me: IdentityPublicKey, them: IdentityPublicKey) -> Self {
        Self { shower: me, scanner_as_seen: them }
    }

    /// The bytes to render as a QR code.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.push(Self::VERSION);
        out.extend_from_slice(self.shower.as_bytes());
        out.extend_from_slice(self.scanner_as_seen.as_bytes());
        out
    }

    /// The scanner's check: the code must show the key the scanner holds for the shower
    /// and the scanner's own key.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the bytes are not a verification code.
    pub fn check_scanned(
        scanned: &[u8],
        me: &IdentityPublicKey,
        them_as_seen: &IdentityPublicKey,
    ) -> Result<VerificationOutcome> {
        if scanned.len() != Self::LEN || scanned[0] != Self::VERSION {
            return Err(CoreError::Invalid(InvalidInput::NotText(TextForm::VerificationCode)));
        }
        let shower = &scanned[1..33];
        let scanner = &scanned[33..];
        let matches = subtle::ConstantTimeEq::ct_eq(shower, them_as_seen.as_bytes())
            & subtle::ConstantTimeEq::ct_eq(scanner, me.as_bytes());
        Ok(if bool::from(matches) { VerificationOutcome::Verified } else { VerificationOutcome::Mismatch })
    }
}

/// A certificate for tests: `keys` certified by `identity` under `account`.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_certificate(
    identity: &IdentityKey,
    account: AccountId,
    keys: &DeviceKeys,
    name: &str,
) -> DeviceCertificate {
    DeviceCertificate::issue(
        identity,
        CertificateBody {
            identity: identity.public(),
            account,
            device: keys.device_id(),
            mls_key: keys.mls_public(),
            name: DisplayName::new(name).unwrap(),
            created_at: UnixSeconds::new(1_790_000_000).unwrap(),
        },
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(identity: &IdentityKey, keys: &DeviceKeys, name: &str) -> DeviceCertificate {
        test_certificate(identity, AccountId::from_bytes([7; 16]), keys, name)
    }

    #[test]
    fn certificates_verify_and_tampering_is_refused() {
        let identity = IdentityKey::generate();
        let keys = DeviceKeys::generate();
        let cert = certificate(&identity, &keys, "Amal");
        let bytes = cert.to_wire();
        assert_eq!(DeviceCertificate::from_verified_bytes(&bytes).unwrap(), cert);
        // Every single-byte change is refused, as malformed or as unverified.
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            assert!(DeviceCertificate::from_verified_bytes(&tampered).is_err(), "byte {i}");
        }
        // A certificate re-signed by another identity is refused too.
        let other = IdentityKey::generate();
        let forged = DeviceCertificate {
            body: cert.body.clone(),
            signature: other.sign(DEVICE_CERTIFICATE_LABEL, &cert.body.to_wire()),
        };
        assert!(forged.verify().is_err());
    }

    #[test]
    fn contact_cards_round_trip_as_text_and_refuse_foreign_devices() {
        let identity = IdentityKey::generate();
        let (a, b) = (DeviceKeys::generate(), DeviceKeys::generate());
        let card = ContactCard::issue(
            &identity,
            1,
            vec![certificate(&identity, &a, "Bilal"), certificate(&identity, &b, "Bilal")],
            UnixSeconds::new(1).unwrap(),
            None,
        )
        .unwrap();
        let parsed = ContactCard::from_text(&card.to_text()).unwrap();
        assert_eq!(parsed, card);
        assert_eq!(parsed.name().unwrap().as_str(), "Bilal");

        let stranger = IdentityKey::generate();
        let foreign = certificate(&stranger, &DeviceKeys::generate(), "Eve");
        assert!(ContactCard::issue(&identity, 1, vec![foreign.clone()], UnixSeconds::new(1).unwrap(), None).is_err());
        let mut smuggled = card.clone();
        smuggled.body.devices = BoundedVec::new(vec![foreign]).unwrap();
        assert!(smuggled.verify().is_err());
        assert!(ContactCard::from_text("huisclos-contact:!!!").is_err());
        assert!(ContactCard::from_text("hello").is_err());
    }

    #[test]
    fn safety_numbers_agree_on_both_sides_and_differ_between_pairs() {
        let (a, b, c) = (IdentityKey::generate(), IdentityKey::generate(), IdentityKey::generate());
        let ab = SafetyNumber::between(&a.public(), &b.public());
        assert_eq!(ab, SafetyNumber::between(&b.public(), &a.public()));
        assert_eq!(ab.digits().len(), 60);
        assert!(ab.digits().bytes().all(|d| d.is_ascii_digit()));
        assert_eq!(ab.to_string().split(' ').count(), 12);
        assert_ne!(ab, SafetyNumber::between(&a.public(), &c.public()));
    }

    #[test]
    fn a_key_encoded_with_y_past_p_is_refused() {
        // y and y + p (p = 2^255 - 19) name the same point: only y < p is valid.
        let mut checked = 0;
        for y in 2u8..=18 {
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            if strict_key(&canonical).is_none() {
                continue;
            }
            let mut past_p = [0xff; 32];
            past_p[0] = 0xed + y;
            past_p[31] = 0x7f;
            assert!(strict_key(&past_p).is_none(), "y + p for y = {y}");
            checked += 1;
        }
        assert!(checked > 0);
    }

    #[test]
    fn safety_number_known_answer() {
        // Pins the construction: a change here changes every user's numbers.
        let a = IdentityPublicKey::from_bytes([1; 32]);
        let b = IdentityPublicKey::from_bytes([2; 32]);
        let number = SafetyNumber::between(&a, &b);
        assert_eq!(
            number.digits(),
            fingerprint_digits(&a).min(fingerprint_digits(&b)) + &fingerprint_digits(&a).max(fingerprint_digits(&b))
        );
        let file = include_str!("../../protocol-spec/vectors/safety-number.txt");
        let vector = |name: &str| {
            file.lines()
                .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
                .map(|hex| hex::decode(hex.trim()).unwrap_or_default())
                .unwrap_or_default()
        };
        assert_eq!(vector("Input.identity_a"), a.as_bytes().to_vec());
        assert_eq!(vector("Input.identity_b"), b.as_bytes().to_vec());
        assert_eq!(number.digits().as_bytes().to_vec(), vector("SafetyNumber"));
    }

    #[test]
    fn verification_codes_detect_a_substituted_key() {
        let (alice, bob, mallory) = (IdentityKey::generate(), IdentityKey::generate(), IdentityKey::generate());
        // Alice shows; Bob scans.
        let shown = VerificationCode::new(alice.public(), bob.public()).to_bytes();
        assert_eq!(
            VerificationCode::check_scanned(&shown, &bob.public(), &alice.public()).unwrap(),
            VerificationOutcome::Verified
        );
        // Bob holds Mallory's key for Alice: mismatch.
        assert_eq!(
            VerificationCode::check_scanned(&shown, &bob.public(), &mallory.public()).unwrap(),
            VerificationOutcome::Mismatch
        );
        // Alice holds Mallory's key for Bob: mismatch.
        let shown = VerificationCode::new(alice.public(), mallory.public()).to_bytes();
        assert_eq!(
            VerificationCode::check_scanned(&shown, &bob.public(), &alice.public()).unwrap(),
            VerificationOutcome::Mismatch
        );
        assert!(VerificationCode::check_scanned(&[1, 2, 3], &bob.public(), &alice.public()).is_err());
    }
}
