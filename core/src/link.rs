//! Linking a new device to a person's identity, and what arrives in a device's inbox.
//!
//! The identity key stays on the device that holds it (the one that created the
//! identity, or one restored from the recovery words): a linked device never receives
//! it. Linking is done from that device, in three steps, each confirmed by the person
//! holding both devices:
//!
//! 1. The identity holder shows a [`LinkOffer`] as a QR code: the account, the identity
//!    key, a fresh offer id, and a fresh 32-byte *offer secret*.
//! 2. The new device reads the offer and shows a [`LinkRequest`]: its relay
//!    authentication key with a proof of possession for the account, its MLS signature
//!    key, its name, and a fresh X25519 key to receive the grant; signed with its
//!    authentication key, and authenticated with the offer secret (an HMAC), so that
//!    only a device that read the offer can answer it. Both devices show a six-digit
//!    confirmation code computed with the secret.
//! 3. The holder checks the request, certifies the new device, makes the next version
//!    of the person's device roster (their contact card), registers the device at the
//!    relay and leaves a [`SealedGrantBytes`] in its inbox: the new roster, sealed to the
//!    request's X25519 key. The new device opens it, and once online tells the person's
//!    other devices it is ready ([`DeviceReady`], carrying the roster that lists it);
//!    they add it to every space they are in.
//!
//! Someone who sees only the request learns nothing they can use: the grant opens only
//! with the X25519 secret that never left the new device. Someone who did not see the
//! offer cannot make a request the holder accepts, however many tries they make: the
//! six digits are only a check for the person, not what authenticates the request. An
//! offer is answered once; showing a new one forgets the old.

use ed25519_dalek::{Signature, Signer, SigningKey};
use huisclos_protocol::auth::{DevicePublicKey, DeviceSignature, sign_device_link, verify_device_link};
use huisclos_protocol::codec::{Reader, Wire};
use huisclos_protocol::ids::{AccountId, DeviceId, UnixSeconds};
use huisclos_protocol::messages::WelcomeBytes;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{CoreError, Result, Signed, Unverified};
use crate::identity::{
    ContactCard, DeviceCertificate, DeviceKeys, DisplayName, IdentityPublicKey, SignatureBytes, labelled,
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
/// Domain separation for a link request's proof that it answers the offer read.
pub const LINK_PROOF_LABEL: &[u8] = b"huisclos/1 link-proof";
/// Domain separation for the confirmation code.
pub const LINK_CODE_LABEL: &[u8] = b"huisclos/1 link-code";
/// How long a device-ready notice stays valid; older ones are refused (a replay).
pub const MAX_NOTICE_AGE_SECS: u64 = 7 * 24 * 3600;
/// The most bytes of a sealed grant: the identity key and the most certificates a
/// person can have, with room to spare.
pub const MAX_SEALED_GRANT_LEN: usize = 64 * 1024;

/// The offer's secret: 32 random bytes that travel only inside the offer's QR code,
/// and authenticate the request that answers it. Zeroized on drop; `Debug` hides it.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct OfferSecret([u8; 32]);

impl OfferSecret {
    fn generate() -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        Self(secret)
    }

    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        // HMAC zero-pads a short key to the hash's block: padding it here gives the
        // same MAC as `new_from_slice`, without its (never taken) error path.
        let mut block = Zeroizing::new([0u8; 64]);
        block[..32].copy_from_slice(&self.0);
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(block.as_ref().into());
        mac.update(label);
        mac.update(&[0]);
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for OfferSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OfferSecret(<redacted>)")
    }
}

impl Wire for OfferSecret {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self(reader.take_array("offer secret")?))
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for OfferSecret {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        proptest::arbitrary::any::<[u8; 32]>().prop_map(Self).boxed()
    }
}

