//! The outbox: what this device will send about its spaces, in order (planned into
//! requests, and answered), and the marks on the feed items it writes or changes
//! until they reach the relay ([`WaitingMarks`]).

use super::*;

impl Engine {
    pub(super) fn plan_outbox(&mut self) -> Result<Option<(RequestBody, Step)>> {
        // Items are sent in order; an item whose space cannot advance waits.
        let items = self.store.outbox().first_each(64)?;
        for (index, item) in items {
            let item = item?;
            let group = item.group();
            let Some(space) = self.spaces.get(&group) else {
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            };
            // A record to forget in a space left, or whose reading stopped, is kept.
            if let OutboxItem::Forget { record, .. } = &item
                && (space.meta.removed || space.meta.stalled)
            {
                self.store.drop_own_record_position(&group, &ContentId::from_bytes(*record));
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            }
            if space.meta.removed {
                self.remove_from_outbox(index);
                self.persist()?;
                self.reject(Some(group), Rejection::UnsentItemDropped);
                continue;
            }
            if space.meta.stalled || (!space.meta.relay_created && !matches!(item, OutboxItem::CreateGroup { .. })) {
                continue;
            }
            if matches!(item, OutboxItem::HistoryKeys { .. }) {
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            }
            // A device that joined and waits for the history its adder owes it commits
            // nothing (a commit's ledger needs the rosters it lacks) and seals nothing
            // until it holds the current key (below).
            if !space.meta.history.is_complete()
                && matches!(&item, OutboxItem::Operation { operation, .. } if !matches!(operation, Operation::Leave))
            {
                continue;
            }
            // MLS sends no application message while proposals wait for a commit: items
            // wait, operations (which commit them) go first.
            let proposals_pending = space.group.pending_proposals().next().is_some();
            if proposals_pending && !matches!(item, OutboxItem::Operation { .. }) {
                continue;
            }
            if !proposals_pending && matches!(item, OutboxItem::Operation { operation: Operation::CommitProposals, .. })
            {
                // Someone else committed them first.
                self.remove_from_outbox(index);
                self.persist()?;
                continue;
            }
            let planned = match item {
                OutboxItem::CreateGroup { .. } => {
                    let access = self.access(&group)?;
                    let verifier = EpochVerifier::for_token(&access.token);
                    // A space without history keeps its content only in MLS messages,
                    // which the relay then deletes after its retention period.
                    let retention = match space.meta_history_mode()? {
                        HistoryMode::Keep => LogRetention::Keep,
                        HistoryMode::None => LogRetention::Expire,
                    };
                    (CreateGroup { group, verifier, retention }.into(), OutboxStage::Single)
                }
                OutboxItem::Content { envelope, .. } => {
                    let envelope = ContentEnvelope::from_wire(&envelope)?;
                    if space.meta_history_mode()? == HistoryMode::Keep {
                        let Some(key) = space.meta.history.sealing_key() else { continue };
                        let record = envelope.signed.id;
                        let (sealed, stage) = self.seal_for_store(&group, &key, &envelope)?;
                        // A record that carries this device's certificate is never
                        // forgotten: later records refer to it.
                        if !sealed.referring && matches!(envelope.signed.body, ContentBody::NoteEdit(_)) {
                            self.store.mark_unforgettable(&group, &record)?;
                        }
                        let access = self.access(&group)?;
                        (
                            PutContent { access, record, sealed: ContentRecordBytes::new(sealed.to_bytes())? }.into(),
                            stage,
                        )
                    } else {
                        // Receivers take the certificate from the sender's leaf: it is
                        // referred to whenever the leaf carries the one it was signed
                        // with (not while a new certificate waits for its leaf update).
                        let leaf_carries_it = space.group.own_leaf_node().is_some_and(|leaf| {
                            crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())
                                .is_ok_and(|own| own == envelope.signed.author)
                        });
                        let payload = if leaf_carries_it {
                            AppPayload::ContentFromSender(envelope.referring())
                        } else {
                            AppPayload::Content(envelope)
                        };
                        let message = self.application_message(&group, &payload)?;
                        (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                    }
                }
                OutboxItem::Forget { note, record, key, covered_by, .. } => {
                    let (note, record) = (NodeId::from_bytes(note), ContentId::from_bytes(record));
                    let covered_by = ContentId::from_bytes(covered_by);
                    let positions = (
                        self.store.own_record_position(&group, &record)?,
                        self.store.own_record_position(&group, &covered_by)?,
                    );
                    // Forgotten only where no device that reads the store later would
                    // wait: the record and the compaction that covers it both stored,
                    // this device a contributor still, and no other device's update of
                    // the note between them (one that may build on the record's text,
                    // which would then come after it, in the compaction). The store is
                    // read as far as the compaction first.
                    let forgettable = match positions {
                        (Some(at), Some(compaction))
                            if at != store::POSITION_LOST && compaction != store::POSITION_LOST =>
                        {
                            if space.meta.content_next <= compaction {
                                continue;
                            }
                            let contributes = self.rules(&group)?.role_of(&self.identity).may_contribute();
                            contributes
                                && !self.store.is_unforgettable(&group, &record)?
                                && !self.store.foreign_note_update_between(&group, &note, at, compaction)?
                                && !self.store.space_blocker_between(&group, at, compaction)?
                        }
                        _ => false,
                    };
                    if space.meta_history_mode()? != HistoryMode::Keep || !forgettable {
                        // Kept at the relay: it keeps the records before it from being
                        // forgotten across it, as another device's update would.
                        if let Some(at) = positions.0.filter(|at| *at != store::POSITION_LOST) {
                            self.store.note_foreign_update(&group, &note, at)?;
                        }
                        self.remove_from_outbox(index);
                        self.persist()?;
                        continue;
                    }
                    let key = huisclos_protocol::ids::ForgetKey::from_bytes(key);
                    (
                        huisclos_protocol::messages::ForgetContent { access: self.access(&group)?, record, key }.into(),
                        OutboxStage::Single,
                    )
                }
                OutboxItem::HistoryKeys { .. } => continue,
                OutboxItem::Roster { card, .. } => {
                    let payload = AppPayload::Roster(ContactCard::from_wire(&card)?);
                    let message = self.application_message(&group, &payload)?;
                    (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                }
                OutboxItem::HistoryGrant { payload, .. } => {
                    let message = self.application_bytes(&group, &payload)?;
                    (AppendMessage { access: self.access(&group)?, message }.into(), OutboxStage::Single)
                }
                OutboxItem::Marker { .. } => {
                    let Some(key) = space.meta.history.sealing_key() else { continue };
                    let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
                    let record = random_content_id();
                    let signed = EnvelopeBody {
                        id: record,
                        group,
                        author: certificate,
                        created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
                        body: ContentBody::Marker(GenerationMarker { generation: key.generation() }),
                    };
                    let envelope = ContentEnvelope::sign(signed, &self.device.mls)?;
                    let (sealed, stage) = self.seal_for_store(&group, &key, &envelope)?;
                    let access = self.access(&group)?;
                    (PutContent { access, record, sealed: ContentRecordBytes::new(sealed.to_bytes())? }.into(), stage)
                }
                OutboxItem::Operation { operation, .. } => match self.plan_operation(&group, operation) {
                    Ok(planned) => planned,
                    Err(error) => {
                        // An operation that cannot be built on the current state (the
                        // person already left, the role was taken away) is dropped.
                        self.remove_from_outbox(index);
                        self.persist()?;
                        self.reject(Some(group), Rejection::OperationDropped(error.fault()));
                        continue;
                    }
                },
            };
            let (body, stage) = planned;
            self.persist()?;
            return Ok(Some((body, Step::Outbox { index, stage })));
        }
        Ok(None)
    }

    /// Seals a record for the space's store: referring to this device's certificate
    /// once the store holds a record of the key's generation carrying it (every
    /// reader of the generation then read that record first, as records are read in
    /// the store's order), carrying it until then.
    fn seal_for_store(
        &self,
        group: &GroupId,
        key: &crate::content::HistoryKey,
        envelope: &ContentEnvelope,
    ) -> Result<(SealedRecord, OutboxStage)> {
        let author = CertificateRef::of(&envelope.signed.author);
        let generation = key.generation();
        let record = envelope.signed.id;
        let sealed = if self.store.certificate_stored(group, &author, generation)? {
            SealedRecord::seal_referring(key, group, &record, &envelope.referring())?
        } else {
            SealedRecord::seal(key, group, &record, envelope)?
        };
        Ok((sealed, OutboxStage::Sealed { author, generation }))
    }

    pub(super) fn on_outbox_answer(
        &mut self,
        index: u64,
        stage: OutboxStage,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(item) = self.store.outbox().get(index)? else { return Ok(()) };
        let group = item.group();
        // A record stored carries this device's certificate or refers to one that an
        // earlier record carried: from now on the generation's records refer to it. Not
        // on `Conflict` (a resend of a record stored before its answer was lost): that
        // one may have been sealed in an earlier generation; reading it back marks it.
        let stage = match stage {
            OutboxStage::Sealed { author, generation } => {
                if matches!(answer, Ok(ResponseBody::ContentStored(_))) {
                    self.store.mark_certificate_stored(&group, &author, generation)?;
                }
                OutboxStage::Single
            }
            other => other,
        };
        match (stage, answer) {
            (OutboxStage::Claim { operation }, Ok(ResponseBody::ClaimedKeyPackages(claims))) => {
                // The certificates of the devices claimed: each package opens only
                // under its own device's certificate.
                let (identity, wanted) = match &operation {
                    Operation::Invite { card, .. } => {
                        let card = ContactCard::from_wire(card)?;
                        (card.body.identity, card.body.devices.as_slice().to_vec())
                    }
                    Operation::AddDevice { certificate } | Operation::AddMemberDevice { certificate } => {
                        let certificate = DeviceCertificate::from_verified_bytes(certificate)?;
                        (certificate.body.identity, vec![certificate])
                    }
                    Operation::Readd { certificates, .. } => readd_devices(certificates)?,
                    _ => return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
                };
                let mut packages = Vec::new();
                for claim in claims.claims.iter() {
                    let Some(package) = &claim.package else { continue };
                    let Some(certificate) = wanted.iter().find(|c| c.body.device == claim.device) else {
                        self.warn(Some(group), SecurityWarning::UnaskedDevice);
                        continue;
                    };
                    let present = self.spaces.get(&group).is_some_and(|s| Self::has_device(&s.group, &claim.device));
                    if present {
                        continue;
                    }
                    let opened = crate::conceal::open_key_package(certificate, package.package.as_bytes())
                        .and_then(|bytes| self.validate_key_package(&bytes, &identity, &claim.device));
                    match opened {
                        Ok(kp) => packages.push((kp, claim.device)),
                        Err(error) => self.warn(Some(group), SecurityWarning::ForeignKeyPackage(error.fault())),
                    }
                }
                if packages.is_empty() {
                    self.remove_from_outbox(index);
                    self.persist()?;
                    self.reject(Some(group), Rejection::NoUsableKeyPackage);
                    return Ok(());
                }
                let (body, stage) = self.build_commit(&group, &operation, packages)?;
                self.requests.follow_ups.push_back((body, Step::Outbox { index, stage }));
                Ok(())
            }
            (OutboxStage::Commit { welcome, grants }, Ok(ResponseBody::CommitAccepted(accepted))) => {
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.meta.pending_commit_seq = Some(accepted.seq.get());
                space.meta.own_seqs.insert(accepted.seq.get());
                self.remove_from_outbox(index);
                for payload in grants {
                    self.enqueue(OutboxItem::HistoryGrant { group: *group.as_bytes(), payload })?;
                }
                // The Welcome is kept with the commit's outcome, in one write: it is
                // delivered (again and again if it must) even if the app stops now.
                if let Some((recipients, welcome)) = welcome {
                    let item = InboxItem::Welcome(InboxWelcome::new(welcome)?).to_welcome_bytes()?;
                    self.queue_delivery(group, &recipients, item.as_bytes().to_vec())?;
                    self.requests.jobs.retain(|job| *job != Job::Deliveries);
                    self.requests.jobs.push_front(Job::Deliveries);
                }
                self.save_group(&group)?;
                self.persist()?;
                self.requests.jobs.push_front(Job::Sync(group));
                self.push_job(Job::Outbox);
                Ok(())
            }
            (OutboxStage::Leave, Ok(ResponseBody::Appended(appended))) => {
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.meta.own_seqs.insert(appended.seq.get());
                space.meta.removed = true;
                self.remove_from_outbox(index);
                self.save_group(&group)?;
                self.persist()?;
                self.events.push_back(ClientEvent::RemovedFromSpace(group));
                self.push_job(Job::Outbox);
                Ok(())
            }
            (OutboxStage::Leave, Err(RelayError::StaleEpoch { .. })) => {
                // The proposal was for an epoch that closed: read on, then propose again.
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.group.clear_pending_proposals(self.provider.storage()).map_err(mls_error)?;
                self.persist()?;
                self.on_stale(group);
                Ok(())
            }
            (OutboxStage::Commit { .. }, Err(RelayError::StaleEpoch { .. })) => {
                // Another commit won this epoch: forget ours, read what we missed, and
                // build the operation again on the new state.
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.group.clear_pending_commit(self.provider.storage()).map_err(mls_error)?;
                self.persist()?;
                self.on_stale(group);
                Ok(())
            }
            (OutboxStage::Commit { .. }, Err(error)) => {
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.group.clear_pending_commit(self.provider.storage()).map_err(mls_error)?;
                self.persist()?;
                Err(CoreError::Relay(error))
            }
            (OutboxStage::Single, Err(RelayError::Conflict))
                if matches!(item, OutboxItem::Content { .. } | OutboxItem::CreateGroup { .. }) =>
            {
                // A resend of something the relay took before the answer was lost: the
                // record id (or group id) is already there, so it was delivered. Sealed
                // the first time perhaps with this device's certificate: never forgotten.
                if let OutboxItem::Content { envelope, .. } = &item {
                    let envelope = ContentEnvelope::from_wire(envelope)?;
                    self.store.mark_unforgettable(&group, &envelope.signed.id)?;
                    if matches!(envelope.signed.body, ContentBody::NoteEdit(_)) {
                        self.store.set_own_record_position(&group, &envelope.signed.id, store::POSITION_LOST)?;
                    }
                }
                let answer = match item {
                    OutboxItem::CreateGroup { .. } => {
                        Some(ResponseBody::GroupCreated(huisclos_protocol::messages::GroupCreated {}))
                    }
                    _ => None,
                };
                self.finish_single(index, &item, group, answer)
            }
            (OutboxStage::Single, Err(error))
                if matches!(item, OutboxItem::Forget { .. })
                    && !matches!(
                        error,
                        RelayError::StaleEpoch { .. }
                            | RelayError::RateLimited { .. }
                            | RelayError::Internal
                            | RelayError::AuthRequired
                    ) =>
            {
                // Never stored, or a relay that forgets nothing (one from before
                // `ForgetContent` answers `BadRequest`): the record stays, and the
                // outbox goes on.
                tracing::debug!(%error, "a record not forgotten");
                self.finish_single(index, &item, group, None)
            }
            (OutboxStage::Single, Ok(answer)) => self.finish_single(index, &item, group, Some(answer)),
            (OutboxStage::Single, Err(RelayError::StaleEpoch { .. })) => {
                self.on_stale(group);
                Ok(())
            }
            (_, Err(error)) => Err(CoreError::Relay(error)),
            (_, Ok(_)) => Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        }
    }

    /// Ends a one-request outbox item: records what the relay answered and drops the
    /// item.
    pub(super) fn finish_single(
        &mut self,
        index: u64,
        item: &OutboxItem,
        group: GroupId,
        answer: Option<ResponseBody>,
    ) -> Result<()> {
        match answer {
            Some(ResponseBody::ContentStored(stored)) if matches!(item, OutboxItem::Content { .. }) => {
                // Where a note's update is stored decides whether it may be forgotten.
                if let OutboxItem::Content { envelope, .. } = item
                    && let Ok(envelope) = ContentEnvelope::from_wire(envelope)
                    && matches!(envelope.signed.body, ContentBody::NoteEdit(_))
                {
                    let (record, seq) = (envelope.signed.id, stored.seq.get());
                    self.store.set_own_record_position(&group, &record, seq)?;
                    if let ContentBody::NoteEdit(edit) = &envelope.signed.body
                        && self.store.is_kept(&group, &record)?
                    {
                        self.store.note_foreign_update(&group, &edit.note, seq)?;
                    }
                }
                // This device's own item, applied when it was written: the relay does
                // not push it back to this connection, so the cursor passes it here
                // when nothing lies before it (otherwise the next read takes it).
                if let Some(space) = self.spaces.get_mut(&group)
                    && space.meta.content_next == stored.seq.get()
                {
                    space.meta.content_next += 1;
                }
            }
            Some(ResponseBody::Appended(appended)) => {
                if let Some(space) = self.spaces.get_mut(&group) {
                    space.meta.own_seqs.insert(appended.seq.get());
                }
            }
            Some(ResponseBody::GroupCreated(_)) => {
                if let Some(space) = self.spaces.get_mut(&group) {
                    space.meta.relay_created = true;
                }
                self.push_job(Job::Subscribe);
            }
            _ => {}
        }
        if let OutboxItem::Content { envelope, .. } = item {
            let envelope = ContentEnvelope::from_wire(envelope)?;
            self.events.push_back(ClientEvent::Delivered(envelope.signed.id));
        }
        if let OutboxItem::Forget { record, .. } = item {
            self.store.drop_own_record_position(&group, &ContentId::from_bytes(*record));
        }
        if matches!(item, OutboxItem::Content { .. }) {
            // A compaction stored (or answered `Conflict`) may release what it covers.
            self.release_forgets(&group)?;
        }
        self.remove_from_outbox(index);
        self.save_group(&group)?;
        self.persist()?;
        self.push_job(Job::Outbox);
        Ok(())
    }

    pub(super) fn validate_key_package(
        &self,
        bytes: &[u8],
        identity: &IdentityPublicKey,
        device: &DeviceId,
    ) -> Result<KeyPackage> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let MlsMessageBodyIn::KeyPackage(package) = message.extract() else {
            return Err(CoreError::Invalid(InvalidInput::NotAKeyPackage));
        };
        let package = package.validate(self.provider.crypto(), ProtocolVersion::Mls10).map_err(mls_error)?;
        let leaf = package.leaf_node();
        let cert = crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())?;
        if &cert.body.identity != identity || &cert.body.device != device {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        Ok(package)
    }

