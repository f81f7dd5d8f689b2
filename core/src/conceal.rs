//! What a device seals before the relay stores it, so that the relay's files name no
//! one: its key packages, and the notices it leaves for its person's other devices.
//!
//! Both carry device certificates, and a certificate names its person (display name,
//! identity key, account). Everywhere else a certificate travels, it is already out of
//! the relay's sight: in MLS state (commits, Welcomes and messages are encrypted), in
//! cards handed from person to person, in sealed grants and join requests. So a
//! certificate is itself a secret the relay never holds, and whoever legitimately
//! needs what these carry already holds the certificate it is sealed under:
//!
//! - a **key package** of device *D* is sealed under a key derived from *D*'s
//!   certificate. Whoever claims it is adding *D* to a space and took *D* from a
//!   contact card, a roster or a space's members: they hold that certificate.
//! - a **notice to the person's own devices** (a new roster, "this device is ready") is
//!   sealed under a fresh key, wrapped once for each recipient under a key derived from
//!   the recipient's certificate (and, when the identity key was just replaced, from
//!   its previous certificate too, which is the one it still holds).
//!
//! The key is HKDF-SHA256 with the whole certificate (the identity key's signature
//! included) as input keying material. The signature is what nobody can compute
//! without the identity key, which is what keeps the key from the relay even though
//! the rest of a certificate (a device id, an account id) may be known to it.
//!
//! Lengths say little: plaintexts are padded to a multiple of [`PADDING`] bytes, so a
//! name's length does not show.
//!
//! What this does not hide: a device that held a certificate (a revoked or seized one)
//! can, with the relay's help, open what is sealed under it afterwards; it knew the
//! names already. The identity key being replaced after a seizure re-certifies every
//! device, and packages sealed from then on are under the new certificates.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::messages::SEALED_KEY_PACKAGE_TAG;
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{CoreError, InvalidInput, Limit, Result, Unverified};
use crate::identity::DeviceCertificate;

/// HKDF salt of every key derived from a certificate.
pub const CERTIFICATE_KEY_LABEL: &[u8] = b"huisclos/1 certificate-key";
/// What a key package's key is for (HKDF info, followed by the device id).
const KEY_PACKAGE_PURPOSE: &[u8] = b"key-package";
/// What a notice wrap key is for (HKDF info, followed by the device id).
const NOTICE_WRAP_PURPOSE: &[u8] = b"own-notice-wrap";
/// Associated data of a sealed notice's body.
const NOTICE_BODY_LABEL: &[u8] = b"huisclos/1 own-notice";
/// Plaintexts are padded to a multiple of this many bytes.
pub const PADDING: usize = 256;
/// Bytes of a nonce.
const NONCE_LEN: usize = 24;
/// Bytes of the Poly1305 tag.
const TAG_LEN: usize = 16;
/// The most wraps on one notice: every device of the person, twice (the current and
/// the previous certificate, when the identity key was just replaced).
pub const MAX_NOTICE_WRAPS: usize = 2 * crate::identity::MAX_CARD_DEVICES;
/// The most bytes of a sealed notice's body: a full roster with room to spare.
pub const MAX_NOTICE_BODY_LEN: usize = 48 * 1024;

fn certificate_key(certificate: &DeviceCertificate, purpose: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let ikm = Zeroizing::new(certificate.to_wire());
    let mut info = purpose.to_vec();
    info.extend_from_slice(certificate.body.device.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf::Hkdf::<Sha256>::new(Some(CERTIFICATE_KEY_LABEL), &ikm)
        .expand(&info, key.as_mut())
        .map_err(|_| CoreError::Verification(Unverified::InvalidKey))?;
    Ok(key)
}

/// `len (4, big-endian) || bytes || zeros`, to a multiple of [`PADDING`].
fn pad(bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| CoreError::Invalid(InvalidInput::TooMany { limit: Limit::SealedBytes, max: u32::MAX as u64 }))?;
    let padded_len = (4 + bytes.len()).div_ceil(PADDING) * PADDING;
    let mut padded = Zeroizing::new(Vec::with_capacity(padded_len));
    padded.extend_from_slice(&len.to_be_bytes());
    padded.extend_from_slice(bytes);
    padded.resize(padded_len, 0);
    Ok(padded)
}

fn unpad(padded: &[u8], what: Unverified) -> Result<Zeroizing<Vec<u8>>> {
    let header: [u8; 4] = padded.get(..4).and_then(|h| h.try_into().ok()).ok_or(CoreError::Verification(what))?;
    let len = u32::from_be_bytes(header) as usize;
    let body = padded.get(4..4usize.saturating_add(len)).ok_or(CoreError::Verification(what))?;
    if padded[4 + len..].iter().any(|b| *b != 0) {
        return Err(CoreError::Verification(what));
    }
    Ok(Zeroizing::new(body.to_vec()))
}

