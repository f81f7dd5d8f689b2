//! Linking a new device to a person's identity, and what arrives in a device's inbox.
//!
//! A person's devices all hold the identity key: any of them can certify, link and
//! (later) revoke the others. Linking moves that key to the new device, so it is done
//! in three steps, each confirmed by the person holding both devices:
//!
//! 1. The existing device shows a [`LinkOffer`] (a QR code or text): the account, the
//!    identity key, and a fresh offer id. Nothing in it is secret.
//! 2. The new device reads the offer and shows a [`LinkRequest`]: its relay
//!    authentication key with a proof of possession for the account, its MLS signature
//!    key, its name, and a fresh X25519 key to receive the grant; signed with its
//!    authentication key. The existing device reads it; the person confirms on it.
//! 3. The existing device registers the new device at the relay and leaves a
//!    [`SealedGrantBytes`] in the new device's inbox: the identity key and the person's
//!    device certificates (the new one included), sealed to the request's X25519 key.
//!    The relay carries it and cannot open it. The new device, now able to log in,
//!    reads its inbox, opens the grant, and becomes a full device; it then tells the
//!    person's other devices it is ready ([`DeviceReady`]), and they add it to every
//!    space they are in.
//!
//! An attacker who photographs the offer learns only public values. One who
//! photographs the request cannot use it: the grant opens only with the X25519 secret
//! that never left the new device. A request built by someone else for the offer is
//! refused by the person, who sees its name and [`LinkRequest::confirmation_code`] on
//! both screens.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use huisclos_protocol::auth::{DevicePublicKey, DeviceSignature, sign_device_link, verify_device_link};
use huisclos_protocol::codec::{BoundedVec, Reader, Wire};
use huisclos_protocol::ids::{AccountId, DeviceId};
use huisclos_protocol::messages::WelcomeBytes;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{CoreError, Result};
use crate::identity::{
    DeviceCertificate, DeviceKeys, DisplayName, IdentityKey, IdentityPublicKey, MAX_CARD_DEVICES, SignatureBytes,
    labelled,
};

/// The text form's prefix of a link offer.
pub const LINK_OFFER_PREFIX: &str = "huisclos-link-offer:";
/// The text form's prefix of a link request.
pub const LINK_REQUEST_PREFIX: &str = "huisclos-link-request:";
/// Domain separation for a link request's signature.
pub const LINK_REQUEST_LABEL: &[u8] = b"huisclos/1 link-request";
/// Domain separation for the grant's key derivation.
pub const DEVICE_GRANT_LABEL: &[u8] = b"huisclos/1 device-grant";
/// Domain separation for a device's readiness notice.
pub const DEVICE_READY_LABEL: &[u8] = b"huisclos/1 device-ready";
/// The most bytes of a sealed grant: the identity key and the most certificates a
/// person can have, with room to spare.
pub const MAX_SEALED_GRANT_LEN: usize = 64 * 1024;

huisclos_protocol::wire_struct!(
    /// What an existing device shows to start linking a new one. Public values only.
    pub struct LinkOffer {
        /// The person's relay account.
        pub account: AccountId,
        /// The person's identity key (the new device checks the grant against it).
        pub identity: IdentityPublicKey,
        /// A fresh id; the existing device accepts only requests that name it.
        pub offer: [u8; 16],
        /// Where the new device finds the relay.
        pub relay: crate::endpoint::RelayEndpoint,
    }
);

huisclos_protocol::wire_struct!(
    /// What a new device states about itself.
    pub struct LinkRequestBody {
        /// The offer answered.
        pub offer: [u8; 16],
        /// The new device's relay authentication key.
        pub device_key: DevicePublicKey,
        /// The relay's proof of possession of `device_key` for the offer's account.
        pub possession: DeviceSignature,
        /// The new device's MLS signature key.
        pub mls_key: [u8; 32],
        /// The X25519 key the grant is sealed to.
        pub grant_key: [u8; 32],
        /// The new device's name as the person typed it (shown for confirmation).
        pub name: DisplayName,
    }
);

huisclos_protocol::wire_struct!(
    /// A new device's request to be linked, signed with its authentication key.
    pub struct LinkRequest {
        /// The statement.
        pub body: LinkRequestBody,
        /// The authentication key's signature over [`LINK_REQUEST_LABEL`] and the body.
        pub signature: SignatureBytes,
    }
);

huisclos_protocol::bounded_bytes!(
    /// An MLS Welcome, inside an [`InboxItem`] (a little shorter than the relay allows,
    /// so the item fits the relay's bound).
    pub struct InboxWelcome(max = huisclos_protocol::limits::MAX_MLS_MESSAGE_LEN - 16, what = "Welcome");
);