    pub(super) fn enqueue(&mut self, item: OutboxItem) -> Result<()> {
        let index = self.outbox.next;
        self.outbox.next += 1;
        self.store.outbox().put(index, &item)?;
        self.mark_waiting(&item, true);
        self.save_profile()?;
        self.push_job(Job::Outbox);
        Ok(())
    }

    /// Takes an item out of the outbox (sent, or dropped), and its mark off the feed
    /// item it wrote or changed.
    pub(super) fn remove_from_outbox(&mut self, index: u64) {
        if let Ok(Some(item)) = self.store.outbox().get(index) {
            self.mark_waiting(&item, false);
        }
        self.store.outbox().remove(index);
    }

    /// Counts an outbox item for (or, `on` false, off) the feed item it writes or
    /// changes, and tells the feeds observed when that item starts or stops waiting.
    fn mark_waiting(&mut self, item: &OutboxItem, on: bool) {
        if let Some((group, target)) = self.outbox.marks.count(item, on) {
            self.observed.item_changed(&group, target);
        }
    }

    /// Forgets this step's writes ([`Vault::rollback`]): an outbox row added or removed
    /// in the step is back as it was, so the waiting marks are counted again from the
    /// outbox, and the observed feeds hear of every item whose mark changed.
    pub(super) fn rollback(&mut self) {
        self.store.rollback();
        // Notes the step put back may hold what it merged: read them again.
        self.notes.rolled_back();
        // If the outbox cannot be read, the marks stay as they were rather than vanish
        // (an item shown as sent when it is not is the worse mistake).
        if let Ok(recounted) = self.counted_marks() {
            for (group, item) in self.outbox.marks.flipped(&recounted) {
                self.observed.item_changed(&group, item);
            }
            self.outbox.marks = recounted;
        }
    }