fn encrypt(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = XChaCha20Poly1305::new(key.into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| CoreError::Invalid(InvalidInput::SealingFailed))?;
    Ok((nonce, ciphertext))
}

fn decrypt(
    key: &[u8; 32],
    aad: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    what: Unverified,
) -> Result<Zeroizing<Vec<u8>>> {
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
        .map(Zeroizing::new)
        .map_err(|_| CoreError::Verification(what))
}

/// Seals `package` (an MLS key package of the device `certificate` certifies) for the
/// relay: [`SEALED_KEY_PACKAGE_TAG`] `|| nonce (24) ||` XChaCha20-Poly1305 of the padded
/// package, with the tag and the device id as associated data.
///
/// # Errors
/// [`CoreError::Invalid`] if it cannot be sealed (too long).
pub fn seal_key_package(certificate: &DeviceCertificate, package: &[u8]) -> Result<Vec<u8>> {
    let key = certificate_key(certificate, KEY_PACKAGE_PURPOSE)?;
    let (nonce, ciphertext) = encrypt(&key, &key_package_aad(certificate), &pad(package)?)?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    sealed.push(SEALED_KEY_PACKAGE_TAG);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

fn key_package_aad(certificate: &DeviceCertificate) -> Vec<u8> {
    [&[SEALED_KEY_PACKAGE_TAG][..], certificate.body.device.as_bytes()].concat()
}

/// Opens a key package the relay served for the device of `certificate`. A package
/// in clear (stored by an earlier release at a relay that kept it) is returned as it
/// is: it is checked against the certificate like any other.
///
/// # Errors
/// [`CoreError::Verification`] when it does not open under this certificate (another
/// device's package, or a certificate the device no longer holds).
pub fn open_key_package(certificate: &DeviceCertificate, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    const WHAT: Unverified = Unverified::DoesNotOpen;
    let Some((&SEALED_KEY_PACKAGE_TAG, rest)) = sealed.split_first() else {
        return Ok(Zeroizing::new(sealed.to_vec()));
    };
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(CoreError::Verification(WHAT));
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    let key = certificate_key(certificate, KEY_PACKAGE_PURPOSE)?;
    let padded = decrypt(&key, &key_package_aad(certificate), nonce, ciphertext, WHAT)?;
    unpad(&padded, WHAT)
}

huisclos_protocol::wire_struct!(
    /// The notice's key, wrapped for one recipient under a key derived from the
    /// recipient's certificate.
    pub struct NoticeWrap {
        /// The wrap's nonce.
        pub nonce: [u8; 24],
        /// The 32-byte notice key and its tag.
        pub wrapped: [u8; 48],
    }
);

huisclos_protocol::bounded_bytes!(
    /// A sealed notice's body: the padded inbox item, encrypted under the notice key.
    pub struct NoticeBody(max = MAX_NOTICE_BODY_LEN, what = "sealed notice body");
);

huisclos_protocol::wire_struct!(
    /// A notice for the person's own devices (a roster, a device-ready notice), as the
    /// relay carries it: only the devices it is wrapped for open it.
    pub struct SealedNotice {
        /// The notice key, once per recipient certificate, in no particular order.
        pub wraps: BoundedVec<NoticeWrap, MAX_NOTICE_WRAPS>,
        /// The body's nonce.
        pub nonce: [u8; 24],
        /// The body.
        pub body: NoticeBody,
    }
);

impl SealedNotice {
    /// Seals `plaintext` (an encoded inbox item) for the devices of `recipients`.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] for no recipient, too many, or a body too long.
    pub fn seal(recipients: &[DeviceCertificate], plaintext: &[u8]) -> Result<Self> {
        if recipients.is_empty() {
            return Err(CoreError::Invalid(InvalidInput::NoRecipient));
        }
        let mut notice_key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(notice_key.as_mut());
        let mut wraps = Vec::with_capacity(recipients.len());
        for certificate in recipients {
            let key = certificate_key(certificate, NOTICE_WRAP_PURPOSE)?;
            let (nonce, wrapped) = encrypt(&key, NOTICE_WRAP_PURPOSE, notice_key.as_ref())?;
            let wrapped: [u8; 48] = wrapped.try_into().map_err(|_| CoreError::Invalid(InvalidInput::SealingFailed))?;
            wraps.push(NoticeWrap { nonce, wrapped });
        }
        let (nonce, body) = encrypt(&notice_key, NOTICE_BODY_LABEL, &pad(plaintext)?)?;
        Ok(Self { wraps: BoundedVec::new(wraps)?, nonce, body: NoticeBody::new(body)? })
    }

    /// Opens the notice with this device's `certificate`.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when no wrap is for it or the body does not open.
    pub fn open(&self, certificate: &DeviceCertificate) -> Result<Zeroizing<Vec<u8>>> {
        const WHAT: Unverified = Unverified::DoesNotOpen;
        let key = certificate_key(certificate, NOTICE_WRAP_PURPOSE)?;
        for wrap in self.wraps.iter() {
            let Ok(notice_key) = decrypt(&key, NOTICE_WRAP_PURPOSE, &wrap.nonce, &wrap.wrapped, WHAT) else {
                continue;
            };
            let notice_key: [u8; 32] = notice_key.as_slice().try_into().map_err(|_| CoreError::Verification(WHAT))?;
            let notice_key = Zeroizing::new(notice_key);
            let padded = decrypt(&notice_key, NOTICE_BODY_LABEL, &self.nonce, self.body.as_bytes(), WHAT)?;
            return unpad(&padded, WHAT);
        }
        Err(CoreError::Verification(WHAT))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use huisclos_protocol::ids::{AccountId, UnixSeconds};

    use super::*;
    use crate::identity::{CertificateBody, DeviceKeys, DisplayName, IdentityKey};

    fn certificate(identity: &IdentityKey, name: &str) -> DeviceCertificate {
        let device = DeviceKeys::generate();
        let body = CertificateBody {
            identity: identity.public(),
            account: AccountId::from_bytes([7; 16]),
            device: device.device_id(),
            mls_key: device.mls_public(),
            name: DisplayName::new(name).unwrap(),
            created_at: UnixSeconds::new(1_790_000_000).unwrap(),
        };
        DeviceCertificate::issue(identity, body).unwrap()
    }

    #[test]
    fn a_key_package_opens_only_under_its_certificate_and_hides_its_length() {
        let identity = IdentityKey::generate();
        let phone = certificate(&identity, "Amira");
        let laptop = certificate(&identity, "Amira");
        let package = b"an MLS key package naming Amira".repeat(10);
        let sealed = seal_key_package(&phone, &package).unwrap();
        assert_eq!(sealed[0], SEALED_KEY_PACKAGE_TAG);
        assert!(!sealed.windows(5).any(|w| w == b"Amira"));
        assert_eq!(open_key_package(&phone, &sealed).unwrap().as_slice(), package.as_slice());
        // Another device's certificate of the same person, or the same device
        // re-certified, does not open it.
        assert!(open_key_package(&laptop, &sealed).is_err());
        let mut reissued = phone.clone();
        reissued.body.created_at = UnixSeconds::new(1_790_000_001).unwrap();
        assert!(open_key_package(&reissued, &sealed).is_err());
        for i in [0usize, 1, 30, sealed.len() - 1] {
            let mut flipped = sealed.clone();
            flipped[i] ^= 1;
            let opened = open_key_package(&phone, &flipped);
            // A flipped tag makes it a "package in clear": returned as is, and refused
            // by the MLS check that follows, never taken for the real one.
            assert!(opened.is_err() || opened.unwrap().as_slice() != package.as_slice());
        }
        assert!(open_key_package(&phone, &sealed[..20]).is_err());
        // Names of 1 and 60 bytes seal to the same length.
        let short = seal_key_package(&certificate(&identity, "A"), &package).unwrap();
        let long = seal_key_package(&certificate(&identity, &"A".repeat(60)), &[&package[..], &[0; 59]].concat());
        assert_eq!(short.len(), long.unwrap().len());
    }

    #[test]
    fn a_notice_opens_on_every_device_it_is_wrapped_for_and_no_other() {
        let identity = IdentityKey::generate();
        let (phone, laptop, tablet) =
            (certificate(&identity, "Amira"), certificate(&identity, "Amira"), certificate(&identity, "Amira"));
        let notice = SealedNotice::seal(&[phone.clone(), laptop.clone()], b"the roster, version 3").unwrap();
        let notice = SealedNotice::from_wire(&notice.to_wire()).unwrap();
        assert_eq!(notice.open(&phone).unwrap().as_slice(), b"the roster, version 3");
        assert_eq!(notice.open(&laptop).unwrap().as_slice(), b"the roster, version 3");
        assert!(notice.open(&tablet).is_err());
        assert_eq!(notice.body.as_bytes().len(), PADDING + 16);
        let mut tampered = notice.clone();
        let mut body = tampered.body.as_bytes().to_vec();
        body[3] ^= 1;
        tampered.body = NoticeBody::new(body).unwrap();
        assert!(tampered.open(&phone).is_err());
        assert!(SealedNotice::seal(&[], b"x").is_err());
    }
}
