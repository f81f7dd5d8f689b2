//! A modified client, for the insider tests: what a member's device could do if its
//! owner changed the code. Compiled only with the `adversary` feature, which no client
//! enables; the test suite uses it to show that every other device refuses what these
//! hooks produce.
//!
//! Each hook builds what the modified client would send (a request body, a sealed
//! record, a message) from this device's real state, skipping the checks an honest
//! engine makes; the test delivers it. The device's own state may be left inconsistent
//! afterwards: an attacker does not care.

use huisclos_protocol::access::{ACCESS_TOKEN_EXPORTER_LABEL, AccessToken, EpochVerifier};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::ids::{ContentId, GroupId, UnixSeconds};
use huisclos_protocol::messages::{AppendMessage, GroupAccess, MlsMessageBytes, PutContent, RequestBody, SubmitCommit};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_traits::OpenMlsProvider;
use rand_core::{OsRng, RngCore};

use super::{Engine, Operation, mls_error};
use crate::content::{ContentBody, ContentEnvelope, EnvelopeBody, HistoryKey, SealedRecord};
use crate::error::MlsFailure;
use crate::error::{CoreError, Missing, Result};
use crate::identity::IdentityPublicKey;
use crate::mls::DeviceSigner;

/// The hooks of a modified client over one engine.
pub struct Adversary<'a> {
    pub(super) engine: &'a mut Engine,
}

impl std::fmt::Debug for Adversary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Adversary(..)")
    }
}

impl Engine {
    /// This engine as a modified client would drive it.
    pub fn adversary(&mut self) -> Adversary<'_> {
        Adversary { engine: self }
    }
}