    /// The marks of what the outbox holds when the profile opens.
    pub(super) fn mark_waiting_from_outbox(&mut self) -> Result<()> {
        self.outbox.marks = self.counted_marks()?;
        Ok(())
    }

    /// The marks of what the outbox holds now, counted from the store.
    fn counted_marks(&self) -> Result<WaitingMarks> {
        let items = self.store.outbox().first_readable(usize::MAX)?;
        Ok(WaitingMarks::of(items.iter().map(|(_, item)| item)))
    }

    /// Whether something in the outbox writes or changes this feed item.
    pub(super) fn is_waiting(&self, item: &ContentId) -> bool {
        self.outbox.marks.contains(item)
    }
}

/// The outbox's state in memory (its items are in the store).
pub(super) struct OutboxState {
    /// The index the next queued item gets (shared with deliveries, whose indexes
    /// come from the same count).
    pub(super) next: u64,
    pub(super) marks: WaitingMarks,
}

impl OutboxState {
    pub(super) fn starting_at(next: u64) -> Self {
        Self { next, marks: WaitingMarks::default() }
    }
}

/// The feed items that something in the outbox writes or changes (a post, comment,
/// edit, deletion or reaction), each with how many such outbox items it has and the
/// space it is in (see [`FeedItem::waiting`]).
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub(super) struct WaitingMarks(BTreeMap<ContentId, (GroupId, u32)>);

