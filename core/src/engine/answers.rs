//! What the relay answers and pushes: log pages, content, Welcomes, notices, commits judged and merged.
//!
//! Long because judging a commit whole (who added or removed whom, with which role,
//! in which generation) and applying a content record are each one chain of checks
//! that reads best unbroken.

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // Answers and events.

    /// Feeds the relay's push event.
    pub fn handle_event(&mut self, event: Event, now: Now) {
        self.now = now;
        match event {
            Event::LogAdvanced(advanced) => {
                if self.spaces.contains_key(&advanced.group) {
                    self.push_job(Job::Sync(advanced.group));
                }
            }
            Event::ContentAdvanced(advanced) => {
                if self.spaces.contains_key(&advanced.group) {
                    self.push_job(Job::Sync(advanced.group));
                }
            }
            Event::WelcomeAvailable(_) => self.push_job(Job::Welcomes),
        }
    }

    /// Pushed events were lost: syncs everything, as after reconnecting.
    pub fn events_missed(&mut self) {
        self.sync_all();
    }

    /// Feeds the answer to the request `id`.
    pub fn handle_response(&mut self, id: RequestId, answer: std::result::Result<ResponseBody, RelayError>, now: Now) {
        self.now = now;
        let Some((expected, step)) = self.requests.in_flight.take() else { return };
        if expected != id {
            self.requests.in_flight = Some((expected, step));
            return;
        }
        let transient = match &answer {
            Err(RelayError::RateLimited { retry_after_ms }) => Some(u64::from(*retry_after_ms).div_ceil(1000)),
            Err(RelayError::Internal) => Some(0),
            _ => None,
        };
        if let Err(error) = self.apply_answer(step, answer) {
            // Nothing half-done stays: the step's writes are forgotten, and its job is
            // tried again later if still needed.
            self.rollback();
            if transient.is_none() {
                self.reject(None, Rejection::StepFailed(error.fault()));
            }
        }
        match transient {
            Some(hint) => self.back_off(hint),
            // The step itself may have decided to wait (a relay that keeps saying the
            // epoch is stale): then the count of failures goes on growing.
            None if self.requests.retry_at.is_none() => self.requests.failures = 0,
            None => {}
        }
    }

    /// Waits before asking the relay again: exponential from 1 s to 5 min, or what the
    /// relay asked (up to an hour) if longer, spread by a per-device offset so that devices refused
    /// together do not come back together. Everything queued is planned again then.
    pub(super) fn back_off(&mut self, relay_hint: u64) {
        self.requests.back_off(self.now, self.device.device_id().as_bytes()[0], relay_hint);
    }

    /// The relay says the space moved past this device's epoch: read what was missed,
    /// then send again. A relay that says so while serving no commit to read would
    /// have the device ask for ever; after [`MAX_STALE_IN_EPOCH`] such answers in one
    /// epoch the engine reports it and waits as after any refusal.
    pub(super) fn on_stale(&mut self, group: GroupId) {
        let epoch = self.spaces.get(&group).map(|s| s.group.epoch().as_u64());
        let entry = self.requests.stale.entry(group).or_insert((epoch, 0));
        if entry.0 != epoch {
            *entry = (epoch, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let count = entry.1;
        if count == MAX_STALE_IN_EPOCH {
            self.warn(Some(group), SecurityWarning::CommitsWithheld);
        }
        if count >= MAX_STALE_IN_EPOCH {
            // Other requests may well succeed meanwhile: the wait grows with this
            // space's refusals, not only with consecutive failures.
            self.requests.failures = self.requests.failures.max(count - MAX_STALE_IN_EPOCH);
            self.back_off(0);
        } else {
            self.requests.jobs.push_front(Job::Outbox);
            self.requests.jobs.push_front(Job::Sync(group));
        }
    }

    /// When the engine wants to be polled again even if nothing arrives (a retry after
    /// a backoff); `None` when it only waits for the relay or the user.
    pub fn poll_timeout(&self) -> Option<Now> {
        // A Welcome waiting to be delivered again wakes the engine too.
        let delivery = if self.is_online() { self.delivery_due() } else { None };
        match (self.requests.retry_at, delivery) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn apply_answer(
        &mut self,
        step: Step,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        match (step, answer) {
            (Step::SignIn(step), answer) => match self.session.on_answer(step, answer) {
                SignInOutcome::Challenged => Ok(()),
                SignInOutcome::SignedIn => self.go_online(),
                SignInOutcome::AccountCreated(account) => {
                    self.account = Some(account);
                    self.invitation = None;
                    self.pending_invitation = None;
                    self.issue_certificate()?;
                    self.events.push_back(ClientEvent::AccountCreated(account));
                    self.go_online()
                }
                SignInOutcome::Refused(error) => {
                    // The engine does not wait on a refusal: the next connection tries.
                    self.session.disconnected();
                    Err(CoreError::Relay(error))
                }
                SignInOutcome::Unexpected => Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
            },
            (Step::KeyPackageStatus, Ok(ResponseBody::KeyPackageStatus(status))) => self.top_up_key_packages(&status),
            (Step::KeyPackageUpload, Ok(_)) => Ok(()),
            (Step::Subscribe, Ok(ResponseBody::Subscribed(subscribed))) => {
                for group in subscribed.refused.iter() {
                    self.push_job(Job::Sync(*group));
                }
                Ok(())
            }
            (Step::FetchWelcomes, Ok(ResponseBody::Welcomes(welcomes))) => self.on_welcomes(welcomes),
            (Step::AckWelcomes, Ok(_)) => Ok(()),
            (Step::FetchLog { group }, Ok(ResponseBody::LogPage(page))) => self.on_log_page(group, page),
            (Step::FetchLog { group }, Err(RelayError::Forbidden)) => {
                // Our epoch's token is refused: we were removed, or the relay lies.
                self.warn(Some(group), SecurityWarning::LogAccessRefused);
                Ok(())
            }
            (Step::FetchContent { group }, Ok(ResponseBody::ContentPage(page))) => self.on_content_page(group, page),
            (Step::FetchContent { group }, Err(RelayError::StaleEpoch { .. })) => {
                self.on_stale(group);
                Ok(())
            }
            (Step::Outbox { index, stage }, answer) => self.on_outbox_answer(index, stage, answer),
            (Step::Device { index, stage }, answer) => self.on_device_answer(index, stage, answer),
            (Step::Delivery { index }, answer) => self.on_delivery_answer(index, answer),
            (Step::Upload { index, chunk }, answer) => self.on_upload_answer(index, chunk, answer),
            (Step::Download { index, chunk }, answer) => self.on_download_answer(index, chunk, answer),
            (_, Err(error)) => Err(CoreError::Relay(error)),
            (_, Ok(_)) => Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        }
    }

    /// Uploads only what the relay lacks: one-time packages up to
    /// [`KEY_PACKAGE_TARGET`], and a last-resort package if none is stored. Each
    /// package's private keys are written to the vault before the upload.
    pub(super) fn top_up_key_packages(&mut self, status: &huisclos_protocol::messages::KeyPackageStatus) -> Result<()> {
        let missing = KEY_PACKAGE_TARGET.saturating_sub(status.one_time_left);
        if missing == 0 && status.has_last_resort {
            return Ok(());
        }
        let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
        let mut one_time = Vec::new();
        // Sealed under this device's certificate: the package carries it, name and all,
        // and the relay stores it for anyone who claims it (see `conceal`).
        let sealed = |package: Vec<u8>| -> Result<KeyPackageBytes> {
            Ok(KeyPackageBytes::new(crate::conceal::seal_key_package(&certificate, &package)?)?)
        };
        for _ in 0..missing {
            one_time.push(sealed(crate::mls::key_package(&self.provider, &self.device.mls, &certificate, false)?)?);
        }
        let last_resort = if status.has_last_resort {
            None
        } else {
            Some(sealed(crate::mls::key_package(&self.provider, &self.device.mls, &certificate, true)?)?)
        };
        self.persist()?;
        let body = UploadKeyPackages { one_time: BoundedVec::new(one_time)?, last_resort };
        self.requests.follow_up = Some((body.into(), Step::KeyPackageUpload));
        Ok(())
    }

    pub(super) fn issue_certificate(&mut self) -> Result<()> {
        let account = self.account.ok_or(CoreError::NotFound(Missing::Account))?;
        let body = CertificateBody {
            identity: self.identity,
            account,
            device: self.device.device_id(),
            mls_key: self.device.mls_public(),
            name: self.name.clone(),
            created_at: UnixSeconds::new(self.now).map_err(CoreError::Decode)?,
        };
        if let Some(old) = self.rotate_from.take() {
            let at = UnixSeconds::new(self.now).map_err(CoreError::Decode)?;
            self.transition = Some(IdentityTransition::sign(&old, self.identity_key()?, at));
        }
        let certificate = DeviceCertificate::issue(self.identity_key()?, body)?;
        self.certificate = Some(certificate.clone());
        // The person's first roster: this device. A restored identity starts a roster
        // of its own (its old devices are gone).
        self.issue_roster(vec![certificate])?;
        self.save_profile()?;
        self.persist()
    }

    pub(super) fn go_online(&mut self) -> Result<()> {
        debug_assert!(self.session.is_signed_in());
        self.events.push_back(ClientEvent::Online);
        self.push_job(Job::KeyPackages);
        self.push_job(Job::Welcomes);
        let groups: Vec<GroupId> = self.spaces.keys().copied().collect();
        self.subscribe_then_sync(&groups);
        self.push_job(Job::Outbox);
        self.push_job(Job::Devices);
        self.push_job(Job::Transfers);
        Ok(())
    }

    pub(super) fn on_welcomes(&mut self, welcomes: huisclos_protocol::messages::Welcomes) -> Result<()> {
        let mut last = None;
        for item in welcomes.entries.iter() {
            last = Some(item.position);
            if let Err(error) = self.on_inbox_item(item.welcome.as_bytes()) {
                self.rollback();
                self.reject(None, Rejection::InvitationRefused(error.fault()));
            } else {
                self.persist()?;
            }
        }
        if let Some(up_to) = last {
            self.in_flight_follow_up(AckWelcomes { up_to }.into(), Step::AckWelcomes)?;
        }
        if welcomes.more {
            self.push_job(Job::Welcomes);
        }
        Ok(())
    }

    /// Sends a request that continues the step just answered, before other jobs.
    pub(super) fn in_flight_follow_up(&mut self, body: RequestBody, step: Step) -> Result<()> {
        self.requests.follow_up = Some((body, step));
        Ok(())
    }

    pub(super) fn on_inbox_item(&mut self, bytes: &[u8]) -> Result<()> {
        match InboxItem::from_wire(bytes)? {
            InboxItem::Welcome(welcome) => self.join_from_welcome(welcome.as_bytes()),
            // Only a device being linked reads grants; one that reaches a linked device
            // (a resend) has nothing to add.
            InboxItem::DeviceGrant(_) => Ok(()),
            // In clear: left by a device of an earlier release (this one seals them).
            InboxItem::DeviceReady(notice) => self.on_device_ready(&notice),
            InboxItem::Roster(card) => self.on_roster_notice(&card),
            InboxItem::JoinRequest(sealed) => self.on_join_request(&sealed),
            InboxItem::Sealed(notice) => {
                let certificate = self.certificate.clone().ok_or(CoreError::NotFound(Missing::Certificate))?;
                let inner = notice.open(&certificate)?;
                match InboxItem::from_wire(&inner)? {
                    InboxItem::DeviceReady(notice) => self.on_device_ready(&notice),
                    InboxItem::Roster(card) => self.on_roster_notice(&card),
                    _ => Err(CoreError::Verification(Unverified::Malformed)),
                }
            }
        }
    }

    /// A roster in this device's inbox: this person's newest, or the one by which the
    /// holder of their identity key replaced it.
    pub(super) fn on_roster_notice(&mut self, card: &ContactCard) -> Result<()> {
        let rotated_from_ours = card.body.transition.as_ref().is_some_and(|t| t.body.previous == self.identity);
        if card.body.identity != self.identity && !rotated_from_ours {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        self.observe_roster(card, None)
    }

    /// `item`, sealed for the devices of `recipients` (see [`crate::conceal`]), as the
    /// relay's inbox carries it.
    pub(super) fn sealed_notice(
        recipients: &[DeviceCertificate],
        item: &InboxItem,
    ) -> Result<huisclos_protocol::messages::WelcomeBytes> {
        let inner = Zeroizing::new(item.to_wire());
        InboxItem::Sealed(crate::conceal::SealedNotice::seal(recipients, &inner)?).to_welcome_bytes()
    }

    /// A request to join through this device's space card: checked, then admitted at
    /// once in an open space, or kept for a space manager's decision.
    pub(super) fn on_join_request(&mut self, sealed: &SealedJoinRequest) -> Result<()> {
        let key_id = sealed.key_id().ok_or(CoreError::Verification(Unverified::Malformed))?;
        let space_id = self
            .spaces
            .iter()
            .find(|(_, s)| s.meta.request_key_id == Some(key_id))
            .map(|(id, _)| *id)
            .ok_or(CoreError::Verification(Unverified::WrongPlace))?;
        let space = self.spaces.get(&space_id).ok_or(CoreError::NotFound(Missing::Space))?;
        if space.meta.removed || space.meta.stalled {
            return Err(CoreError::Forbidden(Refusal::NoLongerInSpace));
        }
        let secret = space
            .meta
            .request_secret
            .map(|s| Zeroizing::new(x25519_dalek::StaticSecret::from(s)))
            .ok_or(CoreError::NotFound(Missing::JoinRequest))?;
        let request = JoinRequest::open(sealed, &space_id, &secret)?;
        // A request taken once, or an old one replayed, is refused.
        self.check_fresh(request.digest(), request.body.created_at.get())?;
        self.save_profile()?;
        let identity = request.body.card.body.identity;
        let name = request.body.card.name().map(|n| n.to_string()).unwrap_or_default();
        if self.members(&space_id)?.iter().any(|m| m.identity == identity) {
            return Ok(()); // already in: a resend, or admitted by someone else
        }
        self.trust_card(&request.body.card)?;
        let rules = self.rules(&space_id)?;
        let my_role = rules.role_of(&self.identity);
        match rules.policy {
            Policy::Confidential => Err(CoreError::Forbidden(Refusal::RequestsClosed)),
            Policy::Open if my_role.may_contribute() => {
                self.enqueue(OutboxItem::Operation {
                    group: *space_id.as_bytes(),
                    operation: Operation::Invite { card: request.body.card.to_wire(), role: rules.default_role as u8 },
                })?;
                self.events.push_back(ClientEvent::JoinRequested { space: space_id, name, identity, admitted: true });
                Ok(())
            }
            _ => {
                let space = self.spaces.get_mut(&space_id).ok_or(CoreError::NotFound(Missing::Space))?;
                let waiting = &mut space.meta.join_requests;
                // One request per person: the newest replaces an older one.
                waiting
                    .retain(|bytes| JoinRequest::from_wire(bytes).is_ok_and(|r| r.body.card.body.identity != identity));
                if waiting.len() >= MAX_PENDING_JOIN_REQUESTS {
                    waiting.remove(0);
                }
                waiting.push(request.to_wire());
                self.save_group(&space_id)?;
                self.events.push_back(ClientEvent::JoinRequested { space: space_id, name, identity, admitted: false });
                Ok(())
            }
        }
    }

    /// Another device of this person is linked and ready: it is added to every space
    /// this device is in.
    pub(super) fn on_device_ready(&mut self, notice: &DeviceReady) -> Result<()> {
        let certificate = notice.verify()?.clone();
        let card = &notice.body.card;
        if card.body.identity != self.identity || card.account() != self.account {
            return Err(CoreError::Verification(Unverified::WrongPerson));
        }
        if certificate.body.device == self.device.device_id() {
            return Ok(());
        }
        self.check_fresh(notice.digest(), notice.body.issued_at.get())?;
        // The roster it carries was signed by the identity key's holder, who approved
        // the device on the person's existing device; a newer one than held is taken.
        self.observe_roster(card, None)?;
        // Only a device on the newest roster is added: a revoked device's notice (its
        // roster older than the one held) brings nothing back.
        if !self.device_allowed(&certificate.body) {
            return Err(CoreError::Verification(Unverified::NotOnRoster));
        }
        self.save_profile()?;
        let spaces: Vec<GroupId> = self
            .spaces
            .iter()
            .filter(|(_, s)| !s.meta.removed && !s.meta.stalled)
            .filter(|(_, s)| !Self::has_device(&s.group, &certificate.body.device))
            .map(|(id, _)| *id)
            .collect();
        for space in spaces {
            // The roster goes first, so that every member knows the device is the
            // person's before the commit adds it.
            self.enqueue(OutboxItem::Roster { group: *space.as_bytes(), card: card.to_wire() })?;
            let rules = self.rules(&space)?;
            if rules.devices_need_approval && !rules.role_of(&self.identity).may_manage_space() {
                // A space manager approves it there (it shows among their pending
                // devices once they read the roster).
                continue;
            }
            self.enqueue(OutboxItem::Operation {
                group: *space.as_bytes(),
                operation: Operation::AddDevice { certificate: certificate.to_wire() },
            })?;
        }
        Ok(())
    }

    pub(super) fn has_device(group: &MlsGroup, device: &DeviceId) -> bool {
        group.members().any(|m| {
            crate::mls::certificate_of(&m.credential, &m.signature_key).is_ok_and(|c| &c.body.device == device)
        })
    }

    pub(super) fn join_from_welcome(&mut self, bytes: &[u8]) -> Result<()> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(mls_error)?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(CoreError::Invalid(InvalidInput::NotAWelcome));
        };
        let builder = StagedWelcome::build_from_welcome(&self.provider, &crate::mls::join_config(), welcome)
            .map_err(mls_error)?;
        let joining = our_group_id(builder.processed_welcome().unverified_group_info().group_id())?;
        if let Some(earlier) = self.spaces.get_mut(&joining)
            && earlier.meta.removed
        {
            // Invited again after a removal: the old group's state goes first (in this
            // step's writes, so a Welcome that fails leaves it as it was).
            earlier.group.delete(self.provider.storage()).map_err(mls_error)?;
        }
        let staged = builder.build().map_err(mls_error)?;
        let inviter = staged.welcome_sender().map_err(mls_error)?;
        let inviter = crate::mls::certificate_of(inviter.credential(), inviter.signature_key().as_slice())?;
        // Every member's certificate must verify before we trust anything they send.
        let mut certificates = Vec::new();
        for member in staged.members() {
            certificates.push(crate::mls::certificate_of(&member.credential, &member.signature_key)?);
        }
        let rules = crate::mls::rules_of(staged.group_context().extensions())?;
        crate::mls::check_context_extensions(staged.group_context().extensions())?;
        let ledger = crate::mls::ledger_of(staged.group_context().extensions())?
            .ok_or(CoreError::Invalid(InvalidInput::SpaceFromOlderRelease))?;
        let group = staged.into_group(&self.provider).map_err(mls_error)?;
        let id = our_group_id(group.group_id())?;
        let join_epoch = group.epoch().as_u64();
        let seats = Self::seats(&group);
        let history = History::joined(join_epoch, &ledger, &seats, rules.history == HistoryMode::Keep, |generation| {
            Ok(*self.derive_history_key(&group, &id, generation)?)
        })?;
        let mut meta = GroupMeta::new(history);
        if let Some(earlier) = self.spaces.get(&id) {
            if !earlier.meta.removed {
                return Err(CoreError::Invalid(InvalidInput::AlreadyMember));
            }
            // Invited again after a removal: the feed read before stays, and items
            // already shown are not shown twice; everything about the group is new.
            // (The items applied stay under the group's `seen_namespace`.)
            meta.feed_len = earlier.meta.feed_len;
            meta.unread = earlier.meta.unread;
            meta.muted = earlier.meta.muted;
        }
        meta.relay_created = true;
        meta.invited_by = inviter.body.name.to_string();
        // Added by another of this person's devices: the person is already in the
        // space, so there is nothing to accept. (A device a space manager approved is
        // asked, like any invitation: the person sees it on the new device.)
        let own_device = inviter.body.identity == self.identity;
        // Asked for by this person: admitted, so there is nothing left to accept.
        let asked = self.requested.remove(&id);
        // The continuation of a space this device is in and that is stalled here, made
        // by a current member who is a space manager there (as this device last knew
        // its rules) and did not stall it. Anything else that claims to continue a
        // space is an ordinary invitation, for the person to accept or not.
        let continues = rules.replaces.filter(|old| {
            self.spaces.get(old).is_some_and(|s| {
                s.meta.stalled
                    && !s.meta.removed
                    && s.meta.replaced_by.is_none()
                    && Self::seats(&s.group).iter().any(|seat| seat.identity == inviter.body.identity)
                    && crate::mls::rules_of(s.group.extensions())
                        .is_ok_and(|r| r.role_of(&inviter.body.identity).may_manage_space())
                    && s.meta.stalled_by != Some(*inviter.body.identity.as_bytes())
            })
        });
        meta.accepted = own_device || asked || continues.is_some();
        if asked {
            self.save_profile()?;
        }
        self.spaces.insert(id, Space { group, meta });
        self.save_group(&id)?;
        for certificate in &certificates {
            self.observe(&certificate.body, Some(id))?;
        }
        if let Some(old) = continues {
            if let Some(stalled) = self.spaces.get_mut(&old) {
                stalled.meta.replaced_by = Some(*id.as_bytes());
            }
            self.save_group(&old)?;
            self.events.push_back(ClientEvent::Recreated { stalled: old, successor: id });
        }
        if own_device || asked || continues.is_some() {
            self.events.push_back(ClientEvent::Joined(id));
        } else {
            self.events.push_back(ClientEvent::Invited {
                space: id,
                name: rules.name.as_str().to_owned(),
                by: inviter.body.name.to_string(),
            });
        }
        self.subscribe_then_sync(&[id]);
        Ok(())
    }

    pub(super) fn on_log_page(&mut self, group: GroupId, page: huisclos_protocol::messages::LogPage) -> Result<()> {
        // Sequence numbers are dense; only a space without history loses messages to
        // the relay's retention. Anywhere else a gap is the relay withholding entries.
        let dense = self.spaces.get(&group).map(Space::meta_history_mode).transpose()? == Some(HistoryMode::Keep);
        for entry in page.entries.iter() {
            let position = entry.seq.get();
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
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
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
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
        match page.end {
            LogPageEnd::More | LogPageEnd::EpochClosed => self.requests.jobs.push_front(Job::Sync(group)),
            LogPageEnd::UpToDate => {
                let Some(space) = self.spaces.get(&group) else { return Ok(()) };
                if space.meta.pending_commit_seq.is_some() {
                    // Our accepted commit is further on: keep reading.
                    self.requests.jobs.push_front(Job::Sync(group));
                } else if space.meta_history_mode()? == HistoryMode::None && !space.meta.caught_up {
                    if let Some(space) = self.spaces.get_mut(&group) {
                        space.meta.caught_up = true;
                    }
                    self.save_group(&group)?;
                    self.persist()?;
                } else if space.meta_history_mode()? == HistoryMode::Keep && !space.meta.removed && !space.meta.stalled
                {
                    let from = ContentSeq::new(space.meta.content_next).map_err(CoreError::Decode)?;
                    let body = FetchContent {
                        access: self.access(&group)?,
                        from,
                        limit: PageLimit::new(PAGE).map_err(CoreError::Decode)?,
                    };
                    self.in_flight_follow_up(body.into(), Step::FetchContent { group })?;
                }
            }
        }
        Ok(())
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

    pub(super) fn on_content_page(
        &mut self,
        group: GroupId,
        page: huisclos_protocol::messages::ContentPage,
    ) -> Result<()> {
        for record in page.records.iter() {
            let Some(space) = self.spaces.get_mut(&group) else { return Ok(()) };
            let position = record.seq.get();
            if position < space.meta.content_next {
                continue;
            }
            // Content records are never deleted: a gap is the relay withholding some.
            let skipped = (position > space.meta.content_next).then(|| (space.meta.content_next, position - 1));
            space.meta.content_next = position + 1;
            if let Some((first, last)) = skipped {
                self.warn(Some(group), SecurityWarning::ContentRecordsSkipped { first, last });
            }
            let outcome = (|| -> Result<()> {
                let sealed = SealedRecord::from_bytes(record.sealed.as_bytes())?;
                let space = self.spaces.get(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                let key = space
                    .meta
                    .history
                    .key(sealed.generation)
                    .ok_or(crate::history::RecordRefusal::UnknownGeneration.to_error())?;
                let envelope = sealed.open(&key, &group, &record.record)?;
                if envelope.signed.id != record.record {
                    return Err(CoreError::Verification(Unverified::WrongPlace));
                }
                envelope.verify(&group)?;
                // Who may have sealed it: a device on its generation's roster (a member
                // now, for the current generation), and never after a later
                // generation's records.
                let author = &envelope.signed.author.body;
                // The device is in the group now (its MLS key signs its leaf; whose it
                // is, the roster check below says, across a change of identity key).
                let member_now = space.group.members().any(|m| m.signature_key.as_slice() == author.mls_key);
                let space = self.spaces.get_mut(&group).ok_or(CoreError::NotFound(Missing::Space))?;
                let standing = space
                    .meta
                    .history
                    .admit_record(sealed.generation, &author.identity, &author.mls_key, member_now)
                    .map_err(crate::history::RecordRefusal::to_error)?;
                if let ContentBody::Marker(marker) = &envelope.signed.body
                    && marker.generation != sealed.generation
                {
                    return Err(CoreError::Verification(Unverified::WrongPlace));
                }
                self.apply_envelope(&group, &envelope, None, Some(standing))
            })();
            if let Err(error) = outcome {
                self.rollback();
                self.reject(Some(group), Rejection::ContentRecord { seq: record.seq.get(), fault: error.fault() });
            }
            self.save_group(&group)?;
            self.persist()?;
        }
        if page.more {
            self.requests.jobs.push_front(Job::Sync(group));
        } else if let Some(space) = self.spaces.get_mut(&group)
            && !space.meta.caught_up
        {
            space.meta.caught_up = true;
            self.save_group(&group)?;
            self.persist()?;
        }
        Ok(())
    }

    /// Applies a verified item. `standing` says where the author of a sealed record
    /// stands in its generation (the role at its close, for a closed one); items from
    /// MLS messages and this device's own are judged by the current rules.
    pub(super) fn apply_envelope(
        &mut self,
        group: &GroupId,
        envelope: &ContentEnvelope,
        mls_sender: Option<&DeviceCertificate>,
        standing: Option<Standing>,
    ) -> Result<()> {
        envelope.verify(group)?;
        let author = &envelope.signed.author.body;
        // In the current generation, a device its person's newest roster no longer
        // lists (revoked) speaks for nobody. A record of a closed generation was
        // judged by that generation's roster, as it stood then.
        if !matches!(standing, Some(Standing::Closed(_))) && !self.device_allowed(author) {
            return Err(CoreError::Verification(Unverified::NotOnRoster));
        }
        if let Some(sender) = mls_sender
            && (sender.body.identity != author.identity || sender.body.mls_key != author.mls_key)
        {
            self.warn(Some(*group), SecurityWarning::AuthorNotSender);
            return Err(CoreError::Verification(Unverified::WrongSender));
        }
        let rules = self.rules(group)?;
        let role = match standing {
            Some(Standing::Closed(role)) => role,
            Some(Standing::Current) | None => rules.role_of(&author.identity),
        };
        let me = self.identity;
        let space = self.spaces.get_mut(group).ok_or(CoreError::NotFound(Missing::Space))?;
        if self.store.was_applied(group, &envelope.signed.id)? {
            return Ok(()); // a resend, or the same item by both paths
        }
        self.store.mark_applied(group, &envelope.signed.id)?;
        if let ContentBody::Marker(_) = &envelope.signed.body {
            // The start of a generation: it raised the content floor when admitted;
            // nothing is shown.
            return Ok(());
        }
        if let ContentBody::Library(op) = &envelope.signed.body {
            if !role.may_contribute() {
                return Err(CoreError::Forbidden(Refusal::ReaderWrites));
            }
            let stamp = Stamp {
                at: envelope.signed.created_at.get(),
                author: *author.identity.as_bytes(),
                op: *envelope.signed.id.as_bytes(),
            };
            let mut library = self.library(group)?;
            library.apply(stamp, op, self.now)?;
            self.store.put_library(group, &library)?;
            self.events.push_back(ClientEvent::LibraryChanged(*group));
            self.observed.library_changed(group);
            return Ok(());
        }
        let load = |store: &Store, id: &ContentId| store.feed_item(group, id);
        let moderator = Moderator { identity: *author.identity.as_bytes(), name: author.name.to_string() };
        let (target, mut item) = match &envelope.signed.body {
            ContentBody::Post(Post { text }) | ContentBody::Comment(Comment { text, .. }) => {
                if !role.may_contribute() {
                    return Err(CoreError::Forbidden(Refusal::ReaderWrites));
                }
                let parent = match &envelope.signed.body {
                    ContentBody::Comment(comment) => Some(*comment.parent.as_bytes()),
                    _ => None,
                };
                let position = space.meta.feed_len;
                space.meta.feed_len += 1;
                let item = FeedItem {
                    id: *envelope.signed.id.as_bytes(),
                    author: *author.identity.as_bytes(),
                    author_name: author.name.to_string(),
                    created_at: envelope.signed.created_at.get(),
                    parent,
                    text: text.as_str().to_owned(),
                    edited: false,
                    deleted: false,
                    reactions: BTreeMap::new(),
                    position,
                    moderated_by: None,
                    waiting: false,
                };
                self.store.put_feed_position(group, position, &envelope.signed.id)?;
                (envelope.signed.id, item)
            }
            ContentBody::React(React { target, reaction, on }) => {
                if !role.may_contribute() {
                    return Err(CoreError::Forbidden(Refusal::ReaderWrites));
                }
                let mut item = load(&self.store, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
                let who = item.reactions.entry(reaction.as_str().to_owned()).or_default();
                if *on {
                    who.insert(*author.identity.as_bytes());
                } else {
                    who.remove(author.identity.as_bytes());
                }
                item.reactions.retain(|_, who| !who.is_empty());
                (*target, item)
            }
            ContentBody::Edit(Edit { target, text }) => {
                let mut item = load(&self.store, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
                let by_author = item.author == *author.identity.as_bytes();
                if !by_author && !role.may_manage_content() {
                    return Err(CoreError::Forbidden(Refusal::NotAuthorOrContentManager));
                }
                if !item.deleted {
                    // A content manager's text is theirs: it is never shown as the
                    // author's words.
                    item.text = text.as_str().to_owned();
                    item.edited = true;
                    item.moderated_by = (!by_author).then_some(moderator);
                }
                (*target, item)
            }
            ContentBody::Delete(Delete { target }) => {
                let mut item = load(&self.store, target)?.ok_or(CoreError::NotFound(Missing::Item))?;
                let by_author = item.author == *author.identity.as_bytes();
                if !by_author && !role.may_manage_content() {
                    return Err(CoreError::Forbidden(Refusal::NotAuthorOrContentManager));
                }
                item.deleted = true;
                item.text.clear();
                item.moderated_by = (!by_author).then_some(moderator);
                (*target, item)
            }
            ContentBody::Library(_) | ContentBody::Marker(_) => {
                return Err(CoreError::Invalid(InvalidInput::UnsupportedOperation));
            }
        };
        let mut notify = None;
        if author.identity != me {
            if let Some(space) = self.spaces.get_mut(group) {
                space.meta.unread = space.meta.unread.saturating_add(1);
                // What the first read after joining brings is history, not news.
                if space.meta.caught_up {
                    let mine = |store: &Store, id: &ContentId| -> Result<bool> {
                        Ok(load(store, id)?.is_some_and(|i| i.author == *me.as_bytes()))
                    };
                    notify = match &envelope.signed.body {
                        ContentBody::Post(_) if !space.meta.muted => Some(NotificationKind::Post),
                        ContentBody::Comment(comment) if mine(&self.store, &comment.parent)? => {
                            Some(NotificationKind::Reply)
                        }
                        ContentBody::React(react) if react.on && item.author == *me.as_bytes() => {
                            Some(NotificationKind::Reaction)
                        }
                        _ => None,
                    };
                }
            }
        }
        item.id = *target.as_bytes();
        self.store.put_feed_item(group, &item)?;
        self.events.push_back(ClientEvent::Content { space: *group, item: target });
        self.observed.item_changed(group, target);
        if let Some(kind) = notify {
            let from = author.name.to_string();
            self.events.push_back(ClientEvent::Notify { space: *group, item: target, kind, from });
        }
        Ok(())
    }
}
