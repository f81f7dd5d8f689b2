//! Content — posts, comments, reactions, edits, deletions — and how it is sealed.
//!
//! Every item is a [`ContentEnvelope`]: the body, the author's device certificate and a
//! signature by the author device's MLS signature key (the key of its leaf, so the
//! author is the same key MLS authenticates as the sender). On the wire an envelope
//! usually names the certificate by a 16-byte [`CertificateRef`] instead of carrying
//! it ([`ReferringEnvelope`]): the readers hold it already, from an earlier record of
//! the space or the sender's leaf. Envelopes travel:
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
/// The version byte of a sealed record whose envelope carries its author's certificate.
const SEALED_RECORD_VERSION: u8 = 1;
/// The version byte of a sealed record whose envelope refers to its author's
/// certificate by [`CertificateRef`] (the space's readers hold it already).
const SEALED_RECORD_REFERRING_VERSION: u8 = 2;
/// Domain separation for a certificate's reference.
pub const CERTIFICATE_REF_LABEL: &[u8] = b"huisclos/1 certificate-ref";

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

/// A device certificate named by the first 16 bytes of
/// `SHA-256("huisclos/1 certificate-ref" || 0 || certificate)`: what an envelope carries
/// instead of the certificate once the space's readers hold it.
///
/// The reference decides nothing on its own: the signature covers the whole
/// certificate, so a receiver that resolved a reference to another certificate (a
/// collision) finds that the signature does not verify.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CertificateRef([u8; 16]);

impl CertificateRef {
    /// The reference of `certificate`.
    pub fn of(certificate: &DeviceCertificate) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(CERTIFICATE_REF_LABEL)
            .chain_update([0])
            .chain_update(certificate.to_wire())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    /// Wraps reference bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The reference's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for CertificateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificateRef({})", hex::encode(self.0))
    }
}

impl Wire for CertificateRef {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        Ok(Self(reader.take_array("certificate reference")?))
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for CertificateRef {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        proptest::arbitrary::any::<[u8; 16]>().prop_map(Self).boxed()
    }
}

huisclos_protocol::wire_struct!(
    /// A signed item that names its author's certificate by reference instead of
    /// carrying it, and leaves its space out: the same item, and the same signature, as
    /// the [`ContentEnvelope`] with the certificate and the space in place (the
    /// signature covers both). The space is where the reader found it: the group a
    /// sealed record's associated data binds, or the MLS group of the message.
    pub struct ReferringEnvelope {
        /// The item's id.
        pub id: ContentId,
        /// The author's device certificate, by reference.
        pub author: CertificateRef,
        /// When it was written, by the author's clock.
        pub created_at: UnixSeconds,
        /// What it says.
        pub body: ContentBody,
        /// The signature over the envelope with the certificate in place.
        pub signature: SignatureBytes,
    }
);

impl ReferringEnvelope {
    /// The envelope with `certificate` in place of its reference, found in `group`
    /// (not yet verified).
    ///
    /// # Errors
    /// [`CoreError::Verification`] ([`Unverified::UnknownAuthor`]) when `certificate` is
    /// not the one referred to.
    pub fn with_author(self, certificate: DeviceCertificate, group: GroupId) -> Result<ContentEnvelope> {
        if CertificateRef::of(&certificate) != self.author {
            return Err(CoreError::Verification(Unverified::UnknownAuthor));
        }
        let Self { id, author: _, created_at, body, signature } = self;
        Ok(ContentEnvelope { signed: EnvelopeBody { id, group, author: certificate, created_at, body }, signature })
    }
}

/// A sealed record opened: its envelope, which carries its author's certificate or
/// refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenedRecord {
    /// The certificate is in the envelope.
    Carried(ContentEnvelope),
    /// The envelope refers to a certificate the reader should hold; it was found in
    /// `group`.
    Referring {
        /// The envelope.
        envelope: ReferringEnvelope,
        /// The space whose key and associated data it opened under.
        group: GroupId,
    },
}

