//! openmls's storage provider over the [`Vault`], so every piece of MLS state (trees,
//! epoch secrets, signature and HPKE private keys, key packages) is sealed at rest.
//!
//! Each openmls label is a vault namespace and each key is the CBOR of openmls's key
//! type; the vault hashes it, so the files do not show group ids or public keys. Values
//! are CBOR too, except the two that grow with the group: the secret tree is postcard
//! (see `MlsStorage::write_compact`), and the ratchet tree is postcard stored in
//! pieces, of which a commit rewrites only those that changed (see
//! `MlsStorage::write_in_pieces`). Writes land in the vault's overlay and become
//! durable with the engine's next [`Vault::commit`], together with the application
//! state of the same step.

use std::sync::Arc;

use openmls_traits::storage::{CURRENT_VERSION, Entity, StorageProvider, traits};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::{CoreError, DamageKind, Result, StoredRecord};
use crate::vault::Vault;

const V: u16 = CURRENT_VERSION;

/// The vault seen as openmls's storage.
#[derive(Debug, Clone)]
pub struct MlsStorage {
    vault: Arc<Vault>,
}

fn namespace(label: &str) -> String {
    format!("mls/{label}")
}

/// Every MLS key and value is stored as CBOR: binary, and self-describing as openmls's
/// serde types need (some are read back through `deserialize_any`, which postcard
/// cannot do). A ratchet tree of 10,000 leaves is megabytes; JSON, which writes each
/// byte as a decimal number, made every commit several times slower to store and load.
fn encode(value: &impl Serialize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|_| CoreError::Store(crate::error::StoreFailure::Encoding))?;
    Ok(out)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    ciborium::from_reader(bytes).map_err(|_| CoreError::damaged(StoredRecord::MlsState, DamageKind::DoesNotDecode))
}

/// How a value stored in pieces is cut: small enough that a commit rewrites little,
/// large enough that the manifest stays small (32 bytes per piece).
const PIECE_LEN: usize = 16 * 1024;

/// Marks a manifest (`magic || length u64 || SHA-256 of each piece`). A CBOR value,
/// as older profiles stored, never starts with it.
const MANIFEST_MAGIC: &[u8; 4] = b"HCp1";

/// The pieces of a value stored in pieces, in order.
struct Manifest {
    len: usize,
    digests: Vec<[u8; 32]>,
}

fn pieces_namespace(label: &str) -> String {
    format!("mls/{label}/pieces")
}

fn piece_key(base: &[u8], index: usize) -> Vec<u8> {
    let mut key = base.to_vec();
    key.push(0xff);
    key.extend_from_slice(&(index as u64).to_be_bytes());
    key
}

fn key_bytes(key: &impl Serialize) -> Result<Vec<u8>> {
    encode(key)
}

impl MlsStorage {
    /// Wraps the vault.
    pub fn new(vault: Arc<Vault>) -> Self {
        Self { vault }
    }

