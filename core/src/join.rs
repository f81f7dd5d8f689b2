//! Asking to join a space that is `open` or `on request`, and the card that says where
//! to ask.
//!
//! A space's non-members cannot read its group, so they cannot address it. A member who
//! may admit people (a space manager; in an open space, any contributor) issues a
//! [`SpaceCard`]: the space's id, name, description and policy, and an X25519 *request
//! key* whose secret stays on the issuing device, all signed with that device's MLS key
//! and carried with its certificate. The card travels as text or a QR code, or in a
//! catalogue inside another space; it holds nothing secret.
//!
//! Whoever holds a card sends a [`JoinRequest`] — their contact card and a short note,
//! signed by one of the devices that card lists — sealed to the request key (see [`crate::seal`]) into
//! the issuing device's relay inbox. The relay carries opaque bytes: it learns that some
//! device left something in another device's inbox, as for every invitation, but not
//! which space is meant or who asks. The receiving device checks the request and the
//! space's current policy: an open space admits the person at once; an on-request space
//! keeps the request until a space manager approves or declines it there. Approval is an
//! ordinary invitation of every device on the request's contact card.

use ed25519_dalek::{Signer, SigningKey};
use huisclos_protocol::codec::{Reader, Wire, put_varint};
use huisclos_protocol::ids::{DeviceId, GroupId, UnixSeconds};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{CoreError, InvalidInput, Refusal, Result, Signed, TextForm, Unverified};
use crate::identity::{ContactCard, DeviceCertificate, SignatureBytes, labelled};
use crate::space::{Policy, SpaceDescription, SpaceName, bounded_text};

/// The text form's prefix of a space card.
pub const SPACE_CARD_PREFIX: &str = "huisclos-space:";
/// Domain separation for a space card's signature.
pub const SPACE_CARD_LABEL: &[u8] = b"huisclos/1 space-card";
/// Domain separation for a join request's signature.
pub const JOIN_REQUEST_LABEL: &[u8] = b"huisclos/1 join-request";
/// Domain separation for sealing a join request, and for a request key's id.
pub const JOIN_REQUEST_SEAL_LABEL: &[u8] = b"huisclos/1 join-request-seal";
/// The most bytes of a join request's note.
pub const MAX_JOIN_NOTE_LEN: usize = 512;
/// The most bytes of a sealed join request: a full contact card, the note, and room.
pub const MAX_SEALED_JOIN_REQUEST_LEN: usize = 32 * 1024;
/// The most requests a space keeps waiting for a decision; older ones give way.
pub const MAX_PENDING_JOIN_REQUESTS: usize = 256;
/// The most spaces a person waits to be admitted to at once.
pub const MAX_OPEN_REQUESTS: usize = 256;

bounded_text!(
    /// What the person asking says about themself (shown to the space manager).
    JoinNote, MAX_JOIN_NOTE_LEN, JoinNote = "join request note", allow_empty = true
);

huisclos_protocol::wire_struct!(
    /// What a space card states.
    pub struct SpaceCardBody {
        /// The space.
        pub space: GroupId,
        /// Its name when the card was issued.
        pub name: SpaceName,
        /// Its description when the card was issued.
        pub description: SpaceDescription,
        /// Who may join: open or on request (never confidential).
        pub policy: Policy,
        /// The issuing device, whose inbox receives requests.
        pub issuer: DeviceCertificate,
        /// The X25519 key requests are sealed to.
        pub request_key: [u8; 32],
        /// When the card was issued.
        pub issued_at: UnixSeconds,
    }
);

huisclos_protocol::wire_struct!(
    /// Where and how to ask to join a space, signed by the issuing device's MLS key.
    pub struct SpaceCard {
        /// The statement.
        pub body: SpaceCardBody,
        /// The issuer's MLS key's signature over [`SPACE_CARD_LABEL`] and the body.
        pub signature: SignatureBytes,
    }
);

huisclos_protocol::wire_struct!(
    /// What a person asking to join states.
    pub struct JoinRequestBody {
        /// The space.
        pub space: GroupId,
        /// The request key of the card answered (binds the request to that card).
        pub request_key: [u8; 32],
        /// The person's contact card: who to add, with all their devices.
        pub card: ContactCard,
        /// What they say about themself.
        pub note: JoinNote,
        /// When they asked.
        pub created_at: UnixSeconds,
    }
);

huisclos_protocol::wire_struct!(
    /// A request to join, signed by a device its contact card lists (a card is signed
    /// by the person's identity key), so nobody can ask on another person's behalf.
    pub struct JoinRequest {
        /// The statement.
        pub body: JoinRequestBody,
        /// The asking device.
        pub signer: DeviceId,
        /// That device's MLS key's signature over [`JOIN_REQUEST_LABEL`] and the body.
        pub signature: SignatureBytes,
    }
);

huisclos_protocol::bounded_bytes!(
    /// A sealed [`JoinRequest`] as it travels: the request key's id (8 bytes), then the
    /// sealed request ([`crate::seal`]).
    pub struct SealedJoinRequest(max = MAX_SEALED_JOIN_REQUEST_LEN, what = "sealed join request");
);

