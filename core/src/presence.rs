//! Presence: who is in which note of a space right now, and where their cursor is.
//! Sans-IO: this module makes, seals, opens and checks the short-lived messages; the
//! engine sends them as relay signals (`protocol-spec/messages.md` 8.4), which the relay
//! forwards to the space's other watching devices and never stores.
//!
//! A presence message says everything a device shows in one space: the note it has open
//! (or none: it left) and its selection there, as two [`NoteAnchor`]s that follow the
//! text through others' edits. It is signed by the device's MLS signature key (the key
//! of its leaf, as content is) and sealed under the space's **current** history key, so
//! the relay reads nothing of it, and a member removed since the key rotated can neither
//! read nor send presence. A receiver takes it only from a device that is a member of
//! the group now and whose person's roster lists it; the relay may drop, delay or replay
//! messages, which receivers bound by the sender's sequence number (strictly increasing)
//! and by time ([`MAX_PRESENCE_SKEW_SECS`]). A peer not heard from for
//! [`PRESENCE_TTL_SECS`] is gone; devices repeat their presence every
//! [`PRESENCE_HEARTBEAT_SECS`] while a note is open.
//!
//! Presence is never written to the local store either: it is what is true now.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey};
use huisclos_protocol::codec::{Reader, Wire, put_varint};
use huisclos_protocol::ids::{GroupId, UnixSeconds};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::content::HistoryKey;
use crate::error::{CoreError, InvalidInput, Result, Signed, Unverified};
use crate::identity::SignatureBytes;
use crate::library::NodeId;
use crate::note::NoteAnchor;

/// Domain separation for presence signatures.
pub const PRESENCE_SIGNATURE_LABEL: &[u8] = b"huisclos/1 presence";
/// Domain separation for the associated data of sealed presence (never confused with
/// a sealed content record, whose label differs).
pub const PRESENCE_SEAL_LABEL: &[u8] = b"huisclos/1 sealed-presence";
/// The version byte of sealed presence.
const SEALED_PRESENCE_VERSION: u8 = 1;
/// Every sealed message's plaintext is padded to this many bytes (a 2-byte length,
/// the signed message, zeros), so that its size does not tell the relay whether a
/// note is open, a selection shown, or a caret at the end.
pub const PRESENCE_PADDED_LEN: usize = 256;
/// A peer not heard from for this long has left.
pub const PRESENCE_TTL_SECS: u64 = 45;
/// How often a device with a note open repeats its presence.
pub const PRESENCE_HEARTBEAT_SECS: u64 = 15;
/// The least time between two presence messages of one device in one space, in
/// seconds: a cursor that moves faster is sent as it is at the end of each interval.
pub const PRESENCE_INTERVAL_SECS: u64 = 1;
/// How far a message's time may be from the receiver's clock.
pub const MAX_PRESENCE_SKEW_SECS: u64 = 120;

/// A device's sequence number for its presence messages: its clock in milliseconds
/// when it sent, raised past the previous one if the clock went back. Receivers take a
/// message only if its number is above the last one they took from that device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PresenceSeq(pub u64);

impl Wire for PresenceSeq {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self(reader.take_varint("presence sequence")?))
    }
}

huisclos_protocol::wire_struct!(
    /// A selection in a note: from `anchor` (where it started) to `head` (where the
    /// caret is); the same anchor twice is a caret.
    pub struct NoteCursor {
        /// Where the selection started.
        pub anchor: NoteAnchor,
        /// Where the caret is.
        pub head: NoteAnchor,
    }
);

huisclos_protocol::wire_struct!(
    /// What a device shows of itself in one space, signed.
    pub struct PresenceBody {
        /// The space, so a message cannot be replayed into another.
        pub group: GroupId,
        /// The sending device's MLS signature key (its leaf's): who it is, receivers
        /// learn from the group's members.
        pub mls_key: [u8; 32],
        /// Strictly increasing per device.
        pub sequence: PresenceSeq,
        /// When it was sent, by the sender's clock.
        pub sent_at: UnixSeconds,
        /// The note open on the device; `None`: it left the notes of this space.
        pub note: Option<NodeId>,
        /// Its selection in that note, if it shows one.
        pub cursor: Option<NoteCursor>,
    }
);

huisclos_protocol::wire_struct!(
    /// A presence message and its signature.
    pub struct SignedPresence {
        /// The signed part.
        pub body: PresenceBody,
        /// The MLS signature key's signature over [`PRESENCE_SIGNATURE_LABEL`] and `body`.
        pub signature: SignatureBytes,
    }
);