huisclos_protocol::wire_struct!(
    /// What the identity holder shows to start linking a new device, as a QR code. It
    /// holds a secret: show it to the new device only, and never send it anywhere.
    pub struct LinkOffer {
        /// The person's relay account.
        pub account: AccountId,
        /// The person's identity key (the new device checks the grant against it).
        pub identity: IdentityPublicKey,
        /// A fresh id; the holder accepts only requests that name it.
        pub offer: [u8; 16],
        /// The secret that authenticates the answer.
        pub secret: OfferSecret,
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
    /// A new device's request to be linked, signed with its authentication key and
    /// authenticated with the offer's secret.
    pub struct LinkRequest {
        /// The statement.
        pub body: LinkRequestBody,
        /// The authentication key's signature over [`LINK_REQUEST_LABEL`] and the body.
        pub signature: SignatureBytes,
        /// HMAC-SHA256 under the offer's secret over [`LINK_PROOF_LABEL`], the body and
        /// the signature: only a device that read the offer computes it.
        pub proof: [u8; 32],
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
    /// What a linked device states when it is ready.
    pub struct DeviceReadyBody {
        /// The person's roster (contact card) that lists the device: its holder
        /// approved it. A device that is not on the newest roster a receiver holds is
        /// refused, so a revoked device's old notice brings nothing back.
        pub card: ContactCard,
        /// The device.
        pub device: DeviceId,
        /// When, by its clock: a notice older than [`MAX_NOTICE_AGE_SECS`] is refused,
        /// and one seen before is refused again.
        pub issued_at: UnixSeconds,
    }
);

huisclos_protocol::wire_struct!(
    /// A linked device's notice to the person's other devices that it can now be added
    /// to spaces (its key packages are at the relay). Signed with its MLS key.
    pub struct DeviceReady {
        /// The statement.
        pub body: DeviceReadyBody,
        /// The device's MLS key's signature over [`DEVICE_READY_LABEL`] and the body.
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
        /// The person's newest roster, from the identity holder to their other devices
        /// (after a device was linked or revoked).
        0x05 => Roster(ContactCard),
        /// A [`InboxItem::DeviceReady`] or [`InboxItem::Roster`], sealed for the
        /// person's own devices (see [`crate::conceal`]): how this release sends both,
        /// so the relay never holds their certificates. 0x03 and 0x05 in clear are still
        /// read, from devices of earlier releases.
        0x06 => Sealed(crate::conceal::SealedNotice),
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

fn from_text(prefix: &str, text: &str, what: Unverified) -> Result<Vec<u8>> {
    use base64::Engine;
    let encoded = text.trim().strip_prefix(prefix).ok_or(CoreError::Verification(what))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded).map_err(|_| CoreError::Verification(what))
}

impl LinkOffer {
    /// A fresh offer for `account` and `identity` at `relay`.
    pub fn new(account: AccountId, identity: IdentityPublicKey, relay: crate::endpoint::RelayEndpoint) -> Self {
        let mut offer = [0u8; 16];
        OsRng.fill_bytes(&mut offer);
        Self { account, identity, offer, secret: OfferSecret::generate(), relay }
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
        Ok(Self::from_wire(&from_text(LINK_OFFER_PREFIX, text, Unverified::NotALinkOffer)?)?)
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
        let signature = SignatureBytes::from_bytes(
            self.device.auth.sign(&labelled(LINK_REQUEST_LABEL, &body.to_wire())).to_bytes(),
        );
        let proof = self.offer.secret.mac(LINK_PROOF_LABEL, &[&body.to_wire(), signature.as_bytes()]);
        LinkRequest { body, signature, proof }
    }

    /// The six digits to compare with the ones the identity holder shows.
    pub fn confirmation_code(&self) -> String {
        self.request().confirmation_code(&self.offer)
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
            Unverified::DoesNotOpen,
        )?;
        let grant = DeviceGrant { card: ContactCard::from_wire(&plaintext)? };
        grant.card.verify()?;
        let me = &grant.own_certificate(&self.device.device_id())?.body;
        if grant.card.body.identity != self.offer.identity
            || me.account != self.offer.account
            || me.mls_key != self.device.mls_public()
            || grant.card.body.devices.iter().any(|c| c.body.account != self.offer.account)
        {
            return Err(CoreError::Verification(Unverified::WrongPerson));
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
        Ok(Self::from_wire(&from_text(LINK_REQUEST_PREFIX, text, Unverified::NotALinkRequest)?)?)
    }

    /// Checks the request against the offer it names: its proof under the offer's
    /// secret, its signature, and its proof of possession for the offer's account.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not verify.
    pub fn verify(&self, offer: &LinkOffer) -> Result<()> {
        if self.body.offer != offer.offer {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        let expected = offer.secret.mac(LINK_PROOF_LABEL, &[&self.body.to_wire(), self.signature.as_bytes()]);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &self.proof[..])) {
            return Err(CoreError::Verification(Unverified::LinkSecretMissing));
        }
        let key = crate::identity::strict_key(self.body.device_key.as_bytes())
            .ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        key.verify_strict(
            &labelled(LINK_REQUEST_LABEL, &self.body.to_wire()),
            &Signature::from_bytes(self.signature.as_bytes()),
        )
        .map_err(|_| CoreError::Verification(Unverified::Signature(Signed::LinkRequest)))?;
        verify_device_link(&self.body.device_key, &self.body.possession, &offer.account)
            .map_err(|_| CoreError::Verification(Unverified::Signature(Signed::LinkRequest)))?;
        crate::identity::strict_key(&self.body.mls_key).ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        Ok(())
    }

    /// Six digits both devices show, so the person can see that the request read is the
    /// one the new device made. Computed with the offer's secret: nobody who did not
    /// see the offer can aim at them.
    pub fn confirmation_code(&self, offer: &LinkOffer) -> String {
        let digest = offer.secret.mac(LINK_CODE_LABEL, &[&self.to_wire()]);
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
        format!("{n:06}")
    }

    /// The new device's relay id.
    pub fn device(&self) -> DeviceId {
        self.body.device_key.device_id()
    }
}

/// What a linked device receives: the person's roster (their contact card, signed by
/// the identity key), which lists it. Never the identity key itself.
#[derive(Debug, Clone)]
pub struct DeviceGrant {
    /// The roster.
    pub card: ContactCard,
}

impl DeviceGrant {
    /// The certificate of `device` on the grant's roster.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when it is missing.
    pub fn own_certificate(&self, device: &DeviceId) -> Result<&DeviceCertificate> {
        self.card
            .body
            .devices
            .iter()
            .find(|c| &c.body.device == device)
            .ok_or(CoreError::Verification(Unverified::WrongPerson))
    }

    /// Seals the grant to the device that made `request`.
    ///
    /// # Errors
    /// [`CoreError::Decode`] when it is too long.
    pub fn seal(&self, request: &LinkRequest) -> Result<SealedGrantBytes> {
        let plaintext = Zeroizing::new(self.card.to_wire());
        let sealed =
            crate::seal::seal_to(DEVICE_GRANT_LABEL, request.device().as_bytes(), &request.body.grant_key, &plaintext)?;
        Ok(SealedGrantBytes::new(sealed)?)
    }
}

impl DeviceReady {
    /// The notice of the device holding `mls`, listed on `card`, at `issued_at`.
    pub fn sign(card: ContactCard, device: DeviceId, issued_at: UnixSeconds, mls: &SigningKey) -> Self {
        let body = DeviceReadyBody { card, device, issued_at };
        let signature = mls.sign(&labelled(DEVICE_READY_LABEL, &body.to_wire()));
        Self { body, signature: SignatureBytes::from_bytes(signature.to_bytes()) }
    }

    /// Checks the roster, that it lists the device, and the device's signature;
    /// returns the device's certificate.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not verify.
    pub fn verify(&self) -> Result<&DeviceCertificate> {
        self.body.card.verify()?;
        let certificate = self
            .body
            .card
            .body
            .devices
            .iter()
            .find(|c| c.body.device == self.body.device)
            .ok_or(CoreError::Verification(Unverified::NotOnRoster))?;
        let key = crate::identity::strict_key(&certificate.body.mls_key)
            .ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        key.verify_strict(
            &labelled(DEVICE_READY_LABEL, &self.body.to_wire()),
            &Signature::from_bytes(self.signature.as_bytes()),
        )
        .map_err(|_| CoreError::Verification(Unverified::Signature(Signed::DeviceReady)))?;
        Ok(certificate)
    }

    /// A digest naming this notice, for the replay cache.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(labelled(DEVICE_READY_LABEL, &self.to_wire())).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityKey;
    use huisclos_protocol::codec::BoundedVec;

    fn relay() -> crate::endpoint::RelayEndpoint {
        let address = huisclos_protocol::invitation::RelayAddress::new("relay.example.org:4433".into()).unwrap();
        crate::endpoint::RelayEndpoint { addresses: BoundedVec::new(vec![address]).unwrap(), pin: [3; 32] }
    }

    fn certify(identity: &IdentityKey, account: AccountId, keys: &DeviceKeys, name: &str) -> DeviceCertificate {
        crate::identity::test_certificate(identity, account, keys, name)
    }

    fn roster(identity: &IdentityKey, version: u32, devices: Vec<DeviceCertificate>) -> ContactCard {
        ContactCard::issue(identity, version, devices, UnixSeconds::new(5).unwrap(), None).unwrap()
    }

    #[test]
    fn a_grant_reaches_only_the_device_that_asked_and_never_holds_the_identity_key() {
        let identity = IdentityKey::generate();
        let account = AccountId::from_bytes([7; 16]);
        let old = DeviceKeys::generate();
        let offer = LinkOffer::from_text(&LinkOffer::new(account, identity.public(), relay()).to_text()).unwrap();
        let pending = PendingLink::new(offer.clone(), DisplayName::new("Bob's laptop").unwrap());
        let request = LinkRequest::from_text(&pending.request().to_text()).unwrap();
        request.verify(&offer).unwrap();
        assert_eq!(request.confirmation_code(&offer), pending.confirmation_code());
        assert_eq!(request.confirmation_code(&offer).len(), 6);

        // Another offer, a changed name or a changed key: refused.
        assert!(request.verify(&LinkOffer::new(account, identity.public(), relay())).is_err());
        let mut renamed = request.clone();
        renamed.body.name = DisplayName::new("Mallory").unwrap();
        assert!(renamed.verify(&offer).is_err());
        let mut rekeyed = request.clone();
        rekeyed.body.grant_key = [9; 32];
        assert!(rekeyed.verify(&offer).is_err());

        let grant = DeviceGrant {
            card: roster(
                &identity,
                2,
                vec![
                    certify(&identity, account, &old, "Bob's phone"),
                    certify(&identity, account, &pending.device, "Bob's laptop"),
                ],
            ),
        };
        let sealed = grant.seal(&request).unwrap();
        let opened = pending.open_grant(&sealed).unwrap();
        assert_eq!(opened.card, grant.card);
        let plaintext = grant.card.to_wire();
        assert!(!plaintext.windows(32).any(|w| w == identity.to_secret().as_slice()), "no identity secret in a grant");

        // Another device's keys do not open it; a flipped bit is refused.
        let stranger = PendingLink::new(offer.clone(), DisplayName::new("Bob's laptop").unwrap());
        assert!(stranger.open_grant(&sealed).is_err());
        let mut bytes = sealed.as_bytes().to_vec();
        for i in [0, 40, bytes.len() - 1] {
            bytes[i] ^= 1;
            assert!(pending.open_grant(&SealedGrantBytes::new(bytes.clone()).unwrap()).is_err());
            bytes[i] ^= 1;
        }

        // A grant whose roster does not list this device, or of another identity, is
        // refused.
        let without =
            DeviceGrant { card: roster(&identity, 2, vec![certify(&identity, account, &old, "Bob's phone")]) };
        assert!(pending.open_grant(&without.seal(&request).unwrap()).is_err());
        let other = IdentityKey::generate();
        let foreign =
            DeviceGrant { card: roster(&other, 1, vec![certify(&other, account, &pending.device, "Bob's laptop")]) };
        assert!(pending.open_grant(&foreign.seal(&request).unwrap()).is_err());
    }

    #[test]
    fn a_request_made_without_the_offers_secret_is_refused_whatever_its_code() {
        let identity = IdentityKey::generate();
        let account = AccountId::from_bytes([7; 16]);
        let offer = LinkOffer::new(account, identity.public(), relay());
        // Someone who saw everything in the offer but its secret (the public parts)
        // answers it with a secret of their own.
        let mut guessed = offer.clone();
        guessed.secret = OfferSecret::generate();
        let attacker = PendingLink::new(guessed.clone(), DisplayName::new("Bob's laptop").unwrap());
        let forged = attacker.request();
        assert!(matches!(forged.verify(&offer), Err(CoreError::Verification(_))));
        // The same request with the proof of a genuine one copied over does not verify.
        let genuine = PendingLink::new(offer.clone(), DisplayName::new("Bob's laptop").unwrap()).request();
        let mut grafted = forged.clone();
        grafted.proof = genuine.proof;
        assert!(grafted.verify(&offer).is_err());
        // The codes differ under another secret: nobody without it can aim at one.
        assert_ne!(genuine.confirmation_code(&offer), genuine.confirmation_code(&guessed));
        assert!(format!("{offer:?}").contains("redacted"), "Debug never shows the secret");
    }

    #[test]
    fn a_ready_notice_is_signed_by_a_device_its_roster_lists() {
        let identity = IdentityKey::generate();
        let keys = DeviceKeys::generate();
        let certificate = certify(&identity, AccountId::from_bytes([1; 16]), &keys, "Bob's laptop");
        let card = roster(&identity, 2, vec![certificate.clone()]);
        let at = UnixSeconds::new(10).unwrap();
        let notice = DeviceReady::sign(card.clone(), keys.device_id(), at, &keys.mls);
        assert_eq!(notice.verify().unwrap(), &certificate);
        let item = InboxItem::from_wire(&InboxItem::DeviceReady(notice).to_wire()).unwrap();
        assert!(matches!(item, InboxItem::DeviceReady(_)));
        let forged = DeviceReady::sign(card.clone(), keys.device_id(), at, &DeviceKeys::generate().mls);
        assert!(forged.verify().is_err());
        let other = DeviceKeys::generate();
        let unlisted = DeviceReady::sign(card, other.device_id(), at, &other.mls);
        assert!(unlisted.verify().is_err());
    }
}