impl OpenedRecord {
    /// The item's id.
    pub fn id(&self) -> ContentId {
        match self {
            Self::Carried(envelope) => envelope.signed.id,
            Self::Referring { envelope, .. } => envelope.id,
        }
    }

    /// What the item says (not yet verified).
    pub fn body(&self) -> &ContentBody {
        match self {
            Self::Carried(envelope) => &envelope.signed.body,
            Self::Referring { envelope, .. } => &envelope.body,
        }
    }

    /// The whole envelope (not yet verified): the carried one, or the referring one
    /// with the certificate `find` gives for its reference.
    ///
    /// # Errors
    /// [`CoreError::Verification`] ([`Unverified::UnknownAuthor`]) when `find` has no
    /// certificate with that reference.
    pub fn resolve(self, find: impl FnOnce(&CertificateRef) -> Option<DeviceCertificate>) -> Result<ContentEnvelope> {
        match self {
            Self::Carried(envelope) => Ok(envelope),
            Self::Referring { envelope, group } => {
                let certificate = find(&envelope.author).ok_or(CoreError::Verification(Unverified::UnknownAuthor))?;
                envelope.with_author(certificate, group)
            }
        }
    }
}

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

    /// The same item naming its author's certificate by reference, without its space.
    pub fn referring(&self) -> ReferringEnvelope {
        ReferringEnvelope {
            id: self.signed.id,
            author: CertificateRef::of(&self.signed.author),
            created_at: self.signed.created_at,
            body: self.signed.body.clone(),
            signature: self.signature,
        }
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

/// The associated data of a sealed record. A record that refers to its author's
/// certificate binds its version too, so that neither form can be read as the other.
fn seal_aad(group: &GroupId, record: &ContentId, generation: u32, referring: bool) -> Vec<u8> {
    let mut aad = CONTENT_SEAL_LABEL.to_vec();
    aad.extend_from_slice(group.as_bytes());
    aad.extend_from_slice(record.as_bytes());
    aad.extend_from_slice(&generation.to_be_bytes());
    if referring {
        aad.push(SEALED_RECORD_REFERRING_VERSION);
    }
    aad
}

/// The bytes of a content record at the relay: version, history-key generation, nonce,
/// and the envelope sealed with XChaCha20-Poly1305 (associated data: group, record id,
/// generation, and the version for a record that refers to its author's certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// The generation of the history key that sealed it.
    pub generation: u32,
    /// Whether the envelope refers to its author's certificate (version 2) rather
    /// than carrying it (version 1).
    pub referring: bool,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl SealedRecord {
    /// Seals an envelope, with its author's certificate, for the record `record` of
    /// `group`.
    ///
    /// # Errors
    /// Only if encryption fails.
    pub fn seal(key: &HistoryKey, group: &GroupId, record: &ContentId, envelope: &ContentEnvelope) -> Result<Self> {
        Self::seal_bytes(key, group, record, &Zeroizing::new(envelope.to_wire()), false)
    }

    /// Seals an envelope that refers to its author's certificate: for a space whose
    /// store holds, earlier in the same generation, a record carrying it.
    ///
    /// # Errors
    /// Only if encryption fails.
    pub fn seal_referring(
        key: &HistoryKey,
        group: &GroupId,
        record: &ContentId,
        envelope: &ReferringEnvelope,
    ) -> Result<Self> {
        Self::seal_bytes(key, group, record, &Zeroizing::new(envelope.to_wire()), true)
    }

    fn seal_bytes(
        key: &HistoryKey,
        group: &GroupId,
        record: &ContentId,
        plaintext: &[u8],
        referring: bool,
    ) -> Result<Self> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload { msg: plaintext, aad: &seal_aad(group, record, key.generation, referring) },
            )
            .map_err(|_| CoreError::Invalid(InvalidInput::SealingFailed))?;
        Ok(Self { generation: key.generation, referring, nonce, ciphertext })
    }

    /// Opens the record with the matching key and decodes the envelope (not yet
    /// verified; one that refers to its author's certificate is resolved with
    /// [`OpenedRecord::resolve`]).
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the key is not the record's or the bytes were
    /// changed, [`CoreError::Decode`] when the plaintext does not decode.
    pub fn open(&self, key: &HistoryKey, group: &GroupId, record: &ContentId) -> Result<OpenedRecord> {
        if key.generation != self.generation {
            return Err(CoreError::Verification(Unverified::WrongPlace));
        }
        let plaintext = Zeroizing::new(
            key.cipher()
                .decrypt(
                    XNonce::from_slice(&self.nonce),
                    Payload { msg: &self.ciphertext, aad: &seal_aad(group, record, key.generation, self.referring) },
                )
                .map_err(|_| CoreError::Verification(Unverified::DoesNotOpen))?,
        );
        Ok(if self.referring {
            OpenedRecord::Referring { envelope: ReferringEnvelope::from_wire(&plaintext)?, group: *group }
        } else {
            OpenedRecord::Carried(ContentEnvelope::from_wire(&plaintext)?)
        })
    }

    /// The record's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 5 + 24 + self.ciphertext.len());
        out.push(if self.referring { SEALED_RECORD_REFERRING_VERSION } else { SEALED_RECORD_VERSION });
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
        let referring = match reader.take_u8("sealed record version")? {
            SEALED_RECORD_VERSION => false,
            SEALED_RECORD_REFERRING_VERSION => true,
            _ => return Err(CoreError::Invalid(InvalidInput::SealedRecordMalformed)),
        };
        let generation = u32::try_from(reader.take_varint("history generation")?)
            .map_err(|_| CoreError::Invalid(InvalidInput::SealedRecordMalformed))?;
        let nonce = reader.take_array("nonce")?;
        let rest = reader.take(reader.remaining(), "ciphertext")?;
        if rest.len() < 16 {
            return Err(CoreError::Invalid(InvalidInput::SealedRecordMalformed));
        }
        Ok(Self { generation, referring, nonce, ciphertext: rest.to_vec() })
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
        /// An item, in a space with `history: none`, that refers to its author's
        /// certificate: the one on the MLS sender's leaf.
        0x05 => ContentFromSender(ReferringEnvelope),
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
        let opened = parsed.open(&key, &group, &record).unwrap().resolve(|_| None).unwrap();
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
    fn a_record_referring_to_its_authors_certificate_opens_with_that_certificate_only() {
        let group = GroupId::from_bytes([1; 16]);
        let (envelope, _) = envelope(group);
        let key = HistoryKey::generate(0);
        let record = envelope.signed.id;
        let carried = SealedRecord::seal(&key, &group, &record, &envelope).unwrap().to_bytes();
        let referring = SealedRecord::seal_referring(&key, &group, &record, &envelope.referring()).unwrap().to_bytes();
        assert_eq!(referring[0], 2);
        assert!(
            referring.len() + 120 < carried.len(),
            "the reference saves the certificate: {} against {}",
            referring.len(),
            carried.len()
        );
        let opened = SealedRecord::from_bytes(&referring).unwrap().open(&key, &group, &record).unwrap();
        assert!(matches!(opened, OpenedRecord::Referring { .. }));
        assert_eq!(opened.id(), record);
        // Resolved with its certificate, it is the same item under the same signature.
        let certificate = envelope.signed.author.clone();
        let resolved =
            opened.clone().resolve(|r| (*r == CertificateRef::of(&certificate)).then(|| certificate.clone())).unwrap();
        assert_eq!(resolved, envelope);
        resolved.verify(&group).unwrap();
        // Unknown, or resolved to another certificate: refused.
        let unknown = opened.clone().resolve(|_| None).unwrap_err();
        assert!(matches!(unknown, CoreError::Verification(Unverified::UnknownAuthor)));
        let (other, _) = author();
        assert!(opened.resolve(|_| Some(other)).is_err());
        // The version is bound: a record relabelled as the other form does not open.
        for (bytes, version) in [(&referring, 1u8), (&carried, 2u8)] {
            let mut relabelled = bytes.clone();
            relabelled[0] = version;
            assert!(SealedRecord::from_bytes(&relabelled).unwrap().open(&key, &group, &record).is_err());
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