impl WaitingMarks {
    /// The marks of these outbox items.
    pub(super) fn of<'a>(items: impl Iterator<Item = &'a OutboxItem>) -> Self {
        let mut marks = Self::default();
        for item in items {
            marks.count(item, true);
        }
        marks
    }

    /// Counts `item` for (or, `on` false, off) the feed item it targets; returns that
    /// item, with its space, when its mark appeared or went.
    pub(super) fn count(&mut self, item: &OutboxItem, on: bool) -> Option<(GroupId, ContentId)> {
        let (group, target) = target_of(item)?;
        let (_, count) = self.0.entry(target).or_insert((group, 0));
        let was = *count > 0;
        *count = if on { count.saturating_add(1) } else { count.saturating_sub(1) };
        let is = *count > 0;
        if !is {
            self.0.remove(&target);
        }
        (was != is).then_some((group, target))
    }

    pub(super) fn contains(&self, item: &ContentId) -> bool {
        self.0.contains_key(item)
    }

    /// The items marked in one of `self` and `other` but not in both.
    pub(super) fn flipped(&self, other: &Self) -> Vec<(GroupId, ContentId)> {
        let only_in = |a: &Self, b: &Self| -> Vec<(GroupId, ContentId)> {
            a.0.iter().filter(|(item, _)| !b.0.contains_key(*item)).map(|(item, (group, _))| (*group, *item)).collect()
        };
        let mut flipped = only_in(self, other);
        flipped.extend(only_in(other, self));
        flipped
    }
}