huisclos_protocol::bounded_bytes!(
    /// A sealed [`DeviceGrant`] as it travels: an ephemeral X25519 key, a nonce
    /// and the XChaCha20-Poly1305 ciphertext.
    pub struct SealedGrantBytes(max = MAX_SEALED_GRANT_LEN, what = "sealed device grant");
);

huisclos_protocol::wire_struct!(
    /// A linked device's notice to the person's other devices that it can now be added
    /// to spaces (its key packages are at the relay). Signed with its MLS key.
    pub struct DeviceReady {
        /// The device's certificate.
        pub certificate: DeviceCertificate,
        /// The MLS key's signature over [`DEVICE_READY_LABEL`] and the certificate.
        pub signature: SignatureBytes,
    }
);

huisclos_protocol::wire_enum!(
    /// What a device's inbox at the relay holds. The relay sees only opaque bytes.
    pub enum InboxItem(what = "inbox item") {
        /// An MLS Welcome into a space.
        0x01 => Welcome(InboxWelcome),
        /// The identity key and certificates for a device being linked.
        0x02 => DeviceGrant(SealedGrantBytes),
        /// A newly linked device of the same person is ready to join spaces.
        0x03 => DeviceReady(DeviceReady),
        /// A request to join a space, sealed to the space card's request key.
        0x04 => JoinRequest(crate::join::SealedJoinRequest),
    }
);

impl InboxItem {
    /// The item as the relay's inbox carries it.
    ///
    /// # Errors
    /// [`CoreError::Decode`] when it is too long.
    pub fn to_welcome_bytes(&self) -> Result<WelcomeBytes> {
        Ok(WelcomeBytes::new(self.to_wire())?)
    }
}

fn to_text(prefix: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn from_text(prefix: &str, text: &str, what: &'static str) -> Result<Vec<u8>> {
    use base64::Engine;
    let encoded = text.trim().strip_prefix(prefix).ok_or(CoreError::Verification(what))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|_| CoreError::Verification(what))
}

impl LinkOffer {
    /// A fresh offer for `account` and `identity` at `relay`.
    pub fn new(account: AccountId, identity: IdentityPublicKey, relay: crate::endpoint::RelayEndpoint) -> Self {
        let mut offer = [0u8; 16];
        OsRng.fill_bytes(&mut offer);
        Self { account, identity, offer, relay }
    }

    /// The offer as text (for a QR code).
    pub fn to_text(&self) -> String {
        to_text(LINK_OFFER_PREFIX, &self.to_wire())
    }

    /// Reads an offer from its text.
    ///
    /// # Errors
    /// [`CoreError::Verification`] or [`CoreError::Decode`] when it is not one.
    pub fn from_text(text: &str) -> Result<Self> {
        Ok(Self::from_wire(&from_text(LINK_OFFER_PREFIX, text, "not a link offer")?)?)
    }
}

/// The new device's side of linking, between reading the offer and receiving the
/// grant: its keys and the grant key's secret. Zeroized on drop.
pub struct PendingLink {
    /// The offer answered.
    pub offer: LinkOffer,
    /// The new device's keys.
    pub device: DeviceKeys,
    /// The device's name.
    pub name: DisplayName,
    grant_secret: x25519_dalek::StaticSecret,
}

impl std::fmt::Debug for PendingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLink").field("device", &self.device.device_id()).finish_non_exhaustive()
    }
}

impl PendingLink {
    /// Fresh keys answering `offer`.
    pub fn new(offer: LinkOffer, name: DisplayName) -> Self {
        Self {
            offer,
            device: DeviceKeys::generate(),
            name,
            grant_secret: x25519_dalek::StaticSecret::random_from_rng(OsRng),
        }
    }

    /// Rebuilds a pending link from its stored parts.
    pub(crate) fn from_parts(offer: LinkOffer, device: DeviceKeys, name: DisplayName, grant_secret: [u8; 32]) -> Self {
        Self { offer, device, name, grant_secret: x25519_dalek::StaticSecret::from(grant_secret) }
    }

    /// The grant key's secret, for the encrypted store only.
    pub(crate) fn grant_secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.grant_secret.to_bytes())
    }

    /// The request to show to the existing device.
    pub fn request(&self) -> LinkRequest {
        let device_key = DevicePublicKey::from_signing_key(&self.device.auth);
        let body = LinkRequestBody {
            offer: self.offer.offer,
            device_key,
            possession: sign_device_link(&self.device.auth, &self.offer.account),
            mls_key: self.device.mls_public(),
            grant_key: x25519_dalek::PublicKey::from(&self.grant_secret).to_bytes(),
            name: self.name.clone(),
        };
        let signature = self.device.auth.sign(&labelled(LINK_REQUEST_LABEL, &body.to_wire()));
        LinkRequest { body, signature: SignatureBytes::from_bytes(signature.to_bytes()) }
    }

    /// Opens a grant sealed to this device and checks it: the identity key is the
    /// offer's, and it certifies exactly this device's keys for the offer's account.
    ///
    /// # Errors
    /// [`CoreError::Verification`] for anything that does not open or does not match.
    pub fn open_grant(&self, sealed: &SealedGrantBytes) -> Result<DeviceGrant> {
        let plaintext = crate::seal::open_with(
            DEVICE_GRANT_LABEL,
            self.device.device_id().as_bytes(),
            &self.grant_secret,
            sealed.as_bytes(),
            "a device grant that does not open with this device's key",
        )?;
        let grant = DeviceGrant::decode(&plaintext)?;
        let me = &grant.own_certificate(&self.device.device_id())?.body;
        if grant.identity.public() != self.offer.identity
            || me.account != self.offer.account
            || me.mls_key != self.device.mls_public()
        {
            return Err(CoreError::Verification("a device grant for another identity, account or key"));
        }
        Ok(grant)
    }
}

