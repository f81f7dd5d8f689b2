//! A space's log, as this device reads it: MLS commits judged against the space's rules (who may add, remove or change roles, in which generation), merged in order, and application messages; a commit refused here stalls the space rather than forking it.

use super::*;

impl Engine {
    pub(super) fn on_log_page(&mut self, group: GroupId, page: huisclos_protocol::messages::LogPage) -> Result<()> {
        if let Some(next) = self.read_log_page(group, page)? {
            self.in_flight_follow_up(next.into(), Step::FetchContent { group })?;
        }
        Ok(())
    }

    /// Takes a page of the space's log; returns the read of its content store that
    /// comes next, if the log is read to its end and the space keeps its history.
    pub(super) fn read_log_page(
        &mut self,
        group: GroupId,
        page: huisclos_protocol::messages::LogPage,
    ) -> Result<Option<FetchContent>> {
        // Sequence numbers are dense; only a space without history loses messages to
        // the relay's retention. Anywhere else a gap is the relay withholding entries.
        let dense = self.spaces.get(&group).map(Space::meta_history_mode).transpose()? == Some(HistoryMode::Keep);
        let cursor = |engine: &Self| engine.spaces.get(&group).map(|space| space.meta.next_seq);
        let before = cursor(self);
        for entry in page.entries.iter() {
            let position = entry.seq.get();
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(None) };
            if position < space.meta.next_seq || space.meta.removed || space.meta.stalled {
                continue;
            }
            let skipped = (dense && space.meta.cursor_known && position > space.meta.next_seq)
                .then(|| (space.meta.next_seq, position - 1));
            space.meta.next_seq = position + 1;
            space.meta.cursor_known = true;
            if let Some((first, last)) = skipped {
                self.warn(Some(group), SecurityWarning::LogEntriesSkipped { first, last });
            }
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(None) };
            if space.meta.pending_commit_seq == Some(position) {
                space.meta.pending_commit_seq = None;
                space.meta.own_seqs.remove(&position);
                let rotates = space.group.pending_commit().is_some_and(|c| c.remove_proposals().next().is_some());
                let rules_before = crate::mls::rules_of(space.group.extensions())?;
                space.group.merge_pending_commit(&self.provider).map_err(mls_error)?;
                self.after_merge(&group, rotates, &rules_before, true)?;
                self.events.push_back(ClientEvent::SpaceChanged(group));
                self.save_group(&group)?;
                self.persist()?;
                continue;
            }
            if space.meta.own_seqs.remove(&position) {
                self.save_group(&group)?;
                self.persist()?;
                continue;
            }
            match self.process_entry(&group, entry.message.as_bytes()) {
                Ok(()) => {
                    self.save_group(&group)?;
                    self.persist()?;
                }
                Err(error) => {
                    // A bad message is skipped and reported; the rest of the log goes
                    // on. A commit cannot be skipped: the relay closed its epoch with
                    // it, so a device that cannot apply it cannot go on either, and
                    // says so (a space manager recreates the space).
                    self.rollback();
                    if let Some(space) = self.spaces.get_mut(&group) {
                        space.meta.next_seq = position + 1;
                    }
                    if entry.kind == huisclos_protocol::messages::EntryKind::Commit {
                        self.stall(&group, None, "", &error);
                    } else {
                        self.reject(Some(group), Rejection::LogEntry { position, fault: error.fault() });
                    }
                    self.save_group(&group)?;
                    self.persist()?;
                }
            }
        }
        let moved = cursor(self) > before;
        match page.end {
            LogPageEnd::More | LogPageEnd::EpochClosed if moved => self.requests.jobs.push_front(Job::Sync(group)),
            // More follows, or the epoch is closed, says the relay, yet the page moved
            // the reading nowhere: an honest relay serves an entry whenever one is due
            // (messages.md 7.4), and the commit that closed an epoch. Asking again
            // would only be asked the same for ever. A closed epoch whose commit is not
            // served is a withheld commit, counted as a stale epoch is (reported after
            // a few, then waited out); more that never comes ends the reading here,
            // until the next sync or push.
            LogPageEnd::EpochClosed => self.on_stale(group),
            LogPageEnd::More => tracing::debug!("a log page with more to come that served nothing new"),
            LogPageEnd::UpToDate => {
                let Some(space) = self.spaces.get(&group) else { return Ok(None) };
                if space.meta.pending_commit_seq.is_some() && moved {
                    // Our accepted commit is further on: keep reading.
                    self.requests.jobs.push_front(Job::Sync(group));
                } else if space.meta.pending_commit_seq.is_some() {
                    // Up to date, says the relay, without the commit it accepted from
                    // us, and nothing new: it withholds that commit. Counted as a stale
                    // epoch is (asked again a few times, reported, waited out), not read
                    // for for ever.
                    self.on_stale(group);
                } else if space.meta_history_mode()? == HistoryMode::None && !space.meta.caught_up {
                    if let Some(space) = self.spaces.get_mut(&group) {
                        space.meta.caught_up = true;
                    }
                    self.save_group(&group)?;
                    self.persist()?;
                } else if space.meta_history_mode()? == HistoryMode::Keep && !space.meta.removed && !space.meta.stalled
                {
                    return self.content_read(&group, PAGE).map(Some);
                }
            }
        }
        Ok(None)
    }

    /// The read of a space's content store from where this device is, `limit` records
    /// at most.
    pub(super) fn content_read(&self, group: &GroupId, limit: u16) -> Result<FetchContent> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        Ok(FetchContent {
            access: self.access(group)?,
            from: ContentSeq::new(space.meta.content_next).map_err(CoreError::Decode)?,
            limit: PageLimit::new(limit).map_err(CoreError::Decode)?,
        })
    }

    pub(super) fn process_entry(&mut self, group: &GroupId, bytes: &[u8]) -> Result<()> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let protocol = message.try_into_protocol_message().map_err(mls_error)?;
        let rules = self.rules(group)?;
        let members = self.members(group)?;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let processed = space.group.process_message(&self.provider, protocol).map_err(mls_error)?;
        let sender = match processed.sender() {
            Sender::Member(index) => *index,
            _ => return Err(CoreError::Verification(Unverified::WrongSender)),
        };
        let sender_member = space.group.member_at(sender).ok_or(CoreError::Verification(Unverified::WrongSender))?;
        let sender_cert = crate::mls::certificate_of(&sender_member.credential, &sender_member.signature_key)?;
        // A device its person's newest roster no longer lists (revoked) speaks for
        // nobody, even before the commit that removes it from the space.
        let sender_allowed = self.device_allowed(&sender_cert.body);
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(_) | ProcessedMessageContent::ProposalMessage(_)
                if !sender_allowed =>
            {
                Err(CoreError::Verification(Unverified::NotOnRoster))
            }
            ProcessedMessageContent::ApplicationMessage(application) => {
                let bytes = Zeroizing::new(application.into_bytes());
                match AppPayload::from_wire(&bytes)? {
                    AppPayload::HistoryKeys(_) => {
                        // Release 0.1's keys chosen by a member: a key is derived from
                        // the epoch that starts its generation, never taken from anyone.
                        Err(CoreError::Verification(Unverified::History))
                    }
                    AppPayload::HistoryGrant(grant) => {
                        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
                        match space.meta.history.take_grant(group, &grant) {
                            Ok(true) => {
                                // Records sealed before this device held their keys are
                                // read again from the start of the content store.
                                space.meta.content_next = 0;
                                self.push_job(Job::Sync(*group));
                                // What waited in the outbox for the key (a post written
                                // while the grant was on its way) can leave now.
                                self.push_job(Job::Outbox);
                                Ok(())
                            }
                            Ok(false) => Ok(()),
                            Err(error) => {
                                let from = sender_cert.body.name.to_string();
                                self.warn(
                                    Some(*group),
                                    SecurityWarning::HistoryGrantRefused { from, fault: error.fault() },
                                );
                                Ok(())
                            }
                        }
                    }
                    AppPayload::Content(envelope) => self.apply_envelope(group, &envelope, Some(&sender_cert), None),
                    AppPayload::ContentFromSender(envelope) => {
                        let envelope = envelope.with_author(sender_cert.clone(), *group)?;
                        self.apply_envelope(group, &envelope, Some(&sender_cert), None)
                    }
                    AppPayload::Roster(card) => self.observe_roster(&card, Some(*group)),
                }
            }
            ProcessedMessageContent::ProposalMessage(queued) => {
                // The one standalone proposal in use: a member's device leaving.
                let Proposal::Remove(remove) = queued.proposal() else {
                    return Err(CoreError::Invalid(InvalidInput::UnsupportedOperation));
                };
                if remove.removed() != sender {
                    return Err(CoreError::Verification(Unverified::WrongSender));
                }
                // The last space manager may not leave while others remain: every
                // device refuses it, not only the leaver's own.
                let identity = sender_cert.body.identity;
                let others: Vec<&MemberSummary> = members.iter().filter(|m| m.identity != identity).collect();
                if rules.role_of(&identity).may_manage_space()
                    && !others.is_empty()
                    && !others.iter().any(|m| m.role.may_manage_space())
                {
                    return Err(CoreError::Forbidden(Refusal::LastManagerLeaving));
                }
                let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.group.store_pending_proposal(self.provider.storage(), *queued).map_err(mls_error)?;
                let operation = if sender_cert.body.identity == self.identity {
                    // Another device of this person left: the person leaves, so this
                    // device proposes its own removal too.
                    Operation::Leave
                } else {
                    Operation::CommitProposals
                };
                self.enqueue(OutboxItem::Operation { group: *group.as_bytes(), operation })?;
                self.events.push_back(ClientEvent::SpaceChanged(*group));
                Ok(())
            }
            ProcessedMessageContent::OwnPendingCommit | ProcessedMessageContent::OwnPrivateMessage => {
                // Our own entries are recognised by position before processing; one that
                // reaches here was replayed at another position.
                Err(CoreError::Verification(Unverified::WrongSender))
            }
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => {
                Err(CoreError::Invalid(InvalidInput::UnsupportedOperation))
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let verdict = if sender_allowed {
                    self.judge_commit(group, &rules, &members, &sender_member, &staged)
                } else {
                    Err(CoreError::Forbidden(Refusal::DeviceNotOnRoster))
                };
                let CommitVerdict { added, revoked } = match verdict {
                    Ok(verdict) => verdict,
                    Err(error) => {
                        // The relay accepted it as this epoch's commit, so the space
                        // cannot advance past it here. Nobody honest applies it.
                        self.stall(group, Some(sender_cert.body.identity), &sender_cert.body.name.to_string(), &error);
                        return Ok(());
                    }
                };
                let before: Vec<IdentityPublicKey> = members.iter().map(|m| m.identity).collect();
                for certificate in &added {
                    self.observe(&certificate.body, Some(*group))?;
                    // A new device of someone already in the space: shown to everyone,
                    // since it reads everything from now on.
                    if before.contains(&certificate.body.identity) {
                        self.events.push_back(ClientEvent::DeviceAdded {
                            space: *group,
                            identity: certificate.body.identity,
                            name: certificate.body.name.to_string(),
                            device: certificate.body.device,
                        });
                    }
                }
                if self.devices.iter().any(|c| revoked.contains(&c.body.device)) {
                    self.devices.retain(|c| !revoked.contains(&c.body.device));
                    self.save_profile()?;
                }
                let removed_me = staged.self_removed();
                let rotates = staged.remove_proposals().next().is_some();
                let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
                space.group.merge_staged_commit(&self.provider, *staged).map_err(mls_error)?;
                if removed_me {
                    space.meta.removed = true;
                    self.events.push_back(ClientEvent::RemovedFromSpace(*group));
                } else {
                    self.after_merge(group, rotates, &rules, false)?;
                    self.events.push_back(ClientEvent::SpaceChanged(*group));
                }
                Ok(())
            }
        }
    }

    /// Marks a space stalled: a commit the relay sequenced was refused here, so this
    /// device cannot go past it. `by` is its committer when known.
    pub(super) fn stall(&mut self, group: &GroupId, by: Option<IdentityPublicKey>, name: &str, error: &CoreError) {
        let Some(space) = self.spaces.get_mut(group) else { return };
        space.meta.stalled = true;
        space.meta.stalled_by = by.map(|identity| *identity.as_bytes());
        let fault = error.fault();
        let warning = if name.is_empty() {
            SecurityWarning::Stalled { fault }
        } else {
            SecurityWarning::StalledBy { by: name.to_owned(), fault }
        };
        self.warn(Some(*group), warning);
    }

    /// Judges a commit whole before it is merged: every proposal is of a kind the
    /// space uses (add, remove, the group context's extensions), every credential it
    /// brings verifies, the committer's new leaf (its update path) keeps its
    /// credential and signature key, the group context holds only the extensions every
    /// space has, and the changes are allowed by the rules of the epoch it closes.
    pub(super) fn judge_commit(
        &self,
        group: &GroupId,
        rules: &SpaceRules,
        members: &[MemberSummary],
        sender: &Member,
        staged: &StagedCommit,
    ) -> Result<CommitVerdict> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let sender_cert = crate::mls::certificate_of(&sender.credential, &sender.signature_key)?;
        for queued in staged.queued_proposals() {
            match queued.proposal() {
                Proposal::Add(_) | Proposal::Remove(_) | Proposal::GroupContextExtensions(_) => {}
                _ => return Err(CoreError::Forbidden(Refusal::UnknownChange)),
            }
        }
        // Across an update only the leaf's encryption key may change: never the
        // device or the key that signs for it, and the person only by a signed
        // transition to their new identity key (the same device, certified again).
        let mut rotation = None;
        if let Some(leaf) = staged.update_path_leaf_node()
            && (leaf.credential() != &sender.credential || leaf.signature_key().as_slice() != sender.signature_key)
        {
            let moved = crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())
                .map_err(|_| CoreError::Forbidden(Refusal::IdentityChangedInUpdate))?;
            let same_device = leaf.signature_key().as_slice() == sender.signature_key
                && moved.body.device == sender_cert.body.device
                && moved.body.account == sender_cert.body.account
                && moved.body.mls_key == sender_cert.body.mls_key;
            if !same_device || !self.transition_known(&sender_cert.body.identity, &moved.body.identity) {
                return Err(CoreError::Forbidden(Refusal::IdentityChangedInUpdate));
            }
            rotation = Some((sender_cert.body.identity, moved.body.identity));
        }
        crate::mls::check_context_extensions(staged.group_context().extensions())?;
        let mut changes = Vec::new();
        let mut added = Vec::new();
        for add in staged.add_proposals() {
            let leaf = add.add_proposal().key_package().leaf_node();
            let cert = crate::mls::certificate_of(leaf.credential(), leaf.signature_key().as_slice())?;
            // Only a device its person approved (on their newest roster) joins.
            if !self.device_allowed(&cert.body) {
                return Err(CoreError::Forbidden(Refusal::DeviceNotOnRoster));
            }
            changes.push(ChangeRequest::Add { identity: cert.body.identity });
            added.push(cert);
        }
        // Devices of this person removed by another of its devices: revoked.
        let mut revoked = Vec::new();
        for remove in staged.remove_proposals() {
            let removed = space
                .group
                .member_at(remove.remove_proposal().removed())
                .ok_or(CoreError::Verification(Unverified::WrongSender))?;
            let removed = crate::mls::certificate_of(&removed.credential, &removed.signature_key)?;
            let proposer = match remove.sender() {
                Sender::Member(index) => {
                    let m = space.group.member_at(*index).ok_or(CoreError::Verification(Unverified::WrongSender))?;
                    crate::mls::certificate_of(&m.credential, &m.signature_key)?
                }
                _ => return Err(CoreError::Verification(Unverified::WrongSender)),
            };
            if removed.body.identity == self.identity
                && proposer.body.identity == removed.body.identity
                && proposer.body.device != removed.body.device
            {
                revoked.push(removed.body.device);
            }
            // A device still certified under the proposer's previous identity key is
            // the proposer's own (a person removing their lost device after replacing
            // the key).
            let removed_identity = if self.transition_known(&removed.body.identity, &proposer.body.identity) {
                proposer.body.identity
            } else {
                removed.body.identity
            };
            changes.push(ChangeRequest::Remove { identity: removed_identity, proposer: proposer.body.identity });
        }
        // A person this commit takes out of the space leaves with their role: the
        // commit must drop it, and dropping it is no change of the rules that needs a
        // space manager.
        let removed_leaves: Vec<LeafNodeIndex> =
            staged.remove_proposals().map(|r| r.remove_proposal().removed()).collect();
        let departing = departing(&space.group, &removed_leaves);
        let next_rules = crate::mls::rules_of(staged.group_context().extensions())?;
        let mut base = rules.clone();
        if let Some((previous, next)) = rotation {
            base = base.renamed(&previous, &next);
        }
        for identity in &departing {
            if next_rules.roles.iter().any(|e| &e.identity == identity) {
                return Err(CoreError::Forbidden(Refusal::DepartingRoleKept));
            }
            base = base.without_role(identity);
        }
        if next_rules != base {
            changes.push(ChangeRequest::Rules(Box::new(next_rules.clone())));
        }
        let member_ids: Vec<IdentityPublicKey> = members.iter().map(|m| m.identity).collect();
        check_commit(rules, &sender_cert.body.identity, &changes, &member_ids)?;
        check_managers_remain(rules, &next_rules, &member_ids, &departing)?;
        // The ledger says what every member holds of the history; a commit that says
        // otherwise is refused.
        let ledger = crate::mls::ledger_of(staged.group_context().extensions())?
            .ok_or(CoreError::Forbidden(Refusal::LedgerDropped))?;
        let rotates = !removed_leaves.is_empty();
        space.meta.history.check_ledger(group, &ledger, rotates, staged.group_context().epoch().as_u64(), rules)?;
        Ok(CommitVerdict { added, revoked })
    }
}