    /// The vault underneath.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    fn write(&self, label: &str, key: &impl Serialize, value: &impl Serialize) -> Result<()> {
        let value = zeroize::Zeroizing::new(encode(value)?);
        self.vault.put(&namespace(label), &key_bytes(key)?, &value)
    }

    fn read<T: Entity<V>>(&self, label: &str, key: &impl Serialize) -> Result<Option<T>> {
        match self.vault.get(&namespace(label), &key_bytes(key)?)? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some),
        }
    }

    /// Writes `value` as postcard: every byte of a key or signature is one byte, where
    /// CBOR, seeing openmls's byte strings as sequences of numbers, writes an item per
    /// byte. Used for the values that grow with the group and are rewritten at every
    /// merge (at 10,000 leaves the tree is megabytes); postcard is not self-describing,
    /// which these two types do not need, but some smaller openmls types do.
    fn write_compact(&self, label: &str, key: &impl Serialize, value: &impl Serialize) -> Result<()> {
        let value = zeroize::Zeroizing::new(
            postcard::to_allocvec(value).map_err(|_| CoreError::Store(crate::error::StoreFailure::Encoding))?,
        );
        self.vault.put(&namespace(label), &key_bytes(key)?, &value)
    }

    fn read_compact<T: Entity<V>>(&self, label: &str, key: &impl Serialize) -> Result<Option<T>> {
        match self.vault.get(&namespace(label), &key_bytes(key)?)? {
            None => Ok(None),
            // Profiles written before the compact encoding hold CBOR here.
            Some(bytes) => match postcard::from_bytes(&bytes) {
                Ok(value) => Ok(Some(value)),
                Err(_) => decode(&bytes).map(Some),
            },
        }
    }

    fn delete(&self, label: &str, key: &impl Serialize) -> Result<()> {
        self.vault.remove(&namespace(label), &key_bytes(key)?);
        Ok(())
    }

    /// The manifest of a value stored in pieces, if `stored` is one.
    fn manifest(stored: &[u8]) -> Option<Manifest> {
        let rest = stored.strip_prefix(MANIFEST_MAGIC.as_slice())?;
        let (len, digests) = rest.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_be_bytes(*len)).ok()?;
        if digests.len() % 32 != 0 || digests.len() / 32 != len.div_ceil(PIECE_LEN) {
            return None;
        }
        let digests = digests.chunks_exact(32).map(|d| <[u8; 32]>::try_from(d).ok()).collect::<Option<_>>()?;
        Some(Manifest { len, digests })
    }

    /// Writes `value` (postcard) in pieces of [`PIECE_LEN`] bytes, rewriting only the
    /// pieces that differ from what is stored, with a manifest of their digests.
    ///
    /// For the ratchet tree, which openmls hands over whole at every merge: at 10,000
    /// leaves it is megabytes, and sealing, writing and flushing all of it made up
    /// most of a commit's cost. A commit changes one leaf and the nodes on its path,
    /// so most pieces come out byte for byte as before and are not written again.
    /// The tree is public within the group, so its plaintext is not zeroized.
    fn write_in_pieces(&self, label: &str, key: &impl Serialize, value: &impl Serialize) -> Result<()> {
        let bytes = postcard::to_allocvec(value).map_err(|_| CoreError::Store(crate::error::StoreFailure::Encoding))?;
        let base = key_bytes(key)?;
        let previous = match self.vault.get(&namespace(label), &base)? {
            Some(stored) => Self::manifest(&stored).map(|m| m.digests).unwrap_or_default(),
            None => Vec::new(),
        };
        let pieces = pieces_namespace(label);
        let mut manifest = Vec::with_capacity(MANIFEST_MAGIC.len() + 8 + 32 * bytes.len().div_ceil(PIECE_LEN));
        manifest.extend_from_slice(MANIFEST_MAGIC);
        manifest.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        let mut count = 0;
        for (index, piece) in bytes.chunks(PIECE_LEN).enumerate() {
            let digest: [u8; 32] = Sha256::digest(piece).into();
            if previous.get(index) != Some(&digest) {
                self.vault.put(&pieces, &piece_key(&base, index), piece)?;
            }
            manifest.extend_from_slice(&digest);
            count += 1;
        }
        for index in count..previous.len() {
            self.vault.remove(&pieces, &piece_key(&base, index));
        }
        self.vault.put(&namespace(label), &base, &manifest)
    }

    fn read_in_pieces<T: Entity<V>>(&self, label: &str, key: &impl Serialize) -> Result<Option<T>> {
        let base = key_bytes(key)?;
        let Some(stored) = self.vault.get(&namespace(label), &base)? else { return Ok(None) };
        let Some(manifest) = Self::manifest(&stored) else {
            // Profiles written before trees were stored in pieces hold one CBOR value.
            return decode(&stored).map(Some);
        };
        let pieces = pieces_namespace(label);
        let mut bytes = Vec::with_capacity(manifest.len);
        for (index, digest) in manifest.digests.iter().enumerate() {
            let piece = self
                .vault
                .get(&pieces, &piece_key(&base, index))?
                .ok_or(CoreError::damaged(StoredRecord::MlsState, DamageKind::Missing))?;
            // Each piece is authenticated by the vault; the digest also ties it to
            // this version of the tree, so old pieces cannot be mixed in.
            if Sha256::digest(&piece).as_slice() != digest {
                return Err(CoreError::damaged(StoredRecord::MlsState, DamageKind::Mismatch));
            }
            bytes.extend_from_slice(&piece);
        }
        if bytes.len() != manifest.len {
            return Err(CoreError::damaged(StoredRecord::MlsState, DamageKind::Mismatch));
        }
        postcard::from_bytes(&bytes)
            .map(Some)
            .map_err(|_| CoreError::damaged(StoredRecord::MlsState, DamageKind::DoesNotDecode))
    }

    fn delete_in_pieces(&self, label: &str, key: &impl Serialize) -> Result<()> {
        let base = key_bytes(key)?;
        if let Some(manifest) = self.vault.get(&namespace(label), &base)?.and_then(|stored| Self::manifest(&stored)) {
            let pieces = pieces_namespace(label);
            for index in 0..manifest.digests.len() {
                self.vault.remove(&pieces, &piece_key(&base, index));
            }
        }
        self.vault.remove(&namespace(label), &base);
        Ok(())
    }

    /// A list stored as one value: the encodings of its items.
    fn read_list(&self, label: &str, key: &impl Serialize) -> Result<Vec<Vec<u8>>> {
        match self.vault.get(&namespace(label), &key_bytes(key)?)? {
            None => Ok(Vec::new()),
            Some(bytes) => decode(&bytes),
        }
    }

    fn write_list(&self, label: &str, key: &impl Serialize, items: &[Vec<u8>]) -> Result<()> {
        self.write(label, key, &items)
    }

    fn parse_items<T: serde::de::DeserializeOwned>(items: Vec<Vec<u8>>) -> Result<Vec<T>> {
        items.iter().map(|item| decode(item)).collect()
    }
}

