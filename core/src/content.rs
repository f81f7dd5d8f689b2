//! Content — posts, comments, reactions, edits, deletions — and how it is sealed.
//!
//! Every item is a [`ContentEnvelope`]: the body, the author's device certificate and a
//! signature by the author device's MLS signature key (the key of its leaf, so the
//! author is the same key MLS authenticates as the sender). Envelopes travel:
//!
//! - in spaces that keep history, sealed under the space's [`HistoryKey`] as a
//!   [`SealedRecord`] in the relay's content store, where later members read them;
//! - in spaces with `history: none`, inside MLS application messages only.
//!
//! History keys travel inside MLS application messages ([`AppPayload::HistoryKeys`]):
//! the adder sends every generation right after adding someone, and whoever removes a
//! member sends a fresh generation right after the commit, so the removed member cannot
//! read what comes next.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signature, Signer, SigningKey};
use huisclos_protocol::codec::{BoundedVec, Reader, Wire, put_varint};
use huisclos_protocol::ids::{ContentId, GroupId, UnixSeconds};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::error::{CoreError, InvalidInput, Result, Signed, Unverified};
use crate::identity::{DeviceCertificate, SignatureBytes};
use crate::space::bounded_text;

/// Domain separation for content signatures.
pub const CONTENT_SIGNATURE_LABEL: &[u8] = b"huisclos/1 content";
/// Domain separation for the associated data of sealed records.
pub const CONTENT_SEAL_LABEL: &[u8] = b"huisclos/1 sealed-record";
/// The most bytes of text in a post or comment.
pub const MAX_TEXT_LEN: usize = 64 * 1024;
/// The most bytes in a reaction (one emoji sequence).
pub const MAX_REACTION_LEN: usize = 32;
/// The most history-key generations a space may have.
pub const MAX_HISTORY_GENERATIONS: usize = crate::history::MAX_HISTORY_GENERATIONS;
/// What sealing adds to an item, at most: version, generation, nonce and tag (and, in
/// an MLS message instead, room for its framing and the application payload's tag).
pub const SEALED_RECORD_OVERHEAD: usize = 1 + 5 + 24 + 16 + 1024;
/// The version byte of a sealed record.
const SEALED_RECORD_VERSION: u8 = 1;

bounded_text!(
    /// The text of a post or comment (markdown).
    Text, MAX_TEXT_LEN, Text = "text", allow_empty = false
);
bounded_text!(
    /// A reaction, such as an emoji.
    Reaction, MAX_REACTION_LEN, Reaction = "reaction", allow_empty = false
);

huisclos_protocol::wire_struct!(
    /// A news post.
    pub struct Post {
        /// The text.
        pub text: Text,
    }
);

huisclos_protocol::wire_struct!(
    /// A comment under a post, or under another comment.
    pub struct Comment {
        /// The post or comment answered.
        pub parent: ContentId,
        /// The text.
        pub text: Text,
    }
);

huisclos_protocol::wire_struct!(
    /// A reaction to an item, or its withdrawal.
    pub struct React {
        /// The item.
        pub target: ContentId,
        /// The reaction.
        pub reaction: Reaction,
        /// `true` to add it, `false` to take it back.
        pub on: bool,
    }
);

huisclos_protocol::wire_struct!(
    /// A new text for an item.
    pub struct Edit {
        /// The post or comment.
        pub target: ContentId,
        /// The new text.
        pub text: Text,
    }
);

huisclos_protocol::wire_struct!(
    /// The deletion of an item.
    pub struct Delete {
        /// The post or comment.
        pub target: ContentId,
    }
);

huisclos_protocol::wire_struct!(
    /// The mark a device leaves in the content store right after its commit starts a
    /// history generation: records of earlier generations stored after it are refused
    /// (never shown to people).
    pub struct GenerationMarker {
        /// The generation started; the same as the record's.
        pub generation: u32,
    }
);

huisclos_protocol::bounded_bytes!(
    /// A batch of edits to a note: a Yjs update in lib0's version-1 encoding, whose
    /// inserted items all carry its author's client id ([`crate::note`]).
    pub struct NoteUpdateBytes(max = crate::note::MAX_UPDATE_LEN, what = "note update");
);

huisclos_protocol::wire_struct!(
    /// Edits to a note, merged by every device into the note's shared document.
    pub struct NoteEdit {
        /// The note.
        pub note: crate::library::NodeId,
        /// The edits.
        pub update: NoteUpdateBytes,
    }
);