impl Adversary<'_> {
    /// The access this device holds for the space's current epoch (what an insider can
    /// hand to anyone with a relay account).
    ///
    /// # Errors
    /// As the engine's own access.
    pub fn access(&self, space: &GroupId) -> Result<GroupAccess> {
        self.engine.access(space)
    }

    /// The space's rules as this device holds them.
    ///
    /// # Errors
    /// When the space is unknown.
    pub fn rules(&self, space: &GroupId) -> Result<crate::space::SpaceRules> {
        self.engine.rules(space)
    }

    /// Queues a removal without checking this person's role first, as a modified client
    /// would (its own commit checks skipped from then on): every other device must
    /// refuse it.
    ///
    /// # Errors
    /// When the space is unknown.
    pub fn remove_unchecked(&mut self, space: &GroupId, person: &IdentityPublicKey) -> Result<()> {
        self.engine.skip_own_checks = true;
        self.engine.queue_operation(space, Operation::Remove { identity: *person.as_bytes() })
    }

    /// The history keys this device holds, by generation.
    pub fn history_keys(&self, space: &GroupId) -> Vec<(u32, [u8; 32])> {
        self.engine
            .spaces
            .get(space)
            .map(|s| s.history_keys().iter().map(|k| (k.generation(), k.expose_for_storage())).collect())
            .unwrap_or_default()
    }

    /// The request sending, as a history message of the space, `key` as the key of
    /// `generation`: what a member who wants to keep reading after her removal would
    /// plant.
    ///
    /// # Errors
    /// MLS errors.
    pub fn plant_history_key(&mut self, space: &GroupId, generation: u32, key: [u8; 32]) -> Result<RequestBody> {
        let entry = self.engine.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let epoch = huisclos_protocol::ids::Epoch::new(entry.group.epoch().as_u64()).map_err(CoreError::Decode)?;
        let planted = crate::history::GenerationGrant {
            key: HistoryKey::from_parts(generation, key),
            start_epoch: epoch,
            closed: false,
            roster: huisclos_protocol::codec::BoundedVec::empty(),
        };
        let grant = crate::history::HistoryGrant {
            for_epoch: epoch,
            generations: huisclos_protocol::codec::BoundedVec::new(vec![planted])?,
        };
        let payload = crate::content::AppPayload::HistoryGrant(grant);
        self.app_message(space, &payload.to_wire())
    }

    /// The history grant this device would hand members whose first epoch is
    /// `for_epoch`, with the current generation's key replaced by `planted`: an adder
    /// who lies to the people it adds. Returns the request appending it.
    ///
    /// # Errors
    /// When this device does not hold the whole history; MLS errors.
    pub fn lying_grant(&mut self, space: &GroupId, for_epoch: u64, planted: [u8; 32]) -> Result<RequestBody> {
        let rules = self.engine.rules(space)?;
        let entry = self.engine.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let mut parts = entry.meta.history.grant(for_epoch, false, &rules)?;
        let part = parts.last_mut().ok_or(CoreError::NotFound(Missing::Grant))?;
        let mut generations = part.generations.clone().into_vec();
        if let Some(current) = generations.last_mut() {
            current.key = HistoryKey::from_parts(current.key.generation(), planted);
        }
        part.generations = huisclos_protocol::codec::BoundedVec::new(generations)?;
        let payload = crate::content::AppPayload::HistoryGrant(part.clone());
        self.app_message(space, &payload.to_wire())
    }

    /// Tries to open a sealed record of the space with every history key this device
    /// holds and with `extra` keys; the text of a post or comment it opens to.
    pub fn open_record(
        &self,
        space: &GroupId,
        id: &ContentId,
        sealed: &[u8],
        extra: &[(u32, [u8; 32])],
    ) -> Option<String> {
        let record = SealedRecord::from_bytes(sealed).ok()?;
        let mut keys = self.history_keys(space);
        keys.extend_from_slice(extra);
        for (generation, key) in keys {
            let key = HistoryKey::from_parts(generation, key);
            if let Ok(opened) = record.open(&key, space, id) {
                return match opened.body().clone() {
                    ContentBody::Post(post) => Some(post.text.as_str().to_owned()),
                    ContentBody::Comment(comment) => Some(comment.text.as_str().to_owned()),
                    _ => Some(String::new()),
                };
            }
        }
        None
    }

    /// Builds an application message carrying `payload` (any bytes) in the space's
    /// current epoch, and the request appending it.
    ///
    /// # Errors
    /// MLS errors.
    pub fn app_message(&mut self, space: &GroupId, payload: &[u8]) -> Result<RequestBody> {
        let access = self.engine.access(space)?;
        let entry = self.engine.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let message = entry
            .group
            .create_message(&self.engine.provider, &DeviceSigner(&self.engine.device.mls), payload)
            .map_err(mls_error)?;
        let message = MlsMessageBytes::new(message.tls_serialize_detached().map_err(mls_error)?)?;
        Ok(AppendMessage { access, message }.into())
    }

    /// Signs `body` as this device (its certificate, its MLS key) dated `created_at`,
    /// and seals it under `key` as record `id`: what this device could put in the
    /// content store with any access token.
    ///
    /// # Errors
    /// Before the account exists; signing errors.
    pub fn sealed_record(
        &self,
        space: &GroupId,
        key: &HistoryKey,
        body: ContentBody,
        created_at: u64,
    ) -> Result<(ContentId, Vec<u8>)> {
        let envelope = self.signed_envelope(space, body, created_at)?;
        let id = envelope.signed.id;
        Ok((id, SealedRecord::seal(key, space, &id, &envelope)?.to_bytes()))
    }

    /// `body` signed as this device (its certificate, its MLS key), dated `created_at`,
    /// under a fresh random id.
    fn signed_envelope(&self, space: &GroupId, body: ContentBody, created_at: u64) -> Result<ContentEnvelope> {
        let certificate = self.engine.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let signed = EnvelopeBody {
            id: ContentId::from_bytes(id),
            group: *space,
            author: certificate,
            created_at: UnixSeconds::new(created_at).map_err(CoreError::Decode)?,
            body,
        };
        ContentEnvelope::sign(signed, &self.engine.device.mls)
    }

    /// Like [`Adversary::sealed_record`], but the envelope refers to a certificate
    /// instead of carrying this device's: to `certificate` (its wire bytes: another
    /// member's, or one nobody was shown) when given, else to this device's own.
    ///
    /// # Errors
    /// Before the account exists; signing errors; `certificate` that does not decode.
    pub fn referring_record(
        &self,
        space: &GroupId,
        key: &HistoryKey,
        body: ContentBody,
        created_at: u64,
        certificate: Option<&[u8]>,
    ) -> Result<(ContentId, Vec<u8>)> {
        let mut envelope = self.signed_envelope(space, body, created_at)?.referring();
        let id = envelope.id;
        if let Some(bytes) = certificate {
            envelope.author =
                crate::content::CertificateRef::of(&crate::identity::DeviceCertificate::from_wire(bytes)?);
        }
        Ok((id, SealedRecord::seal_referring(key, space, &id, &envelope)?.to_bytes()))
    }

    /// The request putting a sealed record with someone's `access`.
    ///
    /// # Errors
    /// When the record is too long.
    pub fn put_record(access: GroupAccess, id: ContentId, sealed: Vec<u8>) -> Result<RequestBody> {
        let sealed = huisclos_protocol::messages::ContentRecordBytes::new(sealed)?;
        Ok(PutContent { access, record: id, sealed }.into())
    }

    /// Builds a commit of this device on the current epoch carrying `proposals` inline,
    /// with, when `credential` is given, an update path whose new leaf carries that
    /// credential (any bytes) with this device's MLS key; returns the request
    /// submitting it.
    ///
    /// # Errors
    /// MLS errors (openmls's own checks on the committer's side).
    pub fn commit(
        &mut self,
        space: &GroupId,
        proposals: Vec<Proposal>,
        credential: Option<Vec<u8>>,
    ) -> Result<RequestBody> {
        let access = self.engine.access(space)?;
        let engine = &mut *self.engine;
        let entry = engine.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let mut builder = entry.group.commit_builder().add_proposals(proposals);
        if let Some(credential) = credential {
            let with_key = CredentialWithKey {
                credential: BasicCredential::new(credential).into(),
                signature_key: engine.device.mls_public().to_vec().into(),
            };
            builder = builder
                .force_self_update(true)
                .leaf_node_parameters(LeafNodeParameters::builder().with_credential_with_key(with_key).build());
        }
        let bundle = builder
            .load_psks(engine.provider.storage())
            .map_err(mls_error)?
            .build(engine.provider.rand(), engine.provider.crypto(), &DeviceSigner(&engine.device.mls), |_| true)
            .map_err(mls_error)?
            .stage_commit(&engine.provider)
            .map_err(mls_error)?;
        let (commit, _, _) = bundle.into_messages();
        let commit = MlsMessageBytes::new(commit.tls_serialize_detached().map_err(mls_error)?)?;
        // The right verifier for the next epoch, so that members who merge the commit
        // can go on reading: the attacker wants them to.
        let staged = entry.group.pending_commit().ok_or(CoreError::Mls(MlsFailure::NoPendingCommit))?;
        let token = staged
            .export_secret(engine.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, space.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls(MlsFailure::ExporterLength))?;
        let next_verifier = EpochVerifier::for_token(&AccessToken::from_bytes(token));
        Ok(SubmitCommit { access, commit, next_verifier }.into())
    }

    /// Stores an external pre-shared key in this device's MLS storage (as if it had
    /// been exchanged earlier), and returns a PreSharedKey proposal naming it: a kind
    /// of change Huis Clos never uses, which openmls itself accepts when every member
    /// holds the key.
    ///
    /// # Errors
    /// Storage errors.
    pub fn external_psk_proposal(&self, psk_id: &[u8], secret: &[u8]) -> Result<Proposal> {
        let id = openmls::schedule::PreSharedKeyId::external(psk_id.to_vec(), vec![0x5a; 32]);
        id.store(&self.engine.provider, secret).map_err(mls_error)?;
        self.engine.store.commit()?;
        Ok(Proposal::PreSharedKey(Box::new(PreSharedKeyProposal::new(id))))
    }

    /// Creates a space that claims to continue `old` (its rules with `replaces` set and
    /// this person as space manager) and queues invitations of `cards`' people into
    /// it: a recreation nobody asked for.
    ///
    /// # Errors
    /// As the engine's own commands.
    pub fn found_continuation(&mut self, old: &GroupId, cards: &[crate::identity::ContactCard]) -> Result<GroupId> {
        let mut rules = self.engine.rules(old)?.with_role(self.engine.identity, crate::space::Role::SpaceManager)?;
        rules.replaces = Some(*old);
        let successor = self.engine.found_space(rules)?;
        for card in cards {
            self.engine.invite(&successor, card, crate::space::Role::Contributor)?;
        }
        Ok(successor)
    }

    /// A request submitting the removal of `person`'s devices from the space, with a
    /// group context that keeps their role (and the ledger members expect).
    ///
    /// # Errors
    /// MLS errors.
    pub fn removal_keeping_role(
        &mut self,
        space: &GroupId,
        person: &crate::identity::IdentityPublicKey,
    ) -> Result<RequestBody> {
        let rules = self.engine.rules(space)?;
        let access = self.engine.access(space)?;
        let engine = &mut *self.engine;
        let entry = engine.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let removals: Vec<LeafNodeIndex> = entry
            .group
            .members()
            .filter(|m| {
                crate::mls::certificate_of(&m.credential, &m.signature_key).is_ok_and(|c| &c.body.identity == person)
            })
            .map(|m| m.index)
            .collect();
        let ledger = entry.meta.history.next_ledger(space, true, entry.group.epoch().as_u64() + 1, &rules)?;
        let extensions = crate::mls::group_context_extensions(&rules, &ledger)?;
        let bundle = entry
            .group
            .commit_builder()
            .propose_removals(removals)
            .propose_group_context_extensions(extensions)
            .map_err(mls_error)?
            .load_psks(engine.provider.storage())
            .map_err(mls_error)?
            .build(engine.provider.rand(), engine.provider.crypto(), &DeviceSigner(&engine.device.mls), |_| true)
            .map_err(mls_error)?
            .stage_commit(&engine.provider)
            .map_err(mls_error)?;
        let (commit, _, _) = bundle.into_messages();
        let commit = MlsMessageBytes::new(commit.tls_serialize_detached().map_err(mls_error)?)?;
        let staged = entry.group.pending_commit().ok_or(CoreError::Mls(MlsFailure::NoPendingCommit))?;
        let token = staged
            .export_secret(engine.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, space.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls(MlsFailure::ExporterLength))?;
        Ok(SubmitCommit { access, commit, next_verifier: EpochVerifier::for_token(&AccessToken::from_bytes(token)) }
            .into())
    }

    /// Queues `body` as an item of this device dated `at` (any time), without applying
    /// it here first: sent with the outbox like any item.
    ///
    /// # Errors
    /// Before the account exists; store errors.
    pub fn publish_dated(&mut self, space: &GroupId, body: ContentBody, at: u64) -> Result<ContentId> {
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        self.publish_as(space, body, at, ContentId::from_bytes(id))
    }

    /// This device's note `note` as it holds it now, as a document typing under this
    /// device's client id: to make updates of it by hand (a modified client's).
    ///
    /// # Errors
    /// An unknown note; store errors.
    pub fn note_doc(&mut self, space: &GroupId, note: &crate::library::NodeId) -> Result<crate::note::NoteDoc> {
        let open = self.engine.open_note(space, note)?;
        let doc = crate::note::NoteDoc::load(open.doc.client(), &open.doc.state())
            .map_err(|refusal| CoreError::Verification(crate::error::Unverified::NoteUpdate(refusal)));
        self.engine.notes.put_unchanged((*space, *note), open);
        doc
    }

    /// As [`Adversary::publish_dated`], under the record id `id` (a forgettable
    /// record's, for a body that may not be forgotten).
    ///
    /// # Errors
    /// Before the account exists; store errors.
    pub fn publish_as(&mut self, space: &GroupId, body: ContentBody, at: u64, id: ContentId) -> Result<ContentId> {
        let certificate = self.engine.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
        let signed = EnvelopeBody {
            id,
            group: *space,
            author: certificate,
            created_at: UnixSeconds::new(at).map_err(CoreError::Decode)?,
            body,
        };
        let envelope = ContentEnvelope::sign(signed, &self.engine.device.mls)?;
        self.engine.enqueue(super::OutboxItem::Content { group: *space.as_bytes(), envelope: envelope.to_wire() })?;
        self.engine.persist()?;
        Ok(id)
    }

    /// A device-ready notice of this device, signed now with the roster it holds, left
    /// in the inboxes of the other devices that roster lists: what a revoked device
    /// sends to be added back.
    ///
    /// # Errors
    /// Before the account exists.
    pub fn ready_notice(&self) -> Result<RequestBody> {
        let card = self.engine.card.clone().ok_or(CoreError::NotFound(Missing::Roster))?;
        let me = self.engine.device.device_id();
        let recipients: Vec<huisclos_protocol::ids::DeviceId> =
            card.body.devices.iter().map(|c| c.body.device).filter(|d| *d != me).collect();
        let at = UnixSeconds::new(self.engine.now).map_err(CoreError::Decode)?;
        let notice = crate::link::DeviceReady::sign(card, me, at, &self.engine.device.mls);
        Ok(huisclos_protocol::messages::DepositWelcome {
            recipients: huisclos_protocol::codec::BoundedVec::new(recipients)?,
            welcome: crate::link::InboxItem::DeviceReady(notice).to_welcome_bytes()?,
        }
        .into())
    }

    /// With this person's identity key (on the device that holds it): certifies a
    /// stranger's device `keys` under the account `account`, signs a roster listing
    /// it, and returns a ready notice of it for `recipients`, signed by the stranger's
    /// MLS key. What a holder of a stolen identity key would send.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a device that does not hold the identity key.
    pub fn certify_stranger(
        &self,
        keys: &crate::identity::DeviceKeys,
        account: huisclos_protocol::ids::AccountId,
        recipients: Vec<huisclos_protocol::ids::DeviceId>,
    ) -> Result<RequestBody> {
        let identity = self.engine.identity_key()?;
        let at = UnixSeconds::new(self.engine.now).map_err(CoreError::Decode)?;
        let body = crate::identity::CertificateBody {
            identity: identity.public(),
            account,
            device: keys.device_id(),
            mls_key: keys.mls_public(),
            name: crate::identity::DisplayName::new("Bob's tablet")?,
            created_at: at,
        };
        let certificate = crate::identity::DeviceCertificate::issue(identity, body)?;
        let version = self.engine.card.as_ref().map_or(1, |c| c.body.version + 1);
        let card = crate::identity::ContactCard::issue(identity, version, vec![certificate], at, None)?;
        let notice = crate::link::DeviceReady::sign(card, keys.device_id(), at, &keys.mls);
        Ok(huisclos_protocol::messages::DepositWelcome {
            recipients: huisclos_protocol::codec::BoundedVec::new(recipients)?,
            welcome: crate::link::InboxItem::DeviceReady(notice).to_welcome_bytes()?,
        }
        .into())
    }

    /// With this person's identity key (the device that holds it): signs a roster of
    /// `version` listing only this device, and returns the request that sends it, as a
    /// roster message, in `space` with `access` (an insider's): what a seized phone
    /// holding an old identity key would spread to be taken back.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] on a device that does not hold the identity key.
    pub fn roster_message(&self, version: u32) -> Result<Vec<u8>> {
        let identity = self.engine.identity_key()?;
        let certificate = self.engine.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
        let at = UnixSeconds::new(self.engine.now).map_err(CoreError::Decode)?;
        let card = crate::identity::ContactCard::issue(identity, version, vec![certificate], at, None)?;
        Ok(crate::content::AppPayload::Roster(card).to_wire())
    }

    /// A proposal of this device's own removal (leaving), built without the checks
    /// an honest engine makes, and the request appending it.
    ///
    /// # Errors
    /// MLS errors.
    pub fn leave_proposal(&mut self, space: &GroupId) -> Result<RequestBody> {
        let access = self.engine.access(space)?;
        let engine = &mut *self.engine;
        let entry = engine.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let proposal =
            entry.group.leave_group(&engine.provider, &DeviceSigner(&engine.device.mls)).map_err(mls_error)?;
        let message = MlsMessageBytes::new(proposal.tls_serialize_detached().map_err(mls_error)?)?;
        Ok(AppendMessage { access, message }.into())
    }

    /// A request submitting a commit of this device whose group context keeps the
    /// space's rules but carries the ledger `edit` makes of the true one: a member who
    /// wants later members to take a history nobody agreed on.
    ///
    /// # Errors
    /// MLS errors.
    pub fn commit_with_ledger(
        &mut self,
        space: &GroupId,
        edit: impl FnOnce(&mut crate::history::HistoryLedger),
    ) -> Result<RequestBody> {
        let rules = self.engine.rules(space)?;
        let entry = self.engine.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let mut ledger = entry.meta.history.next_ledger(space, false, entry.group.epoch().as_u64() + 1, &rules)?;
        edit(&mut ledger);
        let extensions = crate::mls::group_context_extensions(&rules, &ledger)?;
        let access = self.engine.access(space)?;
        let engine = &mut *self.engine;
        let entry = engine.spaces.get_mut(space).ok_or(CoreError::NotFound(Missing::Space))?;
        let bundle = entry
            .group
            .commit_builder()
            .propose_group_context_extensions(extensions)
            .map_err(mls_error)?
            .load_psks(engine.provider.storage())
            .map_err(mls_error)?
            .build(engine.provider.rand(), engine.provider.crypto(), &DeviceSigner(&engine.device.mls), |_| true)
            .map_err(mls_error)?
            .stage_commit(&engine.provider)
            .map_err(mls_error)?;
        let (commit, _, _) = bundle.into_messages();
        let commit = MlsMessageBytes::new(commit.tls_serialize_detached().map_err(mls_error)?)?;
        let staged = entry.group.pending_commit().ok_or(CoreError::Mls(MlsFailure::NoPendingCommit))?;
        let token = staged
            .export_secret(engine.provider.crypto(), ACCESS_TOKEN_EXPORTER_LABEL, space.as_bytes(), 32)
            .map_err(mls_error)?;
        let token: [u8; 32] = token.as_slice().try_into().map_err(|_| CoreError::Mls(MlsFailure::ExporterLength))?;
        Ok(SubmitCommit { access, commit, next_verifier: EpochVerifier::for_token(&AccessToken::from_bytes(token)) }
            .into())
    }

    /// Queues, as this person's modified client would, the addition of one of this
    /// person's devices (certificate) to the space, skipping the engine's own check of
    /// the rules.
    ///
    /// # Errors
    /// Store errors.
    pub fn add_own_device_unchecked(
        &mut self,
        space: &GroupId,
        certificate: &crate::identity::DeviceCertificate,
    ) -> Result<()> {
        self.engine.skip_own_checks = true;
        self.engine.enqueue(super::OutboxItem::Operation {
            group: *space.as_bytes(),
            operation: super::Operation::AddDevice { certificate: certificate.to_wire() },
        })?;
        self.engine.persist()
    }

    /// A request submitting `bytes` (anything) as the commit closing the current epoch.
    ///
    /// # Errors
    /// When `bytes` is too long.
    pub fn raw_commit(&self, space: &GroupId, bytes: Vec<u8>) -> Result<RequestBody> {
        let access = self.engine.access(space)?;
        let mut token = [0u8; 32];
        OsRng.fill_bytes(&mut token);
        let next_verifier = EpochVerifier::for_token(&AccessToken::from_bytes(token));
        Ok(SubmitCommit { access, commit: MlsMessageBytes::new(bytes)?, next_verifier }.into())
    }

    /// This device's certificate (wire bytes), as its leaf carries it.
    ///
    /// # Errors
    /// Before the account exists.
    pub fn certificate(&self) -> Result<Vec<u8>> {
        Ok(self.engine.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?.to_wire())
    }

    /// A certificate of this device's MLS key under a fresh identity key named `name`:
    /// valid on its own, of nobody any member knows.
    ///
    /// # Errors
    /// Before the account exists; a bad name.
    pub fn certificate_as_stranger(&self, name: &str) -> Result<Vec<u8>> {
        let mut body = self.engine.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?.body;
        let stranger = crate::identity::IdentityKey::generate();
        body.identity = stranger.public();
        body.name = crate::identity::DisplayName::new(name)?;
        Ok(crate::identity::DeviceCertificate::issue(&stranger, body)?.to_wire())
    }
}