fn seal_aad(group: &GroupId, generation: u32) -> Vec<u8> {
    let mut aad = PRESENCE_SEAL_LABEL.to_vec();
    aad.extend_from_slice(group.as_bytes());
    aad.extend_from_slice(&generation.to_be_bytes());
    aad
}

impl SignedPresence {
    /// Signs `body` with the device's MLS signature key.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when `mls_key` is not the key the body names.
    pub fn sign(body: PresenceBody, mls_key: &SigningKey) -> Result<Self> {
        if mls_key.verifying_key().to_bytes() != body.mls_key {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        let signed = crate::identity::labelled(PRESENCE_SIGNATURE_LABEL, &body.to_wire());
        let signature = SignatureBytes::from_bytes(mls_key.sign(&signed).to_bytes());
        Ok(Self { body, signature })
    }

    /// Checks the signature and that the message belongs to `group`.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when either does not hold.
    pub fn verify(&self, group: &GroupId) -> Result<()> {
        if &self.body.group != group {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        let key =
            crate::identity::strict_key(&self.body.mls_key).ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        if !crate::identity::verify(&key, PRESENCE_SIGNATURE_LABEL, &self.body.to_wire(), &self.signature) {
            return Err(CoreError::Verification(Unverified::Signature(Signed::Presence)));
        }
        Ok(())
    }

    /// Seals the message under `key` for `group`: version, generation, nonce, and the
    /// message encrypted with XChaCha20-Poly1305 (associated data: label, group,
    /// generation).
    ///
    /// # Errors
    /// Only if encryption fails.
    pub fn seal(&self, key: &HistoryKey, group: &GroupId) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        self.seal_with_nonce(key, group, nonce)
    }

    /// [`SignedPresence::seal`] with a given nonce, for known-answer vectors only: a
    /// nonce must never be used twice under one key.
    ///
    /// # Errors
    /// Only if encryption fails.
    pub fn seal_with_nonce(&self, key: &HistoryKey, group: &GroupId, nonce: [u8; 24]) -> Result<Vec<u8>> {
        let message = Zeroizing::new(self.to_wire());
        // The largest message is about 190 bytes; more would be a bug here.
        let len = u16::try_from(message.len())
            .ok()
            .filter(|len| usize::from(*len) + 2 <= PRESENCE_PADDED_LEN)
            .ok_or(CoreError::Invalid(InvalidInput::SealingFailed))?;
        let mut plaintext = Zeroizing::new(Vec::with_capacity(PRESENCE_PADDED_LEN));
        plaintext.extend_from_slice(&len.to_be_bytes());
        plaintext.extend_from_slice(&message);
        plaintext.resize(PRESENCE_PADDED_LEN, 0);
        let ciphertext = XChaCha20Poly1305::new((&key.expose_for_storage()).into())
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &seal_aad(group, key.generation()) })
            .map_err(|_| CoreError::Invalid(InvalidInput::SealingFailed))?;
        let mut out = Vec::with_capacity(1 + 5 + 24 + ciphertext.len());
        out.push(SEALED_PRESENCE_VERSION);
        put_varint(&mut out, u64::from(key.generation()));
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// The generation a sealed message says it was sealed under.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] or [`CoreError::Decode`] when malformed.
    pub fn sealed_generation(sealed: &[u8]) -> Result<u32> {
        let mut reader = Reader::new(sealed);
        if reader.take_u8("sealed presence version")? != SEALED_PRESENCE_VERSION {
            return Err(CoreError::Invalid(InvalidInput::SealedRecordMalformed));
        }
        u32::try_from(reader.take_varint("history generation")?)
            .map_err(|_| CoreError::Invalid(InvalidInput::SealedRecordMalformed))
    }