/// The most bytes of a note's text a named version keeps (whole, so that it fits one
/// record with its envelope).
pub const MAX_VERSION_TEXT_LEN: usize = 192 * 1024;
/// The most bytes in a version's name.
pub const MAX_VERSION_NAME_LEN: usize = 200;

bounded_text!(
    /// The name someone gives a version of a note ("Before the hearing").
    VersionName, MAX_VERSION_NAME_LEN, NodeName = "version name", allow_empty = false
);

huisclos_protocol::bounded_bytes!(
    /// A note's text as it was when a version was named (UTF-8, checked on receipt).
    pub struct NoteVersionText(max = MAX_VERSION_TEXT_LEN, what = "note version text");
);

huisclos_protocol::wire_struct!(
    /// A named version of a note: its text as the author's device held it then. Seen
    /// by every member, and restored as a new edit.
    pub struct NoteVersion {
        /// The note.
        pub note: crate::library::NodeId,
        /// The name.
        pub name: VersionName,
        /// The text (Markdown).
        pub text: NoteVersionText,
    }
);

huisclos_protocol::bounded_bytes!(
    /// A small JPEG of a file's picture ([`crate::media::make_preview`]).
    pub struct PreviewImage(max = crate::media::MAX_PREVIEW_LEN, what = "file preview");
);

huisclos_protocol::wire_struct!(
    /// A preview of one version of a file (an image's picture, small), sent by the
    /// version's author right after it, so that members see it without downloading
    /// the file.
    pub struct FilePreview {
        /// The file.
        pub node: crate::library::NodeId,
        /// The version: the id of the record that added it.
        pub version: ContentId,
        /// The preview (a baseline JPEG without metadata).
        pub image: PreviewImage,
    }
);

huisclos_protocol::wire_enum!(
    /// What an item says.
    pub enum ContentBody(what = "content body") {
        /// A post.
        0x01 => Post(Post),
        /// A comment.
        0x02 => Comment(Comment),
        /// A reaction.
        0x03 => React(React),
        /// An edit.
        0x04 => Edit(Edit),
        /// A deletion.
        0x05 => Delete(Delete),
        /// A change to the space's library.
        0x06 => Library(crate::library::LibraryOp),
        /// The start of a history generation (not shown).
        0x07 => Marker(GenerationMarker),
        /// Edits to a note.
        0x08 => NoteEdit(NoteEdit),
        /// A named version of a note.
        0x09 => NoteVersion(NoteVersion),
        /// A preview of a file's version.
        0x0A => FilePreview(FilePreview),
    }
);

huisclos_protocol::wire_struct!(
    /// What an author signs.
    pub struct EnvelopeBody {
        /// The item's id, chosen at random by the author; de-duplicates resends.
        pub id: ContentId,
        /// The space, so an item cannot be replayed into another space.
        pub group: GroupId,
        /// The author's device certificate.
        pub author: DeviceCertificate,
        /// When it was written, by the author's clock.
        pub created_at: UnixSeconds,
        /// What it says.
        pub body: ContentBody,
    }
);

huisclos_protocol::wire_struct!(
    /// A signed item.
    pub struct ContentEnvelope {
        /// The signed part.
        pub signed: EnvelopeBody,
        /// The author device's MLS signature key's signature over
        /// [`CONTENT_SIGNATURE_LABEL`] and `signed`.
        pub signature: SignatureBytes,
    }
);

fn labelled(body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(CONTENT_SIGNATURE_LABEL.len() + 1 + body.len());
    message.extend_from_slice(CONTENT_SIGNATURE_LABEL);
    message.push(0);
    message.extend_from_slice(body);
    message
}

impl ContentEnvelope {
    /// Signs an item with the author device's MLS signature key.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when `mls_key` is not the certificate's key.
    pub fn sign(signed: EnvelopeBody, mls_key: &SigningKey) -> Result<Self> {
        if mls_key.verifying_key().to_bytes() != signed.author.body.mls_key {
            return Err(CoreError::Invalid(InvalidInput::OwnSignerMismatch));
        }
        let signature = SignatureBytes::from_bytes(mls_key.sign(&labelled(&signed.to_wire())).to_bytes());
        Ok(Self { signed, signature })
    }