/// The short id of a request key, so the receiving device finds the space without
/// trying every key it holds. It names no space to anyone without the card.
pub fn request_key_id(public: &[u8; 32]) -> [u8; 8] {
    let digest = Sha256::digest(labelled(JOIN_REQUEST_SEAL_LABEL, public));
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

impl SpaceCard {
    /// Signs a card with the issuing device's MLS key.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a confidential space; [`CoreError::Invalid`] when
    /// `mls` is not the certificate's key.
    pub fn issue(body: SpaceCardBody, mls: &SigningKey) -> Result<Self> {
        if body.policy == Policy::Confidential {
            return Err(CoreError::Forbidden(Refusal::ConfidentialSpace));
        }
        if mls.verifying_key().to_bytes() != body.issuer.body.mls_key {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        let signature = mls.sign(&labelled(SPACE_CARD_LABEL, &body.to_wire()));
        Ok(Self { body, signature: SignatureBytes::from_bytes(signature.to_bytes()) })
    }

    /// Checks the issuer's certificate and signature, and that the space takes requests.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not verify.
    pub fn verify(&self) -> Result<()> {
        self.body.issuer.verify()?;
        let key = crate::identity::strict_key(&self.body.issuer.body.mls_key)
            .ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        if !crate::identity::verify(&key, SPACE_CARD_LABEL, &self.body.to_wire(), &self.signature) {
            return Err(CoreError::Verification(Unverified::Signature(Signed::SpaceCard)));
        }
        if self.body.policy == Policy::Confidential {
            return Err(CoreError::Verification(Unverified::Malformed));
        }
        Ok(())
    }

    /// The card as text (`huisclos-space:` and base64url), for a message or a QR code.
    pub fn to_text(&self) -> String {
        use base64::Engine;
        format!("{SPACE_CARD_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_wire()))
    }

    /// Parses and verifies the text form.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when it is not a space card, [`CoreError::Verification`]
    /// when it does not verify.
    pub fn from_text(text: &str) -> Result<Self> {
        use base64::Engine;
        let encoded = text
            .trim()
            .strip_prefix(SPACE_CARD_PREFIX)
            .ok_or(CoreError::Invalid(InvalidInput::NotText(TextForm::SpaceCard)))?;
        // A card with the longest description and certificate stays under 4 KiB.
        if encoded.len() > 8 * 1024 {
            return Err(CoreError::Invalid(InvalidInput::NotText(TextForm::SpaceCard)));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CoreError::Invalid(InvalidInput::NotText(TextForm::SpaceCard)))?;
        let card = Self::from_wire(&bytes)?;
        card.verify()?;
        Ok(card)
    }
}

impl JoinRequest {
    /// Makes a request answering `space_card` with `card`, signed by the device
    /// `signer` (its MLS key `mls`), which the card lists.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when the card does not list that device with that key.
    pub fn sign(
        signer: DeviceId,
        mls: &SigningKey,
        space_card: &SpaceCard,
        card: ContactCard,
        note: JoinNote,
        created_at: UnixSeconds,
    ) -> Result<Self> {
        if !card.lists(&signer, &mls.verifying_key().to_bytes()) {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        let body = JoinRequestBody {
            space: space_card.body.space,
            request_key: space_card.body.request_key,
            card,
            note,
            created_at,
        };
        let signature = SignatureBytes::from_bytes(mls.sign(&labelled(JOIN_REQUEST_LABEL, &body.to_wire())).to_bytes());
        Ok(Self { body, signer, signature })
    }

    /// Checks the contact card, that it lists the signing device, and its signature.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not verify.
    pub fn verify(&self) -> Result<()> {
        self.body.card.verify()?;
        let certificate = self
            .body
            .card
            .body
            .devices
            .iter()
            .find(|c| c.body.device == self.signer)
            .ok_or(CoreError::Verification(Unverified::NotOnRoster))?;
        let key = crate::identity::strict_key(&certificate.body.mls_key)
            .ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        if !crate::identity::verify(&key, JOIN_REQUEST_LABEL, &self.body.to_wire(), &self.signature) {
            return Err(CoreError::Verification(Unverified::Signature(Signed::JoinRequest)));
        }
        Ok(())
    }

    /// A digest naming this request, for the replay cache.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(labelled(JOIN_REQUEST_LABEL, &self.to_wire())).into()
    }

    /// Seals the request to its card's request key.
    ///
    /// # Errors
    /// [`CoreError::Decode`] when it is too long.
    pub fn seal(&self) -> Result<SealedJoinRequest> {
        let plaintext = Zeroizing::new(self.to_wire());
        let sealed = crate::seal::seal_to(
            JOIN_REQUEST_SEAL_LABEL,
            self.body.space.as_bytes(),
            &self.body.request_key,
            &plaintext,
        )?;
        let mut bytes = request_key_id(&self.body.request_key).to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(SealedJoinRequest::new(bytes)?)
    }

    /// Opens a request sealed to `secret` for `space`, and verifies it.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when it does not open, is for another space or key,
    /// or does not verify.
    pub fn open(sealed: &SealedJoinRequest, space: &GroupId, secret: &x25519_dalek::StaticSecret) -> Result<Self> {
        let bytes = sealed.as_bytes();
        let sealed = bytes.get(8..).ok_or(CoreError::Verification(Unverified::DoesNotOpen))?;
        let plaintext =
            crate::seal::open_with(JOIN_REQUEST_SEAL_LABEL, space.as_bytes(), secret, sealed, Unverified::DoesNotOpen)?;
        let request = Self::from_wire(&plaintext)?;
        if &request.body.space != space || request.body.request_key != x25519_dalek::PublicKey::from(secret).to_bytes()
        {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        request.verify()?;
        Ok(request)
    }
}

impl SealedJoinRequest {
    /// The id of the request key it is sealed to.
    pub fn key_id(&self) -> Option<[u8; 8]> {
        self.as_bytes().get(..8)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::identity::{DeviceKeys, IdentityKey, test_certificate};
    use huisclos_protocol::ids::AccountId;
    use rand_core::OsRng;

    fn card_for(policy: Policy) -> (SpaceCard, x25519_dalek::StaticSecret) {
        let identity = IdentityKey::generate();
        let keys = DeviceKeys::generate();
        let issuer = test_certificate(&identity, AccountId::from_bytes([1; 16]), &keys, "phone");
        let secret = x25519_dalek::StaticSecret::random_from_rng(OsRng);
        let body = SpaceCardBody {
            space: GroupId::from_bytes([7; 16]),
            name: SpaceName::new("Legal aid").unwrap(),
            description: SpaceDescription::new("").unwrap(),
            policy,
            issuer,
            request_key: x25519_dalek::PublicKey::from(&secret).to_bytes(),
            issued_at: UnixSeconds::new(1).unwrap(),
        };
        (SpaceCard::issue(body, &keys.mls).unwrap(), secret)
    }

    fn asker() -> (DeviceKeys, ContactCard) {
        let identity = IdentityKey::generate();
        let keys = DeviceKeys::generate();
        let card = ContactCard::issue(
            &identity,
            1,
            vec![test_certificate(&identity, AccountId::from_bytes([1; 16]), &keys, "phone")],
            UnixSeconds::new(1).unwrap(),
            None,
        )
        .unwrap();
        (keys, card)
    }

    #[test]
    fn a_card_round_trips_as_text_and_refuses_tampering_and_confidential_spaces() {
        let (card, _) = card_for(Policy::OnRequest);
        assert_eq!(SpaceCard::from_text(&card.to_text()).unwrap(), card);
        let mut renamed = card.clone();
        renamed.body.name = SpaceName::new("Other").unwrap();
        assert!(renamed.verify().is_err());
        let (open, _) = card_for(Policy::Open);
        assert!(open.verify().is_ok());
        let mut confidential = card.body.clone();
        confidential.policy = Policy::Confidential;
        assert!(matches!(SpaceCard::issue(confidential, &DeviceKeys::generate().mls), Err(CoreError::Forbidden(_))));
        assert!(SpaceCard::from_text("huisclos-space:!!").is_err());
    }

    #[test]
    fn a_request_opens_only_for_its_space_and_key_and_only_with_the_askers_signature() {
        let (card, secret) = card_for(Policy::OnRequest);
        let (keys, contact) = asker();
        let note = JoinNote::new("Lawyer in Beirut").unwrap();
        let at = UnixSeconds::new(2).unwrap();
        let request = JoinRequest::sign(keys.device_id(), &keys.mls, &card, contact.clone(), note, at).unwrap();
        let sealed = request.seal().unwrap();
        assert_eq!(sealed.key_id(), Some(request_key_id(&card.body.request_key)));
        assert_eq!(JoinRequest::open(&sealed, &card.body.space, &secret).unwrap(), request);
        assert!(JoinRequest::open(&sealed, &GroupId::from_bytes([8; 16]), &secret).is_err());
        let stranger = x25519_dalek::StaticSecret::random_from_rng(OsRng);
        assert!(JoinRequest::open(&sealed, &card.body.space, &stranger).is_err());
        let mut flipped = sealed.as_bytes().to_vec();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(JoinRequest::open(&SealedJoinRequest::new(flipped).unwrap(), &card.body.space, &secret).is_err());

        // Someone else cannot ask with this person's card: their device is not on it.
        let (mallory, _) = asker();
        let note = JoinNote::new("").unwrap();
        assert!(JoinRequest::sign(mallory.device_id(), &mallory.mls, &card, contact.clone(), note, at).is_err());
        let mut forged = request.clone();
        forged.signature = SignatureBytes::from_bytes(
            mallory.mls.sign(&labelled(JOIN_REQUEST_LABEL, &forged.body.to_wire())).to_bytes(),
        );
        assert!(JoinRequest::open(&forged.seal().unwrap(), &card.body.space, &secret).is_err());
    }
}