fn epoch_key(group_id: &impl Serialize, epoch: &impl Serialize, leaf_index: u32) -> Result<Vec<u8>> {
    let mut key = key_bytes(group_id)?;
    key.push(0);
    key.extend_from_slice(&key_bytes(epoch)?);
    key.push(0);
    key.extend_from_slice(&leaf_index.to_be_bytes());
    Ok(key)
}

fn serialized(value: &impl Serialize) -> Result<Vec<u8>> {
    encode(value)
}

impl StorageProvider<V> for MlsStorage {
    type Error = CoreError;

    fn append_own_leaf_node<GroupId: traits::GroupId<V>, LeafNode: traits::LeafNode<V>>(
        &self,
        group_id: &GroupId,
        leaf_node: &LeafNode,
    ) -> Result<(), CoreError> {
        let mut items = self.read_list("own_leaf_nodes", group_id)?;
        items.push(serialized(leaf_node)?);
        self.write_list("own_leaf_nodes", group_id, &items)
    }

    fn own_leaf_nodes<GroupId: traits::GroupId<V>, LeafNode: traits::LeafNode<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<LeafNode>, CoreError> {
        Self::parse_items(self.read_list("own_leaf_nodes", group_id)?)
    }

    fn delete_own_leaf_nodes<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("own_leaf_nodes", group_id)
    }

    fn queue_proposal<
        GroupId: traits::GroupId<V>,
        ProposalRef: traits::ProposalRef<V>,
        QueuedProposal: traits::QueuedProposal<V>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
        proposal: &QueuedProposal,
    ) -> Result<(), CoreError> {
        let reference = serialized(proposal_ref)?;
        let mut refs = self.read_list("proposal_refs", group_id)?;
        if !refs.contains(&reference) {
            refs.push(reference);
        }
        self.write_list("proposal_refs", group_id, &refs)?;
        self.write("proposal", &(group_id, proposal_ref), proposal)
    }

    fn queued_proposal_refs<GroupId: traits::GroupId<V>, ProposalRef: traits::ProposalRef<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<ProposalRef>, CoreError> {
        Self::parse_items(self.read_list("proposal_refs", group_id)?)
    }

    fn queued_proposals<
        GroupId: traits::GroupId<V>,
        ProposalRef: traits::ProposalRef<V>,
        QueuedProposal: traits::QueuedProposal<V>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<(ProposalRef, QueuedProposal)>, CoreError> {
        let refs: Vec<ProposalRef> = Self::parse_items(self.read_list("proposal_refs", group_id)?)?;
        let mut out = Vec::with_capacity(refs.len());
        for reference in refs {
            let proposal = self
                .read("proposal", &(group_id, &reference))?
                .ok_or(CoreError::damaged(StoredRecord::MlsState, DamageKind::Missing))?;
            out.push((reference, proposal));
        }
        Ok(out)
    }

    fn remove_proposal<GroupId: traits::GroupId<V>, ProposalRef: traits::ProposalRef<V>>(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
    ) -> Result<(), CoreError> {
        let reference = serialized(proposal_ref)?;
        let mut refs = self.read_list("proposal_refs", group_id)?;
        refs.retain(|r| r != &reference);
        self.write_list("proposal_refs", group_id, &refs)?;
        self.delete("proposal", &(group_id, proposal_ref))
    }

    fn clear_proposal_queue<GroupId: traits::GroupId<V>, ProposalRef: traits::ProposalRef<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), CoreError> {
        let refs: Vec<ProposalRef> = Self::parse_items(self.read_list("proposal_refs", group_id)?)?;
        for reference in &refs {
            self.delete("proposal", &(group_id, reference))?;
        }
        self.delete("proposal_refs", group_id)
    }

    fn write_signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<V>,
        SignatureKeyPair: traits::SignatureKeyPair<V>,
    >(
        &self,
        public_key: &SignaturePublicKey,
        signature_key_pair: &SignatureKeyPair,
    ) -> Result<(), CoreError> {
        self.write("signature_key_pair", public_key, signature_key_pair)
    }

    fn signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<V>,
        SignatureKeyPair: traits::SignatureKeyPair<V>,
    >(
        &self,
        public_key: &SignaturePublicKey,
    ) -> Result<Option<SignatureKeyPair>, CoreError> {
        self.read("signature_key_pair", public_key)
    }

    fn delete_signature_key_pair<SignaturePublicKey: traits::SignaturePublicKey<V>>(
        &self,
        public_key: &SignaturePublicKey,
    ) -> Result<(), CoreError> {
        self.delete("signature_key_pair", public_key)
    }

    fn write_encryption_key_pair<EncryptionKey: traits::EncryptionKey<V>, HpkeKeyPair: traits::HpkeKeyPair<V>>(
        &self,
        public_key: &EncryptionKey,
        key_pair: &HpkeKeyPair,
    ) -> Result<(), CoreError> {
        self.write("encryption_key_pair", public_key, key_pair)
    }

    fn encryption_key_pair<HpkeKeyPair: traits::HpkeKeyPair<V>, EncryptionKey: traits::EncryptionKey<V>>(
        &self,
        public_key: &EncryptionKey,
    ) -> Result<Option<HpkeKeyPair>, CoreError> {
        self.read("encryption_key_pair", public_key)
    }

    fn delete_encryption_key_pair<EncryptionKey: traits::EncryptionKey<V>>(
        &self,
        public_key: &EncryptionKey,
    ) -> Result<(), CoreError> {
        self.delete("encryption_key_pair", public_key)
    }

    fn write_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<V>,
        EpochKey: traits::EpochKey<V>,
        HpkeKeyPair: traits::HpkeKeyPair<V>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
        key_pairs: &[HpkeKeyPair],
    ) -> Result<(), CoreError> {
        self.write("epoch_key_pairs", &epoch_key(group_id, epoch, leaf_index)?, &key_pairs)
    }

    fn encryption_epoch_key_pairs<
        GroupId: traits::GroupId<V>,
        EpochKey: traits::EpochKey<V>,
        HpkeKeyPair: traits::HpkeKeyPair<V>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<Vec<HpkeKeyPair>, CoreError> {
        let key = epoch_key(group_id, epoch, leaf_index)?;
        match self.vault.get(&namespace("epoch_key_pairs"), &key_bytes(&key)?)? {
            None => Ok(Vec::new()),
            Some(bytes) => decode(&bytes),
        }
    }

    fn delete_encryption_epoch_key_pairs<GroupId: traits::GroupId<V>, EpochKey: traits::EpochKey<V>>(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<(), CoreError> {
        self.delete("epoch_key_pairs", &epoch_key(group_id, epoch, leaf_index)?)
    }

    fn write_key_package<HashReference: traits::HashReference<V>, KeyPackage: traits::KeyPackage<V>>(
        &self,
        hash_ref: &HashReference,
        key_package: &KeyPackage,
    ) -> Result<(), CoreError> {
        self.write("key_package", hash_ref, key_package)
    }

    fn key_package<KeyPackageRef: traits::HashReference<V>, KeyPackage: traits::KeyPackage<V>>(
        &self,
        hash_ref: &KeyPackageRef,
    ) -> Result<Option<KeyPackage>, CoreError> {
        self.read("key_package", hash_ref)
    }

    fn delete_key_package<KeyPackageRef: traits::HashReference<V>>(
        &self,
        hash_ref: &KeyPackageRef,
    ) -> Result<(), CoreError> {
        self.delete("key_package", hash_ref)
    }

    fn write_psk<PskId: traits::PskId<V>, PskBundle: traits::PskBundle<V>>(
        &self,
        psk_id: &PskId,
        psk: &PskBundle,
    ) -> Result<(), CoreError> {
        self.write("psk", psk_id, psk)
    }

    fn psk<PskBundle: traits::PskBundle<V>, PskId: traits::PskId<V>>(
        &self,
        psk_id: &PskId,
    ) -> Result<Option<PskBundle>, CoreError> {
        self.read("psk", psk_id)
    }

    fn delete_psk<PskKey: traits::PskId<V>>(&self, psk_id: &PskKey) -> Result<(), CoreError> {
        self.delete("psk", psk_id)
    }

    fn write_mls_join_config<GroupId: traits::GroupId<V>, MlsGroupJoinConfig: traits::MlsGroupJoinConfig<V>>(
        &self,
        group_id: &GroupId,
        value: &MlsGroupJoinConfig,
    ) -> Result<(), CoreError> {
        self.write("join_config", group_id, value)
    }

    fn mls_group_join_config<GroupId: traits::GroupId<V>, MlsGroupJoinConfig: traits::MlsGroupJoinConfig<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<MlsGroupJoinConfig>, CoreError> {
        self.read("join_config", group_id)
    }

    fn delete_group_config<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("join_config", group_id)
    }

    fn write_tree<GroupId: traits::GroupId<V>, TreeSync: traits::TreeSync<V>>(
        &self,
        group_id: &GroupId,
        value: &TreeSync,
    ) -> Result<(), CoreError> {
        self.write_in_pieces("tree", group_id, value)
    }

    fn tree<GroupId: traits::GroupId<V>, TreeSync: traits::TreeSync<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<TreeSync>, CoreError> {
        self.read_in_pieces("tree", group_id)
    }

    fn delete_tree<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete_in_pieces("tree", group_id)
    }

    fn write_interim_transcript_hash<
        GroupId: traits::GroupId<V>,
        InterimTranscriptHash: traits::InterimTranscriptHash<V>,
    >(
        &self,
        group_id: &GroupId,
        value: &InterimTranscriptHash,
    ) -> Result<(), CoreError> {
        self.write("interim_transcript_hash", group_id, value)
    }

    fn interim_transcript_hash<GroupId: traits::GroupId<V>, InterimTranscriptHash: traits::InterimTranscriptHash<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<InterimTranscriptHash>, CoreError> {
        self.read("interim_transcript_hash", group_id)
    }

    fn delete_interim_transcript_hash<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("interim_transcript_hash", group_id)
    }

    fn write_context<GroupId: traits::GroupId<V>, GroupContext: traits::GroupContext<V>>(
        &self,
        group_id: &GroupId,
        value: &GroupContext,
    ) -> Result<(), CoreError> {
        self.write("context", group_id, value)
    }

    fn group_context<GroupId: traits::GroupId<V>, GroupContext: traits::GroupContext<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupContext>, CoreError> {
        self.read("context", group_id)
    }

    fn delete_context<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("context", group_id)
    }

    fn write_confirmation_tag<GroupId: traits::GroupId<V>, ConfirmationTag: traits::ConfirmationTag<V>>(
        &self,
        group_id: &GroupId,
        value: &ConfirmationTag,
    ) -> Result<(), CoreError> {
        self.write("confirmation_tag", group_id, value)
    }

    fn confirmation_tag<GroupId: traits::GroupId<V>, ConfirmationTag: traits::ConfirmationTag<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ConfirmationTag>, CoreError> {
        self.read("confirmation_tag", group_id)
    }

    fn delete_confirmation_tag<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("confirmation_tag", group_id)
    }

    fn write_group_state<GroupState: traits::GroupState<V>, GroupId: traits::GroupId<V>>(
        &self,
        group_id: &GroupId,
        value: &GroupState,
    ) -> Result<(), CoreError> {
        self.write("group_state", group_id, value)
    }

    fn group_state<GroupState: traits::GroupState<V>, GroupId: traits::GroupId<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupState>, CoreError> {
        self.read("group_state", group_id)
    }

    fn delete_group_state<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("group_state", group_id)
    }

    fn write_message_secrets<GroupId: traits::GroupId<V>, MessageSecrets: traits::MessageSecrets<V>>(
        &self,
        group_id: &GroupId,
        value: &MessageSecrets,
    ) -> Result<(), CoreError> {
        self.write_compact("message_secrets", group_id, value)
    }

    fn message_secrets<GroupId: traits::GroupId<V>, MessageSecrets: traits::MessageSecrets<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<MessageSecrets>, CoreError> {
        self.read_compact("message_secrets", group_id)
    }

    fn delete_message_secrets<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("message_secrets", group_id)
    }

    fn write_resumption_psk_store<GroupId: traits::GroupId<V>, ResumptionPskStore: traits::ResumptionPskStore<V>>(
        &self,
        group_id: &GroupId,
        value: &ResumptionPskStore,
    ) -> Result<(), CoreError> {
        self.write("resumption_psk", group_id, value)
    }

    fn resumption_psk_store<GroupId: traits::GroupId<V>, ResumptionPskStore: traits::ResumptionPskStore<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ResumptionPskStore>, CoreError> {
        self.read("resumption_psk", group_id)
    }

    fn delete_all_resumption_psk_secrets<GroupId: traits::GroupId<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), CoreError> {
        self.delete("resumption_psk", group_id)
    }

    fn write_own_leaf_index<GroupId: traits::GroupId<V>, LeafNodeIndex: traits::LeafNodeIndex<V>>(
        &self,
        group_id: &GroupId,
        value: &LeafNodeIndex,
    ) -> Result<(), CoreError> {
        self.write("own_leaf_index", group_id, value)
    }

    fn own_leaf_index<GroupId: traits::GroupId<V>, LeafNodeIndex: traits::LeafNodeIndex<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<LeafNodeIndex>, CoreError> {
        self.read("own_leaf_index", group_id)
    }

    fn delete_own_leaf_index<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("own_leaf_index", group_id)
    }

    fn write_group_epoch_secrets<GroupId: traits::GroupId<V>, GroupEpochSecrets: traits::GroupEpochSecrets<V>>(
        &self,
        group_id: &GroupId,
        value: &GroupEpochSecrets,
    ) -> Result<(), CoreError> {
        self.write("epoch_secrets", group_id, value)
    }

    fn group_epoch_secrets<GroupId: traits::GroupId<V>, GroupEpochSecrets: traits::GroupEpochSecrets<V>>(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupEpochSecrets>, CoreError> {
        self.read("epoch_secrets", group_id)
    }

    fn delete_group_epoch_secrets<GroupId: traits::GroupId<V>>(&self, group_id: &GroupId) -> Result<(), CoreError> {
        self.delete("epoch_secrets", group_id)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ed25519_dalek::SigningKey;
    use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
    use openmls::prelude::*;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use rand_core::OsRng;

    use super::MlsStorage;
    use crate::mls::{CIPHERSUITE, DeviceSigner, Provider, create_config};
    use crate::vault::{KdfParams, Passphrase, Unlock, Vault};

    fn credential(key: &SigningKey, name: &str) -> CredentialWithKey {
        CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: key.verifying_key().as_bytes().to_vec().into(),
        }
    }

    fn receive(group: &mut MlsGroup, provider: &impl OpenMlsProvider, message: &MlsMessageOut) {
        let bytes = message.tls_serialize_detached().unwrap();
        let message = MlsMessageIn::tls_deserialize_exact(bytes).unwrap().try_into_protocol_message().unwrap();
        let processed = group.process_message(provider, message).unwrap();
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else { panic!() };
        group.merge_staged_commit(provider, *staged).unwrap();
    }

    /// The tree (in pieces) and the message secrets (postcard): a group written to the
    /// vault through commits that grow and shrink its tree, closed and loaded again
    /// from disk is the same group, and goes on exchanging messages and commits.
    #[test]
    fn a_group_stored_in_the_vault_loads_from_disk_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let unlock = Unlock::Passphrase(Passphrase::new("a long enough passphrase"));
        let params = KdfParams::new(KdfParams::MIN_MEMORY_KIB, 1, 1).unwrap();
        let vault = Arc::new(Vault::create(dir.path(), &unlock, params).unwrap());
        let provider = Provider::new(MlsStorage::new(vault.clone()));
        let key = SigningKey::generate(&mut OsRng);
        let mut group = MlsGroup::new(&provider, &DeviceSigner(&key), &create_config(), credential(&key, "a")).unwrap();

        let other = OpenMlsRustCrypto::default();
        let other_key = SigningKey::generate(&mut OsRng);
        let packages: Vec<KeyPackage> = (0..150)
            .map(|n| {
                let key = if n == 0 { other_key.clone() } else { SigningKey::generate(&mut OsRng) };
                KeyPackage::builder()
                    .leaf_node_capabilities(crate::mls::capabilities())
                    .build(CIPHERSUITE, &other, &DeviceSigner(&key), credential(&key, &format!("member {n}")))
                    .unwrap()
                    .key_package()
                    .clone()
            })
            .collect();
        let (_, welcome, _) = group.add_members(&provider, &DeviceSigner(&key), &packages).unwrap();
        group.merge_pending_commit(&provider).unwrap();
        let welcome = MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().unwrap()).unwrap();
        let MlsMessageBodyIn::Welcome(welcome) = welcome.extract() else { panic!("not a Welcome") };
        let mut peer = StagedWelcome::new_from_welcome(&other, &crate::mls::join_config(), welcome, None)
            .unwrap()
            .into_group(&other)
            .unwrap();
        // Over 16 KiB of tree, so several pieces; then the tree shrinks to fewer.
        let removed: Vec<_> = (6..=150).map(LeafNodeIndex::new).collect();
        let (remove, _, _) = group.remove_members(&provider, &DeviceSigner(&key), &removed).unwrap();
        group.merge_pending_commit(&provider).unwrap();
        receive(&mut peer, &other, &remove);
        vault.commit().unwrap();
        let group_id = group.group_id().clone();
        let authenticator = group.epoch_authenticator().as_slice().to_vec();
        drop((group, provider, vault));

        let vault = Arc::new(Vault::open(dir.path(), &unlock).unwrap());
        let provider = Provider::new(MlsStorage::new(vault));
        let mut group = MlsGroup::load(provider.storage(), &group_id).unwrap().unwrap();
        assert_eq!(group.epoch_authenticator().as_slice(), authenticator.as_slice());
        assert_eq!(group.members().count(), 6);

        // The peer commits; the loaded group follows and reads what the peer sends.
        let bundle = peer.self_update(&other, &DeviceSigner(&other_key), LeafNodeParameters::default()).unwrap();
        peer.merge_pending_commit(&other).unwrap();
        receive(&mut group, &provider, bundle.commit());
        let sent = peer.create_message(&other, &DeviceSigner(&other_key), b"after the reload").unwrap();
        let bytes = sent.tls_serialize_detached().unwrap();
        let message = MlsMessageIn::tls_deserialize_exact(bytes).unwrap().try_into_protocol_message().unwrap();
        let processed = group.process_message(&provider, message).unwrap();
        let ProcessedMessageContent::ApplicationMessage(text) = processed.into_content() else { panic!() };
        assert_eq!(text.into_bytes(), b"after the reload");
        assert_eq!(group.epoch_authenticator().as_slice(), peer.epoch_authenticator().as_slice());
    }
}