/// The feed item an outbox item writes or changes, and its space.
fn target_of(item: &OutboxItem) -> Option<(GroupId, ContentId)> {
    let OutboxItem::Content { group, envelope } = item else { return None };
    let envelope = ContentEnvelope::from_wire(envelope).ok()?;
    let target = match &envelope.signed.body {
        ContentBody::Post(_) | ContentBody::Comment(_) => envelope.signed.id,
        ContentBody::React(react) => react.target,
        ContentBody::Edit(edit) => edit.target,
        ContentBody::Delete(delete) => delete.target,
        ContentBody::Library(_)
        | ContentBody::Marker(_)
        | ContentBody::NoteEdit(_)
        | ContentBody::NoteVersion(_)
        | ContentBody::FilePreview(_) => {
            return None;
        }
    };
    Some((GroupId::from_bytes(*group), target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(items: &[(u8, u8, u32)]) -> WaitingMarks {
        WaitingMarks(
            items
                .iter()
                .map(|(item, group, count)| {
                    (ContentId::from_bytes([*item; 16]), (GroupId::from_bytes([*group; 16]), *count))
                })
                .collect(),
        )
    }

    #[test]
    fn the_marks_that_flipped_between_two_countings_are_those_in_one_only() {
        let before = marks(&[(1, 9, 1), (2, 9, 2), (3, 8, 1)]);
        let after = marks(&[(2, 9, 1), (4, 8, 1)]);
        let mut flipped = before.flipped(&after);
        flipped.sort();
        let expected = vec![
            (GroupId::from_bytes([8; 16]), ContentId::from_bytes([3; 16])),
            (GroupId::from_bytes([8; 16]), ContentId::from_bytes([4; 16])),
            (GroupId::from_bytes([9; 16]), ContentId::from_bytes([1; 16])),
        ];
        assert_eq!(flipped, expected, "a count that changed but stayed above zero is no flip");
        assert!(before.flipped(&before).is_empty());
    }

    #[test]
    fn outbox_items_that_write_no_feed_item_mark_nothing() {
        let mut marks = WaitingMarks::default();
        for item in [
            OutboxItem::CreateGroup { group: [1; 16] },
            OutboxItem::Marker { group: [1; 16] },
            OutboxItem::Roster { group: [1; 16], card: vec![1, 2, 3] },
            // Bytes that are no envelope: nothing to mark, and no panic.
            OutboxItem::Content { group: [1; 16], envelope: vec![0xff; 12] },
        ] {
            assert_eq!(marks.count(&item, true), None);
        }
        assert_eq!(marks, WaitingMarks::default());
    }
}