    /// Checks the certificate and the signature, and that the item belongs to `group`.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when anything does not hold.
    pub fn verify(&self, group: &GroupId) -> Result<()> {
        if &self.signed.group != group {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        self.signed.author.verify()?;
        let key = crate::identity::strict_key(&self.signed.author.body.mls_key)
            .ok_or(CoreError::Verification(Unverified::InvalidKey))?;
        if key.is_weak() {
            return Err(CoreError::Verification(Unverified::InvalidKey));
        }
        key.verify_strict(&labelled(&self.signed.to_wire()), &Signature::from_bytes(self.signature.as_bytes()))
            .map_err(|_| CoreError::Verification(Unverified::Signature(Signed::Content)))
    }
}

/// One generation of a space's history key. Zeroized on drop; `Debug` shows the
/// generation only.
#[derive(Clone, zeroize::ZeroizeOnDrop, PartialEq, Eq)]
pub struct HistoryKey {
    #[zeroize(skip)]
    generation: u32,
    key: [u8; 32],
}

impl HistoryKey {
    /// A fresh random key of `generation`.
    pub fn generate(generation: u32) -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self { generation, key }
    }

    /// Rebuilds a key from the encrypted store.
    pub fn from_parts(generation: u32, key: [u8; 32]) -> Self {
        Self { generation, key }
    }

    /// The key bytes, for the encrypted store only.
    pub fn expose_for_storage(&self) -> [u8; 32] {
        self.key
    }

    /// The generation: 0 for the space's first key, one more at each rotation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }
}

impl std::fmt::Debug for HistoryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HistoryKey(generation {})", self.generation)
    }
}

impl Wire for HistoryKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.generation.encode(out);
        out.extend_from_slice(&self.key);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self { generation: u32::decode(reader)?, key: reader.take_array("history key")? })
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for HistoryKey {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        (0..8u32, proptest::arbitrary::any::<[u8; 32]>()).prop_map(|(generation, key)| Self { generation, key }).boxed()
    }
}

fn seal_aad(group: &GroupId, record: &ContentId, generation: u32) -> Vec<u8> {
    let mut aad = CONTENT_SEAL_LABEL.to_vec();
    aad.extend_from_slice(group.as_bytes());
    aad.extend_from_slice(record.as_bytes());
    aad.extend_from_slice(&generation.to_be_bytes());
    aad
}

/// The bytes of a content record at the relay: version, history-key generation, nonce,
/// and the envelope sealed with XChaCha20-Poly1305 (associated data: group, record id,
/// generation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// The generation of the history key that sealed it.
    pub generation: u32,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl SealedRecord {
    /// Seals an envelope for the record `record` of `group`.
    ///
    /// # Errors
    /// Only if encryption fails.
    pub fn seal(key: &HistoryKey, group: &GroupId, record: &ContentId, envelope: &ContentEnvelope) -> Result<Self> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let plaintext = Zeroizing::new(envelope.to_wire());
        let ciphertext = key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload { msg: &plaintext, aad: &seal_aad(group, record, key.generation) },
            )
            .map_err(|_| CoreError::Invalid(InvalidInput::SealingFailed))?;
        Ok(Self { generation: key.generation, nonce, ciphertext })
    }

    /// Opens the record with the matching key and decodes the envelope (not yet
    /// verified).
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the key is not the record's or the bytes were
    /// changed, [`CoreError::Decode`] when the plaintext does not decode.
    pub fn open(&self, key: &HistoryKey, group: &GroupId, record: &ContentId) -> Result<ContentEnvelope> {
        if key.generation != self.generation {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        let plaintext = Zeroizing::new(
            key.cipher()
                .decrypt(
                    XNonce::from_slice(&self.nonce),
                    Payload { msg: &self.ciphertext, aad: &seal_aad(group, record, key.generation) },
                )
                .map_err(|_| CoreError::Verification(Unverified::DoesNotOpen))?,
        );
        Ok(ContentEnvelope::from_wire(&plaintext)?)
    }

    /// The record's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 5 + 24 + self.ciphertext.len());
        out.push(SEALED_RECORD_VERSION);
        put_varint(&mut out, u64::from(self.generation));
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses a record's bytes (bounded by the protocol's record size).
    ///
    /// # Errors
    /// [`CoreError::Decode`] or [`CoreError::Invalid`] when malformed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(bytes);
        if reader.take_u8("sealed record version")? != SEALED_RECORD_VERSION {
            return Err(CoreError::Invalid(InvalidInput::SealedRecordMalformed));
        }
        let generation = u32::try_from(reader.take_varint("history generation")?)
            .map_err(|_| CoreError::Invalid(InvalidInput::SealedRecordMalformed))?;
        let nonce = reader.take_array("nonce")?;
        let rest = reader.take(reader.remaining(), "ciphertext")?;
        if rest.len() < 16 {
            return Err(CoreError::Invalid(InvalidInput::SealedRecordMalformed));
        }
        Ok(Self { generation, nonce, ciphertext: rest.to_vec() })
    }
}