impl LinkRequest {
    /// The request as text (for a QR code).
    pub fn to_text(&self) -> String {
        to_text(LINK_REQUEST_PREFIX, &self.to_wire())
    }

    /// Reads a request from its text.
    ///
    /// # Errors
    /// [`CoreError::Verification`] or [`CoreError::Decode`] when it is not one.
    pub fn from_text(text: &str) -> Result<Self> {
        Ok(Self::from_wire(&from_text(LINK_REQUEST_PREFIX, text, "not a link request")?)?)
    }

    /// Checks the request against the offer it names: its signature, and its proof of
    /// possession for the offer's account.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not verify.
    pub fn verify(&self, offer: &LinkOffer) -> Result<()> {
        if self.body.offer != offer.offer {
            return Err(CoreError::Verification("a link request for another offer"));
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(self.body.device_key.as_bytes())
            .map_err(|_| CoreError::Verification("a link request's device key"))?;
        key.verify(
            &labelled(LINK_REQUEST_LABEL, &self.body.to_wire()),
            &Signature::from_bytes(self.signature.as_bytes()),
        )
        .map_err(|_| CoreError::Verification("a link request's signature"))?;
        verify_device_link(&self.body.device_key, &self.body.possession, &offer.account)
            .map_err(|_| CoreError::Verification("a link request's proof of possession"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&self.body.mls_key)
            .map_err(|_| CoreError::Verification("a link request's MLS key"))?;
        Ok(())
    }

    /// Six digits both devices show, so the person can see that the request read is the
    /// one the new device made.
    pub fn confirmation_code(&self) -> String {
        let digest = Sha256::digest(labelled(LINK_REQUEST_LABEL, &self.to_wire()));
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
        format!("{n:06}")
    }

    /// The new device's relay id.
    pub fn device(&self) -> DeviceId {
        self.body.device_key.device_id()
    }
}

/// What a linked device receives: the identity key and the person's device
/// certificates (its own included).
pub struct DeviceGrant {
    /// The person's identity key.
    pub identity: IdentityKey,
    /// The person's devices' certificates.
    pub devices: Vec<DeviceCertificate>,
}

impl std::fmt::Debug for DeviceGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceGrant").field("identity", &self.identity).field("devices", &self.devices.len()).finish()
    }
}

impl DeviceGrant {
    /// The certificate of `device` among the grant's.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when it is missing.
    pub fn own_certificate(&self, device: &DeviceId) -> Result<&DeviceCertificate> {
        self.devices
            .iter()
            .find(|c| &c.body.device == device)
            .ok_or(CoreError::Verification("a device grant without this device's certificate"))
    }

    fn encode(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut bytes = Zeroizing::new(Vec::new());
        bytes.extend_from_slice(self.identity.to_secret().as_ref());
        let devices: BoundedVec<DeviceCertificate, MAX_CARD_DEVICES> = BoundedVec::new(self.devices.clone())?;
        bytes.extend_from_slice(&devices.to_wire());
        Ok(bytes)
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(bytes);
        let secret = Zeroizing::new(reader.take_array::<32>("identity key")?);
        let devices: BoundedVec<DeviceCertificate, MAX_CARD_DEVICES> = Wire::decode(&mut reader)?;
        reader.finish("device grant")?;
        let identity = IdentityKey::from_secret(&secret);
        for certificate in devices.as_slice() {
            certificate.verify()?;
            if certificate.body.identity != identity.public() {
                return Err(CoreError::Verification("a device grant with another identity's certificate"));
            }
        }
        Ok(Self { identity, devices: devices.into_vec() })
    }

    /// Seals the grant to the device that made `request`.
    ///
    /// # Errors
    /// [`CoreError::Decode`] when there are too many certificates.
    pub fn seal(&self, request: &LinkRequest) -> Result<SealedGrantBytes> {
        let plaintext = self.encode()?;
        let sealed =
            crate::seal::seal_to(DEVICE_GRANT_LABEL, request.device().as_bytes(), &request.body.grant_key, &plaintext)?;
        Ok(SealedGrantBytes::new(sealed)?)
    }
}