    /// Opens a sealed message with `key` (of the generation it names) and decodes it
    /// (not yet verified).
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the key is not the message's or the bytes were
    /// changed; [`CoreError::Decode`] or [`CoreError::Invalid`] when malformed.
    pub fn open(sealed: &[u8], key: &HistoryKey, group: &GroupId) -> Result<Self> {
        let mut reader = Reader::new(sealed);
        if reader.take_u8("sealed presence version")? != SEALED_PRESENCE_VERSION {
            return Err(CoreError::Invalid(InvalidInput::SealedRecordMalformed));
        }
        let generation = u32::try_from(reader.take_varint("history generation")?)
            .map_err(|_| CoreError::Invalid(InvalidInput::SealedRecordMalformed))?;
        if generation != key.generation() {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        let nonce: [u8; 24] = reader.take_array("nonce")?;
        let ciphertext = reader.take(reader.remaining(), "ciphertext")?;
        let plaintext = Zeroizing::new(
            XChaCha20Poly1305::new((&key.expose_for_storage()).into())
                .decrypt(XNonce::from_slice(&nonce), Payload { msg: ciphertext, aad: &seal_aad(group, generation) })
                .map_err(|_| CoreError::Verification(Unverified::DoesNotOpen))?,
        );
        let malformed = || CoreError::Verification(Unverified::Malformed);
        if plaintext.len() != PRESENCE_PADDED_LEN {
            return Err(malformed());
        }
        let len = usize::from(u16::from_be_bytes([plaintext[0], plaintext[1]]));
        let message = plaintext.get(2..2 + len).ok_or_else(malformed)?;
        if plaintext[2 + len..].iter().any(|&byte| byte != 0) {
            return Err(malformed());
        }
        Ok(Self::from_wire(message)?)
    }
}

/// Whether a message sent at `sent_at` (the sender's clock) is fresh at `now` (the
/// receiver's), both in seconds.
pub fn is_fresh(sent_at: u64, now: u64) -> bool {
    sent_at.abs_diff(now) <= MAX_PRESENCE_SKEW_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn body(group: GroupId, signer: &SigningKey) -> PresenceBody {
        PresenceBody {
            group,
            mls_key: signer.verifying_key().to_bytes(),
            sequence: PresenceSeq(1_764_400_000_000),
            sent_at: UnixSeconds::new(1_764_400_000).unwrap(),
            note: Some(NodeId::from_bytes([5; 16])),
            cursor: Some(NoteCursor { anchor: NoteAnchor::Before { client: 77, clock: 3 }, head: NoteAnchor::End }),
        }
    }

    #[test]
    fn presence_opens_only_with_its_key_in_its_group_and_verifies_only_unchanged() {
        let group = GroupId::from_bytes([1; 16]);
        let signer = key(9);
        let history = HistoryKey::from_parts(2, [0x42; 32]);
        let signed = SignedPresence::sign(body(group, &signer), &signer).unwrap();
        let sealed = signed.seal(&history, &group).unwrap();
        assert!(sealed.len() < huisclos_protocol::limits::MAX_SIGNAL_LEN);
        // Every message seals to one size, whatever it shows.
        let mut left = body(group, &signer);
        (left.note, left.cursor) = (None, None);
        let left = SignedPresence::sign(left, &signer).unwrap().seal(&history, &group).unwrap();
        assert_eq!(left.len(), sealed.len());
        assert_eq!(SignedPresence::sealed_generation(&sealed).unwrap(), 2);
        let opened = SignedPresence::open(&sealed, &history, &group).unwrap();
        assert_eq!(opened, signed);
        opened.verify(&group).unwrap();
        // Another group, another key, another generation, a flipped byte: refused.
        let other = GroupId::from_bytes([2; 16]);
        assert!(SignedPresence::open(&sealed, &history, &other).is_err());
        assert!(SignedPresence::open(&sealed, &HistoryKey::from_parts(2, [0x43; 32]), &group).is_err());
        assert!(SignedPresence::open(&sealed, &HistoryKey::from_parts(3, [0x42; 32]), &group).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(SignedPresence::open(&flipped, &history, &group).is_err());
        assert!(opened.verify(&other).is_err());
        // Signed by one key, claiming another: refused.
        let mut forged = signed.clone();
        forged.body.mls_key = key(10).verifying_key().to_bytes();
        assert!(forged.verify(&group).is_err());
        assert!(SignedPresence::sign(forged.body, &signer).is_err());
        // A sealed content record's bytes never open as presence (other label).
        assert!(SignedPresence::open(&sealed[..10], &history, &group).is_err());
    }

    #[test]
    fn freshness_is_bounded_both_ways() {
        assert!(is_fresh(1000, 1000 + MAX_PRESENCE_SKEW_SECS));
        assert!(is_fresh(1000 + MAX_PRESENCE_SKEW_SECS, 1000));
        assert!(!is_fresh(1000, 1001 + MAX_PRESENCE_SKEW_SECS));
    }
}