huisclos_protocol::wire_struct!(
    /// History-key generations handed to members.
    pub struct HistoryKeys {
        /// The generations, oldest first.
        pub keys: BoundedVec<HistoryKey, MAX_HISTORY_GENERATIONS>,
    }
);

huisclos_protocol::wire_enum!(
    /// What an MLS application message of a space carries.
    pub enum AppPayload(what = "application payload") {
        /// History keys chosen by a member, as release 0.1 sent them: refused in every
        /// space since (keys are derived from the MLS epoch), kept only so that such a
        /// message is recognised and reported.
        0x01 => HistoryKeys(HistoryKeys),
        /// An item, in a space with `history: none`.
        0x02 => Content(ContentEnvelope),
        /// The history a new member needs, from the member who added it.
        0x03 => HistoryGrant(crate::history::HistoryGrant),
        /// A person's newest device roster (their contact card): members refuse every
        /// device it does not list.
        0x04 => Roster(crate::identity::ContactCard),
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{CertificateBody, DeviceKeys, DisplayName, IdentityKey};
    use huisclos_protocol::ids::AccountId;

    fn author() -> (DeviceCertificate, DeviceKeys) {
        let identity = IdentityKey::generate();
        let keys = DeviceKeys::generate();
        let certificate = DeviceCertificate::issue(
            &identity,
            CertificateBody {
                identity: identity.public(),
                account: AccountId::from_bytes([1; 16]),
                device: keys.device_id(),
                mls_key: keys.mls_public(),
                name: DisplayName::new("Nour").unwrap(),
                created_at: UnixSeconds::new(5).unwrap(),
            },
        )
        .unwrap();
        (certificate, keys)
    }

    fn envelope(group: GroupId) -> (ContentEnvelope, DeviceKeys) {
        let (certificate, keys) = author();
        let signed = EnvelopeBody {
            id: ContentId::from_bytes([3; 16]),
            group,
            author: certificate,
            created_at: UnixSeconds::new(9).unwrap(),
            body: ContentBody::Post(Post { text: Text::new("Hearing moved to Thursday").unwrap() }),
        };
        (ContentEnvelope::sign(signed, &keys.mls).unwrap(), keys)
    }

    #[test]
    fn sealed_records_open_only_with_their_key_group_and_id() {
        let group = GroupId::from_bytes([1; 16]);
        let (envelope, _) = envelope(group);
        let key = HistoryKey::generate(0);
        let record = ContentId::from_bytes([3; 16]);
        let sealed = SealedRecord::seal(&key, &group, &record, &envelope).unwrap();
        let bytes = sealed.to_bytes();
        assert!(!bytes.windows(9).any(|w| w == b"Thursday"), "plaintext must not show");
        let parsed = SealedRecord::from_bytes(&bytes).unwrap();
        let opened = parsed.open(&key, &group, &record).unwrap();
        assert_eq!(opened, envelope);
        opened.verify(&group).unwrap();

        assert!(parsed.open(&HistoryKey::generate(0), &group, &record).is_err());
        assert!(parsed.open(&key, &GroupId::from_bytes([2; 16]), &record).is_err());
        assert!(parsed.open(&key, &group, &ContentId::from_bytes([4; 16])).is_err());
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x80;
            let opened = SealedRecord::from_bytes(&flipped).and_then(|r| r.open(&key, &group, &record));
            assert!(opened.is_err(), "byte {i}");
        }
    }

    #[test]
    fn envelopes_refuse_other_spaces_and_other_signers() {
        let group = GroupId::from_bytes([1; 16]);
        let (envelope, _) = envelope(group);
        assert!(envelope.verify(&GroupId::from_bytes([9; 16])).is_err());
        let (_, other) = author();
        assert!(ContentEnvelope::sign(envelope.signed.clone(), &other.mls).is_err());
        let mut changed = envelope.clone();
        changed.signed.created_at = UnixSeconds::new(10).unwrap();
        assert!(changed.verify(&group).is_err());
    }
}