impl DeviceReady {
    /// The notice of the device holding `mls` and `certificate`.
    pub fn sign(certificate: DeviceCertificate, mls: &SigningKey) -> Self {
        let signature = mls.sign(&labelled(DEVICE_READY_LABEL, &certificate.to_wire()));
        Self { certificate, signature: SignatureBytes::from_bytes(signature.to_bytes()) }
    }

    /// Checks the certificate and the device's signature.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when either does not verify.
    pub fn verify(&self) -> Result<()> {
        self.certificate.verify()?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.certificate.body.mls_key)
            .map_err(|_| CoreError::Verification("a device's MLS key"))?;
        key.verify(
            &labelled(DEVICE_READY_LABEL, &self.certificate.to_wire()),
            &Signature::from_bytes(self.signature.as_bytes()),
        )
        .map_err(|_| CoreError::Verification("a device-ready notice's signature"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay() -> crate::endpoint::RelayEndpoint {
        let address = huisclos_protocol::invitation::RelayAddress::new("relay.example.org:4433".into()).unwrap();
        crate::endpoint::RelayEndpoint { addresses: BoundedVec::new(vec![address]).unwrap(), pin: [3; 32] }
    }

    fn certify(identity: &IdentityKey, account: AccountId, keys: &DeviceKeys, name: &str) -> DeviceCertificate {
        crate::identity::test_certificate(identity, account, keys, name)
    }

    #[test]
    fn a_grant_reaches_only_the_device_that_asked() {
        let identity = IdentityKey::generate();
        let account = AccountId::from_bytes([7; 16]);
        let old = DeviceKeys::generate();
        let offer = LinkOffer::from_text(&LinkOffer::new(account, identity.public(), relay()).to_text()).unwrap();
        let pending = PendingLink::new(offer.clone(), DisplayName::new("Bob's laptop").unwrap());
        let request = LinkRequest::from_text(&pending.request().to_text()).unwrap();
        request.verify(&offer).unwrap();
        assert_eq!(request.confirmation_code(), pending.request().confirmation_code());
        assert_eq!(request.confirmation_code().len(), 6);

        // Another offer, a changed name or a changed key: refused.
        assert!(request.verify(&LinkOffer::new(account, identity.public(), relay())).is_err());
        let mut renamed = request.clone();
        renamed.body.name = DisplayName::new("Mallory").unwrap();
        assert!(renamed.verify(&offer).is_err());
        let mut rekeyed = request.clone();
        rekeyed.body.grant_key = [9; 32];
        assert!(rekeyed.verify(&offer).is_err());

        let grant = DeviceGrant {
            identity: IdentityKey::from_secret(&identity.to_secret()),
            devices: vec![
                certify(&identity, account, &old, "Bob's phone"),
                certify(&identity, account, &pending.device, "Bob's laptop"),
            ],
        };
        let sealed = grant.seal(&request).unwrap();
        let opened = pending.open_grant(&sealed).unwrap();
        assert_eq!(opened.identity.public(), identity.public());
        assert_eq!(opened.devices.len(), 2);

        // Another device's keys do not open it; a flipped bit is refused.
        let stranger = PendingLink::new(offer.clone(), DisplayName::new("Bob's laptop").unwrap());
        assert!(stranger.open_grant(&sealed).is_err());
        let mut bytes = sealed.as_bytes().to_vec();
        for i in [0, 40, bytes.len() - 1] {
            bytes[i] ^= 1;
            assert!(pending.open_grant(&SealedGrantBytes::new(bytes.clone()).unwrap()).is_err());
            bytes[i] ^= 1;
        }

        // A grant that certifies someone else's keys for this device is refused.
        let wrong = DeviceGrant {
            identity: IdentityKey::from_secret(&identity.to_secret()),
            devices: vec![certify(&identity, account, &old, "Bob's phone")],
        };
        assert!(pending.open_grant(&wrong.seal(&request).unwrap()).is_err());
    }

    #[test]
    fn a_ready_notice_is_signed_by_the_device() {
        let identity = IdentityKey::generate();
        let keys = DeviceKeys::generate();
        let certificate = certify(&identity, AccountId::from_bytes([1; 16]), &keys, "Bob's laptop");
        let notice = DeviceReady::sign(certificate.clone(), &keys.mls);
        notice.verify().unwrap();
        let item = InboxItem::from_wire(&InboxItem::DeviceReady(notice).to_wire()).unwrap();
        assert!(matches!(item, InboxItem::DeviceReady(_)));
        let forged = DeviceReady::sign(certificate, &DeviceKeys::generate().mls);
        assert!(forged.verify().is_err());
    }
}
